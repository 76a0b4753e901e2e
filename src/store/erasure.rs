//! Deleting accounts. A patient goes entirely, in the caller's transaction; a staff account
//! becomes an anonymous tombstone so that the treatments it recorded keep its id.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::{PatientId, UserId};

use super::entities::{
    care_invite, care_link, diary_entry, password_reset, refresh_token, session, treatment, user,
};

/// Removes the credentials of an account: reset codes, refresh tokens, sessions.
async fn delete_credentials(db: &impl ConnectionTrait, user: UserId) -> Result<(), sea_orm::DbErr> {
    let user_id = user.0;
    password_reset::Entity::delete_many()
        .filter(password_reset::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Everything of a patient: credentials, care-team links (and the invites they redeemed),
/// diary, treatments, then the account. Tables added later that reference the account with
/// `ON DELETE CASCADE` go with the last statement.
pub async fn delete_patient(
    db: &impl ConnectionTrait,
    patient: PatientId,
) -> Result<(), sea_orm::DbErr> {
    delete_credentials(db, patient.into()).await?;
    let patient_id = patient.0;
    care_link::Entity::delete_many()
        .filter(care_link::Column::PatientId.eq(patient_id))
        .exec(db)
        .await?;
    care_invite::Entity::delete_many()
        .filter(care_invite::Column::UsedBy.eq(patient_id))
        .exec(db)
        .await?;
    diary_entry::Entity::delete_many()
        .filter(diary_entry::Column::PatientId.eq(patient_id))
        .exec(db)
        .await?;
    treatment::Entity::delete_many()
        .filter(treatment::Column::PatientId.eq(patient_id))
        .exec(db)
        .await?;
    user::Entity::delete_by_id(patient_id).exec(db).await?;
    Ok(())
}

/// A staff account loses its credentials, links and invites and keeps an anonymous row: no
/// email (the address may be used again), no usable password, no name.
pub async fn retire_staff(db: &impl ConnectionTrait, user: UserId) -> Result<(), sea_orm::DbErr> {
    delete_credentials(db, user).await?;
    let user_id = user.0;
    care_link::Entity::delete_many()
        .filter(care_link::Column::ClinicianId.eq(user_id))
        .exec(db)
        .await?;
    care_invite::Entity::delete_many()
        .filter(care_invite::Column::ClinicianId.eq(user_id))
        .exec(db)
        .await?;
    let now = super::now();
    user::Entity::update_many()
        // Not an address, so it can never match a login or a new account.
        .col_expr(
            user::Column::Email,
            Expr::value(format!("deleted:{user_id}")),
        )
        .col_expr(user::Column::PasswordHash, Expr::value("!"))
        .col_expr(
            user::Column::DisplayName,
            Expr::value(Option::<String>::None),
        )
        .col_expr(user::Column::DeletedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
