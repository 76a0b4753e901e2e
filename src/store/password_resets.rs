//! Password-reset codes: one live code per account, stored as a hash.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::password_reset;
use crate::domain::UserId;

pub use password_reset::Model as PasswordResetRow;

/// Stores a new code for `user_id`, voiding any earlier one.
pub async fn replace(
    db: &impl ConnectionTrait,
    user_id: UserId,
    code_hash: String,
    expires_at: DateTime<Utc>,
    issued_by: Option<UserId>,
) -> Result<PasswordResetRow, sea_orm::DbErr> {
    password_reset::Entity::delete_many()
        .filter(password_reset::Column::UserId.eq(user_id.0))
        .exec(db)
        .await?;
    password_reset::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id.0),
        code_hash: Set(code_hash),
        expires_at: Set(expires_at),
        attempts: Set(0),
        issued_by: Set(issued_by.map(|id| id.0)),
        created_at: Set(super::now()),
    }
    .insert(db)
    .await
}

pub async fn find_for_user(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<Option<PasswordResetRow>, sea_orm::DbErr> {
    password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(user_id.0))
        .one(db)
        .await
}

/// Counts one wrong try.
pub async fn count_wrong_attempt(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    password_reset::Entity::update_many()
        .col_expr(
            password_reset::Column::Attempts,
            Expr::col(password_reset::Column::Attempts).add(1),
        )
        .filter(password_reset::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Spends the code: true only for the one caller that removed it while it still had tries
/// left, so a code works once even when two requests race.
pub async fn consume(
    db: &impl ConnectionTrait,
    id: Uuid,
    max_attempts: i32,
) -> Result<bool, sea_orm::DbErr> {
    let result = password_reset::Entity::delete_many()
        .filter(password_reset::Column::Id.eq(id))
        .filter(password_reset::Column::Attempts.lt(max_attempts))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
