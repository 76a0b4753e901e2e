//! The report shows the domain's figures, escapes user text and stays self-contained.

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::range::add_days;
use crate::domain::{
    day_classes, treatment_outcome, DayRecord, HeadacheFeatures, MedicationClass,
    MedicationClassSet, TreatmentWindows,
};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// docs/clinical-rules.md worked example A: 12 migraine days in February, 3 mild days in March.
fn example_a() -> Vec<DayRecord> {
    let mut days = Vec::new();
    for i in 0..28 {
        let d = add_days(date("2026-02-01"), i);
        let even = (i + 1) % 2 == 0 && i < 24;
        let mut classes = MedicationClassSet::default();
        if even && i < 16 {
            classes.insert(MedicationClass::Triptan);
        }
        days.push(DayRecord {
            date: d,
            peak_pain: if even { 6 } else { 0 },
            headache_hours: even.then_some(6.0),
            features: HeadacheFeatures {
                unilateral: even,
                pulsating: even,
                nausea: even,
                ..Default::default()
            },
            medication_classes: classes,
        });
    }
    for i in 0..28 {
        let d = add_days(date("2026-03-02"), i);
        if (date("2026-03-10")..=date("2026-03-13")).contains(&d) {
            continue;
        }
        let mild = [date("2026-03-03"), date("2026-03-17"), date("2026-03-24")].contains(&d);
        days.push(DayRecord {
            date: d,
            peak_pain: if mild { 3 } else { 0 },
            headache_hours: mild.then_some(5.0),
            features: HeadacheFeatures::default(),
            medication_classes: MedicationClassSet::default(),
        });
    }
    days
}

fn treatment(name: &str, notes: Option<&str>) -> Treatment {
    Treatment {
        id: Uuid::now_v7(),
        treatment_day: date("2026-03-01"),
        fields: crate::domain::TreatmentDraft {
            kind: TreatmentKind::IvKetamine,
            name: name.into(),
            started_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
            ended_at: None,
            dose: Some(0.5),
            dose_unit: Some("mg/kg/h".into()),
            notes: notes.map(str::to_owned),
            adverse_events: vec!["<img src=x onerror=alert(1)>".into()],
        },
    }
}

fn render(name: &str, patient: &str, q: &QuestionnaireSides) -> String {
    render_on(name, patient, q, Utc::now())
}

fn render_on(
    name: &str,
    patient: &str,
    q: &QuestionnaireSides,
    generated_at: chrono::DateTime<Utc>,
) -> String {
    let records = example_a();
    let t = treatment(name, Some("<script>alert('notes')</script>"));
    let windows = TreatmentWindows::new(t.treatment_day, 28, 1);
    let outcome = treatment_outcome(&windows, &records);
    let read = windows.read_range();
    let days = day_classes(read, &records, &[(t.id, t.treatment_day)]);
    render_treatment(&TreatmentReport {
        patient: ReportPatient {
            name: patient,
            timezone: chrono_tz::Europe::Berlin,
        },
        treatment: &t,
        outcome: &outcome,
        days: &days,
        overlapping: &[],
        questionnaires: q,
        generated_at,
    })
    .unwrap()
}

#[test]
fn the_report_shows_the_domain_figures_of_example_a() {
    let html = render(
        "ketamine 0.5 mg/kg/h",
        "Ana",
        &QuestionnaireSides::default(),
    );
    for expected in [
        "12.0",          // baseline headache days per 28
        "3.5",           // post
        "−8.5 (−71 %)",  // change
        "24/28 (86 %)",  // post completion
        "−3.0",          // mean peak pain change
        "None recorded", // no questionnaires
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    assert!(html.contains("50 % responder: <strong>yes</strong>"));
    assert!(html.contains("75 % responder: <strong>no</strong>"));
}

#[test]
fn user_text_is_escaped_and_nothing_runs_or_loads() {
    let html = render(
        "<script>alert(1)</script>",
        "<b>Eve</b>",
        &QuestionnaireSides::default(),
    );
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"), "an img tag got through");
    assert!(!html.contains("<b>Eve"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "escaped name shown"
    );
    assert!(html.contains("&#60;b&#62;Eve&#60;/b&#62;"));
    for external in [
        "src=\"http",
        "href=",
        "@import",
        "url(http",
        "<link",
        "<iframe",
    ] {
        assert!(!html.contains(external), "{external}");
    }
}

#[test]
fn questionnaires_before_and_after_are_shown_by_instrument() {
    let score = |instrument: &str, on: &str, score: i32, grade: &str| QuestionnaireScore {
        id: Uuid::now_v7(),
        instrument: instrument.into(),
        completed_on: date(on),
        answers: vec![],
        score,
        grade: grade.into(),
    };
    let q = QuestionnaireSides {
        before: vec![
            score("midas", "2026-02-20", 24, "IV"),
            score("hit6", "2026-02-20", 62, "severe"),
        ],
        after: vec![score("midas", "2026-03-25", 10, "II")],
    };
    let html = render("ketamine", "Ana", &q);
    assert!(html.contains("24 (IV), 20 Feb"));
    assert!(html.contains("10 (II), 25 Mar"));
    assert!(html.contains("62 (severe), 20 Feb"));
    assert!(!html.contains("None recorded"));
}

#[test]
fn the_csp_hash_is_of_the_style_sheet_served() {
    let csp = content_security_policy();
    assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
    assert!(csp.contains("script-src 'none'"));
    let html = render("ketamine", "Ana", &QuestionnaireSides::default());
    assert!(html.contains(&format!("<style>{CSS}</style>")));
}

#[test]
fn days_after_today_are_not_yet_rather_than_missing() {
    // Example A's gap 03-10 … 03-13 lies after "today" 03-08; the unrecorded T lies before.
    let noon = Utc.with_ymd_and_hms(2026, 3, 8, 12, 0, 0).unwrap();
    let html = render_on("ketamine", "Ana", &QuestionnaireSides::default(), noon);
    assert!(html.contains("<title>2026-03-11: not yet</title>"));
    assert!(html.contains("<title>2026-03-01: not recorded</title>"));
    assert!(html.contains("after today"));
    let later = render("ketamine", "Ana", &QuestionnaireSides::default());
    assert!(!later.contains("not yet") && !later.contains("after today"));
}
