use axum::body::Body;
use serde_json::json;

use crate::common::{TestApp, PASSWORD};

#[tokio::test]
async fn patient_registers_logs_in_and_reads_own_account() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": " Ana@Example.ORG ", "password": PASSWORD,
                        "display_name": "Ana", "timezone": "America/Chicago"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["email"], "ana@example.org");
    assert_eq!(r.body["role"], "patient");
    assert_eq!(r.body["timezone"], "America/Chicago");
    assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none());

    let login = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "ANA@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    let token = login.body["access_token"].as_str().unwrap();
    let me = app.get("/v1/me", token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], r.body["id"]);
    assert_eq!(me.body["display_name"], "Ana");
}

#[tokio::test]
async fn registering_a_taken_email_is_a_conflict_whatever_its_case() {
    let app = TestApp::new().await;
    app.patient("ana@example.org", "UTC").await;
    let r = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "ANA@example.org", "password": PASSWORD, "timezone": "UTC"})),
        )
        .await;
    r.assert_problem(409);
}

#[tokio::test]
async fn registration_names_every_invalid_field() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "not-an-email", "password": "short",
                        "timezone": "Mars/Olympus", "display_name": "x".repeat(101)})),
        )
        .await;
    r.assert_problem(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "password", "timezone"]);
}

#[tokio::test]
async fn missing_required_field_is_422_naming_it() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "a@b.org", "password": PASSWORD})),
        )
        .await;
    r.assert_invalid("timezone");
}

#[tokio::test]
async fn malformed_json_unknown_fields_wrong_type_and_huge_bodies_are_rejected() {
    let app = TestApp::new().await;
    let malformed = app
        .send(
            TestApp::request("POST", "/v1/auth/register", None, Some(&json!({})))
                .body(Body::from("{\"email\": "))
                .unwrap(),
        )
        .await;
    malformed.assert_problem(400);

    let unknown = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": "a@b.org", "password": PASSWORD, "timezone": "UTC", "role": "admin"})),
        )
        .await;
    unknown.assert_problem(400);
    assert!(unknown.body["detail"].as_str().unwrap().contains("role"));

    let wrong_type = app
        .call(
            "POST",
            "/v1/auth/register",
            None,
            Some(json!({"email": 5, "password": PASSWORD, "timezone": "UTC"})),
        )
        .await;
    wrong_type.assert_invalid("email");

    let not_json = app
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/v1/auth/login")
                .header("content-type", "text/plain")
                .body(Body::from("hello"))
                .unwrap(),
        )
        .await;
    not_json.assert_problem(415);

    let huge = format!(
        "{{\"email\":\"a@b.org\",\"password\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let too_large = app
        .send(
            TestApp::request("POST", "/v1/auth/login", None, Some(&json!({})))
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    too_large.assert_problem(413);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::new().await;
    app.patient("ana@example.org", "UTC").await;
    let wrong = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "ana@example.org", "password": "wrong password"})),
        )
        .await;
    let unknown = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "nobody@example.org", "password": "wrong password"})),
        )
        .await;
    wrong.assert_problem(401);
    unknown.assert_problem(401);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited_with_retry_after() {
    let app = TestApp::new().await;
    app.patient("ana@example.org", "UTC").await;
    let bad = json!({"email": "ana@example.org", "password": "wrong password"});
    for _ in 0..10 {
        app.call("POST", "/v1/auth/login", None, Some(bad.clone()))
            .await
            .assert_problem(401);
    }
    let limited = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "ana@example.org", "password": PASSWORD})),
        )
        .await;
    limited.assert_problem(429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let first = app
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": ana.refresh})),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second_refresh = first.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, ana.refresh);
    let new_access = first.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/v1/me", new_access).await.status, 200);

    // The spent token is refused, and its re-use revokes the newer token too.
    let reuse = app
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": ana.refresh})),
        )
        .await;
    reuse.assert_problem(401);
    let after_theft = app
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": second_refresh})),
        )
        .await;
    after_theft.assert_problem(401);

    // Another login is a separate session and still works.
    let other = app.login("ana@example.org").await;
    let ok = app
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": other.refresh})),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = TestApp::new().await;
    app.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": "nonsense"})),
    )
    .await
    .assert_problem(401);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_is_idempotent() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let body = json!({"refresh_token": ana.refresh});
    let r = app
        .call("POST", "/v1/auth/logout", None, Some(body.clone()))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.body, serde_json::Value::Null);
    let again = app
        .call("POST", "/v1/auth/logout", None, Some(body.clone()))
        .await;
    assert_eq!(again.status, 204);
    app.call("POST", "/v1/auth/refresh", None, Some(body))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn patch_me_changes_name_and_timezone_and_validates() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let r = app
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"display_name": "Ana L.", "timezone": "Asia/Kolkata"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["display_name"], "Ana L.");
    assert_eq!(r.body["timezone"], "Asia/Kolkata");

    let cleared = app
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"display_name": null})),
        )
        .await;
    assert_eq!(cleared.body["display_name"], serde_json::Value::Null);
    assert_eq!(cleared.body["timezone"], "Asia/Kolkata");

    app.call(
        "PATCH",
        "/v1/me",
        Some(&ana.token),
        Some(json!({"timezone": "Nowhere/Land"})),
    )
    .await
    .assert_invalid("timezone");
    app.call(
        "PATCH",
        "/v1/me",
        Some(&ana.token),
        Some(json!({"email": "x@y.org"})),
    )
    .await
    .assert_problem(400);
    let unchanged = app.get("/v1/me", &ana.token).await;
    assert_eq!(unchanged.body["timezone"], "Asia/Kolkata");
}

#[tokio::test]
async fn admin_creates_clinicians_and_admins_but_not_patients() {
    let app = TestApp::new().await;
    let admin = app.staff("admin", "root@clinic.org").await;
    let r = app
        .call(
            "POST",
            "/v1/admin/users",
            Some(&admin.token),
            Some(json!({"email": "dr.kim@clinic.org", "password": PASSWORD,
                        "role": "clinician", "display_name": "Dr Kim"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["role"], "clinician");
    assert_eq!(r.body["timezone"], "UTC");
    let kim = app.login("dr.kim@clinic.org").await;
    assert_eq!(
        app.get("/v1/me", &kim.token).await.body["role"],
        "clinician"
    );

    app.call(
        "POST",
        "/v1/admin/users",
        Some(&admin.token),
        Some(json!({"email": "p@clinic.org", "password": PASSWORD, "role": "patient"})),
    )
    .await
    .assert_invalid("role");
    app.call(
        "POST",
        "/v1/admin/users",
        Some(&admin.token),
        Some(json!({"email": "p@clinic.org", "password": PASSWORD, "role": "superuser"})),
    )
    .await
    .assert_invalid("role");
    app.call(
        "POST",
        "/v1/admin/users",
        Some(&admin.token),
        Some(json!({"email": "dr.kim@clinic.org", "password": PASSWORD, "role": "admin"})),
    )
    .await
    .assert_problem(409);
}
