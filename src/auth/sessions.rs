//! Sessions that end at once, on every instance, without a query per request.
//!
//! Each access token names its session (`sid`). Every authenticated request asks
//! [`Sessions::authorize`] whether that session is still live and whether the account still
//! has the token's role. The answer comes from an in-process cache (a hash-map read: no
//! query); a miss reads the session and account rows once and caches the result, good or bad.
//!
//! The cache is kept exact rather than aged out:
//! - A change that ends sessions (logout, password change or reset, account deletion) is
//!   written in a transaction that also announces it; this instance drops the affected entries
//!   before and after the commit, and a global generation counter stops a read that raced with
//!   the change from caching what it saw before.
//! - On PostgreSQL, several instances may share the database. The announcement is a `NOTIFY`
//!   in the same transaction, so every instance's listener receives it exactly when the change
//!   commits. Each listener drops its entries and acknowledges with a `NOTIFY` of its own; the
//!   instance that made the change answers its client only once every listener connected to
//!   the database (found in `pg_stat_activity` by `application_name`) has acknowledged, or
//!   after [`ACK_TIMEOUT`] with a warning naming the silent ones. So when a logout on A has
//!   answered, B refuses the token: "at once", not "after a TTL".
//! - An instance whose listener is not connected (start-up, lost connection) does not trust
//!   its cache: every request reads the rows until the listener is back, and the cache is
//!   cleared when it is, because notifications sent meanwhile are lost.
//!
//! The same cache, kept exact the same way, answers the two questions every per-patient request
//! asks before it reads anything: the patient's account (role, time zone) and whether a
//! clinician caller is linked to that patient ([`Sessions::patient_account`],
//! [`Sessions::is_linked`]). Unlinking a clinician, changing a profile and deleting an account
//! announce their change like a logout does, so a clinician refused on one instance is refused
//! on every instance when the unlink answers.
//!
//! The price is paid by the rare session-ending request (a NOTIFY and a round of
//! acknowledgements, a few milliseconds), not by the reads. On SQLite there is one instance per
//! database file by construction (the write gate is in-process), so local invalidation is
//! exact and no listener runs.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::tokens::Claims;
use super::{AuthUser, Role};
use crate::domain::{PatientId, UserId};
use crate::error::ApiError;
use crate::store::care;
use crate::store::sessions as session_rows;
use crate::store::users::{self, Account};

/// Channel of the announcements `<origin>:<nonce>:<s|u>:<id>`.
const CHANNEL: &str = "md_sessions";
/// Channel of the acknowledgements `<nonce>:<instance>`.
const ACK_CHANNEL: &str = "md_session_acks";
/// `application_name` prefix of the listener connections.
const LISTENER_APP: &str = "md-sessions:";
/// How long a session-ending request waits for the other instances' acknowledgements.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(2);
/// Beyond this many cached sessions the cache starts afresh (bounded memory).
const MAX_CACHED: usize = 100_000;

/// What ended or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionChange {
    /// One session (logout, refresh-token re-use).
    Ended(Uuid),
    /// Every session of an account, or the account itself (password, deletion, role): also
    /// its cached account and every cached link of it.
    Account(Uuid),
    /// An account's profile (time zone, display name): its cached account.
    Profile(Uuid),
    /// A patient unlinked a clinician: that cached link.
    Unlinked { patient: Uuid, clinician: Uuid },
}

impl SessionChange {
    fn encode(self) -> String {
        match self {
            Self::Ended(id) => format!("s:{id}"),
            Self::Account(id) => format!("u:{id}"),
            Self::Profile(id) => format!("p:{id}"),
            Self::Unlinked { patient, clinician } => format!("l:{patient}:{clinician}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once(':')?;
        if kind == "l" {
            let (patient, clinician) = rest.split_once(':')?;
            return Some(Self::Unlinked {
                patient: patient.parse().ok()?,
                clinician: clinician.parse().ok()?,
            });
        }
        let id = rest.parse().ok()?;
        match kind {
            "s" => Some(Self::Ended(id)),
            "u" => Some(Self::Account(id)),
            "p" => Some(Self::Profile(id)),
            _ => None,
        }
    }
}

/// What `require_patient_access` reads on every per-patient request.
#[derive(Debug, Default)]
struct AccessCache {
    /// Accounts by id, without their password hash (an access check never needs it).
    accounts: HashMap<Uuid, Arc<Account>>,
    /// (patient, clinician) pairs that are linked. Only links are cached, never their
    /// absence, so a new link needs no announcement.
    links: HashSet<(Uuid, Uuid)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CachedSession {
    user_id: Uuid,
    role: Option<Role>,
    live: bool,
}

/// Counters for measuring what the per-request check costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug, Default)]
struct AckWaiter {
    acked: HashSet<String>,
    notify: Arc<Notify>,
}

#[derive(Debug)]
struct Inner {
    instance: Uuid,
    cache: RwLock<HashMap<Uuid, CachedSession>>,
    access: RwLock<AccessCache>,
    /// Bumped by every invalidation; a miss caches its read only if it did not move.
    generation: AtomicU64,
    /// Whether the cache may be trusted (always on SQLite; on PostgreSQL while listening).
    trusted: AtomicBool,
    trusted_tx: watch::Sender<bool>,
    acks: Mutex<HashMap<Uuid, AckWaiter>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The session cache and its coordination with other instances. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Sessions {
    inner: Arc<Inner>,
    db: DatabaseConnection,
}

/// An announced change whose transaction has not committed yet (see [`Sessions::announce`]).
#[must_use = "call Sessions::settle after the commit"]
pub struct Announcement {
    nonce: Option<Uuid>,
    changes: Vec<SessionChange>,
    inner: Arc<Inner>,
}

impl Drop for Announcement {
    fn drop(&mut self) {
        if let Some(nonce) = self.nonce {
            lock(&self.inner.acks).remove(&nonce);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}

fn session_ended() -> ApiError {
    ApiError::Unauthorized("This session has ended; log in again.".into())
}

impl Inner {
    fn invalidate(&self, changes: &[SessionChange]) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut cache = write(&self.cache);
        let mut access = write(&self.access);
        for change in changes {
            match *change {
                SessionChange::Ended(sid) => {
                    cache.remove(&sid);
                }
                SessionChange::Account(user) => {
                    cache.retain(|_, s| s.user_id != user);
                    access.accounts.remove(&user);
                    access
                        .links
                        .retain(|(patient, clinician)| *patient != user && *clinician != user);
                }
                SessionChange::Profile(user) => {
                    access.accounts.remove(&user);
                }
                SessionChange::Unlinked { patient, clinician } => {
                    access.links.remove(&(patient, clinician));
                }
            }
        }
    }

    /// As [`Inner::remember`], for the access cache.
    fn remember_access(&self, generation: u64, add: impl FnOnce(&mut AccessCache)) -> bool {
        let mut access = write(&self.access);
        if self.generation.load(Ordering::Acquire) != generation {
            return false;
        }
        if access.accounts.len() >= MAX_CACHED || access.links.len() >= MAX_CACHED {
            *access = AccessCache::default();
        }
        add(&mut access);
        true
    }

    /// Caches what a read found, unless an invalidation happened since the read began at
    /// `generation` (then it may be stale). Returns whether it was cached.
    fn remember(&self, sid: Uuid, session: CachedSession, generation: u64) -> bool {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return false;
        }
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(sid, session);
        true
    }

    fn cached(&self, sid: Uuid) -> Option<CachedSession> {
        self.cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&sid)
            .copied()
    }

    fn set_trusted(&self, trusted: bool) {
        // Whatever was cached before may have missed notifications: start afresh either way.
        self.generation.fetch_add(1, Ordering::AcqRel);
        write(&self.cache).clear();
        *write(&self.access) = AccessCache::default();
        self.trusted.store(trusted, Ordering::Release);
        self.trusted_tx.send_replace(trusted);
    }
}

impl Sessions {
    /// The cache for `db`; on PostgreSQL also starts the listener (inside a Tokio runtime).
    pub fn new(db: DatabaseConnection) -> Self {
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let (trusted_tx, _) = watch::channel(!postgres);
        let inner = Arc::new(Inner {
            instance: Uuid::new_v4(),
            cache: RwLock::new(HashMap::new()),
            access: RwLock::default(),
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(!postgres),
            trusted_tx,
            acks: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let sessions = Self { inner, db };
        if postgres {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(listen(sessions.clone()));
                }
                Err(_) => tracing::warn!(
                    "no async runtime: session cache disabled, every request reads its session"
                ),
            }
        }
        sessions
    }

    /// Waits until the cache is trusted (the listener is subscribed), at most `timeout`.
    /// Serving does not need this (untrusted means "read the rows"); tests use it so that
    /// what they measure is the steady state.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let mut rx = self.inner.trusted_tx.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|t| *t))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
        }
    }

    /// The caller, if the token's session is live and the account still has the token's role.
    pub async fn authorize(&self, claims: &Claims) -> Result<AuthUser, ApiError> {
        let inner = &self.inner;
        let trusted = inner.trusted.load(Ordering::Acquire);
        let cached = trusted.then(|| inner.cached(claims.sid)).flatten();
        let session = match cached {
            Some(s) => {
                inner.hits.fetch_add(1, Ordering::Relaxed);
                s
            }
            None => {
                inner.misses.fetch_add(1, Ordering::Relaxed);
                self.load(claims.sid, trusted).await?
            }
        };
        let valid =
            session.live && session.user_id == claims.sub && session.role == Some(claims.role);
        if valid {
            Ok(AuthUser {
                id: UserId(claims.sub),
                role: claims.role,
            })
        } else {
            Err(session_ended())
        }
    }

    async fn load(&self, sid: Uuid, trusted: bool) -> Result<CachedSession, ApiError> {
        let inner = &self.inner;
        let generation = inner.generation.load(Ordering::Acquire);
        let row = session_rows::lookup(&self.db, sid).await?;
        let session = match row {
            Some(r) => CachedSession {
                user_id: r.user_id,
                role: Some(r.role),
                live: r.live,
            },
            None => CachedSession {
                user_id: Uuid::nil(),
                role: None,
                live: false,
            },
        };
        if trusted {
            inner.remember(sid, session, generation);
        }
        Ok(session)
    }

    /// Whether `clinician` is linked to `patient`: from the cache while it is trusted, else
    /// (and on a miss) from the database.
    pub async fn is_linked(
        &self,
        patient: PatientId,
        clinician: UserId,
    ) -> Result<bool, sea_orm::DbErr> {
        let inner = &self.inner;
        let trusted = inner.trusted.load(Ordering::Acquire);
        let key = (patient.0, clinician.0);
        if trusted && read(&inner.access).links.contains(&key) {
            return Ok(true);
        }
        let generation = inner.generation.load(Ordering::Acquire);
        let linked = care::is_linked(&self.db, patient, clinician).await?;
        if linked && trusted {
            inner.remember_access(generation, |a| {
                a.links.insert(key);
            });
        }
        Ok(linked)
    }

    /// The account `id` (any role), without its password hash: from the cache while it is
    /// trusted, else (and on a miss) from the database.
    pub async fn account(&self, id: UserId) -> Result<Option<Account>, sea_orm::DbErr> {
        let inner = &self.inner;
        let trusted = inner.trusted.load(Ordering::Acquire);
        if trusted {
            if let Some(account) = read(&inner.access).accounts.get(&id.0) {
                return Ok(Some(Account::clone(account)));
            }
        }
        let generation = inner.generation.load(Ordering::Acquire);
        let Some(mut account) = users::find_by_id(&self.db, id).await? else {
            return Ok(None);
        };
        account.password_hash = String::new();
        if trusted {
            let cached = Arc::new(account.clone());
            inner.remember_access(generation, |a| {
                a.accounts.insert(id.0, cached);
            });
        }
        Ok(Some(account))
    }

    /// Announces `changes` inside the transaction `txn` that makes them, and drops them from
    /// this instance's cache. Commit, then pass the result to [`Sessions::settle`].
    pub async fn announce(
        &self,
        txn: &impl ConnectionTrait,
        changes: &[SessionChange],
    ) -> Result<Announcement, ApiError> {
        let mut announcement = Announcement {
            nonce: None,
            changes: changes.to_vec(),
            inner: Arc::clone(&self.inner),
        };
        if txn.get_database_backend() == DbBackend::Postgres {
            let nonce = Uuid::new_v4();
            lock(&self.inner.acks).insert(nonce, AckWaiter::default());
            announcement.nonce = Some(nonce);
            for change in changes {
                let payload = format!("{}:{nonce}:{}", self.inner.instance, change.encode());
                session_rows::notify(txn, CHANNEL, &payload).await?;
            }
        }
        self.inner.invalidate(changes);
        Ok(announcement)
    }

    /// After the commit: drops the entries again (a read may have cached the old state in
    /// between) and waits until every other instance has dropped them too.
    pub async fn settle(&self, announcement: Announcement) {
        self.inner.invalidate(&announcement.changes);
        let Some(nonce) = announcement.nonce else {
            return;
        };
        if !self.inner.trusted.load(Ordering::Acquire) {
            // Our listener is down, so acknowledgements cannot reach us; the others heard
            // the change at commit all the same.
            tracing::warn!("session listener down: not waiting for other instances");
            return;
        }
        let others = match session_rows::connected_applications(&self.db, LISTENER_APP).await {
            Ok(names) => names
                .into_iter()
                .filter_map(|n| n.strip_prefix(LISTENER_APP).map(str::to_owned))
                .filter(|id| *id != self.inner.instance.to_string())
                .collect::<HashSet<_>>(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list session listeners; not waiting for them");
                return;
            }
        };
        let all_acked = || {
            lock(&self.inner.acks)
                .get(&nonce)
                .is_none_or(|w| others.iter().all(|o| w.acked.contains(o)))
        };
        let notify = lock(&self.inner.acks)
            .get(&nonce)
            .map(|w| Arc::clone(&w.notify));
        let wait = async {
            let Some(notify) = notify else { return };
            loop {
                let notified = notify.notified();
                tokio::pin!(notified);
                // Registered before the check, so an ack between the two is not missed.
                notified.as_mut().enable();
                if all_acked() {
                    return;
                }
                notified.await;
            }
        };
        let started = std::time::Instant::now();
        if tokio::time::timeout(ACK_TIMEOUT, wait).await.is_ok() {
            tracing::debug!(
                instances = others.len(),
                wait_us = started.elapsed().as_micros() as u64,
                "session change acknowledged by every instance"
            );
        } else {
            let acks = lock(&self.inner.acks);
            let missing: Vec<&String> = others
                .iter()
                .filter(|o| acks.get(&nonce).is_none_or(|w| !w.acked.contains(*o)))
                .collect();
            tracing::warn!(
                ?missing,
                "session change not acknowledged by every instance"
            );
        }
        drop(announcement);
    }

    /// Applies one notification received by the listener.
    async fn on_notification(&self, channel: &str, payload: &str) {
        let inner = &self.inner;
        if channel == ACK_CHANNEL {
            let Some((nonce, from)) = payload.split_once(':') else {
                return;
            };
            let Ok(nonce) = nonce.parse::<Uuid>() else {
                return;
            };
            if let Some(waiter) = lock(&inner.acks).get_mut(&nonce) {
                waiter.acked.insert(from.to_owned());
                waiter.notify.notify_waiters();
            }
            return;
        }
        let mut parts = payload.splitn(3, ':');
        let (Some(origin), Some(nonce), Some(change)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let Some(change) = SessionChange::decode(change) else {
            return;
        };
        if origin == inner.instance.to_string() {
            return;
        }
        inner.invalidate(&[change]);
        let ack = format!("{nonce}:{}", inner.instance);
        if let Err(e) = session_rows::notify(&self.db, ACK_CHANNEL, &ack).await {
            tracing::warn!(error = %e, "cannot acknowledge a session change");
        }
    }
}

/// The PostgreSQL listener: subscribes, trusts the cache while subscribed, applies what it
/// hears, and on any trouble distrusts the cache and reconnects.
async fn listen(sessions: Sessions) {
    use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
    let inner = Arc::clone(&sessions.inner);
    let options = (*sessions.db.get_postgres_connection_pool().connect_options())
        .clone()
        .application_name(&format!("{LISTENER_APP}{}", inner.instance));
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    loop {
        let subscribed = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen_all([CHANNEL, ACK_CHANNEL]).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        let mut listener = match subscribed {
            Ok(l) => l,
            Err(e) => {
                inner.set_trusted(false);
                tracing::warn!(error = %e, "session listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        inner.set_trusted(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => sessions.on_notification(n.channel(), n.payload()).await,
                // Lost and already re-established: what was sent in between is lost.
                Ok(None) => inner.set_trusted(true),
                Err(e) => {
                    inner.set_trusted(false);
                    tracing::warn!(error = %e, "session listener lost its connection");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner() -> Inner {
        let (trusted_tx, _) = watch::channel(true);
        Inner {
            instance: Uuid::new_v4(),
            cache: RwLock::new(HashMap::new()),
            access: RwLock::default(),
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(true),
            trusted_tx,
            acks: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn live(user_id: Uuid) -> CachedSession {
        CachedSession {
            user_id,
            role: Some(Role::Patient),
            live: true,
        }
    }

    #[test]
    fn a_read_that_raced_with_an_invalidation_is_not_cached() {
        let inner = inner();
        let (sid, user) = (Uuid::now_v7(), Uuid::now_v7());
        // The read began, then the session ended (on this or another instance) ...
        let began = inner.generation.load(Ordering::Acquire);
        inner.invalidate(&[SessionChange::Ended(sid)]);
        // ... so what the read saw (still live) must not be remembered.
        assert!(!inner.remember(sid, live(user), began));
        assert_eq!(inner.cached(sid), None);
        let now = inner.generation.load(Ordering::Acquire);
        assert!(inner.remember(sid, live(user), now));
        assert_eq!(inner.cached(sid), Some(live(user)));
    }

    #[test]
    fn an_account_change_drops_every_session_of_that_account_only() {
        let inner = inner();
        let (ana, ben) = (Uuid::now_v7(), Uuid::now_v7());
        let sids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        for (sid, user) in sids.iter().zip([ana, ana, ben]) {
            let g = inner.generation.load(Ordering::Acquire);
            assert!(inner.remember(*sid, live(user), g));
        }
        inner.invalidate(&[SessionChange::Account(ana)]);
        assert_eq!(inner.cached(sids[0]), None);
        assert_eq!(inner.cached(sids[1]), None);
        assert_eq!(inner.cached(sids[2]), Some(live(ben)));
        inner.invalidate(&[SessionChange::Ended(sids[2])]);
        assert_eq!(inner.cached(sids[2]), None);
    }

    #[test]
    fn losing_the_listener_empties_the_cache() {
        let inner = inner();
        let sid = Uuid::now_v7();
        assert!(inner.remember(sid, live(Uuid::now_v7()), 0));
        inner.set_trusted(false);
        assert_eq!(inner.cached(sid), None);
        assert!(!inner.trusted.load(Ordering::Acquire));
    }

    fn cache_access(inner: &Inner, patient: Uuid, clinician: Uuid) {
        let g = inner.generation.load(Ordering::Acquire);
        assert!(inner.remember_access(g, |a| {
            a.links.insert((patient, clinician));
            a.accounts.insert(patient, Arc::new(account(patient)));
        }));
    }

    fn account(id: Uuid) -> Account {
        Account {
            id: UserId(id),
            email: String::new(),
            password_hash: String::new(),
            role: Role::Patient,
            display_name: None,
            timezone: crate::domain::TimeZone::parse("UTC").expect("UTC"),
            created_at: chrono::Utc::now(),
        }
    }

    fn linked(inner: &Inner, patient: Uuid, clinician: Uuid) -> bool {
        read(&inner.access).links.contains(&(patient, clinician))
    }

    fn has_account(inner: &Inner, id: Uuid) -> bool {
        read(&inner.access).accounts.contains_key(&id)
    }

    #[test]
    fn each_access_change_drops_exactly_what_it_changed() {
        let inner = inner();
        let (ana, ben, kim, lee) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        for (p, c) in [(ana, kim), (ana, lee), (ben, kim)] {
            cache_access(&inner, p, c);
        }
        inner.invalidate(&[SessionChange::Unlinked {
            patient: ana,
            clinician: kim,
        }]);
        assert!(!linked(&inner, ana, kim));
        assert!(linked(&inner, ana, lee) && linked(&inner, ben, kim));

        inner.invalidate(&[SessionChange::Profile(ana)]);
        assert!(!has_account(&inner, ana) && has_account(&inner, ben));
        assert!(linked(&inner, ana, lee), "a profile change keeps the links");

        // A deleted clinician: every link of theirs; a deleted patient: theirs and the account.
        inner.invalidate(&[SessionChange::Account(kim)]);
        assert!(!linked(&inner, ben, kim) && linked(&inner, ana, lee));
        inner.invalidate(&[SessionChange::Account(ana)]);
        assert!(!linked(&inner, ana, lee));
        assert!(has_account(&inner, ben));
        // Logging out touches no access entry.
        inner.invalidate(&[SessionChange::Ended(Uuid::now_v7())]);
        assert!(has_account(&inner, ben));
    }

    #[test]
    fn an_access_read_that_raced_with_an_unlink_is_not_cached() {
        let inner = inner();
        let (ana, kim) = (Uuid::now_v7(), Uuid::now_v7());
        let began = inner.generation.load(Ordering::Acquire);
        inner.invalidate(&[SessionChange::Unlinked {
            patient: ana,
            clinician: kim,
        }]);
        assert!(!inner.remember_access(began, |a| {
            a.links.insert((ana, kim));
        }));
        assert!(!linked(&inner, ana, kim));
        cache_access(&inner, ana, kim);
        inner.set_trusted(false);
        assert!(!linked(&inner, ana, kim) && !has_account(&inner, ana));
    }

    #[test]
    fn changes_round_trip_through_their_payload() {
        let id = Uuid::now_v7();
        let other = Uuid::now_v7();
        for change in [
            SessionChange::Ended(id),
            SessionChange::Account(id),
            SessionChange::Profile(id),
            SessionChange::Unlinked {
                patient: id,
                clinician: other,
            },
        ] {
            assert_eq!(SessionChange::decode(&change.encode()), Some(change));
        }
        assert_eq!(SessionChange::decode("x:1"), None);
        assert_eq!(SessionChange::decode("s:not-a-uuid"), None);
        assert_eq!(SessionChange::decode(&format!("l:{id}")), None);
    }
}
