//! Argon2id password hashing, off the async runtime.
//!
//! Hashing costs 7 MiB and tens of milliseconds of CPU (m=7168 KiB, t=5, p=1: of the OWASP
//! Password Storage Cheat Sheet's Argon2id settings, which it rates as equally strong, the one
//! that trades the most memory for passes; m=19 MiB, t=2 made every login storm 19 MiB of the
//! server's 64 MiB budget). Hashes stored with other parameters verify with their own. It runs on the blocking pool, at most one job per two cores at a time (at least one),
//! so a login storm leaves a core to the async workers and cannot blow up memory. Each job
//! allocates its working area and frees it when done: with the allocator's thresholds fixed
//! ([`crate::memory`]) a block that large is a mapping of its own, handed back to the system
//! at once, so an idle server holds none of it. (Before the thresholds were fixed, fresh areas
//! stayed in whichever malloc arena the blocking thread used, 400+ MiB after a few hundred
//! logins; then one area per permit was kept for good, resident at all times.)

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHasher as _, PasswordVerifier, Version,
    ARGON2ID_IDENT,
};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// One Argon2 working area (`m_cost` blocks of 1 KiB), one job's.
type Memory = Vec<Block>;

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an email is unknown so that the
    /// answer takes as long as for a known email (no account enumeration by timing).
    dummy_hash: Arc<String>,
}

/// Argon2id's memory cost in KiB, and its passes over that memory.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: Argon2id, m=7 MiB, t=5, p=1.
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes synchronously (CLI and start-up use).
pub fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("password hashing: {e}")))
}

/// [`hash_blocking`] in a caller-provided working area.
fn hash_with(password: &str, memory: &mut Memory) -> Result<String, ApiError> {
    let fail = |e: &dyn std::fmt::Display| ApiError::internal(format!("password hashing: {e}"));
    let argon = argon2();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(|e| fail(&e))?;
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, &mut memory[..])
        .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| fail(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// [`verify_blocking`] in a caller-provided working area (Argon2id hashes; anything else goes
/// the allocating way).
fn verify_with(password: &str, hash: &str, memory: &mut Memory) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    if parsed.algorithm != ARGON2ID_IDENT {
        return verify_blocking(password, hash);
    }
    let (Ok(params), Some(salt), Some(expected)) =
        (Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let area = &mut memory[..blocks];
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(Algorithm::Argon2id, version, params);
    if argon
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, area)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

impl PasswordHasher {
    pub fn new() -> Result<Self, ApiError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let random = uuid::Uuid::new_v4().to_string();
        Ok(Self {
            permits: Arc::new(Semaphore::new((cores / 2).max(1))),
            dummy_hash: Arc::new(hash_blocking(&random)?),
        })
    }

    /// Runs `job` on the blocking pool with a permit and a fresh working area.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::internal(format!("hasher closed: {e}")))?;
        tokio::task::spawn_blocking(move || job(&mut Memory::new()))
            .await
            .map_err(|e| ApiError::internal(format!("hashing task: {e}")))
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_with(&password, memory)).await?
    }

    /// Verifies against `hash`, or against the dummy hash when the account does not exist.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = self
            .run(move |memory| verify_with(&password, &hash, memory))
            .await?;
        Ok(ok && exists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash_blocking("correct horse").unwrap();
        let b = hash_blocking("correct horse").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"));
        assert!(verify_blocking("correct horse", &a));
        assert!(!verify_blocking("wrong horse", &a));
        assert!(!verify_blocking("x", "not a hash"));
    }

    #[test]
    fn reused_working_area_hashes_and_verifies_like_the_allocating_way() {
        let mut memory = Memory::new();
        let a = hash_with("correct horse", &mut memory).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"));
        assert!(verify_blocking("correct horse", &a));
        let b = hash_blocking("correct horse").unwrap();
        assert!(verify_with("correct horse", &b, &mut memory));
        assert!(verify_with("correct horse", &a, &mut memory));
        assert!(!verify_with("wrong horse", &a, &mut memory));
        assert!(!verify_with("x", "not a hash", &mut memory));
        assert_eq!(memory.len(), 7 * 1024);
    }

    #[test]
    fn hashes_stored_with_the_earlier_parameters_still_verify() {
        let earlier = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let hash = earlier
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let mut memory = Memory::new();
        assert!(verify_with("correct horse", &hash, &mut memory));
        assert!(!verify_with("wrong horse", &hash, &mut memory));
    }
}
