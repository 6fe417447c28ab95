//! Plan: the complete list of output files and their bytes, computed in memory from the
//! resolved model. No I/O happens here; emit decides what to do with the plan.

mod bake;
pub(crate) mod builds;
pub(crate) mod compose;
mod dependency_groups;
mod docker;
pub mod inputs;
pub(crate) mod kubernetes;
mod path_filters;
mod requirements;
pub(crate) mod workflow;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::model::{Model, TargetKind};

/// The layout of generated files is [`crate::rules::layout`]'s; re-exported here, where
/// the files are made.
pub use crate::rules::layout::{base_dockerfile_path, dockerfile_path, requirements_path};

/// Unix permission class of a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileMode {
    /// 0644
    Regular,
    /// 0755: scripts.
    Executable,
}

impl FileMode {
    pub fn bits(self) -> u32 {
        match self {
            FileMode::Regular => 0o644,
            FileMode::Executable => 0o755,
        }
    }
}

/// One file the plan wants on disk, relative to the project root (the folder of the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative, `/`-separated, never `..`.
    pub path: Utf8PathBuf,
    pub bytes: Vec<u8>,
    pub mode: FileMode,
    /// The target that renders it.
    pub target: TargetKind,
}

/// Every generated file, sorted by path, and the output folder that holds the manifest.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    /// The output folder, relative to the project root (empty: the root itself). The
    /// manifest, the journal and the lock live there.
    pub output: Utf8PathBuf,
}

impl Plan {
    pub fn get(&self, path: &str) -> Option<&PlannedFile> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().map(|i| &self.files[i])
    }
}

/// What the renderers know of the world besides the model.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// The config's file name (not its path), named in do-not-edit headers.
    pub config_name: String,
}

/// A template failed to render: a bug in gscgen, never in the user's config.
#[derive(Debug)]
pub struct PlanError {
    pub path: Utf8PathBuf,
    pub message: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "internal error: rendering {} failed: {} (this is a bug in gscgen; please report it)",
            self.path, self.message
        )
    }
}

impl std::error::Error for PlanError {}

/// Why no plan was made.
#[derive(Debug)]
pub enum PlanFailure {
    /// A renderer failed: a bug.
    Render(PlanError),
    /// Two targets put a file at the same path: the config's `path=` values are to blame,
    /// and the driver reports it as a diagnostic at them.
    Collision { path: Utf8PathBuf, targets: [TargetKind; 2] },
}

impl From<PlanError> for PlanFailure {
    fn from(error: PlanError) -> Self {
        PlanFailure::Render(error)
    }
}

/// Collects files from each renderer. A renderer names its files relative to its target's
/// folder ([`crate::model::Layout::of`]; a one-file target's folder is its file's parent):
/// the planner places them, so no renderer decides where its target lives.
pub(crate) struct Planner {
    files: Vec<PlannedFile>,
    /// The folder of the target being planned, relative to the project root.
    folder: Utf8PathBuf,
    target: TargetKind,
}

impl Planner {
    pub(crate) fn add(&mut self, path: impl Into<Utf8PathBuf>, text: String, mode: FileMode) {
        let path = self.folder.join(path.into());
        self.files.push(PlannedFile { path, bytes: text.into_bytes(), mode, target: self.target });
    }

    /// Plans the next target's files into its folder.
    fn enter(&mut self, model: &Model, target: TargetKind) {
        let place = model.layout.of(target);
        self.folder = match target {
            TargetKind::GithubWorkflow | TargetKind::DependencyGroups => {
                place.parent().map(Utf8Path::to_owned).unwrap_or_default()
            }
            _ => place.clone(),
        };
        self.target = target;
    }

    /// Renders an askama template into a file, normalising the ending to exactly one `\n`.
    pub(crate) fn render(
        &mut self,
        path: impl Into<Utf8PathBuf>,
        template: &impl askama::Template,
        mode: FileMode,
    ) -> Result<(), PlanError> {
        let path = path.into();
        let mut text = template
            .render()
            .map_err(|e| PlanError { path: self.folder.join(&path), message: e.to_string() })?;
        let trimmed = text.trim_end_matches('\n').len();
        text.truncate(trimmed);
        text.push('\n');
        self.add(path, text, mode);
        Ok(())
    }
}

/// Plans every artifact of the model's targets.
pub fn plan(model: &Model, context: &PlanContext) -> Result<Plan, PlanFailure> {
    let mut planner =
        Planner { files: Vec::new(), folder: Utf8PathBuf::new(), target: TargetKind::Requirements };
    if let Some(target) = &model.targets.requirements {
        planner.enter(model, TargetKind::Requirements);
        requirements::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.compose {
        planner.enter(model, TargetKind::Compose);
        compose::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.docker {
        planner.enter(model, TargetKind::Docker);
        docker::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.kubernetes {
        planner.enter(model, TargetKind::Kubernetes);
        kubernetes::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.github_workflow {
        planner.enter(model, TargetKind::GithubWorkflow);
        workflow::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.dependency_groups {
        planner.enter(model, TargetKind::DependencyGroups);
        dependency_groups::plan(model, context, target, &mut planner)?;
    }
    let mut files = planner.files;
    // Stable: of two files at one path, the first planned comes first.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = files.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(PlanFailure::Collision {
            path: pair[0].path.clone(),
            targets: [pair[0].target, pair[1].target],
        });
    }
    debug_assert!(files.iter().all(|f| is_safe_relative(&f.path)));
    Ok(Plan { files, output: model.layout.output.clone() })
}

/// A planned path must stay inside the output folder.
pub(crate) fn is_safe_relative(path: &Utf8Path) -> bool {
    !path.as_str().is_empty()
        && !path.as_str().contains('\\')
        && path.components().all(|c| matches!(c, camino::Utf8Component::Normal(_)))
}
