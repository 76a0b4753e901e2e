//! [`AppState`]: what every request handler shares (the store, the token keys, the password
//! hasher, the abuse limits, the admission gate for panel-wide reads, the session cache, the
//! password-reset worker, the audit writer, the metrics and the HTTP settings).

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::auth::password::PasswordHasher;
use crate::auth::sessions::Sessions;
use crate::auth::tokens::TokenKeys;
use crate::config::AuthSettings;
use crate::error::ApiError;
use crate::limits::{CallerLimiter, LimitSettings, Throttle};
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::service::password_reset::ResetQueue;
use crate::store::Store;
use crate::web::WebSettings;

/// What every request handler shares: one `Arc`, so that a clone is one reference count.
///
/// axum clones the state into every layer and extractor that asks for it, several times per
/// request. As a struct of a dozen `Arc`s and pools, each clone and drop touched a dozen shared
/// counters, which both cores then fought over: a fifth of a `/health/live` profile was
/// `AppState::clone` and its drop.
#[derive(Clone, Debug)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Clone, Debug)]
pub struct SharedState {
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
    /// Which sessions are live: the per-request check, cached and kept exact across instances.
    pub sessions: Sessions,
    /// Password-reset requests, handled off the request path.
    pub password_resets: ResetQueue,
    /// The audit trail's writer (see `crate::audit`).
    pub audit: AuditLog,
    pub metrics: Arc<Metrics>,
    /// CORS and HSTS (`serve`'s flags); the default has both off.
    pub web: WebSettings,
}

impl AppState {
    /// A state with the default limits that sends no mail (tests, tools).
    pub fn new(store: Store, auth: &AuthSettings) -> Result<Self, ApiError> {
        Self::build(store, auth, LimitSettings::default(), Mailer::disabled())
    }

    /// As [`AppState::new`], with a mailer.
    pub fn with_mailer(
        store: Store,
        auth: &AuthSettings,
        mailer: Mailer,
    ) -> Result<Self, ApiError> {
        Self::build(store, auth, LimitSettings::default(), mailer)
    }

    /// As [`AppState::new`], with other budgets.
    pub fn with_limits(
        store: Store,
        auth: &AuthSettings,
        limits: LimitSettings,
    ) -> Result<Self, ApiError> {
        Self::build(store, auth, limits, Mailer::disabled())
    }

    /// Starts the session listener (PostgreSQL) and the password-reset worker: call inside a
    /// Tokio runtime.
    pub fn build(
        store: Store,
        auth: &AuthSettings,
        limits: LimitSettings,
        mailer: Mailer,
    ) -> Result<Self, ApiError> {
        let limits = Arc::new(limits);
        Ok(Self(Arc::new(SharedState {
            throttle: Throttle::new(store.clone(), Arc::clone(&limits)),
            caller_limit: Arc::new(CallerLimiter::new(
                limits.caller_per_minute,
                limits.caller_burst,
            )),
            limits,
            sessions: Sessions::new(store.db.clone()),
            password_resets: ResetQueue::start(store.clone(), mailer),
            audit: AuditLog::start(store.clone()),
            metrics: Arc::new(Metrics::new()),
            web: WebSettings::default(),
            store,
            tokens: Arc::new(TokenKeys::new(auth)),
            hasher: PasswordHasher::new()?,
            panel_reads: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        })))
    }

    /// The same state with other HTTP settings (`serve`'s CORS and HSTS flags).
    pub fn with_web(mut self, web: WebSettings) -> Self {
        Arc::make_mut(&mut self.0).web = web;
        self
    }

    /// Waits for a panel-read permit (see `panel_reads`); hold it while the read runs.
    pub async fn admit_panel_read(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.panel_reads
            .acquire()
            .await
            .map_err(|e| ApiError::internal(format!("panel reads closed: {e}")))
    }
}
