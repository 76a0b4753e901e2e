//! The audit trail's rows: appended in batches by the audit writer, read by the access log and
//! the admin's audit view. There is no update or delete here, and the database refuses both.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::audit_event;

pub use audit_event::Model as AuditRow;

/// Appends rows, a power of two of them per INSERT ([`super::rows_per_insert`]).
pub async fn append(db: &impl ConnectionTrait, rows: &[AuditRow]) -> Result<(), sea_orm::DbErr> {
    let mut rest = rows;
    while !rest.is_empty() {
        let n = super::rows_per_insert(rest.len());
        let (chunk, tail) = rest.split_at(n);
        let models = chunk.iter().cloned().map(audit_event::ActiveModel::from);
        audit_event::Entity::insert_many(models).exec(db).await?;
        rest = tail;
    }
    Ok(())
}

/// What to select from the trail; every member narrows it.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub patient_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// First instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Instant after the last one (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// The id of the last row of the previous page.
    pub after: Option<Uuid>,
}

/// Up to `limit` rows in id order (ids are time-ordered).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    limit: u64,
) -> Result<Vec<AuditRow>, sea_orm::DbErr> {
    use audit_event::Column;
    let mut query = audit_event::Entity::find();
    if let Some(p) = filter.patient_id {
        query = query.filter(Column::PatientId.eq(p));
    }
    if let Some(a) = filter.actor_id {
        query = query.filter(Column::ActorId.eq(a));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::At.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(Column::At.lt(until));
    }
    if let Some(after) = filter.after {
        query = query.filter(Column::Id.gt(after));
    }
    query.order_by_asc(Column::Id).limit(limit).all(db).await
}
