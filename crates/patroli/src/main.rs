//! The `patroli` binary: parse the command line, run one subcommand, turn its outcome into an exit
//! status. Everything else lives in the library half of this crate so benchmarks and tests can reach it.

use std::process::ExitCode;

/// mimalloc: screening allocates many small short-lived strings (normalized text, spans, JSON);
/// measured faster than the system allocator for `scan` and the server's ingest path.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    patroli::run()
}
