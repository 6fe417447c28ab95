//! The pipeline behind each subcommand: read → parse → resolve → plan → emit, turned into
//! an [`Output`] (text and exit code) that `main` prints.

use std::fs;
use std::io;

use camino::{Utf8Path, Utf8PathBuf};

use crate::cli::{Cli, ColorChoice, Command, Format};
use crate::diagnostics::{self, Diagnostics, RenderOptions};
use crate::emit::cache::{self, CacheKey};
use crate::emit::{self, Drift, FileStatus, WriteOptions};
use crate::model::Model;
use crate::plan::{self, Plan, PlanContext};
use crate::source::Source;

/// Exit statuses, documented in `--help` and the README.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const DRIFT: u8 = 1;
    pub const INVALID: u8 = 2;
    pub const IO: u8 = 3;
}

/// Largest configuration gscgen reads. A project.kdl of this size is a mistake, not a
/// platform, and parsing it would take long enough to look like a hang.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// What the process should print and return.
#[derive(Debug, Default)]
pub struct Output {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Facts about the process environment, passed in so tests control them.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub no_color: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    /// `GITHUB_ACTIONS=true`: drift and diagnostics also become workflow commands.
    pub github_actions: bool,
}

mod fmt;
mod footprint;
mod init;
mod insight;
mod lock;
mod report;

struct Compiled {
    source: Source,
    model: Model,
    plan: Plan,
    warnings: Diagnostics,
}

/// Why a configuration could not be compiled.
enum CompileError {
    /// Reading failed, or the plan failed (a bug): a finished message and exit code.
    Fatal(Output),
    /// The configuration is invalid (or its warnings are denied).
    Invalid { source: Source, diagnostics: Diagnostics, denied: bool },
}

/// Wall-clock time per stage, printed with `-vv`.
struct Timings {
    enabled: bool,
    last: std::time::Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl Timings {
    fn new(enabled: bool) -> Self {
        Self { enabled, last: std::time::Instant::now(), laps: Vec::new() }
    }

    fn lap(&mut self, stage: &'static str) {
        if self.enabled {
            let now = std::time::Instant::now();
            self.laps.push((stage, now - self.last));
            self.last = now;
        }
    }

    fn report(&self) -> String {
        let laps: Vec<String> = self
            .laps
            .iter()
            .map(|(stage, time)| format!("{stage} {:.1} ms", time.as_secs_f64() * 1000.0))
            .collect();
        if laps.is_empty() { String::new() } else { format!("timings: {}\n", laps.join(", ")) }
    }
}

/// What a command does with the compiled plan.
enum Action {
    Render { force: bool, exit_code: bool },
    Check { format: Format },
    Diff,
}

/// Runs one command line.
pub fn run(cli: &Cli, environment: &Environment) -> Output {
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(message) => return failure(exit::INVALID, format!("error: {message}\n")),
    };
    let color_out = use_color(settings.color, environment, environment.stdout_is_terminal);
    let color_err = use_color(settings.color, environment, environment.stderr_is_terminal);
    let config = &settings.config;
    let deny_warnings = settings.deny_warnings;
    let (out, action) = match &cli.command {
        Command::Render { out, force, exit_code, .. } => {
            (out, Action::Render { force: *force, exit_code: *exit_code })
        }
        Command::Check { out, format, .. } => (out, Action::Check { format: *format }),
        Command::Diff { out, .. } => (out, Action::Diff),
        Command::Init { from_requirements, .. } => return init::run(config, from_requirements.as_deref()),
        Command::Fmt { check, .. } => return fmt::run(config, *check, color_out),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut buffer = Vec::new();
            clap_complete::generate(*shell, &mut command, "gscgen", &mut buffer);
            return Output {
                code: exit::SUCCESS,
                stdout: String::from_utf8_lossy(&buffer).into_owned(),
                stderr: String::new(),
            };
        }
        Command::Explain { name, .. } => return insight::explain(config, deny_warnings, name),
        Command::Why { name, package, .. } => return insight::why(config, deny_warnings, name, package),
        Command::Graph { format, .. } => return insight::graph(config, deny_warnings, *format),
        Command::Affected { since, files, format, .. } => {
            return insight::affected(config, deny_warnings, since.as_deref(), files, *format);
        }
        Command::Footprint { platform, refresh, format, .. } => {
            return footprint::footprint(config, deny_warnings, platform, *refresh, *format);
        }
        Command::Lock { upgrade, upgrade_package, check, force, .. } => {
            let upgrade = match (upgrade, upgrade_package.as_slice()) {
                (true, _) => lock::Upgrade::All,
                (false, []) => lock::Upgrade::None,
                (false, packages) => lock::Upgrade::Packages(packages),
            };
            let mode = match (check, force) {
                (true, _) => lock::Mode::Check,
                (false, force) => lock::Mode::Write { force: *force },
            };
            return lock::run(config, deny_warnings, upgrade, mode, settings.quiet);
        }
        Command::ConvertKdl1 { file, .. } => return convert_kdl1(file.as_deref().unwrap_or(config)),
        Command::Synth { services, groups, seed, chain } => {
            let stdout = match chain {
                Some(length) => crate::synth::include_chain(*length),
                None => crate::synth::project(*services, groups.unwrap_or((services / 4).max(1)), *seed),
            };
            return Output { code: exit::SUCCESS, stdout, stderr: String::new() };
        }
    };
    let format = match action {
        Action::Check { format } => format,
        _ => Format::Human,
    };
    // Under GitHub Actions, human output also annotates the pull request.
    let annotate = format == Format::Github || (format == Format::Human && environment.github_actions);
    let mut output = Output::default();
    let mut timings = Timings::new(settings.verbose >= 2);
    let source = match read_source(config) {
        Ok(source) => source,
        Err(failure) => return failure,
    };
    timings.lap("read");
    let config_name = config.file_name().unwrap_or("project.kdl").to_owned();
    let cache_key = CacheKey::new(&config_name, &source.text, out.as_deref());
    let force = matches!(action, Action::Render { force: true, .. });
    // A run with `--out` (a preview, a test) neither reads nor writes the cache: it leaves
    // nothing next to the configuration, which may be someone else's (README, "--out").
    let use_cache = out.is_none();
    if !force
        && use_cache
        && let Some(fresh) = cache::fresh_files(&config_dir(config), &cache_key)
        && emit::guard_output(&config_dir(config), &fresh.root.join(&fresh.output)).is_ok()
    {
        let (root, files) = (&fresh.root, &fresh.files);
        // Messages name the output folder, as the project root sees it.
        let shown = root.join(&fresh.output);
        // The output folder is exactly what this configuration renders: no parsing needed.
        timings.lap("cache");
        output.code = exit::SUCCESS;
        if !settings.quiet {
            match format {
                Format::Json => output.stdout = report::json_fresh(&source, &shown),
                _ if matches!(action, Action::Diff) => output.stdout.push_str("no changes\n"),
                _ => {
                    if settings.verbose > 0 {
                        for file in files {
                            output.stdout.push_str(&format!("   fresh {}\n", root.join(file)));
                        }
                    }
                    let verb = if matches!(action, Action::Render { .. }) {
                        "files, 0 changed"
                    } else {
                        "files fresh"
                    };
                    output.stdout.push_str(&format!("{shown}: {} {verb}\n", files.len() + 1));
                }
            }
        } else if format == Format::Json {
            output.stdout = report::json_fresh(&source, &shown);
        }
        output.stderr.push_str(&timings.report());
        return output;
    }
    let lock_root = config_dir(config);
    let compiled =
        match compile(source, &config_name, deny_warnings, Some(&disk_locks(&lock_root)), &mut timings) {
            Ok(c) => c,
            Err(CompileError::Fatal(failure)) => return failure,
            Err(CompileError::Invalid { source, diagnostics, denied }) => {
                output.code = exit::INVALID;
                match format {
                    Format::Json => output.stdout = report::json(&source, &diagnostics, &[], None, "invalid"),
                    Format::Human | Format::Github => {
                        output.stderr = diagnostics::render(&source, &diagnostics, render_options(color_err));
                        if denied && !diagnostics.has_errors() {
                            output.stderr.push_str("error: warnings are denied (--deny-warnings)\n");
                        }
                    }
                }
                if annotate {
                    output.stdout.push_str(&report::github_diagnostics(&source, &diagnostics));
                }
                return output;
            }
        };
    if !compiled.warnings.is_empty() && format != Format::Json {
        output.stderr.push_str(&diagnostics::render(
            &compiled.source,
            &compiled.warnings,
            render_options(color_err),
        ));
        if annotate {
            output.stdout.push_str(&report::github_diagnostics(&compiled.source, &compiled.warnings));
        }
    }
    // Planned paths are relative to the project root; `--out DIR` stands in for it.
    let root = out.clone().unwrap_or_else(|| config_dir(config));
    let shown = root.join(&compiled.plan.output);
    let file_count = compiled.plan.files.len() + 1;
    // Check and diff: nothing drifted; render: the output folder now matches the plan.
    let mut no_drift = false;
    // A symlinked output folder (or a link on the way to it) is refused before anything is
    // read or written: its files, the lock included, could land anywhere.
    let result = match emit::guard_output(&config_dir(config), &shown) {
        Err(error) => Err(error),
        Ok(()) => match action {
            Action::Check { format } => emit::check(&compiled.plan, &root).map(|drift| {
                no_drift = drift.is_empty();
                let status = if drift.is_empty() { "fresh" } else { "drift" };
                match format {
                    Format::Json => {
                        output.stdout =
                            report::json(&compiled.source, &compiled.warnings, &drift, Some(&shown), status);
                    }
                    Format::Human | Format::Github => {
                        if format == Format::Human {
                            report_drift(&mut output, &drift, color_out);
                        }
                        if annotate {
                            output.stdout.push_str(&report::github_drift(&root, &drift, &config_name));
                        }
                        if drift.is_empty() {
                            if !settings.quiet {
                                if settings.verbose > 0 {
                                    for file in &compiled.plan.files {
                                        output
                                            .stdout
                                            .push_str(&format!("   fresh {}\n", root.join(&file.path)));
                                    }
                                }
                                output.stdout.push_str(&format!("{shown}: {file_count} files fresh\n"));
                            }
                        } else {
                            output.stderr.push_str(&drift_advice(&drift, &config_name));
                        }
                    }
                }
                if drift.is_empty() { exit::SUCCESS } else { exit::DRIFT }
            }),
            Action::Diff => emit::check(&compiled.plan, &root).map(|drift| {
                no_drift = drift.is_empty();
                report_drift(&mut output, &drift, color_out);
                if drift.is_empty() && !settings.quiet {
                    output.stdout.push_str("no changes\n");
                }
                exit::SUCCESS
            }),
            Action::Render { force, exit_code } => {
                emit::write(&compiled.plan, &root, WriteOptions { force, fail_after_writes: None }).map(
                    |report| {
                        no_drift = report.refused.is_empty();
                        let code = report_write(
                            &mut output,
                            &config_name,
                            &report,
                            &root,
                            &compiled.plan,
                            settings.quiet,
                            color_err,
                        );
                        if exit_code && code == exit::SUCCESS && !report.applied.is_empty() {
                            exit::DRIFT
                        } else {
                            code
                        }
                    },
                )
            }
        },
    };
    timings.lap("emit");
    // A clean, fresh result is remembered, so the next check need not parse (emit/cache.rs).
    // (`render --exit-code` exits 1 after a successful write: that result is fresh too.)
    if use_cache && result.is_ok() && no_drift && compiled.warnings.is_empty() {
        cache::store(
            &config_dir(config),
            &cache_key,
            &root,
            &compiled.plan.output,
            &emit::manifest::Manifest::of(&compiled.plan),
        );
    }
    output.stderr.push_str(&timings.report());
    match result {
        Ok(code) => output.code = code,
        Err(error) => {
            if format == Format::Json {
                output.stdout = report::json_error(&error.to_string());
            }
            output.stderr.push_str(&format!("error: {error}\n"));
            output.code = exit::IO;
        }
    }
    output
}

fn report_write(
    output: &mut Output,
    config_name: &str,
    report: &emit::WriteReport,
    root: &Utf8Path,
    plan: &Plan,
    quiet: bool,
    color: bool,
) -> u8 {
    let (shown, file_count) = (root.join(&plan.output), plan.files.len() + 1);
    if !report.refused.is_empty() {
        for d in &report.refused {
            let why = match d.status {
                FileStatus::NotGenerated => "exists but was not generated by gscgen",
                _ => "was edited by hand since the last render",
            };
            output.stderr.push_str(&format!("error: {} {why}\n", root.join(&d.path)));
            output.stderr.push_str(&d.diff(color));
        }
        output.stderr.push_str(&format!(
            "error: nothing was written\nhint: move the changes into {config_name}, or run \
             `gscgen render --force` to overwrite them (the changes on disk are lost)\n"
        ));
        return exit::DRIFT;
    }
    if !quiet {
        for d in &report.applied {
            let verb = match d.status {
                FileStatus::Missing => "created",
                FileStatus::Stale => "removed",
                FileStatus::Mode => "chmod",
                _ => "updated",
            };
            output.stdout.push_str(&format!("{verb:>8} {}\n", root.join(&d.path)));
        }
        output.stdout.push_str(&format!("{shown}: {file_count} files, {} changed\n", report.applied.len()));
    }
    exit::SUCCESS
}

fn use_color(choice: ColorChoice, environment: &Environment, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !environment.no_color,
    }
}

fn render_options(color: bool) -> RenderOptions {
    RenderOptions { color, ..RenderOptions::default() }
}

fn config_dir(config: &Utf8Path) -> Utf8PathBuf {
    config.parent().map_or_else(|| Utf8PathBuf::from("."), Utf8Path::to_owned)
}

fn failure(code: u8, stderr: String) -> Output {
    Output { code, stdout: String::new(), stderr }
}

/// Reads the configuration file, with a clear message for every way that can fail.
pub fn read_source(path: &Utf8Path) -> Result<Source, Output> {
    let metadata = fs::metadata(path).map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::NotFound {
            "\nhint: run gscgen in the folder that holds project.kdl, or pass --config PATH"
        } else {
            ""
        };
        failure(exit::IO, format!("error: cannot read {path}: {}{hint}\n", io_reason(&e)))
    })?;
    if metadata.is_dir() {
        return Err(failure(
            exit::IO,
            format!(
                "error: {path} is a directory, not a configuration file\nhint: pass --config {path}/project.kdl\n"
            ),
        ));
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(failure(
            exit::INVALID,
            format!(
                "error: {path} is {} bytes; gscgen reads configurations up to {MAX_CONFIG_BYTES} bytes\n",
                metadata.len()
            ),
        ));
    }
    let bytes = fs::read(path)
        .map_err(|e| failure(exit::IO, format!("error: cannot read {path}: {}\n", io_reason(&e))))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        failure(
            exit::INVALID,
            format!(
                "error: {path} is not UTF-8 text (invalid byte at offset {})\nhint: save it as UTF-8\n",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let mut source = Source::new(path.as_str(), text);
    source.path = Some(path.to_owned());
    Ok(source)
}

fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => error.to_string(),
    }
}

/// Reads a lock file: its path relative to the project root → its text, `None` when there
/// is no such file. Locks are inputs, like the config: `render`, `check` and the insight
/// commands read the committed ones (never the network); `gscgen lock` makes new ones.
pub(crate) type LockReader<'a> = &'a dyn Fn(&Utf8Path) -> Option<String>;

/// The committed locks of the project rooted at `root` (the config's folder).
pub(crate) fn disk_locks(root: &Utf8Path) -> impl Fn(&Utf8Path) -> Option<String> + '_ {
    move |path| std::fs::read_to_string(root.join(path)).ok()
}

/// Reads the committed locks the model needs and hands them to resolve.
fn attach_locks(config: &crate::config::Config, model: &mut Model, read: LockReader<'_>) -> Diagnostics {
    let texts: Vec<crate::resolve::locks::LockText> = crate::resolve::locks::wanted(model)
        .into_iter()
        .map(|path| crate::resolve::locks::LockText { text: read(&path), path })
        .collect();
    crate::resolve::locks::attach(config, model, &texts)
}

/// Reads, parses, resolves (with the committed locks, unless `locks` is `None`: `gscgen
/// lock` makes them) and plans.
fn compile(
    source: Source,
    config_name: &str,
    deny_warnings: bool,
    locks: Option<LockReader<'_>>,
    timings: &mut Timings,
) -> Result<Compiled, CompileError> {
    let (config, mut diagnostics) = crate::parse::parse(&source);
    timings.lap("parse");
    let model = config.and_then(|config| {
        let (model, resolve_diagnostics) = crate::resolve::resolve(&config);
        diagnostics.extend(resolve_diagnostics);
        model.map(|mut model| {
            if let Some(read) = locks {
                diagnostics.extend(attach_locks(&config, &mut model, read));
            }
            model
        })
    });
    let model = if diagnostics.has_errors() { None } else { model };
    timings.lap("resolve");
    let denied = deny_warnings && !diagnostics.is_empty();
    let model = match model {
        Some(model) if !denied => model,
        _ => return Err(CompileError::Invalid { source, diagnostics, denied }),
    };
    let context = PlanContext { config_name: config_name.to_owned() };
    let plan = match plan::plan(&model, &context) {
        Ok(plan) => plan,
        Err(plan::PlanFailure::Render(e)) => {
            return Err(CompileError::Fatal(failure(exit::IO, format!("error: {e}\n"))));
        }
        Err(plan::PlanFailure::Collision { path, targets }) => {
            diagnostics.push(collision(&model, &path, targets));
            return Err(CompileError::Invalid { source, diagnostics, denied: false });
        }
    };
    timings.lap("plan");
    Ok(Compiled { source, model, plan, warnings: diagnostics })
}

/// Parses, resolves and places a source: the model when there is no error, and every
/// diagnostic (two targets placed on one path are found by planning, as in `render`).
/// Pure: a project that locks gets no locks here (see [`check_source_with_locks`]).
pub fn check_source(source: &Source) -> (Option<Model>, Diagnostics) {
    check(source, None)
}

/// [`check_source`] with the committed locks of the project rooted at `root` (the folder of
/// its config), checked and attached as `render` does.
pub fn check_source_with_locks(source: &Source, root: &Utf8Path) -> (Option<Model>, Diagnostics) {
    check(source, Some(&disk_locks(root)))
}

fn check(source: &Source, locks: Option<LockReader<'_>>) -> (Option<Model>, Diagnostics) {
    let (config, mut diagnostics) = crate::parse::parse(source);
    let Some(config) = config else { return (None, diagnostics) };
    let (model, resolve_diagnostics) = crate::resolve::resolve(&config);
    diagnostics.extend(resolve_diagnostics);
    let model = match (model, locks) {
        (Some(mut model), Some(read)) if !diagnostics.has_errors() => {
            diagnostics.extend(attach_locks(&config, &mut model, read));
            Some(model)
        }
        (model, _) => model,
    };
    let model = if diagnostics.has_errors() { None } else { model };
    // Where files land is only known once they are planned: two targets placed on one path
    // are refused here as in `render`.
    let model = model.filter(|model| {
        let context = PlanContext { config_name: source.name.clone() };
        match plan::plan(model, &context) {
            Err(plan::PlanFailure::Collision { path, targets }) => {
                diagnostics.push(collision(model, &path, targets));
                false
            }
            _ => true,
        }
    });
    (model, diagnostics)
}

/// The last lines of a `check` that found drift: how many files, and the command that will
/// fix them. `render` refuses files edited by hand or never generated (all of the render,
/// not only those files): then the hint says what works, and what it costs.
fn drift_advice(drift: &[Drift], config_name: &str) -> String {
    let count = drift.len();
    let are = if count == 1 { "is" } else { "are" };
    let edited: Vec<&str> = drift
        .iter()
        .filter(|d| d.needs_force() && d.status == FileStatus::EditedByHand)
        .map(|d| d.path.as_str())
        .collect();
    let foreign: Vec<&str> = drift
        .iter()
        .filter(|d| d.needs_force() && d.status == FileStatus::NotGenerated)
        .map(|d| d.path.as_str())
        .collect();
    if edited.is_empty() && foreign.is_empty() {
        return format!("error: {count} of the generated files {are} out of date; run `gscgen render`\n");
    }
    let mut out = format!("error: {count} of the generated files {are} out of date\n");
    let it = |files: &[&str]| if files.len() == 1 { "it" } else { "them" };
    let files = |files: &[&str]| if files.len() == 1 { "a file" } else { "files" };
    if !edited.is_empty() {
        out.push_str(&format!(
            "hint: `gscgen render` refuses to overwrite {} edited by hand ({}): move the edits into \
             {config_name}, or run `gscgen render --force` to overwrite {} (the edits are lost)\n",
            files(&edited),
            diagnostics::some_of(&edited),
            it(&edited)
        ));
    }
    if !foreign.is_empty() {
        out.push_str(&format!(
            "hint: `gscgen render` refuses to overwrite {} it did not generate ({}): move {} out of \
             the way, or run `gscgen render --force` to overwrite {} (the contents are lost)\n",
            files(&foreign),
            diagnostics::some_of(&foreign),
            it(&foreign),
            it(&foreign)
        ));
    }
    out
}

fn report_drift(output: &mut Output, drift: &[Drift], color: bool) {
    for d in drift {
        let status = match d.status {
            FileStatus::Mode => format!(
                "mode: {} is {}, should be {}",
                d.path,
                emit::describe_mode(d.disk_mode),
                emit::describe_mode(d.rendered_mode)
            ),
            status => format!("{}: {}", status.as_str(), d.path),
        };
        output.stdout.push_str(&status);
        output.stdout.push('\n');
        if d.status != FileStatus::Mode {
            output.stdout.push_str(&d.diff(color));
        }
    }
}

fn convert_kdl1(path: &Utf8Path) -> Output {
    let source = match read_source(path) {
        Ok(s) => s,
        Err(failure) => return failure,
    };
    match kdl::KdlDocument::v1_to_v2(&source.text) {
        Ok(text) => Output { code: exit::SUCCESS, stdout: text, stderr: String::new() },
        Err(_) => failure(
            exit::INVALID,
            format!(
                "error: {path} is not a valid KDL 1 document either; run `gscgen check` for KDL 2 diagnostics\n"
            ),
        ),
    }
}

/// Two targets planned a file at the same path: only a `path=` can make them meet, so the
/// diagnostic points at the `path=` values involved.
fn collision(
    model: &Model,
    path: &Utf8Path,
    targets: [crate::model::TargetKind; 2],
) -> diagnostics::Diagnostic {
    use crate::diagnostics::{Code, Diagnostic};
    let [first, second] = targets;
    let spans: Vec<_> =
        [second, first].into_iter().filter_map(|t| model.layout.placed_span(t).map(|s| (t, s))).collect();
    let (primary, label) = spans.first().map_or((miette::SourceSpan::from(0..0), first), |(t, s)| (*s, *t));
    let mut d = Diagnostic::error(
        Code::PathCollision,
        format!("`{}` and `{}` both render `{path}`", first.node_name(), second.node_name()),
        primary,
        format!("`{}` puts its files here", label.node_name()),
    )
    .with_help(format!(
        "give `{}` a `path=` where no other target writes (each target's default place is listed in \
         docs/language.md, \"The output folder\")",
        label.node_name()
    ));
    if let Some((other, span)) = spans.get(1) {
        d = d.with_label(*span, format!("`{}` puts its files here", other.node_name()));
    }
    d
}
