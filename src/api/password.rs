//! Password change, account recovery with reset codes, and the admin's desk codes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::TokenPair;
use super::extract::{ApiJson, ApiPath};
use super::Unauthorized;
use crate::auth::reset_code::MAX_CODE_INPUT;
use crate::auth::{AuthUser, Role};
use crate::domain::account::{check_password_as, check_password_length, normalize_email};
use crate::domain::{Problems, UserId};
use crate::error::ApiResult;
use crate::service::{password_reset, sessions};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    #[schema(max_length = 256)]
    pub current_password: String,
    /// The new password: 8–256 characters, no composition rules (NIST SP 800-63B).
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's email address.
    #[schema(max_length = 254)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmation {
    /// The account's email address.
    #[schema(max_length = 254)]
    pub email: String,
    /// The code from the mail or the clinic desk (`XXXX-XXXX-XXXX`; case, dashes and spaces
    /// do not matter).
    #[schema(max_length = 64)]
    pub code: String,
    /// The new password: 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// A reset code to hand to the account's owner in person.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskResetCode {
    /// Single-use code; the owner enters it at `/v1/auth/password-reset/confirm`.
    pub code: String,
    /// When the code stops working (24 hours after issue).
    pub expires_at: DateTime<Utc>,
}

/// Change my password
///
/// Checks the current password, sets the new one and ends every session of the account, the
/// caller's too: access and refresh tokens issued before are refused from now on. Answers
/// with the tokens of a fresh session.
#[utoipa::path(post, path = "/v1/me/password", tag = "accounts", operation_id = "changePassword",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Password changed; a new session", body = TokenPair),
        (status = 401, response = Unauthorized)))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<TokenPair>> {
    let mut problems = Problems::new();
    check_password_as(&req.new_password, "new_password", &mut problems);
    check_password_length(&req.current_password, "current_password", &mut problems);
    problems.or_ok(())?;
    let session =
        sessions::change_password(&state, caller, req.current_password, req.new_password).await?;
    Ok(Json(session.into()))
}

/// Ask for a password-reset code
///
/// Mails a single-use code, valid 30 minutes, to the address if it has an account. The
/// answer is 202 whether or not it has one (nothing reveals which addresses are registered).
/// A new code voids the earlier one.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", operation_id = "requestPasswordReset",
    request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted; a code is mailed if the address has an account")))]
pub(crate) async fn request_password_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    let mut problems = Problems::new();
    let email = normalize_email(&req.email, &mut problems);
    problems.or_ok(())?;
    state.password_resets.request(email);
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a reset code
///
/// A wrong, used or expired code (or an unknown email) is 401, the same answer for each; five
/// wrong codes use the code up. On success every session of the account ends.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "auth", operation_id = "confirmPasswordReset",
    request_body = PasswordResetConfirmation,
    responses((status = 204, description = "Password set; every session ended"),
        (status = 401, response = Unauthorized)))]
pub(crate) async fn confirm_password_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetConfirmation>,
) -> ApiResult<StatusCode> {
    let mut problems = Problems::new();
    let email = normalize_email(&req.email, &mut problems);
    check_password_as(&req.new_password, "new_password", &mut problems);
    problems.check(
        req.code.chars().count() <= MAX_CODE_INPUT,
        "code",
        format!("must be at most {MAX_CODE_INPUT} characters"),
    );
    problems.or_ok(())?;
    password_reset::confirm(&state, &email, &req.code, req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issue a password-reset code at the desk
///
/// Admin only: a code valid 24 hours for the account, to hand over in person (when mail is
/// not configured or not received). A new code voids the earlier one.
#[utoipa::path(post, path = "/v1/admin/users/{user_id}/password-reset", tag = "admin",
    operation_id = "issuePasswordResetCode",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The account")),
    responses((status = 201, description = "Code issued", body = DeskResetCode)))]
pub(crate) async fn issue_desk_reset_code(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<DeskResetCode>)> {
    let admin = caller.require(Role::Admin)?;
    let (code, expires_at) =
        password_reset::issue_at_desk(&state, admin.id, UserId(user_id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeskResetCode { code, expires_at }),
    ))
}
