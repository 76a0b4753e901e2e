//! Outcomes: the before/after comparison of a treatment, period summaries, the day calendar,
//! and the cohort over a clinician's patients (DOMAIN.md). Handlers read rows with one indexed
//! range query per patient (or one per 500 patients for the cohort) and hand them to the pure
//! functions of `crate::domain`.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::Json;
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::diary::patient_today;
use super::extract::{ApiPath, ApiQuery};
use super::treatments::{patient_tz, Treatment, TreatmentKind};
use crate::audit::AuditScope;
use crate::auth::{require_patient_access, Access, AuthUser, Role};
use crate::domain::range::add_days;
use crate::domain::{
    day_classes, overlapping_treatments, pool_outcomes, split_periods, treatment_day,
    treatment_outcome, DateRange, DayClass, OutcomeChange, Period, TreatmentWindows, WindowStats,
    DEFAULT_FOLLOWUP_WINDOWS, DEFAULT_WINDOW_DAYS, MAX_FOLLOWUP_WINDOWS, MAX_WINDOW_DAYS,
    MIN_WINDOW_DAYS,
};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::{care, diary, treatments};
use crate::AppState;

/// The longest range a summary, calendar or cohort may span: 3 years.
pub const MAX_RANGE_DAYS: u32 = 3 * 365 + 1;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(treatment_summary))
        .routes(routes!(patient_summary))
        .routes(routes!(day_calendar))
        .routes(routes!(cohort_summary))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreatmentSummaryParams {
    /// N, the days in the baseline and in each follow-up window: 7–90 (default 28).
    #[param(minimum = 7, maximum = 90, nullable = false)]
    pub window_days: Option<i64>,
    /// K, how many consecutive post windows to return in `followup`: 1–3 (default 1).
    #[param(minimum = 1, maximum = 3, nullable = false)]
    pub followup_windows: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSummaryParams {
    /// First day (inclusive); default: 364 days before `to`.
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: today in the patient's time zone. At most 3 years after `from`.
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
    /// How to split the range: `month` (default), `week` (ISO, Monday–Sunday) or `28d`.
    #[param(nullable = false)]
    pub period: Option<Period>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayCalendarParams {
    /// First day (inclusive); default: 27 days before `to`.
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: today in the patient's time zone. At most 3 years after `from`.
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CohortParams {
    /// The treatment kind to pool.
    pub kind: TreatmentKind,
    /// N, the days in the baseline and post windows: 7–90 (default 28).
    #[param(minimum = 7, maximum = 90, nullable = false)]
    pub window_days: Option<i64>,
    /// Treatments whose treatment day is on or after this date; default: 364 days before `to`.
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// …and on or before this date; default: today (UTC). At most 3 years after `from`.
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

/// Before/after comparison of one treatment (DOMAIN.md "Before and after a treatment").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreatmentSummary {
    /// The treatment compared; its `treatment_day` is T.
    pub treatment: Treatment,
    /// N, the length in days of the baseline and of each follow-up window.
    pub window_days: u32,
    /// T−N … T−1.
    pub baseline: WindowStats,
    /// T+1 … T+N (the same as `followup[0]`).
    pub post: WindowStats,
    /// `followup_windows` consecutive windows of N days after T, in order; the first is `post`.
    /// Windows reaching past today are returned as they stand (their completion shows it).
    pub followup: Vec<WindowStats>,
    /// Post minus baseline.
    pub change: OutcomeChange,
    /// Post `headache_days_per_28` ≤ 0.5 × baseline (inclusive); null unless both windows are
    /// sufficient (≥ 80 % recorded) and the baseline is > 0.
    #[schema(required = true)]
    pub responder_50: Option<bool>,
    /// Post `headache_days_per_28` ≤ 0.25 × baseline; null under the same conditions.
    #[schema(required = true)]
    pub responder_75: Option<bool>,
    /// `change.mean_peak_pain` ≤ −2; null unless both windows are sufficient and both means exist.
    #[schema(required = true)]
    pub pain_responder: Option<bool>,
    /// Both baseline and post are at least 80 % recorded.
    pub sufficient_data: bool,
    /// Other treatments of this patient whose treatment day lies in T−N … T+N. They do not change
    /// the numbers; show a warning, since their effect mixes with this one's.
    pub overlapping_treatments: Vec<Uuid>,
}

/// Statistics of a range and of its periods.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub period: Period,
    /// The whole range `from` … `to`.
    pub overall: WindowStats,
    /// The range split into calendar months, ISO weeks or 28-day blocks from `from`, each
    /// clipped to the range, in order; they cover the range exactly.
    pub periods: Vec<WindowStats>,
}

/// One entry per calendar day of the range, recorded or not (for calendars and charts).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayCalendar {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `to − from + 1` days, in date order.
    pub days: Vec<DayClass>,
}

/// Pooled before/after outcomes of one kind of treatment over the calling clinician's linked
/// patients (DOMAIN.md "Cohort").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CohortSummary {
    pub kind: TreatmentKind,
    /// N, the days in each baseline and post window.
    pub window_days: u32,
    /// Treatment days from this date…
    pub from: NaiveDate,
    /// …to this date (inclusive).
    pub to: NaiveDate,
    /// Matching treatments: of this kind, treatment day in `from` … `to`, of a linked patient.
    pub treatments: u32,
    /// Distinct patients among them.
    pub patients: u32,
    /// Treatments with both windows ≥ 80 % recorded and baseline `headache_days_per_28` > 0;
    /// every mean, median and rate below is over these.
    pub included: u32,
    /// Treatments left out because the baseline or the post window is under 80 % recorded.
    pub excluded_insufficient_data: u32,
    /// Treatments with sufficient data left out because the baseline had no headache day.
    pub excluded_no_baseline_headache: u32,
    /// Mean baseline `headache_days_per_28`; null when nothing is included.
    #[schema(required = true)]
    pub mean_baseline_headache_days_per_28: Option<f64>,
    /// Mean post `headache_days_per_28`; null when nothing is included.
    #[schema(required = true)]
    pub mean_post_headache_days_per_28: Option<f64>,
    /// Mean `change.headache_days_per_28` (negative = fewer headache days); null when nothing
    /// is included.
    #[schema(required = true)]
    pub mean_change: Option<f64>,
    /// Median `change.headache_days_per_28` (mean of the two middle values for an even count);
    /// null when nothing is included.
    #[schema(required = true)]
    pub median_change: Option<f64>,
    /// Share (0–1) of included treatments that are 50 % responders; null when nothing is included.
    #[schema(required = true)]
    pub responder_50_rate: Option<f64>,
    /// Share (0–1) of included treatments that are 75 % responders; null when nothing is included.
    #[schema(required = true)]
    pub responder_75_rate: Option<f64>,
    /// Share (0–1) of pain responders among included treatments whose `pain_responder` is not
    /// null; null when there are none.
    #[schema(required = true)]
    pub pain_responder_rate: Option<f64>,
}

/// Validates an integer parameter against an inclusive range.
fn bounded(
    value: Option<i64>,
    default: u32,
    min: u32,
    max: u32,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> u32 {
    match value {
        None => default,
        Some(v) if v >= i64::from(min) && v <= i64::from(max) => v as u32,
        Some(_) => {
            errors.push(FieldError::new(
                field,
                format!("must be between {min} and {max}"),
            ));
            default
        }
    }
}

/// `window_days`: 7–90, default 28.
fn window_days_param(value: Option<i64>, errors: &mut Vec<FieldError>) -> u32 {
    bounded(
        value,
        DEFAULT_WINDOW_DAYS,
        MIN_WINDOW_DAYS,
        MAX_WINDOW_DAYS,
        "window_days",
        errors,
    )
}

/// Resolves an optional `from`/`to` pair with defaults; 422 for `from` after `to` or a range
/// longer than 3 years.
fn resolve_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    default_to: NaiveDate,
    default_days: i64,
    errors: &mut Vec<FieldError>,
) -> DateRange {
    let to = to.unwrap_or(default_to);
    let from = from.unwrap_or_else(|| add_days(to, 1 - default_days));
    let range = DateRange::new(from, to);
    if from > to {
        errors.push(FieldError::new("from", "must not be after `to`"));
    } else if range.days() > MAX_RANGE_DAYS {
        errors.push(FieldError::new(
            "to",
            "the range from `from` to `to` must span at most 3 years (1096 days)",
        ));
    }
    range
}

fn finish(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The instants that can fall on patient-local dates `range` in any time zone (UTC−12…+14).
fn instants_around(range: DateRange) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let start = add_days(range.from, -1).and_time(NaiveTime::MIN).and_utc();
    let end = add_days(range.to, 2).and_time(NaiveTime::MIN).and_utc();
    (start, end)
}

/// Compare before and after a treatment
///
/// Baseline T−N … T−1 against post T+1 … T+N (and further follow-up windows), where T is the
/// patient-local date of the treatment's `started_at` (DOMAIN.md).
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments/{treatment_id}/summary", tag = "outcomes",
    operation_id = "getTreatmentSummary",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("treatment_id" = Uuid, Path, description = "The treatment"),
           TreatmentSummaryParams),
    responses((status = 200, description = "The before/after comparison", body = TreatmentSummary)))]
async fn treatment_summary(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, treatment_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<TreatmentSummaryParams>,
) -> ApiResult<Json<TreatmentSummary>> {
    let mut errors = Vec::new();
    let window_days = window_days_param(params.window_days, &mut errors);
    let followup_windows = bounded(
        params.followup_windows,
        DEFAULT_FOLLOWUP_WINDOWS,
        1,
        MAX_FOLLOWUP_WINDOWS,
        "followup_windows",
        &mut errors,
    );
    finish(errors)?;
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::Read).await?;
    let tz = patient_tz(&patient);
    let row = treatments::get(db, patient_id, treatment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such treatment for this patient."))?;
    let day = treatment_day(row.started_at, tz);
    let windows = TreatmentWindows::new(day, window_days, followup_windows);
    let read = windows.read_range();
    let days = diary::day_records(db, patient_id, read.from, read.to).await?;
    let around = DateRange::new(
        add_days(day, -i64::from(window_days)),
        add_days(day, i64::from(window_days)),
    );
    let (start, end) = instants_around(around);
    let others = treatments::started_between(db, patient_id, start, end).await?;
    let overlapping = overlapping_treatments(
        day,
        window_days,
        others
            .iter()
            .filter(|t| t.id != treatment_id)
            .map(|t| (t.id, treatment_day(t.started_at, tz))),
    );
    let outcome = treatment_outcome(&windows, &days);
    Ok(Json(TreatmentSummary {
        treatment: Treatment::from_row(row, tz)?,
        window_days: outcome.window_days,
        baseline: outcome.baseline,
        post: outcome.post,
        followup: outcome.followup,
        change: outcome.change,
        responder_50: outcome.responder_50,
        responder_75: outcome.responder_75,
        pain_responder: outcome.pain_responder,
        sufficient_data: outcome.sufficient_data,
        overlapping_treatments: overlapping,
    }))
}

/// Summarize a date range
///
/// Window statistics of `from` … `to` and of its months, ISO weeks or 28-day blocks.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/summary", tag = "outcomes",
    operation_id = "getPatientSummary",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), PatientSummaryParams),
    responses((status = 200, description = "Overall and per-period statistics", body = PatientSummary)))]
async fn patient_summary(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<PatientSummaryParams>,
) -> ApiResult<Json<PatientSummary>> {
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::Read).await?;
    let mut errors = Vec::new();
    let range = resolve_range(
        params.from,
        params.to,
        patient_today(&patient),
        365,
        &mut errors,
    );
    finish(errors)?;
    let period = params.period.unwrap_or(Period::Month);
    let days = diary::day_records(db, patient_id, range.from, range.to).await?;
    let periods = split_periods(range, period)
        .into_iter()
        .map(|p| WindowStats::compute(p.from, p.to, &days))
        .collect();
    Ok(Json(PatientSummary {
        from: range.from,
        to: range.to,
        period,
        overall: WindowStats::compute(range.from, range.to, &days),
        periods,
    }))
}

/// Classify each day
///
/// One `DayClass` per calendar day of `from` … `to`, recorded or not.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/days", tag = "outcomes",
    operation_id = "listDayClasses",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), DayCalendarParams),
    responses((status = 200, description = "The calendar", body = DayCalendar)))]
async fn day_calendar(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<DayCalendarParams>,
) -> ApiResult<Json<DayCalendar>> {
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::Read).await?;
    let mut errors = Vec::new();
    let range = resolve_range(
        params.from,
        params.to,
        patient_today(&patient),
        28,
        &mut errors,
    );
    finish(errors)?;
    let tz = patient_tz(&patient);
    let days = diary::day_records(db, patient_id, range.from, range.to).await?;
    let (start, end) = instants_around(range);
    let treatment_days: Vec<(Uuid, NaiveDate)> =
        treatments::started_between(db, patient_id, start, end)
            .await?
            .iter()
            .map(|t| (t.id, treatment_day(t.started_at, tz)))
            .collect();
    Ok(Json(DayCalendar {
        from: range.from,
        to: range.to,
        days: day_classes(range, &days, &treatment_days),
    }))
}

/// Pool outcomes over my patients
///
/// Clinician only. Pools the before/after outcomes of every treatment of `kind` whose treatment
/// day lies in `from` … `to`, over the caller's linked patients (DOMAIN.md "Cohort").
#[utoipa::path(get, path = "/v1/cohort/summary", tag = "outcomes", operation_id = "getCohortSummary",
    security(("bearer" = [])),
    params(CohortParams),
    responses((status = 200, description = "Pooled outcomes", body = CohortSummary)))]
async fn cohort_summary(
    State(state): State<AppState>,
    caller: AuthUser,
    audit: AuditScope,
    ApiQuery(params): ApiQuery<CohortParams>,
) -> ApiResult<Json<CohortSummary>> {
    caller.require(Role::Clinician)?;
    let _admitted = state.admit_panel_read().await?;
    let mut errors = Vec::new();
    let window_days = window_days_param(params.window_days, &mut errors);
    let range = resolve_range(
        params.from,
        params.to,
        Utc::now().date_naive(),
        365,
        &mut errors,
    );
    finish(errors)?;
    let db = &state.store.db;
    let patients = care::all_patients(db, caller.id).await?;
    let tz_of: HashMap<Uuid, chrono_tz::Tz> =
        patients.iter().map(|p| (p.id, patient_tz(p))).collect();
    let ids: Vec<Uuid> = patients.iter().map(|p| p.id).collect();
    let (start, end) = instants_around(range);
    let rows = treatments::of_kind_for_patients(db, &ids, params.kind.as_str(), start, end).await?;
    let matching: Vec<(Uuid, NaiveDate)> = rows
        .iter()
        .filter_map(|t| {
            let tz = tz_of.get(&t.patient_id)?;
            let day = treatment_day(t.started_at, *tz);
            range.contains(day).then_some((t.patient_id, day))
        })
        .collect();
    audit.pooled(matching.iter().map(|(p, _)| *p));
    let patients_treated = matching
        .iter()
        .map(|(p, _)| *p)
        .collect::<HashSet<_>>()
        .len();
    // Only the days of each treatment's baseline and post windows are read, a bounded number
    // of treatments at a time: time grows with the number of treatments, memory does not.
    let n = i64::from(window_days);
    let mut outcomes = Vec::with_capacity(matching.len());
    for chunk in matching.chunks(diary::RANGES_PER_QUERY) {
        let ranges: Vec<(Uuid, NaiveDate, NaiveDate)> = chunk
            .iter()
            .map(|(patient, day)| (*patient, add_days(*day, -n), add_days(*day, n)))
            .collect();
        let days = diary::day_records_in_ranges(db, &ranges).await?;
        outcomes.extend(chunk.iter().map(|(patient, day)| {
            let windows = TreatmentWindows::new(*day, window_days, 1);
            let records = days.get(patient).map(Vec::as_slice).unwrap_or_default();
            treatment_outcome(&windows, records)
        }));
    }
    let pooled = pool_outcomes(&outcomes);
    Ok(Json(CohortSummary {
        kind: params.kind,
        window_days,
        from: range.from,
        to: range.to,
        treatments: matching.len() as u32,
        patients: patients_treated as u32,
        included: pooled.included,
        excluded_insufficient_data: pooled.excluded_insufficient_data,
        excluded_no_baseline_headache: pooled.excluded_no_baseline_headache,
        mean_baseline_headache_days_per_28: pooled.mean_baseline_headache_days_per_28,
        mean_post_headache_days_per_28: pooled.mean_post_headache_days_per_28,
        mean_change: pooled.mean_change,
        median_change: pooled.median_change,
        responder_50_rate: pooled.responder_50_rate,
        responder_75_rate: pooled.responder_75_rate,
        pain_responder_rate: pooled.pain_responder_rate,
    }))
}

/// Today's last-28-days window for a patient in `tz`: the 28 days ending today, patient-local.
pub fn last_28_days(tz: chrono_tz::Tz) -> DateRange {
    let today = Utc::now().with_timezone(&tz).date_naive();
    DateRange::new(today - Duration::days(27), today)
}
