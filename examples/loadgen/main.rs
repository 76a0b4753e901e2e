//! The load generator of `bench/run` (see README.md, "Performance").
//!
//! - `loadgen seed-store …`: seeds a cohort through the library's store functions.
//! - `loadgen run …`: seeds a clinic through the HTTP API of a running server, then drives each
//!   phase at a fixed concurrency for a fixed time over keep-alive connections on loopback, and
//!   writes the results (requests/s, p50/p99, errors, the server's peak RSS per phase) as a
//!   Markdown table and as JSON.
//!
//! Every loop is bounded: by the phase's deadline and by a hard cap on requests per phase.

mod gen;
mod http;
mod seed_store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use http::Conn;

/// A phase never sends more than this many requests, whatever its duration.
const MAX_REQUESTS_PER_PHASE: u64 = 5_000_000;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed patients linked to an existing clinician straight through the store.
    SeedStore {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        clinician: String,
        #[arg(long)]
        patients: u64,
        #[arg(long, default_value_t = 730)]
        days: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value = "cohort-")]
        email_prefix: String,
    },
    /// Seed through the API, then run the phases.
    Run(Box<RunArgs>),
    /// One table of two runs side by side (SQLite and PostgreSQL): the phases, then the budgets.
    Compare {
        /// `LABEL=results.json`, twice or more.
        #[arg(long, required = true)]
        run: Vec<String>,
        #[arg(long)]
        out_md: PathBuf,
    },
}

#[derive(Parser, Clone)]
struct RunArgs {
    /// The server under test.
    #[arg(long)]
    server: SocketAddr,
    /// Its process id (for VmHWM).
    #[arg(long)]
    server_pid: u32,
    /// The bare axum reference server.
    #[arg(long)]
    hello: Option<SocketAddr>,
    #[arg(long)]
    hello_pid: Option<u32>,
    /// The clinician created with `migraine-diary user create --role clinician`.
    #[arg(long)]
    clinician: String,
    /// Password of every clinician (`MIGRAINE_DIARY_PASSWORD` of `user create`).
    #[arg(long, env = "MIGRAINE_DIARY_PASSWORD")]
    clinician_password: String,
    /// Cohort clinicians as `PATIENT_YEARS=EMAIL` (their patients seeded with `seed-store`).
    #[arg(long)]
    cohort: Vec<String>,
    /// A clinician with a large panel as `PATIENTS=EMAIL` (seeded with `seed-store`), for the
    /// patient-list phase of a clinic network.
    #[arg(long)]
    panel: Option<String>,
    #[arg(long, default_value_t = 200)]
    patients: u64,
    #[arg(long, default_value_t = 730)]
    days: u32,
    /// Patients with a long history, for the 10-year treatment summary.
    #[arg(long, default_value_t = 10)]
    long_patients: u64,
    #[arg(long, default_value_t = 3650)]
    long_days: u32,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Concurrency of the cohort phases (a dashboard query, one at a time by default).
    #[arg(long, default_value_t = 1)]
    cohort_concurrency: usize,
    /// Concurrent logins of the login storm.
    #[arg(long, default_value_t = 8)]
    storm_concurrency: usize,
    /// Concurrency of the API seeding.
    #[arg(long, default_value_t = 4)]
    seed_concurrency: usize,
    /// JSON written by `raw_commit` (the write-phase reference).
    #[arg(long)]
    raw_commit_json: Option<PathBuf>,
    #[arg(long, default_value = "bench/out/results.json")]
    out_json: PathBuf,
    #[arg(long, default_value = "bench/out/results.md")]
    out_md: PathBuf,
    /// Free text recorded in the results (database, build, commit).
    #[arg(long, default_value = "")]
    label: String,
    /// Only these phases (comma-separated names); all when empty.
    #[arg(long, default_value = "")]
    only: String,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::SeedStore {
            database_url,
            clinician,
            patients,
            days,
            seed,
            email_prefix,
        } => {
            seed_store::run(seed_store::SeedStore {
                database_url,
                clinician_email: clinician,
                patients,
                days,
                seed,
                email_prefix,
                last_day: last_day(),
            })
            .await
        }
        Command::Run(args) => run(*args).await,
        Command::Compare { run, out_md } => compare(&run, &out_md),
    };
    if let Err(e) = result {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}

/// The last seeded day: yesterday (UTC), which is not in the future in any time zone.
fn last_day() -> NaiveDate {
    Utc::now().date_naive() - Days::days(1)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------------
// Seeding through the API

struct Patient {
    id: String,
    email: String,
    token: String,
    treatments: Vec<String>,
}

const PATIENT_PASSWORD: &str = "bench-patient-password";

async fn call(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    expect: u16,
) -> Result<Value, String> {
    let bytes = body.map(|b| b.to_string().into_bytes());
    let r = conn
        .request(method, path, token, bytes.as_deref())
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    if r.status != expect {
        return Err(format!(
            "{method} {path}: {} (expected {expect}): {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    Ok(r.json())
}

async fn login(conn: &mut Conn, email: &str, password: &str) -> Result<String, String> {
    let v = call(
        conn,
        "POST",
        "/v1/auth/login",
        None,
        Some(&json!({ "email": email, "password": password })),
        200,
    )
    .await?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "login: no access_token".to_string())
}

async fn seed_patient(
    addr: SocketAddr,
    clinician_token: &str,
    index: u64,
    days: u32,
    seed: u64,
) -> Result<(Patient, u64), String> {
    let mut conn = Conn::new(addr);
    let history = gen::patient(seed, index, last_day(), days);
    let email = format!("p{seed}-{index}@bench.example");
    let user = call(
        &mut conn,
        "POST",
        "/v1/auth/register",
        None,
        Some(
            &json!({ "email": email, "password": PATIENT_PASSWORD, "timezone": history.timezone }),
        ),
        201,
    )
    .await?;
    let id = user["id"].as_str().ok_or("register: no id")?.to_owned();
    let token = login(&mut conn, &email, PATIENT_PASSWORD).await?;
    let invite = call(
        &mut conn,
        "POST",
        "/v1/care-invites",
        Some(clinician_token),
        None,
        201,
    )
    .await?;
    call(
        &mut conn,
        "POST",
        "/v1/me/clinicians",
        Some(&token),
        Some(&json!({ "code": invite["code"] })),
        201,
    )
    .await?;
    for chunk in history.days.chunks(365) {
        let entries: Vec<Value> = chunk.iter().map(|d| d.to_json(true)).collect();
        call(
            &mut conn,
            "POST",
            &format!("/v1/patients/{id}/diary/batch"),
            Some(&token),
            Some(&json!({ "entries": entries })),
            200,
        )
        .await?;
    }
    let mut treatments = Vec::new();
    for t in &history.treatments {
        let v = call(
            &mut conn,
            "POST",
            &format!("/v1/patients/{id}/treatments"),
            Some(clinician_token),
            Some(&t.to_json()),
            201,
        )
        .await?;
        treatments.push(v["id"].as_str().ok_or("treatment: no id")?.to_owned());
    }
    Ok((
        Patient {
            id,
            email,
            token,
            treatments,
        },
        history.days.len() as u64,
    ))
}

async fn seed_many(
    addr: SocketAddr,
    clinician_token: Arc<str>,
    count: u64,
    days: u32,
    seed: u64,
    concurrency: usize,
) -> Result<(Vec<Patient>, u64), String> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let next = Arc::clone(&next);
        let token = Arc::clone(&clinician_token);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                out.push((i, seed_patient(addr, &token, i, days, seed).await?));
            }
            Ok::<_, String>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    all.sort_by_key(|(i, _)| *i);
    let rows = all.iter().map(|(_, (_, n))| *n).sum();
    Ok((all.into_iter().map(|(_, (p, _))| p).collect(), rows))
}

// ---------------------------------------------------------------------------------------------
// Phases

/// One request of a phase.
struct Req {
    method: &'static str,
    path: String,
    token: Option<Arc<str>>,
    body: Option<Vec<u8>>,
}

type Plan = Arc<dyn Fn(u64) -> Option<Req> + Send + Sync>;

#[derive(Clone, Debug, Default)]
struct PhaseResult {
    name: String,
    target: String,
    concurrency: usize,
    seconds: f64,
    requests: u64,
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    peak_rss_mib: Option<f64>,
    statuses: std::collections::BTreeMap<u16, u64>,
    first_error: Option<String>,
}

impl PhaseResult {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "target": self.target,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 2),
            "requests": self.requests,
            "errors": self.errors,
            "requests_per_s": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "peak_rss_mib": self.peak_rss_mib.map(|v| round(v, 1)),
            "statuses": self.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "first_error": self.first_error,
        })
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Resets the peak resident set size of `pid` (`echo 5 > /proc/PID/clear_refs`), so that the
/// VmHWM read after a phase is that phase's peak. Harmless when not permitted.
fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}

async fn drive(
    name: &str,
    addr: SocketAddr,
    pid: Option<u32>,
    concurrency: usize,
    duration: Duration,
    plan: Plan,
) -> PhaseResult {
    if let Some(pid) = pid {
        reset_peak_rss(pid);
    }
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let plan = Arc::clone(&plan);
        let counter = Arc::clone(&counter);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let mut latencies: Vec<u32> = Vec::with_capacity(4096);
            let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if i >= MAX_REQUESTS_PER_PHASE {
                    break;
                }
                let Some(req) = plan(i) else { break };
                let t0 = Instant::now();
                let r = conn
                    .request(
                        req.method,
                        &req.path,
                        req.token.as_deref(),
                        req.body.as_deref(),
                    )
                    .await;
                let us = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                latencies.push(us);
                match r {
                    Ok(resp) => {
                        *statuses.entry(resp.status).or_default() += 1;
                        if !(200..300).contains(&resp.status) {
                            errors += 1;
                            if first_error.is_none() {
                                first_error = Some(format!(
                                    "{} {}: {} {}",
                                    req.method,
                                    req.path,
                                    resp.status,
                                    String::from_utf8_lossy(&resp.body)
                                ));
                            }
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error = Some(format!("{} {}: {e}", req.method, req.path));
                        }
                    }
                }
            }
            (latencies, statuses, errors, first_error)
        }));
    }
    let mut all = Vec::new();
    let mut result = PhaseResult {
        name: name.into(),
        target: addr.to_string(),
        concurrency,
        ..Default::default()
    };
    for t in tasks {
        if let Ok((lat, st, errors, first_error)) = t.await {
            all.extend(lat);
            for (k, v) in st {
                *result.statuses.entry(k).or_default() += v;
            }
            result.errors += errors;
            if result.first_error.is_none() {
                result.first_error = first_error;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    result.seconds = elapsed;
    result.requests = all.len() as u64;
    result.rps = all.len() as f64 / elapsed;
    result.p50_ms = percentile(&all, 50.0);
    result.p99_ms = percentile(&all, 99.0);
    result.max_ms = all.last().map_or(0.0, |v| f64::from(*v) / 1000.0);
    result.peak_rss_mib = pid.and_then(peak_rss_mib);
    eprintln!(
        "  {:<44} {:>9.1} req/s  p50 {:>8.3} ms  p99 {:>8.3} ms  errors {:>5}  rss {:>6} MiB",
        name,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.errors,
        result
            .peak_rss_mib
            .map_or("-".to_string(), |v| format!("{v:.1}"))
    );
    if let Some(e) = &result.first_error {
        eprintln!(
            "    first error: {}",
            e.chars().take(300).collect::<String>()
        );
    }
    result
}

fn get(path: String, token: &Arc<str>) -> Option<Req> {
    Some(Req {
        method: "GET",
        path,
        token: Some(Arc::clone(token)),
        body: None,
    })
}

async fn run(args: RunArgs) -> Result<(), String> {
    let addr = args.server;
    let pid = Some(args.server_pid);
    let duration = Duration::from_secs_f64(args.duration.clamp(0.2, 600.0));
    let c = args.concurrency.clamp(1, 1024);
    let wanted = |name: &str| args.only.is_empty() || args.only.split(',').any(|n| n == name);
    let mut conn = Conn::new(addr);

    // Seed.
    eprintln!(
        "seeding through the API: {} patients x {} days, {} x {} days (seed concurrency {})",
        args.patients, args.days, args.long_patients, args.long_days, args.seed_concurrency
    );
    let clinician_token: Arc<str> = login(&mut conn, &args.clinician, &args.clinician_password)
        .await?
        .into();
    let t0 = Instant::now();
    let (patients, rows) = seed_many(
        addr,
        Arc::clone(&clinician_token),
        args.patients,
        args.days,
        1,
        args.seed_concurrency,
    )
    .await?;
    let (long, long_rows) = seed_many(
        addr,
        Arc::clone(&clinician_token),
        args.long_patients,
        args.long_days,
        2,
        args.seed_concurrency,
    )
    .await?;
    let seed_seconds = t0.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} patients, {} diary rows in {seed_seconds:.1} s ({:.0} rows/s)",
        patients.len() + long.len(),
        rows + long_rows,
        (rows + long_rows) as f64 / seed_seconds
    );
    if patients.is_empty() {
        return Err("no patients".into());
    }
    let mut cohort_tokens = Vec::new();
    for spec in &args.cohort {
        let (years, email) = spec
            .split_once('=')
            .ok_or_else(|| format!("--cohort {spec}: expected YEARS=EMAIL"))?;
        let token: Arc<str> = login(&mut conn, email, &args.clinician_password)
            .await?
            .into();
        cohort_tokens.push((years.to_owned(), token));
    }

    let panel_token: Option<(String, Arc<str>)> = match &args.panel {
        Some(spec) => {
            let (n, email) = spec
                .split_once('=')
                .ok_or_else(|| format!("--panel {spec}: expected PATIENTS=EMAIL"))?;
            let token = login(&mut conn, email, &args.clinician_password).await?;
            Some((n.to_owned(), token.into()))
        }
        None => None,
    };

    let patients = Arc::new(patients);
    let long = Arc::new(long);
    let today = Utc::now().date_naive();
    let year_from = ymd(today - Days::days(364));
    let year_to = ymd(today);
    let mut results: Vec<PhaseResult> = Vec::new();
    let mut references: Vec<PhaseResult> = Vec::new();

    eprintln!(
        "phases: concurrency {c}, {:.1} s each",
        duration.as_secs_f64()
    );

    // 1. Liveness, and the bare axum reference.
    if wanted("health") {
        let plan: Plan = Arc::new(|_| {
            Some(Req {
                method: "GET",
                path: "/health/live".into(),
                token: None,
                body: None,
            })
        });
        if let Some(hello) = args.hello {
            references.push(
                drive(
                    "reference: bare axum GET /health/live",
                    hello,
                    args.hello_pid,
                    c,
                    duration,
                    Arc::clone(&plan),
                )
                .await,
            );
        }
        results.push(drive("GET /health/live", addr, pid, c, duration, plan).await);
    }

    // 2. Diary PUT: distinct (patient, day) per request, spread over all patients; every day
    //    of the seeded range, so a request creates a missing day (201) or replaces a recorded one
    //    with different content (200).
    if wanted("put") {
        let ps = Arc::clone(&patients);
        let first = last_day() - Days::days(i64::from(args.days) - 1);
        let span = u64::from(args.days);
        let tokens: Vec<Arc<str>> = ps.iter().map(|p| Arc::from(p.token.as_str())).collect();
        let plan: Plan = Arc::new(move |i| {
            let n = ps.len() as u64;
            let p = &ps[(i % n) as usize];
            let day_index = i / n;
            if day_index >= span {
                return None;
            }
            // Walk the days from the newest backwards (the days a diary app syncs).
            let date = first + Days::days((span - 1 - day_index) as i64);
            let body = json!({
                "peak_pain": 3 + (i % 5),
                "headache_hours": 2 + (i % 7),
                "features": { "photophobia": true },
                "acute_medications": [{ "name": "ibuprofen", "class": "nsaid", "dose": "400 mg" }],
                "disability": "mild",
                "notes": "bench put",
            });
            Some(Req {
                method: "PUT",
                path: format!("/v1/patients/{}/diary/{}", p.id, ymd(date)),
                token: Some(Arc::clone(&tokens[(i % n) as usize])),
                body: Some(body.to_string().into_bytes()),
            })
        });
        results.push(
            drive(
                "PUT /v1/patients/{id}/diary/{date}",
                addr,
                pid,
                c,
                duration,
                plan,
            )
            .await,
        );
    }

    // 3. Diary range read, 90 days, by the clinician.
    let read_plan: Plan = {
        let ps = Arc::clone(&patients);
        let token = Arc::clone(&clinician_token);
        let to = last_day();
        let from = ymd(to - Days::days(89));
        let to = ymd(to);
        Arc::new(move |i| {
            let p = &ps[(i % ps.len() as u64) as usize];
            get(
                format!("/v1/patients/{}/diary?from={from}&to={to}", p.id),
                &token,
            )
        })
    };
    if wanted("read") {
        results.push(
            drive(
                "GET …/diary?from&to (90 days)",
                addr,
                pid,
                c,
                duration,
                Arc::clone(&read_plan),
            )
            .await,
        );
    }

    // 4. Treatment summaries, 2-year and 10-year histories.
    let summary_plan = |set: Arc<Vec<Patient>>| -> Plan {
        let token = Arc::clone(&clinician_token);
        let all: Vec<(String, String)> = set
            .iter()
            .flat_map(|p| p.treatments.iter().map(|t| (p.id.clone(), t.clone())))
            .collect();
        Arc::new(move |i| {
            let (p, t) = all.get((i % all.len().max(1) as u64) as usize)?;
            get(format!("/v1/patients/{p}/treatments/{t}/summary"), &token)
        })
    };
    // At the phase's concurrency (throughput), then one request at a time (the latency the
    // budget is about: at 32 concurrent requests on 2 cores, p99 is mostly queueing).
    if wanted("treatment_summary") {
        let sets = [("2 y", Arc::clone(&patients)), ("10 y", Arc::clone(&long))];
        for (label, set) in sets {
            if set.is_empty() {
                continue;
            }
            for conc in [c, 1] {
                let name = if conc == 1 {
                    format!("GET …/treatments/{{tid}}/summary ({label} history, 1 at a time)")
                } else {
                    format!("GET …/treatments/{{tid}}/summary ({label} history)")
                };
                let plan = summary_plan(Arc::clone(&set));
                results.push(drive(&name, addr, pid, conc, duration, plan).await);
            }
        }
    }

    // 5. Patient summary over a year by month, and the day calendar of a year.
    if wanted("summary") {
        let ps = Arc::clone(&patients);
        let token = Arc::clone(&clinician_token);
        let (f, t) = (year_from.clone(), year_to.clone());
        let plan: Plan = Arc::new(move |i| {
            let p = &ps[(i % ps.len() as u64) as usize];
            get(
                format!("/v1/patients/{}/summary?from={f}&to={t}&period=month", p.id),
                &token,
            )
        });
        results.push(drive("GET …/summary (1 y by month)", addr, pid, c, duration, plan).await);
    }
    if wanted("days") {
        let ps = Arc::clone(&patients);
        let token = Arc::clone(&clinician_token);
        let (f, t) = (year_from.clone(), year_to.clone());
        let plan: Plan = Arc::new(move |i| {
            let p = &ps[(i % ps.len() as u64) as usize];
            get(
                format!("/v1/patients/{}/days?from={f}&to={t}", p.id),
                &token,
            )
        });
        results.push(drive("GET …/days (1 y)", addr, pid, c, duration, plan).await);
    }

    // 6. The clinician's patient list, every patient on one page.
    if wanted("patients") {
        let token = Arc::clone(&clinician_token);
        // The first page of 200 (the clinician has `patients` + `long_patients` in all).
        let limit = 200;
        let plan: Plan = Arc::new(move |_| get(format!("/v1/patients?limit={limit}"), &token));
        let name = format!("GET /v1/patients?limit={limit}");
        results.push(drive(&name, addr, pid, c, duration, plan).await);
        // A clinic network's dashboard: the first page of a large panel, one at a time.
        if let Some((n, token)) = &panel_token {
            let token = Arc::clone(token);
            let plan: Plan = Arc::new(move |_| get(format!("/v1/patients?limit={limit}"), &token));
            let name = format!("GET /v1/patients?limit={limit} ({n} linked, 1 at a time)");
            results.push(drive(&name, addr, pid, 1, duration, plan).await);
        }
    }

    // 7. Cohorts of growing size: IV ketamine over the last two years.
    if wanted("cohort") {
        let from = ymd(today - Days::days(729));
        for (years, token) in &cohort_tokens {
            let token = Arc::clone(token);
            let (f, t) = (from.clone(), year_to.clone());
            let plan: Plan = Arc::new(move |_| {
                get(
                    format!("/v1/cohort/summary?kind=iv_ketamine&from={f}&to={t}"),
                    &token,
                )
            });
            let name = format!("GET /v1/cohort/summary ({years} patient-years)");
            results.push(drive(&name, addr, pid, args.cohort_concurrency, duration, plan).await);
        }
    }

    // 8. Login (successful logins are not rate-limited), then reads during a login storm.
    let login_plan: Plan = {
        let emails: Vec<String> = patients.iter().map(|p| p.email.clone()).collect();
        Arc::new(move |i| {
            let email = &emails[(i % emails.len() as u64) as usize];
            Some(Req {
                method: "POST",
                path: "/v1/auth/login".into(),
                token: None,
                body: Some(
                    json!({ "email": email, "password": PATIENT_PASSWORD })
                        .to_string()
                        .into_bytes(),
                ),
            })
        })
    };
    if wanted("login") {
        results.push(
            drive(
                "POST /v1/auth/login",
                addr,
                pid,
                c,
                duration,
                Arc::clone(&login_plan),
            )
            .await,
        );
    }
    if wanted("storm") {
        let storm_c = args.storm_concurrency;
        let (reads, logins) = tokio::join!(
            drive(
                "GET …/diary (90 d) during login storm",
                addr,
                pid,
                c,
                duration,
                Arc::clone(&read_plan),
            ),
            drive(
                "POST /v1/auth/login (the storm)",
                addr,
                None,
                storm_c,
                duration,
                Arc::clone(&login_plan),
            ),
        );
        results.push(reads);
        results.push(logins);
    }

    // References measured outside this process.
    if let Some(path) = &args.raw_commit_json {
        match std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            Some(v) => references.push(PhaseResult {
                name: "reference: raw diary upsert commit (sea-orm, no HTTP)".into(),
                target: v["target"].as_str().unwrap_or("").into(),
                concurrency: v["concurrency"].as_u64().unwrap_or(0) as usize,
                seconds: v["seconds"].as_f64().unwrap_or(0.0),
                requests: v["requests"].as_u64().unwrap_or(0),
                errors: v["errors"].as_u64().unwrap_or(0),
                rps: v["requests_per_s"].as_f64().unwrap_or(0.0),
                p50_ms: v["p50_ms"].as_f64().unwrap_or(0.0),
                p99_ms: v["p99_ms"].as_f64().unwrap_or(0.0),
                max_ms: v["max_ms"].as_f64().unwrap_or(0.0),
                peak_rss_mib: v["peak_rss_mib"].as_f64(),
                ..Default::default()
            }),
            None => eprintln!("loadgen: cannot read {}", path.display()),
        }
    }

    let budgets = budgets(&results, &references, &args.cohort);
    let markdown = markdown(&results, &references, &budgets);
    println!("{markdown}");
    let doc = json!({
        "label": args.label,
        "generated_at": Utc::now().to_rfc3339(),
        "machine": machine(),
        "config": {
            "concurrency": c,
            "seconds_per_phase": duration.as_secs_f64(),
            "cohort_concurrency": args.cohort_concurrency,
            "storm_concurrency": args.storm_concurrency,
            "patients": args.patients,
            "days": args.days,
            "long_patients": args.long_patients,
            "long_days": args.long_days,
        },
        "seed": {
            "patients": patients.len() + long.len(),
            "diary_rows": rows + long_rows,
            "seconds": round(seed_seconds, 1),
        },
        "phases": results.iter().map(PhaseResult::to_json).collect::<Vec<_>>(),
        "references": references.iter().map(PhaseResult::to_json).collect::<Vec<_>>(),
        "budgets": budgets.iter().map(|b| json!({"budget": b.0, "measured": b.1, "met": b.2})).collect::<Vec<_>>(),
    });
    for path in [&args.out_json, &args.out_md] {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    std::fs::write(
        &args.out_json,
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
    )
    .map_err(|e| format!("{}: {e}", args.out_json.display()))?;
    std::fs::write(&args.out_md, markdown + "\n")
        .map_err(|e| format!("{}: {e}", args.out_md.display()))?;
    eprintln!(
        "wrote {} and {}",
        args.out_json.display(),
        args.out_md.display()
    );
    Ok(())
}

/// Reads `LABEL=results.json` runs and writes their phases and budgets side by side.
fn compare(runs: &[String], out_md: &std::path::Path) -> Result<(), String> {
    let mut docs = Vec::new();
    for spec in runs {
        let (label, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--run {spec}: expected LABEL=PATH"))?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        docs.push((label.to_owned(), doc));
    }
    let rows = |doc: &Value| -> Vec<Value> {
        let mut all: Vec<Value> = doc["references"].as_array().cloned().unwrap_or_default();
        all.extend(doc["phases"].as_array().cloned().unwrap_or_default());
        all
    };
    let mut s = String::from("| phase | conc. |");
    let mut rule = String::from("|---|---:|");
    for (label, _) in &docs {
        s.push_str(&format!(" {label} req/s | p50 ms | p99 ms | RSS MiB |"));
        rule.push_str("---:|---:|---:|---:|");
    }
    s.push('\n');
    s.push_str(&rule);
    s.push('\n');
    let first = docs.first().map(|(_, d)| rows(d)).unwrap_or_default();
    for phase in &first {
        let name = phase["name"].as_str().unwrap_or("");
        s.push_str(&format!(
            "| {} | {} |",
            name.replace('|', "\\|"),
            phase["concurrency"]
        ));
        for (_, doc) in &docs {
            let other = rows(doc)
                .into_iter()
                .find(|r| r["name"].as_str() == Some(name));
            match other {
                Some(r) => s.push_str(&format!(
                    " {:.0} | {:.2} | {:.2} | {} |",
                    r["requests_per_s"].as_f64().unwrap_or(0.0),
                    r["p50_ms"].as_f64().unwrap_or(0.0),
                    r["p99_ms"].as_f64().unwrap_or(0.0),
                    r["peak_rss_mib"]
                        .as_f64()
                        .map_or("-".into(), |m| format!("{m:.1}"))
                )),
                None => s.push_str(" - | - | - | - |"),
            }
        }
        s.push('\n');
    }
    s.push_str("\n| budget |");
    let mut rule = String::from("|---|");
    for (label, _) in &docs {
        s.push_str(&format!(" {label} | met |"));
        rule.push_str("---|---|");
    }
    s.push('\n');
    s.push_str(&rule);
    s.push('\n');
    let budgets = docs
        .first()
        .and_then(|(_, d)| d["budgets"].as_array().cloned())
        .unwrap_or_default();
    for b in &budgets {
        let name = b["budget"].as_str().unwrap_or("");
        s.push_str(&format!("| {name} |"));
        for (_, doc) in &docs {
            let other = doc["budgets"]
                .as_array()
                .and_then(|all| all.iter().find(|o| o["budget"].as_str() == Some(name)));
            let (m, ok) = match other {
                Some(o) => (
                    o["measured"].as_str().unwrap_or("-").to_owned(),
                    match o["met"].as_bool() {
                        Some(true) => "yes",
                        Some(false) => "**no**",
                        None => "not measured",
                    },
                ),
                None => ("-".into(), "not measured"),
            };
            s.push_str(&format!(" {} | {ok} |", m.replace('|', "\\|")));
        }
        s.push('\n');
    }
    for (label, doc) in &docs {
        s.push_str(&format!(
            "\n{label}: {}\n",
            doc["label"].as_str().unwrap_or("")
        ));
    }
    println!("{s}");
    std::fs::write(out_md, s).map_err(|e| format!("{}: {e}", out_md.display()))
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu": cpu,
    })
}

fn find<'a>(results: &'a [PhaseResult], prefix: &str) -> Option<&'a PhaseResult> {
    results.iter().find(|r| r.name.starts_with(prefix))
}

/// Throughput before issue 15 (README, Performance: this machine, 32 connections), which the
/// read budgets are multiples of.
const BEFORE_RPS: [(&str, &str, f64); 3] = [
    ("90-day range", "GET …/diary?from&to (90 days)", 1381.0),
    (
        "treatment summary",
        "GET …/treatments/{tid}/summary (2 y history)",
        2426.0,
    ),
    ("year by month", "GET …/summary (1 y by month)", 1046.0),
];

/// `(budget, measured, met)`; `met` is `None` when a phase needed for it did not run.
fn budgets(
    results: &[PhaseResult],
    references: &[PhaseResult],
    cohort: &[String],
) -> Vec<(String, String, Option<bool>)> {
    let mut out = Vec::new();
    let mut push = |budget: String, measured: Option<(String, bool)>| match measured {
        Some((m, ok)) => out.push((budget, m, Some(ok))),
        None => out.push((budget, "-".into(), None)),
    };
    let health = find(results, "GET /health/live");
    let hello = find(references, "reference: bare axum");
    push(
        "/health/live ≥ 60 % of bare axum".into(),
        match (health, hello) {
            (Some(h), Some(r)) if r.rps > 0.0 => Some((
                format!("{:.0} %", 100.0 * h.rps / r.rps),
                h.rps >= 0.6 * r.rps,
            )),
            _ => None,
        },
    );
    let put = find(results, "PUT ");
    let raw = find(references, "reference: raw diary");
    push(
        "diary PUT at 32 writers ≥ 300 % of the raw commit rate, 0 errors".into(),
        match (put, raw) {
            (Some(p), Some(r)) if r.rps > 0.0 => Some((
                format!("{:.0} %, {} errors", 100.0 * p.rps / r.rps, p.errors),
                p.rps >= 3.0 * r.rps && p.errors == 0,
            )),
            _ => None,
        },
    );
    for label in ["2 y", "10 y"] {
        let s = find(
            results,
            &format!("GET …/treatments/{{tid}}/summary ({label} history, 1 at a time"),
        );
        push(
            format!("treatment summary p50 ≤ 0.25 ms ({label} history, 1 at a time)"),
            s.map(|s| (format!("{:.2} ms", s.p50_ms), s.p50_ms <= 0.25)),
        );
    }
    for (what, prefix, before) in BEFORE_RPS {
        let r = results
            .iter()
            .find(|r| r.name.starts_with(prefix) && !r.name.contains("1 at a time"));
        push(
            format!("{what} at 32 connections ≥ 3× {before:.0} req/s"),
            r.map(|r| {
                (
                    format!("{:.0} req/s ({:.1}×)", r.rps, r.rps / before),
                    r.rps >= 3.0 * before,
                )
            }),
        );
    }
    let panel = results
        .iter()
        .find(|r| r.name.starts_with("GET /v1/patients?limit=200 (") && r.concurrency == 1);
    push(
        "patient list, first 200 of 1,000 linked, 1 at a time, p50 ≤ 10 ms".into(),
        panel.map(|r| (format!("{:.1} ms", r.p50_ms), r.p50_ms <= 10.0)),
    );
    let cohorts: Vec<(f64, &PhaseResult)> = cohort
        .iter()
        .filter_map(|spec| {
            let years: f64 = spec.split_once('=')?.0.parse().ok()?;
            let r = find(
                results,
                &format!("GET /v1/cohort/summary ({} ", spec.split_once('=')?.0),
            )?;
            Some((years, r))
        })
        .collect();
    for (years, limit) in [(1000.0, 20.0), (10000.0, 150.0)] {
        let r = cohorts.iter().find(|(y, _)| (*y - years).abs() < 0.5);
        push(
            format!("cohort over {years:.0} patient-years p50 ≤ {limit:.0} ms"),
            r.map(|(_, r)| (format!("{:.1} ms", r.p50_ms), r.p50_ms <= limit)),
        );
    }
    if cohorts.len() >= 2 {
        let (y0, r0) = cohorts[0];
        let (y1, r1) = cohorts[cohorts.len() - 1];
        let per0 = r0.p50_ms / y0;
        let per1 = r1.p50_ms / y1;
        push(
            "cohort time grows at most linearly (p50 per patient-year, largest vs smallest ≤ 1.5×)"
                .into(),
            Some((
                format!("{per0:.3} ms/py at {y0}, {per1:.3} ms/py at {y1}"),
                per1 <= 1.5 * per0,
            )),
        );
    }
    let worst = results
        .iter()
        .filter_map(|r| r.peak_rss_mib.map(|m| (m, r)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    push(
        "server RSS ≤ 64 MiB in every phase".into(),
        worst.map(|(m, r)| (format!("max {m:.1} MiB ({})", r.name), m <= 64.0)),
    );
    let read = find(results, "GET …/diary?from&to");
    let storm = find(results, "GET …/diary (90 d) during login storm");
    if let (Some(a), Some(b)) = (read, storm) {
        push(
            "diary read p99 during login storm ≤ 2× without".into(),
            Some((
                format!(
                    "{:.2} ms vs {:.2} ms ({:.2}×)",
                    b.p99_ms,
                    a.p99_ms,
                    b.p99_ms / a.p99_ms
                ),
                b.p99_ms <= 2.0 * a.p99_ms,
            )),
        );
    }
    out
}

fn markdown(
    results: &[PhaseResult],
    references: &[PhaseResult],
    budgets: &[(String, String, Option<bool>)],
) -> String {
    let mut s = String::new();
    s.push_str("| phase | conc. | requests/s | p50 ms | p99 ms | errors | peak RSS MiB |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for r in references.iter().chain(results) {
        s.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} |\n",
            r.name.replace('|', "\\|"),
            r.concurrency,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.peak_rss_mib.map_or("-".into(), |m| format!("{m:.1}"))
        ));
    }
    s.push_str("\n| budget | measured | met |\n|---|---|---|\n");
    for (b, m, ok) in budgets {
        let ok = match ok {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        s.push_str(&format!("| {b} | {m} | {ok} |\n"));
    }
    s
}
