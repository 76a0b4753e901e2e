use serde_json::json;

use crate::common::TestApp;

fn ketamine() -> serde_json::Value {
    json!({
        "kind": "iv_ketamine",
        "name": "ketamine 0.5 mg/kg/h over 4 h",
        "started_at": "2026-03-01T08:00:00Z",
        "ended_at": "2026-03-01T12:00:00+00:00",
        "dose": 0.5,
        "dose_unit": "mg/kg/h",
        "notes": "tolerated well",
        "adverse_events": ["dissociation"]
    })
}

#[tokio::test]
async fn clinician_records_patient_reads_edits_and_deletes() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "America/Los_Angeles").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let base = format!("/v1/patients/{}/treatments", ana.id);

    let created = app
        .call("POST", &base, Some(&kim.token), Some(ketamine()))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["recorded_by"], kim.id.to_string());
    assert_eq!(created.body["patient_id"], ana.id.to_string());
    assert_eq!(created.body["kind"], "iv_ketamine");
    assert_eq!(created.body["adverse_events"], json!(["dissociation"]));
    // 08:00Z is the evening before in Los Angeles (docs/clinical-rules.md example C).
    assert_eq!(created.body["treatment_day"], "2026-03-01");
    let id = created.body["id"].as_str().unwrap();
    let item = format!("{base}/{id}");

    let read = app.get(&item, &ana.token).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["name"], "ketamine 0.5 mg/kg/h over 4 h");

    let patched = app
        .call(
            "PATCH",
            &item,
            Some(&ana.token),
            Some(json!({"notes": null, "dose": 0.75, "adverse_events": []})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["notes"], serde_json::Value::Null);
    assert_eq!(patched.body["dose"], 0.75);
    assert_eq!(patched.body["dose_unit"], "mg/kg/h");
    assert_eq!(patched.body["adverse_events"], json!([]));

    let list = app.get(&base, &kim.token).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    assert_eq!(
        app.call("DELETE", &item, Some(&kim.token), None)
            .await
            .status,
        204
    );
    app.get(&item, &ana.token).await.assert_problem(404);
    app.call("DELETE", &item, Some(&kim.token), None)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn treatment_rules_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let base = format!("/v1/patients/{}/treatments", ana.id);
    let with = |key: &str, value: serde_json::Value| {
        let mut t = ketamine();
        t[key] = value;
        t
    };
    let cases = [
        (with("kind", json!("laser")), "kind"),
        (with("name", json!("")), "name"),
        (with("started_at", json!("yesterday")), "started_at"),
        (
            with("started_at", json!("1999-01-01T00:00:00Z")),
            "started_at",
        ),
        (with("ended_at", json!("2026-03-01T07:00:00Z")), "ended_at"),
        (with("dose", json!(-1)), "dose"),
        (with("dose_unit", json!("x".repeat(21))), "dose_unit"),
        (with("notes", json!("x".repeat(2001))), "notes"),
        (with("adverse_events", json!([""])), "adverse_events[0]"),
        (
            with("adverse_events", json!(vec!["nausea"; 21])),
            "adverse_events",
        ),
    ];
    for (body, field) in cases {
        app.call("POST", &base, Some(&ana.token), Some(body))
            .await
            .assert_invalid(field);
    }
    let mut missing = ketamine();
    missing.as_object_mut().unwrap().remove("started_at");
    app.call("POST", &base, Some(&ana.token), Some(missing))
        .await
        .assert_invalid("started_at");
    assert_eq!(
        app.get(&base, &ana.token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let created = app
        .call("POST", &base, Some(&ana.token), Some(ketamine()))
        .await;
    let item = format!("{base}/{}", created.body["id"].as_str().unwrap());
    app.call(
        "PATCH",
        &item,
        Some(&ana.token),
        Some(json!({"ended_at": "2026-02-01T00:00:00Z"})),
    )
    .await
    .assert_invalid("ended_at");
    app.call(
        "PATCH",
        &item,
        Some(&ana.token),
        Some(json!({"recorded_by": ana.id})),
    )
    .await
    .assert_problem(400);
    assert_eq!(
        app.get(&item, &ana.token).await.body["ended_at"],
        "2026-03-01T12:00:00Z"
    );
}

#[tokio::test]
async fn treatments_list_in_start_order_across_pages() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let base = format!("/v1/patients/{}/treatments", ana.id);
    for day in [5, 1, 3] {
        let mut t = ketamine();
        t["started_at"] = json!(format!("2026-01-0{day}T10:00:00Z"));
        t["ended_at"] = serde_json::Value::Null;
        app.call("POST", &base, Some(&ana.token), Some(t)).await;
    }
    let first = app.get(&format!("{base}?limit=2"), &ana.token).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{base}?limit=2&cursor={cursor}"), &ana.token)
        .await;
    let starts: Vec<_> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|t| t["started_at"].as_str().unwrap()[..10].to_owned())
        .collect();
    assert_eq!(starts, ["2026-01-01", "2026-01-03", "2026-01-05"]);
}

#[tokio::test]
async fn malformed_treatment_id_is_400_and_unknown_is_404() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    app.get(
        &format!("/v1/patients/{}/treatments/not-a-uuid", ana.id),
        &ana.token,
    )
    .await
    .assert_problem(400);
    app.get(
        &format!(
            "/v1/patients/{}/treatments/{}",
            ana.id,
            uuid::Uuid::now_v7()
        ),
        &ana.token,
    )
    .await
    .assert_problem(404);
}
