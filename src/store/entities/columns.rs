//! The string-valued columns that hold a domain enum, typed for sea-orm: a row with a value
//! outside the enum fails to load (an error, never a silent default), and the migration
//! `m20261201_000001_typed_columns` backs each with a CHECK. The domain enums stay free of
//! sea-orm; `crate::store` converts between the two here, in one place.
//!
//! Medication classes have no column of their own: they live inside the `acute_medications` JSON
//! (by their serde names, checked when the JSON is read back) and as the `medication_class_flags`
//! bitset. Questionnaire kinds do not exist yet; when they come, they get a column enum here.

use sea_orm::entity::prelude::*;

use crate::domain::{Disability, Role, TreatmentKind};

/// Converts both ways between a column enum and its domain enum, variant for variant.
macro_rules! column_enum {
    ($(#[$doc:meta])* $column:ident <=> $domain:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
        pub enum $column {
            $($variant),*
        }

        impl From<$column> for $domain {
            fn from(value: $column) -> Self {
                match value {
                    $($column::$variant => $domain::$variant),*
                }
            }
        }

        impl From<$domain> for $column {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => $column::$variant),*
                }
            }
        }
    };
}

column_enum! {
    /// `users.role`.
    RoleColumn <=> Role { Patient, Clinician, Admin }
}

column_enum! {
    /// `treatments.kind`.
    TreatmentKindColumn <=> TreatmentKind {
        IvKetamine,
        IntranasalKetamine,
        IvMagnesium,
        IvDopamineAntagonist,
        IvDihydroergotamine,
        IvLidocaine,
        SphenopalatineGanglionBlock,
        StellateGanglionBlock,
        OccipitalNerveBlock,
        Onabotulinumtoxina,
        Other,
    }
}

column_enum! {
    /// `diary_entries.disability` (nullable: not recorded).
    DisabilityColumn <=> Disability { None, Mild, Moderate, Severe }
}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use super::*;

    /// The stored strings are the API's serde names, so old rows (written as strings) still load.
    #[test]
    fn stored_values_are_the_serde_names() {
        for role in Role::ALL {
            let json = serde_json::to_value(role).unwrap();
            assert_eq!(RoleColumn::from(role).to_value(), json.as_str().unwrap());
        }
        for kind in TreatmentKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(
                TreatmentKindColumn::from(kind).to_value(),
                json.as_str().unwrap()
            );
        }
        for d in Disability::ALL {
            let json = serde_json::to_value(d).unwrap();
            assert_eq!(DisabilityColumn::from(d).to_value(), json.as_str().unwrap());
        }
    }
}
