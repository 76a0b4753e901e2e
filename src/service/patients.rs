//! The clinician's patient list: each linked patient with the state of their diary.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::today_in;
use crate::domain::range::add_days;
use crate::domain::{DateRange, TimeZone, UserId, WindowStats};
use crate::error::ApiResult;
use crate::store::treatments::StoredTreatment;
use crate::store::users::Account;
use crate::store::{care, diary, treatments, Store};

/// One linked patient as the list shows them.
#[derive(Debug, Clone)]
pub struct PatientOverview {
    pub patient: Account,
    /// When the patient linked the clinician.
    pub linked_at: DateTime<Utc>,
    /// The latest recorded diary date, if any.
    pub last_entry_date: Option<NaiveDate>,
    /// The 28 days ending today in the patient's time zone.
    pub last_28_days: WindowStats,
    /// The treatment with the latest `started_at`, if any.
    pub latest_treatment: Option<StoredTreatment>,
}

/// The 28 days ending today in `tz`.
pub fn last_28_days(tz: TimeZone) -> DateRange {
    let today = today_in(tz);
    DateRange::new(add_days(today, -27), today)
}

/// One page (`limit` patients after the id `after`) of `clinician`'s linked patients, ordered by
/// id, and whether more follow. A page costs a fixed number of queries, whatever its size.
pub async fn list_patients(
    store: &Store,
    clinician: UserId,
    after: Option<Uuid>,
    limit: u64,
) -> ApiResult<(Vec<PatientOverview>, bool)> {
    let db = &store.db;
    let mut rows = care::list_patients(db, clinician, after, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let windows: Vec<DateRange> = rows
        .iter()
        .map(|(_, patient)| last_28_days(patient.timezone))
        .collect();
    if rows.is_empty() {
        return Ok((Vec::new(), more));
    }
    let ids: Vec<Uuid> = rows.iter().map(|(link, _)| link.patient_id).collect();
    // Each patient's 28 days summed by the database: one row per patient, not 28.
    let ranges: Vec<(Uuid, NaiveDate, NaiveDate)> = ids
        .iter()
        .zip(&windows)
        .map(|(id, w)| (*id, w.from, w.to))
        .collect();
    // Three independent reads at once, each on its own pooled connection.
    let (tallies, last_dates, mut latest) = tokio::try_join!(
        diary::window_tallies(db, &ranges),
        diary::last_entry_dates(db, &ids),
        treatments::latest_for_patients(db, &ids),
    )?;
    let items = rows
        .into_iter()
        .zip(windows.into_iter().zip(tallies))
        .map(|((link, patient), (window, tally))| PatientOverview {
            last_entry_date: last_dates.get(&link.patient_id).copied(),
            last_28_days: WindowStats::from_tally(window.from, window.to, &tally),
            latest_treatment: latest.remove(&link.patient_id),
            linked_at: link.created_at,
            patient,
        })
        .collect();
    Ok((items, more))
}
