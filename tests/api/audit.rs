//! The audit trail: who read or changed a patient's data, as the patient and the admin see it;
//! append-only in the database; kept after the patient's account is gone.

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::common::{calm_day, Actor, TestApp, PASSWORD};

fn access_log(patient: &Actor) -> String {
    format!("/v1/patients/{}/access-log", patient.id)
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().expect("items")
}

/// Rows of the patient's log, read by the patient.
async fn log_of(app: &TestApp, patient: &Actor) -> Vec<Value> {
    let r = app.get(&access_log(patient), &patient.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    items(&r.body).clone()
}

#[tokio::test]
async fn a_clinicians_read_shows_in_the_patients_access_log_with_its_request_id() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let read = app
        .get(&format!("/v1/patients/{}/diary", ana.id), &kim.token)
        .await;
    assert_eq!(read.status, 200);
    let request_id = read.headers["x-request-id"].to_str().unwrap().to_owned();

    let rows = log_of(&app, &ana).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["actor_id"], kim.id.to_string());
    assert_eq!(row["actor_role"], "clinician");
    assert_eq!(row["patient_id"], ana.id.to_string());
    assert_eq!(row["action"], "read");
    assert_eq!(row["resource"], "/v1/patients/{patient_id}/diary");
    assert_eq!(row["outcome"], 200);
    assert_eq!(row["request_id"], request_id);
    assert!(row["at"]
        .as_str()
        .unwrap()
        .starts_with(&Utc::now().date_naive().to_string()));
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        9,
        "ids, time, action, resource, outcome, request id only: {keys:?}"
    );
}

#[tokio::test]
async fn the_patients_own_reads_and_writes_are_not_logged() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let put = app
        .call(
            "PUT",
            &format!("/v1/patients/{}/diary/2026-01-05", ana.id),
            Some(&ana.token),
            Some(calm_day()),
        )
        .await;
    assert_eq!(put.status, 201);
    for path in ["", "/diary", "/days", "/summary", "/treatments"] {
        let r = app
            .get(&format!("/v1/patients/{}{path}", ana.id), &ana.token)
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    assert!(log_of(&app, &ana).await.is_empty());
}

#[tokio::test]
async fn a_refused_read_after_unlink_is_logged_with_its_status() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let unlink = app
        .call(
            "DELETE",
            &format!("/v1/me/clinicians/{}", kim.id),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(unlink.status, 204);
    let refused = app
        .get(&format!("/v1/patients/{}/summary", ana.id), &kim.token)
        .await;
    refused.assert_problem(404);

    let rows = log_of(&app, &ana).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["actor_id"], kim.id.to_string());
    assert_eq!(rows[0]["resource"], "/v1/patients/{patient_id}/summary");
    assert_eq!(rows[0]["outcome"], 404);
}

#[tokio::test]
async fn changes_by_a_clinician_are_logged_with_their_action() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let created = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&kim.token),
            Some(json!({"kind": "iv_magnesium", "name": "magnesium 1 g", "started_at": "2026-02-10T09:00:00Z"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let deleted = app
        .call(
            "DELETE",
            &format!("/v1/patients/{}/treatments/{id}", ana.id),
            Some(&kim.token),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let diary_write = app
        .call(
            "PUT",
            &format!("/v1/patients/{}/diary/2026-01-05", ana.id),
            Some(&kim.token),
            Some(calm_day()),
        )
        .await;
    diary_write.assert_problem(403);

    let rows = log_of(&app, &ana).await;
    let seen: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [("create", 201), ("delete", 204), ("update", 403)]);
}

#[tokio::test]
async fn panel_reads_add_one_row_per_patient_pooled() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let ben = app.patient("ben@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    app.link(&kim, &ben).await;
    let list = app.get("/v1/patients", &kim.token).await;
    assert_eq!(list.status, 200);
    for p in [&ana, &ben] {
        let rows = log_of(&app, p).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["resource"], "/v1/patients");
    }

    // The cohort pools the patients with a matching treatment: only Ben here.
    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", ben.id),
            Some(&kim.token),
            Some(json!({"kind": "iv_ketamine", "name": "ketamine", "started_at": "2026-02-10T09:00:00Z"})),
        )
        .await;
    assert_eq!(t.status, 201);
    let cohort = app
        .get(
            "/v1/cohort/summary?kind=iv_ketamine&from=2026-01-01&to=2026-06-30",
            &kim.token,
        )
        .await;
    assert_eq!(cohort.status, 200, "{}", cohort.body);
    let cohort_rows = |rows: Vec<Value>| {
        rows.into_iter()
            .filter(|r| r["resource"] == "/v1/cohort/summary")
            .count()
    };
    assert_eq!(cohort_rows(log_of(&app, &ben).await), 1);
    assert_eq!(cohort_rows(log_of(&app, &ana).await), 0);
}

#[tokio::test]
async fn the_access_log_is_for_the_patient_only() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let stranger = app.staff("clinician", "lee@clinic.org").await;
    let eve = app.patient("eve@example.org", "UTC").await;
    let admin = app.staff("admin", "root@clinic.org").await;
    let path = access_log(&ana);
    app.get(&path, &kim.token).await.assert_problem(403);
    app.get(&path, &stranger.token).await.assert_problem(404);
    app.get(&path, &eve.token).await.assert_problem(404);
    app.get(&path, &admin.token).await.assert_problem(403);
    app.call("GET", &path, None, None).await.assert_problem(401);

    // Each attempt is itself in the log, refused as it was (the anonymous one has no actor).
    let rows = log_of(&app, &ana).await;
    let outcomes: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["actor_id"].as_str().unwrap().to_owned(),
                r["outcome"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (kim.id.to_string(), 403),
            (stranger.id.to_string(), 404),
            (eve.id.to_string(), 404),
            (admin.id.to_string(), 403),
        ]
    );
}

#[tokio::test]
async fn access_log_dates_are_utc_days_inclusive_and_pages_follow_the_cursor() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Pacific/Kiritimati").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    for _ in 0..3 {
        let r = app
            .get(&format!("/v1/patients/{}", ana.id), &kim.token)
            .await;
        assert_eq!(r.status, 200);
    }
    let today = Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let base = access_log(&ana);
    let on = |from, to| format!("{base}?from={from}&to={to}");
    let r = app.get(&on(today, today), &ana.token).await;
    assert_eq!(items(&r.body).len(), 3, "today, inclusive: {}", r.body);
    let r = app.get(&on(yesterday, yesterday), &ana.token).await;
    assert_eq!(items(&r.body).len(), 0, "{}", r.body);
    app.get(&on(today, yesterday), &ana.token)
        .await
        .assert_invalid("from");
    app.get(&format!("{base}?limit=0"), &ana.token)
        .await
        .assert_invalid("limit");
    app.get(&format!("{base}?cursor=nonsense"), &ana.token)
        .await
        .assert_invalid("cursor");

    let first = app.get(&format!("{base}?limit=2"), &ana.token).await;
    assert_eq!(items(&first.body).len(), 2);
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(&format!("{base}?limit=2&cursor={cursor}"), &ana.token)
        .await;
    assert_eq!(items(&second.body).len(), 1);
    assert!(second.body["next_cursor"].is_null());
    assert_ne!(items(&first.body)[1]["id"], items(&second.body)[0]["id"]);
}

#[tokio::test]
async fn the_admin_reads_the_whole_trail_filtered_and_nobody_else_does() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let ben = app.patient("ben@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let lee = app.linked_clinician("lee@clinic.org", &ben).await;
    let admin = app.staff("admin", "root@clinic.org").await;
    for (c, p) in [(&kim, &ana), (&lee, &ben), (&lee, &ben)] {
        let r = app
            .get(&format!("/v1/patients/{}/days", p.id), &c.token)
            .await;
        assert_eq!(r.status, 200);
    }
    let all = app.get("/v1/admin/audit", &admin.token).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(items(&all.body).len(), 3);
    let of_ben = app
        .get(
            &format!("/v1/admin/audit?patient_id={}", ben.id),
            &admin.token,
        )
        .await;
    assert_eq!(items(&of_ben.body).len(), 2);
    let by_kim = app
        .get(
            &format!("/v1/admin/audit?actor_id={}", kim.id),
            &admin.token,
        )
        .await;
    assert_eq!(items(&by_kim.body).len(), 1);
    assert_eq!(items(&by_kim.body)[0]["patient_id"], ana.id.to_string());
    app.get("/v1/admin/audit?patient_id=x", &admin.token)
        .await
        .assert_invalid("patient_id");

    app.get("/v1/admin/audit", &kim.token)
        .await
        .assert_problem(403);
    app.get("/v1/admin/audit", &ana.token)
        .await
        .assert_problem(403);
    app.call("GET", "/v1/admin/audit", None, None)
        .await
        .assert_problem(401);
}

async fn audit_count(app: &TestApp) -> i64 {
    let row = app
        .state
        .store
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.store.backend(),
            "SELECT COUNT(*) AS n FROM audit_events",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_or_deleted_through_sql() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let r = app
        .get(&format!("/v1/patients/{}", ana.id), &kim.token)
        .await;
    assert_eq!(r.status, 200);
    app.state.audit.flush().await;
    assert_eq!(audit_count(&app).await, 1);

    let db = &app.state.store.db;
    let mut refused = vec![
        "UPDATE audit_events SET outcome = 500",
        "UPDATE audit_events SET actor_id = patient_id",
        "DELETE FROM audit_events",
    ];
    if app.is_postgres() {
        refused.push("TRUNCATE audit_events");
    }
    for sql in refused {
        let err = db.execute_unprepared(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(audit_count(&app).await, 1);
    let rows = log_of(&app, &ana).await;
    assert_eq!(rows[0]["outcome"], 200);
}

#[tokio::test]
async fn the_trail_survives_the_patients_deletion_with_ids_only() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let admin = app.staff("admin", "root@clinic.org").await;
    let r = app
        .get(&format!("/v1/patients/{}/diary", ana.id), &kim.token)
        .await;
    assert_eq!(r.status, 200);
    let deleted = app
        .call(
            "POST",
            "/v1/me/delete",
            Some(&ana.token),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    let trail = app
        .get(
            &format!("/v1/admin/audit?patient_id={}", ana.id),
            &admin.token,
        )
        .await;
    assert_eq!(trail.status, 200);
    let rows = items(&trail.body);
    assert_eq!(rows.len(), 1, "{}", trail.body);
    assert_eq!(rows[0]["actor_id"], kim.id.to_string());
    assert!(!trail.body.to_string().contains("ana@example.org"));
}

#[tokio::test]
async fn a_request_abandoned_by_its_client_is_recorded_as_499() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let request = TestApp::request(
        "GET",
        &format!("/v1/patients/{}/diary", ana.id),
        Some(&kim.token),
        None,
    )
    .body(axum::body::Body::empty())
    .unwrap();
    // Every pooled connection is taken, so the request must wait for one: polled once, it
    // is then dropped, as when the client goes away.
    let held = hold_every_connection(&app).await;
    let answer = app.router.clone().oneshot(request);
    tokio::select! {
        biased;
        _ = answer => panic!("answered without a database connection"),
        () = std::future::ready(()) => {}
    }
    drop(held);
    let rows = log_of(&app, &ana).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["outcome"], 499);
    assert_eq!(rows[0]["actor_id"], kim.id.to_string());
}

/// Takes every connection of the pool, until dropped.
async fn hold_every_connection(app: &TestApp) -> Vec<Box<dyn std::any::Any>> {
    let db = &app.state.store.db;
    let max = app.state.store.pool_use().max;
    let mut held: Vec<Box<dyn std::any::Any>> = Vec::new();
    for _ in 0..max {
        if app.is_postgres() {
            let pool = db.get_postgres_connection_pool();
            held.push(Box::new(pool.acquire().await.unwrap()));
        } else {
            let pool = db.get_sqlite_connection_pool();
            held.push(Box::new(pool.acquire().await.unwrap()));
        }
    }
    held
}

#[tokio::test]
async fn the_patients_export_carries_the_access_log() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let r = app
        .get(&format!("/v1/patients/{}/treatments", ana.id), &kim.token)
        .await;
    assert_eq!(r.status, 200);
    let export = app.get("/v1/me/export", &ana.token).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let log = export.body["access_log"].as_array().expect("access_log");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["actor_id"], kim.id.to_string());
    assert_eq!(log[0]["resource"], "/v1/patients/{patient_id}/treatments");
}

/// The writer's queue is bounded by rows as well as requests: a recording larger than the whole
/// row budget waits for an empty queue instead of deadlocking, recordings racing it wait their
/// turn, and every row is written.
#[tokio::test]
async fn recordings_beyond_the_row_budget_all_reach_the_trail() {
    use migraine_diary::audit::writer::QUEUE_ROWS;
    use migraine_diary::audit::AuditLog;
    use migraine_diary::store::audit::Recording;

    let app = TestApp::new().await;
    let log = AuditLog::start(app.state.store.clone());
    let actor = uuid::Uuid::now_v7();
    let rows = |n: usize| Recording {
        at: Utc::now(),
        actor_id: actor,
        actor_role: "clinician",
        action: "read",
        resource: "/v1/cohort/summary",
        outcome: 200,
        request_id: "budget".into(),
        patients: (0..n).map(|_| uuid::Uuid::now_v7()).collect(),
    };
    let big = QUEUE_ROWS + 1_000;
    tokio::time::timeout(std::time::Duration::from_secs(120), async {
        tokio::join!(
            log.record(rows(QUEUE_ROWS / 2)),
            log.record(rows(big)),
            log.record(rows(QUEUE_ROWS / 2)),
        );
        // Once flushed, the room is all free again: a detached recording goes straight in.
        log.flush().await;
        log.record_detached(rows(7));
        log.flush().await;
    })
    .await
    .expect("the recordings finish");
    assert_eq!(log.backlog(), 0);
    let db = &app.state.store.db;
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "SELECT COUNT(*) AS n FROM audit_events WHERE actor_id = $1"
                }
                _ => "SELECT COUNT(*) AS n FROM audit_events WHERE actor_id = ?",
            },
            [actor.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    assert_eq!(n as usize, QUEUE_ROWS + big + 7);
}
