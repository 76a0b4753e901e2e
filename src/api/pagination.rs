//! `?limit=&cursor=` lists: `{items, next_cursor}`. Cursors are opaque to clients (base64url of
//! the last item's sort key) and keyset-based, so pages stay stable while rows are added.

use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::Problems;
use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// Paging parameters shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(nullable = false)]
    pub cursor: Option<String>,
}

/// A validated page request; `after` is the decoded cursor.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<String>,
}

impl PageParams {
    /// Validates `limit` and decodes `cursor`; what is wrong is added to `problems`.
    pub fn validate(&self, problems: &mut Problems) -> PageRequest {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            problems.add("limit", "must be between 1 and 1000");
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => match decode_cursor(c) {
                Some(key) => Some(key),
                None => {
                    problems.add("cursor", "is not a cursor of this list");
                    None
                }
            },
        };
        PageRequest {
            limit: limit.clamp(1, MAX_LIMIT) as u64,
            after,
        }
    }

    pub fn into_request(self) -> Result<PageRequest, ApiError> {
        let mut problems = Problems::new();
        let page = self.validate(&mut problems);
        Ok(problems.or_ok(page)?)
    }
}

impl PageRequest {
    /// The cursor as the id of the last item seen (lists ordered by id).
    pub fn after_id(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.after
            .as_deref()
            .map(|key| {
                uuid::Uuid::parse_str(key)
                    .map_err(|_| ApiError::validation("cursor", "is not a cursor of this list"))
            })
            .transpose()
    }
}

pub fn encode_cursor(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Cuts up to `limit + 1` fetched rows into a page: the extra row only says there is more.
/// Returns the page's items and its `next_cursor`.
pub fn paginate<R, T>(
    mut rows: Vec<R>,
    limit: u64,
    key: impl Fn(&R) -> String,
    map: impl FnMut(R) -> T,
) -> (Vec<T>, Option<String>) {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if has_more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    (rows.into_iter().map(map).collect(), next_cursor)
}
