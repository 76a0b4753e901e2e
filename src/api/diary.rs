//! The headache diary: one entry per patient per calendar day (the patient's own time zone).
//! PUT is an idempotent upsert with optimistic concurrency (`version`, `ETag`, `If-Match`);
//! the batch route saves an offline app's queue all-or-nothing.

use axum::extract::State;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dates::{iso_date, optional_iso_date};
use super::extract::{ApiJson, ApiQuery, DiaryDayPath, PatientPath};
use super::pagination::{paginate, PageParams};
use super::validate::{integral, integral_option};
use super::PreconditionFailed;
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::sync::parse_versioned_batch;
use crate::domain::{self, AcuteMedication, Disability, EntryDraft, HeadacheFeatures, Problems};
use crate::error::{ApiError, ApiResult, Problem};
use crate::service::diary as diary_service;
use crate::service::today_in;
use crate::state::AppState;
use crate::store::diary::{self, Precondition, StoredEntry, Upserted};

/// The features of a request: [`HeadacheFeatures`] with every feature optional (absent = false).
/// Its schema is `HeadacheFeatures`' without `required`, so the two cannot drift apart; a
/// response's features are all required, so typed clients read plain booleans.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(transparent)]
pub struct HeadacheFeaturesInput(pub HeadacheFeatures);

impl utoipa::PartialSchema for HeadacheFeaturesInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::Schema;
        let mut schema = <HeadacheFeatures as utoipa::PartialSchema>::schema();
        if let utoipa::openapi::RefOr::T(Schema::Object(object)) = &mut schema {
            object.required.clear();
            object.description = Some(
                "Headache features of the day as a request gives them; an absent feature is \
                 false. They decide the ICHD-3 criteria C and D of a migraine day."
                    .into(),
            );
        }
        schema
    }
}

impl ToSchema for HeadacheFeaturesInput {}

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
    /// Symptoms; an absent feature is false, and `null` (or no `features`) means none.
    #[serde(default)]
    pub features: Option<HeadacheFeaturesInput>,
    /// Acute medications taken that day (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub acute_medications: Vec<AcuteMedication>,
    /// How much the headache limited the day; absent or `null` when not recorded.
    #[serde(default)]
    pub disability: Option<Disability>,
    /// Free text, at most 2000 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub notes: Option<String>,
}

/// A diary entry with its date, as the batch route takes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatedDiaryEntryInput {
    /// The patient-local calendar day (`YYYY-MM-DD`), not after today and not before 2000-01-01
    /// (the pattern states the year; "not after today" moves, so only this text says it).
    #[serde(deserialize_with = "iso_date")]
    #[schema(pattern = "^2[0-9]{3}-[0-9]{2}-[0-9]{2}$")]
    pub date: NaiveDate,
    #[serde(deserialize_with = "integral")]
    #[schema(minimum = 0, maximum = 10)]
    pub peak_pain: i64,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 24)]
    pub headache_hours: Option<f64>,
    /// Symptoms; an absent feature is false, and `null` (or no `features`) means none.
    #[serde(default)]
    pub features: Option<HeadacheFeaturesInput>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub acute_medications: Vec<AcuteMedication>,
    /// How much the headache limited the day; absent or `null` when not recorded.
    #[serde(default)]
    pub disability: Option<Disability>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub notes: Option<String>,
    /// Save only if the day is at this version now (0: only if the day has no entry); omit to
    /// save unconditionally. Any mismatch in the batch is 412 with `conflicts`, nothing saved.
    #[serde(default, deserialize_with = "integral_option")]
    #[schema(value_type = Option<i32>, minimum = 0, nullable = false)]
    pub if_version: Option<i64>,
}

impl From<DiaryEntryInput> for EntryDraft {
    fn from(input: DiaryEntryInput) -> Self {
        Self {
            peak_pain: input.peak_pain,
            headache_hours: input.headache_hours,
            features: input.features.unwrap_or_default().0,
            acute_medications: input.acute_medications,
            disability: input.disability,
            notes: input.notes,
        }
    }
}

impl DatedDiaryEntryInput {
    fn split(self) -> (NaiveDate, EntryDraft, Option<i64>) {
        (
            self.date,
            EntryDraft {
                peak_pain: self.peak_pain,
                headache_hours: self.headache_hours,
                features: self.features.unwrap_or_default().0,
                acute_medications: self.acute_medications,
                disability: self.disability,
                notes: self.notes,
            },
            self.if_version,
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
    #[schema(maximum = 10)]
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
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last day (inclusive), `YYYY-MM-DD`; not before `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page, as it was given (opaque, URL-safe base64); omit
    /// it, or leave it empty, for the first page. Any other value is a 422.
    #[param(nullable = false, max_length = 512, pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

impl From<StoredEntry> for DiaryEntry {
    fn from(stored: StoredEntry) -> Self {
        let peak_pain = stored.entry.peak_pain();
        let (date, e) = stored.entry.into_parts();
        Self {
            patient_id: stored.patient_id.0,
            date,
            peak_pain,
            headache_hours: e.headache_hours,
            features: e.features,
            acute_medications: e.acute_medications,
            disability: e.disability,
            notes: e.notes,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
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

/// Reads `If-Match`: `*`, `"N"` or `W/"N"` (the header's documented `pattern`). Any other value is malformed (400): it is a client
/// bug, not a version that happens not to match.
fn precondition(headers: &HeaderMap) -> ApiResult<Precondition> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(Precondition::None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(Precondition::Exists);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text);
    bare.strip_prefix('"')
        .and_then(|b| b.strip_suffix('"'))
        .filter(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<i32>().ok())
        .map(Precondition::Version)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "If-Match must be `*` or a quoted version such as `\"3\"` (the ETag).".into(),
            )
        })
}

/// The sort key of a diary page, as the cursor carries it.
fn date_key(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A checked `?from&to&limit&cursor`.
struct DiaryQuery {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<NaiveDate>,
    limit: u64,
}

impl DiaryRangeParams {
    /// 422 naming every bad parameter: `limit`, `cursor`, `from` after `to`.
    fn validate(self) -> ApiResult<DiaryQuery> {
        let mut problems = Problems::new();
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor,
        }
        .validate(&mut problems);
        if let (Some(from), Some(to)) = (self.from, self.to) {
            problems.check(from <= to, "from", "must not be after `to`");
        }
        let after = page
            .after
            .as_deref()
            .map(|key| NaiveDate::parse_from_str(key, "%Y-%m-%d"))
            .transpose()
            .unwrap_or_else(|_| {
                problems.add("cursor", "is not a cursor of this list");
                None
            });
        Ok(problems.or_ok(DiaryQuery {
            from: self.from,
            to: self.to,
            after,
            limit: page.limit,
        })?)
    }
}

/// List diary entries
///
/// Entries in `from`…`to` (inclusive, either optional) ordered by date, paginated.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/diary", tag = "diary", operation_id = "listDiaryEntries",
    security(("bearer" = [])),
    params(PatientPath, DiaryRangeParams),
    responses((status = 200, description = "A page of entries", body = DiaryEntryList)))]
pub(crate) async fn list_diary(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<DiaryRangeParams>,
) -> ApiResult<Json<DiaryEntryList>> {
    let q = params.validate()?;
    require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let db = &state.store.db;
    let rows = diary::list_range(db, patient_id, q.from, q.to, q.after, q.limit + 1).await?;
    let (items, next_cursor) = paginate(rows, q.limit, |r| date_key(r.entry.date()), |r| r.into());
    Ok(Json(DiaryEntryList { items, next_cursor }))
}

/// Get a diary day
#[utoipa::path(get, path = "/v1/patients/{patient_id}/diary/{date}", tag = "diary", operation_id = "getDiaryEntry",
    security(("bearer" = [])),
    params(DiaryDayPath),
    responses((status = 200, description = "The entry", body = DiaryEntry,
        headers(("ETag" = String, description = "The entry's version, quoted")))))]
pub(crate) async fn get_diary_entry(
    State(state): State<AppState>,
    caller: AuthUser,
    path: DiaryDayPath,
) -> ApiResult<Response> {
    let date = path.day()?;
    require_patient_access(&state, caller, path.patient_id, Access::Read).await?;
    let stored = diary::get(&state.store.db, path.patient_id, date)
        .await?
        .ok_or_else(|| ApiError::not_found("No diary entry for this day."))?;
    Ok(with_etag(StatusCode::OK, stored.into()))
}

/// Save a diary day
///
/// Patient only. Creates (201) or replaces (200) the entry of that day. Saving the same content
/// again changes nothing (200, same version). With `If-Match: "N"` the write happens only if the
/// stored version is N (`*`: only if an entry exists); otherwise 412.
#[utoipa::path(put, path = "/v1/patients/{patient_id}/diary/{date}", tag = "diary", operation_id = "upsertDiaryEntry",
    security(("bearer" = [])),
    params(DiaryDayPath,
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, description = "`\"N\"` to save only over version N; `*` only over an existing entry")),
    request_body = DiaryEntryInput,
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = DiaryEntry,
            headers(("ETag" = String, description = "The entry's version, quoted"))),
        (status = 201, description = "Created", body = DiaryEntry,
            headers(("ETag" = String, description = "The entry's version, quoted"))),
        (status = 412, response = PreconditionFailed)))]
pub(crate) async fn upsert_diary_entry(
    State(state): State<AppState>,
    caller: AuthUser,
    path: DiaryDayPath,
    headers: HeaderMap,
    ApiJson(input): ApiJson<DiaryEntryInput>,
) -> ApiResult<Response> {
    let patient =
        require_patient_access(&state, caller, path.patient_id, Access::PatientOnly).await?;
    let date = path.day()?;
    let entry = domain::DiaryEntry::parse(date, input.into(), today_in(patient.timezone))?;
    // After the body: an invalid body is 422 whatever the header says.
    let condition = precondition(&headers)?;
    let (stored, outcome) =
        diary_service::save(&state.store, path.patient_id, &entry, condition).await?;
    let status = match outcome {
        Upserted::Created => StatusCode::CREATED,
        Upserted::Replaced | Upserted::Unchanged => StatusCode::OK,
    };
    Ok(with_etag(status, stored.into()))
}

/// Delete a diary day
///
/// Patient only. The day becomes missing (not headache-free). Honours `If-Match`.
#[utoipa::path(delete, path = "/v1/patients/{patient_id}/diary/{date}", tag = "diary", operation_id = "deleteDiaryEntry",
    security(("bearer" = [])),
    params(DiaryDayPath,
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[0-9]{1,9}")$"#, description = "`\"N\"` to delete only version N")),
    responses((status = 204, description = "Deleted"),
        (status = 412, response = PreconditionFailed)))]
pub(crate) async fn delete_diary_entry(
    State(state): State<AppState>,
    caller: AuthUser,
    path: DiaryDayPath,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    require_patient_access(&state, caller, path.patient_id, Access::PatientOnly).await?;
    let date = path.day()?;
    let condition = precondition(&headers)?;
    diary_service::delete(&state.store, path.patient_id, date, condition).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Save many diary days
///
/// Patient only. Upserts up to 400 entries with distinct dates in one transaction: either every
/// entry is saved or, when any is invalid (422 naming `entries[i].field`), none is. An entry
/// with `if_version` is saved only over that version (0: only where the day has no entry); any
/// mismatch answers 412 listing every conflicting day in `conflicts`, and nothing is saved.
#[utoipa::path(post, path = "/v1/patients/{patient_id}/diary/batch", tag = "diary", operation_id = "batchUpsertDiaryEntries",
    security(("bearer" = [])),
    params(PatientPath),
    request_body = DiaryBatchRequest,
    responses((status = 200, description = "All entries saved", body = DiaryBatchResult),
        (status = 412, description = "Some `if_version` did not hold; `conflicts` lists each day with its current version. Nothing was saved.", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn batch_upsert_diary(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiJson(req): ApiJson<DiaryBatchRequest>,
) -> ApiResult<Json<DiaryBatchResult>> {
    let patient = require_patient_access(&state, caller, patient_id, Access::PatientOnly).await?;
    let days = req
        .entries
        .into_iter()
        .map(DatedDiaryEntryInput::split)
        .collect();
    let days = parse_versioned_batch(days, today_in(patient.timezone))?;
    let saved = diary_service::save_all(&state.store, patient_id, &days).await?;
    let items = saved.into_iter().map(DiaryEntry::from).collect();
    Ok(Json(DiaryBatchResult { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["\"abc\"", "", "3", "\"\"", "\"1234567890\"", "W/3"] {
            h.insert(IF_MATCH, HeaderValue::from_static(bad));
            assert!(
                matches!(precondition(&h), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
