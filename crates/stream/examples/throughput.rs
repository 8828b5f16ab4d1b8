//! Posts per second through publish -> worker -> results on this machine, against a real NATS
//! server with JetStream. Creates its own uniquely named streams and deletes them afterwards.
//!
//!     cargo run --release -p patroli-stream --example throughput -- [POSTS] [WORKERS] [BATCH]
//!
//! The server is taken from PATROLI_NATS_URL, else PATROLI_TEST_NATS_URL, else 127.0.0.1:4222.
//! Three numbers are printed: the engine alone on the same posts (the ceiling), publishing alone,
//! and the end-to-end run where workers screen while the publisher is still sending.

use patroli_detect::Engine;
use patroli_stream::{StreamConfig, Worker, connect, ensure_streams, publish_posts};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

const PRODUCTS: &[&str] = &[
    "kaos polos cotton combed 30s ukuran L XL",
    "obat tramadol ready stok kirim cepat tanpa resep",
    "krim pemutih wajah glowing 3 hari tanpa BPOM",
    "lowongan kerja kamboja gaji 15 juta tanpa pengalaman paspor diurus",
    "sepatu lari bekas ukuran 42 masih mulus",
    "tablet android 10 inch garansi resmi",
    "es batu kristal untuk warung 1 karung",
    "berita: polisi gagalkan peredaran sabu 2 kg di pelabuhan",
    "jamu kuat pria herbal asli hubungi WA 0812 3456 7890",
    "helm bogo retro cat doff",
];

fn synthetic_posts(n: usize) -> Vec<String> {
    let platforms = ["tokopedia", "shopee", "facebook", "instagram", "olx"];
    (0..n)
        .map(|i| {
            let text = format!(
                "{} #{i} harga {} ribu, lokasi kota {} COD bisa",
                PRODUCTS[i % PRODUCTS.len()],
                10 + i % 490,
                i % 37
            );
            serde_json::json!({
                "id": format!("t{i}"),
                "text": text,
                "title": PRODUCTS[(i * 7) % PRODUCTS.len()],
                "platform": platforms[i % platforms.len()],
                "price": (10 + i % 490) as f64 * 1000.0,
            })
            .to_string()
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let posts: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let workers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2);
    let batch: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(256);
    let url = std::env::var("PATROLI_NATS_URL")
        .or_else(|_| std::env::var("PATROLI_TEST_NATS_URL"))
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let tag = format!("{:08x}", rand::random::<u32>());
    let cfg = StreamConfig {
        url,
        stream_posts: format!("PTBENCH_POSTS_{tag}"),
        subject_posts: format!("ptbench{tag}.posts.>"),
        stream_results: format!("PTBENCH_SCREENED_{tag}"),
        subject_results: format!("ptbench{tag}.screened.>"),
        subject_rejected: format!("ptbench{tag}.rejected"),
        durable: format!("ptbench-{tag}"),
        batch,
        results_max_age_secs: 3600,
        ..StreamConfig::default()
    };

    let lines = synthetic_posts(posts);
    let input = lines.join("\n");
    let mb = input.len() as f64 / 1e6;
    let engine = Arc::new(Engine::builtin());
    println!(
        "{posts} posts ({mb:.1} MB), {workers} worker(s), batch {batch}, {} cores, lexicon {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        engine.lexicon_version()
    );

    // Ceiling: parse + screen + serialise with no network.
    let started = mark();
    let flagged = lines
        .par_iter()
        .map(|line| {
            let post = patroli_stream::PostRecord::parse(line.as_bytes(), usize::MAX).unwrap();
            let screening = engine.screen(&post.as_post());
            let flagged = screening.flagged;
            let out = patroli_stream::ScreenedRecord {
                id: post.id,
                platform: post.platform,
                screening,
            };
            std::hint::black_box(serde_json::to_vec(&out).unwrap());
            usize::from(flagged)
        })
        .sum::<usize>();
    report("engine alone (rayon, no NATS)", posts, started, mark());

    let client = connect(&cfg).await?;
    ensure_streams(&client, &cfg).await?;
    let result = run(&client, &cfg, &engine, &input, posts, workers).await;
    let js = async_nats::jetstream::new(client.clone());
    for name in [&cfg.stream_posts, &cfg.stream_results] {
        let _ = js.delete_stream(name).await;
    }
    let screened_flagged = result?;
    println!("flagged: {flagged} by the engine alone, {screened_flagged} through the pipeline");
    Ok(())
}

async fn run(
    client: &async_nats::Client,
    cfg: &StreamConfig,
    engine: &Arc<Engine>,
    input: &str,
    posts: usize,
    workers: usize,
) -> Result<u64, Box<dyn std::error::Error>> {
    // Publishing alone, into the queue (then drained by the workers below).
    let started = mark();
    let published = publish_posts(client, cfg, input.as_bytes()).await?;
    assert_eq!(published.stored as usize, posts, "{published:?}");
    report("publish alone (acked by JetStream)", posts, started, mark());

    let started = mark();
    let (screened, done) = drain(cfg, engine, posts, workers).await?;
    report(
        "workers draining the queue (results acked)",
        posts,
        started,
        done,
    );

    // End to end: a second copy of the posts under new ids, workers already running.
    let relabelled = input.replace("\"id\":\"t", "\"id\":\"u");
    let started = mark();
    let cfg2 = cfg.clone();
    let engine2 = Arc::clone(engine);
    let drain = tokio::spawn(async move { drain(&cfg2, &engine2, posts, workers).await });
    let published = publish_posts(client, cfg, relabelled.as_bytes()).await?;
    assert_eq!(published.stored as usize, posts, "{published:?}");
    let screened_again = drain.await??;
    let (screened_again, done) = screened_again;
    report(
        "end to end: publish -> worker -> results",
        posts,
        started,
        done,
    );
    assert_eq!(screened.0, screened_again.0);
    Ok(screened.1)
}

/// Runs `workers` workers, each on its own connection, until `posts` posts are screened.
/// Returns (screened, flagged) and the moment the last result was stored.
async fn drain(
    cfg: &StreamConfig,
    engine: &Arc<Engine>,
    posts: usize,
    workers: usize,
) -> Result<((u64, u64), Mark), patroli_stream::StreamError> {
    let mut stops = Vec::new();
    let mut done_at = None;
    let mut stats = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let worker = Worker::new(connect(cfg).await?, cfg.clone(), Arc::clone(engine));
        stats.push(worker.stats());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        tasks.push(tokio::spawn(worker.run(async move {
            let _ = stopped.await;
        })));
    }
    loop {
        let done: u64 = stats
            .iter_mut()
            .map(|s| s.borrow_and_update().screened)
            .sum();
        if done >= posts as u64 {
            // The clock stops here: stopping the workers (which may wait out an idle pull) is
            // not part of the throughput.
            done_at = Some(mark());
            break;
        }
        let changes: Vec<_> = stats.iter_mut().map(|s| Box::pin(s.changed())).collect();
        let (changed, _, _) = futures_util::future::select_all(changes).await;
        if changed.is_err() {
            break;
        }
    }
    for stop in stops {
        let _ = stop.send(());
    }
    let (mut screened, mut flagged) = (0, 0);
    for task in tasks {
        let s = task.await.expect("worker task")?;
        screened += s.screened;
        flagged += s.flagged;
    }
    Ok(((screened, flagged), done_at.unwrap_or_else(mark)))
}

/// Wall-clock start plus CPU seconds used so far by this process and by a local nats-server, so
/// the report says where the time went even on a machine busy with other work.
struct Mark {
    wall: Instant,
    own: Option<f64>,
    server: Option<f64>,
}

fn mark() -> Mark {
    Mark {
        wall: Instant::now(),
        own: cpu_seconds("self"),
        server: server_pid().and_then(|p| cpu_seconds(&p)),
    }
}

/// utime + stime of a process from /proc (Linux); `None` elsewhere.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th there.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn server_pid() -> Option<String> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().into_string().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        (comm.trim() == "nats-server").then_some(pid)
    })
}

fn report(what: &str, posts: usize, started: Mark, now: Mark) {
    let secs = now.wall.duration_since(started.wall).as_secs_f64();
    let cpu = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", b - a),
        _ => "?".into(),
    };
    println!(
        "{what:<44} {:>8.0} posts/s ({secs:.2} s wall; CPU s: patroli {}, nats-server {})",
        posts as f64 / secs,
        cpu(started.own, now.own),
        cpu(started.server, now.server),
    );
}
