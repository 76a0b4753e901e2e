//! Strict `YYYY-MM-DD` dates in bodies, queries and paths (see [`crate::domain::calendar`]),
//! as serde `deserialize_with` helpers so the field types stay `NaiveDate`.

use chrono::NaiveDate;
use serde::de::{Deserialize, Deserializer, Error};

use crate::domain::calendar::parse_iso_date;

/// What a malformed date is told, in the API's words.
pub const DATE_MESSAGE: &str = "must be a calendar date `YYYY-MM-DD`";

/// A required date field.
pub fn iso_date<'de, D: Deserializer<'de>>(de: D) -> Result<NaiveDate, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(de)?;
    parse_iso_date(&text).ok_or_else(|| D::Error::custom(DATE_MESSAGE))
}

/// An optional date field (`#[serde(default, deserialize_with = "optional_iso_date")]`).
pub fn optional_iso_date<'de, D: Deserializer<'de>>(de: D) -> Result<Option<NaiveDate>, D::Error> {
    iso_date(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Range {
        #[serde(default, deserialize_with = "optional_iso_date")]
        from: Option<NaiveDate>,
        #[serde(deserialize_with = "iso_date")]
        to: NaiveDate,
    }

    #[test]
    fn query_and_body_dates_are_strict() {
        let q = |s: &str| serde_urlencoded::from_str::<Range>(s);
        let r = q("to=2026-09-09").unwrap();
        assert_eq!((r.from, r.to.to_string().as_str()), (None, "2026-09-09"));
        assert_eq!(
            q("from=2026-09-01&to=2026-09-09").unwrap().from,
            NaiveDate::from_ymd_opt(2026, 9, 1)
        );
        for bad in [
            "to=%2B2026-09-09",
            "to=2026-9-9",
            "to=%202026-09-09",
            "from=2026-9-1&to=2026-09-09",
        ] {
            let err = q(bad).unwrap_err().to_string();
            assert!(err.contains(DATE_MESSAGE), "{bad}: {err}");
        }
        let j = |s: &str| serde_json::from_str::<Range>(s);
        assert!(j(r#"{"to":"2026-09-09"}"#).is_ok());
        assert!(j(r#"{"to":"+2026-09-09"}"#).is_err());
        assert!(
            j(r#"{"to":"2026-09-09","from":null}"#).is_err(),
            "null is not a date"
        );
    }
}
