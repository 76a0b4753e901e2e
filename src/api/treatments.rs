//! Treatment events (infusions, nerve blocks, …) recorded by the patient or a linked clinician.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiQuery, PatientPath, TreatmentPath};
use super::pagination::{paginate, PageParams};
use super::validate::{double_option, not_null};
use crate::auth::{require_patient_access, require_treatment_change, Access, AuthUser};
use crate::domain::{treatment_day, TimeZone, TreatmentDraft, TreatmentEvent, TreatmentKind};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::treatments::{self, StoredTreatment};

/// A treatment to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentInput {
    pub kind: TreatmentKind,
    /// Free text, 1–200 characters, e.g. `metoclopramide 10 mg`.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$"
    )]
    pub name: String,
    /// When it started (RFC 3339 with offset), from 2000-01-01 to a year from now. Its
    /// patient-local date is the treatment day.
    pub started_at: DateTime<Utc>,
    /// When it ended; not before `started_at`.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Amount given, ≥ 0, in `dose_unit`.
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0)]
    pub dose: Option<f64>,
    /// Unit of `dose`, e.g. `mg`, `g`, `mg/kg`, `mg/kg/h` (at most 20 characters).
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 20, pattern = "^[^\\u0000]*$")]
    pub dose_unit: Option<String>,
    /// Free text, at most 2000 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub notes: Option<String>,
    /// Adverse events observed, e.g. `dissociation` (at most 20, each at most 200 characters).
    #[serde(default)]
    #[schema(schema_with = adverse_events_schema)]
    pub adverse_events: Vec<String>,
}

/// A change to a treatment; absent fields stay as they are, `null` clears one of the optional
/// ones (`ended_at`, `dose`, `dose_unit`, `notes`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentPatch {
    /// The new kind; cannot be null.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub kind: Option<TreatmentKind>,
    /// The new name, 1–200 characters; cannot be null.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$")]
    pub name: Option<String>,
    /// The new start (RFC 3339 with offset), from 2000-01-01 to a year from now; moves the
    /// treatment day. Cannot be null.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable = false)]
    pub started_at: Option<DateTime<Utc>>,
    /// The new end, not before the (new or stored) start; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ended_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>, minimum = 0)]
    pub dose: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20, pattern = "^[^\\u0000]*$")]
    pub dose_unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "^[^\\u0000]*$")]
    pub notes: Option<Option<String>>,
    /// The new list (replaces the old one; `[]` clears it); cannot be null.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(schema_with = adverse_events_schema)]
    pub adverse_events: Option<Vec<String>>,
}

/// `adverse_events` as the server checks it: at most 20, each 1–200 characters and not blank.
fn adverse_events_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let event = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(
            crate::domain::treatment_event::MAX_ADVERSE_EVENT_CHARS,
        ))
        .pattern(Some(NOT_BLANK_PATTERN));
    ArrayBuilder::new()
        .items(event)
        .max_items(Some(crate::domain::treatment_event::MAX_ADVERSE_EVENTS))
        .description(Some(
            "Adverse events observed, e.g. `dissociation` (at most 20, each 1–200 characters, \
             not blank); in a change, the new list (`[]` clears it; null is refused).",
        ))
        .build()
}

/// A text with at least one character that is not white space (Unicode `White_Space`, what
/// `str::trim` removes) and no NUL (PostgreSQL cannot store it).
pub const NOT_BLANK_PATTERN: &str = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$";

/// A recorded treatment event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Treatment {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: TreatmentKind,
    pub name: String,
    pub started_at: DateTime<Utc>,
    /// The treatment day T: the patient-local date of `started_at` (docs/clinical-rules.md), in the patient's
    /// current time zone. Baseline and post windows are counted from it.
    pub treatment_day: NaiveDate,
    #[schema(value_type = Option<DateTime<Utc>>, required = true)]
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<f64>, required = true)]
    pub dose: Option<f64>,
    #[schema(value_type = Option<String>, required = true)]
    pub dose_unit: Option<String>,
    #[schema(value_type = Option<String>, required = true)]
    pub notes: Option<String>,
    pub adverse_events: Vec<String>,
    /// The user (patient or clinician) who recorded it.
    pub recorded_by: Uuid,
    /// The user who last changed it (`recorded_by` until it is changed).
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of treatments, ordered by `started_at`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TreatmentList {
    pub items: Vec<Treatment>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

impl From<TreatmentInput> for TreatmentDraft {
    fn from(input: TreatmentInput) -> Self {
        Self {
            kind: input.kind,
            name: input.name,
            started_at: input.started_at,
            ended_at: input.ended_at,
            dose: input.dose,
            dose_unit: input.dose_unit,
            notes: input.notes,
            adverse_events: input.adverse_events,
        }
    }
}

impl TreatmentPatch {
    /// The stored treatment with this change applied, to be checked as a whole.
    fn applied_to(self, current: TreatmentDraft) -> TreatmentDraft {
        TreatmentDraft {
            kind: self.kind.unwrap_or(current.kind),
            name: self.name.unwrap_or(current.name),
            started_at: self.started_at.unwrap_or(current.started_at),
            ended_at: self.ended_at.unwrap_or(current.ended_at),
            dose: self.dose.unwrap_or(current.dose),
            dose_unit: self.dose_unit.unwrap_or(current.dose_unit),
            notes: self.notes.unwrap_or(current.notes),
            adverse_events: self.adverse_events.unwrap_or(current.adverse_events),
        }
    }
}

impl Treatment {
    /// The response for a stored treatment; `tz` (the patient's) decides its treatment day.
    pub fn new(stored: StoredTreatment, tz: TimeZone) -> Self {
        let t = stored.event.into_fields();
        Self {
            id: stored.id.0,
            patient_id: stored.patient_id.0,
            kind: t.kind,
            name: t.name,
            treatment_day: treatment_day(t.started_at, tz.tz()),
            started_at: t.started_at,
            ended_at: t.ended_at,
            dose: t.dose,
            dose_unit: t.dose_unit,
            notes: t.notes,
            adverse_events: t.adverse_events,
            recorded_by: stored.recorded_by.0,
            updated_by: stored.updated_by.0,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("No such treatment for this patient.")
}

/// List treatments
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments", tag = "treatments", operation_id = "listTreatments",
    security(("bearer" = [])),
    params(PatientPath, PageParams),
    responses((status = 200, description = "A page of treatments", body = TreatmentList)))]
pub(crate) async fn list_treatments(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<TreatmentList>> {
    let page = page.into_request()?;
    let after = match page.after.as_deref() {
        None => None,
        Some(key) => Some(
            decode_key(key)
                .ok_or_else(|| ApiError::validation("cursor", "is not a cursor of this list"))?,
        ),
    };
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let rows = treatments::list(&state.store.db, patient_id, after, page.limit + 1).await?;
    let (items, next_cursor) = paginate(
        rows,
        page.limit,
        |t| format!("{}|{}", t.event.started_at().to_rfc3339(), t.id),
        |t| Treatment::new(t, patient.timezone),
    );
    Ok(Json(TreatmentList { items, next_cursor }))
}

fn decode_key(key: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = key.split_once('|')?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some((at, Uuid::parse_str(id).ok()?))
}

/// Record a treatment
///
/// The patient or a linked clinician records a treatment event.
#[utoipa::path(post, path = "/v1/patients/{patient_id}/treatments", tag = "treatments", operation_id = "createTreatment",
    security(("bearer" = [])),
    params(PatientPath),
    request_body = TreatmentInput,
    responses((status = 201, description = "Recorded", body = Treatment)))]
pub(crate) async fn create_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiJson(input): ApiJson<TreatmentInput>,
) -> ApiResult<(StatusCode, Json<Treatment>)> {
    let patient =
        require_patient_access(&state, caller, patient_id, Access::ReadAndRecordTreatments).await?;
    let event = TreatmentEvent::parse(input.into(), Utc::now())?;
    let txn = state.store.begin_write().await?;
    let stored = treatments::insert(&*txn, patient_id, caller.id, &event).await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Treatment::new(stored, patient.timezone)),
    ))
}

/// Get a treatment
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments/{treatment_id}", tag = "treatments", operation_id = "getTreatment",
    security(("bearer" = [])),
    params(TreatmentPath),
    responses((status = 200, description = "The treatment", body = Treatment)))]
pub(crate) async fn get_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    TreatmentPath {
        patient_id,
        treatment_id,
    }: TreatmentPath,
) -> ApiResult<Json<Treatment>> {
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let stored = treatments::get(&state.store.db, patient_id, treatment_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(Treatment::new(stored, patient.timezone)))
}

/// Change a treatment
///
/// A patient may change only the treatments they recorded (403 for a clinician's record); a
/// linked clinician any of the patient's. `updated_by` becomes the caller.
#[utoipa::path(patch, path = "/v1/patients/{patient_id}/treatments/{treatment_id}", tag = "treatments", operation_id = "updateTreatment",
    security(("bearer" = [])),
    params(TreatmentPath),
    request_body = TreatmentPatch,
    responses((status = 200, description = "The updated treatment", body = Treatment)))]
pub(crate) async fn update_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    TreatmentPath {
        patient_id,
        treatment_id,
    }: TreatmentPath,
    ApiJson(patch): ApiJson<TreatmentPatch>,
) -> ApiResult<Json<Treatment>> {
    let patient =
        require_patient_access(&state, caller, patient_id, Access::ReadAndRecordTreatments).await?;
    let txn = state.store.begin_write().await?;
    let current = treatments::get(&*txn, patient_id, treatment_id)
        .await?
        .ok_or_else(not_found)?;
    require_treatment_change(caller, current.recorded_by)?;
    let merged = patch.applied_to(current.event.into_fields());
    let event = TreatmentEvent::parse(merged, Utc::now())?;
    let stored = treatments::update(&*txn, patient_id, treatment_id, &event, caller.id).await?;
    txn.commit().await?;
    Ok(Json(Treatment::new(stored, patient.timezone)))
}

/// Delete a treatment
///
/// A patient may delete only the treatments they recorded (403 for a clinician's record); a
/// linked clinician any of the patient's.
#[utoipa::path(delete, path = "/v1/patients/{patient_id}/treatments/{treatment_id}", tag = "treatments", operation_id = "deleteTreatment",
    security(("bearer" = [])),
    params(TreatmentPath),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    TreatmentPath {
        patient_id,
        treatment_id,
    }: TreatmentPath,
) -> ApiResult<StatusCode> {
    require_patient_access(&state, caller, patient_id, Access::ReadAndRecordTreatments).await?;
    let txn = state.store.begin_write().await?;
    let current = treatments::get(&*txn, patient_id, treatment_id)
        .await?
        .ok_or_else(not_found)?;
    require_treatment_change(caller, current.recorded_by)?;
    if !treatments::delete(&*txn, patient_id, treatment_id).await? {
        return Err(not_found());
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
