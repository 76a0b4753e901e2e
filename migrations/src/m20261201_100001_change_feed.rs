//! The changes feed of the patient app (sync across devices).
//!
//! - `change_counters`: one row per patient holding the last change number handed out. A write
//!   transaction increments it first (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), which also
//!   row-locks it until commit on PostgreSQL, so one patient's writers take turns and numbers are
//!   committed in increasing order (see `store::changes`).
//! - `change_seq` on diary entries and treatments: the number of the row's latest change.
//! - `diary_tombstones` / `treatment_tombstones`: deletions, kept forever so that any cursor
//!   ever handed out stays valid; a day written again loses its tombstone.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChangeCounters {
    Table,
    PatientId,
    LastSeq,
}

#[derive(DeriveIden)]
enum DiaryEntries {
    Table,
    PatientId,
    ChangeSeq,
}

#[derive(DeriveIden)]
enum Treatments {
    Table,
    PatientId,
    ChangeSeq,
}

#[derive(DeriveIden)]
enum DiaryTombstones {
    Table,
    PatientId,
    EntryDate,
    ChangeSeq,
}

#[derive(DeriveIden)]
enum TreatmentTombstones {
    Table,
    PatientId,
    TreatmentId,
    ChangeSeq,
}

fn patient_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn seq_index(
    name: &str,
    table: impl IntoIden,
    patient: impl IntoIden,
    seq: impl IntoIden,
) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(patient)
        .col(seq)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChangeCounters::Table)
                    .col(uuid(ChangeCounters::PatientId).primary_key())
                    .col(big_integer(ChangeCounters::LastSeq))
                    .foreign_key(&mut patient_fk(
                        ChangeCounters::Table,
                        ChangeCounters::PatientId,
                    ))
                    .to_owned(),
            )
            .await?;
        // Rows written before the feed existed count as change 0: a first pull lists them.
        manager
            .alter_table(
                Table::alter()
                    .table(DiaryEntries::Table)
                    .add_column(big_integer(DiaryEntries::ChangeSeq).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Treatments::Table)
                    .add_column(big_integer(Treatments::ChangeSeq).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(seq_index(
                "idx_diary_entries_patient_change",
                DiaryEntries::Table,
                DiaryEntries::PatientId,
                DiaryEntries::ChangeSeq,
            ))
            .await?;
        manager
            .create_index(seq_index(
                "idx_treatments_patient_change",
                Treatments::Table,
                Treatments::PatientId,
                Treatments::ChangeSeq,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DiaryTombstones::Table)
                    .col(uuid(DiaryTombstones::PatientId))
                    .col(date(DiaryTombstones::EntryDate))
                    .col(big_integer(DiaryTombstones::ChangeSeq))
                    .primary_key(
                        Index::create()
                            .col(DiaryTombstones::PatientId)
                            .col(DiaryTombstones::EntryDate),
                    )
                    .foreign_key(&mut patient_fk(
                        DiaryTombstones::Table,
                        DiaryTombstones::PatientId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(seq_index(
                "idx_diary_tombstones_patient_change",
                DiaryTombstones::Table,
                DiaryTombstones::PatientId,
                DiaryTombstones::ChangeSeq,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TreatmentTombstones::Table)
                    .col(uuid(TreatmentTombstones::PatientId))
                    .col(uuid(TreatmentTombstones::TreatmentId))
                    .col(big_integer(TreatmentTombstones::ChangeSeq))
                    .primary_key(
                        Index::create()
                            .col(TreatmentTombstones::PatientId)
                            .col(TreatmentTombstones::TreatmentId),
                    )
                    .foreign_key(&mut patient_fk(
                        TreatmentTombstones::Table,
                        TreatmentTombstones::PatientId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(seq_index(
                "idx_treatment_tombstones_patient_change",
                TreatmentTombstones::Table,
                TreatmentTombstones::PatientId,
                TreatmentTombstones::ChangeSeq,
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TreatmentTombstones::Table.into_iden(),
            DiaryTombstones::Table.into_iden(),
            ChangeCounters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (name, table) in [
            (
                "idx_treatments_patient_change",
                Treatments::Table.into_iden(),
            ),
            (
                "idx_diary_entries_patient_change",
                DiaryEntries::Table.into_iden(),
            ),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Treatments::Table)
                    .drop_column(Treatments::ChangeSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DiaryEntries::Table)
                    .drop_column(DiaryEntries::ChangeSeq)
                    .to_owned(),
            )
            .await
    }
}
