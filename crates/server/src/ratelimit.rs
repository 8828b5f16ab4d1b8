//! In-memory fixed-window rate limiting for log-in attempts, keyed per client address and per user
//! name (so neither rotating user names from one address nor spreading one user name over many
//! addresses escapes it). State lives in this process only: a restart resets it, which is acceptable
//! for slowing down password guessing on a single-instance service.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    buckets: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Count one attempt for every key; `false` when any key is over its limit in this window.
    /// All keys are counted even when one refuses, so an attacker cannot probe which key tripped.
    pub fn check(&self, keys: &[String]) -> bool {
        self.check_at(keys, Instant::now())
    }

    fn check_at(&self, keys: &[String], now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Drop expired windows now and then so the map cannot grow without bound.
        if buckets.len() > 10_000 {
            buckets.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let mut allowed = true;
        for key in keys {
            let entry = buckets.entry(key.clone()).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 = entry.1.saturating_add(1);
            if entry.1 > self.limit {
                allowed = false;
            }
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_resets_after_the_window() {
        let rl = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let keys = |u: &str| vec!["ip:1.2.3.4".to_string(), format!("user:{u}")];
        assert!(rl.check_at(&keys("a"), t0));
        assert!(rl.check_at(&keys("b"), t0));
        assert!(rl.check_at(&keys("c"), t0));
        // Fourth attempt from the same address, whatever the user name.
        assert!(!rl.check_at(&keys("d"), t0));
        // Another address for a fresh user is fine.
        assert!(rl.check_at(&["ip:5.6.7.8".to_string(), "user:e".to_string()], t0));
        // After the window the address may try again.
        assert!(rl.check_at(&keys("f"), t0 + Duration::from_secs(61)));
    }
}
