//! The reference for the diary PUT phase of `bench/run`: the commit rate of the same single-row
//! diary upsert (`store::diary::upsert`: read the day, insert or update it) through sea-orm/sqlx
//! alone, with no HTTP, no JSON and no authorization. Same connection settings as the server
//! (`Store::connect`: WAL, `synchronous` FULL, same pool), same concurrency, one transaction
//! (`BEGIN IMMEDIATE` … `COMMIT`, writers queued on an async mutex as the server does) per upsert.
//!
//! `cargo run --release --example raw_commit -- --database-url sqlite:///tmp/raw.db?mode=rwc \
//!     --concurrency 32 --duration 10 --out bench/out/raw_commit.json`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use clap::Parser;
use migraine_diary::config::DatabaseArgs;
use migraine_diary::domain::{
    AcuteMedication, DiaryEntry, Disability, EntryDraft, HeadacheFeatures, MedicationClass,
    PatientId, Role, TimeZone,
};
use migraine_diary::store::diary::{self, Precondition};
use migraine_diary::store::users::{self, NewUser};
use migraine_diary::store::Store;
use sea_orm::{DbBackend, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use serde_json::json;
use tokio::sync::Mutex;
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Patients to spread the writes over.
    #[arg(long, default_value_t = 200)]
    patients: u64,
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

const MAX_COMMITS: u64 = 5_000_000;

fn percentile(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let store = Store::connect_and_migrate(&DatabaseArgs::for_url(args.database_url.clone()))
        .await
        .expect("connect");
    let hash = migraine_diary::auth::password::hash_blocking("raw-commit-password").expect("hash");
    let mut patients = Vec::new();
    {
        let txn = store.begin_write().await.expect("begin");
        for i in 0..args.patients {
            let u = users::create(
                &*txn,
                NewUser {
                    email: format!("raw-{i}-{}@bench.example", Uuid::new_v4()),
                    password_hash: hash.clone(),
                    role: Role::Patient,
                    display_name: None,
                    timezone: TimeZone::UTC,
                },
            )
            .await
            .expect("patient");
            patients.push(PatientId(u.id.0));
        }
        txn.commit().await.expect("commit");
    }
    let patients = Arc::new(patients);
    let gate = (store.backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
    let counter = Arc::new(AtomicU64::new(0));
    let duration = Duration::from_secs_f64(args.duration.clamp(0.2, 600.0));
    let started = Instant::now();
    let deadline = started + duration;
    let last = Utc::now().date_naive() - Days::days(1);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let db = store.db.clone();
        let gate = gate.clone();
        let patients = Arc::clone(&patients);
        let counter = Arc::clone(&counter);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if i >= MAX_COMMITS {
                    break;
                }
                let n = patients.len() as u64;
                let patient = patients[(i % n) as usize];
                let date = last - Days::days((i / n) as i64 % 3650);
                let draft = EntryDraft {
                    peak_pain: 3 + (i % 5) as i64,
                    headache_hours: Some(2.0 + (i % 7) as f64),
                    features: HeadacheFeatures {
                        photophobia: true,
                        ..HeadacheFeatures::default()
                    },
                    acute_medications: vec![AcuteMedication {
                        name: "ibuprofen".into(),
                        class: MedicationClass::Nsaid,
                        dose: Some("400 mg".into()),
                    }],
                    disability: Some(Disability::Mild),
                    notes: Some("bench put".into()),
                };
                let entry = DiaryEntry::parse_stored(date, draft).expect("a valid entry");
                let t0 = Instant::now();
                let result = async {
                    let _guard = match &gate {
                        Some(g) => Some(g.lock().await),
                        None => None,
                    };
                    let txn = db
                        .begin_with_options(TransactionOptions {
                            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                            ..Default::default()
                        })
                        .await
                        .map_err(|e| e.to_string())?;
                    diary::upsert(&txn, patient, &entry, Precondition::None)
                        .await
                        .map_err(|e| e.to_string())?;
                    txn.commit().await.map_err(|e| e.to_string())
                }
                .await;
                latencies.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if let Err(e) = result {
                    if errors == 0 {
                        eprintln!("raw_commit: {e}");
                    }
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("task");
        all.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0);
    let doc = json!({
        "name": "raw_commit",
        "target": if gate.is_some() { "sqlite" } else { "postgres" },
        "concurrency": args.concurrency,
        "seconds": seconds,
        "requests": all.len(),
        "errors": errors,
        "requests_per_s": all.len() as f64 / seconds,
        "p50_ms": percentile(&all, 50.0),
        "p99_ms": percentile(&all, 99.0),
        "max_ms": all.last().map_or(0.0, |v| f64::from(*v) / 1000.0),
        "peak_rss_mib": rss,
    });
    eprintln!(
        "raw_commit: {:.1} commits/s, p50 {:.3} ms, p99 {:.3} ms, {errors} errors",
        doc["requests_per_s"].as_f64().unwrap_or(0.0),
        doc["p50_ms"].as_f64().unwrap_or(0.0),
        doc["p99_ms"].as_f64().unwrap_or(0.0),
    );
    if let Some(out) = args.out {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).expect("out dir");
        }
        std::fs::write(&out, doc.to_string() + "\n").expect("write");
    } else {
        println!("{doc}");
    }
}
