//! The outcome endpoints against docs/clinical-rules.md's worked examples, entries saved through the API.

use serde_json::{json, Value};

use crate::common::{calm_day, migraine_day, Actor, TestApp};

const EXAMPLE_A: &str = include_str!("../fixtures/example-a.json");

struct ExampleA {
    app: TestApp,
    patient: Actor,
    clinician: Actor,
    treatment_id: String,
    expected: Value,
}

/// Saves example A's entries (one batch) and treatment through the API.
async fn example_a() -> ExampleA {
    let fixture: Value = serde_json::from_str(EXAMPLE_A).unwrap();
    let app = TestApp::new().await;
    let patient = app
        .patient(
            "a@example.org",
            fixture["patient_timezone"].as_str().unwrap(),
        )
        .await;
    let clinician = app.linked_clinician("kim@clinic.org", &patient).await;
    let batch = app
        .call(
            "POST",
            &format!("/v1/patients/{}/diary/batch", patient.id),
            Some(&patient.token),
            Some(json!({"entries": fixture["entries"]})),
        )
        .await;
    assert_eq!(batch.status, 200, "{}", batch.body);
    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", patient.id),
            Some(&clinician.token),
            Some(fixture["treatment"].clone()),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    ExampleA {
        treatment_id: t.body["id"].as_str().unwrap().to_owned(),
        expected: fixture["expected"].clone(),
        app,
        patient,
        clinician,
    }
}

fn summary_path(a: &ExampleA, query: &str) -> String {
    format!(
        "/v1/patients/{}/treatments/{}/summary{query}",
        a.patient.id, a.treatment_id
    )
}

#[track_caller]
fn assert_matches(actual: &Value, expected: &Value, key: &str) {
    for (field, want) in expected.as_object().unwrap() {
        assert_eq!(&actual[field], want, "{key}.{field}");
    }
}

#[tokio::test]
async fn worked_example_a_window_28() {
    let a = example_a().await;
    let r = a.app.get(&summary_path(&a, ""), &a.clinician.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let want = &a.expected["28"];
    assert_eq!(r.body["window_days"], 28);
    assert_eq!(r.body["treatment"]["treatment_day"], "2026-03-01");
    assert_matches(&r.body["baseline"], &want["baseline"], "baseline");
    assert_matches(&r.body["post"], &want["post"], "post");
    assert_matches(&r.body["change"], &want["change"], "change");
    for key in [
        "responder_50",
        "responder_75",
        "pain_responder",
        "sufficient_data",
    ] {
        assert_eq!(r.body[key], want[key], "{key}");
    }
    assert_eq!(r.body["followup"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["followup"][0], r.body["post"]);
    assert_eq!(r.body["overlapping_treatments"], json!([]));
    // The patient reads the same numbers.
    let own = a.app.get(&summary_path(&a, ""), &a.patient.token).await;
    assert_eq!(own.body, r.body);
}

#[tokio::test]
async fn worked_example_a_window_7_and_three_followups() {
    let a = example_a().await;
    let r = a
        .app
        .get(&summary_path(&a, "?window_days=7"), &a.patient.token)
        .await;
    let want = &a.expected["7"];
    assert_matches(&r.body["baseline"], &want["baseline"], "baseline");
    assert_matches(&r.body["post"], &want["post"], "post");
    assert_matches(&r.body["change"], &want["change"], "change");
    assert_eq!(r.body["responder_50"], true);
    assert_eq!(r.body["responder_75"], false);

    let three = a
        .app
        .get(&summary_path(&a, "?followup_windows=3"), &a.patient.token)
        .await;
    let followup = three.body["followup"].as_array().unwrap();
    let ranges: Vec<_> = followup
        .iter()
        .map(|w| (w["from"].clone(), w["to"].clone()))
        .collect();
    assert_eq!(
        ranges,
        [
            (json!("2026-03-02"), json!("2026-03-29")),
            (json!("2026-03-30"), json!("2026-04-26")),
            (json!("2026-04-27"), json!("2026-05-24")),
        ]
    );
    for w in &followup[1..] {
        assert_eq!(w["days_recorded"], 0);
        assert_eq!(w["completion"], 0.0);
        assert_eq!(w["headache_days_per_28"], Value::Null);
    }
}

#[tokio::test]
async fn overlapping_treatment_appears_within_the_window_only() {
    let a = example_a().await;
    let other = a
        .app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", a.patient.id),
            Some(&a.clinician.token),
            Some(json!({"kind": "iv_magnesium", "name": "magnesium 1 g", "started_at": "2026-03-20T10:00:00Z"})),
        )
        .await;
    let other_id = other.body["id"].clone();
    let r28 = a.app.get(&summary_path(&a, ""), &a.patient.token).await;
    assert_eq!(r28.body["overlapping_treatments"], json!([other_id]));
    let r7 = a
        .app
        .get(&summary_path(&a, "?window_days=7"), &a.patient.token)
        .await;
    assert_eq!(r7.body["overlapping_treatments"], json!([]));
    // The numbers do not change.
    assert_matches(&r28.body["change"], &a.expected["28"]["change"], "change");
}

#[tokio::test]
async fn bad_summary_parameters_are_422_naming_them() {
    let a = example_a().await;
    let t = &a.patient.token;
    for (query, field) in [
        ("?window_days=6", "window_days"),
        ("?window_days=91", "window_days"),
        ("?window_days=abc", "window_days"),
        ("?followup_windows=0", "followup_windows"),
        ("?followup_windows=4", "followup_windows"),
    ] {
        a.app
            .get(&summary_path(&a, query), t)
            .await
            .assert_invalid(field);
    }
    let p = format!("/v1/patients/{}", a.patient.id);
    for (query, field) in [
        ("/summary?from=2026-03-01&to=2026-02-01", "from"),
        ("/summary?from=2020-01-01&to=2026-01-01", "to"),
        (
            "/summary?from=2026-01-01&to=2026-02-01&period=fortnight",
            "period",
        ),
        ("/summary?from=2026-13-01", "from"),
        ("/days?from=2026-03-01&to=2026-02-01", "from"),
        ("/days?from=2022-01-01&to=2026-01-01", "to"),
    ] {
        a.app
            .get(&format!("{p}{query}"), t)
            .await
            .assert_invalid(field);
    }
    let c = &a.clinician.token;
    for (query, field) in [
        ("?kind=laser", "kind"),
        ("", "kind"),
        ("?kind=iv_ketamine&window_days=6", "window_days"),
        ("?kind=iv_ketamine&window_days=91", "window_days"),
        ("?kind=iv_ketamine&from=2026-05-01&to=2026-01-01", "from"),
        ("?kind=iv_ketamine&from=2020-01-01&to=2026-01-01", "to"),
    ] {
        a.app
            .get(&format!("/v1/cohort/summary{query}"), c)
            .await
            .assert_invalid(field);
    }
}

#[tokio::test]
async fn monthly_summary_splits_example_a() {
    let a = example_a().await;
    let r = a
        .app
        .get(
            &format!(
                "/v1/patients/{}/summary?from=2026-02-01&to=2026-03-31&period=month",
                a.patient.id
            ),
            &a.clinician.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["overall"]["days"], 59);
    let periods = r.body["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2);
    assert_matches(&periods[0], &a.expected["28"]["baseline"], "february");
    assert_eq!(periods[1]["from"], "2026-03-01");
    assert_eq!(periods[1]["to"], "2026-03-31");
    // March: only the 24 recorded post days; the treatment day and 03-30/31 are missing.
    assert_eq!(periods[1]["days_recorded"], 24);
    assert_eq!(periods[1]["headache_days"], 3);
    let weeks = a
        .app
        .get(
            &format!(
                "/v1/patients/{}/summary?from=2026-02-01&to=2026-02-28&period=week",
                a.patient.id
            ),
            &a.patient.token,
        )
        .await;
    let weeks = weeks.body["periods"].as_array().unwrap();
    // 2026-02-01 is a Sunday: a one-day first ISO week, then four full weeks... and a partial.
    assert_eq!(weeks[0]["days"], 1);
    assert_eq!(weeks[1]["from"], "2026-02-02");
    let total: u64 = weeks.iter().map(|w| w["days"].as_u64().unwrap()).sum();
    assert_eq!(total, 28);
    let blocks = a
        .app
        .get(
            &format!(
                "/v1/patients/{}/summary?from=2026-02-01&to=2026-03-31&period=28d",
                a.patient.id
            ),
            &a.patient.token,
        )
        .await;
    let blocks = blocks.body["periods"].as_array().unwrap();
    let lengths: Vec<_> = blocks.iter().map(|b| b["days"].as_u64().unwrap()).collect();
    assert_eq!(lengths, [28, 28, 3]);
}

#[tokio::test]
async fn day_calendar_has_every_day_and_marks_the_treatment_day() {
    let a = example_a().await;
    let r = a
        .app
        .get(
            &format!(
                "/v1/patients/{}/days?from=2026-02-27&to=2026-03-11",
                a.patient.id
            ),
            &a.clinician.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let days = r.body["days"].as_array().unwrap();
    assert_eq!(days.len(), 13);
    let day = |date: &str| days.iter().find(|d| d["date"] == date).unwrap().clone();
    assert_eq!(day("2026-03-01")["treatment_ids"], json!([a.treatment_id]));
    assert_eq!(day("2026-03-02")["treatment_ids"], json!([]));
    assert_eq!(day("2026-03-03")["headache"], true);
    assert_eq!(day("2026-03-03")["migraine"], false);
    assert_eq!(day("2026-03-10")["recorded"], false);
    assert_eq!(day("2026-03-10")["peak_pain"], Value::Null);
    let feb_28 = day("2026-02-28");
    assert_eq!(feb_28["recorded"], true);
    assert_eq!(feb_28["any_headache"], false);
}

#[tokio::test]
async fn treatment_day_follows_the_patients_time_zone() {
    // docs/clinical-rules.md example C: 05:30Z on 06-10 is 22:30 on 06-09 in Los Angeles.
    let app = TestApp::new().await;
    let p = app.patient("la@example.org", "America/Los_Angeles").await;
    let t = app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", p.id),
            Some(&p.token),
            Some(json!({"kind": "occipital_nerve_block", "name": "GON block", "started_at": "2026-06-10T05:30:00Z"})),
        )
        .await;
    assert_eq!(t.body["treatment_day"], "2026-06-09");
    let s = app
        .get(
            &format!(
                "/v1/patients/{}/treatments/{}/summary",
                p.id,
                t.body["id"].as_str().unwrap()
            ),
            &p.token,
        )
        .await;
    assert_eq!(s.body["post"]["from"], "2026-06-10");
    assert_eq!(s.body["baseline"]["to"], "2026-06-08");
    assert_eq!(s.body["sufficient_data"], false);
    assert_eq!(s.body["responder_50"], Value::Null);
}

#[tokio::test]
async fn patient_list_shows_last_entry_last_28_days_and_latest_treatment() {
    let app = TestApp::new().await;
    let kim = app.staff("clinician", "kim@clinic.org").await;
    let today = chrono::Utc::now().date_naive();
    let ana = app.patient("ana@example.org", "UTC").await;
    let ben = app.patient("ben@example.org", "Asia/Kolkata").await;
    let cat = app.patient("cat@example.org", "UTC").await;
    app.link(&kim, &ana).await;
    app.link(&kim, &ben).await;
    for back in 1..=3 {
        let date = today - chrono::Duration::days(back);
        app.call(
            "PUT",
            &format!("/v1/patients/{}/diary/{date}", ana.id),
            Some(&ana.token),
            Some(if back == 1 {
                migraine_day(7)
            } else {
                calm_day()
            }),
        )
        .await;
    }
    for (day, kind) in [
        ("2026-01-10", "iv_magnesium"),
        ("2026-05-01", "iv_ketamine"),
    ] {
        app.call(
            "POST",
            &format!("/v1/patients/{}/treatments", ana.id),
            Some(&kim.token),
            Some(json!({"kind": kind, "name": kind, "started_at": format!("{day}T09:00:00Z")})),
        )
        .await;
    }
    let r = app.get("/v1/patients", &kim.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "only linked patients");
    assert!(items
        .iter()
        .all(|i| i["patient"]["id"] != cat.id.to_string()));
    let ana_item = items
        .iter()
        .find(|i| i["patient"]["id"] == ana.id.to_string())
        .unwrap();
    assert_eq!(
        ana_item["last_entry_date"],
        (today - chrono::Duration::days(1)).to_string()
    );
    assert_eq!(ana_item["last_28_days"]["days"], 28);
    assert_eq!(ana_item["last_28_days"]["days_recorded"], 3);
    assert_eq!(ana_item["last_28_days"]["headache_days"], 1);
    assert_eq!(ana_item["latest_treatment"]["kind"], "iv_ketamine");
    let ben_item = items
        .iter()
        .find(|i| i["patient"]["id"] == ben.id.to_string())
        .unwrap();
    assert_eq!(ben_item["last_entry_date"], Value::Null);
    assert_eq!(ben_item["last_28_days"]["days_recorded"], 0);
    assert!(ben_item.get("latest_treatment").is_none());

    let page = app.get("/v1/patients?limit=1", &kim.token).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("/v1/patients?limit=1&cursor={cursor}"), &kim.token)
        .await;
    assert_eq!(next.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(
        next.body["items"][0]["patient"]["id"],
        page.body["items"][0]["patient"]["id"]
    );
    assert_eq!(next.body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn cohort_pools_linked_patients_only() {
    let a = example_a().await;
    // A second linked patient with the same diary but no headache in the baseline.
    let fixture: Value = serde_json::from_str(EXAMPLE_A).unwrap();
    let b = a.app.patient("b@example.org", "Europe/Berlin").await;
    a.app.link(&a.clinician, &b).await;
    let calm: Vec<Value> = fixture["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({"date": e["date"], "peak_pain": 0}))
        .collect();
    a.app
        .call(
            "POST",
            &format!("/v1/patients/{}/diary/batch", b.id),
            Some(&b.token),
            Some(json!({"entries": calm})),
        )
        .await;
    a.app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", b.id),
            Some(&b.token),
            Some(fixture["treatment"].clone()),
        )
        .await;
    // An unlinked patient's treatment never counts.
    let c = a.app.patient("c@example.org", "UTC").await;
    a.app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", c.id),
            Some(&c.token),
            Some(fixture["treatment"].clone()),
        )
        .await;

    let r = a
        .app
        .get(
            "/v1/cohort/summary?kind=iv_ketamine&from=2026-01-01&to=2026-06-30",
            &a.clinician.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["kind"], "iv_ketamine");
    assert_eq!(r.body["window_days"], 28);
    assert_eq!(r.body["treatments"], 2);
    assert_eq!(r.body["patients"], 2);
    assert_eq!(r.body["included"], 1);
    assert_eq!(r.body["excluded_no_baseline_headache"], 1);
    assert_eq!(r.body["excluded_insufficient_data"], 0);
    assert_eq!(r.body["mean_baseline_headache_days_per_28"], 12.0);
    assert_eq!(r.body["mean_post_headache_days_per_28"], 3.5);
    assert_eq!(r.body["mean_change"], -8.5);
    assert_eq!(r.body["median_change"], -8.5);
    assert_eq!(r.body["responder_50_rate"], 1.0);
    assert_eq!(r.body["responder_75_rate"], 0.0);
    assert_eq!(r.body["pain_responder_rate"], 1.0);

    let none = a
        .app
        .get(
            "/v1/cohort/summary?kind=iv_lidocaine&from=2026-01-01&to=2026-06-30",
            &a.clinician.token,
        )
        .await;
    assert_eq!(none.body["treatments"], 0);
    assert_eq!(none.body["included"], 0);
    assert_eq!(none.body["mean_change"], Value::Null);
    let outside = a
        .app
        .get(
            "/v1/cohort/summary?kind=iv_ketamine&from=2026-03-02&to=2026-06-30",
            &a.clinician.token,
        )
        .await;
    assert_eq!(outside.body["treatments"], 0);
}

const KETAMINE_COHORT: &str = "/v1/cohort/summary?kind=iv_ketamine&from=2026-01-01&to=2026-06-30";

async fn stored_window_sums(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.store.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM treatment_window_tallies",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn sql(app: &TestApp, statement: &str) {
    use sea_orm::ConnectionTrait;
    app.state
        .store
        .db
        .execute_unprepared(statement)
        .await
        .unwrap();
}

impl ExampleA {
    async fn cohort(&self) -> Value {
        self.cohort_with("").await
    }

    /// The ketamine cohort with more query parameters (`&window_days=7`).
    async fn cohort_with(&self, more: &str) -> Value {
        let r = self
            .app
            .get(&format!("{KETAMINE_COHORT}{more}"), &self.clinician.token)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// The cohort with nothing stored: every window summed from the diary.
    async fn cohort_afresh(&self) -> Value {
        sql(&self.app, "DELETE FROM treatment_window_tallies").await;
        self.cohort().await
    }

    /// Makes the stored baseline sums a copy of the post ones (stamp untouched), so that an
    /// answer shows whether they were used.
    async fn doctor_stored_sums(&self) {
        sql(
            &self.app,
            "UPDATE treatment_window_tallies SET baseline = post",
        )
        .await;
    }

    async fn put_day(&self, date: &str, day: Value) {
        let r = self
            .app
            .call(
                "PUT",
                &format!("/v1/patients/{}/diary/{date}", self.patient.id),
                Some(&self.patient.token),
                Some(day),
            )
            .await;
        assert!(r.status == 200 || r.status == 201, "{}", r.body);
    }
}

/// The cohort keeps each treatment's window sums and reads them back only while the patient has
/// written nothing since and the treatment day has not moved; every answer equals the one summed
/// afresh from the diary.
#[tokio::test]
async fn cohort_window_sums_are_kept_but_never_used_stale() {
    let a = example_a().await;
    let first = a.cohort().await;
    assert_eq!(first["mean_baseline_headache_days_per_28"], 12.0);
    assert_eq!(stored_window_sums(&a.app).await, 1);

    // Kept sums are what the next request reads (doctored ones show through)...
    a.doctor_stored_sums().await;
    assert_eq!(a.cohort().await["mean_baseline_headache_days_per_28"], 3.5);
    // ...until the patient writes anything, even a day outside both windows.
    a.put_day("2026-06-01", calm_day()).await;
    assert_eq!(a.cohort().await, first);

    // A day inside the baseline: summed again, the same as from scratch.
    a.doctor_stored_sums().await;
    a.put_day("2026-02-03", migraine_day(9)).await;
    let after_write = a.cohort().await;
    assert_ne!(after_write, first);
    assert_eq!(after_write, a.cohort_afresh().await);

    // A time-zone change moves the treatment day (08:00 UTC is the day before in Honolulu)
    // without a diary write: the stored day no longer matches.
    a.doctor_stored_sums().await;
    let r = a
        .app
        .call(
            "PATCH",
            "/v1/me",
            Some(&a.patient.token),
            Some(json!({"timezone": "Pacific/Honolulu"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let moved = a.cohort().await;
    assert_ne!(moved, after_write);
    assert_eq!(moved, a.cohort_afresh().await);

    // A deleted treatment takes its sums with it.
    let r = a
        .app
        .call(
            "DELETE",
            &format!(
                "/v1/patients/{}/treatments/{}",
                a.patient.id, a.treatment_id
            ),
            Some(&a.clinician.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(stored_window_sums(&a.app).await, 0);
    assert_eq!(a.cohort().await["treatments"], 0);
}

/// Sums kept for one window length are never read for another.
#[tokio::test]
async fn cohort_window_sums_are_kept_per_window_length() {
    let a = example_a().await;
    let week = a.cohort_with("&window_days=7").await;
    assert_eq!(week["mean_baseline_headache_days_per_28"], 8.0);
    assert_eq!(a.cohort().await["mean_baseline_headache_days_per_28"], 12.0);
    assert_eq!(stored_window_sums(&a.app).await, 2);
    assert_eq!(a.cohort_with("&window_days=7").await, week);
}

/// A treatment summary's reads start together with the treatment's own read when an earlier
/// summary saw its day (`service::outcomes`); the day they assumed is checked against the
/// treatment read, so a treatment moved or a patient's new time zone gives the summary of the
/// day the treatment is on now, equal to that of a treatment recorded there from the start.
#[tokio::test]
async fn a_moved_treatment_or_a_new_time_zone_moves_its_summary() {
    let a = example_a().await;
    let summary = |path: String| {
        let app = &a.app;
        let token = a.clinician.token.clone();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    let first = summary(summary_path(&a, "")).await;
    assert_eq!(first["treatment"]["treatment_day"], "2026-03-01");

    let item = format!(
        "/v1/patients/{}/treatments/{}",
        a.patient.id, a.treatment_id
    );
    let moved = a
        .app
        .call(
            "PATCH",
            &item,
            Some(&a.clinician.token),
            Some(json!({"started_at": "2026-03-08T08:00:00Z"})),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let after_move = summary(summary_path(&a, "")).await;
    assert_eq!(after_move["treatment"]["treatment_day"], "2026-03-08");
    assert_eq!(after_move["post"]["from"], "2026-03-09");
    // A treatment recorded on the new day from the start (a new id: no day seen before).
    let mut fresh = serde_json::from_str::<Value>(EXAMPLE_A).unwrap()["treatment"].clone();
    fresh["started_at"] = json!("2026-03-08T08:00:00Z");
    let fresh = a
        .app
        .call(
            "POST",
            &format!("/v1/patients/{}/treatments", a.patient.id),
            Some(&a.clinician.token),
            Some(fresh),
        )
        .await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    let fresh_path = format!(
        "/v1/patients/{}/treatments/{}/summary",
        a.patient.id,
        fresh.body["id"].as_str().unwrap()
    );
    let from_start = summary(fresh_path).await;
    for key in ["baseline", "post", "change", "responder_50", "responder_75"] {
        assert_eq!(after_move[key], from_start[key], "{key}");
    }

    // 08:00Z is 21:00 the day before in Pago Pago (UTC-11).
    let tz = a
        .app
        .call(
            "PATCH",
            "/v1/me",
            Some(&a.patient.token),
            Some(json!({"timezone": "Pacific/Pago_Pago"})),
        )
        .await;
    assert_eq!(tz.status, 200, "{}", tz.body);
    let after_tz = summary(summary_path(&a, "")).await;
    assert_eq!(after_tz["treatment"]["treatment_day"], "2026-03-07");
    assert_eq!(after_tz["post"]["from"], "2026-03-08");
    assert_eq!(after_tz["baseline"]["to"], "2026-03-06");
}
