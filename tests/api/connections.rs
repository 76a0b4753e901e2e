//! The real binary over TCP: idle sockets, half-sent headers and bodies are closed, the
//! connection cap holds under a low descriptor limit, and SIGTERM lets open requests finish.
//! Each wait has a generous bound only so that a broken server fails the test instead of
//! hanging it; nothing asserts how fast anything happens.

use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{http, start_command, Server, BIN};

/// Long enough for any healthy server, short enough to fail a hanging one.
const BOUND: Duration = Duration::from_secs(60);

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent before closing.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn idle_sockets_and_half_sent_headers_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_command(
        dir.path(),
        Command::new(BIN),
        &[
            "--header-read-timeout-secs",
            "1",
            "--idle-timeout-secs",
            "2",
        ],
        &[],
    )
    .await;
    let mut idle = TcpStream::connect(addr(&server)).await.unwrap();
    let mut half = TcpStream::connect(addr(&server)).await.unwrap();
    half.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    assert!(!until_closed(&mut idle).await.contains("200 OK"));
    assert!(!until_closed(&mut half).await.contains("200 OK"));
    // A kept-alive connection is closed once it falls silent after a request.
    let mut kept = TcpStream::connect(addr(&server)).await.unwrap();
    kept.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = until_closed(&mut kept).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

/// Silence is what closes a connection, not its age: one that keeps making requests stays
/// open well past the idle limit, and is closed once it stops.
#[tokio::test]
async fn a_connection_in_use_outlives_the_idle_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_command(
        dir.path(),
        Command::new(BIN),
        &["--idle-timeout-secs", "2"],
        &[],
    )
    .await;
    let mut busy = TcpStream::connect(addr(&server)).await.unwrap();
    let started = std::time::Instant::now();
    let mut answers = 0;
    // Three idle limits' worth of requests, each well within the limit of the one before.
    while started.elapsed() < Duration::from_secs(6) {
        busy.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        // The whole answer (its JSON body ends the response), however the reads split it.
        let mut answer = Vec::new();
        while !answer.ends_with(b"}") {
            let mut buf = [0u8; 4096];
            let n = tokio::time::timeout(BOUND, busy.read(&mut buf))
                .await
                .expect("an answer")
                .unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&answer).into_owned();
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "request {answers}: {head}"
        );
        answers += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(answers > 3, "{answers}");
    assert_eq!(until_closed(&mut busy).await, "", "closed once silent");
}

#[tokio::test]
async fn a_half_sent_body_gets_408_and_the_connection_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_command(
        dir.path(),
        Command::new(BIN),
        &["--request-timeout-secs", "1", "--idle-timeout-secs", "30"],
        &[],
    )
    .await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    stream
        .write_all(
            b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\": \"ana@",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

#[tokio::test]
async fn idle_sockets_cannot_starve_the_server_under_a_low_descriptor_limit() {
    let dir = tempfile::tempdir().unwrap();
    // 100 descriptors: the connection cap is fitted below it, so the server never runs out.
    let mut shell = Command::new("sh");
    shell.args(["-c", "ulimit -n 100 && exec \"$0\" \"$@\"", BIN]);
    let server = start_command(
        dir.path(),
        shell,
        &[
            "--header-read-timeout-secs",
            "2",
            "--idle-timeout-secs",
            "4",
        ],
        &[],
    )
    .await;
    // An attacker opens 150 sockets and never sends a byte (and never closes them).
    let mut attacker = Vec::new();
    for _ in 0..150 {
        attacker.push(TcpStream::connect(addr(&server)).await.unwrap());
    }
    // A patient still gets an answer: idle sockets are dropped and the queue moves on.
    let answer = tokio::time::timeout(
        BOUND,
        http("GET", &format!("{}/health/ready", server.base), None, None),
    )
    .await
    .expect("the server must answer while idle sockets are held open")
    .unwrap();
    assert_eq!(answer.0, 200);
    drop(attacker);
}

#[tokio::test]
async fn beyond_the_connection_cap_clients_wait_and_are_served_when_a_slot_frees() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_command(
        dir.path(),
        Command::new(BIN),
        &[
            "--max-open-connections",
            "2",
            "--header-read-timeout-secs",
            "600",
            "--idle-timeout-secs",
            "600",
        ],
        &[],
    )
    .await;
    // start_with's readiness probe has closed its connection; two slots are free again.
    let first = TcpStream::connect(addr(&server)).await.unwrap();
    let mut second = TcpStream::connect(addr(&server)).await.unwrap();
    second
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(BOUND, second.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Both slots are taken: a third client is queued, not answered…
    let mut third = TcpStream::connect(addr(&server)).await.unwrap();
    third
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "a third connection must wait for a slot");
    // …until one of the two closes.
    drop(first);
    let answer = until_closed(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn sigterm_stops_accepting_and_lets_open_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_command(dir.path(), Command::new(BIN), &[], &[]).await;
    let body = br#"{"email": "ana@example.org", "password": "long enough pw", "timezone": "UTC"}"#;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    // `Expect: 100-continue`: the server answers 100 once the handler reads the body, so the
    // request is known to be in flight before the signal.
    let head = format!(
        "POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Connection: close\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = Vec::new();
    tokio::time::timeout(BOUND, async {
        let mut byte = [0u8; 1];
        while !interim.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).await.unwrap();
            interim.push(byte[0]);
        }
    })
    .await
    .expect("100 Continue");
    assert!(interim.starts_with(b"HTTP/1.1 100"), "{interim:?}");
    stream.write_all(&body[..10]).await.unwrap();
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    // Shutdown has begun once new connections are refused.
    tokio::time::timeout(BOUND, async {
        while TcpStream::connect(addr(&server)).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the listener must close on SIGTERM");
    stream.write_all(&body[10..]).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn oversized_request_heads_are_refused_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_command(dir.path(), Command::new(BIN), &[], &[]).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let junk = "x".repeat(100 * 1024);
    let head = format!("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Junk: {junk}\r\n\r\n");
    // The server may close before it has read everything; a failed write is fine.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = until_closed(&mut stream).await;
    assert!(
        !answer.contains("200 OK"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    let (status, _) = http("GET", &format!("{}/health/live", server.base), None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
}
