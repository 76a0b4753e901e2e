//! `treatment_window_tallies`: each treatment's baseline and post window sums, kept so that a
//! cohort over a clinic network reads one row per treatment instead of summing 2 × N diary days
//! per treatment on every request.
//!
//! A row is valid while its stamp matches: `change_seq` is the patient's change counter
//! (`change_counters.last_seq`, advanced by every diary and treatment write of the patient, in
//! the write's own transaction) and `treatment_day` the day the windows were placed on (it moves
//! when the patient's time zone does). A row whose stamp no longer matches is recomputed by the
//! next read that needs it; a deleted treatment takes its rows with it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TreatmentWindowTallies {
    Table,
    TreatmentId,
    WindowDays,
    TreatmentDay,
    ChangeSeq,
    Baseline,
    Post,
}

#[derive(DeriveIden)]
enum Treatments {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TreatmentWindowTallies::Table)
                    .col(uuid(TreatmentWindowTallies::TreatmentId))
                    .col(small_integer(TreatmentWindowTallies::WindowDays))
                    .col(date(TreatmentWindowTallies::TreatmentDay))
                    .col(big_integer(TreatmentWindowTallies::ChangeSeq))
                    .col(string(TreatmentWindowTallies::Baseline))
                    .col(string(TreatmentWindowTallies::Post))
                    .primary_key(
                        Index::create()
                            .col(TreatmentWindowTallies::TreatmentId)
                            .col(TreatmentWindowTallies::WindowDays),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                TreatmentWindowTallies::Table,
                                TreatmentWindowTallies::TreatmentId,
                            )
                            .to(Treatments::Table, Treatments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(TreatmentWindowTallies::Table)
                    .to_owned(),
            )
            .await
    }
}
