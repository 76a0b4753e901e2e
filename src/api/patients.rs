//! Patient profiles as clinicians (and the patient) see them.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiQuery, PatientPath};
use super::pagination::{encode_cursor, PageParams};
use super::treatments::Treatment;
use crate::audit::AuditScope;
use crate::auth::{require_patient_access, Access, AuthUser, Role};
use crate::domain::WindowStats;
use crate::error::ApiResult;
use crate::service::patients::{self, PatientOverview};
use crate::state::AppState;
use crate::store::users::Account;

/// A linked patient as the clinician's list shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientListItem {
    pub patient: PatientProfile,
    /// When the patient linked the calling clinician.
    pub linked_at: DateTime<Utc>,
    /// The latest diary date the patient recorded; null when the diary is empty.
    #[schema(required = true)]
    pub last_entry_date: Option<NaiveDate>,
    /// Statistics of the 28 days ending today in the patient's time zone (docs/clinical-rules.md `WindowStats`).
    pub last_28_days: WindowStats,
    /// The treatment with the latest `started_at`; omitted when the patient has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub latest_treatment: Option<Treatment>,
}

/// One page of the clinician's linked patients, ordered by patient id.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientList {
    pub items: Vec<PatientListItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

/// A patient's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PatientProfile {
    pub id: Uuid,
    pub email: String,
    #[schema(value_type = Option<String>, required = true)]
    pub display_name: Option<String>,
    /// IANA time zone; the patient's diary days are calendar days in it.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for PatientProfile {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.0,
            email: account.email,
            display_name: account.display_name,
            timezone: account.timezone.name().to_owned(),
            created_at: account.created_at,
        }
    }
}

impl From<PatientOverview> for PatientListItem {
    fn from(o: PatientOverview) -> Self {
        let tz = o.patient.timezone;
        Self {
            last_entry_date: o.last_entry_date,
            last_28_days: o.last_28_days,
            latest_treatment: o.latest_treatment.map(|t| Treatment::new(t, tz)),
            linked_at: o.linked_at,
            patient: o.patient.into(),
        }
    }
}

/// Get a patient's profile
///
/// The patient themself or a linked clinician; anyone else gets 404.
#[utoipa::path(get, path = "/v1/patients/{patient_id}", tag = "patients", operation_id = "getPatient",
    security(("bearer" = [])),
    params(PatientPath),
    responses((status = 200, description = "The profile", body = PatientProfile)))]
pub(crate) async fn get_patient(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
) -> ApiResult<Json<PatientProfile>> {
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    Ok(Json(patient.into()))
}

/// List my patients
///
/// Clinician only: linked patients with their last entry date, last-28-days statistics and
/// latest treatment. Reads a page in a fixed number of queries, whatever its size.
#[utoipa::path(get, path = "/v1/patients", tag = "patients", operation_id = "listPatients",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "A page of linked patients", body = PatientList)))]
pub(crate) async fn list_patients(
    State(state): State<AppState>,
    caller: AuthUser,
    audit: AuditScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<PatientList>> {
    caller.require(Role::Clinician)?;
    let _admitted = state.admit_panel_read().await?;
    let page = page.into_request()?;
    let after = page.after_id()?;
    let (items, more) = patients::list_patients(&state.store, caller.id, after, page.limit).await?;
    audit.pooled(items.iter().map(|o| o.patient.id.0));
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|o| encode_cursor(&o.patient.id.to_string()))
        })
        .flatten();
    Ok(Json(PatientList {
        items: items.into_iter().map(PatientListItem::from).collect(),
        next_cursor,
    }))
}
