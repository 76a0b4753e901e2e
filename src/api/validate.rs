//! Field rules shared by several resources (API.md "Conventions"); each broken rule becomes a
//! [`FieldError`] naming the field, and all of a request's problems are reported at once.

use std::str::FromStr;

use crate::error::{ApiError, FieldError};

pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
pub const MAX_PASSWORD_CHARS: usize = 256;
/// IANA names are at most about 30 characters; anything longer is not one.
pub const MAX_TIMEZONE_CHARS: usize = 64;
/// Refresh tokens are 43 characters; the limit only keeps junk out.
pub const MAX_TOKEN_CHARS: usize = 256;

/// Characters that reorder how text around them is displayed (bidi embeddings, overrides,
/// isolates and marks): in a name they can make "Dr Kim" read as something else.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Collects the problems of one request.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// `Err(422)` listing every problem, or `Ok` when there is none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// Trims and lower-cases an email; checks it has the shape of an address.
pub fn normalize_email(raw: &str, problems: &mut Problems) -> String {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && domain
                    .split('.')
                    .all(|label| !label.is_empty() && label.len() <= 63)
                && !domain.starts_with('-')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    problems.check(valid, "email", "must be a valid email address");
    email
}

/// NIST SP 800-63B: 8–256 characters, no composition rules.
pub fn check_password(password: &str, problems: &mut Problems) {
    let n = password.chars().count();
    problems.check(
        (8..=256).contains(&n),
        "password",
        "must be 8 to 256 characters",
    );
}

pub fn check_timezone(tz: &str, field: &str, problems: &mut Problems) {
    problems.check(
        tz.len() <= MAX_TIMEZONE_CHARS && chrono_tz::Tz::from_str(tz).is_ok(),
        field,
        "must be an IANA time zone name such as `Europe/Berlin`",
    );
}

/// Trims a display name; blank becomes `None`.
pub fn normalize_display_name(raw: Option<String>, problems: &mut Problems) -> Option<String> {
    let name = raw.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())?;
    problems.check(
        name.chars().count() <= MAX_DISPLAY_NAME_CHARS,
        "display_name",
        "must be at most 100 characters",
    );
    problems.check(
        !name.chars().any(char::is_control),
        "display_name",
        "must not contain control characters",
    );
    problems.check(
        !name.chars().any(is_bidi_control),
        "display_name",
        "must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, marks)",
    );
    Some(name)
}

/// Checks an optional free-text field against a length limit.
pub fn check_text(value: Option<&str>, field: &str, max_chars: usize, problems: &mut Problems) {
    if let Some(text) = value {
        problems.check(
            text.chars().count() <= max_chars,
            field,
            format!("must be at most {max_chars} characters"),
        );
        // PostgreSQL cannot store NUL in text; no diary needs it.
        problems.check(
            !text.contains('\0'),
            field,
            "must not contain NUL characters",
        );
    }
}

/// A required non-blank text of at most `max_chars` characters.
pub fn check_required_text(value: &str, field: &str, max_chars: usize, problems: &mut Problems) {
    problems.check(!value.trim().is_empty(), field, "must not be blank");
    check_text(Some(value), field, max_chars, problems);
}

/// Deserializes a field that distinguishes absent (`None`) from `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

/// Deserializes an integer also when it is written with a zero fraction (`7.0`): JSON Schema's
/// `integer` admits such numbers, and some JSON encoders write whole floats that way.
pub fn integral<'de, D>(de: D) -> Result<i64, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::{Error, Unexpected};
    /// Beyond 2^53 a float no longer holds every integer exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let number = <serde_json::Number as serde::Deserialize>::deserialize(de)?;
    if let Some(i) = number.as_i64() {
        return Ok(i);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Ok(f as i64),
        Some(f) => Err(D::Error::invalid_type(Unexpected::Float(f), &"an integer")),
        None => Err(D::Error::custom("expected an integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Pain {
        #[serde(deserialize_with = "integral")]
        n: i64,
    }

    #[test]
    fn integers_may_have_a_zero_fraction() {
        let n = |json: &str| serde_json::from_str::<Pain>(json).map(|p| p.n).ok();
        assert_eq!(n(r#"{"n":7}"#), Some(7));
        assert_eq!(n(r#"{"n":7.0}"#), Some(7));
        assert_eq!(n(r#"{"n":-1}"#), Some(-1));
        assert_eq!(n(r#"{"n":7.5}"#), None);
        assert_eq!(n(r#"{"n":"7"}"#), None);
        assert_eq!(n(r#"{"n":1e300}"#), None);
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", " Ana.Lopez+md@Clinic.Example.org "] {
            let mut p = Problems::new();
            normalize_email(ok, &mut p);
            assert!(p.0.is_empty(), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@b..co"] {
            let mut p = Problems::new();
            normalize_email(bad, &mut p);
            assert_eq!(p.0.len(), 1, "{bad}");
        }
        let mut p = Problems::new();
        assert_eq!(normalize_email(" A@B.Co ", &mut p), "a@b.co");
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        let mut p = Problems::new();
        check_password("ääääääää", &mut p);
        check_password(&"x".repeat(256), &mut p);
        assert!(p.0.is_empty());
        check_password("1234567", &mut p);
        check_password(&"x".repeat(257), &mut p);
        assert_eq!(p.0.len(), 2);
    }

    #[test]
    fn names_with_bidi_controls_are_refused() {
        for bad in [
            "Dr \u{202E}miK",
            "a\u{2066}b\u{2069}",
            "x\u{200F}y",
            "\u{202A}z",
        ] {
            let mut p = Problems::new();
            normalize_display_name(Some(bad.into()), &mut p);
            assert_eq!(p.0.len(), 1, "{bad:?}");
            assert_eq!(p.0[0].field, "display_name");
        }
        let mut p = Problems::new();
        assert_eq!(
            normalize_display_name(Some(" Ana López شريف ".into()), &mut p).as_deref(),
            Some("Ana López شريف")
        );
        assert!(p.0.is_empty());
    }

    #[test]
    fn timezones_are_iana_names() {
        let mut p = Problems::new();
        check_timezone("America/Chicago", "timezone", &mut p);
        check_timezone("UTC", "timezone", &mut p);
        assert!(p.0.is_empty());
        check_timezone("Mars/Olympus", "timezone", &mut p);
        assert_eq!(p.0[0].field, "timezone");
    }
}
