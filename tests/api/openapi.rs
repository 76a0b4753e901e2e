use serde_json::Value;

use crate::common::TestApp;

const REGENERATE: &str = "cargo run -q -- openapi > openapi/openapi.json";

#[test]
fn committed_document_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    let generated = migraine_diary::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date with the code; regenerate it with `{REGENERATE}` and commit it"
    );
}

#[tokio::test]
async fn served_document_is_the_committed_one() {
    let app = TestApp::new().await;
    let r = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    let generated: Value = serde_json::from_str(&migraine_diary::openapi_json()).unwrap();
    assert_eq!(r.body, generated);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
}

#[test]
fn every_operation_is_documented_for_client_generators() {
    let doc: Value = serde_json::from_str(&migraine_diary::openapi_json()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: operationId"));
            assert!(
                ids.insert(id.to_owned()),
                "{what}: duplicate operationId {id}"
            );
            assert!(op["summary"].is_string(), "{what}: summary");
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{what}: one tag"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{what}: success response"
            );
            for status in ["400", "422", "500"] {
                assert!(responses.contains_key(status), "{what}: {status}");
            }
            let public = path.starts_with("/health") || path.starts_with("/v1/auth/");
            if !public {
                assert_eq!(
                    op["security"][0]["bearer"],
                    serde_json::json!([]),
                    "{what}: bearer"
                );
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{what}"
                );
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{what}: 404");
            }
        }
    }
    // No nullable references to objects or enums (Swift/Kotlin generators mishandle them).
    let text = doc.to_string();
    assert!(
        !text.contains("\"oneOf\""),
        "a oneOf crept into the document"
    );
    for name in [
        "Problem",
        "WindowStats",
        "TreatmentSummary",
        "DayClass",
        "CohortSummary",
        "TokenPair",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "component {name}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["MedicationClass"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn docs_page_is_served_from_the_binary() {
    let app = TestApp::new().await;
    let r = app.call("GET", "/docs/", None, None).await;
    assert_eq!(r.status, 200);
    let page = r.body.as_str().unwrap();
    assert!(page.contains("<html"));
    assert!(!page.contains("cdn"), "docs must work with no internet");
    let script = app
        .call("GET", "/docs/swagger-ui-bundle.js", None, None)
        .await;
    assert_eq!(script.status, 200);
    // Swagger UI's default validator loads a badge from validator.swagger.io.
    let init = app
        .call("GET", "/docs/swagger-initializer.js", None, None)
        .await;
    assert_eq!(init.status, 200);
    let init = init.body.as_str().unwrap();
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = TestApp::new().await;
    let live = app.call("GET", "/health/live", None, None).await;
    assert_eq!(live.body["status"], "ok");
    let ready = app.call("GET", "/health/ready", None, None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ok");
    let unknown = app.call("GET", "/v1/nope", None, None).await;
    unknown.assert_problem(404);
}

#[tokio::test]
async fn internal_errors_reveal_nothing_and_readiness_fails() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    app.state.store.db.close_by_ref().await.unwrap();
    let r = app.get("/v1/me", &ana.token).await;
    r.assert_problem(500);
    assert_eq!(r.body["detail"], "An unexpected error occurred.");
    let text = r.body.to_string().to_lowercase();
    for leak in ["sql", "select", "pool", "database", "/", "src"] {
        assert!(
            !text
                .replace("urn:migraine-diary:problem:internal", "")
                .contains(leak),
            "{leak} in {text}"
        );
    }
    app.call("GET", "/health/ready", None, None)
        .await
        .assert_problem(503);
}
