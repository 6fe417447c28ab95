//! Where generated files go: the one place that lays out the files more than one stage
//! names. Resolve places each target (the defaults below, or its `path=`) into
//! `model::Layout`; the renderers write there, the build inputs and `gscgen explain` list
//! the files, resolve checks `.dockerignore` against them.

use camino::Utf8PathBuf;

use crate::model::{GroupId, Image, Model};

/// The workflow's place inside the output folder when its target has no `path=`.
pub const DEFAULT_WORKFLOW: &str = ".github/workflows/build.yml";
/// The Bake definition of every build (`docker buildx bake`), inside the docker target's
/// folder (the output folder), next to the build scripts.
pub const BAKE_FILE: &str = "scripts/docker-bake.json";
/// The manifests' folder inside the output folder when the target has no `path=`.
pub const DEFAULT_KUBERNETES: &str = "k8s";
/// The requirements' folder inside the output folder when the target has no `path=` or `dir=`.
pub const DEFAULT_REQUIREMENTS: &str = "requirements";

/// Path, relative to the docker target's folder (the output folder), of an image's Dockerfile. The model only names
/// images; where their files go is decided here.
pub fn dockerfile_path(image: &Image) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("compose/dockerfiles/Dockerfile.{}", image.dockerfile))
}

/// Path, relative to the docker target's folder (the output folder), of the shared base
/// image's Dockerfile.
pub fn base_dockerfile_path() -> Utf8PathBuf {
    Utf8PathBuf::from("compose/dockerfiles/Dockerfile.base")
}

/// Path, relative to the project root, of a group's requirements file, when the
/// requirements target is on. The one place that lays these files out: the Dockerfiles
/// copy them, the build inputs list them, resolve checks `.dockerignore` against them.
pub fn requirements_path(model: &Model, group: GroupId) -> Option<Utf8PathBuf> {
    model.targets.requirements.as_ref()?;
    Some(model.layout.requirements.join(requirements_file_name(model, group)))
}

/// `<group>.txt`: also what a `-r` line names (the files sit side by side).
pub fn requirements_file_name(model: &Model, group: GroupId) -> String {
    format!("{}.txt", model.groups[group].name.value)
}

/// Build arguments the generated Dockerfiles and builds set themselves: an image's
/// `build-arg` may not take these names.
pub const RESERVED_BUILD_ARGS: [&str; 4] =
    ["BASE_BUILDER", "BASE_RUNTIME", "PIP_INDEX_URL", "PIP_TRUSTED_HOST"];
