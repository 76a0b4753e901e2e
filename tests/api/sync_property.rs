//! Property: two devices of one patient, editing and deleting offline, pushing with versions and
//! pulling the changes feed in random order, end up with exactly the server's diary and
//! treatments once both have pushed and pulled (README, "Sync protocol").

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::{Actor, TestApp};

const DAYS: u8 = 6;

#[derive(Clone, Debug)]
enum Op {
    /// The user edits a day on a device (offline).
    Edit { device: usize, day: u8, pain: u8 },
    /// The user deletes a day on a device (offline).
    Delete { device: usize, day: u8 },
    /// The device pushes its pending edits.
    Push { device: usize },
    /// The device pulls the feed in pages of `limit`.
    Pull { device: usize, limit: u8 },
    /// A treatment recorded from a device (online).
    AddTreatment { device: usize, hour: u8 },
    /// A device deletes one of the treatments it knows.
    DeleteTreatment { device: usize, pick: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let device = 0usize..2;
    prop_oneof![
        4 => (device.clone(), 0..DAYS, 0u8..=10).prop_map(|(device, day, pain)| Op::Edit { device, day, pain }),
        2 => (device.clone(), 0..DAYS).prop_map(|(device, day)| Op::Delete { device, day }),
        3 => device.clone().prop_map(|device| Op::Push { device }),
        3 => (device.clone(), 1u8..5).prop_map(|(device, limit)| Op::Pull { device, limit }),
        1 => (device.clone(), 0u8..24).prop_map(|(device, hour)| Op::AddTreatment { device, hour }),
        1 => (device, 0u8..8).prop_map(|(device, pick)| Op::DeleteTreatment { device, pick }),
    ]
}

/// What the user did to a day on this device since the last successful push.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    Write(u8),
    Delete,
}

#[derive(Clone, Debug, Default)]
struct LocalDay {
    /// The server's state as last pulled or pushed: `(version, peak_pain)`.
    server: Option<(i64, u8)>,
    pending: Option<Pending>,
}

#[derive(Debug, Default)]
struct Device {
    days: BTreeMap<String, LocalDay>,
    treatments: BTreeSet<String>,
    cursor: Option<String>,
}

fn date(day: u8) -> String {
    format!("2026-03-{:02}", day + 1)
}

impl Device {
    fn edit(&mut self, day: u8, pain: u8) {
        self.days.entry(date(day)).or_default().pending = Some(Pending::Write(pain));
    }

    fn delete(&mut self, day: u8) {
        let Some(local) = self.days.get_mut(&date(day)) else {
            return;
        };
        // Written and deleted offline (no server state): the server never needs to hear of it.
        local.pending = local.server.map(|_| Pending::Delete);
    }

    /// The diary this device shows, without pending edits (after a full sync).
    fn synced_view(&self) -> BTreeMap<String, (i64, u8)> {
        assert!(
            self.days.values().all(|d| d.pending.is_none()),
            "pending edits left: {:?}",
            self.days
        );
        self.days
            .iter()
            .filter_map(|(date, d)| d.server.map(|s| (date.clone(), s)))
            .collect()
    }

    async fn pull(&mut self, app: &TestApp, ana: &Actor, limit: u8) {
        if self.cursor.is_none() {
            // A first pull lists no deletions: it replaces what the device knew of the server
            // (pending edits stay, to be pushed).
            self.treatments.clear();
            for day in self.days.values_mut() {
                day.server = None;
            }
        }
        loop {
            let mut path = format!("/v1/patients/{}/changes?limit={limit}", ana.id);
            if let Some(c) = &self.cursor {
                path.push_str(&format!("&since={c}"));
            }
            let r = app.get(&path, &ana.token).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let feed = r.body;
            let listed = feed["diary_entries"].as_array().unwrap().len()
                + feed["deleted_diary_dates"].as_array().unwrap().len()
                + feed["treatments"].as_array().unwrap().len()
                + feed["deleted_treatment_ids"].as_array().unwrap().len();
            assert!(listed <= usize::from(limit), "page over the limit: {feed}");
            let mut seen = BTreeSet::new();
            for entry in feed["diary_entries"].as_array().unwrap() {
                let date = entry["date"].as_str().unwrap().to_owned();
                assert!(seen.insert(date.clone()), "{date} twice in a page");
                let pain = entry["peak_pain"].as_u64().unwrap() as u8;
                let version = entry["version"].as_i64().unwrap();
                self.days.entry(date).or_default().server = Some((version, pain));
            }
            for date in feed["deleted_diary_dates"].as_array().unwrap() {
                let date = date.as_str().unwrap().to_owned();
                assert!(
                    seen.insert(date.clone()),
                    "{date} written and deleted in a page"
                );
                if let Some(local) = self.days.get_mut(&date) {
                    local.server = None;
                    if local.pending == Some(Pending::Delete) {
                        local.pending = None;
                    }
                }
            }
            for t in feed["treatments"].as_array().unwrap() {
                self.treatments.insert(t["id"].as_str().unwrap().to_owned());
            }
            for id in feed["deleted_treatment_ids"].as_array().unwrap() {
                self.treatments.remove(id.as_str().unwrap());
            }
            self.days
                .retain(|_, d| d.server.is_some() || d.pending.is_some());
            self.cursor = Some(feed["next_cursor"].as_str().unwrap().to_owned());
            if feed["has_more"] == false {
                return;
            }
            assert_eq!(listed, usize::from(limit), "has_more on a short page");
        }
    }

    /// Pushes pending edits; on 412 pulls and pushes again, keeping the local edit (the user's
    /// latest word wins). Returns how many 412s it met.
    async fn push(&mut self, app: &TestApp, ana: &Actor) -> u32 {
        let mut conflicts = 0;
        for attempt in 0..2 {
            match self.try_push(app, ana).await {
                Ok(()) => return conflicts,
                Err(()) => {
                    assert_eq!(attempt, 0, "a push right after a pull cannot conflict");
                    conflicts += 1;
                    self.pull(app, ana, 50).await;
                }
            }
        }
        conflicts
    }

    async fn try_push(&mut self, app: &TestApp, ana: &Actor) -> Result<(), ()> {
        let writes: Vec<(String, u8, i64)> = self
            .days
            .iter()
            .filter_map(|(date, d)| match d.pending {
                Some(Pending::Write(pain)) => {
                    Some((date.clone(), pain, d.server.map_or(0, |(v, _)| v)))
                }
                _ => None,
            })
            .collect();
        if !writes.is_empty() {
            let entries: Vec<Value> = writes
                .iter()
                .map(|(date, pain, base)| json!({"date": date, "peak_pain": pain, "if_version": base}))
                .collect();
            let r = app
                .call(
                    "POST",
                    &format!("/v1/patients/{}/diary/batch", ana.id),
                    Some(&ana.token),
                    Some(json!({ "entries": entries })),
                )
                .await;
            if r.status == 412 {
                assert!(!r.body["conflicts"].as_array().unwrap().is_empty());
                return Err(());
            }
            assert_eq!(r.status, 200, "{}", r.body);
            for entry in r.body["items"].as_array().unwrap() {
                let local = self.days.get_mut(entry["date"].as_str().unwrap()).unwrap();
                local.server = Some((
                    entry["version"].as_i64().unwrap(),
                    entry["peak_pain"].as_u64().unwrap() as u8,
                ));
                local.pending = None;
            }
        }
        let deletes: Vec<(String, i64)> = self
            .days
            .iter()
            .filter(|(_, d)| d.pending == Some(Pending::Delete))
            .map(|(date, d)| (date.clone(), d.server.map_or(0, |(v, _)| v)))
            .collect();
        for (date, version) in deletes {
            let request = TestApp::request(
                "DELETE",
                &format!("/v1/patients/{}/diary/{date}", ana.id),
                Some(&ana.token),
                None,
            )
            .header("if-match", format!("\"{version}\""))
            .body(Body::empty())
            .unwrap();
            let r = app.send(request).await;
            match r.status.as_u16() {
                // 404: the other device deleted it already; the wish is fulfilled.
                204 | 404 => {
                    self.days.remove(&date);
                }
                412 => return Err(()),
                other => panic!("DELETE {date}: {other} {}", r.body),
            }
        }
        Ok(())
    }

    async fn add_treatment(&mut self, app: &TestApp, ana: &Actor, hour: u8) {
        let r = app
            .call(
                "POST",
                &format!("/v1/patients/{}/treatments", ana.id),
                Some(&ana.token),
                Some(json!({"kind": "other", "name": "test", "started_at": format!("2026-03-01T{hour:02}:00:00Z")})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        self.treatments
            .insert(r.body["id"].as_str().unwrap().to_owned());
    }

    async fn delete_treatment(&mut self, app: &TestApp, ana: &Actor, pick: u8) {
        let Some(id) = self
            .treatments
            .iter()
            .nth(usize::from(pick) % self.treatments.len().max(1))
            .cloned()
        else {
            return;
        };
        let r = app
            .call(
                "DELETE",
                &format!("/v1/patients/{}/treatments/{id}", ana.id),
                Some(&ana.token),
                None,
            )
            .await;
        assert!(matches!(r.status.as_u16(), 204 | 404), "{}", r.body);
        self.treatments.remove(&id);
    }
}

async fn server_state(
    app: &TestApp,
    ana: &Actor,
) -> (BTreeMap<String, (i64, u8)>, BTreeSet<String>) {
    let diary = app
        .get(&format!("/v1/patients/{}/diary", ana.id), &ana.token)
        .await;
    let days = diary.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["date"].as_str().unwrap().to_owned(),
                (
                    e["version"].as_i64().unwrap(),
                    e["peak_pain"].as_u64().unwrap() as u8,
                ),
            )
        })
        .collect();
    let treatments = app
        .get(&format!("/v1/patients/{}/treatments", ana.id), &ana.token)
        .await;
    let ids = treatments.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    (days, ids)
}

async fn run(ops: Vec<Op>) {
    let app = TestApp::new().await;
    let ana = app.patient("ana@example.org", "UTC").await;
    let mut devices = [Device::default(), Device::default()];
    for op in ops {
        match op {
            Op::Edit { device, day, pain } => devices[device].edit(day, pain),
            Op::Delete { device, day } => devices[device].delete(day),
            Op::Push { device } => {
                devices[device].push(&app, &ana).await;
            }
            Op::Pull { device, limit } => devices[device].pull(&app, &ana, limit).await,
            Op::AddTreatment { device, hour } => {
                devices[device].add_treatment(&app, &ana, hour).await
            }
            Op::DeleteTreatment { device, pick } => {
                devices[device].delete_treatment(&app, &ana, pick).await
            }
        }
    }
    // Both push, then both pull: each holds exactly the server's state.
    for device in devices.iter_mut() {
        device.push(&app, &ana).await;
    }
    for device in devices.iter_mut() {
        device.pull(&app, &ana, 3).await;
    }
    let (days, treatments) = server_state(&app, &ana).await;
    for (n, device) in devices.iter().enumerate() {
        assert_eq!(device.synced_view(), days, "device {n} diary");
        assert_eq!(device.treatments, treatments, "device {n} treatments");
    }
}

/// 24 random histories (12 on PostgreSQL, where each needs a fresh database); `PROPTEST_CASES`
/// overrides.
fn cases() -> u32 {
    let on_postgres = std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty());
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if on_postgres { 12 } else { 24 })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn two_devices_converge_on_the_server_state(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run(ops));
    }
}
