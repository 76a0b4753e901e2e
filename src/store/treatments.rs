//! Treatment events.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::treatment;

pub use treatment::Model as TreatmentRow;

/// The fields a caller may set.
#[derive(Clone, Debug, PartialEq)]
pub struct TreatmentContent {
    pub kind: String,
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub dose: Option<f64>,
    pub dose_unit: Option<String>,
    pub notes: Option<String>,
    pub adverse_events_json: String,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    recorded_by: Uuid,
    content: TreatmentContent,
) -> Result<TreatmentRow, sea_orm::DbErr> {
    let now = super::now();
    treatment::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id),
        kind: Set(content.kind),
        name: Set(content.name),
        started_at: Set(content.started_at),
        ended_at: Set(content.ended_at),
        dose: Set(content.dose),
        dose_unit: Set(content.dose_unit),
        notes: Set(content.notes),
        adverse_events: Set(content.adverse_events_json),
        recorded_by: Set(recorded_by),
        updated_by: Set(Some(recorded_by)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn get(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    id: Uuid,
) -> Result<Option<TreatmentRow>, sea_orm::DbErr> {
    treatment::Entity::find_by_id(id)
        .filter(treatment::Column::PatientId.eq(patient_id))
        .one(db)
        .await
}

pub async fn update(
    db: &impl ConnectionTrait,
    current: TreatmentRow,
    content: TreatmentContent,
    updated_by: Uuid,
) -> Result<TreatmentRow, sea_orm::DbErr> {
    let mut active: treatment::ActiveModel = current.into();
    active.kind = Set(content.kind);
    active.name = Set(content.name);
    active.started_at = Set(content.started_at);
    active.ended_at = Set(content.ended_at);
    active.dose = Set(content.dose);
    active.dose_unit = Set(content.dose_unit);
    active.notes = Set(content.notes);
    active.adverse_events = Set(content.adverse_events_json);
    active.updated_at = Set(super::now());
    active.updated_by = Set(Some(updated_by));
    active.update(db).await
}

pub async fn delete(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    id: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    let result = treatment::Entity::delete_many()
        .filter(treatment::Column::Id.eq(id))
        .filter(treatment::Column::PatientId.eq(patient_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A patient's treatments by start time (then id), after the cursor `(started_at, id)`.
pub async fn list(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<TreatmentRow>, sea_orm::DbErr> {
    use sea_orm::Condition;
    let mut query = treatment::Entity::find()
        .filter(treatment::Column::PatientId.eq(patient_id))
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
    query.all(db).await
}

/// A patient's treatments that started in `from..to` (instants).
pub async fn started_between(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TreatmentRow>, sea_orm::DbErr> {
    treatment::Entity::find()
        .filter(treatment::Column::PatientId.eq(patient_id))
        .filter(treatment::Column::StartedAt.gte(from))
        .filter(treatment::Column::StartedAt.lt(to))
        .order_by_asc(treatment::Column::StartedAt)
        .all(db)
        .await
}

/// Treatments of `kind` for any of `patient_ids` that started in `from..to` (one query per 500
/// patients).
pub async fn of_kind_for_patients(
    db: &impl ConnectionTrait,
    patient_ids: &[Uuid],
    kind: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TreatmentRow>, sea_orm::DbErr> {
    let mut out = Vec::new();
    for chunk in patient_ids.chunks(500) {
        let rows = treatment::Entity::find()
            .filter(treatment::Column::PatientId.is_in(chunk.iter().copied()))
            .filter(treatment::Column::Kind.eq(kind))
            .filter(treatment::Column::StartedAt.gte(from))
            .filter(treatment::Column::StartedAt.lt(to))
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The latest treatment (by `started_at`) of each patient.
pub async fn latest_for_patients(
    db: &impl ConnectionTrait,
    patient_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, TreatmentRow>, sea_orm::DbErr> {
    let mut out: std::collections::HashMap<Uuid, TreatmentRow> = std::collections::HashMap::new();
    for chunk in patient_ids.chunks(500) {
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
    Ok(out)
}
