//! The change sequence behind the patient app's changes feed (`GET …/changes`).
//!
//! Every diary or treatment write of a patient takes the next number of that patient's counter
//! (`change_counters`) inside its own transaction and stamps it on the row it writes
//! (`change_seq`), or on a tombstone when it deletes. A pull lists what carries a number above
//! its cursor. Numbers come from the database, never from a clock.
//!
//! Why a cursor can never skip a change:
//! - PostgreSQL: taking a number is `INSERT … ON CONFLICT DO UPDATE SET last_seq = last_seq + 1`,
//!   which row-locks the patient's counter until the transaction ends. A second writer of the
//!   same patient waits on that lock and then reads the committed value, so per patient the
//!   numbers are committed in increasing order: when number `n` is visible, every smaller one
//!   is committed (or rolled back, leaving a harmless gap). A global sequence would not do:
//!   writer A takes 10, writer B takes 11 and commits first, a pull sees 11 and moves its
//!   cursor past 10 before A commits. The lock is taken before any diary row is locked, so all
//!   writers of one patient lock in the same order (no deadlock), and they take turns anyway.
//! - SQLite: one writer at a time (`BEGIN IMMEDIATE` behind the store's write gate), so commit
//!   order is number order trivially.
//! - A pull reads the committed counter first (`upper`) and lists only changes numbered up to
//!   it, so the several statements of one pull agree: a change committed while the pull runs
//!   either is numbered above `upper` (next pull) or moved a row past `upper` (next pull too).

use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use super::diary::{self, StoredEntry};
use super::entities::{diary_entry, diary_tombstone, treatment, treatment_tombstone};
use super::treatments::{self, StoredTreatment};
use crate::domain::{PatientId, TreatmentId};

#[derive(Debug, FromQueryResult)]
struct LastSeq {
    last_seq: i64,
}

/// Takes the patient's next change number; call inside the write transaction, before locking
/// any of the patient's rows. Holds the patient's counter locked until commit (PostgreSQL).
pub async fn next(db: &impl ConnectionTrait, patient_id: PatientId) -> Result<i64, DbErr> {
    reserve(db, patient_id, 1).await
}

/// Takes the patient's next `n` change numbers at once (`n` ≥ 1) and returns the first; the
/// caller uses `first .. first + n`. Locks like [`next`].
pub async fn reserve(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    n: i64,
) -> Result<i64, DbErr> {
    let n = n.max(1);
    let backend = db.get_database_backend();
    let (patient, step, step_again) = match backend {
        DbBackend::Postgres => ("$1", "$2", "$2"),
        _ => ("?", "?", "?"),
    };
    let sql = format!(
        "INSERT INTO change_counters (patient_id, last_seq) VALUES ({patient}, {step}) \
         ON CONFLICT (patient_id) DO UPDATE SET last_seq = change_counters.last_seq + {step_again} \
         RETURNING last_seq"
    );
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![patient_id.0.into(), n.into()],
        _ => vec![patient_id.0.into(), n.into(), n.into()],
    };
    let row = LastSeq::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("change counter returned no row".into()))?;
    Ok(row.last_seq - n + 1)
}

/// The last committed change number of a patient (0 before the first change).
pub async fn last(db: &impl ConnectionTrait, patient_id: PatientId) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let placeholder = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!("SELECT last_seq FROM change_counters WHERE patient_id = {placeholder}");
    let row = LastSeq::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql,
        [patient_id.0.into()],
    ))
    .one(db)
    .await?;
    Ok(row.map_or(0, |r| r.last_seq))
}

/// Records that a day was deleted by change `seq`.
pub async fn bury_day(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    date: NaiveDate,
    seq: i64,
) -> Result<(), DbErr> {
    let tombstone = diary_tombstone::ActiveModel {
        patient_id: sea_orm::Set(patient_id.0),
        entry_date: sea_orm::Set(date),
        change_seq: sea_orm::Set(seq),
    };
    diary_tombstone::Entity::insert(tombstone)
        .on_conflict(
            OnConflict::columns([
                diary_tombstone::Column::PatientId,
                diary_tombstone::Column::EntryDate,
            ])
            .update_column(diary_tombstone::Column::ChangeSeq)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Forgets the deletion of a day that is written again: it appears only as written.
pub async fn unbury_day(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    date: NaiveDate,
) -> Result<(), DbErr> {
    diary_tombstone::Entity::delete_many()
        .filter(diary_tombstone::Column::PatientId.eq(patient_id.0))
        .filter(diary_tombstone::Column::EntryDate.eq(date))
        .exec(db)
        .await?;
    Ok(())
}

/// Records that a treatment was deleted by change `seq` (ids are never reused).
pub async fn bury_treatment(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    treatment_id: TreatmentId,
    seq: i64,
) -> Result<(), DbErr> {
    let tombstone = treatment_tombstone::ActiveModel {
        patient_id: sea_orm::Set(patient_id.0),
        treatment_id: sea_orm::Set(treatment_id.0),
        change_seq: sea_orm::Set(seq),
    };
    treatment_tombstone::Entity::insert(tombstone)
        .on_conflict(
            OnConflict::columns([
                treatment_tombstone::Column::PatientId,
                treatment_tombstone::Column::TreatmentId,
            ])
            .update_column(treatment_tombstone::Column::ChangeSeq)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The changes numbered `after + 1 ..= upto`, each list in number order and cut at `limit`
/// rows (the caller merges the lists and cuts the page).
#[derive(Debug, Default)]
pub struct ChangeRows {
    /// `(change number, entry)`.
    pub diary_entries: Vec<(i64, StoredEntry)>,
    /// `(change number, deleted day)`.
    pub deleted_days: Vec<(i64, NaiveDate)>,
    pub treatments: Vec<(i64, StoredTreatment)>,
    pub deleted_treatments: Vec<(i64, TreatmentId)>,
}

/// Reads one page's worth of each kind of change. `with_tombstones` false skips the deletions
/// (a first pull has nothing to delete).
pub async fn read(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    after: i64,
    upto: i64,
    limit: u64,
    with_tombstones: bool,
) -> Result<ChangeRows, DbErr> {
    let diary_entries = diary_entry::Entity::find()
        .filter(diary_entry::Column::PatientId.eq(patient_id.0))
        .filter(diary_entry::Column::ChangeSeq.gt(after))
        .filter(diary_entry::Column::ChangeSeq.lte(upto))
        .order_by_asc(diary_entry::Column::ChangeSeq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Ok((row.change_seq, diary::decode(row)?)))
        .collect::<Result<Vec<_>, DbErr>>()?;
    let treatments = treatment::Entity::find()
        .filter(treatment::Column::PatientId.eq(patient_id.0))
        .filter(treatment::Column::ChangeSeq.gt(after))
        .filter(treatment::Column::ChangeSeq.lte(upto))
        .order_by_asc(treatment::Column::ChangeSeq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Ok((row.change_seq, treatments::decode(row)?)))
        .collect::<Result<Vec<_>, DbErr>>()?;
    if !with_tombstones {
        return Ok(ChangeRows {
            diary_entries,
            treatments,
            ..ChangeRows::default()
        });
    }
    let deleted_days = diary_tombstone::Entity::find()
        .filter(diary_tombstone::Column::PatientId.eq(patient_id.0))
        .filter(diary_tombstone::Column::ChangeSeq.gt(after))
        .filter(diary_tombstone::Column::ChangeSeq.lte(upto))
        .order_by_asc(diary_tombstone::Column::ChangeSeq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.change_seq, t.entry_date))
        .collect();
    let deleted_treatments = treatment_tombstone::Entity::find()
        .filter(treatment_tombstone::Column::PatientId.eq(patient_id.0))
        .filter(treatment_tombstone::Column::ChangeSeq.gt(after))
        .filter(treatment_tombstone::Column::ChangeSeq.lte(upto))
        .order_by_asc(treatment_tombstone::Column::ChangeSeq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.change_seq, TreatmentId(t.treatment_id)))
        .collect();
    Ok(ChangeRows {
        diary_entries,
        deleted_days,
        treatments,
        deleted_treatments,
    })
}
