//! The `kubernetes` target: its settings, the rules that make a `k8s` block deployable
//! (checked with spans, only when the target is on), and each service's resolved
//! [`K8s`], defaults applied once, at the end of resolve. docs/kubernetes.md explains
//! every rule and default.
//!
//! The rules catch configs that Kubernetes accepts but that do not do what they say: an
//! autoscaler without a CPU request never scales, a disruption budget as large as the
//! Deployment blocks every node drain, a root image under `runAsNonRoot` never starts.

use std::collections::{HashMap, HashSet};

use miette::SourceSpan;

use super::names;
use crate::config::{
    Config, EnvHostDecl, EnvSecretDecl, HealthCheckDecl, ImageDecl, InitDecl, K8sDecl, ResourcesDecl,
    ServiceDecl, Text,
};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::{
    Autoscale, DEFAULT_TAG, Deploy, Gpu, Init, K8s, KubernetesTarget, Model, NEWEST_KUBERNETES_MINOR,
    OLDEST_KUBERNETES_MINOR, Resources, Security, ServiceSource, Toleration, User, init_job_name,
};
use crate::rules::names::{dns_name, is_dns_label, is_dns_subdomain};

/// The path every container gets an `emptyDir` for: Python, pip and most tools write there.
pub(crate) const TMP: &str = "/tmp";

/// The taint effects a toleration may name.
const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Resolves `targets { kubernetes … }`. `None` when the target is off: unlike the other
/// families it is never on by default (it deploys to a cluster and has rules of its own).
pub(super) fn target(config: &Config, diagnostics: &mut Diagnostics) -> Option<KubernetesTarget> {
    let decl = config.targets.as_ref()?.kubernetes.as_ref()?;
    let project = config.project.as_ref();
    if let Some(namespace) = &decl.namespace
        && !is_dns_label(&namespace.value)
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidName,
                format!("namespace `{}` is not a DNS-1123 label", namespace.value.escape_debug()),
                namespace.span,
                "invalid namespace",
            )
            .with_help(
                "a namespace is 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or \
                 digit, e.g. \"gsc-warehouse\"",
            ),
        );
    }
    if let Some(tag) = &decl.tag
        && !is_tag(&tag.value)
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not an image tag", tag.value.escape_debug()),
                tag.span,
                "invalid tag",
            )
            .with_help(
                "a tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`: \"latest\", \
                 a commit SHA, \"v1.2.3\"",
            ),
        );
    }
    let min_minor = match &decl.min_version {
        None => OLDEST_KUBERNETES_MINOR,
        Some(version) => {
            let minor = version
                .value
                .strip_prefix("1.")
                .and_then(|m| m.parse::<u16>().ok())
                .filter(|m| (OLDEST_KUBERNETES_MINOR..=NEWEST_KUBERNETES_MINOR).contains(m));
            if minor.is_none() {
                diagnostics.push(
                    Diagnostic::error(
                        Code::KubernetesVersion,
                        format!("`{}` is not a supported Kubernetes version", version.value.escape_debug()),
                        version.span,
                        "unsupported version",
                    )
                    .with_help(format!(
                        "write a minor version from \"1.{OLDEST_KUBERNETES_MINOR}\" to \"1.{NEWEST_KUBERNETES_MINOR}\": \
                         the manifests are validated against exactly these API schemas"
                    )),
                );
            }
            minor.unwrap_or(OLDEST_KUBERNETES_MINOR)
        }
    };
    let needs_docker = config
        .services
        .iter()
        .filter(|s| is_deployed(s))
        .any(|s| s.image.is_some() || s.k8s.as_ref().is_some_and(|k| !k.init.is_empty()));
    if needs_docker && config.targets.as_ref().is_some_and(|t| t.docker.is_none()) {
        diagnostics.push(
            Diagnostic::error(
                Code::KubernetesNeedsDocker,
                "the Kubernetes manifests run images built from the generated Dockerfiles, but the docker target \
                 is off",
                decl.span,
                "needs `docker`",
            )
            .with_help("add `docker` to `targets`"),
        );
    }
    Some(KubernetesTarget {
        namespace: decl.namespace.as_ref().map_or_else(
            || dns_name(project.map_or("default", |p| p.name.value.as_str())),
            |n| n.value.clone(),
        ),
        tag: decl.tag.as_ref().map_or_else(|| DEFAULT_TAG.to_owned(), |t| t.value.clone()),
        min_minor,
        // Checked against the rendered objects once the services are resolved (`patches`).
        patches: Vec::new(),
        // Known once the services are resolved (`k8s_volumes::apply`).
        volumes: Vec::new(),
    })
}

/// Whether a service runs on the cluster (as a Deployment or a Job).
pub(super) fn is_deployed(service: &ServiceDecl) -> bool {
    matches!(deploy(service), Deploy::Deployment | Deploy::Job)
}

fn deploy(service: &ServiceDecl) -> Deploy {
    if let Some(reason) = service.k8s.as_ref().and_then(|k| k.external.as_ref()) {
        Deploy::External { reason: reason.value.clone() }
    } else if is_dev_only(service) {
        Deploy::DevOnly
    } else if service.oneshot.as_ref().is_some_and(|o| o.value) {
        Deploy::Job
    } else {
        Deploy::Deployment
    }
}

/// A service whose every profile is `dev` (a development tool such as a PyPI mirror).
fn is_dev_only(service: &ServiceDecl) -> bool {
    !service.profiles.is_empty() && service.profiles.iter().all(|p| p.value == "dev")
}

/// Every rule of the `k8s` blocks, when the target is on.
pub(super) fn check(config: &Config, images: &HashMap<&str, usize>, diagnostics: &mut Diagnostics) {
    let mut workloads: HashMap<String, SourceSpan> = HashMap::new();
    // A service name declared twice is `gscgen::name::duplicate` already; only its first
    // declaration names workloads, so the duplicate is not reported a second time as two
    // workloads of one name (before the root cause, when the first is the Job).
    let mut first_declarations: HashSet<&str> = HashSet::new();
    let first: Vec<bool> = config.services.iter().map(|s| first_declarations.insert(&s.name.value)).collect();
    // Deployments first: their names are the service names, already unique.
    for (service, _) in config.services.iter().zip(&first).filter(|(_, first)| **first) {
        if deploy(service) == Deploy::Deployment {
            workloads.insert(dns_name(&service.name.value), service.name.span);
        }
    }
    for (service, first) in config.services.iter().zip(&first) {
        // The workload names of a repeated declaration are checked among themselves only.
        let mut own: HashMap<String, SourceSpan> = HashMap::new();
        let workloads = if *first { &mut workloads } else { &mut own };
        let deploy = deploy(service);
        let empty = K8sDecl::empty(service.span);
        let k8s = service.k8s.as_ref().unwrap_or(&empty);
        match deploy {
            Deploy::External { .. } | Deploy::DevOnly => {
                check_not_deployed(service, k8s, &deploy, diagnostics);
                continue;
            }
            Deploy::Job => {
                check_needs_deployment(k8s, diagnostics);
                claim(workloads, dns_name(&service.name.value), service.name.span, diagnostics);
            }
            Deploy::Deployment => {}
        }
        check_resources(k8s, diagnostics);
        for host in service.env_host.iter().filter(|h| h.default.is_none()) {
            let why = format!("service `{}` is deployed on the cluster", service.name.value);
            diagnostics.push(env_host_without_default(host, &why, None));
        }
        if let Some(file) = service.env_files.first() {
            diagnostics.push(
                Diagnostic::error(
                    Code::EnvFileKubernetes,
                    format!("service `{}` reads variables from a file, which its Kubernetes pods cannot", service.name.value),
                    file.span,
                    "a file of the checkout",
                )
                .with_help(
                    "write the variables with `env` (or share them with an `env-set`), which both targets render; \
                     secrets with `env-secret`; or mark the service `k8s { external \"…\" }`",
                ),
            );
        }
        if k8s.requests.is_none() && k8s.limits.is_none() {
            diagnostics.push(
                Diagnostic::warning(
                    Code::NoResources,
                    format!("service `{}` declares no Kubernetes requests or limits", service.name.value),
                    service.name.span,
                    "runs as BestEffort",
                )
                .with_help(
                    "add `k8s { requests cpu=\"…\" memory=\"…\"; limits memory=\"…\" }`: without them the scheduler \
                     packs the pod anywhere, it is evicted first, and nothing bounds its memory",
                ),
            );
        }
        check_scaling(k8s, diagnostics);
        check_gpu(k8s, diagnostics);
        check_security(config, service, k8s, images, diagnostics);
        check_probe_port(config, service, images, diagnostics);
        for path in &k8s.writable {
            if let Some(d) = names::check_container_path("writable path", path) {
                diagnostics.push(d);
            }
        }
        for secret in &service.env_secrets {
            check_secret_ref(secret, diagnostics);
        }
        for mount in &service.mounts {
            diagnostics.push(
                Diagnostic::warning(
                    Code::BindMount,
                    format!(
                        "bind mount `{}` of service `{}` is left out of its Kubernetes manifests",
                        mount.source.value, service.name.value
                    ),
                    mount.span,
                    "no Kubernetes equivalent",
                )
                .with_help(
                    "ship the files in the image (`copy`) or patch a ConfigMap in with kustomize; mark the service \
                     `k8s { external \"…\" }` if the cluster provides it",
                ),
            );
        }
        check_init(config, service, k8s, images, workloads, diagnostics);
    }
}

/// Records a workload name; a second workload of the same name is a collision.
fn claim(
    workloads: &mut HashMap<String, SourceSpan>,
    name: String,
    span: SourceSpan,
    diagnostics: &mut Diagnostics,
) {
    if let Some(first) = workloads.get(&name) {
        diagnostics.push(
            Diagnostic::error(
                Code::NameCollision,
                format!("two Kubernetes workloads are named `{name}`"),
                span,
                format!("becomes `{name}`"),
            )
            .with_label(*first, format!("also becomes `{name}`"))
            .with_help("rename one of them: Deployments and Jobs share one namespace"),
        );
    } else {
        workloads.insert(name, span);
    }
}

fn check_not_deployed(service: &ServiceDecl, k8s: &K8sDecl, deploy: &Deploy, diagnostics: &mut Diagnostics) {
    let why = match deploy {
        Deploy::External { .. } => "it is `external`",
        _ => "its only profile is `dev`",
    };
    let mut settings: Vec<SourceSpan> = Vec::new();
    settings.extend(k8s.replicas.as_ref().map(|r| r.span));
    settings.extend(k8s.requests.as_ref().map(|r| r.span));
    settings.extend(k8s.limits.as_ref().map(|r| r.span));
    settings.extend(k8s.autoscale.as_ref().map(|a| a.span));
    settings.extend(k8s.disruption_budget.as_ref().map(|d| d.span));
    settings.extend(k8s.gpu.as_ref().map(|g| g.span));
    settings.extend(k8s.init.iter().map(|i| i.span));
    settings.extend(k8s.writable.iter().map(|w| w.span));
    settings.extend(k8s.security.as_ref().map(|s| s.span));
    settings.extend(k8s.allow_from.iter().map(|a| a.span));
    // The first one in the file.
    if let Some(first) = settings.iter().min_by_key(|s| s.offset()) {
        diagnostics.push(
            Diagnostic::error(
                Code::NotDeployed,
                format!(
                    "service `{}` is not deployed to Kubernetes ({why}), so this setting has no effect",
                    service.name.value
                ),
                *first,
                "no effect",
            )
            .with_help("remove the setting, or deploy the service"),
        );
    }
}

fn check_needs_deployment(k8s: &K8sDecl, diagnostics: &mut Diagnostics) {
    let settings = [
        k8s.replicas.as_ref().map(|r| (r.span, "replicas")),
        k8s.autoscale.as_ref().map(|a| (a.span, "autoscale")),
        k8s.disruption_budget.as_ref().map(|d| (d.span, "disruption-budget")),
    ];
    for (span, what) in settings.into_iter().flatten() {
        diagnostics.push(
            Diagnostic::error(
                Code::NeedsDeployment,
                format!("`{what}` needs a Deployment, but a `oneshot` service runs as a Job"),
                span,
                "needs a long-running service",
            )
            .with_help(format!("remove `{what}`, or remove `oneshot`")),
        );
    }
}

fn check_resources(k8s: &K8sDecl, diagnostics: &mut Diagnostics) {
    let mut values: [[Option<f64>; 2]; 2] = [[None; 2]; 2];
    for (row, decl) in [&k8s.requests, &k8s.limits].into_iter().enumerate() {
        let Some(decl) = decl else { continue };
        for (column, (quantity, what)) in
            [(&decl.cpu, "CPU"), (&decl.memory, "memory")].into_iter().enumerate()
        {
            let Some(quantity) = quantity else { continue };
            values[row][column] = parse_quantity(&quantity.value);
            if values[row][column].is_none() {
                diagnostics.push(
                    Diagnostic::error(
                        Code::Quantity,
                        format!("`{}` is not a Kubernetes {what} quantity", quantity.value.escape_debug()),
                        quantity.span,
                        "invalid quantity",
                    )
                    .with_help(
                        "write a number with an optional suffix: CPU as \"250m\" or \"0.5\", memory as \"512Mi\", \
                         \"1Gi\" or \"500M\"",
                    ),
                );
            }
        }
    }
    let (Some(requests), Some(limits)) = (&k8s.requests, &k8s.limits) else { return };
    let pairs = [(&requests.cpu, &limits.cpu, 0, "CPU"), (&requests.memory, &limits.memory, 1, "memory")];
    for (request, limit, column, what) in pairs {
        if let (Some(request), Some(limit), Some(r), Some(l)) =
            (request, limit, values[0][column], values[1][column])
            && r > l
        {
            diagnostics.push(
                Diagnostic::error(
                    Code::RequestsExceedLimits,
                    format!(
                        "the {what} request `{}` is larger than the limit `{}`",
                        request.value, limit.value
                    ),
                    request.span,
                    "request",
                )
                .with_label(limit.span, "limit")
                .with_help(
                    "Kubernetes rejects a request above its limit: lower the request or raise the limit",
                ),
            );
        }
    }
}

fn check_scaling(k8s: &K8sDecl, diagnostics: &mut Diagnostics) {
    if let Some(autoscale) = &k8s.autoscale {
        if autoscale.min.value == 0 {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    "an autoscaler needs at least one replica",
                    autoscale.min.span,
                    "0",
                )
                .with_help("write `min=1` or more"),
            );
        }
        if autoscale.min.value > autoscale.max.value {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`min={}` is above `max={}`", autoscale.min.value, autoscale.max.value),
                    autoscale.min.span,
                    "min",
                )
                .with_label(autoscale.max.span, "max")
                .with_help("the autoscaler keeps the replica count between min and max: make min ≤ max"),
            );
        }
        if autoscale.cpu.value == 0 {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    "a CPU utilisation target of 0% scales to the maximum at once",
                    autoscale.cpu.span,
                    "0",
                )
                .with_help(
                    "write the average CPU utilisation to aim for, in percent of the request, e.g. `cpu=70`",
                ),
            );
        }
        let cpu_request = k8s.requests.as_ref().and_then(|r| r.cpu.as_ref());
        if cpu_request.is_none() {
            let mut diagnostic = Diagnostic::error(
                Code::AutoscaleWithoutCpuRequest,
                "autoscaling on CPU utilisation needs a CPU request",
                autoscale.span,
                "never scales: utilisation is a percentage of the request",
            );
            if let Some(requests) = &k8s.requests {
                diagnostic = diagnostic.with_label(requests.span, "no `cpu=` here");
            }
            diagnostics.push(diagnostic.with_help(format!(
                "add `requests cpu=\"…\"` to the `k8s` block; the autoscaler aims at {}% of it",
                autoscale.cpu.value
            )));
        }
        if let Some(replicas) = &k8s.replicas {
            diagnostics.push(
                Diagnostic::warning(
                    Code::ReplicasWithAutoscale,
                    "`replicas` is ignored: the autoscaler owns the replica count",
                    replicas.span,
                    "ignored",
                )
                .with_label(autoscale.span, "owns the replica count")
                .with_help(
                    "remove `replicas`; the Deployment is written without `replicas:` so that applying it never \
                     resets what the autoscaler chose",
                ),
            );
        }
    }
    let Some(budget) = &k8s.disruption_budget else { return };
    let min_available = budget.min_available.value;
    let replicas = |n: u32| if n == 1 { "1 replica".to_owned() } else { format!("{n} replicas") };
    let (max, bound) = match (&k8s.autoscale, &k8s.replicas) {
        (Some(a), _) => (a.max.value, Some((a.max.span, format!("at most {}", replicas(a.max.value))))),
        (None, Some(r)) => (r.value, Some((r.span, replicas(r.value)))),
        (None, None) => (1, None),
    };
    if min_available >= max {
        let mut diagnostic = Diagnostic::error(
            Code::DisruptionBudgetBlocksDrain,
            format!(
                "`min-available={min_available}` blocks every node drain: the Deployment never runs more than {}{}",
                replicas(max),
                if bound.is_none() { " (no `replicas`)" } else { "" }
            ),
            budget.min_available.span,
            "can never be disrupted",
        );
        if let Some((span, label)) = bound {
            diagnostic = diagnostic.with_label(span, label);
        }
        let help = if max <= 1 {
            "one replica can never be evicted without an outage: run `replicas 2` or more (or `autoscale`), or \
             remove `disruption-budget`"
                .to_owned()
        } else {
            format!("make `min-available` at most {}, or allow more replicas", max - 1)
        };
        diagnostics.push(diagnostic.with_help(help));
    } else if let Some(autoscale) = &k8s.autoscale
        && min_available >= autoscale.min.value
    {
        diagnostics.push(
            Diagnostic::warning(
                Code::DisruptionBudgetAtMinimum,
                format!(
                    "`min-available={min_available}` blocks node drains whenever the autoscaler is at its minimum of {}",
                    autoscale.min.value
                ),
                budget.min_available.span,
                "blocks drains at the minimum",
            )
            .with_label(autoscale.min.span, "minimum")
            .with_help(format!("make `min-available` smaller than `min={}`", autoscale.min.value)),
        );
    }
}

fn check_gpu(k8s: &K8sDecl, diagnostics: &mut Diagnostics) {
    let Some(gpu) = &k8s.gpu else { return };
    if gpu.count.value == 0 {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                "a GPU workload needs at least one GPU",
                gpu.count.span,
                "0",
            )
            .with_help("write the number of GPUs each pod gets, e.g. `gpu 1`, or remove `gpu`"),
        );
    }
    if let Some(label) = &gpu.node_label {
        check_label_key(&label.key, diagnostics);
        for value in &label.values {
            if !is_label_value(&value.value) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{}` is not a Kubernetes label value", value.value.escape_debug()),
                        value.span,
                        "invalid label value",
                    )
                    .with_help(
                        "a label value is up to 63 letters, digits, `-`, `_` and `.`, starting and ending with a \
                         letter or digit",
                    ),
                );
            }
        }
    }
    for toleration in &gpu.tolerations {
        check_label_key(&toleration.key, diagnostics);
        if let Some(effect) = &toleration.effect
            && !EFFECTS.contains(&effect.value.as_str())
        {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a taint effect", effect.value.escape_debug()),
                    effect.span,
                    "unknown effect",
                )
                .with_help(
                    did_you_mean(&suggest(&effect.value, EFFECTS.iter().copied()))
                        .unwrap_or_else(|| format!("write one of {}", EFFECTS.join(", "))),
                ),
            );
        }
    }
}

fn check_label_key(key: &Text, diagnostics: &mut Diagnostics) {
    if !is_label_key(&key.value) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a Kubernetes label key", key.value.escape_debug()),
                key.span,
                "invalid key",
            )
            .with_help(
                "a key is an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` and `.`, e.g. \
                 \"accelerator\" or \"nvidia.com/gpu\"",
            ),
        );
    }
}

/// The image a service or init container runs, when it is built by this project.
fn built_image<'c>(config: &'c Config, images: &HashMap<&str, usize>, name: &Text) -> Option<&'c ImageDecl> {
    images.get(name.value.as_str()).map(|&id| &config.images[id])
}

fn is_root(image: &ImageDecl) -> bool {
    image.user.as_ref().and_then(|u| u.root.as_ref()).is_some_and(|r| r.value)
}

fn check_security(
    config: &Config,
    service: &ServiceDecl,
    k8s: &K8sDecl,
    images: &HashMap<&str, usize>,
    diagnostics: &mut Diagnostics,
) {
    let security = k8s.security.as_ref();
    if let Some(uid) = security.and_then(|s| s.run_as_user.as_ref())
        && uid.value == 0
    {
        diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`run-as-user=0` is root", uid.span, "uid 0")
                .with_help("to run as root, write `run-as-non-root=#false` instead, explicitly"),
        );
    }
    let non_root = security.and_then(|s| s.run_as_non_root.as_ref()).is_none_or(|r| r.value);
    if !non_root {
        return;
    }
    let explicit_uid = security.and_then(|s| s.run_as_user.as_ref()).is_some() || service.user.is_some();
    if let (Some(user), Some(run_as)) = (&service.user, security.and_then(|s| s.run_as_user.as_ref())) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "service `{}` gives its uid twice, with `user` and `run-as-user`",
                    service.name.value
                ),
                run_as.span,
                "second uid",
            )
            .with_label(user.span, "first uid")
            .with_help(
                "keep `user`, which sets the uid in Compose and Kubernetes alike, and remove `run-as-user`",
            ),
        );
    }
    if let Some(image_name) = &service.image
        && let Some(image) = built_image(config, images, image_name)
        && is_root(image)
        && !explicit_uid
    {
        diagnostics.push(root_image(image_name, image));
    }
    // A plain image without `user` runs as its `from` image's user, which gscgen does not
    // know: no runAsUser is written, and the kubelet refuses it at start if it is root.
    if let Some(image_name) = &service.image
        && let Some(image) = built_image(config, images, image_name)
        && let Some(from) = &image.from
        && image.user.is_none()
        && !explicit_uid
    {
        diagnostics.push(
            Diagnostic::warning(
                Code::UnknownImageUser,
                format!(
                    "service `{}` runs `{}`'s own user, which gscgen cannot check against runAsNonRoot",
                    service.name.value, from.value
                ),
                image_name.span,
                "user unknown to gscgen",
            )
            .with_label(from.span, "keeps this image's user")
            .with_help(
                "if that user is root (many server images start as root), the kubelet refuses to start the pod: \
                 give the image `user uid=<its uid>`, set `k8s { security run-as-user=<uid> }`, or relax the \
                 service with `k8s { security run-as-non-root=#false }`",
            ),
        );
    }
    for init in &k8s.init {
        if let Some(image) = built_image(config, images, &init.image)
            && is_root(image)
        {
            diagnostics.push(root_image(&init.image, image));
        }
    }
}

fn root_image(reference: &Text, image: &ImageDecl) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(
        Code::RootImage,
        format!("image `{}` runs as root, which `runAsNonRoot` refuses to start", reference.value),
        reference.span,
        "runs as root",
    );
    if let Some(root) = image.user.as_ref().and_then(|u| u.root.as_ref()) {
        diagnostic = diagnostic.with_label(root.span, "root here");
    }
    diagnostic.with_help(
        "give the image a user (remove `root=#true`), set `security run-as-user=<uid>`, or relax the service \
         explicitly with `k8s { security run-as-non-root=#false }`",
    )
}

/// An HTTP probe must call a port the container declares.
fn check_probe_port(
    config: &Config,
    service: &ServiceDecl,
    images: &HashMap<&str, usize>,
    diagnostics: &mut Diagnostics,
) {
    let image = service.image.as_ref().and_then(|i| built_image(config, images, i));
    let health = service.health.as_ref().or_else(|| image.and_then(|i| i.health.as_ref()));
    let Some(HealthCheckDecl::Http { port, .. }) = health.and_then(|h| h.check.as_ref()) else { return };
    let declared = service.ports.iter().any(|p| p.container.value == port.value)
        || (super::serves(service) && image.is_some_and(|i| i.expose.iter().any(|e| e.value == port.value)));
    if !declared {
        diagnostics.push(
            Diagnostic::error(
                Code::ProbePort,
                format!("the HTTP health check calls port {}, which service `{}` does not declare", port.value, service.name.value),
                port.span,
                "undeclared port",
            )
            .with_label(service.name.span, "declares no such port")
            .with_help(
                if image.is_some_and(|i| i.expose.iter().any(|e| e.value == port.value)) {
                    format!(
                        "the image exposes port {}, but the service runs a `cmd` of its own and so does not serve it: \
                         write `serves #true` if it does, or give the service a `health` of its own",
                        port.value
                    )
                } else {
                    format!(
                        "add `port {}` to the service (or `expose {}` to its image), so the probe and the Service agree",
                        port.value, port.value
                    )
                },
            ),
        );
    }
}

/// An `env-host` without a default where no host environment exists: a pod. `why` says
/// why the value is needed on the cluster; `taken` is the `env-from` that brought it.
pub(super) fn env_host_without_default(
    host: &EnvHostDecl,
    why: &str,
    taken: Option<SourceSpan>,
) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(
        Code::EnvHostKubernetes,
        format!("`env-host {}` has no default, and a Kubernetes pod has no host environment", host.key.value),
        host.key.span,
        "no value on the cluster",
    )
    .with_help(format!(
        "{why}: give it `default=\"…\"` (the pod's value; Compose still prefers the host's), take it from a \
         Secret with `env-secret {}`, or mark the service `k8s {{ external \"…\" }}`",
        host.key.value
    ));
    if let Some(taken) = taken {
        diagnostic = diagnostic.with_label(taken, "taken here");
    }
    diagnostic
}

fn check_secret_ref(secret: &EnvSecretDecl, diagnostics: &mut Diagnostics) {
    if !is_dns_subdomain(&secret.secret.value) {
        diagnostics.push(
            Diagnostic::error(
                Code::SecretRef,
                format!("`{}` is not a Kubernetes Secret name", secret.secret.value.escape_debug()),
                secret.secret.span,
                "invalid Secret name",
            )
            .with_help(
                "a Secret name is lowercase letters, digits, `-` and `.`, starting and ending with a letter or \
                 digit, e.g. \"db-credentials\"",
            ),
        );
    }
    if !is_secret_key(&secret.secret_key.value) {
        diagnostics.push(
            Diagnostic::error(
                Code::SecretRef,
                format!("`{}` is not a Kubernetes Secret key", secret.secret_key.value.escape_debug()),
                secret.secret_key.span,
                "invalid key",
            )
            .with_help("a Secret key is letters, digits, `-`, `_` and `.`, e.g. \"dsn\""),
        );
    }
}

fn check_init(
    config: &Config,
    service: &ServiceDecl,
    k8s: &K8sDecl,
    images: &HashMap<&str, usize>,
    workloads: &mut HashMap<String, SourceSpan>,
    diagnostics: &mut Diagnostics,
) {
    let service_dns = dns_name(&service.name.value);
    // The service's own container takes its name in the pod.
    let mut containers: HashMap<String, SourceSpan> =
        HashMap::from([(service_dns.clone(), service.name.span)]);
    for init in &k8s.init {
        if let Some(d) = names::check_name("init container", &init.name) {
            diagnostics.push(d);
            continue;
        }
        let dns = dns_name(&init.name.value);
        if let Some(first) = containers.insert(dns.clone(), init.name.span) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("two containers of service `{}` are named `{dns}`", service.name.value),
                    init.name.span,
                    "second container",
                )
                .with_label(first, "first container")
                .with_help("give each init container its own name, different from the service's"),
            );
        }
        if !images.contains_key(init.image.value.as_str()) {
            let known: Vec<&str> = config.images.iter().map(|i| i.name.value.as_str()).collect();
            diagnostics.push(
                Diagnostic::error(
                    Code::UnknownImage,
                    format!("unknown image `{}`", init.image.value),
                    init.image.span,
                    "no image of this name",
                )
                .with_help(
                    did_you_mean(&suggest(&init.image.value, known.iter().copied())).unwrap_or_else(|| {
                        "an init container runs an image this project builds: name an `image` of this file"
                            .to_owned()
                    }),
                ),
            );
        }
        for secret in &init.env_secrets {
            check_secret_ref(secret, diagnostics);
        }
        check_init_env(init, diagnostics);
        if init.job.as_ref().is_some_and(|j| j.value) {
            let job = init_job_name(&service_dns, &dns);
            if job.len() > 63 {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        format!("the Job `{job}` has a name longer than 63 characters"),
                        init.name.span,
                        "name too long",
                    )
                    .with_help("shorten the init or the service name: the Job is named `<service>-<init>`"),
                );
            } else {
                claim(workloads, job, init.name.span, diagnostics);
            }
        }
    }
}

/// An init's variables: POSIX names (the rule of a service's `env`), each set once.
fn check_init_env(init: &InitDecl, diagnostics: &mut Diagnostics) {
    let keys = init.env.iter().map(|e| &e.key).chain(init.env_secrets.iter().map(|e| &e.key));
    super::names::check_env_keys(
        &format!("init `{}`", init.name.value),
        keys,
        "keep one of them",
        diagnostics,
    );
}

/// Every service's [`K8s`], defaults applied. Runs on a model without errors.
pub(super) fn apply(config: &Config, model: &mut Model) {
    let images: HashMap<&str, usize> =
        config.images.iter().enumerate().map(|(id, i)| (i.name.value.as_str(), id)).collect();
    let mut resolved = Vec::with_capacity(model.services.len());
    for (decl, service) in config.services.iter().zip(&model.services) {
        let empty = K8sDecl::empty(decl.span);
        let k8s = decl.k8s.as_ref().unwrap_or(&empty);
        let security = k8s.security.as_ref();
        let image = match service.source {
            ServiceSource::Image(id) => model.images.get(id),
            ServiceSource::Prebuilt(_) => None,
        };
        let uid_of = |user: &User| match user {
            // An inherited user is the `from` image's: gscgen claims no uid for it.
            User::Root | User::Inherited => None,
            User::NonRoot { uid, .. } => Some(*uid),
        };
        let mut writable: Vec<String> = Vec::new();
        let volume_targets: Vec<&str> = service.volumes.iter().map(|v| v.target.as_str()).collect();
        let image_writable = image.map(|i| i.writable.as_slice()).unwrap_or_default();
        for path in k8s
            .writable
            .iter()
            .map(|w| w.value.as_str())
            .chain(image_writable.iter().map(String::as_str))
            .chain([TMP])
        {
            if !writable.iter().any(|w| w == path) && !volume_targets.contains(&path) {
                writable.push(path.to_owned());
            }
        }
        let init = k8s
            .init
            .iter()
            .filter_map(|i| {
                let id = *images.get(i.image.value.as_str())?;
                let image = &model.images[id];
                Some(resolve_init(i, id, uid_of(&image.user), &image.writable))
            })
            .collect();
        resolved.push(K8s {
            deploy: deploy(decl),
            name: dns_name(&service.name.value),
            replicas: match &k8s.autoscale {
                Some(_) => None,
                None => Some(k8s.replicas.as_ref().map_or(1, |r| r.value)),
            },
            requests: resources(k8s.requests.as_ref()),
            limits: resources(k8s.limits.as_ref()),
            autoscale: k8s.autoscale.as_ref().map(|a| Autoscale {
                min: a.min.value,
                max: a.max.value,
                cpu_percent: a.cpu.value,
            }),
            min_available: k8s.disruption_budget.as_ref().map(|d| d.min_available.value),
            gpu: k8s.gpu.as_ref().map(|g| Gpu {
                count: g.count.value,
                node_label: g
                    .node_label
                    .as_ref()
                    .map(|l| (l.key.value.clone(), l.values.iter().map(|v| v.value.clone()).collect())),
                tolerations: g
                    .tolerations
                    .iter()
                    .map(|t| Toleration {
                        key: t.key.value.clone(),
                        effect: t.effect.as_ref().map(|e| e.value.clone()),
                    })
                    .collect(),
            }),
            init,
            run_as_user: service
                .user
                .or_else(|| security.and_then(|s| s.run_as_user.as_ref()).map(|u| u.value))
                .or_else(|| image.and_then(|i| uid_of(&i.user))),
            writable,
            security: Security {
                run_as_non_root: security.and_then(|s| s.run_as_non_root.as_ref()).is_none_or(|r| r.value),
                read_only_root_filesystem: security
                    .and_then(|s| s.read_only_root_filesystem.as_ref())
                    .is_none_or(|r| r.value),
                allow_privilege_escalation: security
                    .and_then(|s| s.allow_privilege_escalation.as_ref())
                    .is_some_and(|a| a.value),
            },
            allow_from: k8s.allow_from.iter().map(|n| n.value.clone()).collect(),
        });
    }
    for (service, k8s) in model.services.iter_mut().zip(resolved) {
        service.k8s = Some(k8s);
    }
}

fn resolve_init(decl: &InitDecl, image: usize, run_as_user: Option<u32>, image_writable: &[String]) -> Init {
    let mut writable: Vec<String> = Vec::new();
    for path in image_writable.iter().map(String::as_str).chain([TMP]) {
        if !writable.iter().any(|w| w == path) {
            writable.push(path.to_owned());
        }
    }
    Init {
        name: dns_name(&decl.name.value),
        job: decl.job.as_ref().is_some_and(|j| j.value),
        image,
        cmd: super::command(decl.cmd.as_ref()),
        env: super::env(&decl.env),
        env_secrets: super::env_secrets(&decl.env_secrets),
        run_as_user,
        writable,
    }
}

fn resources(decl: Option<&ResourcesDecl>) -> Resources {
    Resources {
        cpu: decl.and_then(|r| r.cpu.as_ref()).map(|c| c.value.clone()),
        memory: decl.and_then(|r| r.memory.as_ref()).map(|m| m.value.clone()),
    }
}

// ---------------------------------------------------------------------------------------
// Kubernetes grammars
// ---------------------------------------------------------------------------------------

/// A Kubernetes resource quantity (`250m`, `0.5`, `512Mi`, `1e3`), as its value; `None`
/// when it is not one. Signs are refused: no resource is negative.
pub(crate) fn parse_quantity(s: &str) -> Option<f64> {
    let digits = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits);
    let valid_number = !number.is_empty()
        && number != "."
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    if !valid_number {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exponent => {
            let rest = exponent.strip_prefix(['e', 'E'])?;
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 3 {
                return None;
            }
            10f64.powi(rest.parse::<i32>().ok()?)
        }
    };
    Some(value * multiplier)
}

fn is_secret_key(s: &str) -> bool {
    (1..=253).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s != "."
        && s != ".."
}

/// A label value: at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends.
fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_none_or(|c| c.is_ascii_alphanumeric())
}

/// A label key (also a taint key): `[prefix/]name`, prefix a DNS subdomain.
fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, s),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

/// An OCI tag.
fn is_tag(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !s.starts_with(['.', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for (s, v) in [
            ("250m", 0.25),
            ("0.5", 0.5),
            ("2", 2.0),
            ("512Mi", 512.0 * 1024.0 * 1024.0),
            ("1e3", 1000.0),
            ("500M", 5e8),
        ] {
            assert_eq!(parse_quantity(s), Some(v), "{s}");
        }
        for bad in ["", "lots", "-1", "1.2.3", ".", "1 Gi", "1gi", "1e", "m", "1KB", "0x10"] {
            assert_eq!(parse_quantity(bad), None, "{bad}");
        }
    }

    #[test]
    fn grammars() {
        assert!(is_label_key("accelerator") && is_label_key("nvidia.com/gpu") && !is_label_key("a/b/c"));
        assert!(is_label_value("nvidia-tesla-t4") && !is_label_value("-x"));
        assert!(is_tag("latest") && is_tag("0123abc") && !is_tag(".x") && !is_tag("a:b"));
        assert!(is_secret_key("gsc_sa.json") && !is_secret_key("a/b"));
    }
}
