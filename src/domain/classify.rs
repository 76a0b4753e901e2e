//! Classification of one recorded diary day: exactly the rules of docs/clinical-rules.md "A day".

use super::diary::DayRecord;

/// How one recorded day counts. Every flag is a docs/clinical-rules.md "A day" definition; a missing day has
/// no `Classification` at all (it is never headache-free).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Classification {
    /// `peak_pain` ≥ 1.
    pub any_headache: bool,
    /// Any headache lasting ≥ 4 h, of unrecorded duration, or treated with any acute medication;
    /// or a migraine day.
    pub headache: bool,
    /// Any headache with a migraine-specific drug, aura, or ICHD-3 criteria C and D lasting ≥ 30 min.
    pub migraine: bool,
    /// A headache day with `peak_pain` ≥ 4.
    pub moderate_severe: bool,
    /// At least one acute medication of any class.
    pub acute_medication: bool,
    /// At least one triptan, ergot, gepant or ditan.
    pub migraine_specific_medication: bool,
    /// `peak_pain` = 0.
    pub headache_free: bool,
}

impl Classification {
    pub const ANY_HEADACHE: u8 = 1;
    pub const HEADACHE: u8 = 1 << 1;
    pub const MIGRAINE: u8 = 1 << 2;
    pub const MODERATE_SEVERE: u8 = 1 << 3;
    pub const ACUTE_MEDICATION: u8 = 1 << 4;
    pub const MIGRAINE_SPECIFIC_MEDICATION: u8 = 1 << 5;
    pub const HEADACHE_FREE: u8 = 1 << 6;

    /// The flags as bits (the constants above), stored with each diary day at write time so
    /// that window statistics can be summed by the database without classifying again.
    pub fn to_bits(self) -> u8 {
        [
            (self.any_headache, Self::ANY_HEADACHE),
            (self.headache, Self::HEADACHE),
            (self.migraine, Self::MIGRAINE),
            (self.moderate_severe, Self::MODERATE_SEVERE),
            (self.acute_medication, Self::ACUTE_MEDICATION),
            (
                self.migraine_specific_medication,
                Self::MIGRAINE_SPECIFIC_MEDICATION,
            ),
            (self.headache_free, Self::HEADACHE_FREE),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }
}

/// Peak pain from which a headache is moderate (0–10 scale: 1–3 mild, 4–6 moderate, 7–10 severe);
/// also one of the four ICHD-3 criterion C features.
pub const MODERATE_PAIN: u8 = 4;
/// A headache of at least this many hours is a headache day even untreated (IHS).
pub const HEADACHE_DAY_HOURS: f64 = 4.0;
/// A qualified migraine headache lasts at least 30 minutes (IHS trial guidelines).
pub const MIGRAINE_MIN_HOURS: f64 = 0.5;

/// Classifies one recorded day (docs/clinical-rules.md "A day").
///
/// `headache_hours` absent means "duration not recorded" and satisfies every duration test.
/// A non-finite `headache_hours` (never accepted by validation) fails them.
pub fn classify(day: &DayRecord) -> Classification {
    let any_headache = day.peak_pain >= 1;
    let acute_medication = !day.medication_classes.is_empty();
    let migraine_specific_medication = day.medication_classes.any_migraine_specific();
    let lasted = |min_hours: f64| day.headache_hours.is_none_or(|h| h >= min_hours);

    let f = day.features;
    let criterion_c = [
        f.unilateral,
        f.pulsating,
        day.peak_pain >= MODERATE_PAIN,
        f.aggravated_by_activity,
    ]
    .into_iter()
    .filter(|x| *x)
    .count()
        >= 2;
    let criterion_d = f.nausea || f.vomiting || (f.photophobia && f.phonophobia);
    let ichd3_cd = criterion_c && criterion_d && lasted(MIGRAINE_MIN_HOURS);

    let migraine = any_headache && (migraine_specific_medication || f.aura || ichd3_cd);
    let headache = (any_headache && (lasted(HEADACHE_DAY_HOURS) || acute_medication)) || migraine;
    let moderate_severe = headache && day.peak_pain >= MODERATE_PAIN;

    Classification {
        any_headache,
        headache,
        migraine,
        moderate_severe,
        acute_medication,
        migraine_specific_medication,
        headache_free: day.peak_pain == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diary::{HeadacheFeatures, MedicationClass, MedicationClassSet};
    use chrono::NaiveDate;

    fn day(
        pain: u8,
        hours: Option<f64>,
        features: HeadacheFeatures,
        meds: &[MedicationClass],
    ) -> DayRecord {
        DayRecord {
            date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            peak_pain: pain,
            headache_hours: hours,
            features,
            medication_classes: meds.iter().copied().collect::<MedicationClassSet>(),
        }
    }

    fn none() -> HeadacheFeatures {
        HeadacheFeatures::default()
    }

    /// unilateral + pulsating + nausea: criteria C (2 features) and D.
    fn cd() -> HeadacheFeatures {
        HeadacheFeatures {
            unilateral: true,
            pulsating: true,
            nausea: true,
            ..Default::default()
        }
    }

    #[test]
    fn any_headache_is_pain_at_least_one() {
        assert!(!classify(&day(0, None, none(), &[])).any_headache);
        assert!(classify(&day(1, Some(0.1), none(), &[])).any_headache);
    }

    #[test]
    fn headache_free_is_pain_zero() {
        assert!(classify(&day(0, None, none(), &[])).headache_free);
        assert!(!classify(&day(1, None, none(), &[])).headache_free);
    }

    #[test]
    fn headache_day_needs_four_hours_or_unknown_duration_or_treatment() {
        assert!(
            classify(&day(2, None, none(), &[])).headache,
            "duration not recorded"
        );
        assert!(
            classify(&day(2, Some(4.0), none(), &[])).headache,
            "4 h is inclusive"
        );
        assert!(!classify(&day(2, Some(3.99), none(), &[])).headache);
        for class in MedicationClass::ALL {
            assert!(
                classify(&day(2, Some(0.5), none(), &[class])).headache,
                "treated with {class:?}"
            );
        }
        assert!(!classify(&day(0, Some(0.0), none(), &[MedicationClass::Nsaid])).headache);
    }

    #[test]
    fn every_migraine_day_is_a_headache_day() {
        // aura with a short, untreated headache: migraine, hence headache
        let aura = HeadacheFeatures {
            aura: true,
            ..Default::default()
        };
        let c = classify(&day(2, Some(1.0), aura, &[]));
        assert!(c.migraine && c.headache);
        // ICHD-3 C+D with 3 h untreated
        let c = classify(&day(7, Some(3.0), cd(), &[]));
        assert!(c.migraine && c.headache);
    }

    #[test]
    fn migraine_by_each_migraine_specific_class_whatever_the_duration() {
        for class in [
            MedicationClass::Triptan,
            MedicationClass::Ergot,
            MedicationClass::Gepant,
            MedicationClass::Ditan,
        ] {
            let c = classify(&day(1, Some(0.1), none(), &[class]));
            assert!(c.migraine && c.migraine_specific_medication && c.acute_medication);
        }
        for class in [
            MedicationClass::Nsaid,
            MedicationClass::SimpleAnalgesic,
            MedicationClass::CombinationAnalgesic,
            MedicationClass::Opioid,
            MedicationClass::Antiemetic,
            MedicationClass::Other,
        ] {
            let c = classify(&day(1, Some(0.1), none(), &[class]));
            assert!(!c.migraine && !c.migraine_specific_medication && c.acute_medication);
        }
    }

    #[test]
    fn no_migraine_without_pain() {
        let aura = HeadacheFeatures { aura: true, ..cd() };
        let c = classify(&day(0, None, aura, &[MedicationClass::Triptan]));
        assert!(!c.migraine && !c.headache && !c.any_headache && !c.moderate_severe);
        assert!(c.acute_medication && c.migraine_specific_medication && c.headache_free);
    }

    #[test]
    fn criterion_c_needs_two_of_four_with_pain_four_counting() {
        let nausea = HeadacheFeatures {
            nausea: true,
            ..Default::default()
        };
        // one C feature only (pain 3 doesn't count)
        let one = HeadacheFeatures {
            unilateral: true,
            ..nausea
        };
        assert!(!classify(&day(3, Some(2.0), one, &[])).migraine);
        // unilateral + pain ≥ 4
        assert!(classify(&day(4, Some(2.0), one, &[])).migraine);
        // pulsating + aggravated
        let two = HeadacheFeatures {
            pulsating: true,
            aggravated_by_activity: true,
            ..nausea
        };
        assert!(classify(&day(2, Some(2.0), two, &[])).migraine);
    }

    #[test]
    fn criterion_d_is_nausea_or_vomiting_or_photo_and_phono_together() {
        let c = HeadacheFeatures {
            unilateral: true,
            pulsating: true,
            ..Default::default()
        };
        let with = |f: HeadacheFeatures| classify(&day(2, Some(2.0), f, &[])).migraine;
        assert!(!with(c));
        assert!(with(HeadacheFeatures { nausea: true, ..c }));
        assert!(with(HeadacheFeatures {
            vomiting: true,
            ..c
        }));
        assert!(with(HeadacheFeatures {
            photophobia: true,
            phonophobia: true,
            ..c
        }));
        assert!(!with(HeadacheFeatures {
            photophobia: true,
            ..c
        }));
        assert!(!with(HeadacheFeatures {
            phonophobia: true,
            ..c
        }));
    }

    #[test]
    fn ichd3_migraine_needs_thirty_minutes() {
        assert!(classify(&day(7, None, cd(), &[])).migraine);
        assert!(classify(&day(7, Some(0.5), cd(), &[])).migraine);
        assert!(!classify(&day(7, Some(0.49), cd(), &[])).migraine);
        // but a migraine-specific drug counts whatever the duration
        assert!(classify(&day(7, Some(0.1), cd(), &[MedicationClass::Triptan])).migraine);
    }

    #[test]
    fn moderate_severe_is_a_headache_day_with_pain_four() {
        assert!(classify(&day(4, None, none(), &[])).moderate_severe);
        assert!(!classify(&day(3, None, none(), &[])).moderate_severe);
        // pain 5 but only 2 h untreated, not migraine: not a headache day, so not moderate/severe
        let c = classify(&day(5, Some(2.0), none(), &[]));
        assert!(c.any_headache && !c.headache && !c.moderate_severe);
    }

    #[test]
    fn acute_medication_day_is_any_class() {
        assert!(!classify(&day(0, None, none(), &[])).acute_medication);
        assert!(classify(&day(0, None, none(), &[MedicationClass::Antiemetic])).acute_medication);
    }
}
