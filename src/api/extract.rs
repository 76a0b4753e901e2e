//! Request extractors that turn every malformed or invalid input into the API's problem+json:
//! bad JSON syntax → 400; an unknown field → 400 naming it; a missing field or a value of the
//! wrong type or out of an enum → 422 naming it (as a path: `entries[3].date`); a body over the
//! limit → 413; a body that is not JSON → 415. Query parameters that do not parse → 422 naming
//! the parameter; a malformed id in the path → 400.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::strict_json::Strict;
use crate::domain::{PatientId, TreatmentId};
use crate::error::{ApiError, FieldError};

/// A JSON body, deserialized with field paths in its errors.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// Splits "missing field `x`" / "unknown field `x`, expected …" into the field name.
fn quoted_field(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    let rest = rest.strip_prefix('`')?;
    let end = rest.find('`')?;
    Some(rest[..end].to_owned())
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// serde's messages end with " at line L column C"; the field path says where already.
fn strip_position(message: &str) -> &str {
    match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

pub fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.inner();
    let message = strip_position(&inner.to_string()).to_owned();
    match inner.classify() {
        serde_json::error::Category::Data => {
            if let Some(field) = quoted_field(&message, "unknown field ") {
                // The path already ends at the unknown key.
                let field = if path.ends_with(field.as_str()) {
                    path
                } else {
                    join_path(&path, &field)
                };
                return ApiError::BadRequest(format!("Unknown field `{field}`."));
            }
            if let Some(field) = quoted_field(&message, "missing field ") {
                return ApiError::Validation(vec![FieldError::new(
                    join_path(&path, &field),
                    "is required",
                )]);
            }
            let field = if path == "." { "body".into() } else { path };
            ApiError::Validation(vec![FieldError::new(field, message)])
        }
        _ => ApiError::BadRequest(format!("Malformed JSON: {message}.")),
    }
}

/// Parses a JSON document with field paths in its errors.
///
/// Every object of the API is a JSON object: serde's derived structs would also take an array
/// (fields by position), so [`Strict`] refuses one at any depth, with 422 naming the field
/// (`body` for the whole body).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(Strict(&mut de)).map_err(json_error)?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}.")))?;
    Ok(value)
}

fn is_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json")
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(&req) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The whole body, within the body limit (413 beyond it).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest("Could not read the request body.".into())
        }
    })
}

/// Query parameters; a parameter that does not parse is a 422 naming it.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.inner().to_string();
                let field = quoted_field(&message, "missing field ").unwrap_or(path);
                ApiError::Validation(vec![FieldError::new(field, message)])
            })
    }
}

/// Path parameters; an id that does not parse is a 400.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|rejection| {
                ApiError::BadRequest(format!(
                    "Malformed path parameter: {}",
                    rejection.body_text()
                ))
            })
    }
}

/// Implements the extractor for a path struct: a malformed id is a 400, like [`ApiPath`].
macro_rules! path_extractor {
    ($name:ident) => {
        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
                ApiPath::<$name>::from_request_parts(parts, state)
                    .await
                    .map(|ApiPath(path)| path)
            }
        }
    };
}

/// `{patient_id}` of a per-patient route: extracts it and documents it (`params(PatientPath)`).
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PatientPath {
    /// The patient
    #[param(value_type = Uuid)]
    pub patient_id: PatientId,
}
path_extractor!(PatientPath);

/// `{patient_id}/treatments/{treatment_id}`.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TreatmentPath {
    /// The patient
    #[param(value_type = Uuid)]
    pub patient_id: PatientId,
    /// The treatment
    #[param(value_type = Uuid)]
    pub treatment_id: TreatmentId,
}
path_extractor!(TreatmentPath);

/// `{patient_id}/questionnaires/{response_id}`.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct QuestionnairePath {
    /// The patient
    #[param(value_type = Uuid)]
    pub patient_id: PatientId,
    /// The questionnaire response
    pub response_id: uuid::Uuid,
}
path_extractor!(QuestionnairePath);

/// `{patient_id}/diary/{date}`. The date stays text here: one that does not parse is a 422
/// naming `date` ([`DiaryDayPath::day`]), not a 400.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DiaryDayPath {
    /// The patient
    #[param(value_type = Uuid)]
    pub patient_id: PatientId,
    /// Patient-local day, `YYYY-MM-DD`
    #[param(value_type = NaiveDate)]
    pub date: String,
}
path_extractor!(DiaryDayPath);

impl DiaryDayPath {
    pub fn day(&self) -> Result<NaiveDate, ApiError> {
        NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .map_err(|_| ApiError::validation("date", "must be a calendar date `YYYY-MM-DD`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(v) => v.into_iter().map(|e| e.field).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_path() {
        let err = parse_json::<Outer>(br#"{"items":[{"n":1},{"n":"x"}]}"#).unwrap_err();
        assert_eq!(fields(err), vec!["items[1].n"]);
        let err = parse_json::<Outer>(br#"{"items":[{}]}"#).unwrap_err();
        assert_eq!(fields(err), vec!["items[0].n"]);
    }

    #[test]
    fn objects_must_be_objects_not_arrays_at_any_depth() {
        let err = parse_json::<Inner>(b" [1]").unwrap_err();
        assert_eq!(fields(err), vec!["body"]);
        let err = parse_json::<Outer>(br#"{"items":[{"n":1},[2]]}"#).unwrap_err();
        assert_eq!(fields(err), vec!["items[1]"]);
        assert!(parse_json::<Inner>(br#"{"n":1}"#).is_ok());
        assert_eq!(
            parse_json::<Outer>(br#"{"items":[{"n":1},{"n":2}]}"#)
                .unwrap()
                .items
                .len(),
            2
        );
    }

    #[test]
    fn unknown_fields_and_syntax_are_400() {
        assert!(matches!(
            parse_json::<Outer>(br#"{"items":[],"extra":1}"#),
            Err(ApiError::BadRequest(m)) if m.contains("extra")
        ));
        assert!(matches!(
            parse_json::<Outer>(br#"{"items":["#),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Outer>(br#"{"items":[]} trailing"#),
            Err(ApiError::BadRequest(_))
        ));
    }
}
