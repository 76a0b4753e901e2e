//! Diary entries: one row per patient per date, read by date range.

use chrono::NaiveDate;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TryInsertResult, Value,
};
use uuid::Uuid;

use super::entities::columns::DisabilityColumn;
use super::entities::diary_entry;
use super::reads::Read;
use super::{corrupt, Store};
use crate::domain::diary::{DayRecord, HeadacheFeatures, MedicationClassSet};
use crate::domain::WindowTally;
use crate::domain::{classify, Classification};
use crate::domain::{AcuteMedication, DiaryEntry, EntryDraft, PatientId};

pub use diary_entry::Model as DiaryRow;

/// A saved diary day: the valid entry and its bookkeeping.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEntry {
    pub patient_id: PatientId,
    pub entry: DiaryEntry,
    /// 1 when created, +1 on each change.
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// How one day is encoded in its row: the entry's bit sets are derived on write (so summaries
/// read a few integers per day and never parse JSON), the medications kept as JSON text.
#[derive(Clone, Debug, PartialEq)]
struct DiaryContent {
    peak_pain: i16,
    headache_hours: Option<f64>,
    feature_flags: i32,
    medication_class_flags: i32,
    day_class: i16,
    acute_medications_json: String,
    disability: Option<DisabilityColumn>,
    notes: Option<String>,
}

impl DiaryContent {
    fn encode(entry: &DiaryEntry) -> Result<Self, sea_orm::DbErr> {
        let acute_medications_json = serde_json::to_string(entry.acute_medications())
            .map_err(|e| sea_orm::DbErr::Custom(format!("encoding medications: {e}")))?;
        Ok(Self {
            peak_pain: i16::from(entry.peak_pain()),
            headache_hours: entry.headache_hours(),
            feature_flags: i32::from(entry.features().to_bits()),
            medication_class_flags: i32::from(entry.medication_classes().bits()),
            day_class: i16::from(classify(&entry.record()).to_bits()),
            acute_medications_json,
            disability: entry.disability().map(DisabilityColumn::from),
            notes: entry.notes().map(str::to_owned),
        })
    }

    /// `row` with this content in its content columns (ids, version and stamps untouched).
    fn written_over(&self, row: DiaryRow) -> DiaryRow {
        DiaryRow {
            peak_pain: self.peak_pain,
            headache_hours: self.headache_hours,
            feature_flags: self.feature_flags,
            medication_class_flags: self.medication_class_flags,
            day_class: Some(self.day_class),
            acute_medications: self.acute_medications_json.clone(),
            disability: self.disability,
            notes: self.notes.clone(),
            ..row
        }
    }

    fn same_as(&self, row: &DiaryRow) -> bool {
        self.peak_pain == row.peak_pain
            && self.headache_hours == row.headache_hours
            && self.feature_flags == row.feature_flags
            && self.medication_class_flags == row.medication_class_flags
            && self.acute_medications_json == row.acute_medications
            && self.disability == row.disability
            && self.notes == row.notes
    }
}

/// A row as a domain value: the one place a diary row is decoded. A row that breaks an entry
/// rule (a peak pain of 11, flags that do not fit, medications that do not parse) is an error,
/// never a quietly different day.
pub fn decode(row: DiaryRow) -> Result<StoredEntry, sea_orm::DbErr> {
    let what = || format!("diary entry {}", row.id);
    let acute_medications: Vec<AcuteMedication> =
        serde_json::from_str(&row.acute_medications).map_err(|e| corrupt(what(), e))?;
    let features = u16::try_from(row.feature_flags)
        .map(HeadacheFeatures::from_bits)
        .map_err(|e| corrupt(what(), e))?;
    let draft = EntryDraft {
        peak_pain: i64::from(row.peak_pain),
        headache_hours: row.headache_hours,
        features,
        acute_medications,
        disability: row.disability.map(Into::into),
        notes: row.notes,
    };
    let entry = DiaryEntry::parse_stored(row.entry_date, draft)
        .map_err(|problems| corrupt(what(), problems.describe()))?;
    Ok(StoredEntry {
        patient_id: PatientId(row.patient_id),
        entry,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The `If-Match` precondition of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: write unconditionally.
    None,
    /// `If-Match: *`: the entry must exist.
    Exists,
    /// `If-Match: "N"`: the entry must be at version N.
    Version(i32),
    /// A batch entry's `if_version: 0`: the day must have no entry.
    Absent,
}

impl Precondition {
    fn holds(self, current: Option<&DiaryRow>) -> bool {
        match (self, current) {
            (Self::None, _) => true,
            (Self::Exists, found) => found.is_some(),
            (Self::Version(v), Some(row)) => row.version == v,
            (Self::Version(_), None) => false,
            (Self::Absent, found) => found.is_none(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("precondition failed")]
    PreconditionFailed,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// How an upsert ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Replaced,
    /// Same content as stored: nothing written, version unchanged (a retried sync is free).
    Unchanged,
}

fn one_day(patient_id: Uuid, date: NaiveDate) -> sea_orm::Select<diary_entry::Entity> {
    diary_entry::Entity::find()
        .filter(diary_entry::Column::PatientId.eq(patient_id))
        .filter(diary_entry::Column::EntryDate.eq(date))
}

pub async fn get(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    date: NaiveDate,
) -> Result<Option<StoredEntry>, sea_orm::DbErr> {
    one_day(patient_id.0, date)
        .one(db)
        .await?
        .map(decode)
        .transpose()
}

/// The entry of one day, locked for the rest of the transaction (`FOR UPDATE` on PostgreSQL, so
/// concurrent writers of one day take turns; SQLite's writers are serialized already).
async fn get_for_update(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    date: NaiveDate,
) -> Result<Option<DiaryRow>, sea_orm::DbErr> {
    one_day(patient_id, date).lock_exclusive().one(db).await
}

/// Inserts or replaces the entry of one day; call inside a write transaction.
///
/// Takes the patient's next change number first (which also makes the patient's writers take
/// turns on PostgreSQL, see `store::changes`); a written day carries it and loses any tombstone.
/// Safe under concurrent writers on PostgreSQL too (SQLite serializes writers anyway): the insert
/// is `ON CONFLICT DO NOTHING` (a lost race becomes a replace), and the update only applies to the
/// version that was read (a lost race under `If-Match` becomes 412, otherwise it retries).
pub async fn upsert(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    entry: &DiaryEntry,
    precondition: Precondition,
) -> Result<(StoredEntry, Upserted), WriteError> {
    let change_seq = super::changes::next(db, patient_id).await?;
    upsert_numbered(db, patient_id, entry, precondition, change_seq).await
}

/// Saves one day in a write transaction of its own, durably: [`upsert`], except that without a
/// precondition on SQLite the whole write is one batch of statements sent at once
/// ([`UPSERT_BATCH`]). Each statement sent is a hand-off to the connection's thread and back,
/// made while the write gate is held; the batch makes one instead of six (savepoint, change
/// number, read, write, tombstone, release), and the PUT's throughput is the gate's.
pub async fn save_day(
    store: &Store,
    patient_id: PatientId,
    entry: &DiaryEntry,
    precondition: Precondition,
) -> Result<(StoredEntry, Upserted), WriteError> {
    if precondition == Precondition::None {
        if let Some(batch) = store.write_batch(upsert_batch(patient_id, entry)?).await {
            let (rows, txn) = batch?;
            let saved = batch_outcome(&*txn, patient_id, entry.date(), rows).await?;
            txn.commit().await?;
            return Ok(saved);
        }
    }
    let txn = store.begin_write().await?;
    let saved = upsert(&*txn, patient_id, entry, precondition).await?;
    txn.commit().await?;
    Ok(saved)
}

/// [`upsert`] without a precondition, for SQLite in one batch: the change number, the row
/// (inserted, or updated where its content differs, as `DiaryContent::same_as` compares), the
/// tombstone gone (a day with an entry has none, so deleting it on an update is a no-op).
const UPSERT_BATCH: &str = "\
    INSERT INTO change_counters (patient_id, last_seq) VALUES (?, 1) \
        ON CONFLICT (patient_id) DO UPDATE SET last_seq = change_counters.last_seq + 1; \
    INSERT INTO diary_entries (id, patient_id, entry_date, peak_pain, headache_hours, \
            feature_flags, medication_class_flags, day_class, acute_medications, disability, \
            notes, version, change_seq, created_at, updated_at) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, \
            (SELECT last_seq FROM change_counters WHERE patient_id = ?), ?, ?) \
        ON CONFLICT (patient_id, entry_date) DO UPDATE SET \
            peak_pain = excluded.peak_pain, headache_hours = excluded.headache_hours, \
            feature_flags = excluded.feature_flags, \
            medication_class_flags = excluded.medication_class_flags, \
            day_class = excluded.day_class, acute_medications = excluded.acute_medications, \
            disability = excluded.disability, notes = excluded.notes, \
            version = diary_entries.version + 1, change_seq = excluded.change_seq, \
            updated_at = excluded.updated_at \
        WHERE diary_entries.peak_pain IS NOT excluded.peak_pain \
            OR diary_entries.headache_hours IS NOT excluded.headache_hours \
            OR diary_entries.feature_flags IS NOT excluded.feature_flags \
            OR diary_entries.medication_class_flags IS NOT excluded.medication_class_flags \
            OR diary_entries.acute_medications IS NOT excluded.acute_medications \
            OR diary_entries.disability IS NOT excluded.disability \
            OR diary_entries.notes IS NOT excluded.notes \
        RETURNING *; \
    DELETE FROM diary_tombstones WHERE patient_id = ? AND entry_date = ?";

fn upsert_batch(patient_id: PatientId, entry: &DiaryEntry) -> Result<Statement, WriteError> {
    let content = DiaryContent::encode(entry)?;
    let date = entry.date();
    let now = super::now();
    let patient = Value::from(patient_id.0);
    let values = vec![
        patient.clone(),
        Uuid::now_v7().into(),
        patient.clone(),
        date.into(),
        content.peak_pain.into(),
        content.headache_hours.into(),
        content.feature_flags.into(),
        content.medication_class_flags.into(),
        content.day_class.into(),
        content.acute_medications_json.into(),
        content.disability.map(|d| d.to_value()).into(),
        content.notes.into(),
        patient.clone(),
        now.into(),
        now.into(),
        patient,
        date.into(),
    ];
    Ok(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        UPSERT_BATCH,
        values,
    ))
}

/// What [`UPSERT_BATCH`] did, from the one row its row statement returned: the row written, or
/// none when the content was the same (the update's WHERE), which leaves the row as it was.
async fn batch_outcome(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    date: NaiveDate,
    rows: Vec<sea_orm::QueryResult>,
) -> Result<(StoredEntry, Upserted), WriteError> {
    match rows.first() {
        Some(row) => {
            let row = DiaryRow::from_query_result(row, "")?;
            // A new row starts at version 1; an updated one is at 2 or more.
            let outcome = if row.version == 1 {
                Upserted::Created
            } else {
                Upserted::Replaced
            };
            Ok((decode(row)?, outcome))
        }
        None => {
            let row = one_day(patient_id.0, date).one(db).await?.ok_or_else(|| {
                sea_orm::DbErr::Custom("an unchanged diary day is not there".into())
            })?;
            Ok((decode(row)?, Upserted::Unchanged))
        }
    }
}

/// [`upsert`] with a change number the caller took already in this transaction (a batch takes
/// one range for all its days: [`super::changes::reserve`]).
pub async fn upsert_numbered(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    entry: &DiaryEntry,
    precondition: Precondition,
    change_seq: i64,
) -> Result<(StoredEntry, Upserted), WriteError> {
    let (row, outcome) = upsert_row(
        db,
        patient_id.0,
        entry.date(),
        DiaryContent::encode(entry)?,
        precondition,
        change_seq,
    )
    .await?;
    Ok((decode(row)?, outcome))
}

async fn upsert_row(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    date: NaiveDate,
    content: DiaryContent,
    precondition: Precondition,
    change_seq: i64,
) -> Result<(DiaryRow, Upserted), WriteError> {
    let mut current = get_for_update(db, patient_id, date).await?;
    if !precondition.holds(current.as_ref()) {
        return Err(WriteError::PreconditionFailed);
    }
    // Bounded retries: with the row locked FOR UPDATE a second round is rare, a third rarer.
    for _ in 0..3 {
        let now = super::now();
        let row = match current.take() {
            Some(row) => row,
            None => {
                let row = content.written_over(DiaryRow {
                    id: Uuid::now_v7(),
                    patient_id,
                    entry_date: date,
                    peak_pain: 0,
                    headache_hours: None,
                    feature_flags: 0,
                    medication_class_flags: 0,
                    day_class: None,
                    acute_medications: String::new(),
                    disability: None,
                    notes: None,
                    version: 1,
                    change_seq,
                    created_at: now,
                    updated_at: now,
                });
                let inserted = diary_entry::Entity::insert(row.clone().into_active_model())
                    .on_conflict_do_nothing_on([
                        diary_entry::Column::PatientId,
                        diary_entry::Column::EntryDate,
                    ])
                    .exec_without_returning(db)
                    .await?;
                if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                    super::changes::unbury_day(db, PatientId(patient_id), date).await?;
                    return Ok((row, Upserted::Created));
                }
                if precondition != Precondition::None {
                    return Err(WriteError::PreconditionFailed);
                }
                // Another request created the day first; replace it (no precondition was
                // given, or it would have failed above).
                current = get_for_update(db, patient_id, date).await?;
                continue;
            }
        };
        if content.same_as(&row) {
            return Ok((row, Upserted::Unchanged));
        }
        let updated = content.written_over(DiaryRow {
            version: row.version + 1,
            change_seq,
            updated_at: now,
            ..row.clone()
        });
        let changes = diary_entry::ActiveModel {
            peak_pain: Set(updated.peak_pain),
            headache_hours: Set(updated.headache_hours),
            feature_flags: Set(updated.feature_flags),
            medication_class_flags: Set(updated.medication_class_flags),
            day_class: Set(updated.day_class),
            acute_medications: Set(updated.acute_medications.clone()),
            disability: Set(updated.disability),
            notes: Set(updated.notes.clone()),
            version: Set(updated.version),
            change_seq: Set(updated.change_seq),
            updated_at: Set(updated.updated_at),
            ..Default::default()
        };
        let result = diary_entry::Entity::update_many()
            .set(changes)
            .filter(diary_entry::Column::Id.eq(row.id))
            .filter(diary_entry::Column::Version.eq(row.version))
            .exec(db)
            .await?;
        if result.rows_affected == 1 {
            return Ok((updated, Upserted::Replaced));
        }
        if precondition != Precondition::None {
            return Err(WriteError::PreconditionFailed);
        }
        current = get_for_update(db, patient_id, date).await?;
    }
    Err(WriteError::Db(sea_orm::DbErr::Custom(
        "diary entry kept changing under concurrent writes".into(),
    )))
}

/// Deletes the entry of one day and leaves a tombstone for the changes feed; `Ok(false)` when
/// there was none (whatever the precondition: a day that does not exist is not found).
pub async fn delete(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    date: NaiveDate,
    precondition: Precondition,
) -> Result<bool, WriteError> {
    let change_seq = super::changes::next(db, patient_id).await?;
    let current = get_for_update(db, patient_id.0, date).await?;
    let Some(row) = current else {
        return Ok(false);
    };
    if !precondition.holds(Some(&row)) {
        return Err(WriteError::PreconditionFailed);
    }
    // Only the version that was checked; a concurrent change in between fails the precondition.
    let result = diary_entry::Entity::delete_many()
        .filter(diary_entry::Column::Id.eq(row.id))
        .filter(diary_entry::Column::Version.eq(row.version))
        .exec(db)
        .await?;
    match (result.rows_affected, precondition) {
        (1, _) => {
            super::changes::bury_day(db, patient_id, date, change_seq).await?;
            Ok(true)
        }
        (_, Precondition::None) => Ok(true),
        _ => Err(WriteError::PreconditionFailed),
    }
}

/// The stored version of each of `dates` that has an entry (one query per 500 dates).
pub async fn versions(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    dates: &[NaiveDate],
) -> Result<std::collections::HashMap<NaiveDate, i32>, sea_orm::DbErr> {
    #[derive(Debug, FromQueryResult)]
    struct Version {
        entry_date: NaiveDate,
        version: i32,
    }
    let mut out = std::collections::HashMap::new();
    for chunk in dates.chunks(500) {
        let rows = diary_entry::Entity::find()
            .select_only()
            .column(diary_entry::Column::EntryDate)
            .column(diary_entry::Column::Version)
            .filter(diary_entry::Column::PatientId.eq(patient_id.0))
            .filter(diary_entry::Column::EntryDate.is_in(chunk.iter().copied()))
            .into_model::<Version>()
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| (r.entry_date, r.version)));
    }
    Ok(out)
}

/// Entries in `from..=to` ordered by date, after the date `after` (keyset pagination).
pub async fn list_range(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<NaiveDate>,
    limit: u64,
) -> Result<Vec<StoredEntry>, sea_orm::DbErr> {
    let mut query = diary_entry::Entity::find()
        .filter(diary_entry::Column::PatientId.eq(patient_id.0))
        .order_by_asc(diary_entry::Column::EntryDate)
        .limit(limit);
    if let Some(from) = from {
        query = query.filter(diary_entry::Column::EntryDate.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(diary_entry::Column::EntryDate.lte(to));
    }
    if let Some(after) = after {
        query = query.filter(diary_entry::Column::EntryDate.gt(after));
    }
    query.all(db).await?.into_iter().map(decode).collect()
}

/// The few columns a summary needs.
#[derive(Debug, FromQueryResult)]
struct DayColumns {
    patient_id: Uuid,
    entry_date: NaiveDate,
    peak_pain: i16,
    headache_hours: Option<f64>,
    feature_flags: i32,
    medication_class_flags: i32,
}

impl DayColumns {
    /// A corrupt value (pain outside 0–10, flags that do not fit) is an error: read as 0 it would
    /// be a headache-free day in a clinical summary.
    fn into_record(self) -> Result<DayRecord, sea_orm::DbErr> {
        let what = || format!("diary day {} of {}", self.entry_date, self.patient_id);
        let peak_pain = u8::try_from(self.peak_pain)
            .ok()
            .filter(|p| *p <= 10)
            .ok_or_else(|| corrupt(what(), format!("peak_pain {}", self.peak_pain)))?;
        let features = u16::try_from(self.feature_flags).map_err(|e| corrupt(what(), e))?;
        let classes = u16::try_from(self.medication_class_flags).map_err(|e| corrupt(what(), e))?;
        Ok(DayRecord {
            date: self.entry_date,
            peak_pain,
            headache_hours: self.headache_hours,
            features: HeadacheFeatures::from_bits(features),
            medication_classes: MedicationClassSet::from_bits(classes),
        })
    }
}

fn day_columns() -> sea_orm::Select<diary_entry::Entity> {
    diary_entry::Entity::find()
        .select_only()
        .column(diary_entry::Column::PatientId)
        .column(diary_entry::Column::EntryDate)
        .column(diary_entry::Column::PeakPain)
        .column(diary_entry::Column::HeadacheHours)
        .column(diary_entry::Column::FeatureFlags)
        .column(diary_entry::Column::MedicationClassFlags)
}

/// One indexed range read: the classification inputs of a patient's days in `from..=to`.
pub async fn day_records(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayRecord>, sea_orm::DbErr> {
    let rows = days_between(patient_id, from, to)
        .into_model::<DayColumns>()
        .all(db)
        .await?;
    rows.into_iter().map(DayColumns::into_record).collect()
}

/// [`day_records`] as a read to send with others ([`super::reads::together`]).
pub fn day_records_read(patient_id: PatientId, from: NaiveDate, to: NaiveDate) -> Read<DayRecord> {
    Read::new(days_between(patient_id, from, to), |row| {
        DayColumns::from_query_result(row, "")?.into_record()
    })
}

fn days_between(
    patient_id: PatientId,
    from: NaiveDate,
    to: NaiveDate,
) -> sea_orm::Select<diary_entry::Entity> {
    day_columns()
        .filter(diary_entry::Column::PatientId.eq(patient_id.0))
        .filter(diary_entry::Column::EntryDate.between(from, to))
        .order_by_asc(diary_entry::Column::EntryDate)
}

/// The latest entry date of each patient (for the clinician's patient list).
///
/// One correlated `MAX` per patient, which the `(patient_id, entry_date)` index answers with a
/// single seek. (A `GROUP BY patient_id` over the same index walks every entry of every patient:
/// 20 ms for 200 patients with two years of diary, against under 1 ms this way.)
pub async fn last_entry_dates(
    db: &impl ConnectionTrait,
    patient_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, NaiveDate>, sea_orm::DbErr> {
    use sea_orm::{DbBackend, Statement};
    #[derive(Debug, FromQueryResult)]
    struct Last {
        patient_id: Uuid,
        last: Option<NaiveDate>,
    }
    let backend = db.get_database_backend();
    let mut out = std::collections::HashMap::new();
    for chunk in patient_ids.chunks(super::IDS_PER_QUERY) {
        let placeholders: Vec<String> = (1..=chunk.len())
            .map(|i| match backend {
                DbBackend::Postgres => format!("${i}"),
                _ => "?".to_owned(),
            })
            .collect();
        let sql = format!(
            "SELECT u.id AS patient_id, \
               (SELECT MAX(d.entry_date) FROM diary_entries d WHERE d.patient_id = u.id) AS last \
             FROM users u WHERE u.id IN ({})",
            placeholders.join(", ")
        );
        let values = chunk.iter().map(|id| sea_orm::Value::from(*id));
        let rows = Last::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .all(db)
            .await?;
        for row in rows {
            if let Some(last) = row.last {
                out.insert(row.patient_id, last);
            }
        }
    }
    Ok(out)
}

/// How many `(patient, from..=to)` windows one statement of [`window_tallies`] sums.
pub const WINDOWS_PER_QUERY: usize = 500;

/// The sums of each `(patient, from..=to)` window, in input order, added up by the database from
/// the classification stored with each day: one indexed range read per window, one row per
/// window shipped back (a cohort or a patient list needs counts, not the days).
pub async fn window_tallies(
    db: &impl ConnectionTrait,
    windows: &[(Uuid, NaiveDate, NaiveDate)],
) -> Result<Vec<WindowTally>, sea_orm::DbErr> {
    use sea_orm::{DbBackend, Statement};
    let backend = db.get_database_backend();
    let overuse = crate::domain::window::overuse_class_bits();
    let bit = |column: &str, mask: u16| {
        format!("COALESCE(SUM(CASE WHEN d.{column} & {mask} <> 0 THEN 1 ELSE 0 END), 0)")
    };
    // In the order of `WindowTally::counts`.
    let mut sums = vec![
        "COUNT(*)".to_owned(),
        bit("day_class", Classification::ANY_HEADACHE.into()),
        bit("day_class", Classification::HEADACHE.into()),
        bit("day_class", Classification::MIGRAINE.into()),
        bit("day_class", Classification::MODERATE_SEVERE.into()),
        bit("day_class", Classification::ACUTE_MEDICATION.into()),
        bit(
            "day_class",
            Classification::MIGRAINE_SPECIFIC_MEDICATION.into(),
        ),
        bit("day_class", Classification::HEADACHE_FREE.into()),
        format!(
            "COALESCE(SUM(CASE WHEN d.day_class & {} <> 0 THEN d.peak_pain ELSE 0 END), 0)",
            Classification::HEADACHE
        ),
        bit("medication_class_flags", overuse),
    ];
    for class in crate::domain::MedicationClass::ALL {
        sums.push(bit("medication_class_flags", class.bit()));
    }
    let select = sums
        .iter()
        .enumerate()
        .map(|(i, sum)| format!("{sum} AS s{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = vec![WindowTally::default(); windows.len()];
    for (chunk_index, chunk) in windows.chunks(WINDOWS_PER_QUERY).enumerate() {
        let mut values = Vec::with_capacity(chunk.len() * 4);
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, (patient, from, to)) in chunk.iter().enumerate() {
            let n = values.len();
            rows.push(match backend {
                DbBackend::Postgres => format!(
                    "(${}::int, ${}::uuid, ${}::date, ${}::date)",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4
                ),
                _ => "(?, ?, ?, ?)".to_owned(),
            });
            values.push(sea_orm::Value::from(i as i32));
            values.push(sea_orm::Value::from(*patient));
            values.push(sea_orm::Value::from(*from));
            values.push(sea_orm::Value::from(*to));
        }
        // Either way one index range read per window. PostgreSQL would hash-join the window
        // list against the whole table, so there each window is its own LATERAL subquery;
        // SQLite has no LATERAL and plans the join as index searches by itself.
        let sql = match backend {
            DbBackend::Postgres => format!(
                "WITH w (k, patient_id, d_from, d_to) AS (VALUES {}) \
                 SELECT w.k AS k, s.* FROM w CROSS JOIN LATERAL ( \
                   SELECT {select} FROM diary_entries d \
                   WHERE d.patient_id = w.patient_id \
                     AND d.entry_date BETWEEN w.d_from AND w.d_to) s",
                rows.join(", ")
            ),
            _ => format!(
                "WITH w (k, patient_id, d_from, d_to) AS (VALUES {}) \
                 SELECT w.k AS k, {select} FROM w \
                 JOIN diary_entries d ON d.patient_id = w.patient_id \
                   AND d.entry_date BETWEEN w.d_from AND w.d_to \
                 GROUP BY w.k",
                rows.join(", ")
            ),
        };
        let result = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        for row in result {
            let k: i32 = row.try_get("", "k")?;
            let mut counts = [0u64; WindowTally::COUNTS];
            for (i, count) in counts.iter_mut().enumerate() {
                let v: i64 = row.try_get("", &format!("s{i}"))?;
                *count = u64::try_from(v).map_err(|e| corrupt("a window sum".to_owned(), e))?;
            }
            let tally = WindowTally::from_counts(counts)
                .ok_or_else(|| corrupt("a window sum".to_owned(), "a day count above u32"))?;
            let index = usize::try_from(k)
                .ok()
                .map(|k| chunk_index * WINDOWS_PER_QUERY + k)
                .filter(|i| *i < out.len())
                .ok_or_else(|| corrupt("a window sum".to_owned(), format!("window {k}")))?;
            out[index] = tally;
        }
    }
    Ok(out)
}

/// Classifies the days written before `day_class` existed, a batch per transaction. Run by
/// `Store::migrate`; a no-op once every day is classified.
pub async fn classify_unclassified(store: &super::Store) -> Result<u64, sea_orm::DbErr> {
    #[derive(Debug, FromQueryResult)]
    struct Unclassified {
        id: Uuid,
        patient_id: Uuid,
        entry_date: NaiveDate,
        peak_pain: i16,
        headache_hours: Option<f64>,
        feature_flags: i32,
        medication_class_flags: i32,
    }
    let mut done = 0u64;
    loop {
        let txn = store.begin_write().await?;
        let rows = diary_entry::Entity::find()
            .select_only()
            .column(diary_entry::Column::Id)
            .column(diary_entry::Column::PatientId)
            .column(diary_entry::Column::EntryDate)
            .column(diary_entry::Column::PeakPain)
            .column(diary_entry::Column::HeadacheHours)
            .column(diary_entry::Column::FeatureFlags)
            .column(diary_entry::Column::MedicationClassFlags)
            .filter(diary_entry::Column::DayClass.is_null())
            .limit(2000)
            .into_model::<Unclassified>()
            .all(&*txn)
            .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut by_class: std::collections::BTreeMap<i16, Vec<Uuid>> = Default::default();
        for row in rows {
            let id = row.id;
            let record = DayColumns {
                patient_id: row.patient_id,
                entry_date: row.entry_date,
                peak_pain: row.peak_pain,
                headache_hours: row.headache_hours,
                feature_flags: row.feature_flags,
                medication_class_flags: row.medication_class_flags,
            }
            .into_record()?;
            by_class
                .entry(i16::from(classify(&record).to_bits()))
                .or_default()
                .push(id);
            done += 1;
        }
        for (class, ids) in by_class {
            for chunk in ids.chunks(super::IDS_PER_QUERY) {
                diary_entry::Entity::update_many()
                    .col_expr(diary_entry::Column::DayClass, class.into())
                    .filter(diary_entry::Column::Id.is_in(chunk.iter().copied()))
                    .exec(&*txn)
                    .await?;
            }
        }
        txn.commit().await?;
    }
}
