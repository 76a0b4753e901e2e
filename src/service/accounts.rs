//! Creating an account: the one way the API (sign-up, staff accounts), `user create` and the
//! demo store a new account. Validation is `domain::NewAccount`; hashing is the caller's (the
//! API bounds concurrent hashes, the CLI hashes once, the demo shares one hash).

use sea_orm::ConnectionTrait;

use crate::domain::NewAccount;
use crate::store::users::{self, Account, CreateUserError, NewUser};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email exists already")]
    EmailTaken,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl From<CreateUserError> for AccountError {
    fn from(err: CreateUserError) -> Self {
        match err {
            CreateUserError::EmailTaken => Self::EmailTaken,
            CreateUserError::Db(db) => Self::Db(db),
        }
    }
}

/// Stores `account` with its password hash in its own write transaction.
pub async fn create_account(
    store: &Store,
    account: &NewAccount,
    password_hash: String,
) -> Result<Account, AccountError> {
    let txn = store.begin_write().await?;
    let created = insert_account(&*txn, account, password_hash).await?;
    txn.commit().await?;
    Ok(created)
}

/// Stores `account` inside the caller's transaction (the demo writes a patient's account, link,
/// treatments and diary together).
pub async fn insert_account(
    db: &impl ConnectionTrait,
    account: &NewAccount,
    password_hash: String,
) -> Result<Account, AccountError> {
    let row = users::create(
        db,
        NewUser {
            email: account.email.clone(),
            password_hash,
            role: account.role,
            display_name: account.display_name.clone(),
            timezone: account.timezone,
        },
    )
    .await?;
    Ok(row)
}
