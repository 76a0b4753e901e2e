//! Data rights: a patient takes everything out (export) or deletes their account; an admin
//! deletes staff accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::User;
use super::audit::AuditEvent;
use super::care_team::LinkedClinician;
use super::diary::DiaryEntry;
use super::extract::{ApiJson, ApiPath};
use super::treatments::Treatment;
use super::{Conflict, Unauthorized};
use crate::auth::{AuthUser, Role};
use crate::domain::account::check_password_length;
use crate::domain::questionnaire::QuestionnaireResponse;
use crate::domain::{Problems, UserId};
use crate::error::{ApiError, ApiResult};
use crate::service::erasure;
use crate::service::export::{patient_record, PatientRecord};
use crate::state::AppState;

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
    /// Every questionnaire response (MIDAS, HIT-6), by completion day.
    pub questionnaires: Vec<QuestionnaireResponse>,
    /// The clinicians who may read the diary.
    pub care_team: Vec<LinkedClinician>,
    /// Logins of the account.
    pub sessions: Vec<SessionRecord>,
    /// Who else read or changed the data (the access log), oldest first.
    pub access_log: Vec<AuditEvent>,
}

impl TryFrom<PatientRecord> for PatientExport {
    type Error = ApiError;

    fn try_from(record: PatientRecord) -> ApiResult<Self> {
        let tz = record.account.timezone;
        Ok(Self {
            access_log: record
                .access_log
                .into_iter()
                .map(AuditEvent::try_from)
                .collect::<ApiResult<_>>()?,
            exported_at: crate::store::now(),
            diary: record.diary.into_iter().map(DiaryEntry::from).collect(),
            treatments: record
                .treatments
                .into_iter()
                .map(|t| Treatment::new(t, tz))
                .collect(),
            questionnaires: record.questionnaires,
            care_team: record
                .care_team
                .into_iter()
                .map(|(link, clinician)| LinkedClinician {
                    id: clinician.id.0,
                    email: clinician.email,
                    display_name: clinician.display_name,
                    linked_at: link.created_at,
                })
                .collect(),
            sessions: record
                .sessions
                .into_iter()
                .map(|s| SessionRecord {
                    id: s.id,
                    started_at: s.created_at,
                    ended_at: s.ended_at,
                })
                .collect(),
            profile: record.account.into(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    #[schema(max_length = 256)]
    pub password: String,
}

/// Export my data
///
/// Patients only: everything held about the caller as one JSON document (profile, diary,
/// treatments, questionnaires, care team, logins).
#[utoipa::path(get, path = "/v1/me/export", tag = "accounts", operation_id = "exportMyData",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's whole record", body = PatientExport)))]
pub(crate) async fn export_my_data(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<PatientExport>> {
    let patient = caller.require(Role::Patient)?;
    let record = patient_record(&state, patient.as_patient()).await?;
    Ok(Json(record.try_into()?))
}

/// Delete my account
///
/// Patients only, with their password: the account, diary (and its sync tombstones),
/// treatments, questionnaires, care-team links, reset codes and sessions are deleted in one transaction (all or nothing), and every token
/// stops working. The email may register again.
#[utoipa::path(post, path = "/v1/me/delete", tag = "accounts", operation_id = "deleteMyAccount",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "Account and data deleted"),
        (status = 401, response = Unauthorized)))]
pub(crate) async fn delete_my_account(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<DeleteAccountRequest>,
) -> ApiResult<StatusCode> {
    let mut problems = Problems::new();
    check_password_length(&req.password, "password", &mut problems);
    problems.or_ok(())?;
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
    responses((status = 204, description = "Account deleted"),
        (status = 409, response = Conflict)))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    erasure::delete_staff_account(&state, caller, UserId(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
