//! Failed admin logins slow down. Each attempt counts against two keys: the client's address
//! (its [`ClientAddress::bucket`]: an IPv6 /64 counts as one) and the name *from that address*.
//! A name is never throttled on its own: a stranger who knows the admin's name and hammers it
//! slows only themselves, never the admin signing in from another address.
//!
//! The first [`FREE_FAILURES`] attempts in a quarter of an hour cost nothing, then each further
//! one must wait twice as long as the last (1 s, 2 s, 4 s … up to 5 minutes). An attempt is
//! counted when it is let through — before its password is checked — so a burst of concurrent
//! attempts cannot slip past the count; a success clears the keys' records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::abuse::ClientAddress;

/// Failures allowed before waits begin.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// After this long without a failure, the count starts again.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// The most keys remembered; beyond it the stalest are forgotten (memory stays bounded under a
/// flood from many addresses).
const MAX_KEYS: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The keys an attempt from `client` as `name` counts against.
pub fn keys(client: ClientAddress, name: &str) -> [String; 2] {
    let address = client.bucket();
    [format!("ip:{address}"), format!("user:{name}@{address}")]
}

/// The failure records, by key.
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    failures: Arc<Mutex<HashMap<String, Failures>>>,
}

impl LoginThrottle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets an attempt through and counts it as a failure until [`LoginThrottle::succeeded`]
    /// says otherwise — or, when one of `keys` must still wait, refuses it with how long.
    pub fn attempt(&self, keys: &[String]) -> Result<(), Duration> {
        self.attempt_at(keys, Instant::now())
    }

    fn attempt_at(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let mut map = self.map();
        if let Some(wait) = wait(&map, keys, now) {
            return Err(wait);
        }
        map.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
        while map.len() + keys.len() > MAX_KEYS {
            let Some(stalest) = map.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| k.clone()) else { break };
            map.remove(&stalest);
        }
        for key in keys {
            let entry = map.entry(key.clone()).or_insert(Failures { count: 0, last: now });
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
        Ok(())
    }

    /// How long `keys` must still wait before another attempt, if at all (counts nothing).
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        wait(&self.map(), keys, Instant::now())
    }

    /// Clears the keys' records after a success.
    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.map();
        for key in keys {
            map.remove(key);
        }
    }
}

fn wait(map: &HashMap<String, Failures>, keys: &[String], now: Instant) -> Option<Duration> {
    keys.iter()
        .filter_map(|key| map.get(key))
        .filter(|f| f.count >= FREE_FAILURES && now.saturating_duration_since(f.last) < FORGET_AFTER)
        .filter_map(|f| {
            let wait = Duration::from_secs(1u64 << (f.count - FREE_FAILURES).min(16)).min(MAX_WAIT);
            (f.last + wait).checked_duration_since(now).filter(|d| !d.is_zero())
        })
        .max()
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn from(address: &str, name: &str) -> [String; 2] {
        keys(ClientAddress(address.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}"))), name)
    }

    #[test]
    fn waits_begin_after_the_free_failures_and_double() {
        let throttle = LoginThrottle::default();
        let keys = from("10.0.0.1", "ana");
        let start = Instant::now();
        for i in 0..FREE_FAILURES {
            assert_eq!(throttle.attempt_at(&keys, start), Ok(()), "attempt {i} is free");
        }
        assert_eq!(throttle.attempt_at(&keys, start), Err(Duration::from_secs(1)));
        assert_eq!(throttle.attempt_at(&keys, start + Duration::from_secs(1)), Ok(()), "waited enough");
        assert_eq!(throttle.attempt_at(&keys, start + Duration::from_secs(1)), Err(Duration::from_secs(2)), "then twice as long");
        throttle.succeeded(&keys);
        assert_eq!(throttle.attempt_at(&keys, start + Duration::from_secs(1)), Ok(()), "a success clears the record");
    }

    #[test]
    fn a_strangers_failures_never_lock_the_admin_out_from_another_address() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        let stranger = from("203.0.113.9", "ana");
        for _ in 0..40 {
            let _ = throttle.attempt_at(&stranger, start);
        }
        assert!(throttle.attempt_at(&stranger, start).is_err(), "the stranger waits");
        assert!(throttle.attempt_at(&from("203.0.113.9", "bob"), start).is_err(), "whatever name they try from there");
        assert_eq!(throttle.attempt_at(&from("198.51.100.4", "ana"), start), Ok(()), "the admin elsewhere does not");
        // A stranger spread over one IPv6 /64 is one stranger.
        for host in 1..=FREE_FAILURES {
            let _ = throttle.attempt_at(&from(&format!("2001:db8:0:1::{host}"), "ana"), start);
        }
        assert!(throttle.attempt_at(&from("2001:db8:0:1::ff", "ana"), start).is_err());
    }

    #[test]
    fn waits_are_capped_old_failures_forgotten_and_memory_bounded() {
        let throttle = LoginThrottle::default();
        let keys = from("10.0.0.2", "ana");
        let start = Instant::now();
        for n in 0..40u64 {
            let _ = throttle.attempt_at(&keys, start + MAX_WAIT * u32::try_from(n).unwrap_or(0));
        }
        let last = start + MAX_WAIT * 39;
        assert_eq!(throttle.attempt_at(&keys, last), Err(MAX_WAIT));
        assert_eq!(throttle.attempt_at(&keys, last + FORGET_AFTER), Ok(()));
        for n in 0..(MAX_KEYS as u32) {
            let _ = throttle.attempt_at(&[format!("ip:{n}")], last + FORGET_AFTER);
        }
        assert!(throttle.map().len() <= MAX_KEYS);
    }
}
