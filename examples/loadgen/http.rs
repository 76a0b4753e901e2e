//! A minimal HTTP/1.1 keep-alive client over a tokio `TcpStream`: one request at a time per
//! connection, `Content-Length` or chunked answers. Enough for a load generator on loopback and
//! cheaper per request than a general client, so the server, not the driver, is measured.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one request may take before it counts as an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    out: Vec<u8>,
}

#[derive(Debug)]
pub struct HttpError(pub String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const CLOSED_BEFORE_ANSWER: &str = "connection closed before the answer";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
            out: Vec::with_capacity(4 * 1024),
        }
    }

    /// Sends one request and reads its answer; on any failure the connection is dropped (the
    /// next request reconnects). A kept-alive connection that the server closed while it was
    /// idle (its idle timeout) is reopened and the request sent once more, as HTTP clients do.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response, HttpError> {
        let reused = self.stream.is_some();
        match self.request_once(method, path, token, body).await {
            Err(HttpError(e)) if reused && e == CLOSED_BEFORE_ANSWER => {
                self.request_once(method, path, token, body).await
            }
            other => other,
        }
    }

    async fn request_once(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response, HttpError> {
        match tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.request_inner(method, path, token, body),
        )
        .await
        {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                self.stream = None;
                Err(e)
            }
            Err(_) => {
                self.stream = None;
                Err(HttpError("timeout".into()))
            }
        }
    }

    async fn request_inner(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response, HttpError> {
        let err = |e: std::io::Error| HttpError(e.to_string());
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await.map_err(err)?;
            s.set_nodelay(true).map_err(err)?;
            self.stream = Some(s);
            self.buf.clear();
        }
        self.out.clear();
        self.out.extend_from_slice(method.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\nhost: bench\r\n");
        if let Some(t) = token {
            self.out.extend_from_slice(b"authorization: Bearer ");
            self.out.extend_from_slice(t.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        if let Some(b) = body {
            self.out
                .extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
            self.out.extend_from_slice(b.len().to_string().as_bytes());
            self.out.extend_from_slice(b"\r\n\r\n");
            self.out.extend_from_slice(b);
        } else {
            self.out.extend_from_slice(b"\r\n");
        }
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| HttpError("no connection".into()))?;
        stream.write_all(&self.out).await.map_err(err)?;

        // Head.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if read_more(stream, &mut self.buf).await? == 0 {
                return Err(HttpError(CLOSED_BEFORE_ANSWER.into()));
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| HttpError("head is not UTF-8".into()))?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| HttpError("bad status line".into()))?;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        self.buf.drain(..head_end);

        // Body.
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break i;
                    }
                    if read_more(stream, &mut self.buf).await? == 0 {
                        return Err(HttpError("closed inside a chunk".into()));
                    }
                };
                let size_text = std::str::from_utf8(&self.buf[..line_end]).unwrap_or("");
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| HttpError("bad chunk size".into()))?;
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    if read_more(stream, &mut self.buf).await? == 0 {
                        return Err(HttpError("closed inside a chunk".into()));
                    }
                }
                body.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
            body
        } else {
            let n = content_length.unwrap_or(0);
            while self.buf.len() < n {
                if read_more(stream, &mut self.buf).await? == 0 {
                    return Err(HttpError("closed inside the body".into()));
                }
            }
            self.buf.drain(..n).collect()
        };
        if close {
            self.stream = None;
            self.buf.clear();
        }
        Ok(Response { status, body })
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, HttpError> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream
        .read(&mut chunk)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}
