//! Questionnaire responses (MIDAS, HIT-6). Only the answers are stored, by item number; score and
//! grade are computed from them on read (one rule, in `domain::questionnaire`). No item text is
//! stored: HIT-6 is a licensed instrument.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum QuestionnaireResponses {
    Table,
    Id,
    PatientId,
    Instrument,
    CompletedOn,
    Answers,
    #[sea_orm(iden = "headache_days_3_months")]
    HeadacheDays3Months,
    AveragePain,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QuestionnaireResponses::Table)
                    .col(uuid(QuestionnaireResponses::Id).primary_key())
                    .col(uuid(QuestionnaireResponses::PatientId))
                    .col(string(QuestionnaireResponses::Instrument))
                    .col(date(QuestionnaireResponses::CompletedOn))
                    .col(text(QuestionnaireResponses::Answers))
                    .col(small_integer_null(
                        QuestionnaireResponses::HeadacheDays3Months,
                    ))
                    .col(small_integer_null(QuestionnaireResponses::AveragePain))
                    .col(timestamp_with_time_zone(QuestionnaireResponses::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                QuestionnaireResponses::Table,
                                QuestionnaireResponses::PatientId,
                            )
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Lists and the before/after lookup read one patient's responses by date.
        manager
            .create_index(
                Index::create()
                    .name("idx_questionnaire_responses_patient_completed")
                    .table(QuestionnaireResponses::Table)
                    .col(QuestionnaireResponses::PatientId)
                    .col(QuestionnaireResponses::CompletedOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(QuestionnaireResponses::Table)
                    .to_owned(),
            )
            .await
    }
}
