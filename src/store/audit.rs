//! The audit trail's rows: appended in batches by the audit writer, read by the access log and
//! the admin's audit view. There is no update or delete here, and the database refuses both.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entities::audit_event;

pub use audit_event::Model as AuditRow;

/// One request's share of the trail: what its rows have in common, once, and the patients it
/// concerned, one row each. The writer's queue holds these, not rows: a cohort pools up to
/// thousands of patients, and as rows (~330 bytes each with their four strings) one such
/// request was 1.6 MB in the queue; as a recording it is 16 bytes a patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    pub actor_role: &'static str,
    pub action: &'static str,
    /// The route template.
    pub resource: &'static str,
    pub outcome: i32,
    pub request_id: String,
    pub patients: Vec<Uuid>,
}

impl Recording {
    /// The rows it adds.
    pub fn len(&self) -> usize {
        self.patients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patients.is_empty()
    }

    /// Its row for `patient_id`.
    fn row(&self, patient_id: Uuid, id: Uuid) -> audit_event::ActiveModel {
        audit_event::ActiveModel::from(AuditRow {
            id,
            at: self.at,
            actor_id: self.actor_id,
            actor_role: self.actor_role.to_owned(),
            patient_id,
            action: self.action.to_owned(),
            resource: self.resource.to_owned(),
            outcome: self.outcome,
            request_id: self.request_id.clone(),
        })
    }
}

/// Row ids for `recordings`, in order. Drawn once per batch, before its first attempt, so
/// that a batch retried after a lost COMMIT answer collides with itself (a unique violation:
/// the rows are in) instead of being written twice.
pub fn row_ids(recordings: &[Recording]) -> Vec<Uuid> {
    let rows = recordings.iter().map(Recording::len).sum();
    (0..rows).map(|_| Uuid::now_v7()).collect()
}

/// Appends the recordings' rows, with the ids of [`row_ids`], a power of two of them per
/// INSERT ([`super::rows_per_insert`]); rows are made as each INSERT is built.
pub async fn append(
    db: &impl ConnectionTrait,
    recordings: &[Recording],
    ids: &[Uuid],
) -> Result<(), sea_orm::DbErr> {
    // Each INSERT's rows are made just before it, from a plain cursor: an iterator adapter
    // with closures, held across the await, would keep the future from being `Send`.
    let mut cursor = (0, 0);
    let mut ids = ids.iter().copied();
    loop {
        let remaining = ids.len();
        let n = super::rows_per_insert(remaining);
        let mut rows = Vec::with_capacity(n);
        while rows.len() < n {
            let (r, p) = cursor;
            let Some(recording) = recordings.get(r) else {
                break;
            };
            let Some(patient_id) = recording.patients.get(p) else {
                cursor = (r + 1, 0);
                continue;
            };
            let Some(id) = ids.next() else {
                break;
            };
            rows.push(recording.row(*patient_id, id));
            cursor = (r, p + 1);
        }
        if rows.is_empty() {
            return Ok(());
        }
        audit_event::Entity::insert_many(rows).exec(db).await?;
    }
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
