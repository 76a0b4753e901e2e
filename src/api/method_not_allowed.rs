//! 405 answers as problem+json. axum's router answers a known path with an unsupported method
//! (including a CORS preflight `OPTIONS` when no CORS layer handles it) with 405, an `Allow`
//! header and an empty body; [`as_problem`] (called by `crate::web`'s answer policy) gives that
//! answer the API's problem+json body and keeps the `Allow` header, so clients see one error
//! format everywhere.

use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, PROBLEM_JSON};

/// Replaces the body of the router's own 405 answers (those that are not problem+json yet) to
/// a `method` request.
pub fn as_problem(response: Response, method: &Method) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes())
    {
        return response;
    }
    let allow = response.headers().get(ALLOW).cloned();
    let allowed = allow
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut problem = ApiError::MethodNotAllowed(format!(
        "{method} is not supported on this path; use one of: {allowed}."
    ))
    .into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(ALLOW, allow);
    }
    problem
}
