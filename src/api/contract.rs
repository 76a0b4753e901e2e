//! Document-wide rules that generated clients rely on, applied once to the finished document
//! (after every route and the problem responses are in), so that every operation follows them,
//! including ones added later:
//!
//! - An integer whose stated range fits in 32 bits is `format: int32` (a Rust `i64` field with
//!   `minimum`/`maximum` of 0–10 would otherwise be int64: `Long` in Kotlin, `int64` in Go).
//! - A `format: date` string states the `pattern` the server enforces (`YYYY-MM-DD` exactly,
//!   see [`crate::domain::calendar`]) unless it states a narrower one.
//! - String enums carry `x-enum-varnames` where a value would make a bad constant name: a value
//!   starting with a digit (`28d`), or one that another enum also has (`other`); generators such
//!   as Go's put every enum's constants in one namespace, so two `OTHER`s do not compile.
//!
//! The unit tests below check the whole document for both rules, so a new enum that collides
//! fails `cargo test` with the names to add to [`ENUM_VARNAMES`].

use serde_json::Value;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ArrayItems, KnownFormat, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Number;

use crate::domain::calendar::ISO_DATE_PATTERN;

/// Constant names for enum values whose default name (the value in upper case) is unusable.
/// Each schema listed gets `x-enum-varnames` for all its values, in order.
const ENUM_VARNAMES: &[(&str, &[(&str, &str)])] = &[
    ("MedicationClass", &[("other", "OTHER_MEDICATION")]),
    ("TreatmentKind", &[("other", "OTHER_TREATMENT")]),
    ("Period", &[("28d", "DAYS_28")]),
];

/// Applies the rules above to `doc`.
pub fn apply(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if let RefOr::T(Schema::Object(object)) = schema {
                if let Some((_, names)) = ENUM_VARNAMES.iter().find(|(n, _)| n == name) {
                    if let Some(values) = &object.enum_values {
                        let varnames: Vec<Value> = values
                            .iter()
                            .map(|v| Value::String(enum_varname(v, names)))
                            .collect();
                        object
                            .extensions
                            .get_or_insert_with(Extensions::default)
                            .insert("x-enum-varnames".into(), Value::Array(varnames));
                    }
                }
            }
            visit(schema, &mut tighten);
        }
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                for header in response.headers.values_mut() {
                    if let RefOr::T(header) = header {
                        if let Some(schema) = header.schema.as_mut() {
                            visit(schema, &mut tighten);
                        }
                    }
                }
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        for operation in operations_mut(item) {
            visit_operation(operation, &mut tighten);
        }
    }
}

/// The operations of a path item (the methods this API uses).
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// The constant name of one enum value: the override, or the value in upper case.
fn enum_varname(value: &Value, overrides: &[(&str, &str)]) -> String {
    let text = value.as_str().unwrap_or_default();
    overrides
        .iter()
        .find(|(v, _)| *v == text)
        .map_or_else(|| default_varname(text), |(_, name)| (*name).to_owned())
}

/// What generators make of a value without `x-enum-varnames`: upper case, `_` for the rest.
fn default_varname(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn number(n: &Number) -> f64 {
    match n {
        Number::Int(i) => *i as f64,
        Number::UInt(u) => *u as f64,
        Number::Float(f) => *f,
    }
}

/// The per-schema rules: integer formats and date patterns.
fn tighten(schema: &mut Schema) {
    narrow_integer(schema);
    date_pattern(schema);
}

fn date_pattern(schema: &mut Schema) {
    if let Schema::Object(object) = schema {
        if object.format == Some(SchemaFormat::KnownFormat(KnownFormat::Date))
            && object.pattern.is_none()
        {
            object.pattern = Some(ISO_DATE_PATTERN.to_owned());
        }
    }
}

/// `format: int32` for an integer whose `minimum` and `maximum` both fit in 32 bits.
fn narrow_integer(schema: &mut Schema) {
    let Schema::Object(object) = schema else {
        return;
    };
    let is_integer = match &object.schema_type {
        SchemaType::Type(t) => *t == Type::Integer,
        SchemaType::Array(types) => types.contains(&Type::Integer),
        SchemaType::AnyValue => false,
    };
    let is_int64 = matches!(
        object.format,
        None | Some(SchemaFormat::KnownFormat(KnownFormat::Int64))
    );
    let fits = |n: &Option<Number>| {
        n.as_ref()
            .is_some_and(|n| (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&number(n)))
    };
    if is_integer && is_int64 && fits(&object.minimum) && fits(&object.maximum) {
        object.format = Some(SchemaFormat::KnownFormat(KnownFormat::Int32));
    }
}

fn visit_operation(operation: &mut Operation, f: &mut impl FnMut(&mut Schema)) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter {
            if let Some(schema) = parameter.schema.as_mut() {
                visit(schema, f);
            }
        }
    }
    if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
        for content in body.content.values_mut() {
            visit_content(content, f);
        }
    }
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            for content in response.content.values_mut() {
                visit_content(content, f);
            }
            for header in response.headers.values_mut() {
                if let RefOr::T(header) = header {
                    if let Some(schema) = header.schema.as_mut() {
                        visit(schema, f);
                    }
                }
            }
        }
    }
}

fn visit_content(content: &mut RefOr<utoipa::openapi::Content>, f: &mut impl FnMut(&mut Schema)) {
    if let RefOr::T(content) = content {
        if let Some(schema) = content.schema.as_mut() {
            visit(schema, f);
        }
    }
}

/// Calls `f` on `schema` and every schema nested in it (references are left alone: the
/// component they point to is visited on its own).
fn visit(schema: &mut RefOr<Schema>, f: &mut impl FnMut(&mut Schema)) {
    let RefOr::T(schema) = schema else {
        return;
    };
    f(schema);
    match schema {
        Schema::Object(object) => {
            for property in object.properties.values_mut() {
                visit(property, f);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                visit(items, f);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(|s| visit(s, f)),
        Schema::AllOf(all) => all.items.iter_mut().for_each(|s| visit(s, f)),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(|s| visit(s, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    /// Every schema object in the document, with a JSON path saying where it is.
    fn schemas<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(map) => {
                if map.contains_key("type") || map.contains_key("enum") {
                    out.push((path.clone(), value));
                }
                for (key, child) in map {
                    schemas(child, format!("{path}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    schemas(child, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn document() -> Value {
        serde_json::to_value(crate::openapi_document()).unwrap()
    }

    /// Generators make constants from the component enums (inline ones stay plain strings).
    #[test]
    fn enum_constants_are_distinct_and_valid_identifiers() {
        let doc = document();
        let mut owners: BTreeMap<String, &str> = BTreeMap::new();
        let mut enums = 0;
        let components = doc["components"]["schemas"].as_object().unwrap();
        for (schema_name, schema) in components {
            let Some(values) = schema.get("enum").and_then(Value::as_array) else {
                continue;
            };
            enums += 1;
            let names: Vec<String> = match schema.get("x-enum-varnames") {
                Some(names) => {
                    let names: Vec<String> = serde_json::from_value(names.clone()).unwrap();
                    assert_eq!(
                        names.len(),
                        values.len(),
                        "{schema_name}: one name per value"
                    );
                    names
                }
                None => values
                    .iter()
                    .map(|v| super::default_varname(v.as_str().unwrap_or_default()))
                    .collect(),
            };
            for name in names {
                assert!(
                    name.starts_with(|c: char| c.is_ascii_alphabetic()),
                    "{schema_name}: constant `{name}` does not start with a letter; name it in ENUM_VARNAMES"
                );
                if let Some(other) = owners.insert(name.clone(), schema_name) {
                    panic!("{schema_name} and {other} both have the constant `{name}`; name one in ENUM_VARNAMES");
                }
            }
        }
        assert!(enums >= 5, "the document's enums were found ({enums})");
    }

    #[test]
    fn integers_with_a_32_bit_range_are_int32() {
        let doc = document();
        let mut found = Vec::new();
        schemas(&doc, String::new(), &mut found);
        let mut integers = 0;
        for (path, schema) in found {
            let ty = &schema["type"];
            let is_integer =
                ty == "integer" || ty.as_array().is_some_and(|t| t.contains(&"integer".into()));
            if !is_integer {
                continue;
            }
            integers += 1;
            let fits = |key: &str| {
                schema[key]
                    .as_f64()
                    .is_some_and(|n| (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n))
            };
            if fits("minimum") && fits("maximum") {
                assert_eq!(schema["format"], "int32", "{path}");
            }
        }
        assert!(
            integers >= 10,
            "the walk found the document's integers ({integers})"
        );
    }

    #[test]
    fn listed_enums_get_their_names() {
        let doc = document();
        let period = &doc["components"]["schemas"]["Period"];
        assert_eq!(period["enum"], serde_json::json!(["month", "week", "28d"]));
        assert_eq!(
            period["x-enum-varnames"],
            serde_json::json!(["MONTH", "WEEK", "DAYS_28"])
        );
        let kind = &doc["components"]["schemas"]["TreatmentKind"]["x-enum-varnames"];
        assert_eq!(kind[0], "IV_KETAMINE");
        assert!(kind.as_array().unwrap().contains(&"OTHER_TREATMENT".into()));
    }
}
