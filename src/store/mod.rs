//! Persistence: sea-orm entities and the queries the API needs. The only module that speaks SQL.
//!
//! SQLite is configured for a server: WAL (readers never block the writer), `synchronous`
//! FULL by default (an acknowledged commit is on disk), foreign keys on, a busy timeout, and
//! writes serialized in-process through [`Store::begin_write`] so concurrent requests queue on an
//! async mutex instead of spinning on `SQLITE_BUSY`, and share one COMMIT ([`group`]: one fsync
//! for every writer that queued meanwhile). PostgreSQL runs the same code with its own
//! transaction per writer and no gate.

pub mod audit;
pub mod backup;
pub mod care;
pub mod changes;
pub mod cohort;
pub mod diary;
pub mod diary_batch;
pub mod entities;
pub mod erasure;
mod group;
pub mod password_resets;
pub mod questionnaires;
pub mod reads;
pub mod sessions;
pub mod sqlite_plans;
pub mod throttle;
pub mod tokens;
pub mod treatments;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    QueryResult, Statement, TransactionTrait,
};

use crate::config::{DatabaseArgs, SqliteSync};

/// SQLite connections: one writer at a time anyway, and each connection is a thread with its own
/// page cache and allocator arena. 4 keeps reads at full speed on 2 cores; 8 cost 17–48 MiB more
/// at the peaks for the same throughput, 2 cost 17 % of read throughput (README, Performance).
pub const SQLITE_POOL: u32 = 4;

/// Ids per `IN (…)` list: well under SQLite's and PostgreSQL's bound-parameter limits, and
/// big enough that a clinician's whole panel takes a handful of statements.
pub const IDS_PER_QUERY: usize = 500;

/// Most rows per multi-row INSERT.
const MAX_ROWS_PER_INSERT: usize = 64;

/// How many of `remaining` rows the next INSERT takes: the largest power of two that is at most
/// `remaining` and [`MAX_ROWS_PER_INSERT`]. Every distinct row count is another prepared
/// statement in each connection's cache, so batches of any size share these seven.
pub(crate) fn rows_per_insert(remaining: usize) -> usize {
    let n = remaining.clamp(1, MAX_ROWS_PER_INSERT);
    1 << (usize::BITS - 1 - n.leading_zeros())
}

/// The database handle shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    pub db: DatabaseConnection,
    /// SQLite has one writer at a time; queueing writers here is fairer and cheaper than the
    /// busy handler's sleep-and-retry, and lets them share a COMMIT. `None` on PostgreSQL.
    write_gate: Option<group::GroupCommit>,
}

/// How the connection pool is used, for the metrics.
#[derive(Clone, Copy, Debug)]
pub struct PoolUse {
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

/// A write transaction: on SQLite a savepoint of the group's transaction, holding the write gate
/// until it commits or drops; on PostgreSQL a transaction of its own. Dropping it rolls back
/// only this writer's statements.
pub struct WriteTxn {
    // Declared first so that the handle is given back before the gate passes on.
    txn: Arc<DatabaseTransaction>,
    member: Option<group::Member>,
}

impl WriteTxn {
    /// Returns once the writes are durable: on SQLite after the COMMIT of the group this writer
    /// joined. An error means nothing of this writer was acknowledged.
    pub async fn commit(self) -> Result<(), DbErr> {
        let WriteTxn { txn, member } = self;
        match member {
            Some(mut member) => {
                member.release(&txn).await?;
                drop(txn);
                member.acknowledge().await
            }
            None => match Arc::try_unwrap(txn) {
                Ok(txn) => txn.commit().await,
                Err(_) => Err(DbErr::Custom("the transaction is shared".into())),
            },
        }
    }

    /// Undoes this writer's statements now (dropping it does the same: on SQLite when the gate
    /// passes on, on PostgreSQL in the background).
    pub async fn rollback(self) -> Result<(), DbErr> {
        let WriteTxn { txn, member } = self;
        match (member, Arc::try_unwrap(txn)) {
            (None, Ok(txn)) => txn.rollback().await,
            // The member's drop hands the rollback to the next holder of the gate.
            _ => Ok(()),
        }
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Store {
    /// Connects, with the settings above. Does not migrate.
    pub async fn connect(args: &DatabaseArgs) -> Result<Self, DbErr> {
        let is_sqlite = args.database_url.starts_with("sqlite:");
        let mut options = ConnectOptions::new(args.database_url.clone());
        let max = args
            .max_connections
            .unwrap_or(if is_sqlite { SQLITE_POOL } else { 16 });
        options
            .max_connections(max)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        if !is_sqlite {
            // Only a connection idle long enough for a server, proxy or firewall to have
            // dropped it is pinged first; a ping on every checkout is a round trip per query.
            options.test_before_acquire_if_idle_for(Duration::from_secs(30));
        }
        if is_sqlite {
            // A pool check before each query is a round trip to the connection's worker
            // thread, and a local file has no connection to lose: it doubled the thread
            // hand-offs of every read.
            options.test_before_acquire(false);
            let sync = match args.sqlite_synchronous {
                SqliteSync::Full => SqliteSynchronous::Full,
                SqliteSync::Normal => SqliteSynchronous::Normal,
            };
            options.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(sync)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true)
                    // Temporary files on disk (SQLite's default), not in memory: the journal
                    // of a group member's savepoint holds the original of every page it
                    // changes, and in memory the audit writer's savepoints alone made 50 MiB of
                    // heap at the cohort's 5,000 rows a request. On disk it stays in the
                    // kernel's cache, past its first 64 KiB only.
                    .pragma("temp_store", "FILE")
                    // 2 MiB of page cache per connection: the OS caches the file anyway, and
                    // 8 × 4 MiB made up a third of the server's memory under load.
                    .pragma("cache_size", "-2048")
                    // The worker thread hands rows over through a bounded channel; at the
                    // default 50 a 90-day read waited for the reader twice on the way.
                    .row_buffer_size(512)
            });
            options.map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_connect(|conn, _| Box::pin(sqlite_plans::keep_plans_stable(conn)))
            });
        }
        if let Some(dir) = args
            .sqlite_path()
            .as_deref()
            .and_then(std::path::Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
        {
            // `serve`, `migrate`, `user create` and `demo` alike: the file's directory is made.
            std::fs::create_dir_all(dir).map_err(|e| {
                DbErr::Custom(format!(
                    "cannot create the directory {} for the SQLite file: {e}",
                    dir.display()
                ))
            })?;
        }
        if let Some(path) = args.sqlite_path() {
            private_sqlite_files(&path)
                .map_err(|e| DbErr::Custom(format!("{}: {e}", path.display())))?;
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| DbErr::Custom(format!("{}: {e}", where_is(args))))?;
        let write_gate = (db.get_database_backend() == DbBackend::Sqlite)
            .then(|| group::GroupCommit::start(db.clone()));
        Ok(Self { db, write_gate })
    }

    /// Connects and applies pending migrations.
    pub async fn connect_and_migrate(args: &DatabaseArgs) -> Result<Self, DbErr> {
        let store = Self::connect(args).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations, then classifies diary days written before `day_class`
    /// existed (the rules are the application's; see the migration `m20261201_500001`).
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.db, None).await?;
        diary::classify_unclassified(self).await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Starts a write transaction: on SQLite, after the write gate, a savepoint of the group's
    /// transaction (`BEGIN IMMEDIATE` for the group's first writer).
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        match &self.write_gate {
            Some(gate) => {
                let (txn, member) = gate.begin().await?;
                Ok(WriteTxn {
                    txn,
                    member: Some(member),
                })
            }
            None => Ok(WriteTxn {
                txn: Arc::new(self.db.begin().await?),
                member: None,
            }),
        }
    }

    /// On SQLite: a write whose statements are the one batch `batch` (`;`-separated, `?`
    /// parameters in order), sent with its savepoint in one round trip. Returns the rows the
    /// batch returned and the transaction to read in and `commit` (which waits for the group's
    /// COMMIT); what the batch wrote stays written even if the transaction is dropped. A
    /// failed batch has written nothing. `None` on PostgreSQL, whose driver sends one statement
    /// at a time: use [`Store::begin_write`].
    pub async fn write_batch(
        &self,
        batch: Statement,
    ) -> Option<Result<(Vec<QueryResult>, WriteTxn), DbErr>> {
        let gate = self.write_gate.as_ref()?;
        Some(gate.run_batch(batch).await.map(|(rows, txn, member)| {
            (
                rows,
                WriteTxn {
                    txn,
                    member: Some(member),
                },
            )
        }))
    }

    /// How the connection pool is used, for the metrics.
    pub fn pool_use(&self) -> PoolUse {
        match self.backend() {
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                PoolUse {
                    open: pool.size(),
                    idle: pool.num_idle(),
                    max: pool.options().get_max_connections(),
                }
            }
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                PoolUse {
                    open: pool.size(),
                    idle: pool.num_idle(),
                    max: pool.options().get_max_connections(),
                }
            }
            _ => PoolUse {
                open: 0,
                idle: 0,
                max: 0,
            },
        }
    }

    /// Writers queued on the SQLite write gate right now (0 on PostgreSQL); for tests and the
    /// `db_write_queue` metric.
    pub fn writers_waiting(&self) -> usize {
        self.write_gate.as_ref().map_or(0, |g| g.writers_waiting())
    }

    /// Group COMMITs issued so far on SQLite (0 on PostgreSQL); for tests and the benchmark.
    pub fn group_commits(&self) -> u64 {
        self.write_gate.as_ref().map_or(0, |g| g.commits())
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.ping().await
    }
}

/// Health data: the database file is created readable by its owner only (0600), before SQLite
/// opens it, and SQLite gives its `-wal` and `-shm` files the mode of the database file. Files
/// left readable by an earlier version are tightened.
fn private_sqlite_files(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::PathBuf::from(name);
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Where the database is, for an error message: the SQLite file's absolute path, or the
/// PostgreSQL host, port and database (never the password).
fn where_is(args: &DatabaseArgs) -> String {
    if let Some(path) = args.sqlite_path() {
        let absolute = std::path::absolute(&path).unwrap_or(path);
        return format!("cannot open the SQLite file {}", absolute.display());
    }
    let url = &args.database_url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = host.split_once('?').map_or(host, |(h, _)| h);
    if url.starts_with("postgres") {
        format!("cannot reach PostgreSQL at {host}")
    } else {
        format!("cannot open the database {host}")
    }
}

/// The current instant at the precision every backend stores (microseconds), so that what a
/// write returns equals what a later read returns.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// The error for a stored value that breaks a rule it was written under: a bug or a hand-edited
/// database, answered as a 500 and logged with `what`, never read as a default.
pub fn corrupt(what: impl std::fmt::Display, detail: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("corrupt {what}: {detail}"))
}

/// True when a database error is a unique-constraint violation (e.g. an email already taken).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::rows_per_insert;

    #[test]
    fn inserts_take_powers_of_two_up_to_64_rows() {
        assert_eq!(rows_per_insert(1), 1);
        assert_eq!(rows_per_insert(3), 2);
        assert_eq!(rows_per_insert(64), 64);
        assert_eq!(rows_per_insert(65), 64);
        assert_eq!(rows_per_insert(500), 64);
        assert_eq!(rows_per_insert(63), 32);
    }
}
