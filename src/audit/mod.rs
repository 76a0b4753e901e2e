//! The audit trail: one row per patient concerned for every request by someone other than
//! that patient that reads or changes the patient's data, whatever its outcome.
//!
//! Nothing per route has to remember it. The [`layer`] runs around every matched route: when the
//! route template names a `{patient_id}`, that patient is concerned; the [`AuthUser`] extractor
//! tells the request's [`AuditScope`] who is calling; reads that pool a clinician's whole panel
//! (the patient list, the cohort) add the patients they pooled with [`AuditScope::pooled`].
//! Once the response's status is known, the rows go to the [`AuditLog`] writer.
//!
//! The writer appends rows in batches off the request path (see [`AuditLog`]). A request whose
//! caller is not authenticated (401) has no actor and adds no row.

pub mod writer;

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::store::audit::Recording;
pub use writer::AuditLog;

/// The longest request id kept in a row (a client may send its own `x-request-id`).
pub const MAX_REQUEST_ID: usize = 128;

/// What a request did with a patient's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    /// From the method, and for PUT (an upsert) from whether it created the resource.
    pub fn of(method: &Method, status: StatusCode) -> Self {
        match *method {
            Method::POST => Self::Create,
            Method::PUT if status == StatusCode::CREATED => Self::Create,
            Method::PUT | Method::PATCH => Self::Update,
            Method::DELETE => Self::Delete,
            _ => Self::Read,
        }
    }
}

#[derive(Debug, Default)]
struct Scope {
    actor: Option<AuthUser>,
    pooled: Vec<Uuid>,
}

/// Who is calling and which pooled patients a request concerns; one per request, shared by
/// the layer, the [`AuthUser`] extractor and the panel handlers. Outside the layer (a detached
/// scope) it records into nothing.
#[derive(Clone, Debug, Default)]
pub struct AuditScope(Arc<Mutex<Scope>>);

impl AuditScope {
    fn with<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> R {
        let mut scope = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut scope)
    }

    /// The authenticated caller (set by the [`AuthUser`] extractor).
    pub fn set_actor(&self, actor: AuthUser) {
        self.with(|s| s.actor = Some(actor));
    }

    /// Patients whose data a panel read pooled (the patient list's page, the cohort).
    pub fn pooled(&self, patients: impl IntoIterator<Item = Uuid>) {
        self.with(|s| s.pooled.extend(patients));
    }

    /// The rows this request adds, once its status is known (none without an actor).
    fn recording(&self, request: &RequestFacts, status: StatusCode) -> Option<Recording> {
        let (actor, mut patients) = self.with(|s| (s.actor, std::mem::take(&mut s.pooled)));
        let actor = actor?;
        patients.extend(request.patient);
        patients.retain(|p| *p != actor.id.0);
        if patients.is_empty() {
            return None;
        }
        patients.sort_unstable();
        patients.dedup();
        Some(Recording {
            at: crate::store::now(),
            actor_id: actor.id.0,
            actor_role: actor.role.as_str(),
            action: Action::of(&request.method, status).as_str(),
            resource: request.template,
            outcome: i32::from(status.as_u16()),
            request_id: request.request_id(),
            patients,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuditScope {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_default())
    }
}

/// What the layer notes of a request before it runs. Nothing of it is copied: most requests
/// record no row, and copying the template and the request id into strings of their own was two
/// allocations on every one.
struct RequestFacts {
    template: &'static str,
    method: Method,
    patient: Option<Uuid>,
    request_id: Option<HeaderValue>,
}

impl RequestFacts {
    fn request_id(&self) -> String {
        self.request_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(MAX_REQUEST_ID).collect())
            .unwrap_or_default()
    }
}

/// The `{patient_id}` of `path` under the route `template`, when the template has one.
pub fn patient_in_path(template: &str, path: &str) -> Option<Uuid> {
    let index = template.split('/').position(|s| s == "{patient_id}")?;
    path.split('/').nth(index)?.parse().ok()
}

/// The audit layer (see the module documentation). Routes that matched nothing (404 fallback)
/// concern no patient.
pub async fn layer(State(log): State<AuditLog>, mut request: Request, next: Next) -> Response {
    if cfg!(feature = "unaudited-benchmark") {
        return next.run(request).await;
    }
    let Some(template) = request.extensions().get::<MatchedPath>() else {
        return next.run(request).await;
    };
    let template = crate::metrics::route_template(template);
    let facts = RequestFacts {
        patient: patient_in_path(template, request.uri().path()),
        method: request.method().clone(),
        request_id: request.headers().get("x-request-id").cloned(),
        template,
    };
    let scope = AuditScope::default();
    request.extensions_mut().insert(scope.clone());
    let mut pending = Abandoned {
        scope,
        facts: Some(facts),
        log,
    };
    let response = next.run(request).await;
    if let Some(facts) = pending.facts.take() {
        if let Some(recording) = pending.scope.recording(&facts, response.status()) {
            pending.log.record(recording).await;
        }
    }
    response
}

/// The status recorded for a request whose client went away before it was answered (as
/// nginx logs it).
const CLIENT_CLOSED: u16 = 499;

/// Records a request whose handler was dropped before it answered (the client closed the
/// connection), with outcome 499: a change committed just before still gets its row.
struct Abandoned {
    scope: AuditScope,
    facts: Option<RequestFacts>,
    log: AuditLog,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        let Some(facts) = self.facts.take() else {
            return;
        };
        let status = StatusCode::from_u16(CLIENT_CLOSED).unwrap_or(StatusCode::REQUEST_TIMEOUT);
        if let Some(recording) = self.scope.recording(&facts, status) {
            self.log.record_detached(recording);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::domain::UserId;

    #[test]
    fn the_patient_is_read_from_the_template_position() {
        let id = Uuid::now_v7();
        assert_eq!(
            patient_in_path(
                "/v1/patients/{patient_id}/diary/{date}",
                &format!("/v1/patients/{id}/diary/2026-01-01")
            ),
            Some(id)
        );
        assert_eq!(patient_in_path("/v1/patients", "/v1/patients"), None);
        assert_eq!(
            patient_in_path("/v1/patients/{patient_id}", "/v1/patients/not-a-uuid"),
            None
        );
    }

    #[test]
    fn own_data_adds_no_row_and_others_one_per_patient() {
        let me = AuthUser {
            id: UserId(Uuid::now_v7()),
            role: Role::Clinician,
        };
        let other = Uuid::now_v7();
        let facts = RequestFacts {
            template: "/v1/patients",
            method: Method::GET,
            patient: None,
            request_id: Some(HeaderValue::from_static("r")),
        };
        let scope = AuditScope::default();
        scope.pooled([other]);
        assert_eq!(scope.recording(&facts, StatusCode::OK), None, "no actor");
        scope.set_actor(me);
        scope.pooled([me.id.0]);
        assert_eq!(
            scope.recording(&facts, StatusCode::OK),
            None,
            "only the caller"
        );
        scope.pooled([other, other, me.id.0]);
        let recording = scope
            .recording(&facts, StatusCode::OK)
            .expect("a recording");
        assert_eq!(recording.patients, vec![other]);
        assert_eq!(recording.action, "read");
        assert_eq!(recording.outcome, 200);
        assert_eq!(recording.request_id, "r");
        assert_eq!(recording.actor_role, "clinician");
    }

    #[test]
    fn an_upsert_that_creates_is_a_create() {
        assert_eq!(
            Action::of(&Method::PUT, StatusCode::CREATED),
            Action::Create
        );
        assert_eq!(Action::of(&Method::PUT, StatusCode::OK), Action::Update);
        assert_eq!(
            Action::of(&Method::PUT, StatusCode::FORBIDDEN),
            Action::Update
        );
        assert_eq!(
            Action::of(&Method::GET, StatusCode::NOT_FOUND),
            Action::Read
        );
    }
}
