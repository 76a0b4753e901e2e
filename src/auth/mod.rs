//! Authentication and authorization: password hashing, tokens, the [`AuthUser`] extractor and
//! the one place that decides who may see a patient's data ([`access`]).

pub mod access;
pub mod extract;
pub mod password;
pub mod tokens;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use access::{require_patient_access, require_treatment_change, Access};
pub use extract::AuthUser;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns one diary; signs up through `/v1/auth/register`.
    Patient,
    /// Reads the diaries of patients who linked them and records their treatments.
    Clinician,
    /// Manages accounts; sees no health data.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Clinician => "clinician",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "patient" => Some(Self::Patient),
            "clinician" => Some(Self::Clinician),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}
