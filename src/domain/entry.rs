//! A diary entry as the patient writes it, and the rules it obeys (docs/clinical-rules.md "What an
//! entry and a treatment may hold"). [`DiaryEntry::parse`] is the only way to build one, so a
//! [`DiaryEntry`] is always valid: the API, the demo and the store all go through it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::diary::{DayRecord, HeadacheFeatures, MedicationClass, MedicationClassSet};
use super::problems::{check_required_text, check_text, Problems};

pub const MAX_PEAK_PAIN: i64 = 10;
pub const MAX_HEADACHE_HOURS: f64 = 24.0;
pub const MAX_MEDICATIONS: usize = 20;
pub const MAX_MEDICATION_NAME_CHARS: usize = 100;
pub const MAX_DOSE_CHARS: usize = 50;
pub const MAX_NOTES_CHARS: usize = 2000;
pub const MAX_BATCH_ENTRIES: usize = 400;
/// The diary starts here; earlier dates are typing mistakes.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// How much the headache limited the patient's day.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Disability {
    None,
    Mild,
    Moderate,
    Severe,
}

impl Disability {
    pub const ALL: [Disability; 4] = [Self::None, Self::Mild, Self::Moderate, Self::Severe];
}

/// An acute (rescue) medication taken that day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AcuteMedication {
    /// What was taken, e.g. `sumatriptan` (1–100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Drug class; `triptan`, `ergot`, `gepant` and `ditan` make a migraine-specific medication day.
    pub class: MedicationClass,
    /// Free-text dose, e.g. `50 mg` (at most 50 characters).
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 50)]
    pub dose: Option<String>,
}

/// What the patient typed for one day, before any rule is checked. `peak_pain` is wide so an
/// out-of-range number is reported, not truncated.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryDraft {
    pub peak_pain: i64,
    pub headache_hours: Option<f64>,
    pub features: HeadacheFeatures,
    pub acute_medications: Vec<AcuteMedication>,
    pub disability: Option<Disability>,
    pub notes: Option<String>,
}

/// One valid diary day (the date is the patient-local calendar day).
#[derive(Debug, Clone, PartialEq)]
pub struct DiaryEntry {
    date: NaiveDate,
    peak_pain: u8,
    headache_hours: Option<f64>,
    features: HeadacheFeatures,
    acute_medications: Vec<AcuteMedication>,
    disability: Option<Disability>,
    notes: Option<String>,
}

impl DiaryEntry {
    /// Checks every rule of a new entry for `date`; `today` is today in the patient's time zone
    /// (no entry may be for a later day). Every broken rule is reported, by field.
    pub fn parse(date: NaiveDate, draft: EntryDraft, today: NaiveDate) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        problems.check(
            date <= today,
            "date",
            "must not be later than today in the patient's time zone",
        );
        let entry = Self::check(date, draft, &mut problems);
        problems.or_ok(entry)
    }

    /// The rules that hold for an entry whatever day it is (no "not after today": a stored entry
    /// stays valid when the patient moves west). For reading stored rows back.
    pub fn parse_stored(date: NaiveDate, draft: EntryDraft) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let entry = Self::check(date, draft, &mut problems);
        problems.or_ok(entry)
    }

    fn check(date: NaiveDate, draft: EntryDraft, problems: &mut Problems) -> Self {
        problems.check(
            date >= EARLIEST_DATE,
            "date",
            "must not be before 2000-01-01",
        );
        problems.check(
            (0..=MAX_PEAK_PAIN).contains(&draft.peak_pain),
            "peak_pain",
            format!("must be an integer from 0 to {MAX_PEAK_PAIN}"),
        );
        if let Some(hours) = draft.headache_hours {
            problems.check(
                hours.is_finite() && (0.0..=MAX_HEADACHE_HOURS).contains(&hours),
                "headache_hours",
                format!("must be a number from 0 to {MAX_HEADACHE_HOURS}"),
            );
            problems.check(
                !(hours > 0.0 && draft.peak_pain == 0),
                "headache_hours",
                "must be 0 or absent when peak_pain is 0",
            );
        }
        problems.check(
            draft.acute_medications.len() <= MAX_MEDICATIONS,
            "acute_medications",
            format!("at most {MAX_MEDICATIONS} medications per day"),
        );
        for (i, med) in draft.acute_medications.iter().enumerate() {
            check_required_text(
                &med.name,
                &format!("acute_medications[{i}].name"),
                MAX_MEDICATION_NAME_CHARS,
                problems,
            );
            check_text(
                med.dose.as_deref(),
                &format!("acute_medications[{i}].dose"),
                MAX_DOSE_CHARS,
                problems,
            );
        }
        check_text(draft.notes.as_deref(), "notes", MAX_NOTES_CHARS, problems);
        Self {
            date,
            peak_pain: u8::try_from(draft.peak_pain.clamp(0, MAX_PEAK_PAIN)).unwrap_or(0),
            headache_hours: draft.headache_hours,
            features: draft.features,
            acute_medications: draft.acute_medications,
            disability: draft.disability,
            notes: draft.notes,
        }
    }

    pub fn date(&self) -> NaiveDate {
        self.date
    }
    /// Worst pain of the day, 0–10; 0 means no headache.
    pub fn peak_pain(&self) -> u8 {
        self.peak_pain
    }
    pub fn headache_hours(&self) -> Option<f64> {
        self.headache_hours
    }
    pub fn features(&self) -> HeadacheFeatures {
        self.features
    }
    pub fn acute_medications(&self) -> &[AcuteMedication] {
        &self.acute_medications
    }
    pub fn disability(&self) -> Option<Disability> {
        self.disability
    }
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// The classes of the day's medications (several drugs of one class count once).
    pub fn medication_classes(&self) -> MedicationClassSet {
        self.acute_medications.iter().map(|m| m.class).collect()
    }

    /// What the classification rules need of this day.
    pub fn record(&self) -> DayRecord {
        DayRecord {
            date: self.date,
            peak_pain: self.peak_pain,
            headache_hours: self.headache_hours,
            features: self.features,
            medication_classes: self.medication_classes(),
        }
    }

    /// The entry's parts, for a store or a response to take apart.
    pub fn into_parts(self) -> (NaiveDate, EntryDraft) {
        (
            self.date,
            EntryDraft {
                peak_pain: i64::from(self.peak_pain),
                headache_hours: self.headache_hours,
                features: self.features,
                acute_medications: self.acute_medications,
                disability: self.disability,
                notes: self.notes,
            },
        )
    }
}

/// A batch of days (an offline app's queue): 1–[`MAX_BATCH_ENTRIES`] entries with distinct
/// dates, each valid; problems name `entries` or `entries[i].field`.
pub fn parse_batch(
    days: Vec<(NaiveDate, EntryDraft)>,
    today: NaiveDate,
) -> Result<Vec<DiaryEntry>, Problems> {
    let mut problems = Problems::new();
    problems.check(
        !days.is_empty() && days.len() <= MAX_BATCH_ENTRIES,
        "entries",
        format!("must hold 1 to {MAX_BATCH_ENTRIES} entries"),
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut seen = std::collections::HashSet::new();
    let mut entries = Vec::with_capacity(days.len());
    for (i, (date, draft)) in days.into_iter().enumerate() {
        if !seen.insert(date) {
            problems.add(format!("entries[{i}].date"), "appears twice in the batch");
        }
        match DiaryEntry::parse(date, draft, today) {
            Ok(entry) => entries.push(entry),
            Err(p) => problems.extend(p.prefixed(&format!("entries[{i}]."))),
        }
    }
    problems.or_ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(peak_pain: i64, hours: Option<f64>) -> EntryDraft {
        EntryDraft {
            peak_pain,
            headache_hours: hours,
            features: HeadacheFeatures::default(),
            acute_medications: vec![],
            disability: None,
            notes: None,
        }
    }

    fn fields(date: NaiveDate, entry: EntryDraft) -> Vec<String> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        match DiaryEntry::parse(date, entry, today) {
            Ok(_) => vec![],
            Err(p) => p.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn entry_rules_name_their_field() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert!(fields(day, draft(5, Some(3.0))).is_empty());
        assert_eq!(fields(day, draft(11, None)), vec!["peak_pain"]);
        assert_eq!(fields(day, draft(-1, None)), vec!["peak_pain"]);
        assert_eq!(fields(day, draft(0, Some(2.0))), vec!["headache_hours"]);
        assert!(fields(day, draft(0, Some(0.0))).is_empty());
        assert_eq!(fields(day, draft(3, Some(24.5))), vec!["headache_hours"]);
        let tomorrow = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(fields(tomorrow, draft(0, None)), vec!["date"]);
        let old = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        assert_eq!(fields(old, draft(0, None)), vec!["date"]);
        let mut many = draft(4, None);
        many.acute_medications = (0..21)
            .map(|i| AcuteMedication {
                name: format!("m{i}"),
                class: MedicationClass::Nsaid,
                dose: None,
            })
            .collect();
        assert_eq!(fields(day, many), vec!["acute_medications"]);
    }

    #[test]
    fn a_batch_names_the_entry_and_refuses_twice_the_same_day() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let fields = |days| match parse_batch(days, day) {
            Ok(_) => vec![],
            Err(p) => p.into_iter().map(|e| e.field).collect::<Vec<_>>(),
        };
        assert_eq!(fields(vec![]), vec!["entries"]);
        assert!(fields(vec![(day, draft(3, None))]).is_empty());
        assert_eq!(
            fields(vec![(day, draft(3, None)), (day, draft(11, None))]),
            vec!["entries[1].date", "entries[1].peak_pain"]
        );
    }

    #[test]
    fn a_stored_entry_may_be_after_today_but_not_broken() {
        let later = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        assert!(DiaryEntry::parse_stored(later, draft(3, None)).is_ok());
        assert!(DiaryEntry::parse_stored(later, draft(12, None)).is_err());
    }

    #[test]
    fn the_record_carries_the_medication_classes() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let mut d = draft(6, Some(5.0));
        d.acute_medications = vec![AcuteMedication {
            name: "sumatriptan".into(),
            class: MedicationClass::Triptan,
            dose: None,
        }];
        let entry = DiaryEntry::parse(day, d, day).unwrap();
        assert!(entry
            .record()
            .medication_classes
            .contains(MedicationClass::Triptan));
    }
}
