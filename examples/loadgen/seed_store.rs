//! Seeds a cohort straight through the library's store (users, care links, diary rows,
//! treatments) instead of the HTTP API: 10,000 patient-years are 3.65 million diary rows, which
//! the API would take many minutes to accept. The rows are exactly what the API writes (same
//! generator, same columns, the same bit sets); only the password hash is shared by every
//! generated patient. Run it before the server starts (or while it runs: it takes the write lock
//! per transaction like any other writer).

use chrono::{NaiveDate, Utc};
use migraine_diary::config::DatabaseArgs;
use migraine_diary::domain::{
    classify, DayRecord, Disability, MedicationClassSet, PatientId, Role, TimeZone, TreatmentDraft,
    TreatmentEvent, TreatmentKind,
};
use migraine_diary::store::entities::diary_entry;
use migraine_diary::store::users::{self, NewUser};
use migraine_diary::store::{care, treatments, Store};
use sea_orm::{EntityTrait, Set};
use uuid::Uuid;

use crate::gen;

pub struct SeedStore {
    pub database_url: String,
    pub clinician_email: String,
    pub patients: u64,
    pub days: u32,
    pub seed: u64,
    pub email_prefix: String,
    pub last_day: NaiveDate,
}

pub async fn run(args: SeedStore) -> Result<(), String> {
    let started = std::time::Instant::now();
    let store = Store::connect_and_migrate(&DatabaseArgs::for_url(args.database_url.clone()))
        .await
        .map_err(|e| e.to_string())?;
    let clinician = users::find_by_email(&store.db, &args.clinician_email)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account {}", args.clinician_email))?;
    let password_hash = migraine_diary::auth::password::hash_blocking("bench-patient-password")
        .map_err(|e| e.to_string())?;
    let mut rows_written = 0u64;
    // A few patients per transaction: large enough to amortize the fsync, small enough to keep
    // the memory of one transaction's statements low.
    const PER_TXN: u64 = 25;
    let mut next = 0u64;
    while next < args.patients {
        let end = (next + PER_TXN).min(args.patients);
        let txn = store.begin_write().await.map_err(|e| e.to_string())?;
        for i in next..end {
            let history = gen::patient(args.seed, i, args.last_day, args.days);
            let user = users::create(
                &*txn,
                NewUser {
                    email: format!("{}{i}@bench.example", args.email_prefix),
                    password_hash: password_hash.clone(),
                    role: Role::Patient,
                    display_name: None,
                    timezone: TimeZone::parse(history.timezone).ok_or("unknown time zone")?,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            let patient = PatientId(user.id.0);
            care::link(&*txn, patient, clinician.id)
                .await
                .map_err(|e| e.to_string())?;
            let now = Utc::now();
            for chunk in history.days.chunks(1000) {
                let models = chunk.iter().map(|d| {
                    let classes: MedicationClassSet =
                        d.medications.iter().map(|(_, c, _)| *c).collect();
                    diary_entry::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        patient_id: Set(patient.0),
                        entry_date: Set(d.date),
                        peak_pain: Set(i16::from(d.peak_pain)),
                        headache_hours: Set(d.headache_hours),
                        feature_flags: Set(i32::from(d.features.to_bits())),
                        medication_class_flags: Set(i32::from(classes.bits())),
                        day_class: Set(Some(i16::from(
                            classify(&DayRecord {
                                date: d.date,
                                peak_pain: d.peak_pain,
                                headache_hours: d.headache_hours,
                                features: d.features,
                                medication_classes: classes,
                            })
                            .to_bits(),
                        ))),
                        acute_medications: Set(d.medications_json()),
                        disability: Set(d
                            .disability
                            .and_then(|name| by_name::<Disability>(name).ok())
                            .map(Into::into)),
                        notes: Set(None),
                        version: Set(1),
                        // Seeded history counts as written before the changes feed began.
                        change_seq: Set(0),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                });
                diary_entry::Entity::insert_many(models)
                    .exec(&*txn)
                    .await
                    .map_err(|e| e.to_string())?;
                rows_written += chunk.len() as u64;
            }
            for t in &history.treatments {
                let event = TreatmentEvent::from_stored(TreatmentDraft {
                    kind: by_name::<TreatmentKind>(t.kind)?,
                    name: t.name.into(),
                    started_at: t.started_at(),
                    ended_at: None,
                    dose: None,
                    dose_unit: None,
                    notes: None,
                    adverse_events: Vec::new(),
                });
                treatments::insert(&*txn, patient, clinician.id, &event)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        txn.commit().await.map_err(|e| e.to_string())?;
        next = end;
    }
    eprintln!(
        "seed-store: {} patients, {rows_written} diary rows for {} in {:.1} s",
        args.patients,
        args.clinician_email,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A domain enum from its API name (`iv_ketamine`, `mild`).
fn by_name<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|e| e.to_string())
}
