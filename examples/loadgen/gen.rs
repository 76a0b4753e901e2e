//! A realistic, deterministic clinic: patients with episodic or chronic migraine, 85–95 % of
//! days recorded, a mixture of mild headache and migraine days, acute medications, and 1–3
//! treatment events per patient. The same generator feeds the API seeding and the store seeding.

use chrono::{Duration, NaiveDate, NaiveTime};
use migraine_diary::domain::{HeadacheFeatures, MedicationClass};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

pub const TIMEZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/Chicago",
    "UTC",
    "Asia/Tokyo",
    "America/Los_Angeles",
];

pub const TREATMENT_KINDS: [&str; 5] = [
    "iv_magnesium",
    "iv_dopamine_antagonist",
    "occipital_nerve_block",
    "sphenopalatine_ganglion_block",
    "onabotulinumtoxina",
];

/// One generated diary day.
#[derive(Clone, Debug)]
pub struct Day {
    pub date: NaiveDate,
    pub peak_pain: u8,
    pub headache_hours: Option<f64>,
    pub features: HeadacheFeatures,
    pub medications: Vec<(&'static str, MedicationClass, &'static str)>,
    pub disability: Option<&'static str>,
}

impl Day {
    /// The body of `PUT …/diary/{date}` (or, with `date`, one entry of a batch).
    pub fn to_json(&self, with_date: bool) -> Value {
        let meds: Vec<Value> = self
            .medications
            .iter()
            .map(|(name, class, dose)| json!({ "name": name, "class": class, "dose": dose }))
            .collect();
        let mut v = json!({
            "peak_pain": self.peak_pain,
            "features": self.features,
            "acute_medications": meds,
        });
        if let Some(h) = self.headache_hours {
            v["headache_hours"] = json!(h);
        }
        if let Some(d) = self.disability {
            v["disability"] = json!(d);
        }
        if with_date {
            v["date"] = json!(self.date.format("%Y-%m-%d").to_string());
        }
        v
    }

    /// The `acute_medications` column as the API stores it.
    pub fn medications_json(&self) -> String {
        let meds: Vec<Value> = self
            .medications
            .iter()
            .map(|(name, class, dose)| json!({ "name": name, "class": class, "dose": dose }))
            .collect();
        serde_json::to_string(&meds).unwrap_or_else(|_| "[]".into())
    }
}

/// One generated treatment event.
#[derive(Clone, Debug)]
pub struct Treatment {
    pub kind: &'static str,
    pub name: &'static str,
    pub day: NaiveDate,
}

impl Treatment {
    pub fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.day
            .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN))
            .and_utc()
    }

    pub fn to_json(&self) -> Value {
        let (dose, unit) = match self.kind {
            "iv_ketamine" => (json!(0.5), json!("mg/kg/h")),
            "iv_magnesium" => (json!(1.0), json!("g")),
            _ => (Value::Null, Value::Null),
        };
        let mut v = json!({
            "kind": self.kind,
            "name": self.name,
            "started_at": self.started_at().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        if !dose.is_null() {
            v["dose"] = dose;
            v["dose_unit"] = unit;
        }
        v
    }
}

/// A patient's whole generated history: `days` days ending on `last_day`.
pub struct PatientHistory {
    pub timezone: &'static str,
    pub days: Vec<Day>,
    pub treatments: Vec<Treatment>,
}

/// Generates patient number `index` of a clinic (`seed` separates clinics).
pub fn patient(seed: u64, index: u64, last_day: NaiveDate, days: u32) -> PatientHistory {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index));
    let timezone = TIMEZONES[(index as usize) % TIMEZONES.len()];
    let first_day = last_day - Duration::days(i64::from(days) - 1);
    let recorded_share: f64 = rng.gen_range(0.85..0.95);
    // 40 % chronic (15+ headache days a month), the rest episodic (4–10).
    let chronic = rng.gen_bool(0.4);
    let base_headache: f64 = if chronic {
        rng.gen_range(0.5..0.75)
    } else {
        rng.gen_range(0.13..0.35)
    };
    let migraine_share: f64 = rng.gen_range(0.4..0.8);

    // Treatments: the first is always IV ketamine (the cohort phases pool it), 1–3 in all,
    // at least 60 days apart, inside the diary.
    let count = rng.gen_range(1..=3u32);
    let mut treatments = Vec::new();
    let span = i64::from(days);
    for k in 0..count {
        let lo = (span * i64::from(k) / i64::from(count)).max(30);
        let hi = (span * i64::from(k + 1) / i64::from(count) - 30).max(lo + 1);
        let offset = rng.gen_range(lo..hi).min(span - 1);
        let kind = if k == 0 {
            "iv_ketamine"
        } else {
            TREATMENT_KINDS[rng.gen_range(0..TREATMENT_KINDS.len())]
        };
        let name = match kind {
            "iv_ketamine" => "ketamine 0.5 mg/kg/h over 4 h",
            "iv_magnesium" => "magnesium sulfate 1 g",
            "iv_dopamine_antagonist" => "metoclopramide 10 mg",
            "occipital_nerve_block" => "greater occipital nerve block, bupivacaine",
            "sphenopalatine_ganglion_block" => "SPG block, lidocaine",
            _ => "onabotulinumtoxinA 155 U",
        };
        treatments.push(Treatment {
            kind,
            name,
            day: first_day + Duration::days(offset),
        });
    }
    let responder = rng.gen_bool(0.5);

    let mut out = Vec::with_capacity(days as usize);
    for i in 0..span {
        if !rng.gen_bool(recorded_share) {
            continue;
        }
        let date = first_day + Duration::days(i);
        // Responders have about half the headache days in the 3 months after a treatment.
        let after_treatment = treatments
            .iter()
            .any(|t| date > t.day && date <= t.day + Duration::days(90));
        let p = if responder && after_treatment {
            base_headache * 0.45
        } else {
            base_headache
        };
        out.push(day(&mut rng, date, p, migraine_share));
    }
    PatientHistory {
        timezone,
        days: out,
        treatments,
    }
}

fn day(rng: &mut StdRng, date: NaiveDate, p_headache: f64, migraine_share: f64) -> Day {
    if !rng.gen_bool(p_headache.clamp(0.0, 1.0)) {
        return Day {
            date,
            peak_pain: 0,
            headache_hours: None,
            features: HeadacheFeatures::default(),
            medications: vec![],
            disability: rng.gen_bool(0.3).then_some("none"),
        };
    }
    let migraine = rng.gen_bool(migraine_share);
    let mut features = HeadacheFeatures::default();
    let mut medications = Vec::new();
    let (peak_pain, hours) = if migraine {
        features.unilateral = rng.gen_bool(0.6);
        features.pulsating = rng.gen_bool(0.7);
        features.aggravated_by_activity = rng.gen_bool(0.5);
        features.nausea = rng.gen_bool(0.6);
        features.vomiting = rng.gen_bool(0.15);
        features.photophobia = rng.gen_bool(0.7);
        features.phonophobia = rng.gen_bool(0.6);
        features.aura = rng.gen_bool(0.2);
        if rng.gen_bool(0.55) {
            medications.push(("sumatriptan", MedicationClass::Triptan, "50 mg"));
        }
        if rng.gen_bool(0.1) {
            medications.push(("metoclopramide", MedicationClass::Antiemetic, "10 mg"));
        }
        (rng.gen_range(4..=9u8), rng.gen_range(4..=24u8))
    } else {
        if rng.gen_bool(0.35) {
            medications.push(("ibuprofen", MedicationClass::Nsaid, "400 mg"));
        } else if rng.gen_bool(0.2) {
            medications.push(("paracetamol", MedicationClass::SimpleAnalgesic, "1 g"));
        }
        features.photophobia = rng.gen_bool(0.2);
        (rng.gen_range(1..=5u8), rng.gen_range(1..=8u8))
    };
    let disability = match peak_pain {
        0..=3 => "mild",
        4..=6 => "moderate",
        _ => "severe",
    };
    Day {
        date,
        peak_pain,
        headache_hours: Some(f64::from(hours)),
        features,
        medications,
        disability: Some(disability),
    }
}
