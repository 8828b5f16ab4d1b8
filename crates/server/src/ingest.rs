//! Group commit for ingest: concurrent ingest requests hand their screened posts to a writer task,
//! which stores everything that is waiting in one store call (one transaction) per platform.
//!
//! Why: every transaction costs a durable commit (an fsync on SQLite), and SQLite has one writer.
//! With fifty clients each sending one post, committing one post per transaction queues them
//! behind each other's fsyncs; committing whatever has piled up meanwhile keeps the queue short.
//! A request is answered only after the transaction holding its posts has committed, so an
//! acknowledged post is as durable as before.

use crate::error::ApiError;
use patroli_store::{IngestOutcome, ScreenedPost, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most posts merged into one transaction (a single larger request is never split).
const MAX_POSTS_PER_COMMIT: usize = 5_000;

pub struct Job {
    pub platform: String,
    pub posts: Vec<ScreenedPost>,
    pub reply: oneshot::Sender<Result<Vec<IngestOutcome>, ApiError>>,
}

/// Start `writers` writer tasks on the current runtime and return the queue they drain.
pub fn start(store: Arc<dyn Store>, writers: usize) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>(1024);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..writers.max(1) {
        tokio::spawn(writer(store.clone(), rx.clone()));
    }
    tx
}

async fn writer(store: Arc<dyn Store>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    loop {
        // Take the first waiting job, then everything else already queued (up to the cap).
        let mut jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut n = first.posts.len();
            let mut jobs = vec![first];
            while n < MAX_POSTS_PER_COMMIT {
                match rx.try_recv() {
                    Ok(job) => {
                        n += job.posts.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        while !jobs.is_empty() {
            let platform = jobs[0].platform.clone();
            let (same, rest): (Vec<Job>, Vec<Job>) =
                jobs.into_iter().partition(|j| j.platform == platform);
            jobs = rest;
            commit(store.as_ref(), &platform, same).await;
        }
    }
}

async fn commit(store: &dyn Store, platform: &str, jobs: Vec<Job>) {
    let sizes: Vec<usize> = jobs.iter().map(|j| j.posts.len()).collect();
    let mut replies = Vec::with_capacity(jobs.len());
    let mut all = Vec::with_capacity(sizes.iter().sum());
    let mut kept = Vec::new();
    let single = jobs.len() == 1;
    for job in jobs {
        replies.push(job.reply);
        if single {
            all = job.posts;
        } else {
            // Kept so that a failed merged commit can be retried job by job.
            kept.push(job.posts.clone());
            all.extend(job.posts);
        }
    }
    match store.ingest_batch(platform, all).await {
        Ok(mut outcomes) => {
            for (reply, n) in replies.into_iter().zip(sizes) {
                let rest = outcomes.split_off(n.min(outcomes.len()));
                let _ = reply.send(Ok(std::mem::replace(&mut outcomes, rest)));
            }
        }
        Err(e) if single => {
            let _ = replies.pop().expect("one reply").send(Err(e.into()));
        }
        Err(e) => {
            // One request's posts must not fail the others': retry each on its own.
            tracing::warn!(error = %e, jobs = kept.len(), "merged ingest commit failed; retrying per request");
            for (reply, posts) in replies.into_iter().zip(kept) {
                let r = store
                    .ingest_batch(platform, posts)
                    .await
                    .map_err(ApiError::from);
                let _ = reply.send(r);
            }
        }
    }
}
