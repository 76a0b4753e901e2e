//! Sessions end at once: logout, password change and reuse of a refresh token refuse the
//! session's access tokens from then on, on every instance; a warm request checks its session
//! without a query.

use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::Utc;
use migraine_diary::auth::tokens::{Claims, TokenKeys, AUDIENCE, ISSUER};
use migraine_diary::auth::Role;
use migraine_diary::config::AuthSettings;
use serde_json::{json, Value};

use crate::common::{Actor, TestApp, PASSWORD, SECRET};

async fn logout(app: &TestApp, actor: &Actor) {
    let r = app
        .call(
            "POST",
            "/v1/auth/logout",
            None,
            Some(json!({"refresh_token": actor.refresh})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

async fn refresh(app: &TestApp, refresh_token: &str) -> crate::common::Resp {
    app.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh_token})),
    )
    .await
}

async fn change_password(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
) -> crate::common::Resp {
    app.call(
        "POST",
        "/v1/me/password",
        Some(token),
        Some(json!({"current_password": current, "new_password": new})),
    )
    .await
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test]
async fn logout_refuses_that_sessions_access_token_at_once_and_keeps_the_others() {
    let app = TestApp::new().await;
    let phone = app.patient("ana@example.org", "Europe/Berlin").await;
    let laptop = app.login("ana@example.org").await;
    assert_eq!(app.get("/v1/me", &phone.token).await.status, 200);
    logout(&app, &phone).await;
    app.get("/v1/me", &phone.token).await.assert_problem(401);
    refresh(&app, &phone.refresh).await.assert_problem(401);
    assert_eq!(app.get("/v1/me", &laptop.token).await.status, 200);
    // Logging out twice is harmless.
    logout(&app, &phone).await;
}

#[tokio::test]
async fn refreshed_tokens_belong_to_the_same_session() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let r = refresh(&app, &ana.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&token)["sid"], claims_of(&ana.token)["sid"]);
    // Re-using the spent refresh token is theft: the whole session ends, access tokens too.
    refresh(&app, &ana.refresh).await.assert_problem(401);
    app.get("/v1/me", &token).await.assert_problem(401);
    app.get("/v1/me", &ana.token).await.assert_problem(401);
}

#[tokio::test]
async fn password_change_ends_every_session_and_starts_a_fresh_one() {
    let app = TestApp::new().await;
    let phone = app.patient("ana@example.org", "UTC").await;
    let laptop = app.login("ana@example.org").await;
    let r = change_password(&app, &phone.token, PASSWORD, "a whole new passphrase").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    let fresh = r.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/v1/me", fresh).await.status, 200);
    for old in [&phone, &laptop] {
        app.get("/v1/me", &old.token).await.assert_problem(401);
        refresh(&app, &old.refresh).await.assert_problem(401);
    }
    let login = |password: &str| {
        app.call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "ana@example.org", "password": password})),
        )
    };
    login(PASSWORD).await.assert_problem(401);
    assert_eq!(login("a whole new passphrase").await.status, 200);
}

#[tokio::test]
async fn password_change_refuses_a_wrong_current_password_and_a_short_new_one() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    change_password(
        &app,
        &ana.token,
        "not my password",
        "a whole new passphrase",
    )
    .await
    .assert_problem(401);
    change_password(&app, &ana.token, PASSWORD, "short")
        .await
        .assert_invalid("new_password");
    change_password(&app, &ana.token, PASSWORD, &"x".repeat(257))
        .await
        .assert_invalid("new_password");
    app.call(
        "POST",
        "/v1/me/password",
        None,
        Some(json!({"current_password": PASSWORD, "new_password": "a whole new passphrase"})),
    )
    .await
    .assert_problem(401);
    // Nothing changed: the session and the password are as they were.
    assert_eq!(app.get("/v1/me", &ana.token).await.status, 200);
    app.login("ana@example.org").await;
}

#[tokio::test]
async fn a_token_whose_role_the_account_does_not_have_is_refused() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let claims = claims_of(&ana.token);
    let keys = TokenKeys::new(&AuthSettings::with_secret(SECRET.to_vec()));
    let now = Utc::now().timestamp();
    let sign = |role: Role, iat: i64| {
        keys.sign(&Claims {
            sub: ana.id,
            role,
            sid: claims["sid"].as_str().unwrap().parse().unwrap(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat,
            nbf: now,
            exp: now + 600,
        })
        .unwrap()
    };
    // The same session, properly signed: accepted as the patient, refused as an admin.
    assert_eq!(
        app.get("/v1/me", &sign(Role::Patient, now)).await.status,
        200
    );
    app.get("/v1/me", &sign(Role::Admin, now))
        .await
        .assert_problem(401);
    // Issued in the future (beyond the leeway).
    app.get("/v1/me", &sign(Role::Patient, now + 300))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn a_warm_request_checks_its_session_without_a_query() {
    let app = TestApp::new().await;
    let statements = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&statements);
    let observed = app
        .instance_with(move |store| {
            store.db.set_metric_callback(move |info| {
                seen.lock().unwrap().push(info.statement.sql.clone());
            })
        })
        .await;
    let ana = observed.patient("ana@example.org", "UTC").await;
    let reads_sessions = |sqls: &[String]| sqls.iter().any(|s| s.contains("\"sessions\""));

    // A fresh instance has not seen this session: the first request reads it ...
    let fresh = app.instance_with(|_| {}).await;
    let cold_before = fresh.state.sessions.stats();
    assert_eq!(fresh.get("/v1/me", &ana.token).await.status, 200);
    assert_eq!(fresh.state.sessions.stats().misses, cold_before.misses + 1);

    // ... and on the observed instance (which has), requests send no session query at all.
    observed.get("/v1/me", &ana.token).await;
    statements.lock().unwrap().clear();
    let before = observed.state.sessions.stats();
    for _ in 0..3 {
        assert_eq!(observed.get("/v1/me", &ana.token).await.status, 200);
    }
    let warm = statements.lock().unwrap().clone();
    assert!(!warm.is_empty(), "the handler itself reads the account");
    assert!(
        !reads_sessions(&warm),
        "warm requests read sessions: {warm:?}"
    );
    assert_eq!(observed.state.sessions.stats().hits, before.hits + 3);

    // After a logout the next request reads the session again (and is refused).
    logout(&observed, &ana).await;
    statements.lock().unwrap().clear();
    observed.get("/v1/me", &ana.token).await.assert_problem(401);
    assert!(reads_sessions(&statements.lock().unwrap()));
}

/// Two instances behind a load balancer, one PostgreSQL: what ends on one is refused by the
/// other as soon as the first has answered. (SQLite serves one instance per database file.)
#[tokio::test]
async fn a_logout_or_password_change_on_one_instance_is_honoured_by_another_at_once() {
    let a = TestApp::new().await;
    if !a.is_postgres() {
        return;
    }
    let b = a.second_instance().await;
    let phone = a.patient("ana@example.org", "UTC").await;
    let laptop = a.login("ana@example.org").await;
    // B has the sessions in its cache.
    assert_eq!(b.get("/v1/me", &phone.token).await.status, 200);
    assert_eq!(b.get("/v1/me", &laptop.token).await.status, 200);

    logout(&a, &phone).await;
    b.get("/v1/me", &phone.token).await.assert_problem(401);
    assert_eq!(b.get("/v1/me", &laptop.token).await.status, 200);

    // A password change on B ends the laptop's session on A too.
    assert_eq!(a.get("/v1/me", &laptop.token).await.status, 200);
    let r = change_password(&b, &laptop.token, PASSWORD, "a whole new passphrase").await;
    assert_eq!(r.status, 200, "{}", r.body);
    a.get("/v1/me", &laptop.token).await.assert_problem(401);
    let fresh = r.body["access_token"].as_str().unwrap();
    assert_eq!(a.get("/v1/me", fresh).await.status, 200);
}
