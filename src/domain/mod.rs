//! Pure clinical logic, exactly as docs/clinical-rules.md defines it: day classification
//! ([`classify`]), windows ([`window`]), before/after comparisons ([`treatment`]), periods and the
//! calendar ([`periods`]), cohorts ([`cohort`]); and the values the rules run on, each built by a
//! parse-don't-validate constructor that reports every broken rule by field ([`problems`]): a
//! diary entry ([`entry`]), a treatment event ([`treatment_event`]), an account ([`account`]),
//! ids ([`ids`]) and the IANA time zone ([`timezone`]).
//!
//! Plain values in, plain values out: no HTTP, no SQL and no clock. "Today" and the patient's
//! time zone are arguments, so every rule is a unit test with the numbers of docs/clinical-rules.md.
//! (Schemas for the API derive here with utoipa's `ToSchema`, which is plain data.)

pub mod account;
pub mod classify;
pub mod cohort;
pub mod diary;
pub mod entry;
pub mod ids;
pub mod periods;
pub mod problems;
pub mod questionnaire;
pub mod range;
pub mod sync;
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
    outcome_of_windows, overlapping_treatments, treatment_day, treatment_outcome, OutcomeChange,
    TreatmentOutcome, TreatmentWindows, DEFAULT_FOLLOWUP_WINDOWS, DEFAULT_WINDOW_DAYS,
    MAX_FOLLOWUP_WINDOWS, MAX_WINDOW_DAYS, MIN_WINDOW_DAYS,
};
pub use treatment_event::{TreatmentDraft, TreatmentEvent, TreatmentKind};
pub use window::{WindowStats, WindowTally, SUFFICIENT_COMPLETION};

#[cfg(test)]
mod tests;
