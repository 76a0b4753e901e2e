//! `migraine-diary backup --to FILE`: a consistent copy of a live SQLite database.
//!
//! The copy is taken with `VACUUM INTO` (a snapshot inside one read transaction, so the server
//! may keep writing), into a file created new with mode 0600 (an existing file is refused, never
//! overwritten), then opened read-only and checked with `PRAGMA integrity_check`. A copy that
//! fails the check is removed. PostgreSQL has its own tool: `pg_dump`.

use std::path::Path;

use crate::config::DatabaseArgs;
use crate::store::{backup, Store};

/// What the operator is told to run for PostgreSQL.
pub const PG_DUMP_ADVICE: &str = "this is a PostgreSQL database: back it up with \
    `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"` and restore with `pg_restore`";

/// Runs the command; the error is the message for the operator.
pub async fn run(database: &DatabaseArgs, target: &Path) -> Result<(), String> {
    if !database.database_url.starts_with("sqlite:") {
        return Err(PG_DUMP_ADVICE.into());
    }
    let source = database
        .sqlite_path()
        .ok_or("an in-memory database has nothing to back up")?;
    if !source.exists() {
        return Err(format!("no database at {}", source.display()));
    }
    create_empty_private(target)?;
    match copy_and_check(database, target).await {
        Ok(()) => {
            println!(
                "backup written to {} (integrity check: ok)",
                target.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(target);
            Err(e)
        }
    }
}

/// Creates `target` empty and private; fails when it exists (`VACUUM INTO` accepts an empty file).
fn create_empty_private(target: &Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(target).map(drop).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => format!(
            "{} exists already; a backup never overwrites a file (choose a new name)",
            target.display()
        ),
        _ => format!("cannot create {}: {e}", target.display()),
    })
}

async fn copy_and_check(database: &DatabaseArgs, target: &Path) -> Result<(), String> {
    let store = Store::connect(database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    backup::vacuum_into(&store.db, target)
        .await
        .map_err(|e| format!("copying the database: {e}"))?;
    store.db.close().await.map_err(|e| e.to_string())?;
    backup::integrity_check(target)
        .await
        .map_err(|e| format!("opening the copy: {e}"))?
        .map_err(|findings| format!("the copy failed its integrity check: {findings}"))
}
