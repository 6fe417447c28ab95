//! `explain`, `why`, `graph` and `affected`: compile the configuration, then ask
//! [`crate::insight`]. Only `affected --since` talks to the outside world (git), here.

use std::path::Path;
use std::process::Command as Process;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use super::{CompileError, Compiled, Output, Timings, compile, config_dir, exit, failure, read_source};
use crate::cli::{GraphFormat, ReportFormat};
use crate::diagnostics::{self, RenderOptions};
use crate::insight::affected::{self, Affected, Entry, Reason, Snapshot};
use crate::insight::graph::{self, GraphFormat as Format};
use crate::insight::{Subject, explain, why};
use crate::model::Model;
use crate::source::Source;

/// What the insight commands need: the compiled project, or the finished error output.
pub(super) fn compiled(config: &Utf8Path, deny_warnings: bool) -> Result<Compiled, Output> {
    let source = read_source(config)?;
    let name = config.file_name().unwrap_or("project.kdl").to_owned();
    let root = super::config_dir(config);
    match compile(source, &name, deny_warnings, Some(&super::disk_locks(&root)), &mut Timings::new(false)) {
        Ok(compiled) => Ok(compiled),
        Err(CompileError::Fatal(output)) => Err(output),
        Err(CompileError::Invalid { source, diagnostics, .. }) => Err(failure(
            exit::INVALID,
            diagnostics::render(
                &source,
                &diagnostics,
                RenderOptions { color: false, ..RenderOptions::default() },
            ),
        )),
    }
}

fn subject(model: &Model, name: &str) -> Result<Subject, Output> {
    Subject::find(model, name).map_err(|e| {
        let help = e.help.map_or_else(String::new, |h| format!("help: {h}\n"));
        failure(exit::INVALID, format!("error: {}\n{help}", e.message))
    })
}

pub(super) fn explain(config: &Utf8Path, deny_warnings: bool, name: &str) -> Output {
    let compiled = match compiled(config, deny_warnings) {
        Ok(c) => c,
        Err(output) => return output,
    };
    match subject(&compiled.model, name) {
        Ok(subject) => Output {
            code: exit::SUCCESS,
            stdout: explain::explain(&compiled.model, &compiled.plan, &compiled.source, subject),
            stderr: String::new(),
        },
        Err(output) => output,
    }
}

pub(super) fn why(config: &Utf8Path, deny_warnings: bool, name: &str, package: &str) -> Output {
    let compiled = match compiled(config, deny_warnings) {
        Ok(c) => c,
        Err(output) => return output,
    };
    match subject(&compiled.model, name) {
        Ok(subject) => match why::why(&compiled.model, &compiled.source, subject, package) {
            Ok((stdout, found)) => Output {
                code: if found { exit::SUCCESS } else { exit::DRIFT },
                stdout,
                stderr: String::new(),
            },
            Err(message) => failure(exit::INVALID, format!("error: {message}\n")),
        },
        Err(output) => output,
    }
}

pub(super) fn graph(config: &Utf8Path, deny_warnings: bool, format: GraphFormat) -> Output {
    let compiled = match compiled(config, deny_warnings) {
        Ok(c) => c,
        Err(output) => return output,
    };
    let format = match format {
        GraphFormat::Text => Format::Text,
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
    };
    Output { code: exit::SUCCESS, stdout: graph::graph(&compiled.model, format), stderr: String::new() }
}

/// The JSON document of `affected --format json` (docs/affected.md).
#[derive(Serialize)]
struct AffectedJson<'a> {
    /// The git revision compared with, if any.
    since: Option<&'a str>,
    /// The changed files considered, relative to the project root.
    changed_files: &'a [String],
    #[serde(flatten)]
    affected: &'a Affected,
}

pub(super) fn affected(
    config: &Utf8Path,
    deny_warnings: bool,
    since: Option<&str>,
    files: &[Utf8PathBuf],
    format: ReportFormat,
) -> Output {
    let compiled = match compiled(config, deny_warnings) {
        Ok(c) => c,
        Err(output) => return output,
    };
    let root = config_dir(config);
    let new = Snapshot { model: &compiled.model, plan: &compiled.plan };
    let mut stderr = String::new();
    let (result, changed) = match since {
        Some(reference) => {
            let repository = match Repository::open(&root, config) {
                Ok(r) => r,
                Err(message) => return failure(exit::INVALID, format!("error: {message}\n")),
            };
            let changed = match repository.changed_files(reference) {
                Ok(changed) => changed,
                Err(message) => return failure(exit::INVALID, format!("error: {message}\n")),
            };
            let result = match repository.old_config(reference) {
                Ok(Some(text)) if text.len() as u64 > super::MAX_CONFIG_BYTES => {
                    stderr.push_str(&format!(
                        "warning: {config} at {reference} is larger than gscgen reads; everything counts as affected\n"
                    ));
                    everything(&compiled.model)
                }
                Ok(Some(text)) => {
                    let source = Source::new(config.as_str(), text);
                    let name = config.file_name().unwrap_or("project.kdl");
                    let old_lock = |path: &Utf8Path| repository.old_file(reference, path);
                    match compile(source, name, false, Some(&old_lock), &mut Timings::new(false)) {
                        Ok(old) => {
                            let old = Snapshot { model: &old.model, plan: &old.plan };
                            affected::affected(Some(old), new, &changed)
                        }
                        Err(_) => {
                            stderr.push_str(&format!(
                                "warning: {config} at {reference} does not compile; everything counts as affected\n"
                            ));
                            everything(&compiled.model)
                        }
                    }
                }
                Ok(None) => {
                    stderr.push_str(&format!(
                        "warning: {config} does not exist at {reference}; everything counts as affected\n"
                    ));
                    everything(&compiled.model)
                }
                Err(message) => return failure(exit::INVALID, format!("error: {message}\n")),
            };
            (result, changed)
        }
        None => {
            let changed = project_relative(&root, files, &mut stderr);
            (affected::affected(None, new, &changed), changed)
        }
    };
    let stdout = match format {
        ReportFormat::Text => affected::text(&result),
        ReportFormat::Json => {
            let json = AffectedJson { since, changed_files: &changed, affected: &result };
            let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    Output { code: exit::SUCCESS, stdout, stderr }
}

/// The configuration did not exist (or did not compile) at the reference: every image
/// and service is new.
fn everything(model: &Model) -> Affected {
    let entry = |name: &str| Entry { name: name.to_owned(), reasons: vec![Reason::New] };
    Affected {
        images: model.images.iter().map(|i| entry(&i.name.value)).collect(),
        services: model.services.iter().map(|s| entry(&s.name.value)).collect(),
        removed: Vec::new(),
    }
}

/// `--files` paths (relative to the current folder, or absolute) made relative to the
/// project root; files outside it cannot be build inputs and are dropped with a note.
fn project_relative(root: &Utf8Path, files: &[Utf8PathBuf], stderr: &mut String) -> Vec<String> {
    let root = if root.as_str().is_empty() { Utf8Path::new(".") } else { root };
    let Ok(root_abs) = std::path::absolute(root.as_std_path()) else { return Vec::new() };
    let root_abs = lexical_clean(&root_abs);
    let mut out = Vec::new();
    for file in files {
        let absolute = std::path::absolute(file.as_std_path()).map(|p| lexical_clean(&p));
        match absolute.ok().and_then(|p| p.strip_prefix(&root_abs).ok().map(Path::to_path_buf)) {
            Some(relative) => {
                let relative: Vec<String> =
                    relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push(if relative.is_empty() { ".".to_owned() } else { relative.join("/") });
            }
            None => stderr.push_str(&format!("note: {file} is outside the project root {root}; ignored\n")),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `a/./b/../c` → `a/c` without touching the disk (deleted files have no real path).
fn lexical_clean(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The git work tree that holds the project.
struct Repository {
    /// The project root (the config's folder).
    root: Utf8PathBuf,
    /// The project root's path inside the repository, `""` or ending in `/`.
    prefix: String,
    /// The config's path inside the repository.
    config: String,
}

impl Repository {
    fn open(root: &Utf8Path, config: &Utf8Path) -> Result<Self, String> {
        let root = if root.as_str().is_empty() { Utf8PathBuf::from(".") } else { root.to_owned() };
        let prefix = git(&root, &["rev-parse", "--show-prefix"])?.trim_end_matches('\n').to_owned();
        let name = config.file_name().unwrap_or("project.kdl");
        Ok(Self { config: format!("{prefix}{name}"), root, prefix })
    }

    /// Files changed between `reference` and the work tree (committed or not), plus
    /// untracked files, relative to the project root.
    fn changed_files(&self, reference: &str) -> Result<Vec<String>, String> {
        // Refuse anything git could read as an option.
        if reference.starts_with('-') {
            return Err(format!("`{reference}` is not a git revision"));
        }
        git(&self.root, &["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")])
            .map_err(|_| format!("`{reference}` is not a commit in this repository"))?;
        // `--no-relative`: paths from the top of the repository whatever `diff.relative` says.
        let mut listed = git(
            &self.root,
            &["diff", "--name-only", "--no-relative", "--no-renames", "-z", reference, "--", "."],
        )?;
        listed.push_str(&git(
            &self.root,
            &["ls-files", "--others", "--exclude-standard", "-z", "--full-name", "--", "."],
        )?);
        // `git diff` names paths from the top of the repository.
        let mut files: Vec<String> = listed
            .split('\0')
            .filter(|f| !f.is_empty())
            .filter_map(|f| f.strip_prefix(self.prefix.as_str()).map(str::to_owned))
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// The configuration's text at `reference`, `None` when it did not exist there.
    /// A file of the project (a path from its root) as committed at `reference`, when it
    /// exists there: the old side's locks.
    fn old_file(&self, reference: &str, path: &Utf8Path) -> Option<String> {
        let spec = format!("{reference}:{}{path}", self.prefix);
        let output =
            Process::new("git").current_dir(&self.root).args(["cat-file", "blob", &spec]).output().ok()?;
        if !output.status.success() {
            return None;
        }
        String::from_utf8(output.stdout).ok()
    }

    fn old_config(&self, reference: &str) -> Result<Option<String>, String> {
        let spec = format!("{reference}:{}", self.config);
        let exists = Process::new("git")
            .current_dir(&self.root)
            .args(["cat-file", "-e", &spec])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !exists.status.success() {
            return Ok(None);
        }
        // The blob's bytes as committed: `cat-file blob` applies no textconv or filter.
        let output = Process::new("git")
            .current_dir(&self.root)
            .args(["cat-file", "blob", &spec])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git cannot read {spec}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        String::from_utf8(output.stdout).map(Some).map_err(|_| format!("{spec} is not UTF-8 text"))
    }
}

fn git(dir: &Utf8Path, args: &[&str]) -> Result<String, String> {
    let output = Process::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("git {} failed: {}", args.join(" "), stderr.trim()));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| format!("git {} printed a path that is not UTF-8", args.join(" ")))
}
