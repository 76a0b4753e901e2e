//! The record in other media types: the diary as CSV and back, the FHIR Bundle, and the visit
//! reports. Reads go through the store and the comparisons through [`super::outcomes`]; the
//! conversions are `crate::export`'s and `crate::report`'s, every figure the domain's.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::outcomes::{self, treatment_days};
use super::today_in;
use crate::domain::questionnaire::QuestionnairesAround;
use crate::domain::{
    day_classes, split_periods, DateRange, DiaryEntry, PatientId, Period, Problems, TimeZone,
    TreatmentId, WindowStats,
};
use crate::error::{ApiError, ApiResult};
use crate::export::{csv, fhir, DatedTreatment, QuestionnaireScore};
use crate::report::{self, QuestionnaireSides, ReportPatient};
use crate::store::diary::{self, Precondition, Upserted, WriteError};
use crate::store::questionnaires::{self as questionnaire_store, QuestionnaireFilter};
use crate::store::treatments::{self, StoredTreatment};
use crate::store::users::Account;
use crate::store::Store;

/// More rows than any diary holds (ten years are 3653), and safe as an SQL `LIMIT`.
const ALL_ROWS: u64 = 1_000_000;

fn patient_id(patient: &Account) -> PatientId {
    PatientId(patient.id.0)
}

/// The patient's entries in `from..=to` (either open), by date.
pub async fn diary_entries(
    store: &Store,
    patient: PatientId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<DiaryEntry>> {
    let stored = diary::list_range(&store.db, patient, from, to, None, ALL_ROWS).await?;
    Ok(stored.into_iter().map(|s| s.entry).collect())
}

/// The diary as CSV (see `crate::export::csv` for the format).
pub async fn diary_csv(
    store: &Store,
    patient: PatientId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<String> {
    let entries = diary_entries(store, patient, from, to).await?;
    csv::write_diary(&entries).map_err(|e| ApiError::internal(format!("diary CSV: {e}")))
}

/// What an import did, day by day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub created: u32,
    pub replaced: u32,
    pub unchanged: u32,
}

/// Saves every row of a CSV file as that day's entry, in one transaction: any problem, of
/// syntax or of the diary's rules, is a 422 naming `line N: field`, and nothing is written.
pub async fn import_diary_csv(
    store: &Store,
    patient: &Account,
    text: &str,
) -> ApiResult<ImportCounts> {
    let days = csv::read_diary(text)?;
    let today = today_in(patient.timezone);
    let mut problems = Problems::new();
    let mut entries = Vec::with_capacity(days.len());
    for day in days {
        match DiaryEntry::parse(day.date, day.entry, today) {
            Ok(entry) => entries.push(entry),
            Err(p) => problems.extend(p.prefixed(&format!("line {}: ", day.line))),
        }
    }
    problems.or_ok(())?;
    let txn = store.begin_write().await?;
    let mut counts = ImportCounts::default();
    for entry in &entries {
        let (_, outcome) = diary::upsert(&*txn, patient_id(patient), entry, Precondition::None)
            .await
            .map_err(|e| match e {
                WriteError::Db(e) => ApiError::from(e),
                WriteError::PreconditionFailed => ApiError::internal("import: precondition"),
            })?;
        match outcome {
            Upserted::Created => counts.created += 1,
            Upserted::Replaced => counts.replaced += 1,
            Upserted::Unchanged => counts.unchanged += 1,
        }
    }
    txn.commit().await?;
    Ok(counts)
}

fn dated(stored: StoredTreatment, tz: TimeZone) -> DatedTreatment {
    let treatment_day = crate::domain::treatment_day(stored.event.started_at(), tz.tz());
    DatedTreatment {
        id: stored.id.0,
        treatment_day,
        fields: stored.event.into_fields(),
    }
}

/// Every scored questionnaire of the patient in `from..=to` (either open), by completion day.
async fn questionnaires(
    store: &Store,
    patient: PatientId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<QuestionnaireScore>> {
    let filter = QuestionnaireFilter {
        instrument: None,
        from,
        to,
    };
    let responses = questionnaire_store::list(&store.db, patient, filter, None, ALL_ROWS).await?;
    Ok(responses.iter().map(QuestionnaireScore::from).collect())
}

/// The responses framing a treatment, as the comparison picked them.
fn sides(around: &QuestionnairesAround) -> QuestionnaireSides {
    QuestionnaireSides {
        before: around.before.iter().map(QuestionnaireScore::from).collect(),
        after: around.after.iter().map(QuestionnaireScore::from).collect(),
    }
}

/// The whole record as a FHIR R4 Bundle (see `crate::export::fhir`).
pub async fn fhir_bundle(
    store: &Store,
    patient: &Account,
    now: DateTime<Utc>,
) -> ApiResult<serde_json::Value> {
    let id = patient_id(patient);
    let entries = diary_entries(store, id, None, None).await?;
    let treatments: Vec<DatedTreatment> = treatments::list(&store.db, id, None, ALL_ROWS)
        .await?
        .into_iter()
        .map(|t| dated(t, patient.timezone))
        .collect();
    let questionnaires = questionnaires(store, id, None, None).await?;
    let facts = fhir::PatientFacts {
        id: patient.id.0,
        display_name: patient.display_name.clone(),
        email: patient.email.clone(),
        timezone: patient.timezone.name().to_owned(),
    };
    Ok(fhir::bundle(fhir::Record {
        patient: &facts,
        entries: &entries,
        treatments: &treatments,
        questionnaires: &questionnaires,
        generated_at: now,
    }))
}

fn report_patient(patient: &Account) -> ReportPatient<'_> {
    ReportPatient {
        name: patient.display_name.as_deref().unwrap_or(&patient.email),
        timezone: patient.timezone.tz(),
    }
}

fn render_error(e: askama::Error) -> ApiError {
    ApiError::internal(format!("visit report template: {e}"))
}

/// The visit report of treatment `id`: the comparison of `getTreatmentSummary` (the same
/// service call), the calendar of its windows and the treatments around it.
pub async fn treatment_report(
    store: &Store,
    patient: &Account,
    id: TreatmentId,
    window_days: u32,
    followup_windows: u32,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let comparison =
        outcomes::treatment_summary(store, patient, id, window_days, followup_windows).await?;
    let outcome = comparison.outcome;
    let treatment = dated(comparison.treatment, patient.timezone);
    let last = outcome.followup.last().unwrap_or(&outcome.post);
    let shown = DateRange::new(outcome.baseline.from, last.to);
    let records = diary::day_records(&store.db, patient_id(patient), shown.from, shown.to).await?;
    let nearby = treatment_days(store, patient_id(patient), patient.timezone, shown).await?;
    let marks: Vec<(Uuid, NaiveDate)> = nearby.iter().map(|(t, day)| (t.id.0, *day)).collect();
    let overlapping: Vec<DatedTreatment> = nearby
        .into_iter()
        .filter(|(t, _)| comparison.overlapping.contains(&t.id.0))
        .map(|(t, _)| dated(t, patient.timezone))
        .collect();
    report::render_treatment(&report::TreatmentReport {
        patient: report_patient(patient),
        treatment: &treatment,
        outcome: &outcome,
        days: &day_classes(shown, &records, &marks),
        overlapping: &overlapping,
        questionnaires: &sides(&comparison.questionnaires),
        generated_at: now,
    })
    .map_err(render_error)
}

/// The report of `range` without a treatment: its figures, 28-day blocks and calendar.
pub async fn range_report(
    store: &Store,
    patient: &Account,
    range: DateRange,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let id = patient_id(patient);
    let records = diary::day_records(&store.db, id, range.from, range.to).await?;
    let treatments: Vec<DatedTreatment> = treatment_days(store, id, patient.timezone, range)
        .await?
        .into_iter()
        .filter(|(_, day)| range.contains(*day))
        .map(|(t, _)| dated(t, patient.timezone))
        .collect();
    let marks: Vec<(Uuid, NaiveDate)> =
        treatments.iter().map(|t| (t.id, t.treatment_day)).collect();
    let blocks: Vec<WindowStats> = split_periods(range, Period::Days28)
        .into_iter()
        .map(|p| WindowStats::compute(p.from, p.to, &records))
        .collect();
    let in_range = questionnaires(store, id, Some(range.from), Some(range.to)).await?;
    report::render_range(&report::RangeReport {
        patient: report_patient(patient),
        range,
        overall: &WindowStats::compute(range.from, range.to, &records),
        blocks: &blocks,
        days: &day_classes(range, &records, &marks),
        treatments: &treatments,
        questionnaires: &first_and_latest(in_range),
        generated_at: now,
    })
    .map_err(render_error)
}

/// Per instrument, the first and the latest response.
fn first_and_latest(all: Vec<QuestionnaireScore>) -> QuestionnaireSides {
    let mut sides = QuestionnaireSides::default();
    for instrument in ["midas", "hit6"] {
        let of = || all.iter().filter(|q| q.instrument == instrument);
        sides
            .before
            .extend(of().min_by_key(|q| q.completed_on).cloned());
        sides
            .after
            .extend(of().max_by_key(|q| q.completed_on).cloned());
    }
    sides
}
