//! Every route, tried by every caller who must not pass.

use base64::Engine;
use chrono::Utc;
use migraine_diary::auth::tokens::{Claims, TokenKeys, ISSUER};
use migraine_diary::auth::Role;
use migraine_diary::config::AuthSettings;
use serde_json::{json, Value};

use crate::common::{calm_day, Actor, TestApp, SECRET};

struct Route {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Only the patient may call it (a linked clinician gets 403).
    patient_only: bool,
}

fn route(method: &'static str, path: String, body: Option<Value>, patient_only: bool) -> Route {
    Route {
        method,
        path,
        body,
        patient_only,
    }
}

struct World {
    app: TestApp,
    ana: Actor,
    ben: Actor,
    linked: Actor,
    stranger: Actor,
    admin: Actor,
    treatment_id: String,
    questionnaire_id: String,
}

async fn world() -> World {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let ben = app.patient("ben@example.org", "UTC").await;
    let linked = app.linked_clinician("kim@clinic.org", &ana).await;
    let stranger = app.linked_clinician("lee@clinic.org", &ben).await;
    let admin = app.staff("admin", "root@clinic.org").await;
    app.call(
        "PUT",
        &format!("/v1/patients/{}/diary/2026-02-02", ana.id),
        Some(&ana.token),
        Some(calm_day()),
    )
    .await;
    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&ana.token),
            Some(json!({"kind": "iv_magnesium", "name": "magnesium sulfate 1 g", "started_at": "2026-02-10T09:00:00Z"})),
        )
        .await;
    let treatment_id = t.body["id"].as_str().unwrap().to_owned();
    let q = app
        .call(
            "POST",
            &format!("/v1/patients/{}/questionnaires", ana.id),
            Some(&ana.token),
            Some(json!({"instrument": "midas", "completed_on": "2026-02-01", "answers": [0, 0, 0, 0, 0]})),
        )
        .await;
    let questionnaire_id = q.body["id"].as_str().unwrap().to_owned();
    World {
        app,
        ana,
        ben,
        linked,
        stranger,
        admin,
        treatment_id,
        questionnaire_id,
    }
}

fn patient_routes(w: &World) -> Vec<Route> {
    let p = format!("/v1/patients/{}", w.ana.id);
    let t = format!("{p}/treatments/{}", w.treatment_id);
    let q = format!("{p}/questionnaires/{}", w.questionnaire_id);
    vec![
        route("GET", format!("{p}/changes"), None, false),
        route("GET", format!("{p}/questionnaires"), None, false),
        route(
            "POST",
            format!("{p}/questionnaires"),
            Some(
                json!({"instrument": "hit6", "completed_on": "2026-02-02", "answers": [1, 1, 1, 1, 1, 1]}),
            ),
            true,
        ),
        route("GET", q.clone(), None, false),
        route("DELETE", q, None, true),
        route("GET", p.clone(), None, false),
        route("GET", format!("{p}/diary"), None, false),
        route("GET", format!("{p}/diary/2026-02-02"), None, false),
        route(
            "PUT",
            format!("{p}/diary/2026-02-02"),
            Some(json!({"peak_pain": 9})),
            true,
        ),
        route("DELETE", format!("{p}/diary/2026-02-02"), None, true),
        route(
            "POST",
            format!("{p}/diary/batch"),
            Some(json!({"entries": [{"date": "2026-02-03", "peak_pain": 9}]})),
            true,
        ),
        route("GET", format!("{p}/treatments"), None, false),
        route(
            "POST",
            format!("{p}/treatments"),
            Some(json!({"kind": "other", "name": "x", "started_at": "2026-02-11T09:00:00Z"})),
            false,
        ),
        route("GET", t.clone(), None, false),
        route("PATCH", t.clone(), Some(json!({"notes": "changed"})), false),
        route("GET", format!("{t}/summary"), None, false),
        route(
            "GET",
            format!("{p}/summary?from=2026-01-01&to=2026-03-31"),
            None,
            false,
        ),
        route(
            "GET",
            format!("{p}/days?from=2026-02-01&to=2026-02-28"),
            None,
            false,
        ),
        route("DELETE", t, None, false),
    ]
}

async fn call(w: &World, r: &Route, token: Option<&str>) -> crate::common::Resp {
    w.app.call(r.method, &r.path, token, r.body.clone()).await
}

/// The owner's data is as it was before the forbidden attempts.
async fn assert_untouched(w: &World) {
    let day = w
        .app
        .get(
            &format!("/v1/patients/{}/diary/2026-02-02", w.ana.id),
            &w.ana.token,
        )
        .await;
    assert_eq!(day.status, 200);
    assert_eq!(day.body["peak_pain"], 0);
    assert_eq!(day.body["version"], 1);
    let t = w
        .app
        .get(
            &format!("/v1/patients/{}/treatments/{}", w.ana.id, w.treatment_id),
            &w.ana.token,
        )
        .await;
    assert_eq!(t.status, 200);
    assert_eq!(t.body["notes"], Value::Null);
    let q = w
        .app
        .get(
            &format!("/v1/patients/{}/questionnaires", w.ana.id),
            &w.ana.token,
        )
        .await;
    assert_eq!(
        q.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        q.body
    );
    w.app
        .get(
            &format!("/v1/patients/{}/diary/2026-02-03", w.ana.id),
            &w.ana.token,
        )
        .await
        .assert_problem(404);
}

fn bad_tokens(w: &World) -> Vec<(&'static str, String)> {
    let keys = TokenKeys::new(&AuthSettings::with_secret(SECRET.to_vec()));
    let now = Utc::now().timestamp();
    let expired = keys
        .sign(&Claims {
            sub: w.ana.id,
            role: Role::Patient,
            iss: ISSUER.into(),
            iat: now - 7200,
            exp: now - 3600,
        })
        .unwrap();
    let other_key = TokenKeys::new(&AuthSettings::with_secret(
        b"another-secret-another-secret-0123".to_vec(),
    ))
    .issue_access(w.ana.id, Role::Patient)
    .unwrap();
    // Same signature, payload changed to claim another patient.
    let parts: Vec<&str> = w.ana.token.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!(w.ben.id);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    let unsigned = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    vec![
        ("expired", expired),
        ("signed with another key", other_key),
        ("tampered", tampered),
        ("alg none", unsigned),
        ("garbage", "not.a.jwt".into()),
    ]
}

#[tokio::test]
async fn patient_routes_refuse_everyone_but_the_patient_and_linked_clinicians() {
    let w = world().await;
    for r in patient_routes(&w) {
        let what = format!("{} {}", r.method, r.path);
        call(&w, &r, None).await.assert_problem(401);
        for (kind, token) in bad_tokens(&w) {
            let resp = call(&w, &r, Some(&token)).await;
            assert_eq!(resp.status, 401, "{kind} token on {what}");
        }
        let other_patient = call(&w, &r, Some(&w.ben.token)).await;
        assert_eq!(
            other_patient.status, 404,
            "other patient on {what}: {}",
            other_patient.body
        );
        let unlinked = call(&w, &r, Some(&w.stranger.token)).await;
        assert_eq!(unlinked.status, 404, "unlinked clinician on {what}");
        assert_eq!(
            call(&w, &r, Some(&w.admin.token)).await.status,
            403,
            "admin on {what}"
        );
        if r.patient_only {
            assert_eq!(
                call(&w, &r, Some(&w.linked.token)).await.status,
                403,
                "clinician on {what}"
            );
        }
        assert_untouched(&w).await;
    }
}

#[tokio::test]
async fn patient_routes_let_the_patient_and_linked_clinician_through() {
    let w = world().await;
    for r in patient_routes(&w) {
        let what = format!("{} {}", r.method, r.path);
        if !r.patient_only && r.method == "GET" {
            let resp = call(&w, &r, Some(&w.linked.token)).await;
            assert_eq!(resp.status, 200, "clinician on {what}: {}", resp.body);
        }
        let resp = call(&w, &r, Some(&w.ana.token)).await;
        assert!(
            resp.status.is_success(),
            "patient on {what}: {} {}",
            resp.status,
            resp.body
        );
    }
}

#[tokio::test]
async fn a_patient_id_that_belongs_to_a_clinician_is_not_a_patient() {
    let w = world().await;
    let r = w
        .app
        .get(&format!("/v1/patients/{}", w.linked.id), &w.linked.token)
        .await;
    r.assert_problem(404);
}

#[tokio::test]
async fn role_routes_refuse_the_wrong_role() {
    let w = world().await;
    let cases: Vec<(&str, String, Option<Value>, Vec<&Actor>)> = vec![
        ("GET", "/v1/patients".into(), None, vec![&w.ana, &w.admin]),
        (
            "GET",
            "/v1/cohort/summary?kind=iv_ketamine".into(),
            None,
            vec![&w.ana, &w.admin],
        ),
        (
            "POST",
            "/v1/care-invites".into(),
            None,
            vec![&w.ana, &w.admin],
        ),
        (
            "GET",
            "/v1/me/clinicians".into(),
            None,
            vec![&w.linked, &w.admin],
        ),
        (
            "POST",
            "/v1/me/clinicians".into(),
            Some(json!({"code": "AAAA-BBBB-CCCC"})),
            vec![&w.linked, &w.admin],
        ),
        (
            "DELETE",
            format!("/v1/me/clinicians/{}", w.linked.id),
            None,
            vec![&w.linked, &w.admin],
        ),
        (
            "POST",
            "/v1/admin/users".into(),
            Some(json!({"email": "x@clinic.org", "password": "long enough pw", "role": "admin"})),
            vec![&w.ana, &w.linked],
        ),
    ];
    for (method, path, body, forbidden) in cases {
        let none = w.app.call(method, &path, None, body.clone()).await;
        none.assert_problem(401);
        for (kind, token) in bad_tokens(&w) {
            let r = w.app.call(method, &path, Some(&token), body.clone()).await;
            assert_eq!(r.status, 401, "{kind} token on {method} {path}");
        }
        for actor in forbidden {
            let r = w
                .app
                .call(method, &path, Some(&actor.token), body.clone())
                .await;
            assert_eq!(
                r.status, 403,
                "{} on {method} {path}: {}",
                actor.email, r.body
            );
        }
    }
    // The patient's link survived the clinician's attempt to delete it.
    let list = w.app.get("/v1/me/clinicians", &w.ana.token).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn own_account_routes_need_a_valid_token() {
    let w = world().await;
    for (method, body) in [("GET", None), ("PATCH", Some(json!({"display_name": "x"})))] {
        w.app
            .call(method, "/v1/me", None, body.clone())
            .await
            .assert_problem(401);
        for (kind, token) in bad_tokens(&w) {
            let r = w
                .app
                .call(method, "/v1/me", Some(&token), body.clone())
                .await;
            assert_eq!(r.status, 401, "{kind} token on {method} /v1/me");
        }
    }
    let basic = w
        .app
        .send(
            axum::http::Request::builder()
                .uri("/v1/me")
                .header("authorization", "Basic YTpi")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    basic.assert_problem(401);
    assert_eq!(basic.headers["www-authenticate"], "Bearer");
}
