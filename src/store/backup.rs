//! A consistent copy of a live SQLite database. `VACUUM INTO` reads inside one transaction, so
//! the copy is a snapshot even while the server writes (copying the main file alone is not: in
//! WAL mode the latest commits live in the `-wal` file until a checkpoint).

use std::path::Path;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

/// Writes a snapshot of `db` into `target`, which must not exist or be empty.
pub async fn vacuum_into(db: &DatabaseConnection, target: &Path) -> Result<(), DbErr> {
    let target = target
        .to_str()
        .ok_or_else(|| DbErr::Custom("the backup path is not valid UTF-8".into()))?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await?;
    Ok(())
}

/// `PRAGMA integrity_check` of the SQLite file at `path`, opened read-only: `Ok(())` when it
/// says `ok`, otherwise its findings.
pub async fn integrity_check(path: &Path) -> Result<Result<(), String>, DbErr> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let db = Database::connect(url).await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?;
    db.close().await?;
    let findings: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    if findings == ["ok"] {
        Ok(Ok(()))
    } else {
        Ok(Err(findings.join("; ")))
    }
}
