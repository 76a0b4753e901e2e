//! Starting and ending sessions, and the password change that ends all of them.

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::auth::sessions::SessionChange;
use crate::auth::tokens::{digest, new_refresh_token};
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ApiResult};
use crate::store::{sessions, tokens, users, WriteTxn};
use crate::AppState;

/// The secrets of a session, as handed to the client.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// Adds a refresh token to session `session_id` (a new login or a rotation) in `txn` and signs
/// an access token for it. The caller commits.
pub async fn issue_tokens(
    state: &AppState,
    txn: &WriteTxn,
    user_id: Uuid,
    role: Role,
    session_id: Uuid,
) -> ApiResult<IssuedTokens> {
    let access_token = state
        .tokens
        .issue_access(user_id, role, session_id)
        .map_err(ApiError::internal)?;
    let refresh_token = new_refresh_token();
    let ttl_days = i64::try_from(state.tokens.refresh_ttl_days).map_err(ApiError::internal)?;
    tokens::insert(
        &**txn,
        user_id,
        session_id,
        digest(&refresh_token),
        Utc::now() + Duration::days(ttl_days),
    )
    .await?;
    Ok(IssuedTokens {
        access_token,
        refresh_token,
        expires_in: state.tokens.access_ttl_secs,
    })
}

/// A new session (login).
pub async fn start(state: &AppState, user_id: Uuid, role: Role) -> ApiResult<IssuedTokens> {
    let txn = state.store.begin_write().await?;
    let session_id = sessions::create(&*txn, user_id).await?;
    let issued = issue_tokens(state, &txn, user_id, role, session_id).await?;
    txn.commit().await?;
    Ok(issued)
}

/// Commits `txn` after announcing `change`, then waits until every instance has heard it.
pub async fn commit_ending(
    state: &AppState,
    txn: WriteTxn,
    change: SessionChange,
) -> ApiResult<()> {
    let announcement = state.sessions.announce(&*txn, &[change]).await?;
    txn.commit().await?;
    state.sessions.settle(announcement).await;
    Ok(())
}

/// Ends one session: its refresh tokens and its access tokens stop working at once.
pub async fn end(state: &AppState, session_id: Uuid) -> ApiResult<()> {
    let txn = state.store.begin_write().await?;
    sessions::end(&*txn, session_id).await?;
    commit_ending(state, txn, SessionChange::Ended(session_id)).await
}

/// Ends every session of `user_id` in `txn` (the caller commits with [`commit_ending`]).
pub async fn end_all_in(txn: &WriteTxn, user_id: Uuid) -> ApiResult<SessionChange> {
    sessions::end_all(&**txn, user_id).await?;
    Ok(SessionChange::Account(user_id))
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
) -> ApiResult<IssuedTokens> {
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
    let issued = issue_tokens(state, &txn, caller.id, caller.role, session_id).await?;
    commit_ending(state, txn, change).await?;
    Ok(issued)
}
