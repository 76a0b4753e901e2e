//! The patient's IANA time zone: every diary day and treatment day is a calendar day in it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// A valid IANA time zone name (`Europe/Berlin`, `UTC`), parsed once at the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeZone(Tz);

/// The message for a zone name that does not parse.
pub const TIMEZONE_MESSAGE: &str = "must be an IANA time zone name such as `Europe/Berlin`";

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(chrono_tz::UTC);

    pub fn parse(name: &str) -> Option<Self> {
        Tz::from_str(name).ok().map(Self)
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The calendar day that `now` falls on in this zone: "today" for the patient. The caller
    /// passes the clock, so the domain stays testable.
    pub fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }
}

impl From<Tz> for TimeZone {
    fn from(tz: Tz) -> Self {
        Self(tz)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_parse_and_others_do_not() {
        assert!(TimeZone::parse("America/Chicago").is_some());
        assert!(TimeZone::parse("UTC").is_some());
        assert!(TimeZone::parse("Mars/Olympus").is_none());
    }

    #[test]
    fn today_is_the_local_date() {
        let now: DateTime<Utc> = "2026-06-10T05:30:00Z".parse().unwrap();
        let la = TimeZone::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.today(now).to_string(), "2026-06-09");
        assert_eq!(TimeZone::UTC.today(now).to_string(), "2026-06-10");
    }
}
