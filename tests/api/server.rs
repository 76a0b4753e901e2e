//! The real binary over TCP: start-up, the key file, durability across `kill -9`, the CLI.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_migraine-diary");

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn database_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("diary.db").display())
}

async fn start(dir: &Path) -> Server {
    start_with(dir, &[], &[]).await
}

/// Starts `serve` with more arguments and environment; its log goes to `dir/server.log`.
pub(crate) async fn start_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    start_command(dir, Command::new(BIN), args, env).await
}

/// Starts `serve` through `command` (the binary, or a shell that execs it) with more
/// arguments and environment.
pub(crate) async fn start_command(
    dir: &Path,
    mut command: Command,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("DATABASE_URL", database_url(dir))
        .env_remove("JWT_SECRET")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Ok(r)) = tokio::time::timeout(
            Duration::from_secs(2),
            http("GET", &format!("{base}/health/ready"), None, None),
        )
        .await
        {
            if r.0 == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base }
}

/// A minimal HTTP/1.1 client over a TCP socket (one request per connection).
pub(crate) async fn http(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let (status, text) = http_text(method, url, token, body).await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// [`http`] with the body as text.
pub(crate) async fn http_text(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if body.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&payload);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    Ok((status, body.to_owned()))
}

#[tokio::test]
async fn acknowledged_entries_survive_kill_9_and_tokens_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let key = dir.path().join("diary.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file must be private");
    }
    let base = server.base.clone();
    let (s, _) = http(
        "POST",
        &format!("{base}/v1/auth/register"),
        None,
        Some(&json!({"email": "ana@example.org", "password": "long enough pw", "timezone": "UTC"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 201);
    let (_, login) = http(
        "POST",
        &format!("{base}/v1/auth/login"),
        None,
        Some(&json!({"email": "ana@example.org", "password": "long enough pw"})),
    )
    .await
    .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (_, me) = http("GET", &format!("{base}/v1/me"), Some(&token), None)
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap().to_owned();
    for day in 1..=20 {
        let (s, _) = http(
            "PUT",
            &format!("{base}/v1/patients/{id}/diary/2026-01-{day:02}"),
            Some(&token),
            Some(&json!({"peak_pain": day % 11})),
        )
        .await
        .unwrap();
        assert_eq!(s, 201);
    }
    // Then 16 concurrent writers (so that the SQLite writes share group commits), killed with
    // SIGKILL while they are still writing: no graceful shutdown, no checkpoint.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..16i64 {
        let (base, id, token) = (base.clone(), id.clone(), token.clone());
        let acknowledged = std::sync::Arc::clone(&acknowledged);
        writers.push(tokio::spawn(async move {
            let first = chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
            for k in 0..200 {
                let date = first + chrono::Duration::days(w * 200 + k);
                let answer = http(
                    "PUT",
                    &format!("{base}/v1/patients/{id}/diary/{date}"),
                    Some(&token),
                    Some(&json!({"peak_pain": 3})),
                )
                .await;
                match answer {
                    Ok((201, _)) => acknowledged.lock().unwrap().push(date.to_string()),
                    _ => return,
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(server);
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let again = start(dir.path()).await;
    let (s, list) = http(
        "GET",
        &format!(
            "{}/v1/patients/{id}/diary?from=2026-01-01&to=2026-01-31",
            again.base
        ),
        Some(&token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "the token signed before the restart still works");
    assert_eq!(list["items"].as_array().unwrap().len(), 20);
    assert_eq!(list["items"][19]["peak_pain"], 9);
    for date in &acknowledged {
        let (s, _) = http(
            "GET",
            &format!("{}/v1/patients/{id}/diary/{date}", again.base),
            Some(&token),
            None,
        )
        .await
        .unwrap();
        assert_eq!(s, 200, "acknowledged write of {date} lost");
    }
}

#[test]
fn a_short_jwt_secret_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--jwt-secret",
            "too-short",
        ])
        .env("DATABASE_URL", database_url(dir.path()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the secret must not be echoed"
    );
}

#[tokio::test]
async fn user_create_takes_the_password_from_stdin_or_env_never_argv() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path());
    let mut child = Command::new(BIN)
        .args([
            "user",
            "create",
            "--role",
            "admin",
            "--email",
            "Root@Clinic.org",
            "--database-url",
            &url,
        ])
        .env_remove("MIGRAINE_DIARY_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin root@clinic.org"));

    let out = Command::new(BIN)
        .args([
            "user",
            "create",
            "--role",
            "clinician",
            "--email",
            "kim@clinic.org",
            "--display-name",
            "Dr Kim",
            "--database-url",
            &url,
        ])
        .env("MIGRAINE_DIARY_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let dup = Command::new(BIN)
        .args([
            "user",
            "create",
            "--role",
            "admin",
            "--email",
            "root@clinic.org",
            "--database-url",
            &url,
        ])
        .env("MIGRAINE_DIARY_PASSWORD", "another long password")
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("exists already"));

    // Nothing on stdin is "no password", not a password of the wrong length.
    let empty = Command::new(BIN)
        .args([
            "user",
            "create",
            "--role",
            "admin",
            "--email",
            "e@clinic.org",
        ])
        .args(["--database-url", &url])
        .env_remove("MIGRAINE_DIARY_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!empty.status.success());
    let stderr = String::from_utf8_lossy(&empty.stderr);
    assert!(stderr.contains("no password given"), "{stderr}");

    let server = start(dir.path()).await;
    let (s, login) = http(
        "POST",
        &format!("{}/v1/auth/login", server.base),
        None,
        Some(&json!({"email": "root@clinic.org", "password": "a long admin password"})),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{login}");
}

#[test]
fn openapi_command_prints_the_served_document() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        migraine_diary::openapi_json()
    );
}

#[test]
fn migrate_makes_the_directory_and_logs_plain_text_to_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("not").join("yet").join("diary.db");
    let out = Command::new(BIN)
        .args(["migrate", "--database-url"])
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(db.exists());
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI colours in a pipe: {stderr:?}"
    );
}

#[test]
fn serve_on_a_taken_port_fails_before_touching_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", database_url(dir.path()))
        .env_remove("JWT_SECRET")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen"), "{stderr}");
    assert!(!dir.path().join("diary.db").exists());
    assert!(!dir.path().join("diary.key").exists());
}
