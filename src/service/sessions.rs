//! Sessions: a login starts a family of refresh tokens; each refresh spends one token and issues
//! the next; presenting a spent token again is taken as theft and revokes the whole family.

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::auth::tokens::{digest, new_refresh_token, TokenKeys};
use crate::domain::{Role, UserId};
use crate::error::{ApiError, ApiResult};
use crate::store::users::Account;
use crate::store::{tokens, users, Store, WriteTxn};

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

/// Issues an access token and the next refresh token of `family`, committing `txn`.
async fn issue(
    keys: &TokenKeys,
    txn: WriteTxn,
    user: UserId,
    role: Role,
    family: Uuid,
) -> ApiResult<Session> {
    let access_token = keys
        .issue_access(user.0, role)
        .map_err(ApiError::internal)?;
    let refresh_token = new_refresh_token();
    let ttl = i64::try_from(keys.refresh_ttl_days)
        .ok()
        .and_then(Duration::try_days)
        .ok_or_else(|| ApiError::internal("refresh token lifetime out of range"))?;
    tokens::insert(
        &*txn,
        user,
        family,
        digest(&refresh_token),
        Utc::now() + ttl,
    )
    .await?;
    txn.commit().await?;
    Ok(Session {
        access_token,
        expires_in: keys.access_ttl_secs,
        refresh_token,
    })
}

/// Starts a session for an account whose password was just verified.
pub async fn start(store: &Store, keys: &TokenKeys, account: &Account) -> ApiResult<Session> {
    let txn = store.begin_write().await?;
    issue(keys, txn, account.id, account.role, Uuid::now_v7()).await
}

/// Trades a refresh token for the next pair (rotation with reuse detection).
pub async fn refresh(store: &Store, keys: &TokenKeys, presented: &str) -> ApiResult<Session> {
    let txn = store.begin_write().await?;
    let Some(token) = tokens::find_by_hash(&*txn, &digest(presented)).await? else {
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
    let user = users::find_by_id(&*txn, UserId(token.user_id))
        .await?
        .ok_or_else(invalid_refresh)?;
    issue(keys, txn, user.id, user.role, token.family_id).await
}

/// Ends the session of a refresh token (every token of its family); an unknown or spent token
/// is no error, so logging out twice is harmless.
pub async fn end(store: &Store, presented: &str) -> ApiResult<()> {
    if let Some(token) = tokens::find_by_hash(&store.db, &digest(presented)).await? {
        let txn = store.begin_write().await?;
        tokens::revoke_family(&*txn, token.family_id).await?;
        txn.commit().await?;
    }
    Ok(())
}
