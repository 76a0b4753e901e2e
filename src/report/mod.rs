//! The one-page visit report (README "Export and the visit report"): server-rendered HTML from
//! an askama template, inline CSS and inline SVG, no script and no external asset.
//!
//! It shows figures, it never computes them: the windows, per-28 rates, changes and responder
//! flags come in as the domain's [`TreatmentOutcome`] and [`WindowStats`] (the same values the
//! JSON summaries answer), the calendar as the domain's [`DayClass`]es. Every text that a user
//! wrote (names, notes, adverse events) goes through askama's HTML escaping or the SVG
//! writer's.

mod charts;
pub mod svg;

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::domain::{DateRange, DayClass, TreatmentKind, TreatmentOutcome, WindowStats};
use crate::export::{DatedTreatment as Treatment, QuestionnaireScore};
use charts::{Bar, CalendarRow};

/// The page's style sheet, inline in `<style>`; its hash goes into the CSP.
pub const CSS: &str = include_str!("../../templates/report.css");

/// Calendar and chart width in CSS px: the printable width of A4 at 12 mm margins.
const PAGE_WIDTH_PX: f64 = 700.0;
/// The longest range a range report covers: one year fits the page's calendar.
pub const MAX_RANGE_REPORT_DAYS: u32 = 366;

/// The `Content-Security-Policy` of the report: nothing may load or run; only the page's own
/// style sheet (by hash) applies.
pub fn content_security_policy() -> String {
    let hash = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(CSS.as_bytes()),
    );
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; script-src 'none'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// Who the report is about.
#[derive(Debug, Clone, Copy)]
pub struct ReportPatient<'a> {
    /// Display name, or the email when there is none.
    pub name: &'a str,
    pub timezone: Tz,
}

/// Scored questionnaires on either side of the comparison (empty: none recorded).
#[derive(Debug, Clone, Default)]
pub struct QuestionnaireSides {
    pub before: Vec<QuestionnaireScore>,
    pub after: Vec<QuestionnaireScore>,
}

/// The report of one treatment.
pub struct TreatmentReport<'a> {
    pub patient: ReportPatient<'a>,
    pub treatment: &'a Treatment,
    pub outcome: &'a TreatmentOutcome,
    /// One per day of baseline.from ..= the last follow-up's `to`.
    pub days: &'a [DayClass],
    /// The other treatments whose treatment day lies in T−N … T+N.
    pub overlapping: &'a [Treatment],
    /// Latest per instrument in T−90 … T−1, first in T+1 … T+90.
    pub questionnaires: &'a QuestionnaireSides,
    pub generated_at: DateTime<Utc>,
}

/// The report of a date range without a treatment.
pub struct RangeReport<'a> {
    pub patient: ReportPatient<'a>,
    pub range: DateRange,
    pub overall: &'a WindowStats,
    /// The range in consecutive 28-day blocks from `from`.
    pub blocks: &'a [WindowStats],
    pub days: &'a [DayClass],
    /// Treatments whose treatment day lies in the range.
    pub treatments: &'a [Treatment],
    /// The first and the latest response per instrument in the range.
    pub questionnaires: &'a QuestionnaireSides,
    pub generated_at: DateTime<Utc>,
}

struct Column {
    label: String,
    span: String,
}

struct Row {
    label: &'static str,
    cells: Vec<String>,
    change: String,
}

struct Verdict {
    label: &'static str,
    value: &'static str,
    class: &'static str,
}

struct TreatmentBox {
    name: String,
    kind: &'static str,
    when: String,
    dose: Option<String>,
    adverse_events: String,
    notes: Option<String>,
}

struct QuestionnaireRow {
    instrument: &'static str,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    css: &'static str,
    heading: String,
    period: String,
    patient: String,
    timezone: String,
    generated_on: String,
    treatment: Option<TreatmentBox>,
    table_title: &'static str,
    columns: Vec<Column>,
    rows: Vec<Row>,
    has_change: bool,
    verdicts: Vec<Verdict>,
    bars_svg: String,
    calendar_svg: String,
    overuse: String,
    questionnaires: Vec<QuestionnaireRow>,
    questionnaire_span: &'static str,
    questionnaire_before: &'static str,
    questionnaire_after: &'static str,
    others_title: &'static str,
    others: Vec<String>,
    completeness: String,
    completeness_class: &'static str,
}

/// The visit report of one treatment, as a complete HTML document.
pub fn render_treatment(r: &TreatmentReport<'_>) -> Result<String, askama::Error> {
    let o = r.outcome;
    let n = o.window_days;
    let t_day = r.treatment.treatment_day;
    let mut windows: Vec<(String, &WindowStats)> = vec![("Baseline".into(), &o.baseline)];
    for (i, w) in o.followup.iter().enumerate() {
        let first = i as u32 * n + 1;
        windows.push((format!("Days {first}–{}", first + n - 1), w));
    }
    let columns = windows
        .iter()
        .map(|(label, w)| Column {
            label: label.clone(),
            span: short_span(w.from, w.to),
        })
        .collect();
    let stats: Vec<&WindowStats> = windows.iter().map(|(_, w)| *w).collect();
    let rows = table_rows(&stats, Some(o));
    let verdicts = vec![
        verdict("50 % responder", o.responder_50),
        verdict("75 % responder", o.responder_75),
        verdict("Pain responder (≥ 2 points)", o.pain_responder),
    ];
    let mut bars: Vec<Bar> = windows
        .iter()
        .map(|(label, w)| Bar {
            label: label.clone(),
            sublabel: completion_short(w),
            value: w.headache_days_per_28,
            baseline: std::ptr::eq(*w, &o.baseline),
        })
        .collect();
    if let Some(first) = bars.first_mut() {
        first.label = "Baseline".into();
    }
    let reference = o
        .baseline
        .headache_days_per_28
        .filter(|b| *b > 0.0)
        .map(|b| (b * 0.5, "50 % of baseline"));
    let bars_svg = charts::bars(&bars, reference, 240.0, 175.0);
    let today = r
        .generated_at
        .with_timezone(&r.patient.timezone)
        .date_naive();
    let calendar_svg = treatment_calendar(r.days, &windows, r.treatment, today);
    let overuse = overuse(&windows);
    let completeness = format!(
        "Baseline {}, post {}: {}",
        completion_long(&o.baseline),
        completion_long(&o.post),
        if o.sufficient_data {
            "enough data (each ≥ 80 % recorded)."
        } else {
            "not enough data (a window under 80 % recorded): responders not assessed."
        }
    );
    let others = r.overlapping.iter().map(treatment_line).collect();
    let heading = format!("Visit report: {}", kind_label(r.treatment.fields.kind));
    let period = format!(
        "Treatment day T = {} · windows of {n} days · baseline {} · post {}",
        long_date(t_day),
        span(o.baseline.from, o.baseline.to),
        span(o.post.from, o.post.to),
    );
    let page = Page {
        css: CSS,
        heading,
        period,
        patient: r.patient.name.to_owned(),
        timezone: r.patient.timezone.name().to_owned(),
        generated_on: long_date(
            r.generated_at
                .with_timezone(&r.patient.timezone)
                .date_naive(),
        ),
        treatment: Some(treatment_box(r.treatment, r.patient.timezone)),
        table_title: "Before and after",
        columns,
        rows,
        has_change: true,
        verdicts,
        bars_svg,
        calendar_svg,
        overuse,
        questionnaires: questionnaire_rows(r.questionnaires),
        questionnaire_span: "from 90 days before to 90 days after the treatment",
        questionnaire_before: "Before: T−90 … T−1",
        questionnaire_after: "After: T+1 … T+90",
        others_title: "Overlapping treatments",
        others,
        completeness,
        completeness_class: if o.sufficient_data { "ok" } else { "warn" },
    };
    page.render()
}

/// The same page for a date range without a treatment.
pub fn render_range(r: &RangeReport<'_>) -> Result<String, askama::Error> {
    let windows = vec![("Whole range".to_owned(), r.overall)];
    let columns = vec![Column {
        label: "Whole range".into(),
        span: span(r.range.from, r.range.to),
    }];
    let rows = table_rows(&[r.overall], None);
    let bars: Vec<Bar> = r
        .blocks
        .iter()
        .map(|b| Bar {
            label: short_date(b.from),
            sublabel: completion_short(b),
            value: b.headache_days_per_28,
            baseline: false,
        })
        .collect();
    let bars_svg = charts::bars(&bars, None, 240.0, 175.0);
    let calendar_rows = charts::rows_of("", r.days, 28);
    let today = r
        .generated_at
        .with_timezone(&r.patient.timezone)
        .date_naive();
    let calendar_svg = charts::calendar(&calendar_rows, None, today, PAGE_WIDTH_PX);
    let sufficient = r.overall.completion >= crate::domain::SUFFICIENT_COMPLETION;
    let page = Page {
        css: CSS,
        heading: "Diary report".into(),
        period: format!(
            "{} · {} days",
            span(r.range.from, r.range.to),
            r.range.days()
        ),
        patient: r.patient.name.to_owned(),
        timezone: r.patient.timezone.name().to_owned(),
        generated_on: long_date(
            r.generated_at
                .with_timezone(&r.patient.timezone)
                .date_naive(),
        ),
        treatment: None,
        table_title: "The range",
        columns,
        rows,
        has_change: false,
        verdicts: Vec::new(),
        bars_svg,
        calendar_svg,
        overuse: overuse(&windows),
        questionnaires: questionnaire_rows(r.questionnaires),
        questionnaire_span: "in this range",
        questionnaire_before: "First in range",
        questionnaire_after: "Latest in range",
        others_title: "Treatments in this range",
        others: r.treatments.iter().map(treatment_line).collect(),
        completeness: format!(
            "{}: {}",
            completion_long(r.overall),
            if sufficient {
                "enough data (at least 80 % recorded)."
            } else {
                "under 80 % recorded; read the rates with care."
            }
        ),
        completeness_class: if sufficient { "ok" } else { "warn" },
    };
    page.render()
}

fn treatment_calendar(
    days: &[DayClass],
    windows: &[(String, &WindowStats)],
    treatment: &Treatment,
    today: NaiveDate,
) -> String {
    let t_day = treatment.treatment_day;
    let per_row = windows
        .first()
        .map_or(28, |(_, w)| w.days as usize)
        .clamp(7, 31);
    let in_range = |from: NaiveDate, to: NaiveDate| -> &[DayClass] {
        let start = days.partition_point(|d| d.date < from);
        let end = days.partition_point(|d| d.date <= to);
        &days[start..end.max(start)]
    };
    let mut rows: Vec<CalendarRow<'_>> = Vec::new();
    for (i, (label, w)) in windows.iter().enumerate() {
        if i == 1 {
            rows.push(CalendarRow {
                label: format!("T {}", short_date(t_day)),
                days: in_range(t_day, t_day),
            });
        }
        rows.extend(charts::rows_of(label, in_range(w.from, w.to), per_row));
    }
    charts::calendar(&rows, Some(treatment.id), today, PAGE_WIDTH_PX)
}

fn table_rows(windows: &[&WindowStats], outcome: Option<&TreatmentOutcome>) -> Vec<Row> {
    let cells = |f: &dyn Fn(&WindowStats) -> String| windows.iter().map(|w| f(w)).collect();
    let change = outcome.map(|o| &o.change);
    vec![
        Row {
            label: "Days recorded",
            cells: cells(&|w| completion_long(w)),
            change: String::new(),
        },
        Row {
            label: "Headache days per 28",
            cells: cells(&|w| one_decimal(w.headache_days_per_28)),
            change: change
                .map(|c| with_percent(c.headache_days_per_28, c.headache_days_percent))
                .unwrap_or_default(),
        },
        Row {
            label: "Migraine days per 28",
            cells: cells(&|w| one_decimal(w.migraine_days_per_28)),
            change: change
                .map(|c| with_percent(c.migraine_days_per_28, c.migraine_days_percent))
                .unwrap_or_default(),
        },
        Row {
            label: "Moderate/severe days",
            cells: cells(&|w| w.moderate_severe_days.to_string()),
            change: String::new(),
        },
        Row {
            label: "Mean peak pain (0–10)",
            cells: cells(&|w| one_decimal(w.mean_peak_pain)),
            change: change.map(|c| signed(c.mean_peak_pain)).unwrap_or_default(),
        },
        Row {
            label: "Acute medication days",
            cells: cells(&|w| w.acute_medication_days.to_string()),
            change: String::new(),
        },
        Row {
            label: "Migraine-specific drug days",
            cells: cells(&|w| w.migraine_specific_medication_days.to_string()),
            change: String::new(),
        },
        Row {
            label: "Medication-overuse risk",
            cells: cells(&|w| yes_no(w.medication_overuse_risk).to_owned()),
            change: String::new(),
        },
    ]
}

fn overuse(windows: &[(String, &WindowStats)]) -> String {
    windows
        .iter()
        .filter(|(_, w)| w.medication_overuse_risk)
        .map(|(label, w)| format!("{} ({})", label.to_lowercase(), short_span(w.from, w.to)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict(label: &'static str, value: Option<bool>) -> Verdict {
    let (value, class) = match value {
        Some(true) => ("yes", "yes"),
        Some(false) => ("no", "no"),
        None => ("not assessable", "na"),
    };
    Verdict {
        label,
        value,
        class,
    }
}

fn treatment_box(treatment: &Treatment, tz: Tz) -> TreatmentBox {
    let t = &treatment.fields;
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%-d %b %Y %H:%M").to_string();
    let when = match t.ended_at {
        Some(end) => format!("{} to {}", local(t.started_at), local(end)),
        None => local(t.started_at),
    };
    let dose = t.dose.map(|d| {
        let unit = t.dose_unit.as_deref().unwrap_or_default();
        format!("{d} {unit}").trim_end().to_owned()
    });
    TreatmentBox {
        name: t.name.clone(),
        kind: kind_label(t.kind),
        when,
        dose,
        adverse_events: t.adverse_events.join("; "),
        notes: t.notes.clone().filter(|n| !n.trim().is_empty()),
    }
}

fn treatment_line(t: &Treatment) -> String {
    format!(
        "{}: {} ({})",
        long_date(t.treatment_day),
        t.fields.name,
        kind_label(t.fields.kind)
    )
}

fn questionnaire_rows(q: &QuestionnaireSides) -> Vec<QuestionnaireRow> {
    let pick = |side: &[QuestionnaireScore], instrument: &str| {
        side.iter()
            .find(|s| s.instrument == instrument)
            .map(|s| {
                format!(
                    "{} ({}), {}",
                    s.score,
                    grade_label(&s.grade),
                    short_date(s.completed_on)
                )
            })
            .unwrap_or_else(|| "—".into())
    };
    [("midas", "MIDAS"), ("hit6", "HIT-6")]
        .into_iter()
        .filter(|(code, _)| {
            q.before
                .iter()
                .chain(&q.after)
                .any(|s| s.instrument == *code)
        })
        .map(|(code, label)| QuestionnaireRow {
            instrument: label,
            before: pick(&q.before, code),
            after: pick(&q.after, code),
        })
        .collect()
}

/// MIDAS grades as they are (`I` … `IV`), HIT-6 impact bands in words (`some`, `severe`).
fn grade_label(grade: &str) -> String {
    grade.replace('_', " ")
}

/// The clinic's name for a kind of treatment.
pub fn kind_label(kind: TreatmentKind) -> &'static str {
    match kind {
        TreatmentKind::IvKetamine => "IV ketamine",
        TreatmentKind::IntranasalKetamine => "intranasal ketamine",
        TreatmentKind::IvMagnesium => "IV magnesium",
        TreatmentKind::IvDopamineAntagonist => "IV dopamine antagonist",
        TreatmentKind::IvDihydroergotamine => "IV dihydroergotamine",
        TreatmentKind::IvLidocaine => "IV lidocaine",
        TreatmentKind::SphenopalatineGanglionBlock => "sphenopalatine ganglion block",
        TreatmentKind::StellateGanglionBlock => "stellate ganglion block",
        TreatmentKind::OccipitalNerveBlock => "occipital nerve block",
        TreatmentKind::Onabotulinumtoxina => "onabotulinumtoxinA",
        TreatmentKind::Other => "other treatment",
    }
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn short_date(d: NaiveDate) -> String {
    d.format("%-d %b").to_string()
}

fn span(from: NaiveDate, to: NaiveDate) -> String {
    format!("{} – {}", short_date(from), long_date(to))
}

fn short_span(from: NaiveDate, to: NaiveDate) -> String {
    format!("{} – {}", short_date(from), short_date(to))
}

fn completion_long(w: &WindowStats) -> String {
    format!(
        "{}/{} ({:.0} %)",
        w.days_recorded,
        w.days,
        w.completion * 100.0
    )
}

fn completion_short(w: &WindowStats) -> String {
    format!("{:.0} %", w.completion * 100.0)
}

fn one_decimal(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1}"))
}

/// `+1.5` / `−8.5` with a true minus sign; `—` for none.
fn signed(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v < -0.05 => format!("−{:.1}", -v),
        Some(v) if v > 0.05 => format!("+{v:.1}"),
        Some(_) => "0.0".into(),
    }
}

fn with_percent(change: Option<f64>, percent: Option<f64>) -> String {
    match percent {
        Some(p) if p < -0.5 => format!("{} (−{:.0} %)", signed(change), -p),
        Some(p) if p > 0.5 => format!("{} (+{p:.0} %)", signed(change)),
        Some(_) => format!("{} (0 %)", signed(change)),
        None => signed(change),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests;
