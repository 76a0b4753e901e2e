//! MIDAS and HIT-6 questionnaires: the patient submits answers by item number; the service
//! scores and grades them (`domain::questionnaire`). HIT-6 item text is never stored or shipped.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dates::{iso_date, optional_iso_date};
use super::extract::{ApiJson, ApiQuery, PatientPath, QuestionnairePath};
use super::pagination::{paginate, PageParams};
use super::validate::{integral_option, Integer};
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::entry::EARLIEST_DATE;
use crate::domain::questionnaire::{self, Instrument, QuestionnaireResponse, Submission};
use crate::domain::Problems;
use crate::error::{ApiError, ApiResult};
use crate::service::today_in;
use crate::state::AppState;
use crate::store::questionnaires::{self as store, QuestionnaireFilter};

/// A completed questionnaire, answers by item number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireInput {
    /// Which questionnaire was answered.
    pub instrument: Instrument,
    /// The patient-local day it was completed; not after today, not before 2000-01-01 (the
    /// pattern states the year; "not after today" moves, so only this text says it).
    #[serde(deserialize_with = "iso_date")]
    #[schema(pattern = "^2[0-9]{3}-[0-9]{2}-[0-9]{2}$")]
    pub completed_on: NaiveDate,
    /// In item order. `midas`: exactly 5 numbers of days, 0–90 each. `hit6`: exactly 6 answer
    /// codes, 1 (never), 2 (rarely), 3 (sometimes), 4 (very often), 5 (always).
    #[schema(schema_with = questionnaire::answers_schema)]
    pub answers: Vec<Integer>,
    /// `midas` only, optional: headache days in the last 3 months, 0–90 (kept, not scored).
    #[serde(default, deserialize_with = "integral_option")]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 90, nullable = false)]
    pub headache_days_3_months: Option<i64>,
    /// `midas` only, optional: average pain on those days, 0–10 (kept, not scored).
    #[serde(default, deserialize_with = "integral_option")]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10, nullable = false)]
    pub average_pain: Option<i64>,
}

/// One page of responses, ordered by `completed_on`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionnaireResponseList {
    /// The responses of this page.
    pub items: Vec<QuestionnaireResponse>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(value_type = Option<String>, required = true)]
    pub next_cursor: Option<String>,
}

/// `?instrument&from&to&limit&cursor`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionnaireListParams {
    /// Only this instrument.
    #[param(nullable = false)]
    pub instrument: Option<Instrument>,
    /// Completed on or after this patient-local date.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub from: Option<NaiveDate>,
    /// Completed on or before this date; not before `from`.
    #[serde(default, deserialize_with = "optional_iso_date")]
    #[param(nullable = false)]
    pub to: Option<NaiveDate>,
    /// Page size, 1–1000 (default 100).
    #[param(value_type = Option<i32>, minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page, as it was given (opaque, URL-safe base64); omit
    /// it, or leave it empty, for the first page. Any other value is a 422.
    #[param(nullable = false, pattern = "^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found("No such questionnaire response for this patient.")
}

fn decode_key(key: &str) -> Option<ListKey> {
    let (date, id) = key.split_once('|')?;
    Some((
        NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
        Uuid::parse_str(id).ok()?,
    ))
}

/// A list's sort key: `(completed_on, id)`.
type ListKey = (NaiveDate, Uuid);

/// Validates the list parameters: `(filter, cursor key, limit)`.
fn list_request(
    params: QuestionnaireListParams,
) -> ApiResult<(QuestionnaireFilter, Option<ListKey>, u64)> {
    let mut problems = Problems::new();
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .validate(&mut problems);
    if let (Some(from), Some(to)) = (params.from, params.to) {
        problems.check(from <= to, "from", "must not be after `to`");
    }
    let after = page.after.as_deref().map(decode_key);
    problems.check(
        !matches!(after, Some(None)),
        "cursor",
        "is not a cursor of this list",
    );
    problems.or_ok(())?;
    let filter = QuestionnaireFilter {
        instrument: params.instrument,
        from: params.from,
        to: params.to,
    };
    Ok((filter, after.flatten(), page.limit))
}

/// List questionnaire responses
///
/// The patient or a linked clinician. Scored responses ordered by `completed_on`, optionally of
/// one instrument and within `from` … `to` (inclusive), paginated.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/questionnaires", tag = "questionnaires",
    operation_id = "listQuestionnaireResponses",
    security(("bearer" = [])),
    params(PatientPath, QuestionnaireListParams),
    responses((status = 200, description = "A page of responses", body = QuestionnaireResponseList)))]
pub(crate) async fn list_questionnaires(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<QuestionnaireListParams>,
) -> ApiResult<Json<QuestionnaireResponseList>> {
    let (filter, after, limit) = list_request(params)?;
    let db = &state.store.db;
    require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let rows = store::list(db, patient_id, filter, after, limit + 1).await?;
    let (items, next_cursor) = paginate(
        rows,
        limit,
        |r| format!("{}|{}", r.completed_on.format("%Y-%m-%d"), r.id),
        |r| r,
    );
    Ok(Json(QuestionnaireResponseList { items, next_cursor }))
}

/// Submit a questionnaire
///
/// Patient only. Scores and grades the answers: MIDAS score = sum of items 1–5 (0–450), grade
/// I–IV; HIT-6 answers 1–5 are worth 6, 8, 10, 11, 13 points (score 36–78), graded
/// `little_or_none` … `severe`. Every broken rule is 422 naming the field (`answers[3]`).
#[utoipa::path(post, path = "/v1/patients/{patient_id}/questionnaires", tag = "questionnaires",
    operation_id = "submitQuestionnaire",
    security(("bearer" = [])),
    params(PatientPath),
    request_body = QuestionnaireInput,
    responses((status = 201, description = "Scored and saved", body = QuestionnaireResponse)))]
pub(crate) async fn submit_questionnaire(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiJson(input): ApiJson<QuestionnaireInput>,
) -> ApiResult<(StatusCode, Json<QuestionnaireResponse>)> {
    let patient = require_patient_access(&state, caller, patient_id, Access::PatientOnly).await?;
    let submission = Submission {
        instrument: input.instrument,
        completed_on: input.completed_on,
        answers: input.answers.into_iter().map(|a| a.0).collect(),
        headache_days_3_months: input.headache_days_3_months,
        average_pain: input.average_pain,
    };
    let valid = questionnaire::validate(&submission, today_in(patient.timezone), EARLIEST_DATE)?;
    let txn = state.store.begin_write().await?;
    let saved = store::insert(&*txn, patient_id, &valid).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// Get a questionnaire response
#[utoipa::path(get, path = "/v1/patients/{patient_id}/questionnaires/{response_id}", tag = "questionnaires",
    operation_id = "getQuestionnaireResponse",
    security(("bearer" = [])),
    params(QuestionnairePath),
    responses((status = 200, description = "The scored response", body = QuestionnaireResponse)))]
pub(crate) async fn get_questionnaire(
    State(state): State<AppState>,
    caller: AuthUser,
    QuestionnairePath {
        patient_id,
        response_id,
    }: QuestionnairePath,
) -> ApiResult<Json<QuestionnaireResponse>> {
    let db = &state.store.db;
    require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let response = store::get(db, patient_id, response_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(response))
}

/// Delete a questionnaire response
///
/// Patient only.
#[utoipa::path(delete, path = "/v1/patients/{patient_id}/questionnaires/{response_id}", tag = "questionnaires",
    operation_id = "deleteQuestionnaireResponse",
    security(("bearer" = [])),
    params(QuestionnairePath),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_questionnaire(
    State(state): State<AppState>,
    caller: AuthUser,
    QuestionnairePath {
        patient_id,
        response_id,
    }: QuestionnairePath,
) -> ApiResult<StatusCode> {
    require_patient_access(&state, caller, patient_id, Access::PatientOnly).await?;
    let txn = state.store.begin_write().await?;
    if !store::delete(&*txn, patient_id, response_id).await? {
        return Err(not_found());
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
