//! Schema history of migraine-diary. Files here are append-only: a landed migration is never edited;
//! a change to the schema is a new file added to [`Migrator::migrations`].

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_init;
mod m20261201_000001_typed_columns;
mod m20261201_100001_change_feed;
mod m20261201_100002_questionnaires;
mod m20261201_200001_sessions_and_resets;
mod m20261201_300001_throttle_and_treatment_editor;
mod m20261201_400001_audit_events;
mod m20261201_500001_day_class;
mod m20261201_600001_treatment_window_tallies;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_init::Migration),
            Box::new(m20261201_000001_typed_columns::Migration),
            Box::new(m20261201_100001_change_feed::Migration),
            Box::new(m20261201_100002_questionnaires::Migration),
            Box::new(m20261201_200001_sessions_and_resets::Migration),
            Box::new(m20261201_300001_throttle_and_treatment_editor::Migration),
            Box::new(m20261201_400001_audit_events::Migration),
            Box::new(m20261201_500001_day_class::Migration),
            Box::new(m20261201_600001_treatment_window_tallies::Migration),
        ]
    }
}
