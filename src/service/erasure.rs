//! Deleting accounts (data rights): a patient deletes their own account with their password;
//! an admin deletes staff accounts. Each deletion is one transaction: it happens entirely or
//! not at all, and every session of the account ends with it.

use super::sessions::{commit_announced, end_all_in};
use crate::auth::{AuthUser, Role};
use crate::domain::UserId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{erasure, users};

fn wrong_password() -> ApiError {
    ApiError::Unauthorized("The password is wrong.".into())
}

/// Deletes the calling patient and everything held about them.
pub async fn delete_own_account(
    state: &AppState,
    caller: AuthUser,
    password: String,
) -> ApiResult<()> {
    let caller = caller.require(Role::Patient)?;
    let account = users::find_live_by_id(&state.store.db, caller.id)
        .await?
        .ok_or_else(wrong_password)?;
    if !state
        .hasher
        .verify(password, Some(account.password_hash))
        .await?
    {
        return Err(wrong_password());
    }
    let txn = state.store.begin_write().await?;
    let change = end_all_in(&txn, caller.id).await?;
    erasure::delete_patient(&*txn, caller.as_patient()).await?;
    commit_announced(state, txn, change).await?;
    tracing::info!(user_id = %caller.id, "patient account deleted by its owner");
    Ok(())
}

/// Deletes a clinician or admin account; a patient's account only its owner deletes (403).
pub async fn delete_staff_account(
    state: &AppState,
    admin: AuthUser,
    user_id: UserId,
) -> ApiResult<()> {
    let admin = admin.require(Role::Admin)?;
    let account = users::find_live_by_id(&state.store.db, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such account."))?;
    if account.role == Role::Patient {
        return Err(ApiError::Forbidden(
            "A patient's account is deleted only by the patient.".into(),
        ));
    }
    if user_id == admin.id {
        return Err(ApiError::Conflict(
            "An admin cannot delete their own account; ask another admin.".into(),
        ));
    }
    let txn = state.store.begin_write().await?;
    let change = end_all_in(&txn, user_id).await?;
    erasure::retire_staff(&*txn, user_id).await?;
    commit_announced(state, txn, change).await?;
    tracing::info!(%user_id, admin_id = %admin.id, "staff account deleted");
    Ok(())
}
