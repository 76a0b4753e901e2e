//! The care team's use cases: a clinician's invite code, redeemed once by a patient, links them.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::auth::tokens::digest;
use crate::domain::{PatientId, Role, UserId};
use crate::error::{ApiError, ApiResult};
use crate::store::entities::care_link;
use crate::store::users::{self, Account};
use crate::store::{care, is_unique_violation, Store};

pub const INVITE_VALID_DAYS: i64 = 7;
/// Crockford-style alphabet without look-alikes (no 0/O, 1/I/L), easy to read out and type.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 12;

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

/// Upper-cases and drops dashes and spaces, so `abcd efgh-jkmn` equals `ABCD-EFGH-JKMN`.
fn canonical_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

/// A new single-use code of `clinician`, valid for [`INVITE_VALID_DAYS`]; only its hash is kept.
pub async fn create_invite(store: &Store, clinician: UserId) -> ApiResult<(String, DateTime<Utc>)> {
    let code = new_code();
    let expires_at = crate::store::now() + Duration::days(INVITE_VALID_DAYS);
    let txn = store.begin_write().await?;
    care::create_invite(&*txn, clinician, digest(&canonical_code(&code)), expires_at).await?;
    txn.commit().await?;
    Ok((code, expires_at))
}

fn used_already() -> ApiError {
    ApiError::Conflict("This invite has been used already.".into())
}

fn linked_already() -> ApiError {
    ApiError::Conflict("This clinician is linked already.".into())
}

fn not_a_code() -> ApiError {
    ApiError::validation("code", "is not a valid invite code")
}

/// Redeems an invite code for `patient`: unknown or expired → invalid `code`; used already or
/// that clinician linked already → conflict. Returns the link and the clinician's account.
pub async fn link_clinician(
    store: &Store,
    patient: PatientId,
    code: &str,
) -> ApiResult<(care_link::Model, Account)> {
    let code_hash = digest(&canonical_code(code));
    let txn = store.begin_write().await?;
    let invite = care::find_invite(&*txn, &code_hash)
        .await?
        .ok_or_else(not_a_code)?;
    if invite.used_at.is_some() {
        return Err(used_already());
    }
    if invite.expires_at <= Utc::now() {
        return Err(ApiError::validation(
            "code",
            "has expired; ask for a new one",
        ));
    }
    let clinician = UserId(invite.clinician_id);
    if care::is_linked(&*txn, patient, clinician).await? {
        return Err(linked_already());
    }
    let clinician_account = users::find_by_id(&*txn, clinician)
        .await?
        .filter(|u| u.role == Role::Clinician)
        .ok_or_else(not_a_code)?;
    if !care::spend_invite(&*txn, invite.id, patient).await? {
        return Err(used_already());
    }
    let link = care::link(&*txn, patient, clinician).await.map_err(|e| {
        // Two invites of one clinician redeemed at once (PostgreSQL): one wins.
        if is_unique_violation(&e) {
            linked_already()
        } else {
            e.into()
        }
    })?;
    txn.commit().await?;
    Ok((link, clinician_account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_canonical() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert_eq!(canonical_code(&code.to_lowercase()), canonical_code(&code));
        assert_eq!(canonical_code("abcd efgh-jkmn"), "ABCDEFGHJKMN");
        assert_ne!(new_code(), new_code());
    }
}
