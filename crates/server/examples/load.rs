//! Load measurement for the ingest API (not a test: numbers depend on the machine).
//!
//! 1. Throughput: N synthetic posts (default 100,000) in batches (default 1,000) over HTTP.
//! 2. Latency: single-post ingest requests from C concurrent clients (default 50); p50/p95/p99.
//!
//! The server runs in this process on 127.0.0.1 (port 0) over a fresh SQLite data directory, or
//! PostgreSQL with `--database postgres://...`. Run it optimised:
//!
//! ```text
//! cargo run --release -p patroli-server --example load -- [--database URL] [--posts N]
//!     [--batch N] [--senders N] [--clients N] [--single N] [--data DIR]
//! ```

/// The allocator `patroli serve` ships with (crates/patroli/src/main.rs), so this measures the
/// server as deployed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use patroli_detect::Engine;
use patroli_server::{AppState, ServerConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    database: Option<String>,
    /// Keep the SQLite data here instead of a temp dir (to inspect it afterwards).
    data: Option<String>,
    posts: usize,
    batch: usize,
    senders: usize,
    clients: usize,
    single: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        database: None,
        data: None,
        posts: 100_000,
        batch: 1_000,
        senders: 2,
        clients: 50,
        single: 5_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database" => a.database = Some(value()),
            "--data" => a.data = Some(value()),
            "--posts" => a.posts = value().parse().expect("--posts N"),
            "--batch" => a.batch = value().parse().expect("--batch N"),
            "--senders" => a.senders = value().parse().expect("--senders N"),
            "--clients" => a.clients = value().parse().expect("--clients N"),
            "--single" => a.single = value().parse().expect("--single N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Synthetic posts: mostly ordinary listings, some with trade vocabulary, all distinct.
fn post(run: &str, i: usize) -> Value {
    const TEXTS: &[&str] = &[
        "Jual kaos polos cotton combed 30s, ukuran S M L XL, bahan adem, kirim cepat dari Jakarta",
        "Ready pil koplo isi 1000 butir, kirim aman rahasia, minat DM atau WA 0812-3456-7890",
        "Lowongan kerja admin online di Kamboja gaji 15 juta, tanpa pengalaman, tiket ditanggung",
        "Krim pemutih wajah tanpa BPOM hasil permanen 3 hari, original racikan dokter",
        "Sepatu lari pria ringan, garansi 1 bulan, bisa COD wilayah Bandung dan sekitarnya",
        "Open BO area Tarakan, ST 300 LT 800, no PHP, DP dulu ya kak",
        "Madu hutan asli dari Kalimantan, 500 ml, sudah terdaftar P-IRT 1234567890123-45",
        "Dijual HP bekas mulus, baterai awet, lengkap dengan dus dan charger",
    ];
    const PLACES: &[&str] = &[
        "kota tarakan",
        "Jakarta Selatan",
        "Balikpapan",
        "Bandung",
        "Medan",
    ];
    json!({
        "id": format!("{run}-{i}"),
        "title": format!("Produk {i}"),
        "text": format!("{} (kode {i})", TEXTS[i % TEXTS.len()]),
        "account": format!("toko_{}", i % 997),
        "price": 10_000 + (i % 50) * 1_000,
        "location": PLACES[i % PLACES.len()],
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let location = args
        .database
        .clone()
        .or(args.data.clone())
        .unwrap_or_else(|| dir.path().to_str().unwrap().to_string());
    let store = patroli_store::open(&location).await.expect("open store");
    let backend = format!("{:?}", store.backend());

    let (token, hash) = patroli_server::new_api_token();
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let platform = store.ensure_platform(&format!("load-{run}")).await.unwrap();
    store
        .create_api_token(patroli_store::NewApiToken {
            token_hash: hash,
            name: format!("load {run}"),
            role: patroli_core::Role::Platform,
            platform_id: Some(platform.id),
            user_id: None,
            created_by: None,
        })
        .await
        .unwrap();

    let state = AppState::new(
        store.clone(),
        Arc::new(Engine::builtin()),
        ServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/posts", listener.local_addr().unwrap());
    tokio::spawn(patroli_server::serve(listener, state));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients.max(args.senders))
        .build()
        .unwrap();

    // ---- 1. batch throughput
    let batches: Vec<Vec<Value>> = (0..args.posts)
        .map(|i| post(&run, i))
        .collect::<Vec<_>>()
        .chunks(args.batch)
        .map(<[Value]>::to_vec)
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(batches));
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..args.senders {
        let (queue, http, url, token) = (queue.clone(), http.clone(), url.clone(), token.clone());
        senders.push(tokio::spawn(async move {
            let (mut stored, mut flagged) = (0usize, 0usize);
            loop {
                let Some(batch) = queue.lock().unwrap().pop() else {
                    break;
                };
                let res = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&batch)
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().is_success(), "batch failed: {}", res.status());
                let out: Vec<Value> = res.json().await.unwrap();
                stored += out.iter().filter(|r| r.get("post_id").is_some()).count();
                flagged += out.iter().filter(|r| r["flagged"] == true).count();
            }
            (stored, flagged)
        }));
    }
    let (mut stored, mut flagged) = (0, 0);
    for s in senders {
        let (a, b) = s.await.unwrap();
        stored += a;
        flagged += b;
    }
    let elapsed = started.elapsed();
    println!(
        "{backend}: ingested {stored} posts ({flagged} flagged) in batches of {} with {} sender(s): {:.2} s, {:.0} posts/s",
        args.batch,
        args.senders,
        elapsed.as_secs_f64(),
        stored as f64 / elapsed.as_secs_f64()
    );

    // ---- 2. single-post latency under concurrency
    let per_client = args.single.div_ceil(args.clients);
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..args.clients {
        let (http, url, token, run) = (http.clone(), url.clone(), token.clone(), run.clone());
        clients.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for k in 0..per_client {
                let i = 10_000_000 + c * per_client + k;
                let t = Instant::now();
                let res = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!([post(&run, i)]))
                    .send()
                    .await
                    .unwrap();
                assert!(res.status().is_success(), "single failed: {}", res.status());
                let _ = res.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for c in clients {
        lat.extend(c.await.unwrap());
    }
    let elapsed = started.elapsed();
    lat.sort();
    println!(
        "{backend}: {} single-post requests from {} clients in {:.2} s ({:.0} req/s): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        args.clients,
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.95).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
    store.close().await;
}
