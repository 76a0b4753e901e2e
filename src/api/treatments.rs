//! Treatment events (infusions, nerve blocks, …) recorded by the patient or a linked clinician.

use std::str::FromStr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{paginate, PageParams};
use super::validate::{check_required_text, check_text, double_option, Problems};
use crate::auth::{require_patient_access, require_treatment_change, Access, AuthUser};
use crate::domain::treatment_day;
use crate::error::{ApiError, ApiResult};
use crate::store::treatments::{self, TreatmentContent, TreatmentRow};
use crate::store::users::UserRow;
use crate::AppState;

pub const MAX_ADVERSE_EVENTS: usize = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_treatments, create_treatment))
        .routes(routes!(get_treatment, update_treatment, delete_treatment))
}

/// The kind of treatment event (the clinic page's infusions and blocks, and common others).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentKind {
    IvKetamine,
    IntranasalKetamine,
    IvMagnesium,
    IvDopamineAntagonist,
    IvDihydroergotamine,
    IvLidocaine,
    SphenopalatineGanglionBlock,
    StellateGanglionBlock,
    OccipitalNerveBlock,
    Onabotulinumtoxina,
    Other,
}

impl TreatmentKind {
    pub const ALL: [TreatmentKind; 11] = [
        Self::IvKetamine,
        Self::IntranasalKetamine,
        Self::IvMagnesium,
        Self::IvDopamineAntagonist,
        Self::IvDihydroergotamine,
        Self::IvLidocaine,
        Self::SphenopalatineGanglionBlock,
        Self::StellateGanglionBlock,
        Self::OccipitalNerveBlock,
        Self::Onabotulinumtoxina,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IvKetamine => "iv_ketamine",
            Self::IntranasalKetamine => "intranasal_ketamine",
            Self::IvMagnesium => "iv_magnesium",
            Self::IvDopamineAntagonist => "iv_dopamine_antagonist",
            Self::IvDihydroergotamine => "iv_dihydroergotamine",
            Self::IvLidocaine => "iv_lidocaine",
            Self::SphenopalatineGanglionBlock => "sphenopalatine_ganglion_block",
            Self::StellateGanglionBlock => "stellate_ganglion_block",
            Self::OccipitalNerveBlock => "occipital_nerve_block",
            Self::Onabotulinumtoxina => "onabotulinumtoxina",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A treatment to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentInput {
    pub kind: TreatmentKind,
    /// Free text, 1–200 characters, e.g. `metoclopramide 10 mg`.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// When it started (RFC 3339 with offset). Its patient-local date is the treatment day.
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
    #[schema(value_type = Option<String>, max_length = 20)]
    pub dose_unit: Option<String>,
    /// Free text, at most 2000 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<String>,
    /// Adverse events observed, e.g. `dissociation` (at most 20, each at most 200 characters).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub adverse_events: Vec<String>,
}

/// A change to a treatment; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentPatch {
    #[serde(default)]
    #[schema(nullable = false)]
    pub kind: Option<TreatmentKind>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub ended_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>, minimum = 0)]
    pub dose: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20)]
    pub dose_unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub adverse_events: Option<Vec<String>>,
}

/// A recorded treatment event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Treatment {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: TreatmentKind,
    pub name: String,
    pub started_at: DateTime<Utc>,
    /// The treatment day T: the patient-local date of `started_at` (DOMAIN.md), in the patient's
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

/// The patient's time zone (UTC if the stored name is somehow unknown).
pub fn patient_tz(patient: &UserRow) -> chrono_tz::Tz {
    chrono_tz::Tz::from_str(&patient.timezone).unwrap_or(chrono_tz::UTC)
}

impl Treatment {
    pub fn from_row(row: TreatmentRow, tz: chrono_tz::Tz) -> ApiResult<Self> {
        let kind = TreatmentKind::parse(&row.kind)
            .ok_or_else(|| ApiError::internal(format!("treatment {} kind", row.id)))?;
        let adverse_events: Vec<String> = serde_json::from_str(&row.adverse_events)
            .map_err(|e| ApiError::internal(format!("treatment {} adverse events: {e}", row.id)))?;
        Ok(Self {
            id: row.id,
            patient_id: row.patient_id,
            kind,
            name: row.name,
            started_at: row.started_at,
            treatment_day: treatment_day(row.started_at, tz),
            ended_at: row.ended_at,
            dose: row.dose,
            dose_unit: row.dose_unit,
            notes: row.notes,
            adverse_events,
            recorded_by: row.recorded_by,
            updated_by: row.updated_by.unwrap_or(row.recorded_by),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Checks a complete treatment and converts it for the store (also used by `demo`).
pub(crate) fn validate(input: TreatmentInput) -> ApiResult<TreatmentContent> {
    let mut p = Problems::new();
    check_required_text(&input.name, "name", 200, &mut p);
    let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
    p.check(
        earliest.is_none_or(|e| input.started_at >= e),
        "started_at",
        "must not be before 2000-01-01",
    );
    p.check(
        input.started_at <= Utc::now() + Duration::days(366),
        "started_at",
        "must not be more than a year ahead",
    );
    if let Some(ended_at) = input.ended_at {
        p.check(
            ended_at >= input.started_at,
            "ended_at",
            "must not be before started_at",
        );
    }
    if let Some(dose) = input.dose {
        p.check(
            dose.is_finite() && dose >= 0.0,
            "dose",
            "must be a number ≥ 0",
        );
    }
    check_text(input.dose_unit.as_deref(), "dose_unit", 20, &mut p);
    check_text(input.notes.as_deref(), "notes", 2000, &mut p);
    p.check(
        input.adverse_events.len() <= MAX_ADVERSE_EVENTS,
        "adverse_events",
        "at most 20 adverse events",
    );
    for (i, event) in input.adverse_events.iter().enumerate() {
        check_required_text(event, &format!("adverse_events[{i}]"), 200, &mut p);
    }
    p.finish()?;
    let adverse_events_json =
        serde_json::to_string(&input.adverse_events).map_err(ApiError::internal)?;
    Ok(TreatmentContent {
        kind: input.kind.as_str().into(),
        name: input.name.trim().to_owned(),
        // Stored at microsecond precision on every backend; answer what a later read returns.
        started_at: input.started_at.trunc_subsecs(6),
        ended_at: input.ended_at.map(|t| t.trunc_subsecs(6)),
        dose: input.dose,
        dose_unit: input.dose_unit,
        notes: input.notes,
        adverse_events_json,
    })
}

fn not_found() -> ApiError {
    ApiError::not_found("No such treatment for this patient.")
}

/// List treatments
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments", tag = "treatments", operation_id = "listTreatments",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), PageParams),
    responses((status = 200, description = "A page of treatments", body = TreatmentList)))]
async fn list_treatments(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
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
    let patient = require_patient_access(&state.store.db, caller, patient_id, Access::Read).await?;
    let tz = patient_tz(&patient);
    let rows = treatments::list(&state.store.db, patient_id, after, page.limit + 1).await?;
    let (rows, next_cursor) = paginate(
        rows,
        page.limit,
        |r| format!("{}|{}", r.started_at.to_rfc3339(), r.id),
        |r| r,
    );
    let items = rows
        .into_iter()
        .map(|r| Treatment::from_row(r, tz))
        .collect::<ApiResult<Vec<_>>>()?;
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
    params(("patient_id" = Uuid, Path, description = "The patient")),
    request_body = TreatmentInput,
    responses((status = 201, description = "Recorded", body = Treatment)))]
async fn create_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<TreatmentInput>,
) -> ApiResult<(StatusCode, Json<Treatment>)> {
    let patient = require_patient_access(
        &state.store.db,
        caller,
        patient_id,
        Access::ReadAndRecordTreatments,
    )
    .await?;
    let content = validate(input)?;
    let txn = state.store.begin_write().await?;
    let row = treatments::insert(&*txn, patient_id, caller.id, content).await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Treatment::from_row(row, patient_tz(&patient))?),
    ))
}

/// Get a treatment
#[utoipa::path(get, path = "/v1/patients/{patient_id}/treatments/{treatment_id}", tag = "treatments", operation_id = "getTreatment",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("treatment_id" = Uuid, Path, description = "The treatment")),
    responses((status = 200, description = "The treatment", body = Treatment)))]
async fn get_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, treatment_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<Treatment>> {
    let patient = require_patient_access(&state.store.db, caller, patient_id, Access::Read).await?;
    let row = treatments::get(&state.store.db, patient_id, treatment_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(Treatment::from_row(row, patient_tz(&patient))?))
}

/// Change a treatment
///
/// A patient may change only the treatments they recorded (403 for a clinician's record); a
/// linked clinician any of the patient's. `updated_by` becomes the caller.
#[utoipa::path(patch, path = "/v1/patients/{patient_id}/treatments/{treatment_id}", tag = "treatments", operation_id = "updateTreatment",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("treatment_id" = Uuid, Path, description = "The treatment")),
    request_body = TreatmentPatch,
    responses((status = 200, description = "The updated treatment", body = Treatment)))]
async fn update_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, treatment_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(patch): ApiJson<TreatmentPatch>,
) -> ApiResult<Json<Treatment>> {
    let patient = require_patient_access(
        &state.store.db,
        caller,
        patient_id,
        Access::ReadAndRecordTreatments,
    )
    .await?;
    let txn = state.store.begin_write().await?;
    let current = treatments::get(&*txn, patient_id, treatment_id)
        .await?
        .ok_or_else(not_found)?;
    require_treatment_change(caller, current.recorded_by)?;
    let current_events: Vec<String> =
        serde_json::from_str(&current.adverse_events).map_err(ApiError::internal)?;
    let merged = TreatmentInput {
        kind: match patch.kind {
            Some(k) => k,
            None => TreatmentKind::parse(&current.kind)
                .ok_or_else(|| ApiError::internal("stored treatment kind"))?,
        },
        name: patch.name.unwrap_or_else(|| current.name.clone()),
        started_at: patch.started_at.unwrap_or(current.started_at),
        ended_at: patch.ended_at.unwrap_or(current.ended_at),
        dose: patch.dose.unwrap_or(current.dose),
        dose_unit: patch.dose_unit.unwrap_or_else(|| current.dose_unit.clone()),
        notes: patch.notes.unwrap_or_else(|| current.notes.clone()),
        adverse_events: patch.adverse_events.unwrap_or(current_events),
    };
    let content = validate(merged)?;
    let row = treatments::update(&*txn, current, content, caller.id).await?;
    txn.commit().await?;
    Ok(Json(Treatment::from_row(row, patient_tz(&patient))?))
}

/// Delete a treatment
///
/// A patient may delete only the treatments they recorded (403 for a clinician's record); a
/// linked clinician any of the patient's.
#[utoipa::path(delete, path = "/v1/patients/{patient_id}/treatments/{treatment_id}", tag = "treatments", operation_id = "deleteTreatment",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"),
           ("treatment_id" = Uuid, Path, description = "The treatment")),
    responses((status = 204, description = "Deleted")))]
async fn delete_treatment(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((patient_id, treatment_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    require_patient_access(
        &state.store.db,
        caller,
        patient_id,
        Access::ReadAndRecordTreatments,
    )
    .await?;
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
