//! Ingest throughput of `Store::ingest_batch`, measured without the HTTP layer.
//!
//!     cargo run --release -p patroli-store --example ingest_bench -- \
//!         [--posts 100000] [--batch 1000] [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//!
//! SQLite runs in a temporary directory; PostgreSQL (when `--postgres` or
//! `PATROLI_TEST_POSTGRES_URL` is given) in a fresh `patroli_bench_*` database dropped at the end.
//! Posts are synthetic: ~200 characters, one in ten flagged with reasons, most carrying a phone
//! number. Each run ingests everything once (new posts), then again (unchanged re-sends).

use patroli_core::{Category, Severity};
use patroli_detect::{Entity, EntityKind, Field, Reason, ReasonKind, Screening};
use patroli_store::{
    FindingFilter, IngestPost, IngestStatus, PgStore, ScreenedPost, SqliteStore, Store,
};
use sqlx::AssertSqlSafe;
use std::collections::BTreeMap;
use std::time::Instant;

fn make_post(i: usize) -> ScreenedPost {
    let flagged = i.is_multiple_of(10);
    let phone = format!("+62812{:08}", i % 50_000);
    let text = format!(
        "Jual barang nomor {i} kondisi baru, harga nego, kirim ke seluruh Indonesia. \
         Hubungi WA {phone} untuk info lebih lanjut. Stok terbatas, order sekarang juga ya kak {}",
        if flagged {
            "obat keras tanpa resep"
        } else {
            "kaos polos"
        }
    );
    let mut scores = BTreeMap::new();
    let mut reasons = Vec::new();
    if flagged {
        scores.insert(Category::Drugs, 0.8);
        reasons.push(Reason {
            rule: "term:obat_keras".into(),
            kind: ReasonKind::Term,
            category: Some(Category::Drugs),
            field: Field::Text,
            start: 10,
            end: 20,
            matched: "obat keras".into(),
            weight: 0.6,
            note: "obat keras dijual bebas".into(),
        });
    }
    let entities = if i % 4 == 3 {
        Vec::new()
    } else {
        vec![Entity {
            kind: EntityKind::Phone,
            value: phone,
            field: Field::Text,
            start: 0,
            end: 10,
            attrs: BTreeMap::new(),
        }]
    };
    ScreenedPost {
        post: IngestPost {
            external_id: format!("ext-{i}"),
            url: Some(format!("https://shop.example/p/{i}")),
            account_handle: Some(format!("seller{}", i % 5_000)),
            account_name: None,
            title: Some(format!("Barang {i}")),
            text,
            price: Some(50_000.0 + i as f64),
            declared_category: Some("Fashion".into()),
            posted_at: None,
            location: Some("Tarakan".into()),
            region_code: Some(
                if i.is_multiple_of(3) {
                    "65.71"
                } else {
                    "64.71"
                }
                .into(),
            ),
        },
        screening: Screening {
            flagged,
            score: if flagged { 0.8 } else { 0.1 },
            categories: if flagged {
                vec![Category::Drugs]
            } else {
                vec![]
            },
            scores,
            severity: if flagged {
                Severity::High
            } else {
                Severity::None
            },
            reasons,
            entities,
            lexicon_version: "bench".into(),
        },
    }
}

async fn run(name: &str, store: &dyn Store, posts: usize, batch: usize) {
    for (round, expect) in [
        ("new", IngestStatus::Created),
        ("resend", IngestStatus::Unchanged),
    ] {
        let mut batches: Vec<Vec<ScreenedPost>> = Vec::new();
        let mut i = 0;
        while i < posts {
            let end = (i + batch).min(posts);
            batches.push((i..end).map(make_post).collect());
            i = end;
        }
        let mut latencies = Vec::with_capacity(batches.len());
        let start = Instant::now();
        for b in batches {
            let t = Instant::now();
            let out = store.ingest_batch("benchshop", b).await.expect("ingest");
            latencies.push(t.elapsed());
            assert!(out.iter().all(|o| o.status == expect));
        }
        let secs = start.elapsed().as_secs_f64();
        latencies.sort();
        let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
        println!(
            "{name:>10} {round:>6}: {posts} posts in {secs:.2} s = {:.0} posts/s \
             (batch {batch}, p99 batch {:.1} ms)",
            posts as f64 / secs,
            p99.as_secs_f64() * 1000.0
        );
    }
    // The review queue over what was just stored: first page, scoped page, full-text search.
    let filters = [
        ("queue", FindingFilter::default()),
        (
            "scope 65",
            FindingFilter {
                scope_prefix: Some("65".into()),
                ..FindingFilter::default()
            },
        ),
        (
            "fts",
            FindingFilter {
                text: Some("resep".into()),
                ..FindingFilter::default()
            },
        ),
    ];
    for (label, f) in filters {
        let t = Instant::now();
        let page = store.list_findings(&f).await.expect("list findings");
        println!(
            "{name:>10} {label:>8}: first page of {} findings in {:.1} ms",
            page.total,
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
}

#[tokio::main]
async fn main() {
    let mut posts = 100_000usize;
    let mut batch = 1_000usize;
    let mut pg_url = std::env::var("PATROLI_TEST_POSTGRES_URL").ok();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("flag needs a value");
        match a.as_str() {
            "--posts" => posts = value().parse().expect("--posts N"),
            "--batch" => batch = value().parse().expect("--batch N"),
            "--postgres" => pg_url = Some(value()),
            "--no-postgres" => pg_url = None,
            other => panic!("unknown argument {other}"),
        }
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(dir.path()).await.expect("open sqlite");
    run("sqlite", &sqlite, posts, batch).await;
    sqlite.close().await;

    if let Some(url) = pg_url {
        let admin = sqlx::PgPool::connect(&url).await.expect("connect postgres");
        let db = format!("patroli_bench_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .execute(&admin)
            .await
            .expect("create database");
        let base = url.split('?').next().unwrap_or(&url);
        let cut = base
            .rfind('/')
            .filter(|&i| i > base.find("://").map_or(0, |s| s + 2));
        let db_url = match cut {
            Some(i) => format!("{}/{db}", &base[..i]),
            None => format!("{base}/{db}"),
        };
        let pg = PgStore::connect(&db_url).await.expect("open postgres");
        run("postgres", &pg, posts, batch).await;
        pg.close().await;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE {db} WITH (FORCE)")))
            .execute(&admin)
            .await
            .expect("drop database");
    }
}
