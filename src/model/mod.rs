//! The resolved model: names are checked and linked, the include graph is resolved into
//! closures, and every default is applied. Renderers read only this.
//!
//! Data plus pure accessors (lookups, closures, repository names): it imports no stage,
//! only the declarations of [`crate::config`] it carries as written.

use camino::Utf8PathBuf;
use miette::SourceSpan;

use crate::config::{HealthDecl, Spanned, YamlEntry};

mod kubernetes;
mod lock;
pub use kubernetes::*;
pub use lock::*;

/// Index of a group in [`Model::groups`].
pub type GroupId = usize;
/// Index of an image in [`Model::images`].
pub type ImageId = usize;

#[derive(Debug, Clone)]
pub struct Model {
    pub project: Project,
    pub targets: Targets,
    /// Where each target's files go.
    pub layout: Layout,
    /// In config order.
    pub groups: Vec<Group>,
    pub base: BaseImage,
    /// In config order.
    pub images: Vec<Image>,
    /// In config order.
    pub services: Vec<Service>,
    pub secrets: Vec<Secret>,
    /// `.dockerignore` patterns in order (`!` marks a re-include).
    pub dockerignore: Vec<String>,
    /// Position of each group in the resolution order (included before including, ties in
    /// config order). Closures are computed from it on demand: storing one closure per
    /// group would be quadratic on long include chains.
    pub group_rank: Vec<usize>,
    /// The committed locks, one per `rules::lock::lock_sets` entry and in that order, once
    /// resolve has checked them against the config; empty when the project does not lock.
    pub locks: Vec<LockFile>,
    /// Package indexes, in config order (`index`); requirements name them by id.
    pub indexes: Vec<Index>,
}

/// A package index that only the requirements bound to it are resolved from.
#[derive(Debug, Clone)]
pub struct Index {
    pub name: Spanned<String>,
    /// The simple-API URL, without credentials (they come from `~/.netrc`, at lock time and
    /// as a build secret).
    pub url: String,
}

impl Model {
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name.value == name)
    }

    pub fn image(&self, name: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.name.value == name)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name.value == name)
    }

    /// The ids of spanned group references.
    pub fn ids(groups: &[Spanned<GroupId>]) -> Vec<GroupId> {
        groups.iter().map(|g| g.value).collect()
    }

    /// Every group needed by `roots`, in resolution order (dependencies first).
    pub fn closure(&self, roots: &[GroupId]) -> Vec<GroupId> {
        closure(&self.groups, &self.group_rank, roots)
    }
}

/// Every group reachable from `roots` (roots included), sorted by resolution rank: the
/// closure of [`Model::closure`], for resolve's groups before the model is complete.
/// Iterative, so a 100,000-long include chain needs no deep stack.
pub fn closure(groups: &[Group], rank: &[usize], roots: &[GroupId]) -> Vec<GroupId> {
    let mut seen = vec![false; groups.len()];
    let mut stack: Vec<GroupId> = roots.to_vec();
    let mut out = Vec::new();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id], true) {
            continue;
        }
        out.push(id);
        stack.extend(groups[id].includes.iter().map(|i| i.value).filter(|i| !seen[*i]));
    }
    out.sort_by_key(|id| rank[*id]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PythonVersion {
    pub major: u16,
    pub minor: u16,
}

impl std::fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub python: PythonVersion,
    /// Where images are pushed, e.g. `ghcr.io/acme/site-data-warehouse`.
    pub registry: Option<String>,
    /// Prefix of every image repository name (`<prefix>-<image>`).
    pub image_prefix: String,
    /// Output folder, relative to the config file's folder.
    pub output: Utf8PathBuf,
    pub platforms: Vec<String>,
    pub network: String,
    pub default_branch: String,
    /// The uid non-root images run as.
    pub uid: u32,
}

/// Where each target's files go, relative to the project root (the folder of the config
/// file): inside the output folder by default, or where the target's `path=` says, so that
/// a file lands where its tool reads it (`.github/workflows/build.yml`). Every planned path
/// is relative to the project root; the output folder holds the manifest.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The output folder (the project's `output`): the manifest, the journal, the lock.
    pub output: Utf8PathBuf,
    /// The folder of the requirements files.
    pub requirements: Utf8PathBuf,
    /// The folder of `docker-compose{,.dev,.prod}.yml`.
    pub compose: Utf8PathBuf,
    /// The folder holding `compose/dockerfiles/` and `scripts/` (always the output folder).
    pub docker: Utf8PathBuf,
    /// The folder of the Kubernetes manifests (`<output>/k8s`).
    pub kubernetes: Utf8PathBuf,
    /// The workflow file (`<output>/.github/workflows/build.yml`).
    pub workflow: Utf8PathBuf,
    /// The `pyproject.toml` of the dependency groups.
    pub dependency_groups: Utf8PathBuf,
    /// The targets given a `path=`, with the span of that value (for diagnostics about
    /// where their files land).
    pub placed: Vec<(TargetKind, SourceSpan)>,
}

impl Layout {
    /// The folder (or file) of one target.
    pub fn of(&self, target: TargetKind) -> &Utf8PathBuf {
        match target {
            TargetKind::Requirements => &self.requirements,
            TargetKind::Compose => &self.compose,
            TargetKind::Docker => &self.docker,
            TargetKind::Kubernetes => &self.kubernetes,
            TargetKind::GithubWorkflow => &self.workflow,
            TargetKind::DependencyGroups => &self.dependency_groups,
        }
    }

    /// The span of a target's `path=`, when it has one.
    pub fn placed_span(&self, target: TargetKind) -> Option<SourceSpan> {
        self.placed.iter().find(|(t, _)| *t == target).map(|(_, span)| *span)
    }
}

/// The artifact families, as `targets` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetKind {
    Requirements,
    Compose,
    Docker,
    Kubernetes,
    GithubWorkflow,
    DependencyGroups,
}

impl TargetKind {
    /// The node's name in `targets`.
    pub fn node_name(self) -> &'static str {
        match self {
            TargetKind::Requirements => "requirements",
            TargetKind::Compose => "compose",
            TargetKind::Docker => "docker",
            TargetKind::Kubernetes => "kubernetes",
            TargetKind::GithubWorkflow => "github-workflow",
            TargetKind::DependencyGroups => "dependency-groups",
        }
    }
}

/// Which artifact families to render, with their settings.
#[derive(Debug, Clone)]
pub struct Targets {
    pub requirements: Option<RequirementsTarget>,
    pub compose: Option<ComposeTarget>,
    pub docker: Option<DockerTarget>,
    pub kubernetes: Option<KubernetesTarget>,
    pub github_workflow: Option<GithubWorkflowTarget>,
    pub dependency_groups: Option<DependencyGroupsTarget>,
}

/// `pyproject.toml` with a PEP 735 `[dependency-groups]` table: the groups for tools that
/// read dependency groups (`uv`, `pip --group`). See docs/dependency-groups.md.
#[derive(Debug, Clone)]
pub struct DependencyGroupsTarget {}

impl DependencyGroupsTarget {
    /// The file name is fixed: pip's `--group` refuses a path whose file is not named
    /// `pyproject.toml`, and uv's `--group` reads `pyproject.toml` files. Where the file
    /// goes is [`Layout::dependency_groups`].
    pub const FILE_NAME: &'static str = "pyproject.toml";
}

/// `.github/workflows/build.yml`: builds the base image and every image in CI, pushing them
/// outside pull requests. See docs/workflow.md.
#[derive(Debug, Clone)]
pub struct GithubWorkflowTarget {
    /// Branch filters whose pushes build and push.
    pub branches: Vec<String>,
    /// Base-branch filters of the pull requests that are built (never pushed).
    pub pull_request_branches: Vec<String>,
    /// Pin each action by full commit SHA (with a `# vX.Y.Z` comment), else by major tag.
    pub pin_actions: bool,
    /// Pull requests build only the images whose build inputs ([`crate::plan::inputs`])
    /// they change; pushes and manual runs build everything.
    pub build_affected: bool,
    /// The `drift` job: fails when the committed output is not what the config renders.
    pub drift_check: bool,
    /// `timeout-minutes` of each job.
    pub timeouts: WorkflowTimeouts,
    /// The registry host the workflow logs in to: the host of the project's `registry`, or
    /// the target's `registry` (default `ghcr.io`) when the project names none. Then images
    /// go to `<host>/<owner>/<repository>`, lowercased when the workflow runs.
    pub registry_host: String,
}

/// `timeout-minutes` of the workflow's jobs (1 to 360, GitHub's limit for hosted runners).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkflowTimeouts {
    /// The jobs that build images: `base`, `images` and the pull-request build.
    pub build: u32,
    /// The `drift` job (it builds gscgen first).
    pub drift: u32,
    /// The `changes` job of `build-affected`.
    pub changes: u32,
}

impl WorkflowTimeouts {
    /// The defaults: an hour for builds (the seed's torch images take 10 minutes each on two
    /// cores), half an hour for the drift check, ten minutes for the changes job.
    pub const DEFAULT: Self = Self { build: 60, drift: 30, changes: 10 };
}

/// Dockerfiles (shared base + one per image), their `.dockerignore` files and the build
/// scripts. See docs/docker.md.
#[derive(Debug, Clone)]
pub struct DockerTarget {
    /// The `# syntax=` parser directive, when configured (off by default).
    pub syntax: Option<String>,
    pub runtime: DockerRuntime,
}

/// What the runtime stages are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerRuntime {
    /// The base image's `from` (python:<version>-slim by default), for builder and runtime.
    Slim,
    /// A distroless Python image: no shell, no package manager. The builder stages use the
    /// Debian release's own Python so the virtual environment's interpreter path matches.
    Distroless {
        /// The runtime image reference, e.g. `gcr.io/distroless/python3-debian12:nonroot`.
        image: String,
    },
}

/// `docker-compose.yml` with its `.dev.yml` and `.prod.yml` overrides.
#[derive(Debug, Clone, Default)]
pub struct ComposeTarget {
    /// The PyPI mirror development builds install from, when one is configured.
    pub pypi_cache: Option<PypiCache>,
}

#[derive(Debug, Clone)]
pub struct PypiCache {
    /// Index in [`Model::services`] of the service that runs the mirror.
    pub service: usize,
    /// The simple-index URL as seen from a build on the host network
    /// (`http://localhost:<published port><path>`).
    pub index_url: String,
}

#[derive(Debug, Clone)]
pub struct RequirementsTarget {
    /// `lock=#true` (with its span): the images install the committed locks, which
    /// `check` verifies against the config (docs/locking.md).
    pub lock: Option<SourceSpan>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: Spanned<String>,
    pub description: Option<String>,
    /// Direct includes, minus those already implied by another include, each with the
    /// span of its name in the `include` line (for `gscgen why`).
    pub includes: Vec<Spanned<GroupId>>,
    /// The group's own requirements, validated and normalised, in config order.
    pub requires: Vec<Requirement>,
}

/// One PEP 508 requirement.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// Normalised project name (`apscheduler`, `google-auth`).
    pub name: String,
    /// The normalised requirement line (`redis[hiredis]>=5.0.0`).
    pub line: String,
    pub span: SourceSpan,
    /// `index=`: the only index this package is resolved from (an id into `Model::indexes`).
    pub index: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct BaseImage {
    pub from: String,
    pub build_packages: Vec<String>,
    pub runtime_packages: Vec<String>,
    /// The groups installed in the base image (roots as declared, with their spans).
    pub groups: Vec<Spanned<GroupId>>,
    /// Their closure, in resolution order.
    pub closure: Vec<GroupId>,
    /// `after_copy` is always empty: the base image copies no code.
    pub dockerfile_extra: DockerfileExtra,
}

/// Checked extra Dockerfile instructions (keyword upper-cased, continuation lines as
/// written), at the named points of a Dockerfile. See docs/docker.md, "Escape hatches".
#[derive(Debug, Clone, Default)]
pub struct DockerfileExtra {
    pub before_install: Vec<String>,
    pub after_copy: Vec<String>,
    pub final_stage: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub name: Spanned<String>,
    /// `Dockerfile.<dockerfile>`.
    pub dockerfile: String,
    /// The pre-built image it starts from (`from=`), pinned or acknowledged by resolve; or
    /// `None`: it starts from the shared base image. An image with a `from` is a plain
    /// image: a single-stage Dockerfile with no Python environment (no groups, no builder
    /// stage, no base build to wait for).
    pub from: Option<String>,
    /// The groups the image installs (roots as declared, with their spans).
    pub groups: Vec<Spanned<GroupId>>,
    /// Every group the image needs, in resolution order.
    pub closure: Vec<GroupId>,
    pub copies: Vec<Copy>,
    /// `WORKDIR`: `/app` by default for images of the base; a plain image keeps its
    /// `from` image's unless `workdir` is given (`None`).
    pub workdir: Option<String>,
    pub env: Vec<(String, String)>,
    pub writable: Vec<String>,
    pub build_packages: Vec<String>,
    pub runtime_packages: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub user: User,
    pub expose: Vec<u16>,
    pub health: Option<HealthDecl>,
    pub preload: Vec<Vec<String>>,
    pub dockerfile_extra: DockerfileExtra,
    /// `build-arg` names and values, in config order: `ARG` in each stage, passed by every build.
    pub build_args: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Copy {
    pub source: Spanned<String>,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    Root,
    NonRoot {
        name: String,
        uid: u32,
    },
    /// A plain image without `user`: it runs as its `from` image's user, which gscgen does
    /// not know (no `USER` is written, and Kubernetes is given no uid for it).
    Inherited,
}

#[derive(Debug, Clone)]
pub enum ServiceSource {
    /// Built by this project.
    Image(ImageId),
    /// A pre-built image reference such as `postgres:14-alpine`.
    Prebuilt(String),
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: Spanned<String>,
    pub source: ServiceSource,
    pub profiles: Vec<String>,
    /// Overrides the image's command; empty keeps it.
    pub cmd: Vec<String>,
    /// Overrides the image's entrypoint (and so drops the image's command, as Docker does);
    /// empty keeps both.
    pub entrypoint: Vec<String>,
    /// The uid (and gid) the container runs as, when the service says so.
    pub user: Option<u32>,
    pub ports: Vec<Port>,
    pub env: Vec<(String, String)>,
    /// `env-host`: values Compose takes from the host's environment.
    pub env_host: Vec<EnvHost>,
    pub env_secrets: Vec<EnvSecret>,
    /// `env-file` paths relative to the project, in order (Compose only).
    pub env_files: Vec<String>,
    pub secrets: Vec<ServiceSecret>,
    pub depends_on: Vec<usize>,
    /// Conditions stated with `depends-on … condition=` (checked against the dependency),
    /// by dependency; the others are derived when rendered.
    pub depends_conditions: Vec<(usize, String)>,
    pub health: Option<HealthDecl>,
    pub volumes: Vec<Volume>,
    pub mounts: Vec<Mount>,
    pub restart: String,
    pub oneshot: bool,
    /// Whether the container serves its image's `expose`d ports: `serves`, else whether it
    /// runs the image's own command (no `cmd`). Only then are they its container ports
    /// (with its own `port`s), which give it a Kubernetes Service.
    pub serves: bool,
    pub limits_memory: Option<String>,
    pub limits_cpus: Option<String>,
    /// How Compose hardens the container (`hardening`, else the defaults).
    pub hardening: Hardening,
    pub dev: Dev,
    /// The resolved `k8s` block; present exactly when the kubernetes target is on.
    pub k8s: Option<K8s>,
    /// `compose-extra` keys of `docker-compose.yml`, checked, in config order.
    pub compose_extra: Vec<YamlEntry>,
}

/// Compose's container hardening of one service: the defaults unless `hardening` relaxes
/// them (docs/compose.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// `read_only: true`, with a tmpfs at `/tmp`, the image's `writable` folders and
    /// [`Self::writable`].
    pub read_only: bool,
    /// `security_opt: [no-new-privileges:true]`.
    pub no_new_privileges: bool,
    /// Added back after `cap_drop: [ALL]`, upper case without `CAP_`, in config order.
    pub cap_add: Vec<String>,
    /// The service's own tmpfs folders, in config order.
    pub writable: Vec<String>,
}

impl Default for Hardening {
    fn default() -> Self {
        Self { read_only: true, no_new_privileges: true, cap_add: Vec::new(), writable: Vec::new() }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Port {
    pub container: u16,
    pub host: Option<u16>,
    /// The host address a published port binds to: loopback unless `host-ip` says
    /// otherwise, so a development database is not reachable from the network by accident.
    pub host_ip: std::net::IpAddr,
}

impl Port {
    /// The loopback address every published port binds to by default.
    pub const DEFAULT_HOST_IP: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
}

/// `env-host KEY`: Compose's `${VAR:-default}`, `${VAR}` or `${VAR:?…}`; on the cluster,
/// the default (resolve refused a deployed one without).
#[derive(Debug, Clone)]
pub struct EnvHost {
    pub key: String,
    /// The host's variable (`var=`, else the key).
    pub var: String,
    /// Used when the host's variable is unset or empty; literal.
    pub default: Option<String>,
    /// Compose stops when the host's variable is unset or empty.
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct EnvSecret {
    pub key: String,
    pub secret: String,
    pub secret_key: String,
    /// `as-file=#true`: mounted at `/run/secrets/KEY`, named by `KEY_FILE`
    /// (`rules::secret_files`); otherwise the value itself is the variable `KEY`.
    pub as_file: bool,
    /// With `as_file`: the project file Compose reads the secret from (relative to the
    /// project); `None` takes the host's variable `KEY` (Compose `environment:`).
    pub compose_file: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ServiceSecret {
    pub secret: usize,
    pub target: String,
}

/// A named volume mounted into a service.
#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub struct Mount {
    pub source: String,
    pub target: String,
    pub writable: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Dev {
    pub mounts: Vec<Mount>,
    pub cmd: Vec<String>,
    pub env: Vec<(String, String)>,
    pub env_host: Vec<EnvHost>,
    /// `compose-extra` keys of `docker-compose.dev.yml`.
    pub compose_extra: Vec<YamlEntry>,
}

#[derive(Debug, Clone)]
pub struct Secret {
    pub name: Spanned<String>,
    /// The file holding it, relative to the project (never copied into an image).
    pub file: String,
}

impl Image {
    /// Whether the image starts from the shared base image (else it is a plain image).
    pub fn on_base(&self) -> bool {
        self.from.is_none()
    }
}

impl Model {
    /// The repository name of a built image, without registry: `gsc-api-ingestor`.
    /// `_` becomes `-` so names are valid for every registry and match Kubernetes names.
    pub fn repository_name(&self, image: &Image) -> String {
        format!("{}-{}", self.project.image_prefix, image.name.value.replace('_', "-"))
    }

    /// The repository name of the shared base image: `gsc-base`.
    pub fn base_repository_name(&self) -> String {
        format!("{}-base", self.project.image_prefix)
    }

    /// `registry/name` when a registry is configured, `name` otherwise.
    pub fn qualified(&self, repository_name: &str) -> String {
        match &self.project.registry {
            Some(registry) => format!("{registry}/{repository_name}"),
            None => repository_name.to_owned(),
        }
    }
}
