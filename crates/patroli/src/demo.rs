//! `patroli demo`: the one-command tour. Scans a sample compiled into the binary, prints a summary
//! table (posts, flagged per category) and explains the three strongest findings.
//!
//! The sample is a handful of posts written for this demo (clean look-alikes included), so the demo
//! runs anywhere without files. When the bundled `samples/demo.jsonl` lands it replaces [`SAMPLE`].

use crate::Outcome;
use crate::cli::{ColorChoice, EngineArgs};
use crate::engine_setup::build_engine;
use crate::explain::explain;
use crate::input::{InputFormat, InputPost, Source};
use crate::scan::{Tally, progress_bar, screen_sources};
use patroli_detect::{Category, Screening};
use std::fmt::Write;

/// Posts written for the demo: suspicious ones in each category and clean look-alikes.
pub const SAMPLE: &str = r#"{"id":"demo-01","title":"Kaos Oversize Polos Hitam","text":"ready kak isi 1 strip 10 butir logo LL, 1 box 1000 btr. packing aman disamarkan, minat WA 0812-3456-7890","platform":"tokopedia","declared_category":"Fashion Pria","price":1200000}
{"id":"demo-02","text":"Kaos polos size M L XL XXL, bahan double layer adem, harga grosir per lusin","platform":"shopee","declared_category":"Fashion Pria"}
{"id":"demo-03","text":"jual sabu ready, pil double L 100 butir, tramadol strip. COD aman, DM atau WA 0812-3456-7890","platform":"instagram"}
{"id":"demo-04","text":"Polres mengamankan kurir sabu 2 kg di pelabuhan, BNN mengimbau warga melapor peredaran narkoba","platform":"news"}
{"id":"demo-05","text":"Krim pemutih racikan tanpa BPOM, putih permanen 3 hari, mengandung merkuri aman kok. Order via DM","platform":"instagram","account":{"handle":"glowcream.id","name":"Glow Cream"}}
{"id":"demo-06","text":"Dicari admin sosmed kerja di Kamboja, gaji 15 juta, tanpa pengalaman, cukup paspor, visa turis dan tiket ditanggung. Hubungi telegram @lokerluar","platform":"facebook"}
{"id":"demo-07","text":"Program G to G ke Korea lewat BP2MI, wajib lulus EPS-TOPIK, daftar resmi di kantor dinas tenaga kerja","platform":"web"}
{"id":"demo-08","text":"open BO malam ini, ST 300 LT 800, free room, DP dulu ya no PHP. wa 0813-2222-1111","platform":"x","account":"@cewek.malam"}
{"id":"demo-09","text":"Garam kristal 1 kg dan es batu kristal untuk usaha minuman, kirim hari ini","platform":"shopee"}
{"id":"demo-10","text":"Tablet 10 inch second mulus, plus LED strip RGB 5 meter, harga nego","platform":"facebook"}
{"id":"demo-11","text":"Pijat bayi dan pijat refleksi keluarga, terapis bersertifikat, datang ke rumah","platform":"instagram"}
{"id":"demo-12","text":"Obat pelangsing herbal tanpa izin edar, turun 10 kg seminggu, kapsul isi sibutramin","platform":"tiktok"}
"#;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many findings to explain.
    #[arg(long, default_value_t = 3)]
    pub explain: usize,
    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: DemoArgs) -> anyhow::Result<Outcome> {
    let engine = build_engine(&args.engine)?;
    let source = Source {
        name: "demo sample".into(),
        format: InputFormat::Jsonl,
        len: None,
        reader: Box::new(std::io::Cursor::new(SAMPLE.as_bytes())),
    };
    let mut tally = Tally::default();
    let mut results: Vec<(InputPost, Screening)> = Vec::new();
    screen_sources(
        &engine,
        vec![source],
        &progress_bar(None).with_finish(indicatif::ProgressFinish::AndClear),
        &mut tally,
        |_, post, screening| Ok((post, screening)),
        |pair| {
            results.push(pair);
            Ok(())
        },
        |_| Ok(()),
    )?;
    print!("{}", summary(&results, &tally));
    let mut findings: Vec<&(InputPost, Screening)> =
        results.iter().filter(|(_, s)| s.flagged).collect();
    findings.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    let color = args.color.enabled();
    for (post, screening) in findings.into_iter().take(args.explain) {
        println!(
            "\n── {} ({}) ──",
            post.id,
            post.platform.as_deref().unwrap_or("-")
        );
        print!(
            "{}",
            explain(&post.text, post.title.as_deref(), screening, color)
        );
    }
    Ok(tally.outcome())
}

fn summary(results: &[(InputPost, Screening)], tally: &Tally) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Patroli demo: {} posts scanned, {} flagged, lexicon {}\n",
        tally.scanned,
        tally.flagged,
        results
            .first()
            .map(|(_, s)| s.lexicon_version.as_str())
            .unwrap_or("-")
    );
    let _ = writeln!(out, "{:<24} {:<30} {:>7}", "CATEGORY", "", "FLAGGED");
    for category in Category::ALL {
        let n = results
            .iter()
            .filter(|(_, s)| s.categories.contains(&category))
            .count();
        let _ = writeln!(
            out,
            "{:<24} {:<30} {n:>7}",
            category.id(),
            category.label_id()
        );
    }
    let clean = results.iter().filter(|(_, s)| !s.flagged).count();
    let _ = writeln!(out, "{:<24} {:<30} {clean:>7}", "(not flagged)", "");
    out
}
