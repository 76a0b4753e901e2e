//! Who may see or change a patient's data. Every per-patient route calls
//! [`require_patient_access`] before touching the store, so no route can forget the rule.
//!
//! - the patient: everything of their own;
//! - a linked clinician: reads, and what [`Access::ReadAndRecordTreatments`] allows;
//! - anyone else: 404, exactly as for a patient that does not exist (never reveal that
//!   another patient exists); an admin: 403 (wrong role, reveals nothing).

use sea_orm::ConnectionTrait;

use super::{AuthUser, Role};
use crate::domain::PatientId;
use crate::error::ApiError;
use crate::store::users::Account;
use crate::store::{care, users};

/// What a route does with the patient's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read (diary, treatments, summaries): the patient and linked clinicians.
    Read,
    /// Record or change treatments: the patient and linked clinicians.
    ReadAndRecordTreatments,
    /// Write the diary: the patient only (a linked clinician gets 403).
    PatientOnly,
}

pub fn patient_not_found() -> ApiError {
    ApiError::not_found("No such patient.")
}

/// Decides access to `patient_id`'s data; returns the patient's account row.
pub async fn require_patient_access(
    db: &impl ConnectionTrait,
    caller: AuthUser,
    patient_id: PatientId,
    access: Access,
) -> Result<Account, ApiError> {
    match caller.role {
        Role::Admin => {
            return Err(ApiError::Forbidden(
                "Administrators do not see health data.".into(),
            ))
        }
        Role::Patient if caller.id != patient_id.into() => return Err(patient_not_found()),
        Role::Clinician => {
            if !care::is_linked(db, patient_id, caller.id).await? {
                return Err(patient_not_found());
            }
            if access == Access::PatientOnly {
                return Err(ApiError::Forbidden(
                    "Only the patient themselves may do this.".into(),
                ));
            }
        }
        Role::Patient => {}
    }
    let patient = users::find_by_id(db, patient_id.into())
        .await?
        .filter(|u| u.role == Role::Patient)
        .ok_or_else(patient_not_found)?;
    Ok(patient)
}
