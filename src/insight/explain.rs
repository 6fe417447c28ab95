//! `gscgen explain <image|service>`: everything gscgen knows about one image or service —
//! its groups in resolution order, each requirement with the group and include path that
//! bring it, apt packages, copy sources, build inputs, and the artifacts it appears in.

use std::fmt::Write as _;

use camino::Utf8Path;

use crate::model::{Deploy, ImageId, Model, ObjectKind, ServiceSource};
use crate::plan::Plan;
use crate::plan::inputs::{InputKind, image_inputs};
use crate::rules::k8s_objects::objects;
use crate::rules::layout::{base_dockerfile_path, dockerfile_path};
use crate::source::Source;

use super::{Subject, location, shortest_paths};

pub fn explain(model: &Model, plan: &Plan, source: &Source, subject: Subject) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", subject.describe(model));
    if let Subject::Service(id) = subject {
        service_facts(model, plan, id, &mut out);
    }
    match subject.image(model) {
        Some(image) => image_facts(model, plan, source, image, &mut out),
        None => {
            let _ = writeln!(
                out,
                "\nNothing is built for it: gscgen installs no requirements into a pre-built image."
            );
        }
    }
    if let Subject::Image(id) = subject {
        let users: Vec<&str> = model
            .services
            .iter()
            .filter(|s| matches!(s.source, ServiceSource::Image(i) if i == id))
            .map(|s| s.name.value.as_str())
            .collect();
        section(&mut out, "services running it");
        if users.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for name in users {
            let _ = writeln!(out, "  {name}");
        }
    }
    out
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}:");
}

/// A planned path (relative to the project root), when the plan has it.
fn output_file(plan: &Plan, path: &Utf8Path) -> Option<String> {
    plan.get(path.as_str()).map(|_| path.to_string())
}

fn image_facts(model: &Model, plan: &Plan, source: &Source, id: ImageId, out: &mut String) {
    let image = &model.images[id];
    let paths = shortest_paths(model, id);
    // A plain image (`from=`) installs no group, not even the base image's.
    let base_closure: &[usize] = if image.on_base() { &model.base.closure } else { &[] };
    let mut closure: Vec<usize> = base_closure.to_vec();
    closure.extend(image.closure.iter().copied().filter(|g| !base_closure.contains(g)));

    if let Some(from) = &image.from {
        section(out, "from");
        let _ =
            writeln!(out, "  {from} (a plain image: not built from the base image, no Python environment)");
    }
    section(out, "groups (resolution order; the shortest include path to each)");
    let width = closure.iter().map(|g| model.groups[*g].name.value.len()).max().unwrap_or(0);
    for group in &closure {
        let how = paths[*group].as_ref().map_or_else(String::new, |p| p.arrow(model));
        let _ = writeln!(out, "  {:width$}  {how}", model.groups[*group].name.value);
    }

    let count: usize = closure.iter().map(|g| model.groups[*g].requires.len()).sum();
    section(out, &format!("requirements ({count})"));
    let width = closure
        .iter()
        .flat_map(|g| model.groups[*g].requires.iter().map(|r| r.line.len()))
        .max()
        .unwrap_or(0);
    let group_width = closure.iter().map(|g| model.groups[*g].name.value.len()).max().unwrap_or(0);
    for group in &closure {
        for requirement in &model.groups[*group].requires {
            let _ = writeln!(
                out,
                "  {:width$}  {:group_width$}  {}",
                requirement.line,
                model.groups[*group].name.value,
                location(source, requirement.span)
            );
        }
    }

    if let Some((path, lock)) = super::image_lock(model, id) {
        section(out, &format!("locked ({} packages, {path})", lock.packages.len()));
        let width = lock.packages.iter().map(|p| p.name.len() + p.version.len() + 2).max().unwrap_or(0);
        for package in &lock.packages {
            let pin = format!("{}=={}", package.name, package.version);
            let direct: Vec<&str> = package.via.iter().filter_map(|v| v.strip_prefix("group ")).collect();
            let why = if direct.is_empty() {
                format!("via {}", package.via.join(", "))
            } else {
                format!("group {}", direct.join(", "))
            };
            let marker = package.marker.as_ref().map_or_else(String::new, |m| format!("  ; {m}"));
            let _ = writeln!(out, "  {pin:width$}  {why}{marker}");
        }
    }

    section(out, "apt packages");
    let list =
        |packages: &[String]| if packages.is_empty() { "(none)".to_owned() } else { packages.join(" ") };
    let none: &[String] = &[];
    let base = |packages: &'_ [String]| if image.on_base() { list(packages) } else { list(none) };
    let _ = writeln!(out, "  build, base image:    {}", base(&model.base.build_packages));
    let _ = writeln!(out, "  build, own:           {}", list(&image.build_packages));
    let _ = writeln!(out, "  runtime, base image:  {}", base(&model.base.runtime_packages));
    let _ = writeln!(out, "  runtime, own:         {}", list(&image.runtime_packages));

    section(out, "copies (project root → image)");
    if image.copies.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for copy in &image.copies {
        let _ = writeln!(out, "  {} → {}", copy.source.value, copy.target);
    }

    section(out, "artifacts");
    match output_file(plan, &model.layout.docker.join(dockerfile_path(image))) {
        Some(path) => {
            let _ = writeln!(out, "  Dockerfile      {path}");
            if image.on_base()
                && let Some(base) = output_file(plan, &model.layout.docker.join(base_dockerfile_path()))
            {
                let _ = writeln!(out, "  base Dockerfile {base}");
            }
            let _ = writeln!(out, "  repository      {}", model.qualified(&model.repository_name(image)));
        }
        None => {
            let _ = writeln!(out, "  no Dockerfile (the docker target is off)");
        }
    }
    if model.targets.github_workflow.is_some() {
        let _ = writeln!(
            out,
            "  workflow        {} (matrix entry name: {})",
            model.layout.workflow, image.name.value
        );
    }

    let inputs = image_inputs(model).swap_remove(id);
    if !inputs.inputs.is_empty() {
        section(out, "build inputs (a change to anything else cannot change the image)");
        for input in &inputs.inputs {
            let kind = match input.kind {
                InputKind::Generated => "generated",
                InputKind::Source => "source",
            };
            let _ = writeln!(out, "  {kind:9}  {}", input.path);
        }
    }
}

fn service_facts(model: &Model, plan: &Plan, id: usize, out: &mut String) {
    let service = &model.services[id];
    section(out, "deployment");
    let profiles =
        if service.profiles.is_empty() { "(always on)".to_owned() } else { service.profiles.join(", ") };
    if model.targets.compose.is_some() {
        let _ = writeln!(
            out,
            "  compose     service {} in {} (profiles: {profiles}), with its dev and prod overrides",
            service.name.value,
            model.layout.compose.join(crate::plan::compose::BASE_FILE)
        );
    }
    let Some(k8s) = &service.k8s else { return };
    match &k8s.deploy {
        Deploy::External { reason } => {
            let _ = writeln!(out, "  kubernetes  not rendered: provided by the cluster ({reason})");
            return;
        }
        Deploy::DevOnly => {
            let _ = writeln!(out, "  kubernetes  not deployed (every profile is dev)");
            return;
        }
        Deploy::Deployment | Deploy::Job => {}
    }
    // The service's objects as the plan lays them out: its own, then its init Jobs.
    let mut names = vec![k8s.name.clone()];
    names.extend(k8s.init.iter().filter(|i| i.job).map(|i| crate::model::init_job_name(&k8s.name, &i.name)));
    let dir = &model.layout.kubernetes;
    let objects = objects(model);
    let files: Vec<String> = names
        .iter()
        .flat_map(|name| objects.iter().filter(move |o| &o.name == name && o.kind != ObjectKind::Namespace))
        .filter_map(|o| output_file(plan, &dir.join(o.kind.file_name(&o.name))))
        .collect();
    for file in files {
        let _ = writeln!(out, "  kubernetes  {file}");
    }
}
