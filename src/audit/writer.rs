//! The audit writer: rows reach the database in batches, off the request path.
//!
//! Requests hand their rows to a bounded channel and go on; one task appends them, a batch
//! every [`BATCH_ROWS`] rows or [`BATCH_WAIT`], whichever comes first, in one transaction.
//! The channel is bounded twice: by requests ([`QUEUE_REQUESTS`]) and by rows ([`QUEUE_ROWS`];
//! a cohort request records one row per pooled patient, 5,000 for the largest benchmark cohort,
//! and 4,096 such requests were gigabytes). When either is full (the database is slower than the
//! requests, or down), a request waits for room before its response leaves: backpressure, never
//! a dropped row. A failed write is retried, with a growing pause, until it succeeds.
//!
//! What a crash can lose: rows still in the channel or in the batch being written, at most
//! [`BATCH_WAIT`] worth of requests in normal operation (more while the database is failing).
//! A graceful shutdown flushes them ([`AuditLog::flush`]).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::store::audit::{self, Recording};
use crate::store::Store;

/// Requests whose rows may wait in the channel before the next one waits for room.
pub const QUEUE_REQUESTS: usize = 4096;
/// Rows that may wait (in the channel or the batch being written) before the next request waits
/// for room; a request with more rows than this waits until nothing waits. Four recordings of
/// the largest benchmark cohort; queued as [`Recording`]s they are 16 bytes a row (as rows of
/// their own, ~330 bytes, they were 6 MiB, and 10,000 was tried to save memory: on PostgreSQL,
/// whose trail is written more slowly, the largest cohort then waited for room, 637 ms a
/// request instead of 64 ms).
pub const QUEUE_ROWS: usize = 20_000;
/// Rows per batch at most.
pub const BATCH_ROWS: usize = 500;
/// How long the first row of a batch waits for company. Waiting 1 s instead did not change the
/// benchmark's read throughput, and a crash loses at most this much of the trail.
pub const BATCH_WAIT: Duration = Duration::from_millis(50);
/// Longest pause between two attempts at a failing write.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

enum Message {
    /// A request's rows, with their share of [`QUEUE_ROWS`], given back once they are written.
    Rows(Recording, OwnedSemaphorePermit),
    /// Answered once every row sent before it is in the database.
    Flush(oneshot::Sender<()>),
}

/// The handle requests record through; a clone is one reference count (the layer's state is
/// cloned for every request).
#[derive(Clone, Debug)]
pub struct AuditLog(Arc<Channel>);

#[derive(Debug)]
pub struct Channel {
    sender: mpsc::Sender<Message>,
    /// Room for [`QUEUE_ROWS`] rows.
    room: Arc<Semaphore>,
    backlog: Arc<AtomicI64>,
}

impl std::ops::Deref for AuditLog {
    type Target = Channel;

    fn deref(&self) -> &Channel {
        &self.0
    }
}

impl AuditLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_REQUESTS);
        let backlog = Arc::new(AtomicI64::new(0));
        tokio::spawn(run(store, receiver, Arc::clone(&backlog)));
        let room = Arc::new(Semaphore::new(QUEUE_ROWS));
        Self(Arc::new(Channel {
            sender,
            room,
            backlog,
        }))
    }

    /// Queues a request's recording; waits while the queue is full.
    pub async fn record(&self, recording: Recording) {
        let n = recording.len() as i64;
        self.backlog.fetch_add(n, Ordering::Relaxed);
        let queued = match Arc::clone(&self.room)
            .acquire_many_owned(room_for(recording.len()))
            .await
        {
            Ok(room) => self
                .sender
                .send(Message::Rows(recording, room))
                .await
                .is_ok(),
            Err(_) => false,
        };
        if !queued {
            // Only when the writer task is gone (the runtime is shutting down).
            self.backlog.fetch_sub(n, Ordering::Relaxed);
            tracing::error!(rows = n, "audit writer stopped; audit rows not written");
        }
    }

    /// Queues a recording without waiting (for a `Drop`): at once when there is room, else from
    /// a task that waits for room.
    pub fn record_detached(&self, recording: Recording) {
        let n = recording.len() as i64;
        let room = Arc::clone(&self.room).try_acquire_many_owned(room_for(recording.len()));
        let recording = match room {
            Ok(room) => {
                self.backlog.fetch_add(n, Ordering::Relaxed);
                match self.sender.try_send(Message::Rows(recording, room)) {
                    Ok(()) => return,
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        self.backlog.fetch_sub(n, Ordering::Relaxed);
                        tracing::error!(rows = n, "audit writer stopped; audit rows not written");
                        return;
                    }
                    Err(mpsc::error::TrySendError::Full(Message::Rows(recording, _))) => {
                        self.backlog.fetch_sub(n, Ordering::Relaxed);
                        recording
                    }
                    Err(mpsc::error::TrySendError::Full(Message::Flush(_))) => return,
                }
            }
            Err(_) => recording,
        };
        // No room now: a task waits for it.
        let log = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move { log.record(recording).await })),
            Err(_) => tracing::error!(rows = n, "no runtime; audit rows not written"),
        }
    }

    /// Returns once every row recorded before the call is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Rows recorded but not yet in the database.
    pub fn backlog(&self) -> i64 {
        self.backlog.load(Ordering::Relaxed)
    }
}

async fn run(store: Store, mut receiver: mpsc::Receiver<Message>, backlog: Arc<AtomicI64>) {
    let mut batch: Vec<Recording> = Vec::new();
    let mut rooms: Vec<OwnedSemaphorePermit> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut rows = 0;
        let mut flush_now = take(first, &mut batch, &mut rows, &mut rooms, &mut waiting);
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        while !flush_now && rows < BATCH_ROWS {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(message)) => {
                    flush_now = take(message, &mut batch, &mut rows, &mut rooms, &mut waiting);
                }
                Ok(None) | Err(_) => break,
            }
        }
        write(&store, &batch).await;
        backlog.fetch_sub(rows as i64, Ordering::Relaxed);
        batch.clear();
        rooms.clear();
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
    write(&store, &batch).await;
}

/// How much of [`QUEUE_ROWS`] `rows` rows take: all of it for more than that (they wait for an
/// empty queue), at least one permit for none.
fn room_for(rows: usize) -> u32 {
    u32::try_from(rows.clamp(1, QUEUE_ROWS)).unwrap_or(u32::MAX)
}

/// Adds a message to the batch; true when it asks for a flush.
fn take(
    message: Message,
    batch: &mut Vec<Recording>,
    rows: &mut usize,
    rooms: &mut Vec<OwnedSemaphorePermit>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) -> bool {
    match message {
        Message::Rows(recording, room) => {
            *rows += recording.len();
            batch.push(recording);
            // Given back when the batch is written.
            rooms.push(room);
            false
        }
        Message::Flush(done) => {
            waiting.push(done);
            true
        }
    }
}

/// Appends the batch in one transaction, retrying until it is in.
async fn write(store: &Store, batch: &[Recording]) {
    if batch.is_empty() {
        return;
    }
    let ids = audit::row_ids(batch);
    let mut pause = Duration::from_millis(100);
    loop {
        match try_write(store, batch, &ids).await {
            Ok(()) => return,
            // The commit went through but its answer was lost: the rows are in already.
            Err(e) if crate::store::is_unique_violation(&e) => return,
            Err(e) => {
                tracing::error!(error = %e, rows = ids.len(), "audit write failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY_PAUSE);
            }
        }
    }
}

async fn try_write(store: &Store, batch: &[Recording], ids: &[Uuid]) -> Result<(), sea_orm::DbErr> {
    let txn = store.begin_write().await?;
    audit::append(&*txn, batch, ids).await?;
    txn.commit().await
}
