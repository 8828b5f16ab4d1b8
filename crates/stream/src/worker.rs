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
use async_nats::jetstream::{self, AckKind, consumer::PullConsumer, message::PublishMessage};
use bytes::Bytes;
use futures_util::StreamExt;
use patroli_detect::Engine;
use rayon::prelude::*;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

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

    /// Pulls, screens and publishes until `shutdown` completes. On shutdown the batch in hand is
    /// finished (results published, posts acknowledged) before returning, so a stopped worker
    /// leaves nothing waiting for `ack_wait` to expire.
    pub async fn run<F>(self, shutdown: F) -> Result<WorkerStats, StreamError>
    where
        F: Future<Output = ()>,
    {
        self.cfg.validate()?;
        let consumer = ensure_consumer(&self.client, &self.cfg).await?;
        let js = jetstream::new(self.client.clone());
        let mut shutdown = std::pin::pin!(shutdown);
        let mut stopping = false;
        let mut stats = WorkerStats::default();
        let mut pull_failures = 0u32;
        tracing::info!(durable = %self.cfg.durable, stream = %self.cfg.stream_posts, "worker started");

        loop {
            // A shutdown that already happened wins over starting another pull.
            tokio::select! {
                biased;
                _ = &mut shutdown, if !stopping => stopping = true,
                _ = std::future::ready(()) => {}
            }
            if stopping {
                break;
            }
            // Let a pull in progress finish even if shutdown arrives meanwhile: messages it
            // received are already ours and are processed below rather than left to time out.
            let fetched = {
                let pull = next_batch(&consumer, &self.cfg);
                let mut pull = std::pin::pin!(pull);
                loop {
                    tokio::select! {
                        result = &mut pull => break result,
                        _ = &mut shutdown, if !stopping => stopping = true,
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
            self.process_batch(&js, messages, &mut stats).await?;
            self.stats.send_replace(stats);
        }
        // Acks are fire-and-forget publishes; make sure they left before the caller drops us.
        self.client
            .flush()
            .await
            .map_err(|e| StreamError::nats("flushing acknowledgements", e))?;
        tracing::info!(?stats, "worker stopped");
        Ok(stats)
    }

    async fn process_batch(
        &self,
        js: &jetstream::Context,
        messages: Vec<jetstream::Message>,
        stats: &mut WorkerStats,
    ) -> Result<(), StreamError> {
        stats.received += messages.len() as u64;
        stats.batches += 1;
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

        // Publish every result first, then wait for their acknowledgements together: one round
        // trip per batch rather than per post.
        let mut pending = Vec::with_capacity(outcomes.len());
        for (message, outcome) in messages.iter().zip(outcomes) {
            let outcome = match outcome {
                Outcome::Screened { payload, .. }
                    if payload.len() > self.client.server_info().max_payload =>
                {
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
                .await;
            pending.push((kind, ack));
        }
        let mut acks = Vec::with_capacity(pending.len());
        let mut kinds = Vec::with_capacity(pending.len());
        for (kind, ack) in pending {
            kinds.push(kind);
            acks.push(async move {
                match ack {
                    Ok(future) => future.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            });
        }
        let results = futures_util::future::join_all(acks).await;

        for ((message, kind), stored) in messages.iter().zip(kinds).zip(results) {
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
                    if let Err(e) = message
                        .ack_with(AckKind::Nak(Some(self.cfg.retry_delay())))
                        .await
                    {
                        tracing::warn!(error = %e, "could not hand post back");
                    }
                }
            }
        }
        Ok(())
    }
}

/// Takes what is waiting (up to `batch`) without waiting; when nothing is, waits up to
/// `fetch_wait_ms` for the first new post, so an idle worker neither spins nor delays a trickle of
/// posts by a full batch timeout.
async fn next_batch(
    consumer: &PullConsumer,
    cfg: &StreamConfig,
) -> Result<Vec<jetstream::Message>, async_nats::Error> {
    let mut messages = collect(
        consumer
            .fetch()
            .max_messages(cfg.batch)
            .expires(cfg.fetch_wait())
            .messages()
            .await?,
        cfg.batch,
    )
    .await?;
    if messages.is_empty() {
        messages = collect(
            consumer
                .batch()
                .max_messages(1)
                .expires(cfg.fetch_wait())
                .messages()
                .await?,
            1,
        )
        .await?;
    }
    Ok(messages)
}

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
    let screening = engine.screen(&post.as_post());
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
