//! Data rights: a patient exports everything and deletes everything; an admin deletes staff.
//! After a deletion no table holds anything of the patient: every table of the schema is
//! searched, whatever it is called, so a table added later is covered too.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{migraine_day, Actor, TestApp, PASSWORD};

/// A display name and note text that appear nowhere else.
const MARKER: &str = "Zyxwquv";

fn ketamine() -> Value {
    json!({
        "kind": "iv_ketamine",
        "name": "ketamine 0.5 mg/kg/h",
        "started_at": "2026-03-01T08:00:00Z",
        "notes": format!("{MARKER} tolerated well"),
        "adverse_events": []
    })
}

/// A patient with a profile, diary, treatments by herself and by her clinician, a care-team
/// link, two sessions and a reset code.
async fn full_record(app: &TestApp) -> (Actor, Actor, Actor) {
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    app.call(
        "PATCH",
        "/v1/me",
        Some(&ana.token),
        Some(json!({"display_name": MARKER})),
    )
    .await;
    let kim = app.linked_clinician("kim@clinic.example", &ana).await;
    let mut day = migraine_day(7);
    day["notes"] = json!(format!("{MARKER} woke up with it"));
    for date in ["2026-02-01", "2026-02-02"] {
        let r = app
            .call(
                "PUT",
                &format!("/v1/patients/{}/diary/{date}", ana.id),
                Some(&ana.token),
                Some(day.clone()),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for who in [&kim, &ana] {
        let r = app
            .call(
                "POST",
                &format!("/v1/patients/{}/treatments", ana.id),
                Some(&who.token),
                Some(ketamine()),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    app.login("ana@example.org").await;
    let admin = app.staff("admin", "admin@clinic.example").await;
    let r = app
        .call(
            "POST",
            &format!("/v1/admin/users/{}/password-reset", ana.id),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(r.status, 201);
    (ana, kim, admin)
}

/// Every (table, column) whose value contains one of `needles`, in any table of the schema
/// except the migration history and the audit trail (which keeps ids by design).
async fn traces(app: &TestApp, needles: &[String]) -> Vec<String> {
    let db = &app.state.store.db;
    let backend = db.get_database_backend();
    let columns_sql = match backend {
        DbBackend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema()"
        }
    };
    let columns = db
        .query_all_raw(Statement::from_string(backend, columns_sql))
        .await
        .unwrap();
    let mut found = Vec::new();
    for row in columns {
        let table: String = row.try_get("", "t").unwrap();
        let column: String = row.try_get("", "c").unwrap();
        if table == "seaql_migrations" || table.contains("audit") {
            continue;
        }
        for needle in needles {
            // Text anywhere in the value, or the bytes of a UUID stored as a blob.
            let sql = match backend {
                DbBackend::Sqlite => format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), $1) > 0 \
                     OR instr(lower(hex(\"{column}\")), $1) > 0"
                ),
                _ => format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" WHERE strpos(lower(CAST(\"{column}\" AS TEXT)), $1) > 0"
                ),
            };
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    &sql,
                    [needle.to_lowercase().into()],
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            if n > 0 {
                found.push(format!("{table}.{column} ({needle})"));
            }
        }
    }
    found
}

fn needles(patient: &Actor) -> Vec<String> {
    vec![
        patient.id.to_string(),
        patient.id.simple().to_string(),
        patient.email.clone(),
        MARKER.to_owned(),
    ]
}

async fn delete_me(app: &TestApp, actor: &Actor, password: &str) -> crate::common::Resp {
    app.call(
        "POST",
        "/v1/me/delete",
        Some(&actor.token),
        Some(json!({"password": password})),
    )
    .await
}

#[tokio::test]
async fn the_export_holds_the_whole_record() {
    let app = TestApp::new().await;
    let (ana, kim, admin) = full_record(&app).await;
    let r = app.get("/v1/me/export", &ana.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = &r.body;
    assert_eq!(doc["profile"]["id"], ana.id.to_string());
    assert_eq!(doc["profile"]["display_name"], MARKER);
    assert_eq!(doc["diary"].as_array().unwrap().len(), 2);
    assert_eq!(doc["diary"][0]["date"], "2026-02-01");
    assert_eq!(doc["diary"][0]["peak_pain"], 7);
    assert_eq!(doc["treatments"].as_array().unwrap().len(), 2);
    assert_eq!(doc["care_team"][0]["id"], kim.id.to_string());
    assert!(doc["sessions"].as_array().unwrap().len() >= 2);
    assert!(doc["exported_at"].is_string());
    // For the patient only.
    for other in [&kim, &admin] {
        app.get("/v1/me/export", &other.token)
            .await
            .assert_problem(403);
    }
    app.call("GET", "/v1/me/export", None, None)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn a_deleted_patient_leaves_nothing_behind_and_may_register_again() {
    let app = TestApp::new().await;
    let (ana, kim, _) = full_record(&app).await;
    assert!(!traces(&app, &needles(&ana)).await.is_empty());

    delete_me(&app, &ana, "not my password")
        .await
        .assert_problem(401);
    delete_me(&app, &kim, PASSWORD).await.assert_problem(403);
    app.call(
        "POST",
        "/v1/me/delete",
        None,
        Some(json!({"password": PASSWORD})),
    )
    .await
    .assert_problem(401);
    assert_eq!(app.get("/v1/me/export", &ana.token).await.status, 200);

    let r = delete_me(&app, &ana, PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(traces(&app, &needles(&ana)).await, Vec::<String>::new());
    app.get("/v1/me", &ana.token).await.assert_problem(401);
    // The clinician lost the patient; the email is free again.
    let patients = app.get("/v1/patients", &kim.token).await;
    assert_eq!(patients.body["items"], json!([]));
    app.patient("ana@example.org", "UTC").await;
}

#[tokio::test]
async fn a_deletion_that_fails_half_way_leaves_the_account_whole() {
    let app = TestApp::new().await;
    let (ana, _, _) = full_record(&app).await;
    let db = &app.state.store.db;
    // The last step, deleting the account row, fails.
    let refuse = match db.get_database_backend() {
        DbBackend::Sqlite => vec![
            "CREATE TRIGGER refuse_user_delete BEFORE DELETE ON users \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ],
        _ => vec![
            "CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
            "CREATE TRIGGER refuse_user_delete BEFORE DELETE ON users \
             FOR EACH ROW EXECUTE FUNCTION refuse_delete()",
        ],
    };
    for sql in refuse {
        db.execute_unprepared(sql).await.unwrap();
    }
    let before = app.get("/v1/me/export", &ana.token).await.body;
    delete_me(&app, &ana, PASSWORD).await.assert_problem(500);
    let after = app.get("/v1/me/export", &ana.token).await;
    assert_eq!(after.status, 200, "the session survived");
    for part in ["profile", "diary", "treatments", "care_team"] {
        assert_eq!(after.body[part], before[part], "{part}");
    }
    app.login("ana@example.org").await;
}

#[tokio::test]
async fn an_admin_deletes_staff_whose_treatments_keep_their_author() {
    let app = TestApp::new().await;
    let (ana, kim, admin) = full_record(&app).await;
    let path = |id: Uuid| format!("/v1/admin/users/{id}");
    // Patients delete themselves; nobody but an admin deletes staff; an admin not themself.
    app.call("DELETE", &path(ana.id), Some(&admin.token), None)
        .await
        .assert_problem(403);
    for caller in [&kim, &ana] {
        app.call("DELETE", &path(kim.id), Some(&caller.token), None)
            .await
            .assert_problem(403);
    }
    app.call("DELETE", &path(kim.id), None, None)
        .await
        .assert_problem(401);
    app.call("DELETE", &path(Uuid::now_v7()), Some(&admin.token), None)
        .await
        .assert_problem(404);
    app.call("DELETE", &path(admin.id), Some(&admin.token), None)
        .await
        .assert_problem(409);

    let r = app
        .call("DELETE", &path(kim.id), Some(&admin.token), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    app.get("/v1/me", &kim.token).await.assert_problem(401);
    app.call("DELETE", &path(kim.id), Some(&admin.token), None)
        .await
        .assert_problem(404);
    let treatments = app
        .get(&format!("/v1/patients/{}/treatments", ana.id), &ana.token)
        .await;
    let authors: Vec<&Value> = treatments.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["recorded_by"])
        .collect();
    assert!(authors.contains(&&json!(kim.id.to_string())));
    let team = app.get("/v1/me/clinicians", &ana.token).await;
    assert_eq!(team.body["items"], json!([]));
    // The address is free, and the old password opens nothing.
    let r = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "kim@clinic.example", "password": PASSWORD})),
        )
        .await;
    r.assert_problem(401);
    assert_eq!(
        traces(&app, std::slice::from_ref(&kim.email)).await,
        Vec::<String>::new()
    );
    app.staff("clinician", "kim@clinic.example").await;
}
