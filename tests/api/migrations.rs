//! The schema migrates in place: a database made by the first schema keeps its rows through the
//! typed-columns migration, and afterwards refuses values that no domain type can hold.

use chrono::NaiveDate;
use migraine_diary::domain::{Disability, HeadacheFeatures, PatientId, Role, TreatmentKind};
use migraine_diary::store::diary;
use migraine_diary::store::treatments;
use migraine_diary::store::users;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use crate::common::{fresh_database, FreshDatabase};

/// The last migration before the typed columns.
const BEFORE_TYPED_COLUMNS: u32 = 1;

struct OldRows {
    patient: PatientId,
    date: NaiveDate,
}

/// A patient with one diary day and one treatment, written under the first schema.
async fn write_old_rows(db: &DatabaseConnection) -> OldRows {
    // In SQL: today's `users` entity has columns the first schema lacks.
    let patient = PatientId(uuid::Uuid::now_v7());
    let now = chrono::Utc::now();
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO users (id, email, password_hash, role, display_name, timezone, created_at, updated_at) \
         VALUES ($1, 'old@example.org', 'not-a-real-hash', 'patient', NULL, 'Europe/Berlin', $2, $3)",
        [patient.0.into(), now.into(), now.into()],
    ))
    .await
    .unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    // Raw SQL in the first schema's columns: today's store writes columns (and the change
    // counter) that later migrations add.
    let now = chrono::Utc::now();
    let nausea = i32::from(
        HeadacheFeatures {
            nausea: true,
            ..HeadacheFeatures::default()
        }
        .to_bits(),
    );
    let p = patient.0;
    insert(
        db,
        "diary_entries (id, patient_id, entry_date, peak_pain, headache_hours, feature_flags, \
         medication_class_flags, acute_medications, disability, notes, version, created_at, \
         updated_at)",
        vec![
            Uuid::now_v7().into(),
            p.into(),
            date.into(),
            6i16.into(),
            5.0f64.into(),
            nausea.into(),
            0i32.into(),
            "[]".into(),
            "moderate".into(),
            Option::<String>::None.into(),
            1i32.into(),
            now.into(),
            now.into(),
        ],
    )
    .await;
    let started: chrono::DateTime<chrono::Utc> = "2026-03-01T08:00:00Z".parse().unwrap();
    insert(
        db,
        "treatments (id, patient_id, kind, name, started_at, ended_at, dose, dose_unit, notes, \
         adverse_events, recorded_by, created_at, updated_at)",
        vec![
            Uuid::now_v7().into(),
            p.into(),
            "iv_ketamine".into(),
            "ketamine".into(),
            started.into(),
            Option::<chrono::DateTime<chrono::Utc>>::None.into(),
            35.0f64.into(),
            "mg".into(),
            Option::<String>::None.into(),
            "[]".into(),
            p.into(),
            now.into(),
            now.into(),
        ],
    )
    .await;
    OldRows { patient, date }
}

/// `INSERT INTO <into> VALUES (<values>)` with the backend's placeholders.
async fn insert(db: &DatabaseConnection, into: &str, values: Vec<sea_orm::Value>) {
    let backend = db.get_database_backend();
    let marks: Vec<String> = (1..=values.len())
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect();
    let sql = format!("INSERT INTO {into} VALUES ({})", marks.join(", "));
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap();
}

async fn old_database() -> (DatabaseConnection, OldRows, FreshDatabase) {
    let fresh = fresh_database().await;
    let db = Database::connect(&fresh.url).await.unwrap();
    Migrator::up(&db, Some(BEFORE_TYPED_COLUMNS)).await.unwrap();
    let rows = write_old_rows(&db).await;
    (db, rows, fresh)
}

#[tokio::test]
async fn existing_rows_survive_the_typed_columns_and_bad_values_are_refused_after() {
    let (db, old, _dir) = old_database().await;
    Migrator::up(&db, None).await.unwrap();

    let account = users::find_by_email(&db, "old@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.role, Role::Patient);
    assert_eq!(account.timezone.name(), "Europe/Berlin");
    let day = diary::get(&db, old.patient, old.date)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(day.entry.peak_pain(), 6);
    assert_eq!(day.entry.disability(), Some(Disability::Moderate));
    let given = treatments::list(&db, old.patient, None, 10).await.unwrap();
    assert_eq!(given.len(), 1);
    assert_eq!(given[0].event.kind(), TreatmentKind::IvKetamine);

    for bad in [
        "UPDATE users SET role = 'nurse'",
        "UPDATE treatments SET kind = 'leeches'",
        "UPDATE treatments SET dose = -1",
        "UPDATE diary_entries SET peak_pain = 11",
        "UPDATE diary_entries SET peak_pain = 0",
        "UPDATE diary_entries SET headache_hours = 25",
        "UPDATE diary_entries SET disability = 'extreme'",
        "UPDATE diary_entries SET feature_flags = -1",
        "UPDATE diary_entries SET version = 0",
    ] {
        let refused = db.execute_unprepared(bad).await;
        assert!(refused.is_err(), "{bad} was accepted");
    }
    // Nothing of the refused writes stuck.
    let day = diary::get(&db, old.patient, old.date)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(day.entry.peak_pain(), 6);
    assert_eq!(day.version, 1);
}

#[tokio::test]
async fn a_database_with_a_breaking_row_does_not_migrate_and_says_which_rule() {
    let (db, _old, _dir) = old_database().await;
    db.execute_unprepared("UPDATE diary_entries SET peak_pain = 11")
        .await
        .unwrap();
    let err = Migrator::up(&db, None).await.unwrap_err();
    assert!(
        err.to_string().contains("ck_diary_entries_peak_pain"),
        "{err}"
    );
}

#[tokio::test]
async fn a_corrupt_row_is_an_error_not_a_headache_free_day() {
    let (db, old, _dir) = old_database().await;
    // Under the first schema nothing stops this; reading it back must not make it a 0.
    db.execute_unprepared("UPDATE diary_entries SET peak_pain = 11")
        .await
        .unwrap();
    // The columns today's entity reads that the first schema lacks, so that the read below
    // fails on the value, not on the schema.
    for column in ["change_seq BIGINT NOT NULL DEFAULT 0", "day_class SMALLINT"] {
        db.execute_unprepared(&format!("ALTER TABLE diary_entries ADD COLUMN {column}"))
            .await
            .unwrap();
    }
    let err = diary::get(&db, old.patient, old.date).await.unwrap_err();
    assert!(err.to_string().contains("corrupt diary entry"), "{err}");
    assert!(diary::day_records(&db, old.patient, old.date, old.date)
        .await
        .is_err());
}
