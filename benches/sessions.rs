//! What the per-request session check costs: a cached check (every warm request) against the
//! database read it replaces (a request on a session this instance has not seen, or every
//! request if there were no cache). `cargo bench --bench sessions`; set
//! `BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test` to also measure PostgreSQL
//! (a fresh database is created for it).

use chrono::Utc;
use divan::{black_box, Bencher};
use migraine_diary::auth::sessions::Sessions;
use migraine_diary::auth::tokens::{Claims, AUDIENCE, ISSUER};
use migraine_diary::auth::Role;
use migraine_diary::config::DatabaseArgs;
use migraine_diary::domain::TimeZone;
use migraine_diary::store::users::{self, NewUser};
use migraine_diary::store::{sessions, Store};
use sea_orm::{ConnectionTrait, Database};
use tokio::runtime::Runtime;

fn main() {
    divan::main();
}

struct Fixture {
    runtime: Runtime,
    store: Store,
    sessions: Sessions,
    claims: Claims,
    _dir: Option<tempfile::TempDir>,
}

fn fixture(postgres: bool) -> Option<Fixture> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let (url, dir) = if postgres {
        let base = std::env::var("BENCH_POSTGRES_URL").ok()?;
        let name = format!("md_bench_{}", uuid::Uuid::new_v4().simple());
        runtime.block_on(async {
            let admin = Database::connect(&base).await.ok()?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .ok()?;
            Some(())
        })?;
        let (prefix, _) = base.rsplit_once('/')?;
        (format!("{prefix}/{name}"), None)
    } else {
        let dir = tempfile::tempdir().ok()?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
        (url, Some(dir))
    };
    let (store, sessions, claims) = runtime.block_on(async {
        let store = Store::connect_and_migrate(&DatabaseArgs::for_url(url))
            .await
            .ok()?;
        let user = users::create(
            &store.db,
            NewUser {
                email: "ana@example.org".into(),
                password_hash: "!".into(),
                role: Role::Patient,
                display_name: None,
                timezone: TimeZone::UTC,
            },
        )
        .await
        .ok()?;
        let sid = sessions::create(&store.db, user.id).await.ok()?;
        let cache = Sessions::new(store.db.clone());
        cache.ready(std::time::Duration::from_secs(10)).await;
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.0,
            role: Role::Patient,
            sid,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            nbf: now,
            exp: now + 3600,
        };
        cache.authorize(&claims).await.ok()?;
        Some((store, cache, claims))
    })?;
    Some(Fixture {
        runtime,
        store,
        sessions,
        claims,
        _dir: dir,
    })
}

fn cached(bencher: Bencher, postgres: bool) {
    let Some(f) = fixture(postgres) else { return };
    bencher.bench_local(|| {
        f.runtime
            .block_on(f.sessions.authorize(black_box(&f.claims)))
            .is_ok()
    });
}

fn uncached(bencher: Bencher, postgres: bool) {
    let Some(f) = fixture(postgres) else { return };
    bencher.bench_local(|| {
        f.runtime
            .block_on(sessions::lookup(&f.store.db, black_box(f.claims.sid)))
            .is_ok()
    });
}

/// A warm request's check: a hash-map read under a read lock.
#[divan::bench(args = [false, true])]
fn cached_check(bencher: Bencher, postgres: bool) {
    cached(bencher, postgres);
}

/// The reads a check would need without the cache (session row, then account row).
#[divan::bench(args = [false, true])]
fn database_lookup(bencher: Bencher, postgres: bool) {
    uncached(bencher, postgres);
}
