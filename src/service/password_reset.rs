//! Account recovery with single-use codes.
//!
//! A request only queues the email and answers 202: looking the account up, storing the code
//! and talking to the SMTP server all happen in a background worker, so neither the answer nor
//! its timing says whether the address has an account. A code is valid for
//! [`MAILED_CODE_MINUTES`] (mailed) or [`DESK_CODE_HOURS`] (issued by an admin at the clinic
//! desk), works once, and is spent after [`MAX_WRONG_CODES`] wrong tries. A wrong, spent or
//! expired code, and an unknown email, all get the same 401.

use chrono::{DateTime, Duration, Utc};
use tokio::sync::mpsc;

use super::sessions::{commit_announced, end_all_in};
use crate::auth::reset_code;
use crate::domain::UserId;
use crate::error::{ApiError, ApiResult};
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::{password_resets, users, Store};

pub const MAILED_CODE_MINUTES: i64 = 30;
pub const DESK_CODE_HOURS: i64 = 24;
pub const MAX_WRONG_CODES: i32 = 5;
/// At most one mailed code per account per this many seconds (no mail bombing of one inbox).
const RESEND_AFTER_SECS: i64 = 60;
/// Requests waiting for the worker; beyond this, requests are dropped (and logged).
const QUEUE: usize = 256;

/// Hands reset requests to the background worker.
#[derive(Clone, Debug)]
pub struct ResetQueue {
    tx: mpsc::Sender<String>,
}

impl ResetQueue {
    /// Starts the worker (inside a Tokio runtime; without one, requests are only logged).
    pub fn start(store: Store, mailer: Mailer) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(work(store, mailer, rx));
            }
            Err(_) => tracing::warn!("no async runtime: password-reset mail disabled"),
        }
        Self { tx }
    }

    /// Queues a request for `email` (already normalized). Never fails towards the caller.
    pub fn request(&self, email: String) {
        if self.tx.try_send(email).is_err() {
            tracing::warn!("password-reset queue full or closed; request dropped");
        }
    }
}

async fn work(store: Store, mailer: Mailer, mut rx: mpsc::Receiver<String>) {
    while let Some(email) = rx.recv().await {
        if let Err(e) = mail_code(&store, &mailer, &email).await {
            tracing::error!(error = %e, "password-reset request failed");
        }
    }
}

/// Issues and mails a code when `email` has an account; does nothing otherwise.
async fn mail_code(store: &Store, mailer: &Mailer, email: &str) -> ApiResult<()> {
    let Some(account) = users::find_live_by_email(&store.db, email).await? else {
        tracing::info!("password reset requested for an address without an account");
        return Ok(());
    };
    if let Some(recent) = password_resets::find_for_user(&store.db, account.id).await? {
        if recent.issued_by.is_none()
            && Utc::now() - recent.created_at < Duration::seconds(RESEND_AFTER_SECS)
        {
            tracing::info!(user_id = %account.id, "password reset: a code was mailed moments ago");
            return Ok(());
        }
    }
    if !mailer.is_enabled() {
        tracing::warn!(user_id = %account.id, "password reset requested but SMTP_URL is not configured: no mail could be sent");
        return Ok(());
    }
    let (code, _) = issue(
        store,
        account.id,
        Duration::minutes(MAILED_CODE_MINUTES),
        None,
    )
    .await?;
    let body = format!(
        "Someone asked to reset the password of your migraine-diary account.\r\n\r\n\
         Your code: {code}\r\n\r\n\
         It is valid for {MAILED_CODE_MINUTES} minutes and works once. If you did not ask for\r\n\
         it, ignore this mail: your password stays as it is.\r\n"
    );
    if mailer
        .send(&account.email, "Your password reset code", body)
        .await
    {
        tracing::info!(user_id = %account.id, "password-reset code mailed");
    }
    Ok(())
}

/// Stores a new code for `user_id` (voiding any earlier one); returns it and its expiry.
async fn issue(
    store: &Store,
    user_id: UserId,
    valid_for: Duration,
    issued_by: Option<UserId>,
) -> ApiResult<(String, DateTime<Utc>)> {
    let code = reset_code::generate();
    let expires_at = crate::store::now() + valid_for;
    let txn = store.begin_write().await?;
    password_resets::replace(
        &*txn,
        user_id,
        reset_code::hash(&code),
        expires_at,
        issued_by,
    )
    .await?;
    txn.commit().await?;
    Ok((code, expires_at))
}

/// A code for the clinic desk; 404 for an unknown or deleted account.
pub async fn issue_at_desk(
    state: &AppState,
    admin_id: UserId,
    user_id: UserId,
) -> ApiResult<(String, DateTime<Utc>)> {
    users::find_live_by_id(&state.store.db, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such account."))?;
    let issued = issue(
        &state.store,
        user_id,
        Duration::hours(DESK_CODE_HOURS),
        Some(admin_id),
    )
    .await?;
    tracing::info!(%user_id, %admin_id, "password-reset code issued at the desk");
    Ok(issued)
}

fn invalid_code() -> ApiError {
    ApiError::Unauthorized("The code is wrong, used up or expired.".into())
}

/// Sets a new password with a valid code; every session of the account ends.
pub async fn confirm(
    state: &AppState,
    email: &str,
    code: &str,
    new_password: String,
) -> ApiResult<()> {
    let db = &state.store.db;
    let Some(account) = users::find_live_by_email(db, email).await? else {
        return Err(invalid_code());
    };
    let Some(reset) = password_resets::find_for_user(db, account.id).await? else {
        return Err(invalid_code());
    };
    if reset.expires_at <= Utc::now() || reset.attempts >= MAX_WRONG_CODES {
        return Err(invalid_code());
    }
    if !reset_code::matches(code, &reset.code_hash) {
        let txn = state.store.begin_write().await?;
        password_resets::count_wrong_attempt(&*txn, reset.id).await?;
        txn.commit().await?;
        return Err(invalid_code());
    }
    let password_hash = state.hasher.hash(new_password).await?;
    let txn = state.store.begin_write().await?;
    // Spent here, conditionally: of two racing confirmations only one gets past this.
    if !password_resets::consume(&*txn, reset.id, MAX_WRONG_CODES).await? {
        return Err(invalid_code());
    }
    users::set_password_hash(&*txn, account.id, password_hash).await?;
    let change = end_all_in(&txn, account.id).await?;
    commit_announced(state, txn, change).await?;
    tracing::info!(user_id = %account.id, "password reset; every session ended");
    Ok(())
}
