//! The access check's cache (the patient's account and the clinician's link, kept beside the
//! session cache): every change that narrows or alters access is seen by the very next request,
//! on this instance and, on PostgreSQL, on a second instance that had the old answer cached.

use serde_json::json;

use crate::common::{Actor, TestApp, PASSWORD};

async fn warm(app: &TestApp, clinician: &Actor, patient: &Actor) {
    let profile = format!("/v1/patients/{}", patient.id);
    // Twice: the second answer comes from the cache.
    for _ in 0..2 {
        assert_eq!(app.get(&profile, &clinician.token).await.status, 200);
    }
}

/// A patient, a clinician linked to them, and the instance that reads with the clinician's
/// access cached: a second one on PostgreSQL (as behind a load balancer), the same one on
/// SQLite (one instance per database file).
struct Warmed {
    a: TestApp,
    second: Option<TestApp>,
    ana: Actor,
    kim: Actor,
}

impl Warmed {
    async fn new() -> Self {
        let a = TestApp::new().await;
        let second = if a.is_postgres() {
            Some(a.second_instance().await)
        } else {
            None
        };
        let ana = a.patient("ana@example.org", "UTC").await;
        let kim = a.linked_clinician("kim@clinic.org", &ana).await;
        let warmed = Self {
            a,
            second,
            ana,
            kim,
        };
        warm(warmed.b(), &warmed.kim, &warmed.ana).await;
        warmed
    }

    fn b(&self) -> &TestApp {
        self.second.as_ref().unwrap_or(&self.a)
    }
}

#[tokio::test]
async fn an_unlink_refuses_the_clinician_at_once_everywhere() {
    let w = Warmed::new().await;
    let (a, b, ana, kim) = (&w.a, w.b(), &w.ana, &w.kim);
    let lee = a.linked_clinician("lee@clinic.org", ana).await;
    warm(b, &lee, ana).await;

    let r = a
        .call(
            "DELETE",
            &format!("/v1/me/clinicians/{}", kim.id),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    for path in [
        format!("/v1/patients/{}", ana.id),
        format!("/v1/patients/{}/diary", ana.id),
        format!("/v1/patients/{}/treatments", ana.id),
    ] {
        b.get(&path, &kim.token).await.assert_problem(404);
        a.get(&path, &kim.token).await.assert_problem(404);
        // The other clinician's link is untouched.
        assert_eq!(b.get(&path, &lee.token).await.status, 200, "{path}");
    }
    // Linking again grants access again (absence is never cached).
    a.link(kim, ana).await;
    assert_eq!(
        b.get(&format!("/v1/patients/{}", ana.id), &kim.token)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_time_zone_change_is_seen_at_once_everywhere() {
    let w = Warmed::new().await;
    let (a, b, ana, kim) = (&w.a, w.b(), &w.ana, &w.kim);

    let r = a
        .call(
            "PATCH",
            "/v1/me",
            Some(&ana.token),
            Some(json!({"timezone": "Pacific/Kiritimati", "display_name": "Ana K."})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let profile = b.get(&format!("/v1/patients/{}", ana.id), &kim.token).await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.body["timezone"], "Pacific/Kiritimati");
    assert_eq!(profile.body["display_name"], "Ana K.");
    // "Today" is the patient's new today: UTC+14 is ahead of every other zone.
    let today_there = (chrono::Utc::now() + chrono::Duration::hours(14)).date_naive();
    let r = b
        .call(
            "PUT",
            &format!("/v1/patients/{}/diary/{today_there}", ana.id),
            Some(&ana.token),
            Some(crate::common::calm_day()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn a_deleted_patient_is_gone_at_once_everywhere() {
    let w = Warmed::new().await;
    let (a, b, ana, kim) = (&w.a, w.b(), &w.ana, &w.kim);

    let r = a
        .call(
            "POST",
            "/v1/me/delete",
            Some(&ana.token),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    b.get(&format!("/v1/patients/{}", ana.id), &kim.token)
        .await
        .assert_problem(404);
    b.get(&format!("/v1/patients/{}/diary", ana.id), &kim.token)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn a_deleted_clinician_loses_every_cached_link() {
    let w = Warmed::new().await;
    let (a, b, ana, kim) = (&w.a, w.b(), &w.ana, &w.kim);
    let admin = a.staff("admin", "root@clinic.org").await;
    // A second login of the clinician whose session B has cached too.
    let kim_again = a.login("kim@clinic.org").await;
    warm(b, &kim_again, ana).await;

    let r = a
        .call(
            "DELETE",
            &format!("/v1/admin/users/{}", kim.id),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    for token in [&kim.token, &kim_again.token] {
        b.get(&format!("/v1/patients/{}", ana.id), token)
            .await
            .assert_problem(401);
    }
}
