//! Sessions: a login starts a session (a row in `sessions`) whose refresh tokens form one
//! family; each refresh spends one token and issues the next; presenting a spent token again is
//! taken as theft and ends the session. Ending a session (logout, theft, password change or
//! reset, deletion) refuses its access tokens at once, on every instance (`auth::sessions`).

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::auth::sessions::SessionChange;
use crate::auth::tokens::{digest, new_refresh_token};
use crate::auth::AuthUser;
use crate::domain::{Role, UserId};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::users::{self, Account};
use crate::store::{sessions, tokens, WriteTxn};

/// The tokens of a session, as issued.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    /// Lifetime of the access token, in seconds.
    pub expires_in: u64,
    pub refresh_token: String,
}

fn invalid_refresh() -> ApiError {
    ApiError::Unauthorized("Invalid, expired or already used refresh token.".into())
}

/// Adds the next refresh token of session `session_id` in `txn` and signs an access token
/// for it. The caller commits.
async fn issue(
    state: &AppState,
    txn: &WriteTxn,
    user: UserId,
    role: Role,
    session_id: Uuid,
) -> ApiResult<Session> {
    let keys = &state.tokens;
    let access_token = keys
        .issue_access(user.0, role, session_id)
        .map_err(ApiError::internal)?;
    let refresh_token = new_refresh_token();
    let ttl = i64::try_from(keys.refresh_ttl_days)
        .ok()
        .and_then(Duration::try_days)
        .ok_or_else(|| ApiError::internal("refresh token lifetime out of range"))?;
    tokens::insert(
        &**txn,
        user,
        session_id,
        digest(&refresh_token),
        Utc::now() + ttl,
    )
    .await?;
    Ok(Session {
        access_token,
        expires_in: keys.access_ttl_secs,
        refresh_token,
    })
}

/// Starts a session for an account whose password was just verified.
pub async fn start(state: &AppState, account: &Account) -> ApiResult<Session> {
    let txn = state.store.begin_write().await?;
    let session_id = sessions::create(&*txn, account.id).await?;
    let session = issue(state, &txn, account.id, account.role, session_id).await?;
    txn.commit().await?;
    Ok(session)
}

/// Trades a refresh token for the next pair (rotation with reuse detection).
pub async fn refresh(state: &AppState, presented: &str) -> ApiResult<Session> {
    let txn = state.store.begin_write().await?;
    let Some(token) = tokens::find_by_hash(&*txn, &digest(presented)).await? else {
        return Err(invalid_refresh());
    };
    if token.revoked_at.is_some() || token.expires_at <= Utc::now() {
        return Err(invalid_refresh());
    }
    if token.used_at.is_some() || !tokens::spend(&*txn, token.id).await? {
        sessions::end(&*txn, token.family_id).await?;
        commit_announced(state, txn, SessionChange::Ended(token.family_id)).await?;
        tracing::warn!(user_id = %token.user_id, "refresh token re-used; session ended");
        return Err(invalid_refresh());
    }
    if !sessions::is_live(&*txn, token.family_id).await? {
        return Err(invalid_refresh());
    }
    let user = users::find_live_by_id(&*txn, UserId(token.user_id))
        .await?
        .ok_or_else(invalid_refresh)?;
    let session = issue(state, &txn, user.id, user.role, token.family_id).await?;
    txn.commit().await?;
    Ok(session)
}

/// Ends the session of a refresh token: its refresh tokens and its access tokens stop working
/// at once. An unknown or spent token is no error, so logging out twice is harmless.
pub async fn end(state: &AppState, presented: &str) -> ApiResult<()> {
    if let Some(token) = tokens::find_by_hash(&state.store.db, &digest(presented)).await? {
        let txn = state.store.begin_write().await?;
        sessions::end(&*txn, token.family_id).await?;
        commit_announced(state, txn, SessionChange::Ended(token.family_id)).await?;
    }
    Ok(())
}

/// Commits `txn` after announcing `change`, then waits until every instance has heard it.
pub async fn commit_announced(
    state: &AppState,
    txn: WriteTxn,
    change: SessionChange,
) -> ApiResult<()> {
    let announcement = state.sessions.announce(&*txn, &[change]).await?;
    txn.commit().await?;
    state.sessions.settle(announcement).await;
    Ok(())
}

/// Ends every session of `user` in `txn` (the caller commits with [`commit_announced`]).
pub async fn end_all_in(txn: &WriteTxn, user: UserId) -> ApiResult<SessionChange> {
    sessions::end_all(&**txn, user).await?;
    Ok(SessionChange::Account(user.0))
}

fn wrong_current_password() -> ApiError {
    ApiError::Unauthorized("The current password is wrong.".into())
}

/// Changes the caller's password after checking the current one; every earlier session
/// ends, and the caller gets a fresh one.
pub async fn change_password(
    state: &AppState,
    caller: AuthUser,
    current_password: String,
    new_password: String,
) -> ApiResult<Session> {
    let account = users::find_live_by_id(&state.store.db, caller.id)
        .await?
        .ok_or_else(wrong_current_password)?;
    if !state
        .hasher
        .verify(current_password, Some(account.password_hash))
        .await?
    {
        return Err(wrong_current_password());
    }
    let password_hash = state.hasher.hash(new_password).await?;
    let txn = state.store.begin_write().await?;
    users::set_password_hash(&*txn, caller.id, password_hash).await?;
    let change = end_all_in(&txn, caller.id).await?;
    let session_id = sessions::create(&*txn, caller.id).await?;
    let session = issue(state, &txn, caller.id, caller.role, session_id).await?;
    commit_announced(state, txn, change).await?;
    Ok(session)
}
