//! `docker-compose.yml`, `docker-compose.dev.yml` and `docker-compose.prod.yml`, at the
//! root of the output folder. docs/compose.md explains every mapping.
//!
//! All three files render through one template; the view-models decide what each file
//! holds. Every user value goes through [`quote::compose_value`](crate::rules::quote::compose_value) (Compose interpolation
//! escape + YAML scalar) or [`quote::yaml_key`](crate::rules::quote::yaml_key); the template only loops and prints.

use askama::Template;

use super::builds::{self, ARG_BASE_BUILDER, ARG_BASE_RUNTIME, ARG_PIP_INDEX_URL, Build, LATEST};
use super::{FileMode, PlanContext, PlanError, Planner};
use crate::config::{HealthCheckDecl, HealthDecl, YamlEntry, YamlScalar, YamlValue};
use crate::model::{ComposeTarget, EnvHost, Image, Model, Mount, Service, ServiceSource};
use crate::rules::quote::{compose_interpolation, compose_value, json_string, yaml_key, yaml_scalar};
use crate::rules::secret_files::{file_name, file_path, file_variable};

/// Output paths, relative to the output folder.
pub(crate) const BASE_FILE: &str = "docker-compose.yml";
pub(crate) const DEV_FILE: &str = "docker-compose.dev.yml";
pub(crate) const PROD_FILE: &str = "docker-compose.prod.yml";

/// Tag of the registry build cache (`cache-to: type=registry,ref=…:buildcache` in CI).
const BUILDCACHE_TAG: &str = "buildcache";

#[derive(Template)]
#[template(path = "compose/compose.yml", escape = "none")]
struct ComposeFile {
    config_name: String,
    header: Vec<String>,
    name: String,
    services: Vec<ServiceView>,
    network: Option<String>,
    volumes: Vec<String>,
    /// (name, source kind `file` or `environment`, source)
    secrets: Vec<(String, &'static str, String)>,
}

/// One service entry, every field already quoted.
#[derive(Debug, Default)]
struct ServiceView {
    key: String,
    image: Option<String>,
    build: Option<BuildView>,
    profiles: Vec<String>,
    entrypoint: Vec<String>,
    command: Vec<String>,
    /// `"uid:uid"`.
    user: Option<String>,
    environment: Vec<EnvView>,
    /// `env_file` paths from the compose file's folder.
    env_files: Vec<String>,
    /// (source, target)
    secrets: Vec<(String, String)>,
    ports: Vec<String>,
    expose: Vec<String>,
    volumes: Vec<VolumeView>,
    networks: Vec<String>,
    /// (dependency, condition)
    depends_on: Vec<(String, &'static str)>,
    healthcheck: Option<HealthView>,
    restart: Option<String>,
    /// `read_only: true`.
    read_only: bool,
    /// tmpfs mounts under the read-only root.
    tmpfs: Vec<String>,
    security_opt: Vec<String>,
    cap_drop: Vec<String>,
    cap_add: Vec<String>,
    limits: Option<LimitsView>,
    /// `compose-extra` keys, rendered as indented lines (see [`extra_lines`]).
    extra: Vec<String>,
}

#[derive(Debug)]
struct BuildView {
    context: String,
    dockerfile: String,
    target: String,
    args: Vec<(String, String)>,
    network: Option<String>,
    cache_from: Vec<String>,
    platforms: Vec<String>,
}

#[derive(Debug)]
struct EnvView {
    key: String,
    /// `None`: no value in the file; Compose passes the variable through from its own
    /// environment (or `.env`) when set, and leaves it unset in the container otherwise.
    value: Option<String>,
}

#[derive(Debug)]
struct VolumeView {
    kind: &'static str,
    source: String,
    target: String,
    read_only: bool,
}

#[derive(Debug)]
struct HealthView {
    test: Vec<String>,
    interval: Option<String>,
    timeout: Option<String>,
    start_period: Option<String>,
    retries: Option<String>,
}

#[derive(Debug)]
struct LimitsView {
    cpus: Option<String>,
    memory: Option<String>,
}

pub(super) fn plan(
    model: &Model,
    context: &PlanContext,
    target: &ComposeTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    let compose = Compose::new(model, target);
    let file = |header: Vec<String>, services: Vec<ServiceView>| ComposeFile {
        config_name: context.config_name.clone(),
        header,
        name: yaml_scalar(&model.project.name).into_owned(),
        services,
        network: None,
        volumes: Vec::new(),
        secrets: Vec::new(),
    };
    // Comments name only validated names (project, profiles, services): nothing to escape.
    let profiles = compose.all_profiles();
    let select = profiles.first().map_or_else(String::new, |p| format!(" --profile {p}"));
    let builds_images = model.services.iter().any(|s| matches!(s.source, ServiceSource::Image(_)));

    let mut header = vec![format!("Every service of project {}.", model.project.name)];
    if !profiles.is_empty() {
        header.push(format!("Profiles: {} (`--profile '*'` enables every one).", profiles.join(", ")));
    }
    header.push(format!("Run: docker compose -f {BASE_FILE}{select} up"));
    header.push(format!("Development: add -f {DEV_FILE}; release images: add -f {PROD_FILE}."));
    if builds_images {
        header.push("Build the base images first: scripts/docker-build.sh.".to_owned());
    }
    let mut base =
        file(header, model.services.iter().enumerate().map(|(id, s)| compose.base_service(id, s)).collect());
    base.network = Some(yaml_key(&model.project.network).into_owned());
    base.volumes = compose.volume_names();
    base.secrets = model
        .secrets
        .iter()
        .map(|s| {
            (
                yaml_key(&s.name.value).into_owned(),
                "file",
                compose_value(&compose.project_path(&s.file)).into_owned(),
            )
        })
        .collect();
    // `env-secret KEY as-file=#true`: the Compose secret `KEY`, from its `file=` or the
    // host's variable `KEY`, once (resolve checked that every service gives one source).
    for secret in model.services.iter().flat_map(|s| &s.env_secrets).filter(|s| s.as_file) {
        let name = yaml_key(&secret.key).into_owned();
        if base.secrets.iter().any(|(n, _, _)| *n == name) {
            continue;
        }
        base.secrets.push(match &secret.compose_file {
            Some(file) => (name, "file", compose_value(&compose.project_path(file)).into_owned()),
            None => (name, "environment", yaml_scalar(&secret.key).into_owned()),
        });
    }
    planner.render(BASE_FILE, &base, FileMode::Regular)?;

    let mut header = vec![format!(
        "Development override of {BASE_FILE}: read-only source mounts, dev commands and environment, build caches."
    )];
    if let Some(cache) = &target.pypi_cache {
        let service = &model.services[cache.service];
        let select = service.profiles.first().map_or_else(String::new, |p| format!(" --profile {p}"));
        header.push(format!(
            "Builds install from the PyPI mirror; start it first: docker compose -f {BASE_FILE}{select} up -d {}",
            service.name.value
        ));
    }
    header.push(format!("Run: docker compose -f {BASE_FILE} -f {DEV_FILE}{select} up --build"));
    let dev = file(
        header,
        model.services.iter().enumerate().filter_map(|(id, s)| compose.dev_service(id, s)).collect(),
    );
    planner.render(DEV_FILE, &dev, FileMode::Regular)?;

    let header = vec![
        format!("Release override of {BASE_FILE}: registry image names and platforms of every built image."),
        "Push the base images with the same REGISTRY and VERSION first, then, on a multi-platform builder:"
            .to_owned(),
        format!("REGISTRY=… VERSION=… docker compose -f {BASE_FILE} -f {PROD_FILE} build --push"),
    ];
    let prod = file(
        header,
        model.services.iter().enumerate().filter_map(|(id, s)| compose.prod_service(id, s)).collect(),
    );
    planner.render(PROD_FILE, &prod, FileMode::Regular)?;
    Ok(())
}

/// Each service's entries in the three files (base, dev, prod), as one value per service
/// in config order. `gscgen affected` compares them: a service must be redeployed when
/// what Compose is told about it changed, including what depends on other services (its
/// `depends_on` conditions, the profiles it inherits).
pub(crate) fn service_fingerprints(model: &Model, target: &ComposeTarget) -> Vec<String> {
    let compose = Compose::new(model, target);
    model
        .services
        .iter()
        .enumerate()
        .map(|(id, s)| {
            format!(
                "{:?}\n{:?}\n{:?}",
                compose.base_service(id, s),
                compose.dev_service(id, s),
                compose.prod_service(id, s)
            )
        })
        .collect()
}

/// Facts shared by the three files.
struct Compose<'a> {
    model: &'a Model,
    target: &'a ComposeTarget,
    /// The build of each image (same order as `model.images`): the same Dockerfile, stage,
    /// tags and arguments as the build scripts.
    builds: Vec<Build>,
    /// From the compose files' folder back to the project root.
    up: String,
    /// Profiles of each service after closing over `depends-on`; `None` = always on.
    profiles: Vec<Option<Vec<String>>>,
}

impl<'a> Compose<'a> {
    fn new(model: &'a Model, target: &'a ComposeTarget) -> Self {
        let depth = model.layout.compose.components().count();
        let up = if depth == 0 { ".".to_owned() } else { vec![".."; depth].join("/") };
        // One lookup table, not a search per image: projects have thousands of images.
        let mut by_dockerfile: std::collections::HashMap<camino::Utf8PathBuf, builds::Build> =
            builds::builds(model).into_iter().map(|b| (b.dockerfile.clone(), b)).collect();
        let builds = model
            .images
            .iter()
            .map(|image| {
                by_dockerfile
                    .remove(&model.project.output.join(crate::rules::layout::dockerfile_path(image)))
                    .expect("builds() has one build per image")
            })
            .collect();
        Self { model, target, builds, up, profiles: effective_profiles(model) }
    }

    /// A project-relative path as Compose resolves it from the compose file's folder.
    /// Always starts with `.` so that Compose never reads it as a named volume.
    fn project_path(&self, path: &str) -> String {
        if path.is_empty() || path == "." { self.up.clone() } else { format!("{}/{path}", self.up) }
    }

    fn image(&self, service: &Service) -> Option<(&'a Image, &Build)> {
        match service.source {
            ServiceSource::Image(id) => Some((&self.model.images[id], &self.builds[id])),
            ServiceSource::Prebuilt(_) => None,
        }
    }

    /// `${REGISTRY:-<configured>}/<name>:${VERSION:-latest}`, or without a configured
    /// registry `${REGISTRY:+${REGISTRY}/}<name>:…` (a plain local name when unset).
    /// Registry and repository names are validated: they hold no `$` to escape.
    fn release_ref(&self, repository: &str) -> String {
        let registry = match &self.model.project.registry {
            Some(registry) => format!("${{REGISTRY:-{registry}}}/"),
            None => "${REGISTRY:+${REGISTRY}/}".to_owned(),
        };
        yaml_scalar(&format!("{registry}{repository}:${{VERSION:-{LATEST}}}")).into_owned()
    }

    /// The registry build cache CI exports for an image, when there is a registry.
    fn cache_from(&self, image: &Image) -> Vec<String> {
        if self.model.project.registry.is_none() {
            return Vec::new();
        }
        let reference = self.model.qualified(&self.model.repository_name(image));
        vec![compose_value(&format!("type=registry,ref={reference}:{BUILDCACHE_TAG}")).into_owned()]
    }

    /// [`Self::cache_from`] in the registry the release is pushed to (`${REGISTRY:-…}`).
    fn release_cache_from(&self, image: &Image) -> Vec<String> {
        let Some(registry) = &self.model.project.registry else { return Vec::new() };
        let reference = format!("${{REGISTRY:-{registry}}}/{}", self.model.repository_name(image));
        vec![yaml_scalar(&format!("type=registry,ref={reference}:{BUILDCACHE_TAG}")).into_owned()]
    }

    fn build(&self, build: &Build) -> BuildView {
        BuildView {
            context: compose_value(&self.up).into_owned(),
            dockerfile: compose_value(build.dockerfile.as_str()).into_owned(),
            target: compose_value(build.target).into_owned(),
            args: build
                .args
                .iter()
                .map(|(k, v)| (yaml_key(k).into_owned(), compose_value(v).into_owned()))
                .collect(),
            network: None,
            cache_from: Vec::new(),
            platforms: Vec::new(),
        }
    }

    /// Every profile, in order of first appearance.
    fn all_profiles(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        for profile in self.profiles.iter().flatten().flatten() {
            if !all.contains(&profile.as_str()) {
                all.push(profile);
            }
        }
        all
    }

    fn profiles(&self, id: usize) -> Vec<String> {
        self.profiles[id].iter().flatten().map(|p| yaml_scalar(p).into_owned()).collect()
    }

    /// Literal values (every `$` escaped), then the host's variables (`env-host`).
    fn env(pairs: &[(String, String)], hosts: &[EnvHost]) -> Vec<EnvView> {
        let mut env: Vec<EnvView> = pairs
            .iter()
            .map(|(k, v)| EnvView {
                key: yaml_key(k).into_owned(),
                value: Some(compose_value(v).into_owned()),
            })
            .collect();
        env.extend(hosts.iter().map(|h| {
            let message = h.required.then(|| format!("{} is required", h.var));
            EnvView {
                key: yaml_key(&h.key).into_owned(),
                value: Some(compose_interpolation(&h.var, h.default.as_deref(), message.as_deref())),
            }
        }));
        env
    }

    fn base_service(&self, id: usize, service: &Service) -> ServiceView {
        let model = self.model;
        let (image, build) = match (&service.source, self.image(service)) {
            (_, Some((_, build))) => (compose_value(&build.tags[0]).into_owned(), Some(self.build(build))),
            (ServiceSource::Prebuilt(reference), None) => (compose_value(reference).into_owned(), None),
            (ServiceSource::Image(_), None) => unreachable!("a built service has an image"),
        };
        let mut environment = Self::env(&service.env, &service.env_host);
        // An environment variable secret passes the host's variable through; one read as a
        // file is named by `KEY_FILE`, the path of the Compose secret mounted below.
        environment.extend(service.env_secrets.iter().map(|e| {
            if e.as_file {
                EnvView {
                    key: yaml_key(&file_variable(&e.key)).into_owned(),
                    value: Some(compose_value(&file_path(&e.key)).into_owned()),
                }
            } else {
                EnvView { key: yaml_key(&e.key).into_owned(), value: None }
            }
        }));
        let mut volumes: Vec<VolumeView> = service
            .volumes
            .iter()
            .map(|v| VolumeView {
                kind: "volume",
                source: yaml_scalar(&v.name).into_owned(),
                target: compose_value(&v.target).into_owned(),
                read_only: v.read_only,
            })
            .collect();
        volumes.extend(service.mounts.iter().map(|m| self.bind(m)));
        let mut depends_on: Vec<(String, &'static str)> = Vec::new();
        let mut seen = Vec::new();
        for &dependency in &service.depends_on {
            if seen.contains(&dependency) {
                continue;
            }
            seen.push(dependency);
            let other = &model.services[dependency];
            let stated = service.depends_conditions.iter().find(|(d, _)| *d == dependency);
            let condition = if let Some((_, stated)) = stated {
                condition_word(stated)
            } else if other.oneshot {
                "service_completed_successfully"
            } else if self.health(other).is_some() {
                "service_healthy"
            } else {
                "service_started"
            };
            depends_on.push((yaml_key(&other.name.value).into_owned(), condition));
        }
        ServiceView {
            key: yaml_key(&service.name.value).into_owned(),
            image: Some(image),
            build,
            profiles: self.profiles(id),
            entrypoint: service.entrypoint.iter().map(|a| compose_value(a).into_owned()).collect(),
            command: service.cmd.iter().map(|a| compose_value(a).into_owned()).collect(),
            // The gid is the uid, as in the Dockerfiles (`USER uid:uid`) and Kubernetes.
            user: service.user.map(|uid| yaml_scalar(&format!("{uid}:{uid}")).into_owned()),
            environment,
            env_files: service
                .env_files
                .iter()
                .map(|f| compose_value(&self.project_path(f)).into_owned())
                .collect(),
            secrets: service
                .secrets
                .iter()
                .map(|s| {
                    (
                        yaml_scalar(&model.secrets[s.secret].name.value).into_owned(),
                        compose_value(&s.target).into_owned(),
                    )
                })
                .chain(service.env_secrets.iter().filter(|e| e.as_file).map(|e| {
                    (yaml_scalar(&e.key).into_owned(), compose_value(file_name(&e.key)).into_owned())
                }))
                .collect(),
            ports: service
                .ports
                .iter()
                .filter_map(|p| {
                    p.host.map(|host| yaml_scalar(&published(p.host_ip, host, p.container)).into_owned())
                })
                .collect(),
            expose: service
                .ports
                .iter()
                .filter(|p| p.host.is_none())
                .map(|p| yaml_scalar(&p.container.to_string()).into_owned())
                .collect(),
            volumes,
            networks: vec![yaml_scalar(&model.project.network).into_owned()],
            depends_on,
            healthcheck: self.health(service).map(health_view),
            restart: Some(yaml_scalar(&service.restart).into_owned()),
            read_only: service.hardening.read_only,
            tmpfs: self.tmpfs(service).iter().map(|p| compose_value(p).into_owned()).collect(),
            security_opt: if service.hardening.no_new_privileges {
                vec![yaml_scalar("no-new-privileges:true").into_owned()]
            } else {
                Vec::new()
            },
            cap_drop: vec!["ALL".to_owned()],
            cap_add: service.hardening.cap_add.iter().map(|c| yaml_scalar(c).into_owned()).collect(),
            extra: extra_lines(&service.compose_extra),
            limits: (service.limits_cpus.is_some() || service.limits_memory.is_some()).then(|| LimitsView {
                cpus: service.limits_cpus.as_deref().map(|c| compose_value(c).into_owned()),
                memory: service.limits_memory.as_deref().map(|m| compose_value(m).into_owned()),
            }),
        }
    }

    /// The tmpfs folders of a service with a read-only root: `/tmp`, its image's `writable`
    /// folders, then its own `hardening` ones, each once, except where a volume, mount or
    /// secret already puts something writable (or read-only on purpose) at that path.
    fn tmpfs(&self, service: &Service) -> Vec<String> {
        if !service.hardening.read_only {
            return Vec::new();
        }
        let image_writable =
            self.image(service).map(|(image, _)| image.writable.as_slice()).unwrap_or_default();
        let mounted = |path: &str| {
            service.volumes.iter().any(|v| v.target == path)
                || service.mounts.iter().any(|m| m.target == path)
                || service.secrets.iter().any(|s| s.target == path)
        };
        let mut tmpfs: Vec<String> = Vec::new();
        for path in std::iter::once("/tmp")
            .chain(image_writable.iter().map(String::as_str))
            .chain(service.hardening.writable.iter().map(String::as_str))
        {
            let path = path.trim_end_matches('/');
            if !path.is_empty() && !mounted(path) && !tmpfs.iter().any(|t| t == path) {
                tmpfs.push(path.to_owned());
            }
        }
        tmpfs
    }

    /// Every built service (for the build caches) and every service with `dev` settings.
    fn dev_service(&self, id: usize, service: &Service) -> Option<ServiceView> {
        let dev = &service.dev;
        let has_dev = !dev.mounts.is_empty()
            || !dev.cmd.is_empty()
            || !dev.env.is_empty()
            || !dev.env_host.is_empty()
            || !dev.compose_extra.is_empty();
        let (image, build) = match (&service.source, self.image(service)) {
            (_, Some((image, build))) => {
                let mut view = self.build(build);
                if let Some(cache) = &self.target.pypi_cache {
                    view.args
                        .push((ARG_PIP_INDEX_URL.to_owned(), compose_value(&cache.index_url).into_owned()));
                    // BuildKit runs builds on the default or the host network only, never on a
                    // Compose network: the mirror is reached on its published host port.
                    view.network = Some("host".to_owned());
                }
                view.cache_from = self.cache_from(image);
                (compose_value(&build.tags[0]).into_owned(), Some(view))
            }
            (ServiceSource::Prebuilt(_), None) if !has_dev => return None,
            (ServiceSource::Prebuilt(reference), None) => (compose_value(reference).into_owned(), None),
            (ServiceSource::Image(_), None) => unreachable!("a built service has an image"),
        };
        Some(ServiceView {
            key: yaml_key(&service.name.value).into_owned(),
            image: Some(image),
            build,
            profiles: self.profiles(id),
            command: dev.cmd.iter().map(|a| compose_value(a).into_owned()).collect(),
            environment: Self::env(&dev.env, &dev.env_host),
            volumes: dev.mounts.iter().map(|m| self.bind(m)).collect(),
            extra: extra_lines(&dev.compose_extra),
            ..ServiceView::default()
        })
    }

    /// Every built service: its release image name, base images from the same registry and
    /// version, and every configured platform.
    fn prod_service(&self, id: usize, service: &Service) -> Option<ServiceView> {
        let (image, build) = self.image(service)?;
        let model = self.model;
        let bases = [
            (ARG_BASE_BUILDER, builds::base_builder_repository(model)),
            (ARG_BASE_RUNTIME, model.base_repository_name()),
        ];
        let mut view = self.build(build);
        view.args = build
            .args
            .iter()
            .map(|(name, value)| {
                let value = match bases.iter().find(|(arg, _)| arg == name) {
                    Some((_, repository)) => self.release_ref(repository),
                    None => compose_value(value).into_owned(),
                };
                (yaml_key(name).into_owned(), value)
            })
            .collect();
        view.cache_from = self.release_cache_from(image);
        view.platforms = model.project.platforms.iter().map(|p| yaml_scalar(p).into_owned()).collect();
        Some(ServiceView {
            key: yaml_key(&service.name.value).into_owned(),
            image: Some(self.release_ref(&model.repository_name(image))),
            build: Some(view),
            profiles: self.profiles(id),
            ..ServiceView::default()
        })
    }

    fn bind(&self, mount: &Mount) -> VolumeView {
        VolumeView {
            kind: "bind",
            source: compose_value(&self.project_path(&mount.source)).into_owned(),
            target: compose_value(&mount.target).into_owned(),
            read_only: !mount.writable,
        }
    }

    /// The service's own health check, else its image's.
    fn health(&self, service: &'a Service) -> Option<&'a HealthDecl> {
        let health =
            service.health.as_ref().or_else(|| self.image(service).and_then(|(i, _)| i.health.as_ref()))?;
        health.check.as_ref().map(|_| health)
    }

    /// Named volumes in order of first use.
    fn volume_names(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.model
            .services
            .iter()
            .flat_map(|service| service.volumes.iter().map(|v| v.name.as_str()))
            .filter(|name| seen.insert(*name))
            .map(|n| yaml_key(n).into_owned())
            .collect()
    }
}

/// Indentation of a service's keys in the Compose files.
const SERVICE_KEY_INDENT: usize = 4;

/// `compose-extra` entries as the lines of a block mapping at the service's indentation.
/// Keys go through [`yaml_key`], strings through [`compose_value`] (so `$` stays literal, as
/// everywhere else), numbers and booleans are written plain (the parser made them portable).
fn extra_lines(entries: &[YamlEntry]) -> Vec<String> {
    let mut lines = Vec::new();
    mapping_lines(entries, SERVICE_KEY_INDENT, &mut lines);
    lines
}

fn mapping_lines(entries: &[YamlEntry], indent: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    for entry in entries {
        let key = yaml_key(&entry.key.value);
        match &entry.value {
            YamlValue::Scalar(scalar) => lines.push(format!("{pad}{key}: {}", scalar_text(scalar))),
            YamlValue::Mapping(inner) if inner.is_empty() => lines.push(format!("{pad}{key}: {{}}")),
            YamlValue::Mapping(inner) => {
                lines.push(format!("{pad}{key}:"));
                mapping_lines(inner, indent + 2, lines);
            }
            YamlValue::Sequence(items) => {
                lines.push(format!("{pad}{key}:"));
                sequence_lines(items, indent + 2, lines);
            }
        }
    }
}

/// Block sequence items at `indent`; a collection item starts on the `- ` line (compact
/// form), its further lines aligned under its first.
fn sequence_lines(items: &[YamlValue], indent: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    for item in items {
        let mut nested = Vec::new();
        match item {
            YamlValue::Scalar(scalar) => nested.push(format!("{pad}  {}", scalar_text(scalar))),
            YamlValue::Mapping(inner) if inner.is_empty() => nested.push(format!("{pad}  {{}}")),
            YamlValue::Mapping(inner) => mapping_lines(inner, indent + 2, &mut nested),
            YamlValue::Sequence(inner) => sequence_lines(inner, indent + 2, &mut nested),
        }
        if let Some(first) = nested.first_mut() {
            *first = format!("{pad}- {}", &first[indent + 2..]);
        }
        lines.extend(nested);
    }
}

fn scalar_text(scalar: &YamlScalar) -> String {
    match scalar {
        YamlScalar::String(s) => compose_value(s).into_owned(),
        YamlScalar::Number(n) => n.clone(),
        YamlScalar::Bool(b) => b.to_string(),
    }
}

fn health_view(health: &HealthDecl) -> HealthView {
    let mut test = vec!["CMD".to_owned()];
    match &health.check {
        Some(HealthCheckDecl::Exec(command)) => {
            test.extend(command.args.iter().map(|a| compose_value(&a.value).into_owned()));
        }
        Some(HealthCheckDecl::Http { path, port }) => {
            // Built images have Python (an HTTP check on a pre-built image is a compile
            // error). urlopen raises, so exits non-zero, on a refused connection and on any
            // status >= 400; redirects are followed. A JSON string literal is also a Python
            // string literal with the same value.
            let url = format!("http://localhost:{}{}", port.value, path.value);
            let script = format!("import urllib.request; urllib.request.urlopen({})", json_string(&url));
            test.extend(["python3", "-c", &script].map(|a| compose_value(a).into_owned()));
        }
        None => {}
    }
    HealthView {
        test,
        interval: health.interval.as_ref().map(|t| compose_value(&t.value).into_owned()),
        timeout: health.timeout.as_ref().map(|t| compose_value(&t.value).into_owned()),
        start_period: health.start_period.as_ref().map(|t| compose_value(&t.value).into_owned()),
        retries: health.retries.as_ref().map(|r| r.value.to_string()),
    }
}

/// Profiles of every service, closed over `depends-on`: a dependency is enabled whenever a
/// service that depends on it is (Compose refuses to start a service whose dependency's
/// profiles are all off). `None` means no profile: always on.
fn effective_profiles(model: &Model) -> Vec<Option<Vec<String>>> {
    let mut profiles: Vec<Option<Vec<String>>> =
        model.services.iter().map(|s| (!s.profiles.is_empty()).then(|| s.profiles.clone())).collect();
    loop {
        let mut changed = false;
        for (id, service) in model.services.iter().enumerate() {
            for &dependency in &service.depends_on {
                if dependency == id {
                    continue;
                }
                let Some(wanted) = profiles[id].clone() else {
                    if profiles[dependency].take().is_some() {
                        changed = true;
                    }
                    continue;
                };
                if let Some(have) = &mut profiles[dependency] {
                    for profile in wanted {
                        if !have.contains(&profile) {
                            have.push(profile);
                            changed = true;
                        }
                    }
                }
            }
        }
        if !changed {
            return profiles;
        }
    }
}

/// A published port in Compose's short syntax, bound to one host address:
/// `127.0.0.1:5432:5432`, `[::1]:5432:5432`.
fn published(ip: std::net::IpAddr, host: u16, container: u16) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}:{host}:{container}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{host}:{container}"),
    }
}

/// A condition resolve checked, as the `'static` word the view holds.
fn condition_word(condition: &str) -> &'static str {
    match condition {
        "service_healthy" => "service_healthy",
        "service_completed_successfully" => "service_completed_successfully",
        _ => "service_started",
    }
}
