//! Rules for services as Docker Compose runs them, checked at compile time with spans:
//! published host ports, the `depends-on` graph, environment names, mount targets, restart
//! policies, limits and health checks. Each rule catches a config that would otherwise
//! render a Compose file that Compose rejects, or worse, silently reads differently
//! (two mounts on one target: Compose keeps one and drops the other without a word).
//!
//! The `compose` target's own settings (`pypi-cache=`) are resolved here too, because
//! they name a service.

use std::collections::{HashMap, HashSet};

use super::groups::cycle_path;
use miette::SourceSpan;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::config::{Config, HealthCheckDecl, ServiceDecl, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::{ComposeTarget, PypiCache};

/// The simple index of devpi's PyPI mirror (`root/pypi`), the seed's Option B.
const DEFAULT_PYPI_INDEX: &str = "/root/pypi/+simple/";

/// The `compose` target with its defaults, or `None` when it is off. No `targets` node
/// means every family is on.
pub(super) fn target(
    config: &Config,
    services: &HashMap<&str, usize>,
    diagnostics: &mut Diagnostics,
) -> Option<ComposeTarget> {
    let decl = match &config.targets {
        None => return Some(ComposeTarget::default()),
        Some(targets) => targets.compose.as_ref()?,
    };
    let builds_images = config.services.iter().any(|s| s.image.is_some());
    if builds_images && config.targets.as_ref().is_some_and(|t| t.docker.is_none()) {
        diagnostics.push(
            Diagnostic::error(
                Code::ComposeNeedsDocker,
                "the compose files build images from the generated Dockerfiles, but the docker target is off",
                decl.span,
                "needs `docker`",
            )
            .with_help("add `docker` to `targets`"),
        );
    }
    if let Some(index) = &decl.pypi_index {
        let valid = index.value.starts_with('/')
            && index.value.chars().all(|c| c.is_ascii_graphic() && !"\"'\\$`<>{}|^".contains(c));
        if !valid {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a URL path", index.value.escape_debug()),
                    index.span,
                    "invalid index path",
                )
                .with_help(format!(
                    "write the path of the mirror's simple index, e.g. \"{DEFAULT_PYPI_INDEX}\""
                )),
            );
        }
        if decl.pypi_cache.is_none() {
            diagnostics.push(
                Diagnostic::error(
                    Code::MissingProperty,
                    "`pypi-index` needs `pypi-cache`, the service that serves it",
                    index.span,
                    "index of which service?",
                )
                .with_help("add `pypi-cache=<service>` to `compose`, or remove `pypi-index`"),
            );
        }
    }
    let pypi_cache = decl.pypi_cache.as_ref().and_then(|name| {
        let Some(&id) = services.get(name.value.as_str()) else {
            let known: Vec<&str> = config.services.iter().map(|s| s.name.value.as_str()).collect();
            diagnostics.push(
                Diagnostic::error(
                    Code::UnknownService,
                    format!("unknown service `{}`", name.value),
                    name.span,
                    "no service of this name",
                )
                .with_help(
                    did_you_mean(&suggest(&name.value, known.iter().copied())).unwrap_or_else(|| {
                        "name the service that runs the PyPI mirror (e.g. devpi)".to_owned()
                    }),
                ),
            );
            return None;
        };
        let service = &config.services[id];
        let Some((host, host_ip)) =
            service.ports.iter().find_map(|p| p.host.as_ref().map(|h| (h, p.host_ip.as_ref())))
        else {
            diagnostics.push(
                Diagnostic::error(
                    Code::PypiCachePort,
                    format!("the PyPI cache `{}` publishes no host port", name.value),
                    name.span,
                    "used by development builds",
                )
                .with_label(service.name.span, "no `port … host=…` here")
                .with_help(format!(
                    "add `port 3141 host=3141` to service `{}`: builds do not join Compose networks, they \
                     reach the mirror through the host",
                    name.value
                )),
            );
            return None;
        };
        let path = decl.pypi_index.as_ref().map_or(DEFAULT_PYPI_INDEX, |p| p.value.as_str());
        // The mirror is reached on the host address its port binds to: loopback (the
        // default) and every interface are `localhost` for a build on the host network.
        let address = match host_ip.and_then(|ip| ip.value.parse::<std::net::IpAddr>().ok()) {
            Some(ip) if !ip.is_loopback() && !ip.is_unspecified() => match ip {
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                std::net::IpAddr::V4(v4) => v4.to_string(),
            },
            _ => "localhost".to_owned(),
        };
        Some(PypiCache { service: id, index_url: format!("http://{address}:{}{path}", host.value) })
    });
    Some(ComposeTarget { pypi_cache })
}

/// Checks every service rule. `compose` says whether the compose target is on (rules that
/// only Compose cannot express are skipped when it is off).
pub(super) fn check(
    config: &Config,
    services: &HashMap<&str, usize>,
    compose: bool,
    diagnostics: &mut Diagnostics,
) {
    check_ports(config, diagnostics);
    check_cycles(config, services, diagnostics);
    check_conditions(config, services, diagnostics);
    for service in &config.services {
        check_env(service, diagnostics);
        check_mount_targets(service, diagnostics);
        if let Some(restart) = &service.restart {
            check_restart(restart, diagnostics);
        }
        if let Some(limits) = &service.limits {
            if let Some(memory) = &limits.memory {
                check_memory(memory, diagnostics);
            }
            if let Some(cpus) = &limits.cpus {
                check_cpus(cpus, diagnostics);
            }
        }
        if let Some(health) = &service.health {
            super::docker::check_health(health, diagnostics);
            // A plain image (`from=`) has no Python either.
            let plain = service.image.as_ref().is_some_and(|name| {
                config.images.iter().any(|i| i.name.value == name.value && i.from.is_some())
            });
            if compose
                && (service.from.is_some() || plain)
                && let Some(HealthCheckDecl::Http { path, .. }) = &health.check
            {
                let what = if plain { "an image built FROM a pre-built one" } else { "a pre-built image" };
                diagnostics.push(
                    Diagnostic::error(
                        Code::HttpHealthPrebuilt,
                        format!(
                            "service `{}` runs {what}: gscgen cannot tell which HTTP client it has",
                            service.name.value
                        ),
                        path.span,
                        "HTTP check",
                    )
                    .with_help(
                        "write the check as a command the image has, e.g. `health wget \"-q\" \"--spider\" \
                         \"http://localhost:8080/health\"` (built images get a Python check)",
                    ),
                );
            }
        }
    }
}

/// No two published ports may share a host port: the second container would fail to start.
fn check_ports(config: &Config, diagnostics: &mut Diagnostics) {
    let mut published: HashMap<u16, (&Text, SourceSpan)> = HashMap::new();
    for service in &config.services {
        for port in &service.ports {
            for number in std::iter::once(&port.container).chain(port.host.as_ref()) {
                if number.value == 0 {
                    diagnostics.push(
                        Diagnostic::error(Code::InvalidValue, "port 0 is not a port", number.span, "port 0")
                            .with_help("write a port between 1 and 65535"),
                    );
                }
            }
            let Some(host) = &port.host else { continue };
            if host.value == 0 {
                continue;
            }
            match published.get(&host.value) {
                Some((first_service, first_span)) => {
                    let message = if first_service.value == service.name.value {
                        format!("service `{}` publishes host port {} twice", service.name.value, host.value)
                    } else {
                        format!(
                            "host port {} is published by both `{}` and `{}`",
                            host.value, first_service.value, service.name.value
                        )
                    };
                    diagnostics.push(
                        Diagnostic::error(
                            Code::DuplicateHostPort,
                            message,
                            host.span,
                            "published again here",
                        )
                        .with_label(*first_span, "first published here")
                        .with_help(
                            "a host port can be bound once: change one `host=`, or drop it to keep the port \
                                 reachable inside the Compose network only",
                        ),
                    );
                }
                None => {
                    published.insert(host.value, (&service.name, host.span));
                }
            }
        }
    }
}

/// Compose's three `depends_on` conditions, each with what it needs of the dependency.
pub(super) const CONDITIONS: [&str; 3] =
    ["service_started", "service_healthy", "service_completed_successfully"];

/// A stated `depends-on … condition=` must be one the dependency can meet: `service_healthy`
/// needs a health check (its own or its image's), `service_completed_successfully` a `oneshot`;
/// and one dependency gets one condition.
fn check_conditions(config: &Config, services: &HashMap<&str, usize>, diagnostics: &mut Diagnostics) {
    for service in &config.services {
        let mut stated: HashMap<usize, &Text> = HashMap::new();
        for dependency in &service.depends_on {
            let Some(condition) = &dependency.condition else { continue };
            if !CONDITIONS.contains(&condition.as_str()) {
                let help = crate::diagnostics::did_you_mean(&crate::diagnostics::suggest(
                    &condition.value,
                    CONDITIONS.iter().copied(),
                ))
                .unwrap_or_else(|| format!("write one of {}", CONDITIONS.join(", ")));
                diagnostics.push(
                    Diagnostic::error(
                        Code::DependencyCondition,
                        format!(
                            "`{}` is not a Compose `depends_on` condition",
                            condition.value.escape_debug()
                        ),
                        condition.span,
                        "unknown condition",
                    )
                    .with_help(help),
                );
                continue;
            }
            let Some(&id) = services.get(dependency.name.value.as_str()) else { continue };
            if let Some(first) = stated.insert(id, condition)
                && first.value != condition.value
            {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DependencyCondition,
                        format!(
                            "service `{}` states two conditions for `{}`",
                            service.name.value, dependency.name.value
                        ),
                        condition.span,
                        "second condition",
                    )
                    .with_label(first.span, "first condition")
                    .with_help("keep one `depends-on` line for the dependency"),
                );
                continue;
            }
            let other = &config.services[id];
            let problem = match condition.as_str() {
                "service_healthy" if !has_health_check(config, other) => Some((
                    "has no health check, so it never becomes healthy",
                    format!(
                        "give `{}` a `health` check (or its image one), or write `condition=service_started`",
                        other.name.value
                    ),
                )),
                "service_completed_successfully" if other.oneshot.is_none() => Some((
                    "is long-running (not `oneshot`), so it never completes",
                    format!(
                        "mark `{}` `oneshot` if it runs to completion, or write `condition=service_started`",
                        other.name.value
                    ),
                )),
                _ => None,
            };
            if let Some((why, help)) = problem {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DependencyCondition,
                        format!(
                            "`{}` {why}: `{}` cannot wait for it",
                            dependency.name.value, service.name.value
                        ),
                        condition.span,
                        "cannot be met",
                    )
                    .with_label(other.name.span, "the dependency")
                    .with_help(help),
                );
            }
        }
    }
}

/// Whether a service has a health check: its own, else its built image's.
fn has_health_check(config: &Config, service: &ServiceDecl) -> bool {
    let own = service.health.as_ref();
    let image = || {
        let name = service.image.as_ref()?;
        config.images.iter().find(|i| i.name.value == name.value)?.health.as_ref()
    };
    own.or_else(image).is_some_and(|h| h.check.is_some())
}

/// `depends-on` must be acyclic: Compose refuses to start services that wait for each other.
fn check_cycles(config: &Config, services: &HashMap<&str, usize>, diagnostics: &mut Diagnostics) {
    let mut graph: DiGraph<usize, SourceSpan> = DiGraph::with_capacity(config.services.len(), 0);
    for id in 0..config.services.len() {
        graph.add_node(id);
    }
    for (id, service) in config.services.iter().enumerate() {
        let mut seen = HashSet::new();
        for dependency in &service.depends_on {
            let dependency = &dependency.name;
            let Some(&target) = services.get(dependency.value.as_str()) else { continue };
            if target == id {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DependencyCycle,
                        format!("service `{}` depends on itself", service.name.value),
                        dependency.span,
                        "depends on itself",
                    )
                    .with_help("remove this `depends-on` entry"),
                );
                continue;
            }
            if seen.insert(target) {
                graph.add_edge(NodeIndex::new(id), NodeIndex::new(target), dependency.span);
            }
        }
    }
    let mut components = tarjan_scc(&graph);
    for component in &mut components {
        component.sort_by_key(|n| graph[*n]);
    }
    components.sort_by_key(|c| graph[c[0]]);
    for component in components.iter().filter(|c| c.len() > 1) {
        let members: HashSet<NodeIndex> = component.iter().copied().collect();
        let path = cycle_path(&graph, component[0], &members);
        let name = |node: NodeIndex| config.services[graph[node]].name.value.as_str();
        let names: Vec<&str> = path.iter().map(|(from, _)| name(*from)).collect();
        let loop_text = format!("{} → {}", names.join(" → "), names[0]);
        let mut diagnostic: Option<Diagnostic> = None;
        for (i, (from, span)) in path.iter().enumerate() {
            let to = path[(i + 1) % path.len()].0;
            let label = format!("`{}` depends on `{}`", name(*from), name(to));
            diagnostic = Some(match diagnostic {
                None => Diagnostic::error(
                    Code::DependencyCycle,
                    format!("depends-on cycle: {loop_text}"),
                    *span,
                    label,
                ),
                Some(d) => d.with_label(*span, label),
            });
        }
        if let Some(d) = diagnostic {
            diagnostics.push(d.with_help(
                "services in a loop would each wait for the next to start: remove one `depends-on` of the loop",
            ));
        }
    }
}

/// Environment names must be portable (Compose and Kubernetes) and set once per service:
/// a name set twice would be a duplicate YAML key.
fn check_env(service: &ServiceDecl, diagnostics: &mut Diagnostics) {
    let base = service
        .env
        .iter()
        .map(|e| &e.key)
        .chain(service.env_host.iter().map(|e| &e.key))
        .chain(service.env_secrets.iter().map(|e| &e.key));
    check_env_names(service, base, diagnostics);
    if let Some(dev) = &service.dev {
        check_env_names(
            service,
            dev.env.iter().map(|e| &e.key).chain(dev.env_host.iter().map(|e| &e.key)),
            diagnostics,
        );
    }
}

fn check_env_names<'a>(
    service: &ServiceDecl,
    keys: impl Iterator<Item = &'a Text>,
    diagnostics: &mut Diagnostics,
) {
    super::names::check_env_keys(
        &format!("service `{}`", service.name.value),
        keys,
        "keep one of them (a `dev { env … }` entry may override a service's value)",
        diagnostics,
    );
}

/// A container path may receive one mount: Compose keeps only the last of two mounts on the
/// same target. Secrets land in `/run/secrets/<target>` when the target is relative.
fn check_mount_targets(service: &ServiceDecl, diagnostics: &mut Diagnostics) {
    fn normalise(target: &str) -> String {
        let path = if target.starts_with('/') { target.to_owned() } else { format!("/run/secrets/{target}") };
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() { "/".to_owned() } else { trimmed.to_owned() }
    }
    let mut report = |seen: &mut HashMap<String, SourceSpan>, target: &str, span: SourceSpan| {
        if let Some(first) = seen.insert(normalise(target), span) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateMountTarget,
                    format!("service `{}` mounts two things on `{target}`", service.name.value),
                    span,
                    "second mount",
                )
                .with_label(first, "first mount")
                .with_help("give each volume, mount and secret its own target path"),
            );
        }
    };
    let mut seen = HashMap::new();
    for volume in &service.volumes {
        report(&mut seen, &volume.target.value, volume.target.span);
    }
    for mount in &service.mounts {
        report(&mut seen, &mount.target.value, mount.target.span);
    }
    for secret in &service.secrets {
        let (target, span) =
            secret.target.as_ref().map_or((&secret.name.value, secret.name.span), |t| (&t.value, t.span));
        report(&mut seen, target, span);
    }
    // `env-secret KEY as-file=#true` is the secret `/run/secrets/KEY`.
    for secret in service.env_secrets.iter().filter(|s| s.as_file.as_ref().is_some_and(|a| a.value)) {
        let span = secret.as_file.as_ref().map_or(secret.span, |a| a.span);
        report(&mut seen, crate::rules::secret_files::file_name(&secret.key.value), span);
    }
    if let Some(dev) = &service.dev {
        // Dev mounts may replace a mount of the base file (that is what an override does),
        // but not each other.
        let mut seen = HashMap::new();
        for mount in &dev.mounts {
            report(&mut seen, &mount.target.value, mount.target.span);
        }
    }
}

fn check_restart(restart: &Text, diagnostics: &mut Diagnostics) {
    let value = restart.value.as_str();
    let valid = matches!(value, "no" | "always" | "on-failure" | "unless-stopped")
        || value
            .strip_prefix("on-failure:")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if !valid {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a restart policy", value.escape_debug()),
                restart.span,
                "unknown policy",
            )
            .with_help(
                "write one of \"no\", \"always\", \"on-failure\", \"on-failure:3\", \"unless-stopped\"",
            ),
        );
    }
}

/// A byte size as Docker reads it (`512M`, `1.5g`, `256Mi`, `1GB`).
fn check_memory(memory: &Text, diagnostics: &mut Diagnostics) {
    let value = memory.value.as_str();
    let digits_end = value.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(value.len());
    let (number, unit) = value.split_at(digits_end);
    let number_ok = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.matches('.').count() <= 1;
    let unit = unit.to_ascii_lowercase();
    let unit_ok = matches!(
        unit.as_str(),
        "" | "b"
            | "k"
            | "m"
            | "g"
            | "t"
            | "kb"
            | "mb"
            | "gb"
            | "tb"
            | "ki"
            | "mi"
            | "gi"
            | "ti"
            | "kib"
            | "mib"
            | "gib"
            | "tib"
    );
    if !(number_ok && unit_ok) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a memory size", value.escape_debug()),
                memory.span,
                "invalid size",
            )
            .with_help("write a number with an optional unit, e.g. \"512M\" or \"2G\""),
        );
    }
}

fn check_cpus(cpus: &Text, diagnostics: &mut Diagnostics) {
    let value = cpus.value.as_str();
    let decimal = !value.is_empty()
        && value.chars().all(|c| c.is_ascii_digit() || c == '.')
        && value.matches('.').count() <= 1
        && !value.starts_with('.')
        && !value.ends_with('.');
    if !decimal || value.parse::<f64>().map_or(true, |v| v <= 0.0) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a CPU count", value.escape_debug()),
                cpus.span,
                "invalid CPU count",
            )
            .with_help("write a positive decimal number of CPUs, e.g. \"0.5\" or \"2\""),
        );
    }
}
