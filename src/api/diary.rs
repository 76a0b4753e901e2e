//! The headache diary: one entry per patient per calendar day (the patient's own time zone).
//! PUT is an idempotent upsert with optimistic concurrency (`version`, `ETag`, `If-Match`);
//! the batch route saves an offline app's queue all-or-nothing.

use std::collections::HashSet;
use std::str::FromStr;

use axum::extract::State;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{paginate, PageParams};
use super::validate::{check_required_text, check_text, integral, Problems};
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::{HeadacheFeatures, MedicationClass, MedicationClassSet};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::diary::{self, DiaryContent, DiaryRow, Precondition, Upserted, WriteError};
use crate::store::users::UserRow;
use crate::AppState;

pub const MAX_MEDICATIONS: usize = 20;
pub const MAX_NOTES_CHARS: usize = 2000;
pub const MAX_BATCH_ENTRIES: usize = 400;
/// The diary starts here; earlier dates are typing mistakes.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_diary))
        .routes(routes!(
            get_diary_entry,
            upsert_diary_entry,
            delete_diary_entry
        ))
        .routes(routes!(batch_upsert_diary))
}

/// How much the headache limited the patient's day.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Disability {
    None,
    Mild,
    Moderate,
    Severe,
}

impl Disability {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Mild => "mild",
            Self::Moderate => "moderate",
            Self::Severe => "severe",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "mild" => Some(Self::Mild),
            "moderate" => Some(Self::Moderate),
            "severe" => Some(Self::Severe),
            _ => None,
        }
    }
}

/// An acute (rescue) medication taken that day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AcuteMedication {
    /// What was taken, e.g. `sumatriptan` (1–100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Drug class; `triptan`, `ergot`, `gepant` and `ditan` make a migraine-specific medication day.
    pub class: MedicationClass,
    /// Free-text dose, e.g. `50 mg` (at most 50 characters).
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 50)]
    pub dose: Option<String>,
}

/// What the patient reports for one day.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiaryEntryInput {
    /// Worst pain of the day, 0–10; 0 means no headache that day.
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0, maximum = 10)]
    pub peak_pain: i64,
    /// Total hours with headache that day, 0–24; must be absent or 0 when `peak_pain` is 0.
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 24)]
    pub headache_hours: Option<f64>,
    /// Symptoms; an absent feature is false.
    #[serde(default)]
    pub features: HeadacheFeatures,
    /// Acute medications taken that day (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub acute_medications: Vec<AcuteMedication>,
    /// How much the headache limited the day; omit when not recorded.
    #[serde(default)]
    #[schema(nullable = false)]
    pub disability: Option<Disability>,
    /// Free text, at most 2000 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<String>,
}

/// A diary entry with its date, as the batch route takes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatedDiaryEntryInput {
    /// The patient-local calendar day (`YYYY-MM-DD`), not after today and not before 2000-01-01.
    pub date: NaiveDate,
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0, maximum = 10)]
    pub peak_pain: i64,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 24)]
    pub headache_hours: Option<f64>,
    #[serde(default)]
    pub features: HeadacheFeatures,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub acute_medications: Vec<AcuteMedication>,
    /// How much the headache limited the day; omit when not recorded.
    #[serde(default)]
    #[schema(nullable = false)]
    pub disability: Option<Disability>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<String>,
}

impl DatedDiaryEntryInput {
    fn split(self) -> (NaiveDate, DiaryEntryInput) {
        (
            self.date,
            DiaryEntryInput {
                peak_pain: self.peak_pain,
                headache_hours: self.headache_hours,
                features: self.features,
                acute_medications: self.acute_medications,
                disability: self.disability,
                notes: self.notes,
            },
        )
    }
}

/// A saved diary day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiaryEntry {
    pub patient_id: Uuid,
    /// The patient-local calendar day.
    pub date: NaiveDate,
    /// Worst pain of the day, 0–10.
    pub peak_pain: u8,
    /// Hours with headache, 0–24; null when not recorded.
    #[schema(value_type = Option<f64>, required = true)]
    pub headache_hours: Option<f64>,
    pub features: HeadacheFeatures,
    pub acute_medications: Vec<AcuteMedication>,
    /// How much the headache limited the day; omitted when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub disability: Option<Disability>,
    #[schema(value_type = Option<String>, required = true)]
    pub notes: Option<String>,
    /// 1 when created, +1 on each change; the `ETag` is this number in quotes.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of diary entries, ordered by date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiaryEntryList {
    pub items: Vec<DiaryEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

/// Days to save in one transaction (an offline app's queue).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiaryBatchRequest {
    /// 1–400 entries with distinct dates.
    #[schema(min_items = 1, max_items = 400)]
    pub entries: Vec<DatedDiaryEntryInput>,
}

/// The saved entries, in the order sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DiaryBatchResult {
    pub items: Vec<DiaryEntry>,
}

/// `?from&to`: an inclusive range of patient-local dates; either may be omitted.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiaryRangeParams {
    /// First day (inclusive), `YYYY-MM-DD`.
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), `YYYY-MM-DD`; not before `from`.
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(nullable = false, max_length = 512)]
    pub cursor: Option<String>,
}

/// Today in the patient's time zone.
pub fn patient_today(patient: &UserRow) -> NaiveDate {
    match chrono_tz::Tz::from_str(&patient.timezone) {
        Ok(tz) => Utc::now().with_timezone(&tz).date_naive(),
        Err(_) => Utc::now().date_naive(),
    }
}

/// Checks DiaryEntry's rules (API.md) and converts to stored content (also used by `demo`,
/// so generated diaries obey exactly the rules the API enforces).
pub(crate) fn validate_entry(
    date: NaiveDate,
    entry: DiaryEntryInput,
    today: NaiveDate,
    prefix: &str,
    problems: &mut Problems,
) -> Option<DiaryContent> {
    let field = |name: &str| format!("{prefix}{name}");
    let before = problems.0.len();
    problems.check(
        date <= today,
        field("date"),
        "must not be later than today in the patient's time zone",
    );
    problems.check(
        date >= EARLIEST_DATE,
        field("date"),
        "must not be before 2000-01-01",
    );
    problems.check(
        (0..=10).contains(&entry.peak_pain),
        field("peak_pain"),
        "must be an integer from 0 to 10",
    );
    if let Some(hours) = entry.headache_hours {
        problems.check(
            hours.is_finite() && (0.0..=24.0).contains(&hours),
            field("headache_hours"),
            "must be a number from 0 to 24",
        );
        problems.check(
            !(hours > 0.0 && entry.peak_pain == 0),
            field("headache_hours"),
            "must be 0 or absent when peak_pain is 0",
        );
    }
    problems.check(
        entry.acute_medications.len() <= MAX_MEDICATIONS,
        field("acute_medications"),
        "at most 20 medications per day",
    );
    for (i, med) in entry.acute_medications.iter().enumerate() {
        check_required_text(
            &med.name,
            &field(&format!("acute_medications[{i}].name")),
            100,
            problems,
        );
        check_text(
            med.dose.as_deref(),
            &field(&format!("acute_medications[{i}].dose")),
            50,
            problems,
        );
    }
    check_text(
        entry.notes.as_deref(),
        &field("notes"),
        MAX_NOTES_CHARS,
        problems,
    );
    if problems.0.len() > before {
        return None;
    }
    let classes: MedicationClassSet = entry.acute_medications.iter().map(|m| m.class).collect();
    let acute_medications_json = serde_json::to_string(&entry.acute_medications).ok()?;
    Some(DiaryContent {
        peak_pain: entry.peak_pain as i16,
        headache_hours: entry.headache_hours,
        feature_flags: i32::from(entry.features.to_bits()),
        medication_class_flags: i32::from(classes.bits()),
        acute_medications_json,
        disability: entry.disability.map(|d| d.as_str().to_owned()),
        notes: entry.notes,
    })
}

impl DiaryEntry {
    pub fn from_row(row: DiaryRow) -> ApiResult<Self> {
        let acute_medications: Vec<AcuteMedication> = serde_json::from_str(&row.acute_medications)
            .map_err(|e| ApiError::internal(format!("diary entry {} medications: {e}", row.id)))?;
        Ok(Self {
            patient_id: row.patient_id,
            date: row.entry_date,
            peak_pain: u8::try_from(row.peak_pain).unwrap_or(0),
            headache_hours: row.headache_hours,
            features: HeadacheFeatures::from_bits(u16::try_from(row.feature_flags).unwrap_or(0)),
            acute_medications,
            disability: row.disability.as_deref().and_then(Disability::parse),
            notes: row.notes,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn etag(version: i32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn with_etag(status: StatusCode, entry: DiaryEntry) -> Response {
    let tag = etag(entry.version);
    let mut response = (status, Json(entry)).into_response();
    response.headers_mut().insert(ETAG, tag);
    response
}

/// Reads `If-Match`: `*`, `"N"` or `W/"N"`. Anything else can never match → 412.
fn precondition(headers: &HeaderMap) -> ApiResult<Precondition> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(Precondition::None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(Precondition::Exists);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    bare.parse::<i32>()
        .map(Precondition::Version)
        .map_err(|_| ApiError::PreconditionFailed("If-Match does not match any version.".into()))
}

fn parse_path_date(raw: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| ApiError::validation("date", "must be a calendar date `YYYY-MM-DD`"))
}

fn write_error(err: WriteError) -> ApiError {
    match err {
        WriteError::PreconditionFailed => ApiError::PreconditionFailed(
            "The entry has changed (or does not exist); fetch it and retry with its ETag.".into(),
        ),
        WriteError::Db(e) => e.into(),
    }
}

/// List diary entries
///
/// Entries in `from`…`to` (inclusive, either optional) ordered by date, paginated.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/diary", tag = "diary", operation_id = "listDiaryEntries",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), DiaryRangeParams),
    responses((status = 200, description = "A page of entries", body = DiaryEntryList)))]
async fn list_diary(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<DiaryRangeParams>,
) -> ApiResult<Json<DiaryEntryList>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    }
    .validate(&mut errors);
    if let (Some(from), Some(to)) = (params.from, params.to) {
        if from > to {
            errors.push(FieldError::new("from", "must not be after `to`"));
        }
    }
    let after = match page.after.as_deref() {
        None => None,
        Some(key) => match NaiveDate::parse_from_str(key, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new("cursor", "is not a cursor of this list"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    require_patient_access(&state.store.db, caller, patient_id, Access::Read).await?;
    let rows = diary::list_range(
        &state.store.db,
        patient_id,
        params.from,
        params.to,
        after,
        page.limit + 1,
    )
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    let (rows, next_cursor) = paginate(
        rows,
        page.limit,
        |r| r.entry_date.format("%Y-%m-%d").to_string(),
        |r| r,
    );
    for row in rows {
        items.push(DiaryEntry::from_row(row)?);
    }
    Ok(Json(DiaryEntryList { items, next_cursor }))
}

/// Get a diary day
#[utoipa::path(get, path = "/v1/patients/{patient_id}/diary/{date}", tag = "diary", operation_id = "getDiaryEntry",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("date" = NaiveDate, Path, description = "Patient-local day, `YYYY-MM-DD`")),
    responses((status = 200, description = "The entry", body = DiaryEntry,
        headers(("ETag" = String, description = "The entry's version, quoted")))))]
async fn get_diary_entry(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, date)): ApiPath<(Uuid, String)>,
) -> ApiResult<Response> {
    let date = parse_path_date(&date)?;
    require_patient_access(&state.store.db, caller, patient_id, Access::Read).await?;
    let row = diary::get(&state.store.db, patient_id, date)
        .await?
        .ok_or_else(|| ApiError::not_found("No diary entry for this day."))?;
    Ok(with_etag(StatusCode::OK, DiaryEntry::from_row(row)?))
}

/// Save a diary day
///
/// Patient only. Creates (201) or replaces (200) the entry of that day. Saving the same content
/// again changes nothing (200, same version). With `If-Match: "N"` the write happens only if the
/// stored version is N (`*`: only if an entry exists); otherwise 412.
#[utoipa::path(put, path = "/v1/patients/{patient_id}/diary/{date}", tag = "diary", operation_id = "upsertDiaryEntry",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("date" = NaiveDate, Path, description = "Patient-local day, `YYYY-MM-DD`"),
           ("If-Match" = Option<String>, Header, nullable = false, description = "`\"N\"` to save only over version N; `*` only over an existing entry")),
    request_body = DiaryEntryInput,
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = DiaryEntry,
            headers(("ETag" = String, description = "The entry's version, quoted"))),
        (status = 201, description = "Created", body = DiaryEntry,
            headers(("ETag" = String, description = "The entry's version, quoted")))))]
async fn upsert_diary_entry(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, date)): ApiPath<(Uuid, String)>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DiaryEntryInput>,
) -> ApiResult<Response> {
    let patient =
        require_patient_access(&state.store.db, caller, patient_id, Access::PatientOnly).await?;
    let date = parse_path_date(&date)?;
    let condition = precondition(&headers)?;
    let mut problems = Problems::new();
    let content = validate_entry(date, input, patient_today(&patient), "", &mut problems);
    problems.finish()?;
    let content = content.ok_or_else(|| ApiError::internal("entry content not serializable"))?;
    let txn = state.store.begin_write().await?;
    let (row, outcome) = diary::upsert(&*txn, patient_id, date, content, condition)
        .await
        .map_err(write_error)?;
    txn.commit().await?;
    let status = match outcome {
        Upserted::Created => StatusCode::CREATED,
        Upserted::Replaced | Upserted::Unchanged => StatusCode::OK,
    };
    Ok(with_etag(status, DiaryEntry::from_row(row)?))
}

/// Delete a diary day
///
/// Patient only. The day becomes missing (not headache-free). Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/patients/{patient_id}/diary/{date}", tag = "diary", operation_id = "deleteDiaryEntry",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("date" = NaiveDate, Path, description = "Patient-local day, `YYYY-MM-DD`"),
           ("If-Match" = Option<String>, Header, nullable = false, description = "`\"N\"` to delete only version N")),
    responses((status = 204, description = "Deleted")))]
async fn delete_diary_entry(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, date)): ApiPath<(Uuid, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    require_patient_access(&state.store.db, caller, patient_id, Access::PatientOnly).await?;
    let date = parse_path_date(&date)?;
    let condition = precondition(&headers)?;
    let txn = state.store.begin_write().await?;
    let deleted = diary::delete(&*txn, patient_id, date, condition)
        .await
        .map_err(write_error)?;
    if !deleted {
        return Err(ApiError::not_found("No diary entry for this day."));
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Save many diary days
///
/// Patient only. Upserts up to 400 entries with distinct dates in one transaction: either every
/// entry is saved or, when any is invalid (422 naming `entries[i].field`), none is.
#[utoipa::path(post, path = "/v1/patients/{patient_id}/diary/batch", tag = "diary", operation_id = "batchUpsertDiaryEntries",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient")),
    request_body = DiaryBatchRequest,
    responses((status = 200, description = "All entries saved", body = DiaryBatchResult)))]
async fn batch_upsert_diary(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<DiaryBatchRequest>,
) -> ApiResult<Json<DiaryBatchResult>> {
    let patient =
        require_patient_access(&state.store.db, caller, patient_id, Access::PatientOnly).await?;
    let mut problems = Problems::new();
    problems.check(
        !req.entries.is_empty() && req.entries.len() <= MAX_BATCH_ENTRIES,
        "entries",
        "must hold 1 to 400 entries",
    );
    problems.finish()?;
    let today = patient_today(&patient);
    let mut problems = Problems::new();
    let mut seen = HashSet::new();
    let mut contents = Vec::with_capacity(req.entries.len());
    for (i, entry) in req.entries.into_iter().enumerate() {
        let (date, input) = entry.split();
        if !seen.insert(date) {
            problems.add(format!("entries[{i}].date"), "appears twice in the batch");
        }
        let prefix = format!("entries[{i}].");
        if let Some(content) = validate_entry(date, input, today, &prefix, &mut problems) {
            contents.push((date, content));
        }
    }
    problems.finish()?;
    let txn = state.store.begin_write().await?;
    let mut rows = Vec::with_capacity(contents.len());
    for (date, content) in contents {
        let (row, _) = diary::upsert(&*txn, patient_id, date, content, Precondition::None)
            .await
            .map_err(write_error)?;
        rows.push(row);
    }
    txn.commit().await?;
    let items = rows
        .into_iter()
        .map(DiaryEntry::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(DiaryBatchResult { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(peak_pain: i64, hours: Option<f64>) -> DiaryEntryInput {
        DiaryEntryInput {
            peak_pain,
            headache_hours: hours,
            features: HeadacheFeatures::default(),
            acute_medications: vec![],
            disability: None,
            notes: None,
        }
    }

    fn fields(date: NaiveDate, entry: DiaryEntryInput) -> Vec<String> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let mut p = Problems::new();
        validate_entry(date, entry, today, "", &mut p);
        p.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn entry_rules_name_their_field() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert!(fields(day, input(5, Some(3.0))).is_empty());
        assert_eq!(fields(day, input(11, None)), vec!["peak_pain"]);
        assert_eq!(fields(day, input(-1, None)), vec!["peak_pain"]);
        assert_eq!(fields(day, input(0, Some(2.0))), vec!["headache_hours"]);
        assert!(fields(day, input(0, Some(0.0))).is_empty());
        assert_eq!(fields(day, input(3, Some(24.5))), vec!["headache_hours"]);
        let tomorrow = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(fields(tomorrow, input(0, None)), vec!["date"]);
        let old = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        assert_eq!(fields(old, input(0, None)), vec!["date"]);
        let mut many = input(4, None);
        many.acute_medications = (0..21)
            .map(|i| AcuteMedication {
                name: format!("m{i}"),
                class: MedicationClass::Nsaid,
                dose: None,
            })
            .collect();
        assert_eq!(fields(day, many), vec!["acute_medications"]);
    }

    #[test]
    fn if_match_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(precondition(&h).unwrap(), Precondition::None);
        h.insert(IF_MATCH, HeaderValue::from_static("\"3\""));
        assert_eq!(precondition(&h).unwrap(), Precondition::Version(3));
        h.insert(IF_MATCH, HeaderValue::from_static("W/\"4\""));
        assert_eq!(precondition(&h).unwrap(), Precondition::Version(4));
        h.insert(IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(precondition(&h).unwrap(), Precondition::Exists);
        h.insert(IF_MATCH, HeaderValue::from_static("\"abc\""));
        assert!(precondition(&h).is_err());
    }
}
