//! `gscgen lock`: resolves every lock set (`rules::lock::lock_sets`) with uv, then renders
//! the project with the new locks, so the Dockerfiles and the locks change together. The
//! only command that resolves over the network (docs/locking.md).
//!
//! uv keeps what the committed lock pins (the lock is handed to uv as its existing output
//! file, which uv reads as preferences), unless `--upgrade` / `--upgrade-package` says
//! otherwise; an image's set is resolved with the base image's new lock as constraints.

use std::fmt::Write as _;
use std::process::Command as Process;

use camino::{Utf8Path, Utf8PathBuf};

use super::{CompileError, Output, Timings, compile, config_dir, disk_locks, exit, failure, read_source};
use crate::diagnostics::{self, RenderOptions};
use crate::emit::{self, WriteOptions, cache::state_dir};
use crate::model::{LockFile, Model};
use crate::plan::{self, PlanContext};
use crate::rules::lock::{LockSet, lock_sets};

/// Check the committed locks, or write new ones.
pub(crate) enum Mode {
    Check,
    Write { force: bool },
}

/// Which pins may move.
pub(crate) enum Upgrade<'a> {
    None,
    All,
    Packages(&'a [String]),
}

pub(super) fn run(
    config: &Utf8Path,
    deny_warnings: bool,
    upgrade: Upgrade<'_>,
    mode: Mode,
    quiet: bool,
) -> Output {
    let source = match read_source(config) {
        Ok(source) => source,
        Err(failure) => return failure,
    };
    let name = config.file_name().unwrap_or("project.kdl").to_owned();
    let compiled = match compile(source, &name, deny_warnings, None, &mut Timings::new(false)) {
        Ok(compiled) => compiled,
        Err(CompileError::Fatal(output)) => return output,
        Err(CompileError::Invalid { source, diagnostics, .. }) => {
            let options = RenderOptions { color: false, ..RenderOptions::default() };
            return failure(exit::INVALID, diagnostics::render(&source, &diagnostics, options));
        }
    };
    let mut model = compiled.model;
    let sets = lock_sets(&model);
    if sets.is_empty() {
        return failure(
            exit::INVALID,
            format!(
                "error: {name} does not lock its requirements\n\
                 help: add `lock=#true` to `targets` › `requirements` (docs/locking.md)\n"
            ),
        );
    }
    let root = config_dir(config);
    let Some(work) = state_dir(&root).map(|s| s.join("lock")) else {
        return failure(exit::IO, format!("error: cannot create {root}/.gscgen\n"));
    };
    if let Err(e) = std::fs::create_dir_all(&work) {
        return failure(exit::IO, format!("error: cannot create {work}: {e}\n"));
    }
    let resolver = match uv_version() {
        Ok(version) => version,
        Err(message) => return failure(exit::IO, format!("error: {message}\n")),
    };
    let committed = disk_locks(&root);
    let python = model.project.python.to_string();
    let mut locks: Vec<LockFile> = Vec::with_capacity(sets.len());
    // The committed locks that still read back: uv's preferences, and what `--check` compares.
    let olds: Vec<Option<LockFile>> =
        sets.iter().map(|set| committed(&set.path).and_then(|text| LockFile::parse(&text).ok())).collect();
    let mut report = String::new();
    for (set, old) in sets.iter().zip(&olds) {
        let constraints = set.constrained_by.map(|base| &locks[base]);
        let uv_text = match resolve(&root, &work, set, &python, old.as_ref(), constraints, &upgrade) {
            Ok(text) => text,
            Err(message) => return failure(exit::IO, format!("error: {message}\n")),
        };
        let packages = match LockFile::packages_from_uv(&uv_text, &set.inputs) {
            Ok(packages) => packages,
            Err(e) => {
                return failure(exit::IO, format!("error: cannot read uv's answer for {}: {e}\n", set.title));
            }
        };
        let lock = LockFile {
            python: python.clone(),
            resolver: resolver.clone(),
            constraint: constraints.map(LockFile::checksum),
            inputs: set.inputs.iter().map(|i| (i.group.clone(), i.recorded())).collect(),
            indexes: bound_indexes(set).into_iter().map(|(_, url)| url).collect(),
            packages,
        };
        let _ = writeln!(report, "{:>8} {}: {}", "locked", set.title, changes(old.as_ref(), &lock));
        locks.push(lock);
    }
    let force = match mode {
        Mode::Write { force } => force,
        Mode::Check => {
            let stale: Vec<&LockSet> = sets
                .iter()
                .zip(locks.iter().zip(&olds))
                .filter(|(_, (lock, old))| old.as_ref() != Some(*lock))
                .map(|(set, _)| set)
                .collect();
            if stale.is_empty() {
                let stdout =
                    if quiet { String::new() } else { format!("{} locks are up to date\n", sets.len()) };
                return Output { code: exit::SUCCESS, stdout, stderr: String::new() };
            }
            let mut stderr = report;
            for set in stale {
                let _ = writeln!(
                    stderr,
                    "error: the lock of {} ({}) is not what `gscgen lock` writes now",
                    set.title, set.path
                );
            }
            stderr.push_str("hint: run `gscgen lock` and commit the locks\n");
            return Output { code: exit::DRIFT, stdout: String::new(), stderr };
        }
    };
    model.locks = locks;
    write(&model, &name, &root, report, quiet, force)
}

/// Plans the project with its new locks and writes it, as `render` does.
fn write(
    model: &Model,
    config_name: &str,
    root: &Utf8Path,
    report: String,
    quiet: bool,
    force: bool,
) -> Output {
    let context = PlanContext { config_name: config_name.to_owned() };
    let plan = match plan::plan(model, &context) {
        Ok(plan) => plan,
        Err(plan::PlanFailure::Render(e)) => return failure(exit::IO, format!("error: {e}\n")),
        Err(plan::PlanFailure::Collision { path, .. }) => {
            return failure(exit::INVALID, format!("error: two targets write {path} (run `gscgen check`)\n"));
        }
    };
    if let Err(error) = emit::guard_output(root, &root.join(&plan.output)) {
        return failure(exit::IO, format!("error: {error}\n"));
    }
    let mut output = Output {
        code: exit::SUCCESS,
        stdout: if quiet { String::new() } else { report },
        stderr: String::new(),
    };
    match emit::write(&plan, root, WriteOptions { force, fail_after_writes: None }) {
        Ok(written) => {
            output.code = super::report_write(&mut output, config_name, &written, root, &plan, quiet, false);
        }
        Err(error) => {
            output.stderr.push_str(&format!("error: {error}\n"));
            output.code = exit::IO;
        }
    }
    output
}

/// What changed in one lock, for the report.
fn changes(old: Option<&LockFile>, new: &LockFile) -> String {
    let Some(old) = old else { return format!("{} (new lock)", count(new.packages.len())) };
    let version = |lock: &LockFile, name: &str| {
        lock.packages.iter().find(|p| p.name == name).map(|p| p.version.clone())
    };
    let mut moved = Vec::new();
    for package in &new.packages {
        match version(old, &package.name) {
            Some(v) if v == package.version => {}
            Some(v) => moved.push(format!("{} {v} → {}", package.name, package.version)),
            None => moved.push(format!("+{} {}", package.name, package.version)),
        }
    }
    for package in &old.packages {
        if version(new, &package.name).is_none() {
            moved.push(format!("-{}", package.name));
        }
    }
    moved.dedup();
    if moved.is_empty() {
        format!("{}, unchanged", count(new.packages.len()))
    } else {
        format!("{}; {}", count(new.packages.len()), moved.join(", "))
    }
}

/// `uv 0.13.9`: the resolver, as the lock records it.
fn uv_version() -> Result<String, String> {
    // The same hint as `footprint`'s: where to get the uv the tests pin.
    let output =
        Process::new("uv").arg("--version").output().map_err(|e| super::footprint::missing_uv(&e))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some(name), Some(version)) => Ok(format!("{name} {version}")),
        _ => Err(format!("uv --version printed {text:?}")),
    }
}

/// One `uv pip compile`: universal (every platform), hashes of every file, annotated.
fn resolve(
    root: &Utf8Path,
    work: &Utf8Path,
    set: &LockSet,
    python: &str,
    old: Option<&LockFile>,
    constraints: Option<&LockFile>,
    upgrade: &Upgrade<'_>,
) -> Result<String, String> {
    let stem = set.title.replace(' ', "-");
    let absolute = |path: Utf8PathBuf| -> Result<std::path::PathBuf, String> {
        std::path::absolute(path.as_std_path()).map_err(|e| format!("cannot locate {path}: {e}"))
    };
    // Bound packages need uv's sources, which only a project file can state: then the input
    // is a pyproject.toml of its own (in a folder per set, as uv wants the file name).
    let indexes = bound_indexes(set);
    let input = if indexes.is_empty() {
        let input = work.join(format!("{stem}.in"));
        let text: String = set.inputs.iter().map(|i| format!("{}\n", i.line)).collect();
        std::fs::write(&input, text).map_err(|e| format!("cannot write {input}: {e}"))?;
        input
    } else {
        let folder = work.join(&stem);
        std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {folder}: {e}"))?;
        let input = folder.join("pyproject.toml");
        std::fs::write(&input, pyproject(set, python, &indexes))
            .map_err(|e| format!("cannot write {input}: {e}"))?;
        input
    };
    let output = work.join(format!("{stem}.txt"));
    // The committed pins, as uv's existing output: uv prefers them.
    let preferences: String = old.map(pins).unwrap_or_default();
    std::fs::write(&output, preferences).map_err(|e| format!("cannot write {output}: {e}"))?;
    let mut command = Process::new("uv");
    command
        .current_dir(if root.as_str().is_empty() { Utf8Path::new(".") } else { root })
        .args(["pip", "compile", "--quiet", "--universal", "--generate-hashes", "--no-header"])
        .args(["--python-version", python])
        .arg(absolute(input.clone())?)
        .arg("--output-file")
        .arg(absolute(output.clone())?);
    if let Some(base) = constraints {
        let file = work.join(format!("{stem}.constraints"));
        std::fs::write(&file, pins(base)).map_err(|e| format!("cannot write {file}: {e}"))?;
        command.arg("--constraint").arg(absolute(file)?);
    }
    match upgrade {
        Upgrade::None => {}
        Upgrade::All => {
            command.arg("--upgrade");
        }
        Upgrade::Packages(packages) => {
            for package in *packages {
                command.arg("--upgrade-package").arg(package);
            }
        }
    }
    let result = command.output().map_err(|e| format!("cannot run uv ({e})"))?;
    if !result.status.success() {
        return Err(format!(
            "uv could not lock {} (it needs the package index; the requirements are in {input}):\n{}",
            set.title,
            String::from_utf8_lossy(&result.stderr).trim_end()
        ));
    }
    std::fs::read_to_string(&output).map_err(|e| format!("cannot read {output}: {e}"))
}

/// `name==version ; marker` lines: a lock as preferences or constraints for uv.
fn pins(lock: &LockFile) -> String {
    lock.packages
        .iter()
        .map(|p| match &p.marker {
            Some(marker) => format!("{}=={} ; {marker}\n", p.name, p.version),
            None => format!("{}=={}\n", p.name, p.version),
        })
        .collect()
}

fn count(packages: usize) -> String {
    if packages == 1 { "1 package".to_owned() } else { format!("{packages} packages") }
}

/// The indexes a set's bound requirements come from: (name, URL), each once, in order.
fn bound_indexes(set: &LockSet) -> Vec<(String, String)> {
    let mut indexes: Vec<(String, String)> = Vec::new();
    for index in set.inputs.iter().filter_map(|i| i.index.clone()) {
        if !indexes.contains(&index) {
            indexes.push(index);
        }
    }
    indexes
}

/// A project file that states a set's requirements with uv's explicit indexes and sources:
/// a bound package is resolved from its index only, every other package from the default.
fn pyproject(set: &LockSet, python: &str, indexes: &[(String, String)]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("[project]\nname = \"gscgen-lock\"\nversion = \"0\"\n");
    let _ = writeln!(out, "requires-python = \">={python}\"");
    out.push_str("dependencies = [\n");
    for input in &set.inputs {
        let _ = writeln!(out, "    {},", quote(&input.line));
    }
    out.push_str("]\n");
    for (name, url) in indexes {
        let _ = write!(
            out,
            "\n[[tool.uv.index]]\nname = {}\nurl = {}\nexplicit = true\n",
            quote(name),
            quote(url)
        );
    }
    out.push_str("\n[tool.uv.sources]\n");
    for input in &set.inputs {
        if let Some((name, _)) = &input.index {
            let _ = writeln!(out, "{} = {{ index = {} }}", quote(&input.name), quote(name));
        }
    }
    out
}
