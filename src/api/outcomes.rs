//! Outcomes: the before/after comparison of a treatment, period summaries, the day calendar,
//! and the cohort over a clinician's patients (docs/clinical-rules.md). Handlers read rows with one indexed
//! range query per patient (or one per 500 patients for the cohort) and hand them to the pure
//! functions of `crate::domain`.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dates::optional_iso_date;
use super::extract::{ApiQuery, PatientPath, TreatmentPath};
use super::treatments::Treatment;
use crate::audit::AuditScope;
use crate::auth::{require_patient_access, Access, AuthUser, Role};
use crate::domain::questionnaire::QuestionnairesAround;
use crate::domain::range::add_days;
use crate::domain::{
    DateRange, DayClass, OutcomeChange, Period, Problems, TimeZone, TreatmentKind, WindowStats,
    DEFAULT_FOLLOWUP_WINDOWS, DEFAULT_WINDOW_DAYS, MAX_FOLLOWUP_WINDOWS, MAX_WINDOW_DAYS,
    MIN_WINDOW_DAYS,
};
use crate::error::ApiResult;
use crate::service::outcomes::{self, Cohort, TreatmentComparison};
use crate::service::today_in;
use crate::state::AppState;

/// The longest range a summary, calendar or cohort may span: 3 years.
pub const MAX_RANGE_DAYS: u32 = 3 * 365 + 1;

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
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: today in the patient's time zone. At most 3 years after `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
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
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: today in the patient's time zone. At most 3 years after `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
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
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// …and on or before this date; default: today (UTC). At most 3 years after `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

/// Before/after comparison of one treatment (docs/clinical-rules.md "Before and after a treatment").
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
    /// Per instrument, the latest questionnaire completed in T−90 … T−1 (`before`) and the first
    /// completed in T+1 … T+90 (`after`).
    pub questionnaires: QuestionnairesAround,
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
/// patients (docs/clinical-rules.md "Cohort").
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
    problems: &mut Problems,
) -> u32 {
    match value {
        None => default,
        Some(v) if v >= i64::from(min) && v <= i64::from(max) => v as u32,
        Some(_) => {
            problems.add(field, format!("must be between {min} and {max}"));
            default
        }
    }
}

/// `window_days`: 7–90, default 28.
fn window_days_param(value: Option<i64>, problems: &mut Problems) -> u32 {
    bounded(
        value,
        DEFAULT_WINDOW_DAYS,
        MIN_WINDOW_DAYS,
        MAX_WINDOW_DAYS,
        "window_days",
        problems,
    )
}

/// Resolves an optional `from`/`to` pair with defaults; 422 for `from` after `to` or a range
/// longer than 3 years.
pub(crate) fn resolve_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    default_to: NaiveDate,
    default_days: i64,
    problems: &mut Problems,
) -> DateRange {
    let to = to.unwrap_or(default_to);
    let from = from.unwrap_or_else(|| add_days(to, 1 - default_days));
    let range = DateRange::new(from, to);
    if from > to {
        problems.add("from", "must not be after `to`");
    } else if range.days() > MAX_RANGE_DAYS {
        problems.add(
            "to",
            "the range from `from` to `to` must span at most 3 years (1096 days)",
        );
    }
    range
}

/// [`resolve_range`] alone: 422 when the range is wrong.
fn checked_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    default_to: NaiveDate,
    default_days: i64,
) -> ApiResult<DateRange> {
    let mut problems = Problems::new();
    let range = resolve_range(from, to, default_to, default_days, &mut problems);
    problems.or_ok(())?;
    Ok(range)
}

impl TreatmentSummaryParams {
    /// `(window_days, followup_windows)`, or 422 naming each bad one.
    pub(crate) fn validate(&self) -> ApiResult<(u32, u32)> {
        let mut problems = Problems::new();
        let window_days = window_days_param(self.window_days, &mut problems);
        let followup_windows = bounded(
            self.followup_windows,
            DEFAULT_FOLLOWUP_WINDOWS,
            1,
            MAX_FOLLOWUP_WINDOWS,
            "followup_windows",
            &mut problems,
        );
        problems.or_ok(())?;
        Ok((window_days, followup_windows))
    }
}

impl CohortParams {
    /// `(window_days, range)`; the range defaults to the year ending today (UTC).
    fn validate(&self) -> ApiResult<(u32, DateRange)> {
        let mut problems = Problems::new();
        let window_days = window_days_param(self.window_days, &mut problems);
        let today = today_in(TimeZone::UTC);
        let range = resolve_range(self.from, self.to, today, 365, &mut problems);
        problems.or_ok(())?;
        Ok((window_days, range))
    }
}

impl TreatmentSummary {
    /// `tz` (the patient's) decides the treatment's `treatment_day`.
    fn new(c: TreatmentComparison, tz: TimeZone) -> Self {
        let o = c.outcome;
        Self {
            treatment: Treatment::new(c.treatment, tz),
            window_days: o.window_days,
            baseline: o.baseline,
            post: o.post,
            followup: o.followup,
            change: o.change,
            responder_50: o.responder_50,
            responder_75: o.responder_75,
            pain_responder: o.pain_responder,
            sufficient_data: o.sufficient_data,
            overlapping_treatments: c.overlapping,
            questionnaires: c.questionnaires,
        }
    }
}

impl CohortSummary {
    fn new(kind: TreatmentKind, window_days: u32, range: DateRange, cohort: Cohort) -> Self {
        let pooled = cohort.pooled;
        Self {
            kind,
            window_days,
            from: range.from,
            to: range.to,
            treatments: cohort.treatments,
            patients: cohort.patients,
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
        }
    }
}

/// Compare before and after a treatment
///
/// Baseline T−N … T−1 against post T+1 … T+N (and further follow-up windows), where T is the
/// patient-local date of the treatment's `started_at` (docs/clinical-rules.md).
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments/{treatment_id}/summary", tag = "outcomes",
    operation_id = "getTreatmentSummary",
    security(("bearer" = [])),
    params(TreatmentPath, TreatmentSummaryParams),
    responses((status = 200, description = "The before/after comparison", body = TreatmentSummary)))]
pub(crate) async fn treatment_summary(
    State(state): State<AppState>,
    caller: AuthUser,
    TreatmentPath {
        patient_id,
        treatment_id,
    }: TreatmentPath,
    ApiQuery(params): ApiQuery<TreatmentSummaryParams>,
) -> ApiResult<Json<TreatmentSummary>> {
    let (window_days, followup_windows) = params.validate()?;
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let comparison = outcomes::treatment_summary(
        &state.store,
        &patient,
        treatment_id,
        window_days,
        followup_windows,
    )
    .await?;
    Ok(Json(TreatmentSummary::new(comparison, patient.timezone)))
}

/// Summarize a date range
///
/// Window statistics of `from` … `to` and of its months, ISO weeks or 28-day blocks.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/summary", tag = "outcomes",
    operation_id = "getPatientSummary",
    security(("bearer" = [])),
    params(PatientPath, PatientSummaryParams),
    responses((status = 200, description = "Overall and per-period statistics", body = PatientSummary)))]
pub(crate) async fn patient_summary(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<PatientSummaryParams>,
) -> ApiResult<Json<PatientSummary>> {
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let range = checked_range(params.from, params.to, today_in(patient.timezone), 365)?;
    let period = params.period.unwrap_or(Period::Month);
    let (overall, periods) =
        outcomes::patient_summary(&state.store, patient_id, range, period).await?;
    Ok(Json(PatientSummary {
        from: range.from,
        to: range.to,
        period,
        overall,
        periods,
    }))
}

/// Classify each day
///
/// One `DayClass` per calendar day of `from` … `to`, recorded or not.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/days", tag = "outcomes",
    operation_id = "listDayClasses",
    security(("bearer" = [])),
    params(PatientPath, DayCalendarParams),
    responses((status = 200, description = "The calendar", body = DayCalendar)))]
pub(crate) async fn day_calendar(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<DayCalendarParams>,
) -> ApiResult<Json<DayCalendar>> {
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let range = checked_range(params.from, params.to, today_in(patient.timezone), 28)?;
    let days = outcomes::day_calendar(&state.store, patient_id, patient.timezone, range).await?;
    Ok(Json(DayCalendar {
        from: range.from,
        to: range.to,
        days,
    }))
}

/// Pool outcomes over my patients
///
/// Clinician only. Pools the before/after outcomes of every treatment of `kind` whose treatment
/// day lies in `from` … `to`, over the caller's linked patients (docs/clinical-rules.md "Cohort").
#[utoipa::path(get, path = "/v1/cohort/summary", tag = "outcomes", operation_id = "getCohortSummary",
    security(("bearer" = [])),
    params(CohortParams),
    responses((status = 200, description = "Pooled outcomes", body = CohortSummary)))]
pub(crate) async fn cohort_summary(
    State(state): State<AppState>,
    caller: AuthUser,
    audit: AuditScope,
    ApiQuery(params): ApiQuery<CohortParams>,
) -> ApiResult<Json<CohortSummary>> {
    caller.require(Role::Clinician)?;
    let _admitted = state.admit_panel_read().await?;
    let (window_days, range) = params.validate()?;
    let cohort =
        outcomes::cohort_summary(&state.store, caller.id, params.kind, window_days, range).await?;
    audit.pooled(cohort.pooled_patients.iter().copied());
    Ok(Json(CohortSummary::new(
        params.kind,
        window_days,
        range,
        cohort,
    )))
}
