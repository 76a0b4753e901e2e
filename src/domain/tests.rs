//! The worked examples of docs/clinical-rules.md (read from `tests/fixtures/`) and property tests that
//! tie the modules together.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::range::add_days;
use super::*;

const EXAMPLE_A: &str = include_str!("../../tests/fixtures/example-a.json");
const EXAMPLE_B: &str = include_str!("../../tests/fixtures/example-b.json");

/// A `DiaryEntry` as the API receives it, with only what the fixtures use.
#[derive(Deserialize)]
struct Entry {
    date: Option<NaiveDate>,
    peak_pain: u8,
    #[serde(default)]
    headache_hours: Option<f64>,
    #[serde(default)]
    features: HeadacheFeatures,
    #[serde(default)]
    acute_medications: Vec<Medication>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // name and dose are part of the API body, unused by the rules
struct Medication {
    name: String,
    class: MedicationClass,
    #[serde(default)]
    dose: Option<String>,
}

impl Entry {
    fn record(&self, fallback_date: NaiveDate) -> DayRecord {
        DayRecord {
            date: self.date.unwrap_or(fallback_date),
            peak_pain: self.peak_pain,
            headache_hours: self.headache_hours,
            features: self.features,
            medication_classes: self.acute_medications.iter().map(|m| m.class).collect(),
        }
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn instant(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

struct ExampleA {
    tz: chrono_tz::Tz,
    started_at: DateTime<Utc>,
    days: Vec<DayRecord>,
    expected: Value,
}

fn example_a() -> ExampleA {
    let v: Value = serde_json::from_str(EXAMPLE_A).unwrap();
    let entries: Vec<Entry> = serde_json::from_value(v["entries"].clone()).unwrap();
    let any = d("2000-01-01");
    ExampleA {
        tz: v["patient_timezone"].as_str().unwrap().parse().unwrap(),
        started_at: instant(v["treatment"]["started_at"].as_str().unwrap()),
        days: entries.iter().map(|e| e.record(any)).collect(),
        expected: v["expected"].clone(),
    }
}

/// Every key of the fixture's expected summary equals the serialized outcome's.
fn assert_matches_expected(outcome: &TreatmentOutcome, expected: &Value) {
    let actual = serde_json::to_value(outcome).unwrap();
    let expected = expected.as_object().unwrap();
    assert!(!expected.is_empty());
    for (key, want) in expected {
        assert_eq!(&actual[key], want, "{key}");
    }
}

#[test]
fn example_a_fixture_has_the_described_entries() {
    let a = example_a();
    assert_eq!(a.days.len(), 28 + 24);
    assert_eq!(a.tz, chrono_tz::Europe::Berlin);
}

#[test]
fn example_a_window_28() {
    let a = example_a();
    let t = treatment_day(a.started_at, a.tz);
    assert_eq!(t, d("2026-03-01"));
    let w = TreatmentWindows::new(t, DEFAULT_WINDOW_DAYS, 1);
    let o = treatment_outcome(&w, &a.days);
    assert_matches_expected(&o, &a.expected["28"]);

    // and the figures of docs/clinical-rules.md, spelled out
    let b = &o.baseline;
    assert_eq!((b.from, b.to), (d("2026-02-01"), d("2026-02-28")));
    assert_eq!((b.days_recorded, b.completion), (28, 1.0));
    assert_eq!(
        (
            b.any_headache_days,
            b.headache_days,
            b.migraine_days,
            b.moderate_severe_days
        ),
        (12, 12, 12, 12)
    );
    assert_eq!(
        (
            b.acute_medication_days,
            b.migraine_specific_medication_days,
            b.headache_free_days
        ),
        (8, 8, 16)
    );
    assert_eq!(b.mean_peak_pain, Some(6.0));
    assert_eq!(b.headache_days_per_28, Some(12.0));
    assert_eq!(b.migraine_days_per_28, Some(12.0));
    assert!(!b.medication_overuse_risk);

    let p = &o.post;
    assert_eq!((p.from, p.to), (d("2026-03-02"), d("2026-03-29")));
    assert_eq!(p.days_recorded, 24);
    assert_eq!(p.completion, 24.0 / 28.0);
    assert_eq!(
        (
            p.any_headache_days,
            p.headache_days,
            p.migraine_days,
            p.moderate_severe_days
        ),
        (3, 3, 0, 0)
    );
    assert_eq!(p.headache_free_days, 21);
    assert_eq!(p.mean_peak_pain, Some(3.0));
    assert_eq!(p.headache_days_per_28, Some(3.5));
    assert_eq!(p.migraine_days_per_28, Some(0.0));

    assert_eq!(o.change.headache_days_per_28, Some(-8.5));
    let pct = o.change.headache_days_percent.unwrap();
    assert!((pct - (-8.5 / 12.0 * 100.0)).abs() < 1e-12);
    assert!((pct + 70.833_333).abs() < 1e-5);
    assert_eq!(o.change.migraine_days_per_28, Some(-12.0));
    assert_eq!(o.change.migraine_days_percent, Some(-100.0));
    assert_eq!(o.change.mean_peak_pain, Some(-3.0));
    assert_eq!(o.responder_50, Some(true));
    assert_eq!(o.responder_75, Some(false));
    assert_eq!(o.pain_responder, Some(true));
    assert!(o.sufficient_data);
    assert_eq!(o.window_days, 28);
    assert_eq!(o.followup, vec![o.post.clone()]);
}

#[test]
fn example_a_followup_3() {
    let a = example_a();
    let w = TreatmentWindows::new(treatment_day(a.started_at, a.tz), 28, 3);
    let o = treatment_outcome(&w, &a.days);
    assert_matches_expected(&o, &a.expected["28"]);
    assert_eq!(o.followup.len(), 3);
    assert_eq!(o.followup[0], o.post);
    let ranges: Vec<_> = o.followup.iter().map(|s| (s.from, s.to)).collect();
    assert_eq!(
        ranges,
        [
            (d("2026-03-02"), d("2026-03-29")),
            (d("2026-03-30"), d("2026-04-26")),
            (d("2026-04-27"), d("2026-05-24")),
        ]
    );
    for later in &o.followup[1..] {
        assert_eq!(later.days, 28);
        assert_eq!(later.days_recorded, 0);
        assert_eq!(later.completion, 0.0);
        assert_eq!(later.headache_days_per_28, None);
        assert_eq!(later.migraine_days_per_28, None);
        assert_eq!(later.mean_peak_pain, None);
    }
    assert_eq!(
        w.read_range(),
        DateRange::new(d("2026-02-01"), d("2026-05-24"))
    );
}

#[test]
fn example_a_window_7() {
    let a = example_a();
    let w = TreatmentWindows::new(treatment_day(a.started_at, a.tz), 7, 1);
    let o = treatment_outcome(&w, &a.days);
    assert_matches_expected(&o, &a.expected["7"]);
    assert_eq!(
        (o.baseline.from, o.baseline.to),
        (d("2026-02-22"), d("2026-02-28"))
    );
    assert_eq!(o.baseline.headache_days, 2);
    assert_eq!(o.baseline.headache_days_per_28, Some(8.0));
    assert_eq!((o.post.from, o.post.to), (d("2026-03-02"), d("2026-03-08")));
    assert_eq!(o.post.headache_days, 1);
    assert_eq!(o.post.headache_days_per_28, Some(4.0));
    assert_eq!(o.change.headache_days_per_28, Some(-4.0));
    assert_eq!(o.change.headache_days_percent, Some(-50.0));
    assert_eq!(
        o.responder_50,
        Some(true),
        "4.0 ≤ 0.5 × 8.0: the bound is inclusive"
    );
    assert_eq!(o.responder_75, Some(false));
}

#[test]
fn example_a_overlapping_treatment() {
    let a = example_a();
    let t = treatment_day(a.started_at, a.tz);
    let second = treatment_day(instant("2026-03-20T10:00:00Z"), a.tz);
    assert_eq!(second, d("2026-03-20"));
    let others = [("second", second)];
    assert_eq!(overlapping_treatments(t, 28, others), vec!["second"]);
    assert!(overlapping_treatments(t, 7, others).is_empty());
    // the first treatment appears in the second's list too (symmetric rule)
    assert_eq!(
        overlapping_treatments(second, 28, [("first", t)]),
        vec!["first"]
    );
    // and its presence changes no number
    let w = TreatmentWindows::new(t, 28, 1);
    assert_matches_expected(&treatment_outcome(&w, &a.days), &a.expected["28"]);
}

#[test]
fn example_b_every_row() {
    let v: Value = serde_json::from_str(EXAMPLE_B).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9);
    for (i, row) in rows.iter().enumerate() {
        let entry: Entry = serde_json::from_value(row["entry"].clone()).unwrap();
        let c = classify(&entry.record(d("2026-01-01")));
        let want = |k: &str| row[k].as_bool().unwrap();
        assert_eq!(c.headache, want("headache"), "row {i} headache");
        assert_eq!(c.migraine, want("migraine"), "row {i} migraine");
        assert_eq!(
            c.moderate_severe,
            want("moderate_severe"),
            "row {i} moderate_severe"
        );
        assert_eq!(c.any_headache, entry.peak_pain >= 1, "row {i} any-headache");
    }
}

#[test]
fn example_b_rows_spelled_out() {
    // rows 1 and 6: "no (any-headache yes)"
    let v: Value = serde_json::from_str(EXAMPLE_B).unwrap();
    let row = |i: usize| {
        let e: Entry = serde_json::from_value(v["rows"][i]["entry"].clone()).unwrap();
        classify(&e.record(d("2026-01-01")))
    };
    let r1 = row(0);
    assert!(r1.any_headache && !r1.headache);
    let r6 = row(5);
    assert!(r6.any_headache && !r6.headache && !r6.migraine);
    let r9 = row(8);
    assert!(!r9.any_headache && !r9.migraine && r9.headache_free);
}

#[test]
fn example_c_time_zones() {
    let t = treatment_day(
        instant("2026-06-10T05:30:00Z"),
        "America/Los_Angeles".parse().unwrap(),
    );
    assert_eq!(t, d("2026-06-09"));
    let w = TreatmentWindows::new(t, DEFAULT_WINDOW_DAYS, 1);
    assert_eq!(w.post().from, d("2026-06-10"));
    assert_eq!(w.baseline.to, d("2026-06-08"));
}

#[test]
fn public_types_are_openapi_components() {
    use utoipa::PartialSchema;
    for schema in [
        serde_json::to_value(WindowStats::schema()).unwrap(),
        serde_json::to_value(DayClass::schema()).unwrap(),
        serde_json::to_value(OutcomeChange::schema()).unwrap(),
        serde_json::to_value(TreatmentOutcome::schema()).unwrap(),
        serde_json::to_value(CohortOutcome::schema()).unwrap(),
        serde_json::to_value(HeadacheFeatures::schema()).unwrap(),
    ] {
        let props = schema["properties"].as_object().unwrap();
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        if !schema["additionalProperties"].is_boolean() {
            // output types always carry every field, null or not
            assert_eq!(
                required.len(),
                props.len(),
                "every output field is required"
            );
        }
        for (name, prop) in props {
            assert!(prop["description"].is_string(), "{name} is documented");
        }
    }
    let period = serde_json::to_value(Period::schema()).unwrap();
    assert_eq!(period["enum"], serde_json::json!(["month", "week", "28d"]));
}

// ---------------------------------------------------------------- property tests

fn base() -> NaiveDate {
    d("2026-01-01")
}

fn arb_record() -> impl Strategy<Value = DayRecord> {
    (
        -10i64..90,
        0u8..=10,
        prop_oneof![
            Just(None),
            (0u32..=96).prop_map(|q| Some(f64::from(q) / 4.0))
        ],
        0u16..256,
        0u16..1024,
    )
        .prop_map(
            |(offset, peak_pain, headache_hours, features, meds)| DayRecord {
                date: add_days(base(), offset),
                peak_pain,
                headache_hours,
                features: HeadacheFeatures::from_bits(features),
                medication_classes: MedicationClassSet::from_bits(meds),
            },
        )
}

fn arb_records() -> impl Strategy<Value = Vec<DayRecord>> {
    prop::collection::vec(arb_record(), 0..120)
}

fn arb_range() -> impl Strategy<Value = DateRange> {
    (-20i64..80, 0i64..120).prop_map(|(start, len)| {
        let from = add_days(base(), start);
        DateRange::new(from, add_days(from, len - 1))
    })
}

fn arb_period() -> impl Strategy<Value = Period> {
    prop_oneof![
        Just(Period::Month),
        Just(Period::Week),
        Just(Period::Days28)
    ]
}

proptest! {
    #[test]
    fn counts_within_recorded_within_days(range in arb_range(), days in arb_records()) {
        let s = WindowStats::compute(range.from, range.to, &days);
        prop_assert!(s.days_recorded <= s.days);
        prop_assert_eq!(s.days, range.days());
        for count in [
            s.any_headache_days, s.headache_days, s.migraine_days, s.moderate_severe_days,
            s.acute_medication_days, s.migraine_specific_medication_days, s.headache_free_days,
        ] {
            prop_assert!(count <= s.days_recorded);
        }
        prop_assert_eq!(s.any_headache_days + s.headache_free_days, s.days_recorded);
        prop_assert!((0.0..=1.0).contains(&s.completion));
        for x in [s.mean_peak_pain, s.headache_days_per_28, s.migraine_days_per_28].into_iter().flatten() {
            prop_assert!(x.is_finite());
        }
    }

    #[test]
    fn migraine_within_headache_within_any_headache(record in arb_record(), range in arb_range(), days in arb_records()) {
        let c = classify(&record);
        prop_assert!(!c.migraine || c.headache);
        prop_assert!(!c.headache || c.any_headache);
        prop_assert!(!c.moderate_severe || c.headache);
        prop_assert!(!c.migraine_specific_medication || c.acute_medication);
        prop_assert_eq!(c.headache_free, !c.any_headache);
        let s = WindowStats::compute(range.from, range.to, &days);
        prop_assert!(s.migraine_days <= s.headache_days);
        prop_assert!(s.headache_days <= s.any_headache_days);
        prop_assert!(s.moderate_severe_days <= s.headache_days);
        prop_assert!(s.migraine_specific_medication_days <= s.acute_medication_days);
    }

    #[test]
    fn per_28_is_count_times_28_over_recorded(range in arb_range(), days in arb_records()) {
        let s = WindowStats::compute(range.from, range.to, &days);
        if s.days_recorded == 0 {
            prop_assert_eq!(s.headache_days_per_28, None);
            prop_assert_eq!(s.migraine_days_per_28, None);
            prop_assert!(!s.medication_overuse_risk);
        } else {
            let r = f64::from(s.days_recorded);
            prop_assert_eq!(s.headache_days_per_28, Some(f64::from(s.headache_days) * 28.0 / r));
            prop_assert_eq!(s.migraine_days_per_28, Some(f64::from(s.migraine_days) * 28.0 / r));
        }
    }

    #[test]
    fn split_periods_partitions_the_range(range in arb_range(), period in arb_period()) {
        let periods = split_periods(range, period);
        if range.is_empty() {
            prop_assert!(periods.is_empty());
        } else {
            prop_assert_eq!(periods.first().map(|p| p.from), Some(range.from));
            prop_assert_eq!(periods.last().map(|p| p.to), Some(range.to));
            prop_assert_eq!(periods.iter().map(|p| p.days()).sum::<u32>(), range.days());
        }
        for pair in periods.windows(2) {
            prop_assert_eq!(add_days(pair[0].to, 1), pair[1].from);
        }
        for p in &periods {
            prop_assert!(!p.is_empty());
            match period {
                Period::Month => prop_assert_eq!((p.from.year(), p.from.month()), (p.to.year(), p.to.month())),
                Period::Week => prop_assert_eq!(p.from.iso_week(), p.to.iso_week()),
                Period::Days28 => {
                    let block = |x: NaiveDate| (x - range.from).num_days() / 28;
                    prop_assert_eq!(block(p.from), block(p.to));
                }
            }
        }
        // maximal: a period is only cut at a boundary (or at the range's end)
        for pair in periods.windows(2) {
            let (a, b) = (pair[0].to, pair[1].from);
            let cut = match period {
                Period::Month => a.month() != b.month(),
                Period::Week => a.iso_week() != b.iso_week(),
                Period::Days28 => (b - range.from).num_days() % 28 == 0,
            };
            prop_assert!(cut);
        }
    }

    #[test]
    fn windows_never_include_the_treatment_day(offset in -5000i64..5000, n in 0u32..200, k in 0u32..6) {
        let t = add_days(base(), offset);
        let w = TreatmentWindows::new(t, n, k);
        let n = w.window_days;
        prop_assert!(!w.baseline.contains(t));
        prop_assert!(!w.post().contains(t));
        prop_assert!(w.followup.iter().all(|r| !r.contains(t)));
        prop_assert_eq!(w.baseline.days(), n);
        prop_assert_eq!(w.baseline.to, add_days(t, -1));
        prop_assert_eq!(w.post().from, add_days(t, 1));
        prop_assert!(w.followup.iter().all(|r| r.days() == n));
        prop_assert!(w.read_range().contains(w.baseline.from));
        prop_assert!(w.followup.iter().all(|r| w.read_range().contains(r.to)));
    }

    #[test]
    fn outcome_does_not_depend_on_record_order(
        (days, shuffled) in arb_records().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        n in 7u32..40,
        k in 1u32..=3,
        t_offset in 0i64..60,
    ) {
        let w = TreatmentWindows::new(add_days(base(), t_offset), n, k);
        prop_assert_eq!(treatment_outcome(&w, &days), treatment_outcome(&w, &shuffled));
        let range = w.read_range();
        prop_assert_eq!(day_classes(range, &days, &[]), day_classes(range, &shuffled, &[]));
    }

    #[test]
    fn day_classes_has_one_item_per_day_agreeing_with_window_stats(
        range in arb_range(),
        days in arb_records(),
        treatments in prop::collection::vec((any::<u128>(), -30i64..120), 0..10),
    ) {
        let treatments: Vec<(Uuid, NaiveDate)> =
            treatments.into_iter().map(|(id, off)| (Uuid::from_u128(id), add_days(base(), off))).collect();
        let classes = day_classes(range, &days, &treatments);
        prop_assert_eq!(classes.len(), range.days() as usize);
        prop_assert!(classes.iter().map(|c| c.date).eq(range.iter()));
        let s = WindowStats::compute(range.from, range.to, &days);
        let count = |f: fn(&DayClass) -> bool| classes.iter().filter(|c| f(c)).count() as u32;
        prop_assert_eq!(count(|c| c.recorded), s.days_recorded);
        prop_assert_eq!(count(|c| c.headache), s.headache_days);
        prop_assert_eq!(count(|c| c.migraine), s.migraine_days);
        prop_assert_eq!(count(|c| c.moderate_severe), s.moderate_severe_days);
        prop_assert_eq!(count(|c| c.any_headache), s.any_headache_days);
        prop_assert!(classes.iter().all(|c| c.recorded || (c.peak_pain.is_none() && !c.any_headache && !c.acute_medication)));
        let placed: usize = classes.iter().map(|c| c.treatment_ids.len()).sum();
        prop_assert_eq!(placed, treatments.iter().filter(|(_, t)| range.contains(*t)).count());
        for c in &classes {
            for id in &c.treatment_ids {
                prop_assert!(treatments.contains(&(*id, c.date)));
            }
        }
    }

    #[test]
    fn feature_and_medication_bits_round_trip(f in 0u16..256, m in 0u16..1024) {
        prop_assert_eq!(HeadacheFeatures::from_bits(f).to_bits(), f);
        prop_assert_eq!(MedicationClassSet::from_bits(m).bits(), m);
    }
}
