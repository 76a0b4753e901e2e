//! What is wrong with a value from outside, field by field. The domain's constructors collect
//! every problem of an input at once (so a form can show them all); the HTTP layer turns the
//! list into one 422, the command line into one message.

/// One broken rule: the field (a path such as `entries[3].date`) and what is wrong, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The problems of one input, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn check(&mut self, ok: bool, field: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Appends another input's problems, e.g. one entry's within a batch.
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    /// The same problems with `prefix` before each field (`entries[3].` + `date`).
    pub fn prefixed(self, prefix: &str) -> Problems {
        Problems(
            self.0
                .into_iter()
                .map(|p| FieldProblem {
                    field: format!("{prefix}{}", p.field),
                    message: p.message,
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldProblem> {
        self.0.iter()
    }

    /// `Err(self)` when there is any problem, else `Ok(value)`.
    pub fn or_ok<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// `field message; field message`, for the command line.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|p| format!("{} {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl IntoIterator for Problems {
    type Item = FieldProblem;
    type IntoIter = std::vec::IntoIter<FieldProblem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Checks an optional free-text field against a length limit (in characters, not bytes).
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
