//! Every route, tried by every caller who must not pass.

use base64::Engine;
use chrono::Utc;
use migraine_diary::auth::tokens::{Claims, TokenKeys, AUDIENCE, ISSUER};
use migraine_diary::auth::Role;
use migraine_diary::config::AuthSettings;
use migraine_diary::limits::LimitSettings;
use serde_json::{json, Value};

use crate::common::{calm_day, Actor, TestApp, PASSWORD, SECRET};

struct Route {
    method: String,
    path: String,
    body: Option<Value>,
    /// A `text/csv` body instead of JSON.
    csv: Option<&'static str>,
    /// Only the patient may call it (a linked clinician gets 403).
    patient_only: bool,
}

/// What the matrix needs to call a documented operation beyond its path template: a query,
/// a body, and whether only the patient may call it. Keyed by method and template as the
/// OpenAPI document names them.
struct Case {
    method: &'static str,
    template: &'static str,
    query: &'static str,
    body: Option<Value>,
    csv: Option<&'static str>,
    patient_only: bool,
}

fn case(method: &'static str, template: &'static str, body: Option<Value>) -> Case {
    Case {
        method,
        template,
        query: "",
        body,
        csv: None,
        patient_only: false,
    }
}

/// A diary import of one day that the other cases do not use.
const IMPORT_CSV: &str = "date,peak_pain,headache_hours,aura,nausea,vomiting,photophobia,\
phonophobia,unilateral,pulsating,aggravated_by_activity,acute_medications,disability,notes\n\
2026-02-05,4,,,,,,,,,,,,\n";

/// Every per-patient operation's case. A documented `{patient_id}` route without one fails
/// the matrix tests (see [`patient_routes`]).
fn patient_cases() -> Vec<Case> {
    let p = "/v1/patients/{patient_id}";
    let only = |c: Case| Case {
        patient_only: true,
        ..c
    };
    let query = |c: Case, query| Case { query, ..c };
    vec![
        case("GET", p, None),
        case("GET", "/v1/patients/{patient_id}/diary", None),
        case("GET", "/v1/patients/{patient_id}/diary/{date}", None),
        only(case(
            "PUT",
            "/v1/patients/{patient_id}/diary/{date}",
            Some(json!({"peak_pain": 9})),
        )),
        only(case(
            "DELETE",
            "/v1/patients/{patient_id}/diary/{date}",
            None,
        )),
        only(case(
            "POST",
            "/v1/patients/{patient_id}/diary/batch",
            Some(json!({"entries": [{"date": "2026-02-03", "peak_pain": 9}]})),
        )),
        case("GET", "/v1/patients/{patient_id}/treatments", None),
        case(
            "POST",
            "/v1/patients/{patient_id}/treatments",
            Some(json!({"kind": "other", "name": "x", "started_at": "2026-02-11T09:00:00Z"})),
        ),
        case(
            "GET",
            "/v1/patients/{patient_id}/treatments/{treatment_id}",
            None,
        ),
        case(
            "PATCH",
            "/v1/patients/{patient_id}/treatments/{treatment_id}",
            Some(json!({"notes": "changed"})),
        ),
        case(
            "DELETE",
            "/v1/patients/{patient_id}/treatments/{treatment_id}",
            None,
        ),
        case(
            "GET",
            "/v1/patients/{patient_id}/treatments/{treatment_id}/summary",
            None,
        ),
        query(
            case("GET", "/v1/patients/{patient_id}/summary", None),
            "?from=2026-01-01&to=2026-03-31",
        ),
        query(
            case("GET", "/v1/patients/{patient_id}/days", None),
            "?from=2026-02-01&to=2026-02-28",
        ),
        case("GET", "/v1/patients/{patient_id}/diary.csv", None),
        only(Case {
            csv: Some(IMPORT_CSV),
            ..case("POST", "/v1/patients/{patient_id}/diary/import", None)
        }),
        case("GET", "/v1/patients/{patient_id}/fhir", None),
        case(
            "GET",
            "/v1/patients/{patient_id}/treatments/{treatment_id}/report",
            None,
        ),
        query(
            case("GET", "/v1/patients/{patient_id}/report", None),
            "?from=2026-01-01&to=2026-03-31",
        ),
        case("GET", "/v1/patients/{patient_id}/changes", None),
        case("GET", "/v1/patients/{patient_id}/questionnaires", None),
        only(case(
            "POST",
            "/v1/patients/{patient_id}/questionnaires",
            Some(
                json!({"instrument": "hit6", "completed_on": "2026-02-02", "answers": [1, 1, 1, 1, 1, 1]}),
            ),
        )),
        case(
            "GET",
            "/v1/patients/{patient_id}/questionnaires/{response_id}",
            None,
        ),
        only(case(
            "DELETE",
            "/v1/patients/{patient_id}/questionnaires/{response_id}",
            None,
        )),
        only(case("GET", "/v1/patients/{patient_id}/access-log", None)),
    ]
}

/// Every operation of the committed contract: `(METHOD, path template, needs a token)`.
fn documented_operations() -> Vec<(String, String, bool)> {
    let doc: Value = serde_json::from_str(&migraine_diary::openapi_json()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            out.push((method.to_uppercase(), path.clone(), secured));
        }
    }
    out
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
    // The matrix sends hundreds of requests with each caller's token: a per-caller request
    // budget far above it keeps the 429 of `limits.rs` out of the way of the answers tested here.
    let app = TestApp::with_limits(LimitSettings {
        caller_per_minute: 1_000_000,
        caller_burst: 1_000_000,
        ..LimitSettings::default()
    })
    .await;
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

/// The per-patient routes, from the OpenAPI document: every operation whose path names a
/// `{patient_id}`, filled in with Ana's ids. Deletes come last so the others find their data.
fn patient_routes(w: &World) -> Vec<Route> {
    let cases = patient_cases();
    let mut routes: Vec<Route> = documented_operations()
        .into_iter()
        .filter(|(_, template, _)| template.contains("{patient_id}"))
        .map(|(method, template, _)| {
            let c = cases
                .iter()
                .find(|c| c.method == method && c.template == template)
                .unwrap_or_else(|| {
                    panic!("no authorization case for {method} {template}: add it to patient_cases")
                });
            let path = template
                .replace("{patient_id}", &w.ana.id.to_string())
                .replace("{treatment_id}", &w.treatment_id)
                .replace("{response_id}", &w.questionnaire_id)
                .replace("{date}", "2026-02-02");
            Route {
                method,
                path: format!("{path}{}", c.query),
                body: c.body.clone(),
                csv: c.csv,
                patient_only: c.patient_only,
            }
        })
        .collect();
    routes.sort_by_key(|r| r.method == "DELETE");
    routes
}

async fn call(w: &World, r: &Route, token: Option<&str>) -> crate::common::Resp {
    let Some(csv) = r.csv else {
        return w.app.call(&r.method, &r.path, token, r.body.clone()).await;
    };
    let request = TestApp::request(&r.method, &r.path, token, None)
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    w.app.send(request).await
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
            sid: uuid::Uuid::now_v7(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now - 7200,
            nbf: now - 7200,
            exp: now - 3600,
        })
        .unwrap();
    let other_key = TokenKeys::new(&AuthSettings::with_secret(
        b"another-secret-another-secret-0123".to_vec(),
    ))
    .issue_access(w.ana.id, Role::Patient, uuid::Uuid::now_v7())
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

/// The routes for one role (not about a patient): who must get 403.
fn role_cases(w: &World) -> Vec<(&'static str, &'static str, Option<Value>, Vec<&Actor>)> {
    vec![
        ("GET", "/v1/patients", None, vec![&w.ana, &w.admin]),
        ("GET", "/v1/cohort/summary", None, vec![&w.ana, &w.admin]),
        ("POST", "/v1/care-invites", None, vec![&w.ana, &w.admin]),
        ("GET", "/v1/me/clinicians", None, vec![&w.linked, &w.admin]),
        (
            "POST",
            "/v1/me/clinicians",
            Some(json!({"code": "AAAA-BBBB-CCCC"})),
            vec![&w.linked, &w.admin],
        ),
        (
            "DELETE",
            "/v1/me/clinicians/{clinician_id}",
            None,
            vec![&w.linked, &w.admin],
        ),
        (
            "POST",
            "/v1/admin/users",
            Some(json!({"email": "x@clinic.org", "password": "long enough pw", "role": "admin"})),
            vec![&w.ana, &w.linked],
        ),
        ("GET", "/v1/me/export", None, vec![&w.linked, &w.admin]),
        (
            "POST",
            "/v1/me/delete",
            Some(json!({"password": PASSWORD})),
            vec![&w.linked, &w.admin],
        ),
        (
            "POST",
            "/v1/admin/users/{user_id}/password-reset",
            None,
            vec![&w.ana, &w.linked],
        ),
        (
            "DELETE",
            "/v1/admin/users/{user_id}",
            None,
            vec![&w.ana, &w.linked],
        ),
        ("GET", "/v1/admin/audit", None, vec![&w.ana, &w.linked]),
    ]
}

/// The caller's own account: any valid token, no role.
const OWN_ACCOUNT: &[(&str, &str)] = &[
    ("GET", "/v1/me"),
    ("PATCH", "/v1/me"),
    ("POST", "/v1/me/password"),
];

/// Operations without a token (tested in accounts.rs and server.rs).
const PUBLIC: &[(&str, &str)] = &[
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/auth/password-reset"),
    ("POST", "/v1/auth/password-reset/confirm"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
];

/// A new route in the contract cannot be forgotten here: each documented operation is a
/// per-patient case, a role case, an own-account case, or listed as public (and then documented
/// without a token).
#[tokio::test]
async fn every_documented_operation_has_an_authorization_case() {
    let w = world().await;
    let patient = patient_cases();
    let role = role_cases(&w);
    let mut missing = Vec::new();
    for (method, template, secured) in documented_operations() {
        let m = method.as_str();
        let t = template.as_str();
        let covered = if !secured {
            PUBLIC.contains(&(m, t))
        } else if t.contains("{patient_id}") {
            patient.iter().any(|c| c.method == m && c.template == t)
        } else {
            role.iter().any(|(cm, ct, _, _)| *cm == m && *ct == t) || OWN_ACCOUNT.contains(&(m, t))
        };
        if !covered {
            missing.push(format!("{method} {template} (token: {secured})"));
        }
    }
    assert!(
        missing.is_empty(),
        "operations without an authorization case: {missing:?}"
    );
}

#[tokio::test]
async fn role_routes_refuse_the_wrong_role() {
    let w = world().await;
    let cases = role_cases(&w);
    for (method, template, body, forbidden) in cases {
        let path = template
            .replace("{clinician_id}", &w.linked.id.to_string())
            .replace("{user_id}", &w.linked.id.to_string());
        let path = match method {
            "GET" if path == "/v1/cohort/summary" => format!("{path}?kind=iv_ketamine"),
            _ => path,
        };
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
    for (method, path) in OWN_ACCOUNT {
        let body = (*method == "PATCH").then(|| json!({"display_name": "x"}));
        w.app
            .call(method, path, None, body.clone())
            .await
            .assert_problem(401);
        for (kind, token) in bad_tokens(&w) {
            let r = w.app.call(method, path, Some(&token), body.clone()).await;
            assert_eq!(r.status, 401, "{kind} token on {method} {path}");
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
