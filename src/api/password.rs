//! Password change, account recovery with reset codes, and the admin's desk codes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::accounts::TokenPair;
use super::extract::{ApiJson, ApiPath};
use super::validate::{normalize_email, Problems};
use crate::auth::reset_code::MAX_CODE_INPUT;
use crate::auth::{AuthUser, Role};
use crate::error::ApiResult;
use crate::service::{password_reset, sessions};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change_password))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(issue_desk_reset_code))
}

/// Longest password accepted (NIST SP 800-63B: at least 64 must be allowed).
const MAX_PASSWORD_CHARS: usize = 256;
const MIN_PASSWORD_CHARS: usize = 8;

/// A new password's rule, reported under `field`.
fn check_new_password(password: &str, field: &str, problems: &mut Problems) {
    let n = password.chars().count();
    problems.check(
        (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n),
        field,
        "must be 8 to 256 characters",
    );
}

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
    responses((status = 200, description = "Password changed; a new session", body = TokenPair)))]
async fn change_password(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<TokenPair>> {
    let mut problems = Problems::new();
    check_new_password(&req.new_password, "new_password", &mut problems);
    problems.check(
        req.current_password.chars().count() <= MAX_PASSWORD_CHARS,
        "current_password",
        "must be at most 256 characters",
    );
    problems.finish()?;
    let issued =
        sessions::change_password(&state, caller, req.current_password, req.new_password).await?;
    Ok(Json(issued.into()))
}

/// Ask for a password-reset code
///
/// Mails a single-use code, valid 30 minutes, to the address if it has an account. The
/// answer is 202 whether or not it has one (nothing reveals which addresses are registered).
/// A new code voids the earlier one.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", operation_id = "requestPasswordReset",
    request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted; a code is mailed if the address has an account")))]
async fn request_password_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    let mut problems = Problems::new();
    let email = normalize_email(&req.email, &mut problems);
    problems.finish()?;
    state.password_resets.request(email);
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a reset code
///
/// A wrong, used or expired code (or an unknown email) is 401, the same answer for each; five
/// wrong codes use the code up. On success every session of the account ends.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "auth", operation_id = "confirmPasswordReset",
    request_body = PasswordResetConfirmation,
    responses((status = 204, description = "Password set; every session ended")))]
async fn confirm_password_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetConfirmation>,
) -> ApiResult<StatusCode> {
    let mut problems = Problems::new();
    let email = normalize_email(&req.email, &mut problems);
    check_new_password(&req.new_password, "new_password", &mut problems);
    problems.check(
        req.code.len() <= MAX_CODE_INPUT,
        "code",
        "must be at most 64 characters",
    );
    problems.finish()?;
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
async fn issue_desk_reset_code(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<DeskResetCode>)> {
    let admin = caller.require(Role::Admin)?;
    let (code, expires_at) = password_reset::issue_at_desk(&state, admin.id, user_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeskResetCode { code, expires_at }),
    ))
}
