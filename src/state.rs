//! [`AppState`]: what every request handler shares (the store, the token keys, the password
//! hasher, the abuse limits and the admission gate for panel-wide reads).

use std::sync::Arc;

use crate::auth::password::PasswordHasher;
use crate::auth::tokens::TokenKeys;
use crate::config::AuthSettings;
use crate::error::ApiError;
use crate::limits::{CallerLimiter, LimitSettings, Throttle};
use crate::store::Store;

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub tokens: Arc<TokenKeys>,
    pub hasher: PasswordHasher,
    /// The budgets, and who is behind a trusted proxy.
    pub limits: Arc<LimitSettings>,
    /// Login, sign-up and reset budgets, counted in the database.
    pub throttle: Throttle,
    /// Request rate per authenticated caller.
    pub caller_limit: Arc<CallerLimiter>,
    /// Admission for the reads that scale with a clinician's whole panel (patient list,
    /// cohort): one per core at a time. They are CPU-bound, so queueing the rest costs no
    /// throughput, and it bounds the memory that many concurrent ones would hold at once.
    pub panel_reads: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State with the default limits.
    pub fn new(store: Store, auth: &AuthSettings) -> Result<Self, ApiError> {
        Self::with_limits(store, auth, LimitSettings::default())
    }

    pub fn with_limits(
        store: Store,
        auth: &AuthSettings,
        limits: LimitSettings,
    ) -> Result<Self, ApiError> {
        let limits = Arc::new(limits);
        Ok(Self {
            throttle: Throttle::new(store.clone(), Arc::clone(&limits)),
            caller_limit: Arc::new(CallerLimiter::new(
                limits.caller_per_minute,
                limits.caller_burst,
            )),
            limits,
            store,
            tokens: Arc::new(TokenKeys::new(auth)),
            hasher: PasswordHasher::new()?,
            panel_reads: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        })
    }

    /// Waits for a panel-read permit (see `panel_reads`); hold it while the read runs.
    pub async fn admit_panel_read(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.panel_reads
            .acquire()
            .await
            .map_err(|e| ApiError::internal(format!("panel reads closed: {e}")))
    }
}
