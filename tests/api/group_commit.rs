//! SQLite group commit (`store::group`): writers that queued on the write gate share one COMMIT;
//! one writer's failure rolls back only its own statements; a failed COMMIT fails them all.
//! These drive the store directly on SQLite (PostgreSQL has no group commit). The writers are
//! put into one group deterministically: the first holds the gate until the others are queued.

use migraine_diary::config::DatabaseArgs;
use migraine_diary::store::{Store, WriteTxn};
use sea_orm::{ConnectionTrait, DbErr, Statement};

async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let store = Store::connect(&DatabaseArgs::for_url(url)).await.unwrap();
    store
        .db
        .execute_unprepared(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY,
                 parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .await
        .unwrap();
    store
}

async fn insert(store: &Store, table: &str, id: i64, parent: Option<i64>) -> Result<(), DbErr> {
    let txn = store.begin_write().await?;
    let sql = match parent {
        Some(p) => format!("INSERT INTO {table} (id, parent) VALUES ({id}, {p})"),
        None => format!("INSERT INTO {table} (id) VALUES ({id})"),
    };
    txn.execute_unprepared(&sql).await?;
    txn.commit().await
}

async fn ids(store: &Store, table: &str) -> Vec<i64> {
    let rows = store
        .db
        .query_all_raw(Statement::from_string(
            store.backend(),
            format!("SELECT id FROM {table} ORDER BY id"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect()
}

/// Takes the write gate and runs `sql` in its savepoint: writers started next queue behind it,
/// and join its group.
async fn holding_the_gate(store: &Store, sql: &str) -> WriteTxn {
    let txn = store.begin_write().await.unwrap();
    txn.execute_unprepared(sql).await.unwrap();
    txn
}

/// Waits (without a clock) until `n` writers are queued behind the one holding the gate.
async fn until_queued(store: &Store, n: usize) {
    while store.writers_waiting() < n {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn one_writers_failure_rolls_back_only_its_own_statements() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    insert(&store, "parent", 1, None).await.unwrap();
    let before = store.group_commits();

    let first = holding_the_gate(&store, "INSERT INTO parent (id) VALUES (2)").await;
    // A duplicate key after a good row: its statement fails and it drops its transaction.
    let failing = tokio::spawn({
        let store = store.clone();
        async move {
            let txn = store.begin_write().await?;
            txn.execute_unprepared("INSERT INTO parent (id) VALUES (3)")
                .await?;
            txn.execute_unprepared("INSERT INTO parent (id) VALUES (1)")
                .await?;
            txn.commit().await
        }
    });
    let good = tokio::spawn({
        let store = store.clone();
        async move { insert(&store, "parent", 4, None).await }
    });
    until_queued(&store, 2).await;
    first.commit().await.unwrap();

    let failed = failing.await.unwrap();
    assert!(failed.is_err(), "the duplicate key fails its writer");
    good.await.unwrap().unwrap();
    assert_eq!(ids(&store, "parent").await, vec![1, 2, 4]);
    assert_eq!(
        store.group_commits() - before,
        1,
        "the three writers shared one COMMIT"
    );
    // The gate and the connection are fine afterwards.
    insert(&store, "parent", 5, None).await.unwrap();
    assert_eq!(ids(&store, "parent").await, vec![1, 2, 4, 5]);
}

#[tokio::test]
async fn a_failed_commit_fails_every_writer_of_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let before = store.group_commits();

    let first = holding_the_gate(
        &store,
        "INSERT INTO parent (id) VALUES (1); INSERT INTO child (id, parent) VALUES (10, 1)",
    )
    .await;
    // A dangling deferred reference: its savepoint is released, the group's COMMIT refuses it.
    let dangling = tokio::spawn({
        let store = store.clone();
        async move { insert(&store, "child", 11, Some(99)).await }
    });
    until_queued(&store, 1).await;
    let first = first.commit().await;
    let dangling = dangling.await.unwrap();
    assert!(
        first.is_err(),
        "a good writer of a failed group is not acknowledged"
    );
    assert!(dangling.is_err());
    assert_eq!(store.group_commits() - before, 1);
    assert!(ids(&store, "parent").await.is_empty());
    assert!(ids(&store, "child").await.is_empty());

    // The next group starts clean.
    insert(&store, "parent", 2, None).await.unwrap();
    insert(&store, "child", 12, Some(2)).await.unwrap();
    assert_eq!(ids(&store, "parent").await, vec![2]);
    assert_eq!(ids(&store, "child").await, vec![12]);
}

#[tokio::test]
async fn writers_queued_meanwhile_share_one_commit_and_all_persist() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let before = store.group_commits();
    let first = store.begin_write().await.unwrap();
    let mut writers = Vec::new();
    for id in 100..120 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            insert(&store, "parent", id, None).await
        }));
    }
    until_queued(&store, 20).await;
    first.commit().await.unwrap();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    assert_eq!(ids(&store, "parent").await, (100..120).collect::<Vec<_>>());
    assert_eq!(store.group_commits() - before, 1);
    // Reopening the file sees them: they were committed, not only visible in the group.
    drop(store);
    let again = sqlite_store_reopen(&dir).await;
    assert_eq!(ids(&again, "parent").await.len(), 20);
}

async fn sqlite_store_reopen(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    Store::connect(&DatabaseArgs::for_url(url)).await.unwrap()
}

/// A writer whose statements are one batch (`Store::write_batch`, the diary PUT's path) joins
/// the group like any other; a batch that fails halfway has written nothing, and the writers
/// around it keep what they wrote.
#[tokio::test]
async fn a_failed_batch_writes_nothing_and_the_group_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    insert(&store, "parent", 1, None).await.unwrap();
    let before = store.group_commits();

    let first = holding_the_gate(&store, "INSERT INTO parent (id) VALUES (2)").await;
    let batch = |sql: &str| Statement::from_string(store.backend(), sql.to_owned());
    // A good row, then a duplicate key: the batch stops at the duplicate.
    let failing = tokio::spawn({
        let (store, batch) = (
            store.clone(),
            batch("INSERT INTO parent (id) VALUES (3); INSERT INTO parent (id) VALUES (1)"),
        );
        async move {
            let (_, txn) = store.write_batch(batch).await.expect("SQLite")?;
            txn.commit().await
        }
    });
    until_queued(&store, 1).await;
    let good = tokio::spawn({
        let (store, batch) = (
            store.clone(),
            batch("INSERT INTO parent (id) VALUES (4) RETURNING id; INSERT INTO parent (id) VALUES (5)"),
        );
        async move {
            let (rows, txn) = store.write_batch(batch).await.expect("SQLite")?;
            txn.commit().await?;
            Ok::<_, DbErr>(rows.len())
        }
    });
    until_queued(&store, 2).await;
    first.commit().await.unwrap();

    assert!(
        failing.await.unwrap().is_err(),
        "the duplicate key fails its batch"
    );
    assert_eq!(
        good.await.unwrap().unwrap(),
        1,
        "the batch's one RETURNING row"
    );
    assert_eq!(ids(&store, "parent").await, vec![1, 2, 4, 5]);
    assert_eq!(
        store.group_commits() - before,
        1,
        "one COMMIT for the three"
    );
    // The next writer finds no savepoint left open.
    insert(&store, "parent", 6, None).await.unwrap();
    assert_eq!(ids(&store, "parent").await, vec![1, 2, 4, 5, 6]);
}

/// A writer dropped with its statements run (a failed or cancelled request) as the last of its
/// group: the committer rolls its savepoint back before the COMMIT.
#[tokio::test]
async fn a_writer_dropped_last_in_its_group_is_rolled_back_before_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let before = store.group_commits();

    let first = holding_the_gate(&store, "INSERT INTO parent (id) VALUES (1)").await;
    let dropped = tokio::spawn({
        let store = store.clone();
        async move {
            let txn = store.begin_write().await?;
            txn.execute_unprepared("INSERT INTO parent (id) VALUES (7)")
                .await?;
            drop(txn);
            Ok::<_, DbErr>(())
        }
    });
    until_queued(&store, 1).await;
    first.commit().await.unwrap();
    dropped.await.unwrap().unwrap();

    assert_eq!(ids(&store, "parent").await, vec![1]);
    assert_eq!(store.group_commits() - before, 1);
    insert(&store, "parent", 2, None).await.unwrap();
    assert_eq!(ids(&store, "parent").await, vec![1, 2]);
}
