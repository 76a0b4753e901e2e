//! Accounts, refresh tokens, care team, diary and treatments.
//!
//! The diary is read by patient and date range (summaries, calendars), so its natural key
//! `(patient_id, entry_date)` is a unique index that also serves every range read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Role,
    DisplayName,
    Timezone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum CareInvites {
    Table,
    Id,
    ClinicianId,
    CodeHash,
    ExpiresAt,
    CreatedAt,
    UsedAt,
    UsedBy,
}

#[derive(DeriveIden)]
enum CareLinks {
    Table,
    PatientId,
    ClinicianId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DiaryEntries {
    Table,
    Id,
    PatientId,
    EntryDate,
    PeakPain,
    HeadacheHours,
    FeatureFlags,
    MedicationClassFlags,
    AcuteMedications,
    Disability,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Treatments {
    Table,
    Id,
    PatientId,
    Kind,
    Name,
    StartedAt,
    EndedAt,
    Dose,
    DoseUnit,
    Notes,
    AdverseEvents,
    RecordedBy,
    CreatedAt,
    UpdatedAt,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string(Users::Email).unique_key())
                    .col(string(Users::PasswordHash))
                    .col(string(Users::Role))
                    .col(string_null(Users::DisplayName))
                    .col(string(Users::Timezone))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(uuid(RefreshTokens::Id).primary_key())
                    .col(uuid(RefreshTokens::UserId))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string(RefreshTokens::TokenHash).unique_key())
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(&mut fk(
                        RefreshTokens::Table,
                        RefreshTokens::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CareInvites::Table)
                    .col(uuid(CareInvites::Id).primary_key())
                    .col(uuid(CareInvites::ClinicianId))
                    .col(string(CareInvites::CodeHash).unique_key())
                    .col(timestamp_with_time_zone(CareInvites::ExpiresAt))
                    .col(timestamp_with_time_zone(CareInvites::CreatedAt))
                    .col(timestamp_with_time_zone_null(CareInvites::UsedAt))
                    .col(uuid_null(CareInvites::UsedBy))
                    .foreign_key(&mut fk(
                        CareInvites::Table,
                        CareInvites::ClinicianId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CareLinks::Table)
                    .col(uuid(CareLinks::PatientId))
                    .col(uuid(CareLinks::ClinicianId))
                    .col(timestamp_with_time_zone(CareLinks::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CareLinks::PatientId)
                            .col(CareLinks::ClinicianId),
                    )
                    .foreign_key(&mut fk(
                        CareLinks::Table,
                        CareLinks::PatientId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        CareLinks::Table,
                        CareLinks::ClinicianId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // The clinician's patient list and the cohort start from the clinician.
        manager
            .create_index(
                Index::create()
                    .name("idx_care_links_clinician")
                    .table(CareLinks::Table)
                    .col(CareLinks::ClinicianId)
                    .col(CareLinks::PatientId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DiaryEntries::Table)
                    .col(uuid(DiaryEntries::Id).primary_key())
                    .col(uuid(DiaryEntries::PatientId))
                    .col(date(DiaryEntries::EntryDate))
                    .col(small_integer(DiaryEntries::PeakPain))
                    .col(double_null(DiaryEntries::HeadacheHours))
                    .col(integer(DiaryEntries::FeatureFlags))
                    .col(integer(DiaryEntries::MedicationClassFlags))
                    .col(text(DiaryEntries::AcuteMedications))
                    .col(string_null(DiaryEntries::Disability))
                    .col(text_null(DiaryEntries::Notes))
                    .col(integer(DiaryEntries::Version))
                    .col(timestamp_with_time_zone(DiaryEntries::CreatedAt))
                    .col(timestamp_with_time_zone(DiaryEntries::UpdatedAt))
                    .foreign_key(&mut fk(
                        DiaryEntries::Table,
                        DiaryEntries::PatientId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // One entry per patient per day, and the index every range read uses.
        manager
            .create_index(
                Index::create()
                    .name("uq_diary_entries_patient_date")
                    .table(DiaryEntries::Table)
                    .col(DiaryEntries::PatientId)
                    .col(DiaryEntries::EntryDate)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Treatments::Table)
                    .col(uuid(Treatments::Id).primary_key())
                    .col(uuid(Treatments::PatientId))
                    .col(string(Treatments::Kind))
                    .col(string(Treatments::Name))
                    .col(timestamp_with_time_zone(Treatments::StartedAt))
                    .col(timestamp_with_time_zone_null(Treatments::EndedAt))
                    .col(double_null(Treatments::Dose))
                    .col(string_null(Treatments::DoseUnit))
                    .col(text_null(Treatments::Notes))
                    .col(text(Treatments::AdverseEvents))
                    .col(uuid(Treatments::RecordedBy))
                    .col(timestamp_with_time_zone(Treatments::CreatedAt))
                    .col(timestamp_with_time_zone(Treatments::UpdatedAt))
                    .foreign_key(&mut fk(
                        Treatments::Table,
                        Treatments::PatientId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        Treatments::Table,
                        Treatments::RecordedBy,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_treatments_patient_started")
                    .table(Treatments::Table)
                    .col(Treatments::PatientId)
                    .col(Treatments::StartedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Treatments::Table.into_iden(),
            DiaryEntries::Table.into_iden(),
            CareLinks::Table.into_iden(),
            CareInvites::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
