//! Command-line definitions (clap derive) and dispatch to the subcommand modules.
//!
//! Subcommands owned by other layers (serve, import, user, token, audit, evidence, network, stats,
//! export) are added to [`Command`] by the engineer wiring those crates; each gets its own module and
//! one arm in [`dispatch`], nothing else here needs to change.

use crate::{Outcome, check, demo, eval, lexicon, scan, service, stream_cmd};
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
    /// Scan the bundled sample, then load it into a demo server with demo users and start it.
    Demo(demo::DemoArgs),
    /// Run the Patroli server (API, review UI) on a data directory or PostgreSQL.
    Serve(service::ServeArgs),
    /// Screen and store posts from a JSON Lines file through the same path as the ingest API.
    Import(service::ImportArgs),
    /// Manage users.
    #[command(subcommand)]
    User(service::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(service::TokenCommand),
    /// Check the hash-chained audit log.
    #[command(subcommand)]
    Audit(service::AuditCommand),
    /// Show the account network(s) holding a contact value (same JSON as the API).
    Network(service::NetworkArgs),
    /// Work with exported evidence packages.
    #[command(subcommand)]
    Evidence(service::EvidenceCommand),
    /// Put posts on the NATS JetStream work queue for `patroli worker`s to screen.
    Publish(stream_cmd::PublishArgs),
    /// Screen posts from the NATS JetStream work queue and publish the results.
    Worker(stream_cmd::WorkerArgs),
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
        Command::Serve(args) => service::serve(args),
        Command::Import(args) => service::import(args),
        Command::User(cmd) => service::user(cmd),
        Command::Token(cmd) => service::token(cmd),
        Command::Audit(cmd) => service::audit(cmd),
        Command::Network(args) => service::network(args),
        Command::Evidence(cmd) => service::evidence(cmd),
        Command::Publish(args) => stream_cmd::publish(args),
        Command::Worker(args) => stream_cmd::worker(args),
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
