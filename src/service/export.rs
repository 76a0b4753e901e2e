//! The data export: everything held about a patient, read in one go (a diary holds at most a
//! few thousand days, so no paging).

use crate::domain::questionnaire::QuestionnaireResponse;
use crate::domain::PatientId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter, AuditRow};
use crate::store::diary::StoredEntry;
use crate::store::entities::{care_link, session};
use crate::store::treatments::StoredTreatment;
use crate::store::users::{self, Account};
use crate::store::{care, diary, questionnaires, sessions, treatments};

/// No list of one patient comes near this; it only keeps the queries' `LIMIT` finite.
const ALL: u64 = 1 << 40;

/// A patient's whole record, as stored.
#[derive(Debug)]
pub struct PatientRecord {
    pub account: Account,
    pub diary: Vec<StoredEntry>,
    pub treatments: Vec<StoredTreatment>,
    pub questionnaires: Vec<QuestionnaireResponse>,
    pub care_team: Vec<(care_link::Model, Account)>,
    pub sessions: Vec<session::Model>,
    /// The audit trail's rows about the patient.
    pub access_log: Vec<AuditRow>,
}

pub async fn patient_record(state: &AppState, patient: PatientId) -> ApiResult<PatientRecord> {
    let db = &state.store.db;
    let account = users::find_live_by_id(db, patient.into())
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized("The account of this token no longer exists.".into())
        })?;
    // The rows of requests answered before this one are in the database first.
    state.audit.flush().await;
    let everything_about = AuditFilter {
        patient_id: Some(patient.0),
        ..AuditFilter::default()
    };
    Ok(PatientRecord {
        access_log: audit::list(db, &everything_about, ALL).await?,
        diary: diary::list_range(db, patient, None, None, None, ALL).await?,
        treatments: treatments::list(db, patient, None, ALL).await?,
        questionnaires: questionnaires::list(db, patient, Default::default(), None, ALL).await?,
        care_team: care::list_clinicians(db, patient, None, ALL).await?,
        sessions: sessions::list_for_user(db, account.id).await?,
        account,
    })
}
