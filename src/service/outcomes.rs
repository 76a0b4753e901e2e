//! Outcomes: period summaries, the day calendar, before/after comparisons of one treatment,
//! and the cohort of one kind over a clinician's patients. Reads go through the store; the arithmetic is `crate::domain`'s.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::domain::questionnaire::{around_treatment, QuestionnairesAround, AROUND_TREATMENT_DAYS};
use crate::domain::range::add_days;
use crate::domain::{
    day_classes, outcome_of_windows, overlapping_treatments, pool_outcomes, split_periods,
    treatment_day, treatment_outcome, CohortOutcome, DateRange, DayClass, PatientId, Period,
    TimeZone, TreatmentId, TreatmentKind, TreatmentOutcome, TreatmentWindows, UserId, WindowStats,
    WindowTally,
};
use crate::error::{ApiError, ApiResult};
use crate::store::treatments::StoredTreatment;
use crate::store::users::Account;
use crate::store::{care, diary, questionnaires, treatments, Store};

/// The instants that can fall on patient-local dates `range` in any time zone (UTC−12…+14).
pub fn instants_around(range: DateRange) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = add_days(range.from, -1).and_time(NaiveTime::MIN).and_utc();
    let end = add_days(range.to, 2).and_time(NaiveTime::MIN).and_utc();
    (start, end)
}

/// The patient's treatments whose treatment day (in `tz`) can fall in `range`, with that day.
pub async fn treatment_days(
    store: &Store,
    patient: PatientId,
    tz: TimeZone,
    range: DateRange,
) -> ApiResult<Vec<(StoredTreatment, NaiveDate)>> {
    let (start, end) = instants_around(range);
    Ok(treatments::started_between(&store.db, patient, start, end)
        .await?
        .into_iter()
        .map(|t| {
            let day = treatment_day(t.event.started_at(), tz.tz());
            (t, day)
        })
        .collect())
}

/// The window `range` and its periods.
pub async fn patient_summary(
    store: &Store,
    patient: PatientId,
    range: DateRange,
    period: Period,
) -> ApiResult<(WindowStats, Vec<WindowStats>)> {
    let days = diary::day_records(&store.db, patient, range.from, range.to).await?;
    let periods = split_periods(range, period)
        .into_iter()
        .map(|p| WindowStats::compute(p.from, p.to, &days))
        .collect();
    Ok((WindowStats::compute(range.from, range.to, &days), periods))
}

/// One classified day per calendar day of `range`, with the treatments given on it.
pub async fn day_calendar(
    store: &Store,
    patient: PatientId,
    tz: TimeZone,
    range: DateRange,
) -> ApiResult<Vec<DayClass>> {
    // Both reads at once, each on its own pooled connection.
    let (days, treatments) = tokio::try_join!(
        async {
            Ok::<_, ApiError>(diary::day_records(&store.db, patient, range.from, range.to).await?)
        },
        treatment_days(store, patient, tz, range),
    )?;
    let treatment_days: Vec<(Uuid, NaiveDate)> = treatments
        .into_iter()
        .map(|(t, day)| (t.id.0, day))
        .collect();
    Ok(day_classes(range, &days, &treatment_days))
}

/// One treatment compared before and after.
#[derive(Debug, Clone)]
pub struct TreatmentComparison {
    pub treatment: StoredTreatment,
    pub outcome: TreatmentOutcome,
    /// Other treatments of the patient whose treatment day lies in T−N … T+N.
    pub overlapping: Vec<Uuid>,
    /// Per instrument, the latest questionnaire in T−90 … T−1 and the first in T+1 … T+90.
    pub questionnaires: QuestionnairesAround,
}

/// Compares baseline and follow-up windows of `N = window_days` around treatment `id` of
/// `patient`; 404 when the patient has no such treatment.
pub async fn treatment_summary(
    store: &Store,
    patient: &Account,
    id: TreatmentId,
    window_days: u32,
    followup_windows: u32,
) -> ApiResult<TreatmentComparison> {
    let db = &store.db;
    let patient_id = PatientId(patient.id.0);
    let treatment = treatments::get(db, patient_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such treatment for this patient."))?;
    let day = treatment_day(treatment.event.started_at(), patient.timezone.tz());
    let windows = TreatmentWindows::new(day, window_days, followup_windows);
    let read = windows.read_range();
    let n = i64::from(window_days);
    let around = DateRange::new(add_days(day, -n), add_days(day, n));
    let reach = AROUND_TREATMENT_DAYS;
    // Three independent reads at once, each on its own pooled connection: the answer waits
    // for the slowest one, not for the sum of three round trips to the database.
    let (days, others, responses) = tokio::try_join!(
        async { Ok::<_, ApiError>(diary::day_records(db, patient_id, read.from, read.to).await?) },
        treatment_days(store, patient_id, patient.timezone, around),
        async {
            Ok::<_, ApiError>(
                questionnaires::completed_between(
                    db,
                    patient_id,
                    add_days(day, -reach),
                    add_days(day, reach),
                )
                .await?,
            )
        },
    )?;
    let overlapping = overlapping_treatments(
        day,
        window_days,
        others
            .iter()
            .filter(|(t, _)| t.id != id)
            .map(|(t, day)| (t.id.0, *day)),
    );
    Ok(TreatmentComparison {
        outcome: treatment_outcome(&windows, &days),
        treatment,
        overlapping,
        questionnaires: around_treatment(&responses, day),
    })
}

/// The pooled outcomes of a cohort, with what they were pooled over.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// Matching treatments: of the kind, treatment day in the range, of a linked patient.
    pub treatments: u32,
    /// Distinct patients among them.
    pub patients: u32,
    pub pooled: CohortOutcome,
    /// Those patients, whose diaries were pooled (each gets a row in the audit trail).
    pub pooled_patients: Vec<Uuid>,
}

/// Pools the outcomes of every treatment of `kind` whose treatment day lies in `range`, over
/// `clinician`'s linked patients.
pub async fn cohort_summary(
    store: &Store,
    clinician: UserId,
    kind: TreatmentKind,
    window_days: u32,
    range: DateRange,
) -> ApiResult<Cohort> {
    let db = &store.db;
    let patients = care::all_patients(db, clinician).await?;
    let tz_of: HashMap<Uuid, TimeZone> = patients.iter().map(|p| (p.id.0, p.timezone)).collect();
    let ids: Vec<Uuid> = patients.iter().map(|p| p.id.0).collect();
    let (start, end) = instants_around(range);
    let rows = treatments::of_kind_for_patients(db, &ids, kind, start, end).await?;
    let matching: Vec<(Uuid, NaiveDate)> = rows
        .iter()
        .filter_map(|t| {
            let tz = tz_of.get(&t.patient_id.0)?;
            let day = treatment_day(t.event.started_at(), tz.tz());
            range.contains(day).then_some((t.patient_id.0, day))
        })
        .collect();
    let pooled_patients: Vec<Uuid> = matching
        .iter()
        .map(|(p, _)| *p)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    // The database sums each treatment's baseline and post window from the classification
    // stored with each day: one row per window comes back, not the days. Time grows with the
    // number of treatments, memory by two tallies per treatment.
    let windows: Vec<TreatmentWindows> = matching
        .iter()
        .map(|(_, day)| TreatmentWindows::new(*day, window_days, 1))
        .collect();
    let ranges: Vec<(Uuid, NaiveDate, NaiveDate)> = matching
        .iter()
        .zip(&windows)
        .flat_map(|((patient, _), w)| {
            let post = w.post();
            [
                (*patient, w.baseline.from, w.baseline.to),
                (*patient, post.from, post.to),
            ]
        })
        .collect();
    let tallies = diary::window_tallies(db, &ranges).await?;
    let empty = WindowTally::default();
    let outcomes: Vec<TreatmentOutcome> = windows
        .iter()
        .zip(tallies.chunks(2))
        .map(|(w, pair)| {
            let (baseline, post) = match pair {
                [b, p] => (b, p),
                _ => (&empty, &empty),
            };
            outcome_of_windows(w, |r| {
                let tally = if r == w.baseline { baseline } else { post };
                WindowStats::from_tally(r.from, r.to, tally)
            })
        })
        .collect();
    Ok(Cohort {
        treatments: u32::try_from(matching.len()).unwrap_or(u32::MAX),
        patients: u32::try_from(pooled_patients.len()).unwrap_or(u32::MAX),
        pooled: pool_outcomes(&outcomes),
        pooled_patients,
    })
}
