//! The command line: `serve`, `migrate`, `backup`, `user create`, `openapi` and `demo`.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use crate::auth::password::hash_blocking;
use crate::config::{DatabaseArgs, KeyFile, ServeArgs};
use crate::demo::{self, DemoOptions};
use crate::domain::{AccountDraft, NewAccount, Role};
use crate::router::{app, openapi_json};
use crate::service::accounts::create_account;
use crate::state::AppState;
use crate::store::Store;

#[derive(Parser, Debug)]
#[command(name = "migraine-diary", version, about = "Headache-day diary backend")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines as plain text (default) or as one JSON object per line.
    #[arg(
        long,
        global = true,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply pending migrations, then serve the API.
    Serve(Box<ServeArgs>),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Write a consistent copy of a live SQLite database to a new file and check it
    /// (for PostgreSQL, use `pg_dump`).
    Backup(BackupArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the OpenAPI document (the JSON that `/openapi.json` serves).
    Openapi,
    /// Fill a fresh database with a demo clinic: a clinician and patients with a year of diary
    /// and treatments. Every account's password is MIGRAINE_DIARY_PASSWORD, or the documented
    /// demo password `demo-password-2026` when it is unset.
    Demo(DemoArgs),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an admin or clinician. The password comes from MIGRAINE_DIARY_PASSWORD or the
    /// first line of standard input, never from the command line.
    Create(CreateUserArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateUserArgs {
    #[arg(long, value_enum)]
    pub role: StaffRole,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub display_name: Option<String>,
    /// IANA time zone of the account.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet.
    #[arg(long)]
    pub to: std::path::PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Seed of the generator: the same seed on the same day gives the same clinic.
    #[arg(long, default_value_t = demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Number of patients (1–999).
    #[arg(long, default_value_t = demo::DEFAULT_PATIENTS)]
    pub patients: u32,
    /// Days of diary per patient, ending today in the patient's time zone (90–3650).
    #[arg(long, default_value_t = demo::DEFAULT_DAYS)]
    pub days: u32,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StaffRole {
    Admin,
    Clinician,
}

fn init_tracing(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colours only for a person at a terminal; a log file or a pipe gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}

/// Runs the command line; the exit code says whether it worked.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Backup(args) => crate::backup::run(&args.database, &args.to).await,
        Command::User(UserCommand::Create(args)) => create_user(args).await,
        Command::Openapi => {
            print!("{}", openapi_json());
            Ok(())
        }
        Command::Demo(args) => seed_demo(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn describe_database(args: &DatabaseArgs) -> String {
    match args.sqlite_path() {
        Some(path) => {
            let absolute = std::path::absolute(&path).unwrap_or(path);
            format!("SQLite file {}", absolute.display())
        }
        None if args.database_url.starts_with("sqlite:") => "SQLite in memory".into(),
        None => "PostgreSQL".into(),
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    // Listen first: a port that is taken (another server still running) fails before the
    // database or the key file is touched.
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| {
            format!(
            "cannot listen on {}: {e} (is another server running there? stop it or pass --bind)",
            args.bind
        )
        })?;
    let (auth, key) = args.auth_settings().map_err(|e| e.to_string())?;
    let limits = args.limits.settings().map_err(|e| e.to_string())?;
    let connections = args.connections.settings().map_err(|e| e.to_string())?;
    let mailer = crate::mail::Mailer::from_args(&args.mail).map_err(|e| e.to_string())?;
    let store = Store::connect_and_migrate(&args.database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    tracing::info!(database = %describe_database(&args.database), "migrations applied");
    let absolute = |p: std::path::PathBuf| std::path::absolute(&p).unwrap_or(p);
    match key {
        Some(KeyFile::Loaded(path)) => {
            tracing::info!(key_file = %absolute(path).display(), "token signing key loaded")
        }
        Some(KeyFile::Generated(path)) => {
            tracing::info!(key_file = %absolute(path).display(), "token signing key generated")
        }
        None => tracing::info!("token signing key from JWT_SECRET"),
    }
    if !mailer.is_enabled() {
        tracing::warn!(
            "SMTP_URL is not set: password-reset codes cannot be mailed (admins can issue them)"
        );
    }
    let web = args.ops.web_settings().map_err(|e| e.to_string())?;
    let state = AppState::build(store, &auth, limits, mailer)
        .map_err(|e| e.to_string())?
        .with_web(web);
    if let Some(bind) = &args.ops.metrics_bind {
        serve_metrics(bind, state.clone()).await?;
    }
    let audit = state.audit.clone();
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("listening on http://{local} (docs at http://{local}/docs)");
    tokio::spawn(crate::limits::maintain(state.clone()));
    crate::server::serve(listener, app(state), connections, shutdown_signal()).await;
    // The audit rows of the last requests are written before the process ends.
    audit.flush().await;
    Ok(())
}

/// Starts the metrics listener (its own socket, only `GET /metrics`).
async fn serve_metrics(bind: &str, state: AppState) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen for metrics on {bind}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("metrics on http://{local}/metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, crate::metrics::router(state)).await {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn migrate(args: DatabaseArgs) -> Result<(), String> {
    Store::connect_and_migrate(&args)
        .await
        .map_err(|e| format!("database: {e}"))?;
    tracing::info!(database = %describe_database(&args), "migrations applied");
    Ok(())
}

/// The password of `user create`: `MIGRAINE_DIARY_PASSWORD`, else typed at a prompt that does
/// not echo, else the first line of a piped standard input.
fn read_password() -> Result<String, String> {
    let password = match std::env::var("MIGRAINE_DIARY_PASSWORD") {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => rpassword::prompt_password("Password: ")
            .map_err(|e| format!("reading the password from the terminal: {e}"))?,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("reading the password from stdin: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.is_empty() {
        return Err(
            "no password given: set MIGRAINE_DIARY_PASSWORD or write it on standard input".into(),
        );
    }
    Ok(password)
}

async fn create_user(args: CreateUserArgs) -> Result<(), String> {
    let password = read_password()?;
    let role = match args.role {
        StaffRole::Admin => Role::Admin,
        StaffRole::Clinician => Role::Clinician,
    };
    let account = NewAccount::parse_staff(AccountDraft {
        email: args.email,
        password,
        role,
        display_name: args.display_name,
        timezone: args.timezone,
    })
    .map_err(|problems| problems.describe())?;
    let plain = account.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_blocking(&plain))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let store = Store::connect_and_migrate(&args.database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let user = create_account(&store, &account, password_hash)
        .await
        .map_err(|e| e.to_string())?;
    println!("created {} {} ({})", role.as_str(), user.email, user.id);
    Ok(())
}

async fn seed_demo(args: DemoArgs) -> Result<(), String> {
    let from_env = std::env::var("MIGRAINE_DIARY_PASSWORD").ok();
    let options = DemoOptions {
        seed: args.seed,
        patients: args.patients,
        days: args.days,
        password: from_env
            .clone()
            .unwrap_or_else(|| demo::DEMO_PASSWORD.to_owned()),
    };
    options.check().map_err(|e| e.to_string())?;
    let store = Store::connect_and_migrate(&args.database)
        .await
        .map_err(|e| format!("database: {e}"))?;
    tracing::info!(database = %describe_database(&args.database), "migrations applied");
    let report = demo::seed_demo(&store, &options, chrono::Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    println!("Demo clinic in {}", describe_database(&args.database));
    println!("  clinician: {}", report.clinician_email);
    for email in &report.patient_emails {
        println!("  patient:   {email}");
    }
    match from_env {
        Some(_) => println!("  password:  the value of MIGRAINE_DIARY_PASSWORD (every account)"),
        None => println!("  password:  {} (every account)", demo::DEMO_PASSWORD),
    }
    println!(
        "seeded {} patients, {} diary entries, {} treatments (seed {}, {} days) in {:.1} s",
        report.patient_emails.len(),
        report.diary_entries,
        report.treatments,
        options.seed,
        options.days,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
