//! The record in other media types: diary.csv and its import, the FHIR Bundle, and the visit
//! reports (HTML with a CSP), each with its authorization cases and bad input.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};

use crate::common::{migraine_day, Actor, Resp, TestApp};

const EXAMPLE_A: &str = include_str!("../fixtures/example-a.json");
const HEADER: &str = "date,peak_pain,headache_hours,aura,nausea,vomiting,photophobia,phonophobia,\
unilateral,pulsating,aggravated_by_activity,acute_medications,disability,notes";

fn text(r: &Resp) -> &str {
    r.body.as_str().unwrap_or_default()
}

async fn import(app: &TestApp, patient_id: uuid::Uuid, token: &str, csv: &str) -> Resp {
    import_as(
        app,
        patient_id,
        token,
        "text/csv; charset=utf-8",
        csv.as_bytes().to_vec(),
    )
    .await
}

async fn import_as(
    app: &TestApp,
    patient_id: uuid::Uuid,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Resp {
    let request = Request::builder()
        .method("POST")
        .uri(format!("/v1/patients/{patient_id}/diary/import"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

async fn put_day(app: &TestApp, patient: &Actor, date: &str, entry: Value) {
    let r = app
        .call(
            "PUT",
            &format!("/v1/patients/{}/diary/{date}", patient.id),
            Some(&patient.token),
            Some(entry),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
}

/// The diary's content fields only (no ids, versions or stamps).
async fn diary_content(app: &TestApp, patient: &Actor) -> Vec<Value> {
    let r = app
        .get(
            &format!("/v1/patients/{}/diary?limit=1000", patient.id),
            &patient.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            for server_field in ["patient_id", "version", "created_at", "updated_at"] {
                e.as_object_mut().unwrap().remove(server_field);
            }
            e
        })
        .collect()
}

/// Days that exercise every column and every awkward character.
fn awkward_days() -> Vec<(&'static str, Value)> {
    vec![
        ("2026-03-01", migraine_day(7)),
        ("2026-03-02", json!({"peak_pain": 0})),
        (
            "2026-03-03",
            json!({
                "peak_pain": 4,
                "headache_hours": 2.75,
                "features": {"aura": true, "vomiting": true, "photophobia": true,
                             "phonophobia": true, "aggravated_by_activity": true},
                "acute_medications": [
                    {"name": "=HYPERLINK(\"http://evil.example\")", "class": "other", "dose": "-1"},
                    {"name": "ibu|pro;fen\\x", "class": "nsaid", "dose": "400 mg; then 200"},
                    {"name": "@paracetamol", "class": "simple_analgesic"},
                    {"name": "metoclopramide", "class": "antiemetic", "dose": ""}
                ],
                "disability": "severe",
                "notes": "+ line one, \"quoted\"\nline two <script>alert(1)</script>\r\n'tis"
            }),
        ),
        (
            "2026-03-04",
            json!({"peak_pain": 2, "notes": "'=already quoted"}),
        ),
        (
            "2026-03-05",
            json!({"peak_pain": 0, "headache_hours": 0, "notes": "-"}),
        ),
    ]
}

#[tokio::test]
async fn csv_export_has_the_fixed_header_and_one_row_per_recorded_day() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    put_day(&app, &ana, "2026-03-02", json!({"peak_pain": 0})).await;
    put_day(&app, &ana, "2026-03-01", migraine_day(7)).await;
    let r = app
        .get(&format!("/v1/patients/{}/diary.csv", ana.id), &ana.token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/csv; charset=utf-8");
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"diary.csv\""
    );
    let lines: Vec<&str> = text(&r).split("\r\n").collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(
        lines[1],
        "2026-03-01,7,6,false,true,false,false,false,true,true,false,\
         sumatriptan|triptan|50 mg,moderate,woke up with it"
    );
    assert_eq!(
        lines[2],
        "2026-03-02,0,,false,false,false,false,false,false,false,false,,,"
    );
    assert_eq!(lines.len(), 4, "two rows and the final line end");
    let ranged = app
        .get(
            &format!("/v1/patients/{}/diary.csv?from=2026-03-02", ana.id),
            &ana.token,
        )
        .await;
    assert_eq!(text(&ranged).lines().count(), 2);
    let bad = app
        .get(
            &format!(
                "/v1/patients/{}/diary.csv?from=2026-03-05&to=2026-03-01",
                ana.id
            ),
            &ana.token,
        )
        .await;
    bad.assert_invalid("from");
}

#[tokio::test]
async fn csv_round_trip_into_an_empty_diary_gives_the_same_diary() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    for (date, entry) in awkward_days() {
        put_day(&app, &ana, date, entry).await;
    }
    let csv = app
        .get(&format!("/v1/patients/{}/diary.csv", ana.id), &ana.token)
        .await;
    assert_eq!(csv.status, 200);
    let csv = text(&csv).to_owned();

    let bo = app.patient("bo@example.org", "Europe/Berlin").await;
    let r = import(&app, bo.id, &bo.token, &csv).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"created": 5, "replaced": 0, "unchanged": 0}));
    assert_eq!(
        diary_content(&app, &bo).await,
        diary_content(&app, &ana).await
    );

    // The same file again changes nothing; a changed day is replaced.
    let again = import(&app, bo.id, &bo.token, &csv).await;
    assert_eq!(
        again.body,
        json!({"created": 0, "replaced": 0, "unchanged": 5})
    );
    let changed = csv.replacen("2026-03-02,0,", "2026-03-02,1,", 1);
    let r = import(&app, bo.id, &bo.token, &changed).await;
    assert_eq!(r.body, json!({"created": 0, "replaced": 1, "unchanged": 4}));
}

#[tokio::test]
async fn formula_cells_are_defused_in_the_export() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    for (date, entry) in awkward_days() {
        put_day(&app, &ana, date, entry).await;
    }
    let csv = app
        .get(&format!("/v1/patients/{}/diary.csv", ana.id), &ana.token)
        .await;
    let mut reader = csv::ReaderBuilder::new().from_reader(text(&csv).as_bytes());
    let mut cells = Vec::new();
    for record in reader.records() {
        cells.extend(
            record
                .unwrap()
                .iter()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
    }
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a spreadsheet would run {cell:?}"
        );
    }
    assert!(cells.iter().any(|c| c.starts_with("'=HYPERLINK")));
    assert!(cells.iter().any(|c| c == "''=already quoted"));
    assert!(cells.iter().any(|c| c == "'-"));
}

#[tokio::test]
async fn csv_import_names_line_and_field_and_writes_nothing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let good = "2026-03-01,3,,,,,,,,,,,,";
    let file = format!(
        "{HEADER}\n{good}\n2026-03-02,eleven,,,,,,,,,,,,\n2026-03-03,11,,maybe,,,,,,,,ibuprofen|candy,,\n\
         2999-01-01,0,2,,,,,,,,,,,\n2026-03-01,1,,,,,,,,,,,,\n"
    );
    let r = import(&app, ana.id, &ana.token, &file).await;
    r.assert_problem(422);
    assert_eq!(
        r.error_fields(),
        [
            "line 3: peak_pain",
            "line 4: aura",
            "line 4: acute_medications",
            "line 6: date"
        ]
    );
    assert!(
        diary_content(&app, &ana).await.is_empty(),
        "nothing written"
    );

    // Syntax is good, the diary's rules are not: still nothing written, same naming.
    let rules = format!("{HEADER}\n{good}\n2026-03-02,11,,,,,,,,,,,,\n2999-01-01,0,2,,,,,,,,,,,\n");
    let r = import(&app, ana.id, &ana.token, &rules).await;
    r.assert_problem(422);
    let fields = r.error_fields();
    assert!(
        fields.contains(&"line 3: peak_pain".to_owned()),
        "{fields:?}"
    );
    assert!(fields.contains(&"line 4: date".to_owned()), "{fields:?}");
    assert!(
        fields.contains(&"line 4: headache_hours".to_owned()),
        "{fields:?}"
    );
    assert!(
        diary_content(&app, &ana).await.is_empty(),
        "nothing written"
    );

    let header = import(&app, ana.id, &ana.token, "date;peak_pain\n2026-03-01;3\n").await;
    assert_eq!(header.error_fields(), ["line 1: header"]);
    let short = import(
        &app,
        ana.id,
        &ana.token,
        &format!("{HEADER}\n2026-03-01,3\n"),
    )
    .await;
    assert_eq!(short.error_fields(), ["line 2: row"]);
    let bytes = import_as(&app, ana.id, &ana.token, "text/csv", vec![0xff, 0xfe, 0x00]).await;
    bytes.assert_invalid("body");
    let json = import_as(&app, ana.id, &ana.token, "application/json", b"{}".to_vec()).await;
    json.assert_problem(415);
}

#[tokio::test]
async fn only_the_patient_imports_and_strangers_see_nothing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let eve = app.patient("eve@example.org", "Europe/Berlin").await;
    let admin = app.staff("admin", "root@clinic.org").await;
    let file = format!("{HEADER}\n2026-03-01,3,,,,,,,,,,,,\n");
    import(&app, ana.id, &kim.token, &file)
        .await
        .assert_problem(403);
    import(&app, ana.id, &eve.token, &file)
        .await
        .assert_problem(404);
    import(&app, ana.id, &admin.token, &file)
        .await
        .assert_problem(403);
    let anonymous = app
        .send(
            Request::builder()
                .method("POST")
                .uri(format!("/v1/patients/{}/diary/import", ana.id))
                .header("content-type", "text/csv")
                .body(Body::from(file.clone()))
                .unwrap(),
        )
        .await;
    anonymous.assert_problem(401);
    assert!(diary_content(&app, &ana).await.is_empty());

    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&kim.token),
            Some(json!({"kind": "iv_ketamine", "name": "ketamine", "started_at": "2026-03-01T08:00:00Z"})),
        )
        .await;
    let treatment = t.body["id"].as_str().unwrap().to_owned();
    let reads = [
        format!("/v1/patients/{}/diary.csv", ana.id),
        format!("/v1/patients/{}/fhir", ana.id),
        format!("/v1/patients/{}/treatments/{treatment}/report", ana.id),
        format!("/v1/patients/{}/report", ana.id),
    ];
    for path in &reads {
        assert_eq!(app.get(path, &ana.token).await.status, 200, "{path}");
        assert_eq!(app.get(path, &kim.token).await.status, 200, "{path}");
        app.get(path, &eve.token).await.assert_problem(404);
        app.get(path, &admin.token).await.assert_problem(403);
        app.call("GET", path, None, None).await.assert_problem(401);
    }
    // A stranger's own patient id does not open someone else's treatment.
    let theirs = format!("/v1/patients/{}/treatments/{treatment}/report", eve.id);
    app.get(&theirs, &eve.token).await.assert_problem(404);
}

#[tokio::test]
async fn the_fhir_bundle_holds_each_part_of_the_record() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    put_day(&app, &ana, "2026-03-01", migraine_day(7)).await;
    put_day(&app, &ana, "2026-03-02", json!({"peak_pain": 0})).await;
    for (kind, at) in [
        ("iv_ketamine", "2026-03-03T08:00:00Z"),
        ("sphenopalatine_ganglion_block", "2026-03-04T08:00:00Z"),
        ("occipital_nerve_block", "2026-03-05T08:00:00Z"),
    ] {
        let r = app
            .call(
                "POST",
                &format!("/v1/patients/{}/treatments", ana.id),
                Some(&ana.token),
                Some(json!({"kind": kind, "name": kind, "started_at": at, "dose": 0.5, "dose_unit": "mg/kg/h"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app
        .get(&format!("/v1/patients/{}/fhir", ana.id), &ana.token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "application/fhir+json");
    let b = &r.body;
    assert_eq!(
        (b["resourceType"].as_str(), b["type"].as_str()),
        (Some("Bundle"), Some("collection"))
    );
    let resources: Vec<&Value> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    let types: Vec<&str> = resources
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Patient",
            "Observation",
            "MedicationStatement",
            "Observation",
            "MedicationAdministration",
            "Procedure",
            "Procedure"
        ]
    );
    assert_eq!(resources[0]["id"], ana.id.to_string());
    let obs = resources[1];
    assert_eq!(obs["code"]["coding"][0]["system"], "http://loinc.org");
    assert_eq!(obs["code"]["coding"][0]["code"], "72514-3");
    assert_eq!(obs["valueInteger"], 7);
    assert_eq!(obs["effectiveDateTime"], "2026-03-01");
    assert_eq!(
        resources[2]["medicationCodeableConcept"]["text"],
        "sumatriptan"
    );
    assert_eq!(resources[5]["code"]["coding"][0]["code"], "86169007");
    assert_eq!(
        resources[5]["code"]["coding"][0]["system"],
        "http://snomed.info/sct"
    );
    for e in b["entry"].as_array().unwrap() {
        assert!(e["fullUrl"].as_str().unwrap().starts_with("urn:uuid:"));
    }
}

/// Example A's diary and treatment, with user text that tries to inject markup.
async fn example_a_with_markup() -> (TestApp, Actor, String) {
    let fixture: Value = serde_json::from_str(EXAMPLE_A).unwrap();
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let me = app
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"display_name": "Ana <script>alert('name')</script>"})),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    let batch = app
        .call(
            "POST",
            &format!("/v1/patients/{}/diary/batch", ana.id),
            Some(&ana.token),
            Some(json!({"entries": fixture["entries"]})),
        )
        .await;
    assert_eq!(batch.status, 200, "{}", batch.body);
    let mut treatment = fixture["treatment"].clone();
    treatment["name"] = json!("<script>alert('treatment')</script>");
    treatment["notes"] = json!("<img src=x onerror=alert(1)>");
    treatment["adverse_events"] = json!(["<b>dissociation</b>"]);
    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&ana.token),
            Some(treatment),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let id = t.body["id"].as_str().unwrap().to_owned();
    (app, ana, id)
}

#[tokio::test]
async fn the_treatment_report_shows_example_a_and_escapes_user_text() {
    let (app, ana, treatment) = example_a_with_markup().await;
    let path = format!("/v1/patients/{}/treatments/{treatment}/report", ana.id);
    let r = app.get(&path, &ana.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'none'") && csp.contains("img-src 'none'"),
        "{csp}"
    );
    let html = text(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for figure in [
        "12.0",
        "3.5",
        "−8.5 (−71 %)",
        "24/28 (86 %)",
        "None recorded",
    ] {
        assert!(html.contains(figure), "{figure} missing");
    }
    assert!(!html.contains("<script"), "user text became markup");
    assert!(!html.contains("<img") && !html.contains("<b>dissociation"));
    assert!(html.contains("alert(&#39;treatment&#39;)"));
    assert!(html.contains("Ana &#60;script&#62;"));

    let followups = app
        .get(&format!("{path}?followup_windows=3"), &ana.token)
        .await;
    assert!(text(&followups).contains("Days 57–84"));
    app.get(&format!("{path}?window_days=5"), &ana.token)
        .await
        .assert_invalid("window_days");
    let unknown = format!(
        "/v1/patients/{}/treatments/{}/report",
        ana.id,
        uuid::Uuid::now_v7()
    );
    app.get(&unknown, &ana.token).await.assert_problem(404);
}

#[tokio::test]
async fn the_range_report_covers_at_most_a_year() {
    let (app, ana, _) = example_a_with_markup().await;
    let base = format!("/v1/patients/{}/report", ana.id);
    let r = app
        .get(&format!("{base}?from=2026-02-01&to=2026-03-29"), &ana.token)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = text(&r);
    assert!(html.contains("Diary report"));
    assert!(
        html.contains("52/57 (91 %)"),
        "the whole range's completion"
    );
    assert!(!html.contains("<script"));
    app.get(&format!("{base}?from=2025-01-01&to=2026-01-02"), &ana.token)
        .await
        .assert_invalid("to");
    app.get(&format!("{base}?from=2026-03-02&to=2026-03-01"), &ana.token)
        .await
        .assert_invalid("from");
}

#[tokio::test]
async fn questionnaires_appear_in_the_report_and_the_bundle() {
    let (app, ana, treatment) = example_a_with_markup().await;
    for (instrument, on, answers) in [
        ("midas", "2026-02-20", json!([5, 4, 6, 5, 4])),
        ("hit6", "2026-02-21", json!([5, 5, 4, 4, 5, 4])),
        ("midas", "2026-03-25", json!([1, 2, 1, 2, 1])),
    ] {
        let r = app
            .call(
                "POST",
                &format!("/v1/patients/{}/questionnaires", ana.id),
                Some(&ana.token),
                Some(json!({"instrument": instrument, "completed_on": on, "answers": answers})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let report = app
        .get(
            &format!("/v1/patients/{}/treatments/{treatment}/report", ana.id),
            &ana.token,
        )
        .await;
    let html = text(&report);
    assert!(!html.contains("None recorded"));
    assert!(html.contains("24 (IV), 20 Feb"), "MIDAS before");
    assert!(html.contains("7 (II), 25 Mar"), "MIDAS after");
    assert!(html.contains("(severe), 21 Feb"), "HIT-6 before");

    let range = app
        .get(
            &format!(
                "/v1/patients/{}/report?from=2026-03-01&to=2026-03-29",
                ana.id
            ),
            &ana.token,
        )
        .await;
    assert!(text(&range).contains("7 (II), 25 Mar"));
    assert!(!text(&range).contains("24 (IV)"), "outside the range");

    let bundle = app
        .get(&format!("/v1/patients/{}/fhir", ana.id), &ana.token)
        .await;
    let responses: Vec<&Value> = bundle.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "QuestionnaireResponse")
        .collect();
    assert_eq!(responses.len(), 3);
    assert_eq!(responses[0]["status"], "completed");
    assert_eq!(responses[0]["authored"], "2026-02-20");
    assert_eq!(responses[0]["item"][0]["answer"][0]["valueInteger"], 5);
    assert!(responses[0]["questionnaire"]
        .as_str()
        .unwrap()
        .ends_with("/Questionnaire/midas"));
}
