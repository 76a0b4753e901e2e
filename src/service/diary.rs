//! Saving diary days: each write in its own transaction, a batch all-or-nothing.

use crate::domain::sync::VersionedEntry;
use crate::domain::{DiaryEntry, PatientId};
use crate::error::{ApiError, ApiResult};
use crate::store::diary::{self, Precondition, StoredEntry, Upserted, WriteError};
use crate::store::diary_batch::{self, BatchError};
use crate::store::Store;

fn write_error(err: WriteError) -> ApiError {
    match err {
        WriteError::PreconditionFailed => ApiError::PreconditionFailed(
            "The entry has changed (or does not exist); fetch it and retry with its ETag.".into(),
        ),
        WriteError::Db(e) => e.into(),
    }
}

/// Creates or replaces the day of `entry` if `condition` holds (else a precondition failure).
pub async fn save(
    store: &Store,
    patient: PatientId,
    entry: &DiaryEntry,
    condition: Precondition,
) -> ApiResult<(StoredEntry, Upserted)> {
    diary::save_day(store, patient, entry, condition)
        .await
        .map_err(write_error)
}

/// Saves every entry in one transaction, in order: all or none. Any `if_version` that does not
/// hold is a 412 listing every conflicting day, and nothing is saved.
pub async fn save_all(
    store: &Store,
    patient: PatientId,
    days: &[VersionedEntry],
) -> ApiResult<Vec<StoredEntry>> {
    let txn = store.begin_write().await?;
    let saved = diary_batch::save(&*txn, patient, days)
        .await
        .map_err(|e| match e {
            BatchError::Conflicts(conflicts) => ApiError::VersionConflicts(conflicts),
            BatchError::Db(e) => e.into(),
        })?;
    txn.commit().await?;
    Ok(saved)
}

/// Deletes the day if `condition` holds; 404 when there is no entry (and no condition).
pub async fn delete(
    store: &Store,
    patient: PatientId,
    date: chrono::NaiveDate,
    condition: Precondition,
) -> ApiResult<()> {
    let txn = store.begin_write().await?;
    let deleted = diary::delete(&*txn, patient, date, condition)
        .await
        .map_err(write_error)?;
    if !deleted {
        return Err(ApiError::not_found("No diary entry for this day."));
    }
    txn.commit().await?;
    Ok(())
}
