//! Authentication and authorization: password hashing, tokens, the [`AuthUser`] extractor and
//! the one place that decides who may see a patient's data ([`access`]).

pub mod access;
pub mod extract;
pub mod password;
pub mod rate_limit;
pub mod reset_code;
pub mod sessions;
pub mod tokens;

/// Roles are a domain notion (who may do what); re-exported here where authorization uses them.
pub use crate::domain::Role;
pub use access::{require_patient_access, Access};
pub use extract::AuthUser;
