//! The schema migrates in place: a database made by the first schema keeps its rows through the
//! typed-columns migration, and afterwards refuses values that no domain type can hold.

use chrono::NaiveDate;
use migraine_diary::domain::{
    DiaryEntry, Disability, EntryDraft, HeadacheFeatures, PatientId, Role, TimeZone,
    TreatmentDraft, TreatmentEvent, TreatmentKind,
};
use migraine_diary::store::diary::{self, Precondition};
use migraine_diary::store::treatments;
use migraine_diary::store::users::{self, NewUser};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::common::{fresh_database, FreshDatabase};

/// The last migration before the typed columns.
const BEFORE_TYPED_COLUMNS: u32 = 1;

struct OldRows {
    patient: PatientId,
    date: NaiveDate,
}

/// A patient with one diary day and one treatment, written under the first schema.
async fn write_old_rows(db: &DatabaseConnection) -> OldRows {
    let patient = users::create(
        db,
        NewUser {
            email: "old@example.org".into(),
            password_hash: "not-a-real-hash".into(),
            role: Role::Patient,
            display_name: None,
            timezone: TimeZone::parse("Europe/Berlin").unwrap(),
        },
    )
    .await
    .unwrap();
    let patient = PatientId(patient.id.0);
    let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let entry = DiaryEntry::parse_stored(
        date,
        EntryDraft {
            peak_pain: 6,
            headache_hours: Some(5.0),
            features: HeadacheFeatures {
                nausea: true,
                ..HeadacheFeatures::default()
            },
            acute_medications: vec![],
            disability: Some(Disability::Moderate),
            notes: None,
        },
    )
    .unwrap();
    diary::upsert(db, patient, &entry, Precondition::None)
        .await
        .unwrap();
    let event = TreatmentEvent::from_stored(TreatmentDraft {
        kind: TreatmentKind::IvKetamine,
        name: "ketamine".into(),
        started_at: "2026-03-01T08:00:00Z".parse().unwrap(),
        ended_at: None,
        dose: Some(35.0),
        dose_unit: Some("mg".into()),
        notes: None,
        adverse_events: vec![],
    });
    treatments::insert(db, patient, patient.into(), &event)
        .await
        .unwrap();
    OldRows { patient, date }
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
    assert!(diary::get(&db, old.patient, old.date).await.is_err());
    assert!(diary::day_records(&db, old.patient, old.date, old.date)
        .await
        .is_err());
}
