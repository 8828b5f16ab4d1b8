//! `patroli demo`: the one-command tour. Scans a sample compiled into the binary, prints a summary
//! table (posts, flagged per category) and explains the three strongest findings.
//!
//! The sample is `samples/demo.jsonl`, compiled in, so the demo runs anywhere without files. Its
//! posts carry labels, so the summary shows expected next to flagged counts.

use crate::Outcome;
use crate::cli::{ColorChoice, EngineArgs};
use crate::engine_setup::build_engine;
use crate::explain::explain;
use crate::input::{InputFormat, InputPost, Source};
use crate::scan::{Tally, progress_bar, screen_sources};
use patroli_detect::{Category, Screening};
use std::fmt::Write;

/// The bundled, labelled sample (see samples/README.md), compiled in so the demo needs no files.
pub const SAMPLE: &str = include_str!("../../../samples/demo.jsonl");

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
    let _ = writeln!(
        out,
        "{:<24} {:<30} {:>8} {:>7}",
        "CATEGORY", "", "LABELLED", "FLAGGED"
    );
    for category in Category::ALL {
        let flagged = results
            .iter()
            .filter(|(_, s)| s.categories.contains(&category))
            .count();
        let labelled = results
            .iter()
            .filter(|(p, _)| p.labels.as_ref().is_some_and(|l| l.contains(&category)))
            .count();
        let _ = writeln!(
            out,
            "{:<24} {:<30} {labelled:>8} {flagged:>7}",
            category.id(),
            category.label_id()
        );
    }
    let clean = results.iter().filter(|(_, s)| !s.flagged).count();
    let labelled_clean = results
        .iter()
        .filter(|(p, _)| p.labels.as_ref().is_some_and(|l| l.is_empty()))
        .count();
    let _ = writeln!(
        out,
        "{:<24} {:<30} {labelled_clean:>8} {clean:>7}",
        "(clean / not flagged)", ""
    );
    out
}
