//! The whole `patroli scan` pipeline per post: parse one JSON line, screen it (normalize, match,
//! extract, score, explain), serialize the JSON result. Run with `cargo bench -p patroli`.
//!
//! The corpus is generated here (deterministic, our own phrases, mostly clean with some suspicious
//! posts, lengths from a chat line to a long caption) so the benchmark needs no files. Set
//! `PATROLI_BENCH_CORPUS=path.jsonl` to measure a real file instead (e.g. from scripts/gen_corpus.py).
//! Counters report posts/s and bytes/s; `per_core` runs on one thread, `streaming` uses every core
//! through the same chunked reader as the binary.

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use patroli::input::{InputFormat, Source};
use patroli::scan::{Tally, scan_json_line, screen_sources};
use patroli_detect::Engine;

fn main() {
    divan::main();
}

const CLEAN: &[&str] = &[
    "kaos polos cotton combed size L XL, adem dipakai harian",
    "beras pandan wangi 5 kg pulen, kirim hari ini",
    "telur ayam kampung isi 30 butir segar",
    "garam kristal dapur dan es batu untuk usaha minuman",
    "tablet 10 inch second mulus lengkap dus",
    "lampu LED strip RGB 5 meter pakai remote",
    "apotek melayani resep dokter, obat keras wajib resep",
    "polisi menangkap pengedar di pelabuhan, barang bukti disita",
    "lowongan resmi ke Korea lewat BP2MI, wajib lulus EPS-TOPIK",
    "serum wajah terdaftar BPOM NA18171234567 aman untuk kulit sensitif",
    "halo kak paket sudah dikirim ya, resi menyusul",
    "promo akhir bulan diskon 50 persen semua produk",
];

const SUSPICIOUS: &[&str] = &[
    "ready pil double L isi 100 butir, kirim aman disamarkan",
    "jual tramadol strip tanpa resep COD",
    "krim pemutih racikan tanpa BPOM putih permanen 3 hari",
    "dicari admin sosmed kerja di Kamboja gaji 15 juta tanpa pengalaman, visa turis ditanggung",
    "open BO malam ini ST 300 LT 800 free room DP dulu",
    "t r a m a d o l ready isi 50 btr, WA 0812-3456-7890",
];

/// `n` JSON lines, built by a fixed linear congruential generator so every run sees the same corpus.
fn corpus(n: usize) -> Vec<String> {
    if let Ok(path) = std::env::var("PATROLI_BENCH_CORPUS") {
        let text = std::fs::read_to_string(&path).expect("PATROLI_BENCH_CORPUS is readable");
        return text.lines().take(n).map(str::to_owned).collect();
    }
    let mut state: u64 = 0x5eed;
    let mut next = |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    (0..n)
        .map(|i| {
            let mut parts = Vec::new();
            if next(100) < 20 {
                parts.push(SUSPICIOUS[next(SUSPICIOUS.len())]);
            }
            for _ in 0..1 + [0, 0, 1, 2, 4, 7][next(6)] {
                parts.insert(next(parts.len() + 1), CLEAN[next(CLEAN.len())]);
            }
            if next(100) < 25 {
                parts.push("hubungi WA 0813-2222-1111 atau telegram @tokoku");
            }
            let post = serde_json::json!({
                "id": format!("b{i}"),
                "text": parts.join(". "),
                "platform": "shopee",
                "account": {"handle": format!("seller{}", next(500))},
            });
            post.to_string()
        })
        .collect()
}

const POSTS: usize = 20_000;

#[divan::bench(sample_count = 10)]
fn per_core(bencher: Bencher) {
    let engine = Engine::builtin();
    let lines = corpus(POSTS);
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut out = Vec::with_capacity(1 << 20);
    bencher
        .counter(ItemsCount::new(lines.len()))
        .counter(BytesCount::new(bytes))
        .bench_local(|| {
            let mut flagged = 0usize;
            for line in &lines {
                out.clear();
                flagged += usize::from(scan_json_line(&engine, line.as_bytes(), &mut out).unwrap());
            }
            divan::black_box(flagged)
        });
}

#[divan::bench(sample_count = 10)]
fn streaming(bencher: Bencher) {
    let engine = Engine::builtin();
    let mut text = corpus(POSTS).join("\n");
    text.push('\n');
    let text = text.into_bytes();
    let progress = indicatif::ProgressBar::hidden();
    bencher
        .counter(ItemsCount::new(POSTS))
        .counter(BytesCount::new(text.len()))
        .bench_local(|| {
            let source = Source {
                name: "bench".into(),
                format: InputFormat::Jsonl,
                len: None,
                reader: Box::new(std::io::Cursor::new(text.clone())),
            };
            let mut tally = Tally::default();
            let mut written = 0usize;
            screen_sources(
                &engine,
                vec![source],
                &progress,
                &mut tally,
                |_, post, screening| {
                    let mut out = Vec::new();
                    serde_json::to_writer(
                        &mut out,
                        &patroli::scan::ScanResult::new(&post.id, &screening),
                    )
                    .unwrap();
                    Ok(out)
                },
                |out| {
                    written += out.len();
                    Ok(())
                },
                |_| Ok(()),
            )
            .unwrap();
            assert_eq!(tally.scanned as usize, POSTS);
            divan::black_box(written)
        });
}
