use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

/// The KDL parser allocates a string or two per token (it keeps every detail of the
/// formatting); mimalloc makes a large configuration parse markedly faster than the system
/// allocator does (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = gscgen::cli::Cli::parse();
    let environment = gscgen::app::Environment {
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        stdout_is_terminal: std::io::stdout().is_terminal(),
        stderr_is_terminal: std::io::stderr().is_terminal(),
        github_actions: std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
    };
    let output = gscgen::app::run(&cli, &environment);
    // A closed pipe (e.g. `gscgen diff | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(output.stdout.as_bytes());
    let _ = std::io::stderr().write_all(output.stderr.as_bytes());
    ExitCode::from(output.code)
}
