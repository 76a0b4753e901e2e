//! What every HTTP answer carries besides its body: security headers, CORS for the allowed
//! origins only, and the request id inside every problem+json body.

use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, PROBLEM_JSON};

/// The policy of API answers: they are JSON, so nothing may load, run or frame them.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// The policy of the docs page: Swagger UI's own scripts and styles, no inline script, nothing
/// from elsewhere. Swagger UI sets inline `style` attributes and draws icons from `data:`.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";
/// One year, subdomains included, once `--hsts` says the service is only reached over HTTPS.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";
/// Problem bodies are small (a 422 of a full batch is tens of KiB); a larger one, or one of
/// unknown size, is passed through unchanged.
const MAX_PROBLEM_BYTES: u64 = 1024 * 1024;

const CORS_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const CORS_REQUEST_HEADERS: &str = "authorization, content-type, if-match, x-request-id";
const CORS_EXPOSED_HEADERS: &str = "etag, retry-after, x-request-id";
const CORS_MAX_AGE_SECS: &str = "600";

/// The HTTP options of `serve`, resolved.
#[derive(Clone, Debug, Default)]
pub struct WebSettings {
    /// Origins a browser may call the API from (`https://dashboard.example`); empty: CORS off.
    pub cors_origins: Vec<HeaderValue>,
    /// Send `Strict-Transport-Security`.
    pub hsts: bool,
}

/// Checks one `--cors-origins` entry: `scheme://host[:port]`, no path; a trailing `/` is dropped.
pub fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let origin = raw.trim().trim_end_matches('/');
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("CORS origin `{raw}` must start with https:// or http://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '*', ' ', '@']) {
        return Err(format!(
            "CORS origin `{raw}` must be scheme://host[:port] with nothing after it"
        ));
    }
    HeaderValue::from_str(&origin.to_ascii_lowercase())
        .map_err(|_| format!("CORS origin `{raw}` is not a valid header value"))
}

fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// What every answer gets on its way out: the router's 405 as problem+json, the request id in
/// every problem body, the security and cache headers. One middleware, not five: each
/// `from_fn` layer boxes a future and clones the stack below it on every request, and five
/// of them were a fifth of a `/health/live` request.
pub async fn answer_policy(
    State(settings): State<Arc<WebSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let docs = is_docs(request.uri().path());
    let method = request.method().clone();
    let request_id = request.headers().get("x-request-id").cloned();
    let response = next.run(request).await;
    let response = crate::api::method_not_allowed::as_problem(response, &method);
    let mut response = match request_id {
        Some(id) => with_request_id(response, &id).await,
        None => response,
    };
    security_headers(response.headers_mut(), docs, &settings);
    response
}

fn security_headers(headers: &mut axum::http::HeaderMap, docs: bool, settings: &WebSettings) {
    let csp = if docs { DOCS_CSP } else { API_CSP };
    // A route with a policy of its own (an HTML report) keeps it, and one that may be cached
    // says so itself; nothing else is stored anywhere.
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if settings.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

/// CORS for the allowed origins; a request from any other origin passes through untouched and
/// gets no CORS header, so the browser refuses it.
pub async fn cors(
    State(settings): State<Arc<WebSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .filter(|o| settings.cors_origins.contains(o))
        .cloned()
    else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
            headers.insert(name, HeaderValue::from_static(value));
        };
        set(headers, header::ACCESS_CONTROL_ALLOW_METHODS, CORS_METHODS);
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            CORS_REQUEST_HEADERS,
        );
        set(headers, header::ACCESS_CONTROL_MAX_AGE, CORS_MAX_AGE_SECS);
        response
    } else {
        let mut response = next.run(request).await;
        response.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(CORS_EXPOSED_HEADERS),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// Puts the request's `x-request-id` into every problem+json body as `request_id`, whoever
/// produced the problem (a handler, an extractor, the fallback, the panic catcher).
async fn with_request_id(response: Response, request_id: &HeaderValue) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    if !is_problem {
        return response;
    }
    let size = HttpBody::size_hint(response.body()).exact();
    if size.is_none_or(|n| n > MAX_PROBLEM_BYTES) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PROBLEM_BYTES as usize).await else {
        return ApiError::internal("reading a problem body").into_response();
    };
    let mut problem: serde_json::Map<String, serde_json::Value> =
        match serde_json::from_slice(&bytes) {
            Ok(map) => map,
            Err(_) => return Response::from_parts(parts, Body::from(bytes)),
        };
    let id: String = String::from_utf8_lossy(request_id.as_bytes())
        .chars()
        .take(crate::audit::MAX_REQUEST_ID)
        .collect();
    problem.insert("request_id".into(), serde_json::Value::String(id));
    let body = serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin("https://Dash.example:8443/").unwrap(),
            "https://dash.example:8443"
        );
        assert!(parse_origin("dash.example").is_err());
        assert!(parse_origin("https://dash.example/app").is_err());
        assert!(parse_origin("https://*.example").is_err());
        assert!(parse_origin("https://").is_err());
    }
}
