//! Prometheus counters, hand-written: a handful of atomics rendered in the text exposition format.
//! Labels are fixed enums, never user input, so the output cannot be injected into.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub posts_ingested: AtomicU64,
    pub posts_flagged: AtomicU64,
    pub posts_rejected: AtomicU64,
    pub verdicts_confirmed: AtomicU64,
    pub verdicts_dismissed: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub logins_limited: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (labels, v) in rows {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        counter(
            "patroli_posts_ingested_total",
            "Posts accepted by the ingest API (new, unchanged or new version).",
            &[("", g(&self.posts_ingested))],
        );
        counter(
            "patroli_posts_flagged_total",
            "Ingested posts the screening flagged.",
            &[("", g(&self.posts_flagged))],
        );
        counter(
            "patroli_posts_rejected_total",
            "Posts rejected by the ingest API (invalid input).",
            &[("", g(&self.posts_rejected))],
        );
        counter(
            "patroli_verdicts_total",
            "Verdicts recorded by reviewers.",
            &[
                ("{verdict=\"confirmed\"}", g(&self.verdicts_confirmed)),
                ("{verdict=\"dismissed\"}", g(&self.verdicts_dismissed)),
            ],
        );
        counter(
            "patroli_logins_total",
            "Log-in attempts by outcome.",
            &[
                ("{outcome=\"success\"}", g(&self.logins_ok)),
                ("{outcome=\"failure\"}", g(&self.logins_failed)),
                ("{outcome=\"rate_limited\"}", g(&self.logins_limited)),
            ],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_in_text_format() {
        let m = Metrics::default();
        Metrics::add(&m.posts_ingested, 5);
        Metrics::add(&m.verdicts_dismissed, 2);
        let text = m.render();
        assert!(text.contains("# TYPE patroli_posts_ingested_total counter"));
        assert!(text.contains("\npatroli_posts_ingested_total 5\n"));
        assert!(text.contains("patroli_verdicts_total{verdict=\"dismissed\"} 2"));
    }
}
