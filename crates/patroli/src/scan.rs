//! `patroli scan`: screen posts from JSON Lines or CSV and write one result per post, in input order.
//!
//! Memory stays bounded whatever the input size: records are read in chunks (at most
//! [`CHUNK_RECORDS`] records or [`CHUNK_BYTES`] bytes), each chunk is screened in parallel with rayon
//! while the next one is read, and results are written in order before the chunk is dropped.
//! A bad record never stops the run: it is reported on stderr as `line N: reason` and counted.

use crate::cli::EngineArgs;
use crate::engine_setup::build_engine;
use crate::input::{
    InputFormat, InputId, InputPost, MAX_RECORD_BYTES, RawRecord, RecordParser, RecordReader,
    Source, open_sources,
};
use crate::{Outcome, is_broken_pipe};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use patroli_detect::{Category, Engine, Entity, Reason, ReasonKind, Screening, Severity};
use rayon::prelude::*;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

/// Records screened together. Large enough to keep every core busy, small enough to stream.
pub const CHUNK_RECORDS: usize = 4096;
/// Byte budget of one chunk, so a file of huge (but accepted) records still streams.
pub const CHUNK_BYTES: usize = 32 * 1024 * 1024;

pub const SCAN_HELP: &str = "\
Input: JSON Lines (one object per line) or, for *.csv files or --input-format csv, CSV with a header.
Fields: id and text (required); title, platform, url, account (a handle, or {\"handle\", \"name\"}),
price, location, posted_at (RFC 3339), declared_category (or category). Blank lines are skipped.
A record that cannot be read (bad JSON, missing id/text, wrong types, invalid UTF-8, over 10 MB) is
reported on stderr as `line N: reason` and the rest are still scanned.

Output: one JSON object per accepted post, in input order, with id, flagged, score, categories,
scores, severity, reasons, entities and lexicon_version. A summary goes to stderr.

Exit status:
  0  every record was accepted
  1  fatal error (bad flags, unreadable file, invalid lexicon)
  2  finished, but some records were rejected";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// A table for people.
    Table,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Input files; `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Input encoding (default: CSV for *.csv files, JSON Lines otherwise and for stdin).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Jsonl)]
    pub format: OutputFormat,
    /// Write only posts that were flagged.
    #[arg(long)]
    pub only_flagged: bool,
    /// Worker threads (default: one per core; `RAYON_NUM_THREADS` also works).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// One output line. Field order is the documented one; new fields are appended, never renamed.
#[derive(Debug, Serialize)]
pub struct ScanResult<'a> {
    pub id: &'a InputId,
    pub flagged: bool,
    pub score: f32,
    pub categories: &'a [Category],
    pub scores: &'a BTreeMap<Category, f32>,
    pub severity: Severity,
    pub reasons: &'a [Reason],
    pub entities: &'a [Entity],
    pub lexicon_version: &'a str,
}

impl<'a> ScanResult<'a> {
    pub fn new(id: &'a InputId, s: &'a Screening) -> Self {
        ScanResult {
            id,
            flagged: s.flagged,
            score: s.score,
            categories: &s.categories,
            scores: &s.scores,
            severity: s.severity,
            reasons: &s.reasons,
            entities: &s.entities,
            lexicon_version: &s.lexicon_version,
        }
    }
}

/// Parse and screen one record.
pub fn screen_record(
    engine: &Engine,
    parser: &RecordParser,
    bytes: &[u8],
) -> Result<(InputPost, Screening), String> {
    let post = parser.parse(bytes)?;
    let screening = engine.screen(&post.as_post());
    Ok((post, screening))
}

/// The whole per-line pipeline used by `scan` (and the benchmark): parse one JSON line, screen it,
/// append its JSON result and a newline to `out`. Returns whether the post was flagged.
pub fn scan_json_line(engine: &Engine, line: &[u8], out: &mut Vec<u8>) -> Result<bool, String> {
    let (post, screening) = screen_record(engine, &RecordParser::Jsonl, line)?;
    write_json(out, &post.id, &screening);
    Ok(screening.flagged)
}

fn write_json(out: &mut Vec<u8>, id: &InputId, screening: &Screening) {
    // Serializing plain structs of strings and numbers into a Vec cannot fail.
    serde_json::to_writer(&mut *out, &ScanResult::new(id, screening))
        .expect("scan result serializes");
    out.push(b'\n');
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub scanned: u64,
    pub flagged: u64,
    pub rejected: u64,
}

impl Tally {
    pub fn outcome(&self) -> Outcome {
        if self.rejected > 0 {
            Outcome::SomeRejected
        } else {
            Outcome::Success
        }
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<Outcome> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let engine = build_engine(&args.engine)?;
    let sources = open_sources(&args.files, args.input_format)?;
    let total_len: Option<u64> = sources.iter().map(|s| s.len).sum();
    let progress = progress_bar(total_len);

    let stdout = io::stdout();
    // Shared by the per-record sink and the per-chunk flush.
    let out = RefCell::new(io::BufWriter::with_capacity(256 * 1024, stdout.lock()));
    let (format, only_flagged) = (args.format, args.only_flagged);
    let mut tally = Tally::default();
    let result = (|| -> anyhow::Result<()> {
        if format == OutputFormat::Table {
            out.borrow_mut().write_all(table_header().as_bytes())?;
        }
        // Serializing happens in the parallel stage too; only the ordered write is serial.
        let render = |line: u64, post: InputPost, screening: Screening| {
            let mut buf = Vec::new();
            if screening.flagged || !only_flagged {
                match format {
                    OutputFormat::Jsonl => write_json(&mut buf, &post.id, &screening),
                    OutputFormat::Table => {
                        buf.extend_from_slice(table_row(line, &post, &screening).as_bytes())
                    }
                }
            }
            Ok(buf)
        };
        screen_sources(
            &engine,
            sources,
            &progress,
            &mut tally,
            render,
            |buf| Ok(out.borrow_mut().write_all(&buf)?),
            |_| Ok(out.borrow_mut().flush()?),
        )
    })();
    progress.finish_and_clear();
    match result {
        Ok(()) => {}
        // A closed pipe (`patroli scan big.jsonl | head`) is the reader's choice, not a failure.
        Err(e) if is_broken_pipe(&e) => {}
        Err(e) => return Err(e),
    }
    let _ = out.borrow_mut().flush();
    eprintln!(
        "scanned {}, flagged {}, rejected {}",
        tally.scanned, tally.flagged, tally.rejected
    );
    Ok(tally.outcome())
}

/// The streaming engine behind `scan`, `eval` and `demo`: read each source in chunks, parse and
/// screen a chunk in parallel (while the next chunk is read), `map` each accepted post to a `T` in
/// parallel too, then hand the `T`s to `sink` in input order and call `end_chunk` after each chunk.
/// Rejected records (unreadable, or refused by `map` with a reason) are reported on stderr as
/// `[FILE: ]line N: reason` and counted in `tally`.
pub fn screen_sources<T, M, S, E>(
    engine: &Engine,
    sources: Vec<Source>,
    progress: &ProgressBar,
    tally: &mut Tally,
    map: M,
    mut sink: S,
    mut end_chunk: E,
) -> anyhow::Result<()>
where
    T: Send,
    M: Fn(u64, InputPost, Screening) -> Result<T, String> + Sync,
    S: FnMut(T) -> anyhow::Result<()>,
    E: FnMut(&Tally) -> anyhow::Result<()>,
{
    let many = sources.len() > 1;
    for source in sources {
        let name = source.name;
        let report = |line: u64, reason: &str| {
            let msg = if many {
                format!("{name}: line {line}: {reason}")
            } else {
                format!("line {line}: {reason}")
            };
            progress.suspend(|| eprintln!("{msg}"));
        };
        let mut reader = RecordReader::new(source.reader, source.format)
            .with_context(|| format!("cannot read {name}"))?;
        let parser = reader.parser();
        let one = |record: &RawRecord| -> Result<(bool, T), String> {
            let bytes = match record {
                RawRecord::Data { bytes, .. } => bytes,
                RawRecord::TooLong { len, .. } => {
                    return Err(format!(
                        "line is {len} bytes, over the {MAX_RECORD_BYTES}-byte limit"
                    ));
                }
            };
            let (post, screening) = screen_record(engine, &parser, bytes)?;
            let flagged = screening.flagged;
            Ok((flagged, map(record.line(), post, screening)?))
        };
        let mut chunk = read_chunk(&mut reader).with_context(|| format!("cannot read {name}"))?;
        while !chunk.is_empty() {
            let (next, done) = rayon::join(
                || read_chunk(&mut reader),
                || chunk.par_iter().map(one).collect::<Vec<_>>(),
            );
            let mut bytes = 0u64;
            for (record, done) in chunk.iter().zip(done) {
                bytes += record_len(record);
                match done {
                    Ok((flagged, value)) => {
                        tally.scanned += 1;
                        tally.flagged += u64::from(flagged);
                        sink(value)?;
                    }
                    Err(reason) => {
                        tally.rejected += 1;
                        report(record.line(), &reason);
                    }
                }
            }
            end_chunk(tally)?;
            progress.inc(bytes);
            chunk = next.with_context(|| format!("cannot read {name}"))?;
        }
    }
    Ok(())
}

fn read_chunk(reader: &mut RecordReader) -> io::Result<Vec<RawRecord>> {
    let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
    let mut bytes = 0usize;
    while chunk.len() < CHUNK_RECORDS && bytes < CHUNK_BYTES {
        match reader.next_record()? {
            Some(record) => {
                bytes += record_len(&record) as usize;
                chunk.push(record);
            }
            None => break,
        }
    }
    Ok(chunk)
}

fn record_len(record: &RawRecord) -> u64 {
    match record {
        RawRecord::Data { bytes, .. } => bytes.len() as u64 + 1,
        RawRecord::TooLong { len, .. } => *len as u64 + 1,
    }
}

/// A progress bar on stderr, only when stderr is a terminal (never in pipes, logs or tests) and
/// stdout is not (results scrolling past on the same screen would tear the bar).
pub fn progress_bar(total: Option<u64>) -> ProgressBar {
    if !io::stderr().is_terminal() || io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(
                ProgressStyle::with_template(
                    "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .expect("valid progress template"),
            ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} {binary_bytes} {binary_bytes_per_sec}")
                .expect("valid progress template"),
        ),
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

const TABLE_WIDTHS: [usize; 6] = [7, 18, 4, 5, 8, 34];

fn table_header() -> String {
    let [l, i, f, s, v, c] = TABLE_WIDTHS;
    format!(
        "{:>l$}  {:<i$}  {:<f$}  {:>s$}  {:<v$}  {:<c$}  EVIDENCE\n",
        "LINE", "ID", "FLAG", "SCORE", "SEVERITY", "CATEGORIES"
    )
}

fn table_row(line: u64, post: &InputPost, s: &Screening) -> String {
    let [l, i, f, sw, v, c] = TABLE_WIDTHS;
    let categories: Vec<&str> = s.categories.iter().map(|c| c.id()).collect();
    let mut evidence: Vec<&str> = Vec::new();
    // Only what made a category (terms, disguise, minors), not context or suppressed look-alikes.
    let evidence_kinds = [ReasonKind::Term, ReasonKind::Disguise, ReasonKind::Minor];
    for reason in s
        .reasons
        .iter()
        .filter(|r| evidence_kinds.contains(&r.kind))
    {
        let m = reason.matched.trim();
        // Overlapping rules report nested spans ("ST" inside "ST 350"): keep the longest.
        let lower = m.to_lowercase();
        if m.is_empty() || evidence.iter().any(|e| e.to_lowercase().contains(&lower)) {
            continue;
        }
        evidence.retain(|e| !lower.contains(&e.to_lowercase()));
        evidence.push(m);
    }
    evidence.truncate(4);
    format!(
        "{line:>l$}  {:<i$}  {:<f$}  {:>sw$.2}  {:<v$}  {:<c$}  {}\n",
        clip(&post.id.to_string(), i),
        if s.flagged { "YES" } else { "-" },
        s.score,
        severity_name(s.severity),
        clip(&categories.join(","), c),
        clip(&evidence.join(", ").replace(['\n', '\r', '\t'], " "), 60),
    )
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::None => "none",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// At most `width` characters, with `…` when cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_pipeline_keeps_id_and_fields() {
        let engine = Engine::builtin();
        let mut out = Vec::new();
        scan_json_line(&engine, br#"{"id":42,"text":"halo"}"#, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], 42);
        for key in [
            "flagged",
            "score",
            "categories",
            "scores",
            "severity",
            "reasons",
            "entities",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(out.ends_with(b"\n"));
    }

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(clip("abc", 3), "abc");
    }
}
