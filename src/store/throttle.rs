//! Counters of the abuse limits (`throttle_counters`): one row per bucket, a window that starts
//! at the bucket's first hit. Every statement is a single atomic upsert or update, so concurrent
//! requests on any number of instances sharing the database count each hit exactly once.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};

/// The `n`-th placeholder (1-based) in the backend's syntax.
fn ph(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// Within a transaction on PostgreSQL: commit without waiting for the WAL flush. A count lost
/// to a crash only gives an attacker a few more tries; waiting for the disk would add a flush to
/// every login. (SQLite's sync mode is per connection; there it stays as configured.)
pub async fn relax_durability(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
            .await?;
    }
    Ok(())
}

/// A bucket's state after a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    /// Hits in the current window, this one included.
    pub hits: i64,
    /// When the current window ends (Unix seconds).
    pub expires_at: i64,
}

/// Counts one hit on `bucket`: a new window of `window_secs` starts when there is none or the
/// last one has ended at `now`.
pub async fn hit(
    db: &impl ConnectionTrait,
    bucket: &str,
    now: i64,
    window_secs: i64,
) -> Result<Count, DbErr> {
    let backend = db.get_database_backend();
    // SQLite's `?` placeholders are positional, so the values are repeated in the order used.
    let (sql, values): (String, Vec<Value>) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO throttle_counters (bucket, hits, expires_at) VALUES ($1, 1, $2) \
             ON CONFLICT (bucket) DO UPDATE SET \
               hits = CASE WHEN throttle_counters.expires_at <= $3 THEN 1 \
                           ELSE throttle_counters.hits + 1 END, \
               expires_at = CASE WHEN throttle_counters.expires_at <= $3 THEN $2 \
                           ELSE throttle_counters.expires_at END \
             RETURNING hits, expires_at"
                .to_owned(),
            vec![bucket.into(), (now + window_secs).into(), now.into()],
        ),
        _ => (
            "INSERT INTO throttle_counters (bucket, hits, expires_at) VALUES (?, 1, ?) \
             ON CONFLICT (bucket) DO UPDATE SET \
               hits = CASE WHEN throttle_counters.expires_at <= ? THEN 1 \
                           ELSE throttle_counters.hits + 1 END, \
               expires_at = CASE WHEN throttle_counters.expires_at <= ? THEN ? \
                           ELSE throttle_counters.expires_at END \
             RETURNING hits, expires_at"
                .to_owned(),
            vec![
                bucket.into(),
                (now + window_secs).into(),
                now.into(),
                now.into(),
                (now + window_secs).into(),
            ],
        ),
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("throttle upsert returned no row".into()))?;
    let hits: i32 = row.try_get("", "hits")?;
    let expires_at: i64 = row.try_get("", "expires_at")?;
    Ok(Count {
        hits: i64::from(hits),
        expires_at,
    })
}

/// Takes one hit back (a login that turned out to be the owner's).
pub async fn refund(db: &impl ConnectionTrait, bucket: &str) -> Result<(), DbErr> {
    on_bucket(
        db,
        "UPDATE throttle_counters SET hits = hits - 1 WHERE hits > 0 AND bucket = ",
        bucket,
    )
    .await
}

/// Forgets a bucket.
pub async fn clear(db: &impl ConnectionTrait, bucket: &str) -> Result<(), DbErr> {
    on_bucket(db, "DELETE FROM throttle_counters WHERE bucket = ", bucket).await
}

/// Runs `sql` (ending in `bucket = `) for one bucket.
async fn on_bucket(db: &impl ConnectionTrait, sql: &str, bucket: &str) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = format!("{sql}{}", ph(backend, 1));
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [bucket.into()],
    ))
    .await?;
    Ok(())
}

/// Deletes the buckets whose window has ended at `now`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, now: i64) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "DELETE FROM throttle_counters WHERE expires_at <= {}",
        ph(backend, 1)
    );
    let result = db
        .execute_raw(Statement::from_sql_and_values(backend, sql, [now.into()]))
        .await?;
    Ok(result.rows_affected())
}

/// How many buckets exist (for tests and the README's claim that rows stay bounded).
pub async fn count_rows(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM throttle_counters",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("count".into()))?;
    row.try_get("", "n")
}
