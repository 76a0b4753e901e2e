//! migraine-diary: the backend of a headache-day diary.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`]; the binary and the integration
//! tests both call it, so tests exercise exactly the router that runs in production.

#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod store;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::password::PasswordHasher;
use crate::auth::rate_limit::LoginLimiter;
use crate::auth::tokens::TokenKeys;
use crate::config::AuthSettings;
use crate::error::ApiError;
use crate::store::Store;

/// Largest accepted request body: a full 400-day batch with long notes fits.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub tokens: Arc<TokenKeys>,
    pub hasher: PasswordHasher,
    pub login_limiter: Arc<LoginLimiter>,
    /// Admission for the reads that scale with a clinician's whole panel (patient list,
    /// cohort): one per core at a time. They are CPU-bound, so queueing the rest costs no
    /// throughput, and it bounds the memory that many concurrent ones would hold at once.
    pub panel_reads: Arc<tokio::sync::Semaphore>,
    /// The audit trail's writer (see `crate::audit`).
    pub audit: audit::AuditLog,
    pub metrics: Arc<metrics::Metrics>,
    /// CORS and HSTS (`serve`'s flags); the default has both off.
    pub web: web::WebSettings,
}

impl AppState {
    pub fn new(store: Store, auth: &AuthSettings) -> Result<Self, ApiError> {
        Ok(Self {
            audit: audit::AuditLog::start(store.clone()),
            metrics: Arc::new(metrics::Metrics::new()),
            web: web::WebSettings::default(),
            store,
            tokens: Arc::new(TokenKeys::new(auth)),
            hasher: PasswordHasher::new()?,
            login_limiter: Arc::new(LoginLimiter::new(10, Duration::from_secs(15 * 60))),
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

/// The OpenAPI document, exactly as `/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api::router().split_for_parts();
    api::add_problem_responses(&mut doc);
    doc
}

/// The document as committed in `openapi/openapi.json` (pretty JSON, trailing newline).
pub fn openapi_json() -> String {
    let mut text = serde_json::to_string_pretty(&openapi_document()).unwrap_or_default();
    text.push('\n');
    text
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such route.")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked").into_response()
}

/// The whole service: API routes, `/openapi.json`, `/docs`, and the cross-cutting layers.
pub fn app(state: AppState) -> Router {
    let (router, mut doc) = api::router().split_for_parts();
    api::add_problem_responses(&mut doc);
    let x_request_id = HeaderName::from_static("x-request-id");
    let web = state.web.clone();
    let metrics = Arc::clone(&state.metrics);
    let router = router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.audit.clone(),
            audit::layer,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(CatchPanicLayer::custom(panic_response));
    web::layers(router, &web)
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::layer,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                // The route template, not the raw path: ids and dates stay out of the logs.
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |m| m.as_str());
                tracing::info_span!(
                    "request",
                    method = %req.method(),
                    route = %route,
                    request_id = %request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}
