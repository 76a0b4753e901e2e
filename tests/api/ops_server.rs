//! Operations of the real binary: the metrics listener, JSON logs, `backup` and a restore.

use std::path::Path;
use std::process::Command;

use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::server::{database_url, free_port, http, http_text, start_with, Server, BIN};

/// The TCP ports a process listens on (Linux: its socket descriptors matched against
/// /proc/net/tcp*).
#[cfg(target_os = "linux")]
fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (cols.get(1), cols.get(3), cols.get(9))
            else {
                continue;
            };
            if *state == "0A" && inodes.iter().any(|i| i == inode) {
                let port = local.rsplit(':').next().unwrap();
                ports.push(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

fn port_of(server: &Server) -> u16 {
    server.base.rsplit(':').next().unwrap().parse().unwrap()
}

/// Registers a patient and logs in; returns (id, token).
async fn patient(base: &str, email: &str) -> (String, String) {
    let (s, _) = http(
        "POST",
        &format!("{base}/v1/auth/register"),
        None,
        Some(&json!({"email": email, "password": "long enough pw", "timezone": "UTC"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 201);
    let (_, login) = http(
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(&json!({"email": email, "password": "long enough pw"})),
    )
    .await
    .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (_, me) = http("GET", &format!("{base}/v1/me"), Some(&token), None)
        .await
        .unwrap();
    (me["id"].as_str().unwrap().to_owned(), token)
}

#[tokio::test]
async fn the_metrics_listener_is_closed_unless_configured_and_serves_only_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let off = start_with(dir.path(), &[], &[]).await;
    #[cfg(target_os = "linux")]
    assert_eq!(
        listening_ports(off.child.id()),
        [port_of(&off)],
        "one listener, the API"
    );
    let (s, _) = http_text("GET", &format!("{}/metrics", off.base), None, None)
        .await
        .unwrap();
    assert_eq!(s, 404, "the API does not serve metrics");
    drop(off);

    let metrics_port = free_port();
    let on = start_with(
        dir.path(),
        &["--metrics-bind", &format!("127.0.0.1:{metrics_port}")],
        &[],
    )
    .await;
    #[cfg(target_os = "linux")]
    {
        let mut ports = listening_ports(on.child.id());
        ports.sort_unstable();
        let mut expected = vec![port_of(&on), metrics_port];
        expected.sort_unstable();
        assert_eq!(ports, expected);
    }
    let metrics = format!("http://127.0.0.1:{metrics_port}");
    let (s, text) = http_text("GET", &format!("{metrics}/metrics"), None, None)
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/health/ready\",status=\"200\"}"),
        "{text}"
    );
    let (s, _) = http_text("GET", &format!("{metrics}/v1/me"), None, None)
        .await
        .unwrap();
    assert_eq!(s, 404, "the metrics listener serves nothing else");
}

#[test]
fn a_bad_cors_origin_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--cors-origins",
            "https://ok.example,dash.example/app",
        ])
        .env("DATABASE_URL", database_url(dir.path()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dash.example/app"), "{stderr}");
}

#[tokio::test]
async fn json_logs_name_the_route_template_not_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(
        dir.path(),
        &["--log-format", "json"],
        &[("RUST_LOG", "info,tower_http=debug")],
    )
    .await;
    let (id, token) = patient(&server.base, "ana@example.org").await;
    let (s, _) = http(
        "GET",
        &format!("{}/v1/patients/{id}/diary", server.base),
        Some(&token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["route"] == "/v1/patients/{patient_id}/diary"),
        "{log}"
    );
    assert!(
        !log.contains(&id),
        "no raw path with the patient's id: {log}"
    );
}

fn backup(dir: &Path, to: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(["backup", "--to", to.to_str().unwrap()])
        .env("DATABASE_URL", database_url(dir))
        .output()
        .unwrap()
}

async fn count(database_url: &str, table: &str) -> i64 {
    let db = sea_orm::Database::connect(database_url).await.unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn backup_copies_a_live_database_which_restores_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), &[], &[]).await;
    let (id, token) = patient(&server.base, "ana@example.org").await;
    for day in 1..=12 {
        let (s, _) = http(
            "PUT",
            &format!("{}/v1/patients/{id}/diary/2026-01-{day:02}", server.base),
            Some(&token),
            Some(&json!({"peak_pain": day % 11})),
        )
        .await
        .unwrap();
        assert_eq!(s, 201);
    }
    // Taken while the server runs, with the latest commits still in the WAL.
    let copy = dir.path().join("copy.db");
    let out = backup(dir.path(), &copy);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity check: ok"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the copy holds health data");
    }
    let copy_url = format!("sqlite://{}?mode=ro", copy.display());
    assert_eq!(count(&copy_url, "diary_entries").await, 12);

    // A second backup to the same file is refused and leaves it as it was.
    let before = std::fs::read(&copy).unwrap();
    let again = backup(dir.path(), &copy);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    drop(server);

    // Restore (README): the copy becomes the database file of a stopped server, with its key.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("diary.db")).unwrap();
    std::fs::copy(
        dir.path().join("diary.key"),
        restored.path().join("diary.key"),
    )
    .unwrap();
    let server = start_with(restored.path(), &[], &[]).await;
    let (s, list) = http(
        "GET",
        &format!(
            "{}/v1/patients/{id}/diary?from=2026-01-01&to=2026-01-31",
            server.base
        ),
        Some(&token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 12);
}

#[test]
fn backup_of_postgres_points_to_pg_dump_and_of_a_missing_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("x.db");
    let out = Command::new(BIN)
        .args(["backup", "--to", target.to_str().unwrap()])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!target.exists());

    let out = backup(&dir.path().join("missing"), &target);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database"));
    assert!(!target.exists(), "nothing is left behind");
}
