//! Account recovery: a code mailed over real SMTP (to a throw-away server in the test), codes
//! from the clinic desk, and the same 401 for every bad code.

use chrono::{Duration, Utc};
use migraine_diary::mail::{MailArgs, Mailer};
use migraine_diary::store::entities::password_reset;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::common::smtp::SmtpSink;
use crate::common::{Resp, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "remembered at last";

async fn request_reset(app: &TestApp, email: &str) -> Resp {
    app.call(
        "POST",
        "/v1/auth/password-reset",
        None,
        Some(json!({"email": email})),
    )
    .await
}

async fn confirm(app: &TestApp, email: &str, code: &str, new_password: &str) -> Resp {
    app.call(
        "POST",
        "/v1/auth/password-reset/confirm",
        None,
        Some(json!({"email": email, "code": code, "new_password": new_password})),
    )
    .await
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.call(
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
    .status
    .as_u16()
}

/// The code in a mail: the token after "Your code: ".
fn code_in(message: &str) -> String {
    let at = message.find("Your code: ").expect("code line") + "Your code: ".len();
    message[at..]
        .split_whitespace()
        .next()
        .expect("code")
        .to_owned()
}

async fn desk_code(app: &TestApp, admin_token: &str, user_id: uuid::Uuid) -> String {
    let r = app
        .call(
            "POST",
            &format!("/v1/admin/users/{user_id}/password-reset"),
            Some(admin_token),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["code"].as_str().expect("code").to_owned()
}

async fn mail_app() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::from_args(&MailArgs {
        smtp_url: Some(sink.url.clone()),
        mail_from: Some("Clinic <no-reply@clinic.example>".into()),
    })
    .expect("mailer");
    (TestApp::with_mailer(mailer).await, sink)
}

#[tokio::test]
async fn a_mailed_code_resets_the_password_once_and_ends_every_session() {
    let (app, mut sink) = mail_app().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    // An unknown address first: answered alike, and no mail goes out for it (the worker takes
    // requests in order, so the first mail to arrive is Ana's).
    let unknown = request_reset(&app, "nobody@example.org").await;
    let known = request_reset(&app, "  Ana@Example.org ").await;
    for r in [&unknown, &known] {
        assert_eq!(r.status, 202);
    }
    assert_eq!(unknown.body, known.body);
    assert_eq!(
        unknown.headers.get("content-type"),
        known.headers.get("content-type")
    );
    let message = sink.next_message().await;
    assert!(message.contains("To: ana@example.org"), "{message}");
    assert!(
        message.contains("From: Clinic <no-reply@clinic.example>"),
        "{message}"
    );
    let code = code_in(&message);

    confirm(&app, "ana@example.org", "AAAA-AAAA-AAAA", NEW_PASSWORD)
        .await
        .assert_problem(401);
    let r = confirm(&app, "ana@example.org", &code.to_lowercase(), NEW_PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.body);
    app.get("/v1/me", &ana.token).await.assert_problem(401);
    assert_eq!(login_status(&app, "ana@example.org", PASSWORD).await, 401);
    assert_eq!(
        login_status(&app, "ana@example.org", NEW_PASSWORD).await,
        200
    );
    // Single use.
    confirm(&app, "ana@example.org", &code, "yet another passphrase")
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn wrong_spent_and_expired_codes_and_unknown_emails_get_the_same_answer() {
    let app = TestApp::new().await;
    let admin = app.staff("admin", "admin@clinic.example").await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let code = desk_code(&app, &admin.token, ana.id).await;

    let unknown = confirm(&app, "nobody@example.org", &code, NEW_PASSWORD).await;
    unknown.assert_problem(401);
    let wrong = confirm(&app, "ana@example.org", "AAAA-AAAA-AAAA", NEW_PASSWORD).await;
    assert_eq!(wrong.without_request_id(), unknown.without_request_id());
    for _ in 0..4 {
        confirm(&app, "ana@example.org", "AAAA-AAAA-AAAA", NEW_PASSWORD)
            .await
            .assert_problem(401);
    }
    // Five wrong codes spent it: the right one no longer works.
    let spent = confirm(&app, "ana@example.org", &code, NEW_PASSWORD).await;
    assert_eq!(spent.without_request_id(), unknown.without_request_id());
    assert_eq!(login_status(&app, "ana@example.org", PASSWORD).await, 200);

    let code = desk_code(&app, &admin.token, ana.id).await;
    password_reset::Entity::update_many()
        .col_expr(
            password_reset::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(password_reset::Column::UserId.eq(ana.id))
        .exec(&app.state.store.db)
        .await
        .unwrap();
    let expired = confirm(&app, "ana@example.org", &code, NEW_PASSWORD).await;
    assert_eq!(expired.without_request_id(), unknown.without_request_id());
    assert_eq!(login_status(&app, "ana@example.org", PASSWORD).await, 200);
}

#[tokio::test]
async fn a_new_desk_code_voids_the_earlier_one() {
    let app = TestApp::new().await;
    let admin = app.staff("admin", "admin@clinic.example").await;
    let doc = app.staff("clinician", "doc@clinic.example").await;
    let first = desk_code(&app, &admin.token, doc.id).await;
    let second = desk_code(&app, &admin.token, doc.id).await;
    let r = app
        .call(
            "POST",
            &format!("/v1/admin/users/{}/password-reset", doc.id),
            Some(&admin.token),
            None,
        )
        .await;
    let third = r.body["code"].as_str().unwrap().to_owned();
    let expires: chrono::DateTime<Utc> = r.body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > Utc::now() + Duration::hours(23));
    assert!(expires <= Utc::now() + Duration::hours(24));
    for old in [&first, &second] {
        confirm(&app, "doc@clinic.example", old, NEW_PASSWORD)
            .await
            .assert_problem(401);
    }
    assert_eq!(
        confirm(&app, "doc@clinic.example", &third, NEW_PASSWORD)
            .await
            .status,
        204
    );
    app.get("/v1/me", &doc.token).await.assert_problem(401);
    assert_eq!(
        login_status(&app, "doc@clinic.example", NEW_PASSWORD).await,
        200
    );
}

#[tokio::test]
async fn only_admins_issue_desk_codes_for_existing_accounts() {
    let app = TestApp::new().await;
    let admin = app.staff("admin", "admin@clinic.example").await;
    let doc = app.staff("clinician", "doc@clinic.example").await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let path = format!("/v1/admin/users/{}/password-reset", ana.id);
    app.call("POST", &path, None, None)
        .await
        .assert_problem(401);
    for caller in [&doc, &ana] {
        app.call("POST", &path, Some(&caller.token), None)
            .await
            .assert_problem(403);
    }
    app.call(
        "POST",
        &format!("/v1/admin/users/{}/password-reset", uuid::Uuid::now_v7()),
        Some(&admin.token),
        None,
    )
    .await
    .assert_problem(404);
    // No code was stored by the refused calls.
    let stored = password_reset::Entity::find()
        .all(&app.state.store.db)
        .await
        .unwrap();
    assert!(stored.is_empty());
}

#[tokio::test]
async fn reset_requests_and_confirmations_name_their_invalid_fields() {
    let app = TestApp::new().await;
    request_reset(&app, "not an address")
        .await
        .assert_invalid("email");
    request_reset(&app, &format!("{}@example.org", "a".repeat(250)))
        .await
        .assert_invalid("email");
    confirm(&app, "ana@example.org", "AAAA-AAAA-AAAA", "short")
        .await
        .assert_invalid("new_password");
    confirm(&app, "ana@example.org", &"A".repeat(65), NEW_PASSWORD)
        .await
        .assert_invalid("code");
    app.call(
        "POST",
        "/v1/auth/password-reset",
        None,
        Some(json!({"email": "ana@example.org", "extra": 1})),
    )
    .await
    .assert_problem(400);
}

#[tokio::test]
async fn without_smtp_a_reset_request_is_still_accepted() {
    let app = TestApp::new().await;
    app.patient("ana@example.org", "UTC").await;
    assert_eq!(request_reset(&app, "ana@example.org").await.status, 202);
    assert_eq!(request_reset(&app, "nobody@example.org").await.status, 202);
}
