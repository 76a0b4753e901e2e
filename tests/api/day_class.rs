//! The classification stored with each diary day (`day_class`) and the window sums the database
//! makes from it give exactly the numbers of the domain functions, for random diaries, on the
//! backend under test; a day written before the column existed is classified by `migrate`.

use chrono::NaiveDate;
use migraine_diary::domain::{
    AcuteMedication, DiaryEntry, EntryDraft, HeadacheFeatures, MedicationClass, PatientId, Role,
    TimeZone, WindowStats,
};
use migraine_diary::store::diary::{self, Precondition};
use migraine_diary::store::users::{self, NewUser};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::ConnectionTrait;

use crate::common::TestApp;

fn random_entry(rng: &mut StdRng, date: NaiveDate) -> Option<DiaryEntry> {
    let peak_pain = rng.gen_range(0..=10);
    let headache_hours = match (peak_pain, rng.gen_range(0..4)) {
        (0, _) | (_, 0) => None,
        _ => Some(f64::from(rng.gen_range(0..=48u32)) / 2.0),
    };
    let acute_medications = (0..rng.gen_range(0..3))
        .map(|i| AcuteMedication {
            name: format!("drug {i}"),
            class: MedicationClass::ALL[rng.gen_range(0..MedicationClass::ALL.len())],
            dose: None,
        })
        .collect();
    let draft = EntryDraft {
        peak_pain,
        headache_hours,
        features: HeadacheFeatures::from_bits(rng.gen()),
        acute_medications,
        disability: None,
        notes: None,
    };
    DiaryEntry::parse_stored(date, draft).ok()
}

#[tokio::test]
async fn stored_day_classes_sum_to_the_domains_window_statistics() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let mut rng = StdRng::seed_from_u64(15);
    let patient = users::create(
        &store.db,
        NewUser {
            email: "sums@example.org".into(),
            password_hash: "x".into(),
            role: Role::Patient,
            display_name: None,
            timezone: TimeZone::parse("UTC").unwrap(),
        },
    )
    .await
    .unwrap();
    let patient_id = PatientId(patient.id.0);
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let txn = store.begin_write().await.unwrap();
    let mut written = 0;
    for offset in 0..240 {
        // About one day in six left unrecorded.
        if rng.gen_range(0..6) == 0 {
            continue;
        }
        let date = first + chrono::Duration::days(offset);
        if let Some(entry) = random_entry(&mut rng, date) {
            diary::upsert(&*txn, patient_id, &entry, Precondition::None)
                .await
                .unwrap();
            written += 1;
        }
    }
    txn.commit().await.unwrap();
    assert!(written > 150, "the generator makes mostly valid days");

    let compare = |label: &'static str| async move {
        let mut rng = StdRng::seed_from_u64(51);
        let windows: Vec<_> = (0..60)
            .map(|_| {
                let from = first + chrono::Duration::days(rng.gen_range(-20..250));
                let to = from + chrono::Duration::days(rng.gen_range(0..120));
                (patient.id.0, from, to)
            })
            .collect();
        let tallies = diary::window_tallies(&store.db, &windows).await.unwrap();
        assert_eq!(tallies.len(), windows.len());
        for ((_, from, to), tally) in windows.iter().zip(&tallies) {
            let days = diary::day_records(&store.db, patient_id, *from, *to)
                .await
                .unwrap();
            assert_eq!(
                WindowStats::from_tally(*from, *to, tally),
                WindowStats::compute(*from, *to, &days),
                "{label}: window {from}..{to}"
            );
        }
    };
    compare("as written").await;

    // Days written before the column existed: `migrate` classifies them the same way.
    store
        .db
        .execute_unprepared("UPDATE diary_entries SET day_class = NULL")
        .await
        .unwrap();
    store.migrate().await.unwrap();
    compare("classified by migrate").await;
}
