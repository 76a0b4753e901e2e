//! The care team: a clinician hands a patient a single-use invite code; the patient redeems it
//! to link that clinician, and can unlink at any time (access ends at once).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{paginate, PageParams};
use crate::auth::tokens::digest;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ApiResult};
use crate::store::users::{self, UserRow};
use crate::store::{care, is_unique_violation};
use crate::AppState;

pub const INVITE_VALID_DAYS: i64 = 7;
/// Crockford-style alphabet without look-alikes (no 0/O, 1/I/L), easy to read out and type.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 12;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invite))
        .routes(routes!(list_my_clinicians, link_clinician))
        .routes(routes!(unlink_clinician))
}

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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemInviteRequest {
    /// The invite code the clinician gave the patient.
    #[schema(max_length = 64)]
    pub code: String,
}

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

/// Upper-cases and drops dashes and spaces, so `abcd efgh-jkmn` equals `ABCD-EFGH-JKMN`.
fn canonical_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

fn clinician(link_at: DateTime<Utc>, user: UserRow) -> LinkedClinician {
    LinkedClinician {
        id: user.id,
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
async fn create_invite(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<(StatusCode, Json<CareInvite>)> {
    caller.require(Role::Clinician)?;
    let code = new_code();
    let expires_at = crate::store::now() + Duration::days(INVITE_VALID_DAYS);
    let txn = state.store.begin_write().await?;
    care::create_invite(&*txn, caller.id, digest(&canonical_code(&code)), expires_at).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(CareInvite { code, expires_at })))
}

/// List my clinicians
///
/// Patient only: the clinicians who can read the caller's diary.
#[utoipa::path(get, path = "/v1/me/clinicians", tag = "care team", operation_id = "listMyClinicians",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "Linked clinicians", body = LinkedClinicianList)))]
async fn list_my_clinicians(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<LinkedClinicianList>> {
    caller.require(Role::Patient)?;
    let page = page.into_request()?;
    let after = page.after_id()?;
    let rows = care::list_clinicians(&state.store.db, caller.id, after, page.limit + 1).await?;
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
    responses((status = 201, description = "Clinician linked", body = LinkedClinician)))]
async fn link_clinician(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<RedeemInviteRequest>,
) -> ApiResult<(StatusCode, Json<LinkedClinician>)> {
    caller.require(Role::Patient)?;
    if req.code.len() > 64 {
        return Err(ApiError::validation(
            "code",
            "must be at most 64 characters",
        ));
    }
    let code_hash = digest(&canonical_code(&req.code));
    let txn = state.store.begin_write().await?;
    let invite = care::find_invite(&*txn, &code_hash)
        .await?
        .ok_or_else(|| ApiError::validation("code", "is not a valid invite code"))?;
    if invite.used_at.is_some() {
        return Err(ApiError::Conflict(
            "This invite has been used already.".into(),
        ));
    }
    if invite.expires_at <= Utc::now() {
        return Err(ApiError::validation(
            "code",
            "has expired; ask for a new one",
        ));
    }
    if care::is_linked(&*txn, caller.id, invite.clinician_id).await? {
        return Err(ApiError::Conflict(
            "This clinician is linked already.".into(),
        ));
    }
    let clinician_row = users::find_by_id(&*txn, invite.clinician_id)
        .await?
        .filter(|u| u.role == Role::Clinician.as_str())
        .ok_or_else(|| ApiError::validation("code", "is not a valid invite code"))?;
    if !care::spend_invite(&*txn, invite.id, caller.id).await? {
        return Err(ApiError::Conflict(
            "This invite has been used already.".into(),
        ));
    }
    let link = care::link(&*txn, caller.id, invite.clinician_id)
        .await
        .map_err(|e| {
            // Two invites of one clinician redeemed at once (PostgreSQL): one wins.
            if is_unique_violation(&e) {
                ApiError::Conflict("This clinician is linked already.".into())
            } else {
                e.into()
            }
        })?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(clinician(link.created_at, clinician_row)),
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
async fn unlink_clinician(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(clinician_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Patient)?;
    let txn = state.store.begin_write().await?;
    if !care::unlink(&*txn, caller.id, clinician_id).await? {
        return Err(ApiError::not_found("No such linked clinician."));
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_canonical() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert_eq!(canonical_code(&code.to_lowercase()), canonical_code(&code));
        assert_eq!(canonical_code("abcd efgh-jkmn"), "ABCDEFGHJKMN");
        assert_ne!(new_code(), new_code());
    }
}
