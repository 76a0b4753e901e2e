//! Budgets counted in the database, shared by every instance on it.
//!
//! A login attempt is counted first, in one transaction, in three buckets — the client address,
//! the account from that address, the account from anywhere — and only then is the password
//! checked; a correct password takes the hit back. So a burst of concurrent guesses gets exactly
//! the budget's worth of password checks, on one instance or many. An attempt refused by one
//! bucket is counted in none (the transaction is rolled back): an attacker who is being refused
//! cannot push the account's ceiling up and lock the owner out.
//!
//! Buckets are named by a SHA-256 of what they count, so a row has the same size whatever the
//! attacker sends, and the rows of ended windows are pruned.

use std::net::IpAddr;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::client::client_key;
use super::{Budget, LimitSettings};
use crate::error::{ApiError, ApiResult};
use crate::store::{throttle, Store};

/// What a bucket counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    LoginClient,
    LoginAccountClient,
    LoginAccount,
    Register,
    PasswordReset,
}

impl Scope {
    fn tag(self) -> &'static str {
        match self {
            Self::LoginClient => "login:client",
            Self::LoginAccountClient => "login:account+client",
            Self::LoginAccount => "login:account",
            Self::Register => "register:client",
            Self::PasswordReset => "password-reset:client",
        }
    }
}

/// The fixed-size name of a bucket.
fn bucket(scope: Scope, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(scope.tag().as_bytes());
    for part in parts {
        hash.update([0u8]);
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// Seconds until a window ending at `expires_at` is over, at least 1.
pub fn retry_after(expires_at: i64, now: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

/// Email as the login counts it: case and surrounding whitespace do not make another account.
pub fn login_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The database-backed budgets.
#[derive(Clone, Debug)]
pub struct Throttle {
    store: Store,
    limits: Arc<LimitSettings>,
}

/// A counted login attempt; call [`LoginAttempt::succeeded`] when the password was right.
#[derive(Debug)]
#[must_use]
pub struct LoginAttempt {
    client: String,
    account_client: String,
    account: String,
}

impl Throttle {
    pub fn new(store: Store, limits: Arc<LimitSettings>) -> Self {
        Self { store, limits }
    }

    /// Counts hits on `buckets` in order, in one transaction; 429 (and nothing counted) when
    /// one of them is over its budget.
    async fn spend(&self, buckets: &[(&str, Budget)], now: i64) -> ApiResult<()> {
        let txn = self.store.begin_write().await?;
        throttle::relax_durability(&*txn).await?;
        for (name, budget) in buckets {
            let window = i64::try_from(budget.window_secs).unwrap_or(i64::MAX / 2);
            let count = throttle::hit(&*txn, name, now, window).await?;
            if count.hits > i64::from(budget.max) {
                txn.rollback().await?;
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: retry_after(count.expires_at, now),
                });
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Counts a login attempt for `email` from `client` before its password is checked.
    pub async fn login_attempt(&self, email: &str, client: IpAddr) -> ApiResult<LoginAttempt> {
        let email = login_key(email);
        let client = client_key(client);
        let attempt = LoginAttempt {
            client: bucket(Scope::LoginClient, &[&client]),
            account_client: bucket(Scope::LoginAccountClient, &[&email, &client]),
            account: bucket(Scope::LoginAccount, &[&email]),
        };
        let l = &self.limits;
        self.spend(
            &[
                (&attempt.client, l.login_per_client),
                (&attempt.account_client, l.login_per_account_client),
                (&attempt.account, l.login_per_account),
            ],
            now_secs(),
        )
        .await?;
        Ok(attempt)
    }

    /// The password was right: the owner's failures from this address are forgiven, and this
    /// attempt does not count against the address or the account.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) -> ApiResult<()> {
        let txn = self.store.begin_write().await?;
        throttle::relax_durability(&*txn).await?;
        throttle::clear(&*txn, &attempt.account_client).await?;
        throttle::refund(&*txn, &attempt.client).await?;
        throttle::refund(&*txn, &attempt.account).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Counts a sign-up from `client`; 429 when over budget.
    pub async fn register(&self, client: IpAddr) -> ApiResult<()> {
        let name = bucket(Scope::Register, &[&client_key(client)]);
        self.spend(&[(&name, self.limits.register_per_client)], now_secs())
            .await
    }

    /// Counts a password-reset request from `client`; 429 when over budget.
    pub async fn password_reset(&self, client: IpAddr) -> ApiResult<()> {
        let name = bucket(Scope::PasswordReset, &[&client_key(client)]);
        self.spend(
            &[(&name, self.limits.password_reset_per_client)],
            now_secs(),
        )
        .await
    }

    /// Deletes the buckets whose windows ended before `now` (Unix seconds).
    pub async fn prune(&self, now: i64) -> ApiResult<u64> {
        let txn = self.store.begin_write().await?;
        let n = throttle::prune(&*txn, now).await?;
        txn.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_have_a_fixed_size_and_separate_scopes() {
        let long = "x".repeat(1 << 20);
        assert_eq!(bucket(Scope::LoginAccount, &[&long]).len(), 64);
        assert_ne!(
            bucket(Scope::LoginAccount, &["a@b.co"]),
            bucket(Scope::LoginClient, &["a@b.co"])
        );
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            bucket(Scope::LoginAccountClient, &["ab", "c"]),
            bucket(Scope::LoginAccountClient, &["a", "bc"])
        );
    }

    #[test]
    fn emails_count_alike_whatever_their_case_and_padding() {
        assert_eq!(
            login_key("  Ana@Example.ORG\t"),
            login_key("ana@example.org")
        );
    }

    #[test]
    fn retry_after_is_at_least_a_second() {
        assert_eq!(retry_after(1_000, 400), 600);
        assert_eq!(retry_after(1_000, 1_000), 1);
        assert_eq!(retry_after(1_000, 2_000), 1);
    }
}
