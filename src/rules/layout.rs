//! Where generated files go, relative to the output folder: the one place that lays out
//! the files more than one stage names. The renderers write them there, the build inputs
//! and `gscgen explain` list them, resolve checks `.dockerignore` against them.

use camino::Utf8PathBuf;

use crate::model::{GroupId, Image, Model};

/// Path, relative to the output folder, of an image's Dockerfile. The model only names
/// images; where their files go is decided here.
pub fn dockerfile_path(image: &Image) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("compose/dockerfiles/Dockerfile.{}", image.dockerfile))
}

/// Path, relative to the output folder, of the shared base image's Dockerfile.
pub fn base_dockerfile_path() -> Utf8PathBuf {
    Utf8PathBuf::from("compose/dockerfiles/Dockerfile.base")
}

/// Path, relative to the output folder, of a group's requirements file, when the
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
