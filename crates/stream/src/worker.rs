//! `patroli worker`: pull posts from the shared durable consumer, screen them, publish results.
//!
//! Delivery: at least once, end to end. A post is acknowledged only after JetStream acknowledged
//! its result (or its rejection record), so a worker that dies mid-batch loses nothing: after
//! `ack_wait` the post goes to another worker, which publishes the same result again under the
//! same Nats-Msg-Id, and JetStream drops that copy. A result that cannot be stored makes the post
//! be offered again after `retry_delay_ms` instead of being acknowledged.
//!
//! Screening is CPU work; it runs on rayon's pool inside `spawn_blocking` so the async runtime
//! keeps serving acknowledgements and pull requests meanwhile.

use crate::{
    PostRecord, RejectedRecord, ScreenedRecord, StreamConfig, StreamError, ensure_consumer,
};
use async_nats::jetstream::{
    self, AckKind, consumer::PullConsumer, context::PublishAckFuture, message::PublishMessage,
};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use patroli_detect::Engine;
use rayon::prelude::*;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Counters of one worker since it started. Counted per post, not per delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Messages pulled from the consumer (redeliveries included).
    pub received: u64,
    /// Posts screened whose result JetStream stored (or recognised as a duplicate).
    pub screened: u64,
    /// Of those, posts the engine flagged.
    pub flagged: u64,
    /// Malformed messages whose rejection record was stored.
    pub rejected: u64,
    /// Messages handed back for a later retry because their result could not be stored.
    pub retried: u64,
    /// Batches processed.
    pub batches: u64,
}

impl std::fmt::Display for WorkerStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} received, {} screened ({} flagged), {} rejected, {} retried, {} batches",
            self.received, self.screened, self.flagged, self.rejected, self.retried, self.batches
        )
    }
}

/// A worker bound to one connection. Several workers (on one machine or many) share the durable
/// consumer named in the config; JetStream gives each post to exactly one of them at a time.
pub struct Worker {
    client: async_nats::Client,
    cfg: StreamConfig,
    engine: Arc<Engine>,
    stats: watch::Sender<WorkerStats>,
}

/// Runs a worker until `shutdown` completes; see [`Worker::run`].
pub async fn run_worker<F>(
    client: &async_nats::Client,
    cfg: &StreamConfig,
    engine: Arc<Engine>,
    shutdown: F,
) -> Result<WorkerStats, StreamError>
where
    F: Future<Output = ()>,
{
    Worker::new(client.clone(), cfg.clone(), engine)
        .run(shutdown)
        .await
}

/// Completes on Ctrl-C or SIGTERM: the usual `shutdown` argument for a worker process.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Consecutive failed pulls (server restarting, network gone) tolerated before the worker gives up.
const MAX_PULL_FAILURES: u32 = 30;

enum Outcome {
    Screened {
        subject: String,
        msg_id: String,
        payload: Bytes,
        flagged: bool,
    },
    Rejected {
        msg_id: String,
        payload: Bytes,
    },
}

impl Worker {
    pub fn new(client: async_nats::Client, cfg: StreamConfig, engine: Arc<Engine>) -> Worker {
        Worker {
            client,
            cfg,
            engine,
            stats: watch::channel(WorkerStats::default()).0,
        }
    }

    /// Live counters, updated after every batch (for metrics or for waiting on progress).
    pub fn stats(&self) -> watch::Receiver<WorkerStats> {
        self.stats.subscribe()
    }

    /// Pulls, screens and publishes until `shutdown` completes. On shutdown the batches in hand
    /// are finished (results stored, posts acknowledged) before returning, so a stopped worker
    /// leaves nothing waiting for `ack_wait` to expire.
    pub async fn run<F>(self, shutdown: F) -> Result<WorkerStats, StreamError>
    where
        F: Future<Output = ()>,
    {
        self.cfg.validate()?;
        let consumer = ensure_consumer(&self.client, &self.cfg).await?;
        // One permit per unacknowledged result: enough for every batch that may be in flight, so
        // publishing a batch never waits on acknowledgements of a batch not yet being awaited.
        let js = jetstream::ContextBuilder::new()
            .max_ack_inflight(self.cfg.batch * (PIPELINE_DEPTH + 1))
            .build(self.client.clone());
        let mut shutdown = std::pin::pin!(shutdown);
        let mut stopping = false;
        let mut stats = WorkerStats::default();
        let mut pull_failures = 0u32;
        // Batches whose results are published and whose acknowledgements are awaited while the
        // next batch is pulled and screened: the round trip to the server overlaps the CPU work.
        let mut settling: FuturesUnordered<JoinHandle<WorkerStats>> = FuturesUnordered::new();
        tracing::info!(durable = %self.cfg.durable, stream = %self.cfg.stream_posts, "worker started");

        // The next pull runs while the current batch is screened and published.
        let mut prefetch: Option<JoinHandle<PullResult>> = None;

        loop {
            // A shutdown that already happened wins over starting another pull.
            tokio::select! {
                biased;
                _ = &mut shutdown, if !stopping => stopping = true,
                _ = std::future::ready(()) => {}
            }
            if stopping && prefetch.is_none() {
                break;
            }
            // Let a pull in progress finish even if shutdown arrives meanwhile: messages it
            // received are already ours and are processed below rather than left to time out.
            let mut pull = prefetch
                .take()
                .unwrap_or_else(|| self.spawn_pull(&consumer));
            let fetched = loop {
                tokio::select! {
                    result = &mut pull => {
                        break result.map_err(|e| StreamError::nats("pulling posts", e))?;
                    }
                    _ = &mut shutdown, if !stopping => stopping = true,
                    Some(done) = settling.next(), if !settling.is_empty() => {
                        self.add(&mut stats, done)?;
                    }
                }
            };
            let messages = match fetched {
                Ok(messages) => {
                    pull_failures = 0;
                    messages
                }
                Err(e) => {
                    pull_failures += 1;
                    if pull_failures >= MAX_PULL_FAILURES {
                        return Err(StreamError::nats("pulling posts", e));
                    }
                    tracing::warn!(error = %e, attempt = pull_failures, "pull failed, retrying");
                    tokio::time::sleep(self.cfg.retry_delay()).await;
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            if !stopping {
                prefetch = Some(self.spawn_pull(&consumer));
            }
            while settling.len() >= PIPELINE_DEPTH {
                if let Some(done) = settling.next().await {
                    self.add(&mut stats, done)?;
                }
            }
            let batch = self.publish_batch(&js, messages).await?;
            settling.push(tokio::spawn(settle_batch(batch, self.cfg.retry_delay())));
        }
        while let Some(done) = settling.next().await {
            self.add(&mut stats, done)?;
        }
        // Acks are fire-and-forget publishes; make sure they left before the caller drops us.
        self.client
            .flush()
            .await
            .map_err(|e| StreamError::nats("flushing acknowledgements", e))?;
        tracing::info!(?stats, "worker stopped");
        Ok(stats)
    }

    fn spawn_pull(&self, consumer: &PullConsumer) -> JoinHandle<PullResult> {
        tokio::spawn(next_batch(
            consumer.clone(),
            self.cfg.batch,
            self.cfg.fetch_wait(),
        ))
    }

    fn add(
        &self,
        stats: &mut WorkerStats,
        done: Result<WorkerStats, tokio::task::JoinError>,
    ) -> Result<(), StreamError> {
        let delta = done.map_err(|e| StreamError::nats("settling batch", e))?;
        stats.received += delta.received;
        stats.screened += delta.screened;
        stats.flagged += delta.flagged;
        stats.rejected += delta.rejected;
        stats.retried += delta.retried;
        stats.batches += delta.batches;
        self.stats.send_replace(*stats);
        Ok(())
    }

    /// Screens a batch and publishes its results (or rejection records) without waiting for
    /// JetStream's acknowledgements; [`settle_batch`] waits for them.
    async fn publish_batch(
        &self,
        js: &jetstream::Context,
        messages: Vec<jetstream::Message>,
    ) -> Result<PublishedBatch, StreamError> {
        let inputs: Vec<(Bytes, String, u64)> = messages
            .iter()
            .map(|m| {
                let sequence = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                (m.payload.clone(), m.subject.to_string(), sequence)
            })
            .collect();
        let engine = Arc::clone(&self.engine);
        let cfg = self.cfg.clone();
        let outcomes = tokio::task::spawn_blocking(move || {
            inputs
                .par_iter()
                .map(|(payload, subject, seq)| screen_one(&engine, &cfg, payload, subject, *seq))
                .collect::<Vec<Outcome>>()
        })
        .await
        .map_err(|e| StreamError::nats("screening batch", e))?;

        let max_payload = self.client.server_info().max_payload;
        let mut posts = Vec::with_capacity(messages.len());
        for (message, outcome) in messages.into_iter().zip(outcomes) {
            let outcome = match outcome {
                // Headers (the Nats-Msg-Id) count against the limit too; keep a margin for them.
                Outcome::Screened { payload, .. } if payload.len() + 1024 > max_payload => {
                    let seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                    rejection(
                        format!(
                            "screening result of {} bytes exceeds the server's message limit",
                            payload.len()
                        ),
                        &self.cfg.stream_posts,
                        seq,
                        &message.subject,
                        &message.payload,
                    )
                }
                other => other,
            };
            let (subject, msg_id, payload, kind) = match outcome {
                Outcome::Screened {
                    subject,
                    msg_id,
                    payload,
                    flagged,
                } => (subject, msg_id, payload, Some(flagged)),
                Outcome::Rejected { msg_id, payload } => {
                    (self.cfg.subject_rejected.clone(), msg_id, payload, None)
                }
            };
            let ack = js
                .send_publish(
                    subject,
                    PublishMessage::build().payload(payload).message_id(msg_id),
                )
                .await
                .map_err(|e| e.to_string());
            posts.push(PublishedPost { message, kind, ack });
        }
        Ok(PublishedBatch { posts })
    }
}

/// How many batches may be awaiting their result acknowledgements at once.
const PIPELINE_DEPTH: usize = 2;

struct PublishedPost {
    message: jetstream::Message,
    /// `Some(flagged)` for a screening result, `None` for a rejection record.
    kind: Option<bool>,
    ack: Result<PublishAckFuture, String>,
}

struct PublishedBatch {
    posts: Vec<PublishedPost>,
}

/// Waits for every result of a batch to be stored, then acknowledges its post; a post whose
/// result was not stored is handed back for a retry after `retry_delay`. Returns the counts.
async fn settle_batch(batch: PublishedBatch, retry_delay: Duration) -> WorkerStats {
    let mut stats = WorkerStats {
        received: batch.posts.len() as u64,
        batches: 1,
        ..WorkerStats::default()
    };
    let (messages, waits): (Vec<_>, Vec<_>) = batch
        .posts
        .into_iter()
        .map(|p| {
            let wait = async move {
                match p.ack {
                    Ok(future) => future.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                }
            };
            ((p.message, p.kind), wait)
        })
        .unzip();
    let stored = futures_util::future::join_all(waits).await;
    for ((message, kind), stored) in messages.into_iter().zip(stored) {
        match stored {
            Ok(()) => {
                match kind {
                    Some(flagged) => {
                        stats.screened += 1;
                        stats.flagged += u64::from(flagged);
                    }
                    None => stats.rejected += 1,
                }
                // If this ack is lost the post comes back after ack_wait and its result is
                // deduplicated; nothing to do but log.
                if let Err(e) = message.ack().await {
                    tracing::warn!(error = %e, "could not acknowledge post");
                }
            }
            Err(e) => {
                stats.retried += 1;
                tracing::warn!(error = %e, "result not stored, post will be retried");
                if let Err(e) = message.ack_with(AckKind::Nak(Some(retry_delay))).await {
                    tracing::warn!(error = %e, "could not hand post back");
                }
            }
        }
    }
    tracing::debug!(
        posts = stats.received,
        screened = stats.screened,
        flagged = stats.flagged,
        rejected = stats.rejected,
        retried = stats.retried,
        "batch settled"
    );
    stats
}

/// Takes what is waiting (up to `batch`) without waiting; when nothing is, waits up to
/// `fetch_wait_ms` for the first new post, so an idle worker neither spins nor delays a trickle of
/// posts by a full batch timeout.
async fn next_batch(consumer: PullConsumer, batch: usize, wait: Duration) -> PullResult {
    let mut messages = collect(
        consumer
            .fetch()
            .max_messages(batch)
            .expires(wait)
            .messages()
            .await?,
        batch,
    )
    .await?;
    if messages.is_empty() {
        messages = collect(
            consumer
                .batch()
                .max_messages(1)
                .expires(wait)
                .messages()
                .await?,
            1,
        )
        .await?;
    }
    Ok(messages)
}

type PullResult = Result<Vec<jetstream::Message>, async_nats::Error>;

async fn collect(
    mut batch: async_nats::jetstream::consumer::pull::Batch,
    capacity: usize,
) -> Result<Vec<jetstream::Message>, async_nats::Error> {
    let mut messages = Vec::with_capacity(capacity);
    while let Some(message) = batch.next().await {
        match message {
            Ok(message) => messages.push(message),
            // Messages already received stay ours to process; report the error only if there
            // is nothing to process.
            Err(e) if messages.is_empty() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "pull ended early");
                break;
            }
        }
    }
    Ok(messages)
}

fn screen_one(
    engine: &Engine,
    cfg: &StreamConfig,
    payload: &[u8],
    subject: &str,
    sequence: u64,
) -> Outcome {
    let stream = &cfg.stream_posts;
    let post = match PostRecord::parse(payload, cfg.max_message_bytes) {
        Ok(post) => post,
        Err(reason) => return rejection(reason, stream, sequence, subject, payload),
    };
    // An engine bug on one odd post must not kill the worker, nor every worker the post is
    // redelivered to after it: the post is rejected with the reason instead.
    let screening = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine.screen(&post.as_post())
    })) {
        Ok(screening) => screening,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return rejection(
                format!("screening engine failed on this post: {what}"),
                stream,
                sequence,
                subject,
                payload,
            );
        }
    };
    let flagged = screening.flagged;
    let msg_id = post.message_id();
    let result_subject = cfg.result_subject(post.platform.as_deref());
    let record = ScreenedRecord {
        id: post.id,
        platform: post.platform,
        screening,
    };
    match serde_json::to_vec(&record) {
        Ok(json) => Outcome::Screened {
            subject: result_subject,
            msg_id,
            payload: Bytes::from(json),
            flagged,
        },
        Err(e) => rejection(
            format!("result not serialisable: {e}"),
            stream,
            sequence,
            subject,
            payload,
        ),
    }
}

fn rejection(
    reason: String,
    stream: &str,
    sequence: u64,
    subject: &str,
    payload: &[u8],
) -> Outcome {
    let record = RejectedRecord::new(reason, stream, sequence, subject, payload);
    let msg_id = record.message_id();
    let json = serde_json::to_vec(&record).expect("a rejection record always serialises");
    Outcome::Rejected {
        msg_id,
        payload: Bytes::from(json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_becomes_a_result_on_its_platform_subject() {
        let engine = Engine::builtin();
        let cfg = StreamConfig::default();
        let payload = br#"{"id":"p9","text":"kaos polos","platform":"Shopee","extra":true}"#;
        let Outcome::Screened {
            subject,
            msg_id,
            payload,
            flagged,
        } = screen_one(&engine, &cfg, payload, "patroli.posts.shopee", 3)
        else {
            panic!("a valid post must be screened");
        };
        assert_eq!(subject, "patroli.screened.shopee");
        assert_eq!(msg_id, "shopee/p9");
        let result: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(result["id"], "p9");
        assert_eq!(result["platform"], "Shopee");
        assert_eq!(result["flagged"], flagged);
        let expected = engine.screen(&patroli_detect::Post {
            text: "kaos polos",
            ..Default::default()
        });
        assert_eq!(result["lexicon_version"], expected.lexicon_version.as_str());
        assert_eq!(
            result["categories"],
            serde_json::to_value(&expected.categories).unwrap()
        );
    }

    #[test]
    fn a_malformed_message_becomes_a_rejection() {
        let engine = Engine::builtin();
        let cfg = StreamConfig::default();
        let Outcome::Rejected { msg_id, payload } =
            screen_one(&engine, &cfg, br#"{"id":"p9"}"#, "patroli.posts.x", 41)
        else {
            panic!("a post without text must be rejected");
        };
        assert_eq!(msg_id, "rejected/PATROLI_POSTS/41");
        let record: RejectedRecord = serde_json::from_slice(&payload).unwrap();
        assert!(
            record.reason.contains("missing field `text`"),
            "{}",
            record.reason
        );
        assert_eq!(record.stream_sequence, 41);
        assert_eq!(record.subject, "patroli.posts.x");
        assert_eq!(record.original, r#"{"id":"p9"}"#);
    }
}
