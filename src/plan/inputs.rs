//! The inputs of each image build, as paths relative to the project root (the build
//! context): everything a `docker build` of the image reads. A change to anything else
//! cannot change the image. `gscgen affected`, `gscgen explain` and the workflow's path
//! filters all read this one list, so they cannot disagree.

use camino::Utf8PathBuf;

use crate::model::{ImageId, Model};

use crate::rules::layout::{base_dockerfile_path, dockerfile_path, requirements_path};
use crate::rules::lock::{LockKind, image_lock_kind, lock_sets};

/// Where one input of an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputKind {
    /// A generated file the build reads: a Dockerfile, its `.dockerignore`, a
    /// requirements file. Rendered from the config, so a config edit can change it.
    Generated,
    /// A `copy` source of the image: a file or folder (or a COPY glob) the user writes.
    Source,
}

/// One input path, relative to the project root, `/`-separated, in the form git lists
/// changed files (no `./`, no trailing or doubled `/`; the whole root is `.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub path: Utf8PathBuf,
    /// For generated files: the path inside the output folder (the plan's key).
    pub planned: Option<Utf8PathBuf>,
}

/// The build inputs of one image, generated files first (base before image), then its
/// copy sources in config order. Empty when the docker target is off: nothing is built.
#[derive(Debug, Clone)]
pub struct ImageInputs {
    pub image: ImageId,
    pub inputs: Vec<Input>,
}

impl ImageInputs {
    pub fn paths(&self) -> impl Iterator<Item = &Utf8PathBuf> {
        self.inputs.iter().map(|i| &i.path)
    }
}

/// The inputs of every image, in config order.
pub fn image_inputs(model: &Model) -> Vec<ImageInputs> {
    (0..model.images.len()).map(|id| inputs_of(model, id)).collect()
}

fn inputs_of(model: &Model, id: ImageId) -> ImageInputs {
    let image = &model.images[id];
    let mut inputs = Vec::new();
    if model.targets.docker.is_none() {
        return ImageInputs { image: id, inputs };
    }
    let generated = |inputs: &mut Vec<Input>, planned: Utf8PathBuf| {
        if !inputs.iter().any(|i: &Input| i.planned.as_ref() == Some(&planned)) {
            inputs.push(Input {
                kind: InputKind::Generated,
                path: clean(planned.as_str()),
                planned: Some(planned),
            });
        }
    };
    // The shared base image is built first and every image of the base starts from it. A
    // plain image (`from=`) starts from a pre-built image: neither the base nor any
    // requirements file is an input of it.
    if image.on_base() {
        let base = model.layout.docker.join(base_dockerfile_path());
        generated(&mut inputs, Utf8PathBuf::from(format!("{base}.dockerignore")));
        generated(&mut inputs, base);
    }
    let own = model.layout.docker.join(dockerfile_path(image));
    generated(&mut inputs, Utf8PathBuf::from(format!("{own}.dockerignore")));
    generated(&mut inputs, own);
    let locks = lock_sets(model);
    if !image.on_base() {
        // A plain image (`from=`) installs no group: its Dockerfile and copy sources only.
    } else if locks.is_empty() {
        for group in model.base.closure.iter().chain(&image.closure) {
            if let Some(path) = requirements_path(model, *group) {
                generated(&mut inputs, path);
            }
        }
    } else {
        // A locked build copies its locks alone: the base image's, and the image's own.
        let own = image_lock_kind(model, id);
        for set in locks.into_iter().filter(|s| s.kind == LockKind::BaseImage || Some(s.kind) == own) {
            generated(&mut inputs, set.path);
        }
    }
    for copy in &image.copies {
        let path = clean(&copy.source.value);
        if !inputs.iter().any(|i| i.path == path) {
            inputs.push(Input { kind: InputKind::Source, path, planned: None });
        }
    }
    ImageInputs { image: id, inputs }
}

/// `path` as git lists it: `./app/` is `app`; the project root itself is `.`.
fn clean(path: &str) -> Utf8PathBuf {
    Utf8PathBuf::from(crate::rules::paths::clean_relative_or_root(path))
}

/// Whether a changed file (relative to the project root, `/`-separated) lies under an
/// input: the input itself, or a file inside an input folder. Copy sources are plain
/// paths: resolve refuses `*?[` in them (`check_docker_path`), so no COPY glob reaches here.
pub fn covers(input: &Input, changed: &str) -> bool {
    let path = input.path.as_str();
    path == "."
        || path.is_empty()
        || changed == path
        || changed.strip_prefix(path).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str) -> Input {
        Input { kind: InputKind::Source, path: path.into(), planned: None }
    }

    #[test]
    fn folders_cover_what_is_inside_them_only() {
        assert!(covers(&source("ingestors/api"), "ingestors/api"));
        assert!(covers(&source("ingestors/api"), "ingestors/api/main.py"));
        assert!(!covers(&source("ingestors/api"), "ingestors/api_v2/main.py"));
        assert!(!covers(&source("ingestors/api"), "ingestors"));
        assert!(covers(&source("."), "anything/at/all"));
    }

    #[test]
    fn paths_are_written_as_git_lists_them() {
        assert_eq!(clean("./app/"), "app");
        assert_eq!(clean("a//b/./c"), "a/b/c");
        assert_eq!(clean("./"), ".");
        assert_eq!(clean("."), ".");
    }
}
