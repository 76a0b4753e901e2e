//! A small in-memory limiter for password guessing: after too many failed logins for one email
//! within a window, further attempts get 429 with `Retry-After` until the window ends.
//! Per process; behind several instances, each keeps its own count (documented in README).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// The map never holds more keys than this; old windows are dropped first.
const MAX_TRACKED: usize = 100_000;

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when `key` is locked out.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((count, start))
                if *count >= self.max_failures && now.duration_since(*start) < self.window =>
            {
                let left = self.window.saturating_sub(now.duration_since(*start));
                Err(left.as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            let window = self.window;
            map.retain(|_, (_, start)| now.duration_since(*start) < window);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_unlocks_after_window() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("a@x.org", t0).is_ok());
            limiter.record_failure("a@x.org", t0);
        }
        let wait = limiter.check("a@x.org", t0).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("b@x.org", t0).is_ok());
        assert!(limiter
            .check("a@x.org", t0 + Duration::from_secs(61))
            .is_ok());
    }

    #[test]
    fn success_clears_the_count() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        limiter.record_failure("a", t0);
        limiter.record_success("a");
        limiter.record_failure("a", t0);
        assert!(limiter.check("a", t0).is_ok());
    }
}
