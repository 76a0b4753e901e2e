//! Sessions (logins) and the PostgreSQL side of keeping every instance's session cache in step
//! (see `crate::auth::sessions`).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
};
use uuid::Uuid;

use super::entities::{refresh_token, session, user};
use crate::domain::{Role, UserId};

/// What an access token's session amounts to right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAccount {
    pub user_id: Uuid,
    /// The account's role (meaningless when not `live`).
    pub role: Role,
    /// False when the session ended or the account is gone.
    pub live: bool,
}

/// Starts a session for `user_id`; its id is the refresh-token family and the tokens' `sid`.
pub async fn create(db: &impl ConnectionTrait, user_id: UserId) -> Result<Uuid, sea_orm::DbErr> {
    let id = Uuid::now_v7();
    session::ActiveModel {
        id: Set(id),
        user_id: Set(user_id.0),
        created_at: Set(super::now()),
        ended_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// The session and its account, or `None` when there is no such session.
pub async fn lookup(
    db: &impl ConnectionTrait,
    session_id: Uuid,
) -> Result<Option<SessionAccount>, sea_orm::DbErr> {
    let Some(found) = session::Entity::find_by_id(session_id).one(db).await? else {
        return Ok(None);
    };
    let account = user::Entity::find_by_id(found.user_id).one(db).await?;
    Ok(Some(match account {
        Some(u) => SessionAccount {
            user_id: u.id,
            role: u.role.into(),
            live: found.ended_at.is_none() && u.deleted_at.is_none(),
        },
        None => SessionAccount {
            user_id: found.user_id,
            role: Role::Patient,
            live: false,
        },
    }))
}

/// True when the session exists and has not ended.
pub async fn is_live(db: &impl ConnectionTrait, session_id: Uuid) -> Result<bool, sea_orm::DbErr> {
    Ok(session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .is_some_and(|s| s.ended_at.is_none()))
}

/// Ends one session and revokes its refresh tokens.
pub async fn end(db: &impl ConnectionTrait, session_id: Uuid) -> Result<(), sea_orm::DbErr> {
    let now = super::now();
    session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(session_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of an account and revokes all its refresh tokens.
pub async fn end_all(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), sea_orm::DbErr> {
    let now = super::now();
    session::Entity::update_many()
        .col_expr(session::Column::EndedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id.0))
        .filter(session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user_id.0))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// PostgreSQL `NOTIFY`: delivered to every listener when (and only if) the transaction commits.
pub async fn notify(
    db: &impl ConnectionTrait,
    channel: &str,
    payload: &str,
) -> Result<(), sea_orm::DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// The `application_name`s starting with `prefix` of the connections to this database (the
/// session listeners of every running instance).
pub async fn connected_applications(
    db: &impl ConnectionTrait,
    prefix: &str,
) -> Result<Vec<String>, sea_orm::DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT application_name FROM pg_stat_activity \
             WHERE datname = current_database() AND starts_with(application_name, $1)",
            [prefix.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "application_name"))
        .collect()
}

/// An account's sessions, oldest first (for the data export).
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<Vec<session::Model>, sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id.0))
        .order_by_asc(session::Column::CreatedAt)
        .all(db)
        .await
}
