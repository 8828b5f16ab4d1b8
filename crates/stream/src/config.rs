//! Configuration for the JetStream pipeline: server URL, stream and subject names, batch sizes and
//! stream limits. Unknown keys are errors (a typo in a deployment file must not silently fall back to
//! a default), and `Debug` never prints the credentials a NATS URL may carry.

use crate::StreamError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Everything `patroli publish` and `patroli worker` need to agree on.
///
/// The subject fields ending in `.>` are wildcards: the stream captures the whole subtree and the
/// publisher appends one token, the post's platform (`patroli.posts.tokopedia`), so operators can
/// watch or filter one platform's traffic without a second stream.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// `nats://host:4222`, optionally with `user:password@` or `token@`.
    pub url: String,
    /// Name of the work-queue stream holding posts waiting to be screened.
    pub stream_posts: String,
    /// Wildcard subject of that stream; must end in `.>`.
    pub subject_posts: String,
    /// Name of the stream holding screening results and rejected messages.
    pub stream_results: String,
    /// Wildcard subject for results; must end in `.>`. One result per post, under its platform.
    pub subject_results: String,
    /// Where malformed posts go, with the reason and their original sequence.
    pub subject_rejected: String,
    /// Durable pull consumer shared by every worker on every machine.
    pub durable: String,
    /// Posts pulled and screened together by one worker.
    pub batch: usize,
    /// How long an idle worker's pull request waits for new posts before asking again.
    pub fetch_wait_ms: u64,
    /// Publishes awaiting a JetStream acknowledgement at once in `publish_posts`.
    pub publish_window: usize,
    /// Time a worker has to acknowledge a post before JetStream hands it to another worker.
    pub ack_wait_secs: u64,
    /// Unacknowledged posts the consumer allows across all workers.
    pub max_ack_pending: i64,
    /// Delay before a post whose result could not be stored is offered again.
    pub retry_delay_ms: u64,
    /// Posts larger than this are rejected (not screened), in bytes.
    pub max_message_bytes: usize,
    /// Window in which JetStream drops a second copy of the same post or result (Nats-Msg-Id).
    pub duplicate_window_secs: u64,
    /// Size cap of the posts stream; `None` = no cap. When full, new posts are refused (never
    /// dropped silently: the publisher sees the error).
    pub posts_max_bytes: Option<u64>,
    /// How long results are kept; 0 = forever.
    pub results_max_age_secs: u64,
    /// Size cap of the results stream; `None` = no cap. When full, the oldest results go first.
    pub results_max_bytes: Option<u64>,
    /// Stream replicas (1 on a single server, 3 in a cluster).
    pub replicas: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            url: "nats://127.0.0.1:4222".into(),
            stream_posts: "PATROLI_POSTS".into(),
            subject_posts: "patroli.posts.>".into(),
            stream_results: "PATROLI_SCREENED".into(),
            subject_results: "patroli.screened.>".into(),
            subject_rejected: "patroli.rejected".into(),
            durable: "patroli-workers".into(),
            batch: 256,
            fetch_wait_ms: 1000,
            publish_window: 1024,
            ack_wait_secs: 60,
            max_ack_pending: 20_000,
            retry_delay_ms: 1000,
            max_message_bytes: 1024 * 1024,
            duplicate_window_secs: 3600,
            posts_max_bytes: None,
            results_max_age_secs: 30 * 24 * 3600,
            results_max_bytes: None,
            replicas: 1,
        }
    }
}

impl fmt::Debug for StreamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamConfig")
            .field("url", &redact_url(&self.url))
            .field("stream_posts", &self.stream_posts)
            .field("subject_posts", &self.subject_posts)
            .field("stream_results", &self.stream_results)
            .field("subject_results", &self.subject_results)
            .field("subject_rejected", &self.subject_rejected)
            .field("durable", &self.durable)
            .field("batch", &self.batch)
            .field("fetch_wait_ms", &self.fetch_wait_ms)
            .field("publish_window", &self.publish_window)
            .field("ack_wait_secs", &self.ack_wait_secs)
            .field("max_ack_pending", &self.max_ack_pending)
            .field("retry_delay_ms", &self.retry_delay_ms)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("duplicate_window_secs", &self.duplicate_window_secs)
            .field("posts_max_bytes", &self.posts_max_bytes)
            .field("results_max_age_secs", &self.results_max_age_secs)
            .field("results_max_bytes", &self.results_max_bytes)
            .field("replicas", &self.replicas)
            .finish()
    }
}

/// `nats://user:secret@host:4222` -> `nats://***@host:4222`. Also used in log lines and errors.
pub fn redact_url(url: &str) -> String {
    // Several servers may be listed comma-separated; redact each one's user info.
    url.split(',')
        .map(|server| {
            let (scheme, rest) = match server.find("://") {
                Some(i) => server.split_at(i + 3),
                None => ("", server),
            };
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}***{}", &rest[at..]),
                None => server.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl StreamConfig {
    /// Checks names and limits before anything talks to the server, so a bad deployment file fails
    /// at start with a message naming the key.
    pub fn validate(&self) -> Result<(), StreamError> {
        let bad = |key: &str, why: String| Err(StreamError::Config(format!("{key}: {why}")));
        for (key, name) in [
            ("stream_posts", &self.stream_posts),
            ("stream_results", &self.stream_results),
            ("durable", &self.durable),
        ] {
            if name.is_empty()
                || name
                    .chars()
                    .any(|c| c.is_whitespace() || ".*>/\\".contains(c))
            {
                return bad(key, format!("{name:?} is not a valid JetStream name"));
            }
        }
        if self.stream_posts == self.stream_results {
            return bad("stream_results", "must differ from stream_posts".into());
        }
        for (key, subject) in [
            ("subject_posts", &self.subject_posts),
            ("subject_results", &self.subject_results),
        ] {
            if wildcard_prefix(subject).is_none() {
                return bad(
                    key,
                    format!("{subject:?} must be a subject ending in \".>\""),
                );
            }
        }
        if !is_literal_subject(&self.subject_rejected) {
            return bad(
                "subject_rejected",
                format!(
                    "{:?} must be a subject without wildcards",
                    self.subject_rejected
                ),
            );
        }
        let posts = self.posts_prefix();
        let results = self.results_prefix();
        if covers(posts, results) || covers(results, posts) {
            return bad("subject_results", "overlaps subject_posts".into());
        }
        if covers(posts, &self.subject_rejected) {
            // The workers would consume their own rejections.
            return bad(
                "subject_rejected",
                "must not fall under subject_posts".into(),
            );
        }
        if covers(results, &self.subject_rejected) {
            return bad(
                "subject_rejected",
                "must not fall under subject_results".into(),
            );
        }
        if self.batch == 0 {
            return bad("batch", "must be at least 1".into());
        }
        if self.publish_window == 0 {
            return bad("publish_window", "must be at least 1".into());
        }
        if self.ack_wait_secs == 0 {
            return bad("ack_wait_secs", "must be at least 1".into());
        }
        if self.max_message_bytes == 0 {
            return bad("max_message_bytes", "must be at least 1".into());
        }
        if self.results_max_age_secs != 0 && self.duplicate_window_secs > self.results_max_age_secs
        {
            // JetStream refuses such a stream; say which keys to change instead.
            return bad(
                "duplicate_window_secs",
                "must not exceed results_max_age_secs".into(),
            );
        }
        if self.replicas == 0 {
            return bad("replicas", "must be at least 1".into());
        }
        Ok(())
    }

    /// `patroli.posts` for `patroli.posts.>`.
    pub fn posts_prefix(&self) -> &str {
        wildcard_prefix(&self.subject_posts).unwrap_or(&self.subject_posts)
    }

    /// `patroli.screened` for `patroli.screened.>`.
    pub fn results_prefix(&self) -> &str {
        wildcard_prefix(&self.subject_results).unwrap_or(&self.subject_results)
    }

    /// Subject a post from `platform` is published on.
    pub fn post_subject(&self, platform: Option<&str>) -> String {
        format!("{}.{}", self.posts_prefix(), platform_token(platform))
    }

    /// Subject the result for a post from `platform` is published on.
    pub fn result_subject(&self, platform: Option<&str>) -> String {
        format!("{}.{}", self.results_prefix(), platform_token(platform))
    }

    pub(crate) fn fetch_wait(&self) -> Duration {
        Duration::from_millis(self.fetch_wait_ms.max(1))
    }

    pub(crate) fn retry_delay(&self) -> Duration {
        Duration::from_millis(self.retry_delay_ms)
    }
}

/// A platform name as one subject token: lower-case ASCII letters, digits, `-` and `_`; anything
/// else becomes `_` so a hostile platform name cannot add subject levels or wildcards.
pub fn platform_token(platform: Option<&str>) -> String {
    let raw = platform.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return "unknown".into();
    }
    raw.chars()
        .take(64)
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '_') => c,
            _ => '_',
        })
        .collect()
}

fn wildcard_prefix(subject: &str) -> Option<&str> {
    let prefix = subject.strip_suffix(".>")?;
    is_literal_subject(prefix).then_some(prefix)
}

fn is_literal_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject.split('.').all(|token| {
            !token.is_empty() && !token.contains(['*', '>']) && !token.contains(char::is_whitespace)
        })
}

/// Whether `prefix.>` matches `subject` or anything under it.
fn covers(prefix: &str, subject: &str) -> bool {
    subject == prefix || subject.starts_with(&format!("{prefix}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        StreamConfig::default().validate().unwrap();
    }

    #[test]
    fn debug_hides_credentials() {
        let cfg = StreamConfig {
            url: "nats://patroli:hunter2@nats.internal:4222,tls://tok3n@backup:4222".into(),
            ..StreamConfig::default()
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("tok3n"), "{shown}");
        assert!(shown.contains("nats://***@nats.internal:4222"), "{shown}");
        assert!(shown.contains("tls://***@backup:4222"), "{shown}");
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = serde_json::from_str::<StreamConfig>(r#"{"batchsize": 10}"#).unwrap_err();
        assert!(err.to_string().contains("batchsize"), "{err}");
        let cfg: StreamConfig = serde_json::from_str(r#"{"batch": 10}"#).unwrap();
        assert_eq!(cfg.batch, 10);
        assert_eq!(cfg.durable, "patroli-workers");
    }

    #[test]
    fn overlapping_subjects_are_refused() {
        let cfg = StreamConfig {
            subject_rejected: "patroli.posts.rejected".into(),
            ..StreamConfig::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("subject_rejected")
        );
        let cfg = StreamConfig {
            subject_results: "patroli.>".into(),
            ..StreamConfig::default()
        };
        assert!(cfg.validate().is_err());
        let cfg = StreamConfig {
            subject_posts: "patroli.posts".into(),
            ..StreamConfig::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("subject_posts")
        );
    }

    #[test]
    fn duplicate_window_must_fit_in_result_retention() {
        let cfg = StreamConfig {
            results_max_age_secs: 60,
            ..StreamConfig::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("duplicate_window_secs"), "{err}");
        let forever = StreamConfig {
            results_max_age_secs: 0,
            ..StreamConfig::default()
        };
        forever.validate().unwrap();
    }

    #[test]
    fn platform_becomes_one_safe_token() {
        assert_eq!(platform_token(Some("Tokopedia")), "tokopedia");
        assert_eq!(platform_token(Some("x.*>evil")), "x___evil");
        assert_eq!(platform_token(Some("  ")), "unknown");
        assert_eq!(platform_token(None), "unknown");
        let cfg = StreamConfig::default();
        assert_eq!(cfg.post_subject(Some("Shopee")), "patroli.posts.shopee");
        assert_eq!(cfg.result_subject(None), "patroli.screened.unknown");
    }
}
