//! The `patroli` binary: parse the command line, run one subcommand, turn its outcome into an exit
//! status. Everything else lives in the library half of this crate so benchmarks and tests can reach it.

use std::process::ExitCode;

fn main() -> ExitCode {
    patroli::run()
}
