//! Command-line definitions (clap). No logic lives here.

use camino::Utf8PathBuf;
use clap::{Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  gscgen render                 write every artifact of ./project.kdl into its output folder
  gscgen check                  exit 1 and show a diff if the output folder is not fresh
  gscgen diff                   show what `render` would change, change nothing
  gscgen --config other.kdl render --out /tmp/out

Exit status:
  0  success (check: everything fresh)
  1  check found drift, or render refused to overwrite a file edited by hand
  2  invalid configuration or usage (diagnostics on stderr)
  3  I/O failure (unreadable config, unwritable output folder, lock held)";

/// Compiles one project.kdl into every container build and deploy artifact.
#[derive(Debug, Parser)]
#[command(name = "gscgen", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, short = 'c', global = true, default_value = "project.kdl", value_name = "PATH")]
    pub config: Utf8PathBuf,

    /// When to colour output: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only errors and drift.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Treat warnings as errors (exit 2).
    #[arg(long, global = true)]
    pub deny_warnings: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write every artifact into the output folder (only files whose bytes change).
    Render {
        /// Output folder (default: `output` of the config, relative to the config's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<Utf8PathBuf>,
        /// Overwrite or delete generated files that were edited by hand.
        #[arg(long)]
        force: bool,
    },
    /// Compare the output folder with what would be rendered; exit 1 on any drift.
    Check {
        /// Output folder (default: `output` of the config, relative to the config's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<Utf8PathBuf>,
    },
    /// Print what `render` would change, as unified diffs; always exit 0.
    Diff {
        /// Output folder (default: `output` of the config, relative to the config's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<Utf8PathBuf>,
    },
    /// Print a KDL 1 configuration converted to KDL 2.
    ConvertKdl1 {
        /// The KDL 1 file (default: the --config file).
        file: Option<Utf8PathBuf>,
    },
    /// Print a synthetic project.kdl, for benchmarks (deterministic for a seed).
    #[command(hide = true)]
    Synth {
        /// Number of services.
        #[arg(long, default_value_t = 100)]
        services: usize,
        /// Number of requirement groups (default: services / 4).
        #[arg(long)]
        groups: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Instead: a single include chain of this many groups.
        #[arg(long)]
        chain: Option<usize>,
    },
}
