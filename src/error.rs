//! The one error type of the API. Every failure becomes an [`ApiError`] variant and is rendered
//! once, as `application/problem+json` (RFC 9457). Internal errors are logged with their cause
//! and answered with a generic body: no SQL, paths or stack traces ever reach a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::sync::VersionConflict;

/// One invalid field of a request, as listed in a 422 problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field or parameter, as a path into the request (`peak_pain`, `entries[3].date`,
    /// `acute_medications[0].class`, or a query parameter such as `window_days`).
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:migraine-diary:problem:<kind>`); stable, for clients to switch on.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem (the same for every occurrence).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for a human.
    pub detail: String,
    /// Every invalid field (422 only; other problems omit it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldError>>,
    /// Every batch entry whose `if_version` did not hold (412 of the diary batch only; other
    /// problems omit it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conflicts: Option<Vec<VersionConflict>>,
    /// The request's `x-request-id` (also in the response header), to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 128)]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// The path exists but not with this method; the response keeps axum's `Allow` header.
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    #[error("version conflicts")]
    VersionConflicts(Vec<VersionConflict>),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("rate limited")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("request timeout")]
    RequestTimeout,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    pub fn internal(context: impl std::fmt::Display) -> Self {
        Self::Internal(context.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) | Self::VersionConflicts(_) => {
                StatusCode::PRECONDITION_FAILED
            }
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("bad-request", "Malformed request"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("forbidden", "Not allowed for this role"),
            Self::NotFound(_) => ("not-found", "Resource not found"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PreconditionFailed(_) | Self::VersionConflicts(_) => {
                ("precondition-failed", "Version mismatch")
            }
            Self::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            Self::PayloadTooLarge => ("payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            Self::Validation(_) => ("validation", "Validation failed"),
            Self::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            Self::RequestTimeout => ("request-timeout", "Request took too long"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let conflicts = match self {
            Self::VersionConflicts(conflicts) => Some(conflicts.clone()),
            _ => None,
        };
        let (detail, errors) = match self {
            Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::MethodNotAllowed(d)
            | Self::Unavailable(d) => (d.clone(), None),
            Self::PayloadTooLarge => ("The request body exceeds the size limit.".into(), None),
            Self::UnsupportedMediaType => (
                "Send the body in the media type the operation documents (`application/json` \
                 unless it says otherwise)."
                    .into(),
                None,
            ),
            Self::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                (
                    format!("Invalid field(s): {}.", fields.join(", ")),
                    Some(errors.clone()),
                )
            }
            Self::TooManyRequests { retry_after_secs } => (
                format!("Too many attempts; retry after {retry_after_secs} s."),
                None,
            ),
            Self::VersionConflicts(conflicts) => (conflicts_detail(conflicts.len()), None),
            Self::RequestTimeout => (
                "The request was not received and answered in time.".into(),
                None,
            ),
            Self::Internal(_) => ("An unexpected error occurred.".into(), None),
        };
        Problem {
            problem_type: format!("urn:migraine-diary:problem:{kind}"),
            title: title.into(),
            status: self.status().as_u16(),
            detail,
            errors,
            conflicts,
            request_id: None,
        }
    }
}

/// The `detail` of a 412 with `conflicts`.
fn conflicts_detail(n: usize) -> String {
    let days = if n == 1 { "day has" } else { "days have" };
    format!(
        "{n} {days} changed since the version given in `if_version`; nothing was saved. Pull \
         the changes, resolve and push again."
    )
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            Self::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(format!("database: {err}"))
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

/// A domain constructor's problems are one 422 naming every field.
impl From<crate::domain::Problems> for ApiError {
    fn from(problems: crate::domain::Problems) -> Self {
        Self::Validation(
            problems
                .into_iter()
                .map(|p| FieldError::new(p.field, p.message))
                .collect(),
        )
    }
}
