//! What generated clients and Schemathesis rely on beyond single resources (issue 14): one
//! error format for every answer, strict dates, and requests that the document allows being
//! accepted while those it forbids are refused.

use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn an_unsupported_method_is_a_problem_with_allow() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for (method, path, allowed) in [
        ("POST", "/v1/me", ["GET", "PATCH"].as_slice()),
        ("DELETE", "/v1/auth/login", ["POST"].as_slice()),
        // A CORS preflight when no CORS layer answers it.
        ("OPTIONS", "/v1/me", ["GET", "PATCH"].as_slice()),
    ] {
        let r = app.call(method, path, Some(&ana.token), None).await;
        r.assert_problem(405);
        assert_eq!(
            r.body["type"],
            "urn:migraine-diary:problem:method-not-allowed"
        );
        assert!(
            r.body["detail"].as_str().unwrap().contains(method),
            "{}",
            r.body
        );
        let allow = r.headers["allow"].to_str().unwrap().to_owned();
        for m in allowed {
            assert!(allow.contains(m), "{method} {path}: Allow {allow}");
        }
    }
    // Handled errors of a supported method stay as they were.
    let r = app
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"timezone": "Mars/Base"})),
        )
        .await;
    r.assert_invalid("timezone");
}
