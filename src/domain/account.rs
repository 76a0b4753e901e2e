//! Accounts: roles and the rules an account's fields obey, as a parse-don't-validate
//! [`NewAccount`] that the API, the command line and the demo all build the same way.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problems::Problems;
use super::timezone::{TimeZone, TIMEZONE_MESSAGE};

pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns one diary; signs up through `/v1/auth/register`.
    Patient,
    /// Reads the diaries of patients who linked them and records their treatments.
    Clinician,
    /// Manages accounts; sees no health data.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Patient, Role::Clinician, Role::Admin];

    /// The serde name (`patient`, `clinician`, `admin`), also used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Clinician => "clinician",
            Self::Admin => "admin",
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
    check_password_as(password, "password", problems);
}

/// [`check_password`] for a field of another name (`new_password`).
pub fn check_password_as(password: &str, field: &str, problems: &mut Problems) {
    let n = password.chars().count();
    problems.check(
        (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n),
        field,
        format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
    );
}

/// A password given only to be checked against the stored one (current password,
/// confirmation of a deletion): no rule but the upper bound on what is hashed.
pub fn check_password_length(password: &str, field: &str, problems: &mut Problems) {
    problems.check(
        password.chars().count() <= MAX_PASSWORD_CHARS,
        field,
        format!("must be at most {MAX_PASSWORD_CHARS} characters"),
    );
}

/// Parses an IANA zone name; a problem on `field` when it is none.
pub fn parse_timezone(name: &str, field: &str, problems: &mut Problems) -> TimeZone {
    match TimeZone::parse(name) {
        Some(tz) => tz,
        None => {
            problems.add(field, TIMEZONE_MESSAGE);
            TimeZone::UTC
        }
    }
}

/// Trims a display name; blank becomes `None`.
pub fn normalize_display_name(raw: Option<String>, problems: &mut Problems) -> Option<String> {
    let name = raw.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())?;
    problems.check(
        name.chars().count() <= MAX_DISPLAY_NAME_CHARS,
        "display_name",
        format!("must be at most {MAX_DISPLAY_NAME_CHARS} characters"),
    );
    problems.check(
        !name.chars().any(char::is_control),
        "display_name",
        "must not contain control characters",
    );
    Some(name)
}

/// An account's fields as typed by someone (a sign-up form, `user create`, the demo).
#[derive(Clone)]
pub struct AccountDraft {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub timezone: String,
}

/// An account that obeys every rule: a normalized email, a password of acceptable length, a
/// clean display name and a real time zone. The password is still plain; hash it before storing.
#[derive(Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub timezone: TimeZone,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("email", &self.email)
            .field("role", &self.role)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl NewAccount {
    /// Checks every field at once.
    pub fn parse(draft: AccountDraft) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let account = Self::parse_into(draft, &mut problems);
        problems.or_ok(account)
    }

    /// A staff account (clinician or admin): as [`NewAccount::parse`], and patients are refused
    /// on `role` because they register themselves.
    pub fn parse_staff(draft: AccountDraft) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let account = Self::parse_into(draft, &mut problems);
        problems.check(
            account.role != Role::Patient,
            "role",
            "must be `clinician` or `admin`; patients register themselves",
        );
        problems.or_ok(account)
    }

    fn parse_into(draft: AccountDraft, problems: &mut Problems) -> Self {
        let email = normalize_email(&draft.email, problems);
        check_password(&draft.password, problems);
        let display_name = normalize_display_name(draft.display_name, problems);
        let timezone = parse_timezone(&draft.timezone, "timezone", problems);
        Self {
            email,
            password: draft.password,
            role: draft.role,
            display_name,
            timezone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", " Ana.Lopez+md@Clinic.Example.org "] {
            let mut p = Problems::new();
            normalize_email(ok, &mut p);
            assert!(p.is_empty(), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@b..co"] {
            let mut p = Problems::new();
            normalize_email(bad, &mut p);
            assert_eq!(p.len(), 1, "{bad}");
        }
        let mut p = Problems::new();
        assert_eq!(normalize_email(" A@B.Co ", &mut p), "a@b.co");
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        let mut p = Problems::new();
        check_password("ääääääää", &mut p);
        check_password(&"x".repeat(256), &mut p);
        assert!(p.is_empty());
        check_password("1234567", &mut p);
        check_password(&"x".repeat(257), &mut p);
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn timezones_are_iana_names() {
        let mut p = Problems::new();
        parse_timezone("America/Chicago", "timezone", &mut p);
        parse_timezone("UTC", "timezone", &mut p);
        assert!(p.is_empty());
        parse_timezone("Mars/Olympus", "timezone", &mut p);
        assert_eq!(p.iter().next().unwrap().field, "timezone");
    }

    fn draft(role: Role) -> AccountDraft {
        AccountDraft {
            email: " Kim@Clinic.Example ".into(),
            password: "long-enough".into(),
            role,
            display_name: Some("  Dr Kim ".into()),
            timezone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn a_new_account_is_normalized_and_staff_are_not_patients() {
        let a = NewAccount::parse(draft(Role::Patient)).unwrap();
        assert_eq!(a.email, "kim@clinic.example");
        assert_eq!(a.display_name.as_deref(), Some("Dr Kim"));
        assert_eq!(a.timezone.name(), "Europe/Berlin");
        assert!(!format!("{a:?}").contains("long-enough"));
        let refused = NewAccount::parse_staff(draft(Role::Patient)).unwrap_err();
        assert_eq!(refused.iter().next().unwrap().field, "role");
        assert!(NewAccount::parse_staff(draft(Role::Clinician)).is_ok());
    }
}
