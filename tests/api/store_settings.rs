//! Connection settings that the code relies on but no query shows.

use migraine_diary::config::DatabaseArgs;
use migraine_diary::store::{sqlite_plans, Store};

use crate::common::fresh_database;

/// Every pooled SQLite connection keeps its statements' plans whatever is bound (else each
/// `LIMIT ?` query is parsed and planned again on every execution).
#[tokio::test]
async fn every_sqlite_connection_keeps_its_plans_stable() {
    let database = fresh_database().await;
    if !database.url.starts_with("sqlite:") {
        return;
    }
    let store = Store::connect_and_migrate(&DatabaseArgs::for_url(&database.url))
        .await
        .expect("store");
    let pool = store.db.get_sqlite_connection_pool();
    // Hold them all at once, so that each is a different connection.
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.expect("connection"));
    }
    for conn in &mut held {
        assert!(sqlite_plans::plans_are_stable(conn)
            .await
            .expect("db_config"));
    }
}
