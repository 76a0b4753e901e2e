//! The record in other media types: the diary as CSV (and its import), the whole record as a
//! FHIR R4 Bundle, and the one-page visit report as HTML (API.md "Export and the visit report").
//! The conversions are pure ([`crate::export`], [`crate::report`]); these handlers read the rows,
//! call the domain for every figure, and answer with the media type.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::diary::{patient_today, validate_entry, DiaryEntry};
use super::extract::{ApiPath, ApiQuery};
use super::outcomes::{
    bounded, finish, instants_around, resolve_range, window_days_param, TreatmentSummaryParams,
};
use super::treatments::{patient_tz, Treatment};
use super::validate::Problems;
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::range::add_days;
use crate::domain::{
    day_classes, overlapping_treatments, split_periods, treatment_day, treatment_outcome,
    DateRange, Period, TreatmentWindows, WindowStats, DEFAULT_FOLLOWUP_WINDOWS,
    MAX_FOLLOWUP_WINDOWS,
};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::export::{csv, fhir, QuestionnaireScore};
use crate::report::{self, QuestionnaireSides, ReportPatient, MAX_RANGE_REPORT_DAYS};
use crate::state::AppState;
use crate::store::diary::{self as diary_store, Precondition, Upserted};
use crate::store::treatments as treatment_store;
use crate::store::users::UserRow;

pub const TEXT_CSV: &str = "text/csv; charset=utf-8";
pub const FHIR_JSON: &str = "application/fhir+json";
pub const TEXT_HTML: &str = "text/html; charset=utf-8";
/// More rows than any diary holds (ten years are 3653), and safe as an SQL `LIMIT`.
const ALL_ROWS: u64 = 1_000_000;

/// `?from&to` of the CSV export: either may be omitted.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiaryCsvParams {
    /// First day (inclusive), `YYYY-MM-DD`; default: the first recorded day.
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), `YYYY-MM-DD`; not before `from`; default: the last recorded day.
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

/// `?from&to` of the range report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeReportParams {
    /// First day (inclusive); default: 83 days before `to` (twelve weeks in all).
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: today in the patient's time zone. At most 366 days after
    /// `from`, so that the calendar fits the page.
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

/// What an import did, day by day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiaryImportResult {
    /// Days that had no entry and now have one.
    #[schema(format = Int32, minimum = 0)]
    pub created: u32,
    /// Days whose entry was replaced by different content.
    #[schema(format = Int32, minimum = 0)]
    pub replaced: u32,
    /// Days whose entry already had exactly this content (nothing written, version kept).
    #[schema(format = Int32, minimum = 0)]
    pub unchanged: u32,
}

/// A FHIR R4 `Bundle` of type `collection` (documented here in outline; the resources follow
/// the FHIR R4 specification and validate against its JSON schema).
#[derive(Debug, Serialize, ToSchema)]
#[schema(title = "FhirBundle")]
pub struct FhirBundle {
    /// Always `Bundle`.
    #[serde(rename = "resourceType")]
    pub resource_type: String,
    /// Stable per patient (a UUID).
    pub id: String,
    /// Always `collection`.
    #[serde(rename = "type")]
    pub bundle_type: String,
    /// When the Bundle was made (FHIR `instant`).
    pub timestamp: String,
    /// `Patient`, then per recorded day an `Observation` and its `MedicationStatement`s, then
    /// `MedicationAdministration`/`Procedure` per treatment, then `QuestionnaireResponse`s.
    pub entry: Vec<FhirBundleEntry>,
}

/// One resource of the Bundle.
#[derive(Debug, Serialize, ToSchema)]
pub struct FhirBundleEntry {
    /// `urn:uuid:…`, stable for the same day, treatment or questionnaire.
    #[serde(rename = "fullUrl")]
    pub full_url: String,
    /// The FHIR resource (its `resourceType` says which).
    #[schema(value_type = Object)]
    pub resource: serde_json::Value,
}

/// A `text/csv` request body (UTF-8); another media type is 415.
pub struct CsvBody(pub String);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mime = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        if !mime.eq_ignore_ascii_case("text/csv") {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("Could not read the request body.".into())
            }
        })?;
        String::from_utf8(bytes.to_vec())
            .map(CsvBody)
            .map_err(|_| ApiError::validation("body", "must be UTF-8 text"))
    }
}

fn with_type(content_type: &'static str, body: String) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// The report page with a policy that lets nothing load or run.
fn html_page(body: String) -> ApiResult<Response> {
    let csp = HeaderValue::from_str(&report::content_security_policy())
        .map_err(|e| ApiError::internal(format!("report CSP header: {e}")))?;
    let mut response = with_type(TEXT_HTML, body);
    let headers = response.headers_mut();
    headers.insert(HeaderName::from_static("content-security-policy"), csp);
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

fn render_error(e: askama::Error) -> ApiError {
    ApiError::internal(format!("visit report template: {e}"))
}

/// The patient's entries in `from..=to` (either open), by date.
async fn diary_entries(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<DiaryEntry>> {
    diary_store::list_range(db, patient_id, from, to, None, ALL_ROWS)
        .await?
        .into_iter()
        .map(DiaryEntry::from_row)
        .collect()
}

/// Scored questionnaires of the patient. The questionnaire store is not part of this service
/// yet; until it is, the record has none and the report says so.
async fn questionnaires(_patient_id: Uuid) -> Vec<QuestionnaireScore> {
    Vec::new()
}

/// Export the diary as CSV
///
/// One row per recorded day, ordered by date, under the fixed header `date,peak_pain,
/// headache_hours,aura,nausea,vomiting,photophobia,phonophobia,unilateral,pulsating,
/// aggravated_by_activity,acute_medications,disability,notes` (RFC 4180, UTF-8, CRLF).
/// Booleans are `true`/`false`; an empty cell is an absent value; `acute_medications` is
/// `name|class|dose` items joined by `;` (`|dose` left out when there is none; `\`, `|` and
/// `;` inside a name or dose are written `\\`, `\|`, `\;`). A text cell that a spreadsheet would
/// run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR), or that starts with `'`, is
/// written with one leading `'`; the import removes it.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/diary.csv", tag = "diary",
    operation_id = "exportDiaryCsv",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), DiaryCsvParams),
    responses((status = 200, description = "The diary as CSV", body = String, content_type = "text/csv",
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"diary.csv\"`")))))]
pub async fn export_diary_csv(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<DiaryCsvParams>,
) -> ApiResult<Response> {
    if let (Some(from), Some(to)) = (params.from, params.to) {
        finish(if from > to {
            vec![FieldError::new("from", "must not be after `to`")]
        } else {
            vec![]
        })?;
    }
    let db = &state.store.db;
    require_patient_access(db, caller, patient_id, Access::Read).await?;
    let entries = diary_entries(db, patient_id, params.from, params.to).await?;
    let text = csv::write_diary(&entries).map_err(ApiError::internal)?;
    let mut response = with_type(TEXT_CSV, text);
    response.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"diary.csv\""),
    );
    Ok(response)
}

/// Import diary days from CSV
///
/// Patient only. Takes a file in the export's format (`text/csv`, the same header) and saves
/// every row as that day's entry, all or nothing: when any row is invalid, 422 lists each
/// problem as `line N: field` (the header is line 1) and nothing is written. Rows obey the
/// diary's rules; a day may appear once; at most 3660 rows. A day that already has exactly
/// this content is left as it is.
#[utoipa::path(post, path = "/v1/patients/{patient_id}/diary/import", tag = "diary",
    operation_id = "importDiaryCsv",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient")),
    request_body(content = String, content_type = "text/csv",
        description = "The diary in the format of `exportDiaryCsv` (UTF-8; an optional BOM is ignored)"),
    responses((status = 200, description = "Every row saved", body = DiaryImportResult)))]
pub async fn import_diary_csv(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    CsvBody(text): CsvBody,
) -> ApiResult<Json<DiaryImportResult>> {
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::PatientOnly).await?;
    let days = csv::read_diary(&text).map_err(ApiError::Validation)?;
    let today = patient_today(&patient);
    let mut problems = Problems::new();
    let contents: Vec<_> = days
        .into_iter()
        .filter_map(|d| {
            let prefix = format!("line {}: ", d.line);
            validate_entry(d.date, d.entry, today, &prefix, &mut problems).map(|c| (d.date, c))
        })
        .collect();
    problems.finish()?;
    let txn = state.store.begin_write().await?;
    let mut result = DiaryImportResult {
        created: 0,
        replaced: 0,
        unchanged: 0,
    };
    for (date, content) in contents {
        let (_, outcome) =
            diary_store::upsert(&*txn, patient_id, date, content, Precondition::None)
                .await
                .map_err(|e| ApiError::internal(format!("diary import: {e}")))?;
        match outcome {
            Upserted::Created => result.created += 1,
            Upserted::Replaced => result.replaced += 1,
            Upserted::Unchanged => result.unchanged += 1,
        }
    }
    txn.commit().await?;
    Ok(Json(result))
}

/// Export the record as FHIR R4
///
/// A FHIR R4 `Bundle` of type `collection`: the `Patient`; an `Observation` per recorded day
/// (LOINC 72514-3 pain severity 0–10 as `valueInteger`, features, hours and disability as
/// components in the service's CodeSystems); a `MedicationStatement` per acute medication; a
/// `MedicationAdministration` per infusion or injection (the `iv_*` kinds, intranasal ketamine,
/// onabotulinumtoxinA); a `Procedure` per nerve block (SNOMED CT 86169007 for a sphenopalatine
/// ganglion block) or other treatment; a `QuestionnaireResponse` per questionnaire.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/fhir", tag = "patients",
    operation_id = "exportFhirBundle",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient")),
    responses((status = 200, description = "The record as a FHIR R4 Bundle", body = FhirBundle,
        content_type = "application/fhir+json")))]
pub async fn export_fhir(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::Read).await?;
    let tz = patient_tz(&patient);
    let entries = diary_entries(db, patient_id, None, None).await?;
    let treatments = treatment_store::list(db, patient_id, None, ALL_ROWS)
        .await?
        .into_iter()
        .map(|row| Treatment::from_row(row, tz))
        .collect::<ApiResult<Vec<_>>>()?;
    let questionnaires = questionnaires(patient_id).await;
    let facts = fhir::PatientFacts {
        id: patient.id,
        display_name: patient.display_name.clone(),
        email: patient.email.clone(),
        timezone: patient.timezone.clone(),
    };
    let bundle = fhir::bundle(fhir::Record {
        patient: &facts,
        entries: &entries,
        treatments: &treatments,
        questionnaires: &questionnaires,
        generated_at: Utc::now(),
    });
    let body = serde_json::to_string(&bundle).map_err(ApiError::internal)?;
    Ok(with_type(FHIR_JSON, body))
}

fn report_patient(patient: &UserRow) -> ReportPatient<'_> {
    ReportPatient {
        name: patient.display_name.as_deref().unwrap_or(&patient.email),
        timezone: patient_tz(patient),
    }
}

/// The visit report of a treatment
///
/// A printable one-page HTML report (A4): the treatment, the baseline against the follow-up
/// windows (the figures of `getTreatmentSummary`), a calendar of the days coloured by peak pain,
/// bars of headache days per 28, the medication-overuse warning, questionnaire scores before
/// and after, overlapping treatments and data completeness. Self-contained: inline CSS and
/// SVG, no script, no external asset, and a `Content-Security-Policy` that forbids both.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments/{treatment_id}/report", tag = "outcomes",
    operation_id = "getTreatmentReport",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("treatment_id" = Uuid, Path, description = "The treatment"),
           TreatmentSummaryParams),
    responses((status = 200, description = "The visit report", body = String, content_type = "text/html",
        headers(("Content-Security-Policy" = String, description = "Forbids scripts and every external resource")))))]
pub async fn treatment_report(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, treatment_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<TreatmentSummaryParams>,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let n = window_days_param(params.window_days, &mut errors);
    let k = bounded(
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
    let html = treatment_report_page(db, &patient, treatment_id, n, k).await?;
    html_page(html)
}

/// Reads what the treatment report shows and renders it.
async fn treatment_report_page(
    db: &impl ConnectionTrait,
    patient: &UserRow,
    treatment_id: Uuid,
    window_days: u32,
    followup_windows: u32,
) -> ApiResult<String> {
    let tz = patient_tz(patient);
    let row = treatment_store::get(db, patient.id, treatment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such treatment for this patient."))?;
    let treatment = Treatment::from_row(row, tz)?;
    let day = treatment.treatment_day;
    let windows = TreatmentWindows::new(day, window_days, followup_windows);
    let read = windows.read_range();
    let records = diary_store::day_records(db, patient.id, read.from, read.to).await?;
    let (start, end) = instants_around(read);
    let mut nearby = Vec::new();
    for row in treatment_store::started_between(db, patient.id, start, end).await? {
        nearby.push(Treatment::from_row(row, tz)?);
    }
    let marks: Vec<(Uuid, NaiveDate)> = nearby.iter().map(|t| (t.id, t.treatment_day)).collect();
    let overlapping_ids = overlapping_treatments(
        day,
        windows.window_days,
        marks.iter().filter(|(id, _)| *id != treatment_id).copied(),
    );
    let overlapping: Vec<Treatment> = nearby
        .into_iter()
        .filter(|t| overlapping_ids.contains(&t.id))
        .collect();
    let outcome = treatment_outcome(&windows, &records);
    let days = day_classes(read, &records, &marks);
    let questionnaires = around_treatment(questionnaires(patient.id).await, day);
    report::render_treatment(&report::TreatmentReport {
        patient: report_patient(patient),
        treatment: &treatment,
        outcome: &outcome,
        days: &days,
        overlapping: &overlapping,
        questionnaires: &questionnaires,
        generated_at: Utc::now(),
    })
    .map_err(render_error)
}

/// Per instrument, the latest response in T−90 … T−1 and the first in T+1 … T+90.
fn around_treatment(all: Vec<QuestionnaireScore>, day: NaiveDate) -> QuestionnaireSides {
    let before_range = DateRange::new(add_days(day, -90), add_days(day, -1));
    let after_range = DateRange::new(add_days(day, 1), add_days(day, 90));
    let mut sides = QuestionnaireSides::default();
    for instrument in ["midas", "hit6"] {
        let of = |r: DateRange| {
            all.iter()
                .filter(|q| q.instrument == instrument && r.contains(q.completed_on))
                .cloned()
                .collect::<Vec<_>>()
        };
        if let Some(q) = of(before_range).into_iter().max_by_key(|q| q.completed_on) {
            sides.before.push(q);
        }
        if let Some(q) = of(after_range).into_iter().min_by_key(|q| q.completed_on) {
            sides.after.push(q);
        }
    }
    sides
}

/// The report of a date range
///
/// The same page for `from` … `to` without a treatment (at most 366 days): the range's
/// figures, bars per 28-day block from `from`, the calendar, the treatments in the range, the
/// medication-overuse warning, questionnaires and completeness. The same media type and
/// `Content-Security-Policy` as `getTreatmentReport`.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/report", tag = "outcomes",
    operation_id = "getRangeReport",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), RangeReportParams),
    responses((status = 200, description = "The report", body = String, content_type = "text/html",
        headers(("Content-Security-Policy" = String, description = "Forbids scripts and every external resource")))))]
pub async fn range_report(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<RangeReportParams>,
) -> ApiResult<Response> {
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::Read).await?;
    let mut errors = Vec::new();
    let today = patient_today(&patient);
    let range = resolve_range(params.from, params.to, today, 84, &mut errors);
    if errors.is_empty() && range.days() > MAX_RANGE_REPORT_DAYS {
        errors.push(FieldError::new(
            "to",
            "a report spans at most 366 days from `from`",
        ));
    }
    finish(errors)?;
    let html = range_report_page(db, &patient, range).await?;
    html_page(html)
}

/// Reads what the range report shows and renders it.
async fn range_report_page(
    db: &impl ConnectionTrait,
    patient: &UserRow,
    range: DateRange,
) -> ApiResult<String> {
    let tz = patient_tz(patient);
    let records = diary_store::day_records(db, patient.id, range.from, range.to).await?;
    let (start, end) = instants_around(range);
    let mut treatments = Vec::new();
    for row in treatment_store::started_between(db, patient.id, start, end).await? {
        let t = Treatment::from_row(row, tz)?;
        if range.contains(treatment_day(t.started_at, tz)) {
            treatments.push(t);
        }
    }
    let marks: Vec<(Uuid, NaiveDate)> =
        treatments.iter().map(|t| (t.id, t.treatment_day)).collect();
    let overall = WindowStats::compute(range.from, range.to, &records);
    let blocks: Vec<WindowStats> = split_periods(range, Period::Days28)
        .into_iter()
        .map(|p| WindowStats::compute(p.from, p.to, &records))
        .collect();
    let days = day_classes(range, &records, &marks);
    let in_range: Vec<QuestionnaireScore> = questionnaires(patient.id)
        .await
        .into_iter()
        .filter(|q| range.contains(q.completed_on))
        .collect();
    let questionnaires = first_and_latest(in_range);
    report::render_range(&report::RangeReport {
        patient: report_patient(patient),
        range,
        overall: &overall,
        blocks: &blocks,
        days: &days,
        treatments: &treatments,
        questionnaires: &questionnaires,
        generated_at: Utc::now(),
    })
    .map_err(render_error)
}

/// Per instrument, the first and the latest response.
fn first_and_latest(all: Vec<QuestionnaireScore>) -> QuestionnaireSides {
    let mut sides = QuestionnaireSides::default();
    for instrument in ["midas", "hit6"] {
        let of = all.iter().filter(|q| q.instrument == instrument);
        if let Some(q) = of.clone().min_by_key(|q| q.completed_on) {
            sides.before.push(q.clone());
        }
        if let Some(q) = of.max_by_key(|q| q.completed_on) {
            sides.after.push(q.clone());
        }
    }
    sides
}
