//! The cohort's reads and the window sums it keeps (`treatment_window_tallies`).
//!
//! A cohort over a clinic network used to sum the baseline and post window of every matching
//! treatment from the diary on every request: 2 × N days per treatment, 56 rows read for every
//! one of 5,000 treatments. Now it reads, in one statement, every candidate treatment with the
//! sums stored for it, and sums from the diary only where those are missing or stale, storing
//! them for the next request.
//!
//! Why a stored row can be trusted: its stamp is the patient's change counter
//! (`change_counters.last_seq`, which every diary and treatment write of the patient advances
//! inside its own transaction; see `store::changes`) and the treatment day it was placed on. A
//! row is used only while both equal what the same statement reads now. The stamp is read before
//! (never after) the sums it is stored with are taken, so a row's sums are at least as new as its
//! stamp: a write that lands in between leaves the row stamped older than the counter, and the
//! next read sums it again. A time-zone change moves the treatment day, so it misses too.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Set, Statement, StreamTrait,
};
use uuid::Uuid;

use super::corrupt;
use super::entities::columns::TreatmentKindColumn;
use super::entities::treatment_window_tally;
use crate::domain::{TimeZone, TreatmentKind, UserId, WindowTally};

/// One treatment of the kind, started in the instants asked for, of a linked patient.
#[derive(Clone, Debug)]
pub struct CohortTreatment {
    pub treatment_id: Uuid,
    pub patient_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub timezone: TimeZone,
    /// The patient's change counter as this read saw it.
    pub change_seq: i64,
    /// The sums stored for this window length, whatever their stamp.
    pub stored: Option<StoredWindows>,
}

/// A treatment's stored sums and the stamp they were taken at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredWindows {
    pub treatment_day: NaiveDate,
    pub change_seq: i64,
    pub baseline: WindowTally,
    pub post: WindowTally,
}

impl CohortTreatment {
    /// The stored sums, if their stamp is this read's: the same change counter and treatment day.
    pub fn fresh(&self, treatment_day: NaiveDate) -> Option<&StoredWindows> {
        self.stored
            .as_ref()
            .filter(|s| s.change_seq == self.change_seq && s.treatment_day == treatment_day)
    }
}

#[derive(Debug, FromQueryResult)]
struct CandidateRow {
    treatment_id: Uuid,
    patient_id: Uuid,
    started_at: DateTime<Utc>,
    timezone: String,
    change_seq: i64,
    stored_day: Option<NaiveDate>,
    stored_seq: Option<i64>,
    baseline: Option<String>,
    post: Option<String>,
}

/// Calls `visit` with every treatment of `kind` that started in `from..to` of `clinician`'s
/// linked patients, with each patient's time zone and change counter and the sums stored for
/// `window_days`: one statement, so counter and stored stamp come from one snapshot. The rows
/// are streamed (at most the driver's row buffer is held), not collected: a 10,000-patient-year
/// cohort is 5,500 of them.
pub async fn for_each_candidate<D>(
    db: &D,
    clinician: UserId,
    kind: TreatmentKind,
    window_days: u32,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    mut visit: impl FnMut(CohortTreatment) + Send,
) -> Result<(), sea_orm::DbErr>
where
    D: ConnectionTrait + StreamTrait + Send,
{
    use futures_util::TryStreamExt as _;
    let backend = ConnectionTrait::get_database_backend(db);
    let p: Vec<String> = (1..=5)
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect();
    let sql = format!(
        "SELECT t.id AS treatment_id, t.patient_id AS patient_id, t.started_at AS started_at, \
           u.timezone AS timezone, COALESCE(c.last_seq, 0) AS change_seq, \
           w.treatment_day AS stored_day, w.change_seq AS stored_seq, \
           w.baseline AS baseline, w.post AS post \
         FROM care_links l \
         JOIN users u ON u.id = l.patient_id \
         JOIN treatments t ON t.patient_id = l.patient_id \
         LEFT JOIN change_counters c ON c.patient_id = l.patient_id \
         LEFT JOIN treatment_window_tallies w ON w.treatment_id = t.id AND w.window_days = {} \
         WHERE l.clinician_id = {} AND t.kind = {} AND t.started_at >= {} AND t.started_at < {}",
        p[0], p[1], p[2], p[3], p[4]
    );
    let values: [sea_orm::Value; 5] = [
        i16::try_from(window_days).unwrap_or(i16::MAX).into(),
        clinician.0.into(),
        sea_orm::sea_query::Value::from(TreatmentKindColumn::from(kind)),
        from.into(),
        to.into(),
    ];
    let rows = db
        .stream_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.try_next().await? {
        visit(decode_candidate(CandidateRow::from_query_result(
            &row, "",
        )?)?);
    }
    Ok(())
}

fn decode_candidate(row: CandidateRow) -> Result<CohortTreatment, sea_orm::DbErr> {
    let timezone =
        TimeZone::parse(&row.timezone).ok_or_else(|| corrupt("a time zone", &row.timezone))?;
    // Sums that no longer decode (a layout from another version) count as missing.
    let stored = match (row.stored_day, row.stored_seq, &row.baseline, &row.post) {
        (Some(day), Some(seq), Some(b), Some(p)) => {
            decode(b)
                .zip(decode(p))
                .map(|(baseline, post)| StoredWindows {
                    treatment_day: day,
                    change_seq: seq,
                    baseline,
                    post,
                })
        }
        _ => None,
    };
    Ok(CohortTreatment {
        treatment_id: row.treatment_id,
        patient_id: row.patient_id,
        started_at: row.started_at,
        timezone,
        change_seq: row.change_seq,
        stored,
    })
}

/// Stores (or replaces) the sums of `(treatment, windows)` for `window_days`. A treatment
/// deleted since it was read fails the foreign key; the caller treats the whole store as
/// optional.
pub async fn store(
    db: &impl ConnectionTrait,
    window_days: u32,
    rows: &[(Uuid, StoredWindows)],
) -> Result<(), sea_orm::DbErr> {
    let window_days = i16::try_from(window_days).unwrap_or(i16::MAX);
    let mut rest = rows;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(super::rows_per_insert(rest.len()));
        let models = chunk
            .iter()
            .map(|(treatment, w)| treatment_window_tally::ActiveModel {
                treatment_id: Set(*treatment),
                window_days: Set(window_days),
                treatment_day: Set(w.treatment_day),
                change_seq: Set(w.change_seq),
                baseline: Set(encode(&w.baseline)),
                post: Set(encode(&w.post)),
            });
        treatment_window_tally::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    treatment_window_tally::Column::TreatmentId,
                    treatment_window_tally::Column::WindowDays,
                ])
                .update_columns([
                    treatment_window_tally::Column::TreatmentDay,
                    treatment_window_tally::Column::ChangeSeq,
                    treatment_window_tally::Column::Baseline,
                    treatment_window_tally::Column::Post,
                ])
                .to_owned(),
            )
            .exec(db)
            .await?;
        rest = tail;
    }
    Ok(())
}

/// A tally as comma-separated counts ([`WindowTally::counts`]).
pub fn encode(t: &WindowTally) -> String {
    t.counts()
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The tally [`encode`] wrote, or `None` for anything else.
pub fn decode(text: &str) -> Option<WindowTally> {
    let counts: Vec<u64> = text
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    WindowTally::from_counts(counts.try_into().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tally() -> impl Strategy<Value = WindowTally> {
        (
            proptest::array::uniform10(0u32..100),
            proptest::array::uniform10(0u32..100),
            any::<u64>(),
        )
            .prop_map(|(a, class_days, pain)| WindowTally {
                days_recorded: a[0],
                any_headache_days: a[1],
                headache_days: a[2],
                migraine_days: a[3],
                moderate_severe_days: a[4],
                acute_medication_days: a[5],
                migraine_specific_medication_days: a[6],
                headache_free_days: a[7],
                headache_pain_sum: pain,
                overuse_class_days: a[8].max(a[9]),
                class_days,
            })
    }

    proptest! {
        #[test]
        fn a_stored_tally_reads_back_as_written(t in tally()) {
            prop_assert_eq!(decode(&encode(&t)), Some(t));
        }
    }

    #[test]
    fn anything_but_a_stored_tally_is_missing() {
        let full = encode(&WindowTally::default());
        assert_eq!(decode(&full), Some(WindowTally::default()));
        assert_eq!(decode(""), None);
        assert_eq!(decode(&format!("{full},0")), None, "one count too many");
        assert_eq!(decode(&full[2..]), None, "one count too few");
        assert_eq!(decode(&full.replacen('0', "-1", 1)), None);
        assert_eq!(
            decode(&full.replacen('0', "4294967296", 1)),
            None,
            "above u32"
        );
    }
}
