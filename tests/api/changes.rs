//! The changes feed (`GET …/changes`) and the batch's `if_version`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use serde_json::{json, Value};

use crate::common::{calm_day, migraine_day, Actor, Resp, TestApp};

fn changes(patient: &Actor, since: Option<&str>, limit: Option<u32>) -> String {
    let mut path = format!("/v1/patients/{}/changes", patient.id);
    let mut sep = '?';
    if let Some(since) = since {
        path.push_str(&format!("{sep}since={since}"));
        sep = '&';
    }
    if let Some(limit) = limit {
        path.push_str(&format!("{sep}limit={limit}"));
    }
    path
}

fn day(patient: &Actor, date: &str) -> String {
    format!("/v1/patients/{}/diary/{date}", patient.id)
}

fn treatment(started: &str) -> Value {
    json!({"kind": "iv_magnesium", "name": "magnesium sulfate 1 g", "started_at": started})
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn dates(feed: &Value) -> Vec<String> {
    feed["diary_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["date"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(feed: &Value) -> Vec<String> {
    feed["treatments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn pull(app: &TestApp, who: &Actor, patient: &Actor, since: Option<&str>) -> Value {
    let r = app.get(&changes(patient, since, None), &who.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn feed_lists_latest_state_once_and_deletions_since_the_cursor() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for date in ["2026-03-01", "2026-03-02", "2026-03-03"] {
        app.call("PUT", &day(&ana, date), Some(&ana.token), Some(calm_day()))
            .await;
    }
    let base = format!("/v1/patients/{}/treatments", ana.id);
    let t1 = app
        .call(
            "POST",
            &base,
            Some(&ana.token),
            Some(treatment("2026-03-01T09:00:00Z")),
        )
        .await;
    let t2 = app
        .call(
            "POST",
            &base,
            Some(&ana.token),
            Some(treatment("2026-03-02T09:00:00Z")),
        )
        .await;
    let (t1, t2) = (
        t1.body["id"].as_str().unwrap(),
        t2.body["id"].as_str().unwrap(),
    );

    let first = pull(&app, &ana, &ana, None).await;
    assert_eq!(dates(&first), ["2026-03-01", "2026-03-02", "2026-03-03"]);
    assert_eq!(ids(&first), [t1, t2]);
    assert_eq!(first["deleted_diary_dates"], json!([]));
    assert_eq!(first["deleted_treatment_ids"], json!([]));
    assert_eq!(first["has_more"], false);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();

    // Nothing changed: nothing listed, the cursor stays.
    let again = pull(&app, &ana, &ana, Some(&cursor)).await;
    assert_eq!(dates(&again), Vec::<String>::new());
    assert_eq!(again["next_cursor"], cursor.as_str());

    // Day 1 changed twice, day 2 deleted, day 3 deleted and written again; t1 deleted, t2 patched.
    for pain in [4, 5] {
        app.call(
            "PUT",
            &day(&ana, "2026-03-01"),
            Some(&ana.token),
            Some(migraine_day(pain)),
        )
        .await;
    }
    for (method, date) in [("DELETE", "2026-03-02"), ("DELETE", "2026-03-03")] {
        assert_eq!(
            app.call(method, &day(&ana, date), Some(&ana.token), None)
                .await
                .status,
            204
        );
    }
    app.call(
        "PUT",
        &day(&ana, "2026-03-03"),
        Some(&ana.token),
        Some(migraine_day(7)),
    )
    .await;
    let r = app
        .call("DELETE", &format!("{base}/{t1}"), Some(&ana.token), None)
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .call(
            "PATCH",
            &format!("{base}/{t2}"),
            Some(&ana.token),
            Some(json!({"notes": "ok"})),
        )
        .await;
    assert_eq!(r.status, 200);

    let feed = pull(&app, &ana, &ana, Some(&cursor)).await;
    assert_eq!(dates(&feed), ["2026-03-01", "2026-03-03"]);
    assert_eq!(feed["diary_entries"][0]["peak_pain"], 5);
    assert_eq!(feed["diary_entries"][0]["version"], 3);
    assert_eq!(feed["diary_entries"][1]["version"], 1);
    assert_eq!(strings(&feed["deleted_diary_dates"]), ["2026-03-02"]);
    assert_eq!(ids(&feed), [t2]);
    assert_eq!(feed["treatments"][0]["notes"], "ok");
    assert_eq!(strings(&feed["deleted_treatment_ids"]), [t1]);
    assert_eq!(feed["has_more"], false);

    // The old cursor still works and gives the same answer; the new one gives nothing.
    assert_eq!(pull(&app, &ana, &ana, Some(&cursor)).await, feed);
    let latest = feed["next_cursor"].as_str().unwrap();
    let empty = pull(&app, &ana, &ana, Some(latest)).await;
    assert_eq!(empty["diary_entries"], json!([]));
    assert_eq!(empty["deleted_diary_dates"], json!([]));
    assert_eq!(empty["treatments"], json!([]));
    assert_eq!(empty["deleted_treatment_ids"], json!([]));

    // A first pull lists the current state only (no tombstones).
    let full = pull(&app, &ana, &ana, None).await;
    assert_eq!(dates(&full), ["2026-03-01", "2026-03-03"]);
    assert_eq!(ids(&full), [t2]);
    assert_eq!(full["deleted_diary_dates"], json!([]));
    assert_eq!(full["next_cursor"], latest);
}

#[tokio::test]
async fn limit_pages_the_four_lists_together() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for n in 1..=5 {
        let date = format!("2026-03-0{n}");
        app.call("PUT", &day(&ana, &date), Some(&ana.token), Some(calm_day()))
            .await;
    }
    let base = format!("/v1/patients/{}/treatments", ana.id);
    for n in 1..=2 {
        let started = format!("2026-03-0{n}T09:00:00Z");
        app.call("POST", &base, Some(&ana.token), Some(treatment(&started)))
            .await;
    }
    let start = pull(&app, &ana, &ana, None).await;
    let cursor0 = start["next_cursor"].as_str().unwrap().to_owned();
    app.call("DELETE", &day(&ana, "2026-03-02"), Some(&ana.token), None)
        .await;
    app.call(
        "PUT",
        &day(&ana, "2026-03-01"),
        Some(&ana.token),
        Some(migraine_day(3)),
    )
    .await;

    // From the start, in pages of 3.
    let mut seen_days = Vec::new();
    let mut seen_treatments = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let r = app
            .get(&changes(&ana, cursor.as_deref(), Some(3)), &ana.token)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let listed = r.body["diary_entries"].as_array().unwrap().len()
            + r.body["treatments"].as_array().unwrap().len()
            + r.body["deleted_diary_dates"].as_array().unwrap().len();
        assert!(listed <= 3);
        seen_days.extend(dates(&r.body));
        seen_treatments.extend(ids(&r.body));
        pages += 1;
        cursor = Some(r.body["next_cursor"].as_str().unwrap().to_owned());
        if r.body["has_more"] == false {
            break;
        }
        assert_eq!(listed, 3);
    }
    // 4 days + 2 treatments, and the deletion of day 2 once the pages continue from a cursor.
    assert_eq!(pages, 3);
    let unique: BTreeSet<&String> = seen_days.iter().collect();
    assert_eq!(
        unique.len(),
        seen_days.len(),
        "each day once: {seen_days:?}"
    );
    assert_eq!(seen_days.len(), 4);
    assert_eq!(seen_treatments.len(), 2);

    // After the first cursor, in pages of 1: one deletion, then one change.
    let r = app
        .get(&changes(&ana, Some(&cursor0), Some(1)), &ana.token)
        .await;
    assert_eq!(strings(&r.body["deleted_diary_dates"]), ["2026-03-02"]);
    assert_eq!(r.body["has_more"], true);
    let next = r.body["next_cursor"].as_str().unwrap();
    let r = app
        .get(&changes(&ana, Some(next), Some(1)), &ana.token)
        .await;
    assert_eq!(dates(&r.body), ["2026-03-01"]);
    assert_eq!(r.body["has_more"], false);
}

#[tokio::test]
async fn bad_limit_and_cursor_are_422_naming_them() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for limit in [0, 1001] {
        app.get(&changes(&ana, None, Some(limit)), &ana.token)
            .await
            .assert_invalid("limit");
    }
    app.get(&changes(&ana, Some("bm90LWEtY3Vyc29y"), None), &ana.token)
        .await
        .assert_invalid("since");
    // A cursor this patient's feed never reached.
    let other = app.patient("ben@example.org", "UTC").await;
    for date in ["2026-03-01", "2026-03-02"] {
        app.call(
            "PUT",
            &day(&other, date),
            Some(&other.token),
            Some(calm_day()),
        )
        .await;
    }
    let far = pull(&app, &other, &other, None).await;
    app.get(
        &changes(&ana, far["next_cursor"].as_str(), None),
        &ana.token,
    )
    .await
    .assert_invalid("since");
}

#[tokio::test]
async fn feed_is_for_the_patient_and_linked_clinicians_only() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let ben = app.patient("ben@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let lee = app.linked_clinician("lee@clinic.org", &ben).await;
    app.call(
        "PUT",
        &day(&ana, "2026-03-01"),
        Some(&ana.token),
        Some(calm_day()),
    )
    .await;
    assert_eq!(dates(&pull(&app, &kim, &ana, None).await), ["2026-03-01"]);
    app.get(&changes(&ana, None, None), &ben.token)
        .await
        .assert_problem(404);
    app.get(&changes(&ana, None, None), &lee.token)
        .await
        .assert_problem(404);
    app.call("GET", &changes(&ana, None, None), None, None)
        .await
        .assert_problem(401);
}

fn batch(entries: Value) -> Value {
    json!({ "entries": entries })
}

async fn post_batch(app: &TestApp, ana: &Actor, entries: Value) -> Resp {
    app.call(
        "POST",
        &format!("/v1/patients/{}/diary/batch", ana.id),
        Some(&ana.token),
        Some(batch(entries)),
    )
    .await
}

#[tokio::test]
async fn batch_if_version_mismatch_is_412_listing_conflicts_and_writes_nothing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let created = post_batch(
        &app,
        &ana,
        json!([
            {"date": "2026-03-01", "peak_pain": 2, "if_version": 0},
            {"date": "2026-03-02", "peak_pain": 3, "if_version": 0},
        ]),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let cursor = pull(&app, &ana, &ana, None).await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    // Day 1 at version 1 matches; day 2 "must not exist" fails; day 3 "at version 4" fails;
    // day 4 is new and unconditional.
    let r = post_batch(
        &app,
        &ana,
        json!([
            {"date": "2026-03-01", "peak_pain": 9, "if_version": 1},
            {"date": "2026-03-02", "peak_pain": 9, "if_version": 0},
            {"date": "2026-03-03", "peak_pain": 9, "if_version": 4},
            {"date": "2026-03-04", "peak_pain": 9},
        ]),
    )
    .await;
    r.assert_problem(412);
    assert_eq!(
        r.body["conflicts"],
        json!([
            {"date": "2026-03-02", "current_version": 1},
            {"date": "2026-03-03", "current_version": 0},
        ])
    );
    assert_eq!(
        app.get(&day(&ana, "2026-03-01"), &ana.token).await.body["peak_pain"],
        2
    );
    app.get(&day(&ana, "2026-03-04"), &ana.token)
        .await
        .assert_problem(404);
    let after = pull(&app, &ana, &ana, Some(&cursor)).await;
    assert_eq!(after["diary_entries"], json!([]), "nothing written");

    // With the versions the conflicts named, it goes through.
    let r = post_batch(
        &app,
        &ana,
        json!([
            {"date": "2026-03-01", "peak_pain": 9, "if_version": 1},
            {"date": "2026-03-02", "peak_pain": 9, "if_version": 1},
            {"date": "2026-03-03", "peak_pain": 9, "if_version": 0},
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let versions: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 2, 1]);
    let feed = pull(&app, &ana, &ana, Some(&cursor)).await;
    assert_eq!(dates(&feed), ["2026-03-01", "2026-03-02", "2026-03-03"]);

    // A deleted day counts as version 0 again.
    app.call("DELETE", &day(&ana, "2026-03-03"), Some(&ana.token), None)
        .await;
    let r = post_batch(
        &app,
        &ana,
        json!([{"date": "2026-03-03", "peak_pain": 1, "if_version": 1}]),
    )
    .await;
    r.assert_problem(412);
    assert_eq!(
        r.body["conflicts"],
        json!([{"date": "2026-03-03", "current_version": 0}])
    );
    let r = post_batch(
        &app,
        &ana,
        json!([{"date": "2026-03-03", "peak_pain": 1, "if_version": 0}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn batch_if_version_must_be_a_whole_number_from_zero() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for bad in [json!(-1), json!(1.5), json!("1"), json!(3_000_000_000_i64)] {
        let r = post_batch(
            &app,
            &ana,
            json!([{"date": "2026-03-01", "peak_pain": 1}, {"date": "2026-03-02", "peak_pain": 1, "if_version": bad}]),
        )
        .await;
        r.assert_invalid("entries[1].if_version");
    }
    app.get(&day(&ana, "2026-03-01"), &ana.token)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn a_day_that_does_not_exist_fails_if_match_and_is_not_found_for_delete() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let path = day(&ana, "2026-03-01");
    let with_if_match = |method: &str, tag: &str, body: Option<Value>| {
        let b = TestApp::request(method, &path, Some(&ana.token), body.as_ref())
            .header("if-match", tag);
        match body {
            Some(v) => b.body(Body::from(v.to_string())).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        }
    };
    // Never written.
    app.send(with_if_match("PUT", "\"1\"", Some(calm_day())))
        .await
        .assert_problem(412);
    app.send(with_if_match("DELETE", "\"1\"", None))
        .await
        .assert_problem(404);
    // Written, then deleted.
    app.call("PUT", &path, Some(&ana.token), Some(calm_day()))
        .await;
    assert_eq!(
        app.send(with_if_match("DELETE", "\"1\"", None))
            .await
            .status,
        204
    );
    app.send(with_if_match("PUT", "\"1\"", Some(calm_day())))
        .await
        .assert_problem(412);
    app.send(with_if_match("PUT", "*", Some(calm_day())))
        .await
        .assert_problem(412);
    app.send(with_if_match("DELETE", "\"1\"", None))
        .await
        .assert_problem(404);
    app.send(with_if_match("DELETE", "*", None))
        .await
        .assert_problem(404);
}

/// Many writers at once while a device keeps pulling: what the device assembles from the feed
/// alone equals the diary (on PostgreSQL this exercises the per-patient change lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_never_slip_behind_a_cursor() {
    let app = Arc::new(TestApp::new().await);
    let ana = Arc::new(app.patient("ana@example.org", "UTC").await);
    let device = Arc::new(Mutex::new(Device::default()));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32u8 {
        let (a, p) = (Arc::clone(&app), Arc::clone(&ana));
        tasks.spawn(async move {
            let date = |n: u8| format!("2026-03-{:02}", n % 8 + 1);
            let r = if i % 5 == 4 {
                a.call("DELETE", &day(&p, &date(i)), Some(&p.token), None)
                    .await
            } else if i % 3 == 0 {
                // Batches of three days, in rising and falling order: writers that would lock
                // the same days in opposite orders (they take the patient's change lock first).
                let mut days: Vec<u8> = vec![i, i + 1, i + 2];
                if i % 2 == 0 {
                    days.reverse();
                }
                let entries: Vec<Value> = days
                    .iter()
                    .map(|n| json!({"date": date(*n), "peak_pain": (n % 10)}))
                    .collect();
                let path = format!("/v1/patients/{}/diary/batch", p.id);
                a.call(
                    "POST",
                    &path,
                    Some(&p.token),
                    Some(json!({ "entries": entries })),
                )
                .await
            } else {
                a.call(
                    "PUT",
                    &day(&p, &date(i)),
                    Some(&p.token),
                    Some(migraine_day(i % 9 + 1)),
                )
                .await
            };
            assert!(
                matches!(r.status.as_u16(), 200 | 201 | 204 | 404),
                "{} {}",
                r.status,
                r.body
            );
        });
        if i % 2 == 0 {
            let (a, p, d) = (Arc::clone(&app), Arc::clone(&ana), Arc::clone(&device));
            tasks.spawn(async move { Device::pull(&d, &a, &p).await });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    Device::pull(&device, &app, &ana).await;
    let server = app
        .get(&format!("/v1/patients/{}/diary", ana.id), &ana.token)
        .await;
    let expected: BTreeMap<String, Value> = server.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["date"].as_str().unwrap().to_owned(), e.clone()))
        .collect();
    assert_eq!(device.lock().unwrap().days, expected);
}

/// A device that only learns the diary from the feed.
#[derive(Default)]
struct Device {
    days: BTreeMap<String, Value>,
    cursor: Option<String>,
}

impl Device {
    /// Pulls from the device's cursor; concurrent pulls of one device apply in cursor order
    /// (a stale answer, from an older cursor than the device has now, is dropped).
    async fn pull(device: &Mutex<Device>, app: &TestApp, ana: &Actor) {
        let since = device.lock().unwrap().cursor.clone();
        let feed = pull(app, ana, ana, since.as_deref()).await;
        let mut d = device.lock().unwrap();
        if d.cursor != since {
            return;
        }
        for entry in feed["diary_entries"].as_array().unwrap() {
            d.days
                .insert(entry["date"].as_str().unwrap().to_owned(), entry.clone());
        }
        for date in strings(&feed["deleted_diary_dates"]) {
            d.days.remove(&date);
        }
        d.cursor = Some(feed["next_cursor"].as_str().unwrap().to_owned());
    }
}

/// The interleaving a global sequence gets wrong, forced step by step on PostgreSQL: writer A
/// takes its change number and holds its transaction open; writer B starts after it; a pull
/// runs; A commits. The next pull must still list A's change. (With a plain sequence B would
/// take the higher number, commit first, and the first pull's cursor would pass A's number.)
/// SQLite runs one writer at a time, so there this interleaving cannot happen at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_committed_after_a_later_writer_is_not_skipped() {
    use migraine_diary::domain::{DiaryEntry, EntryDraft, PatientId};
    use migraine_diary::store::diary::{self as diary_store, Precondition};
    use sea_orm::ConnectionTrait;

    let app = Arc::new(TestApp::new().await);
    if !app.is_postgres() {
        return;
    }
    let ana = Arc::new(app.patient("ana@example.org", "UTC").await);
    let start = pull(&app, &ana, &ana, None).await;
    let cursor0 = start["next_cursor"].as_str().unwrap().to_owned();

    // Writer A: its number taken, not committed.
    let a_day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let draft = EntryDraft {
        peak_pain: 4,
        headache_hours: None,
        features: Default::default(),
        acute_medications: vec![],
        disability: None,
        notes: None,
    };
    let entry = DiaryEntry::parse(a_day, draft, a_day).unwrap();
    let txn_a = app.state.store.begin_write().await.unwrap();
    diary_store::upsert(&*txn_a, PatientId(ana.id), &entry, Precondition::None)
        .await
        .unwrap();

    // Writer B, another day, through the API.
    let (a, p) = (Arc::clone(&app), Arc::clone(&ana));
    let writer_b = tokio::spawn(async move {
        a.call(
            "PUT",
            &day(&p, "2026-03-02"),
            Some(&p.token),
            Some(calm_day()),
        )
        .await
        .status
    });
    // Wait until B has either committed or is waiting for a lock (A holds the patient's).
    let db = &app.state.store.db;
    loop {
        let waiting = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*)::bigint AS n FROM pg_locks WHERE NOT granted",
            ))
            .await
            .unwrap()
            .and_then(|row| row.try_get::<i64>("", "n").ok())
            .unwrap_or(0);
        if writer_b.is_finished() || waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    let middle = pull(&app, &ana, &ana, Some(&cursor0)).await;
    txn_a.commit().await.unwrap();
    assert!(writer_b.await.unwrap().is_success());
    let after = pull(&app, &ana, &ana, middle["next_cursor"].as_str()).await;
    let mut seen = dates(&middle);
    seen.extend(dates(&after));
    seen.sort();
    assert_eq!(seen, ["2026-03-01", "2026-03-02"], "A's change was skipped");
}
