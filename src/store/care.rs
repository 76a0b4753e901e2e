//! The care team: invites and the patient–clinician links that grant a clinician access.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{care_invite, care_link, user};
use super::users::{self, Account};
use crate::domain::{PatientId, UserId};

pub use care_invite::Model as InviteRow;

pub async fn create_invite(
    db: &impl ConnectionTrait,
    clinician_id: UserId,
    code_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<InviteRow, sea_orm::DbErr> {
    care_invite::ActiveModel {
        id: Set(Uuid::now_v7()),
        clinician_id: Set(clinician_id.0),
        code_hash: Set(code_hash),
        expires_at: Set(expires_at),
        created_at: Set(super::now()),
        used_at: Set(None),
        used_by: Set(None),
    }
    .insert(db)
    .await
}

pub async fn find_invite(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<InviteRow>, sea_orm::DbErr> {
    care_invite::Entity::find()
        .filter(care_invite::Column::CodeHash.eq(code_hash))
        .one(db)
        .await
}

/// Spends an invite; false when someone else spent it first.
pub async fn spend_invite(
    db: &impl ConnectionTrait,
    invite_id: Uuid,
    patient_id: PatientId,
) -> Result<bool, sea_orm::DbErr> {
    let result = care_invite::Entity::update_many()
        .col_expr(care_invite::Column::UsedAt, Expr::value(super::now()))
        .col_expr(care_invite::Column::UsedBy, Expr::value(patient_id.0))
        .filter(care_invite::Column::Id.eq(invite_id))
        .filter(care_invite::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn find_link(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    clinician_id: UserId,
) -> Result<Option<care_link::Model>, sea_orm::DbErr> {
    care_link::Entity::find_by_id((patient_id.0, clinician_id.0))
        .one(db)
        .await
}

pub async fn is_linked(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    clinician_id: UserId,
) -> Result<bool, sea_orm::DbErr> {
    Ok(find_link(db, patient_id, clinician_id).await?.is_some())
}

pub async fn link(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    clinician_id: UserId,
) -> Result<care_link::Model, sea_orm::DbErr> {
    care_link::ActiveModel {
        patient_id: Set(patient_id.0),
        clinician_id: Set(clinician_id.0),
        created_at: Set(super::now()),
    }
    .insert(db)
    .await
}

/// Removes a link; false when there was none.
pub async fn unlink(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    clinician_id: UserId,
) -> Result<bool, sea_orm::DbErr> {
    let result = care_link::Entity::delete_by_id((patient_id.0, clinician_id.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Which side of a link a listing starts from.
#[derive(Clone, Copy)]
enum Side {
    /// A patient's clinicians.
    Patient(PatientId),
    /// A clinician's patients.
    Clinician(UserId),
}

/// One page of links from `side`, ordered by the other side's id, after `after` (keyset
/// pagination), each with the other side's account.
async fn list_links(
    db: &impl ConnectionTrait,
    side: Side,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(care_link::Model, Account)>, sea_orm::DbErr> {
    let (mine, other) = match side {
        Side::Patient(id) => (
            care_link::Column::PatientId.eq(id.0),
            care_link::Column::ClinicianId,
        ),
        Side::Clinician(id) => (
            care_link::Column::ClinicianId.eq(id.0),
            care_link::Column::PatientId,
        ),
    };
    let mut links = care_link::Entity::find()
        .filter(mine)
        .order_by_asc(other)
        .limit(limit);
    if let Some(after) = after {
        links = links.filter(other.gt(after));
    }
    let links = links.all(db).await?;
    let other_id = |l: &care_link::Model| match side {
        Side::Patient(_) => l.clinician_id,
        Side::Clinician(_) => l.patient_id,
    };
    let ids: Vec<Uuid> = links.iter().map(other_id).collect();
    let mut accounts = users_by_id(db, &ids).await?;
    Ok(links
        .into_iter()
        .filter_map(|link| {
            let account = accounts.remove(&other_id(&link))?;
            Some((link, account))
        })
        .collect())
}

/// A patient's clinicians, ordered by clinician id, after `after` (keyset pagination).
pub async fn list_clinicians(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(care_link::Model, Account)>, sea_orm::DbErr> {
    list_links(db, Side::Patient(patient_id), after, limit).await
}

/// A clinician's linked patients ordered by patient id, after `after` (keyset pagination).
pub async fn list_patients(
    db: &impl ConnectionTrait,
    clinician_id: UserId,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(care_link::Model, Account)>, sea_orm::DbErr> {
    list_links(db, Side::Clinician(clinician_id), after, limit).await
}

async fn users_by_id(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Account>, sea_orm::DbErr> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(super::IDS_PER_QUERY) {
        for u in user::Entity::find()
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            out.insert(u.id, users::decode(u)?);
        }
    }
    Ok(out)
}
