//! The audit trail as patients and administrators read it: who looked at or changed whose data.
//! Rows are written by [`crate::audit`]; nothing here changes them.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dates::optional_iso_date;
use super::extract::{ApiQuery, PatientPath};
use super::pagination::{paginate, PageParams};
use crate::auth::{require_patient_access, Access, AuthUser, Role};
use crate::domain::Problems;
use crate::error::{ApiError, ApiResult};
use crate::store::audit::{self, AuditFilter, AuditRow};
use crate::AppState;

/// What a request did with the patient's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Looked at it (GET).
    Read,
    /// Added to it (POST, or a PUT that created the day).
    Create,
    /// Changed it (PUT, PATCH).
    Update,
    /// Removed part of it (DELETE).
    Delete,
}

impl AuditAction {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "create" => Some(Self::Create),
            "update" => Some(Self::Update),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// One request by someone other than the patient that read or changed the patient's data.
/// Ids only: no health data, and the ids stay after an account is deleted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEvent {
    /// The row's id (time-ordered).
    pub id: Uuid,
    /// When the request was answered.
    pub at: DateTime<Utc>,
    /// Who made the request.
    pub actor_id: Uuid,
    /// The actor's role at the time.
    pub actor_role: Role,
    /// Whose data it concerned.
    pub patient_id: Uuid,
    /// What the request did with the data.
    pub action: AuditAction,
    /// The route template, e.g. `/v1/patients/{patient_id}/diary`.
    #[schema(max_length = 200)]
    pub resource: String,
    /// The HTTP status of the answer: a refused request (403, 404) is recorded too.
    #[schema(minimum = 100, maximum = 599)]
    pub outcome: i32,
    /// The request's `x-request-id`, to find it in the server's logs.
    #[schema(max_length = 128)]
    pub request_id: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = ApiError;

    fn try_from(row: AuditRow) -> ApiResult<Self> {
        let bad = |what: &str| ApiError::internal(format!("audit row {}: bad {what}", row.id));
        Ok(Self {
            actor_role: Role::ALL
                .into_iter()
                .find(|r| r.as_str() == row.actor_role)
                .ok_or_else(|| bad("role"))?,
            action: AuditAction::parse(&row.action).ok_or_else(|| bad("action"))?,
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            patient_id: row.patient_id,
            resource: row.resource,
            outcome: row.outcome,
            request_id: row.request_id,
        })
    }
}

/// One page of the trail, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEventList {
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogParams {
    /// First UTC day (inclusive), `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last UTC day (inclusive), `YYYY-MM-DD`; not before `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminAuditParams {
    /// Only rows about this patient.
    #[param(nullable = false)]
    pub patient_id: Option<Uuid>,
    /// Only rows of requests by this account.
    #[param(nullable = false)]
    pub actor_id: Option<Uuid>,
    /// First UTC day (inclusive), `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Last UTC day (inclusive), `YYYY-MM-DD`; not before `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

/// Validates the shared parameters into a filter and a page size.
fn filter_of(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    limit: Option<i64>,
    cursor: Option<String>,
) -> ApiResult<(AuditFilter, u64)> {
    let mut problems = Problems::new();
    let page = PageParams { limit, cursor }.validate(&mut problems);
    if let (Some(from), Some(to)) = (from, to) {
        problems.check(from <= to, "from", "must not be after `to`");
    }
    problems.or_ok(())?;
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
    let filter = AuditFilter {
        from: from.map(midnight),
        until: to.and_then(|d| d.succ_opt()).map(midnight),
        after: page.after_id()?,
        ..AuditFilter::default()
    };
    Ok((filter, page.limit))
}

/// Reads a page, after the rows of requests answered before this one are written.
async fn page_of(state: &AppState, filter: AuditFilter, limit: u64) -> ApiResult<AuditEventList> {
    state.audit.flush().await;
    let rows = audit::list(&state.store.db, &filter, limit + 1).await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.id.to_string(), |r| r);
    let items = rows
        .into_iter()
        .map(AuditEvent::try_from)
        .collect::<ApiResult<_>>()?;
    Ok(AuditEventList { items, next_cursor })
}

/// Who looked at my data
///
/// The patient only (a linked clinician gets 403, anyone else 404): every request by someone
/// else that read or changed the patient's data, refused ones included, oldest first. `from`
/// and `to` are UTC days, inclusive. The patient's own requests are not listed.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/access-log", tag = "audit",
    operation_id = "getAccessLog",
    security(("bearer" = [])),
    params(PatientPath, AccessLogParams),
    responses((status = 200, description = "A page of the patient's access log", body = AuditEventList)))]
pub(crate) async fn access_log(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<AccessLogParams>,
) -> ApiResult<Json<AuditEventList>> {
    let (mut filter, limit) = filter_of(params.from, params.to, params.limit, params.cursor)?;
    require_patient_access(&state, caller, patient_id, Access::PatientOnly).await?;
    filter.patient_id = Some(patient_id.0);
    Ok(Json(page_of(&state, filter, limit).await?))
}

/// Read the audit trail
///
/// Admin only: the whole trail, filtered by patient, actor and UTC days (inclusive), oldest
/// first.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", operation_id = "listAuditEvents",
    security(("bearer" = [])),
    params(AdminAuditParams),
    responses((status = 200, description = "A page of the trail", body = AuditEventList)))]
pub(crate) async fn admin_audit(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(params): ApiQuery<AdminAuditParams>,
) -> ApiResult<Json<AuditEventList>> {
    caller.require(Role::Admin)?;
    let (mut filter, limit) = filter_of(params.from, params.to, params.limit, params.cursor)?;
    filter.patient_id = params.patient_id;
    filter.actor_id = params.actor_id;
    Ok(Json(page_of(&state, filter, limit).await?))
}
