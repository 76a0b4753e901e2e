//! The clinical content of one diary day: what the classification rules of docs/clinical-rules.md
//! ("A day") need from a saved entry, and nothing else (no notes, no versions, no ids).

use std::cmp::Ordering;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::range::DateRange;

/// Class of an acute medication taken on a diary day.
///
/// `triptan`, `ergot`, `gepant` and `ditan` are migraine-specific: a day on which one of them was
/// taken is a migraine day whatever the headache's duration (docs/clinical-rules.md "A day"). Medication-overuse
/// risk counts `triptan`, `ergot`, `opioid`, `combination_analgesic`, `simple_analgesic` and `nsaid`
/// only (docs/clinical-rules.md "A window").
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MedicationClass {
    /// Triptan (e.g. sumatriptan): migraine-specific; counts for overuse from 10 days per 28.
    Triptan,
    /// Ergot alkaloid (e.g. dihydroergotamine): migraine-specific; counts for overuse from 10 days per 28.
    Ergot,
    /// Gepant (CGRP receptor antagonist, e.g. ubrogepant): migraine-specific; never counts for overuse.
    Gepant,
    /// Ditan (lasmiditan): migraine-specific; never counts for overuse.
    Ditan,
    /// NSAID (e.g. ibuprofen, naproxen): counts for overuse from 15 days per 28.
    Nsaid,
    /// Simple analgesic (e.g. paracetamol): counts for overuse from 15 days per 28.
    SimpleAnalgesic,
    /// Combination analgesic: counts for overuse from 10 days per 28.
    CombinationAnalgesic,
    /// Opioid: counts for overuse from 10 days per 28.
    Opioid,
    /// Antiemetic (e.g. metoclopramide): an acute medication day; never counts for overuse.
    Antiemetic,
    /// Any other acute drug: an acute medication day; never counts for overuse.
    Other,
}

impl MedicationClass {
    /// Every class, in bit order (`ALL[i].bit() == 1 << i`).
    pub const ALL: [MedicationClass; 10] = [
        MedicationClass::Triptan,
        MedicationClass::Ergot,
        MedicationClass::Gepant,
        MedicationClass::Ditan,
        MedicationClass::Nsaid,
        MedicationClass::SimpleAnalgesic,
        MedicationClass::CombinationAnalgesic,
        MedicationClass::Opioid,
        MedicationClass::Antiemetic,
        MedicationClass::Other,
    ];

    /// Triptans, ergots, gepants and ditans: the migraine-specific acute drugs of docs/clinical-rules.md.
    pub fn is_migraine_specific(self) -> bool {
        matches!(
            self,
            MedicationClass::Triptan
                | MedicationClass::Ergot
                | MedicationClass::Gepant
                | MedicationClass::Ditan
        )
    }

    /// The class's bit in a [`MedicationClassSet`].
    ///
    /// This is persisted (the store keeps the set as an integer column), so the order is fixed:
    /// triptan 0, ergot 1, gepant 2, ditan 3, nsaid 4, simple_analgesic 5,
    /// combination_analgesic 6, opioid 7, antiemetic 8, other 9. Append new classes at the end.
    pub fn bit(self) -> u16 {
        let index = match self {
            MedicationClass::Triptan => 0,
            MedicationClass::Ergot => 1,
            MedicationClass::Gepant => 2,
            MedicationClass::Ditan => 3,
            MedicationClass::Nsaid => 4,
            MedicationClass::SimpleAnalgesic => 5,
            MedicationClass::CombinationAnalgesic => 6,
            MedicationClass::Opioid => 7,
            MedicationClass::Antiemetic => 8,
            MedicationClass::Other => 9,
        };
        1 << index
    }
}

/// The set of medication classes taken on one day: a bitset over [`MedicationClass::bit`],
/// stored as an integer column by the store layer. Several drugs of one class count once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MedicationClassSet(u16);

impl MedicationClassSet {
    /// Bits of every known class; anything else is dropped by [`MedicationClassSet::from_bits`].
    const KNOWN: u16 = (1 << MedicationClass::ALL.len()) - 1;

    /// Rebuilds a set from its persisted bits. Bits that name no class are ignored, so a
    /// corrupt column can never make a day count as medicated.
    pub fn from_bits(bits: u16) -> Self {
        MedicationClassSet(bits & Self::KNOWN)
    }

    /// The bits to persist (see [`MedicationClass::bit`] for the fixed order).
    pub fn bits(self) -> u16 {
        self.0
    }

    pub fn insert(&mut self, class: MedicationClass) {
        self.0 |= class.bit();
    }

    pub fn contains(self, class: MedicationClass) -> bool {
        self.0 & class.bit() != 0
    }

    /// No acute medication that day.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when any class of the set is migraine-specific (triptan, ergot, gepant, ditan).
    pub fn any_migraine_specific(self) -> bool {
        MedicationClass::ALL
            .iter()
            .any(|c| c.is_migraine_specific() && self.contains(*c))
    }

    /// The classes of the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = MedicationClass> {
        MedicationClass::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

impl FromIterator<MedicationClass> for MedicationClassSet {
    fn from_iter<T: IntoIterator<Item = MedicationClass>>(iter: T) -> Self {
        let mut set = MedicationClassSet::default();
        for class in iter {
            set.insert(class);
        }
        set
    }
}

/// Headache features recorded for the day; each defaults to false.
/// They decide the ICHD-3 criteria C and D of a migraine day (docs/clinical-rules.md "A day").
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HeadacheFeatures {
    /// Aura (visual, sensory or speech symptoms before or with the headache). With any pain it
    /// makes the day a migraine day.
    pub aura: bool,
    /// Nausea: satisfies ICHD-3 criterion D on its own.
    pub nausea: bool,
    /// Vomiting: satisfies ICHD-3 criterion D on its own.
    pub vomiting: bool,
    /// Sensitivity to light: satisfies criterion D only together with `phonophobia`.
    pub photophobia: bool,
    /// Sensitivity to sound: satisfies criterion D only together with `photophobia`.
    pub phonophobia: bool,
    /// One-sided pain: one of the four ICHD-3 criterion C features.
    pub unilateral: bool,
    /// Pulsating (throbbing) pain: one of the four ICHD-3 criterion C features.
    pub pulsating: bool,
    /// Worse with routine physical activity: one of the four ICHD-3 criterion C features.
    pub aggravated_by_activity: bool,
}

impl HeadacheFeatures {
    // Persisted bit positions: never reorder, only append.
    const AURA: u16 = 1 << 0;
    const NAUSEA: u16 = 1 << 1;
    const VOMITING: u16 = 1 << 2;
    const PHOTOPHOBIA: u16 = 1 << 3;
    const PHONOPHOBIA: u16 = 1 << 4;
    const UNILATERAL: u16 = 1 << 5;
    const PULSATING: u16 = 1 << 6;
    const AGGRAVATED_BY_ACTIVITY: u16 = 1 << 7;

    /// Packs the features into an integer for the store. Stable bit order (it is persisted):
    /// aura 0, nausea 1, vomiting 2, photophobia 3, phonophobia 4, unilateral 5, pulsating 6,
    /// aggravated_by_activity 7.
    pub fn to_bits(self) -> u16 {
        let mut bits = 0;
        for (set, bit) in [
            (self.aura, Self::AURA),
            (self.nausea, Self::NAUSEA),
            (self.vomiting, Self::VOMITING),
            (self.photophobia, Self::PHOTOPHOBIA),
            (self.phonophobia, Self::PHONOPHOBIA),
            (self.unilateral, Self::UNILATERAL),
            (self.pulsating, Self::PULSATING),
            (self.aggravated_by_activity, Self::AGGRAVATED_BY_ACTIVITY),
        ] {
            if set {
                bits |= bit;
            }
        }
        bits
    }

    /// Inverse of [`HeadacheFeatures::to_bits`]; unknown bits are ignored.
    pub fn from_bits(bits: u16) -> Self {
        HeadacheFeatures {
            aura: bits & Self::AURA != 0,
            nausea: bits & Self::NAUSEA != 0,
            vomiting: bits & Self::VOMITING != 0,
            photophobia: bits & Self::PHOTOPHOBIA != 0,
            phonophobia: bits & Self::PHONOPHOBIA != 0,
            unilateral: bits & Self::UNILATERAL != 0,
            pulsating: bits & Self::PULSATING != 0,
            aggravated_by_activity: bits & Self::AGGRAVATED_BY_ACTIVITY != 0,
        }
    }
}

/// What classification needs from one saved diary entry. Its existence means the day is
/// recorded; a date with no `DayRecord` is missing, never headache-free.
#[derive(Clone, Debug, PartialEq)]
pub struct DayRecord {
    /// The patient-local calendar day of the entry.
    pub date: NaiveDate,
    /// Worst pain of the day, 0–10 (0 = no headache). Validated at the edge.
    pub peak_pain: u8,
    /// Total hours with headache that day, 0–24, when the patient recorded it.
    pub headache_hours: Option<f64>,
    pub features: HeadacheFeatures,
    pub medication_classes: MedicationClassSet,
}

/// A total order on everything but the date, used to pick one record when several share a
/// date, so that the choice never depends on the order of the input.
fn content_order(a: &DayRecord, b: &DayRecord) -> Ordering {
    let hours = |r: &DayRecord| r.headache_hours;
    a.peak_pain
        .cmp(&b.peak_pain)
        .then_with(|| a.features.to_bits().cmp(&b.features.to_bits()))
        .then_with(|| {
            a.medication_classes
                .bits()
                .cmp(&b.medication_classes.bits())
        })
        .then_with(|| match (hours(a), hours(b)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.total_cmp(&y),
        })
}

/// The records inside `range`, sorted by date, one per date. The database allows one entry per
/// patient per date; should duplicates reach us anyway, each date counts once, using the
/// record that is greatest by (peak_pain, features, medication classes, hours), so that no
/// day is ever double-counted and the result does not depend on input order. O(n log n).
pub(crate) fn one_per_date(range: DateRange, days: &[DayRecord]) -> Vec<&DayRecord> {
    let mut inside: Vec<&DayRecord> = days.iter().filter(|d| range.contains(d.date)).collect();
    inside.sort_unstable_by(|a, b| a.date.cmp(&b.date).then_with(|| content_order(b, a)));
    inside.dedup_by_key(|d| d.date);
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medication_bits_follow_all_order_and_round_trip() {
        for (i, class) in MedicationClass::ALL.iter().enumerate() {
            assert_eq!(class.bit(), 1 << i);
            let set: MedicationClassSet = [*class].into_iter().collect();
            assert!(set.contains(*class));
            assert_eq!(MedicationClassSet::from_bits(set.bits()), set);
        }
        let all: MedicationClassSet = MedicationClass::ALL.into_iter().collect();
        assert_eq!(all.bits(), 0b11_1111_1111);
        assert_eq!(all.iter().count(), 10);
        assert!(MedicationClassSet::default().is_empty());
        // unknown bits are dropped
        assert_eq!(
            MedicationClassSet::from_bits(0xFC00),
            MedicationClassSet::default()
        );
    }

    #[test]
    fn migraine_specific_classes_are_triptan_ergot_gepant_ditan() {
        let specific: Vec<_> = MedicationClass::ALL
            .into_iter()
            .filter(|c| c.is_migraine_specific())
            .collect();
        assert_eq!(
            specific,
            [
                MedicationClass::Triptan,
                MedicationClass::Ergot,
                MedicationClass::Gepant,
                MedicationClass::Ditan
            ]
        );
        let nsaid: MedicationClassSet = [MedicationClass::Nsaid].into_iter().collect();
        assert!(!nsaid.any_migraine_specific());
        let gepant: MedicationClassSet = [MedicationClass::Gepant].into_iter().collect();
        assert!(gepant.any_migraine_specific());
    }

    #[test]
    fn medication_class_serde_names_match_api() {
        let names: Vec<String> = MedicationClass::ALL
            .iter()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                "\"triptan\"",
                "\"ergot\"",
                "\"gepant\"",
                "\"ditan\"",
                "\"nsaid\"",
                "\"simple_analgesic\"",
                "\"combination_analgesic\"",
                "\"opioid\"",
                "\"antiemetic\"",
                "\"other\""
            ]
        );
    }

    #[test]
    fn feature_bits_round_trip_every_combination() {
        for bits in 0u16..256 {
            assert_eq!(HeadacheFeatures::from_bits(bits).to_bits(), bits);
        }
        let f = HeadacheFeatures {
            aura: true,
            aggravated_by_activity: true,
            ..Default::default()
        };
        assert_eq!(f.to_bits(), 0b1000_0001);
    }

    #[test]
    fn features_default_missing_fields_and_reject_unknown() {
        let f: HeadacheFeatures = serde_json::from_str(r#"{"nausea": true}"#).unwrap();
        assert!(f.nausea && !f.aura);
        assert!(serde_json::from_str::<HeadacheFeatures>(r#"{"smell": true}"#).is_err());
    }

    #[test]
    fn one_per_date_filters_sorts_and_deduplicates_order_independently() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let rec = |date: &str, pain: u8| DayRecord {
            date: d(date),
            peak_pain: pain,
            headache_hours: None,
            features: HeadacheFeatures::default(),
            medication_classes: MedicationClassSet::default(),
        };
        let range = DateRange::new(d("2026-01-02"), d("2026-01-04"));
        let a = vec![
            rec("2026-01-03", 2),
            rec("2026-01-01", 9),
            rec("2026-01-03", 5),
            rec("2026-01-02", 0),
            rec("2026-01-05", 1),
        ];
        let mut b = a.clone();
        b.reverse();
        for input in [a, b] {
            let kept = one_per_date(range, &input);
            let summary: Vec<_> = kept.iter().map(|r| (r.date, r.peak_pain)).collect();
            assert_eq!(summary, [(d("2026-01-02"), 0), (d("2026-01-03"), 5)]);
        }
    }
}
