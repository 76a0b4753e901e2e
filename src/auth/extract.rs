//! The [`AuthUser`] extractor: a verified bearer token of a live session, or a 401.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::Role;
use crate::domain::{PatientId, UserId};
use crate::error::ApiError;
use crate::state::AppState;

/// The caller, from a valid access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
}

impl AuthUser {
    /// The caller's id as a patient's, for the routes about the caller's own care team (the
    /// role is checked with [`AuthUser::require`] first).
    pub fn as_patient(self) -> PatientId {
        PatientId(self.id.0)
    }

    /// 403 unless the caller has `role`.
    pub fn require(self, role: Role) -> Result<Self, ApiError> {
        if self.role == role {
            Ok(self)
        } else {
            Err(ApiError::Forbidden(format!(
                "This operation is for the {} role.",
                role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("Missing bearer token.".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("Authorization must be `Bearer <token>`.".into())
            })?;
        let claims = state
            .tokens
            .verify_access(token)
            .ok_or_else(|| ApiError::Unauthorized("Invalid or expired token.".into()))?;
        // The session must still be live and the account still hold the token's role; then the
        // caller's request rate (keys only from live sessions, so the map stays bounded).
        let caller = state.sessions.authorize(&claims).await?;
        if let Some(scope) = parts.extensions.get::<crate::audit::AuditScope>() {
            scope.set_actor(caller);
        }
        state.caller_limit.check(caller.id.0)?;
        Ok(caller)
    }
}
