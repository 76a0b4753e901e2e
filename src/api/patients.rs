//! Patient profiles as clinicians (and the patient) see them.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::ApiPath;
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::error::ApiResult;
use crate::store::users::UserRow;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_patient))
}

/// A patient's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PatientProfile {
    pub id: Uuid,
    pub email: String,
    #[schema(value_type = Option<String>)]
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
    let patient =
        require_patient_access(&state.store.db, caller, patient_id, Access::Read).await?;
    Ok(Json(patient.into()))
}
