//! The errors this crate returns. Messages name what failed and never include credentials (URLs are
//! redacted) or post content.

/// Boxed error from the NATS client; its many per-call error types are not part of our API.
pub type NatsError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// A configuration value is unusable.
    #[error("stream config: {0}")]
    Config(String),
    /// The server could not be reached (URL shown redacted).
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect { url: String, source: NatsError },
    /// A stream or consumer exists with settings we cannot work with.
    #[error("{0}")]
    Mismatch(String),
    /// A JetStream call failed; `what` says which one.
    #[error("{what}: {source}")]
    Nats { what: String, source: NatsError },
    /// A post could not be stored even after retries: the publish stops here.
    #[error("line {line}: post not stored by JetStream after {attempts} attempts: {source}")]
    PublishFailed {
        line: u64,
        attempts: u32,
        source: NatsError,
    },
    /// Reading the input failed.
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
}

impl StreamError {
    pub(crate) fn nats(what: impl Into<String>, source: impl Into<NatsError>) -> StreamError {
        StreamError::Nats {
            what: what.into(),
            source: source.into(),
        }
    }
}
