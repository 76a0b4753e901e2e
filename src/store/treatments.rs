//! Treatment events.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::corrupt;
use super::entities::treatment;
use super::reads::Read;
use crate::domain::{PatientId, TreatmentDraft, TreatmentEvent, TreatmentId, UserId};
use sea_orm::FromQueryResult as _;

pub use treatment::Model as TreatmentRow;

/// A recorded treatment: the valid event and its bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTreatment {
    pub id: TreatmentId,
    pub patient_id: PatientId,
    pub event: TreatmentEvent,
    /// The user (patient or clinician) who recorded it.
    pub recorded_by: UserId,
    /// The user who last changed it.
    pub updated_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row as a domain value: the one place a treatment row is decoded. Adverse events that do
/// not parse are an error.
pub fn decode(row: TreatmentRow) -> Result<StoredTreatment, sea_orm::DbErr> {
    let adverse_events: Vec<String> = serde_json::from_str(&row.adverse_events)
        .map_err(|e| corrupt(format!("treatment {}", row.id), e))?;
    Ok(StoredTreatment {
        id: TreatmentId(row.id),
        patient_id: PatientId(row.patient_id),
        event: TreatmentEvent::from_stored(TreatmentDraft {
            kind: row.kind.into(),
            name: row.name,
            started_at: row.started_at,
            ended_at: row.ended_at,
            dose: row.dose,
            dose_unit: row.dose_unit,
            notes: row.notes,
            adverse_events,
        }),
        recorded_by: UserId(row.recorded_by),
        updated_by: UserId(row.updated_by.unwrap_or(row.recorded_by)),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn decode_all(rows: Vec<TreatmentRow>) -> Result<Vec<StoredTreatment>, sea_orm::DbErr> {
    rows.into_iter().map(decode).collect()
}

/// The content columns of `event`, for an insert or an update.
fn with_content(
    mut active: treatment::ActiveModel,
    event: &TreatmentEvent,
) -> Result<treatment::ActiveModel, sea_orm::DbErr> {
    let t = event.fields();
    let adverse_events = serde_json::to_string(&t.adverse_events)
        .map_err(|e| sea_orm::DbErr::Custom(format!("encoding adverse events: {e}")))?;
    active.kind = Set(t.kind.into());
    active.name = Set(t.name.clone());
    active.started_at = Set(t.started_at);
    active.ended_at = Set(t.ended_at);
    active.dose = Set(t.dose);
    active.dose_unit = Set(t.dose_unit.clone());
    active.notes = Set(t.notes.clone());
    active.adverse_events = Set(adverse_events);
    Ok(active)
}

/// Records a treatment as the patient's next change (see `store::changes`).
pub async fn insert(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    recorded_by: UserId,
    event: &TreatmentEvent,
) -> Result<StoredTreatment, sea_orm::DbErr> {
    let change_seq = super::changes::next(db, patient_id).await?;
    let now = super::now();
    let active = treatment::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id.0),
        recorded_by: Set(recorded_by.0),
        updated_by: Set(Some(recorded_by.0)),
        change_seq: Set(change_seq),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    decode(with_content(active, event)?.insert(db).await?)
}

pub async fn get(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    id: TreatmentId,
) -> Result<Option<StoredTreatment>, sea_orm::DbErr> {
    by_id(patient_id, id).one(db).await?.map(decode).transpose()
}

/// [`get`] as a read to send with others ([`super::reads::together`]): no row or one.
pub fn get_read(patient_id: PatientId, id: TreatmentId) -> Read<StoredTreatment> {
    Read::new(by_id(patient_id, id), decode_result)
}

fn by_id(patient_id: PatientId, id: TreatmentId) -> sea_orm::Select<treatment::Entity> {
    treatment::Entity::find_by_id(id.0).filter(treatment::Column::PatientId.eq(patient_id.0))
}

fn decode_result(row: &sea_orm::QueryResult) -> Result<StoredTreatment, sea_orm::DbErr> {
    decode(TreatmentRow::from_query_result(row, "")?)
}

/// Replaces the content of treatment `id` (of `patient_id`) with `event`, changed by
/// `updated_by`, as the patient's next change.
pub async fn update(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    id: TreatmentId,
    event: &TreatmentEvent,
    updated_by: UserId,
) -> Result<StoredTreatment, sea_orm::DbErr> {
    let change_seq = super::changes::next(db, patient_id).await?;
    let active = treatment::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(id.0),
        change_seq: Set(change_seq),
        updated_at: Set(super::now()),
        updated_by: Set(Some(updated_by.0)),
        ..Default::default()
    };
    decode(with_content(active, event)?.update(db).await?)
}

/// Deletes a treatment and leaves a tombstone for the changes feed; `Ok(false)` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    id: TreatmentId,
) -> Result<bool, sea_orm::DbErr> {
    let change_seq = super::changes::next(db, patient_id).await?;
    let result = treatment::Entity::delete_many()
        .filter(treatment::Column::Id.eq(id.0))
        .filter(treatment::Column::PatientId.eq(patient_id.0))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    super::changes::bury_treatment(db, patient_id, id, change_seq).await?;
    Ok(true)
}

/// A patient's treatments by start time (then id), after the cursor `(started_at, id)`.
pub async fn list(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<StoredTreatment>, sea_orm::DbErr> {
    use sea_orm::Condition;
    let mut query = treatment::Entity::find()
        .filter(treatment::Column::PatientId.eq(patient_id.0))
        .order_by_asc(treatment::Column::StartedAt)
        .order_by_asc(treatment::Column::Id)
        .limit(limit);
    if let Some((started_at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(treatment::Column::StartedAt.gt(started_at))
                .add(
                    Condition::all()
                        .add(treatment::Column::StartedAt.eq(started_at))
                        .add(treatment::Column::Id.gt(id)),
                ),
        );
    }
    decode_all(query.all(db).await?)
}

/// A patient's treatments that started in `from..to` (instants).
pub async fn started_between(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<StoredTreatment>, sea_orm::DbErr> {
    decode_all(started_in(patient_id, from, to).all(db).await?)
}

/// [`started_between`] as a read to send with others ([`super::reads::together`]).
pub fn started_between_read(
    patient_id: PatientId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Read<StoredTreatment> {
    Read::new(started_in(patient_id, from, to), decode_result)
}

fn started_in(
    patient_id: PatientId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sea_orm::Select<treatment::Entity> {
    treatment::Entity::find()
        .filter(treatment::Column::PatientId.eq(patient_id.0))
        .filter(treatment::Column::StartedAt.gte(from))
        .filter(treatment::Column::StartedAt.lt(to))
        .order_by_asc(treatment::Column::StartedAt)
}

/// The latest treatment (by `started_at`) of each patient.
pub async fn latest_for_patients(
    db: &impl ConnectionTrait,
    patient_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, StoredTreatment>, sea_orm::DbErr> {
    let mut out: std::collections::HashMap<Uuid, TreatmentRow> = std::collections::HashMap::new();
    for chunk in patient_ids.chunks(super::IDS_PER_QUERY) {
        let rows = treatment::Entity::find()
            .filter(treatment::Column::PatientId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        for row in rows {
            match out.get(&row.patient_id) {
                Some(current) if (current.started_at, current.id) >= (row.started_at, row.id) => {}
                _ => {
                    out.insert(row.patient_id, row);
                }
            }
        }
    }
    out.into_iter()
        .map(|(patient, row)| Ok((patient, decode(row)?)))
        .collect()
}
