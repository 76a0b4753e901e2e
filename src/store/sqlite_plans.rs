//! The one SQLite connection setting that has no PRAGMA: the query planner stability guarantee.
//!
//! SQLite 3.47 and later plan `LIMIT ?` with the value bound to it, and mark the statement
//! expired whenever that parameter is bound again; the next step then parses and plans the
//! statement from its text once more. sea-orm writes every `.one()` and every page as
//! `LIMIT ?`, so every such query was re-prepared on every execution: `sqlite3Reprepare` was
//! 9 % of a treatment summary's profile. With the guarantee on, a prepared statement keeps its
//! plan whatever is bound, which is what a statement cache is for. Nothing here uses the other
//! plans that bound values could pick (no `LIKE ?`, no `sqlite_stat4`).
//!
//! The call is foreign code, so this module is one of the crate's two exceptions to
//! `deny(unsafe_code)` (the other is `crate::memory`).

#![allow(unsafe_code)]

use std::ffi::c_int;

use sea_orm::sqlx::sqlite::SqliteConnection;

/// Turns the guarantee on for `conn` and checks that it is on.
pub async fn keep_plans_stable(conn: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let on = config(conn, 1).await?;
    if on == 1 {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Configuration(
            "SQLite refused SQLITE_DBCONFIG_ENABLE_QPSG".into(),
        ))
    }
}

/// Whether the guarantee is on for `conn` (for tests).
pub async fn plans_are_stable(conn: &mut SqliteConnection) -> Result<bool, sea_orm::sqlx::Error> {
    Ok(config(conn, -1).await? == 1)
}

/// `sqlite3_db_config(QPSG, set, &now)`: `set` 1 turns it on, -1 only reads; returns `now`.
async fn config(conn: &mut SqliteConnection, set: c_int) -> Result<c_int, sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now: c_int = -1;
    // SAFETY: `handle` holds the connection's lock, so no other thread calls into `db` while
    // this runs; `db` is a live connection for as long as `handle` is held; the two variadic
    // arguments are the `(int, int*)` pair that SQLITE_DBCONFIG_ENABLE_QPSG takes, and `now`
    // outlives the call.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut now as *mut c_int,
        )
    };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(now)
    } else {
        Err(sea_orm::sqlx::Error::Configuration(
            format!("sqlite3_db_config(SQLITE_DBCONFIG_ENABLE_QPSG) failed: {rc}").into(),
        ))
    }
}
