//! Refresh tokens: stored hashed, rotated on every use, revoked by family on re-use.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::refresh_token;
use crate::domain::UserId;

pub use refresh_token::Model as RefreshTokenRow;

pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: UserId,
    family_id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<RefreshTokenRow, sea_orm::DbErr> {
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id.0),
        family_id: Set(family_id),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        created_at: Set(super::now()),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
}

pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<RefreshTokenRow>, sea_orm::DbErr> {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

/// Marks a token spent. Returns false when it was already spent or revoked, so that two
/// concurrent refreshes with one token cannot both succeed.
pub async fn spend(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, sea_orm::DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(super::now()))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of a login (logout, or re-use of a spent token).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(super::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
