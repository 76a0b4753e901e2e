//! Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, random, stored hashed).
//!
//! An access token names its session (`sid`, the refresh-token family of one login), so that
//! ending the session refuses the token at once (see [`crate::auth::sessions`]). Tokens carry
//! `iss`, `aud`, `iat`, `nbf` and `exp`, all checked with a leeway of [`LEEWAY_SECS`]; a token
//! issued in the future is refused. Keys rotate: the current secret signs (its `kid` in the
//! header) and previous secrets still verify until their tokens have expired.

use std::collections::HashSet;

use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Role;
use crate::config::AuthSettings;

pub const ISSUER: &str = "migraine-diary";
/// Who the access tokens are for: this API (a token minted for another audience is refused).
pub const AUDIENCE: &str = "migraine-diary-api";
/// Clock skew tolerated between the instances that issue and verify tokens.
pub const LEEWAY_SECS: u64 = 5;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    /// The session (login) the token belongs to.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// One verification key, named by its `kid`.
#[derive(Clone)]
struct VerificationKey {
    kid: String,
    key: DecodingKey,
}

/// Signing keys and lifetimes.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    kid: String,
    /// The current key first, then the previous ones.
    verification: Vec<VerificationKey>,
    validation: Validation,
    pub access_ttl_secs: u64,
    pub refresh_ttl_days: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

/// The public name of a secret: the first 16 hex digits of its SHA-256. It says which key
/// signed a token without revealing anything usable about the key.
pub fn key_id(secret: &[u8]) -> String {
    hex::encode(Sha256::digest(secret))[..16].to_owned()
}

impl TokenKeys {
    pub fn new(settings: &AuthSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let verification = std::iter::once(&settings.jwt_secret)
            .chain(&settings.previous_jwt_secrets)
            .map(|secret| VerificationKey {
                kid: key_id(secret),
                key: DecodingKey::from_secret(secret),
            })
            .collect();
        Self {
            encoding: EncodingKey::from_secret(&settings.jwt_secret),
            kid: key_id(&settings.jwt_secret),
            verification,
            validation,
            access_ttl_secs: settings.access_token_ttl_secs,
            refresh_ttl_days: settings.refresh_token_ttl_days,
        }
    }

    /// A token for `session_id`, valid from now for the configured lifetime.
    pub fn issue_access(
        &self,
        user_id: Uuid,
        role: Role,
        session_id: Uuid,
    ) -> Result<String, String> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(self.access_ttl_secs).map_err(|e| e.to_string())?;
        let claims = Claims {
            sub: user_id,
            role,
            sid: session_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + ttl,
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with the current key (tests use it for expired tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Verifies the key (by `kid`), signature, algorithm, issuer, audience, `nbf`, `exp`, and
    /// that `iat` is not in the future. Says nothing about the session: see `sessions`.
    pub fn verify_access(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let kid = header.kid?;
        let key = self.verification.iter().find(|k| k.kid == kid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation)
            .ok()?
            .claims;
        let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(0);
        (claims.iat <= Utc::now().timestamp() + leeway).then_some(claims)
    }

    /// The `kid`s this instance accepts (the current one first).
    pub fn accepted_key_ids(&self) -> HashSet<&str> {
        self.verification.iter().map(|k| k.kid.as_str()).collect()
    }
}

/// A new random refresh token (256 bits, URL-safe).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a secret token or code: its SHA-256, hex.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equality that takes the same time wherever the inputs differ (for secrets' digests).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&AuthSettings::with_secret(secret.as_bytes().to_vec()))
    }

    fn claims(iat: i64, nbf: i64, exp: i64) -> Claims {
        Claims {
            sub: Uuid::now_v7(),
            role: Role::Patient,
            sid: Uuid::now_v7(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat,
            nbf,
            exp,
        }
    }

    #[test]
    fn access_token_round_trips_and_rejects_other_keys() {
        let k = keys(SECRET);
        let (id, sid) = (Uuid::now_v7(), Uuid::now_v7());
        let token = k.issue_access(id, Role::Clinician, sid).unwrap();
        let claims = k.verify_access(&token).unwrap();
        assert_eq!((claims.sub, claims.sid), (id, sid));
        assert_eq!(claims.role, Role::Clinician);
        assert!(keys("another-secret-another-secret-xx")
            .verify_access(&token)
            .is_none());
    }

    #[test]
    fn expired_future_and_not_yet_valid_tokens_are_rejected() {
        let k = keys(SECRET);
        let now = Utc::now().timestamp();
        let ok = k.sign(&claims(now, now, now + 60)).unwrap();
        assert!(k.verify_access(&ok).is_some());
        let within_leeway = k.sign(&claims(now + 2, now + 2, now + 60)).unwrap();
        assert!(k.verify_access(&within_leeway).is_some());
        for bad in [
            claims(now - 3600, now - 3600, now - 60),
            claims(now + 120, now, now + 600),
            claims(now, now + 120, now + 600),
        ] {
            assert!(k.verify_access(&k.sign(&bad).unwrap()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn wrong_issuer_or_audience_is_rejected() {
        let k = keys(SECRET);
        let now = Utc::now().timestamp();
        let mut c = claims(now, now, now + 60);
        c.aud = "another-service".into();
        assert!(k.verify_access(&k.sign(&c).unwrap()).is_none());
        let mut c = claims(now, now, now + 60);
        c.iss = "someone-else".into();
        assert!(k.verify_access(&k.sign(&c).unwrap()).is_none());
    }

    #[test]
    fn previous_keys_verify_and_a_missing_kid_is_refused() {
        let old = keys(SECRET);
        let token = old
            .issue_access(Uuid::now_v7(), Role::Patient, Uuid::now_v7())
            .unwrap();
        let mut settings = AuthSettings::with_secret(b"the-new-secret-the-new-secret-012".to_vec());
        settings.previous_jwt_secrets = vec![SECRET.as_bytes().to_vec()];
        let rotated = TokenKeys::new(&settings);
        assert!(rotated.verify_access(&token).is_some());
        let fresh = rotated
            .issue_access(Uuid::now_v7(), Role::Patient, Uuid::now_v7())
            .unwrap();
        assert!(old.verify_access(&fresh).is_none());
        assert_eq!(rotated.accepted_key_ids().len(), 2);

        let now = Utc::now().timestamp();
        let no_kid = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(now, now, now + 60),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(old.verify_access(&no_kid).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_digests_stable() {
        assert_ne!(new_refresh_token(), new_refresh_token());
        assert_eq!(digest("abc"), digest("abc"));
        assert_eq!(digest("abc").len(), 64);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
