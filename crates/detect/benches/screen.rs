//! Whole-pipeline throughput: screen a few thousand varied synthetic posts (sales, news, clean
//! listings, chat, obfuscated text). Run with `cargo bench -p patroli-detect --bench screen`;
//! posts/s = posts per iteration / median time.

use patroli_detect::{Engine, Post};

const TEMPLATES: &[&str] = &[
    "Ready tr4m4d0l 50mg isi 10 butir, tanpa resep, COD {city}. WA 0812-{n}-3309",
    "Kaos polos cotton combed 30s size S M L XL, harga {n}rb, kirim dari {city}",
    "Satresnarkoba Polres {city} menangkap tersangka pengedar sabu, barang bukti {n} gram disita.",
    "LOKER KAMBOJA admin chat gaji 1.200 USD tanpa pengalaman, tiket visa ditanggung. WA 0857 {n} 0098",
    "open BO area {city} ST 300 LT 800 free room no PHP, DP dulu via dana 0813{n}5678",
    "Cream racikan putih permanen 7 hari tanpa BPOM, reseller welcome, {n}rb",
    "Serum wajah BPOM NA18171234567 official store {city}, harga {n}rb",
    "Halo kak, paketnya sudah sampai di {city}? Terima kasih sudah belanja, ditunggu ulasannya ⭐⭐⭐⭐⭐",
    "t r a m a d o l  r e a d y  {n}  —  𝐝𝐨𝐮𝐛𝐥𝐞 𝐋 ｌｌ kirim rahasia ke {city}",
    "Promo paket internet 25GB hanya Rp{n}.000, aktifkan di *123# sebelum akhir bulan. S&K berlaku.",
    "Lowongan resmi program G to G Korea (EPS-TOPIK) melalui BP2MI, tidak dipungut biaya. Info {city}.",
    "Pijat refleksi keluarga & baby spa {city}, terapis bersertifikat. Booking 0812 {n} 1122",
];
const CITIES: &[&str] = &[
    "Jaksel", "Bandung", "Medan", "Surabaya", "Makassar", "Tarakan", "Batam",
];

fn corpus(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let t = TEMPLATES[i % TEMPLATES.len()];
            t.replace("{city}", CITIES[i % CITIES.len()])
                .replace("{n}", &(1000 + i * 37 % 9000).to_string())
        })
        .collect()
}

fn main() {
    divan::main();
}

#[divan::bench(args = [4000])]
fn screen_posts(bencher: divan::Bencher, n: usize) {
    let engine = Engine::builtin();
    let posts = corpus(n);
    let bytes: usize = posts.iter().map(String::len).sum();
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .counter(divan::counter::BytesCount::new(bytes))
        .bench_local(|| {
            let mut flagged = 0usize;
            for p in &posts {
                if engine
                    .screen(&Post {
                        text: p,
                        ..Post::default()
                    })
                    .flagged
                {
                    flagged += 1;
                }
            }
            divan::black_box(flagged)
        });
}

#[divan::bench]
fn build_engine() -> Engine {
    Engine::builtin()
}
