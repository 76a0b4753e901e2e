//! The changes feed of the patient app: what changed in a diary and its treatments since a
//! cursor, deletions included, so that every device of a patient converges on the server's
//! state (README, "Sync protocol"; the sequence behind it is in `store::changes`).

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::diary::DiaryEntry;
use super::extract::{ApiPath, ApiQuery};
use super::treatments::{patient_tz, Treatment};
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::sync::{cut_page, ChangeCursor};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::changes;
use crate::AppState;

pub const DEFAULT_CHANGES_LIMIT: i64 = 500;
pub const MAX_CHANGES_LIMIT: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_changes))
}

/// `?since&limit` of the changes feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `next_cursor` of the previous pull; omit for a first (full) pull.
    #[param(nullable = false)]
    pub since: Option<String>,
    /// Most items in the four lists together, 1–1000 (default 500).
    #[param(value_type = Option<i32>, minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
}

/// What changed after `since`: each entry and treatment once, in its latest state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangeFeed {
    /// Diary days written (created or changed) since the cursor, in their current state.
    pub diary_entries: Vec<DiaryEntry>,
    /// Days whose entry was deleted since the cursor (and not written again). A first pull
    /// (without `since`) lists none.
    pub deleted_diary_dates: Vec<NaiveDate>,
    /// Treatments recorded or changed since the cursor, in their current state.
    pub treatments: Vec<Treatment>,
    /// Treatments deleted since the cursor. A first pull lists none.
    pub deleted_treatment_ids: Vec<Uuid>,
    /// Store it and pass it as `since` next time; it stays valid forever.
    pub next_cursor: String,
    /// More changes are waiting: pull again at once with `next_cursor`.
    pub has_more: bool,
}

/// One listed change.
enum Change {
    Entry(Box<DiaryEntry>),
    DeletedDay(NaiveDate),
    Treatment(Box<Treatment>),
    DeletedTreatment(Uuid),
}

fn limit_param(limit: Option<i64>, errors: &mut Vec<FieldError>) -> u64 {
    let limit = limit.unwrap_or(DEFAULT_CHANGES_LIMIT);
    if !(1..=MAX_CHANGES_LIMIT).contains(&limit) {
        errors.push(FieldError::new("limit", "must be between 1 and 1000"));
    }
    limit.clamp(1, MAX_CHANGES_LIMIT) as u64
}

fn not_a_cursor() -> FieldError {
    FieldError::new("since", "is not a cursor of this feed")
}

/// Pull changes
///
/// The patient or a linked clinician. Lists what changed after the cursor `since` (absent: the
/// whole diary and every treatment, without deletions): entries and treatments in their latest
/// state, each once, and the days and treatments deleted since. A day deleted and written again
/// appears only as written. `limit` caps the four lists together; when `has_more` is true, pull
/// again at once with `next_cursor`. Cursors come from the server's change sequence (not from
/// clocks) and stay valid forever.
#[utoipa::path(get, path = "/v1/patients/{patient_id}/changes", tag = "sync", operation_id = "listChanges",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The patient"), ChangesParams),
    responses((status = 200, description = "The changes after the cursor", body = ChangeFeed)))]
async fn list_changes(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<ChangesParams>,
) -> ApiResult<Json<ChangeFeed>> {
    let mut errors = Vec::new();
    let limit = limit_param(params.limit, &mut errors);
    let since = match params.since.as_deref().map(ChangeCursor::parse) {
        None => None,
        Some(Some(cursor)) => Some(cursor),
        Some(None) => {
            errors.push(not_a_cursor());
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let db = &state.store.db;
    let patient = require_patient_access(db, caller, patient_id, Access::Read).await?;
    let feed = pull(db, patient_id, since, limit, patient_tz(&patient)).await?;
    Ok(Json(feed))
}

/// Reads the changes after `since` up to the committed counter and cuts one page.
async fn pull(
    db: &impl sea_orm::ConnectionTrait,
    patient_id: Uuid,
    since: Option<ChangeCursor>,
    limit: u64,
    tz: chrono_tz::Tz,
) -> ApiResult<ChangeFeed> {
    let upper = changes::last(db, patient_id).await?;
    if since.is_some_and(|c| c.0 > upper) {
        return Err(ApiError::Validation(vec![not_a_cursor()]));
    }
    // Rows older than the feed carry number 0: a first pull starts below it.
    let after = since.map_or(-1, |c| c.0);
    let rows = changes::read(db, patient_id, after, upper, limit + 1, since.is_some()).await?;
    let mut listed: Vec<(i64, Change)> = Vec::new();
    for row in rows.diary_entries {
        let seq = row.change_seq;
        listed.push((seq, Change::Entry(Box::new(DiaryEntry::from_row(row)?))));
    }
    for row in rows.treatments {
        let seq = row.change_seq;
        listed.push((
            seq,
            Change::Treatment(Box::new(Treatment::from_row(row, tz)?)),
        ));
    }
    listed.extend(
        rows.deleted_days
            .into_iter()
            .map(|t| (t.change_seq, Change::DeletedDay(t.entry_date))),
    );
    listed.extend(
        rows.deleted_treatments
            .into_iter()
            .map(|t| (t.change_seq, Change::DeletedTreatment(t.treatment_id))),
    );
    let page = cut_page(listed, limit as usize, upper.max(0));
    let mut feed = ChangeFeed {
        diary_entries: Vec::new(),
        deleted_diary_dates: Vec::new(),
        treatments: Vec::new(),
        deleted_treatment_ids: Vec::new(),
        next_cursor: page.next.encode(),
        has_more: page.has_more,
    };
    for change in page.items {
        match change {
            Change::Entry(entry) => feed.diary_entries.push(*entry),
            Change::DeletedDay(date) => feed.deleted_diary_dates.push(date),
            Change::Treatment(treatment) => feed.treatments.push(*treatment),
            Change::DeletedTreatment(id) => feed.deleted_treatment_ids.push(id),
        }
    }
    Ok(feed)
}
