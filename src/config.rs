//! Configuration, read once at start from flags and environment variables (clap's `env`),
//! validated here with clear messages. Nothing deeper in the code reads the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::limits::{Budget, LimitSettings, TrustedProxies};

/// The default database: a SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://migraine-diary.db?mode=rwc";
/// A given JWT secret must carry at least 256 bits.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// How SQLite syncs commits to disk (PRAGMA synchronous, in WAL mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SqliteSync {
    /// fsync on every commit: an acknowledged write survives `kill -9` and power loss (default).
    Full,
    /// fsync at checkpoints only: survives `kill -9`; a power loss may drop the last commits.
    Normal,
}

impl SqliteSync {
    pub fn pragma_value(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Where the data lives; shared by every subcommand that touches the database.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://path.db?mode=rwc` (the default, embedded) or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// SQLite only: `full` (default; commits survive power loss) or `normal` (faster; survives a
    /// crash of the process but a power loss may drop the last commits).
    #[arg(long, env = "SQLITE_SYNCHRONOUS", value_enum, default_value = "full")]
    pub sqlite_synchronous: SqliteSync,
    /// Connection pool size (default: 4 on SQLite, 16 on PostgreSQL).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,
}

impl DatabaseArgs {
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            database_url: url.into(),
            sqlite_synchronous: SqliteSync::Full,
            max_connections: None,
        }
    }

    /// The file behind a SQLite URL, or `None` for PostgreSQL and in-memory databases.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        sqlite_path(&self.database_url)
    }
}

/// The file path inside a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Options of `serve`. `Debug` hides `jwt_secret`.
#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Secret that signs access tokens (at least 32 bytes). When absent, a random 256-bit key is
    /// generated on first start and kept in the key file (mode 0600) so tokens survive restarts.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Where the generated key is kept (default: beside the SQLite file, or
    /// `./migraine-diary.key` with PostgreSQL).
    #[arg(long, env = "JWT_KEY_FILE")]
    pub jwt_key_file: Option<PathBuf>,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in days.
    #[arg(long, env = "REFRESH_TOKEN_TTL_DAYS", default_value_t = 30)]
    pub refresh_token_ttl_days: u64,
    /// Earlier signing secrets, comma-separated: tokens they signed still verify (key rotation).
    /// Keep one here for at least the access-token lifetime after replacing `JWT_SECRET`.
    #[arg(
        long,
        env = "JWT_PREVIOUS_SECRETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub jwt_previous_secrets: Vec<String>,
    #[command(flatten)]
    pub mail: crate::mail::MailArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
}

/// Budgets against abuse (README, "Limits"). Login, sign-up and reset budgets are counted in the
/// database, so every instance on one database shares them.
#[derive(Args, Clone, Debug)]
pub struct LimitArgs {
    /// Failed logins allowed for one account from one client address per login window.
    #[arg(long, env = "LOGIN_FAILURES_PER_ACCOUNT_CLIENT", default_value_t = 10)]
    pub login_failures_per_account_client: u32,
    /// Failed logins allowed from one client address (over all accounts) per login window.
    #[arg(long, env = "LOGIN_FAILURES_PER_CLIENT", default_value_t = 100)]
    pub login_failures_per_client: u32,
    /// Failed logins allowed for one account from anywhere per login window; keep it far above
    /// the per-client budget so that no single address can lock the owner out.
    #[arg(long, env = "LOGIN_FAILURES_PER_ACCOUNT", default_value_t = 1000)]
    pub login_failures_per_account: u32,
    /// Length of a login window, in seconds.
    #[arg(long, env = "LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,
    /// Sign-ups allowed from one client address per hour.
    #[arg(long, env = "REGISTRATIONS_PER_CLIENT_PER_HOUR", default_value_t = 20)]
    pub registrations_per_client_per_hour: u32,
    /// Password-reset requests allowed from one client address per hour.
    #[arg(
        long,
        env = "PASSWORD_RESETS_PER_CLIENT_PER_HOUR",
        default_value_t = 10
    )]
    pub password_resets_per_client_per_hour: u32,
    /// Requests per minute one authenticated caller may send (sustained), per instance.
    #[arg(long, env = "REQUESTS_PER_MINUTE_PER_CALLER", default_value_t = 600)]
    pub requests_per_minute_per_caller: u32,
    /// Requests one authenticated caller may send at once above the sustained rate.
    #[arg(long, env = "REQUEST_BURST_PER_CALLER", default_value_t = 100)]
    pub request_burst_per_caller: u32,
    /// Comma-separated proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed,
    /// e.g. `127.0.0.1,10.0.0.0/8`. Empty (the default): the socket's peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
}

impl Default for LimitArgs {
    fn default() -> Self {
        let d = LimitSettings::default();
        Self {
            login_failures_per_account_client: d.login_per_account_client.max,
            login_failures_per_client: d.login_per_client.max,
            login_failures_per_account: d.login_per_account.max,
            login_window_secs: d.login_per_client.window_secs,
            registrations_per_client_per_hour: d.register_per_client.max,
            password_resets_per_client_per_hour: d.password_reset_per_client.max,
            requests_per_minute_per_caller: d.caller_per_minute,
            request_burst_per_caller: d.caller_burst,
            trusted_proxies: String::new(),
        }
    }
}

impl LimitArgs {
    /// Validated budgets.
    pub fn settings(&self) -> Result<LimitSettings, ConfigError> {
        for (value, name) in [
            (
                self.login_failures_per_account_client,
                "LOGIN_FAILURES_PER_ACCOUNT_CLIENT",
            ),
            (self.login_failures_per_client, "LOGIN_FAILURES_PER_CLIENT"),
            (
                self.login_failures_per_account,
                "LOGIN_FAILURES_PER_ACCOUNT",
            ),
            (
                self.registrations_per_client_per_hour,
                "REGISTRATIONS_PER_CLIENT_PER_HOUR",
            ),
            (
                self.password_resets_per_client_per_hour,
                "PASSWORD_RESETS_PER_CLIENT_PER_HOUR",
            ),
            (
                self.requests_per_minute_per_caller,
                "REQUESTS_PER_MINUTE_PER_CALLER",
            ),
            (self.request_burst_per_caller, "REQUEST_BURST_PER_CALLER"),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive(name));
            }
        }
        if self.login_window_secs == 0 {
            return Err(ConfigError::NotPositive("LOGIN_WINDOW_SECS"));
        }
        let trusted_proxies =
            TrustedProxies::parse(&self.trusted_proxies).map_err(ConfigError::TrustedProxies)?;
        let login = |max| Budget::new(max, self.login_window_secs);
        Ok(LimitSettings {
            login_per_account_client: login(self.login_failures_per_account_client),
            login_per_client: login(self.login_failures_per_client),
            login_per_account: login(self.login_failures_per_account),
            register_per_client: Budget::new(self.registrations_per_client_per_hour, 3600),
            password_reset_per_client: Budget::new(self.password_resets_per_client_per_hour, 3600),
            caller_per_minute: self.requests_per_minute_per_caller,
            caller_burst: self.request_burst_per_caller,
            trusted_proxies,
        })
    }
}

/// How connections are kept in check (README, "Connections").
#[derive(Args, Clone, Debug)]
pub struct ConnectionArgs {
    /// Open connections at most; further clients wait in the listen backlog until one closes.
    /// Lowered at start to fit the process's file-descriptor limit.
    #[arg(long, env = "MAX_OPEN_CONNECTIONS", default_value_t = 1024)]
    pub max_open_connections: usize,
    /// Requests handled at once at most; further requests wait for a turn.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 256)]
    pub max_concurrent_requests: usize,
    /// Seconds a client has to send a request's headers (also the idle time allowed between
    /// requests on a kept-alive HTTP/1 connection).
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Seconds a request may take from its headers to the response, body upload included;
    /// then 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Seconds a connection may stay silent (no byte received) before it is closed, for
    /// HTTP/1 and HTTP/2 alike; also ends half-sent bodies.
    #[arg(long, env = "IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM before the process exits.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
}

impl Default for ConnectionArgs {
    fn default() -> Self {
        Self {
            max_open_connections: 1024,
            max_concurrent_requests: 256,
            header_read_timeout_secs: 10,
            request_timeout_secs: 30,
            idle_timeout_secs: 60,
            shutdown_grace_secs: 30,
        }
    }
}

/// Connection settings, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub max_open_connections: usize,
    pub max_concurrent_requests: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl ConnectionArgs {
    pub fn settings(&self) -> Result<ConnectionSettings, ConfigError> {
        for (value, name) in [
            (self.max_open_connections as u64, "MAX_OPEN_CONNECTIONS"),
            (
                self.max_concurrent_requests as u64,
                "MAX_CONCURRENT_REQUESTS",
            ),
            (self.header_read_timeout_secs, "HEADER_READ_TIMEOUT_SECS"),
            (self.request_timeout_secs, "REQUEST_TIMEOUT_SECS"),
            (self.idle_timeout_secs, "IDLE_TIMEOUT_SECS"),
        ] {
            if value == 0 {
                return Err(ConfigError::NotPositive(name));
            }
        }
        Ok(ConnectionSettings {
            max_open_connections: self.max_open_connections,
            max_concurrent_requests: self.max_concurrent_requests,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        })
    }
}

/// Operations options of `serve`: metrics, CORS, HSTS.
#[derive(Args, Clone, Debug, Default)]
pub struct OpsArgs {
    /// Address of a second listener that serves only `GET /metrics` (Prometheus); off when
    /// absent. Keep it off the public network.
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Origins a browser may call the API from, comma-separated (`https://dashboard.example`);
    /// CORS is off when empty.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Send `Strict-Transport-Security` (only when every client reaches the service over HTTPS).
    #[arg(long, env = "HSTS")]
    pub hsts: bool,
}

impl OpsArgs {
    /// The HTTP settings, with every CORS origin checked.
    pub fn web_settings(&self) -> Result<crate::web::WebSettings, ConfigError> {
        let cors_origins = self
            .cors_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| crate::web::parse_origin(o).map_err(ConfigError::CorsOrigin))
            .collect::<Result<_, _>>()?;
        Ok(crate::web::WebSettings {
            cors_origins,
            hsts: self.hsts,
        })
    }
}

/// Settings the running API needs, resolved and validated.
#[derive(Clone)]
pub struct AuthSettings {
    pub jwt_secret: Vec<u8>,
    /// Secrets that verify but no longer sign.
    pub previous_jwt_secrets: Vec<Vec<u8>>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt_secret", &"<redacted>")
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("refresh_token_ttl_days", &self.refresh_token_ttl_days)
            .finish()
    }
}

impl AuthSettings {
    /// Settings for tests and tools that bring their own secret.
    pub fn with_secret(secret: Vec<u8>) -> Self {
        Self {
            jwt_secret: secret,
            previous_jwt_secrets: Vec::new(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (got {0}); generate one with `openssl rand -hex 32`")]
    SecretTooShort(usize),
    #[error("key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {0} holds fewer than {MIN_JWT_SECRET_BYTES} bytes; delete it to generate a new key (this signs out every user)")]
    KeyFileTooShort(PathBuf),
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    #[error("TRUSTED_PROXIES: {0}")]
    TrustedProxies(String),
    #[error("{0}")]
    CorsOrigin(String),
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("database", &self.database)
            .field("bind", &self.bind)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_key_file", &self.jwt_key_file)
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("refresh_token_ttl_days", &self.refresh_token_ttl_days)
            .finish()
    }
}

impl ServeArgs {
    /// Where the generated key lives when no secret is given.
    pub fn key_file_path(&self) -> PathBuf {
        if let Some(path) = &self.jwt_key_file {
            return path.clone();
        }
        match self.database.sqlite_path() {
            Some(db) => db.with_extension("key"),
            None => PathBuf::from("migraine-diary.key"),
        }
    }

    /// Validates the options and resolves the JWT secret (reading or creating the key file).
    /// Returns the settings and, when a key file is used, which and how (for the start-up log).
    pub fn auth_settings(&self) -> Result<(AuthSettings, Option<KeyFile>), ConfigError> {
        if self.access_token_ttl_secs == 0 {
            return Err(ConfigError::NotPositive("ACCESS_TOKEN_TTL_SECS"));
        }
        if self.refresh_token_ttl_days == 0 {
            return Err(ConfigError::NotPositive("REFRESH_TOKEN_TTL_DAYS"));
        }
        let (secret, key_path) = match &self.jwt_secret {
            Some(given) => {
                if given.len() < MIN_JWT_SECRET_BYTES {
                    return Err(ConfigError::SecretTooShort(given.len()));
                }
                (given.as_bytes().to_vec(), None)
            }
            None => {
                let (key, file) = load_or_create_key(&self.key_file_path())?;
                (key, Some(file))
            }
        };
        let previous = self
            .jwt_previous_secrets
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.len() < MIN_JWT_SECRET_BYTES {
                    Err(ConfigError::SecretTooShort(s.len()))
                } else {
                    Ok(s.as_bytes().to_vec())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            AuthSettings {
                jwt_secret: secret,
                previous_jwt_secrets: previous,
                access_token_ttl_secs: self.access_token_ttl_secs,
                refresh_token_ttl_days: self.refresh_token_ttl_days,
            },
            key_path,
        ))
    }
}

/// The key file the signing key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFile {
    /// Read from an existing file.
    Loaded(PathBuf),
    /// Missing, so a new key was generated and written there.
    Generated(PathBuf),
}

/// Reads the signing key, or creates a random 256-bit one (hex, mode 0600) when the file is missing.
pub fn load_or_create_key(path: &Path) -> Result<(Vec<u8>, KeyFile), ConfigError> {
    let io_err = |source| ConfigError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = text.trim().as_bytes().to_vec();
            if key.len() < MIN_JWT_SECRET_BYTES {
                return Err(ConfigError::KeyFileTooShort(path.to_path_buf()));
            }
            Ok((key, KeyFile::Loaded(path.to_path_buf())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use rand::RngCore;
            use std::io::Write;
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let key = hex::encode(bytes);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io_err)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(io_err)?;
            file.write_all(key.as_bytes()).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            Ok((key.into_bytes(), KeyFile::Generated(path.to_path_buf())))
        }
        Err(e) => Err(io_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_path_is_read_from_every_url_form() {
        assert_eq!(
            sqlite_path("sqlite://migraine-diary.db?mode=rwc"),
            Some(PathBuf::from("migraine-diary.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/md/x.db"),
            Some(PathBuf::from("/var/lib/md/x.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/test"), None);
    }

    #[test]
    fn serve_args_never_print_the_secret() {
        use clap::Parser;
        let cli = crate::cli::Cli::parse_from([
            "migraine-diary",
            "serve",
            "--jwt-secret",
            "a-secret-of-more-than-thirty-two-bytes",
        ]);
        let printed = format!("{cli:?}");
        assert!(printed.contains("<redacted>"), "{printed}");
        assert!(!printed.contains("a-secret-of"), "{printed}");
    }

    #[test]
    fn generated_key_is_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("k.key");
        let (first, how) = load_or_create_key(&path).unwrap();
        assert_eq!(how, KeyFile::Generated(path.clone()));
        let (second, how) = load_or_create_key(&path).unwrap();
        assert_eq!(how, KeyFile::Loaded(path.clone()));
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn short_secret_is_refused() {
        let args = ServeArgs {
            database: DatabaseArgs::for_url("sqlite::memory:"),
            bind: "127.0.0.1:0".into(),
            jwt_secret: Some("short".into()),
            jwt_key_file: None,
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            jwt_previous_secrets: vec!["also-short".into()],
            mail: Default::default(),
            limits: LimitArgs::default(),
            connections: ConnectionArgs::default(),
            ops: OpsArgs::default(),
        };
        assert!(matches!(
            args.auth_settings(),
            Err(ConfigError::SecretTooShort(5))
        ));
    }
}
