//! serde's error messages in the API's words.
//!
//! serde and its formats describe a mismatch with Rust names: "invalid type: sequence, expected
//! struct DiaryEntryInput", "expected u8", "expected a formatted date and time string or a unix
//! timestamp". A client knows the document, not the server's types, so a 422 says what the
//! field must be instead ("must be an object", "must be an integer from the stated range").

/// Rewrites one serde (serde_json, serde_urlencoded, chrono, uuid) message for a field.
pub fn plain(message: &str) -> String {
    let message = message.trim();
    // Our own `deserialize_with` helpers already speak the API's language.
    if message.starts_with("must ") || message.starts_with("is ") {
        return message.to_owned();
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return match rest.split_once(", expected one of ") {
            Some((_, values)) => format!("must be one of {values}"),
            None => "is not an allowed value".to_owned(),
        };
    }
    if message.starts_with("invalid type: null") {
        return "must not be null".to_owned();
    }
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        let out_of_range = message.starts_with("invalid value: ")
            && (rest.starts_with("integer") || rest.starts_with("floating point"));
        return if out_of_range {
            "is out of the allowed range".to_owned()
        } else {
            expectation(expected)
        };
    }
    if message.starts_with("invalid length ") {
        return "has the wrong number of items".to_owned();
    }
    if let Some(expected) = message.strip_prefix("expected ") {
        return expectation(expected);
    }
    if is_integer_parse_error(message) {
        return "must be an integer".to_owned();
    }
    if message == "invalid float literal" {
        return "must be a number".to_owned();
    }
    if message.contains("`true` or `false`") {
        return "must be true or false".to_owned();
    }
    if is_uuid_error(message) {
        return "must be a UUID".to_owned();
    }
    if is_chrono_error(message) {
        return "must be an RFC 3339 date-time with an offset, e.g. `2026-09-09T14:30:00+02:00`"
            .to_owned();
    }
    "has the wrong type or value".to_owned()
}

/// What an "expected …" part asks for, without Rust type names.
fn expectation(expected: &str) -> String {
    let e = expected.trim();
    let words = if e.starts_with("struct ") || e == "a map" || e == "map" {
        "must be an object"
    } else if e.starts_with("a sequence") || e == "sequence" || e.starts_with("an array") {
        "must be an array"
    } else if e == "a string" || e == "string" || e == "a borrowed string" {
        "must be a string"
    } else if e == "a boolean" || e == "bool" {
        "must be true or false"
    } else if e.starts_with("an integer") || is_rust_integer(e) {
        "must be an integer"
    } else if e == "f64" || e == "f32" || e.starts_with("a number") || e == "a JSON number" {
        "must be a number"
    } else if e.contains("date and time") || e.contains("RFC 3339") {
        "must be an RFC 3339 date-time with an offset, e.g. `2026-09-09T14:30:00+02:00`"
    } else if e.contains("UUID") {
        "must be a UUID"
    } else if e.starts_with("enum ") || e.starts_with("unit variant") || e.starts_with("variant") {
        "must be one of the values the document lists"
    } else {
        "has the wrong type or value"
    };
    words.to_owned()
}

fn is_rust_integer(e: &str) -> bool {
    matches!(
        e,
        "i8" | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "isize"
    )
}

fn is_integer_parse_error(message: &str) -> bool {
    matches!(
        message,
        "invalid digit found in string"
            | "cannot parse integer from empty string"
            | "number too large to fit in target type"
            | "number too small to fit in target type"
    )
}

fn is_uuid_error(message: &str) -> bool {
    message.contains("urn:uuid:")
        || message.starts_with("invalid group")
        || message.starts_with("invalid length: expected length")
        || message.starts_with("invalid character: expected")
}

/// chrono's `ParseError` texts.
fn is_chrono_error(message: &str) -> bool {
    matches!(
        message,
        "input contains invalid characters"
            | "premature end of input"
            | "trailing input"
            | "input is out of range"
            | "input is not enough for unique date and time"
            | "no possible date and time matching input"
            | "bad or unsupported format string"
    )
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn rust_names_never_reach_a_client() {
        for (serde, api) in [
            (
                "invalid type: sequence, expected struct DiaryEntryInput",
                "must be an object",
            ),
            ("invalid type: null, expected struct HeadacheFeatures", "must not be null"),
            ("invalid type: string \"7\", expected an integer", "must be an integer"),
            ("invalid type: integer `5`, expected a string", "must be a string"),
            ("invalid type: map, expected a sequence", "must be an array"),
            ("invalid type: string \"x\", expected a boolean", "must be true or false"),
            ("invalid value: integer `-1`, expected u8", "is out of the allowed range"),
            ("invalid type: floating point `1.5`, expected i64", "must be an integer"),
            (
                "unknown variant `often`, expected one of `none`, `mild`",
                "must be one of `none`, `mild`",
            ),
            ("invalid digit found in string", "must be an integer"),
            ("cannot parse integer from empty string", "must be an integer"),
            ("invalid float literal", "must be a number"),
            (
                "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `z` at 1",
                "must be a UUID",
            ),
            ("must be a calendar date `YYYY-MM-DD`", "must be a calendar date `YYYY-MM-DD`"),
            ("something else entirely: expected Foo", "has the wrong type or value"),
        ] {
            assert_eq!(plain(serde), api, "{serde}");
        }
        assert!(plain("premature end of input").starts_with("must be an RFC 3339 date-time"));
        assert!(plain(
            "invalid type: string \"x\", expected a formatted date and time string or a unix timestamp"
        )
        .starts_with("must be an RFC 3339 date-time"));
    }
}
