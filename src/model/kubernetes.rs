//! The Kubernetes side of the model: the `kubernetes` target's settings and each service's
//! resolved `k8s` block, every default applied (see docs/kubernetes.md).

use super::{EnvSecret, ImageId};

/// The oldest Kubernetes minor (1.x) gscgen renders for: the oldest whose API schemas
/// `kubernetes-validate` bundles, so the only one the tests can check offline.
pub const OLDEST_KUBERNETES_MINOR: u16 = 25;
/// The newest Kubernetes minor the manifests are validated against.
pub const NEWEST_KUBERNETES_MINOR: u16 = 37;

/// The tag of built images when the target does not set one: what CI pushes on the
/// default branch.
pub const DEFAULT_TAG: &str = "latest";

/// `targets { kubernetes … }`: manifests and a kustomization under `k8s/`.
#[derive(Debug, Clone)]
pub struct KubernetesTarget {
    /// The namespace of every object (a DNS-1123 label).
    pub namespace: String,
    /// The tag of every image this project builds (set once, in the kustomization).
    pub tag: String,
    /// The oldest supported Kubernetes minor version: 1.`min_minor`.
    pub min_minor: u16,
    /// `patch <kind> <name> { … }`, checked, in config order.
    pub patches: Vec<Patch>,
    /// Every named volume a deployed workload mounts, in order of first use, with its
    /// storage (`volume` settings, else a default claim).
    pub volumes: Vec<ClusterVolume>,
}

impl KubernetesTarget {
    /// Where a named volume's data lives; `None` for a volume no deployed workload mounts.
    pub fn storage(&self, volume: &str) -> Option<&ClusterStorage> {
        self.volumes.iter().find(|v| v.volume == volume).map(|v| &v.storage)
    }

    /// The claims, in order of first use.
    pub fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.volumes.iter().filter_map(|v| match &v.storage {
            ClusterStorage::Claim(claim) => Some(claim),
            ClusterStorage::Scratch { .. } => None,
        })
    }
}

/// The storage a claim requests when its `volume` does not say: enough for a queue or a
/// small database, small enough to fit any cluster's default class.
pub const DEFAULT_CLAIM_SIZE: &str = "1Gi";

/// A named volume on the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterVolume {
    /// The volume's name in the config.
    pub volume: String,
    pub storage: ClusterStorage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterStorage {
    /// A PersistentVolumeClaim: the data outlives every pod.
    Claim(Claim),
    /// `scratch=#true`: an `emptyDir`, emptied when the pod is replaced.
    Scratch { size_limit: Option<String> },
}

/// A PersistentVolumeClaim of one named volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The object's name: the volume's name as a DNS label.
    pub name: String,
    /// The requested storage (a Kubernetes quantity).
    pub size: String,
    /// `None`: the cluster's default storage class.
    pub storage_class: Option<String>,
    /// `ReadWriteMany`; otherwise `ReadWriteOnce`, mounted by one pod at a time.
    pub shared: bool,
}

impl Claim {
    pub fn access_mode(&self) -> &'static str {
        if self.shared { "ReadWriteMany" } else { "ReadWriteOnce" }
    }
}

/// What a service becomes on the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deploy {
    /// A long-running service: a Deployment (with a Service, an HPA, a PDB as declared).
    Deployment,
    /// A `oneshot` service: a Job that runs to completion.
    Job,
    /// `k8s { external "…" }`: provided by the cluster; nothing is rendered.
    External { reason: String },
    /// Every profile of the service is `dev`: never deployed.
    DevOnly,
}

/// CPU and memory quantities as written (validated Kubernetes quantities).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.memory.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation, in percent of the request.
    pub cpu_percent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// `nvidia.com/gpu` requested and limited.
    pub count: u32,
    /// Required node affinity: label key and accepted values.
    pub node_label: Option<(String, Vec<String>)>,
    pub tolerations: Vec<Toleration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    pub key: String,
    /// `None` tolerates every effect of the taint.
    pub effect: Option<String>,
}

/// The security context of every container of the service's pods. The defaults are the
/// hardened ones; each field is relaxed only by an explicit `security` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    pub run_as_non_root: bool,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
}

/// A container that runs before the service: an init container of its pods, or a Job.
#[derive(Debug, Clone)]
pub struct Init {
    /// The DNS-1123 form of its name.
    pub name: String,
    pub job: bool,
    pub image: ImageId,
    /// Replaces the image's command (Kubernetes `args`); empty keeps it.
    pub cmd: Vec<String>,
    pub env: Vec<(String, String)>,
    pub env_secrets: Vec<EnvSecret>,
    /// The uid it runs as (its image's user), `None` for a root image.
    pub run_as_user: Option<u32>,
    /// Paths that get an `emptyDir`: its image's writable paths and `/tmp`.
    pub writable: Vec<String>,
}

/// A service's `k8s` block with every default applied.
#[derive(Debug, Clone)]
pub struct K8s {
    pub deploy: Deploy,
    /// The DNS-1123 name of its objects (`api_ingestor` → `api-ingestor`).
    pub name: String,
    /// Fixed replica count (1 by default); `None` when an autoscaler owns the count.
    pub replicas: Option<u32>,
    pub requests: Resources,
    pub limits: Resources,
    pub autoscale: Option<Autoscale>,
    /// `minAvailable` of the PodDisruptionBudget, when declared.
    pub min_available: Option<u32>,
    pub gpu: Option<Gpu>,
    /// In config order.
    pub init: Vec<Init>,
    /// The uid the service's container runs as: `security run-as-user`, else the built
    /// image's user; `None` for a root or unknown (pre-built) user.
    pub run_as_user: Option<u32>,
    /// Paths that get an `emptyDir` in the main container, in order, without duplicates:
    /// `k8s writable`, the image's `writable`, then `/tmp` (named volumes are separate).
    pub writable: Vec<String>,
    pub security: Security,
    /// Namespaces whose pods may reach the service's ports (`allow-from`), in config order.
    pub allow_from: Vec<String>,
}

impl K8s {
    /// Whether the service's pods run on the cluster (as a Deployment or a Job).
    pub fn is_deployed(&self) -> bool {
        matches!(self.deploy, Deploy::Deployment | Deploy::Job)
    }

    /// The most replicas the Deployment can run: the autoscaler's maximum, else the fixed count.
    pub fn max_replicas(&self) -> u32 {
        self.autoscale.map_or(self.replicas.unwrap_or(1), |a| a.max)
    }

    /// The fewest replicas the Deployment runs when nothing fails.
    pub fn min_replicas(&self) -> u32 {
        self.autoscale.map_or(self.replicas.unwrap_or(1), |a| a.min)
    }
}

/// The NetworkPolicy that denies all ingress to every pod of the namespace; each served
/// service's own policy opens its ports to its dependents.
pub const DEFAULT_DENY_POLICY: &str = "default-deny-ingress";

/// The name of the Job an `init … job=#true` becomes: `<service>-<init>`.
pub fn init_job_name(service: &str, init: &str) -> String {
    format!("{service}-{init}")
}

// ---------------------------------------------------------------------------------------
// Patches: which object, which fields (their layout is the plan's: plan/k8s_objects.rs)
// ---------------------------------------------------------------------------------------

/// The kinds of object the target renders, named as their files are (`api.deployment.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Namespace,
    Deployment,
    Service,
    Hpa,
    Pdb,
    Job,
    Pvc,
    NetworkPolicy,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::Namespace,
        ObjectKind::Deployment,
        ObjectKind::Service,
        ObjectKind::Hpa,
        ObjectKind::Pdb,
        ObjectKind::Job,
        ObjectKind::Pvc,
        ObjectKind::NetworkPolicy,
    ];

    /// The word of file names and of `patch <kind> <name>`.
    pub fn word(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "namespace",
            ObjectKind::Deployment => "deployment",
            ObjectKind::Service => "service",
            ObjectKind::Hpa => "hpa",
            ObjectKind::Pdb => "pdb",
            ObjectKind::Job => "job",
            ObjectKind::Pvc => "pvc",
            ObjectKind::NetworkPolicy => "networkpolicy",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.word() == word)
    }
}

/// A value of a patch, resolved: keyed lists are sequences of mappings whose first entry
/// is the merge key, as a strategic merge patch writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    Scalar(crate::config::Scalar),
    Sequence(Vec<Yaml>),
    Mapping(Vec<(String, Yaml)>),
}

/// `patch <kind> <name> { … }`, checked against the object's [`Shape`](crate::rules::k8s_objects::Shape): rendered as a
/// strategic merge patch that the kustomization applies.
#[derive(Debug, Clone)]
pub struct Patch {
    pub kind: ObjectKind,
    pub name: String,
    /// The fields from the object's root (`metadata`, `spec`), in config order.
    pub fields: Vec<(String, Yaml)>,
}
