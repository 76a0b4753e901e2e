use axum::body::Body;
use chrono::{Duration, Utc};
use serde_json::json;

use crate::common::{calm_day, migraine_day, TestApp};

fn day_path(patient: &crate::common::Actor, date: &str) -> String {
    format!("/v1/patients/{}/diary/{date}", patient.id)
}

#[tokio::test]
async fn put_creates_then_replaces_with_versions_and_etags() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let path = day_path(&ana, "2026-02-02");

    let created = app
        .call("PUT", &path, Some(&ana.token), Some(migraine_day(6)))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["date"], "2026-02-02");
    assert_eq!(created.body["features"]["unilateral"], true);
    assert_eq!(created.body["features"]["aura"], false);
    assert_eq!(created.body["acute_medications"][0]["class"], "triptan");
    assert_eq!(created.body["disability"], "moderate");

    // The same content again changes nothing.
    let same = app
        .call("PUT", &path, Some(&ana.token), Some(migraine_day(6)))
        .await;
    assert_eq!(same.status, 200);
    assert_eq!(same.body["version"], 1);

    let replaced = app
        .call("PUT", &path, Some(&ana.token), Some(migraine_day(8)))
        .await;
    assert_eq!(replaced.status, 200);
    assert_eq!(replaced.body["version"], 2);
    assert_eq!(replaced.headers["etag"], "\"2\"");
    assert_eq!(replaced.body["created_at"], created.body["created_at"]);

    let read = app.get(&path, &ana.token).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.headers["etag"], "\"2\"");
    assert_eq!(read.body["peak_pain"], 8);
    assert_eq!(read.body["notes"], "woke up with it");
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let path = day_path(&ana, "2026-03-01");
    let put = |version: &str, body: serde_json::Value| {
        TestApp::request("PUT", &path, Some(&ana.token), Some(&body))
            .header("if-match", version)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    // `*` needs an existing entry.
    app.send(put("*", calm_day())).await.assert_problem(412);
    app.call("PUT", &path, Some(&ana.token), Some(calm_day()))
        .await;
    assert_eq!(app.send(put("\"1\"", migraine_day(5))).await.status, 200);
    // A stale version is refused and nothing changes.
    app.send(put("\"1\"", migraine_day(9)))
        .await
        .assert_problem(412);
    assert_eq!(app.get(&path, &ana.token).await.body["peak_pain"], 5);
    assert_eq!(app.send(put("W/\"2\"", migraine_day(7))).await.status, 200);

    let delete_stale = TestApp::request("DELETE", &path, Some(&ana.token), None)
        .header("if-match", "\"2\"")
        .body(Body::empty())
        .unwrap();
    app.send(delete_stale).await.assert_problem(412);
    let delete = TestApp::request("DELETE", &path, Some(&ana.token), None)
        .header("if-match", "\"3\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(delete).await.status, 204);
}

#[tokio::test]
async fn delete_makes_the_day_missing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let path = day_path(&ana, "2026-03-01");
    app.call("PUT", &path, Some(&ana.token), Some(calm_day()))
        .await;
    let r = app.call("DELETE", &path, Some(&ana.token), None).await;
    assert_eq!(r.status, 204);
    app.get(&path, &ana.token).await.assert_problem(404);
    app.call("DELETE", &path, Some(&ana.token), None)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn every_entry_rule_is_422_naming_the_field_and_writes_nothing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Pacific/Kiritimati").await;
    let path = day_path(&ana, "2026-03-01");
    let cases = [
        (json!({"peak_pain": 11}), "peak_pain"),
        (json!({"peak_pain": -1}), "peak_pain"),
        (json!({"peak_pain": 2.5}), "peak_pain"),
        (json!({}), "peak_pain"),
        (
            json!({"peak_pain": 0, "headache_hours": 3}),
            "headache_hours",
        ),
        (
            json!({"peak_pain": 3, "headache_hours": 25}),
            "headache_hours",
        ),
        (
            json!({"peak_pain": 3, "headache_hours": -1}),
            "headache_hours",
        ),
        (
            json!({"peak_pain": 3, "disability": "extreme"}),
            "disability",
        ),
        (json!({"peak_pain": 3, "notes": "x".repeat(2001)}), "notes"),
        (
            json!({"peak_pain": 3, "features": {"aura": "yes"}}),
            "features.aura",
        ),
        (
            json!({"peak_pain": 3, "acute_medications": [{"name": "x", "class": "magic"}]}),
            "acute_medications[0].class",
        ),
        (
            json!({"peak_pain": 3, "acute_medications": [{"name": " ", "class": "nsaid"}]}),
            "acute_medications[0].name",
        ),
    ];
    for (body, field) in cases {
        app.call("PUT", &path, Some(&ana.token), Some(body))
            .await
            .assert_invalid(field);
    }
    let meds: Vec<_> = (0..21)
        .map(|i| json!({"name": format!("m{i}"), "class": "nsaid"}))
        .collect();
    app.call(
        "PUT",
        &path,
        Some(&ana.token),
        Some(json!({"peak_pain": 3, "acute_medications": meds})),
    )
    .await
    .assert_invalid("acute_medications");
    app.call(
        "PUT",
        &day_path(&ana, "1999-12-31"),
        Some(&ana.token),
        Some(calm_day()),
    )
    .await
    .assert_invalid("date");
    app.call(
        "PUT",
        &day_path(&ana, "2026-02-30"),
        Some(&ana.token),
        Some(calm_day()),
    )
    .await
    .assert_invalid("date");
    // Unknown feature names are malformed input.
    app.call(
        "PUT",
        &path,
        Some(&ana.token),
        Some(json!({"peak_pain": 3, "features": {"dizzy": true}})),
    )
    .await
    .assert_problem(400);
    let list = app
        .get(&format!("/v1/patients/{}/diary", ana.id), &ana.token)
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn future_dates_are_judged_in_the_patients_time_zone() {
    let app = TestApp::new().await;
    // UTC+14: "today" there is usually tomorrow in UTC.
    let kiri = app.patient("kiri@example.org", "Pacific/Kiritimati").await;
    let honolulu = app.patient("hnl@example.org", "Pacific/Honolulu").await;
    let kiri_today = Utc::now()
        .with_timezone(&chrono_tz::Pacific::Kiritimati)
        .date_naive();
    let kiri_tomorrow = kiri_today + Duration::days(1);
    assert_eq!(
        app.call(
            "PUT",
            &day_path(&kiri, &kiri_today.to_string()),
            Some(&kiri.token),
            Some(calm_day())
        )
        .await
        .status,
        201
    );
    app.call(
        "PUT",
        &day_path(&kiri, &kiri_tomorrow.to_string()),
        Some(&kiri.token),
        Some(calm_day()),
    )
    .await
    .assert_invalid("date");
    // Kiritimati's today is Honolulu's tomorrow (UTC−10): refused there.
    app.call(
        "PUT",
        &day_path(&honolulu, &kiri_tomorrow.to_string()),
        Some(&honolulu.token),
        Some(calm_day()),
    )
    .await
    .assert_invalid("date");
}

#[tokio::test]
async fn list_by_range_is_ordered_and_paginated() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for d in [
        "2026-01-05",
        "2026-01-01",
        "2026-01-03",
        "2026-01-02",
        "2026-01-04",
    ] {
        app.call(
            "PUT",
            &day_path(&ana, d),
            Some(&ana.token),
            Some(calm_day()),
        )
        .await;
    }
    let base = format!("/v1/patients/{}/diary", ana.id);
    let range = app
        .get(&format!("{base}?from=2026-01-02&to=2026-01-04"), &ana.token)
        .await;
    let dates: Vec<_> = range.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["date"].clone())
        .collect();
    assert_eq!(dates, ["2026-01-02", "2026-01-03", "2026-01-04"]);

    let mut seen = Vec::new();
    let mut url = format!("{base}?limit=2");
    loop {
        let page = app.get(&url, &ana.token).await;
        assert_eq!(page.status, 200);
        for e in page.body["items"].as_array().unwrap() {
            seen.push(e["date"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => url = format!("{base}?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "2026-01-01",
            "2026-01-02",
            "2026-01-03",
            "2026-01-04",
            "2026-01-05"
        ]
    );

    app.get(&format!("{base}?from=2026-01-05&to=2026-01-01"), &ana.token)
        .await
        .assert_invalid("from");
    app.get(&format!("{base}?from=yesterday"), &ana.token)
        .await
        .assert_invalid("from");
    app.get(&format!("{base}?limit=5000"), &ana.token)
        .await
        .assert_invalid("limit");
}

#[tokio::test]
async fn batch_saves_all_or_nothing() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let batch = format!("/v1/patients/{}/diary/batch", ana.id);
    let mut entries: Vec<_> = (1..=7)
        .map(|d| {
            let mut e = if d % 2 == 0 {
                migraine_day(6)
            } else {
                calm_day()
            };
            e["date"] = json!(format!("2026-01-0{d}"));
            e
        })
        .collect();
    let ok = app
        .call(
            "POST",
            &batch,
            Some(&ana.token),
            Some(json!({"entries": entries.clone()})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["items"].as_array().unwrap().len(), 7);
    assert_eq!(ok.body["items"][1]["peak_pain"], 6);

    // One bad entry: nothing of the batch is saved, not even the valid changes.
    entries[0]["peak_pain"] = json!(9);
    entries[4]["peak_pain"] = json!(12);
    let mut new_day = calm_day();
    new_day["date"] = json!("2026-01-08");
    entries.push(new_day);
    let bad = app
        .call(
            "POST",
            &batch,
            Some(&ana.token),
            Some(json!({"entries": entries.clone()})),
        )
        .await;
    bad.assert_invalid("entries[4].peak_pain");
    assert_eq!(
        app.get(&day_path(&ana, "2026-01-01"), &ana.token)
            .await
            .body["peak_pain"],
        0
    );
    app.get(&day_path(&ana, "2026-01-08"), &ana.token)
        .await
        .assert_problem(404);

    entries[4]["peak_pain"] = json!(2);
    entries[5]["date"] = json!("2026-01-01");
    app.call(
        "POST",
        &batch,
        Some(&ana.token),
        Some(json!({"entries": entries})),
    )
    .await
    .assert_invalid("entries[5].date");
    app.call(
        "POST",
        &batch,
        Some(&ana.token),
        Some(json!({"entries": []})),
    )
    .await
    .assert_invalid("entries");
    let too_many: Vec<_> = (0..401)
        .map(|i| json!({"date": (chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Duration::days(i)).to_string(), "peak_pain": 0}))
        .collect();
    app.call(
        "POST",
        &batch,
        Some(&ana.token),
        Some(json!({"entries": too_many})),
    )
    .await
    .assert_invalid("entries");
    app.call(
        "POST",
        &batch,
        Some(&ana.token),
        Some(json!({"entries": [{"peak_pain": 1}]})),
    )
    .await
    .assert_invalid("entries[0].date");
}

#[tokio::test]
async fn a_full_batch_of_400_days_fits() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let entries: Vec<_> = (0..400)
        .map(|i| {
            let mut e = migraine_day(5);
            e["date"] = json!((start + Duration::days(i)).to_string());
            e["notes"] = json!("n".repeat(2000));
            e
        })
        .collect();
    let r = app
        .call(
            "POST",
            &format!("/v1/patients/{}/diary/batch", ana.id),
            Some(&ana.token),
            Some(json!({"entries": entries})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 400);
}

#[tokio::test]
async fn nul_characters_are_refused_on_every_database() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    app.call(
        "PUT",
        &day_path(&ana, "2026-03-01"),
        Some(&ana.token),
        Some(json!({"peak_pain": 2, "notes": "a\u{0}b"})),
    )
    .await
    .assert_invalid("notes");
}

#[tokio::test]
async fn concurrent_saves_of_one_new_day_all_land() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let path = day_path(&ana, "2026-04-01");
    let mut tasks = Vec::new();
    for pain in 1..=8u8 {
        let router = app.router.clone();
        let request = TestApp::request("PUT", &path, Some(&ana.token), Some(&json!({})))
            .body(Body::from(migraine_day(pain).to_string()))
            .unwrap();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            router.oneshot(request).await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    let read = app.get(&path, &ana.token).await;
    assert_eq!(
        read.body["version"], 8,
        "every save was a change and none was lost"
    );
}
