//! Sessions that can end, password-reset codes, and account tombstones.
//!
//! - `sessions`: one row per login (its id is the refresh-token family and the `sid` of every
//!   access token of that login). Ending a session sets `ended_at`; access tokens of an ended
//!   session are refused at once. Existing logins are carried over from `refresh_tokens`.
//! - `password_resets`: at most one live code per account (a new code replaces the earlier
//!   one), stored only as a SHA-256; `attempts` counts wrong tries.
//! - `users.deleted_at`: a deleted staff account stays as an anonymous row so that treatments
//!   it recorded keep its id (patients are deleted outright).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    UserId,
    CodeHash,
    ExpiresAt,
    Attempts,
    IssuedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::DeletedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone_null(Sessions::EndedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        // Every login that exists already becomes a session, so that its refresh token keeps
        // working after the upgrade (its old access tokens carry no `sid` and are refused).
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO sessions (id, user_id, created_at, ended_at) \
                 SELECT family_id, user_id, MIN(created_at), NULL \
                 FROM refresh_tokens GROUP BY family_id, user_id",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(uuid(PasswordResets::Id).primary_key())
                    .col(uuid(PasswordResets::UserId).unique_key())
                    .col(string(PasswordResets::CodeHash))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(integer(PasswordResets::Attempts))
                    .col(uuid_null(PasswordResets::IssuedBy))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PasswordResets::Table.into_iden(),
            Sessions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::DeletedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
