//! The application's use cases, between the HTTP handlers and the store: each function takes
//! plain values and the store, applies the domain's rules and returns domain values or an
//! [`ApiError`](crate::error::ApiError) variant that names the failure (not found, conflict,
//! invalid field). Nothing here knows of requests, headers or status codes; `crate::api` maps.
//!
//! This is also the one place that reads the clock for "today" ([`today_in`]).

pub mod accounts;
pub mod care_team;
pub mod diary;
pub mod erasure;
pub mod export;
pub mod outcomes;
pub mod password_reset;
pub mod patients;
pub mod record;
pub mod sessions;
pub mod sync;

use chrono::{NaiveDate, Utc};

use crate::domain::TimeZone;

/// Today in `tz`: for a patient, their own calendar day (diary dates, default ranges).
pub fn today_in(tz: TimeZone) -> NaiveDate {
    tz.today(Utc::now())
}
