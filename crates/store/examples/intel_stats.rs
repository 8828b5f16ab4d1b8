//! Measures the statistics queries and the network index load on a large synthetic store:
//! 1M posts (200k accounts in clusters of four sharing phones, one courier number on every 50th
//! post), 100k findings, 10k cases, takedowns and public reports, generated directly with SQL.
//!
//! ```sh
//! cargo run --release -p patroli-store --example intel_stats                  # SQLite in a temp dir
//! cargo run --release -p patroli-store --example intel_stats -- \
//!     --database postgres://postgres@127.0.0.1:5432/postgres                  # recreates patroli_intel_bench
//! cargo run --release -p patroli-store --example intel_stats -- --posts 100000 # smaller
//! ```
//!
//! Prints the generation time, each statistics query's time (best of five after one warm-up) and
//! the index load time and resident memory. Not a test: nothing here asserts a time.

use patroli_core::Category;
use patroli_core::network::{ContactValue, NetworkConfig, NetworkIndex};
use patroli_core::region::Regions;
use patroli_store::{PgStore, ScanCursor, SqliteStore, StatsFilter, StatsGroup, Store};
use std::time::{Duration, Instant};
use time::macros::datetime;

struct Args {
    database: Option<String>,
    posts: u64,
}

fn args() -> Args {
    let mut a = Args {
        database: None,
        posts: 1_000_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--database" => a.database = it.next(),
            "--posts" => a.posts = it.next().and_then(|v| v.parse().ok()).expect("--posts N"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// SQL fragments that differ between the two dialects.
struct Dialect {
    pg: bool,
}

impl Dialect {
    /// `SELECT ... FROM` a sequence 0..n as `n`.
    fn seq(&self, n: u64) -> String {
        if self.pg {
            format!("FROM generate_series(0, {}) AS s(n)", n - 1)
        } else {
            format!(
                "FROM (WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) s",
                n - 1
            )
        }
    }
    /// A deterministic uuid of `expr` in namespace `ns` (one per table).
    fn id(&self, ns: u32, expr: &str) -> String {
        if self.pg {
            format!("('{ns:08x}-0000-4000-8000-' || lpad(to_hex({expr}), 12, '0'))::uuid")
        } else {
            format!("printf('{ns:08x}-0000-4000-8000-%012x', {expr})")
        }
    }
    /// 2025-01-01 plus `days` (an integer expression) plus `hours`.
    fn ts(&self, days: &str, hours: &str) -> String {
        if self.pg {
            format!(
                "(timestamptz '2025-01-01 00:00:00+00' + ({days}) * interval '1 day' + ({hours}) * interval '1 hour')"
            )
        } else {
            format!(
                "strftime('%Y-%m-%dT%H:%M:%S.000000Z', '2025-01-01', '+' || ({days}) || ' days', '+' || ({hours}) || ' hours')"
            )
        }
    }
    fn json(&self, expr: &str) -> String {
        if self.pg {
            format!("({expr})::jsonb")
        } else {
            expr.to_string()
        }
    }
    fn bool(&self, expr: &str) -> String {
        if self.pg {
            format!("({expr})")
        } else {
            format!("CASE WHEN {expr} THEN 1 ELSE 0 END")
        }
    }
}

const ACCOUNTS: u64 = 200_000;

fn generation_sql(d: &Dialect, posts: u64) -> Vec<String> {
    let findings_every = 10;
    let cases = (posts / 100).max(10);
    let province_codes: Vec<String> = Regions::builtin()
        .provinces()
        .map(|p| format!("'{}'", p.code))
        .collect();
    let np = province_codes.len();
    // Region of an id: a province, half of them at regency level. Posts use n / 10 so that the
    // flagged tenth covers every province.
    let region = |n: &str| {
        let mut case = format!("CASE ({n}) % {np}");
        for (i, c) in province_codes.iter().enumerate() {
            case.push_str(&format!(" WHEN {i} THEN {c}"));
        }
        case.push_str(" END");
        format!("{case} || CASE WHEN ({n}) % 2 = 0 THEN '.71' ELSE '' END")
    };
    let platform = d.id(9, "1");
    let agency = d.id(8, "1");
    let account = |n: &str| d.id(4, &format!("({n}) % {ACCOUNTS}"));
    let categories = [
        "drugs",
        "unregistered_products",
        "trafficking_recruitment",
        "sexual_exploitation",
    ];
    let category = |n: &str| {
        let mut case = format!("CASE ({n}) % 4");
        for (i, c) in categories.iter().enumerate() {
            case.push_str(&format!(" WHEN {i} THEN '{c}'"));
        }
        case.push_str(" END");
        case
    };
    let cluster_phone = format!(
        "'+62812' || {}",
        if d.pg {
            format!("lpad((((n % {ACCOUNTS}) / 4) * 3 + (n / {ACCOUNTS}) % 3)::text, 8, '0')")
        } else {
            format!("printf('%08d', ((n % {ACCOUNTS}) / 4) * 3 + (n / {ACCOUNTS}) % 3)")
        }
    );
    vec![
        format!(
            "INSERT INTO platforms (id, name, created_at) VALUES ({platform}, 'bench', {})",
            d.ts("0", "0")
        ),
        format!(
            "INSERT INTO agencies (id, kind, name, created_at) VALUES ({agency}, 'BPOM', 'bench agency', {})",
            d.ts("0", "0")
        ),
        format!(
            "INSERT INTO accounts (id, platform_id, handle, display_name, first_seen) \
             SELECT {}, {platform}, 'acct' || n, NULL, {} {}",
            d.id(4, "n"),
            d.ts("n % 365", "0"),
            d.seq(ACCOUNTS.min(posts))
        ),
        format!(
            "INSERT INTO posts (id, platform_id, account_id, external_id, url, location, region_code, \
             first_seen, last_seen, current_version_id, version_count, content_hash, flagged) \
             SELECT {}, {platform}, {}, 'e' || n, NULL, NULL, {}, {ts}, {ts}, {}, 1, 'h', {} {}",
            d.id(1, "n"),
            account("n"),
            region("n / 10"),
            d.id(2, "n"),
            d.bool(&format!("n % {findings_every} = 0")),
            d.seq(posts),
            ts = d.ts("n % 365", "n % 24"),
        ),
        format!(
            "INSERT INTO post_versions (id, post_id, version, title, text, price, declared_category, \
             posted_at, content_hash, flagged, seen_at) \
             SELECT {}, {}, 1, NULL, 'jual barang nomor ' || n, NULL, NULL, NULL, 'h', {}, {} {}",
            d.id(2, "n"),
            d.id(1, "n"),
            d.bool(&format!("n % {findings_every} = 0")),
            d.ts("n % 365", "n % 24"),
            d.seq(posts),
        ),
        format!(
            "INSERT INTO findings (id, post_id, version_id, categories, primary_category, scores, score, \
             severity, severity_rank, reasons, entities, lexicon_version, status, created_at, updated_at) \
             SELECT {}, {}, {}, {}, {}, {}, 0.8, 'high', 3, {}, {}, 'bench', \
             CASE n % 3 WHEN 0 THEN 'pending' WHEN 1 THEN 'confirmed' ELSE 'dismissed' END, {ts}, {ts} \
             {} WHERE n % {findings_every} = 0",
            d.id(3, "n"),
            d.id(1, "n"),
            d.id(2, "n"),
            d.json(&format!("'[\"' || {} || '\"]'", category("n / 10"))),
            category("n / 10"),
            d.json("'{}'"),
            d.json("'[]'"),
            d.json("'[]'"),
            d.seq(posts),
            ts = d.ts("n % 365", "n % 24 + 1"),
        ),
        format!(
            "INSERT INTO entities (post_id, version_id, kind, value) SELECT {}, {}, 'phone', {cluster_phone} {}",
            d.id(1, "n"),
            d.id(2, "n"),
            d.seq(posts),
        ),
        format!(
            "INSERT INTO entities (post_id, version_id, kind, value) SELECT {}, {}, 'phone', '+6281100000000' {} WHERE n % 50 = 0",
            d.id(1, "n"),
            d.id(2, "n"),
            d.seq(posts),
        ),
        format!(
            "INSERT INTO cases (id, title, category, status, state, lead_agency_id, lead_unit_id, region_code, \
             legal_basis, created_by, created_at, updated_at, letter, chain_head) \
             SELECT {}, 'kasus ' || n, {}, CASE WHEN n % 4 = 0 THEN 'closed' ELSE 'open' END, {}, {agency}, NULL, {}, \
             {}, 'bench', {ts}, {ts}, NULL, 'x' {}",
            d.id(5, "n"),
            category("n"),
            d.json("'{}'"),
            region("n"),
            d.json("'[]'"),
            d.seq(cases),
            ts = d.ts("n % 365", "0"),
        ),
        format!(
            "INSERT INTO suspects (id, case_id, name, role, note, created_at) \
             SELECT {}, {}, 'tersangka', 'seller', '', {} {} WHERE n % 2 = 0",
            d.id(6, "n"),
            d.id(5, "n"),
            d.ts("0", "0"),
            d.seq(cases),
        ),
        format!(
            "INSERT INTO takedowns (id, platform_id, case_id, account_id, agency_id, requested_by, legal_basis, \
             urgency, category, status, reason, requested_at, due_at, acknowledged_at, answered_at) \
             SELECT {}, {platform}, {}, NULL, {agency}, 'bench', {}, 'normal', {}, \
             CASE WHEN n % 3 = 0 THEN 'pending' ELSE 'taken_down' END, 'r', {}, {}, NULL, \
             CASE WHEN n % 3 = 0 THEN NULL ELSE {} END {}",
            d.id(7, "n"),
            d.id(5, "n"),
            d.json("'[]'"),
            category("n"),
            d.ts("n % 365", "0"),
            d.ts("n % 365", "24"),
            d.ts("n % 365", "n % 48"),
            d.seq(cases),
        ),
        format!(
            "INSERT INTO public_reports (id, tracking_code, channel, category, region_code, link, text, \
             phone_or_account, contact_sealed, status, assigned_unit_id, assigned_user_id, screening, \
             duplicate_of, entered_by, created_at, updated_at) \
             SELECT {}, 'T' || n, 'web', {}, {}, NULL, 'laporan', NULL, NULL, \
             CASE WHEN n % 2 = 0 THEN 'acted_on' ELSE 'received' END, NULL, NULL, {}, NULL, NULL, {ts}, {ts} {}",
            d.id(10, "n"),
            category("n"),
            region("n"),
            d.json("'{}'"),
            d.seq(cases),
            ts = d.ts("n % 365", "0"),
        ),
        "ANALYZE".to_string(),
    ]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

async fn best_of<F, Fut, T>(mut f: F) -> (Duration, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = f().await; // warm-up
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        out = f().await;
        best = best.min(t.elapsed());
    }
    (best, out)
}

#[tokio::main]
async fn main() {
    let a = args();
    let _dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let store: Box<dyn Store> = match &a.database {
        Some(url) if url.starts_with("postgres") => {
            // A database of its own, so the numbers do not depend on what else is stored.
            let admin = sqlx::PgPool::connect(url).await.expect("connect");
            sqlx::query("DROP DATABASE IF EXISTS patroli_intel_bench")
                .execute(&admin)
                .await
                .unwrap();
            sqlx::query("CREATE DATABASE patroli_intel_bench")
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let (base, _) = url.rsplit_once('/').expect("URL with a database name");
            let store = PgStore::connect(&format!("{base}/patroli_intel_bench"))
                .await
                .unwrap();
            let d = Dialect { pg: true };
            let mut tx = store.pg_pool().begin().await.unwrap();
            for sql in generation_sql(&d, a.posts) {
                if sql == "ANALYZE" {
                    continue;
                }
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
            sqlx::query("ANALYZE")
                .execute(store.pg_pool())
                .await
                .unwrap();
            Box::new(store)
        }
        Some(other) => panic!("--database takes a postgres:// URL, not {other}"),
        None => {
            let store = SqliteStore::open(_dir.path()).await.unwrap();
            let d = Dialect { pg: false };
            let mut tx = store.sqlite_pool().begin().await.unwrap();
            for sql in generation_sql(&d, a.posts) {
                if sql == "ANALYZE" {
                    continue;
                }
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
            sqlx::query("ANALYZE")
                .execute(store.sqlite_pool())
                .await
                .unwrap();
            Box::new(store)
        }
    };
    println!(
        "backend {:?}: generated {} posts, {} findings, {} cases in {:.1} s",
        store.backend(),
        a.posts,
        a.posts / 10,
        (a.posts / 100).max(10),
        started.elapsed().as_secs_f64()
    );

    let filters = [
        ("all", StatsFilter::default()),
        (
            "category=drugs",
            StatsFilter {
                category: Some(Category::Drugs),
                ..Default::default()
            },
        ),
        (
            "from..to (one quarter)",
            StatsFilter {
                from: Some(datetime!(2025-04-01 0:00 UTC)),
                to: Some(datetime!(2025-07-01 0:00 UTC)),
                ..Default::default()
            },
        ),
        (
            "scope=65",
            StatsFilter {
                scope_prefix: Some("65".into()),
                ..Default::default()
            },
        ),
    ];
    println!(
        "{:<28} {:<10} {:>10} {:>10} {:>6}",
        "filter", "group", "findings", "workflow", "rows"
    );
    for (name, filter) in &filters {
        for (gname, group) in [
            ("region", StatsGroup::Region),
            ("category", StatsGroup::Category),
            ("month", StatsGroup::Month),
        ] {
            let (tf, rows) = best_of(|| store.finding_counts(group, filter)).await;
            let (tw, _) = best_of(|| store.workflow_counts(group, filter)).await;
            println!(
                "{name:<28} {gname:<10} {:>8.1}ms {:>8.1}ms {:>6}",
                tf.as_secs_f64() * 1e3,
                tw.as_secs_f64() * 1e3,
                rows.unwrap().len()
            );
        }
    }

    // The network index as the server fills it: every (account, contact) pair, in pages.
    let rss0 = rss_mib();
    let t = Instant::now();
    let mut index = NetworkIndex::new(NetworkConfig::default());
    let mut cursor = ScanCursor::default();
    let mut pairs = 0u64;
    loop {
        let (rows, next) = store.account_entities(&cursor, 20_000).await.unwrap();
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if let Some(v) = ContactValue::new(patroli_core::network::ContactKind::Phone, &r.value)
            {
                index.add(r.account_id, std::slice::from_ref(&v));
            }
        }
        pairs += rows.len() as u64;
        cursor = next;
    }
    let load = t.elapsed();
    let stats = index.stats();
    println!(
        "network index: {pairs} contact rows loaded in {:.1} s; {} accounts, {} values, {} networks \
         (largest {}), {} common values; RSS +{:.0} MiB",
        load.as_secs_f64(),
        stats.accounts,
        stats.values,
        stats.networks,
        stats.largest_network,
        stats.common_values,
        rss_mib() - rss0
    );
    // What a statistics request does for the `networks` column (cached per index generation).
    let t = Instant::now();
    let listed = index.networks(2).len();
    println!(
        "network index: listing all {listed} networks (the stats `networks` column) took {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    // Incremental: one more post's contacts at a time.
    let t = Instant::now();
    let n = 10_000u32;
    for i in 0..n {
        let account = patroli_core::AccountId::new();
        let v = ContactValue::new(
            patroli_core::network::ContactKind::Phone,
            &format!("+62813{:08}", i / 2),
        )
        .unwrap();
        index.add(account, &[v]);
    }
    println!(
        "network index: {n} incremental adds, {:.2} µs each",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}
