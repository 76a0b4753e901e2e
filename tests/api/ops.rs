//! Operations: security headers, CORS, the request id in problem bodies, metrics.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use migraine_diary::web::{parse_origin, WebSettings, API_CSP, DOCS_CSP, HSTS};
use migraine_diary::{app, metrics};
use tower::ServiceExt;

use crate::common::TestApp;

const DASHBOARD: &str = "https://dashboard.clinic.example";

fn with_web(app_: &mut TestApp, web: WebSettings) {
    app_.router = app(app_.state.clone().with_web(web));
}

fn cors_on() -> WebSettings {
    WebSettings {
        cors_origins: vec![parse_origin(DASHBOARD).unwrap()],
        hsts: false,
    }
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method("OPTIONS")
        .uri("/v1/me")
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .body(Body::empty())
        .unwrap()
}

fn get_from(origin: &str, token: &str) -> Request<Body> {
    Request::builder()
        .uri("/v1/me")
        .header("origin", origin)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

fn cors_headers(headers: &axum::http::HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn api_answers_carry_security_headers_and_hsts_only_when_configured() {
    let mut t = TestApp::new().await;
    let ana = t.patient("ana@example.org", "UTC").await;
    let me = t.get("/v1/me", &ana.token).await;
    let wrong_method = t.call("PUT", "/v1/me", Some(&ana.token), None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(
        wrong_method.headers["content-type"],
        "application/problem+json"
    );
    let health = t.call("GET", "/health/live", None, None).await;
    for r in [
        &me,
        &t.call("GET", "/v1/nowhere", None, None).await,
        &wrong_method,
        &health,
    ] {
        assert_eq!(r.headers["content-security-policy"], API_CSP);
        assert_eq!(r.headers["x-frame-options"], "DENY");
        assert_eq!(r.headers["referrer-policy"], "no-referrer");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["cache-control"], "no-store");
        assert!(!r.headers.contains_key("strict-transport-security"));
    }
    with_web(
        &mut t,
        WebSettings {
            hsts: true,
            ..WebSettings::default()
        },
    );
    let me = t.get("/v1/me", &ana.token).await;
    assert_eq!(me.headers["strict-transport-security"], HSTS);
}

#[tokio::test]
async fn the_docs_page_has_a_policy_that_lets_swagger_ui_run_its_own_files_only() {
    let t = TestApp::new().await;
    let page = t.call("GET", "/docs/", None, None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-security-policy"], DOCS_CSP);
    assert_eq!(page.headers["x-frame-options"], "DENY");
    // Swagger UI's page loads its scripts from files (allowed by `script-src 'self'`); an
    // inline script would be blocked by the policy.
    let html = page.body.as_str().expect("html");
    assert!(
        html.contains("<script src=\"./swagger-ui-bundle.js\""),
        "{html}"
    );
    let inline_scripts = html.matches("<script>").count() + html.matches("<script >").count();
    assert_eq!(inline_scripts, 0);
    for file in [
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
        "swagger-ui.css",
    ] {
        let r = t.call("GET", &format!("/docs/{file}"), None, None).await;
        assert_eq!(r.status, 200, "{file}");
    }
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let t = TestApp::new().await;
    let ana = t.patient("ana@example.org", "UTC").await;
    let pre = t.send(preflight(DASHBOARD)).await;
    assert!(cors_headers(&pre.headers).is_empty(), "{:?}", pre.headers);
    let get = t.send(get_from(DASHBOARD, &ana.token)).await;
    assert_eq!(get.status, 200);
    assert!(cors_headers(&get.headers).is_empty());
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_and_answers_readable() {
    let mut t = TestApp::new().await;
    let ana = t.patient("ana@example.org", "UTC").await;
    with_web(&mut t, cors_on());
    let pre = t.send(preflight(DASHBOARD)).await;
    assert_eq!(pre.status, 204);
    assert_eq!(pre.headers["access-control-allow-origin"], DASHBOARD);
    let methods = pre.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("PUT") && methods.contains("DELETE"),
        "{methods}"
    );
    let allowed = pre.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("if-match"));
    assert!(!pre.headers.contains_key("access-control-allow-credentials"));

    let get = t.send(get_from(DASHBOARD, &ana.token)).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.headers["access-control-allow-origin"], DASHBOARD);
    let exposed = get.headers["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("etag") && exposed.contains("x-request-id"));
    assert_eq!(get.headers["vary"], "origin");
}

#[tokio::test]
async fn a_disallowed_origin_gets_no_cors_headers() {
    let mut t = TestApp::new().await;
    let ana = t.patient("ana@example.org", "UTC").await;
    with_web(&mut t, cors_on());
    for origin in [
        "https://evil.example",
        "https://dashboard.clinic.example.evil.example",
        "http://dashboard.clinic.example",
    ] {
        let pre = t.send(preflight(origin)).await;
        assert_ne!(pre.status, 204, "{origin}");
        assert!(
            cors_headers(&pre.headers).is_empty(),
            "{origin}: {:?}",
            pre.headers
        );
        let get = t.send(get_from(origin, &ana.token)).await;
        assert!(cors_headers(&get.headers).is_empty(), "{origin}");
    }
}

#[tokio::test]
async fn every_problem_body_names_the_request_id() {
    let t = TestApp::new().await;
    let unauthorized = t.call("GET", "/v1/me", None, None).await;
    let no_route = t.call("GET", "/v1/nowhere", None, None).await;
    let invalid = t
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(serde_json::json!({"email": "x", "password": "p", "timezone": "UTC"})),
        )
        .await;
    for r in [&unauthorized, &no_route, &invalid] {
        assert_eq!(r.content_type(), "application/problem+json");
        let id = r.headers["x-request-id"].to_str().unwrap();
        assert!(!id.is_empty());
        assert_eq!(r.body["request_id"], id, "{}", r.body);
    }
    assert!(
        !invalid.error_fields().is_empty(),
        "the rest of the body is kept"
    );
    let given = Request::builder()
        .uri("/v1/me")
        .header("x-request-id", "client-chosen-1")
        .body(Body::empty())
        .unwrap();
    let r = t.send(given).await;
    assert_eq!(r.body["request_id"], "client-chosen-1");
}

async fn scrape(t: &TestApp) -> (String, String) {
    let response = metrics::router(t.state.clone())
        .oneshot(
            Request::builder()
                .uri("/metrics")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (content_type, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let t = TestApp::new().await;
    let ana = t.patient("ana@example.org", "UTC").await;
    for _ in 0..2 {
        let r = t
            .get(&format!("/v1/patients/{}/diary", ana.id), &ana.token)
            .await;
        assert_eq!(r.status, 200);
    }
    t.call("GET", &format!("/v1/patients/{}/diary", ana.id), None, None)
        .await
        .assert_problem(401);
    let (content_type, text) = scrape(&t).await;
    assert_eq!(content_type, metrics::CONTENT_TYPE);
    let route = "route=\"/v1/patients/{patient_id}/diary\"";
    assert!(
        text.contains(&format!(
            "http_requests_total{{method=\"GET\",{route},status=\"200\"}} 2"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "http_requests_total{{method=\"GET\",{route},status=\"401\"}} 1"
    )));
    assert!(text.contains(&format!(
        "http_request_duration_seconds_count{{method=\"GET\",{route},status=\"200\"}} 2"
    )));
    assert!(
        !text.contains(&ana.id.to_string()),
        "no raw path, no id in a label"
    );
    for gauge in [
        "db_pool_connections ",
        "db_pool_idle ",
        "db_pool_max ",
        "db_write_queue ",
        "audit_backlog ",
    ] {
        assert!(text.contains(gauge), "{gauge} missing in {text}");
    }
    assert!(text.trim_end().ends_with("# EOF"));
}
