//! A throw-away SMTP server for tests: speaks just enough SMTP (RFC 5321) for lettre to hand
//! over a message, and passes each received message (headers and body) to the test.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub struct SmtpSink {
    /// `smtp://127.0.0.1:<port>`: plain SMTP, allowed for loopback only.
    pub url: String,
    pub messages: mpsc::UnboundedReceiver<String>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, tx.clone()));
            }
        });
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            messages: rx,
        }
    }

    /// The next message, waiting at most 30 s (a failsafe, not a timing assertion).
    pub async fn next_message(&mut self) -> String {
        tokio::time::timeout(std::time::Duration::from_secs(30), self.messages.recv())
            .await
            .expect("a mail within 30 s")
            .expect("smtp sink open")
    }
}

async fn session(socket: tokio::net::TcpStream, tx: mpsc::UnboundedSender<String>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let reply = |text: &str| format!("{text}\r\n").into_bytes();
    let _ = write.write_all(&reply("220 sink ESMTP")).await;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let answer = if verb.starts_with("EHLO") || verb.starts_with("HELO") {
            "250 sink"
        } else if verb.starts_with("MAIL")
            || verb.starts_with("RCPT")
            || verb.starts_with("RSET")
            || verb.starts_with("NOOP")
        {
            "250 OK"
        } else if verb == "DATA" {
            let _ = write.write_all(&reply("354 go ahead")).await;
            let mut message = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Dot-stuffing (RFC 5321 4.5.2).
                message.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let _ = tx.send(message);
            "250 queued"
        } else if verb == "QUIT" {
            let _ = write.write_all(&reply("221 bye")).await;
            return;
        } else {
            "502 not implemented"
        };
        let _ = write.write_all(&reply(answer)).await;
    }
}
