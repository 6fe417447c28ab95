//! Plan: the complete list of output files and their bytes, computed in memory from the
//! resolved model. No I/O happens here; emit decides what to do with the plan.

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

use crate::model::Model;

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

/// One file the plan wants on disk, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative, `/`-separated, never `..`.
    pub path: Utf8PathBuf,
    pub bytes: Vec<u8>,
    pub mode: FileMode,
}

/// Every generated file, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
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

/// Collects files from each renderer.
pub(crate) struct Planner {
    files: Vec<PlannedFile>,
}

impl Planner {
    pub(crate) fn add(&mut self, path: impl Into<Utf8PathBuf>, text: String, mode: FileMode) {
        self.files.push(PlannedFile { path: path.into(), bytes: text.into_bytes(), mode });
    }

    /// Renders an askama template into a file, normalising the ending to exactly one `\n`.
    pub(crate) fn render(
        &mut self,
        path: impl Into<Utf8PathBuf>,
        template: &impl askama::Template,
        mode: FileMode,
    ) -> Result<(), PlanError> {
        let path = path.into();
        let mut text =
            template.render().map_err(|e| PlanError { path: path.clone(), message: e.to_string() })?;
        let trimmed = text.trim_end_matches('\n').len();
        text.truncate(trimmed);
        text.push('\n');
        self.add(path, text, mode);
        Ok(())
    }
}

/// Plans every artifact of the model's targets.
pub fn plan(model: &Model, context: &PlanContext) -> Result<Plan, PlanError> {
    let mut planner = Planner { files: Vec::new() };
    if let Some(target) = &model.targets.requirements {
        requirements::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.compose {
        compose::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.docker {
        docker::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.kubernetes {
        kubernetes::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.github_workflow {
        workflow::plan(model, context, target, &mut planner)?;
    }
    if let Some(target) = &model.targets.dependency_groups {
        dependency_groups::plan(model, context, target, &mut planner)?;
    }
    let mut files = planner.files;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    debug_assert!(files.windows(2).all(|w| w[0].path != w[1].path), "two renderers planned the same path");
    debug_assert!(files.iter().all(|f| is_safe_relative(&f.path)));
    Ok(Plan { files })
}

/// A planned path must stay inside the output folder.
pub(crate) fn is_safe_relative(path: &Utf8Path) -> bool {
    !path.as_str().is_empty()
        && !path.as_str().contains('\\')
        && path.components().all(|c| matches!(c, camino::Utf8Component::Normal(_)))
}
