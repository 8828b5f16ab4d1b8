//! `patroli lexicon check [DIR]`: validate the built-in lexicon or a directory of lexicon files and
//! list duplicates and conflicts. An invalid file is fatal (exit 1, the message names file and key);
//! duplicates and conflicts are warnings, printed but not failing.

use crate::Outcome;
use crate::engine_setup::read_lexicon_dir;
use anyhow::Context;
use patroli_detect::{Engine, Lexicon};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum LexiconCommand {
    /// Validate a lexicon directory (or the built-in lexicon) and report duplicates and conflicts.
    Check {
        /// Directory of *.toml lexicon files; the built-in lexicon when omitted.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

pub fn run(cmd: LexiconCommand) -> anyhow::Result<Outcome> {
    match cmd {
        LexiconCommand::Check { dir } => check(dir),
    }
}

fn check(dir: Option<PathBuf>) -> anyhow::Result<Outcome> {
    let (what, lexicon, files) = match &dir {
        None => ("built-in lexicon".to_owned(), Lexicon::builtin(), None),
        Some(dir) => {
            let files = read_lexicon_dir(dir)?;
            let lexicon = Lexicon::parse(&files)
                .with_context(|| format!("invalid lexicon in {}", dir.display()))?;
            (dir.display().to_string(), lexicon, Some(files.len()))
        }
    };
    let mut issues = lexicon.check();
    let version = lexicon.version().to_owned();
    // What `scan --lexicon` would run: a directory goes on top of the built-in lexicon.
    let effective = if dir.is_some() {
        // Also show what only the combination reveals (an override that now conflicts with a
        // built-in term), without repeating what the parts already reported.
        let builtin_issues = Lexicon::builtin().check();
        let mut merged = Lexicon::builtin();
        merged.extend(lexicon);
        for issue in merged.check() {
            if !builtin_issues.contains(&issue) && !issues.contains(&issue) {
                issues.push(issue);
            }
        }
        merged
    } else {
        lexicon
    };
    // Compiling the automaton catches what parsing alone cannot (e.g. patterns the engine rejects).
    Engine::new(effective).with_context(|| format!("{what} does not build an engine"))?;
    let mut out = std::io::stdout().lock();
    for issue in &issues {
        writeln!(out, "warning: {}: {}", issue.file, issue.message)?;
    }
    let files = files.map(|n| format!(", {n} files")).unwrap_or_default();
    writeln!(
        out,
        "{what}: valid (version {}{files}), {} warning{}",
        version,
        issues.len(),
        if issues.len() == 1 { "" } else { "s" }
    )?;
    Ok(Outcome::Success)
}
