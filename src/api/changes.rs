//! The changes feed of the patient app: what changed in a diary and its treatments since a
//! cursor, deletions included, so that every device of a patient converges on the server's
//! state (README, "Sync protocol"; the sequence behind it is in `store::changes`).

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::diary::DiaryEntry;
use super::extract::{ApiQuery, PatientPath};
use super::treatments::Treatment;
use crate::auth::{require_patient_access, Access, AuthUser};
use crate::domain::sync::{ChangeCursor, ChangePage};
use crate::domain::{Problems, TimeZone};
use crate::error::ApiResult;
use crate::service::sync::{self, Change};
use crate::state::AppState;

pub const DEFAULT_CHANGES_LIMIT: i64 = 500;
pub const MAX_CHANGES_LIMIT: i64 = 1000;

/// `?since&limit` of the changes feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `next_cursor` of the previous pull, as it was given; omit it, or leave it empty, for a
    /// first (full) pull. Any other value is a 422.
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

fn limit_param(limit: Option<i64>, problems: &mut Problems) -> u64 {
    let limit = limit.unwrap_or(DEFAULT_CHANGES_LIMIT);
    problems.check(
        (1..=MAX_CHANGES_LIMIT).contains(&limit),
        "limit",
        "must be between 1 and 1000",
    );
    limit.clamp(1, MAX_CHANGES_LIMIT) as u64
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
    params(PatientPath, ChangesParams),
    responses((status = 200, description = "The changes after the cursor", body = ChangeFeed)))]
pub(crate) async fn list_changes(
    State(state): State<AppState>,
    caller: AuthUser,
    PatientPath { patient_id }: PatientPath,
    ApiQuery(params): ApiQuery<ChangesParams>,
) -> ApiResult<Json<ChangeFeed>> {
    let (since, limit) = params.validate()?;
    let patient = require_patient_access(&state, caller, patient_id, Access::Read).await?;
    let page = sync::pull(&state.store, patient_id, since, limit).await?;
    Ok(Json(ChangeFeed::new(page, patient.timezone)))
}

impl ChangesParams {
    /// `(since, limit)`, or 422 naming each bad parameter.
    fn validate(&self) -> ApiResult<(Option<ChangeCursor>, u64)> {
        let mut problems = Problems::new();
        let limit = limit_param(self.limit, &mut problems);
        // `since=` (empty) is a first pull, as if absent: some clients send every parameter.
        let since = self
            .since
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(ChangeCursor::parse);
        problems.check(
            !matches!(since, Some(None)),
            "since",
            "is not a cursor of this feed",
        );
        problems.or_ok(())?;
        let since = since.flatten();
        Ok((since, limit))
    }
}

impl ChangeFeed {
    /// `tz` (the patient's) decides each treatment's `treatment_day`.
    fn new(page: ChangePage<Change>, tz: TimeZone) -> Self {
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
                Change::Entry(entry) => feed.diary_entries.push((*entry).into()),
                Change::DeletedDay(date) => feed.deleted_diary_dates.push(date),
                Change::Treatment(t) => feed.treatments.push(Treatment::new(*t, tz)),
                Change::DeletedTreatment(id) => feed.deleted_treatment_ids.push(id.0),
            }
        }
        feed
    }
}
