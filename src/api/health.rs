//! Liveness and readiness for orchestrators and load balancers.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ServiceUnavailable;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `ok` when the check passed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Ok,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthStatus {
    pub status: HealthState,
}

/// Liveness
///
/// 200 while the process serves requests; touches nothing else.
#[utoipa::path(get, path = "/health/live", tag = "health", operation_id = "getLiveness",
    responses((status = 200, description = "Alive", body = HealthStatus)))]
pub(crate) async fn live() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: HealthState::Ok,
    })
}

/// Readiness
///
/// 200 when the database answers; 503 otherwise.
#[utoipa::path(get, path = "/health/ready", tag = "health", operation_id = "getReadiness",
    responses((status = 200, description = "Ready", body = HealthStatus),
        (status = 503, response = ServiceUnavailable)))]
pub(crate) async fn ready(State(state): State<AppState>) -> ApiResult<Json<HealthStatus>> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: database unavailable");
        ApiError::Unavailable("The database is not reachable.".into())
    })?;
    Ok(Json(HealthStatus {
        status: HealthState::Ok,
    }))
}
