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

#[tokio::test]
async fn dates_are_exactly_yyyy_mm_dd_in_paths_queries_and_bodies() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let base = format!("/v1/patients/{}", ana.id);
    let day = json!({"peak_pain": 3});
    let ok = app
        .call(
            "PUT",
            &format!("{base}/diary/2026-09-09"),
            Some(&ana.token),
            Some(day.clone()),
        )
        .await;
    assert!(ok.status.is_success() || ok.status == 422, "{}", ok.body);
    for bad in [
        "%2B2026-09-09",
        "2026-9-9",
        "%202026-09-09",
        "2026-09-09%20",
        "20260909",
    ] {
        let r = app
            .call(
                "PUT",
                &format!("{base}/diary/{bad}"),
                Some(&ana.token),
                Some(day.clone()),
            )
            .await;
        r.assert_invalid("date");
        assert_eq!(
            r.body["errors"][0]["message"],
            "must be a calendar date `YYYY-MM-DD`"
        );
        let r = app.get(&format!("{base}/diary/{bad}"), &ana.token).await;
        r.assert_invalid("date");
        let r = app
            .get(&format!("{base}/diary?from={bad}"), &ana.token)
            .await;
        r.assert_invalid("from");
        let r = app.get(&format!("{base}/days?to={bad}"), &ana.token).await;
        r.assert_invalid("to");
    }
    let r = app
        .call(
            "POST",
            &format!("{base}/diary/batch"),
            Some(&ana.token),
            Some(json!({"entries": [{"date": "2024-2-29", "peak_pain": 1}]})),
        )
        .await;
    r.assert_invalid("entries[0].date");
    let listed = app.get(&format!("{base}/diary"), &ana.token).await;
    assert_eq!(listed.status, 200);
    assert!(
        listed.body["items"].as_array().unwrap().len() <= 1,
        "nothing else was saved"
    );
}

#[tokio::test]
async fn an_empty_cursor_is_the_first_page() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let dr = app.linked_clinician("dr@clinic.example.org", &ana).await;
    let base = format!("/v1/patients/{}", ana.id);
    for path in [
        format!("{base}/diary?cursor="),
        format!("{base}/treatments?cursor="),
        "/v1/me/clinicians?cursor=&limit=5".to_owned(),
    ] {
        let r = app.get(&path, &ana.token).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let r = app.get("/v1/patients?cursor=", &dr.token).await;
    assert_eq!(r.body["items"][0]["patient"]["id"], ana.id.to_string());
    // A cursor that is not one is still refused.
    app.get(&format!("{base}/diary?cursor=%21%21"), &ana.token)
        .await
        .assert_invalid("cursor");
}

#[tokio::test]
async fn validation_messages_name_no_rust_types() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let base = format!("/v1/patients/{}", ana.id);
    for (body, field, message) in [
        (json!([1, 2]), "body", "must be an object"),
        (json!({"peak_pain": "7"}), "peak_pain", "must be an integer"),
        (
            json!({"peak_pain": 3, "features": [true]}),
            "features",
            "must be an object",
        ),
        (
            json!({"peak_pain": 3, "features": {"aura": "yes"}}),
            "features.aura",
            "must be true or false",
        ),
        (
            json!({"peak_pain": 3, "acute_medications": {}}),
            "acute_medications",
            "must be an array",
        ),
    ] {
        let r = app
            .call(
                "PUT",
                &format!("{base}/diary/2024-02-29"),
                Some(&ana.token),
                Some(body.clone()),
            )
            .await;
        r.assert_invalid(field);
        assert_eq!(r.body["errors"][0]["message"], message, "{body}");
    }
    let r = app
        .call(
            "PUT",
            &format!("{base}/diary/2024-02-29"),
            Some(&ana.token),
            Some(json!({"peak_pain": 3, "disability": "often"})),
        )
        .await;
    r.assert_invalid("disability");
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("must be one of `none`"), "{message}");
    let r = app
        .get(&format!("{base}/diary?limit=ten"), &ana.token)
        .await;
    r.assert_invalid("limit");
    assert_eq!(r.body["errors"][0]["message"], "must be an integer");
    let r = app
        .call(
            "POST",
            &format!("{base}/treatments"),
            Some(&ana.token),
            Some(json!({"kind": "other", "name": "x", "started_at": "yesterday"})),
        )
        .await;
    r.assert_invalid("started_at");
    for leak in ["struct", "i64", "u8", "DiaryEntryInput", "expected"] {
        assert!(!r.body.to_string().contains(leak), "{leak}: {}", r.body);
    }
}

#[tokio::test]
async fn the_body_is_validated_before_if_match_and_if_match_must_be_well_formed() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let path = format!("/v1/patients/{}/diary/2024-02-29", ana.id);
    let put = |if_match: &'static str, body: serde_json::Value| {
        let request = TestApp::request("PUT", &path, Some(&ana.token), Some(&body))
            .header("if-match", if_match)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        app.send(request)
    };
    let long_note = json!({"peak_pain": 2, "notes": "x".repeat(2001)});
    put("", long_note.clone()).await.assert_invalid("notes");
    put("\"7\"", long_note).await.assert_invalid("notes");
    for malformed in ["", "7", "\"seven\"", "W/7"] {
        let r = put(malformed, json!({"peak_pain": 2})).await;
        r.assert_problem(400);
        assert!(r.body["detail"].as_str().unwrap().contains("If-Match"));
    }
    // Well-formed but stale: 412, and nothing was written.
    put("\"7\"", json!({"peak_pain": 2}))
        .await
        .assert_problem(412);
    app.get(&path, &ana.token).await.assert_problem(404);
    let created = put("*", json!({"peak_pain": 2})).await;
    created.assert_problem(412); // `*`: only over an existing entry
    let r = app
        .call(
            "PUT",
            &path,
            Some(&ana.token),
            Some(json!({"peak_pain": 2})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(put("W/\"1\"", json!({"peak_pain": 4})).await.status, 200);
    let delete = TestApp::request("DELETE", &path, Some(&ana.token), None)
        .header("if-match", "one")
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(delete).await.assert_problem(400);
    assert_eq!(app.get(&path, &ana.token).await.body["peak_pain"], 4);
}

#[tokio::test]
async fn null_is_accepted_exactly_where_the_document_says_it_means_something() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let base = format!("/v1/patients/{}", ana.id);
    // Diary: `features: null` is "none recorded", `disability: null` "not recorded" (the
    // default Dart client sends null for every optional field it was not given).
    let r = app
        .call(
            "PUT",
            &format!("{base}/diary/2024-02-29"),
            Some(&ana.token),
            Some(json!({"peak_pain": 4, "features": null, "disability": null, "notes": null, "headache_hours": null})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let features = r.body["features"].as_object().unwrap();
    assert_eq!(features.len(), 8, "a response has every feature");
    assert!(features.values().all(|v| v == false));
    assert!(r.body.get("disability").is_none());
    let r = app
        .call(
            "POST",
            &format!("{base}/diary/batch"),
            Some(&ana.token),
            Some(json!({"entries": [{"date": "2024-03-01", "peak_pain": 2, "features": null, "disability": null}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Treatment changes: null clears an optional field, but the required ones cannot be
    // cleared, so null is refused rather than silently ignored.
    let created = app
        .call(
            "POST",
            &format!("{base}/treatments"),
            Some(&ana.token),
            Some(json!({"kind": "iv_magnesium", "name": "Mg 1 g", "started_at": "2024-03-01T10:00:00Z",
                        "dose": 1, "adverse_events": ["flushing"]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let treatment = format!("{base}/treatments/{}", created.body["id"].as_str().unwrap());
    for field in ["kind", "name", "started_at", "adverse_events"] {
        let r = app
            .call(
                "PATCH",
                &treatment,
                Some(&ana.token),
                Some(json!({ field: null })),
            )
            .await;
        r.assert_invalid(field);
        assert_eq!(
            r.body["errors"][0]["message"],
            "must not be null (omit the field to keep it)"
        );
    }
    let r = app
        .call(
            "PATCH",
            &treatment,
            Some(&ana.token),
            Some(json!({"dose": null})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["dose"], serde_json::Value::Null);
    assert_eq!(r.body["name"], "Mg 1 g");
    assert_eq!(r.body["adverse_events"], json!(["flushing"]));
    // The account: the time zone cannot be cleared; the display name can.
    let r = app
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"timezone": null})),
        )
        .await;
    r.assert_invalid("timezone");
    let r = app
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"display_name": null})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["timezone"], "UTC");
}

#[tokio::test]
async fn request_and_response_features_are_separate_schemas() {
    let doc: serde_json::Value = serde_json::from_str(&migraine_diary::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let response = &schemas["HeadacheFeatures"];
    let request = &schemas["HeadacheFeaturesInput"];
    assert_eq!(response["required"].as_array().unwrap().len(), 8);
    assert!(request.get("required").is_none());
    assert_eq!(request["properties"], response["properties"]);
    assert_eq!(
        schemas["DiaryEntry"]["properties"]["features"]["$ref"],
        "#/components/schemas/HeadacheFeatures"
    );
    assert_eq!(
        schemas["DiaryEntryInput"]["properties"]["features"]["oneOf"][0]["$ref"],
        "#/components/schemas/HeadacheFeaturesInput"
    );
    assert_eq!(
        schemas["DiaryEntry"]["properties"]["peak_pain"]["maximum"],
        10
    );
    for (schema, field) in [
        ("TreatmentPatch", "name"),
        ("TreatmentPatch", "started_at"),
        ("UpdateMeRequest", "timezone"),
    ] {
        let ty = &schemas[schema]["properties"][field]["type"];
        assert!(ty.is_string(), "{schema}.{field} is not nullable: {ty}");
    }
}

/// Every documented query date of every GET operation refuses a non-canonical date, and every
/// `cursor` takes an empty value as the first page: walked from the document, so an operation
/// added later is held to the same rules (a lenient `NaiveDate` field fails here; give it
/// `#[serde(default, deserialize_with = "optional_iso_date")]`).
#[tokio::test]
async fn every_documented_query_date_is_strict_and_every_cursor_may_be_empty() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let dr = app.linked_clinician("dr@clinic.example.org", &ana).await;
    let admin = app.staff("admin", "admin@clinic.example.org").await;
    let treatment = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&ana.token),
            Some(
                json!({"kind": "iv_magnesium", "name": "Mg", "started_at": "2024-03-01T10:00:00Z"}),
            ),
        )
        .await;
    let treatment_id = treatment.body["id"].as_str().unwrap().to_owned();
    let doc: serde_json::Value = serde_json::from_str(&migraine_diary::openapi_json()).unwrap();
    let (mut dates, mut cursors) = (0, 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let path = template
            .replace("{patient_id}", &ana.id.to_string())
            .replace("{treatment_id}", &treatment_id);
        if path.contains('{') {
            continue;
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let required: Vec<String> = params
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| {
                let value = p["schema"]["$ref"]
                    .as_str()
                    .map(|r| r.rsplit('/').next().unwrap_or_default())
                    .and_then(|name| doc["components"]["schemas"][name]["enum"][0].as_str())
                    .unwrap_or("1");
                format!("{}={value}", p["name"].as_str().unwrap())
            })
            .collect();
        let get = |query: String| {
            let path = path.clone();
            let ana = ana.token.clone();
            let dr = dr.token.clone();
            let admin = admin.token.clone();
            let app = &app;
            async move {
                // The first role the operation is for: patient, clinician, admin.
                let url = format!("{path}?{query}");
                let mut r = app.get(&url, &ana).await;
                for token in [&dr, &admin] {
                    if r.status == 403 {
                        r = app.get(&url, token).await;
                    }
                }
                r
            }
        };
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let mut query = required.clone();
            if p["schema"]["format"] == "date" {
                dates += 1;
                query.push(format!("{name}=2024-3-1"));
                let r = get(query.join("&")).await;
                assert!(
                    r.status == 422 && r.error_fields().iter().any(|f| f == name),
                    "GET {template}?{name}=2024-3-1 must be a 422 naming {name}: {} {}",
                    r.status,
                    r.body
                );
            } else if name == "cursor" {
                cursors += 1;
                query.push("cursor=".into());
                let r = get(query.join("&")).await;
                assert_eq!(
                    r.status, 200,
                    "GET {template}?cursor= is the first page: {}",
                    r.body
                );
            }
        }
    }
    assert!(
        dates >= 8 && cursors >= 4,
        "walked {dates} date and {cursors} cursor parameters"
    );
}

#[tokio::test]
async fn the_sync_and_questionnaire_routes_follow_the_same_rules() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let base = format!("/v1/patients/{}", ana.id);
    // An empty `since` is a first pull.
    let r = app.get(&format!("{base}/changes?since="), &ana.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.get(&format!("{base}/changes?since=nonsense"), &ana.token)
        .await
        .assert_invalid("since");
    // `if_version` is not nullable: null is refused, not taken as "unconditional".
    let r = app
        .call(
            "POST",
            &format!("{base}/diary/batch"),
            Some(&ana.token),
            Some(json!({"entries": [{"date": "2024-03-01", "peak_pain": 2, "if_version": null}]})),
        )
        .await;
    r.assert_invalid("entries[0].if_version");
    // A questionnaire's day is exactly YYYY-MM-DD.
    let r = app
        .call(
            "POST",
            &format!("{base}/questionnaires"),
            Some(&ana.token),
            Some(json!({"instrument": "midas", "completed_on": "2024-3-1", "answers": [0, 0, 0, 0, 0]})),
        )
        .await;
    r.assert_invalid("completed_on");
    let r = app
        .call(
            "POST",
            &format!("{base}/questionnaires"),
            Some(&ana.token),
            Some(json!({"instrument": "midas", "completed_on": "2024-03-01", "answers": [0, 0, 0, 0, 0]})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
}
