use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn invite_links_a_clinician_who_then_reads_the_diary_until_unlinked() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "Europe/Berlin").await;
    let kim = app.staff("clinician", "kim@clinic.org").await;
    let diary = format!("/v1/patients/{}/diary", ana.id);
    app.get(&diary, &kim.token).await.assert_problem(404);

    let invite = app
        .call("POST", "/v1/care-invites", Some(&kim.token), None)
        .await;
    assert_eq!(invite.status, 201);
    let code = invite.body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14);
    assert!(invite.body["expires_at"].is_string());

    // Case and dashes do not matter.
    let typed = code.replace('-', " ").to_lowercase();
    let link = app
        .call(
            "POST",
            "/v1/me/clinicians",
            Some(&ana.token),
            Some(json!({"code": typed})),
        )
        .await;
    assert_eq!(link.status, 201, "{}", link.body);
    assert_eq!(link.body["id"], kim.id.to_string());
    assert_eq!(link.body["email"], "kim@clinic.org");

    let list = app.get("/v1/me/clinicians", &ana.token).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["next_cursor"], serde_json::Value::Null);
    assert_eq!(app.get(&diary, &kim.token).await.status, 200);

    let unlink = app
        .call(
            "DELETE",
            &format!("/v1/me/clinicians/{}", kim.id),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(unlink.status, 204);
    app.get(&diary, &kim.token).await.assert_problem(404);
    app.call(
        "DELETE",
        &format!("/v1/me/clinicians/{}", kim.id),
        Some(&ana.token),
        None,
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn an_invite_works_once() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let ben = app.patient("ben@example.org", "UTC").await;
    let kim = app.staff("clinician", "kim@clinic.org").await;
    let invite = app
        .call("POST", "/v1/care-invites", Some(&kim.token), None)
        .await;
    let body = json!({"code": invite.body["code"]});
    assert_eq!(
        app.call(
            "POST",
            "/v1/me/clinicians",
            Some(&ana.token),
            Some(body.clone())
        )
        .await
        .status,
        201
    );
    app.call("POST", "/v1/me/clinicians", Some(&ben.token), Some(body))
        .await
        .assert_problem(409);
    assert_eq!(
        app.get(&format!("/v1/patients/{}", ben.id), &kim.token)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_second_invite_from_a_linked_clinician_is_a_conflict() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.linked_clinician("kim@clinic.org", &ana).await;
    let invite = app
        .call("POST", "/v1/care-invites", Some(&kim.token), None)
        .await;
    app.call(
        "POST",
        "/v1/me/clinicians",
        Some(&ana.token),
        Some(json!({"code": invite.body["code"]})),
    )
    .await
    .assert_problem(409);
}

#[tokio::test]
async fn unknown_or_malformed_codes_are_422_naming_code() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    app.call(
        "POST",
        "/v1/me/clinicians",
        Some(&ana.token),
        Some(json!({"code": "AAAA-BBBB-CCCC"})),
    )
    .await
    .assert_invalid("code");
    app.call(
        "POST",
        "/v1/me/clinicians",
        Some(&ana.token),
        Some(json!({"code": 12})),
    )
    .await
    .assert_invalid("code");
    app.call(
        "POST",
        "/v1/me/clinicians",
        Some(&ana.token),
        Some(json!({})),
    )
    .await
    .assert_invalid("code");
}

#[tokio::test]
async fn expired_invites_are_refused() {
    use migraine_diary::store::entities::care_invite;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let kim = app.staff("clinician", "kim@clinic.org").await;
    let invite = app
        .call("POST", "/v1/care-invites", Some(&kim.token), None)
        .await;
    let row = care_invite::Entity::find()
        .one(&app.state.store.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: care_invite::ActiveModel = row.into();
    active.expires_at = Set(chrono::Utc::now() - chrono::Duration::minutes(1));
    active.update(&app.state.store.db).await.unwrap();
    app.call(
        "POST",
        "/v1/me/clinicians",
        Some(&ana.token),
        Some(json!({"code": invite.body["code"]})),
    )
    .await
    .assert_invalid("code");
}

#[tokio::test]
async fn clinician_list_paginates() {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    for i in 0..3 {
        app.linked_clinician(&format!("dr{i}@clinic.org"), &ana)
            .await;
    }
    let first = app.get("/v1/me/clinicians?limit=2", &ana.token).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/v1/me/clinicians?limit=2&cursor={cursor}"),
            &ana.token,
        )
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    let mut ids: Vec<_> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    app.get("/v1/me/clinicians?limit=0", &ana.token)
        .await
        .assert_invalid("limit");
    app.get("/v1/me/clinicians?limit=1001", &ana.token)
        .await
        .assert_invalid("limit");
    app.get("/v1/me/clinicians?cursor=%21%21", &ana.token)
        .await
        .assert_invalid("cursor");
}
