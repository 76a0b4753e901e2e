//! Ids that say whose they are. A patient's id, any account's id and a treatment's id are all
//! UUIDs; as distinct types, `care::link(db, patient, clinician)` or
//! `treatments::get(db, patient, treatment)` cannot be called with the two swapped.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
            #[serde(transparent)]
            pub struct $name(pub Uuid);

            impl $name {
                pub fn uuid(self) -> Uuid {
                    self.0
                }
            }

            impl From<Uuid> for $name {
                fn from(id: Uuid) -> Self {
                    Self(id)
                }
            }

            impl From<$name> for Uuid {
                fn from(id: $name) -> Uuid {
                    id.0
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    self.0.fmt(f)
                }
            }
        )*
    };
}

id_type! {
    /// The account id of a patient: the owner of a diary.
    PatientId;
    /// The id of any account (patient, clinician or admin), e.g. the caller or a clinician.
    UserId;
    /// The id of a treatment event.
    TreatmentId;
}

impl From<PatientId> for UserId {
    /// Every patient is an account; the other way round needs a role check.
    fn from(id: PatientId) -> Self {
        Self(id.0)
    }
}
