//! `patroli eval LABELLED.jsonl`: screen a labelled file and print per-category precision, recall,
//! F1 and support, the share of clean posts flagged, and the posts the engine got wrong.
//!
//! The arithmetic lives in `patroli_detect::eval` (pure, shared with other tools); this module only
//! streams the file through the engine, keeps what the report needs and renders it.

use crate::Outcome;
use crate::cli::EngineArgs;
use crate::engine_setup::build_engine;
use crate::input::{InputFormat, InputPost, open_sources};
use crate::scan::{Tally, clip, progress_bar, screen_sources};
use patroli_detect::eval::{Evaluation, Report};
use patroli_detect::{Category, Screening};
use serde::Serialize;
use std::fmt::Write;
use std::io::Write as _;
use std::path::PathBuf;

pub const EVAL_HELP: &str = "\
Input: the same JSON Lines or CSV records as `patroli scan`, each with `labels`: a list of category
ids (drugs, unregistered_products, trafficking_recruitment, sexual_exploitation); [] means clean.
In CSV, labels are one cell separated by `;`. A record without `labels` is rejected.

Exit status: 0 when every record was read (whatever the scores), 1 on fatal errors, 2 when some
records were rejected (they are reported on stderr and left out of the metrics).";

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Labelled input files; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Input encoding (default: CSV for *.csv files, JSON Lines otherwise).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Print one JSON object (metrics and misses) instead of tables.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// A post whose predicted categories differ from its labels.
#[derive(Debug, Clone, Serialize)]
pub struct PostMiss {
    pub id: String,
    pub expected: Vec<Category>,
    pub got: Vec<Category>,
    pub score: f32,
    /// The first 80 characters of the text.
    pub text: String,
}

#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a Report,
    rejected: u64,
    posts_missed: &'a [PostMiss],
}

pub fn run(args: EvalArgs) -> anyhow::Result<Outcome> {
    let engine = build_engine(&args.engine)?;
    let sources = open_sources(&args.files, args.input_format)?;
    let progress = progress_bar(sources.iter().map(|s| s.len).sum());
    let mut tally = Tally::default();
    let mut evaluation = Evaluation::new();
    let mut misses = Vec::new();
    // The shared reader accepts records without labels (scan does not need them); eval cannot
    // score them, so they are rejected here, through the same line-numbered report.
    let keep = |_line: u64, post: InputPost, screening: Screening| match post.labels {
        Some(_) => Ok((post, screening)),
        None => Err("missing `labels` (eval needs them)".to_owned()),
    };
    screen_sources(
        &engine,
        sources,
        &progress,
        &mut tally,
        keep,
        |(post, screening)| {
            let expected = post.labels.unwrap_or_default();
            let id = post.id.to_string();
            evaluation.add(&id, &expected, &screening);
            let mut got = screening.categories.clone();
            got.sort();
            if got != expected {
                misses.push(PostMiss {
                    id,
                    expected,
                    got,
                    score: screening.score,
                    text: clip(&post.text.replace(['\n', '\r', '\t'], " "), 80),
                });
            }
            Ok(())
        },
        |_| Ok(()),
    )?;
    progress.finish_and_clear();
    let report = evaluation.report();
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = JsonReport {
            report: &report,
            rejected: tally.rejected,
            posts_missed: &misses,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        write!(out, "{}", render(&report, &misses))?;
    }
    eprintln!("evaluated {}, rejected {}", tally.scanned, tally.rejected);
    Ok(tally.outcome())
}

fn labels(list: &[Category]) -> String {
    if list.is_empty() {
        "clean".into()
    } else {
        list.iter().map(|c| c.id()).collect::<Vec<_>>().join(",")
    }
}

/// The human report: metrics table, clean share, then the misses.
pub fn render(report: &Report, misses: &[PostMiss]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:>9} {:>7} {:>6} {:>8} {:>4} {:>4} {:>4}",
        "CATEGORY", "PRECISION", "RECALL", "F1", "SUPPORT", "TP", "FP", "FN"
    );
    for (category, m) in &report.categories {
        let _ = writeln!(
            out,
            "{:<24} {:>9.3} {:>7.3} {:>6.3} {:>8} {:>4} {:>4} {:>4}",
            category.id(),
            m.precision,
            m.recall,
            m.f1,
            m.support,
            m.true_positives,
            m.false_positives,
            m.false_negatives
        );
    }
    let _ = writeln!(
        out,
        "{:<24} {:>9} {:>7} {:>6.3}",
        "macro", "", "", report.macro_f1
    );
    let _ = writeln!(
        out,
        "\nposts {}, clean {}, clean flagged {} ({:.2}%)",
        report.posts,
        report.clean_posts,
        report.clean_flagged,
        report.clean_flagged_share * 100.0
    );
    let _ = writeln!(out, "\nmisses: {}", misses.len());
    for m in misses {
        let _ = writeln!(
            out,
            "  {:<14} expected {:<28} got {:<28} {:.2}  {}",
            m.id,
            labels(&m.expected),
            labels(&m.got),
            m.score,
            m.text
        );
    }
    out
}
