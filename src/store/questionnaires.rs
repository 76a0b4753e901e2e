//! Questionnaire responses. Rows hold the answers only; score and grade come from
//! `domain::questionnaire` when a row is read, so a stored response can never disagree with the
//! scoring rules.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::corrupt;
use super::entities::questionnaire_response;
use super::reads::Read;
use crate::domain::questionnaire::{score, Instrument, QuestionnaireResponse, ValidSubmission};
use crate::domain::PatientId;
use sea_orm::FromQueryResult as _;

pub use questionnaire_response::Model as QuestionnaireRow;

/// Turns a stored row into the scored response.
pub fn to_response(row: QuestionnaireRow) -> Result<QuestionnaireResponse, DbErr> {
    let what = format!("questionnaire response {}", row.id);
    let bad = |detail: &str| corrupt(&what, detail);
    let instrument = Instrument::parse(&row.instrument).ok_or_else(|| bad("instrument"))?;
    let answers: Vec<u8> = serde_json::from_str(&row.answers).map_err(|_| bad("answers"))?;
    let scored = score(instrument, &answers).ok_or_else(|| bad("answers"))?;
    let small = |v: Option<i16>| v.map(u8::try_from).transpose().map_err(|_| bad("extras"));
    Ok(QuestionnaireResponse {
        id: row.id,
        patient_id: PatientId(row.patient_id),
        instrument,
        completed_on: row.completed_on,
        answers,
        score: scored.score,
        grade: scored.grade,
        headache_days_3_months: small(row.headache_days_3_months)?,
        average_pain: small(row.average_pain)?,
        created_at: row.created_at,
    })
}

pub async fn insert(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    submission: &ValidSubmission,
) -> Result<QuestionnaireResponse, DbErr> {
    let answers = serde_json::to_string(&submission.answers)
        .map_err(|e| DbErr::Custom(format!("questionnaire answers: {e}")))?;
    let row = questionnaire_response::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id.0),
        instrument: Set(submission.instrument.as_str().to_owned()),
        completed_on: Set(submission.completed_on),
        answers: Set(answers),
        headache_days_3_months: Set(submission.headache_days_3_months.map(i16::from)),
        average_pain: Set(submission.average_pain.map(i16::from)),
        created_at: Set(super::now()),
    }
    .insert(db)
    .await?;
    to_response(row)
}

pub async fn get(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    id: Uuid,
) -> Result<Option<QuestionnaireResponse>, DbErr> {
    questionnaire_response::Entity::find_by_id(id)
        .filter(questionnaire_response::Column::PatientId.eq(patient_id.0))
        .one(db)
        .await?
        .map(to_response)
        .transpose()
}

/// `Ok(false)` when the patient has no such response.
pub async fn delete(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    id: Uuid,
) -> Result<bool, DbErr> {
    let result = questionnaire_response::Entity::delete_many()
        .filter(questionnaire_response::Column::Id.eq(id))
        .filter(questionnaire_response::Column::PatientId.eq(patient_id.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Which responses a list shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuestionnaireFilter {
    pub instrument: Option<Instrument>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// A patient's responses ordered by `completed_on`, then id, after the cursor `(date, id)`.
pub async fn list(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    filter: QuestionnaireFilter,
    after: Option<(NaiveDate, Uuid)>,
    limit: u64,
) -> Result<Vec<QuestionnaireResponse>, DbErr> {
    listing(patient_id, filter, after, limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_response)
        .collect()
}

fn listing(
    patient_id: PatientId,
    filter: QuestionnaireFilter,
    after: Option<(NaiveDate, Uuid)>,
    limit: u64,
) -> sea_orm::Select<questionnaire_response::Entity> {
    use questionnaire_response::Column;
    let mut query = questionnaire_response::Entity::find()
        .filter(Column::PatientId.eq(patient_id.0))
        .order_by_asc(Column::CompletedOn)
        .order_by_asc(Column::Id)
        .limit(limit);
    if let Some(instrument) = filter.instrument {
        query = query.filter(Column::Instrument.eq(instrument.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(Column::CompletedOn.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::CompletedOn.lte(to));
    }
    if let Some((date, id)) = after {
        query = query.filter(
            Condition::any().add(Column::CompletedOn.gt(date)).add(
                Condition::all()
                    .add(Column::CompletedOn.eq(date))
                    .add(Column::Id.gt(id)),
            ),
        );
    }
    query
}

/// Every response completed in `from..=to` (the window around a treatment).
pub async fn completed_between(
    db: &impl ConnectionTrait,
    patient_id: PatientId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<QuestionnaireResponse>, DbErr> {
    let (filter, limit) = completed_in(from, to);
    list(db, patient_id, filter, None, limit).await
}

/// [`completed_between`] as a read to send with others ([`super::reads::together`]).
pub fn completed_between_read(
    patient_id: PatientId,
    from: NaiveDate,
    to: NaiveDate,
) -> Read<QuestionnaireResponse> {
    let (filter, limit) = completed_in(from, to);
    Read::new(listing(patient_id, filter, None, limit), |row| {
        to_response(QuestionnaireRow::from_query_result(row, "")?)
    })
}

fn completed_in(from: NaiveDate, to: NaiveDate) -> (QuestionnaireFilter, u64) {
    let filter = QuestionnaireFilter {
        instrument: None,
        from: Some(from),
        to: Some(to),
    };
    // 181 days hold far fewer responses than this.
    (filter, 1000)
}
