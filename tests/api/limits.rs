//! Limits an attacker cannot turn against a patient: login budgets per account and address, per
//! address and per account, counted before the password is checked and shared through the
//! database; sign-ups per address; a request rate per caller; client addresses behind proxies.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::http::Request;
use migraine_diary::limits::{Budget, LimitSettings, TrustedProxies};
use migraine_diary::store::throttle;
use serde_json::{json, Value};

use crate::common::{send_to, Resp, TestApp, PASSWORD};

fn peer(s: &str) -> SocketAddr {
    format!("{s}:40000").parse().unwrap()
}

fn small(login_per_account_client: u32) -> LimitSettings {
    LimitSettings {
        login_per_account_client: Budget::new(login_per_account_client, 900),
        ..LimitSettings::default()
    }
}

fn credentials(email: &str, password: &str) -> Option<Value> {
    Some(json!({"email": email, "password": password}))
}

/// A login request from the socket peer `from`.
fn login_request(from: &str, email: &str, password: &str) -> Request<Body> {
    let mut request =
        TestApp::json_request("POST", "/v1/auth/login", None, credentials(email, password));
    request.extensions_mut().insert(ConnectInfo(peer(from)));
    request
}

async fn login_from(app: &TestApp, from: &str, email: &str, password: &str) -> Resp {
    app.call_from(
        peer(from),
        "POST",
        "/v1/auth/login",
        None,
        credentials(email, password),
    )
    .await
}

#[track_caller]
fn assert_retry_after(r: &Resp, at_most: u64) {
    r.assert_problem(429);
    let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=at_most).contains(&secs), "Retry-After {secs}");
}

#[tokio::test]
async fn an_attacker_hammering_an_account_cannot_lock_the_owner_out() {
    let app = TestApp::with_limits(small(3)).await;
    app.patient("ana@example.org", "UTC").await;
    let attacker = "198.51.100.66";
    // Case and padding do not make another account (nor another budget).
    for email in ["ana@example.org", "ANA@Example.org", "  ana@example.org\t"] {
        login_from(&app, attacker, email, "wrong password")
            .await
            .assert_problem(401);
    }
    for _ in 0..20 {
        let r = login_from(&app, attacker, "Ana@example.org ", "wrong password").await;
        assert_retry_after(&r, 900);
    }
    // Not even the right password gets through from the attacker's address…
    let r = login_from(&app, attacker, "ana@example.org", PASSWORD).await;
    assert_retry_after(&r, 900);
    // …but the owner, from her own address, logs in.
    let owner = login_from(&app, "203.0.113.5", "ana@example.org", PASSWORD).await;
    assert_eq!(owner.status, 200, "{}", owner.body);
}

#[tokio::test]
async fn a_successful_login_forgives_the_owners_own_typos() {
    let app = TestApp::with_limits(small(3)).await;
    app.patient("ana@example.org", "UTC").await;
    let home = "203.0.113.5";
    for _ in 0..2 {
        login_from(&app, home, "ana@example.org", "typo typo")
            .await
            .assert_problem(401);
    }
    assert_eq!(
        login_from(&app, home, "ana@example.org", PASSWORD)
            .await
            .status,
        200
    );
    for _ in 0..3 {
        login_from(&app, home, "ana@example.org", "typo typo")
            .await
            .assert_problem(401);
    }
    login_from(&app, home, "ana@example.org", "typo typo")
        .await
        .assert_problem(429);
}

#[tokio::test]
async fn password_spraying_over_many_accounts_is_limited_per_address() {
    let app = TestApp::with_limits(LimitSettings {
        login_per_client: Budget::new(5, 900),
        ..LimitSettings::default()
    })
    .await;
    app.patient("ana@example.org", "UTC").await;
    let sprayer = "198.51.100.7";
    for i in 0..5 {
        login_from(
            &app,
            sprayer,
            &format!("user{i}@example.org"),
            "Winter2026!",
        )
        .await
        .assert_problem(401);
    }
    let r = login_from(&app, sprayer, "user99@example.org", "Winter2026!").await;
    assert_retry_after(&r, 900);
    // Other addresses are not slowed down.
    let r = login_from(&app, "203.0.113.5", "ana@example.org", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn the_account_ceiling_stops_a_distributed_attack_and_refused_attempts_do_not_count() {
    let app = TestApp::with_limits(LimitSettings {
        login_per_account_client: Budget::new(2, 900),
        login_per_account: Budget::new(4, 900),
        ..LimitSettings::default()
    })
    .await;
    app.patient("ana@example.org", "UTC").await;
    // One address, refused after its 2: its refused attempts never reach the account ceiling.
    for _ in 0..2 {
        login_from(&app, "198.51.100.1", "ana@example.org", "guess")
            .await
            .assert_problem(401);
    }
    for _ in 0..10 {
        login_from(&app, "198.51.100.1", "ana@example.org", "guess")
            .await
            .assert_problem(429);
    }
    login_from(&app, "198.51.100.2", "ana@example.org", "guess")
        .await
        .assert_problem(401);
    // A second address brings the account to its ceiling of 4 failures.
    login_from(&app, "198.51.100.2", "ana@example.org", "guess")
        .await
        .assert_problem(401);
    login_from(&app, "198.51.100.3", "ana@example.org", "guess")
        .await
        .assert_problem(429);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_exactly_the_budget_of_password_checks() {
    let app = TestApp::with_limits(small(5)).await;
    app.patient("ana@example.org", "UTC").await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..40 {
        let password = if i == 20 { PASSWORD } else { "wrong password" };
        let request = login_request("198.51.100.9", "ana@example.org", password);
        burst.spawn(send_to(app.router.clone(), request));
    }
    let mut tried = 0;
    let mut refused = 0;
    while let Some(r) = burst.join_next().await {
        match r.unwrap().status.as_u16() {
            200 | 401 => tried += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        tried, 5,
        "only the budget's worth of passwords may be checked"
    );
    assert_eq!(refused, 35);
}

#[tokio::test]
async fn huge_login_inputs_are_refused_before_anything_is_counted() {
    let app = TestApp::new().await;
    let huge = format!("{}@example.org", "a".repeat(1 << 20));
    let r = login_from(&app, "198.51.100.9", &huge, "wrong password").await;
    r.assert_invalid("email");
    let r = login_from(&app, "198.51.100.9", "ana@example.org", &"p".repeat(257)).await;
    r.assert_invalid("password");
    let rows = throttle::count_rows(&app.state.store.db).await.unwrap();
    assert_eq!(rows, 0, "nothing is kept for a refused input");
    // A counted attempt keeps fixed-size rows, one per bucket.
    login_from(&app, "198.51.100.9", "ana@example.org", "wrong password")
        .await
        .assert_problem(401);
    assert_eq!(throttle::count_rows(&app.state.store.db).await.unwrap(), 3);
}

#[tokio::test]
async fn ended_windows_are_pruned() {
    let app = TestApp::new().await;
    for i in 0..3 {
        login_from(
            &app,
            "198.51.100.9",
            &format!("u{i}@example.org"),
            "nope nope",
        )
        .await
        .assert_problem(401);
    }
    let db = &app.state.store.db;
    assert_eq!(throttle::count_rows(db).await.unwrap(), 7);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(app.state.throttle.prune(now).await.unwrap(), 0);
    assert_eq!(app.state.throttle.prune(now + 901).await.unwrap(), 7);
    assert_eq!(throttle::count_rows(db).await.unwrap(), 0);
}

#[tokio::test]
async fn sign_ups_are_limited_per_client_address() {
    let app = TestApp::with_limits(LimitSettings {
        register_per_client: Budget::new(2, 3600),
        ..LimitSettings::default()
    })
    .await;
    let sign_up = |from: &'static str, email: String| {
        let app = &app;
        async move {
            app.call_from(
                peer(from),
                "POST",
                "/v1/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD, "timezone": "UTC"})),
            )
            .await
        }
    };
    for i in 0..2 {
        let r = sign_up("198.51.100.4", format!("bot{i}@example.org")).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = sign_up("198.51.100.4", "bot9@example.org".into()).await;
    assert_retry_after(&r, 3600);
    let r = sign_up("203.0.113.5", "ana@example.org".into()).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let app = TestApp::with_limits(LimitSettings {
        trusted_proxies: TrustedProxies::parse("10.0.0.1").unwrap(),
        ..small(2)
    })
    .await;
    app.patient("ana@example.org", "UTC").await;
    let via = |from: &str, forwarded: &str, password: &str| {
        let mut request = login_request(from, "ana@example.org", password);
        request
            .headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        app.send(request)
    };
    // Behind the proxy, each client has its own budget.
    via("10.0.0.1", "198.51.100.1", "guess")
        .await
        .assert_problem(401);
    via("10.0.0.1", "198.51.100.1", "guess")
        .await
        .assert_problem(401);
    via("10.0.0.1", "198.51.100.1", "guess")
        .await
        .assert_problem(429);
    assert_eq!(via("10.0.0.1", "203.0.113.5", PASSWORD).await.status, 200);
    // From anywhere else the header is ignored: rotating it buys nothing.
    via("198.51.100.8", "1.1.1.1", "guess")
        .await
        .assert_problem(401);
    via("198.51.100.8", "2.2.2.2", "guess")
        .await
        .assert_problem(401);
    via("198.51.100.8", "3.3.3.3", "guess")
        .await
        .assert_problem(429);
}

#[tokio::test]
async fn authenticated_callers_are_rate_limited_each_on_their_own() {
    let app = TestApp::with_limits(LimitSettings {
        caller_per_minute: 1,
        caller_burst: 5,
        ..LimitSettings::default()
    })
    .await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let bob = app.patient("bob@example.org", "UTC").await;
    // `patient()` already spent one request of each caller on /v1/me.
    for _ in 0..4 {
        assert_eq!(app.get("/v1/me", &ana.token).await.status, 200);
    }
    let r = app.get("/v1/me", &ana.token).await;
    assert_retry_after(&r, 60);
    assert_eq!(app.get("/v1/me", &bob.token).await.status, 200);
}

#[tokio::test]
async fn two_instances_on_one_database_spend_one_login_budget() {
    let app = TestApp::with_limits(small(4)).await;
    app.patient("ana@example.org", "UTC").await;
    let other = app.second_instance().await.router;
    let attempt = |router: axum::Router| {
        send_to(
            router,
            login_request("198.51.100.9", "ana@example.org", "guess"),
        )
    };
    for router in [&app.router, &other, &app.router, &other] {
        attempt(router.clone()).await.assert_problem(401);
    }
    attempt(app.router.clone()).await.assert_problem(429);
    attempt(other.clone()).await.assert_problem(429);
}

#[tokio::test]
async fn password_reset_requests_are_limited_per_client_address() {
    let app = TestApp::with_limits(LimitSettings {
        password_reset_per_client: Budget::new(3, 3600),
        ..LimitSettings::default()
    })
    .await;
    let ask = |from: &'static str| {
        let app = &app;
        async move {
            app.call_from(
                peer(from),
                "POST",
                "/v1/auth/password-reset",
                None,
                Some(json!({"email": "ana@example.org"})),
            )
            .await
        }
    };
    for _ in 0..3 {
        assert_eq!(ask("198.51.100.5").await.status, 202);
    }
    assert_retry_after(&ask("198.51.100.5").await, 3600);
    assert_eq!(ask("203.0.113.9").await.status, 202);
    // The same budget, called as the route calls it.
    let throttle = &app.state.throttle;
    let asker: std::net::IpAddr = "198.51.100.5".parse().unwrap();
    match throttle.password_reset(asker).await {
        Err(migraine_diary::error::ApiError::TooManyRequests { retry_after_secs }) => {
            assert!((1..=3600).contains(&retry_after_secs))
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // Another address in the same IPv6 /64 counts as the same client.
    let v6 = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    for i in 0..3 {
        throttle
            .password_reset(v6(&format!("2001:db8:1:2::{i}")))
            .await
            .unwrap();
    }
    assert!(throttle
        .password_reset(v6("2001:db8:1:2::ffff"))
        .await
        .is_err());
    assert!(throttle.password_reset(v6("2001:db8:1:3::1")).await.is_ok());
}
