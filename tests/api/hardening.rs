//! Lesser findings of the abuse review: private database files, bidi controls in names, the
//! client's request id, and bounds on every string a request carries.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use crate::common::{TestApp, PASSWORD};

#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_readable_by_their_owner_only() {
    let app = TestApp::new().await;
    if app.is_postgres() {
        return;
    }
    // A write makes SQLite create the -wal and -shm files.
    app.patient("ana@example.org", "UTC").await;
    use std::os::unix::fs::PermissionsExt;
    let db = migraine_diary::config::sqlite_path(&app.database_url).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[tokio::test]
async fn bidi_controls_in_display_names_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "eve@example.org", "password": PASSWORD,
                        "timezone": "UTC", "display_name": "Dr \u{202E}miK"})),
        )
        .await;
    r.assert_invalid("display_name");
    let ana = app.patient("ana@example.org", "UTC").await;
    for name in ["a\u{2067}b", "x\u{202A}y", "m\u{200F}n"] {
        let r = app
            .call(
                "PATCH",
                "/v1/me",
                Some(&ana.token),
                Some(json!({"display_name": name})),
            )
            .await;
        r.assert_invalid("display_name");
    }
    let me = app.get("/v1/me", &ana.token).await;
    assert_eq!(me.body["display_name"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_clients_request_id_is_kept_only_when_it_is_a_plain_token() {
    let app = TestApp::new().await;
    let echo = |id: &'static str| {
        let app = &app;
        async move {
            let request = Request::get("/health/live")
                .header("x-request-id", id)
                .body(Body::empty())
                .unwrap();
            let r = app.send(request).await;
            r.headers["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(echo("app-4711.retry_2").await, "app-4711.retry_2");
    for forged in [
        "abc method=DELETE path=/v1/patients",
        "\"quoted\"",
        "0123456789012345678901234567890123456789012345678901234567890123456789",
    ] {
        let id = echo(forged).await;
        assert_ne!(id, forged);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "a fresh id, got {id}");
    }
}

#[tokio::test]
async fn oversized_strings_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let huge = "x".repeat(100_000);
    for path in ["/v1/auth/refresh", "/v1/auth/logout"] {
        app.call("POST", path, None, Some(json!({"refresh_token": huge})))
            .await
            .assert_invalid("refresh_token");
    }
    app.call(
        "POST",
        "/v1/me/clinicians",
        Some(&ana.token),
        Some(json!({"code": huge})),
    )
    .await
    .assert_invalid("code");
    app.call(
        "PATCH",
        "/v1/me",
        Some(&ana.token),
        Some(json!({"timezone": format!("Europe/{huge}")})),
    )
    .await
    .assert_invalid("timezone");
    app.call(
        "POST",
        "/v1/auth/register",
        None,
        Some(
            json!({"email": format!("{huge}@example.org"), "password": PASSWORD,
                    "timezone": "UTC", "display_name": huge}),
        ),
    )
    .await
    .assert_invalid("display_name");
    let cursor = "A".repeat(600);
    app.get(
        &format!("/v1/patients/{}/treatments?cursor={cursor}", ana.id),
        &ana.token,
    )
    .await
    .assert_invalid("cursor");
    app.get(
        &format!("/v1/patients/{}/diary?cursor={cursor}", ana.id),
        &ana.token,
    )
    .await
    .assert_invalid("cursor");
}
