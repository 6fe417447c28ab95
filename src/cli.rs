//! Command-line definitions (clap), and how the shared flags given before a subcommand join
//! its own ([`Cli::settings`]). No other logic lives here.

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

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
     or render --exit-code changed a file; fmt --check: not formatted;
     init: the file exists already; why: the package is not installed
  2  invalid configuration or usage (diagnostics on stderr)
  3  I/O failure (unreadable config, unwritable output folder, lock held)";

/// Compiles one project.kdl into every container build and deploy artifact.
///
/// The flags below may also come before the subcommand (`gscgen --deny-warnings check`);
/// each subcommand's `--help` lists the ones it takes.
#[derive(Debug, Parser)]
#[command(name = "gscgen", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// The configuration file (default: project.kdl).
    #[arg(long, short = 'c', value_name = "PATH")]
    pub config: Option<Utf8PathBuf>,

    /// When to colour output (render, check, diff, fmt): auto (a terminal without NO_COLOR),
    /// always or never.
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// Print only errors and drift (render, check, diff).
    #[arg(long, short)]
    pub quiet: bool,

    /// Treat warnings as errors, exit 2 (every subcommand that compiles the configuration).
    #[arg(long)]
    pub deny_warnings: bool,

    /// Say more (render, check, diff): `-v` lists fresh files too, `-vv` prints stage timings.
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// `--config`, for every subcommand that reads or writes the configuration.
#[derive(Debug, Default, Args)]
pub struct ConfigArg {
    /// The configuration file (default: project.kdl).
    #[arg(long, short = 'c', value_name = "PATH")]
    pub config: Option<Utf8PathBuf>,
}

/// The flags of `render`, `check` and `diff`.
#[derive(Debug, Default, Args)]
pub struct PipelineArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// When to colour output: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// Print only errors and drift.
    #[arg(long, short)]
    pub quiet: bool,

    /// Treat warnings as errors (exit 2).
    #[arg(long)]
    pub deny_warnings: bool,

    /// Say more: `-v` lists fresh files too, `-vv` prints stage timings.
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The flags of the reports that compile the configuration (`explain`, `why`, `graph`,
/// `affected`, `footprint`).
#[derive(Debug, Default, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Treat warnings as errors (exit 2).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// The flags in effect for one run: each one given after the subcommand, or before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config: Utf8PathBuf,
    pub color: ColorChoice,
    pub quiet: bool,
    pub deny_warnings: bool,
    pub verbose: u8,
}

impl Cli {
    /// Joins the flags given before the subcommand with the subcommand's own (those win).
    /// A flag before the subcommand that the subcommand does not take is a usage error, as
    /// it would be after it.
    pub fn settings(&self) -> Result<Settings, String> {
        let taken = Taken::of(&self.command);
        let misplaced = |flag: &str| {
            format!(
                "`{flag}` does not apply to `gscgen {name}`\nhint: `gscgen {name} --help` lists the flags it takes",
                name = taken.name
            )
        };
        let config = match (taken.config, self.config.as_ref()) {
            (None, Some(_)) => return Err(misplaced("--config")),
            (Some(Some(local)), _) | (_, Some(local)) => local.clone(),
            _ => Utf8PathBuf::from("project.kdl"),
        };
        let color = match (taken.color, self.color) {
            (None, Some(_)) => return Err(misplaced("--color")),
            (Some(Some(local)), _) | (_, Some(local)) => local,
            _ => ColorChoice::Auto,
        };
        if taken.quiet.is_none() && self.quiet {
            return Err(misplaced("--quiet"));
        }
        if taken.deny_warnings.is_none() && self.deny_warnings {
            return Err(misplaced("--deny-warnings"));
        }
        if taken.verbose.is_none() && self.verbose > 0 {
            return Err(misplaced("--verbose"));
        }
        Ok(Settings {
            config,
            color,
            quiet: self.quiet || taken.quiet == Some(true),
            deny_warnings: self.deny_warnings || taken.deny_warnings == Some(true),
            verbose: self.verbose.saturating_add(taken.verbose.unwrap_or(0)),
        })
    }
}

/// The shared flags a subcommand takes (`None`: not taken), with the values given after it.
struct Taken<'a> {
    name: &'static str,
    config: Option<Option<&'a Utf8PathBuf>>,
    color: Option<Option<ColorChoice>>,
    quiet: Option<bool>,
    deny_warnings: Option<bool>,
    verbose: Option<u8>,
}

impl<'a> Taken<'a> {
    fn nothing(name: &'static str) -> Self {
        Self { name, config: None, color: None, quiet: None, deny_warnings: None, verbose: None }
    }

    fn config(name: &'static str, config: &'a ConfigArg) -> Self {
        Self { config: Some(config.config.as_ref()), ..Self::nothing(name) }
    }

    fn pipeline(name: &'static str, args: &'a PipelineArgs) -> Self {
        Self {
            name,
            config: Some(args.config.config.as_ref()),
            color: Some(args.color),
            quiet: Some(args.quiet),
            deny_warnings: Some(args.deny_warnings),
            verbose: Some(args.verbose),
        }
    }

    fn report(name: &'static str, args: &'a ReportArgs) -> Self {
        Self { deny_warnings: Some(args.deny_warnings), ..Self::config(name, &args.config) }
    }

    fn of(command: &'a Command) -> Self {
        match command {
            Command::Render { args, .. } => Self::pipeline("render", args),
            Command::Check { args, .. } => Self::pipeline("check", args),
            Command::Diff { args, .. } => Self::pipeline("diff", args),
            Command::Init { config, .. } => Self::config("init", config),
            Command::Fmt { config, color, .. } => Self { color: Some(*color), ..Self::config("fmt", config) },
            Command::Explain { args, .. } => Self::report("explain", args),
            Command::Why { args, .. } => Self::report("why", args),
            Command::Graph { args, .. } => Self::report("graph", args),
            Command::Affected { args, .. } => Self::report("affected", args),
            Command::Footprint { args, .. } => Self::report("footprint", args),
            Command::Lock { args, .. } => Self::report("lock", args),
            Command::Completions { .. } => Self::nothing("completions"),
            Command::ConvertKdl1 { config, .. } => Self::config("convert-kdl1", config),
            Command::Synth { .. } => Self::nothing("synth"),
        }
    }
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
        #[command(flatten)]
        args: PipelineArgs,
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
        #[command(flatten)]
        args: PipelineArgs,
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
        #[command(flatten)]
        args: PipelineArgs,
        /// Output folder (default: `output` of the config, relative to the config's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<Utf8PathBuf>,
    },
    /// Write a commented starter project.kdl (never overwrites one).
    Init {
        #[command(flatten)]
        config: ConfigArg,
        /// Seed the `base` group from an existing requirements file.
        #[arg(long, value_name = "FILE")]
        from_requirements: Option<Utf8PathBuf>,
    },
    /// Format the configuration canonically, keeping comments.
    Fmt {
        #[command(flatten)]
        config: ConfigArg,
        /// When to colour the diff of `--check`: auto (a terminal without NO_COLOR), always or
        /// never.
        #[arg(long, value_enum, value_name = "WHEN")]
        color: Option<ColorChoice>,
        /// Do not write; exit 1 and show the diff if the file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Show an image or service: its groups, every requirement with the group and include
    /// path that bring it, apt packages, copy sources, build inputs and artifacts.
    Explain {
        #[command(flatten)]
        args: ReportArgs,
        /// An image or service name (`image:NAME` or `service:NAME` when both exist).
        name: String,
    },
    /// Show every include path that brings a package into an image or service (exit 1 when
    /// it is not installed).
    Why {
        #[command(flatten)]
        args: ReportArgs,
        /// An image or service name (`image:NAME` or `service:NAME` when both exist).
        name: String,
        /// A package name (any spelling PEP 503 normalises to the same name).
        package: String,
    },
    /// Print the include graph: groups, their includes, and the groups each image installs.
    Graph {
        #[command(flatten)]
        args: ReportArgs,
        /// text: groups in resolution order, then each image with its closure; dot: Graphviz
        /// (`| dot -Tsvg > groups.svg`); mermaid: a Mermaid flowchart for Markdown.
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
    },
    /// List the images to rebuild and the services to redeploy after a change.
    Affected {
        #[command(flatten)]
        args: ReportArgs,
        /// Compare with this git revision: the files changed since (committed or not, and
        /// untracked ones) and the configuration as it was there.
        #[arg(long, value_name = "REF", required_unless_present = "files")]
        since: Option<String>,
        /// The changed files (relative to the current folder), instead of asking git.
        /// An empty list (`--files` alone, e.g. from an empty `$(git diff --name-only …)`)
        /// reports nothing to do.
        #[arg(long, value_name = "PATH", num_args = 0.., conflicts_with = "since")]
        files: Vec<Utf8PathBuf>,
        /// text: one line per image and service, with reasons; json: one JSON document on
        /// stdout (docs/affected.md).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Lock every image's and group's requirements with uv (the only command that resolves
    /// over the network), then render: the images install exactly the locks
    /// (docs/locking.md). Kept pins stay unless upgraded.
    Lock {
        #[command(flatten)]
        args: ReportArgs,
        /// Let every package move to its newest allowed version.
        #[arg(long, short = 'U', conflicts_with = "upgrade_package")]
        upgrade: bool,
        /// Let this package (repeatable) move to its newest allowed version; the rest stay.
        #[arg(long, short = 'P', value_name = "PACKAGE")]
        upgrade_package: Vec<String>,
        /// Write nothing: exit 1 when the committed locks are not what `gscgen lock` would
        /// write now (a requirement changed, or a lock is missing), 0 when they are.
        #[arg(long, conflicts_with = "force")]
        check: bool,
        /// Overwrite generated files (a lock included) that were edited by hand.
        #[arg(long)]
        force: bool,
    },
    /// Resolve each image's requirements with uv and report package counts and download
    /// sizes against the `all` group. Needs network access to PyPI; cached in .gscgen/.
    Footprint {
        #[command(flatten)]
        args: ReportArgs,
        /// The platform to resolve wheels for, as uv names it (python:*-slim images are
        /// Debian 12, glibc 2.36: manylinux_2_28 wheels install there).
        #[arg(long, default_value = "x86_64-manylinux_2_28")]
        platform: String,
        /// Resolve again instead of reading the cache (new releases on the index).
        #[arg(long)]
        refresh: bool,
        /// text: a table of packages and download sizes per image; json: the same as one JSON
        /// document on stdout.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print a KDL 1 configuration converted to KDL 2.
    ConvertKdl1 {
        #[command(flatten)]
        config: ConfigArg,
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
