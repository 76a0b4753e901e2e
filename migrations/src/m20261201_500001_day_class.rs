//! `diary_entries.day_class`: how the day counts (the classification bits of
//! `domain::Classification::to_bits`: any headache, headache, migraine, moderate/severe, acute
//! medication, migraine-specific medication, headache-free), written with the day so that the
//! dashboard's window statistics are summed by the database instead of classifying every day
//! again on every read. NULL until classified: the classification is the application's (the
//! clinical rules live in Rust, not in SQL), so existing rows are filled by the application
//! right after migrating (`Store::migrate`), before it serves.
//!
//! With it, an index that covers what a window sum reads (`patient_id, entry_date, day_class,
//! peak_pain, medication_class_flags`): the sums then read consecutive index entries instead of
//! one table row per day (rows also hold the notes and medications, so the days of a window sit
//! on many pages).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DiaryEntries {
    Table,
    DayClass,
    PatientId,
    EntryDate,
    PeakPain,
    MedicationClassFlags,
}

const WINDOW_INDEX: &str = "ix_diary_entries_window_sums";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DiaryEntries::Table)
                    .add_column(
                        ColumnDef::new(DiaryEntries::DayClass)
                            .small_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(WINDOW_INDEX)
                    .table(DiaryEntries::Table)
                    .col(DiaryEntries::PatientId)
                    .col(DiaryEntries::EntryDate)
                    .col(DiaryEntries::DayClass)
                    .col(DiaryEntries::PeakPain)
                    .col(DiaryEntries::MedicationClassFlags)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(WINDOW_INDEX)
                    .table(DiaryEntries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DiaryEntries::Table)
                    .drop_column(DiaryEntries::DayClass)
                    .to_owned(),
            )
            .await
    }
}
