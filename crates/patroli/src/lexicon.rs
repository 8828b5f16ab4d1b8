//! `patroli lexicon check [DIR]`: validate the built-in lexicon or a directory of lexicon files and
//! list duplicates and conflicts. An invalid file is fatal (exit 1, the message names file and key);
//! duplicates and conflicts are warnings, printed but not failing.

use crate::Outcome;
use crate::engine_setup::read_lexicon_dir;
use anyhow::Context;
use patroli_detect::{Engine, Lexicon};
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
    // Compiling the automaton catches what parsing alone cannot (e.g. patterns the engine rejects).
    Engine::new(lexicon.clone()).with_context(|| format!("{what} does not build an engine"))?;
    let issues = lexicon.check();
    for issue in &issues {
        println!("warning: {}: {}", issue.file, issue.message);
    }
    let files = files.map(|n| format!(", {n} files")).unwrap_or_default();
    println!(
        "{what}: valid (version {}{files}), {} warning{}",
        lexicon.version(),
        issues.len(),
        if issues.len() == 1 { "" } else { "s" }
    );
    Ok(Outcome::Success)
}
