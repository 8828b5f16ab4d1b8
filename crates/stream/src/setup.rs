//! Connecting and declaring the streams and the shared consumer. Creation is idempotent so every
//! `patroli publish` and `patroli worker` can call it at start; settings that cannot be changed on a
//! live stream (storage, retention, subjects) are checked and reported instead of silently ignored.

use crate::{StreamConfig, StreamError, redact_url};
use async_nats::jetstream::{self, consumer, stream};
use std::time::Duration;

/// Connects with the settings in `cfg`. Fails at once when the server is unreachable, so a worker
/// started against a wrong URL says so instead of hanging.
///
/// `url` may list several servers separated by commas. Credentials written in a URL
/// (`user:password@` or `token@`) are sent to the server: the client library only reads them from
/// its options, not from the address.
pub async fn connect(cfg: &StreamConfig) -> Result<async_nats::Client, StreamError> {
    cfg.validate()?;
    let (servers, credentials) = parse_servers(&cfg.url)?;
    let mut options = async_nats::ConnectOptions::new()
        .name("patroli")
        .connection_timeout(Duration::from_secs(5));
    options = match credentials {
        Some(Credentials::UserPassword(user, password)) => {
            options.user_and_password(user, password)
        }
        Some(Credentials::Token(token)) => options.token(token),
        None => options,
    };
    options
        .connect(servers)
        .await
        .map_err(|e| StreamError::Connect {
            url: redact_url(&cfg.url),
            source: e.into(),
        })
}

#[derive(Debug, PartialEq, Eq)]
enum Credentials {
    UserPassword(String, String),
    Token(String),
}

/// Splits `nats://a:4222,nats://b:4222` into server addresses and picks up the first credentials
/// written in any of them. Errors name the server by its redacted form only.
fn parse_servers(
    url: &str,
) -> Result<(Vec<async_nats::ServerAddr>, Option<Credentials>), StreamError> {
    let mut servers = Vec::new();
    let mut credentials = None;
    for server in url.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let addr: async_nats::ServerAddr = server.parse().map_err(|e| {
            StreamError::Config(format!(
                "url: {} is not a server address: {e}",
                redact_url(server)
            ))
        })?;
        if credentials.is_none() {
            credentials = match (addr.username(), addr.password()) {
                (Some(user), Some(password)) => {
                    Some(Credentials::UserPassword(decode(user), decode(password)))
                }
                (Some(token), None) => Some(Credentials::Token(decode(token))),
                _ => None,
            };
        }
        servers.push(addr);
    }
    if servers.is_empty() {
        return Err(StreamError::Config("url: no server given".into()));
    }
    Ok((servers, credentials))
}

/// User info in a URL is percent-encoded (a `@` or `:` in a password is written `%40`, `%3A`).
fn decode(part: &str) -> String {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What [`ensure_streams`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnsureReport {
    /// Streams that did not exist and were created.
    pub created: Vec<String>,
    /// Existing streams whose limits were brought in line with the config.
    pub updated: Vec<String>,
}

/// The posts stream: a work queue on file storage. A post leaves it once a worker acknowledged it,
/// i.e. once its result is stored. When full it refuses new posts rather than dropping unscreened
/// ones, and posts never expire unscreened.
pub fn posts_stream_config(cfg: &StreamConfig) -> stream::Config {
    stream::Config {
        name: cfg.stream_posts.clone(),
        description: Some("Patroli: posts waiting to be screened".into()),
        subjects: vec![cfg.subject_posts.clone()],
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        discard: stream::DiscardPolicy::New,
        max_bytes: limit(cfg.posts_max_bytes),
        max_messages: -1,
        duplicate_window: Duration::from_secs(cfg.duplicate_window_secs),
        num_replicas: cfg.replicas,
        ..Default::default()
    }
}

/// The results stream: screening results and rejections, kept for `results_max_age_secs`.
pub fn results_stream_config(cfg: &StreamConfig) -> stream::Config {
    stream::Config {
        name: cfg.stream_results.clone(),
        description: Some("Patroli: screening results and rejected posts".into()),
        subjects: vec![cfg.subject_results.clone(), cfg.subject_rejected.clone()],
        retention: stream::RetentionPolicy::Limits,
        storage: stream::StorageType::File,
        discard: stream::DiscardPolicy::Old,
        max_bytes: limit(cfg.results_max_bytes),
        max_messages: -1,
        max_age: Duration::from_secs(cfg.results_max_age_secs),
        duplicate_window: Duration::from_secs(cfg.duplicate_window_secs),
        num_replicas: cfg.replicas,
        ..Default::default()
    }
}

fn limit(bytes: Option<u64>) -> i64 {
    bytes.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX))
}

/// Creates the posts and results streams if missing, checks existing ones, and updates their
/// limits (size, age, duplicate window) to match `cfg`.
pub async fn ensure_streams(
    client: &async_nats::Client,
    cfg: &StreamConfig,
) -> Result<EnsureReport, StreamError> {
    cfg.validate()?;
    let js = jetstream::new(client.clone());
    let mut report = EnsureReport::default();
    for wanted in [posts_stream_config(cfg), results_stream_config(cfg)] {
        ensure_stream(&js, wanted, &mut report).await?;
    }
    Ok(report)
}

async fn ensure_stream(
    js: &jetstream::Context,
    wanted: stream::Config,
    report: &mut EnsureReport,
) -> Result<(), StreamError> {
    let name = wanted.name.clone();
    let mut existing = match js.get_stream(&name).await {
        Ok(stream) => stream,
        Err(e) if is_stream_not_found(&e) => {
            js.create_stream(wanted)
                .await
                .map_err(|e| StreamError::nats(format!("creating stream {name}"), e))?;
            report.created.push(name);
            return Ok(());
        }
        Err(e) => return Err(StreamError::nats(format!("looking up stream {name}"), e)),
    };
    let have = existing
        .info()
        .await
        .map_err(|e| StreamError::nats(format!("reading stream {name}"), e))?
        .config
        .clone();
    if have.storage != wanted.storage || have.retention != wanted.retention {
        return Err(StreamError::Mismatch(format!(
            "stream {name} exists with storage {:?} and retention {:?}, expected {:?} and {:?}; \
             it cannot be changed in place: delete it or choose another stream name",
            have.storage, have.retention, wanted.storage, wanted.retention
        )));
    }
    if let Some(missing) = wanted.subjects.iter().find(|s| !have.subjects.contains(s)) {
        return Err(StreamError::Mismatch(format!(
            "stream {name} exists but does not capture subject {missing} (it has {:?})",
            have.subjects
        )));
    }
    if have.max_bytes != wanted.max_bytes
        || have.max_age != wanted.max_age
        || have.duplicate_window != wanted.duplicate_window
        || have.discard != wanted.discard
    {
        let updated = stream::Config {
            max_bytes: wanted.max_bytes,
            max_age: wanted.max_age,
            duplicate_window: wanted.duplicate_window,
            discard: wanted.discard,
            ..have
        };
        js.update_stream(&updated)
            .await
            .map_err(|e| StreamError::nats(format!("updating limits of stream {name}"), e))?;
        report.updated.push(name);
    }
    Ok(())
}

fn is_stream_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(js)
            if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

/// The durable pull consumer every worker shares: explicit acks, unlimited redeliveries (a post
/// whose result could not be stored is retried, never dropped), filtered to the posts subject.
pub fn worker_consumer_config(cfg: &StreamConfig) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(cfg.durable.clone()),
        description: Some("Patroli screening workers".into()),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_secs(cfg.ack_wait_secs),
        max_deliver: -1,
        filter_subject: cfg.subject_posts.clone(),
        max_ack_pending: cfg.max_ack_pending,
        ..Default::default()
    }
}

/// Gets the shared consumer, creating it on first use, and checks an existing one fits.
pub async fn ensure_consumer(
    client: &async_nats::Client,
    cfg: &StreamConfig,
) -> Result<consumer::PullConsumer, StreamError> {
    cfg.validate()?;
    let js = jetstream::new(client.clone());
    let stream = js
        .get_stream(&cfg.stream_posts)
        .await
        .map_err(|e| StreamError::nats(format!("looking up stream {}", cfg.stream_posts), e))?;
    let mut consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(&cfg.durable, worker_consumer_config(cfg))
        .await
        .map_err(|e| StreamError::nats(format!("opening consumer {}", cfg.durable), e))?;
    let info = consumer
        .info()
        .await
        .map_err(|e| StreamError::nats(format!("reading consumer {}", cfg.durable), e))?;
    if info.config.ack_policy != consumer::AckPolicy::Explicit
        || info.config.filter_subject != cfg.subject_posts
    {
        return Err(StreamError::Mismatch(format!(
            "consumer {} on {} exists with ack policy {:?} and filter {:?}; workers need explicit \
             acks on {:?}",
            cfg.durable,
            cfg.stream_posts,
            info.config.ack_policy,
            info.config.filter_subject,
            cfg.subject_posts
        )));
    }
    Ok(consumer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_credentials_come_from_the_url() {
        let (servers, creds) =
            parse_servers("nats://patroli:s%40cret@nats-1:4222, nats://nats-2:4223").unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].port(), 4223);
        assert_eq!(
            creds,
            Some(Credentials::UserPassword("patroli".into(), "s@cret".into()))
        );

        let (_, creds) = parse_servers("tls://t0ken@nats-1:4222").unwrap();
        assert_eq!(creds, Some(Credentials::Token("t0ken".into())));

        let (servers, creds) = parse_servers("nats://127.0.0.1:4222").unwrap();
        assert_eq!((servers.len(), creds), (1, None));
    }

    #[test]
    fn a_bad_url_is_reported_without_its_secret() {
        let err = parse_servers("nats://u:hunter2@bad host:4222")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("stream config: url:"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(parse_servers(" , ").is_err());
    }
}
