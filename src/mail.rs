//! Outgoing mail over SMTP (`lettre`), for password-reset codes.
//!
//! `SMTP_URL` names the server: `smtps://user:pass@host` (TLS from the first byte, port 465)
//! or `smtp://user:pass@host?tls=required` (STARTTLS, port 587). Plain `smtp://` (no TLS) is
//! accepted only for a server on the loopback interface (a local relay, or a test). Without
//! `SMTP_URL` the service runs and says in the log that no mail could be sent.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Mail settings from flags and environment.
#[derive(clap::Args, Clone, Default)]
pub struct MailArgs {
    /// SMTP server for password-reset mail, e.g. `smtps://user:pass@mail.example.org` or
    /// `smtp://user:pass@mail.example.org?tls=required` (STARTTLS). Unset: no mail is sent.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of the mail, e.g. `Migraine Diary <no-reply@clinic.example>`.
    #[arg(long, env = "MAIL_FROM")]
    pub mail_from: Option<String>,
}

impl std::fmt::Debug for MailArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailArgs")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("mail_from", &self.mail_from)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("SMTP_URL is set but MAIL_FROM is not")]
    MissingFrom,
    #[error("MAIL_FROM is not a valid address: {0}")]
    BadFrom(String),
    #[error("SMTP_URL is not a valid SMTP URL: {0}")]
    BadUrl(String),
    #[error("SMTP_URL must use TLS (`smtps://…` or `smtp://…?tls=required`) unless the server is on the loopback interface")]
    NoTls,
}

/// Sends mail, or explains in the log why it cannot.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.transport.is_some() {
            "Mailer(smtp)"
        } else {
            "Mailer(disabled)"
        })
    }
}

/// The host part of an URL `scheme://[userinfo@]host[:port][/path][?query]`.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    host_port.split(':').next()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the URL asks for TLS from the start or for mandatory STARTTLS.
fn uses_tls(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("smtps://")
        || (lower.starts_with("smtp://")
            && lower
                .split_once('?')
                .is_some_and(|(_, q)| q.split('&').any(|p| p == "tls=required")))
}

impl Mailer {
    /// No SMTP: every mail is logged as not sent.
    pub fn disabled() -> Self {
        Self { transport: None }
    }

    /// From the settings, validated: TLS unless loopback, a valid sender.
    pub fn from_args(args: &MailArgs) -> Result<Self, MailConfigError> {
        let Some(url) = args.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(Self::disabled());
        };
        let from = args
            .mail_from
            .as_deref()
            .ok_or(MailConfigError::MissingFrom)?
            .parse::<Mailbox>()
            .map_err(|e| MailConfigError::BadFrom(e.to_string()))?;
        let host = url_host(url).ok_or_else(|| MailConfigError::BadUrl("no host".into()))?;
        if !uses_tls(url) && !is_loopback(host) {
            return Err(MailConfigError::NoTls);
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            // The error text may echo the URL, credentials included: keep only its kind.
            .map_err(|_| MailConfigError::BadUrl("unknown scheme or parameters".into()))?
            .build();
        Ok(Self {
            transport: Some((transport, from)),
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends a plain-text mail. Returns false (and logs why, never the body) when it was not sent.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> bool {
        let Some((transport, from)) = &self.transport else {
            tracing::warn!("SMTP_URL is not configured: no mail could be sent");
            return false;
        };
        let to = match to.parse::<Mailbox>() {
            Ok(to) => to,
            Err(e) => {
                tracing::warn!(error = %e, "recipient is not a valid mailbox; no mail sent");
                return false;
            }
        };
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body);
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "cannot build mail");
                return false;
            }
        };
        match transport.send(message).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "SMTP delivery failed");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str) -> MailArgs {
        MailArgs {
            smtp_url: Some(url.into()),
            mail_from: Some("Clinic <no-reply@clinic.example>".into()),
        }
    }

    #[test]
    fn hosts_are_read_from_every_url_form() {
        assert_eq!(
            url_host("smtps://u:p@mail.example.org:465"),
            Some("mail.example.org")
        );
        assert_eq!(url_host("smtp://[::1]:2525?tls=required"), Some("::1"));
        assert_eq!(url_host("smtp://127.0.0.1:25"), Some("127.0.0.1"));
        assert_eq!(url_host("no-scheme"), None);
    }

    #[test]
    fn production_servers_need_tls_and_loopback_may_go_plain() {
        assert!(Mailer::from_args(&args("smtps://u:p@mail.example.org")).is_ok());
        assert!(Mailer::from_args(&args("smtp://mail.example.org?tls=required")).is_ok());
        assert!(matches!(
            Mailer::from_args(&args("smtp://mail.example.org")),
            Err(MailConfigError::NoTls)
        ));
        assert!(matches!(
            Mailer::from_args(&args("smtp://mail.example.org?tls=opportunistic")),
            Err(MailConfigError::NoTls)
        ));
        assert!(Mailer::from_args(&args("smtp://127.0.0.1:2525")).is_ok());
        assert!(Mailer::from_args(&args("smtp://localhost:2525")).is_ok());
    }

    #[test]
    fn a_sender_is_required_and_checked() {
        let mut a = args("smtps://mail.example.org");
        a.mail_from = None;
        assert!(matches!(
            Mailer::from_args(&a),
            Err(MailConfigError::MissingFrom)
        ));
        a.mail_from = Some("not an address".into());
        assert!(matches!(
            Mailer::from_args(&a),
            Err(MailConfigError::BadFrom(_))
        ));
        assert!(!Mailer::from_args(&MailArgs::default())
            .unwrap()
            .is_enabled());
    }
}
