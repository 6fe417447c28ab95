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
//! A service is affected when its image is, or when its deployment (compose and Kubernetes
//! settings, compared by value, without source positions) changed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{Init, K8s, Model, Service, ServiceSecret, ServiceSource};
use crate::plan::Plan;
use crate::plan::inputs::{InputKind, covers, image_inputs};
use crate::resolve::dockerignore::IgnoreRules;

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
            Reason::Image { image } => write!(f, "its image {image} is rebuilt"),
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
        if !reasons.is_empty() {
            result.images.push(Entry { name: image.name.value.clone(), reasons });
        }
    }
    for service in &model.services {
        let mut reasons = Vec::new();
        let before = old.and_then(|old| old.model.service(&service.name.value).map(|s| (old.model, s)));
        match before {
            None if old.is_some() => reasons.push(Reason::New),
            Some((old_model, old_service))
                if signature(old_model, old_service) != signature(model, service) =>
            {
                reasons.push(Reason::Deployment);
            }
            _ => {}
        }
        if let ServiceSource::Image(id) = service.source {
            let name = &model.images[id].name.value;
            if result.images.iter().any(|e| &e.name == name) {
                reasons.push(Reason::Image { image: name.clone() });
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

/// Everything that shapes a service's deployment, by value: names instead of indices (an
/// image added above it shifts every index) and no source positions (a comment added
/// above it shifts every span). The destructuring is exhaustive on purpose: a field added
/// to [`Service`] or [`K8s`] does not compile until it is considered here.
fn signature(model: &Model, service: &Service) -> String {
    let Service {
        name: _,
        source,
        profiles,
        cmd,
        ports,
        env,
        env_secrets,
        secrets,
        depends_on,
        health,
        volumes,
        mounts,
        restart,
        oneshot,
        limits_memory,
        limits_cpus,
        dev,
        k8s,
        compose_extra,
    } = service;
    let source = match source {
        ServiceSource::Image(id) => format!("image {}", model.images[*id].name.value),
        ServiceSource::Prebuilt(reference) => format!("prebuilt {reference}"),
    };
    let secrets: Vec<(String, String, &String)> = secrets
        .iter()
        .map(|ServiceSecret { secret, target }| {
            let secret = &model.secrets[*secret];
            (secret.name.value.clone(), secret.file.clone(), target)
        })
        .collect();
    let depends_on: Vec<&str> = depends_on.iter().map(|s| model.services[*s].name.value.as_str()).collect();
    let k8s = k8s.as_ref().map(|k| k8s_signature(model, k));
    let mut out = String::new();
    let _ = write!(
        out,
        "{source}|{profiles:?}|{cmd:?}|{ports:?}|{env:?}|{env_secrets:?}|{secrets:?}|{depends_on:?}|{health:?}|\
         {volumes:?}|{mounts:?}|{restart}|{oneshot}|{limits_memory:?}|{limits_cpus:?}|{dev:?}|{k8s:?}|\
         {compose_extra:?}"
    );
    // Settings every service's objects share.
    let _ = write!(
        out,
        "|{:?}|{:?}|{:?}",
        model.project,
        model.targets.kubernetes,
        model.targets.compose.as_ref().map(|c| c.pypi_cache.as_ref().map(|p| &p.index_url))
    );
    // Spans hide in every spanned value (health checks, compose extras, …).
    without_spans(&out)
}

fn k8s_signature(model: &Model, k8s: &K8s) -> String {
    let K8s {
        deploy,
        name,
        replicas,
        requests,
        limits,
        autoscale,
        min_available,
        gpu,
        init,
        run_as_user,
        writable,
        security,
    } = k8s;
    let init: Vec<String> = init
        .iter()
        .map(|Init { name, job, image, cmd, env, env_secrets, run_as_user, writable }| {
            format!(
                "{name}|{job}|{}|{cmd:?}|{env:?}|{env_secrets:?}|{run_as_user:?}|{writable:?}",
                model.images[*image].name.value
            )
        })
        .collect();
    format!(
        "{deploy:?}|{name}|{replicas:?}|{requests:?}|{limits:?}|{autoscale:?}|{min_available:?}|{gpu:?}|\
         {init:?}|{run_as_user:?}|{writable:?}|{security:?}"
    )
}

/// A `Debug` form with every `SourceSpan { … }` removed: the value without its position.
fn without_spans(debug: &str) -> String {
    const MARK: &str = "SourceSpan {";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        rest = &rest[start + MARK.len()..];
        // A span's fields hold no braces: the first `}` closes it.
        match rest.find('}') {
            Some(end) => rest = &rest[end + 1..],
            None => rest = "",
        }
        out.push('_');
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::without_spans;

    #[test]
    fn spans_are_dropped_from_debug_forms() {
        let debug = "Some(HealthDecl { span: SourceSpan { offset: SourceOffset(12), length: 3 }, retries: \
                     Some(Spanned { value: 3, span: SourceSpan { offset: SourceOffset(40), length: 1 } }) })";
        assert_eq!(
            without_spans(debug),
            "Some(HealthDecl { span: _, retries: Some(Spanned { value: 3, span: _ }) })"
        );
    }
}
