//! Statistics of a window of calendar days (docs/clinical-rules.md "A window").

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::classify::classify;
use super::diary::{one_per_date, DayRecord, MedicationClass};
use super::range::DateRange;

/// A window is sufficient when at least this share of its days is recorded (IHS: diary
/// compliance of at least 80 %).
pub const SUFFICIENT_COMPLETION: f64 = 0.8;

/// Normalised days per 28 from which a triptan, ergot, opioid or combination analgesic (each
/// alone), or the six overuse classes together, signal medication-overuse risk (ICHD-3 8.2).
pub const OVERUSE_DAYS_SPECIFIC: u32 = 10;
/// Normalised days per 28 from which a simple analgesic or an NSAID alone signals overuse risk.
pub const OVERUSE_DAYS_SIMPLE: u32 = 15;

/// Classes that count alone from [`OVERUSE_DAYS_SPECIFIC`] days.
const OVERUSE_TEN_DAY_CLASSES: [MedicationClass; 4] = [
    MedicationClass::Triptan,
    MedicationClass::Ergot,
    MedicationClass::Opioid,
    MedicationClass::CombinationAnalgesic,
];
/// Classes that count alone from [`OVERUSE_DAYS_SIMPLE`] days.
const OVERUSE_FIFTEEN_DAY_CLASSES: [MedicationClass; 2] =
    [MedicationClass::SimpleAnalgesic, MedicationClass::Nsaid];

/// The six classes whose combined use counts (ICHD-3 8.2.6).
const OVERUSE_CLASSES: [MedicationClass; 6] = [
    MedicationClass::Triptan,
    MedicationClass::Ergot,
    MedicationClass::Opioid,
    MedicationClass::CombinationAnalgesic,
    MedicationClass::SimpleAnalgesic,
    MedicationClass::Nsaid,
];

/// Headache statistics of an inclusive range of patient-local calendar days (docs/clinical-rules.md
/// "A window"). Missing days (no diary entry) are counted in `days` only: they are never
/// headache-free, and the per-28 figures normalise over recorded days.
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
pub struct WindowStats {
    /// First day of the window (inclusive), patient-local.
    pub from: NaiveDate,
    /// Last day of the window (inclusive), patient-local. It may lie in the future (a follow-up
    /// window still running); those days simply are not recorded yet.
    pub to: NaiveDate,
    /// Number of calendar days in the window (`to − from + 1`).
    pub days: u32,
    /// Days in the window with a saved diary entry. Each date counts once.
    pub days_recorded: u32,
    /// `days_recorded / days`, 0–1 (0 for an empty window). A window is sufficient for
    /// before/after comparisons when this is ≥ 0.8 (IHS diary compliance).
    pub completion: f64,
    /// Recorded days with `peak_pain` ≥ 1 (docs/clinical-rules.md "any-headache day").
    pub any_headache_days: u32,
    /// Headache days: pain ≥ 1 lasting ≥ 4 h, of unrecorded duration, or treated with any acute
    /// medication; every migraine day is also one (docs/clinical-rules.md "headache day", IHS).
    pub headache_days: u32,
    /// Migraine days: pain ≥ 1 with a migraine-specific drug, aura, or ICHD-3 criteria C and D
    /// lasting ≥ 30 min (docs/clinical-rules.md "migraine day").
    pub migraine_days: u32,
    /// Headache days with `peak_pain` ≥ 4 (moderate 4–6 or severe 7–10).
    pub moderate_severe_days: u32,
    /// Recorded days with at least one acute medication of any class.
    pub acute_medication_days: u32,
    /// Recorded days with a triptan, ergot, gepant or ditan.
    pub migraine_specific_medication_days: u32,
    /// Recorded days with `peak_pain` = 0. Missing days are never headache-free.
    pub headache_free_days: u32,
    /// Mean `peak_pain` (0–10) over the headache days of the window; null when there are none.
    #[schema(required = true)]
    pub mean_peak_pain: Option<f64>,
    /// `headache_days × 28 / days_recorded`: headache days normalised to a 28-day month (IHS);
    /// null when no day is recorded.
    #[schema(required = true)]
    pub headache_days_per_28: Option<f64>,
    /// `migraine_days × 28 / days_recorded`; null when no day is recorded.
    #[schema(required = true)]
    pub migraine_days_per_28: Option<f64>,
    /// Warning (never a diagnosis: ICHD-3 requires 3 months) that acute medication use, normalised
    /// to 28 days (`count × 28 / days_recorded`), reaches ≥ 10 days of a triptan, ergot, opioid or
    /// combination analgesic, ≥ 15 days of a simple analgesic or NSAID, or ≥ 10 days of any of
    /// those six classes when two or more of them were used. Gepants, ditans, antiemetics and
    /// other drugs do not count. False when no day is recorded.
    pub medication_overuse_risk: bool,
}

impl WindowStats {
    /// Computes the statistics of `from ..= to` from the saved entries.
    ///
    /// Records outside the window are ignored and the input need not be sorted. The database
    /// holds at most one entry per patient per date; should two records share a date anyway,
    /// the date still counts once, using the record with the greatest (peak_pain, features,
    /// medication classes, hours), so the result never depends on input order. O(n log n).
    pub fn compute(from: NaiveDate, to: NaiveDate, days: &[DayRecord]) -> WindowStats {
        let range = DateRange::new(from, to);
        let mut tally = WindowTally::default();
        for record in &one_per_date(range, days) {
            tally.add(record);
        }
        Self::from_tally(from, to, &tally)
    }

    /// The statistics of `from ..= to` from the sums of its recorded days (one per date), as
    /// [`WindowTally::add`] makes them or a database sums the stored per-day classification.
    pub fn from_tally(from: NaiveDate, to: NaiveDate, tally: &WindowTally) -> WindowStats {
        let range = DateRange::new(from, to);
        let mut stats = WindowStats {
            from,
            to,
            days: range.days(),
            days_recorded: tally.days_recorded,
            completion: 0.0,
            any_headache_days: tally.any_headache_days,
            headache_days: tally.headache_days,
            migraine_days: tally.migraine_days,
            moderate_severe_days: tally.moderate_severe_days,
            acute_medication_days: tally.acute_medication_days,
            migraine_specific_medication_days: tally.migraine_specific_medication_days,
            headache_free_days: tally.headache_free_days,
            mean_peak_pain: None,
            headache_days_per_28: None,
            migraine_days_per_28: None,
            medication_overuse_risk: false,
        };
        let class_days = tally.class_days;
        let overuse_class_days = tally.overuse_class_days;

        let recorded = stats.days_recorded;
        stats.completion = ratio(f64::from(recorded), f64::from(stats.days)).unwrap_or(0.0);
        stats.mean_peak_pain = ratio(
            tally.headache_pain_sum as f64,
            f64::from(stats.headache_days),
        );
        stats.headache_days_per_28 = per_28(stats.headache_days, recorded);
        stats.migraine_days_per_28 = per_28(stats.migraine_days, recorded);

        let days_of = |class: MedicationClass| {
            MedicationClass::ALL
                .iter()
                .position(|c| *c == class)
                .map_or(0, |i| class_days[i])
        };
        // Normalised comparisons in integers: count × 28 / recorded ≥ limit ⇔ count × 28 ≥ limit × recorded.
        let reaches = |count: u32, limit: u32| {
            recorded > 0 && u64::from(count) * 28 >= u64::from(limit) * u64::from(recorded)
        };
        let classes_used = OVERUSE_CLASSES.iter().filter(|c| days_of(**c) > 0).count();
        stats.medication_overuse_risk = OVERUSE_TEN_DAY_CLASSES
            .iter()
            .any(|c| reaches(days_of(*c), OVERUSE_DAYS_SPECIFIC))
            || OVERUSE_FIFTEEN_DAY_CLASSES
                .iter()
                .any(|c| reaches(days_of(*c), OVERUSE_DAYS_SIMPLE))
            || (classes_used >= 2 && reaches(overuse_class_days, OVERUSE_DAYS_SPECIFIC));

        stats
    }

    /// The window as a [`DateRange`].
    pub fn range(&self) -> DateRange {
        DateRange::new(self.from, self.to)
    }

    /// `completion` ≥ 0.8 (IHS: diary compliance of at least 80 %).
    pub fn is_sufficient(&self) -> bool {
        self.completion >= SUFFICIENT_COMPLETION
    }
}

/// Sums over the recorded days of a window (each date once): everything [`WindowStats`] is
/// computed from. Additive per day, so a database can sum it from the stored classification
/// bits ([`super::Classification::to_bits`]) and medication bits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowTally {
    pub days_recorded: u32,
    pub any_headache_days: u32,
    pub headache_days: u32,
    pub migraine_days: u32,
    pub moderate_severe_days: u32,
    pub acute_medication_days: u32,
    pub migraine_specific_medication_days: u32,
    pub headache_free_days: u32,
    /// Sum of `peak_pain` over the headache days.
    pub headache_pain_sum: u64,
    /// Days per medication class, indexed like [`MedicationClass::ALL`] (bit `i` of the stored
    /// medication bits).
    pub class_days: [u32; MedicationClass::ALL.len()],
    /// Days with any of the six overuse classes ([`overuse_class_bits`]).
    pub overuse_class_days: u32,
}

impl WindowTally {
    /// Adds one recorded day (the caller keeps one record per date).
    pub fn add(&mut self, record: &DayRecord) {
        let c = classify(record);
        self.days_recorded += 1;
        self.any_headache_days += u32::from(c.any_headache);
        self.headache_days += u32::from(c.headache);
        self.migraine_days += u32::from(c.migraine);
        self.moderate_severe_days += u32::from(c.moderate_severe);
        self.acute_medication_days += u32::from(c.acute_medication);
        self.migraine_specific_medication_days += u32::from(c.migraine_specific_medication);
        self.headache_free_days += u32::from(c.headache_free);
        if c.headache {
            self.headache_pain_sum += u64::from(record.peak_pain);
        }
        for (i, class) in MedicationClass::ALL.iter().enumerate() {
            self.class_days[i] += u32::from(record.medication_classes.contains(*class));
        }
        self.overuse_class_days += u32::from(
            OVERUSE_CLASSES
                .iter()
                .any(|c| record.medication_classes.contains(*c)),
        );
    }
}

impl WindowTally {
    /// How many counts [`WindowTally::counts`] gives.
    pub const COUNTS: usize = 10 + MedicationClass::ALL.len();

    /// Every count as one flat list: days recorded, any headache, headache, migraine,
    /// moderate/severe, acute medication, migraine-specific medication, headache-free, the pain
    /// sum, overuse-class days, then the days of each [`MedicationClass::ALL`]. The order in
    /// which the store sums windows in SQL and keeps them.
    pub fn counts(&self) -> [u64; Self::COUNTS] {
        let mut counts = [0u64; Self::COUNTS];
        let head = [
            self.days_recorded,
            self.any_headache_days,
            self.headache_days,
            self.migraine_days,
            self.moderate_severe_days,
            self.acute_medication_days,
            self.migraine_specific_medication_days,
            self.headache_free_days,
        ];
        for (count, days) in counts.iter_mut().zip(head) {
            *count = u64::from(days);
        }
        counts[8] = self.headache_pain_sum;
        counts[9] = u64::from(self.overuse_class_days);
        for (count, days) in counts[10..].iter_mut().zip(self.class_days) {
            *count = u64::from(days);
        }
        counts
    }

    /// The tally of [`WindowTally::counts`]; `None` when a day count does not fit a `u32`.
    pub fn from_counts(counts: [u64; Self::COUNTS]) -> Option<Self> {
        let days = |i: usize| u32::try_from(counts[i]).ok();
        let mut class_days = [0u32; MedicationClass::ALL.len()];
        for (i, d) in class_days.iter_mut().enumerate() {
            *d = days(10 + i)?;
        }
        Some(WindowTally {
            days_recorded: days(0)?,
            any_headache_days: days(1)?,
            headache_days: days(2)?,
            migraine_days: days(3)?,
            moderate_severe_days: days(4)?,
            acute_medication_days: days(5)?,
            migraine_specific_medication_days: days(6)?,
            headache_free_days: days(7)?,
            headache_pain_sum: counts[8],
            overuse_class_days: days(9)?,
            class_days,
        })
    }
}

/// The medication bits of the six classes whose combined use counts for overuse.
pub fn overuse_class_bits() -> u16 {
    OVERUSE_CLASSES.iter().fold(0, |bits, c| bits | c.bit())
}

/// `numerator / denominator`, or `None` when the denominator is 0 (no NaN ever escapes).
pub(crate) fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 {
        None
    } else {
        Some(numerator / denominator)
    }
}

/// `count × 28 / days_recorded`, the IHS normalisation to a 28-day month; `None` without records.
pub fn per_28(count: u32, days_recorded: u32) -> Option<f64> {
    ratio(f64::from(count) * 28.0, f64::from(days_recorded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diary::{HeadacheFeatures, MedicationClassSet};
    use crate::domain::range::add_days;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rec(date: NaiveDate, pain: u8, hours: Option<f64>, meds: &[MedicationClass]) -> DayRecord {
        DayRecord {
            date,
            peak_pain: pain,
            headache_hours: hours,
            features: HeadacheFeatures::default(),
            medication_classes: meds.iter().copied().collect::<MedicationClassSet>(),
        }
    }

    /// `n` consecutive recorded days from 2026-01-01, day i taking `meds(i)`, no pain.
    fn med_days(n: i64, meds: impl Fn(i64) -> Vec<MedicationClass>) -> Vec<DayRecord> {
        (0..n)
            .map(|i| rec(add_days(d("2026-01-01"), i), 0, None, &meds(i)))
            .collect()
    }

    fn window(n: i64) -> (NaiveDate, NaiveDate) {
        (d("2026-01-01"), add_days(d("2026-01-01"), n - 1))
    }

    fn overuse(n: i64, meds: impl Fn(i64) -> Vec<MedicationClass>) -> bool {
        let (from, to) = window(n);
        WindowStats::compute(from, to, &med_days(n, meds)).medication_overuse_risk
    }

    #[test]
    fn empty_window_has_nulls_not_nan() {
        let s = WindowStats::compute(d("2026-01-01"), d("2026-01-28"), &[]);
        assert_eq!(s.days, 28);
        assert_eq!(s.days_recorded, 0);
        assert_eq!(s.completion, 0.0);
        assert_eq!(
            s.headache_free_days, 0,
            "missing days are never headache-free"
        );
        assert_eq!(s.mean_peak_pain, None);
        assert_eq!(s.headache_days_per_28, None);
        assert_eq!(s.migraine_days_per_28, None);
        assert!(!s.medication_overuse_risk);
        assert!(!s.is_sufficient());
    }

    #[test]
    fn inverted_window_is_empty() {
        let s = WindowStats::compute(d("2026-01-02"), d("2026-01-01"), &[]);
        assert_eq!(s.days, 0);
        assert_eq!(s.completion, 0.0);
    }

    #[test]
    fn records_outside_the_window_are_ignored_and_dates_count_once() {
        let days = vec![
            rec(d("2025-12-31"), 8, None, &[]),
            rec(d("2026-01-01"), 5, None, &[]),
            rec(d("2026-01-01"), 5, None, &[]),
            rec(d("2026-01-02"), 0, None, &[]),
            rec(d("2026-01-03"), 8, None, &[]),
        ];
        let s = WindowStats::compute(d("2026-01-01"), d("2026-01-02"), &days);
        assert_eq!(s.days, 2);
        assert_eq!(s.days_recorded, 2);
        assert_eq!(s.headache_days, 1);
        assert_eq!(s.headache_free_days, 1);
        assert_eq!(s.completion, 1.0);
    }

    #[test]
    fn mean_peak_pain_is_over_headache_days_only() {
        let days = vec![
            rec(d("2026-01-01"), 6, None, &[]),
            rec(d("2026-01-02"), 3, None, &[]),
            rec(d("2026-01-03"), 9, Some(1.0), &[]), // any-headache, not a headache day
            rec(d("2026-01-04"), 0, None, &[]),
        ];
        let s = WindowStats::compute(d("2026-01-01"), d("2026-01-04"), &days);
        assert_eq!(s.any_headache_days, 3);
        assert_eq!(s.headache_days, 2);
        assert_eq!(s.mean_peak_pain, Some(4.5));
        // no headache day: null
        let s = WindowStats::compute(d("2026-01-03"), d("2026-01-04"), &days);
        assert_eq!(s.mean_peak_pain, None);
    }

    #[test]
    fn per_28_normalises_over_recorded_days() {
        // 3 headache days in 24 recorded of 28: 3 × 28 / 24 = 3.5
        let days: Vec<_> = (0..24)
            .map(|i| rec(add_days(d("2026-01-01"), i), u8::from(i < 3) * 3, None, &[]))
            .collect();
        let s = WindowStats::compute(d("2026-01-01"), d("2026-01-28"), &days);
        assert_eq!(s.headache_days_per_28, Some(3.5));
        assert_eq!(s.migraine_days_per_28, Some(0.0));
        assert_eq!(per_28(1, 3), Some(28.0 / 3.0));
        assert_eq!(per_28(5, 0), None);
    }

    #[test]
    fn sufficient_is_completion_at_least_eighty_percent() {
        let (from, to) = window(10);
        let s = WindowStats::compute(from, to, &med_days(8, |_| vec![]));
        assert_eq!(s.completion, 0.8);
        assert!(s.is_sufficient(), "0.8 is inclusive");
        let s = WindowStats::compute(from, to, &med_days(7, |_| vec![]));
        assert!(!s.is_sufficient());
        let (from, to) = window(28);
        assert!(!WindowStats::compute(from, to, &med_days(22, |_| vec![])).is_sufficient());
        assert!(WindowStats::compute(from, to, &med_days(23, |_| vec![])).is_sufficient());
    }

    #[test]
    fn overuse_ten_day_classes_alone() {
        for class in OVERUSE_TEN_DAY_CLASSES {
            assert!(overuse(28, |i| if i < 10 { vec![class] } else { vec![] }));
            assert!(!overuse(28, |i| if i < 9 { vec![class] } else { vec![] }));
        }
    }

    #[test]
    fn overuse_fifteen_day_classes_alone() {
        for class in OVERUSE_FIFTEEN_DAY_CLASSES {
            assert!(overuse(28, |i| if i < 15 { vec![class] } else { vec![] }));
            assert!(!overuse(28, |i| if i < 14 { vec![class] } else { vec![] }));
        }
    }

    #[test]
    fn overuse_is_normalised_to_28_recorded_days() {
        // 5 triptan days in 14 recorded days = 10 per 28
        assert!(overuse(14, |i| if i < 5 {
            vec![MedicationClass::Triptan]
        } else {
            vec![]
        }));
        // 4 in 14 = 8 per 28
        assert!(!overuse(14, |i| if i < 4 {
            vec![MedicationClass::Triptan]
        } else {
            vec![]
        }));
        // missing days do not dilute: 5 triptan days recorded in a 28-day window with 14 recorded
        let (from, to) = window(28);
        let days = med_days(14, |i| {
            if i < 5 {
                vec![MedicationClass::Triptan]
            } else {
                vec![]
            }
        });
        assert!(WindowStats::compute(from, to, &days).medication_overuse_risk);
    }

    #[test]
    fn overuse_ignores_gepants_ditans_antiemetics_and_other() {
        for class in [
            MedicationClass::Gepant,
            MedicationClass::Ditan,
            MedicationClass::Antiemetic,
            MedicationClass::Other,
        ] {
            assert!(!overuse(28, |_| vec![class]));
        }
        // gepant + triptan is not "two or more of the six classes"
        assert!(!overuse(28, |i| match i {
            0..=5 => vec![MedicationClass::Triptan],
            6..=12 => vec![MedicationClass::Gepant],
            _ => vec![],
        }));
    }

    #[test]
    fn overuse_example_two_classes() {
        // docs/clinical-rules.md: ibuprofen on 6 days and paracetamol on 5 other days → true
        assert!(overuse(28, |i| match i {
            0..=5 => vec![MedicationClass::Nsaid],
            6..=10 => vec![MedicationClass::SimpleAnalgesic],
            _ => vec![],
        }));
        // the same 11 days all with ibuprofen → false (11 < 15)
        assert!(!overuse(28, |i| if i < 11 {
            vec![MedicationClass::Nsaid]
        } else {
            vec![]
        }));
        // two classes but only 9 days in all → false
        assert!(!overuse(28, |i| match i {
            0..=4 => vec![MedicationClass::Nsaid],
            5..=8 => vec![MedicationClass::Opioid],
            _ => vec![],
        }));
        // two classes on the same 10 days count 10 days, not 20
        assert!(overuse(28, |i| if i < 10 {
            vec![MedicationClass::Nsaid, MedicationClass::SimpleAnalgesic]
        } else {
            vec![]
        }));
        assert!(!overuse(28, |i| if i < 5 {
            vec![MedicationClass::Nsaid, MedicationClass::SimpleAnalgesic]
        } else {
            vec![]
        }));
    }

    #[test]
    fn serializes_with_api_field_names() {
        let s = WindowStats::compute(d("2026-01-01"), d("2026-01-01"), &[]);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["from"], "2026-01-01");
        assert!(v["headache_days_per_28"].is_null());
        assert_eq!(v.as_object().map(|o| o.len()), Some(16));
    }
}
