//! The typed configuration as written: every user value keeps its span, nothing is
//! defaulted yet (defaults are applied once, at the end of resolve).
//!
//! A leaf shared by the stages: [`crate::parse`] produces it, [`crate::resolve`] reads it,
//! and the model carries a few declarations as written (health checks, YAML values) for
//! the plan to render. It depends on no stage.

use miette::SourceSpan;

/// A value and the exact source text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: SourceSpan,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: SourceSpan) -> Self {
        Self { value, span }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

pub type Text = Spanned<String>;

/// The whole `project.kdl`.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub project: Option<ProjectDecl>,
    pub targets: Option<TargetsDecl>,
    pub groups: Vec<GroupDecl>,
    pub base_image: Option<BaseImageDecl>,
    pub images: Vec<ImageDecl>,
    pub services: Vec<ServiceDecl>,
    pub secrets: Vec<SecretDecl>,
    /// `env-set NAME { env …; env-secret … }`: environment shared by services (`env-from`).
    pub env_sets: Vec<EnvSetDecl>,
    pub dockerignore: Option<DockerignoreDecl>,
    /// `index NAME url="…"`: package indexes that `require … index=NAME` binds packages to.
    pub indexes: Vec<IndexDecl>,
}

/// `index pytorch-cpu url="https://download.pytorch.org/whl/cpu"`: a package index that only
/// the requirements naming it (`index=`) are resolved from (uv's `explicit = true`).
#[derive(Debug, Clone)]
pub struct IndexDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub url: Option<Text>,
}

/// `env-set common { env TZ="UTC"; env-secret DATABASE_URL secret=db key=url }`: variables
/// that services and inits take with `env-from common` (Compose's `x-` anchors).
#[derive(Debug, Clone)]
pub struct EnvSetDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub env: Vec<EnvDecl>,
    pub env_host: Vec<EnvHostDecl>,
    pub env_secrets: Vec<EnvSecretDecl>,
}

#[derive(Debug, Clone)]
pub struct ProjectDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub python: Option<Text>,
    /// A `python` node was written (even if its value was unusable): no second diagnostic.
    pub python_declared: bool,
    pub registry: Option<Text>,
    pub image_prefix: Option<Text>,
    pub output: Option<Text>,
    pub platforms: Vec<Text>,
    pub network: Option<Text>,
    pub default_branch: Option<Text>,
    pub uid: Option<Spanned<u32>>,
}

#[derive(Debug, Clone)]
pub struct TargetsDecl {
    pub span: SourceSpan,
    pub requirements: Option<RequirementsTargetDecl>,
    pub compose: Option<ComposeTargetDecl>,
    pub docker: Option<DockerTargetDecl>,
    pub kubernetes: Option<KubernetesTargetDecl>,
    pub github_workflow: Option<GithubWorkflowTargetDecl>,
    pub dependency_groups: Option<DependencyGroupsTargetDecl>,
}

/// `dependency-groups dir="."`: the groups as PEP 735 `[dependency-groups]` in a
/// `pyproject.toml`.
#[derive(Debug, Clone)]
pub struct DependencyGroupsTargetDecl {
    pub span: SourceSpan,
    /// `path=`: where the target's files go, relative to the project root (not the output
    /// folder), e.g. `.github/workflows/build.yml`.
    pub path: Option<Text>,
    /// Folder (inside the output folder) that receives `pyproject.toml`.
    pub dir: Option<Text>,
}

/// `github-workflow { branches "main"; pin-actions #true }`: `.github/workflows/build.yml`.
#[derive(Debug, Clone)]
pub struct GithubWorkflowTargetDecl {
    pub span: SourceSpan,
    /// `path=`: where the target's files go, relative to the project root (not the output
    /// folder), e.g. `.github/workflows/build.yml`.
    pub path: Option<Text>,
    /// Branch filters whose pushes build and push; empty = the project's default branch.
    pub branches: Vec<Text>,
    /// Base-branch filters of the pull requests that are built; empty = `branches`.
    pub pull_request_branches: Vec<Text>,
    /// Pin each action by full commit SHA (default) or use its major tag.
    pub pin_actions: Option<Spanned<bool>>,
    /// Pull requests build only the images whose build inputs they change.
    pub build_affected: Option<Spanned<bool>>,
    /// The registry host to push to when the project names no registry (`ghcr.io`).
    pub registry: Option<Text>,
    /// A job that fails when the committed output is not what the config renders.
    pub drift_check: Option<Spanned<bool>>,
    /// `timeout-minutes build=… drift=… changes=…`: each job's `timeout-minutes`.
    pub timeout_minutes: Option<TimeoutMinutesDecl>,
}

/// `timeout-minutes build=60 drift=30 changes=10`: minutes per kind of job, each optional.
#[derive(Debug, Clone)]
pub struct TimeoutMinutesDecl {
    pub span: SourceSpan,
    /// The jobs that build images (`base`, `images`).
    pub build: Option<Spanned<u32>>,
    /// The `drift` job.
    pub drift: Option<Spanned<u32>>,
    /// The `changes` job of `build-affected`.
    pub changes: Option<Spanned<u32>>,
}

/// `kubernetes { namespace …; tag …; min-version "1.25" }`: the manifests under `k8s/`.
#[derive(Debug, Clone)]
pub struct KubernetesTargetDecl {
    pub span: SourceSpan,
    /// `path=`: where the target's files go, relative to the project root (not the output
    /// folder), e.g. `.github/workflows/build.yml`.
    pub path: Option<Text>,
    /// The namespace of every object; defaults to the project name.
    pub namespace: Option<Text>,
    /// The tag of every built image; defaults to `latest`.
    pub tag: Option<Text>,
    /// The oldest Kubernetes minor the manifests must work on (`"1.25"`).
    pub min_version: Option<Text>,
    /// `patch <kind> <name> { … }`: extra fields merged into one rendered object.
    pub patches: Vec<PatchDecl>,
    /// `volume <name> size=… storage-class=… access=… scratch=…`: how a named volume is
    /// stored on the cluster (a PersistentVolumeClaim unless `scratch`).
    pub volumes: Vec<ClusterVolumeDecl>,
}

/// `kubernetes { volume redis-data size="1Gi" }`: the storage of one named volume.
#[derive(Debug, Clone)]
pub struct ClusterVolumeDecl {
    pub span: SourceSpan,
    pub name: Text,
    /// The claim's requested storage, or a scratch volume's `sizeLimit`.
    pub size: Option<Text>,
    pub storage_class: Option<Text>,
    /// `"ReadWriteOnce"` (the default) or `"ReadWriteMany"`.
    pub access: Option<Text>,
    /// `scratch=#true`: an `emptyDir`, emptied whenever the pod is replaced.
    pub scratch: Option<Spanned<bool>>,
}

/// `patch deployment api { spec { … } }`: a strategic merge patch of one rendered object,
/// written as nested nodes (see docs/kubernetes.md, "Patches").
#[derive(Debug, Clone)]
pub struct PatchDecl {
    pub span: SourceSpan,
    /// The object's kind as its file names it: `deployment`, `service`, `hpa`, …
    pub kind: Text,
    /// The object's name as rendered (`api_ingestor` → `api-ingestor`).
    pub name: Text,
    /// The fields, from the object's root (`metadata`, `spec`).
    pub fields: Vec<PatchField>,
}

/// One key of a patch mapping and its value.
#[derive(Debug, Clone)]
pub struct PatchField {
    /// The key; its span is the node's name.
    pub key: Text,
    pub value: PatchValue,
}

/// A value in a patch: what YAML calls a scalar, a sequence or a mapping.
#[derive(Debug, Clone)]
pub enum PatchValue {
    Scalar(Spanned<Scalar>),
    /// `key a b c`, or `key { - a; - { … } }`; the span covers the node.
    Sequence(Spanned<Vec<PatchValue>>),
    /// `key { child …; }`; the span covers the node.
    Mapping(Spanned<Vec<PatchField>>),
}

/// A scalar value of a patch, typed as KDL wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    String(String),
    Integer(i128),
    Bool(bool),
}

/// `docker syntax="docker/dockerfile:1" runtime=slim`: Dockerfiles, `.dockerignore` files and
/// build scripts.
#[derive(Debug, Clone)]
pub struct DockerTargetDecl {
    pub span: SourceSpan,
    /// The `# syntax=` parser directive; absent means none (the built-in frontend).
    pub syntax: Option<Text>,
    /// `slim` (the base image's `from`) or `distroless`.
    pub runtime: Option<Text>,
    /// The distroless image, when not the one matching the project's Python.
    pub runtime_image: Option<Text>,
}

/// `compose pypi-cache=<service> pypi-index="/root/pypi/+simple/"`: the Docker Compose files.
#[derive(Debug, Clone)]
pub struct ComposeTargetDecl {
    pub span: SourceSpan,
    /// `path=`: where the target's files go, relative to the project root (not the output
    /// folder), e.g. `.github/workflows/build.yml`.
    pub path: Option<Text>,
    /// The service that serves a PyPI mirror to development builds (the seed's devpi).
    pub pypi_cache: Option<Text>,
    /// Path of the mirror's simple index on that service.
    pub pypi_index: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct RequirementsTargetDecl {
    pub span: SourceSpan,
    /// `path=`: where the target's files go, relative to the project root (not the output
    /// folder), e.g. `.github/workflows/build.yml`.
    pub path: Option<Text>,
    /// Folder (inside the output folder) that receives one file per group.
    pub dir: Option<Text>,
    /// `lock=#true`: install exactly the committed locks (`gscgen lock`, docs/locking.md).
    pub lock: Option<Spanned<bool>>,
}

#[derive(Debug, Clone)]
pub struct GroupDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub description: Option<Text>,
    pub includes: Vec<Text>,
    pub requires: Vec<Text>,
    /// `require "torch>=2.5" index=pytorch-cpu`: (the span of a requirement of that line,
    /// the index name), one entry per requirement of the line.
    pub require_index: Vec<(SourceSpan, Text)>,
}

#[derive(Debug, Clone)]
pub struct BaseImageDecl {
    pub span: SourceSpan,
    pub from: Option<Text>,
    pub build_packages: Vec<Text>,
    pub runtime_packages: Vec<Text>,
    pub groups: Vec<Text>,
    /// Extra instructions of `Dockerfile.base` (`after_copy` is always empty: the base copies no code).
    pub dockerfile_extra: DockerfileExtraDecl,
}

/// `dockerfile-extra { before-install "…"; after-copy "…"; final "…" }`: Dockerfile
/// instructions written as given at named points of a generated Dockerfile (an escape
/// hatch; resolve checks each one). Each string is one instruction.
#[derive(Debug, Clone, Default)]
pub struct DockerfileExtraDecl {
    /// Start of the builder stage, before its apt and pip installs.
    pub before_install: Vec<Text>,
    /// Runtime stage, right after the image's code is copied.
    pub after_copy: Vec<Text>,
    /// The very end of the last stage.
    pub final_stage: Vec<Text>,
}

/// `compose-extra { key value; … }`: keys written into a service of a Compose file, for
/// Compose settings gscgen has no typed option for (an escape hatch; resolve checks the keys).
#[derive(Debug, Clone)]
pub struct ComposeExtraDecl {
    pub span: SourceSpan,
    pub entries: Vec<YamlEntry>,
}

/// One `key: value` of a YAML mapping, read from a KDL node (its name is the key).
#[derive(Debug, Clone)]
pub struct YamlEntry {
    pub key: Text,
    pub value: YamlValue,
}

/// A YAML value read from KDL: one argument is a scalar, several a sequence, properties
/// and children a mapping, `-` children a sequence of any values.
#[derive(Debug, Clone)]
pub enum YamlValue {
    Scalar(YamlScalar),
    Sequence(Vec<YamlValue>),
    Mapping(Vec<YamlEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlScalar {
    String(String),
    /// The YAML text of a number that YAML 1.1 and 1.2 read alike (`8`, `-3`, `0.5`).
    Number(String),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub struct ImageDecl {
    pub name: Text,
    pub span: SourceSpan,
    /// `from="nginx:1.27.2"`: the image starts from this pre-built image, not from the
    /// shared base image (a single-stage Dockerfile with no Python environment).
    pub from: Option<Text>,
    /// `unpinned="reason"`: a `from=` that cannot be pinned yet, acknowledged with its reason.
    pub unpinned: Option<Text>,
    pub dockerfile: Option<Text>,
    pub groups: Vec<Text>,
    pub copies: Vec<CopyDecl>,
    pub workdir: Option<Text>,
    pub env: Vec<EnvDecl>,
    pub writable: Vec<Text>,
    pub build_packages: Vec<Text>,
    pub runtime_packages: Vec<Text>,
    pub cmd: Option<CommandDecl>,
    pub entrypoint: Option<CommandDecl>,
    pub user: Option<UserDecl>,
    pub expose: Vec<Spanned<u16>>,
    pub health: Option<HealthDecl>,
    pub preload: Vec<CommandDecl>,
    pub dockerfile_extra: DockerfileExtraDecl,
    /// `build-arg NAME "value"`: a build argument of the image, with its value.
    pub build_args: Vec<BuildArgDecl>,
}

#[derive(Debug, Clone)]
pub struct BuildArgDecl {
    pub span: SourceSpan,
    pub name: Text,
    pub value: Text,
}

#[derive(Debug, Clone)]
pub struct CopyDecl {
    pub span: SourceSpan,
    pub source: Text,
    pub target: Text,
}

#[derive(Debug, Clone)]
pub struct EnvDecl {
    pub key: Text,
    pub value: Text,
}

/// `env-host KEY default="…" var="HOST_VAR" required=#true`: a variable whose value Compose
/// takes from the environment of the host that runs it (`${HOST_VAR:-default}`).
#[derive(Debug, Clone)]
pub struct EnvHostDecl {
    pub span: SourceSpan,
    pub key: Text,
    /// The host's variable; absent: `KEY` itself.
    pub var: Option<Text>,
    /// The value when the host's variable is unset or empty, taken literally.
    pub default: Option<Text>,
    /// `required=#true`: Compose refuses to run without the host's variable.
    pub required: Option<Spanned<bool>>,
}

/// A command in exec form: program and arguments.
#[derive(Debug, Clone)]
pub struct CommandDecl {
    pub span: SourceSpan,
    pub args: Vec<Text>,
}

#[derive(Debug, Clone)]
pub struct UserDecl {
    pub span: SourceSpan,
    pub name: Option<Text>,
    pub uid: Option<Spanned<u32>>,
    /// `root=#true`: the image runs as root, deliberately.
    pub root: Option<Spanned<bool>>,
}

#[derive(Debug, Clone)]
pub struct HealthDecl {
    pub span: SourceSpan,
    pub check: Option<HealthCheckDecl>,
    pub interval: Option<Text>,
    pub timeout: Option<Text>,
    pub start_period: Option<Text>,
    pub retries: Option<Spanned<u32>>,
}

#[derive(Debug, Clone)]
pub enum HealthCheckDecl {
    /// An HTTP GET that must answer 2xx/3xx.
    Http { path: Text, port: Spanned<u16> },
    /// A command that must exit 0.
    Exec(CommandDecl),
}

#[derive(Debug, Clone)]
pub struct ServiceDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub image: Option<Text>,
    pub from: Option<Text>,
    /// `unpinned="reason"`: a `from=` that cannot be pinned yet, acknowledged with its reason.
    pub unpinned: Option<Text>,
    pub profiles: Vec<Text>,
    pub cmd: Option<CommandDecl>,
    /// `entrypoint prog args…`: replaces the image's entrypoint (Compose `entrypoint`,
    /// Kubernetes `command`).
    pub entrypoint: Option<CommandDecl>,
    /// `user 1001`: the uid (and gid) the container runs as (Compose `user`, Kubernetes
    /// `runAsUser`/`runAsGroup`).
    pub user: Option<Spanned<u32>>,
    pub ports: Vec<PortDecl>,
    pub env: Vec<EnvDecl>,
    pub env_host: Vec<EnvHostDecl>,
    pub env_secrets: Vec<EnvSecretDecl>,
    /// `env-from NAME…`: the `env-set`s whose variables the service takes, in order.
    pub env_from: Vec<Text>,
    /// `env-file "path"…`: Compose `env_file` (files read when Compose runs).
    pub env_files: Vec<Text>,
    pub secrets: Vec<ServiceSecretDecl>,
    pub depends_on: Vec<DependsOnDecl>,
    pub health: Option<HealthDecl>,
    pub volumes: Vec<VolumeDecl>,
    pub mounts: Vec<MountDecl>,
    pub restart: Option<Text>,
    pub oneshot: Option<Spanned<bool>>,
    /// `serves #true|#false`: whether the service's container serves its image's `expose`d
    /// ports (and so gets a Kubernetes Service for them); absent: derived from `cmd`.
    pub serves: Option<Spanned<bool>>,
    pub limits: Option<ComposeLimitsDecl>,
    /// `hardening …`: relaxations of the Compose container hardening.
    pub hardening: Option<HardeningDecl>,
    pub dev: Option<DevDecl>,
    pub k8s: Option<K8sDecl>,
    /// Extra keys of the service in `docker-compose.yml`.
    pub compose_extra: Option<ComposeExtraDecl>,
}

#[derive(Debug, Clone)]
pub struct PortDecl {
    pub span: SourceSpan,
    pub container: Spanned<u16>,
    pub host: Option<Spanned<u16>>,
    /// `host-ip="0.0.0.0"`: the host address the published port binds to.
    pub host_ip: Option<Text>,
}

/// An environment variable whose value comes from a secret store.
#[derive(Debug, Clone)]
pub struct EnvSecretDecl {
    pub span: SourceSpan,
    pub key: Text,
    pub secret: Text,
    pub secret_key: Text,
    /// `as-file=#true`: the secret is mounted at `/run/secrets/KEY` and the program gets
    /// `KEY_FILE`, its path, instead of the value in `KEY`.
    pub as_file: Option<Spanned<bool>>,
    /// `file="path"` (with `as-file`): Compose reads the secret from this file of the
    /// project, not from the host's variable `KEY`.
    pub file: Option<Text>,
}

/// A file secret mounted under `/run/secrets/`.
#[derive(Debug, Clone)]
pub struct ServiceSecretDecl {
    pub span: SourceSpan,
    pub name: Text,
    pub target: Option<Text>,
}

/// `depends-on a b condition=service_healthy`: one entry per name, the node's condition on each.
#[derive(Debug, Clone)]
pub struct DependsOnDecl {
    pub name: Text,
    /// A stated Compose condition; absent: derived from the dependency.
    pub condition: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct VolumeDecl {
    pub span: SourceSpan,
    pub name: Text,
    pub target: Text,
    /// `read-only=#true`: mounted read-only (Compose `read_only`, Kubernetes `readOnly`).
    pub read_only: Option<Spanned<bool>>,
}

#[derive(Debug, Clone)]
pub struct MountDecl {
    pub span: SourceSpan,
    pub source: Text,
    pub target: Text,
    pub writable: Option<Spanned<bool>>,
}

/// `hardening read-only=#false no-new-privileges=#false { cap-add …; writable … }`: what a
/// service's container needs beyond Compose's hardened defaults (read-only root, every
/// capability dropped, no privilege escalation).
#[derive(Debug, Clone)]
pub struct HardeningDecl {
    pub span: SourceSpan,
    pub read_only: Option<Spanned<bool>>,
    pub no_new_privileges: Option<Spanned<bool>>,
    /// Capabilities added back after `cap_drop: [ALL]`.
    pub cap_add: Vec<Text>,
    /// Folders that get a tmpfs under the read-only root.
    pub writable: Vec<Text>,
}

#[derive(Debug, Clone)]
pub struct ComposeLimitsDecl {
    pub span: SourceSpan,
    pub memory: Option<Text>,
    pub cpus: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct DevDecl {
    pub span: SourceSpan,
    pub mounts: Vec<MountDecl>,
    pub cmd: Option<CommandDecl>,
    pub env: Vec<EnvDecl>,
    pub env_host: Vec<EnvHostDecl>,
    /// Extra keys of the service in `docker-compose.dev.yml`.
    pub compose_extra: Option<ComposeExtraDecl>,
}

#[derive(Debug, Clone)]
pub struct SecretDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub file: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct DockerignoreDecl {
    pub span: SourceSpan,
    pub patterns: Vec<Text>,
}

#[derive(Debug, Clone)]
pub struct K8sDecl {
    pub span: SourceSpan,
    /// `external "reason"`: the cluster provides it (e.g. a managed database).
    pub external: Option<Text>,
    pub replicas: Option<Spanned<u32>>,
    pub requests: Option<ResourcesDecl>,
    pub limits: Option<ResourcesDecl>,
    pub autoscale: Option<AutoscaleDecl>,
    pub disruption_budget: Option<DisruptionBudgetDecl>,
    pub gpu: Option<GpuDecl>,
    pub init: Vec<InitDecl>,
    pub writable: Vec<Text>,
    pub security: Option<SecurityDecl>,
    /// `allow-from namespace="…"`: namespaces whose pods may reach the service's ports
    /// (an ingress controller, the monitoring stack), beyond its dependents.
    pub allow_from: Vec<Text>,
}

impl K8sDecl {
    /// An empty block: what `k8s { }` reads as, and what a service without one gets.
    pub fn empty(span: SourceSpan) -> Self {
        Self {
            span,
            external: None,
            replicas: None,
            requests: None,
            limits: None,
            autoscale: None,
            disruption_budget: None,
            gpu: None,
            init: Vec::new(),
            writable: Vec::new(),
            security: None,
            allow_from: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResourcesDecl {
    pub span: SourceSpan,
    pub cpu: Option<Text>,
    pub memory: Option<Text>,
}

#[derive(Debug, Clone)]
pub struct AutoscaleDecl {
    pub span: SourceSpan,
    pub min: Spanned<u32>,
    pub max: Spanned<u32>,
    pub cpu: Spanned<u32>,
}

#[derive(Debug, Clone)]
pub struct DisruptionBudgetDecl {
    pub span: SourceSpan,
    pub min_available: Spanned<u32>,
}

#[derive(Debug, Clone)]
pub struct GpuDecl {
    pub span: SourceSpan,
    pub count: Spanned<u32>,
    pub node_label: Option<NodeLabelDecl>,
    pub tolerations: Vec<TolerationDecl>,
}

#[derive(Debug, Clone)]
pub struct NodeLabelDecl {
    pub span: SourceSpan,
    pub key: Text,
    pub values: Vec<Text>,
}

#[derive(Debug, Clone)]
pub struct TolerationDecl {
    pub span: SourceSpan,
    pub key: Text,
    pub effect: Option<Text>,
}

/// A container that runs before the service: an init container, or a Job when `job=#true`.
#[derive(Debug, Clone)]
pub struct InitDecl {
    pub name: Text,
    pub span: SourceSpan,
    pub image: Text,
    pub job: Option<Spanned<bool>>,
    pub cmd: Option<CommandDecl>,
    pub env: Vec<EnvDecl>,
    pub env_secrets: Vec<EnvSecretDecl>,
    /// `env-from NAME…`, as on a service.
    pub env_from: Vec<Text>,
}

/// Explicit relaxations of the hardened defaults.
#[derive(Debug, Clone)]
pub struct SecurityDecl {
    pub span: SourceSpan,
    pub run_as_non_root: Option<Spanned<bool>>,
    pub read_only_root_filesystem: Option<Spanned<bool>>,
    pub allow_privilege_escalation: Option<Spanned<bool>>,
    /// The uid to run as, for images whose user gscgen does not know (pre-built ones).
    pub run_as_user: Option<Spanned<u32>>,
}
