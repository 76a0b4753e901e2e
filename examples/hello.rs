//! The reference for the `/health/live` phase of `bench/run`: a bare axum server answering the
//! same JSON on the same route, with none of the service's layers, state or database.
//!
//! `cargo run --release --example hello -- 127.0.0.1:8091` (port 0: any free port, printed)

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[tokio::main]
async fn main() {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".into());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .expect("bind the hello server");
    let local = listener.local_addr().expect("local address");
    eprintln!("hello: listening on http://{local}");
    let app = Router::new().route("/health/live", get(live));
    axum::serve(listener, app).await.expect("serve");
}
