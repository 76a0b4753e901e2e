//! The patient app's pull: one page of the changes feed (sequence and guarantees in
//! `store::changes`, paging in `domain::sync`).

use chrono::NaiveDate;

use crate::domain::sync::{cut_page, ChangeCursor, ChangePage};
use crate::domain::{PatientId, Problems, TreatmentId};
use crate::error::{ApiError, ApiResult};
use crate::store::changes;
use crate::store::diary::StoredEntry;
use crate::store::treatments::StoredTreatment;
use crate::store::Store;

/// One listed change, in its latest state.
#[derive(Debug)]
pub enum Change {
    Entry(Box<StoredEntry>),
    DeletedDay(NaiveDate),
    Treatment(Box<StoredTreatment>),
    DeletedTreatment(TreatmentId),
}

fn not_a_cursor() -> ApiError {
    let mut problems = Problems::new();
    problems.add("since", "is not a cursor of this feed");
    problems.into()
}

/// The first `limit` changes after `since` (absent: everything there is, without deletions).
/// A cursor beyond the patient's last change was never handed out by this feed: 422.
pub async fn pull(
    store: &Store,
    patient_id: PatientId,
    since: Option<ChangeCursor>,
    limit: u64,
) -> ApiResult<ChangePage<Change>> {
    let db = &store.db;
    // Read the committed counter first and list only up to it (see `store::changes`).
    let upper = changes::last(db, patient_id).await?;
    if since.is_some_and(|c| c.0 > upper) {
        return Err(not_a_cursor());
    }
    // Rows older than the feed carry number 0: a first pull starts below it.
    let after = since.map_or(-1, |c| c.0);
    let rows = changes::read(db, patient_id, after, upper, limit + 1, since.is_some()).await?;
    let mut listed: Vec<(i64, Change)> = Vec::new();
    listed.extend(
        rows.diary_entries
            .into_iter()
            .map(|(seq, e)| (seq, Change::Entry(Box::new(e)))),
    );
    listed.extend(
        rows.treatments
            .into_iter()
            .map(|(seq, t)| (seq, Change::Treatment(Box::new(t)))),
    );
    listed.extend(
        rows.deleted_days
            .into_iter()
            .map(|(seq, d)| (seq, Change::DeletedDay(d))),
    );
    listed.extend(
        rows.deleted_treatments
            .into_iter()
            .map(|(seq, t)| (seq, Change::DeletedTreatment(t))),
    );
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(cut_page(listed, limit, upper))
}
