//! Accounts and sessions: sign-up, login, token refresh with rotation, logout, the caller's
//! profile, and admin-created staff accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::ApiJson;
use super::validate::{
    check_password, check_timezone, double_option, normalize_display_name, normalize_email,
    Problems, MAX_PASSWORD_CHARS, MAX_TOKEN_CHARS,
};
use crate::auth::tokens::{digest, new_refresh_token};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ApiResult};
use crate::limits::ClientAddr;
use crate::store::users::{self, CreateUserError, NewUser, UserRow};
use crate::store::{tokens, Store};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(get_me, update_me))
        .routes(routes!(create_user))
}

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

impl User {
    pub fn from_row(row: UserRow) -> ApiResult<Self> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| ApiError::internal(format!("unknown role in users row {}", row.id)))?;
        Ok(Self {
            id: row.id,
            email: row.email,
            role,
            display_name: row.display_name,
            timezone: row.timezone,
            created_at: row.created_at,
        })
    }
}

/// Patient sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// A valid address; stored lower-case; must not be registered yet.
    #[schema(max_length = 254)]
    pub email: String,
    /// 8–256 characters, no composition rules (NIST SP 800-63B).
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// Optional name to show, at most 100 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub display_name: Option<String>,
    /// IANA time zone of the patient, e.g. `America/Chicago`.
    #[schema(max_length = 64)]
    pub timezone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email; case and surrounding whitespace do not matter.
    #[schema(max_length = 254)]
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
        "must be at most 256 characters",
    );
    problems.finish()?;
    Ok(email)
}

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
            self.refresh_token.chars().count() <= MAX_TOKEN_CHARS,
            "refresh_token",
            "must be at most 256 characters",
        );
        problems.finish()?;
        Ok(self)
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
    #[schema(value_type = Option<String>, max_length = 100)]
    pub display_name: Option<Option<String>>,
    /// New IANA time zone. Past diary dates keep their dates; treatment days are recomputed in it.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub timezone: Option<String>,
}

/// Staff account created by an admin.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// A valid address; stored lower-case; must not be registered yet.
    #[schema(max_length = 254)]
    pub email: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// `clinician` or `admin` (patients sign up themselves).
    pub role: Role,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub display_name: Option<String>,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub timezone: Option<String>,
}

/// Validated account fields, ready to hash and store.
struct AccountDraft {
    email: String,
    password: String,
    display_name: Option<String>,
    timezone: String,
}

fn draft(
    email: &str,
    password: String,
    display_name: Option<String>,
    timezone: String,
    extra: impl FnOnce(&mut Problems),
) -> ApiResult<AccountDraft> {
    let mut problems = Problems::new();
    let email = normalize_email(email, &mut problems);
    check_password(&password, &mut problems);
    let display_name = normalize_display_name(display_name, &mut problems);
    check_timezone(&timezone, "timezone", &mut problems);
    extra(&mut problems);
    problems.finish()?;
    Ok(AccountDraft {
        email,
        password,
        display_name,
        timezone,
    })
}

/// Hashes the password and stores the account; 409 when the email is taken.
pub async fn create_account(
    state: &AppState,
    draft_email: String,
    password: String,
    role: Role,
    display_name: Option<String>,
    timezone: String,
) -> ApiResult<UserRow> {
    let password_hash = state.hasher.hash(password).await?;
    let txn = state.store.begin_write().await?;
    let row = users::create(
        &*txn,
        NewUser {
            email: draft_email,
            password_hash,
            role: role.as_str().into(),
            display_name,
            timezone,
        },
    )
    .await
    .map_err(|e| match e {
        CreateUserError::EmailTaken => {
            ApiError::Conflict("An account with this email exists already.".into())
        }
        CreateUserError::Db(db) => db.into(),
    })?;
    txn.commit().await?;
    Ok(row)
}

/// Register a patient
///
/// Creates a patient account. Log in afterwards to get tokens. Sign-ups per client address are
/// limited (`--registrations-per-client`); beyond that, 429 with `Retry-After`.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", operation_id = "registerPatient",
    request_body = RegisterRequest,
    responses((status = 201, description = "Account created", body = User)))]
async fn register(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let d = draft(
        &req.email,
        req.password,
        req.display_name,
        req.timezone,
        |_| {},
    )?;
    state.throttle.register(client.0).await?;
    let row = create_account(
        &state,
        d.email,
        d.password,
        Role::Patient,
        d.display_name,
        d.timezone,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(User::from_row(row)?)))
}

async fn issue_pair(
    state: &AppState,
    store: &Store,
    user_id: Uuid,
    role: Role,
    family_id: Uuid,
    txn: Option<crate::store::WriteTxn>,
) -> ApiResult<TokenPair> {
    let access_token = state
        .tokens
        .issue_access(user_id, role)
        .map_err(ApiError::internal)?;
    let refresh_token = new_refresh_token();
    let ttl_days = i64::try_from(state.tokens.refresh_ttl_days).unwrap_or(30);
    let txn = match txn {
        Some(t) => t,
        None => store.begin_write().await?,
    };
    tokens::insert(
        &*txn,
        user_id,
        family_id,
        digest(&refresh_token),
        Utc::now() + Duration::days(ttl_days),
    )
    .await?;
    txn.commit().await?;
    Ok(TokenPair {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: state.tokens.access_ttl_secs,
        refresh_token,
    })
}

/// Log in
///
/// Trades email and password for a `TokenPair`. Failed attempts are limited per account and
/// client address (default 10 in 15 minutes), per client address over all accounts, and per
/// account from anywhere (a far higher ceiling, so that nobody can lock the owner out); beyond a
/// limit, 429 with `Retry-After`. Every attempt is counted before the password is checked.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses((status = 200, description = "Logged in", body = TokenPair)))]
async fn login(
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
    let role = Role::parse(&user.role).ok_or_else(|| ApiError::internal("unknown role"))?;
    let pair = issue_pair(&state, &state.store, user.id, role, Uuid::now_v7(), None).await?;
    Ok(Json(pair))
}

fn invalid_refresh() -> ApiError {
    ApiError::Unauthorized("Invalid, expired or already used refresh token.".into())
}

/// Refresh tokens
///
/// Trades a refresh token for a new `TokenPair`. The old refresh token stops working; presenting
/// a spent one again is treated as theft: it gets 401 and revokes every token of that session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refreshTokens",
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = TokenPair)))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenPair>> {
    let req = req.checked()?;
    let txn = state.store.begin_write().await?;
    let Some(token) = tokens::find_by_hash(&*txn, &digest(&req.refresh_token)).await? else {
        return Err(invalid_refresh());
    };
    if token.revoked_at.is_some() || token.expires_at <= Utc::now() {
        return Err(invalid_refresh());
    }
    if token.used_at.is_some() || !tokens::spend(&*txn, token.id).await? {
        tokens::revoke_family(&*txn, token.family_id).await?;
        txn.commit().await?;
        tracing::warn!(user_id = %token.user_id, "refresh token re-used; session revoked");
        return Err(invalid_refresh());
    }
    let user = users::find_by_id(&*txn, token.user_id)
        .await?
        .ok_or_else(invalid_refresh)?;
    let role = Role::parse(&user.role).ok_or_else(|| ApiError::internal("unknown role"))?;
    let pair = issue_pair(
        &state,
        &state.store,
        user.id,
        role,
        token.family_id,
        Some(txn),
    )
    .await?;
    Ok(Json(pair))
}

/// Log out
///
/// Revokes the session of this refresh token (every token of its family). Answers 204 also for
/// an unknown or spent token, so logging out twice is harmless.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out")))]
async fn logout(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let req = req.checked()?;
    if let Some(token) = tokens::find_by_hash(&state.store.db, &digest(&req.refresh_token)).await? {
        let txn = state.store.begin_write().await?;
        tokens::revoke_family(&*txn, token.family_id).await?;
        txn.commit().await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn load_me(state: &AppState, caller: AuthUser) -> ApiResult<UserRow> {
    users::find_by_id(&state.store.db, caller.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("The account of this token no longer exists.".into()))
}

/// Get my account
#[utoipa::path(get, path = "/v1/me", tag = "accounts", operation_id = "getMe",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = User)))]
async fn get_me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<User>> {
    Ok(Json(User::from_row(load_me(&state, caller).await?)?))
}

/// Update my account
///
/// Changes `display_name` and/or `timezone`.
#[utoipa::path(patch, path = "/v1/me", tag = "accounts", operation_id = "updateMe",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses((status = 200, description = "The updated account", body = User)))]
async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<UpdateMeRequest>,
) -> ApiResult<Json<User>> {
    let mut problems = Problems::new();
    let display_name = req
        .display_name
        .map(|name| normalize_display_name(name, &mut problems));
    if let Some(tz) = &req.timezone {
        check_timezone(tz, "timezone", &mut problems);
    }
    problems.finish()?;
    let current = load_me(&state, caller).await?;
    let txn = state.store.begin_write().await?;
    let row = users::update_profile(&*txn, current, display_name, req.timezone).await?;
    txn.commit().await?;
    Ok(Json(User::from_row(row)?))
}

/// Create a staff account
///
/// Admin only: creates a clinician or another admin.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", operation_id = "createUser",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses((status = 201, description = "Account created", body = User)))]
async fn create_user(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require(Role::Admin)?;
    let role = req.role;
    let d = draft(
        &req.email,
        req.password,
        req.display_name,
        req.timezone.unwrap_or_else(|| "UTC".into()),
        |p| {
            p.check(
                role != Role::Patient,
                "role",
                "must be `clinician` or `admin`; patients register themselves",
            )
        },
    )?;
    let row = create_account(
        &state,
        d.email,
        d.password,
        role,
        d.display_name,
        d.timezone,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(User::from_row(row)?)))
}
