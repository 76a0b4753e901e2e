//! A request rate per authenticated caller: an in-process token bucket (GCRA, `governor`) keyed
//! by the account id of a verified token. Keys come only from tokens this server signed, so the
//! map grows with real accounts, never with attacker input; idle keys are pruned.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::error::ApiError;

/// Per-caller limiter for authenticated routes.
#[derive(Debug)]
pub struct CallerLimiter {
    limiter: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
}

impl CallerLimiter {
    /// `per_minute` sustained, `burst` at once (both at least 1).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// 429 with `Retry-After` when `caller` has used up their bucket.
    pub fn check(&self, caller: Uuid) -> Result<(), ApiError> {
        self.limiter.check_key(&caller).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    /// Forgets callers whose buckets are full again (they would start afresh anyway).
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Callers currently tracked.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_the_burst_then_429_and_others_are_unaffected() {
        let limiter = CallerLimiter::new(1, 3);
        let ana = Uuid::now_v7();
        for _ in 0..3 {
            assert!(limiter.check(ana).is_ok());
        }
        match limiter.check(ana) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limiter.check(Uuid::now_v7()).is_ok());
        assert_eq!(limiter.len(), 2);
    }
}
