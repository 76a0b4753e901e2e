//! The record in other media types: the diary as CSV (and its import), the whole record as a
//! FHIR R4 Bundle, and the one-page visit report as HTML (README "Export and the visit report").
//! The conversions are pure ([`crate::export`], [`crate::report`]); these handlers read the rows,
//! call the domain for every figure, and answer with the media type.

use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dates::optional_iso_date;
use super::extract::{read_body, ApiQuery, PatientPath, TreatmentPath};
use super::outcomes::{resolve_range, TreatmentSummaryParams};
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::{DateRange, Problems};
use crate::error::{ApiError, ApiResult};
use crate::report::{self, MAX_RANGE_REPORT_DAYS};
use crate::service::record::{self as service, ImportCounts};
use crate::service::today_in;
use crate::state::AppState;

pub const TEXT_CSV: &str = "text/csv; charset=utf-8";
pub const FHIR_JSON: &str = "application/fhir+json";
pub const TEXT_HTML: &str = "text/html; charset=utf-8";

/// `?from&to` of the CSV export: either may be omitted.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiaryCsvParams {
    /// First day (inclusive), `YYYY-MM-DD`; default: the first recorded day.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), `YYYY-MM-DD`; not before `from`; default: the last recorded day.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

/// `?from&to` of the range report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeReportParams {
    /// First day (inclusive); default: 83 days before `to` (twelve weeks in all).
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: today in the patient's time zone. At most 366 days after
    /// `from`, so that the calendar fits the page.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
}

impl DiaryCsvParams {
    /// 422 when `from` is after `to`.
    fn validate(&self) -> ApiResult<()> {
        let mut problems = Problems::new();
        if let (Some(from), Some(to)) = (self.from, self.to) {
            problems.check(from <= to, "from", "must not be after `to`");
        }
        Ok(problems.or_ok(())?)
    }
}

impl RangeReportParams {
    /// The range, by default the twelve weeks ending `today`; 422 when it is reversed or longer
    /// than a year.
    fn validate(&self, today: NaiveDate) -> ApiResult<DateRange> {
        let mut problems = Problems::new();
        let range = resolve_range(self.from, self.to, today, 84, &mut problems);
        if problems.is_empty() && range.days() > MAX_RANGE_REPORT_DAYS {
            problems.add("to", "a report spans at most 366 days from `from`");
        }
        Ok(problems.or_ok(range)?)
    }
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

impl From<ImportCounts> for DiaryImportResult {
    fn from(c: ImportCounts) -> Self {
        Self {
            created: c.created,
            replaced: c.replaced,
            unchanged: c.unchanged,
        }
    }
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
        let bytes = read_body(req, state).await?;
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
    params(PatientPath, DiaryCsvParams),
    responses((status = 200, description = "The diary as CSV", body = String, content_type = "text/csv",
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"diary.csv\"`")))))]
pub(crate) async fn export_diary_csv(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<DiaryCsvParams>,
) -> ApiResult<Response> {
    params.validate()?;
    require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let text = service::diary_csv(&state.store, patient_id, params.from, params.to).await?;
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
    params(PatientPath),
    request_body(content = String, content_type = "text/csv",
        description = "The diary in the format of `exportDiaryCsv` (UTF-8; an optional BOM is ignored)"),
    responses((status = 200, description = "Every row saved", body = DiaryImportResult)))]
pub(crate) async fn import_diary_csv(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    CsvBody(text): CsvBody,
) -> ApiResult<Json<DiaryImportResult>> {
    let patient = require_patient_access(&state, caller, patient_id, Access::PatientOnly).await?;
    let counts = service::import_diary_csv(&state.store, &patient, &text).await?;
    Ok(Json(counts.into()))
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
    params(PatientPath),
    responses((status = 200, description = "The record as a FHIR R4 Bundle", body = FhirBundle,
        content_type = "application/fhir+json")))]
pub(crate) async fn export_fhir(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
) -> ApiResult<Response> {
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let bundle = service::fhir_bundle(&state.store, &patient, Utc::now()).await?;
    let body = serde_json::to_string(&bundle).map_err(ApiError::internal)?;
    Ok(with_type(FHIR_JSON, body))
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
    params(TreatmentPath, TreatmentSummaryParams),
    responses((status = 200, description = "The visit report", body = String, content_type = "text/html",
        headers(("Content-Security-Policy" = String, description = "Forbids scripts and every external resource")))))]
pub(crate) async fn treatment_report(
    State(state): State<AppState>,
    caller: AuthUser,
    TreatmentPath {
        patient_id,
        treatment_id,
    }: TreatmentPath,
    ApiQuery(params): ApiQuery<TreatmentSummaryParams>,
) -> ApiResult<Response> {
    let (n, k) = params.validate()?;
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let html =
        service::treatment_report(&state.store, &patient, treatment_id, n, k, Utc::now()).await?;
    html_page(html)
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
    params(PatientPath, RangeReportParams),
    responses((status = 200, description = "The report", body = String, content_type = "text/html",
        headers(("Content-Security-Policy" = String, description = "Forbids scripts and every external resource")))))]
pub(crate) async fn range_report(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<RangeReportParams>,
) -> ApiResult<Response> {
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let range = params.validate(today_in(patient.timezone))?;
    let html = service::range_report(&state.store, &patient, range, Utc::now()).await?;
    html_page(html)
}
