//! Accounts.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::user;
use super::{corrupt, is_unique_violation};
use crate::domain::{Role, TimeZone, UserId};

pub use user::Model as UserRow;

/// An account as the rest of the code sees it: typed role and time zone.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub id: UserId,
    /// Lower-case, unique.
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub timezone: TimeZone,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A row as a domain value: the one place an account row is decoded. An unknown time zone is an
/// error (every zone was checked when written), never a silent UTC.
pub fn decode(row: UserRow) -> Result<Account, sea_orm::DbErr> {
    let timezone = TimeZone::parse(&row.timezone)
        .ok_or_else(|| corrupt(format!("account {}", row.id), "unknown time zone"))?;
    Ok(Account {
        id: UserId(row.id),
        email: row.email,
        password_hash: row.password_hash,
        role: row.role.into(),
        display_name: row.display_name,
        timezone,
        created_at: row.created_at,
    })
}

/// A new account, with its password already hashed.
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub timezone: TimeZone,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("email already registered")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<Account, CreateUserError> {
    let now = super::now();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        role: Set(new.role.into()),
        display_name: Set(new.display_name),
        timezone: Set(new.timezone.name().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    };
    let row = row.insert(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            CreateUserError::EmailTaken
        } else {
            CreateUserError::Db(e)
        }
    })?;
    Ok(decode(row)?)
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<Account>, sea_orm::DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?
        .map(decode)
        .transpose()
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: UserId,
) -> Result<Option<Account>, sea_orm::DbErr> {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(decode)
        .transpose()
}

/// Applies a profile change; `None` leaves a field as it is.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    id: UserId,
    display_name: Option<Option<String>>,
    timezone: Option<TimeZone>,
) -> Result<Account, sea_orm::DbErr> {
    let mut row = user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(id.0),
        updated_at: Set(super::now()),
        ..Default::default()
    };
    if let Some(name) = display_name {
        row.display_name = Set(name);
    }
    if let Some(tz) = timezone {
        row.timezone = Set(tz.name().to_owned());
    }
    decode(row.update(db).await?)
}

/// A live (not deleted) account by email.
pub async fn find_live_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<Account>, sea_orm::DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(decode)
        .transpose()
}

/// A live (not deleted) account by id.
pub async fn find_live_by_id(
    db: &impl ConnectionTrait,
    id: UserId,
) -> Result<Option<Account>, sea_orm::DbErr> {
    user::Entity::find_by_id(id.0)
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(decode)
        .transpose()
}

/// Replaces the password hash.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    password_hash: String,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(super::now()))
        .filter(user::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}
