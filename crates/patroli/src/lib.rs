//! The `patroli` command line as a library: one module per subcommand, shared input parsing in
//! [`input`], engine set-up in [`engine_setup`], human rendering in [`explain`].
//!
//! Exit statuses mean something (documented in `--help` and the crate README):
//! 0 success, 1 fatal error (bad flags, unreadable file, invalid lexicon), 2 the run finished but some
//! input lines were rejected. Clap's own usage errors are mapped to 1 so that 2 keeps one meaning.

pub mod check;
pub mod cli;
pub mod demo;
pub mod engine_setup;
pub mod eval;
pub mod explain;
pub mod input;
pub mod lexicon;
pub mod scan;
pub mod service;
pub mod stream_cmd;

use clap::Parser;
use std::process::ExitCode;

/// What a subcommand reports back to `main`, beyond fatal errors (which are `Err`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Finished, but some input records were rejected (exit 2).
    SomeRejected,
}

pub fn run() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` also arrive here; they are not errors.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli::dispatch(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::SomeRejected) => ExitCode::from(2),
        // A closed pipe (`patroli eval ... | head`) is the reader's choice, not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
