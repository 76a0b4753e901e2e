//! Accounts.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::user;
use super::is_unique_violation;

pub use user::Model as UserRow;

/// A new account, with its password already hashed.
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub display_name: Option<String>,
    pub timezone: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("email already registered")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<UserRow, CreateUserError> {
    let now = super::now();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        role: Set(new.role),
        display_name: Set(new.display_name),
        timezone: Set(new.timezone),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    };
    row.insert(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            CreateUserError::EmailTaken
        } else {
            CreateUserError::Db(e)
        }
    })
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<UserRow>, sea_orm::DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<UserRow>, sea_orm::DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// Applies a profile change; `None` leaves a field as it is.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    current: UserRow,
    display_name: Option<Option<String>>,
    timezone: Option<String>,
) -> Result<UserRow, sea_orm::DbErr> {
    let mut row: user::ActiveModel = current.into();
    if let Some(name) = display_name {
        row.display_name = Set(name);
    }
    if let Some(tz) = timezone {
        row.timezone = Set(tz);
    }
    row.updated_at = Set(super::now());
    row.update(db).await
}

/// A live (not deleted) account by email.
pub async fn find_live_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<UserRow>, sea_orm::DbErr> {
    Ok(find_by_email(db, email)
        .await?
        .filter(|u| u.deleted_at.is_none()))
}

/// A live (not deleted) account by id.
pub async fn find_live_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<UserRow>, sea_orm::DbErr> {
    Ok(find_by_id(db, id).await?.filter(|u| u.deleted_at.is_none()))
}

/// Replaces the password hash.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: Uuid,
    password_hash: String,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(super::now()))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
