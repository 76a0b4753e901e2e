//! Group commit for SQLite: concurrent write transactions share one `COMMIT`, so one fsync,
//! with durability unchanged (`synchronous` FULL; nobody is acknowledged before the COMMIT that
//! holds their writes has returned).
//!
//! How: writers still take turns on one async mutex (the write gate, FIFO). The first writer of
//! a group opens the shared transaction (`BEGIN IMMEDIATE`); every writer runs its statements
//! inside its own `SAVEPOINT` of it ([`WriteTxn`] derefs to that savepoint). `commit` releases
//! the savepoint, queues the writer for the group's outcome, passes the gate on and wakes the
//! committer task. The committer then asks for the gate too: every writer queued before it runs
//! first and joins the group; then it commits once and answers every writer of the group with the
//! COMMIT's result. A writer whose request fails drops its `WriteTxn`: its savepoint alone is
//! rolled back and the others are untouched. A failed COMMIT fails every writer of the group.
//!
//! SQLite rolls a whole transaction back by itself only on I/O error, disk full, out of memory or
//! interrupt; the group's COMMIT then fails and every writer of it gets the error.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{oneshot, Mutex, Notify, OwnedMutexGuard};

/// The shared state behind the write gate.
#[derive(Default)]
pub(crate) struct Group {
    /// The group's transaction, open from its first writer until its COMMIT.
    txn: Option<DatabaseTransaction>,
    /// Writers whose savepoint is released, waiting for the group's COMMIT.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
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

    /// Waits for the gate, opens the group's transaction if this writer is its first, and
    /// starts the writer's savepoint.
    pub(crate) async fn begin(&self) -> Result<(DatabaseTransaction, Member), DbErr> {
        self.counters.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = Arc::clone(&self.group).lock_owned().await;
        self.counters.waiting.fetch_sub(1, Ordering::SeqCst);
        // From here on, dropping the member (an error below, a cancelled request) passes the
        // gate on and wakes the committer to settle a group this writer may have opened.
        let mut member = Member {
            group: Some(guard),
            wake: Arc::clone(&self.wake),
        };
        let savepoint = member.savepoint(&self.db).await?;
        Ok((savepoint, member))
    }

    pub(crate) fn writers_waiting(&self) -> usize {
        self.counters.waiting.load(Ordering::SeqCst)
    }

    pub(crate) fn commits(&self) -> u64 {
        self.counters.commits.load(Ordering::SeqCst)
    }
}

/// A writer's place in the group: holds the gate until its savepoint is released or dropped.
pub(crate) struct Member {
    group: Option<OwnedMutexGuard<Group>>,
    wake: Arc<Notify>,
}

impl Member {
    async fn savepoint(&mut self, db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
        let Some(group) = self.group.as_mut() else {
            return Err(DbErr::Custom("the write gate is not held".into()));
        };
        if group.txn.is_none() {
            let txn = db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?;
            group.txn = Some(txn);
        }
        match &group.txn {
            Some(txn) => txn.begin().await,
            None => Err(DbErr::Custom("no group transaction".into())),
        }
    }

    /// After the writer's savepoint is released: waits for the group's COMMIT.
    pub(crate) async fn acknowledge(mut self) -> Result<(), DbErr> {
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
        // A writer that failed (its savepoint is rolled back before this guard drops): the gate
        // passes on, and the committer must still settle the group it may have opened.
        if self.group.take().is_some() {
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
        let Some(txn) = state.txn.take() else {
            continue;
        };
        let waiters = std::mem::take(&mut state.waiters);
        let result = txn.commit().await.map_err(|e| e.to_string());
        counters.commits.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = &result {
            tracing::error!(error = %e, writers = waiters.len(), "group commit failed");
        }
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
    }
}
