//! `patroli publish` and `patroli worker`: screening at national scale over NATS JetStream. A
//! publisher puts posts on a work queue; any number of workers on any number of machines share
//! it, screen each post once and publish the results (see crates/stream/README.md).

use crate::Outcome;
use crate::cli::EngineArgs;
use crate::engine_setup::build_engine;
use anyhow::Context;
use clap::Args;
use patroli_stream::StreamConfig;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Args)]
pub struct NatsArgs {
    /// NATS server URL(s), comma-separated; credentials in the URL are never printed.
    #[arg(
        long = "nats",
        value_name = "URL",
        env = "PATROLI_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub url: String,
}

impl std::fmt::Debug for NatsArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsArgs")
            .field("url", &patroli_stream::redact_url(&self.url))
            .finish()
    }
}

impl NatsArgs {
    fn config(&self) -> StreamConfig {
        StreamConfig {
            url: self.url.clone(),
            ..StreamConfig::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// JSON Lines file of posts in the scan schema (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub nats: NatsArgs,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub nats: NatsArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn publish(args: PublishArgs) -> anyhow::Result<Outcome> {
    let cfg = args.nats.config();
    runtime()?.block_on(async move {
        let client = patroli_stream::connect(&cfg).await?;
        patroli_stream::ensure_streams(&client, &cfg).await?;
        let report = if args.file.as_os_str() == "-" {
            let reader = tokio::io::BufReader::new(tokio::io::stdin());
            patroli_stream::publish_posts(&client, &cfg, reader).await?
        } else {
            let file = tokio::fs::File::open(&args.file)
                .await
                .with_context(|| format!("cannot open {}", args.file.display()))?;
            let reader = tokio::io::BufReader::new(file);
            patroli_stream::publish_posts(&client, &cfg, reader).await?
        };
        for bad in &report.bad_lines {
            eprintln!("{}: {bad}", args.file.display());
        }
        eprintln!(
            "published {}, already queued {}, rejected {}",
            report.stored,
            report.duplicates,
            report.bad_lines.len()
        );
        Ok(if report.bad_lines.is_empty() {
            Outcome::Success
        } else {
            Outcome::SomeRejected
        })
    })
}

pub fn worker(args: WorkerArgs) -> anyhow::Result<Outcome> {
    let engine = Arc::new(build_engine(&args.engine)?);
    let cfg = args.nats.config();
    runtime()?.block_on(async move {
        let client = patroli_stream::connect(&cfg).await?;
        patroli_stream::ensure_streams(&client, &cfg).await?;
        eprintln!(
            "worker screening {} from {} (Ctrl-C stops after the batch in hand)",
            cfg.subject_posts,
            patroli_stream::redact_url(&cfg.url)
        );
        let stats =
            patroli_stream::run_worker(&client, &cfg, engine, patroli_stream::shutdown_signal())
                .await?;
        eprintln!("{stats}");
        Ok(Outcome::Success)
    })
}
