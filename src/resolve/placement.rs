//! Where each target's files go ([`Layout`]): inside the output folder by default, or at the
//! target's `path=`, relative to the project root — `github-workflow
//! path=".github/workflows/build.yml"` puts the workflow where GitHub runs it. A path may
//! not leave the project root (absolute, `..`), nor name git's or gscgen's own files; emit
//! refuses a symlink on the way, so a link cannot lead out either. Two targets whose files
//! land on the same path are refused after planning (`gscgen::targets::path-collision`).

use camino::Utf8PathBuf;
use miette::SourceSpan;

use super::names;
use crate::config::{Config, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{DependencyGroupsTarget, Layout, TargetKind};
use crate::rules::layout::{DEFAULT_KUBERNETES, DEFAULT_REQUIREMENTS, DEFAULT_WORKFLOW};
use crate::rules::paths::clean_relative;

/// Whether a target writes one file (its `path=` names that file) or a folder of them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    File,
    Folder,
}

/// Resolves every target's place, reporting bad `path=` and `dir=` values.
pub(super) fn layout(config: &Config, output: &Utf8PathBuf, diagnostics: &mut Diagnostics) -> Layout {
    let targets = config.targets.as_ref();
    let mut layout = Layout {
        output: output.clone(),
        requirements: output.join(DEFAULT_REQUIREMENTS),
        compose: output.clone(),
        docker: output.clone(),
        kubernetes: output.join(DEFAULT_KUBERNETES),
        workflow: output.join(DEFAULT_WORKFLOW),
        dependency_groups: output.join(DependencyGroupsTarget::FILE_NAME),
        placed: Vec::new(),
    };
    let Some(targets) = targets else { return layout };

    if let Some(decl) = &targets.requirements {
        if let Some(dir) = &decl.dir {
            if let Some(d) = names::check_relative_path("requirements folder", dir) {
                diagnostics.push(d);
            }
            layout.requirements = output.join(clean_relative(&dir.value));
        }
        both(diagnostics, TargetKind::Requirements, decl.dir.as_ref(), decl.path.as_ref());
        if let Some((path, span)) =
            placed(diagnostics, TargetKind::Requirements, decl.path.as_ref(), Shape::Folder)
        {
            layout.requirements = path;
            layout.placed.push((TargetKind::Requirements, span));
        }
    }
    if let Some(decl) = &targets.dependency_groups {
        if let Some(dir) = &decl.dir {
            if let Some(d) = names::check_relative_path("dependency-groups folder", dir) {
                diagnostics.push(d);
            }
            layout.dependency_groups =
                output.join(clean_relative(&dir.value)).join(DependencyGroupsTarget::FILE_NAME);
        }
        both(diagnostics, TargetKind::DependencyGroups, decl.dir.as_ref(), decl.path.as_ref());
        if let Some((path, span)) =
            placed(diagnostics, TargetKind::DependencyGroups, decl.path.as_ref(), Shape::File)
        {
            layout.dependency_groups = path;
            layout.placed.push((TargetKind::DependencyGroups, span));
        }
    }
    let simple = [
        (TargetKind::Compose, targets.compose.as_ref().and_then(|d| d.path.as_ref()), Shape::Folder),
        (TargetKind::Kubernetes, targets.kubernetes.as_ref().and_then(|d| d.path.as_ref()), Shape::Folder),
        (
            TargetKind::GithubWorkflow,
            targets.github_workflow.as_ref().and_then(|d| d.path.as_ref()),
            Shape::File,
        ),
    ];
    for (kind, path, shape) in simple {
        if let Some((resolved, span)) = placed(diagnostics, kind, path, shape) {
            match kind {
                TargetKind::Compose => layout.compose = resolved,
                TargetKind::Kubernetes => layout.kubernetes = resolved,
                _ => layout.workflow = resolved,
            }
            layout.placed.push((kind, span));
        }
    }
    layout.placed.sort_by_key(|(kind, _)| *kind);
    layout
}

/// `dir=` is inside the output folder, `path=` relative to the project root: one of them.
fn both(diagnostics: &mut Diagnostics, kind: TargetKind, dir: Option<&Text>, path: Option<&Text>) {
    if let (Some(dir), Some(path)) = (dir, path) {
        diagnostics.push(
            Diagnostic::error(
                Code::TargetDirAndPath,
                format!("`{}` has both `dir=` and `path=`", kind.node_name()),
                path.span,
                "relative to the project root",
            )
            .with_label(dir.span, "inside the output folder")
            .with_help(
                "keep one: `dir=` places the files inside the output folder, `path=` anywhere below the \
                 project root",
            ),
        );
    }
}

/// The checked, cleaned `path=` of a target; `None` when it has none or it is refused.
fn placed(
    diagnostics: &mut Diagnostics,
    kind: TargetKind,
    path: Option<&Text>,
    shape: Shape,
) -> Option<(Utf8PathBuf, SourceSpan)> {
    let path = path?;
    let what = format!("`{}` path", kind.node_name());
    if let Some(d) = names::check_relative_path(&what, path) {
        diagnostics.push(d);
        return None;
    }
    let clean = clean_relative(&path.value);
    let refuse = |problem: String, help: &str| {
        Diagnostic::error(
            Code::InvalidPath,
            format!("{what} `{}` {problem}", path.value),
            path.span,
            "invalid path",
        )
        .with_help(help.to_owned())
    };
    // git's folder and gscgen's own state (manifest, journal, lock, cache) are never targets.
    if let Some(component) = clean.split('/').find(|c| *c == ".git" || c.starts_with(".gscgen")) {
        diagnostics.push(refuse(
            format!("names `{component}`, which belongs to git or to gscgen itself"),
            "choose a path outside `.git/` whose names do not start with `.gscgen`",
        ));
        return None;
    }
    if shape == Shape::File {
        let file = clean.rsplit('/').next().unwrap_or_default();
        let problem = if clean.is_empty() || path.value.ends_with('/') {
            Some((
                "names a folder, not a file".to_owned(),
                match kind {
                    TargetKind::DependencyGroups => "name the file, e.g. \"pyproject.toml\"",
                    _ => "name the file, e.g. \".github/workflows/build.yml\"",
                },
            ))
        } else if kind == TargetKind::DependencyGroups && file != DependencyGroupsTarget::FILE_NAME {
            Some((
                format!("names `{file}`, but pip and uv read dependency groups only from `pyproject.toml`"),
                "end the path with `pyproject.toml`, e.g. \"tools/pyproject.toml\"",
            ))
        } else if kind == TargetKind::GithubWorkflow && !(file.ends_with(".yml") || file.ends_with(".yaml")) {
            Some((
                format!("names `{file}`, but GitHub reads workflows only from `.yml` and `.yaml` files"),
                "end the path with `.yml`, e.g. \".github/workflows/build.yml\"",
            ))
        } else {
            None
        };
        if let Some((problem, help)) = problem {
            diagnostics.push(refuse(problem, help));
            return None;
        }
    }
    Some((Utf8PathBuf::from(clean), path.span))
}
