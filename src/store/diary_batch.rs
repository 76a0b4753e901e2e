//! The diary batch of an offline app: many days in one transaction, all or nothing, each
//! optionally guarded by the version the app last saw (`if_version`).

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::diary::{self, Precondition, StoredEntry, WriteError};
use crate::domain::sync::{version_conflicts, VersionConflict, VersionedEntry};
use crate::domain::PatientId;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Some `if_version` did not hold; nothing was written.
    #[error("version conflicts")]
    Conflicts(Vec<VersionConflict>),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<WriteError> for BatchError {
    fn from(err: WriteError) -> Self {
        match err {
            // The versions were checked under the patient's write lock; a failure here would
            // mean a writer bypassed it.
            WriteError::PreconditionFailed => {
                Self::Db(sea_orm::DbErr::Custom("batch precondition changed".into()))
            }
            WriteError::Db(e) => Self::Db(e),
        }
    }
}

/// Saves the days in one transaction `db`; the caller commits. Every `if_version` is checked
/// first, after taking the patient's change lock, so the answer lists all conflicts and a
/// conflict writes nothing.
pub async fn save(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    days: &[VersionedEntry],
) -> Result<Vec<StoredEntry>, BatchError> {
    // One range of change numbers for the whole batch, taken first: it also locks out every
    // other writer of this patient until commit, so the versions read below stay true.
    let count = i64::try_from(days.len()).unwrap_or(i64::MAX);
    let first = super::changes::reserve(db, patient_id, count).await?;
    let expected: Vec<(NaiveDate, i32)> = days
        .iter()
        .filter_map(|d| d.if_version.map(|v| (d.entry.date(), v)))
        .collect();
    if !expected.is_empty() {
        let dates: Vec<NaiveDate> = expected.iter().map(|(d, _)| *d).collect();
        let stored: HashMap<NaiveDate, i32> = diary::versions(db, patient_id, &dates).await?;
        let conflicts = version_conflicts(&expected, &stored);
        if !conflicts.is_empty() {
            return Err(BatchError::Conflicts(conflicts));
        }
    }
    let mut rows = Vec::with_capacity(days.len());
    for (seq, day) in (first..).zip(days) {
        let precondition = match day.if_version {
            None => Precondition::None,
            Some(0) => Precondition::Absent,
            Some(v) => Precondition::Version(v),
        };
        let (stored, _) =
            diary::upsert_numbered(db, patient_id, &day.entry, precondition, seq).await?;
        rows.push(stored);
    }
    Ok(rows)
}
