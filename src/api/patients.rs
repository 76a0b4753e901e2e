//! Patient profiles as clinicians (and the patient) see them.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiPath, ApiQuery};
use super::outcomes::last_28_days;
use super::pagination::{paginate, PageParams};
use super::treatments::{patient_tz, Treatment};
use crate::audit::AuditScope;
use crate::auth::{require_patient_access, Access, AuthUser, Role};
use crate::domain::WindowStats;
use crate::error::ApiResult;
use crate::store::users::UserRow;
use crate::store::{care, diary, treatments};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_patients))
        .routes(routes!(get_patient))
}

/// A linked patient as the clinician's list shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientListItem {
    pub patient: PatientProfile,
    /// When the patient linked the calling clinician.
    pub linked_at: DateTime<Utc>,
    /// The latest diary date the patient recorded; null when the diary is empty.
    #[schema(required = true)]
    pub last_entry_date: Option<NaiveDate>,
    /// Statistics of the 28 days ending today in the patient's time zone (DOMAIN.md `WindowStats`).
    pub last_28_days: WindowStats,
    /// The treatment with the latest `started_at`; omitted when the patient has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub latest_treatment: Option<Treatment>,
}

/// One page of the clinician's linked patients, ordered by patient id.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientList {
    pub items: Vec<PatientListItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

/// A patient's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PatientProfile {
    pub id: Uuid,
    pub email: String,
    #[schema(value_type = Option<String>, required = true)]
    pub display_name: Option<String>,
    /// IANA time zone; the patient's diary days are calendar days in it.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for PatientProfile {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            timezone: row.timezone,
            created_at: row.created_at,
        }
    }
}

/// Get a patient's profile
///
/// The patient themself or a linked clinician; anyone else gets 404.
#[utoipa::path(get, path = "/v1/patients/{patient_id}", tag = "patients", operation_id = "getPatient",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient")),
    responses((status = 200, description = "The profile", body = PatientProfile)))]
async fn get_patient(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
) -> ApiResult<Json<PatientProfile>> {
    let patient = require_patient_access(&state.store.db, caller, patient_id, Access::Read).await?;
    Ok(Json(patient.into()))
}

/// List my patients
///
/// Clinician only: linked patients with their last entry date, last-28-days statistics and
/// latest treatment. Reads a page in a fixed number of queries, whatever its size.
#[utoipa::path(get, path = "/v1/patients", tag = "patients", operation_id = "listPatients",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "A page of linked patients", body = PatientList)))]
async fn list_patients(
    State(state): State<AppState>,
    caller: AuthUser,
    audit: AuditScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<PatientList>> {
    caller.require(Role::Clinician)?;
    let _admitted = state.admit_panel_read().await?;
    let page = page.into_request()?;
    let after = page.after_id()?;
    let db = &state.store.db;
    let rows = care::list_patients(db, caller.id, after, page.limit + 1).await?;
    let (rows, next_cursor) = paginate(
        rows,
        page.limit,
        |(link, _)| link.patient_id.to_string(),
        |r| r,
    );
    let ids: Vec<Uuid> = rows.iter().map(|(link, _)| link.patient_id).collect();
    audit.pooled(ids.iter().copied());
    let windows: Vec<_> = rows
        .iter()
        .map(|(_, u)| last_28_days(patient_tz(u)))
        .collect();
    let (Some(from), Some(to)) = (
        windows.iter().map(|w| w.from).min(),
        windows.iter().map(|w| w.to).max(),
    ) else {
        return Ok(Json(PatientList {
            items: vec![],
            next_cursor,
        }));
    };
    let days = diary::day_records_for_patients(db, &ids, from, to).await?;
    let last_dates = diary::last_entry_dates(db, &ids).await?;
    let mut latest = treatments::latest_for_patients(db, &ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for ((link, user), window) in rows.into_iter().zip(windows) {
        let tz = patient_tz(&user);
        let records = days.get(&user.id).map(Vec::as_slice).unwrap_or_default();
        let latest_treatment = match latest.remove(&user.id) {
            Some(t) => Some(Treatment::from_row(t, tz)?),
            None => None,
        };
        items.push(PatientListItem {
            last_entry_date: last_dates.get(&user.id).copied(),
            last_28_days: WindowStats::compute(window.from, window.to, records),
            latest_treatment,
            linked_at: link.created_at,
            patient: user.into(),
        });
    }
    Ok(Json(PatientList { items, next_cursor }))
}
