//! Prometheus metrics, served on their own listener (`--metrics-bind`, off by default) so that
//! they never sit on the public API: request counts and latency by route template and status,
//! rate-limited requests, the database pool, the SQLite write queue and the audit backlog.
//!
//! Routes are labelled by template (`/v1/patients/{patient_id}/diary`), never by raw path, so the
//! number of series stays bounded whatever clients send.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

/// The content type of the OpenMetrics text that Prometheus scrapes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// Labels are static strings: a request allocates nothing to be counted.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// The method's label: the standard methods by name, any other as `OTHER` (a client may send
/// any token as a method; each would have been a series of its own).
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    STANDARD
        .iter()
        .find(|(m, _)| m == method)
        .map_or("OTHER", |(_, name)| name)
}

/// The route's label: its template, or [`UNMATCHED`].
fn route_label(path: Option<&MatchedPath>) -> &'static str {
    path.map_or(UNMATCHED, route_template)
}

/// A route template as a static string, each kept once for the life of the process: the
/// metrics' labels and the audit trail's resource, without an allocation per request. They come
/// from the router's own route table (`MatchedPath`), never from a client, so they are few.
pub fn route_template(path: &MatchedPath) -> &'static str {
    static ROUTES: RwLock<Option<HashSet<&'static str>>> = RwLock::new(None);
    let path = path.as_str();
    let known = ROUTES.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = known.as_ref().and_then(|r| r.get(path)) {
        return known;
    }
    drop(known);
    let mut routes = ROUTES.write().unwrap_or_else(PoisonError::into_inner);
    let routes = routes.get_or_insert_with(HashSet::new);
    match routes.get(path) {
        Some(known) => known,
        None => {
            let leaked: &'static str = Box::leak(path.to_owned().into_boxed_str());
            routes.insert(leaked);
            leaked
        }
    }
}

type HistogramMaker = fn() -> Histogram;

/// Latency buckets from 1 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 15,
    ))
}

/// Every metric of the process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, HistogramMaker>,
    rate_limited: Family<RouteLabels, Counter>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    write_queue: Gauge,
    audit_backlog: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, HistogramMaker>::new_with_constructor(
            latency_histogram as HistogramMaker,
        );
        let rate_limited = Family::<RouteLabels, Counter>::default();
        let [pool_connections, pool_idle, pool_max, write_queue, audit_backlog] =
            std::array::from_fn(|_| Gauge::default());
        registry.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by method, route template and status",
            latency.clone(),
        );
        registry.register(
            "http_rate_limited",
            "Requests refused by a rate limit (429), by route template",
            rate_limited.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Open database connections not in use",
            pool_idle.clone(),
        );
        registry.register(
            "db_pool_max",
            "Largest number of database connections the pool opens",
            pool_max.clone(),
        );
        registry.register(
            "db_write_queue",
            "Write transactions waiting for the SQLite writer (0 on PostgreSQL)",
            write_queue.clone(),
        );
        registry.register(
            "audit_backlog",
            "Audit rows recorded but not yet in the database",
            audit_backlog.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            rate_limited,
            pool_connections,
            pool_idle,
            pool_max,
            write_queue,
            audit_backlog,
        }
    }

    fn observe(&self, method: &'static str, route: &'static str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method,
            route,
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
        if status == 429 {
            self.rate_limited
                .get_or_create(&RouteLabels { route })
                .inc();
        }
    }

    /// The text a scrape answers, with the gauges read now.
    pub fn render(&self, state: &AppState) -> String {
        let pool = state.store.pool_use();
        self.pool_connections.set(i64::from(pool.open));
        self.pool_idle.set(pool.idle as i64);
        self.pool_max.set(i64::from(pool.max));
        self.write_queue.set(state.store.writers_waiting() as i64);
        self.audit_backlog.set(state.audit.backlog());
        self.encode()
    }

    fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        text
    }
}

/// Counts and times every request, labelled by its route template.
pub async fn layer(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = route_label(request.extensions().get::<MatchedPath>());
    let response = next.run(request).await;
    metrics.observe(
        method,
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn scrape(State(state): State<AppState>) -> Response {
    let mut response = state.metrics.render(&state).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// The metrics listener's service: `GET /metrics`, nothing else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_counts_as_rate_limited_under_its_route() {
        let metrics = Metrics::new();
        metrics.observe("POST", "/v1/auth/login", 401, 0.01);
        metrics.observe("POST", "/v1/auth/login", 429, 0.001);
        metrics.observe("POST", "/v1/auth/login", 429, 0.001);
        let text = metrics.encode();
        assert!(
            text.contains("http_rate_limited_total{route=\"/v1/auth/login\"} 2"),
            "{text}"
        );
        assert!(text.contains(
            "http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"401\"} 1"
        ));
    }

    #[test]
    fn labels_are_bounded_whatever_the_client_sends() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
        assert_eq!(route_label(None), UNMATCHED);
    }
}
