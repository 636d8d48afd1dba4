//! Failed admin logins slow down: per client address and per user name, the first
//! [`FREE_FAILURES`] failures in a quarter of an hour cost nothing, then each further attempt
//! must wait twice as long as the last (1 s, 2 s, 4 s … up to 5 minutes). A success clears the
//! name's and the address's record.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures allowed before waits begin.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// After this long without a failure, the count starts again.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The failure records, by key (`ip:…` or `user:…`).
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<String, Failures>>>,
}

impl LoginThrottle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long `keys` must still wait before another attempt (the longest of them), if at all.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        self.wait_at(keys, Instant::now())
    }

    fn wait_at(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let map = self.map();
        keys.iter()
            .filter_map(|key| map.get(key))
            .filter(|f| f.count >= FREE_FAILURES && now.saturating_duration_since(f.last) < FORGET_AFTER)
            .filter_map(|f| {
                let wait = Duration::from_secs(1u64 << (f.count - FREE_FAILURES).min(16)).min(MAX_WAIT);
                (f.last + wait).checked_duration_since(now).filter(|d| !d.is_zero())
            })
            .max()
    }

    /// Records a failed attempt for every key.
    pub fn failed(&self, keys: &[String]) {
        self.failed_at(keys, Instant::now());
    }

    fn failed_at(&self, keys: &[String], now: Instant) {
        let mut map = self.map();
        map.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
        for key in keys {
            let entry = map.entry(key.clone()).or_insert(Failures { count: 0, last: now });
            entry.count += 1;
            entry.last = now;
        }
    }

    /// Clears the keys' records after a success.
    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.map();
        for key in keys {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_begin_after_the_free_failures_and_double() {
        let throttle = LoginThrottle::default();
        let keys = ["ip:10.0.0.1".to_string(), "user:ana".to_string()];
        let start = Instant::now();
        for i in 0..FREE_FAILURES {
            assert_eq!(throttle.wait_at(&keys, start), None, "failure {i} is free");
            throttle.failed_at(&keys, start);
        }
        assert_eq!(throttle.wait_at(&keys, start), Some(Duration::from_secs(1)));
        throttle.failed_at(&keys, start);
        assert_eq!(throttle.wait_at(&keys, start), Some(Duration::from_secs(2)));
        assert_eq!(throttle.wait_at(&keys, start + Duration::from_secs(2)), None, "waited enough");
        // The same user from another address waits too; another user from another address does not.
        assert!(throttle.wait_at(&["ip:10.9.9.9".into(), "user:ana".into()], start).is_some());
        assert_eq!(throttle.wait_at(&["ip:10.9.9.9".into(), "user:bob".into()], start), None);
        throttle.succeeded(&keys);
        assert_eq!(throttle.wait_at(&keys, start), None, "a success clears the record");
    }

    #[test]
    fn waits_are_capped_and_old_failures_forgotten() {
        let throttle = LoginThrottle::default();
        let keys = ["user:ana".to_string()];
        let start = Instant::now();
        for _ in 0..40 {
            throttle.failed_at(&keys, start);
        }
        assert_eq!(throttle.wait_at(&keys, start), Some(MAX_WAIT));
        assert_eq!(throttle.wait_at(&keys, start + FORGET_AFTER), None);
    }
}
