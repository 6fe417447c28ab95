//! One reader per node of the language (see docs/language.md for the reference).

use kdl::{KdlDocument, KdlNode, KdlValue};

use super::reader::{Ctx, NodeView, Seen};
use crate::config::*;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};

const TOP_LEVEL: &[&str] = &[
    "project",
    "targets",
    "group",
    "base-image",
    "image",
    "service",
    "secret",
    "env-set",
    "dockerignore",
    "index",
];

pub(super) fn read_document(document: &KdlDocument) -> (Config, Diagnostics) {
    let mut ctx = Ctx::default();
    let mut config = Config::default();
    let mut seen = Seen::default();
    for node in document.nodes() {
        match node.name().value() {
            "project" => {
                if seen.first(&mut ctx, node) {
                    config.project = Some(project(&mut ctx, node));
                }
            }
            "targets" => {
                if seen.first(&mut ctx, node) {
                    config.targets = Some(targets(&mut ctx, node));
                }
            }
            "base-image" => {
                if seen.first(&mut ctx, node) {
                    config.base_image = Some(base_image(&mut ctx, node));
                }
            }
            "dockerignore" => {
                if seen.first(&mut ctx, node) {
                    config.dockerignore = Some(dockerignore(&mut ctx, node));
                }
            }
            "group" => config.groups.extend(group(&mut ctx, node)),
            "image" => config.images.extend(image(&mut ctx, node)),
            "service" => config.services.extend(service(&mut ctx, node)),
            "secret" => config.secrets.extend(secret(&mut ctx, node)),
            "env-set" => config.env_sets.extend(env_set(&mut ctx, node)),
            "index" => config.indexes.extend(index(&mut ctx, node)),
            _ => ctx.unknown_node(node, "the top level", TOP_LEVEL),
        }
    }
    (config, ctx.diagnostics)
}

/// A node whose arguments are all strings, one or more, and which takes nothing else.
fn texts(ctx: &mut Ctx, node: &KdlNode, what: &str) -> Vec<Text> {
    let mut view = NodeView::new(ctx, node);
    let values = view.some_texts(ctx, what);
    ctx.no_children(node);
    view.finish(ctx);
    values
}

/// A node with exactly one string argument.
fn one_text(ctx: &mut Ctx, node: &KdlNode, what: &str) -> Option<Text> {
    let mut view = NodeView::new(ctx, node);
    let value = view.arg_text(ctx, what);
    ctx.no_children(node);
    view.finish(ctx);
    value
}

/// A child node whose one argument is a boolean: `pin-actions #true`.
fn one_bool(ctx: &mut Ctx, node: &KdlNode) -> Option<Spanned<bool>> {
    let mut view = NodeView::new(ctx, node);
    let value = view.arg_bool(ctx, "a boolean (#true or #false)");
    ctx.no_children(node);
    view.finish(ctx);
    value
}

fn one_uint<T: TryFrom<i128>>(ctx: &mut Ctx, node: &KdlNode, what: &str) -> Option<Spanned<T>> {
    let mut view = NodeView::new(ctx, node);
    let value = view.arg_uint(ctx, what);
    ctx.no_children(node);
    view.finish(ctx);
    value
}

fn command(ctx: &mut Ctx, node: &KdlNode) -> CommandDecl {
    CommandDecl { span: node.span(), args: texts(ctx, node, "program and its arguments") }
}

fn env(ctx: &mut Ctx, node: &KdlNode, into: &mut Vec<EnvDecl>) {
    let mut view = NodeView::new(ctx, node);
    let pairs = view.all_props_text(ctx, "an environment value");
    // Only when nothing was written at all: a property of the wrong type is reported as such.
    if node.entries().is_empty() {
        ctx.report(
            Diagnostic::error(
                Code::MissingProperty,
                "`env` needs at least one KEY=\"value\" property",
                node.name().span(),
                "nothing to set",
            )
            .with_help("write `env LOG_LEVEL=\"INFO\"`"),
        );
    }
    ctx.no_children(node);
    view.finish(ctx);
    into.extend(pairs.into_iter().map(|(key, value)| EnvDecl { key, value }));
}

fn project(ctx: &mut Ctx, node: &KdlNode) -> ProjectDecl {
    const KNOWN: &[&str] =
        &["python", "registry", "image-prefix", "output", "platforms", "network", "default-branch", "uid"];
    let mut view = NodeView::new(ctx, node);
    let name = view
        .arg_text(ctx, "a project name")
        .unwrap_or_else(|| Spanned::new(String::new(), node.name().span()));
    view.finish(ctx);
    let mut decl = ProjectDecl {
        name,
        span: node.span(),
        python: None,
        python_declared: false,
        registry: None,
        image_prefix: None,
        output: None,
        platforms: Vec::new(),
        network: None,
        default_branch: None,
        uid: None,
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if KNOWN.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "python" => {
                decl.python_declared = true;
                decl.python = one_text(ctx, child, "a Python version such as \"3.11\"");
            }
            "registry" => decl.registry = one_text(ctx, child, "a registry such as \"ghcr.io/acme/app\""),
            "image-prefix" => decl.image_prefix = one_text(ctx, child, "an image name prefix"),
            "output" => decl.output = one_text(ctx, child, "an output folder"),
            "platforms" => decl.platforms = texts(ctx, child, "platform such as \"linux/amd64\""),
            "network" => decl.network = one_text(ctx, child, "a network name"),
            "default-branch" => decl.default_branch = one_text(ctx, child, "a branch name"),
            "uid" => decl.uid = one_uint(ctx, child, "a user id"),
            _ => ctx.unknown_node(child, "`project`", KNOWN),
        }
    }
    decl
}

fn targets(ctx: &mut Ctx, node: &KdlNode) -> TargetsDecl {
    const KNOWN: &[&str] =
        &["requirements", "compose", "docker", "kubernetes", "github-workflow", "dependency-groups"];
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    let mut decl = TargetsDecl {
        span: node.span(),
        requirements: None,
        compose: None,
        docker: None,
        kubernetes: None,
        github_workflow: None,
        dependency_groups: None,
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if KNOWN.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "requirements" => {
                let mut view = NodeView::new(ctx, child);
                let dir = view.prop_text(ctx, "dir");
                let path = view.prop_text(ctx, "path");
                let lock = view.prop_bool(ctx, "lock");
                ctx.no_children(child);
                view.finish(ctx);
                decl.requirements = Some(RequirementsTargetDecl { span: child.span(), path, dir, lock });
            }
            "compose" => {
                let mut view = NodeView::new(ctx, child);
                let pypi_cache = view.prop_text(ctx, "pypi-cache");
                let pypi_index = view.prop_text(ctx, "pypi-index");
                let path = view.prop_text(ctx, "path");
                ctx.no_children(child);
                view.finish(ctx);
                decl.compose = Some(ComposeTargetDecl { span: child.span(), path, pypi_cache, pypi_index });
            }
            "docker" => {
                let mut view = NodeView::new(ctx, child);
                let syntax = view.prop_text(ctx, "syntax");
                let runtime = view.prop_text(ctx, "runtime");
                let runtime_image = view.prop_text(ctx, "runtime-image");
                ctx.no_children(child);
                view.finish(ctx);
                decl.docker = Some(DockerTargetDecl { span: child.span(), syntax, runtime, runtime_image });
            }
            "kubernetes" => decl.kubernetes = Some(kubernetes_target(ctx, child)),
            "github-workflow" => decl.github_workflow = Some(github_workflow(ctx, child)),
            "dependency-groups" => {
                let mut view = NodeView::new(ctx, child);
                let dir = view.prop_text(ctx, "dir");
                let path = view.prop_text(ctx, "path");
                ctx.no_children(child);
                view.finish(ctx);
                decl.dependency_groups = Some(DependencyGroupsTargetDecl { span: child.span(), path, dir });
            }
            _ => ctx.unknown_node(child, "`targets`", KNOWN),
        }
    }
    decl
}

/// `kubernetes { … }`: its settings are child nodes (see docs/kubernetes.md).
fn kubernetes_target(ctx: &mut Ctx, node: &KdlNode) -> KubernetesTargetDecl {
    const KNOWN: &[&str] = &["namespace", "tag", "min-version", "patch", "volume"];
    const SINGLE: &[&str] = &["namespace", "tag", "min-version"];
    let mut view = NodeView::new(ctx, node);
    let path = view.prop_text(ctx, "path");
    view.finish(ctx);
    let mut decl = KubernetesTargetDecl {
        span: node.span(),
        path,
        namespace: None,
        tag: None,
        min_version: None,
        patches: Vec::new(),
        volumes: Vec::new(),
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if SINGLE.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "namespace" => decl.namespace = one_text(ctx, child, "a namespace such as \"gsc-warehouse\""),
            "tag" => decl.tag = one_text(ctx, child, "an image tag such as \"latest\""),
            "min-version" => decl.min_version = one_text(ctx, child, "a Kubernetes version such as \"1.25\""),
            "patch" => decl.patches.extend(patch(ctx, child)),
            "volume" => decl.volumes.extend(cluster_volume(ctx, child)),
            _ => ctx.unknown_node(child, "`kubernetes`", KNOWN),
        }
    }
    decl
}

/// `volume <name> size=… storage-class=… access=… scratch=…` of the kubernetes target.
fn cluster_volume(ctx: &mut Ctx, node: &KdlNode) -> Option<ClusterVolumeDecl> {
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "a named volume of a service");
    let size = view.prop_text(ctx, "size");
    let storage_class = view.prop_text(ctx, "storage-class");
    let access = view.prop_text(ctx, "access");
    let scratch = view.prop_bool(ctx, "scratch");
    ctx.no_children(node);
    view.finish(ctx);
    Some(ClusterVolumeDecl { span: node.span(), name: name?, size, storage_class, access, scratch })
}

/// The node name of a sequence item in a patch (`args { - "x" }`).
const PATCH_ITEM: &str = "-";

/// `patch <kind> <name> { … }`: the body is free-form, nested nodes read as YAML (mapping
/// keys, scalars, sequences); resolve checks it against the object gscgen renders.
fn patch(ctx: &mut Ctx, node: &KdlNode) -> Option<PatchDecl> {
    let mut view = NodeView::new(ctx, node);
    let kind =
        view.arg_text(ctx, "the object's kind (`deployment`, `service`, `hpa`, `pdb`, `job`, `namespace`)");
    let name = view.arg_text(ctx, "the object's name");
    view.finish(ctx);
    let fields = match node.children() {
        Some(children) => patch_mapping(ctx, children),
        None => {
            ctx.report(
                Diagnostic::error(
                    Code::MissingArgument,
                    "`patch` needs a block with the fields to add",
                    node.name().span(),
                    "no fields",
                )
                .with_help("write the fields as nested nodes: `patch deployment api { spec { … } }`"),
            );
            Vec::new()
        }
    };
    Some(PatchDecl { span: node.span(), kind: kind?, name: name?, fields })
}

/// A block of `key value` / `key { … }` nodes: a mapping, each key once.
fn patch_mapping(ctx: &mut Ctx, block: &KdlDocument) -> Vec<PatchField> {
    let mut fields = Vec::new();
    let mut seen = Seen::default();
    for node in block.nodes() {
        if node.name().value() == PATCH_ITEM {
            ctx.report(
                Diagnostic::error(
                    Code::InvalidValue,
                    "a block is either a mapping (named keys) or a sequence (`-` items), not both",
                    node.name().span(),
                    "sequence item among keys",
                )
                .with_help("move the `-` items into a key of their own, or name this entry"),
            );
            continue;
        }
        if !seen.first(ctx, node) {
            continue;
        }
        if let Some(value) = patch_value(ctx, node) {
            let key = Spanned::new(node.name().value().to_owned(), node.name().span());
            fields.push(PatchField { key, value });
        }
    }
    fields
}

/// The value of one patch node: one argument is a scalar, several a sequence of scalars, a
/// block a mapping, a block of `-` items a sequence.
fn patch_value(ctx: &mut Ctx, node: &KdlNode) -> Option<PatchValue> {
    let mut scalars = Vec::new();
    for entry in node.entries() {
        if let Some(key) = entry.name() {
            ctx.report(
                Diagnostic::error(
                    Code::UnknownProperty,
                    format!("patch values take no properties (`{}=`)", key.value()),
                    key.span(),
                    "property",
                )
                .with_help(format!(
                    "write it as a child node: `{} {{ {} … }}`",
                    node.name().value(),
                    key.value()
                )),
            );
            continue;
        }
        let scalar = match entry.value() {
            KdlValue::String(s) => Scalar::String(s.clone()),
            KdlValue::Integer(i) => Scalar::Integer(*i),
            KdlValue::Float(_) => {
                // Kubernetes fields take whole numbers or strings (quantities such as "0.5");
                // and YAML 1.1 and 1.2 readers disagree on some decimal spellings.
                ctx.report(
                    Diagnostic::error(
                        Code::WrongType,
                        "a patch value must be a string, a whole number or a boolean, found a decimal number",
                        entry.span(),
                        "decimal number",
                    )
                    .with_help("quote it (quantities are strings: `cpu \"0.5\"`)"),
                );
                continue;
            }
            KdlValue::Bool(b) => Scalar::Bool(*b),
            KdlValue::Null => {
                ctx.report(
                    Diagnostic::error(
                        Code::WrongType,
                        "a patch cannot delete a field (`#null`)",
                        entry.span(),
                        "#null",
                    )
                    .with_help("patches only add or change fields; leave out what you do not want to change"),
                );
                continue;
            }
        };
        scalars.push(PatchValue::Scalar(Spanned::new(scalar, entry.span())));
    }
    match (node.children(), scalars.len()) {
        (Some(children), 0) => {
            let nodes = children.nodes();
            if !nodes.is_empty() && nodes.iter().all(|n| n.name().value() == PATCH_ITEM) {
                let items = nodes.iter().filter_map(|n| patch_value(ctx, n)).collect();
                Some(PatchValue::Sequence(Spanned::new(items, node.span())))
            } else {
                Some(PatchValue::Mapping(Spanned::new(patch_mapping(ctx, children), node.span())))
            }
        }
        (Some(children), _) => {
            ctx.report(
                Diagnostic::error(
                    Code::UnexpectedChildren,
                    format!("`{}` has values and a block", node.name().value()),
                    children.span(),
                    "block after values",
                )
                .with_help("a key takes values (a scalar or a sequence) or a block (a mapping), not both"),
            );
            None
        }
        // Values were written, each already reported.
        (None, 0) if !node.entries().is_empty() => None,
        (None, 0) => {
            ctx.report(
                Diagnostic::error(
                    Code::MissingArgument,
                    format!("`{}` needs a value", node.name().value()),
                    node.name().span(),
                    "no value",
                )
                .with_help(
                    "write `key \"value\"`, `key a b` for a sequence, or `key {}` for an empty mapping",
                ),
            );
            None
        }
        (None, 1) => scalars.pop(),
        (None, _) => Some(PatchValue::Sequence(Spanned::new(scalars, node.span()))),
    }
}

/// `github-workflow { … }`: its settings are child nodes (see docs/workflow.md).
fn github_workflow(ctx: &mut Ctx, node: &KdlNode) -> GithubWorkflowTargetDecl {
    const KNOWN: &[&str] = &[
        "branches",
        "pull-request-branches",
        "pin-actions",
        "build-affected",
        "registry",
        "drift-check",
        "timeout-minutes",
    ];
    let mut view = NodeView::new(ctx, node);
    let path = view.prop_text(ctx, "path");
    view.finish(ctx);
    let mut decl = GithubWorkflowTargetDecl {
        span: node.span(),
        path,
        branches: Vec::new(),
        pull_request_branches: Vec::new(),
        pin_actions: None,
        build_affected: None,
        registry: None,
        drift_check: None,
        timeout_minutes: None,
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if KNOWN.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "branches" => decl.branches = texts(ctx, child, "branch name or pattern"),
            "pull-request-branches" => {
                decl.pull_request_branches = texts(ctx, child, "branch name or pattern");
            }
            "pin-actions" => decl.pin_actions = one_bool(ctx, child),
            "build-affected" => decl.build_affected = one_bool(ctx, child),
            "registry" => decl.registry = one_text(ctx, child, "a registry host such as \"ghcr.io\""),
            "drift-check" => decl.drift_check = one_bool(ctx, child),
            "timeout-minutes" => decl.timeout_minutes = Some(timeout_minutes(ctx, child)),
            _ => ctx.unknown_node(child, "`github-workflow`", KNOWN),
        }
    }
    decl
}

/// `timeout-minutes build=60 drift=30 changes=10`: each property optional.
fn timeout_minutes(ctx: &mut Ctx, node: &KdlNode) -> TimeoutMinutesDecl {
    let mut view = NodeView::new(ctx, node);
    let decl = TimeoutMinutesDecl {
        span: node.span(),
        build: view.prop_uint(ctx, "build"),
        drift: view.prop_uint(ctx, "drift"),
        changes: view.prop_uint(ctx, "changes"),
    };
    ctx.no_children(node);
    view.finish(ctx);
    decl
}

fn group(ctx: &mut Ctx, node: &KdlNode) -> Option<GroupDecl> {
    const KNOWN: &[&str] = &["description", "include", "require"];
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "a group name");
    view.finish(ctx);
    let mut decl = GroupDecl {
        name: name.clone().unwrap_or_else(|| Spanned::new(String::new(), node.name().span())),
        span: node.span(),
        description: None,
        includes: Vec::new(),
        requires: Vec::new(),
        require_index: Vec::new(),
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "description" => {
                if seen.first(ctx, child) {
                    decl.description = one_text(ctx, child, "a description");
                }
            }
            "include" => decl.includes.extend(texts(ctx, child, "group name")),
            "require" => {
                let mut view = NodeView::new(ctx, child);
                let values = view.some_texts(ctx, "PEP 508 requirement");
                let index = view.prop_text(ctx, "index");
                ctx.no_children(child);
                view.finish(ctx);
                if let Some(index) = index {
                    decl.require_index.extend(values.iter().map(|v| (v.span, index.clone())));
                }
                decl.requires.extend(values);
            }
            _ => ctx.unknown_node(child, "`group`", KNOWN),
        }
    }
    name.map(|_| decl)
}

fn base_image(ctx: &mut Ctx, node: &KdlNode) -> BaseImageDecl {
    const KNOWN: &[&str] = &["from", "build-packages", "runtime-packages", "groups", "dockerfile-extra"];
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    let mut decl = BaseImageDecl {
        span: node.span(),
        from: None,
        build_packages: Vec::new(),
        runtime_packages: Vec::new(),
        groups: Vec::new(),
        dockerfile_extra: DockerfileExtraDecl::default(),
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "from" => {
                if seen.first(ctx, child) {
                    decl.from = one_text(ctx, child, "an image reference such as \"python:3.11-slim\"");
                }
            }
            "build-packages" => decl.build_packages.extend(texts(ctx, child, "Debian package")),
            "runtime-packages" => decl.runtime_packages.extend(texts(ctx, child, "Debian package")),
            "groups" => decl.groups.extend(texts(ctx, child, "group name")),
            "dockerfile-extra" => {
                if seen.first(ctx, child) {
                    // The base image copies no code: it has no `after-copy` point.
                    const POINTS: &[&str] = &["before-install", "final"];
                    decl.dockerfile_extra =
                        dockerfile_extra(ctx, child, "`dockerfile-extra` of `base-image`", POINTS);
                }
            }
            _ => ctx.unknown_node(child, "`base-image`", KNOWN),
        }
    }
    decl
}

fn health(ctx: &mut Ctx, node: &KdlNode) -> HealthDecl {
    let mut view = NodeView::new(ctx, node);
    let program = view.rest_texts(ctx, "program and its arguments");
    let http = view.prop_text(ctx, "http");
    let port = view.prop_uint::<u16>(ctx, "port");
    let check = match (http, program.is_empty()) {
        (Some(path), true) => match port {
            Some(port) => Some(HealthCheckDecl::Http { path, port }),
            None => {
                ctx.report(
                    Diagnostic::error(
                        Code::MissingProperty,
                        "an HTTP health check needs the port to call",
                        node.name().span(),
                        "`port=` missing",
                    )
                    .with_help("add `port=8000` (the container port that serves the path)"),
                );
                None
            }
        },
        (None, false) => {
            // Docker's own test keywords: gscgen writes `CMD` itself, so `CMD-SHELL` would run
            // a program named CMD-SHELL (["CMD", "CMD-SHELL", …]), never a shell.
            if let Some(keyword) =
                program.first().filter(|p| matches!(p.value.as_str(), "CMD" | "CMD-SHELL" | "NONE"))
            {
                let rest =
                    program[1..].iter().map(|a| format!("{:?}", a.value)).collect::<Vec<_>>().join(" ");
                ctx.report(
                    Diagnostic::error(
                        Code::HealthKeyword,
                        format!("`{}` is Docker's health-check keyword, not a program", keyword.value),
                        keyword.span,
                        "a keyword of Docker's test list",
                    )
                    .with_help(match keyword.value.as_str() {
                        "CMD-SHELL" => format!(
                            "write the program and its arguments (gscgen adds `CMD`), or for shell syntax `health sh \"-c\" {rest}`"
                        ),
                        "NONE" => "leave `health` out: an image without one has no health check".to_owned(),
                        _ => format!("leave out `CMD`: `health {rest}` (gscgen adds it)"),
                    }),
                );
            }
            Some(HealthCheckDecl::Exec(CommandDecl { span: node.span(), args: program }))
        }
        (Some(path), false) => {
            ctx.report(
                Diagnostic::error(
                    Code::InvalidValue,
                    "a health check is either an HTTP path or a command, not both",
                    path.span,
                    "HTTP path",
                )
                .with_label(node.name().span(), "command given as arguments")
                .with_help("keep `http=\"/path\" port=…` or the command arguments"),
            );
            None
        }
        (None, true) => {
            ctx.report(
                Diagnostic::error(
                    Code::MissingArgument,
                    "a health check needs an HTTP path or a command",
                    node.name().span(),
                    "no check given",
                )
                .with_help(
                    "write `health http=\"/health\" port=8000` or `health \"celery\" \"inspect\" \"ping\"`; \
                     a check that always passes is worse than none",
                ),
            );
            None
        }
    };
    let decl = HealthDecl {
        span: node.span(),
        check,
        interval: view.prop_text(ctx, "interval"),
        timeout: view.prop_text(ctx, "timeout"),
        start_period: view.prop_text(ctx, "start-period"),
        retries: view.prop_uint(ctx, "retries"),
    };
    ctx.no_children(node);
    view.finish(ctx);
    decl
}

fn image(ctx: &mut Ctx, node: &KdlNode) -> Option<ImageDecl> {
    const KNOWN: &[&str] = &[
        "dockerfile",
        "groups",
        "copy",
        "workdir",
        "env",
        "writable",
        "build-packages",
        "runtime-packages",
        "cmd",
        "entrypoint",
        "user",
        "expose",
        "health",
        "preload",
        "dockerfile-extra",
        "build-arg",
    ];
    const SINGLE: &[&str] =
        &["dockerfile", "workdir", "cmd", "entrypoint", "user", "health", "dockerfile-extra"];
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "an image name");
    let from = view.prop_text(ctx, "from");
    let unpinned = view.prop_text(ctx, "unpinned");
    view.finish(ctx);
    let mut decl = ImageDecl {
        name: name.clone().unwrap_or_else(|| Spanned::new(String::new(), node.name().span())),
        span: node.span(),
        from,
        unpinned,
        dockerfile: None,
        groups: Vec::new(),
        copies: Vec::new(),
        workdir: None,
        env: Vec::new(),
        writable: Vec::new(),
        build_packages: Vec::new(),
        runtime_packages: Vec::new(),
        cmd: None,
        entrypoint: None,
        user: None,
        expose: Vec::new(),
        health: None,
        preload: Vec::new(),
        dockerfile_extra: DockerfileExtraDecl::default(),
        build_args: Vec::new(),
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if SINGLE.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "dockerfile" => decl.dockerfile = one_text(ctx, child, "a Dockerfile name suffix"),
            "groups" => decl.groups.extend(texts(ctx, child, "group name")),
            "copy" => {
                let mut view = NodeView::new(ctx, child);
                let source = view.arg_text(ctx, "a source path (relative to the build context)");
                let target = view.arg_text(ctx, "a target path in the image");
                ctx.no_children(child);
                view.finish(ctx);
                if let (Some(source), Some(target)) = (source, target) {
                    decl.copies.push(CopyDecl { span: child.span(), source, target });
                }
            }
            "workdir" => decl.workdir = one_text(ctx, child, "a directory in the image"),
            "build-arg" => {
                let mut view = NodeView::new(ctx, child);
                let name = view.arg_text(ctx, "a build argument name");
                let value = view.arg_text(ctx, "its value (a string)");
                ctx.no_children(child);
                view.finish(ctx);
                if let (Some(name), Some(value)) = (name, value) {
                    decl.build_args.push(BuildArgDecl { span: child.span(), name, value });
                }
            }
            "env" => env(ctx, child, &mut decl.env),
            // Build time has no host environment to take a value from.
            "env-host" => ctx.report(
                Diagnostic::error(
                    Code::UnknownNode,
                    "`env-host` is not allowed in `image`: an image's environment is fixed when it is built",
                    child.name().span(),
                    "not known here",
                )
                .with_help(
                    "take the value from the host where the image runs: `env-host` in the `service` (or its \
                     `dev`) that runs it; a value for the build itself is a `build-arg`",
                ),
            ),
            "writable" => decl.writable.extend(texts(ctx, child, "directory in the image")),
            "build-packages" => decl.build_packages.extend(texts(ctx, child, "Debian package")),
            "runtime-packages" => decl.runtime_packages.extend(texts(ctx, child, "Debian package")),
            "cmd" => decl.cmd = Some(command(ctx, child)),
            "entrypoint" => decl.entrypoint = Some(command(ctx, child)),
            "user" => {
                let mut view = NodeView::new(ctx, child);
                let name = view.opt_arg_text(ctx, "a user name");
                let uid = view.prop_uint(ctx, "uid");
                let root = view.prop_bool(ctx, "root");
                ctx.no_children(child);
                view.finish(ctx);
                decl.user = Some(UserDecl { span: child.span(), name, uid, root });
            }
            "expose" => {
                let mut view = NodeView::new(ctx, child);
                while view.has_args_left() {
                    decl.expose.extend(view.arg_uint::<u16>(ctx, "a port"));
                }
                ctx.no_children(child);
                view.finish(ctx);
            }
            "health" => decl.health = Some(health(ctx, child)),
            "preload" => decl.preload.push(command(ctx, child)),
            "dockerfile-extra" => {
                const POINTS: &[&str] = &["before-install", "after-copy", "final"];
                decl.dockerfile_extra = dockerfile_extra(ctx, child, "`dockerfile-extra`", POINTS);
            }
            _ => ctx.unknown_node(child, "`image`", KNOWN),
        }
    }
    name.map(|_| decl)
}

/// `dockerfile-extra { before-install "…"; after-copy "…"; final "…" }`: each point takes one
/// or more strings, one instruction each, and may repeat; `points` are those of the parent.
fn dockerfile_extra(ctx: &mut Ctx, node: &KdlNode, parent: &str, points: &[&str]) -> DockerfileExtraDecl {
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    let mut decl = DockerfileExtraDecl::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        let name = child.name().value();
        if !points.contains(&name) {
            ctx.unknown_node(child, parent, points);
            continue;
        }
        let instructions = texts(ctx, child, "Dockerfile instruction");
        match name {
            "before-install" => decl.before_install.extend(instructions),
            "after-copy" => decl.after_copy.extend(instructions),
            "final" => decl.final_stage.extend(instructions),
            _ => unreachable!("points are checked above"),
        }
    }
    decl
}

/// `compose-extra { … }`: every child is a key of the service, read as YAML (see `extra.rs`).
fn compose_extra(ctx: &mut Ctx, node: &KdlNode) -> ComposeExtraDecl {
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    ComposeExtraDecl { span: node.span(), entries: super::extra::mapping_children(ctx, node) }
}

fn mount(ctx: &mut Ctx, node: &KdlNode) -> Option<MountDecl> {
    let mut view = NodeView::new(ctx, node);
    let source = view.arg_text(ctx, "a source path on the host (relative to the project)");
    let target = view.arg_text(ctx, "a target path in the container");
    let writable = view.prop_bool(ctx, "writable");
    ctx.no_children(node);
    view.finish(ctx);
    Some(MountDecl { span: node.span(), source: source?, target: target?, writable })
}

fn env_secret(ctx: &mut Ctx, node: &KdlNode) -> Option<EnvSecretDecl> {
    let mut view = NodeView::new(ctx, node);
    let key = view.arg_text(ctx, "an environment variable name");
    let secret = view.req_prop_text(ctx, "secret");
    let secret_key = view.req_prop_text(ctx, "key");
    let as_file = view.prop_bool(ctx, "as-file");
    let file = view.prop_text(ctx, "file");
    ctx.no_children(node);
    view.finish(ctx);
    Some(EnvSecretDecl {
        span: node.span(),
        key: key?,
        secret: secret?,
        secret_key: secret_key?,
        as_file,
        file,
    })
}

fn env_host(ctx: &mut Ctx, node: &KdlNode) -> Option<EnvHostDecl> {
    let mut view = NodeView::new(ctx, node);
    let key = view.arg_text(ctx, "an environment variable name");
    let var = view.prop_text(ctx, "var");
    let default = view.prop_text(ctx, "default");
    let required = view.prop_bool(ctx, "required");
    ctx.no_children(node);
    view.finish(ctx);
    Some(EnvHostDecl { span: node.span(), key: key?, var, default, required })
}

fn service(ctx: &mut Ctx, node: &KdlNode) -> Option<ServiceDecl> {
    const KNOWN: &[&str] = &[
        "profiles",
        "cmd",
        "entrypoint",
        "user",
        "port",
        "env",
        "env-host",
        "env-secret",
        "env-from",
        "env-file",
        "secret",
        "depends-on",
        "health",
        "volume",
        "mount",
        "restart",
        "oneshot",
        "serves",
        "limits",
        "hardening",
        "dev",
        "k8s",
        "compose-extra",
    ];
    const SINGLE: &[&str] = &[
        "cmd",
        "entrypoint",
        "user",
        "health",
        "restart",
        "oneshot",
        "serves",
        "limits",
        "hardening",
        "dev",
        "k8s",
        "compose-extra",
    ];
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "a service name");
    let image = view.prop_text(ctx, "image");
    let from = view.prop_text(ctx, "from");
    let unpinned = view.prop_text(ctx, "unpinned");
    let profile = view.prop_text(ctx, "profile");
    view.finish(ctx);
    let mut decl = ServiceDecl {
        name: name.clone().unwrap_or_else(|| Spanned::new(String::new(), node.name().span())),
        span: node.span(),
        image,
        from,
        unpinned,
        profiles: profile.into_iter().collect(),
        cmd: None,
        entrypoint: None,
        user: None,
        ports: Vec::new(),
        env: Vec::new(),
        env_host: Vec::new(),
        env_secrets: Vec::new(),
        env_from: Vec::new(),
        env_files: Vec::new(),
        secrets: Vec::new(),
        depends_on: Vec::new(),
        health: None,
        volumes: Vec::new(),
        mounts: Vec::new(),
        restart: None,
        oneshot: None,
        serves: None,
        limits: None,
        hardening: None,
        dev: None,
        k8s: None,
        compose_extra: None,
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if SINGLE.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "profiles" => decl.profiles.extend(texts(ctx, child, "profile name")),
            "cmd" => decl.cmd = Some(command(ctx, child)),
            "entrypoint" => decl.entrypoint = Some(command(ctx, child)),
            "user" => decl.user = service_user(ctx, child),
            "port" => {
                let mut view = NodeView::new(ctx, child);
                let container = view.arg_uint::<u16>(ctx, "a container port");
                let host = view.prop_uint::<u16>(ctx, "host");
                let host_ip = view.prop_text(ctx, "host-ip");
                ctx.no_children(child);
                view.finish(ctx);
                if let Some(container) = container {
                    decl.ports.push(PortDecl { span: child.span(), container, host, host_ip });
                }
            }
            "env" => env(ctx, child, &mut decl.env),
            "env-host" => decl.env_host.extend(env_host(ctx, child)),
            "env-secret" => decl.env_secrets.extend(env_secret(ctx, child)),
            "env-from" => decl.env_from.extend(texts(ctx, child, "env-set name")),
            "env-file" => decl.env_files.extend(texts(
                ctx,
                child,
                "a file of KEY=value lines (relative to the project)",
            )),
            "secret" => {
                let mut view = NodeView::new(ctx, child);
                let name = view.arg_text(ctx, "a secret name");
                let target = view.prop_text(ctx, "target");
                ctx.no_children(child);
                view.finish(ctx);
                if let Some(name) = name {
                    decl.secrets.push(ServiceSecretDecl { span: child.span(), name, target });
                }
            }
            "depends-on" => {
                let mut view = NodeView::new(ctx, child);
                let names = view.some_texts(ctx, "service name");
                let condition = view.prop_text(ctx, "condition");
                ctx.no_children(child);
                view.finish(ctx);
                decl.depends_on.extend(
                    names.into_iter().map(|name| DependsOnDecl { name, condition: condition.clone() }),
                );
            }
            "health" => decl.health = Some(health(ctx, child)),
            "volume" => {
                let mut view = NodeView::new(ctx, child);
                let name = view.arg_text(ctx, "a named volume");
                let target = view.arg_text(ctx, "a target path in the container");
                let read_only = view.prop_bool(ctx, "read-only");
                ctx.no_children(child);
                view.finish(ctx);
                if let (Some(name), Some(target)) = (name, target) {
                    decl.volumes.push(VolumeDecl { span: child.span(), name, target, read_only });
                }
            }
            "mount" => decl.mounts.extend(mount(ctx, child)),
            "restart" => decl.restart = one_text(ctx, child, "a restart policy"),
            "oneshot" => {
                let view = NodeView::new(ctx, child);
                ctx.no_children(child);
                view.finish(ctx);
                decl.oneshot = Some(Spanned::new(true, child.span()));
            }
            "serves" => decl.serves = one_bool(ctx, child),
            "limits" => {
                let mut view = NodeView::new(ctx, child);
                let memory = view.prop_text(ctx, "memory");
                let cpus = view.prop_text(ctx, "cpus");
                ctx.no_children(child);
                view.finish(ctx);
                decl.limits = Some(ComposeLimitsDecl { span: child.span(), memory, cpus });
            }
            "hardening" => decl.hardening = Some(hardening(ctx, child)),
            "dev" => decl.dev = Some(dev(ctx, child)),
            "k8s" => decl.k8s = Some(k8s(ctx, child)),
            "compose-extra" => decl.compose_extra = Some(compose_extra(ctx, child)),
            _ => ctx.unknown_node(child, "`service`", KNOWN),
        }
    }
    name.map(|_| decl)
}

/// A service's `user`: a uid. A name is refused with its own hint: Kubernetes' `runAsUser`
/// takes a number, and gscgen cannot look a name up in the image.
fn service_user(ctx: &mut Ctx, node: &KdlNode) -> Option<Spanned<u32>> {
    let first = node.entries().iter().find(|e| e.name().is_none());
    if let Some(entry) = first.filter(|e| matches!(e.value(), KdlValue::String(_))) {
        ctx.report(
            Diagnostic::error(
                Code::WrongType,
                "a service's `user` is a uid (a whole number), not a user name",
                entry.span(),
                "a user name",
            )
            .with_help(
                "write the uid, e.g. `user 999`: Kubernetes' `runAsUser` takes only a number, and \
                 gscgen cannot look a name up in the image (an image this project builds has its own \
                 `user` node)",
            ),
        );
        return None;
    }
    one_uint::<u32>(ctx, node, "a uid (whole number)")
}

fn hardening(ctx: &mut Ctx, node: &KdlNode) -> HardeningDecl {
    const KNOWN: &[&str] = &["cap-add", "writable"];
    let mut view = NodeView::new(ctx, node);
    let read_only = view.prop_bool(ctx, "read-only");
    let no_new_privileges = view.prop_bool(ctx, "no-new-privileges");
    view.finish(ctx);
    let mut decl = HardeningDecl {
        span: node.span(),
        read_only,
        no_new_privileges,
        cap_add: Vec::new(),
        writable: Vec::new(),
    };
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "cap-add" => decl.cap_add.extend(texts(ctx, child, "a Linux capability, e.g. CHOWN")),
            "writable" => decl.writable.extend(texts(ctx, child, "a folder in the container")),
            _ => ctx.unknown_node(child, "`hardening`", KNOWN),
        }
    }
    decl
}

fn dev(ctx: &mut Ctx, node: &KdlNode) -> DevDecl {
    const KNOWN: &[&str] = &["mount", "cmd", "env", "env-host", "compose-extra"];
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    let mut decl = DevDecl {
        span: node.span(),
        mounts: Vec::new(),
        cmd: None,
        env: Vec::new(),
        env_host: Vec::new(),
        compose_extra: None,
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "mount" => decl.mounts.extend(mount(ctx, child)),
            "cmd" => {
                if seen.first(ctx, child) {
                    decl.cmd = Some(command(ctx, child));
                }
            }
            "env" => env(ctx, child, &mut decl.env),
            "env-host" => decl.env_host.extend(env_host(ctx, child)),
            "compose-extra" => {
                if seen.first(ctx, child) {
                    decl.compose_extra = Some(compose_extra(ctx, child));
                }
            }
            _ => ctx.unknown_node(child, "`dev`", KNOWN),
        }
    }
    decl
}

fn resources(ctx: &mut Ctx, node: &KdlNode) -> ResourcesDecl {
    let mut view = NodeView::new(ctx, node);
    let decl = ResourcesDecl {
        span: node.span(),
        cpu: view.prop_text(ctx, "cpu"),
        memory: view.prop_text(ctx, "memory"),
    };
    ctx.no_children(node);
    view.finish(ctx);
    decl
}

fn k8s(ctx: &mut Ctx, node: &KdlNode) -> K8sDecl {
    const KNOWN: &[&str] = &[
        "external",
        "replicas",
        "requests",
        "limits",
        "autoscale",
        "disruption-budget",
        "gpu",
        "init",
        "writable",
        "security",
        "allow-from",
    ];
    const SINGLE: &[&str] =
        &["external", "replicas", "requests", "limits", "autoscale", "disruption-budget", "gpu", "security"];
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    let mut decl = K8sDecl::empty(node.span());
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        if SINGLE.contains(&child.name().value()) && !seen.first(ctx, child) {
            continue;
        }
        match child.name().value() {
            "external" => decl.external = one_text(ctx, child, "the reason (who provides it)"),
            "replicas" => decl.replicas = one_uint(ctx, child, "a replica count"),
            "requests" => decl.requests = Some(resources(ctx, child)),
            "limits" => decl.limits = Some(resources(ctx, child)),
            "autoscale" => {
                let mut view = NodeView::new(ctx, child);
                let min = view.req_prop_uint(ctx, "min");
                let max = view.req_prop_uint(ctx, "max");
                let cpu = view.req_prop_uint(ctx, "cpu");
                ctx.no_children(child);
                view.finish(ctx);
                if let (Some(min), Some(max), Some(cpu)) = (min, max, cpu) {
                    decl.autoscale = Some(AutoscaleDecl { span: child.span(), min, max, cpu });
                }
            }
            "disruption-budget" => {
                let mut view = NodeView::new(ctx, child);
                let min_available = view.req_prop_uint(ctx, "min-available");
                ctx.no_children(child);
                view.finish(ctx);
                if let Some(min_available) = min_available {
                    decl.disruption_budget = Some(DisruptionBudgetDecl { span: child.span(), min_available });
                }
            }
            "gpu" => decl.gpu = gpu(ctx, child),
            "init" => decl.init.extend(init(ctx, child)),
            "writable" => decl.writable.extend(texts(ctx, child, "directory in the container")),
            "allow-from" => {
                let mut view = NodeView::new(ctx, child);
                let namespace = view.req_prop_text(ctx, "namespace");
                ctx.no_children(child);
                view.finish(ctx);
                decl.allow_from.extend(namespace);
            }
            "security" => {
                let mut view = NodeView::new(ctx, child);
                let security = SecurityDecl {
                    span: child.span(),
                    run_as_non_root: view.prop_bool(ctx, "run-as-non-root"),
                    read_only_root_filesystem: view.prop_bool(ctx, "read-only-root-filesystem"),
                    allow_privilege_escalation: view.prop_bool(ctx, "allow-privilege-escalation"),
                    run_as_user: view.prop_uint(ctx, "run-as-user"),
                };
                ctx.no_children(child);
                view.finish(ctx);
                decl.security = Some(security);
            }
            _ => ctx.unknown_node(child, "`k8s`", KNOWN),
        }
    }
    decl
}

fn gpu(ctx: &mut Ctx, node: &KdlNode) -> Option<GpuDecl> {
    const KNOWN: &[&str] = &["node-label", "toleration"];
    let mut view = NodeView::new(ctx, node);
    let count = view.arg_uint(ctx, "a GPU count");
    view.finish(ctx);
    let mut decl = GpuDecl { span: node.span(), count: count?, node_label: None, tolerations: Vec::new() };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "node-label" => {
                if !seen.first(ctx, child) {
                    continue;
                }
                let mut view = NodeView::new(ctx, child);
                let key = view.arg_text(ctx, "a node label key");
                let values = view.some_texts(ctx, "label value");
                ctx.no_children(child);
                view.finish(ctx);
                if let Some(key) = key {
                    decl.node_label = Some(NodeLabelDecl { span: child.span(), key, values });
                }
            }
            "toleration" => {
                let mut view = NodeView::new(ctx, child);
                let key = view.arg_text(ctx, "a taint key");
                let effect = view.prop_text(ctx, "effect");
                ctx.no_children(child);
                view.finish(ctx);
                if let Some(key) = key {
                    decl.tolerations.push(TolerationDecl { span: child.span(), key, effect });
                }
            }
            _ => ctx.unknown_node(child, "`gpu`", KNOWN),
        }
    }
    Some(decl)
}

fn init(ctx: &mut Ctx, node: &KdlNode) -> Option<InitDecl> {
    const KNOWN: &[&str] = &["cmd", "env", "env-secret", "env-from"];
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "a container name");
    let image = view.req_prop_text(ctx, "image");
    let job = view.prop_bool(ctx, "job");
    view.finish(ctx);
    let mut decl = InitDecl {
        name: name?,
        span: node.span(),
        image: image?,
        job,
        cmd: None,
        env: Vec::new(),
        env_secrets: Vec::new(),
        env_from: Vec::new(),
    };
    let mut seen = Seen::default();
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "cmd" => {
                if seen.first(ctx, child) {
                    decl.cmd = Some(command(ctx, child));
                }
            }
            "env" => env(ctx, child, &mut decl.env),
            "env-secret" => decl.env_secrets.extend(env_secret(ctx, child)),
            "env-from" => decl.env_from.extend(texts(ctx, child, "env-set name")),
            _ => ctx.unknown_node(child, "`init`", KNOWN),
        }
    }
    Some(decl)
}

fn env_set(ctx: &mut Ctx, node: &KdlNode) -> Option<EnvSetDecl> {
    const KNOWN: &[&str] = &["env", "env-host", "env-secret"];
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "an env-set name");
    view.finish(ctx);
    let mut decl = EnvSetDecl {
        name: name?,
        span: node.span(),
        env: Vec::new(),
        env_host: Vec::new(),
        env_secrets: Vec::new(),
    };
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "env" => env(ctx, child, &mut decl.env),
            "env-host" => decl.env_host.extend(env_host(ctx, child)),
            "env-secret" => decl.env_secrets.extend(env_secret(ctx, child)),
            _ => ctx.unknown_node(child, "`env-set`", KNOWN),
        }
    }
    Some(decl)
}

fn index(ctx: &mut Ctx, node: &KdlNode) -> Option<IndexDecl> {
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "an index name");
    let url = view.req_prop_text(ctx, "url");
    ctx.no_children(node);
    view.finish(ctx);
    Some(IndexDecl { name: name?, span: node.span(), url })
}

fn secret(ctx: &mut Ctx, node: &KdlNode) -> Option<SecretDecl> {
    let mut view = NodeView::new(ctx, node);
    let name = view.arg_text(ctx, "a secret name");
    let file = view.prop_text(ctx, "file");
    ctx.no_children(node);
    view.finish(ctx);
    Some(SecretDecl { name: name?, span: node.span(), file })
}

fn dockerignore(ctx: &mut Ctx, node: &KdlNode) -> DockerignoreDecl {
    const KNOWN: &[&str] = &["exclude", "keep"];
    let view = NodeView::new(ctx, node);
    view.finish(ctx);
    let mut decl = DockerignoreDecl { span: node.span(), patterns: Vec::new() };
    for child in node.children().map_or(&[][..], KdlDocument::nodes) {
        match child.name().value() {
            "exclude" => decl.patterns.extend(texts(ctx, child, "pattern")),
            // `keep` re-includes what an earlier pattern excluded: Docker's `!pattern`.
            "keep" => decl.patterns.extend(
                texts(ctx, child, "pattern")
                    .into_iter()
                    .map(|t| Spanned::new(format!("!{}", t.value), t.span)),
            ),
            _ => ctx.unknown_node(child, "`dockerignore`", KNOWN),
        }
    }
    decl
}
