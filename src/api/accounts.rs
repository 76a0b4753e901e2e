//! Accounts and sessions: sign-up, login, token refresh with rotation, logout, the caller's
//! profile, and admin-created staff accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::ApiJson;
use super::validate::{double_option, not_null};
use super::{Conflict, TooManyRequests, Unauthorized};
use crate::auth::sessions::SessionChange;
use crate::auth::{AuthUser, Role};
use crate::domain::account::{
    normalize_display_name, normalize_email, parse_timezone, MAX_PASSWORD_CHARS,
};
use crate::domain::{AccountDraft, NewAccount, Problems};
use crate::error::{ApiError, ApiResult};
use crate::limits::ClientAddr;
use crate::service::accounts::{create_account, AccountError};
use crate::service::sessions::{self, commit_announced, Session};
use crate::state::AppState;
use crate::store::users::{self, Account};

/// An account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    /// Lower-case email, unique.
    pub email: String,
    pub role: Role,
    /// Name to show; null when not set.
    #[schema(value_type = Option<String>, required = true)]
    pub display_name: Option<String>,
    /// IANA time zone; diary dates and treatment days are calendar days in this zone.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for User {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.0,
            email: account.email,
            role: account.role,
            display_name: account.display_name,
            timezone: account.timezone.name().to_owned(),
            created_at: account.created_at,
        }
    }
}

/// Patient sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// A valid address (at most 254 characters); stored lower-case; must not be registered yet.
    #[schema(format = "email", min_length = 3, max_length = 254)]
    pub email: String,
    /// 8–256 characters, no composition rules (NIST SP 800-63B).
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// Optional name to show, at most 100 characters, no control characters; blank is none.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub display_name: Option<String>,
    /// IANA time zone of the patient, e.g. `America/Chicago` (a name of the IANA database; a
    /// pattern cannot list them, so only this text says it).
    #[schema(min_length = 1, max_length = 64)]
    pub timezone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email (a valid address); case and surrounding whitespace do not matter.
    #[schema(format = "email", min_length = 3, max_length = 254)]
    pub email: String,
    /// At most 256 characters.
    #[schema(max_length = 256)]
    pub password: String,
}

/// The login's email, normalised; 422 for an input no account could have.
fn login_email(req: &LoginRequest) -> ApiResult<String> {
    let mut problems = Problems::new();
    let email = normalize_email(&req.email, &mut problems);
    problems.check(
        req.password.chars().count() <= MAX_PASSWORD_CHARS,
        "password",
        format!("must be at most {MAX_PASSWORD_CHARS} characters"),
    );
    Ok(problems.or_ok(email)?)
}

/// Refresh tokens are 43 characters; the limit only keeps junk out.
pub const MAX_REFRESH_TOKEN_CHARS: usize = 256;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the last `TokenPair`.
    #[schema(max_length = 256)]
    pub refresh_token: String,
}

impl RefreshRequest {
    /// 422 for a string no refresh token could be.
    fn checked(self) -> ApiResult<Self> {
        let mut problems = Problems::new();
        problems.check(
            self.refresh_token.chars().count() <= MAX_REFRESH_TOKEN_CHARS,
            "refresh_token",
            format!("must be at most {MAX_REFRESH_TOKEN_CHARS} characters"),
        );
        Ok(problems.or_ok(self)?)
    }
}

/// Always `Bearer`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub enum TokenType {
    Bearer,
}

/// Tokens of a session. Send `access_token` as `Authorization: Bearer …`; when it expires,
/// trade `refresh_token` at `/v1/auth/refresh` for a new pair (each refresh token works once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// A JWT, valid for `expires_in` seconds.
    pub access_token: String,
    pub token_type: TokenType,
    /// Lifetime of the access token, in seconds.
    pub expires_in: u64,
    /// Opaque, single-use; spending it twice revokes the whole session.
    pub refresh_token: String,
}

/// Profile change; an absent field stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// New name to show (at most 100 characters); null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub display_name: Option<Option<String>>,
    /// New IANA time zone. Past diary dates keep their dates; treatment days are recomputed in it.
    /// Cannot be null.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 64)]
    pub timezone: Option<String>,
}

/// Staff account created by an admin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// A valid address (at most 254 characters); stored lower-case; must not be registered yet.
    #[schema(format = "email", min_length = 3, max_length = 254)]
    pub email: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// `clinician` or `admin` (patients sign up themselves).
    pub role: Role,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub display_name: Option<String>,
    /// IANA time zone (default `UTC`), e.g. `Europe/Berlin`.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 64)]
    pub timezone: Option<String>,
}

impl From<Session> for TokenPair {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            token_type: TokenType::Bearer,
            expires_in: session.expires_in,
            refresh_token: session.refresh_token,
        }
    }
}

/// Hashes the password (on the bounded hashing pool) and stores the account; 409 when the
/// email is taken.
async fn store_account(state: &AppState, account: NewAccount) -> ApiResult<User> {
    let password_hash = state.hasher.hash(account.password.clone()).await?;
    let created = create_account(&state.store, &account, password_hash)
        .await
        .map_err(|e| match e {
            AccountError::EmailTaken => {
                ApiError::Conflict("An account with this email exists already.".into())
            }
            AccountError::Db(db) => db.into(),
        })?;
    Ok(created.into())
}

/// Register a patient
///
/// Creates a patient account. Log in afterwards to get tokens. Sign-ups per client address are
/// limited (`--registrations-per-client-per-hour`); beyond that, 429 with `Retry-After`.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", operation_id = "registerPatient",
    request_body = RegisterRequest,
    responses((status = 201, description = "Account created", body = User),
        (status = 409, response = Conflict),
        (status = 429, response = TooManyRequests)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let account = NewAccount::parse(AccountDraft {
        email: req.email,
        password: req.password,
        role: Role::Patient,
        display_name: req.display_name,
        timezone: req.timezone,
    })?;
    state.throttle.register(client.0).await?;
    Ok((
        StatusCode::CREATED,
        Json(store_account(&state, account).await?),
    ))
}

/// Log in
///
/// Trades email and password for a `TokenPair`. Failed attempts are limited per account and
/// client address (default 10 in 15 minutes), per client address over all accounts, and per
/// account from anywhere (a far higher ceiling, so that nobody can lock the owner out); beyond a
/// limit, 429 with `Retry-After`. Every attempt is counted before the password is checked.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses((status = 200, description = "Logged in", body = TokenPair),
        (status = 401, response = Unauthorized),
        (status = 429, response = TooManyRequests)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenPair>> {
    let email = login_email(&req)?;
    let attempt = state.throttle.login_attempt(&email, client.0).await?;
    let user = users::find_by_email(&state.store.db, &email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = state.hasher.verify(req.password, hash).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => return Err(ApiError::Unauthorized("Invalid email or password.".into())),
    };
    state.throttle.login_succeeded(attempt).await?;
    let session = sessions::start(&state, &user).await?;
    Ok(Json(session.into()))
}

/// Refresh tokens
///
/// Trades a refresh token for a new `TokenPair`. The old refresh token stops working; presenting
/// a spent one again is treated as theft: it gets 401 and revokes every token of that session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refreshTokens",
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenPair),
        (status = 401, response = Unauthorized)))]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let req = req.checked()?;
    let session = sessions::refresh(&state, &req.refresh_token).await?;
    Ok(Json(session.into()))
}

/// Log out
///
/// Ends the session of this refresh token: its refresh tokens and its access tokens stop
/// working at once (the account's other sessions stay). Answers 204 also for an unknown or
/// spent token, so logging out twice is harmless.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let req = req.checked()?;
    sessions::end(&state, &req.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn load_me(state: &AppState, caller: AuthUser) -> ApiResult<Account> {
    users::find_by_id(&state.store.db, caller.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("The account of this token no longer exists.".into()))
}

/// Get my account
#[utoipa::path(get, path = "/v1/me", tag = "accounts", operation_id = "getMe",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = User)))]
pub(crate) async fn get_me(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<User>> {
    Ok(Json(load_me(&state, caller).await?.into()))
}

/// Update my account
///
/// Changes `display_name` and/or `timezone`.
#[utoipa::path(patch, path = "/v1/me", tag = "accounts", operation_id = "updateMe",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses((status = 200, description = "The updated account", body = User)))]
pub(crate) async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<UpdateMeRequest>,
) -> ApiResult<Json<User>> {
    let mut problems = Problems::new();
    let display_name = req
        .display_name
        .map(|name| normalize_display_name(name, &mut problems));
    let timezone = req
        .timezone
        .map(|tz| parse_timezone(&tz, "timezone", &mut problems));
    problems.or_ok(())?;
    let current = load_me(&state, caller).await?;
    let txn = state.store.begin_write().await?;
    let updated = users::update_profile(&*txn, current.id, display_name, timezone).await?;
    // Every instance forgets the cached profile (the time zone decides "today" and each
    // treatment's day) before this answers.
    commit_announced(&state, txn, SessionChange::Profile(current.id.0)).await?;
    Ok(Json(updated.into()))
}

/// Create a staff account
///
/// Admin only: creates a clinician or another admin.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", operation_id = "createUser",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, description = "Account created", body = User),
        (status = 409, response = Conflict)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require(Role::Admin)?;
    let account = NewAccount::parse_staff(AccountDraft {
        email: req.email,
        password: req.password,
        role: req.role,
        display_name: req.display_name,
        timezone: req.timezone.unwrap_or_else(|| "UTC".into()),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(store_account(&state, account).await?),
    ))
}
