//! The Kubernetes objects the kubernetes target renders and the layout of their fields,
//! derived from the model alone: what `plan/kubernetes.rs` writes and what a `patch` may
//! touch. Both stages need it: resolve checks patches against it (`resolve/k8s_patch.rs`),
//! the plan renders the objects it lists, and `tests/kubernetes.rs` compares it with the
//! rendered YAML of every fixture.

use crate::config::HealthDecl;
use crate::model::{
    ClusterStorage, DEFAULT_DENY_POLICY, Deploy, Image, Init, K8s, KubernetesTarget, Model, ObjectKind,
    Service, ServiceSource, init_job_name,
};

/// The first Kubernetes minor with `unhealthyPodEvictionPolicy` on by default (beta).
pub const UNHEALTHY_POD_EVICTION_MINOR: u16 = 27;

impl ObjectKind {
    /// Its file in the `k8s/` folder: `namespace.yaml`, else `<name>.<kind>.yaml`.
    pub fn file_name(self, name: &str) -> String {
        match self {
            ObjectKind::Namespace => "namespace.yaml".to_owned(),
            kind => format!("{name}.{}.yaml", kind.word()),
        }
    }

    /// `(apiVersion, kind)` as the manifests write them.
    pub fn api(self) -> (&'static str, &'static str) {
        match self {
            ObjectKind::Namespace => ("v1", "Namespace"),
            ObjectKind::Deployment => ("apps/v1", "Deployment"),
            ObjectKind::Service => ("v1", "Service"),
            ObjectKind::Hpa => ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ObjectKind::Pdb => ("policy/v1", "PodDisruptionBudget"),
            ObjectKind::Job => ("batch/v1", "Job"),
            ObjectKind::Pvc => ("v1", "PersistentVolumeClaim"),
            ObjectKind::NetworkPolicy => ("networking.k8s.io/v1", "NetworkPolicy"),
        }
    }
}

/// A rendered object: its kind, its name and the shape of its fields.
#[derive(Debug, Clone)]
pub struct Object {
    pub kind: ObjectKind,
    pub name: String,
    pub shape: Shape,
}

/// What the target writes at one place of an object, as far as a patch needs to know:
/// where it may descend, what it may add, and what an option of the config controls.
/// `tests/kubernetes.rs` compares it with the rendered YAML of every fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A mapping: a patch may descend into it and add keys.
    Mapping(Vec<(String, Shape)>),
    /// A list a strategic merge patch merges by a key ([`keyed_list`]): each element by
    /// that key's value.
    Keyed(Vec<(String, Shape)>),
    /// A value gscgen writes that no option controls: a patch may replace it.
    Value,
    /// A field an option of the config controls, `rendered` or not (a `replicas:` the
    /// autoscaler owns is left out): a patch may not set it, the option does.
    Owned { option: &'static str, rendered: bool },
}

/// A list that strategic merge patches merge element by element, by `merge_key` (the
/// Kubernetes API's `patchMergeKey`). In a patch, each element is a node named after its
/// key's value. `open`: elements may be added (a volume and its mount); otherwise a patch
/// may only change the elements gscgen renders (a container).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyedList {
    pub merge_key: &'static str,
    pub open: bool,
}

/// The keyed lists of the rendered objects, by field name.
pub fn keyed_list(field: &str) -> Option<KeyedList> {
    match field {
        "containers" | "initContainers" => Some(KeyedList { merge_key: "name", open: false }),
        "volumes" => Some(KeyedList { merge_key: "name", open: true }),
        "volumeMounts" => Some(KeyedList { merge_key: "mountPath", open: true }),
        _ => None,
    }
}

/// Who controls each owned field, for the help of a refused patch.
mod owner {
    pub(super) const API: &str = "the object's kind";
    pub(super) const NAME: &str = "the service's name (`_` becomes `-`)";
    pub(super) const NAMESPACE: &str = "`kubernetes { namespace … }`";
    pub(super) const LABELS: &str = "the recommended labels, which the selectors use";
    pub(super) const POD_SECURITY_LABELS: &str =
        "the Pod Security labels, which follow the services' `k8s { security … }` settings";
    pub(super) const SELECTOR: &str =
        "the selector (name and instance labels), shared by the Service and the budget";
    pub(super) const REPLICAS: &str = "`k8s { replicas … }` (or `autoscale`, which owns the count)";
    pub(super) const RESTART: &str =
        "the kind of workload (`oneshot` services are Jobs that restart `Never`)";
    pub(super) const RUN_AS_NON_ROOT: &str = "`k8s { security run-as-non-root=… }`";
    pub(super) const RUN_AS_USER: &str = "`k8s { security run-as-user=… }` (or the image's `user`)";
    pub(super) const SECCOMP: &str =
        "the hardened defaults (`RuntimeDefault`, required by restricted Pod Security)";
    pub(super) const HOST: &str = "the namespace's Pod Security level, which forbids host namespaces";
    pub(super) const GPU_AFFINITY: &str = "`k8s { gpu … { node-label … } }`";
    pub(super) const GPU_TOLERATIONS: &str = "`k8s { gpu … { toleration … } }`";
    pub(super) const INIT: &str = "`k8s { init … }`";
    pub(super) const VOLUMES: &str =
        "gscgen's volumes (`writable`, `volume`, `secret`); add a volume of another name";
    pub(super) const MOUNTS: &str = "gscgen's mounts (`writable`, `volume`, `secret`); mount at another path";
    pub(super) const CONTAINER_NAME: &str = "the container's name (the service's or the `init`'s)";
    pub(super) const IMAGE: &str = "the service's `image=`/`from=` and the target's `tag`";
    pub(super) const PULL_POLICY: &str =
        "the target's `tag` (`IfNotPresent` only for commit SHAs and digests)";
    pub(super) const ARGS: &str = "`cmd`";
    pub(super) const COMMAND: &str = "the service's `entrypoint`";
    pub(super) const PORTS: &str = "the service's `port`s and its image's `expose`";
    pub(super) const ENV: &str = "`env` and `env-secret`";
    pub(super) const PROBES: &str = "`health` (the service's, else its image's)";
    pub(super) const RESOURCES: &str = "`k8s { requests …; limits …; gpu … }`";
    pub(super) const PRIVILEGE_ESCALATION: &str = "`k8s { security allow-privilege-escalation=… }`";
    pub(super) const READ_ONLY_ROOT: &str = "`k8s { security read-only-root-filesystem=… }`";
    pub(super) const CAPABILITIES: &str =
        "the hardened defaults (every capability dropped, as restricted Pod Security requires)";
    pub(super) const PRIVILEGED: &str =
        "the namespace's Pod Security level, which forbids privileged containers";
    pub(super) const SERVICE_PORTS: &str = "the service's `port`s and its image's `expose`";
    pub(super) const HPA_TARGET: &str = "the service's Deployment";
    pub(super) const HPA_MIN: &str = "`k8s { autoscale min=… }`";
    pub(super) const HPA_MAX: &str = "`k8s { autoscale max=… }`";
    pub(super) const HPA_METRICS: &str = "`k8s { autoscale cpu=… }`";
    pub(super) const PDB_MIN: &str = "`k8s { disruption-budget min-available=… }`";
    pub(super) const PDB_EVICTION: &str = "the target's `min-version` (written from 1.27)";
    pub(super) const STRATEGY: &str =
        "the service's ReadWriteOnce volume claims (a rolling update would need two pods on one claim)";
    pub(super) const CLAIM: &str = "`kubernetes { volume … size=… storage-class=… access=… }`";
    pub(super) const POLICY: &str =
        "the dependency graph (`depends-on`), the service's ports and `k8s { allow-from … }`";
}

fn owned(option: &'static str, rendered: bool) -> (Shape, bool) {
    (Shape::Owned { option, rendered }, true)
}

/// A mapping from `(key, (shape, present))` entries; absent entries are left out, except
/// owned ones, which stay (not rendered) so a patch cannot add them either.
fn mapping(entries: Vec<(&str, (Shape, bool))>) -> Shape {
    Shape::Mapping(
        entries
            .into_iter()
            .filter(|(_, (_, present))| *present)
            .map(|(key, (shape, _))| (key.to_owned(), shape))
            .collect(),
    )
}

fn present(shape: Shape) -> (Shape, bool) {
    (shape, true)
}

/// A service's container ports: its `port`s, then what its image `expose`s when the
/// service serves them ([`Service::serves`]), once each.
pub fn container_ports(model: &Model, service: &Service) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::new();
    let exposed = built_image(model, service)
        .filter(|_| service.serves)
        .map(|i| i.expose.as_slice())
        .unwrap_or_default();
    for port in service.ports.iter().map(|p| p.container).chain(exposed.iter().copied()) {
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

/// The health check a service's probes follow: its own, else its image's.
pub fn health_check<'m>(model: &'m Model, service: &'m Service) -> Option<&'m HealthDecl> {
    let health =
        service.health.as_ref().or_else(|| built_image(model, service).and_then(|i| i.health.as_ref()))?;
    health.check.as_ref().map(|_| health)
}

fn built_image<'m>(model: &'m Model, service: &Service) -> Option<&'m Image> {
    match service.source {
        ServiceSource::Image(id) => model.images.get(id),
        ServiceSource::Prebuilt(_) => None,
    }
}

/// Every object the target renders for the model, in the kustomization's order.
pub fn objects(model: &Model) -> Vec<Object> {
    let Some(target) = &model.targets.kubernetes else { return Vec::new() };
    let labels = |keys: &[&str], option| {
        Shape::Mapping(
            keys.iter().map(|k| ((*k).to_owned(), Shape::Owned { option, rendered: true })).collect(),
        )
    };
    let meta = |namespaced: bool, label_keys: &[&str], label_owner| {
        mapping(vec![
            ("name", owned(owner::NAME, true)),
            ("namespace", (Shape::Owned { option: owner::NAMESPACE, rendered: true }, namespaced)),
            ("labels", present(labels(label_keys, label_owner))),
        ])
    };
    let root = |kind: ObjectKind, spec: Option<Shape>| {
        let label_keys: &[&str] =
            if kind == ObjectKind::Namespace { &NAMESPACE_LABELS } else { &OBJECT_LABELS };
        let label_owner =
            if kind == ObjectKind::Namespace { owner::POD_SECURITY_LABELS } else { owner::LABELS };
        let mut entries = vec![
            ("apiVersion", owned(owner::API, true)),
            ("kind", owned(owner::API, true)),
            ("metadata", present(meta(kind != ObjectKind::Namespace, label_keys, label_owner))),
        ];
        if let Some(spec) = spec {
            entries.push(("spec", present(spec)));
        }
        mapping(entries)
    };
    let mut objects = vec![
        Object {
            kind: ObjectKind::Namespace,
            name: target.namespace.clone(),
            shape: root(ObjectKind::Namespace, None),
        },
        Object {
            kind: ObjectKind::NetworkPolicy,
            name: DEFAULT_DENY_POLICY.to_owned(),
            shape: root(ObjectKind::NetworkPolicy, Some(policy_spec(false))),
        },
    ];
    for service in &model.services {
        let Some(k8s) = &service.k8s else { continue };
        let mut push = |kind: ObjectKind, name: &str, spec: Shape| {
            objects.push(Object { kind, name: name.to_owned(), shape: root(kind, Some(spec)) });
        };
        match k8s.deploy {
            Deploy::Deployment => {
                let spec = mapping(vec![
                    ("replicas", owned(owner::REPLICAS, k8s.replicas.is_some())),
                    ("strategy", owned(owner::STRATEGY, recreates(target, service))),
                    ("selector", owned(owner::SELECTOR, true)),
                    ("template", present(pod_template(model, service, k8s, None))),
                ]);
                push(ObjectKind::Deployment, &k8s.name, spec);
                if !container_ports(model, service).is_empty() {
                    let spec = mapping(vec![
                        ("type", present(Shape::Value)),
                        ("selector", owned(owner::SELECTOR, true)),
                        ("ports", owned(owner::SERVICE_PORTS, true)),
                    ]);
                    push(ObjectKind::Service, &k8s.name, spec);
                    let (dependents, namespaces) = ingress_sources(model, service);
                    let open = !dependents.is_empty() || !namespaces.is_empty();
                    push(ObjectKind::NetworkPolicy, &k8s.name, policy_spec(open));
                }
                if k8s.autoscale.is_some() {
                    let spec = mapping(vec![
                        ("scaleTargetRef", owned(owner::HPA_TARGET, true)),
                        ("minReplicas", owned(owner::HPA_MIN, true)),
                        ("maxReplicas", owned(owner::HPA_MAX, true)),
                        ("metrics", owned(owner::HPA_METRICS, true)),
                    ]);
                    push(ObjectKind::Hpa, &k8s.name, spec);
                }
                if k8s.min_available.is_some() {
                    let spec = mapping(vec![
                        ("minAvailable", owned(owner::PDB_MIN, true)),
                        ("maxUnavailable", owned(owner::PDB_MIN, false)),
                        ("selector", owned(owner::SELECTOR, true)),
                        (
                            "unhealthyPodEvictionPolicy",
                            owned(owner::PDB_EVICTION, target.min_minor >= UNHEALTHY_POD_EVICTION_MINOR),
                        ),
                    ]);
                    push(ObjectKind::Pdb, &k8s.name, spec);
                }
            }
            Deploy::Job => {
                let spec = mapping(vec![
                    ("ttlSecondsAfterFinished", present(Shape::Value)),
                    ("template", present(pod_template(model, service, k8s, None))),
                ]);
                push(ObjectKind::Job, &k8s.name, spec);
            }
            Deploy::External { .. } | Deploy::DevOnly => continue,
        }
        for init in k8s.init.iter().filter(|i| i.job) {
            let spec = mapping(vec![
                ("ttlSecondsAfterFinished", present(Shape::Value)),
                ("template", present(pod_template(model, service, k8s, Some(init)))),
            ]);
            push(ObjectKind::Job, &init_job_name(&k8s.name, &init.name), spec);
        }
    }
    for claim in target.claims() {
        let spec = mapping(vec![
            ("accessModes", owned(owner::CLAIM, true)),
            ("storageClassName", owned(owner::CLAIM, claim.storage_class.is_some())),
            ("resources", owned(owner::CLAIM, true)),
        ]);
        objects.push(Object {
            kind: ObjectKind::Pvc,
            name: claim.name.clone(),
            shape: root(ObjectKind::Pvc, Some(spec)),
        });
    }
    objects
}

/// A NetworkPolicy's spec: every field follows the graph; `ingress` is left out of a
/// policy that admits nobody.
fn policy_spec(open: bool) -> Shape {
    mapping(vec![
        ("podSelector", owned(owner::POLICY, true)),
        ("policyTypes", owned(owner::POLICY, true)),
        ("ingress", owned(owner::POLICY, open)),
    ])
}

/// Who may reach a served service's pods: the deployed services that `depends-on` it (by
/// their name label, which their init Jobs share), in config order, and the namespaces
/// of its `allow-from`. Everything else is denied by the namespace's default policy.
pub fn ingress_sources(model: &Model, service: &Service) -> (Vec<String>, Vec<String>) {
    let Some(id) = model.services.iter().position(|s| std::ptr::eq(s, service)) else {
        return (Vec::new(), Vec::new());
    };
    let mut dependents: Vec<String> = Vec::new();
    for other in &model.services {
        let Some(k8s) = other.k8s.as_ref().filter(|k| k.is_deployed()) else { continue };
        if other.depends_on.contains(&id) && !dependents.contains(&k8s.name) {
            dependents.push(k8s.name.clone());
        }
    }
    let namespaces = service.k8s.as_ref().map(|k| k.allow_from.clone()).unwrap_or_default();
    (dependents, namespaces)
}

/// The length of the longest tag CI deploys: a full commit SHA.
pub const DEPLOYED_TAG_LEN: usize = 40;

/// A Job's `metadata.name`: a Job of a built image carries the target's tag
/// (`transform-latest`), which the kustomization's `replacements` keep equal to the tag of
/// its image after `kustomize edit set image`. Its file keeps the plain name.
pub fn job_object_name(target: &KubernetesTarget, base: &str, built: bool) -> String {
    if built { format!("{base}-{}", target.tag) } else { base.to_owned() }
}

/// Whether a Deployment replaces its pod instead of rolling: it mounts a ReadWriteOnce
/// claim, which the new pod could not attach while the old one holds it (on another node).
pub fn recreates(target: &KubernetesTarget, service: &Service) -> bool {
    service
        .volumes
        .iter()
        .any(|v| matches!(target.storage(&v.name), Some(ClusterStorage::Claim(claim)) if !claim.shared))
}

/// The labels of every object but the Namespace, and of every pod.
const OBJECT_LABELS: [&str; 5] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
];
const NAMESPACE_LABELS: [&str; 5] = [
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "pod-security.kubernetes.io/enforce",
    "pod-security.kubernetes.io/audit",
    "pod-security.kubernetes.io/warn",
];

/// The pod template of a Deployment, a oneshot Job, or (with `job`) an init's Job.
fn pod_template(model: &Model, service: &Service, k8s: &K8s, job: Option<&Init>) -> Shape {
    let mut volumes = PodVolumes::default();
    let secrets = has_secret_files(service, k8s);
    let gpu = k8s.gpu.as_ref().filter(|_| job.is_none());
    let (init_containers, containers) = match job {
        Some(init) => {
            (Vec::new(), vec![(init.name.clone(), init_container(k8s, init, &mut volumes, secrets))])
        }
        None => {
            let main = main_container(model, service, k8s, &mut volumes, secrets);
            let inits = k8s
                .init
                .iter()
                .filter(|i| !i.job)
                .map(|i| (i.name.clone(), init_container(k8s, i, &mut volumes, secrets)))
                .collect();
            (inits, vec![(k8s.name.clone(), main)])
        }
    };
    let mut volume_names: Vec<String> = volumes.names().map(str::to_owned).collect();
    if secrets {
        volume_names.push(SECRETS_VOLUME.to_owned());
    }
    let has_inits = !init_containers.is_empty();
    let has_volumes = !volume_names.is_empty();
    let spec = mapping(vec![
        ("restartPolicy", owned(owner::RESTART, job.is_some() || k8s.deploy == Deploy::Job)),
        ("automountServiceAccountToken", present(Shape::Value)),
        ("enableServiceLinks", present(Shape::Value)),
        (
            "securityContext",
            present(mapping(vec![
                ("runAsNonRoot", owned(owner::RUN_AS_NON_ROOT, true)),
                ("runAsUser", owned(owner::RUN_AS_USER, false)),
                ("runAsGroup", owned(owner::RUN_AS_USER, false)),
                ("fsGroup", owned(owner::RUN_AS_USER, k8s.run_as_user.is_some())),
                ("seccompProfile", owned(owner::SECCOMP, true)),
            ])),
        ),
        ("hostNetwork", owned(owner::HOST, false)),
        ("hostPID", owned(owner::HOST, false)),
        ("hostIPC", owned(owner::HOST, false)),
        (
            "affinity",
            (
                mapping(vec![("nodeAffinity", owned(owner::GPU_AFFINITY, true))]),
                gpu.is_some_and(|g| g.node_label.is_some()),
            ),
        ),
        (
            "tolerations",
            (
                Shape::Owned { option: owner::GPU_TOLERATIONS, rendered: true },
                gpu.is_some_and(|g| !g.tolerations.is_empty()),
            ),
        ),
        (
            "initContainers",
            if has_inits { present(Shape::Keyed(init_containers)) } else { owned(owner::INIT, false) },
        ),
        ("containers", present(Shape::Keyed(containers))),
        ("volumes", (keyed_owned(volume_names, owner::VOLUMES), has_volumes)),
    ]);
    let labels = Shape::Mapping(
        OBJECT_LABELS
            .iter()
            .map(|k| ((*k).to_owned(), Shape::Owned { option: owner::LABELS, rendered: true }))
            .collect(),
    );
    mapping(vec![("metadata", present(mapping(vec![("labels", present(labels))]))), ("spec", present(spec))])
}

/// A keyed list of elements gscgen owns whole.
fn keyed_owned(keys: Vec<String>, option: &'static str) -> Shape {
    Shape::Keyed(keys.into_iter().map(|k| (k, Shape::Owned { option, rendered: true })).collect())
}

/// Where file secrets are mounted, as Docker and Compose do.
pub const SECRETS_DIR: &str = "/run/secrets";
/// The name of the projected volume that holds a pod's file secrets.
pub const SECRETS_VOLUME: &str = "secrets";

/// Whether a service's pods have the secrets volume: a `secret` it mounts, or an
/// `env-secret … as-file=#true` of the service or of one of its inits (they share it).
pub fn has_secret_files(service: &Service, k8s: &K8s) -> bool {
    !service.secrets.is_empty()
        || service.env_secrets.iter().chain(k8s.init.iter().flat_map(|i| &i.env_secrets)).any(|s| s.as_file)
}

fn main_container(
    model: &Model,
    service: &Service,
    k8s: &K8s,
    volumes: &mut PodVolumes,
    secrets: bool,
) -> Shape {
    let mut mounts: Vec<String> = k8s.writable.clone();
    for path in &k8s.writable {
        volumes.writable(path);
    }
    for volume in &service.volumes {
        volumes.named(&volume.name);
        mounts.push(volume.target.clone());
    }
    if secrets {
        mounts.push(SECRETS_DIR.to_owned());
    }
    let deployment = k8s.deploy == Deploy::Deployment;
    let health = health_check(model, service).is_some();
    let ports = !container_ports(model, service).is_empty();
    let resources = !k8s.requests.is_empty() || !k8s.limits.is_empty() || k8s.gpu.is_some();
    container(ContainerFacts {
        command: !service.entrypoint.is_empty(),
        args: !service.cmd.is_empty(),
        ports,
        env: !service.env.is_empty()
            || service.env_host.iter().any(|h| h.default.is_some())
            || !service.env_secrets.is_empty(),
        readiness: deployment && (health || ports),
        liveness: deployment && health,
        resources,
        run_as_user: k8s.run_as_user.is_some(),
        mounts,
    })
}

fn init_container(k8s: &K8s, init: &Init, volumes: &mut PodVolumes, secrets: bool) -> Shape {
    let mut mounts = init.writable.clone();
    for path in &init.writable {
        volumes.writable(path);
    }
    if secrets {
        mounts.push(SECRETS_DIR.to_owned());
    }
    container(ContainerFacts {
        command: false,
        args: !init.cmd.is_empty(),
        ports: false,
        env: !init.env.is_empty() || !init.env_secrets.is_empty(),
        readiness: false,
        liveness: false,
        resources: !k8s.requests.is_empty() || !k8s.limits.is_empty(),
        run_as_user: init.run_as_user.is_some(),
        mounts,
    })
}

/// Which optional fields a container has.
struct ContainerFacts {
    command: bool,
    args: bool,
    ports: bool,
    env: bool,
    readiness: bool,
    liveness: bool,
    resources: bool,
    run_as_user: bool,
    /// Mount paths, in order.
    mounts: Vec<String>,
}

fn container(facts: ContainerFacts) -> Shape {
    let mounts = !facts.mounts.is_empty();
    mapping(vec![
        ("name", owned(owner::CONTAINER_NAME, true)),
        ("image", owned(owner::IMAGE, true)),
        ("imagePullPolicy", owned(owner::PULL_POLICY, true)),
        ("command", owned(owner::COMMAND, facts.command)),
        ("args", owned(owner::ARGS, facts.args)),
        ("ports", owned(owner::PORTS, facts.ports)),
        ("env", owned(owner::ENV, facts.env)),
        ("readinessProbe", owned(owner::PROBES, facts.readiness)),
        ("livenessProbe", owned(owner::PROBES, facts.liveness)),
        ("resources", owned(owner::RESOURCES, facts.resources)),
        (
            "securityContext",
            present(mapping(vec![
                ("runAsUser", owned(owner::RUN_AS_USER, facts.run_as_user)),
                ("runAsGroup", owned(owner::RUN_AS_USER, facts.run_as_user)),
                ("runAsNonRoot", owned(owner::RUN_AS_NON_ROOT, false)),
                ("allowPrivilegeEscalation", owned(owner::PRIVILEGE_ESCALATION, true)),
                ("readOnlyRootFilesystem", owned(owner::READ_ONLY_ROOT, true)),
                ("capabilities", owned(owner::CAPABILITIES, true)),
                ("privileged", owned(owner::PRIVILEGED, false)),
            ])),
        ),
        ("volumeMounts", (keyed_owned(facts.mounts, owner::MOUNTS), mounts)),
    ])
}

/// The volumes of one pod: an `emptyDir` per writable path and per named volume, named
/// after the path or volume, unique within the pod (the secrets volume has its own name).
#[derive(Debug, Default)]
pub struct PodVolumes {
    /// (key: `path:<path>` or `volume:<name>`, volume name), in order of first use.
    entries: Vec<(String, String)>,
}

impl PodVolumes {
    fn claim(&mut self, key: String, base: &str) -> String {
        if let Some((_, name)) = self.entries.iter().find(|(k, _)| *k == key) {
            return name.clone();
        }
        let taken = |name: &str, entries: &[(String, String)]| {
            name == SECRETS_VOLUME || entries.iter().any(|(_, n)| n == name)
        };
        let mut name = base.to_owned();
        let mut n = 2;
        while taken(&name, &self.entries) {
            name = format!("{base}-{n}");
            n += 1;
        }
        self.entries.push((key, name.clone()));
        name
    }

    /// The volume of a writable path (`/logs` → `logs`).
    pub fn writable(&mut self, path: &str) -> String {
        self.claim(format!("path:{path}"), &volume_base(path))
    }

    /// The volume of a named volume (`data` → `volume-data`).
    pub fn named(&mut self, volume: &str) -> String {
        self.claim(format!("volume:{volume}"), &format!("volume-{}", volume_base(volume)))
    }

    /// Every volume name, in order of first use.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(_, name)| name.as_str())
    }
}

/// A DNS-1123 label made from a path or name (`/var/lib/x` → `var-lib-x`), at most 50
/// characters so a `-<n>` suffix still fits in 63.
pub fn volume_base(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.chars().take(50).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "root".to_owned() } else { out }
}
