//! Command-line definitions (clap). No logic lives here.

use camino::Utf8PathBuf;
use clap::{Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  gscgen init                   write a starter project.kdl in this folder
  gscgen render                 write every artifact of ./project.kdl into its output folder
  gscgen check                  exit 1 and show a diff if the output folder is not fresh
  gscgen check --format json    the same as one JSON document (docs/check-json.md)
  gscgen diff                   show what `render` would change, change nothing
  gscgen fmt --check            exit 1 if project.kdl is not canonically formatted
  gscgen explain celery         groups, requirements, inputs and artifacts of an image
  gscgen why celery_worker prophet
                                every include path that brings a package in
  gscgen graph --format dot | dot -Tsvg > groups.svg
  gscgen affected --since origin/main
                                images to rebuild and services to redeploy
  gscgen --config other.kdl render --out /tmp/out
  gscgen completions bash > /etc/bash_completion.d/gscgen

Exit status:
  0  success (check: everything fresh)
  1  check found drift, render refused to overwrite a file edited by hand,
     or render --exit-code changed a file; why: the package is not installed
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

    /// Say more: list fresh files too.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
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
        /// Exit 1 when any file was written, removed or had its mode changed (like
        /// `git diff --exit-code`): a render that fixed something fails, as pre-commit's
        /// fixers do. Exit 0 when nothing changed.
        #[arg(long)]
        exit_code: bool,
    },
    /// Compare the output folder with what would be rendered; exit 1 on any drift.
    Check {
        /// Output folder (default: `output` of the config, relative to the config's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<Utf8PathBuf>,
        /// human: diffs; json: one JSON document on stdout; github: workflow commands that
        /// annotate the pull request (also added to human output when GITHUB_ACTIONS=true).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print what `render` would change, as unified diffs; always exit 0.
    Diff {
        /// Output folder (default: `output` of the config, relative to the config's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<Utf8PathBuf>,
    },
    /// Write a commented starter project.kdl (never overwrites one).
    Init {
        /// Seed the `base` group from an existing requirements file.
        #[arg(long, value_name = "FILE")]
        from_requirements: Option<Utf8PathBuf>,
    },
    /// Format the configuration canonically, keeping comments.
    Fmt {
        /// Do not write; exit 1 and show the diff if the file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Show an image or service: its groups, every requirement with the group and include
    /// path that bring it, apt packages, copy sources, build inputs and artifacts.
    Explain {
        /// An image or service name (`image:NAME` or `service:NAME` when both exist).
        name: String,
    },
    /// Show every include path that brings a package into an image or service (exit 1 when
    /// it is not installed).
    Why {
        /// An image or service name (`image:NAME` or `service:NAME` when both exist).
        name: String,
        /// A package name (any spelling PEP 503 normalises to the same name).
        package: String,
    },
    /// Print the include graph: groups, their includes, and the groups each image installs.
    Graph {
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
    },
    /// List the images to rebuild and the services to redeploy after a change.
    Affected {
        /// Compare with this git revision: the files changed since (committed or not, and
        /// untracked ones) and the configuration as it was there.
        #[arg(long, value_name = "REF", required_unless_present = "files")]
        since: Option<String>,
        /// The changed files (relative to the current folder), instead of asking git.
        /// An empty list (`--files` alone, e.g. from an empty `$(git diff --name-only …)`)
        /// reports nothing to do.
        #[arg(long, value_name = "PATH", num_args = 0.., conflicts_with = "since")]
        files: Vec<Utf8PathBuf>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Resolve each image's requirements with uv and report package counts and download
    /// sizes against the `all` group. Needs network access to PyPI; cached in .gscgen/.
    Footprint {
        /// The platform to resolve wheels for, as uv names it (python:*-slim images are
        /// Debian 12, glibc 2.36: manylinux_2_28 wheels install there).
        #[arg(long, default_value = "x86_64-manylinux_2_28")]
        platform: String,
        /// Resolve again instead of reading the cache (new releases on the index).
        #[arg(long)]
        refresh: bool,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
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
