//! Resolve: names, include graph, closures, cross-artifact rules, then defaults — once, at
//! the end. Every problem is collected; a model is returned only when there is no error.

mod compose;
mod dependency_groups;
mod docker;
mod env_host;
mod env_sets;
mod groups;
mod hardening;
mod hatches;
mod indexes;
mod k8s_jobs;
mod k8s_network;
mod k8s_patch;
mod k8s_volumes;
mod kubernetes;
pub mod locks;
mod names;
mod placement;
mod programs;
mod secret_files;
mod workflow;

use std::collections::HashMap;

use camino::Utf8PathBuf;
use miette::SourceSpan;

use crate::config::*;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, NameIndex, did_you_mean, some_of};
use crate::model::*;
use crate::rules::names::dns_name;
use crate::rules::paths::{clean_relative, clean_relative_or_root};

/// Resolves a parsed configuration into the model. `None` when any error was found.
pub fn resolve(config: &Config) -> (Option<Model>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    // Shared environment first: every later rule sees each service's whole environment.
    let config = env_sets::expand(config, &mut diagnostics);
    let model = Resolver { config: &config, diagnostics: &mut diagnostics }.run();
    let model = if diagnostics.has_errors() { None } else { model };
    (model, diagnostics)
}

struct Resolver<'a> {
    config: &'a Config,
    diagnostics: &'a mut Diagnostics,
}

/// Checks names of one kind: valid, unique, and unique after `_` → `-` (they become DNS
/// names and image repositories, where `api_ingestor` and `api-ingestor` are the same).
fn index_names<'c>(kind: &str, names: &[&'c Text], diagnostics: &mut Diagnostics) -> HashMap<&'c str, usize> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    let mut normalised: HashMap<String, usize> = HashMap::with_capacity(names.len());
    for (id, name) in names.iter().enumerate() {
        if let Some(d) = names::check_name(kind, name) {
            diagnostics.push(d);
        }
        if let Some(&first) = index.get(name.value.as_str()) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("{kind} `{}` is declared twice", name.value),
                    name.span,
                    "second declaration",
                )
                .with_label(names[first].span, "first declaration")
                .with_help(format!("rename one of them, or merge them into one {kind}")),
            );
            continue;
        }
        index.insert(&name.value, id);
        let dns = dns_name(&name.value);
        if let Some(&first) = normalised.get(&dns) {
            diagnostics.push(
                Diagnostic::error(
                    Code::NameCollision,
                    format!("{kind} `{}` and `{}` both become `{dns}`", names[first].value, name.value),
                    name.span,
                    format!("becomes `{dns}`"),
                )
                .with_label(names[first].span, format!("also becomes `{dns}`"))
                .with_help(
                    "image repositories and Kubernetes names use `-` for `_`: rename one of them so they differ \
                     by more than `_`/`-`",
                ),
            );
        } else {
            normalised.insert(dns, id);
        }
    }
    index
}

fn texts(values: &[Text]) -> Vec<String> {
    values.iter().map(|t| t.value.clone()).collect()
}

pub(super) fn command(cmd: Option<&CommandDecl>) -> Vec<String> {
    cmd.map(|c| texts(&c.args)).unwrap_or_default()
}

pub(super) fn env_secrets(values: &[EnvSecretDecl]) -> Vec<EnvSecret> {
    values
        .iter()
        .map(|e| EnvSecret {
            key: e.key.value.clone(),
            secret: e.secret.value.clone(),
            secret_key: e.secret_key.value.clone(),
            as_file: e.as_file.as_ref().is_some_and(|a| a.value),
            compose_file: e.file.as_ref().map(|f| clean_relative(&f.value)),
        })
        .collect()
}

/// Whether a service serves its image's `expose`d ports: as written (`serves`), else when
/// it runs its image's own command (no `cmd` of its own). A worker or a scheduler that runs
/// the web image with another command serves none of them; its own `port`s it always does.
pub(super) fn serves(service: &ServiceDecl) -> bool {
    service.serves.as_ref().map_or(service.cmd.is_none(), |s| s.value)
}

pub(super) fn env_host(values: &[EnvHostDecl]) -> Vec<EnvHost> {
    values
        .iter()
        .map(|e| EnvHost {
            key: e.key.value.clone(),
            var: e.var.as_ref().map_or_else(|| e.key.value.clone(), |v| v.value.clone()),
            default: e.default.as_ref().map(|d| d.value.clone()),
            required: e.required.as_ref().is_some_and(|r| r.value),
        })
        .collect()
}

pub(super) fn env(values: &[EnvDecl]) -> Vec<(String, String)> {
    values.iter().map(|e| (e.key.value.clone(), e.value.value.clone())).collect()
}

impl Resolver<'_> {
    fn push(&mut self, diagnostic: Option<Diagnostic>) {
        if let Some(d) = diagnostic {
            self.diagnostics.push(d);
        }
    }

    fn run(mut self) -> Option<Model> {
        let config = self.config;
        let project = self.project();
        let targets = self.targets();
        let layout = placement::layout(
            config,
            &project.as_ref().map_or_else(|| Utf8PathBuf::from("generated"), |p| p.output.clone()),
            self.diagnostics,
        );

        let group_names: Vec<&Text> = config.groups.iter().map(|g| &g.name).collect();
        let group_index = index_names("group", &group_names, self.diagnostics);
        let known_groups: Vec<&str> = group_names.iter().map(|n| n.value.as_str()).collect();
        let mut resolved = groups::resolve_groups(&config.groups, &group_index, self.diagnostics);
        for group in &config.groups {
            if group.requires.is_empty() && group.includes.is_empty() {
                self.diagnostics.push(
                    Diagnostic::warning(
                        Code::EmptyGroup,
                        format!("group `{}` is empty", group.name.value),
                        group.name.span,
                        "no include, no require",
                    )
                    .with_help("add `require` lines or remove the group"),
                );
            }
        }

        let known_groups_index = NameIndex::new(known_groups.iter().copied());
        let lookup_groups = |list: &[Text], diagnostics: &mut Diagnostics| -> Vec<Spanned<GroupId>> {
            list.iter()
                .filter_map(|n| {
                    groups::lookup(&group_index, &known_groups, &known_groups_index, n, diagnostics)
                        .map(|id| Spanned::new(id, n.span))
                })
                .collect()
        };

        let base_decl = config.base_image.as_ref();
        let base_groups = base_decl.map(|b| lookup_groups(&b.groups, self.diagnostics)).unwrap_or_default();

        let image_names: Vec<&Text> = config.images.iter().map(|i| &i.name).collect();
        let image_index = index_names("image", &image_names, self.diagnostics);
        let image_groups: Vec<Vec<Spanned<GroupId>>> =
            config.images.iter().map(|i| lookup_groups(&i.groups, self.diagnostics)).collect();
        // A package may be declared once in everything an image installs: the base image's
        // groups and its own, even when they do not include each other.
        if let Some(resolved) = resolved.as_mut() {
            let base_ids = Model::ids(&base_groups);
            resolved.check_together("the base image", &base_ids, self.diagnostics);
            for (decl, groups) in config.images.iter().zip(&image_groups) {
                let mut roots = base_ids.clone();
                roots.extend(groups.iter().map(|g| g.value).filter(|g| !base_ids.contains(g)));
                resolved.check_together(&format!("image `{}`", decl.name.value), &roots, self.diagnostics);
            }
        }
        self.check_images();

        let service_names: Vec<&Text> = config.services.iter().map(|s| &s.name).collect();
        let service_index = index_names("service", &service_names, self.diagnostics);
        let secret_names: Vec<&Text> = config.secrets.iter().map(|s| &s.name).collect();
        let secret_index = index_names("secret", &secret_names, self.diagnostics);
        let services = self.services(&image_index, &service_index, &secret_index);
        self.check_unused_images(&services);
        let compose_target = compose::target(config, &service_index, self.diagnostics);
        compose::check(config, &service_index, compose_target.is_some(), self.diagnostics);
        let docker_target = docker::target(config, project.as_ref().map(|p| p.python), self.diagnostics);
        self.check_secrets();
        let dockerignore = self.dockerignore();
        docker::check_config(config, docker_target.as_ref(), &dockerignore, self.diagnostics);
        hatches::check_dockerfile_extras(config, docker_target.as_ref(), self.diagnostics);
        hatches::check_compose_extras(config, self.diagnostics);
        let kubernetes_target = kubernetes::target(config, self.diagnostics);
        secret_files::check(config, compose_target.is_some(), kubernetes_target.is_some(), self.diagnostics);
        env_host::check(config, compose_target.is_some(), self.diagnostics);
        let workflow_target = workflow::target(config, self.diagnostics);
        if workflow_target.is_some() {
            workflow::check_build_args(config, self.diagnostics);
        }
        let dependency_groups_target = dependency_groups::target(config, self.diagnostics);
        if kubernetes_target.is_some() {
            kubernetes::check(config, &image_index, self.diagnostics);
            k8s_volumes::check(config, self.diagnostics);
            k8s_jobs::check(config, self.diagnostics);
        }

        let mut resolved = resolved?;
        let locked = targets.requirements.as_ref().is_some_and(|r| r.lock.is_some());
        let indexes = indexes::resolve(config, &mut resolved.groups, locked, self.diagnostics);
        let project = project?;
        if self.diagnostics.has_errors() {
            return None;
        }

        // Defaults, once, at the end.
        let base = BaseImage {
            from: base_decl.and_then(|b| b.from.as_ref()).map_or_else(
                || docker::default_from(docker_target.as_ref(), project.python),
                |f| f.value.clone(),
            ),
            build_packages: base_decl.map(|b| texts(&b.build_packages)).unwrap_or_default(),
            runtime_packages: base_decl.map(|b| texts(&b.runtime_packages)).unwrap_or_default(),
            closure: closure(&resolved.groups, &resolved.rank, &Model::ids(&base_groups)),
            groups: base_groups,
            dockerfile_extra: base_decl
                .map(|b| hatches::resolve_dockerfile_extra(&b.dockerfile_extra))
                .unwrap_or_default(),
        };
        let images = config
            .images
            .iter()
            .zip(image_groups)
            .map(|(decl, groups)| self.image(decl, groups, &resolved, &project))
            .collect();
        let mut model = Model {
            project,
            // The compose target names a service, so it is resolved after the services.
            targets: Targets {
                compose: compose_target,
                docker: docker_target,
                kubernetes: kubernetes_target,
                github_workflow: workflow_target,
                dependency_groups: dependency_groups_target,
                ..targets
            },
            layout,
            groups: resolved.groups,
            group_rank: resolved.rank,
            locks: Vec::new(),
            indexes,
            base,
            images,
            services,
            secrets: config
                .secrets
                .iter()
                .map(|s| Secret {
                    name: s.name.clone(),
                    file: s
                        .file
                        .as_ref()
                        .map_or_else(|| format!("secrets/{}", s.name.value), |f| clean_relative(&f.value)),
                })
                .collect(),
            dockerignore,
        };
        if model.targets.kubernetes.is_some() {
            kubernetes::apply(config, &mut model);
            k8s_volumes::apply(config, &mut model);
            k8s_network::check(config, &model, self.diagnostics);
            // Patches are checked against the objects, which need every service resolved.
            k8s_patch::resolve(config, &mut model, self.diagnostics);
        }
        // Rules across the Dockerfiles, `.dockerignore` and scripts need the closures.
        docker::check(config, &model, self.diagnostics);
        hatches::check_before_install(config, &model, self.diagnostics);
        // A locked project's programs are checked against its locks, once the driver has
        // handed them in (`locks::attach`): a lock knows every package, dependencies too.
        if !locked {
            programs::check(config, &model, self.diagnostics);
        }
        Some(model)
    }

    fn project(&mut self) -> Option<Project> {
        let Some(decl) = &self.config.project else {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::MissingNode,
                    "the `project` node is missing",
                    SourceSpan::from(0..0),
                    "expected `project` here",
                )
                .with_help("start the file with `project my-app { python \"3.11\" }`"),
            );
            return None;
        };
        self.push(names::check_name("project", &decl.name));
        let python = match &decl.python {
            None if decl.python_declared => None,
            None => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::MissingNode,
                        "the project does not say which Python it uses",
                        decl.name.span,
                        "no `python` in this project",
                    )
                    .with_help("add `python \"3.11\"` inside `project { … }`"),
                );
                None
            }
            Some(text) => {
                let parsed = text.value.split_once('.').and_then(|(major, minor)| {
                    Some(PythonVersion { major: major.parse().ok()?, minor: minor.parse().ok()? })
                });
                match parsed {
                    Some(v) if v.major == 3 && v.minor >= 8 => Some(v),
                    _ => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::InvalidPythonVersion,
                                format!("`{}` is not a supported Python version", text.value),
                                text.span,
                                "expected major.minor",
                            )
                            .with_help(
                                "write the major and minor version of CPython 3.8 or later, e.g. \"3.12\"",
                            ),
                        );
                        None
                    }
                }
            }
        };
        if let Some(prefix) = &decl.image_prefix {
            self.push(names::check_name("image prefix", prefix));
        }
        if let Some(network) = &decl.network {
            self.push(names::check_name("network", network));
        }
        if let Some(output) = &decl.output {
            self.push(names::check_relative_path("output folder", output));
        }
        if let Some(registry) = &decl.registry {
            let valid = !registry.value.is_empty()
                && registry.value.split('/').all(|c| {
                    !c.is_empty()
                        && c.chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-:".contains(ch))
                });
            if !valid {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{}` is not a valid registry path", registry.value),
                        registry.span,
                        "invalid registry",
                    )
                    .with_help(
                        "write a lowercase host and path such as \"ghcr.io/acme/site-data-warehouse\"",
                    ),
                );
            }
        }
        for platform in &decl.platforms {
            let valid = matches!(platform.value.split('/').collect::<Vec<_>>().as_slice(),
                [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty()
                    && platform.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '_'));
            if !valid {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{}` is not a platform", platform.value),
                        platform.span,
                        "expected os/arch",
                    )
                    .with_help("write platforms as os/arch[/variant], e.g. \"linux/amd64\" \"linux/arm64\""),
                );
            }
        }
        let python = python?;
        let image_prefix =
            decl.image_prefix.as_ref().map_or_else(|| decl.name.value.clone(), |p| p.value.clone());
        Some(Project {
            name: decl.name.value.clone(),
            python,
            registry: decl.registry.as_ref().map(|r| r.value.clone()),
            network: decl
                .network
                .as_ref()
                .map_or_else(|| format!("{image_prefix}_network"), |n| n.value.clone()),
            image_prefix,
            output: Utf8PathBuf::from(
                decl.output.as_ref().map_or_else(|| "generated".to_owned(), |o| clean_relative(&o.value)),
            ),
            platforms: if decl.platforms.is_empty() {
                vec!["linux/amd64".to_owned()]
            } else {
                texts(&decl.platforms)
            },
            default_branch: decl
                .default_branch
                .as_ref()
                .map_or_else(|| "main".to_owned(), |b| b.value.clone()),
            uid: decl.uid.as_ref().map_or(1000, |u| u.value),
        })
    }

    fn targets(&mut self) -> Targets {
        match &self.config.targets {
            // No `targets` node: every artifact family, with its defaults.
            None => Targets {
                requirements: Some(RequirementsTarget { lock: None }),
                compose: None,
                docker: None,
                kubernetes: None,
                github_workflow: None,
                dependency_groups: None,
            },
            Some(decl) => {
                if decl.requirements.is_none()
                    && decl.compose.is_none()
                    && decl.docker.is_none()
                    && decl.kubernetes.is_none()
                    && decl.github_workflow.is_none()
                    && decl.dependency_groups.is_none()
                {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            Code::NoTargets,
                            "`targets` lists nothing to render",
                            decl.span,
                            "empty",
                        )
                        .with_help(
                            "list what to render (`requirements`, `docker`, `compose`, `github-workflow`, \
                             `kubernetes`, `dependency-groups`), or remove `targets` to render `requirements`, `docker` and `compose`",
                        ),
                    );
                }
                Targets {
                    requirements: decl.requirements.as_ref().map(|r| RequirementsTarget {
                        lock: r.lock.as_ref().filter(|l| l.value).map(|l| l.span),
                    }),
                    compose: None,
                    docker: None,
                    kubernetes: None,
                    github_workflow: None,
                    dependency_groups: None,
                }
            }
        }
    }

    /// The checked `host-ip` of a port, or the loopback default.
    fn host_ip(&mut self, port: &PortDecl) -> std::net::IpAddr {
        let Some(text) = &port.host_ip else { return Port::DEFAULT_HOST_IP };
        let Ok(ip) = text.value.parse::<std::net::IpAddr>() else {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not an IP address", text.value.escape_debug()),
                    text.span,
                    "expected an IPv4 or IPv6 address",
                )
                .with_help(
                    "write the host address to bind, e.g. host-ip=\"0.0.0.0\" (every interface) or \
                     host-ip=\"127.0.0.1\" (the default)",
                ),
            );
            return Port::DEFAULT_HOST_IP;
        };
        if port.host.is_none() {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::MissingProperty,
                    "`host-ip` binds a published port, but this port is not published",
                    text.span,
                    "no `host=`",
                )
                .with_help(format!(
                    "publish the port on the host with `host=`, e.g. `port {0} host={0} host-ip=\"{ip}\"`, \
                     or remove `host-ip`",
                    port.container.value
                )),
            );
        }
        ip
    }

    fn check_images(&mut self) {
        let mut dockerfiles: HashMap<&str, SourceSpan> = HashMap::new();
        for image in &self.config.images {
            let dockerfile = image.dockerfile.as_ref().unwrap_or(&image.name);
            if image.dockerfile.is_some() {
                self.push(names::check_name("Dockerfile", dockerfile));
            }
            if dockerfile.value == "base" {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        "`base` is reserved for the shared base image's Dockerfile",
                        dockerfile.span,
                        "reserved",
                    )
                    .with_help("rename this image, or set `dockerfile \"…\"` to another name"),
                );
            }
            if let Some(first) = dockerfiles.insert(&dockerfile.value, dockerfile.span) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicateDockerfile,
                        format!("two images render `Dockerfile.{}`", dockerfile.value),
                        dockerfile.span,
                        "second image",
                    )
                    .with_label(first, "first image")
                    .with_help(
                        "images that share a Dockerfile are one image: let services share it with `image=`",
                    ),
                );
            }
            for copy in &image.copies {
                self.push(names::check_relative_path("copy source", &copy.source));
                self.push(names::check_container_path("copy target", &copy.target));
            }
            if let Some(workdir) = &image.workdir {
                self.push(names::check_container_path("workdir", workdir));
            }
            for path in &image.writable {
                self.push(names::check_container_path("writable path", path));
            }
        }
    }

    fn image(
        &self,
        decl: &ImageDecl,
        groups: Vec<Spanned<GroupId>>,
        resolved: &groups::ResolvedGroups,
        project: &Project,
    ) -> Image {
        let user = match &decl.user {
            Some(UserDecl { root: Some(root), .. }) if root.value => User::Root,
            // A plain image's user exists in its `from` image: resolve requires its uid.
            Some(UserDecl { uid: Some(uid), name, .. }) if decl.from.is_some() => User::NonRoot {
                name: name.as_ref().map_or_else(|| uid.value.to_string(), |n| n.value.clone()),
                uid: uid.value,
            },
            _ if decl.from.is_some() => User::Inherited,
            Some(user) => User::NonRoot {
                name: user.name.as_ref().map_or_else(|| "app".to_owned(), |n| n.value.clone()),
                uid: user.uid.as_ref().map_or(project.uid, |u| u.value),
            },
            None => User::NonRoot { name: "app".to_owned(), uid: project.uid },
        };
        Image {
            name: decl.name.clone(),
            dockerfile: decl.dockerfile.as_ref().unwrap_or(&decl.name).value.clone(),
            from: decl.from.as_ref().map(|f| f.value.clone()),
            closure: closure(&resolved.groups, &resolved.rank, &Model::ids(&groups)),
            groups,
            copies: decl
                .copies
                .iter()
                .map(|c| Copy {
                    source: Spanned::new(clean_relative_or_root(&c.source.value), c.source.span),
                    target: c.target.value.clone(),
                })
                .collect(),
            workdir: match (&decl.workdir, &decl.from) {
                (Some(workdir), _) => Some(workdir.value.clone()),
                (None, Some(_)) => None,
                (None, None) => Some("/app".to_owned()),
            },
            env: env(&decl.env),
            writable: texts(&decl.writable),
            build_packages: texts(&decl.build_packages),
            runtime_packages: texts(&decl.runtime_packages),
            cmd: command(decl.cmd.as_ref()),
            entrypoint: command(decl.entrypoint.as_ref()),
            user,
            expose: decl.expose.iter().map(|p| p.value).collect(),
            health: decl.health.clone(),
            preload: decl.preload.iter().map(|p| texts(&p.args)).collect(),
            dockerfile_extra: hatches::resolve_dockerfile_extra(&decl.dockerfile_extra),
            build_args: decl
                .build_args
                .iter()
                .map(|a| (a.name.value.clone(), a.value.value.clone()))
                .collect(),
        }
    }

    fn services(
        &mut self,
        images: &HashMap<&str, ImageId>,
        services: &HashMap<&str, usize>,
        secrets: &HashMap<&str, usize>,
    ) -> Vec<Service> {
        let config = self.config;
        let image_names: Vec<&str> = config.images.iter().map(|i| i.name.value.as_str()).collect();
        let service_names: Vec<&str> = config.services.iter().map(|s| s.name.value.as_str()).collect();
        let secret_names: Vec<&str> = config.secrets.iter().map(|s| s.name.value.as_str()).collect();
        let image_names = (image_names.as_slice(), NameIndex::new(image_names.iter().copied()));
        let service_names = (service_names.as_slice(), NameIndex::new(service_names.iter().copied()));
        let secret_names = (secret_names.as_slice(), NameIndex::new(secret_names.iter().copied()));
        let mut out = Vec::with_capacity(config.services.len());
        for decl in &config.services {
            let source = match (&decl.image, &decl.from) {
                (Some(image), None) => match images.get(image.value.as_str()) {
                    Some(id) => Some(ServiceSource::Image(*id)),
                    None => {
                        self.unknown(Code::UnknownImage, "image", image, &image_names);
                        None
                    }
                },
                (None, Some(from)) => docker::check_reference(self.diagnostics, "pre-built image", from)
                    .then(|| {
                        docker::check_pinned(
                            self.diagnostics,
                            "pre-built image",
                            from,
                            decl.unpinned.as_ref(),
                        );
                        ServiceSource::Prebuilt(from.value.clone())
                    }),
                (Some(image), Some(from)) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::ImageSource,
                            format!(
                                "service `{}` names both a built image and a pre-built one",
                                decl.name.value
                            ),
                            from.span,
                            "pre-built image",
                        )
                        .with_label(image.span, "built image")
                        .with_help(
                            "keep `image=` for an image this project builds, or `from=` for a pre-built one",
                        ),
                    );
                    None
                }
                (None, None) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::ImageSource,
                            format!("service `{}` does not say what it runs", decl.name.value),
                            decl.name.span,
                            "no image",
                        )
                        .with_help(
                            "add `image=<built image>` or `from=\"postgres:16-alpine\"` to the service node",
                        ),
                    );
                    None
                }
            };
            if let (Some(unpinned), None) = (&decl.unpinned, &decl.from) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!(
                            "`unpinned=` on service `{}`, which runs no pre-built image",
                            decl.name.value
                        ),
                        unpinned.span,
                        "nothing to acknowledge",
                    )
                    .with_help(
                        "`unpinned=` acknowledges a `from=` without a version tag or digest: remove it",
                    ),
                );
            }
            for profile in &decl.profiles {
                self.push(names::check_name("profile", profile));
            }
            let mut depends_conditions: Vec<(usize, String)> = Vec::new();
            let depends_on = decl
                .depends_on
                .iter()
                .filter_map(|d| match services.get(d.name.value.as_str()) {
                    Some(id) => {
                        if let Some(condition) = &d.condition {
                            depends_conditions.push((*id, condition.value.clone()));
                        }
                        Some(*id)
                    }
                    None => {
                        self.unknown(Code::UnknownService, "service", &d.name, &service_names);
                        None
                    }
                })
                .collect();
            // A secret's target is a file name under /run/secrets/ or an absolute path in the
            // container; it must not climb out with `..`.
            for target in decl.secrets.iter().filter_map(|s| s.target.as_ref()) {
                if target.value.starts_with('/') {
                    self.push(names::check_container_path("secret target", target));
                } else {
                    self.push(names::check_relative_path("secret target", target).map(|d| {
                        d.with_help("write a file name under /run/secrets/ (e.g. \"gsc_sa.json\"), or an absolute path")
                    }));
                }
            }
            let service_secrets = decl
                .secrets
                .iter()
                .filter_map(|s| match secrets.get(s.name.value.as_str()) {
                    Some(id) => Some(ServiceSecret {
                        secret: *id,
                        target: s.target.as_ref().map_or_else(|| s.name.value.clone(), |t| t.value.clone()),
                    }),
                    None => {
                        self.unknown(Code::UnknownSecret, "secret", &s.name, &secret_names);
                        None
                    }
                })
                .collect();
            let mounts = |list: &[MountDecl], this: &mut Self| -> Vec<Mount> {
                list.iter()
                    .map(|m| {
                        this.push(names::check_relative_path("mount source", &m.source));
                        this.push(names::check_container_path("mount target", &m.target));
                        Mount {
                            source: clean_relative_or_root(&m.source.value),
                            target: m.target.value.clone(),
                            writable: m.writable.as_ref().is_some_and(|w| w.value),
                        }
                    })
                    .collect()
            };
            let service_mounts = mounts(&decl.mounts, self);
            let dev = match &decl.dev {
                Some(dev) => Dev {
                    mounts: mounts(&dev.mounts, self),
                    cmd: command(dev.cmd.as_ref()),
                    env: env(&dev.env),
                    env_host: env_host(&dev.env_host),
                    compose_extra: dev.compose_extra.as_ref().map(|e| e.entries.clone()).unwrap_or_default(),
                },
                None => Dev::default(),
            };
            for file in &decl.env_files {
                self.push(names::check_relative_path("env file", file));
            }
            for volume in &decl.volumes {
                self.push(names::check_name("volume", &volume.name));
                self.push(names::check_container_path("volume target", &volume.target));
            }
            let oneshot = decl.oneshot.as_ref().is_some_and(|o| o.value);
            self.check_serves(decl, source.as_ref());
            if let Some(uid) = decl.user.as_ref().filter(|u| u.value == 0) {
                self.diagnostics.push(
                    Diagnostic::error(Code::InvalidValue, "`user 0` is root", uid.span, "uid 0").with_help(
                        "leave `user` out to run as the image's user; a built image runs as root only with \
                         its own `user root=#true`",
                    ),
                );
            }
            let Some(source) = source else { continue };
            out.push(Service {
                name: decl.name.clone(),
                source,
                profiles: texts(&decl.profiles),
                cmd: command(decl.cmd.as_ref()),
                entrypoint: command(decl.entrypoint.as_ref()),
                user: decl.user.as_ref().map(|u| u.value),
                ports: decl
                    .ports
                    .iter()
                    .map(|p| Port {
                        container: p.container.value,
                        host: p.host.as_ref().map(|h| h.value),
                        host_ip: self.host_ip(p),
                    })
                    .collect(),
                env: env(&decl.env),
                env_host: env_host(&decl.env_host),
                env_secrets: env_secrets(&decl.env_secrets),
                env_files: decl.env_files.iter().map(|f| clean_relative(&f.value)).collect(),
                secrets: service_secrets,
                depends_on,
                depends_conditions,
                health: decl.health.clone(),
                volumes: decl
                    .volumes
                    .iter()
                    .map(|v| Volume {
                        name: v.name.value.clone(),
                        target: v.target.value.clone(),
                        read_only: v.read_only.as_ref().is_some_and(|r| r.value),
                    })
                    .collect(),
                mounts: service_mounts,
                restart: decl.restart.as_ref().map_or_else(
                    || if oneshot { "no".to_owned() } else { "unless-stopped".to_owned() },
                    |r| r.value.clone(),
                ),
                oneshot,
                serves: serves(decl),
                limits_memory: decl.limits.as_ref().and_then(|l| l.memory.as_ref()).map(|m| m.value.clone()),
                limits_cpus: decl.limits.as_ref().and_then(|l| l.cpus.as_ref()).map(|c| c.value.clone()),
                hardening: hardening::resolve(decl.hardening.as_ref(), self.diagnostics),
                dev,
                // Resolved with the kubernetes target, at the end (`kubernetes::apply`).
                k8s: None,
                compose_extra: decl.compose_extra.as_ref().map(|e| e.entries.clone()).unwrap_or_default(),
            });
        }
        out
    }

    /// `serves` says whether the service serves its image's `expose`d ports, so it needs an
    /// image that exposes some: a pre-built image, or a built one without `expose`, has none.
    fn check_serves(&mut self, decl: &ServiceDecl, source: Option<&ServiceSource>) {
        let Some(written) = &decl.serves else { return };
        let image = match source {
            Some(ServiceSource::Image(id)) => &self.config.images[*id],
            Some(ServiceSource::Prebuilt(_)) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::ServesConflict,
                        format!(
                            "service `{}` runs a pre-built image: `serves` has no exposed port to govern",
                            decl.name.value
                        ),
                        written.span,
                        "no `expose` to serve",
                    )
                    .with_label(decl.name.span, "pre-built")
                    .with_help("remove `serves`: the ports a pre-built service serves are its `port` lines"),
                );
                return;
            }
            // The image is unknown (already reported): nothing more to say.
            None => return,
        };
        if image.expose.is_empty() {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::ServesConflict,
                    format!("image `{}` exposes no port, so `serves` has nothing to govern", image.name.value),
                    written.span,
                    "no `expose` to serve",
                )
                .with_label(image.name.span, "no `expose`")
                .with_help(format!(
                    "remove `serves` and declare the service's ports with `port`, or add `expose <number>` to image `{}`",
                    image.name.value
                )),
            );
        }
    }

    fn unknown(&mut self, code: Code, kind: &str, name: &Text, (known, index): &(&[&str], NameIndex<'_>)) {
        let help = did_you_mean(&index.suggest(&name.value)).unwrap_or_else(|| {
            if known.is_empty() {
                format!("no {kind} is declared yet: declare `{kind} {} {{ … }}`", name.value)
            } else {
                format!("known {kind}s: {}", some_of(known))
            }
        });
        self.diagnostics.push(
            Diagnostic::error(
                code,
                format!("unknown {kind} `{}`", name.value),
                name.span,
                format!("no {kind} of this name"),
            )
            .with_help(help),
        );
    }

    fn check_unused_images(&mut self, services: &[Service]) {
        let mut used = vec![false; self.config.images.len()];
        for service in services {
            if let ServiceSource::Image(id) = service.source {
                used[id] = true;
            }
        }
        for (id, image) in self.config.images.iter().enumerate() {
            let used = used[id];
            // A service whose image could not be resolved may be the one meant to use it:
            // don't add a warning on top of that error.
            let all_resolved = services.len() == self.config.services.len();
            if !used && all_resolved && !self.config.services.is_empty() {
                self.diagnostics.push(
                    Diagnostic::warning(
                        Code::UnusedImage,
                        format!("image `{}` is built but no service runs it", image.name.value),
                        image.name.span,
                        "unused image",
                    )
                    .with_help(format!("add `service … image={}`, or remove the image", image.name.value)),
                );
            }
        }
    }

    fn check_secrets(&mut self) {
        // A misspelled reference (an unknown-secret error) may be the one meant to use a
        // declared secret: no warning on top of that error.
        let declared = |name: &str| self.config.secrets.iter().any(|s| s.name.value == name);
        let all_known = self.config.services.iter().flat_map(|s| &s.secrets).all(|s| declared(&s.name.value));
        for secret in &self.config.secrets {
            if let Some(file) = &secret.file {
                self.push(names::check_relative_path("secret file", file));
            }
            // Declared but mounted nowhere: still rendered (Compose's top-level `secrets`),
            // so most likely a service line was forgotten.
            let used = self
                .config
                .services
                .iter()
                .flat_map(|s| &s.secrets)
                .any(|s| s.name.value == secret.name.value);
            if !used && all_known && !self.config.services.is_empty() {
                self.diagnostics.push(
                    Diagnostic::warning(
                        Code::UnusedSecret,
                        format!("secret `{}` is declared but no service mounts it", secret.name.value),
                        secret.name.span,
                        "unused secret",
                    )
                    .with_help(format!(
                        "add `secret {}` to the services that read it, or remove the declaration",
                        secret.name.value
                    )),
                );
            }
        }
    }

    fn dockerignore(&mut self) -> Vec<String> {
        match &self.config.dockerignore {
            Some(decl) => decl.patterns.iter().map(|p| p.value.clone()).collect(),
            None => DEFAULT_DOCKERIGNORE.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The project's default `.dockerignore` set: the seed plan's Phase 5 list, corrected for
/// Docker's root anchoring (see `dockerignore.rs`): `*.pyc` only covers the context root,
/// so what the seed meant "anywhere" is written `**/…`; what it meant at the root (tool
/// folders, `*.sh` helper scripts) stays root-only so application folders keep their own.
/// `secrets/*.json` + `secrets/*.txt` became all of `secrets/`, `.env.example` is `.env.*`.
const DEFAULT_DOCKERIGNORE: &[&str] = &[
    ".git",
    ".gitignore",
    ".github",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.pyo",
    "**/*.pyd",
    ".Python",
    // Build artifacts: native extensions built in-tree are for the host, not the image.
    "**/*.so",
    "**/*.egg",
    "**/*.egg-info",
    "dist",
    "build",
    "**/.pytest_cache",
    ".coverage",
    ".coveragerc",
    "venv",
    "env",
    ".venv",
    ".conda",
    ".vscode",
    ".idea",
    "**/*.swp",
    "**/*.swo",
    "**/*~",
    ".claude",
    "**/.DS_Store",
    "**/Thumbs.db",
    "**/*.log",
    "logs/*",
    "reports/*",
    "report/",
    "secrets/",
    "**/.env",
    "**/.env.*",
    "docs/",
    "**/*.md",
    "README*",
    "tests/",
    "**/test_*.py",
    "**/*_test.py",
    "samples/",
    "scripts/",
    "*.bat",
    "*.ps1",
    "*.sh",
    "plans/",
    "automation/",
    "grafana/",
    "prometheus/",
    "deployment/",
    // Build inputs the builder reads from outside the context.
    "compose/",
    "docker-compose*.yml",
    "Dockerfile*",
    "**/*.csv",
    "**/*.parquet",
    "**/*.db",
    "**/*.sqlite",
    "node_modules/",
    "tmp/",
    "temp/",
    "**/*.tmp",
    "**/*.bak",
];
