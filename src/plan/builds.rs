//! The build facts of every image: which Dockerfile, which stage, which tags, which build
//! arguments. One function computes them, so the build scripts and the CI workflow build
//! exactly the same set of images with exactly the same arguments.

use camino::Utf8PathBuf;

use crate::model::{Image, Model};
use crate::rules::layout::{base_dockerfile_path, dockerfile_path};

/// Stage names of the shared base Dockerfile, and of every image Dockerfile.
pub(crate) const BASE_BUILDER_STAGE: &str = "base-builder";
pub(crate) const BASE_RUNTIME_STAGE: &str = "base-runtime";
pub(crate) const IMAGE_BUILDER_STAGE: &str = "builder";
pub(crate) const IMAGE_RUNTIME_STAGE: &str = "runtime";

/// Build arguments of every image Dockerfile: the two base images it starts from.
pub(crate) const ARG_BASE_BUILDER: &str = "BASE_BUILDER";
pub(crate) const ARG_BASE_RUNTIME: &str = "BASE_RUNTIME";
/// Build arguments of every stage that runs pip: the index to install from. Not passed by
/// the production builds (PyPI is the default); development builds point them at a mirror.
pub(crate) const ARG_PIP_INDEX_URL: &str = "PIP_INDEX_URL";
pub(crate) const ARG_PIP_TRUSTED_HOST: &str = "PIP_TRUSTED_HOST";
/// The index production builds install from.
pub(crate) const DEFAULT_PIP_INDEX_URL: &str = "https://pypi.org/simple";

/// The tag every build gets; CI may add more (e.g. the commit) on top.
pub(crate) const LATEST: &str = "latest";

/// The tag of each repository's registry build cache (`type=registry,ref=<repo>:buildcache`),
/// written by CI and read by CI and development builds.
pub(crate) const BUILDCACHE_TAG: &str = "buildcache";

/// One `docker build`. The context is always the project root (the folder of the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Build {
    /// What the scripts print: `base-builder`, `base-runtime` or the image name.
    pub(crate) name: String,
    /// The Dockerfile, relative to the project root, `/`-separated.
    pub(crate) dockerfile: Utf8PathBuf,
    /// The stage to build (`--target`).
    pub(crate) target: &'static str,
    /// The repository, qualified with the registry when one is configured.
    pub(crate) repository: String,
    /// Full references (`repository:tag`).
    pub(crate) tags: Vec<String>,
    /// `--build-arg NAME=value`, in this order.
    pub(crate) args: Vec<(String, String)>,
}

/// The repository of the shared base image's builder stage: `gsc-base-builder`.
pub(crate) fn base_builder_repository(model: &Model) -> String {
    format!("{}-builder", model.base_repository_name())
}

/// The reference image Dockerfiles start their builder stage from, by default.
pub(crate) fn base_builder_ref(model: &Model) -> String {
    format!("{}:{LATEST}", model.qualified(&base_builder_repository(model)))
}

/// The reference image Dockerfiles start their runtime stage from, by default.
pub(crate) fn base_runtime_ref(model: &Model) -> String {
    format!("{}:{LATEST}", model.qualified(&model.base_repository_name()))
}

/// Every build, in order: the base image's two stages, then each image in config order.
/// Builds later in the list may depend on earlier ones (never the other way round). A
/// plain image (`from=`) takes no base argument, so nothing it builds waits for the base;
/// when every image is plain, the base stages are not built at all.
pub(crate) fn builds(model: &Model) -> Vec<Build> {
    let output = &model.project.output;
    let base_dockerfile = output.join(base_dockerfile_path());
    let mut builds = Vec::with_capacity(model.images.len() + 2);
    if model.images.iter().any(Image::on_base) {
        builds.extend(base_builds(model, &base_dockerfile));
    }
    for image in &model.images {
        let repository = model.qualified(&model.repository_name(image));
        let bases = [
            (ARG_BASE_BUILDER.to_owned(), base_builder_ref(model)),
            (ARG_BASE_RUNTIME.to_owned(), base_runtime_ref(model)),
        ];
        builds.push(Build {
            name: image.name.value.clone(),
            dockerfile: output.join(dockerfile_path(image)),
            target: IMAGE_RUNTIME_STAGE,
            tags: vec![format!("{repository}:{LATEST}")],
            repository,
            // The image's own `build-arg`s after the bases (resolve keeps their names apart).
            args: bases
                .into_iter()
                .filter(|_| image.on_base())
                .chain(image.build_args.iter().cloned())
                .collect(),
        });
    }
    builds
}

/// The shared base image's two stages.
fn base_builds(model: &Model, base_dockerfile: &camino::Utf8Path) -> [Build; 2] {
    [
        Build {
            name: BASE_BUILDER_STAGE.to_owned(),
            dockerfile: base_dockerfile.to_owned(),
            target: BASE_BUILDER_STAGE,
            repository: model.qualified(&base_builder_repository(model)),
            tags: vec![base_builder_ref(model)],
            args: Vec::new(),
        },
        Build {
            name: BASE_RUNTIME_STAGE.to_owned(),
            dockerfile: base_dockerfile.to_owned(),
            target: BASE_RUNTIME_STAGE,
            repository: model.qualified(&model.base_repository_name()),
            tags: vec![base_runtime_ref(model)],
            args: Vec::new(),
        },
    ]
}
