//! Limits against abuse that an attacker cannot turn against a patient.
//!
//! - [`throttle`]: budgets for failed logins, sign-ups and password resets, counted in the
//!   database (so every instance on one PostgreSQL spends one budget) and counted *before* the
//!   password is checked (so a burst cannot slip past the count).
//! - [`caller`]: a per-caller request rate for authenticated routes, an in-process token bucket.
//! - [`client`]: who the client is: the socket's peer, or `X-Forwarded-For` behind a trusted proxy.

pub mod caller;
pub mod client;
pub mod throttle;

pub use caller::CallerLimiter;
pub use client::{ClientAddr, TrustedProxies};
pub use throttle::Throttle;

/// At most `max` hits per `window_secs`, the window starting at the first hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub max: u32,
    pub window_secs: u64,
}

impl Budget {
    pub const fn new(max: u32, window_secs: u64) -> Self {
        Self { max, window_secs }
    }
}

/// Every budget, resolved from the command line (`config::LimitArgs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    /// Failed logins for one account from one client address: the guessing budget.
    pub login_per_account_client: Budget,
    /// Failed logins from one client address over any accounts: password spraying.
    pub login_per_client: Budget,
    /// Failed logins for one account from anywhere: a ceiling far above the per-client one, so
    /// one attacking address can never use it up and lock the owner out.
    pub login_per_account: Budget,
    /// Sign-ups from one client address.
    pub register_per_client: Budget,
    /// Password-reset requests from one client address.
    pub password_reset_per_client: Budget,
    /// Requests per minute of one authenticated caller (sustained rate).
    pub caller_per_minute: u32,
    /// Requests one authenticated caller may send at once above the sustained rate.
    pub caller_burst: u32,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_per_account_client: Budget::new(10, 15 * 60),
            login_per_client: Budget::new(100, 15 * 60),
            login_per_account: Budget::new(1000, 15 * 60),
            register_per_client: Budget::new(20, 60 * 60),
            password_reset_per_client: Budget::new(10, 60 * 60),
            caller_per_minute: 600,
            caller_burst: 100,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Every minute: prune ended throttle windows and callers whose buckets are full again, so that
/// neither the table nor the map outgrows what the budgets allow.
pub async fn maintain(state: crate::AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match state.throttle.prune(chrono::Utc::now().timestamp()).await {
            Ok(n) if n > 0 => tracing::debug!(pruned = n, "throttle windows pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning throttle windows failed"),
        }
        state.caller_limit.prune();
    }
}
