//! `diary_entries.day_class`: how the day counts (the classification bits of
//! `domain::Classification::to_bits`: any headache, headache, migraine, moderate/severe, acute
//! medication, migraine-specific medication, headache-free), written with the day so that the
//! dashboard's window statistics are summed by the database instead of classifying every day
//! again on every read. NULL until classified: the classification is the application's (the
//! clinical rules live in Rust, not in SQL), so existing rows are filled by the application
//! right after migrating (`Store::migrate`), before it serves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DiaryEntries {
    Table,
    DayClass,
}

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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
