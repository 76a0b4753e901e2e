//! The HTTP API: one module per resource, each with its handlers and request/response types;
//! `crate::router` lists every route. This module holds the OpenAPI document's frame ([`ApiDoc`])
//! and the problem responses every operation shares.

pub mod accounts;
pub mod audit;
pub mod care_team;
pub mod changes;
pub mod contract;
pub mod data_rights;
pub mod dates;
pub mod diary;
pub mod extract;
pub mod health;
pub mod method_not_allowed;
pub mod outcomes;
pub mod pagination;
pub mod password;
pub mod patients;
pub mod questionnaires;
pub mod record;
pub mod serde_messages;
mod strict_json;
pub mod treatments;
pub mod validate;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Object, OpenApi as OpenApiDoc, Ref, RefOr, Type};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::{FieldError, Problem, PROBLEM_JSON};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "migraine-diary",
        description = "Backend of a headache-day diary. Patients log each day's headache and \
            medicines; clinics record treatments (IV ketamine, magnesium, dopamine antagonists, \
            nerve blocks); clinicians compare the 28 days before a treatment with the 28 days \
            after it.\n\nDates are calendar days in the patient's own time zone (`YYYY-MM-DD`); \
            instants are RFC 3339. Errors are `application/problem+json` (RFC 9457); a 422 lists \
            every invalid field in `errors`. Lists take `limit` (1–1000, default 100) and \
            `cursor` and answer `{items, next_cursor}`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    // An absolute URL first: generators take the first server as the client's default base URL,
    // and `/` alone gives Go an empty one and Java/Dart `http://localhost`.
    servers(
        (url = "http://127.0.0.1:8080", description = "A local server on the default `--bind` address"),
        (url = "/", description = "The server that serves this document")
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Sign-up, login and sessions"),
        (name = "accounts", description = "The caller's own account"),
        (name = "admin", description = "Staff accounts (admin only)"),
        (name = "care team", description = "Linking patients and clinicians"),
        (name = "patients", description = "Patient profiles"),
        (name = "diary", description = "The daily headache diary"),
        (name = "treatments", description = "Treatment events"),
        (name = "sync", description = "The patient app's changes feed (README, Sync protocol)"),
        (name = "questionnaires", description = "MIDAS and HIT-6 questionnaires, scored"),
        (name = "outcomes", description = "Before/after summaries, calendars and cohorts (docs/clinical-rules.md)"),
        (name = "audit", description = "Who read or changed a patient's data"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `/v1/auth/login` or `/v1/auth/refresh`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The reusable problem responses, by status.
const PROBLEMS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Malformed JSON, an unknown field, or a malformed path parameter.",
    ),
    (
        "401",
        "Unauthorized",
        "Missing, invalid or expired token, or bad credentials.",
    ),
    (
        "403",
        "Forbidden",
        "Authenticated, but the operation is not for the caller's role.",
    ),
    (
        "404",
        "NotFound",
        "No such resource, or a patient the caller may not see.",
    ),
    (
        "409",
        "Conflict",
        "The resource exists already or was used already.",
    ),
    (
        "412",
        "PreconditionFailed",
        "`If-Match` does not match the stored version.",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is larger than 2 MiB.",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not in the operation's media type (`application/json`; `text/csv` for the CSV import).",
    ),
    (
        "422",
        "ValidationFailed",
        "One or more fields are invalid; `errors` names each.",
    ),
    (
        "429",
        "TooManyRequests",
        "Too many attempts or requests; wait `Retry-After` seconds.",
    ),
    (
        "500",
        "InternalError",
        "Unexpected failure; the body carries no internals.",
    ),
    (
        "503",
        "ServiceUnavailable",
        "The database is not reachable.",
    ),
];

/// The problem response of `status`, as the components section holds it.
fn problem_response(status: &str) -> (&'static str, RefOr<Response>) {
    let (_, name, description) = PROBLEMS
        .iter()
        .find(|(s, _, _)| *s == status)
        .copied()
        .unwrap_or(("500", "InternalError", "Unexpected failure."));
    let content = Content::new(Some(Ref::from_schema_name("Problem")));
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    if status == "429" {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds to wait before retrying."))
                .build(),
        );
    }
    (name, RefOr::T(response.build()))
}

/// Declares the statuses that only some operations answer, for `#[utoipa::path]`:
/// `responses(..., (status = 409, response = Conflict))` references the shared problem response.
macro_rules! operation_problems {
    ($($(#[$doc:meta])* $name:ident = $status:literal;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    problem_response($status)
                }
            }
        )*
    };
}

operation_problems! {
    /// 401 beyond the token check: bad credentials, a spent refresh token.
    Unauthorized = "401";
    /// 409: the resource exists already or was used already.
    Conflict = "409";
    /// 412: `If-Match` does not match the stored version.
    PreconditionFailed = "412";
    /// 429: too many attempts, with `Retry-After`.
    TooManyRequests = "429";
    /// 503: the database is not reachable.
    ServiceUnavailable = "503";
}

/// Adds the problem+json responses to every operation: 400/422/500 everywhere; 401/403/429 where a
/// token is needed; 404 where the path names a resource; 413/415 where a body is read. Kept here,
/// once, rather than repeated on every handler; the statuses only some operations answer are
/// declared on their own `#[utoipa::path]` (see [`operation_problems!`]).
pub fn add_problem_responses(doc: &mut OpenApiDoc) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, _, _) in PROBLEMS {
        let (name, response) = problem_response(status);
        components.responses.insert(name.into(), response);
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_param = path.contains('{');
        for operation in contract::operations_mut(item) {
            add_to_operation(operation, has_path_param);
        }
    }
}

fn add_to_operation(operation: &mut Operation, has_path_param: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    if !secured {
        // Say explicitly that the operation needs no token (`security: []`), so that linters
        // and generators do not have to guess.
        operation.security = Some(Vec::new());
    }
    let mut statuses: Vec<&str> = vec!["400", "422", "500"];
    if secured {
        // 429: the per-caller request rate (`limits::caller`).
        statuses.extend(["401", "403", "429"]);
    }
    if has_path_param {
        statuses.push("404");
    }
    if operation.request_body.is_some() {
        statuses.extend(["413", "415"]);
    }
    for status in statuses {
        if let Some((_, name, _)) = PROBLEMS.iter().find(|(s, _, _)| *s == status) {
            operation
                .responses
                .responses
                .entry(status.into())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
}
