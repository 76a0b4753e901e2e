//! The care team: a clinician hands a patient a single-use invite code; the patient redeems it
//! to link that clinician, and can unlink at any time (access ends at once).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{paginate, PageParams};
use super::Conflict;
use crate::auth::sessions::SessionChange;
use crate::auth::{AuthUser, Role};
use crate::domain::UserId;
use crate::error::{ApiError, ApiResult};
use crate::service::care_team;
use crate::service::sessions::commit_announced;
use crate::state::AppState;
use crate::store::care;
use crate::store::users::Account;

/// A single-use code that links the patient who redeems it to the clinician who made it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CareInvite {
    /// 12 characters shown as `XXXX-XXXX-XXXX`; case and dashes are ignored on redemption.
    pub code: String,
    /// After this instant the code no longer works (7 days after creation).
    pub expires_at: DateTime<Utc>,
}

/// A clinician linked to the calling patient.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkedClinician {
    pub id: Uuid,
    pub email: String,
    #[schema(value_type = Option<String>, required = true)]
    pub display_name: Option<String>,
    /// When the patient linked this clinician.
    pub linked_at: DateTime<Utc>,
}

/// One page of the patient's clinicians, ordered by id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkedClinicianList {
    pub items: Vec<LinkedClinician>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

/// Invite codes are 12 characters (14 with dashes); a longer string is junk.
pub const MAX_CODE_CHARS: usize = 64;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemInviteRequest {
    /// The invite code the clinician gave the patient (`ABCD-EFGH-JKMN`; case, dashes and
    /// spaces do not matter). An unknown or expired code is a 422 naming `code`.
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
}

fn clinician(link_at: DateTime<Utc>, user: Account) -> LinkedClinician {
    LinkedClinician {
        id: user.id.0,
        email: user.email,
        display_name: user.display_name,
        linked_at: link_at,
    }
}

/// Create a care invite
///
/// Clinician only. Hand the code to a patient; it works once, for 7 days.
#[utoipa::path(post, path = "/v1/care-invites", tag = "care team", operation_id = "createCareInvite",
    security(("bearer" = [])),
    responses((status = 201, description = "Invite created", body = CareInvite)))]
pub(crate) async fn create_invite(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<(StatusCode, Json<CareInvite>)> {
    caller.require(Role::Clinician)?;
    let (code, expires_at) = care_team::create_invite(&state.store, caller.id).await?;
    Ok((StatusCode::CREATED, Json(CareInvite { code, expires_at })))
}

/// List my clinicians
///
/// Patient only: the clinicians who can read the caller's diary.
#[utoipa::path(get, path = "/v1/me/clinicians", tag = "care team", operation_id = "listMyClinicians",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "Linked clinicians", body = LinkedClinicianList)))]
pub(crate) async fn list_my_clinicians(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<LinkedClinicianList>> {
    caller.require(Role::Patient)?;
    let page = page.into_request()?;
    let after = page.after_id()?;
    let me = caller.as_patient();
    let rows = care::list_clinicians(&state.store.db, me, after, page.limit + 1).await?;
    let (items, next_cursor) = paginate(
        rows,
        page.limit,
        |(link, _)| link.clinician_id.to_string(),
        |(link, user)| clinician(link.created_at, user),
    );
    Ok(Json(LinkedClinicianList { items, next_cursor }))
}

/// Link a clinician
///
/// Patient only: redeems an invite code, giving its clinician read access to the caller's diary.
/// 422 when the code is unknown or expired; 409 when it was used already or that clinician is
/// linked already.
#[utoipa::path(post, path = "/v1/me/clinicians", tag = "care team", operation_id = "linkClinician",
    security(("bearer" = [])),
    request_body = RedeemInviteRequest,
    responses((status = 201, description = "Clinician linked", body = LinkedClinician),
        (status = 409, response = Conflict)))]
pub(crate) async fn link_clinician(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<RedeemInviteRequest>,
) -> ApiResult<(StatusCode, Json<LinkedClinician>)> {
    caller.require(Role::Patient)?;
    if req.code.len() > MAX_CODE_CHARS {
        return Err(ApiError::validation(
            "code",
            format!("must be at most {MAX_CODE_CHARS} characters"),
        ));
    }
    let (link, account) =
        care_team::link_clinician(&state.store, caller.as_patient(), &req.code).await?;
    Ok((
        StatusCode::CREATED,
        Json(clinician(link.created_at, account)),
    ))
}

/// Unlink a clinician
///
/// Patient only: the clinician loses access at once.
#[utoipa::path(delete, path = "/v1/me/clinicians/{clinician_id}", tag = "care team",
    operation_id = "unlinkClinician",
    security(("bearer" = [])),
    params(("clinician_id" = Uuid, Path, description = "A linked clinician's id")),
    responses((status = 204, description = "Unlinked")))]
pub(crate) async fn unlink_clinician(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(clinician_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Patient)?;
    let txn = state.store.begin_write().await?;
    if !care::unlink(&*txn, caller.as_patient(), UserId(clinician_id)).await? {
        return Err(ApiError::not_found("No such linked clinician."));
    }
    // Every instance forgets the link before this answers.
    let change = SessionChange::Unlinked {
        patient: caller.id.0,
        clinician: clinician_id,
    };
    commit_announced(&state, txn, change).await?;
    Ok(StatusCode::NO_CONTENT)
}
