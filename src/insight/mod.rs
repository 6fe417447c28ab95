//! Insight: what the compiled project means, for people and for CI. `explain`, `why`,
//! `graph` and `affected` read the resolved model (and, for file facts, the plan), never
//! the KDL text; they print reports and write nothing.

pub mod affected;
pub mod explain;
pub mod footprint;
pub mod graph;
pub mod why;

use miette::SourceSpan;

use crate::diagnostics::{did_you_mean, suggest};
use camino::Utf8PathBuf;

use crate::model::{GroupId, ImageId, LockFile, Model, ServiceSource};
use crate::rules::lock::{attached, image_lock_kind};
use crate::source::Source;

/// What a user names on the command line: an image or a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Image(ImageId),
    Service(usize),
}

/// A name that is neither an image nor a service, or is both (and they differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError {
    pub message: String,
    pub help: Option<String>,
}

impl Subject {
    /// `NAME`, `image:NAME` or `service:NAME`. A bare name that is both a service and an
    /// image means the service when the service runs that image (then they are one thing);
    /// otherwise the caller must say which.
    pub fn find(model: &Model, wanted: &str) -> Result<Subject, LookupError> {
        let (kind, name) = match wanted.split_once(':') {
            Some(("image", name)) => (Some("image"), name),
            Some(("service", name)) => (Some("service"), name),
            _ => (None, wanted),
        };
        let image = model.images.iter().position(|i| i.name.value == name);
        let service = model.services.iter().position(|s| s.name.value == name);
        match (kind, image, service) {
            (Some("image"), Some(id), _) => Ok(Subject::Image(id)),
            (Some("service"), _, Some(id)) => Ok(Subject::Service(id)),
            (None, Some(image), Some(service)) => match model.services[service].source {
                ServiceSource::Image(built) if built == image => Ok(Subject::Service(service)),
                _ => Err(LookupError {
                    message: format!("`{name}` is both an image and a service (which runs another image)"),
                    help: Some(format!("say which: `image:{name}` or `service:{name}`")),
                }),
            },
            (None, Some(id), None) => Ok(Subject::Image(id)),
            (None, None, Some(id)) => Ok(Subject::Service(id)),
            _ => {
                let what = kind.map_or("image or service", |k| k);
                let mut known: Vec<&str> = Vec::new();
                if kind != Some("service") {
                    known.extend(model.images.iter().map(|i| i.name.value.as_str()));
                }
                if kind != Some("image") {
                    known.extend(model.services.iter().map(|s| s.name.value.as_str()));
                }
                Err(LookupError {
                    message: format!("there is no {what} named `{name}`"),
                    help: did_you_mean(&suggest(name, known.iter().copied())),
                })
            }
        }
    }

    /// The image whose requirements the subject installs, if it is built by the project.
    pub fn image(self, model: &Model) -> Option<ImageId> {
        match self {
            Subject::Image(id) => Some(id),
            Subject::Service(id) => match model.services[id].source {
                ServiceSource::Image(image) => Some(image),
                ServiceSource::Prebuilt(_) => None,
            },
        }
    }

    /// `image celery`, `service celery_worker (image celery)`, `service redis (pre-built redis:7-alpine)`.
    pub fn describe(self, model: &Model) -> String {
        match self {
            Subject::Image(id) => format!("image {}", model.images[id].name.value),
            Subject::Service(id) => {
                let service = &model.services[id];
                match &service.source {
                    ServiceSource::Image(image) => {
                        format!("service {} (image {})", service.name.value, model.images[*image].name.value)
                    }
                    ServiceSource::Prebuilt(reference) => {
                        format!("service {} (pre-built {reference})", service.name.value)
                    }
                }
            }
        }
    }
}

/// Where a group enters an image: declared by the image, or by the shared base image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    BaseImage,
    Image(ImageId),
}

/// One edge of an include path, with the source line that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The group reached by this step.
    pub group: GroupId,
    /// The `include`/`groups` entry that names it.
    pub span: SourceSpan,
}

/// How a group reaches an image: the root that declares the first group, then each
/// `include` down to the group (first step = a group the root names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludePath {
    pub root: Root,
    pub steps: Vec<Step>,
}

impl IncludePath {
    /// `insights → celery → image celery`: from the group that declares a package up to
    /// the root that installs it, the way people read "brought in by".
    pub fn arrow(&self, model: &Model) -> String {
        let mut parts: Vec<String> =
            self.steps.iter().rev().map(|s| model.groups[s.group].name.value.clone()).collect();
        parts.push(match self.root {
            Root::BaseImage => "base image".to_owned(),
            Root::Image(id) => format!("image {}", model.images[id].name.value),
        });
        parts.join(" → ")
    }
}

/// Most paths `why` lists; a diamond-shaped include graph can have exponentially many.
pub const MAX_PATHS: usize = 20;

/// The roots an image installs: the base image's groups (none for a plain image), then its own (a group named by
/// both is reached through the base image, which installs it first).
pub fn roots(model: &Model, image: ImageId) -> Vec<(Root, Step)> {
    // A plain image (`from=`) installs nothing of the base image's.
    let base: &[crate::config::Spanned<GroupId>] =
        if model.images[image].on_base() { &model.base.groups } else { &[] };
    let mut roots: Vec<(Root, Step)> =
        base.iter().map(|g| (Root::BaseImage, Step { group: g.value, span: g.span })).collect();
    for g in &model.images[image].groups {
        if !roots.iter().any(|(_, s)| s.group == g.value) {
            roots.push((Root::Image(image), Step { group: g.value, span: g.span }));
        }
    }
    roots
}

/// Every include path from the image's roots to a group for which `target` holds, at most
/// [`MAX_PATHS`], in a stable order (roots in order, includes in config order). Returns the
/// paths and whether more exist.
pub fn paths_to(model: &Model, image: ImageId, target: impl Fn(GroupId) -> bool) -> (Vec<IncludePath>, bool) {
    // reaches[g]: some group in g's closure satisfies `target`. Includes point to groups
    // of lower rank, so one pass in rank order settles every group.
    let mut order: Vec<GroupId> = (0..model.groups.len()).collect();
    order.sort_by_key(|g| model.group_rank[*g]);
    let mut reaches = vec![false; model.groups.len()];
    for g in order {
        reaches[g] = target(g) || model.groups[g].includes.iter().any(|i| reaches[i.value]);
    }
    let mut paths = Vec::new();
    let mut truncated = false;
    for (root, first) in roots(model, image) {
        if !reaches[first.group] {
            continue;
        }
        // Depth-first, only through groups that reach the target: every leaf is a path,
        // so the work is bounded by MAX_PATHS × depth.
        let mut stack: Vec<Vec<Step>> = vec![vec![first]];
        while let Some(path) = stack.pop() {
            let last = path.last().map_or(first.group, |s| s.group);
            if target(last) {
                if paths.len() == MAX_PATHS {
                    truncated = true;
                    break;
                }
                paths.push(IncludePath { root, steps: path.clone() });
            }
            for include in model.groups[last].includes.iter().rev() {
                if reaches[include.value] {
                    let mut next = path.clone();
                    next.push(Step { group: include.value, span: include.span });
                    stack.push(next);
                }
            }
        }
        if truncated {
            break;
        }
    }
    (paths, truncated)
}

/// The shortest include path to each group of the image's closure (ties: roots in order,
/// includes in config order), for `explain`.
pub fn shortest_paths(model: &Model, image: ImageId) -> Vec<Option<IncludePath>> {
    let mut best: Vec<Option<IncludePath>> = vec![None; model.groups.len()];
    let mut queue = std::collections::VecDeque::new();
    for (root, step) in roots(model, image) {
        if best[step.group].is_none() {
            best[step.group] = Some(IncludePath { root, steps: vec![step] });
            queue.push_back(step.group);
        }
    }
    while let Some(group) = queue.pop_front() {
        let Some(path) = best[group].clone() else { continue };
        for include in &model.groups[group].includes {
            if best[include.value].is_none() {
                let mut steps = path.steps.clone();
                steps.push(Step { group: include.value, span: include.span });
                best[include.value] = Some(IncludePath { root: path.root, steps });
                queue.push_back(include.value);
            }
        }
    }
    best
}

/// `project.kdl:12:5`: where a span starts, as editors and terminals link it.
pub fn location(source: &Source, span: SourceSpan) -> String {
    let (line, column) = source.line_col(span.offset());
    format!("{}:{line}:{column}", source.name)
}

/// A package name as gscgen stores requirement names: PEP 503 normalised by pep508_rs,
/// the same parser that read the configuration (and that normalises dependency-group
/// names). `None` when it is not a valid name.
pub fn normalize_package(name: &str) -> Option<String> {
    pep508_rs::PackageName::new(name.trim().to_owned()).ok().map(|n| n.to_string())
}

/// The lock an image installs (`rules::lock`), with its file. `None` when the project does
/// not lock, or for a plain image.
pub(crate) fn image_lock(model: &Model, image: ImageId) -> Option<(Utf8PathBuf, &LockFile)> {
    let (set, lock) = attached(model, image_lock_kind(model, image)?)?;
    Some((set.path, lock))
}

#[cfg(test)]
mod tests {
    use super::normalize_package;

    #[test]
    fn package_names_normalise_like_pep_503() {
        assert_eq!(normalize_package("APScheduler").as_deref(), Some("apscheduler"));
        assert_eq!(normalize_package("google_auth").as_deref(), Some("google-auth"));
        assert_eq!(normalize_package("ruamel.yaml").as_deref(), Some("ruamel-yaml"));
        assert_eq!(normalize_package("a__-.b").as_deref(), Some("a-b"));
        assert_eq!(normalize_package("-foo"), None);
        assert_eq!(normalize_package("prophet>=1"), None);
    }
}
