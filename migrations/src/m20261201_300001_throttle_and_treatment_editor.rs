//! Abuse limits shared by every instance, and who last changed a treatment.
//!
//! - `throttle_counters`: one row per fixed-window bucket (login attempts per client address,
//!   per account and client, per account; sign-ups and password resets per client). `bucket` is a
//!   SHA-256 of what is counted, so a row has a fixed size whatever the attacker sends;
//!   `expires_at` (Unix seconds, the end of the window) lets expired rows be pruned by index.
//! - `treatments.updated_by`: the user who last changed the treatment (existing rows: the one
//!   who recorded it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ThrottleCounters {
    Table,
    Bucket,
    Hits,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Treatments {
    Table,
    RecordedBy,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ThrottleCounters::Table)
                    .col(string_len(ThrottleCounters::Bucket, 64).primary_key())
                    .col(integer(ThrottleCounters::Hits))
                    .col(big_integer(ThrottleCounters::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_throttle_counters_expires_at")
                    .table(ThrottleCounters::Table)
                    .col(ThrottleCounters::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Treatments::Table)
                    .add_column(uuid_null(Treatments::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Treatments::Table)
                    .value(Treatments::UpdatedBy, Expr::col(Treatments::RecordedBy))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Treatments::Table)
                    .drop_column(Treatments::UpdatedBy)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ThrottleCounters::Table).to_owned())
            .await
    }
}
