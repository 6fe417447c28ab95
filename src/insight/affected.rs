//! `gscgen affected`: from changed files (and, with a git ref, the config as it was) to the
//! images that must be rebuilt and the services that must be redeployed.
//!
//! An image is affected when one of its build inputs ([`crate::plan::inputs`]) changed:
//! - a copy source file changed on disk (unless the image's `.dockerignore` drops it);
//! - a generated input file changed on disk (it is committed; `gscgen check` keeps it fresh);
//! - the config changed so that a generated input renders to other bytes. This is the
//!   model-level comparison: a group edit changes exactly the requirements file of that
//!   group, which is an input of exactly the images whose closure contains it; a comment
//!   edit changes no bytes at all.
//!
//! - the config changed how the image is built or where it goes: platforms, repository,
//!   tags, build arguments (a new platform must be built even if no file changed).
//!
//! A service is affected when an image it runs (its own, or one of its Kubernetes init
//! containers') is, or when its deployment changed: its entries in the Compose files and
//! its Kubernetes objects and patches, as rendered. Comparing rendered output rather than
//! settings catches what one service's settings do to another (a dependency's health check
//! decides a `depends_on` condition; profiles are inherited along `depends_on`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{ImageId, Model, Service, ServiceSource};
use crate::plan::Plan;
use crate::plan::builds::{Build, builds};
use crate::plan::compose;
use crate::plan::inputs::{InputKind, covers, image_inputs};
use crate::rules::dockerignore::IgnoreRules;

/// One compiled state of the project.
#[derive(Clone, Copy)]
pub struct Snapshot<'a> {
    pub model: &'a Model,
    pub plan: &'a Plan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// Not in the old configuration.
    New,
    /// The config now renders this build input differently.
    Config { path: String },
    /// This file (a build input, or inside one) changed.
    File { path: String },
    /// How the image is built or published changed (platforms, repository, tags, arguments).
    Build,
    /// The service runs an image that is rebuilt.
    Image { image: String },
    /// The service's deployment settings changed.
    Deployment,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::New => write!(f, "new in the configuration"),
            Reason::Config { path } => write!(f, "config change renders {path} differently"),
            Reason::File { path } => write!(f, "{path} changed"),
            Reason::Build => write!(f, "its build settings (platforms, repository, tags) changed"),
            Reason::Image { image } => write!(f, "runs image {image}, which is rebuilt"),
            Reason::Deployment => write!(f, "its deployment settings changed"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// Images to rebuild, in config order.
    pub images: Vec<Entry>,
    /// Services to redeploy, in config order.
    pub services: Vec<Entry>,
    /// Images and services of the old configuration that are gone.
    pub removed: Vec<String>,
}

/// Compares `new` with `old` (the config at the reference, when known) and the changed
/// files (relative to the project root, `/`-separated).
pub fn affected(old: Option<Snapshot<'_>>, new: Snapshot<'_>, changed: &[String]) -> Affected {
    let model = new.model;
    let ignore = IgnoreRules::new(&model.dockerignore).ok();
    let mut result = Affected::default();
    for inputs in image_inputs(model) {
        let image = &model.images[inputs.image];
        let mut reasons = Vec::new();
        if let Some(old) = old
            && old.model.image(&image.name.value).is_none()
        {
            reasons.push(Reason::New);
        }
        for input in &inputs.inputs {
            if let (Some(old), Some(planned)) = (old, &input.planned) {
                let bytes = |plan: &Plan| plan.get(planned.as_str()).map(|f| f.bytes.clone());
                if bytes(old.plan) != bytes(new.plan) && !reasons.contains(&Reason::New) {
                    reasons.push(Reason::Config { path: input.path.to_string() });
                }
            }
            for file in changed.iter().filter(|f| covers(input, f)) {
                // The build context never contains what .dockerignore drops.
                let ignored = input.kind == InputKind::Source
                    && ignore.as_ref().is_some_and(|rules| rules.is_excluded(file));
                let reason = Reason::File { path: file.clone() };
                if !ignored && !reasons.contains(&reason) {
                    reasons.push(reason);
                }
            }
        }
        if let Some(old) = old
            && !reasons.contains(&Reason::New)
            && build_settings(old.model, &image.name.value) != build_settings(model, &image.name.value)
        {
            reasons.push(Reason::Build);
        }
        if !reasons.is_empty() {
            result.images.push(Entry { name: image.name.value.clone(), reasons });
        }
    }
    let deployments = deployments(new);
    let old_deployments = old.map(deployments_by_name);
    for (id, service) in model.services.iter().enumerate() {
        let mut reasons = Vec::new();
        match old_deployments.as_ref().map(|old| old.iter().find(|(name, _)| *name == service.name.value)) {
            Some(None) => reasons.push(Reason::New),
            Some(Some((_, before))) if *before != deployments[id] => reasons.push(Reason::Deployment),
            _ => {}
        }
        for image in images_run(service) {
            let name = &model.images[image].name.value;
            let reason = Reason::Image { image: name.clone() };
            if result.images.iter().any(|e| &e.name == name) && !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        if !reasons.is_empty() {
            result.services.push(Entry { name: service.name.value.clone(), reasons });
        }
    }
    if let Some(old) = old {
        let mut removed = BTreeSet::new();
        for image in &old.model.images {
            if model.image(&image.name.value).is_none() {
                removed.insert(format!("image {}", image.name.value));
            }
        }
        for service in &old.model.services {
            if model.service(&service.name.value).is_none() {
                removed.insert(format!("service {}", service.name.value));
            }
        }
        result.removed = removed.into_iter().collect();
    }
    result
}

/// The images a service's containers run: its own, then its init containers' (config order).
fn images_run(service: &Service) -> Vec<ImageId> {
    let mut images = Vec::new();
    if let ServiceSource::Image(id) = service.source {
        images.push(id);
    }
    for init in service.k8s.iter().flat_map(|k| &k.init) {
        if !images.contains(&init.image) {
            images.push(init.image);
        }
    }
    images
}

/// How an image is built and published: its build (Dockerfile, stage, repository, tags,
/// arguments) and the project's platforms. `None` when the image does not exist.
fn build_settings(model: &Model, image: &str) -> Option<(Build, Vec<String>)> {
    let build = builds(model).into_iter().find(|b| b.name == image)?;
    Some((build, model.project.platforms.clone()))
}

/// What each service's deployment renders to, in service order: its Compose entries, and
/// the bytes of its Kubernetes objects and of the patches aimed at them, with the
/// settings every object shares (namespace, tag).
fn deployments(snapshot: Snapshot<'_>) -> Vec<String> {
    let model = snapshot.model;
    let compose = model.targets.compose.as_ref().map(|t| compose::service_fingerprints(model, t));
    model
        .services
        .iter()
        .enumerate()
        .map(|(id, service)| {
            let mut out = compose.as_ref().map(|c| c[id].clone()).unwrap_or_default();
            if let (Some(target), Some(k8s)) = (&model.targets.kubernetes, &service.k8s) {
                let _ = write!(
                    out,
                    "\nnamespace {} tag {} min 1.{}",
                    target.namespace, target.tag, target.min_minor
                );
                let mut names = vec![k8s.name.clone()];
                names.extend(k8s.init.iter().map(|i| crate::model::init_job_name(&k8s.name, &i.name)));
                for file in &snapshot.plan.files {
                    let Ok(object) = file.path.strip_prefix(&model.layout.kubernetes) else { continue };
                    let object = object.as_str();
                    let object = object.strip_prefix("patches/").unwrap_or(object);
                    if names
                        .iter()
                        .any(|n| object.strip_prefix(n.as_str()).is_some_and(|rest| rest.starts_with('.')))
                    {
                        let _ = write!(out, "\n{}\n", file.path);
                        out.push_str(&String::from_utf8_lossy(&file.bytes));
                    }
                }
            }
            out
        })
        .collect()
}

fn deployments_by_name(snapshot: Snapshot<'_>) -> Vec<(String, String)> {
    let names = snapshot.model.services.iter().map(|s| s.name.value.clone());
    names.zip(deployments(snapshot)).collect()
}

/// The report `gscgen affected` prints.
pub fn text(affected: &Affected) -> String {
    let mut out = String::new();
    if affected.images.is_empty() && affected.services.is_empty() && affected.removed.is_empty() {
        out.push_str("nothing to rebuild or redeploy\n");
        return out;
    }
    let mut list = |title: &str, entries: &[Entry]| {
        let _ = writeln!(out, "{title} ({}):", entries.len());
        let width = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
        for entry in entries {
            const SHOWN: usize = 3;
            let mut reasons: Vec<String> =
                entry.reasons.iter().take(SHOWN).map(ToString::to_string).collect();
            if entry.reasons.len() > SHOWN {
                reasons.push(format!("and {} more", entry.reasons.len() - SHOWN));
            }
            let _ = writeln!(out, "  {:width$}  {}", entry.name, reasons.join("; "));
        }
    };
    list("images to rebuild", &affected.images);
    list("services to redeploy", &affected.services);
    if !affected.removed.is_empty() {
        let _ = writeln!(out, "removed ({}):", affected.removed.len());
        for name in &affected.removed {
            let _ = writeln!(out, "  {name}");
        }
    }
    out
}
