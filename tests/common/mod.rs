//! Builds the real application on a fresh database for each test: a temporary SQLite file by
//! default, or a fresh PostgreSQL database when `TEST_POSTGRES_URL` is set.

#![allow(dead_code)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use migraine_diary::auth::password::hash_blocking;
use migraine_diary::config::{AuthSettings, DatabaseArgs};
use migraine_diary::domain::TimeZone;
use migraine_diary::limits::LimitSettings;
use migraine_diary::mail::Mailer;
use migraine_diary::store::users::{self, NewUser};
use migraine_diary::store::Store;
use migraine_diary::{app, AppState};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

pub mod smtp;

pub const PASSWORD: &str = "correct horse battery";
pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";
/// The peer of every request that does not name one ([`TestApp::send_from`]).
pub const DEFAULT_PEER: ([u8; 4], u16) = ([192, 0, 2, 1], 40000);

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub database_url: String,
    /// The first instance owns the database (dropped with it); further instances share it.
    _database: Option<FreshDatabase>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The fields named by a 422 problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The body without `request_id`, which differs on every answer: for comparing problems.
    pub fn without_request_id(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(object) = body.as_object_mut() {
            object.remove("request_id");
        }
        body
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem+json answer with this status.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"].is_string() && self.body["title"].is_string());
    }

    #[track_caller]
    pub fn assert_invalid(&self, field: &str) {
        self.assert_problem(422);
        assert!(
            self.error_fields().iter().any(|f| f == field),
            "expected {field} in {}",
            self.body
        );
    }
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
    pub token: String,
    pub refresh: String,
}

/// A fresh database for one test, gone when the test ends: a temporary SQLite file, or a
/// PostgreSQL database `md_test_<uuid>` that is dropped again (so runs leave nothing behind).
pub struct FreshDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// `(TEST_POSTGRES_URL, database name)` to drop on the way out.
    postgres: Option<(String, String)>,
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let Some((base, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on async work: a thread with
        // its own runtime does it. FORCE ends the app's still-open pool connections.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&base).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute_unprepared(&sql).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Where a fresh database lives.
pub async fn fresh_database() -> FreshDatabase {
    if let Ok(base) = std::env::var("TEST_POSTGRES_URL") {
        if !base.is_empty() {
            let name = format!("md_test_{}", Uuid::new_v4().simple());
            let admin = Database::connect(&base)
                .await
                .expect("connect to TEST_POSTGRES_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            return FreshDatabase {
                url: replace_database(&base, &name),
                _dir: None,
                postgres: Some((base, name)),
            };
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    FreshDatabase {
        url,
        _dir: Some(dir),
        postgres: None,
    }
}

/// `postgres://u@h:p/db?x` with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..host_part_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_mailer(Mailer::disabled()).await
    }

    /// An app that sends mail with `mailer`.
    pub async fn with_mailer(mailer: Mailer) -> Self {
        Self::fresh(LimitSettings::default(), mailer).await
    }

    /// The app with other budgets than the defaults.
    pub async fn with_limits(limits: LimitSettings) -> Self {
        Self::fresh(limits, Mailer::disabled()).await
    }

    async fn fresh(limits: LimitSettings, mailer: Mailer) -> Self {
        let database = fresh_database().await;
        let mut app = Self::on_database_with(&database.url, limits, mailer, |_| {}).await;
        app._database = Some(database);
        app
    }

    /// Another instance of the service on the same database (as behind a load balancer).
    pub async fn second_instance(&self) -> Self {
        self.instance_with(|_| {}).await
    }

    /// Another instance on the same database (with the same budgets) whose store `adjust` may
    /// change (e.g. to count the queries it sends).
    pub async fn instance_with(&self, adjust: impl FnOnce(&mut Store)) -> Self {
        let limits = (*self.state.limits).clone();
        Self::on_database_with(&self.database_url, limits, Mailer::disabled(), adjust).await
    }

    async fn on_database_with(
        database_url: &str,
        limits: LimitSettings,
        mailer: Mailer,
        adjust: impl FnOnce(&mut Store),
    ) -> Self {
        let mut store = Store::connect_and_migrate(&DatabaseArgs::for_url(database_url))
            .await
            .expect("database");
        adjust(&mut store);
        let auth = AuthSettings::with_secret(SECRET.to_vec());
        let state = AppState::build(store, &auth, limits, mailer).expect("state");
        // Tests measure the steady state: the session cache trusted (listener subscribed).
        assert!(
            state
                .sessions
                .ready(std::time::Duration::from_secs(30))
                .await
        );
        Self {
            router: app(state.clone()).layer(MockConnectInfo(SocketAddr::from(DEFAULT_PEER))),
            state,
            database_url: database_url.to_owned(),
            _database: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    pub async fn send(&self, request: Request<Body>) -> Resp {
        send_to(self.router.clone(), request).await
    }

    /// Sends `request` as if it came from a socket whose peer is `peer`.
    pub async fn send_from(&self, peer: SocketAddr, mut request: Request<Body>) -> Resp {
        request.extensions_mut().insert(ConnectInfo(peer));
        self.send(request).await
    }

    /// A JSON call from `peer`.
    pub async fn call_from(
        &self,
        peer: SocketAddr,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.send_from(peer, Self::json_request(method, path, token, body))
            .await
    }

    /// A request with an optional bearer token and JSON body.
    pub fn json_request(
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Request<Body> {
        let builder = Self::request(method, path, token, body.as_ref());
        let body = match body {
            Some(v) => Body::from(serde_json::to_vec(&v).expect("json")),
            None => Body::empty(),
        };
        builder.body(body).expect("request")
    }

    pub fn request(
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        builder
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.send(Self::json_request(method, path, token, body))
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn login(&self, email: &str) -> Actor {
        let r = self
            .call(
                "POST",
                "/v1/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = r.body["access_token"].as_str().expect("token").to_owned();
        let me = self.get("/v1/me", &token).await;
        Actor {
            id: me.body["id"].as_str().expect("id").parse().expect("uuid"),
            email: email.to_owned(),
            token,
            refresh: r.body["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    pub async fn patient(&self, email: &str, timezone: &str) -> Actor {
        let r = self
            .call(
                "POST",
                "/v1/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD, "timezone": timezone})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        self.login(email).await
    }

    /// An admin or clinician, created as `user create` does.
    pub async fn staff(&self, role: &str, email: &str) -> Actor {
        users::create(
            &self.state.store.db,
            NewUser {
                email: email.to_owned(),
                password_hash: hash_blocking(PASSWORD).expect("hash"),
                role: serde_json::from_value(serde_json::Value::String(role.to_owned()))
                    .expect("a role"),
                display_name: Some(format!("Dr {email}")),
                timezone: TimeZone::UTC,
            },
        )
        .await
        .expect("create staff");
        self.login(email).await
    }

    /// A clinician linked to `patient` through an invite.
    pub async fn linked_clinician(&self, email: &str, patient: &Actor) -> Actor {
        let clinician = self.staff("clinician", email).await;
        self.link(&clinician, patient).await;
        clinician
    }

    pub async fn link(&self, clinician: &Actor, patient: &Actor) {
        let invite = self
            .call("POST", "/v1/care-invites", Some(&clinician.token), None)
            .await;
        assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.body);
        let r = self
            .call(
                "POST",
                "/v1/me/clinicians",
                Some(&patient.token),
                Some(json!({"code": invite.body["code"]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

/// A diary day with headache features.
pub fn migraine_day(pain: u8) -> Value {
    json!({
        "peak_pain": pain,
        "headache_hours": 6,
        "features": {"unilateral": true, "pulsating": true, "nausea": true},
        "acute_medications": [{"name": "sumatriptan", "class": "triptan", "dose": "50 mg"}],
        "disability": "moderate",
        "notes": "woke up with it"
    })
}

pub fn calm_day() -> Value {
    json!({"peak_pain": 0})
}

/// Sends `request` to `router` (for tests that fire many requests at once).
pub async fn send_to(router: Router, request: Request<Body>) -> Resp {
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Resp {
        status,
        headers,
        body,
    }
}
