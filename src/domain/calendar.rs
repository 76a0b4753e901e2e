//! Calendar dates as the API writes them: exactly `YYYY-MM-DD`.
//!
//! chrono's own parser is lenient: it takes `+2026-09-09`, `2026-9-9` and ` 2026-09-09` as the
//! same day, so one diary day would have several URLs and a client bug would pass unnoticed.

use chrono::NaiveDate;

/// The JSON Schema `pattern` of a date the API accepts.
pub const ISO_DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// `YYYY-MM-DD` with four-digit year and two-digit month and day, nothing before or after;
/// `None` for any other text or for a day that does not exist (`2026-02-30`).
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn only_the_canonical_form_is_a_date() {
        assert_eq!(
            parse_iso_date("2026-09-09"),
            NaiveDate::from_ymd_opt(2026, 9, 9)
        );
        assert_eq!(
            parse_iso_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "+2026-09-09",
            "2026-9-9",
            " 2026-09-09",
            "2026-09-09 ",
            "2026-09-9",
            "20260909",
            "2026/09/09",
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "２０２６-09-09",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_day_round_trips() {
        let mut day = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap();
        while day.year() < 2031 {
            let text = day.format("%Y-%m-%d").to_string();
            assert_eq!(parse_iso_date(&text), Some(day), "{text}");
            day = day.succ_opt().unwrap();
        }
    }
}
