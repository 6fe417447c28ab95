//! The committed locks, checked against the config (docs/locking.md). The driver reads the
//! lock files (resolve does no I/O) and hands their text here, one per
//! [`lock_sets`] entry; this module decides whether each is still the lock of what
//! project.kdl declares, offline: the same Python, the same requirements (group and line,
//! in any order), and, for an image, the same base-image lock it was constrained by. A
//! file whose checksum does not match was edited by hand.
//!
//! One change to a base requirement makes every lock that includes it stale: that is one
//! diagnostic at the requirement, naming every lock, not one per lock.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use miette::SourceSpan;

use crate::config::Config;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{LockFile, Model};
use crate::rules::lock::{LockError, LockSet, lock_sets};

/// A lock file as the driver found it.
#[derive(Debug, Clone)]
pub struct LockText {
    /// Relative to the project root, as `lock_sets` lays it out.
    pub path: Utf8PathBuf,
    /// `None`: there is no such file.
    pub text: Option<String>,
}

/// The sets the driver must read, in order.
pub fn wanted(model: &Model) -> Vec<Utf8PathBuf> {
    lock_sets(model).into_iter().map(|s| s.path).collect()
}

const HINT: &str = "run `gscgen lock` to lock project.kdl's requirements again, then `gscgen render`";

/// Checks each lock and, when every one is fresh, puts them into the model.
/// Once they are in, the programs of the image's commands are checked against what each
/// image's lock installs (`programs`), dependencies included.
pub fn attach(config: &Config, model: &mut Model, texts: &[LockText]) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    let sets = lock_sets(model);
    let Some(span) = model.targets.requirements.as_ref().and_then(|r| r.lock) else {
        return diagnostics;
    };
    let python = model.project.python.to_string();
    let mut files: Vec<Option<LockFile>> = Vec::with_capacity(sets.len());
    let mut missing: Vec<&LockSet> = Vec::new();
    for set in &sets {
        let text = texts.iter().find(|t| t.path == set.path).and_then(|t| t.text.as_deref());
        let Some(text) = text else {
            missing.push(set);
            files.push(None);
            continue;
        };
        match LockFile::parse(text) {
            Ok(file) => files.push(Some(file)),
            Err(error) => {
                let what = match error {
                    LockError::Edited => "was edited by hand".to_owned(),
                    LockError::Malformed { .. } => format!("is not a lock gscgen wrote ({error})"),
                };
                diagnostics.push(
                    Diagnostic::error(
                        Code::LockEdited,
                        format!("the lock of {} ({}) {what}", set.title, set.path),
                        span,
                        "the requirements install this lock",
                    )
                    .with_help(
                        "a lock is rewritten, never edited: `git checkout` the file to get the committed \
                         one back, or run `gscgen lock --force` to write it again (change a pin in \
                         project.kdl, or with `gscgen lock --upgrade-package NAME`)",
                    ),
                );
                files.push(None);
            }
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|s| format!("{} ({})", s.title, s.path)).collect();
        diagnostics.push(
            Diagnostic::error(
                Code::LockMissing,
                format!(
                    "{} lock file{} missing: {}",
                    missing.len(),
                    if missing.len() == 1 { " is" } else { "s are" },
                    names.join(", ")
                ),
                span,
                "the images install these locks",
            )
            .with_help("run `gscgen lock` (it resolves with uv, over the network), then `gscgen render`"),
        );
    }
    // Requirement span → (line, group, the locks that lack it).
    let mut added: BTreeMap<(usize, usize), (String, String, Vec<String>)> = BTreeMap::new();
    // (group, line) a lock has that the config no longer declares → the locks.
    let mut removed: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut other: Vec<String> = Vec::new();
    for (set, file) in sets.iter().zip(&files) {
        let Some(file) = file else { continue };
        if file.python != python {
            other.push(format!(
                "{} was locked for Python {}, project.kdl says {python}",
                set.title, file.python
            ));
        }
        for input in &set.inputs {
            let recorded = input.recorded();
            if !file.inputs.iter().any(|(g, l)| *g == input.group && *l == recorded) {
                let entry = added
                    .entry((input.span.offset(), input.span.len()))
                    .or_insert_with(|| (recorded.clone(), input.group.clone(), Vec::new()));
                entry.2.push(set.title.clone());
            }
        }
        for (group, line) in &file.inputs {
            if !set.inputs.iter().any(|i| i.group == *group && i.recorded() == *line) {
                removed.entry((group.clone(), line.clone())).or_default().push(set.title.clone());
            }
        }
        if let Some(base) = set.constrained_by {
            let expected = files.get(base).and_then(Option::as_ref).map(LockFile::checksum);
            if expected.is_some() && file.constraint != expected {
                other.push(format!(
                    "{} was locked against another lock of the base image than the committed one",
                    set.title
                ));
            }
        }
    }
    for ((offset, len), (line, group, locks)) in added {
        diagnostics.push(
            Diagnostic::error(
                Code::LockStale,
                format!("`{line}` (group {group}) is not in the lock of {}", list(&locks)),
                SourceSpan::from(offset..offset + len),
                "not locked",
            )
            .with_help(HINT),
        );
    }
    for ((group, line), locks) in removed {
        diagnostics.push(
            Diagnostic::error(
                Code::LockStale,
                format!(
                    "the lock of {} was made with `{line}` (group {group}), which project.kdl no longer declares",
                    list(&locks)
                ),
                span,
                "these locks are stale",
            )
            .with_help(HINT),
        );
    }
    for message in other {
        diagnostics
            .push(Diagnostic::error(Code::LockStale, message, span, "this lock is stale").with_help(HINT));
    }
    if !diagnostics.has_errors() {
        model.locks = files.into_iter().flatten().collect();
        super::programs::check(config, model, &mut diagnostics);
    }
    diagnostics
}

fn list(locks: &[String]) -> String {
    match locks {
        [one] => one.clone(),
        [first, rest @ ..] if rest.len() <= 3 => format!("{first}, {}", rest.join(", ")),
        [first, second, rest @ ..] => format!("{first}, {second} and {} more", rest.len()),
        [] => String::new(),
    }
}
