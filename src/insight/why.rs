//! `gscgen why <image|service> <package>`: every include path that brings a package into
//! an image, each step with the config line that makes it, or why it is not there.

use std::fmt::Write as _;

use crate::diagnostics::{did_you_mean, suggest};
use camino::Utf8PathBuf;

use crate::model::{GroupId, LockFile, LockedPackage, Model};
use crate::source::Source;

use super::{IncludePath, Root, Subject, image_lock, location, normalize_package, paths_to};

/// The report and whether the package is installed (the exit status follows it, like
/// `grep`: 0 found, 1 not found); an error when `package` is not a package name.
pub fn why(
    model: &Model,
    source: &Source,
    subject: Subject,
    package: &str,
) -> Result<(String, bool), String> {
    let wanted = normalize_package(package).ok_or_else(|| {
        format!("`{package}` is not a package name (write the name alone, e.g. `prophet`, without a version)")
    })?;
    Ok(report(model, source, subject, package, &wanted))
}

fn report(model: &Model, source: &Source, subject: Subject, package: &str, wanted: &str) -> (String, bool) {
    let wanted = wanted.to_owned();
    let mut out = String::new();
    let Some(image) = subject.image(model) else {
        let _ = writeln!(
            out,
            "{} does not install `{package}`: gscgen builds nothing into a pre-built image.",
            subject.describe(model)
        );
        return (out, false);
    };
    let declares = |g: GroupId| model.groups[g].requires.iter().any(|r| r.name == wanted);
    let (paths, truncated) = paths_to(model, image, declares);
    let lock = image_lock(model, image);
    if paths.is_empty() {
        if let Some((path, lock)) = lock
            && let Some(pinned) = lock.packages.iter().find(|p| p.name == wanted)
        {
            locked_dependency(model, source, subject, (path, lock), pinned, &mut out);
            return (out, true);
        }
        not_included(model, source, subject, image, package, &wanted, &mut out);
        return (out, false);
    }
    let declaring = paths[0].steps.last().map(|s| s.group).unwrap_or_default();
    let line = requirement(model, declaring, &wanted).map_or(package, |r| r.line.as_str());
    let count = if truncated { format!("the first {}", paths.len()) } else { paths.len().to_string() };
    let noun = if paths.len() == 1 && !truncated { "path" } else { "paths" };
    let locked = lock
        .and_then(|(_, lock)| lock.packages.iter().find(|p| p.name == wanted))
        .map_or_else(String::new, |p| format!(", locked at {}", p.version));
    let _ = writeln!(out, "{} installs {line}{locked} ({count} include {noun}):", subject.describe(model));
    for path in &paths {
        let _ = writeln!(out);
        write_path(model, source, path, &wanted, &mut out);
    }
    if truncated {
        let _ = writeln!(out, "\n(more paths exist; the include graph has many routes to this package)");
    }
    (out, true)
}

/// A package no group requires but the lock installs: the chains of `# via` back to the
/// requirements that bring it (`torch ← sentence-transformers ← group insights`), shortest
/// first, each ending at the config line of that requirement.
fn locked_dependency(
    model: &Model,
    source: &Source,
    subject: Subject,
    (path, lock): (Utf8PathBuf, &LockFile),
    pinned: &LockedPackage,
    out: &mut String,
) {
    let _ = writeln!(
        out,
        "{} installs {}=={}, a dependency no group requires directly (locked in {path}):",
        subject.describe(model),
        pinned.name,
        pinned.version
    );
    // Breadth first over `via`, so the shortest chains come first; a chain never repeats a package.
    let mut chains: Vec<Vec<String>> = Vec::new();
    let mut queue: std::collections::VecDeque<Vec<String>> =
        std::collections::VecDeque::from([vec![pinned.name.clone()]]);
    while let Some(chain) = queue.pop_front() {
        if chains.len() >= MAX_CHAINS || chain.len() > MAX_CHAIN_LENGTH {
            break;
        }
        let last = chain.last().map(String::as_str).unwrap_or_default();
        let Some(package) = lock.packages.iter().find(|p| p.name == last) else { continue };
        for via in &package.via {
            if via.starts_with("group ") {
                let mut done = chain.clone();
                done.push(via.clone());
                chains.push(done);
            } else if !chain.contains(via) {
                let mut next = chain.clone();
                next.push(via.clone());
                queue.push_back(next);
            }
        }
    }
    for chain in chains.iter().take(MAX_CHAINS) {
        let _ = writeln!(out);
        let _ = writeln!(out, "  {}", chain.join(" ← "));
        let (Some(group), Some(direct)) =
            (chain.last().and_then(|g| g.strip_prefix("group ")), chain.iter().rev().nth(1))
        else {
            continue;
        };
        if let Some(id) = model.groups.iter().position(|g| g.name.value == group)
            && let Some(requirement) = requirement(model, id, direct)
        {
            let _ = writeln!(
                out,
                "    {}  group {group} requires \"{}\"",
                location(source, requirement.span),
                requirement.line
            );
        }
    }
    if chains.is_empty() {
        let _ = writeln!(out, "\n  (the lock names no requirement that brings it)");
    }
}

/// At most this many chains are shown, each at most this long.
const MAX_CHAINS: usize = 5;
const MAX_CHAIN_LENGTH: usize = 12;

fn requirement<'a>(model: &'a Model, group: GroupId, wanted: &str) -> Option<&'a crate::model::Requirement> {
    model.groups[group].requires.iter().find(|r| r.name == wanted)
}

/// `  insights → celery → image celery` then one line per step, declaring group first.
fn write_path(model: &Model, source: &Source, path: &IncludePath, wanted: &str, out: &mut String) {
    let _ = writeln!(out, "  {}", path.arrow(model));
    let mut lines: Vec<(String, String)> = Vec::new();
    if let Some(last) = path.steps.last()
        && let Some(requirement) = requirement(model, last.group, wanted)
    {
        lines.push((
            location(source, requirement.span),
            format!("group {} requires \"{}\"", model.groups[last.group].name.value, requirement.line),
        ));
    }
    for pair in path.steps.windows(2).rev() {
        lines.push((
            location(source, pair[1].span),
            format!(
                "group {} includes {}",
                model.groups[pair[0].group].name.value, model.groups[pair[1].group].name.value
            ),
        ));
    }
    if let Some(first) = path.steps.first() {
        let who = match path.root {
            Root::BaseImage => "the base image".to_owned(),
            Root::Image(id) => format!("image {}", model.images[id].name.value),
        };
        lines.push((
            location(source, first.span),
            format!("{who} installs group {}", model.groups[first.group].name.value),
        ));
    }
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (at, what) in lines {
        let _ = writeln!(out, "    {at:width$}  {what}");
    }
}

fn not_included(
    model: &Model,
    source: &Source,
    subject: Subject,
    image: usize,
    package: &str,
    wanted: &str,
    out: &mut String,
) {
    let _ = writeln!(out, "{} does not install `{package}`.", subject.describe(model));
    let declaring: Vec<GroupId> = (0..model.groups.len())
        .filter(|g| model.groups[*g].requires.iter().any(|r| r.name == wanted))
        .collect();
    if declaring.is_empty() {
        // Suggest among every package the project declares, nearest first.
        let mut known: Vec<&str> =
            model.groups.iter().flat_map(|g| g.requires.iter().map(|r| r.name.as_str())).collect();
        known.sort_unstable();
        known.dedup();
        let _ = writeln!(out, "  No group requires it.");
        if let Some(help) = did_you_mean(&suggest(wanted, known)) {
            let _ = writeln!(out, "  help: {help}");
        }
        return;
    }
    let mut closure: Vec<&str> = Vec::new();
    let base: &[usize] = if model.images[image].on_base() { &model.base.closure } else { &[] };
    for group in base.iter().chain(&model.images[image].closure) {
        let name = model.groups[*group].name.value.as_str();
        if !closure.contains(&name) {
            closure.push(name);
        }
    }
    for group in &declaring {
        let requirement = requirement(model, *group, wanted).expect("filtered above");
        let _ = writeln!(
            out,
            "  {}  group {} requires \"{}\"; the image installs {}, none of which includes it.",
            location(source, requirement.span),
            model.groups[*group].name.value,
            requirement.line,
            if closure.is_empty() { "no groups".to_owned() } else { closure.join(", ") }
        );
    }
    let with: Vec<&str> = model
        .images
        .iter()
        .enumerate()
        .filter(|(id, _)| !paths_to(model, *id, |g| declaring.contains(&g)).0.is_empty())
        .map(|(_, i)| i.name.value.as_str())
        .collect();
    if !with.is_empty() {
        let _ = writeln!(out, "  Images that install it: {}.", with.join(", "));
    }
}
