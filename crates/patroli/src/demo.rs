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
use std::io::Write as _;

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
    let mut out = std::io::stdout().lock();
    write!(out, "{}", summary(&results, &tally))?;
    let color = args.color.enabled();
    for (post, screening) in pick_findings(&results, args.explain) {
        writeln!(
            out,
            "\n── {} ({}) ──",
            post.id,
            post.platform.as_deref().unwrap_or("-")
        )?;
        write!(
            out,
            "{}",
            explain(&post.text, post.title.as_deref(), screening, color)
        )?;
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

/// The `n` findings to explain: the strongest of each category first (so the tour shows different
/// kinds of evidence), then the strongest of the rest.
fn pick_findings(results: &[(InputPost, Screening)], n: usize) -> Vec<&(InputPost, Screening)> {
    let mut flagged: Vec<&(InputPost, Screening)> =
        results.iter().filter(|(_, s)| s.flagged).collect();
    flagged.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    let mut picked: Vec<&(InputPost, Screening)> = Vec::new();
    for category in Category::ALL {
        if let Some(best) = flagged
            .iter()
            .find(|(_, s)| s.categories.first() == Some(&category))
        {
            picked.push(best);
        }
    }
    picked.truncate(n);
    for candidate in &flagged {
        if picked.len() >= n {
            break;
        }
        if !picked.iter().any(|p| std::ptr::eq(*p, *candidate)) {
            picked.push(candidate);
        }
    }
    picked
}
