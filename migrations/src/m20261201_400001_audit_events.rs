//! The audit trail: who read or changed which patient's data, and with what outcome.
//!
//! Append-only by construction: triggers refuse every UPDATE and DELETE (and TRUNCATE on
//! PostgreSQL), so neither a route nor a hand-typed statement can rewrite history. The ids are
//! plain columns without foreign keys: deleting an account neither cascades into the trail nor
//! is blocked by it, and the rows keep the ids of people who no longer have an account.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    ActorRole,
    PatientId,
    Action,
    Resource,
    Outcome,
    RequestId,
}

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events \
     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(uuid(AuditEvents::ActorId))
                    .col(string(AuditEvents::ActorRole))
                    .col(uuid(AuditEvents::PatientId))
                    .col(string(AuditEvents::Action))
                    .col(string(AuditEvents::Resource))
                    .col(integer(AuditEvents::Outcome))
                    .col(string(AuditEvents::RequestId))
                    .to_owned(),
            )
            .await?;
        // The patient's access log and the admin's filters; ids are time-ordered (v7), so
        // (filter, id) serves both the date range and the keyset cursor.
        for (name, col) in [
            ("idx_audit_events_patient", AuditEvents::PatientId),
            ("idx_audit_events_actor", AuditEvents::ActorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(col)
                        .col(AuditEvents::Id)
                        .to_owned(),
                )
                .await?;
        }
        let statements = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Sqlite => SQLITE_TRIGGERS,
            _ => POSTGRES_TRIGGERS,
        };
        let db = manager.get_connection();
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only()")
                .await?;
        }
        Ok(())
    }
}
