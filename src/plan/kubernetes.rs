//! The kubernetes target: `k8s/namespace.yaml`, one file per object
//! (`<name>.deployment.yaml`, `.service.yaml`, `.hpa.yaml`, `.pdb.yaml`, `.job.yaml`) and a
//! `kustomization.yaml` that lists them and sets the image tag. docs/kubernetes.md explains
//! every object and default.
//!
//! Every value is computed and quoted here ([`rules::quote`](crate::rules::quote): `yaml_scalar`, `yaml_key`,
//! `yaml_comment`, and `kubernetes_value` for the fields the kubelet expands `$(VAR)` in);
//! the templates in `templates/kubernetes/` only lay out fields.

use askama::Template;

use super::builds::{self, Build};
use super::{FileMode, PlanContext, PlanError, Planner};
use crate::config::{HealthCheckDecl, HealthDecl, Scalar};
use crate::model::{
    Claim, ClusterStorage, DEFAULT_DENY_POLICY, Deploy, EnvHost, EnvSecret, Init, K8s, KubernetesTarget,
    Model, ObjectKind, Patch, Resources, Service, ServiceSource, Yaml, init_job_name,
};
use crate::rules::duration::duration_seconds;
use crate::rules::k8s_objects::{
    PodVolumes, SECRETS_DIR, SECRETS_VOLUME, UNHEALTHY_POD_EVICTION_MINOR, container_ports, health_check,
    ingress_sources, job_object_name, recreates,
};
use crate::rules::names::dns_name;
use crate::rules::quote::{kubernetes_value, yaml_comment, yaml_key, yaml_scalar};
use crate::rules::secret_files::{file_name, file_path, file_variable};

const KUSTOMIZATION_FILE: &str = "kustomization.yaml";
/// The folder of the patch files, inside the manifests' folder.
const PATCH_DIR: &str = "patches";

/// How long a finished Job (and its pod's logs) stays: a day to read what it did, then it
/// is deleted, so the namespace does not collect one Job per deployed commit.
const JOB_TTL_SECONDS: u32 = 86_400;

/// The extended resource of NVIDIA's device plugin.
const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// Docker's health check defaults, used when `health` leaves a timing out, so a probe
/// behaves like the Compose health check of the same config.
const DEFAULT_INTERVAL: u32 = 30;
const DEFAULT_TIMEOUT: u32 = 30;
const DEFAULT_RETRIES: u32 = 3;
/// Secret files readable by the owner and the pod's `fsGroup` (0440), or by everyone
/// (0444) when the pod's uid is unknown and no `fsGroup` is set. Decimal: YAML 1.1 and
/// 1.2 readers disagree on `0440`.
const SECRET_MODE_GROUP: u32 = 0o440;
const SECRET_MODE_ALL: u32 = 0o444;

// ---------------------------------------------------------------------------------------
// View-models: every string already quoted for YAML
// ---------------------------------------------------------------------------------------

/// `metadata:` of an object.
struct Meta {
    name: String,
    namespace: String,
    labels: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "kubernetes/namespace.yaml", escape = "none")]
struct NamespaceFile {
    config_name: String,
    name: String,
    labels: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "kubernetes/kustomization.yaml", escape = "none")]
struct KustomizationFile {
    config_name: String,
    /// Comment lines, already made safe.
    header: Vec<String>,
    namespace: String,
    resources: Vec<String>,
    /// The patch files, relative to the kustomization.
    patches: Vec<String>,
    /// (image name, tag)
    images: Vec<(String, String)>,
    /// Jobs whose name follows their image's tag.
    replacements: Vec<ReplacementView>,
}

/// A kustomize replacement: the tag of a Job's image (after `images:`) becomes the last
/// `-` segment of the Job's name.
struct ReplacementView {
    job: String,
    /// `spec.template.spec.containers.[name=<container>].image`, quoted.
    field_path: String,
    /// The tag's index among the image reference's `:`-separated parts.
    tag_index: usize,
    /// The tag's index among the name's `-`-separated parts.
    name_index: usize,
}

/// `patches/<name>.<kind>.yaml`: a strategic merge patch of one object.
#[derive(Template)]
#[template(path = "kubernetes/patch.yaml", escape = "none")]
struct PatchFile {
    config_name: String,
    /// `deployment api`, for the comment.
    target: String,
    api_version: &'static str,
    kind: &'static str,
    name: String,
    /// `None` for the Namespace, which has none.
    namespace: Option<String>,
    /// Lines of the patch's own `metadata` fields, indented under `metadata:`.
    metadata: Vec<String>,
    /// Lines of every other field, from the object's root.
    body: Vec<String>,
}

#[derive(Template)]
#[template(path = "kubernetes/deployment.yaml", escape = "none")]
struct DeploymentFile {
    config_name: String,
    meta: Meta,
    replicas: Option<u32>,
    /// `Recreate` when the pod holds a ReadWriteOnce claim; else the default rolling update.
    recreate: bool,
    selector: Vec<(String, String)>,
    pod: PodView,
}

#[derive(Template)]
#[template(path = "kubernetes/job.yaml", escape = "none")]
struct JobFile {
    config_name: String,
    meta: Meta,
    ttl_seconds: u32,
    pod: PodView,
}

#[derive(Template)]
#[template(path = "kubernetes/networkpolicy.yaml", escape = "none")]
struct PolicyFile {
    config_name: String,
    /// Comment lines (already made safe): what the policy admits.
    header: Vec<String>,
    meta: Meta,
    /// The pods it applies to; empty: every pod of the namespace.
    selector: Vec<(String, String)>,
    /// `app.kubernetes.io/name` values of the pods admitted.
    from_pods: Vec<String>,
    /// Namespaces whose pods are admitted.
    from_namespaces: Vec<String>,
    ports: Vec<u16>,
}

#[derive(Template)]
#[template(path = "kubernetes/pvc.yaml", escape = "none")]
struct ClaimFile {
    config_name: String,
    /// The named volume it stores, for the comment.
    volume: String,
    meta: Meta,
    access_mode: &'static str,
    storage_class: Option<String>,
    size: String,
}

#[derive(Template)]
#[template(path = "kubernetes/service.yaml", escape = "none")]
struct ServiceFile {
    config_name: String,
    meta: Meta,
    selector: Vec<(String, String)>,
    ports: Vec<PortView>,
}

#[derive(Template)]
#[template(path = "kubernetes/hpa.yaml", escape = "none")]
struct HpaFile {
    config_name: String,
    meta: Meta,
    target: String,
    min: u32,
    max: u32,
    cpu_percent: u32,
}

#[derive(Template)]
#[template(path = "kubernetes/pdb.yaml", escape = "none")]
struct PdbFile {
    config_name: String,
    meta: Meta,
    min_available: u32,
    selector: Vec<(String, String)>,
    always_allow_unhealthy: bool,
}

/// The pod template of a Deployment or a Job.
struct PodView {
    labels: Vec<(String, String)>,
    /// `Never` for Jobs; Deployments keep the default (`Always`).
    restart_policy: Option<&'static str>,
    run_as_non_root: bool,
    fs_group: Option<u32>,
    /// Required node affinity: (label key, accepted values).
    affinity: Option<(String, Vec<String>)>,
    /// (key, effect)
    tolerations: Vec<(String, Option<String>)>,
    init_containers: Vec<ContainerView>,
    containers: Vec<ContainerView>,
    volumes: Vec<VolumeView>,
}

struct ContainerView {
    name: String,
    image: String,
    pull_policy: &'static str,
    command: Vec<String>,
    args: Vec<String>,
    ports: Vec<PortView>,
    env: Vec<EnvView>,
    readiness: Option<ProbeView>,
    liveness: Option<ProbeView>,
    requests: Vec<(String, String)>,
    limits: Vec<(String, String)>,
    run_as_user: Option<u32>,
    allow_privilege_escalation: bool,
    read_only_root_filesystem: bool,
    mounts: Vec<MountView>,
}

struct PortView {
    name: String,
    port: u16,
}

struct EnvView {
    name: String,
    value: Option<String>,
    /// (Secret name, key)
    secret: Option<(String, String)>,
}

#[derive(Clone)]
struct ProbeView {
    http_path: Option<String>,
    /// The port of an HTTP or TCP check.
    port: Option<u16>,
    tcp: bool,
    exec: Vec<String>,
    initial_delay: Option<u32>,
    /// (periodSeconds, timeoutSeconds, failureThreshold); `None` keeps Kubernetes' defaults.
    timing: Option<(u32, u32, u32)>,
}

struct MountView {
    name: String,
    path: String,
    read_only: bool,
}

struct VolumeView {
    name: String,
    source: VolumeSource,
}

enum VolumeSource {
    /// An `emptyDir`, with its `sizeLimit`.
    Empty {
        size_limit: Option<String>,
    },
    /// A PersistentVolumeClaim, by name.
    Claim(String),
    Secrets(SecretsVolume),
}

struct SecretsVolume {
    mode: u32,
    /// (Secret name, key, path)
    items: Vec<(String, String, String)>,
}

// ---------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------

pub(super) fn plan(
    model: &Model,
    context: &PlanContext,
    target: &KubernetesTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    let kube = Kube::new(model, target);
    let config_name = context.config_name.clone();
    let namespace_file = ObjectKind::Namespace.file_name(&target.namespace);
    let deny_file = ObjectKind::NetworkPolicy.file_name(DEFAULT_DENY_POLICY);
    let mut resources: Vec<String> = vec![namespace_file.clone(), deny_file.clone()];
    let mut replacements: Vec<ReplacementView> = Vec::new();
    // (name in the config's terms, `metadata.name`) of every Job, for the patches.
    let mut job_names: Vec<(String, String)> = Vec::new();
    let mut render =
        |file: String, template: &dyn DynTemplate, planner: &mut Planner| -> Result<(), PlanError> {
            template.render_into(planner, file.clone())?;
            resources.push(file);
            Ok(())
        };

    for service in &model.services {
        let Some(k8s) = &service.k8s else { continue };
        match k8s.deploy {
            Deploy::Deployment => {
                let selector = kube.selector(&k8s.name, &k8s.name);
                let deployment = DeploymentFile {
                    config_name: config_name.clone(),
                    meta: kube.meta(&k8s.name, &k8s.name, &k8s.name, "service"),
                    replicas: k8s.replicas,
                    recreate: recreates(target, service),
                    selector: selector.clone(),
                    pod: kube.pod(service, k8s, &k8s.name, "service", None),
                };
                render(ObjectKind::Deployment.file_name(&k8s.name), &deployment, planner)?;
                let ports = kube.ports(service);
                if !ports.is_empty() {
                    let file = ServiceFile {
                        config_name: config_name.clone(),
                        meta: kube.meta(&k8s.name, &k8s.name, &k8s.name, "service"),
                        selector: selector.clone(),
                        ports,
                    };
                    render(ObjectKind::Service.file_name(&k8s.name), &file, planner)?;
                    let policy = kube.policy(service, k8s, &config_name);
                    render(ObjectKind::NetworkPolicy.file_name(&k8s.name), &policy, planner)?;
                }
                if let Some(autoscale) = k8s.autoscale {
                    let file = HpaFile {
                        config_name: config_name.clone(),
                        meta: kube.meta(&k8s.name, &k8s.name, &k8s.name, "service"),
                        target: yaml_scalar(&k8s.name).into_owned(),
                        min: autoscale.min,
                        max: autoscale.max,
                        cpu_percent: autoscale.cpu_percent,
                    };
                    render(ObjectKind::Hpa.file_name(&k8s.name), &file, planner)?;
                }
                if let Some(min_available) = k8s.min_available {
                    let file = PdbFile {
                        config_name: config_name.clone(),
                        meta: kube.meta(&k8s.name, &k8s.name, &k8s.name, "service"),
                        min_available,
                        selector,
                        always_allow_unhealthy: target.min_minor >= UNHEALTHY_POD_EVICTION_MINOR,
                    };
                    render(ObjectKind::Pdb.file_name(&k8s.name), &file, planner)?;
                }
            }
            Deploy::Job => {
                let built = matches!(service.source, ServiceSource::Image(_));
                let name = job_object_name(target, &k8s.name, built);
                if let ServiceSource::Image(id) = service.source {
                    replacements.push(kube.replacement(&name, &k8s.name, &k8s.name, id));
                }
                let job = JobFile {
                    config_name: config_name.clone(),
                    meta: kube.meta(&name, &k8s.name, &k8s.name, "job"),
                    ttl_seconds: JOB_TTL_SECONDS,
                    pod: kube.pod(service, k8s, &k8s.name, "job", None),
                };
                render(ObjectKind::Job.file_name(&k8s.name), &job, planner)?;
                job_names.push((k8s.name.clone(), name));
            }
            Deploy::External { .. } | Deploy::DevOnly => continue,
        }
        for init in k8s.init.iter().filter(|i| i.job) {
            let name = init_job_name(&k8s.name, &init.name);
            let rendered = job_object_name(target, &name, true);
            replacements.push(kube.replacement(&rendered, &name, &init.name, init.image));
            let job = JobFile {
                config_name: config_name.clone(),
                meta: kube.meta(&rendered, &k8s.name, &name, "init"),
                ttl_seconds: JOB_TTL_SECONDS,
                pod: kube.pod(service, k8s, &name, "init", Some(init)),
            };
            render(ObjectKind::Job.file_name(&name), &job, planner)?;
            job_names.push((name, rendered));
        }
    }

    for claim in target.claims() {
        let file = claim_file(&config_name, &kube, claim, model);
        render(ObjectKind::Pvc.file_name(&claim.name), &file, planner)?;
    }

    let namespace = NamespaceFile {
        config_name: config_name.clone(),
        name: yaml_scalar(&target.namespace).into_owned(),
        labels: kube.namespace_labels(),
    };
    planner.render(namespace_file, &namespace, FileMode::Regular)?;
    let deny = PolicyFile {
        config_name: config_name.clone(),
        header: [
            "Every pod of the namespace refuses ingress unless a policy of its own admits it:",
            "each served service's <name>.networkpolicy.yaml admits the services that depend on it.",
        ]
        .into_iter()
        .map(|l| yaml_comment(l).into_owned())
        .collect(),
        meta: kube.meta(DEFAULT_DENY_POLICY, DEFAULT_DENY_POLICY, DEFAULT_DENY_POLICY, "network"),
        selector: Vec::new(),
        from_pods: Vec::new(),
        from_namespaces: Vec::new(),
        ports: Vec::new(),
    };
    planner.render(deny_file, &deny, FileMode::Regular)?;
    let mut patches = Vec::new();
    for patch in &target.patches {
        let file = format!("{PATCH_DIR}/{}.{}.yaml", patch.name, patch.kind.word());
        let name = match patch.kind {
            ObjectKind::Job => {
                job_names.iter().find(|(base, _)| *base == patch.name).map(|(_, n)| n.as_str())
            }
            _ => None,
        };
        let file_view = patch_file(&config_name, target, patch, name.unwrap_or(&patch.name));
        planner.render(file.clone(), &file_view, FileMode::Regular)?;
        patches.push(yaml_scalar(&file).into_owned());
    }
    let kustomization = KustomizationFile {
        config_name,
        header: kube.kustomization_header(),
        namespace: yaml_scalar(&target.namespace).into_owned(),
        resources: resources.iter().map(|r| yaml_scalar(r).into_owned()).collect(),
        patches,
        images: kube
            .deployed_images()
            .into_iter()
            .map(|repository| (yaml_scalar(&repository).into_owned(), yaml_scalar(&target.tag).into_owned()))
            .collect(),
        replacements,
    };
    planner.render(KUSTOMIZATION_FILE, &kustomization, FileMode::Regular)?;
    Ok(())
}

fn claim_file(config_name: &str, kube: &Kube<'_>, claim: &Claim, model: &Model) -> ClaimFile {
    let volume = model
        .targets
        .kubernetes
        .as_ref()
        .and_then(|t| t.volumes.iter().find(|v| matches!(&v.storage, ClusterStorage::Claim(c) if c == claim)))
        .map_or_else(|| claim.name.clone(), |v| v.volume.clone());
    ClaimFile {
        config_name: config_name.to_owned(),
        volume: yaml_comment(&volume).into_owned(),
        meta: kube.meta(&claim.name, &claim.name, &claim.name, "storage"),
        access_mode: claim.access_mode(),
        storage_class: claim.storage_class.as_ref().map(|c| yaml_scalar(c).into_owned()),
        size: yaml_scalar(&claim.size).into_owned(),
    }
}

/// The patch of one object; `name` is the object's `metadata.name` (a Job's carries its tag).
fn patch_file(config_name: &str, target: &KubernetesTarget, patch: &Patch, name: &str) -> PatchFile {
    let (api_version, kind) = patch.kind.api();
    let mut metadata = Vec::new();
    let mut body = Vec::new();
    for (key, value) in &patch.fields {
        match (key.as_str(), value) {
            // Added to the `metadata:` that names the object (its name and namespace are
            // the config's: resolve refuses them here).
            ("metadata", Yaml::Mapping(fields)) => yaml_mapping(&mut metadata, fields, 2),
            _ => yaml_mapping(&mut body, std::slice::from_ref(&(key.clone(), value.clone())), 0),
        }
    }
    PatchFile {
        config_name: config_name.to_owned(),
        target: format!("{} {}", patch.kind.word(), patch.name),
        api_version,
        kind,
        name: yaml_scalar(name).into_owned(),
        namespace: (patch.kind != ObjectKind::Namespace).then(|| yaml_scalar(&target.namespace).into_owned()),
        metadata,
        body,
    }
}

/// YAML lines of a mapping at `indent` spaces: block style, sequences indented under their
/// key (the style of every other manifest), every key and string through [`yaml_scalar`].
fn yaml_mapping(out: &mut Vec<String>, entries: &[(String, Yaml)], indent: usize) {
    let pad = " ".repeat(indent);
    for (key, value) in entries {
        let key = yaml_key(key);
        match value {
            Yaml::Scalar(scalar) => out.push(format!("{pad}{key}: {}", yaml_scalar_value(scalar))),
            Yaml::Mapping(fields) if fields.is_empty() => out.push(format!("{pad}{key}: {{}}")),
            Yaml::Sequence(items) if items.is_empty() => out.push(format!("{pad}{key}: []")),
            Yaml::Mapping(fields) => {
                out.push(format!("{pad}{key}:"));
                yaml_mapping(out, fields, indent + 2);
            }
            Yaml::Sequence(items) => {
                out.push(format!("{pad}{key}:"));
                yaml_sequence(out, items, indent + 2);
            }
        }
    }
}

/// YAML lines of a sequence at `indent`: `- item`; a mapping or sequence item starts on
/// the dash's line.
fn yaml_sequence(out: &mut Vec<String>, items: &[Yaml], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Yaml::Scalar(scalar) => out.push(format!("{pad}- {}", yaml_scalar_value(scalar))),
            Yaml::Mapping(fields) if fields.is_empty() => out.push(format!("{pad}- {{}}")),
            Yaml::Sequence(nested) if nested.is_empty() => out.push(format!("{pad}- []")),
            Yaml::Mapping(_) | Yaml::Sequence(_) => {
                let mut lines = Vec::new();
                match item {
                    Yaml::Mapping(fields) => yaml_mapping(&mut lines, fields, indent + 2),
                    Yaml::Sequence(nested) => yaml_sequence(&mut lines, nested, indent + 2),
                    Yaml::Scalar(_) => unreachable!("handled above"),
                }
                // The first line's indentation becomes the dash.
                if let Some(first) = lines.first_mut() {
                    *first = format!("{pad}- {}", &first[indent + 2..]);
                }
                out.extend(lines);
            }
        }
    }
}

fn yaml_scalar_value(scalar: &Scalar) -> String {
    match scalar {
        Scalar::String(s) => yaml_scalar(s).into_owned(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
    }
}

/// The read-only mount of the pod's secrets volume, in every container that reads a secret.
fn secrets_mount() -> MountView {
    MountView { name: SECRETS_VOLUME.to_owned(), path: SECRETS_DIR.to_owned(), read_only: true }
}

/// Object-safe [`Planner::render`], so one closure renders (and lists) every kind of file.
trait DynTemplate {
    fn render_into(&self, planner: &mut Planner, path: String) -> Result<(), PlanError>;
}

impl<T: Template> DynTemplate for T {
    fn render_into(&self, planner: &mut Planner, path: String) -> Result<(), PlanError> {
        planner.render(path, self, FileMode::Regular)
    }
}

/// Whether a tag never moves once pushed: a commit SHA (7 to 40 lowercase hex digits),
/// which is what CI tags every build with. `latest`, branch and version tags can move.
pub(crate) fn is_immutable_tag(tag: &str) -> bool {
    (7..=40).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_digit() || matches!(c, 'a'..='f'))
}

/// `IfNotPresent` only for references that cannot change under the same name: an image
/// pinned by digest, or a built image tagged with a commit SHA. Everything else is pulled
/// on every start (`Always`), so a moved tag never leaves nodes on different builds.
fn pull_policy(immutable: bool) -> &'static str {
    if immutable { "IfNotPresent" } else { "Always" }
}

/// Facts shared by every object.
struct Kube<'a> {
    model: &'a Model,
    target: &'a KubernetesTarget,
    /// The build of each image (same order as `model.images`).
    builds: Vec<Option<Build>>,
}

impl<'a> Kube<'a> {
    fn new(model: &'a Model, target: &'a KubernetesTarget) -> Self {
        // One lookup table, not a search per image: projects have thousands of images.
        let mut by_dockerfile: std::collections::HashMap<camino::Utf8PathBuf, Build> =
            builds::builds(model).into_iter().map(|b| (b.dockerfile.clone(), b)).collect();
        let builds = model
            .images
            .iter()
            .map(|image| {
                by_dockerfile.remove(&model.project.output.join(crate::rules::layout::dockerfile_path(image)))
            })
            .collect();
        Self { model, target, builds }
    }

    /// The repository a built image is pushed to: the build facts' (the CI workflow and
    /// the build scripts push exactly these).
    fn repository(&self, image: usize) -> String {
        match self.builds.get(image).and_then(Option::as_ref) {
            Some(build) => build.repository.clone(),
            None => self.model.qualified(&self.model.repository_name(&self.model.images[image])),
        }
    }

    /// `(reference, pull policy)` of a built image at the target's tag.
    fn built_image(&self, image: usize) -> (String, &'static str) {
        let reference = format!("{}:{}", self.repository(image), self.target.tag);
        (yaml_scalar(&reference).into_owned(), pull_policy(is_immutable_tag(&self.target.tag)))
    }

    fn image(&self, service: &Service) -> (String, &'static str) {
        match &service.source {
            ServiceSource::Image(id) => self.built_image(*id),
            ServiceSource::Prebuilt(reference) => {
                (yaml_scalar(reference).into_owned(), pull_policy(reference.contains("@sha256:")))
            }
        }
    }

    /// The replacement that keeps Job `job` (`base` plus its tag) named after the tag of
    /// its container's image.
    fn replacement(&self, job: &str, base: &str, container: &str, image: usize) -> ReplacementView {
        ReplacementView {
            job: yaml_scalar(job).into_owned(),
            field_path: yaml_scalar(&format!("spec.template.spec.containers.[name={container}].image"))
                .into_owned(),
            // A registry port (`localhost:5000/app`) is one more `:` before the tag.
            tag_index: self.repository(image).matches(':').count() + 1,
            name_index: base.matches('-').count() + 1,
        }
    }

    /// The ingress policy of a served service: its ports, open to its dependents and to
    /// the namespaces of its `allow-from`.
    fn policy(&self, service: &Service, k8s: &K8s, config_name: &str) -> PolicyFile {
        let (dependents, namespaces) = ingress_sources(self.model, service);
        let header = if dependents.is_empty() && namespaces.is_empty() {
            format!("No deployed service depends on {}: its ports admit nobody.", k8s.name)
        } else {
            let mut who: Vec<String> = dependents.clone();
            who.extend(namespaces.iter().map(|n| format!("namespace {n}")));
            format!("{} admits (depends-on, allow-from): {}.", k8s.name, who.join(", "))
        };
        PolicyFile {
            config_name: config_name.to_owned(),
            header: vec![yaml_comment(&header).into_owned()],
            meta: self.meta(&k8s.name, &k8s.name, &k8s.name, "network"),
            selector: self.selector(&k8s.name, &k8s.name),
            from_pods: dependents.iter().map(|d| yaml_scalar(d).into_owned()).collect(),
            from_namespaces: namespaces.iter().map(|n| yaml_scalar(n).into_owned()).collect(),
            ports: self.port_numbers(service),
        }
    }

    /// The recommended `app.kubernetes.io/*` labels.
    fn labels(&self, app: &str, instance: &str, component: &str) -> Vec<(String, String)> {
        [
            ("app.kubernetes.io/name", app),
            ("app.kubernetes.io/instance", instance),
            ("app.kubernetes.io/component", component),
            ("app.kubernetes.io/part-of", self.model.project.name.as_str()),
            ("app.kubernetes.io/managed-by", "gscgen"),
        ]
        .into_iter()
        .map(|(k, v)| (yaml_key(k).into_owned(), yaml_scalar(v).into_owned()))
        .collect()
    }

    /// What a Deployment, its Service and its PDB select: name and instance. Jobs of the
    /// same service share the name but not the instance, so they are never selected.
    fn selector(&self, app: &str, instance: &str) -> Vec<(String, String)> {
        [("app.kubernetes.io/name", app), ("app.kubernetes.io/instance", instance)]
            .into_iter()
            .map(|(k, v)| (yaml_key(k).into_owned(), yaml_scalar(v).into_owned()))
            .collect()
    }

    fn meta(&self, name: &str, app: &str, instance: &str, component: &str) -> Meta {
        Meta {
            name: yaml_scalar(name).into_owned(),
            namespace: yaml_scalar(&self.target.namespace).into_owned(),
            labels: self.labels(app, instance, component),
        }
    }

    /// The container ports: the service's, then those its image exposes.
    fn port_numbers(&self, service: &Service) -> Vec<u16> {
        container_ports(self.model, service)
    }

    fn ports(&self, service: &Service) -> Vec<PortView> {
        self.port_numbers(service)
            .into_iter()
            .map(|port| PortView { name: format!("tcp-{port}"), port })
            .collect()
    }

    fn health(&self, service: &'a Service) -> Option<&'a HealthDecl> {
        health_check(self.model, service)
    }

    /// Readiness and liveness probes from the health check; a TCP readiness probe on the
    /// first port when there is no health check but a port. Never a probe that always passes.
    fn probes(&self, service: &'a Service, k8s: &K8s) -> (Option<ProbeView>, Option<ProbeView>) {
        if k8s.deploy != Deploy::Deployment {
            return (None, None);
        }
        let Some(health) = self.health(service) else {
            let tcp = self.port_numbers(service).first().map(|&port| ProbeView {
                http_path: None,
                port: Some(port),
                tcp: true,
                exec: Vec::new(),
                initial_delay: None,
                timing: None,
            });
            return (tcp, None);
        };
        let seconds = |d: &Option<crate::config::Text>, default: u32| {
            d.as_ref().and_then(|t| duration_seconds(&t.value)).unwrap_or(default)
        };
        let timing = (
            seconds(&health.interval, DEFAULT_INTERVAL),
            seconds(&health.timeout, DEFAULT_TIMEOUT),
            health.retries.as_ref().map_or(DEFAULT_RETRIES, |r| r.value.max(1)),
        );
        let mut readiness = ProbeView {
            http_path: None,
            port: None,
            tcp: false,
            exec: Vec::new(),
            initial_delay: None,
            timing: Some(timing),
        };
        match &health.check {
            Some(HealthCheckDecl::Http { path, port }) => {
                readiness.http_path = Some(yaml_scalar(&path.value).into_owned());
                readiness.port = Some(port.value);
            }
            Some(HealthCheckDecl::Exec(command)) => {
                readiness.exec = command.args.iter().map(|a| yaml_scalar(&a.value).into_owned()).collect();
            }
            None => return (None, None),
        }
        // The start period (Docker's grace time) delays liveness only: readiness may fail
        // while the service starts, which just keeps it out of its Service.
        let liveness = ProbeView {
            initial_delay: health.start_period.as_ref().and_then(|t| duration_seconds(&t.value)),
            ..readiness.clone()
        };
        (Some(readiness), Some(liveness))
    }

    /// Values, then each `env-host`'s default (a pod has no host environment; resolve
    /// refused a deployed one without a default), then the secrets.
    fn env(pairs: &[(String, String)], hosts: &[EnvHost], secrets: &[EnvSecret]) -> Vec<EnvView> {
        let defaults = hosts.iter().filter_map(|h| Some((&h.key, h.default.as_ref()?)));
        let mut env: Vec<EnvView> = pairs
            .iter()
            .map(|(k, v)| (k, v))
            .chain(defaults)
            .map(|(k, v)| EnvView {
                name: yaml_scalar(k).into_owned(),
                value: Some(kubernetes_value(v).into_owned()),
                secret: None,
            })
            .collect();
        env.extend(secrets.iter().map(|s| {
            if s.as_file {
                // The file is an item of the pod's secrets volume (`secret_items`).
                EnvView {
                    name: yaml_scalar(&file_variable(&s.key)).into_owned(),
                    value: Some(kubernetes_value(&file_path(&s.key)).into_owned()),
                    secret: None,
                }
            } else {
                EnvView {
                    name: yaml_scalar(&s.key).into_owned(),
                    value: None,
                    secret: Some((
                        yaml_scalar(&s.secret).into_owned(),
                        yaml_scalar(&s.secret_key).into_owned(),
                    )),
                }
            }
        }));
        env
    }

    fn resources(resources: &Resources, gpu: Option<u32>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(cpu) = &resources.cpu {
            out.push(("cpu".to_owned(), yaml_scalar(cpu).into_owned()));
        }
        if let Some(memory) = &resources.memory {
            out.push(("memory".to_owned(), yaml_scalar(memory).into_owned()));
        }
        if let Some(count) = gpu {
            out.push((yaml_key(GPU_RESOURCE).into_owned(), yaml_scalar(&count.to_string()).into_owned()));
        }
        out
    }

    /// The pod of a Deployment, a oneshot Job, or (with `job`) the Job of an init.
    fn pod(
        &self,
        service: &'a Service,
        k8s: &K8s,
        instance: &str,
        component: &str,
        job: Option<&Init>,
    ) -> PodView {
        let mut volumes = Volumes::new(self.target);
        let secrets = self.secret_items(service, k8s);
        let (init_containers, containers) = match job {
            Some(init) => (Vec::new(), vec![self.init_container(k8s, init, &mut volumes, &secrets)]),
            None => {
                // The service's own volumes come first in the pod's list.
                let main = self.main_container(service, k8s, &mut volumes, &secrets);
                let inits = k8s
                    .init
                    .iter()
                    .filter(|i| !i.job)
                    .map(|i| self.init_container(k8s, i, &mut volumes, &secrets))
                    .collect();
                (inits, vec![main])
            }
        };
        // Volumes (secret files, emptyDirs) belong to the main container's group.
        let fs_group = k8s.run_as_user;
        let mut volume_views = volumes.into_views();
        if !secrets.is_empty() {
            volume_views.push(VolumeView {
                name: SECRETS_VOLUME.to_owned(),
                source: VolumeSource::Secrets(SecretsVolume {
                    mode: if fs_group.is_some() { SECRET_MODE_GROUP } else { SECRET_MODE_ALL },
                    items: secrets,
                }),
            });
        }
        let gpu = k8s.gpu.as_ref().filter(|_| job.is_none());
        PodView {
            labels: self.labels(&k8s.name, instance, component),
            restart_policy: (job.is_some() || k8s.deploy == Deploy::Job).then_some("Never"),
            run_as_non_root: k8s.security.run_as_non_root,
            fs_group,
            affinity: gpu.and_then(|g| g.node_label.as_ref()).map(|(key, values)| {
                (yaml_scalar(key).into_owned(), values.iter().map(|v| yaml_scalar(v).into_owned()).collect())
            }),
            tolerations: gpu
                .map(|g| {
                    g.tolerations
                        .iter()
                        .map(|t| {
                            (
                                yaml_scalar(&t.key).into_owned(),
                                t.effect.as_ref().map(|e| yaml_scalar(e).into_owned()),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            init_containers,
            containers,
            volumes: volume_views,
        }
    }

    /// `(Secret, key, path)` of the service's file secrets: Secret `<dns name>` holds the
    /// file under the key `<secret name>`; the pod sees it at `/run/secrets/<target>`. Then
    /// the `env-secret … as-file=#true` of the service and its inits, each path once
    /// (resolve refused two Secret keys on one path): the key of the Secret named in the
    /// config, at `/run/secrets/KEY`.
    fn secret_items(&self, service: &Service, k8s: &K8s) -> Vec<(String, String, String)> {
        let mut items: Vec<(String, String, String)> = service
            .secrets
            .iter()
            .filter_map(|s| {
                let secret = self.model.secrets.get(s.secret)?;
                Some((
                    yaml_scalar(&dns_name(&secret.name.value)).into_owned(),
                    yaml_scalar(&secret.name.value).into_owned(),
                    yaml_scalar(&s.target).into_owned(),
                ))
            })
            .collect();
        let inits = k8s.init.iter().flat_map(|i| &i.env_secrets);
        for secret in service.env_secrets.iter().chain(inits).filter(|s| s.as_file) {
            let path = yaml_scalar(file_name(&secret.key)).into_owned();
            if !items.iter().any(|(_, _, p)| *p == path) {
                items.push((
                    yaml_scalar(&secret.secret).into_owned(),
                    yaml_scalar(&secret.secret_key).into_owned(),
                    path,
                ));
            }
        }
        items
    }

    fn main_container(
        &self,
        service: &'a Service,
        k8s: &K8s,
        volumes: &mut Volumes,
        secrets: &[(String, String, String)],
    ) -> ContainerView {
        let (image, pull_policy) = self.image(service);
        let (readiness, liveness) = self.probes(service, k8s);
        let gpu = k8s.gpu.as_ref().map(|g| g.count);
        let mut mounts: Vec<MountView> = k8s.writable.iter().map(|path| volumes.writable(path)).collect();
        mounts.extend(service.volumes.iter().map(|v| volumes.named(&v.name, &v.target, v.read_only)));
        if !secrets.is_empty() {
            mounts.push(secrets_mount());
        }
        ContainerView {
            name: yaml_scalar(&k8s.name).into_owned(),
            image,
            pull_policy,
            command: service.entrypoint.iter().map(|a| kubernetes_value(a).into_owned()).collect(),
            args: service.cmd.iter().map(|a| kubernetes_value(a).into_owned()).collect(),
            ports: self.ports(service),
            env: Self::env(&service.env, &service.env_host, &service.env_secrets),
            readiness,
            liveness,
            requests: Self::resources(&k8s.requests, gpu),
            limits: Self::resources(&k8s.limits, gpu),
            run_as_user: k8s.run_as_user,
            allow_privilege_escalation: k8s.security.allow_privilege_escalation,
            read_only_root_filesystem: k8s.security.read_only_root_filesystem,
            mounts,
        }
    }

    /// An init container, or the container of an init's Job: the service's CPU and memory,
    /// never its GPUs.
    fn init_container(
        &self,
        k8s: &K8s,
        init: &Init,
        volumes: &mut Volumes,
        secrets: &[(String, String, String)],
    ) -> ContainerView {
        let (image, pull_policy) = self.built_image(init.image);
        let mut mounts: Vec<MountView> = init.writable.iter().map(|path| volumes.writable(path)).collect();
        if !secrets.is_empty() {
            mounts.push(secrets_mount());
        }
        ContainerView {
            name: yaml_scalar(&init.name).into_owned(),
            image,
            pull_policy,
            command: Vec::new(),
            args: init.cmd.iter().map(|a| kubernetes_value(a).into_owned()).collect(),
            ports: Vec::new(),
            env: Self::env(&init.env, &[], &init.env_secrets),
            readiness: None,
            liveness: None,
            requests: Self::resources(&k8s.requests, None),
            limits: Self::resources(&k8s.limits, None),
            run_as_user: init.run_as_user,
            allow_privilege_escalation: k8s.security.allow_privilege_escalation,
            read_only_root_filesystem: k8s.security.read_only_root_filesystem,
            mounts,
        }
    }

    /// Restricted when every deployed pod is fully hardened; baseline when some service
    /// relaxes `runAsNonRoot` or `allowPrivilegeEscalation` (explicitly, in the config).
    /// Audit and warn stay at restricted, so relaxed pods show up on every apply.
    fn namespace_labels(&self) -> Vec<(String, String)> {
        let restricted = self
            .model
            .services
            .iter()
            .filter_map(|s| s.k8s.as_ref())
            .filter(|k| k.is_deployed())
            .all(|k| k.security.run_as_non_root && !k.security.allow_privilege_escalation);
        let enforce = if restricted { "restricted" } else { "baseline" };
        [
            ("app.kubernetes.io/part-of", self.model.project.name.as_str()),
            ("app.kubernetes.io/managed-by", "gscgen"),
            ("pod-security.kubernetes.io/enforce", enforce),
            ("pod-security.kubernetes.io/audit", "restricted"),
            ("pod-security.kubernetes.io/warn", "restricted"),
        ]
        .into_iter()
        .map(|(k, v)| (yaml_key(k).into_owned(), yaml_scalar(v).into_owned()))
        .collect()
    }

    /// Repositories of every built image a deployed workload runs, in order of first use.
    fn deployed_images(&self) -> Vec<String> {
        let mut ids: Vec<usize> = Vec::new();
        for service in &self.model.services {
            let Some(k8s) = service.k8s.as_ref().filter(|k| k.is_deployed()) else { continue };
            if let ServiceSource::Image(id) = service.source {
                ids.push(id);
            }
            ids.extend(k8s.init.iter().map(|i| i.image));
        }
        let mut seen = std::collections::HashSet::new();
        ids.into_iter().map(|id| self.repository(id)).filter(|r| seen.insert(r.clone())).collect()
    }

    /// The kustomization's comment: how to apply and deploy, which services are left to
    /// the cluster, which Secrets must exist first.
    fn kustomization_header(&self) -> Vec<String> {
        let namespace = &self.target.namespace;
        let mut header = vec![
            format!(
                "Every Kubernetes object of project {} (namespace {namespace}).",
                self.model.project.name
            ),
            "Apply: kubectl apply -k <this folder>. Needs Kubernetes 1.".to_owned()
                + &self.target.min_minor.to_string()
                + " or later.",
        ];
        if let Some(first) = self.deployed_images().first() {
            header.push(format!(
                "Deploy a commit: kustomize edit set image {first}:<sha> (one line per image), then apply."
            ));
        }
        let not_deployed: Vec<String> = self
            .model
            .services
            .iter()
            .filter_map(|s| {
                let k8s = s.k8s.as_ref()?;
                match &k8s.deploy {
                    Deploy::External { reason } => Some(format!("  {} (external: {reason})", k8s.name)),
                    Deploy::DevOnly => Some(format!("  {} (development only: profile dev)", k8s.name)),
                    Deploy::Deployment | Deploy::Job => None,
                }
            })
            .collect();
        if !not_deployed.is_empty() {
            header.push("Not deployed here (provided by the cluster or development only):".to_owned());
            header.extend(not_deployed);
        }
        let mut secrets: Vec<String> = Vec::new();
        let mut env_secrets: Vec<(String, Vec<String>)> = Vec::new();
        for service in self.model.services.iter().filter(|s| s.k8s.as_ref().is_some_and(K8s::is_deployed)) {
            let k8s = service.k8s.as_ref().map(|k| k.init.as_slice()).unwrap_or_default();
            for secret in service.env_secrets.iter().chain(k8s.iter().flat_map(|i| i.env_secrets.iter())) {
                match env_secrets.iter_mut().find(|(name, _)| *name == secret.secret) {
                    Some((_, keys)) if keys.contains(&secret.secret_key) => {}
                    Some((_, keys)) => keys.push(secret.secret_key.clone()),
                    None => env_secrets.push((secret.secret.clone(), vec![secret.secret_key.clone()])),
                }
            }
            for file in &service.secrets {
                let Some(secret) = self.model.secrets.get(file.secret) else { continue };
                let line = format!(
                    "  kubectl -n {namespace} create secret generic {} --from-file={}={}",
                    dns_name(&secret.name.value),
                    secret.name.value,
                    secret.file
                );
                if !secrets.contains(&line) {
                    secrets.push(line);
                }
            }
        }
        for (name, keys) in &env_secrets {
            let literals: Vec<String> = keys.iter().map(|k| format!("--from-literal={k}=…")).collect();
            secrets.push(format!(
                "  kubectl -n {namespace} create secret generic {name} {}",
                literals.join(" ")
            ));
        }
        if !secrets.is_empty() {
            header.push(
                "Secrets the pods read, created outside this folder before the first apply:".to_owned(),
            );
            header.extend(secrets);
        }
        header.into_iter().map(|line| yaml_comment(&line).into_owned()).collect()
    }
}

/// The volumes of one pod, named by the model ([`PodVolumes`]), with their mounts and
/// where each named volume's data lives (the target's [`ClusterStorage`]).
struct Volumes<'t> {
    target: Option<&'t KubernetesTarget>,
    names: PodVolumes,
    /// (pod volume name, source) of the named volumes.
    named: Vec<(String, VolumeSource)>,
}

impl<'t> Volumes<'t> {
    fn new(target: &'t KubernetesTarget) -> Self {
        Self { target: Some(target), names: PodVolumes::default(), named: Vec::new() }
    }

    fn writable(&mut self, path: &str) -> MountView {
        MountView {
            name: yaml_scalar(&self.names.writable(path)).into_owned(),
            path: yaml_scalar(path).into_owned(),
            read_only: false,
        }
    }

    fn named(&mut self, volume: &str, target: &str, read_only: bool) -> MountView {
        let name = self.names.named(volume);
        if !self.named.iter().any(|(n, _)| *n == name) {
            let source = match self.target.and_then(|t| t.storage(volume)) {
                Some(ClusterStorage::Claim(claim)) => {
                    VolumeSource::Claim(yaml_scalar(&claim.name).into_owned())
                }
                Some(ClusterStorage::Scratch { size_limit }) => VolumeSource::Empty {
                    size_limit: size_limit.as_ref().map(|s| yaml_scalar(s).into_owned()),
                },
                None => VolumeSource::Empty { size_limit: None },
            };
            self.named.push((name.clone(), source));
        }
        MountView { name: yaml_scalar(&name).into_owned(), path: yaml_scalar(target).into_owned(), read_only }
    }

    fn into_views(mut self) -> Vec<VolumeView> {
        let names: Vec<String> = self.names.names().map(str::to_owned).collect();
        names
            .into_iter()
            .map(|name| {
                let source = match self.named.iter().position(|(n, _)| *n == name) {
                    Some(i) => self.named.swap_remove(i).1,
                    None => VolumeSource::Empty { size_limit: None },
                };
                VolumeView { name: yaml_scalar(&name).into_owned(), source }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::k8s_objects::volume_base;

    #[test]
    fn immutable_tags_are_commit_shas() {
        assert!(is_immutable_tag("3d3c42e5aac5ba805825da76410c181273ba90b1"));
        assert!(is_immutable_tag("3d3c42e"));
        for mutable in ["latest", "main", "v1.2.3", "3d3c42", "3D3C42E5", "1.2.3-beta"] {
            assert!(!is_immutable_tag(mutable), "{mutable}");
        }
    }

    #[test]
    fn volume_names_are_labels() {
        assert_eq!(volume_base("/logs"), "logs");
        assert_eq!(volume_base("/var/lib/Maintenance_x/"), "var-lib-maintenance-x");
        assert_eq!(volume_base("/"), "root");
        let mut volumes = Volumes { target: None, names: PodVolumes::default(), named: Vec::new() };
        assert_eq!(volumes.writable("/a_b").name, "a-b");
        assert_eq!(volumes.writable("/a-b").name, "a-b-2");
        assert_eq!(volumes.writable("/a_b").name, "a-b");
        assert_eq!(volumes.writable("/secrets").name, "secrets-2");
        assert!(volume_base(&"x".repeat(80)).len() <= 50);
    }
}
