//! Group commit for SQLite: concurrent write transactions share one `COMMIT`, so one fsync,
//! with durability unchanged (`synchronous` FULL; nobody is acknowledged before the COMMIT that
//! holds their writes has returned).
//!
//! How: writers still take turns on one async mutex (the write gate, FIFO). The first writer of
//! a group opens the shared transaction (`BEGIN IMMEDIATE`); every writer runs its statements
//! inside its own `SAVEPOINT` of it ([`WriteTxn`](super::WriteTxn) runs them on the group's
//! transaction). `commit` releases the savepoint, queues the writer for the group's outcome,
//! passes the gate on and wakes the committer task. The committer then asks for the gate too:
//! every writer queued before it runs first and joins the group; then it commits once and
//! answers every writer of the group with the COMMIT's result. A writer whose request fails
//! drops its `WriteTxn`: its savepoint alone is rolled back and the others are untouched. A
//! failed COMMIT fails every writer of the group.
//!
//! The savepoints are plain SQL (one name, `md_writer`), not sea-orm's nested transactions, for
//! two reasons. A writer whose work is one batch of statements sends `SAVEPOINT`, the batch and
//! `RELEASE` in one round trip to the connection's thread ([`GroupCommit::run_batch`]): each
//! round trip is made while the gate is held, and the diary PUT spent more time in those than in
//! SQLite. And a writer that fails cannot run SQL from `Drop`: it marks the group instead, while
//! it still holds the gate, and whoever takes the gate next (a writer or the committer) first
//! rolls back to the open savepoint and releases it. Every writer releases its savepoint before
//! it passes the gate on, so at most one is open, and it is the failed writer's. (Savepoints are
//! released rather than left for the COMMIT because SQLite keeps the journal of open savepoints
//! in memory only up to 64 KiB: a group's worth of them went to a temporary file, a write
//! system call per page.)
//!
//! SQLite rolls a whole transaction back by itself only on I/O error, disk full, out of memory or
//! interrupt; the group's COMMIT then fails and every writer of it gets the error.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, QueryResult,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::{oneshot, Mutex, Notify, OwnedMutexGuard};

const SAVEPOINT: &str = "SAVEPOINT md_writer";
const RELEASE: &str = "RELEASE md_writer";
const ROLL_BACK: &str = "ROLLBACK TO md_writer; RELEASE md_writer";

/// The shared state behind the write gate.
#[derive(Default)]
pub(crate) struct Group {
    /// The group's transaction, open from its first writer until its COMMIT. Shared with the
    /// writer holding the gate, who gives its handle back before it passes the gate on.
    txn: Option<Arc<DatabaseTransaction>>,
    /// Writers whose savepoint is released, waiting for the group's COMMIT.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// The last writer failed (or was cancelled) with its savepoint open: the next holder of
    /// the gate rolls it back first.
    abandoned: bool,
    /// Rolling a savepoint back failed: the transaction is in an unknown state, and only the
    /// committer touches it again (to roll it back and fail the group).
    broken: bool,
}

impl Group {
    /// Rolls back the savepoint of a writer that failed, before anyone else uses the transaction.
    async fn settle(&mut self) {
        if std::mem::take(&mut self.abandoned) {
            self.roll_back_savepoint().await;
        }
    }

    async fn roll_back_savepoint(&mut self) {
        if let Some(txn) = &self.txn {
            if let Err(e) = txn.execute_unprepared(ROLL_BACK).await {
                tracing::error!(error = %e, "rolling back a failed writer's savepoint failed");
                self.broken = true;
            }
        }
    }

    /// The group's transaction, opened (`BEGIN IMMEDIATE`) for its first writer.
    async fn transaction(
        &mut self,
        db: &DatabaseConnection,
    ) -> Result<Arc<DatabaseTransaction>, DbErr> {
        self.settle().await;
        if self.broken {
            return Err(DbErr::Custom(
                "the group transaction is broken; it is being rolled back".into(),
            ));
        }
        if let Some(txn) = &self.txn {
            return Ok(Arc::clone(txn));
        }
        let txn = Arc::new(
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?,
        );
        self.txn = Some(Arc::clone(&txn));
        Ok(txn)
    }
}

/// Counters about the gate, for tests and the benchmark's notes.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Writers queued on the gate right now.
    waiting: AtomicUsize,
    /// COMMITs the committer has issued (one per group).
    commits: AtomicU64,
}

/// The SQLite write gate with its committer task.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    db: DatabaseConnection,
    group: Arc<Mutex<Group>>,
    wake: Arc<Notify>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("counters", &self.counters)
            .finish()
    }
}

impl GroupCommit {
    /// Starts the committer task; it ends when the store is gone.
    pub(crate) fn start(db: DatabaseConnection) -> Self {
        let this = Self {
            db,
            group: Arc::new(Mutex::new(Group::default())),
            wake: Arc::new(Notify::new()),
            counters: Arc::default(),
        };
        tokio::spawn(committer(
            Arc::downgrade(&this.group),
            Arc::clone(&this.wake),
            Arc::clone(&this.counters),
        ));
        this
    }

    /// Waits for the gate; from then on, dropping the member (an error, a cancelled request)
    /// passes the gate on and wakes the committer to settle a group this writer may have opened.
    async fn join(&self) -> Member {
        self.counters.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = Arc::clone(&self.group).lock_owned().await;
        self.counters.waiting.fetch_sub(1, Ordering::SeqCst);
        Member {
            group: Some(guard),
            wake: Arc::clone(&self.wake),
            savepoint_open: false,
        }
    }

    /// Waits for the gate, opens the group's transaction if this writer is its first, and
    /// starts the writer's savepoint.
    pub(crate) async fn begin(&self) -> Result<(Arc<DatabaseTransaction>, Member), DbErr> {
        let mut member = self.join().await;
        let txn = member.group_mut()?.transaction(&self.db).await?;
        txn.execute_unprepared(SAVEPOINT).await?;
        member.savepoint_open = true;
        Ok((txn, member))
    }

    /// A writer whose statements are one batch (`;`-separated, `?` parameters in order): the
    /// batch runs inside the writer's savepoint, sent with its `SAVEPOINT` and `RELEASE` in one
    /// round trip. Returns the rows the batch's statements returned, and the member, whose
    /// savepoint is released: its writes are in the group and wait for its COMMIT
    /// ([`Member::acknowledge`]); a failed batch is rolled back at once.
    pub(crate) async fn run_batch(
        &self,
        batch: Statement,
    ) -> Result<(Vec<QueryResult>, Arc<DatabaseTransaction>, Member), DbErr> {
        let mut member = self.join().await;
        let group = member.group_mut()?;
        let txn = group.transaction(&self.db).await?;
        let Statement {
            sql,
            values,
            db_backend,
        } = batch;
        let wrapped = Statement {
            sql: format!("{SAVEPOINT}; {sql}; {RELEASE}"),
            values,
            db_backend,
        };
        match txn.query_all_raw(wrapped).await {
            Ok(rows) => Ok((rows, txn, member)),
            Err(e) => {
                // The savepoint is open unless SAVEPOINT itself failed; then no savepoint is
                // open at all (every writer releases its own), and the rollback fails harmlessly
                // with "no such savepoint".
                if let Err(rollback) = txn.execute_unprepared(ROLL_BACK).await {
                    if !rollback.to_string().contains("no such savepoint") {
                        tracing::error!(error = %rollback, "rolling back a failed batch failed");
                        group.broken = true;
                    }
                }
                Err(e)
            }
        }
    }

    pub(crate) fn writers_waiting(&self) -> usize {
        self.counters.waiting.load(Ordering::SeqCst)
    }

    pub(crate) fn commits(&self) -> u64 {
        self.counters.commits.load(Ordering::SeqCst)
    }
}

/// A writer's place in the group: holds the gate until the writer is done or dropped.
pub(crate) struct Member {
    group: Option<OwnedMutexGuard<Group>>,
    wake: Arc<Notify>,
    /// This writer's savepoint is open (so a failure must roll it back).
    savepoint_open: bool,
}

impl Member {
    fn group_mut(&mut self) -> Result<&mut Group, DbErr> {
        self.group
            .as_deref_mut()
            .ok_or_else(|| DbErr::Custom("the write gate is not held".into()))
    }

    /// Releases the writer's savepoint: its writes join the group's.
    pub(crate) async fn release(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        if self.savepoint_open {
            txn.execute_unprepared(RELEASE).await?;
            self.savepoint_open = false;
        }
        Ok(())
    }

    /// After the writer's savepoint is released (and its handle on the transaction given
    /// back): waits for the group's COMMIT.
    pub(crate) async fn acknowledge(mut self) -> Result<(), DbErr> {
        if self.savepoint_open {
            return Err(DbErr::Custom("the writer's savepoint is still open".into()));
        }
        let (tx, rx) = oneshot::channel();
        if let Some(mut group) = self.group.take() {
            group.waiters.push(tx);
        }
        self.wake.notify_one();
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DbErr::Custom(format!("group commit failed: {e}"))),
            Err(_) => Err(DbErr::Custom("group commit abandoned".into())),
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // A writer that failed: its open savepoint is rolled back by the next holder of the gate,
        // and the committer must still settle the group it may have opened.
        if let Some(mut group) = self.group.take() {
            group.abandoned |= self.savepoint_open;
            drop(group);
            self.wake.notify_one();
        }
    }
}

/// One COMMIT per group: queues on the gate behind the writers already waiting, commits what
/// they wrote, answers them all.
async fn committer(group: Weak<Mutex<Group>>, wake: Arc<Notify>, counters: Arc<Counters>) {
    loop {
        wake.notified().await;
        let Some(group) = group.upgrade() else { return };
        let mut state = group.lock().await;
        state.settle().await;
        let broken = std::mem::take(&mut state.broken);
        let Some(txn) = state.txn.take() else {
            continue;
        };
        let waiters = std::mem::take(&mut state.waiters);
        let result = match Arc::try_unwrap(txn) {
            Ok(txn) if broken => {
                let _ = txn.rollback().await;
                Err("a failed writer's savepoint could not be rolled back".to_owned())
            }
            Ok(txn) => txn.commit().await.map_err(|e| e.to_string()),
            // Cannot happen: every writer drops its handle before it passes the gate on. The
            // group fails; the last handle's drop rolls the transaction back.
            Err(_) => Err("the group transaction is still in use".to_owned()),
        };
        counters.commits.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = &result {
            tracing::error!(error = %e, writers = waiters.len(), "group commit failed");
        }
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}
