//! National-scale screening over NATS JetStream.
//!
//! `patroli publish` puts posts on a work-queue stream ([`publish_posts`]); any number of
//! `patroli worker` processes on any number of machines share one durable pull consumer on it
//! ([`run_worker`]), screen each post with the `patroli_detect` engine and publish one result per
//! post to a results stream. Malformed messages go, with their reason, to a rejected subject.
//! Delivery is at least once end to end, and duplicates are dropped by JetStream through
//! Nats-Msg-Id (`platform/id`). See README.md for subjects, formats and guarantees.
//!
//! This crate does network I/O but never decides where configuration or input comes from: the
//! `patroli` binary builds the [`StreamConfig`], opens the input and picks the engine.

mod config;
mod error;
mod publish;
mod record;
mod setup;
mod worker;

pub use config::{StreamConfig, platform_token, redact_url};
pub use error::{NatsError, StreamError};
pub use publish::{BadLine, PublishReport, publish_posts};
pub use record::{
    Account, AccountProfile, MAX_ID_BYTES, PostId, PostRecord, REJECTED_KEEP_BYTES, RejectedRecord,
    ScreenedRecord,
};
pub use setup::{
    EnsureReport, connect, ensure_consumer, ensure_streams, posts_stream_config,
    results_stream_config, worker_consumer_config,
};
pub use worker::{Worker, WorkerStats, run_worker, shutdown_signal};

/// The client type the API takes, re-exported so callers need no direct dependency.
pub use async_nats::Client;
