//! Data rights: a patient takes everything out (export) or deletes their account; an admin
//! deletes staff accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::accounts::User;
use super::care_team::LinkedClinician;
use super::diary::DiaryEntry;
use super::extract::{ApiJson, ApiPath};
use super::treatments::{patient_tz, Treatment};
use super::validate::Problems;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ApiResult};
use crate::service::erasure;
use crate::store::{care, diary, sessions, treatments, users};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_my_data))
        .routes(routes!(delete_my_account))
        .routes(routes!(delete_user))
}

/// A login of the account, as kept by the service.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionRecord {
    /// The session's id (the `sid` claim of its access tokens).
    pub id: Uuid,
    /// When the login happened.
    pub started_at: DateTime<Utc>,
    /// When it ended (logout, password change or reset); null while it lasts.
    #[schema(value_type = Option<DateTime<Utc>>, required = true)]
    pub ended_at: Option<DateTime<Utc>>,
}

/// Everything the service holds about a patient, in one document.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientExport {
    /// When this document was made.
    pub exported_at: DateTime<Utc>,
    /// The account.
    pub profile: User,
    /// Every diary day, by date.
    pub diary: Vec<DiaryEntry>,
    /// Every treatment, by start.
    pub treatments: Vec<Treatment>,
    /// The clinicians who may read the diary.
    pub care_team: Vec<LinkedClinician>,
    /// Logins of the account.
    pub sessions: Vec<SessionRecord>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    #[schema(max_length = 256)]
    pub password: String,
}

/// The patient's whole record, read in one go (a diary holds at most a few thousand days).
async fn export_document(state: &AppState, patient_id: Uuid) -> ApiResult<PatientExport> {
    let db = &state.store.db;
    let account = users::find_live_by_id(db, patient_id)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized("The account of this token no longer exists.".into())
        })?;
    let tz = patient_tz(&account);
    let diary = diary::list_range(db, patient_id, None, None, None, u64::MAX >> 1)
        .await?
        .into_iter()
        .map(DiaryEntry::from_row)
        .collect::<ApiResult<_>>()?;
    let treatments = treatments::list(db, patient_id, None, u64::MAX >> 1)
        .await?
        .into_iter()
        .map(|row| Treatment::from_row(row, tz))
        .collect::<ApiResult<_>>()?;
    let care_team = care::list_clinicians(db, patient_id, None, u64::MAX >> 1)
        .await?
        .into_iter()
        .map(|(link, clinician)| LinkedClinician {
            id: clinician.id,
            email: clinician.email,
            display_name: clinician.display_name,
            linked_at: link.created_at,
        })
        .collect();
    let sessions = sessions::list_for_user(db, patient_id)
        .await?
        .into_iter()
        .map(|s| SessionRecord {
            id: s.id,
            started_at: s.created_at,
            ended_at: s.ended_at,
        })
        .collect();
    Ok(PatientExport {
        exported_at: crate::store::now(),
        profile: User::from_row(account)?,
        diary,
        treatments,
        care_team,
        sessions,
    })
}

/// Export my data
///
/// Patients only: everything held about the caller as one JSON document (profile, diary,
/// treatments, care team, logins).
#[utoipa::path(get, path = "/v1/me/export", tag = "accounts", operation_id = "exportMyData",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's whole record", body = PatientExport)))]
async fn export_my_data(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<PatientExport>> {
    let patient = caller.require(Role::Patient)?;
    Ok(Json(export_document(&state, patient.id).await?))
}

/// Delete my account
///
/// Patients only, with their password: the account, diary, treatments, care-team links,
/// reset codes and sessions are deleted in one transaction (all or nothing), and every token
/// stops working. The email may register again.
#[utoipa::path(post, path = "/v1/me/delete", tag = "accounts", operation_id = "deleteMyAccount",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "Account and data deleted")))]
async fn delete_my_account(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<DeleteAccountRequest>,
) -> ApiResult<StatusCode> {
    let mut problems = Problems::new();
    problems.check(
        req.password.chars().count() <= 256,
        "password",
        "must be at most 256 characters",
    );
    problems.finish()?;
    erasure::delete_own_account(&state, caller, req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a staff account
///
/// Admin only: deletes a clinician or admin account. Its sessions end at once, its care-team
/// links and invites go, and the treatments it recorded keep its id as `recorded_by`. A
/// patient's account is deleted only by the patient (403); an admin cannot delete their own
/// account (409).
#[utoipa::path(delete, path = "/v1/admin/users/{user_id}", tag = "admin", operation_id = "deleteUser",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The account")),
    responses((status = 204, description = "Account deleted")))]
async fn delete_user(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    erasure::delete_staff_account(&state, caller, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
