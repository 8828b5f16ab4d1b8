//! Command-line definitions (clap derive) and dispatch to the subcommand modules.
//!
//! Subcommands owned by other layers (serve, import, user, token, audit, evidence, network, stats,
//! export) are added to [`Command`] by the engineer wiring those crates; each gets its own module and
//! one arm in [`dispatch`], nothing else here needs to change.

use crate::{Outcome, check, demo, eval, lexicon, scan};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  fatal error (bad flags, unreadable file, invalid lexicon)
  2  finished, but some input lines were rejected (each one is reported on stderr)";

/// Screen Indonesian online posts for illegal trade: drugs, unregistered products, trafficking
/// recruitment and sexual exploitation.
#[derive(Debug, Parser)]
#[command(name = "patroli", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Screen posts from JSON Lines or CSV files (or stdin) and write one JSON result per post.
    #[command(after_help = scan::SCAN_HELP)]
    Scan(scan::ScanArgs),
    /// Explain the screening of one text: categories, scores, highlighted evidence, entities.
    Check(check::CheckArgs),
    /// Measure precision, recall and F1 on a labelled file and list the misses.
    #[command(after_help = eval::EVAL_HELP)]
    Eval(eval::EvalArgs),
    /// Work with lexicons.
    #[command(subcommand)]
    Lexicon(lexicon::LexiconCommand),
    /// Scan the bundled sample and show a summary and a few explained findings.
    Demo(demo::DemoArgs),
}

/// Flags every screening subcommand shares.
#[derive(Debug, Clone, Args, Default)]
pub struct EngineArgs {
    /// Score a category must reach to be reported, in [0, 1] (default: the engine's).
    #[arg(long, value_name = "SCORE")]
    pub threshold: Option<f32>,
    /// Directory of lexicon *.toml files that extend or override the built-in lexicon.
    #[arg(long, value_name = "DIR")]
    pub lexicon: Option<PathBuf>,
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

pub fn dispatch(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Lexicon(cmd) => lexicon::run(cmd),
        Command::Demo(args) => demo::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
