//! Network index at scale: `cargo bench -p patroli-core --bench network`.
//!
//! First builds the index from 1M synthetic posts (250k accounts run by 40k operators, each post
//! with its operator's phone or bank account, sometimes a courier call-centre number shared by
//! everyone, and a text fingerprint of a template ad) and prints the wall time and the peak heap
//! measured by a counting allocator. Then divan times single `add` calls and lookups on that size.
//! Under `cargo test` (no `--bench` argument) it runs on 20k posts so the code path stays checked.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use patroli_core::AccountId;
use patroli_core::network::{ContactKind, ContactValue, NetworkConfig, NetworkIndex};
use uuid::Uuid;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "ready",
    "pil",
    "obat",
    "kirim",
    "aman",
    "rahasia",
    "cod",
    "minat",
    "wa",
    "admin",
    "butir",
    "strip",
    "box",
    "murah",
    "grosir",
    "original",
    "stok",
    "banyak",
    "paket",
    "hemat",
    "jual",
    "asli",
    "packing",
    "rapi",
    "tanpa",
    "resep",
    "seluruh",
    "indonesia",
    "order",
    "sekarang",
    "promo",
    "hari",
    "ini",
    "saja",
    "langsung",
    "chat",
    "dm",
    "inbox",
    "terpercaya",
    "amanah",
];

/// One synthetic post: (account, contact values).
fn post(rng: &mut Rng, accounts: u64, operators: u64) -> (AccountId, Vec<ContactValue>) {
    let account = rng.below(accounts);
    let operator = account % operators;
    let mut values = Vec::with_capacity(6);
    let phone = format!("0812{:08}", operator * 7 + rng.below(2));
    values.push(ContactValue::new(ContactKind::Phone, &phone).expect("valid phone"));
    if rng.below(3) == 0 {
        let bank = format!("BCA:{:010}", operator * 13);
        values.push(ContactValue::new(ContactKind::BankAccount, &bank).expect("valid bank"));
    }
    if rng.below(10) == 0 {
        // A courier's number printed in many ads: must become a common value.
        values.push(ContactValue::new(ContactKind::Phone, "0813-0000-0001").expect("valid"));
    }
    // Each operator reuses one template with small edits; 12-20 words.
    let mut t = Rng(operator);
    let len = 12 + t.below(9) as usize;
    let mut text: Vec<&str> = (0..len)
        .map(|_| WORDS[t.below(WORDS.len() as u64) as usize])
        .collect();
    let edit = rng.below(len as u64) as usize;
    text[edit] = WORDS[rng.below(WORDS.len() as u64) as usize];
    values.extend(ContactValue::text_fingerprint(&text.join(" ")));
    (AccountId(Uuid::from_u128(u128::from(account) + 1)), values)
}

fn build(posts: u64) -> NetworkIndex {
    let accounts = posts / 4;
    let operators = (accounts / 6).max(1);
    let mut rng = Rng(42);
    let mut index = NetworkIndex::new(NetworkConfig::default());
    for _ in 0..posts {
        let (account, values) = post(&mut rng, accounts, operators);
        index.add(account, &values);
    }
    index
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let posts: u64 = if benching { 1_000_000 } else { 20_000 };
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let index = build(posts);
    let elapsed = start.elapsed();
    let live = CURRENT.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let stats = index.stats();
    println!(
        "network index: {posts} posts in {:.2} s ({:.1} µs/post); heap live {:.1} MiB, peak {:.1} MiB; \
         {} accounts, {} values, {} networks (largest {}), {} common values",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / posts as f64,
        live as f64 / (1024.0 * 1024.0),
        peak as f64 / (1024.0 * 1024.0),
        stats.accounts,
        stats.values,
        stats.networks,
        stats.largest_network,
        stats.common_values,
    );
    assert!(stats.networks > 0 && stats.common_values >= 1);
    drop(index);
    // The same synthetic posts without the index, to tell generation cost from indexing cost.
    let start = Instant::now();
    let mut rng = Rng(42);
    let mut values = 0usize;
    for _ in 0..posts {
        values += post(&mut rng, posts / 4, (posts / 24).max(1)).1.len();
    }
    println!(
        "  of which generating the posts and fingerprints alone: {:.2} s ({values} values)",
        start.elapsed().as_secs_f64()
    );
    divan::main();
}

/// One more post into an index that already holds 200k.
#[divan::bench(sample_count = 20, sample_size = 100)]
fn add_one_post(bencher: divan::Bencher) {
    let mut index = build(200_000);
    let mut rng = Rng(7);
    bencher.bench_local(|| {
        let (account, values) = post(&mut rng, 50_000, 50_000 / 6);
        index.add(account, &values)
    });
}

/// "Search by any contact" on an index of 200k posts.
#[divan::bench(sample_count = 20, sample_size = 100)]
fn lookup_phone(bencher: divan::Bencher) {
    let index = build(200_000);
    let mut rng = Rng(9);
    bencher.bench_local(|| {
        let phone = format!("0812{:08}", rng.below(50_000 / 6) * 7);
        index
            .lookup(&ContactValue::new(ContactKind::Phone, &phone).expect("valid"))
            .map(|l| l.networks.len())
    });
}
