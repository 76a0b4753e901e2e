//! MIDAS and HIT-6 questionnaires: submission, scores, lists, deletion, access and the
//! before/after of a treatment summary.

use serde_json::{json, Value};

use crate::common::{Actor, TestApp};

fn base(patient: &Actor) -> String {
    format!("/v1/patients/{}/questionnaires", patient.id)
}

fn midas(on: &str, answers: [i64; 5]) -> Value {
    json!({"instrument": "midas", "completed_on": on, "answers": answers})
}

fn hit6(on: &str, answers: [i64; 6]) -> Value {
    json!({"instrument": "hit6", "completed_on": on, "answers": answers})
}

async fn submit(app: &TestApp, patient: &Actor, body: Value) -> Value {
    let r = app
        .call("POST", &base(patient), Some(&patient.token), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

#[tokio::test]
async fn submissions_are_scored_graded_read_listed_and_deleted() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let mut with_extras = midas("2026-02-01", [2, 1, 3, 0, 0]);
    with_extras["headache_days_3_months"] = json!(24);
    with_extras["average_pain"] = json!(6);
    let m = submit(&app, &ana, with_extras).await;
    assert_eq!(m["score"], 6);
    assert_eq!(m["grade"], "II");
    assert_eq!(m["answers"], json!([2, 1, 3, 0, 0]));
    assert_eq!(m["headache_days_3_months"], 24);
    assert_eq!(m["average_pain"], 6);
    assert_eq!(m["instrument"], "midas");
    assert_eq!(m["completed_on"], "2026-02-01");

    let h = submit(&app, &ana, hit6("2026-02-03", [3, 3, 3, 3, 2, 2])).await;
    assert_eq!(h["score"], 56);
    assert_eq!(h["grade"], "substantial");
    // Answers by item number only: no item text, no MIDAS extras.
    let keys: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "answers",
            "completed_on",
            "created_at",
            "grade",
            "id",
            "instrument",
            "patient_id",
            "score"
        ]
    );
    submit(&app, &ana, midas("2026-03-01", [30, 0, 0, 0, 0])).await;

    let one = format!("{}/{}", base(&ana), h["id"].as_str().unwrap());
    assert_eq!(app.get(&one, &ana.token).await.body, h);

    let list = app.get(&base(&ana), &ana.token).await;
    assert_eq!(list.status, 200);
    let grades: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["grade"].as_str().unwrap())
        .collect();
    assert_eq!(grades, ["II", "substantial", "IV"]);
    assert_eq!(list.body["next_cursor"], Value::Null);

    let only = |query: &str| {
        let path = format!("{}?{query}", base(&ana));
        let app = &app;
        let token = ana.token.clone();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["completed_on"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(only("instrument=midas").await, ["2026-02-01", "2026-03-01"]);
    assert_eq!(only("instrument=hit6").await, ["2026-02-03"]);
    assert_eq!(
        only("from=2026-02-02&to=2026-03-01").await,
        ["2026-02-03", "2026-03-01"]
    );
    assert_eq!(only("to=2026-02-01").await, ["2026-02-01"]);

    // Pages of one.
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let path = match &cursor {
            None => format!("{}?limit=1", base(&ana)),
            Some(c) => format!("{}?limit=1&cursor={c}", base(&ana)),
        };
        let r = app.get(&path, &ana.token).await;
        pages.push(r.body["items"][0]["completed_on"].clone());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            json!("2026-02-01"),
            json!("2026-02-03"),
            json!("2026-03-01")
        ]
    );

    assert_eq!(
        app.call("DELETE", &one, Some(&ana.token), None)
            .await
            .status,
        204
    );
    app.get(&one, &ana.token).await.assert_problem(404);
    app.call("DELETE", &one, Some(&ana.token), None)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn every_rule_is_422_naming_the_field_and_saves_nothing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let mut hit6_with_extra = hit6("2026-02-01", [1; 6]);
    hit6_with_extra["average_pain"] = json!(3);
    let mut midas_bad_extra = midas("2026-02-01", [0; 5]);
    midas_bad_extra["headache_days_3_months"] = json!(91);
    let cases = [
        (midas("2026-02-01", [1, 2, 3, 91, 0]), "answers[3]"),
        (midas("2026-02-01", [-1, 0, 0, 0, 0]), "answers[0]"),
        (hit6("2026-02-01", [1, 2, 3, 4, 5, 6]), "answers[5]"),
        (hit6("2026-02-01", [0, 1, 1, 1, 1, 1]), "answers[0]"),
        (
            json!({"instrument": "midas", "completed_on": "2026-02-01", "answers": [1, 2]}),
            "answers",
        ),
        (
            json!({"instrument": "hit6", "completed_on": "2026-02-01", "answers": [1, 2, 3, 4, 5]}),
            "answers",
        ),
        (
            json!({"instrument": "midas", "completed_on": "2026-02-01", "answers": [1, 2, 2.5, 0, 0]}),
            "answers[2]",
        ),
        (
            json!({"instrument": "phq9", "completed_on": "2026-02-01", "answers": [1]}),
            "instrument",
        ),
        (midas("2999-01-01", [0; 5]), "completed_on"),
        (midas("1999-12-31", [0; 5]), "completed_on"),
        (hit6_with_extra, "average_pain"),
        (midas_bad_extra, "headache_days_3_months"),
    ];
    for (body, field) in cases {
        app.call("POST", &base(&ana), Some(&ana.token), Some(body))
            .await
            .assert_invalid(field);
    }
    let list = app.get(&base(&ana), &ana.token).await;
    assert_eq!(list.body["items"], json!([]));
    let r = app
        .get(&format!("{}?limit=0", base(&ana)), &ana.token)
        .await;
    r.assert_invalid("limit");
    let r = app
        .get(
            &format!("{}?from=2026-03-01&to=2026-02-01", base(&ana)),
            &ana.token,
        )
        .await;
    r.assert_invalid("from");
    let r = app
        .get(&format!("{}?cursor=zzz", base(&ana)), &ana.token)
        .await;
    r.assert_invalid("cursor");
}

#[tokio::test]
async fn only_the_patient_submits_and_deletes() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let ben = app.patient("ben@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let lee = app.linked_clinician("lee@clinic.org", &ben).await;
    let saved = submit(&app, &ana, midas("2026-02-01", [0; 5])).await;
    let one = format!("{}/{}", base(&ana), saved["id"].as_str().unwrap());

    // The linked clinician reads but does not write.
    assert_eq!(app.get(&base(&ana), &kim.token).await.status, 200);
    assert_eq!(app.get(&one, &kim.token).await.status, 200);
    app.call(
        "POST",
        &base(&ana),
        Some(&kim.token),
        Some(midas("2026-02-02", [0; 5])),
    )
    .await
    .assert_problem(403);
    app.call("DELETE", &one, Some(&kim.token), None)
        .await
        .assert_problem(403);
    // Anyone else does not see the patient at all.
    for stranger in [&ben, &lee] {
        app.get(&base(&ana), &stranger.token)
            .await
            .assert_problem(404);
        app.get(&one, &stranger.token).await.assert_problem(404);
        app.call(
            "POST",
            &base(&ana),
            Some(&stranger.token),
            Some(midas("2026-02-02", [0; 5])),
        )
        .await
        .assert_problem(404);
        app.call("DELETE", &one, Some(&stranger.token), None)
            .await
            .assert_problem(404);
    }
    app.call("GET", &base(&ana), None, None)
        .await
        .assert_problem(401);
    // A response of another patient is not found under this one.
    let bens = submit(&app, &ben, midas("2026-02-01", [0; 5])).await;
    let crossed = format!("{}/{}", base(&ana), bens["id"].as_str().unwrap());
    app.get(&crossed, &ana.token).await.assert_problem(404);
    app.call("DELETE", &crossed, Some(&ana.token), None)
        .await
        .assert_problem(404);
    assert_eq!(app.get(&one, &ana.token).await.status, 200);
}

#[tokio::test]
async fn treatment_summary_shows_the_questionnaires_before_and_after() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&ana.token),
            Some(json!({"kind": "iv_ketamine", "name": "ketamine", "started_at": "2026-03-01T09:00:00Z"})),
        )
        .await;
    let summary_path = format!(
        "/v1/patients/{}/treatments/{}/summary",
        ana.id,
        t.body["id"].as_str().unwrap()
    );
    let empty = app.get(&summary_path, &ana.token).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(
        empty.body["questionnaires"],
        json!({"before": [], "after": []})
    );

    submit(&app, &ana, midas("2025-11-30", [50, 0, 0, 0, 0])).await; // T−91: outside
    let before = submit(&app, &ana, midas("2026-02-20", [30, 0, 0, 0, 0])).await;
    submit(&app, &ana, midas("2026-03-01", [0; 5])).await; // T itself: neither
    let after = submit(&app, &ana, midas("2026-03-20", [3, 0, 0, 0, 0])).await;
    submit(&app, &ana, midas("2026-04-20", [1, 0, 0, 0, 0])).await; // later than the first after
    let hit6_after = submit(&app, &ana, hit6("2026-05-30", [1; 6])).await; // T+90

    let s = app.get(&summary_path, &ana.token).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["questionnaires"]["before"], json!([before]));
    assert_eq!(
        s.body["questionnaires"]["after"],
        json!([after, hit6_after])
    );
}
