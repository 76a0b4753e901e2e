//! Deserializers for request fields that serde's defaults get wrong for this API. The rules a
//! field's value obeys live in `crate::domain` (`account`, `entry`, `treatment_event`).

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

/// An integer read with [`integral`], for lists and options of integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Integer(#[serde(deserialize_with = "integral")] pub i64);

/// [`integral`] for an optional member (absent or `null`: `None`).
pub fn integral_option<'de, D>(de: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    <Option<Integer> as serde::Deserialize>::deserialize(de).map(|o| o.map(|i| i.0))
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
}
