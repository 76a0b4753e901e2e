//! Outcomes: period summaries, the day calendar, before/after comparisons of one treatment,
//! and the cohort of one kind over a clinician's patients. Reads go through the store; the arithmetic is `crate::domain`'s.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::domain::diary::DayRecord;
use crate::domain::questionnaire::{
    around_treatment, QuestionnaireResponse, QuestionnairesAround, AROUND_TREATMENT_DAYS,
};
use crate::domain::range::add_days;
use crate::domain::{
    day_classes, outcome_of_windows, overlapping_treatments, pool_outcomes, split_periods,
    treatment_day, treatment_outcome, CohortOutcome, DateRange, DayClass, PatientId, Period,
    TimeZone, TreatmentId, TreatmentKind, TreatmentOutcome, TreatmentWindows, UserId, WindowStats,
    WindowTally,
};
use crate::error::{ApiError, ApiResult};
use crate::store::cohort::{self, StoredWindows};
use crate::store::reads::{self, Query, Read};
use crate::store::treatments::StoredTreatment;
use crate::store::users::Account;
use crate::store::{diary, questionnaires, treatments, Store};
use sea_orm::{DatabaseConnection, QueryResult};

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
    let found = treatments::started_between(&store.db, patient, start, end).await?;
    Ok(with_days(found, tz))
}

/// [`treatment_days`] as a read to send with others (`store::reads`); decode, then [`with_days`].
fn treatments_around_read(patient: PatientId, range: DateRange) -> Read<StoredTreatment> {
    let (start, end) = instants_around(range);
    treatments::started_between_read(patient, start, end)
}

/// Each treatment with its treatment day in `tz`.
fn with_days(found: Vec<StoredTreatment>, tz: TimeZone) -> Vec<(StoredTreatment, NaiveDate)> {
    found
        .into_iter()
        .map(|t| {
            let day = treatment_day(t.event.started_at(), tz.tz());
            (t, day)
        })
        .collect()
}

/// The window `range` and its periods.
pub async fn patient_summary(
    store: &Store,
    patient: PatientId,
    range: DateRange,
    period: Period,
) -> ApiResult<(WindowStats, Vec<WindowStats>)> {
    // Summed by the database from the classification stored with each day (the same numbers
    // as `WindowStats::compute` over the days, tests/api/day_class.rs): one row per window
    // comes back instead of every day of the range.
    let windows: Vec<(Uuid, NaiveDate, NaiveDate)> = std::iter::once(range)
        .chain(split_periods(range, period))
        .map(|w| (patient.0, w.from, w.to))
        .collect();
    let tallies = diary::window_tallies(&store.db, &windows).await?;
    let mut stats = windows
        .iter()
        .zip(&tallies)
        .map(|((_, from, to), tally)| WindowStats::from_tally(*from, *to, tally));
    let overall = stats
        .next()
        .ok_or_else(|| ApiError::Internal("no sums for the whole range".into()))?;
    Ok((overall, stats.collect()))
}

/// One classified day per calendar day of `range`, with the treatments given on it.
pub async fn day_calendar(
    store: &Store,
    patient: PatientId,
    tz: TimeZone,
    range: DateRange,
) -> ApiResult<Vec<DayClass>> {
    // Both reads together (`store::reads`).
    let days = diary::day_records_read(patient, range.from, range.to);
    let treatments = treatments_around_read(patient, range);
    let rows = reads::together(&store.db, &[&days, &treatments]).await?;
    let (day_rows, treatment_rows) = match rows.as_slice() {
        [d, t] => (d.as_slice(), t.as_slice()),
        // `together` answers one part per read.
        _ => return Err(ApiError::Internal("two reads, not two answers".into())),
    };
    let days = days.decode(day_rows)?;
    let treatment_days: Vec<(Uuid, NaiveDate)> = with_days(treatments.decode(treatment_rows)?, tz)
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
    // The reads around the treatment need its day, which needs the treatment: two rounds of
    // round trips to the database. When the day is known from an earlier summary they go
    // together with the treatment's own read, and are used only if the day is still that.
    let around = |day| Around::new(patient, day, window_days, followup_windows);
    let guess = TREATMENT_DAYS.guess(id).map(around);
    let get = treatments::get_read(patient_id, id);
    let (treatment, early) = match guess {
        Some(early) => {
            let rows = early.read(db, Some(&get)).await?;
            (get.decode(&rows.first)?, Some((early, rows)))
        }
        None => (
            treatments::get(db, patient_id, id)
                .await?
                .into_iter()
                .collect(),
            None,
        ),
    };
    let treatment = treatment
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("No such treatment for this patient."))?;
    let day = treatment_day(treatment.event.started_at(), patient.timezone.tz());
    TREATMENT_DAYS.remember(id, day);
    let (reads, rows) = match early {
        Some((early, rows)) if early.day == day => (early, rows),
        _ => {
            let reads = around(day);
            let rows = reads.read(db, None).await?;
            (reads, rows)
        }
    };
    let days = reads.days.decode(&rows.days)?;
    let responses = reads.questionnaires.decode(&rows.questionnaires)?;
    let others = with_days(reads.treatments.decode(&rows.treatments)?, patient.timezone);
    let overlapping = overlapping_treatments(
        day,
        window_days,
        others
            .iter()
            .filter(|(t, _)| t.id != id)
            .map(|(t, day)| (t.id.0, *day)),
    );
    let windows = TreatmentWindows::new(day, window_days, followup_windows);
    Ok(TreatmentComparison {
        outcome: treatment_outcome(&windows, &days),
        treatment,
        overlapping,
        questionnaires: around_treatment(&responses, day),
    })
}

/// What a treatment summary reads around treatment day `day`: the windows' diary days, the
/// treatments whose day can be near it, the questionnaires near it. Independent reads, sent
/// together (`store::reads`).
struct Around {
    day: NaiveDate,
    days: Read<DayRecord>,
    treatments: Read<StoredTreatment>,
    questionnaires: Read<QuestionnaireResponse>,
}

/// The rows of [`Around`]'s reads (and of the treatment's own, when it went with them).
struct AroundRows {
    first: Vec<QueryResult>,
    days: Vec<QueryResult>,
    treatments: Vec<QueryResult>,
    questionnaires: Vec<QueryResult>,
}

impl Around {
    fn new(patient: &Account, day: NaiveDate, window_days: u32, followup_windows: u32) -> Self {
        let patient_id = PatientId(patient.id.0);
        let read = TreatmentWindows::new(day, window_days, followup_windows).read_range();
        let n = i64::from(window_days);
        let near = DateRange::new(add_days(day, -n), add_days(day, n));
        let reach = AROUND_TREATMENT_DAYS;
        Self {
            day,
            days: diary::day_records_read(patient_id, read.from, read.to),
            treatments: treatments_around_read(patient_id, near),
            questionnaires: questionnaires::completed_between_read(
                patient_id,
                add_days(day, -reach),
                add_days(day, reach),
            ),
        }
    }

    /// Sends the reads, with `first` before them if given.
    async fn read(
        &self,
        db: &DatabaseConnection,
        first: Option<&dyn Query>,
    ) -> ApiResult<AroundRows> {
        let mut batch: Vec<&dyn Query> = first.into_iter().collect();
        batch.extend([
            &self.days as &dyn Query,
            &self.treatments,
            &self.questionnaires,
        ]);
        let mut parts = reads::together(db, &batch).await?.into_iter();
        let mut next = || parts.next().unwrap_or_default();
        let first = if batch.len() == 4 { next() } else { Vec::new() };
        Ok(AroundRows {
            first,
            days: next(),
            treatments: next(),
            questionnaires: next(),
        })
    }
}

/// Treatment days seen by earlier summaries, so that the next summary of the same treatment
/// reads everything in one round. A guess is only a head start: it is checked against the
/// treatment read in the same round, so a stale one (the treatment moved, the patient's time
/// zone changed, another instance changed it) costs the second round, never a wrong answer.
/// That is also why one memo serves the whole process: treatment ids are unique, and nothing
/// in it is trusted. Bounded: it starts afresh beyond [`MAX_TREATMENT_DAYS`] entries.
static TREATMENT_DAYS: TreatmentDays = TreatmentDays(std::sync::Mutex::new(None));
const MAX_TREATMENT_DAYS: usize = 50_000;

struct TreatmentDays(std::sync::Mutex<Option<HashMap<Uuid, NaiveDate>>>);

impl TreatmentDays {
    fn guess(&self, id: TreatmentId) -> Option<NaiveDate> {
        let memo = self.0.lock().ok()?;
        memo.as_ref()?.get(&id.0).copied()
    }

    fn remember(&self, id: TreatmentId, day: NaiveDate) {
        if let Ok(mut memo) = self.0.lock() {
            let memo = memo.get_or_insert_with(HashMap::new);
            if memo.len() >= MAX_TREATMENT_DAYS {
                memo.clear();
            }
            memo.insert(id.0, day);
        }
    }
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
///
/// Each treatment's window sums come from `treatment_window_tallies` when their stamp is current
/// (`store::cohort`), else from the diary, and are then stored for the next request: a cohort
/// request sums only the treatments of patients who wrote since the last one, and time and
/// memory grow with the number of treatments, not with the length of the diaries.
pub async fn cohort_summary(
    store: &Store,
    clinician: UserId,
    kind: TreatmentKind,
    window_days: u32,
    range: DateRange,
) -> ApiResult<Cohort> {
    let mut pooled_patients = HashSet::new();
    let mut outcomes = Vec::new();
    // Treatments whose sums are summed from the diary now: (treatment, windows, counter).
    let mut missing: Vec<(Uuid, TreatmentWindows, i64)> = Vec::new();
    let mut missing_ranges: Vec<(Uuid, NaiveDate, NaiveDate)> = Vec::new();
    let visit = |candidate: cohort::CohortTreatment| {
        let day = treatment_day(candidate.started_at, candidate.timezone.tz());
        if !range.contains(day) {
            return;
        }
        pooled_patients.insert(candidate.patient_id);
        let windows = TreatmentWindows::new(day, window_days, 1);
        match candidate.fresh(day) {
            Some(stored) => {
                outcomes.push(outcome_of_tallies(&windows, &stored.baseline, &stored.post));
            }
            None => {
                let post = windows.post();
                missing_ranges.push((
                    candidate.patient_id,
                    windows.baseline.from,
                    windows.baseline.to,
                ));
                missing_ranges.push((candidate.patient_id, post.from, post.to));
                missing.push((candidate.treatment_id, windows, candidate.change_seq));
            }
        }
    };
    cohort::for_each_candidate(
        &store.db,
        clinician,
        kind,
        window_days,
        instants_around(range),
        visit,
    )
    .await?;
    let treatments = outcomes.len() + missing.len();
    if !missing.is_empty() {
        let tallies = diary::window_tallies(&store.db, &missing_ranges).await?;
        let mut fresh = Vec::with_capacity(missing.len());
        for ((treatment, windows, change_seq), pair) in missing.into_iter().zip(tallies.chunks(2)) {
            let [baseline, post] = pair else {
                return Err(ApiError::internal(
                    "window sums: one window without its pair",
                ));
            };
            outcomes.push(outcome_of_tallies(&windows, baseline, post));
            fresh.push((
                treatment,
                StoredWindows {
                    treatment_day: windows.treatment_day,
                    change_seq,
                    baseline: baseline.clone(),
                    post: post.clone(),
                },
            ));
        }
        // Only a cache: a failure to keep the sums costs the next request the same summing.
        if let Err(e) = keep_window_sums(store, window_days, &fresh).await {
            tracing::warn!(error = %e, treatments = fresh.len(), "keeping cohort window sums");
        }
    }
    Ok(Cohort {
        treatments: u32::try_from(treatments).unwrap_or(u32::MAX),
        patients: u32::try_from(pooled_patients.len()).unwrap_or(u32::MAX),
        pooled: pool_outcomes(&outcomes),
        pooled_patients: pooled_patients.into_iter().collect(),
    })
}

/// One treatment's outcome from the sums of its baseline and post window.
fn outcome_of_tallies(
    windows: &TreatmentWindows,
    baseline: &WindowTally,
    post: &WindowTally,
) -> TreatmentOutcome {
    outcome_of_windows(windows, |r| {
        let tally = if r == windows.baseline {
            baseline
        } else {
            post
        };
        WindowStats::from_tally(r.from, r.to, tally)
    })
}

async fn keep_window_sums(
    store: &Store,
    window_days: u32,
    rows: &[(Uuid, StoredWindows)],
) -> Result<(), sea_orm::DbErr> {
    let txn = store.begin_write().await?;
    cohort::store(&*txn, window_days, rows).await?;
    txn.commit().await
}
