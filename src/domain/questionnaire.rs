//! Headache questionnaires: MIDAS (Migraine Disability Assessment) and HIT-6 (Headache Impact
//! Test), their validation, scores and grades, and which responses frame a treatment.
//!
//! Answers are kept by item number only. HIT-6 is a licensed instrument: its item text is never
//! stored or shipped by this service (the app shows the licensed wording itself).
//!
//! - MIDAS: 5 answers, each a number of days 0–90 (items 1–5, in order); score = their sum
//!   (0–450); grade I (0–5, little or no disability), II (6–10, mild), III (11–20, moderate),
//!   IV (≥ 21, severe). Two further questions (headache days in 3 months, 0–90; average pain,
//!   0–10) are kept as given but not scored.
//! - HIT-6: 6 answers 1–5 (1 never, 2 rarely, 3 sometimes, 4 very often, 5 always) worth 6, 8,
//!   10, 11 and 13 points; score 36–78; grade little or no impact (≤ 49), some (50–55),
//!   substantial (56–59), severe (≥ 60).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids::PatientId;
use super::problems::Problems;

/// Which questionnaire was answered.
#[derive(
    Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Migraine Disability Assessment: 5 items, days lost in the last 3 months.
    Midas,
    /// Headache Impact Test: 6 items answered never … always.
    Hit6,
}

impl Instrument {
    pub const ALL: [Instrument; 2] = [Self::Midas, Self::Hit6];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Midas => "midas",
            Self::Hit6 => "hit6",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// How many answers the instrument has.
    pub fn items(self) -> usize {
        match self {
            Self::Midas => MIDAS_ITEMS,
            Self::Hit6 => HIT6_ITEMS,
        }
    }
}

pub const MIDAS_ITEMS: usize = 5;
/// A MIDAS item counts days in the last 3 months.
pub const MIDAS_MAX_DAYS: i64 = 90;
pub const HIT6_ITEMS: usize = 6;
/// Points of the HIT-6 answers 1 (never) … 5 (always).
pub const HIT6_POINTS: [i32; 5] = [6, 8, 10, 11, 13];
/// The MIDAS extra "average pain" is on the 0–10 scale of the diary.
pub const MAX_AVERAGE_PAIN: i64 = 10;
/// Responses within this many days before or after a treatment frame it.
pub const AROUND_TREATMENT_DAYS: i64 = 90;

/// The grade of a scored response: MIDAS grades I–IV or the four HIT-6 impact bands. One
/// string enum with distinct values; its schema (below) names a constant for each value, since
/// `severe` is also a `Disability`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuestionnaireGrade {
    /// MIDAS 0–5: little or no disability.
    #[serde(rename = "I")]
    MidasI,
    /// MIDAS 6–10: mild disability.
    #[serde(rename = "II")]
    MidasII,
    /// MIDAS 11–20: moderate disability.
    #[serde(rename = "III")]
    MidasIII,
    /// MIDAS ≥ 21: severe disability.
    #[serde(rename = "IV")]
    MidasIV,
    /// HIT-6 ≤ 49: little or no impact.
    #[serde(rename = "little_or_none")]
    Hit6LittleOrNone,
    /// HIT-6 50–55: some impact.
    #[serde(rename = "some")]
    Hit6Some,
    /// HIT-6 56–59: substantial impact.
    #[serde(rename = "substantial")]
    Hit6Substantial,
    /// HIT-6 ≥ 60: severe impact.
    #[serde(rename = "severe")]
    Hit6Severe,
}

impl QuestionnaireGrade {
    /// The value on the wire (`I` … `IV`, `little_or_none` … `severe`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MidasI => "I",
            Self::MidasII => "II",
            Self::MidasIII => "III",
            Self::MidasIV => "IV",
            Self::Hit6LittleOrNone => "little_or_none",
            Self::Hit6Some => "some",
            Self::Hit6Substantial => "substantial",
            Self::Hit6Severe => "severe",
        }
    }

    /// Words for a report: "grade II, mild disability", "substantial impact".
    pub fn describe(self) -> &'static str {
        match self {
            Self::MidasI => "grade I, little or no disability",
            Self::MidasII => "grade II, mild disability",
            Self::MidasIII => "grade III, moderate disability",
            Self::MidasIV => "grade IV, severe disability",
            Self::Hit6LittleOrNone => "little or no impact",
            Self::Hit6Some => "some impact",
            Self::Hit6Substantial => "substantial impact",
            Self::Hit6Severe => "severe impact",
        }
    }
}

impl QuestionnaireGrade {
    pub const ALL: [QuestionnaireGrade; 8] = [
        Self::MidasI,
        Self::MidasII,
        Self::MidasIII,
        Self::MidasIV,
        Self::Hit6LittleOrNone,
        Self::Hit6Some,
        Self::Hit6Substantial,
        Self::Hit6Severe,
    ];

    /// Generated clients' constant names (`x-enum-varnames`).
    fn constant_name(self) -> &'static str {
        match self {
            Self::MidasI => "MidasGradeI",
            Self::MidasII => "MidasGradeII",
            Self::MidasIII => "MidasGradeIII",
            Self::MidasIV => "MidasGradeIV",
            Self::Hit6LittleOrNone => "Hit6LittleOrNone",
            Self::Hit6Some => "Hit6Some",
            Self::Hit6Substantial => "Hit6Substantial",
            Self::Hit6Severe => "Hit6Severe",
        }
    }
}

impl utoipa::PartialSchema for QuestionnaireGrade {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::extensions::ExtensionsBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let names: Vec<&str> = Self::ALL.iter().map(|g| g.constant_name()).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "MIDAS: `I` (0–5, little or no disability), `II` (6–10, mild), `III` (11–20, \
                 moderate), `IV` (≥ 21, severe). HIT-6: `little_or_none` (≤ 49), `some` \
                 (50–55), `substantial` (56–59), `severe` (≥ 60).",
            ))
            .enum_values(Some(Self::ALL.iter().map(|g| g.as_str())))
            .extensions(Some(
                ExtensionsBuilder::new()
                    .add("x-enum-varnames", serde_json::json!(names))
                    .build(),
            ))
            .into()
    }
}

impl utoipa::ToSchema for QuestionnaireGrade {}

/// MIDAS grade of a score (sum of items 1–5).
pub fn midas_grade(score: i32) -> QuestionnaireGrade {
    match score {
        ..=5 => QuestionnaireGrade::MidasI,
        6..=10 => QuestionnaireGrade::MidasII,
        11..=20 => QuestionnaireGrade::MidasIII,
        _ => QuestionnaireGrade::MidasIV,
    }
}

/// HIT-6 grade of a score (36–78).
pub fn hit6_grade(score: i32) -> QuestionnaireGrade {
    match score {
        ..=49 => QuestionnaireGrade::Hit6LittleOrNone,
        50..=55 => QuestionnaireGrade::Hit6Some,
        56..=59 => QuestionnaireGrade::Hit6Substantial,
        _ => QuestionnaireGrade::Hit6Severe,
    }
}

/// Score and grade of valid answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scored {
    pub score: i32,
    /// The grade of `score` on the instrument's scale.
    pub grade: QuestionnaireGrade,
}

/// Scores a complete set of answers; `None` when they are not one (wrong count, an answer out of
/// range), so a corrupt stored response is an error rather than a wrong score.
pub fn score(instrument: Instrument, answers: &[u8]) -> Option<Scored> {
    if answers.len() != instrument.items() {
        return None;
    }
    match instrument {
        Instrument::Midas => {
            let max = u8::try_from(MIDAS_MAX_DAYS).ok()?;
            if answers.iter().any(|a| *a > max) {
                return None;
            }
            let score = answers.iter().map(|a| i32::from(*a)).sum();
            Some(Scored {
                score,
                grade: midas_grade(score),
            })
        }
        Instrument::Hit6 => {
            let points = answers
                .iter()
                .map(|a| HIT6_POINTS.get(usize::from(*a).checked_sub(1)?).copied())
                .collect::<Option<Vec<i32>>>()?;
            let score = points.iter().sum();
            Some(Scored {
                score,
                grade: hit6_grade(score),
            })
        }
    }
}

/// A questionnaire as the patient submits it.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    pub instrument: Instrument,
    pub completed_on: NaiveDate,
    pub answers: Vec<i64>,
    pub headache_days_3_months: Option<i64>,
    pub average_pain: Option<i64>,
}

/// A submission that passed every rule, in stored form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidSubmission {
    pub instrument: Instrument,
    pub completed_on: NaiveDate,
    pub answers: Vec<u8>,
    pub headache_days_3_months: Option<u8>,
    pub average_pain: Option<u8>,
    pub scored: Scored,
}

/// Checks every rule of a submission; `today` is the patient-local date, `earliest` the first
/// date the service accepts.
pub fn validate(
    submission: &Submission,
    today: NaiveDate,
    earliest: NaiveDate,
) -> Result<ValidSubmission, Problems> {
    let mut problems = Problems::new();
    if submission.completed_on > today {
        problems.add(
            "completed_on",
            "must not be later than today in the patient's time zone",
        );
    }
    if submission.completed_on < earliest {
        problems.add("completed_on", "must not be before 2000-01-01");
    }
    let instrument = submission.instrument;
    let (range, what) = match instrument {
        Instrument::Midas => (0..=MIDAS_MAX_DAYS, "must be a number of days from 0 to 90"),
        Instrument::Hit6 => (1..=5, "must be an answer code from 1 (never) to 5 (always)"),
    };
    if submission.answers.len() != instrument.items() {
        problems.add(
            "answers",
            format!(
                "{} takes exactly {} answers, in item order",
                instrument.as_str(),
                instrument.items()
            ),
        );
    }
    let mut answers = Vec::with_capacity(submission.answers.len());
    for (i, answer) in submission.answers.iter().enumerate() {
        match u8::try_from(*answer)
            .ok()
            .filter(|_| range.contains(answer))
        {
            Some(a) => answers.push(a),
            None => problems.add(format!("answers[{i}]"), what),
        }
    }
    let extra = |value: Option<i64>, field: &str, max: i64, problems: &mut Problems| {
        let value = value?;
        if instrument != Instrument::Midas {
            problems.add(field, "is asked by midas only");
            return None;
        }
        let ok = u8::try_from(value)
            .ok()
            .filter(|_| (0..=max).contains(&value));
        if ok.is_none() {
            problems.add(field, format!("must be an integer from 0 to {max}"));
        }
        ok
    };
    let headache_days_3_months = extra(
        submission.headache_days_3_months,
        "headache_days_3_months",
        MIDAS_MAX_DAYS,
        &mut problems,
    );
    let average_pain = extra(
        submission.average_pain,
        "average_pain",
        MAX_AVERAGE_PAIN,
        &mut problems,
    );
    let scored = score(instrument, &answers);
    if scored.is_none() && problems.is_empty() {
        // Every answer passed its check, so this cannot happen; kept so no path scores wrongly.
        problems.add("answers", "are not a complete set of answers");
    }
    match scored {
        Some(scored) => problems.or_ok(ValidSubmission {
            instrument,
            completed_on: submission.completed_on,
            scored,
            answers,
            headache_days_3_months,
            average_pain,
        }),
        None => Err(problems),
    }
}

/// A scored questionnaire response.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct QuestionnaireResponse {
    /// The response's id.
    pub id: Uuid,
    /// The patient who answered.
    #[schema(value_type = Uuid)]
    pub patient_id: PatientId,
    /// Which questionnaire was answered.
    pub instrument: Instrument,
    /// The patient-local day it was completed.
    pub completed_on: NaiveDate,
    /// The answers by item number, in order: MIDAS 5 numbers of days 0–90; HIT-6 6 answer codes
    /// 1 (never) … 5 (always). No item text.
    #[schema(schema_with = answers_schema)]
    pub answers: Vec<u8>,
    /// MIDAS: sum of items 1–5 (0–450). HIT-6: 36–78.
    pub score: i32,
    /// The grade of `score` on the instrument's scale.
    pub grade: QuestionnaireGrade,
    /// MIDAS only, when given: headache days in the last 3 months (0–90); not scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>, nullable = false, minimum = 0, maximum = 90)]
    pub headache_days_3_months: Option<u8>,
    /// MIDAS only, when given: average pain on those days (0–10); not scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>, nullable = false, minimum = 0, maximum = 10)]
    pub average_pain: Option<u8>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
}

/// `answers` in the OpenAPI document: 5–6 integers, each 0–90 (the bounds of both instruments;
/// the description gives each one's).
pub fn answers_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(0))
                .maximum(Some(MIDAS_MAX_DAYS as i32)),
        )
        .min_items(Some(MIDAS_ITEMS))
        .max_items(Some(HIT6_ITEMS))
        .description(Some(
            "In item order. `midas`: exactly 5 numbers of days, 0–90 each. `hit6`: exactly 6 \
             answer codes, 1 (never), 2 (rarely), 3 (sometimes), 4 (very often), 5 (always).",
        ))
        .build()
}

/// The questionnaires framing a treatment: per instrument, the latest completed in
/// T−90 … T−1 and the first completed in T+1 … T+90.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Default)]
pub struct QuestionnairesAround {
    /// At most one per instrument: the latest before the treatment day.
    pub before: Vec<QuestionnaireResponse>,
    /// At most one per instrument: the first after the treatment day.
    pub after: Vec<QuestionnaireResponse>,
}

/// Picks the responses framing treatment day `t` (ties on a day: the later submission before,
/// the earlier after). Responses outside T−90 … T+90 and on T itself are ignored.
pub fn around_treatment(responses: &[QuestionnaireResponse], t: NaiveDate) -> QuestionnairesAround {
    let offset = |r: &QuestionnaireResponse| (r.completed_on - t).num_days();
    let mut out = QuestionnairesAround::default();
    for instrument in Instrument::ALL {
        let of_kind = || responses.iter().filter(move |r| r.instrument == instrument);
        let before = of_kind()
            .filter(|r| (-AROUND_TREATMENT_DAYS..=-1).contains(&offset(r)))
            .max_by_key(|r| (r.completed_on, r.created_at, r.id));
        let after = of_kind()
            .filter(|r| (1..=AROUND_TREATMENT_DAYS).contains(&offset(r)))
            .min_by_key(|r| (r.completed_on, r.created_at, r.id));
        out.before.extend(before.cloned());
        out.after.extend(after.cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuestionnaireGrade::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, n).unwrap()
    }

    fn submission(instrument: Instrument, answers: Vec<i64>) -> Submission {
        Submission {
            instrument,
            completed_on: day(10),
            answers,
            headache_days_3_months: None,
            average_pain: None,
        }
    }

    fn check(s: &Submission) -> Result<ValidSubmission, Vec<String>> {
        let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        validate(s, day(15), earliest).map_err(|p| p.into_iter().map(|p| p.field).collect())
    }

    #[test]
    fn midas_grades_at_every_boundary() {
        let cases = [
            (0, MidasI),
            (5, MidasI),
            (6, MidasII),
            (10, MidasII),
            (11, MidasIII),
        ];
        for (score, grade) in cases {
            assert_eq!(midas_grade(score), grade, "score {score}");
        }
        for (score, grade) in [(20, MidasIII), (21, MidasIV), (450, MidasIV)] {
            assert_eq!(midas_grade(score), grade, "score {score}");
        }
    }

    #[test]
    fn hit6_grades_at_every_boundary() {
        let cases = [
            (36, Hit6LittleOrNone),
            (49, Hit6LittleOrNone),
            (50, Hit6Some),
            (55, Hit6Some),
            (56, Hit6Substantial),
            (59, Hit6Substantial),
            (60, Hit6Severe),
            (78, Hit6Severe),
        ];
        for (score, grade) in cases {
            assert_eq!(hit6_grade(score), grade, "score {score}");
        }
    }

    #[test]
    fn midas_score_is_the_sum_of_items_one_to_five() {
        let valid = check(&submission(Instrument::Midas, vec![1, 2, 3, 0, 5])).unwrap();
        assert_eq!(
            valid.scored,
            Scored {
                score: 11,
                grade: MidasIII
            }
        );
        let max = check(&submission(Instrument::Midas, vec![90; 5])).unwrap();
        assert_eq!(max.scored.score, 450);
    }

    #[test]
    fn hit6_answers_are_worth_6_8_10_11_13() {
        let all = |code| {
            check(&submission(Instrument::Hit6, vec![code; 6]))
                .unwrap()
                .scored
        };
        assert_eq!(
            all(1),
            Scored {
                score: 36,
                grade: Hit6LittleOrNone
            }
        );
        assert_eq!(all(2).score, 48);
        assert_eq!(
            all(3),
            Scored {
                score: 60,
                grade: Hit6Severe
            }
        );
        assert_eq!(all(4).score, 66);
        assert_eq!(all(5).score, 78);
        // 10+10+10+10+8+8 = 56: the first substantial score.
        let mixed = check(&submission(Instrument::Hit6, vec![3, 3, 3, 3, 2, 2])).unwrap();
        assert_eq!(
            mixed.scored,
            Scored {
                score: 56,
                grade: Hit6Substantial
            }
        );
    }

    #[test]
    fn every_broken_rule_names_its_field() {
        let fields = |s: Submission| check(&s).unwrap_err();
        assert_eq!(
            fields(submission(Instrument::Midas, vec![1, 2, 3, 91, 0])),
            ["answers[3]"]
        );
        assert_eq!(
            fields(submission(Instrument::Midas, vec![-1, 0, 0, 0, 0])),
            ["answers[0]"]
        );
        assert_eq!(
            fields(submission(Instrument::Midas, vec![1, 2, 3, 4])),
            ["answers"]
        );
        assert_eq!(
            fields(submission(Instrument::Hit6, vec![1, 2, 3, 4, 5, 0])),
            ["answers[5]"]
        );
        assert_eq!(
            fields(submission(Instrument::Hit6, vec![6, 1, 1, 1, 1, 1])),
            ["answers[0]"]
        );
        assert_eq!(
            fields(submission(Instrument::Hit6, vec![1; 7])),
            ["answers"]
        );
        let mut future = submission(Instrument::Midas, vec![0; 5]);
        future.completed_on = day(16);
        assert_eq!(fields(future), ["completed_on"]);
        let mut old = submission(Instrument::Midas, vec![0; 5]);
        old.completed_on = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        assert_eq!(fields(old), ["completed_on"]);
        let mut extras = submission(Instrument::Midas, vec![0; 5]);
        extras.headache_days_3_months = Some(91);
        extras.average_pain = Some(11);
        assert_eq!(fields(extras), ["headache_days_3_months", "average_pain"]);
        let mut hit6_extras = submission(Instrument::Hit6, vec![1; 6]);
        hit6_extras.average_pain = Some(3);
        assert_eq!(fields(hit6_extras), ["average_pain"]);
    }

    #[test]
    fn midas_extras_are_kept_not_scored() {
        let mut s = submission(Instrument::Midas, vec![0, 0, 0, 0, 6]);
        s.headache_days_3_months = Some(30);
        s.average_pain = Some(7);
        let valid = check(&s).unwrap();
        assert_eq!(valid.headache_days_3_months, Some(30));
        assert_eq!(valid.average_pain, Some(7));
        assert_eq!(
            valid.scored,
            Scored {
                score: 6,
                grade: MidasII
            }
        );
    }

    fn response(instrument: Instrument, completed_on: NaiveDate, n: u8) -> QuestionnaireResponse {
        QuestionnaireResponse {
            id: Uuid::from_u128(u128::from(n)),
            patient_id: PatientId(Uuid::nil()),
            instrument,
            completed_on,
            answers: vec![],
            score: 0,
            grade: MidasI,
            headache_days_3_months: None,
            average_pain: None,
            created_at: DateTime::from_timestamp(i64::from(n), 0).unwrap(),
        }
    }

    #[test]
    fn around_a_treatment_the_latest_before_and_the_first_after_per_instrument() {
        let t = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let at = |d: i64| t + chrono::Duration::days(d);
        let all = vec![
            response(Instrument::Midas, at(-91), 1), // too early
            response(Instrument::Midas, at(-90), 2),
            response(Instrument::Midas, at(-1), 3), // latest before
            response(Instrument::Midas, at(0), 4),  // the treatment day: neither
            response(Instrument::Midas, at(1), 5),  // first after
            response(Instrument::Midas, at(90), 6),
            response(Instrument::Hit6, at(-90), 7), // the only one before
            response(Instrument::Hit6, at(91), 8),  // too late
            response(Instrument::Hit6, at(30), 9),
            response(Instrument::Hit6, at(30), 10), // same day, submitted later
        ];
        let around = around_treatment(&all, t);
        let ids =
            |v: &[QuestionnaireResponse]| v.iter().map(|r| r.id.as_u128()).collect::<Vec<_>>();
        assert_eq!(ids(&around.before), [3, 7]);
        assert_eq!(ids(&around.after), [5, 9]);
        assert_eq!(
            around_treatment(&all[..1], t),
            QuestionnairesAround::default()
        );
    }

    #[test]
    fn stored_answers_score_like_submitted_ones_and_corrupt_ones_do_not() {
        assert_eq!(
            score(Instrument::Hit6, &[5, 5, 5, 5, 5, 5]).unwrap().score,
            78
        );
        assert_eq!(
            score(Instrument::Midas, &[21, 0, 0, 0, 0]).unwrap().grade,
            MidasIV
        );
        assert_eq!(score(Instrument::Hit6, &[0, 1, 1, 1, 1, 1]), None);
        assert_eq!(score(Instrument::Hit6, &[6, 1, 1, 1, 1, 1]), None);
        assert_eq!(score(Instrument::Hit6, &[1, 1, 1, 1, 1]), None);
        assert_eq!(score(Instrument::Midas, &[91, 0, 0, 0, 0]), None);
    }
}
