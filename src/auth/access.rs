//! Who may see or change a patient's data. Every per-patient route calls
//! [`require_patient_access`] before touching the store, so no route can forget the rule.
//!
//! - the patient: everything of their own;
//! - a linked clinician: reads, and what [`Access::ReadAndRecordTreatments`] allows;
//! - anyone else: 404, exactly as for a patient that does not exist (never reveal that
//!   another patient exists); an admin: 403 (wrong role, reveals nothing).

use super::{AuthUser, Role};
use crate::domain::{PatientId, UserId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::users::Account;

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

/// Decides access to `patient_id`'s data; returns the patient's account (without its password
/// hash). The link and the account come from the session cache, which every unlink, profile
/// change and deletion invalidates on every instance before it answers (`crate::auth::sessions`).
pub async fn require_patient_access(
    state: &AppState,
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
            if !state.sessions.is_linked(patient_id, caller.id).await? {
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
    let patient = state
        .sessions
        .account(patient_id.into())
        .await?
        .filter(|u| u.role == Role::Patient)
        .ok_or_else(patient_not_found)?;
    Ok(patient)
}

/// Whether `caller` may change or delete a treatment of a patient they may access (checked
/// before): a patient only what they recorded themselves, so that a clinician's record (dose,
/// kind) cannot be rewritten under the clinician's name; a linked clinician any of the patient's.
pub fn may_change_treatment(caller: AuthUser, recorded_by: UserId) -> bool {
    match caller.role {
        Role::Patient => caller.id == recorded_by,
        Role::Clinician => true,
        Role::Admin => false,
    }
}

/// 403 unless [`may_change_treatment`].
pub fn require_treatment_change(caller: AuthUser, recorded_by: UserId) -> Result<(), ApiError> {
    if may_change_treatment(caller, recorded_by) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "A patient may change only the treatments they recorded.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn patients_change_only_their_own_records_and_clinicians_any() {
        let ana = AuthUser {
            id: UserId(Uuid::now_v7()),
            role: Role::Patient,
        };
        let kim = AuthUser {
            id: UserId(Uuid::now_v7()),
            role: Role::Clinician,
        };
        let lee = AuthUser {
            id: UserId(Uuid::now_v7()),
            role: Role::Clinician,
        };
        assert!(may_change_treatment(ana, ana.id));
        assert!(!may_change_treatment(ana, kim.id));
        assert!(may_change_treatment(kim, kim.id));
        assert!(may_change_treatment(lee, kim.id));
        assert!(may_change_treatment(kim, ana.id));
        let admin = AuthUser {
            id: UserId(Uuid::now_v7()),
            role: Role::Admin,
        };
        assert!(!may_change_treatment(admin, admin.id));
    }
}
