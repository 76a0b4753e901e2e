//! Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, random, stored hashed).

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

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing keys and lifetimes.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl_secs: u64,
    pub refresh_ttl_days: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

impl TokenKeys {
    pub fn new(settings: &AuthSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(&settings.jwt_secret),
            decoding: DecodingKey::from_secret(&settings.jwt_secret),
            validation,
            access_ttl_secs: settings.access_token_ttl_secs,
            refresh_ttl_days: settings.refresh_token_ttl_days,
        }
    }

    pub fn issue_access(&self, user_id: Uuid, role: Role) -> Result<String, String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            iss: ISSUER.into(),
            iat: now,
            exp: now + i64::try_from(self.access_ttl_secs).unwrap_or(900),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims (tests use it for expired tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// Verifies signature, algorithm, issuer and expiry.
    pub fn verify_access(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&AuthSettings::with_secret(secret.as_bytes().to_vec()))
    }

    #[test]
    fn access_token_round_trips_and_rejects_other_keys() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let id = Uuid::now_v7();
        let token = k.issue_access(id, Role::Clinician).unwrap();
        let claims = k.verify_access(&token).unwrap();
        assert_eq!(claims.sub, id);
        assert_eq!(claims.role, Role::Clinician);
        assert!(keys("another-secret-another-secret-xx")
            .verify_access(&token)
            .is_none());
    }

    #[test]
    fn expired_token_is_rejected() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let now = Utc::now().timestamp();
        let token = k
            .sign(&Claims {
                sub: Uuid::now_v7(),
                role: Role::Patient,
                iss: ISSUER.into(),
                iat: now - 3600,
                exp: now - 60,
            })
            .unwrap();
        assert!(k.verify_access(&token).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_digests_stable() {
        assert_ne!(new_refresh_token(), new_refresh_token());
        assert_eq!(digest("abc"), digest("abc"));
        assert_eq!(digest("abc").len(), 64);
    }
}
