//! Pure clinical logic: day classification, windows, before/after comparisons, periods and
//! cohorts, exactly as docs/clinical-rules.md defines them.
//!
//! Plain values in, plain values out: no HTTP, no SQL and no clock. "Today" and the patient's
//! time zone are arguments, so every rule is a unit test with the numbers of docs/clinical-rules.md.

pub mod account;
pub mod classify;
pub mod cohort;
pub mod diary;
pub mod entry;
pub mod ids;
pub mod periods;
pub mod problems;
pub mod range;
pub mod timezone;
pub mod treatment;
pub mod treatment_event;
pub mod window;

pub use account::{AccountDraft, NewAccount, Role};
pub use classify::{classify, Classification};
pub use cohort::{pool_outcomes, CohortOutcome};
pub use diary::{DayRecord, HeadacheFeatures, MedicationClass, MedicationClassSet};
pub use entry::{AcuteMedication, DiaryEntry, Disability, EntryDraft};
pub use ids::{PatientId, TreatmentId, UserId};
pub use periods::{day_classes, split_periods, DayClass, Period};
pub use problems::{FieldProblem, Problems};
pub use range::DateRange;
pub use timezone::TimeZone;
pub use treatment::{
    overlapping_treatments, treatment_day, treatment_outcome, OutcomeChange, TreatmentOutcome,
    TreatmentWindows, DEFAULT_FOLLOWUP_WINDOWS, DEFAULT_WINDOW_DAYS, MAX_FOLLOWUP_WINDOWS,
    MAX_WINDOW_DAYS, MIN_WINDOW_DAYS,
};
pub use treatment_event::{TreatmentDraft, TreatmentEvent, TreatmentKind};
pub use window::{WindowStats, SUFFICIENT_COMPLETION};

#[cfg(test)]
mod tests;
