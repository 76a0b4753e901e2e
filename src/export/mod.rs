//! The record leaving (and entering) the service in forms other systems take: the diary as
//! CSV for spreadsheets (and back), and the whole record as a FHIR R4 Bundle.
//!
//! Pure conversions, no I/O: the API handlers read the rows and call these.

pub mod csv;
pub mod fhir;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::questionnaire::QuestionnaireResponse;
use crate::domain::TreatmentDraft;

/// A recorded treatment with its treatment day T (the patient-local date of its start).
#[derive(Debug, Clone, PartialEq)]
pub struct DatedTreatment {
    pub id: Uuid,
    pub treatment_day: NaiveDate,
    pub fields: TreatmentDraft,
}

/// A scored questionnaire (MIDAS or HIT-6) as the exports and the report show it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionnaireScore {
    pub id: Uuid,
    /// `midas` or `hit6`.
    pub instrument: String,
    /// The patient-local day it was filled in.
    pub completed_on: NaiveDate,
    /// Item answers in item order (never the item text: HIT-6 is licensed).
    pub answers: Vec<i32>,
    pub score: i32,
    /// `I` … `IV` for MIDAS; `little_or_none` … `severe` for HIT-6.
    pub grade: String,
}

impl From<&QuestionnaireResponse> for QuestionnaireScore {
    fn from(r: &QuestionnaireResponse) -> Self {
        Self {
            id: r.id,
            instrument: r.instrument.as_str().to_owned(),
            completed_on: r.completed_on,
            answers: r.answers.iter().map(|a| i32::from(*a)).collect(),
            score: r.score,
            grade: r.grade.as_str().to_owned(),
        }
    }
}

/// The snake_case wire name of a serde enum (`MedicationClass::SimpleAnalgesic` →
/// `simple_analgesic`): the same word the JSON API uses.
pub(crate) fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
