//! Micro-benchmarks of the pure clinical code (`crate::domain`): what every summary request
//! spends once its rows are read. `cargo bench --bench domain`.

use chrono::{Duration, NaiveDate};
use divan::{black_box, Bencher};
use migraine_diary::domain::{
    classify, pool_outcomes, treatment_outcome, DayRecord, HeadacheFeatures, MedicationClass,
    MedicationClassSet, TreatmentOutcome, TreatmentWindows, WindowStats,
};

fn main() {
    divan::main();
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

/// A deterministic mix of headache-free, headache, migraine and missing days.
fn days(n: u32) -> Vec<DayRecord> {
    (0..n)
        .filter(|i| i % 11 != 5) // ~91 % recorded
        .map(|i| {
            let kind = (i * 7 + 3) % 10;
            let mut features = HeadacheFeatures::default();
            let mut classes = MedicationClassSet::default();
            let (peak_pain, hours) = match kind {
                0..=5 => (0, None),
                6 | 7 => {
                    classes.insert(MedicationClass::Nsaid);
                    (3, Some(3.0))
                }
                _ => {
                    features.unilateral = true;
                    features.pulsating = true;
                    features.nausea = true;
                    classes.insert(MedicationClass::Triptan);
                    (7, Some(8.0))
                }
            };
            DayRecord {
                date: start() + Duration::days(i64::from(i)),
                peak_pain,
                headache_hours: hours,
                features,
                medication_classes: classes,
            }
        })
        .collect()
}

#[divan::bench]
fn classify_20_days(bencher: Bencher) {
    let all = days(20);
    bencher.bench(|| {
        for d in &all {
            black_box(classify(black_box(d)));
        }
    });
}

#[divan::bench]
fn window_stats_90_days(bencher: Bencher) {
    let all = days(90);
    let (from, to) = (start(), start() + Duration::days(89));
    bencher.bench(|| WindowStats::compute(black_box(from), black_box(to), black_box(&all)));
}

#[divan::bench]
fn treatment_outcome_2_years_of_rows(bencher: Bencher) {
    let all = days(730);
    let windows = TreatmentWindows::new(start() + Duration::days(365), 28, 1);
    bencher.bench(|| treatment_outcome(black_box(&windows), black_box(&all)));
}

#[divan::bench]
fn pool_1000_treatment_summaries(bencher: Bencher) {
    let all = days(730);
    let outcomes: Vec<TreatmentOutcome> = (0..1000)
        .map(|i| {
            let windows = TreatmentWindows::new(start() + Duration::days(60 + i % 600), 28, 1);
            treatment_outcome(&windows, &all)
        })
        .collect();
    bencher.bench(|| pool_outcomes(black_box(&outcomes)));
}
