//! `scripts/docker-bake.json`: every build as one Docker Buildx Bake graph.
//!
//! The same builds as the scripts and the workflow ([`builds::builds`]), written as Bake
//! targets: each image names the base stages it starts from as `target:` contexts, so one
//! `docker buildx bake` builds the base once and every image from it, in parallel, with
//! no registry in between. The pull-request job of the workflow runs it; on an engine
//! whose BuildKit has named contexts (Docker 23 and later, or any `docker-container`
//! builder) a developer can too. docs/docker.md explains the file.
//!
//! JSON, not HCL: `serde_json` writes it, so no value needs an escaping rule of ours, and
//! the `"//"` key (a comment in HCL's JSON syntax, which Bake reads JSON files with)
//! carries the do-not-edit line.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::builds::{self, Build};
use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::Model;
use crate::rules::layout::BAKE_FILE;

/// The group `docker buildx bake` builds when no target is named.
pub(crate) const DEFAULT_GROUP: &str = "default";

/// A JSON object whose keys keep the order they were pushed in.
struct Ordered<T>(Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<T> Ordered<T> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(serde::Serialize)]
struct Group {
    targets: Vec<String>,
}

#[derive(serde::Serialize)]
struct Target {
    /// Always the project root, as for every build (bake resolves it from the folder it
    /// runs in, which the workflow and docs/docker.md make the project root).
    context: &'static str,
    /// Relative to the context.
    dockerfile: String,
    target: &'static str,
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    args: Ordered<String>,
    /// Base reference → `target:<base build>`.
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    contexts: Ordered<String>,
    tags: Vec<String>,
}

#[derive(serde::Serialize)]
struct BakeFile {
    #[serde(rename = "//")]
    comment: String,
    group: Ordered<Group>,
    target: Ordered<Target>,
}

/// The name a base build is referred to by inside the graph: its repository's last path
/// component (`gsc-base-builder`). Untagged and unqualified, so BuildKit's lookup of a
/// `FROM` value among the named contexts finds it as written, and an engine that ignores
/// the contexts fails on a name no registry serves instead of pulling last week's base.
pub(crate) fn context_name(base: &Build) -> &str {
    base.repository.rsplit('/').next().unwrap_or(&base.repository)
}

/// Bake target names: letters, digits, `-` and `_`. Resolve's name rules make every build
/// name such a word; an image and a base stage may still share one.
fn target_name(build: &Build, taken: &[(String, Target)]) -> Result<String, PlanError> {
    let name = &build.name;
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !plain {
        return Err(error(format!("build name `{name}` is not a Bake target name (resolve checks names)")));
    }
    if taken.iter().any(|(other, _)| other == name) {
        return Err(error(format!(
            "two builds are named `{name}`: an image may not share a base stage's name"
        )));
    }
    Ok(name.clone())
}

fn error(message: String) -> PlanError {
    PlanError { path: BAKE_FILE.into(), message }
}

/// The builds split as the scripts and the workflow split them: a build whose tag another
/// build's argument names is a base (built only as a context), the rest are images.
pub(crate) fn split(all: &[Build]) -> (Vec<&Build>, Vec<&Build>) {
    all.iter().partition(|b| all.iter().any(|other| other.args.iter().any(|(_, v)| b.tags.contains(v))))
}

pub(super) fn plan(model: &Model, context: &PlanContext, planner: &mut Planner) -> Result<(), PlanError> {
    let all = builds::builds(model);
    let (bases, images) = split(&all);
    let mut targets: Vec<(String, Target)> = Vec::with_capacity(all.len());
    for build in bases.iter().chain(&images) {
        let name = target_name(build, &targets)?;
        let mut args = Vec::new();
        let mut contexts = Vec::new();
        for (arg, value) in &build.args {
            match bases.iter().find(|base| base.tags.contains(value)) {
                Some(base) => {
                    let reference = context_name(base).to_owned();
                    args.push((arg.clone(), reference.clone()));
                    if !contexts.iter().any(|(r, _)| *r == reference) {
                        contexts.push((reference, format!("target:{}", base.name)));
                    }
                }
                None => args.push((arg.clone(), value.clone())),
            }
        }
        targets.push((
            name,
            Target {
                context: ".",
                dockerfile: build.dockerfile.to_string(),
                target: build.target,
                args: Ordered(args),
                contexts: Ordered(contexts),
                tags: build.tags.clone(),
            },
        ));
    }
    let file = BakeFile {
        comment: format!(
            "Generated by gscgen from {}: do not edit (change it there, then run `gscgen render`). \
             Run from the project root: docker buildx bake --file {}",
            context.config_name,
            model.project.output.join(BAKE_FILE)
        ),
        group: Ordered(vec![(
            DEFAULT_GROUP.to_owned(),
            Group { targets: images.iter().map(|b| b.name.clone()).collect() },
        )]),
        target: Ordered(targets),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| error(e.to_string()))?;
    text.push('\n');
    planner.add(BAKE_FILE, text, FileMode::Regular);
    Ok(())
}
