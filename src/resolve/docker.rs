//! The `docker` target: its settings (defaults applied here, once), and the rules that
//! tie Dockerfiles, `.dockerignore` and the build scripts to the rest of the config.
//!
//! Every value that reaches a generated Dockerfile or build script is checked here, with
//! its span, so the renderers never meet a value they cannot write: a value the target
//! language cannot carry is a diagnostic, never a broken file.

use miette::SourceSpan;

use crate::config::{Config, HealthCheckDecl, HealthDecl, ImageDecl, Spanned, Text, UserDecl};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{DockerRuntime, DockerTarget, Model, PythonVersion};
use crate::rules::distroless::{DISTROLESS, distroless_of};
use crate::rules::dockerignore::IgnoreRules;
use crate::rules::duration::is_duration;
use crate::rules::image_user::BASE_USER;
use crate::rules::layout::requirements_path;
use crate::rules::names::dns_name;
use crate::rules::paths::clean_relative;
use crate::rules::quote;

/// Default `base-image from` for the runtime: the Debian builder of a distroless runtime.
pub(crate) fn default_from(target: Option<&DockerTarget>, python: PythonVersion) -> String {
    match target.map(|t| &t.runtime) {
        Some(DockerRuntime::Distroless { image }) => match distroless_of(image) {
            Some(d) => d.builder.to_owned(),
            None => format!("python:{python}-slim"),
        },
        _ => format!("python:{python}-slim"),
    }
}

/// Resolves `targets { docker … }`. `None` when the target is off. When `targets` is
/// absent every family is on, with its defaults.
pub(super) fn target(
    config: &Config,
    python: Option<PythonVersion>,
    diagnostics: &mut Diagnostics,
) -> Option<DockerTarget> {
    let decl = match &config.targets {
        None => return Some(DockerTarget { syntax: None, runtime: DockerRuntime::Slim }),
        Some(targets) => targets.docker.as_ref()?,
    };
    if let Some(syntax) = &decl.syntax {
        check_reference(diagnostics, "`# syntax=` frontend", syntax);
    }
    let runtime = match decl.runtime.as_ref().map(|r| r.value.as_str()) {
        None | Some("slim") => {
            if let Some(image) = &decl.runtime_image {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        "`runtime-image` only applies to `runtime=distroless`",
                        image.span,
                        "not used by a slim runtime",
                    )
                    .with_help(
                        "a slim runtime uses the base image's `from`: set `base-image { from \"…\" }` instead, \
                         or add `runtime=distroless`",
                    ),
                );
            }
            DockerRuntime::Slim
        }
        // After an error, go on as if slim so the other rules still report.
        Some("distroless") => {
            distroless(config, decl.runtime.as_ref(), decl.runtime_image.as_ref(), python, diagnostics)
                .unwrap_or(DockerRuntime::Slim)
        }
        Some(other) => {
            let runtime = decl.runtime.as_ref().map_or(decl.span, |r| r.span);
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("unknown Docker runtime `{}`", other.escape_debug()),
                    runtime,
                    "expected `slim` or `distroless`",
                )
                .with_help("write `runtime=slim` (the default) or `runtime=distroless`"),
            );
            DockerRuntime::Slim
        }
    };
    Some(DockerTarget { syntax: decl.syntax.as_ref().map(|s| s.value.clone()), runtime })
}

fn distroless(
    config: &Config,
    runtime: Option<&Text>,
    image: Option<&Text>,
    python: Option<PythonVersion>,
    diagnostics: &mut Diagnostics,
) -> Option<DockerRuntime> {
    let python_text = config.project.as_ref().and_then(|p| p.python.as_ref());
    let python = python?;
    let known = DISTROLESS
        .iter()
        .map(|d| format!("{} (Python {})", d.repository, d.python))
        .collect::<Vec<_>>()
        .join(", ");
    let chosen = match image {
        Some(image) => {
            if !check_reference(diagnostics, "runtime image", image) {
                return None;
            }
            let Some(found) = distroless_of(&image.value) else {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DistrolessPython,
                        format!("gscgen cannot tell which Python `{}` ships", image.value),
                        image.span,
                        "unknown distroless image",
                    )
                    .with_help(format!("use one of {known}, with any tag or digest")),
                );
                return None;
            };
            if found.python != python {
                let mut d = Diagnostic::error(
                    Code::DistrolessPython,
                    format!(
                        "`{}` ships Python {}, but the project uses Python {python}",
                        found.repository, found.python
                    ),
                    image.span,
                    format!("Python {}", found.python),
                );
                if let Some(text) = python_text {
                    d = d.with_label(text.span, format!("Python {python}"));
                }
                diagnostics.push(d.with_help(format!(
                    "the virtual environment only works with the interpreter it was built for: set \
                     `python \"{}\"`, or use `runtime=slim`",
                    found.python
                )));
                return None;
            }
            image.value.clone()
        }
        None => match DISTROLESS.iter().find(|d| d.python == python) {
            Some(found) => format!("{}:nonroot", found.repository),
            None => {
                let span = runtime.map_or(SourceSpan::from(0..0), |r| r.span);
                let mut d = Diagnostic::error(
                    Code::DistrolessPython,
                    format!("no distroless image ships Python {python}"),
                    span,
                    "distroless runtime",
                );
                if let Some(text) = python_text {
                    d = d.with_label(text.span, format!("Python {python}"));
                }
                diagnostics.push(d.with_help(format!(
                    "distroless images exist for {known}: change `python`, or use `runtime=slim`"
                )));
                return None;
            }
        },
    };
    Some(DockerRuntime::Distroless { image: chosen })
}

/// The rules that need only the config, run with the other name checks so their errors
/// are reported together with everyone else's.
pub(super) fn check_config(
    config: &Config,
    target: Option<&DockerTarget>,
    dockerignore: &[String],
    diagnostics: &mut Diagnostics,
) {
    let Some(target) = target else { return };
    let requirements_on = match &config.targets {
        None => true,
        Some(targets) => targets.requirements.is_some(),
    };
    if !requirements_on {
        let span = config
            .targets
            .as_ref()
            .and_then(|t| t.docker.as_ref())
            .map_or(SourceSpan::from(0..0), |d| d.span);
        diagnostics.push(
            Diagnostic::error(
                Code::DockerNeedsRequirements,
                "the docker target installs the requirements files, but the requirements target is off",
                span,
                "needs `requirements`",
            )
            .with_help("add `requirements` to `targets`"),
        );
    }
    check_project_paths(config, diagnostics);
    check_base(config, target, diagnostics);
    check_images(config, target, diagnostics);
    if let Some(ignore) = Ignore::compile(config, dockerignore, diagnostics) {
        ignore.check_copies(config, diagnostics);
    }
}

/// The rules that need closures and paths, run on the finished model.
pub(super) fn check(config: &Config, model: &Model, diagnostics: &mut Diagnostics) {
    if model.targets.docker.is_some() {
        // Pattern errors were reported by `check_config`.
        if let Some(ignore) = Ignore::compile(config, &model.dockerignore, &mut Diagnostics::default()) {
            ignore.check_requirements(config, model, diagnostics);
        }
    }
}

/// The output folder and the requirements folder (wherever it is placed) appear in COPY
/// sources and in the scripts.
fn check_project_paths(config: &Config, diagnostics: &mut Diagnostics) {
    if let Some(output) = config.project.as_ref().and_then(|p| p.output.as_ref()) {
        check_docker_path(diagnostics, "output folder", output);
        if quote::batch_word(&output.value).is_none() {
            diagnostics.push(
                Diagnostic::error(
                    Code::BatchValue,
                    format!("the output folder `{}` cannot be written in a Windows batch file", output.value),
                    output.span,
                    "not representable in docker-build.bat",
                )
                .with_help(
                    "cmd.exe cannot carry `\"`, `^`, control or non-ASCII characters: rename the folder",
                ),
            );
        }
    }
    // The requirements folder, inside the output folder (`dir=`) or placed (`path=`).
    let requirements = config.targets.as_ref().and_then(|t| t.requirements.as_ref());
    for folder in requirements.into_iter().flat_map(|r| r.dir.iter().chain(&r.path)) {
        check_docker_path(diagnostics, "requirements folder", folder);
    }
}

fn check_base(config: &Config, target: &DockerTarget, diagnostics: &mut Diagnostics) {
    let Some(base) = &config.base_image else { return };
    if let Some(from) = &base.from
        && check_reference(diagnostics, "base image", from)
    {
        check_pinned(diagnostics, "base image", from, None);
    }
    for package in base.build_packages.iter().chain(&base.runtime_packages) {
        check_package(diagnostics, package);
    }
    let DockerRuntime::Distroless { image } = &target.runtime else { return };
    for package in &base.runtime_packages {
        diagnostics.push(distroless_packages(package, image));
    }
    if let (Some(from), Some(d)) = (&base.from, distroless_of(image))
        && !d.builder_prefixes.iter().any(|p| from.value.starts_with(p))
    {
        diagnostics.push(
            Diagnostic::error(
                Code::DistrolessBuilder,
                format!("a `{}` runtime needs a `{}` builder", d.repository, d.builder),
                from.span,
                "different Python",
            )
            .with_help(format!(
                "the virtual environment must be created by the runtime's own Python \
                     (Debian's /usr/bin/python3 {}): remove `from` or set it to \"{}\"",
                d.python, d.builder
            )),
        );
    }
}

fn distroless_packages(package: &Text, image: &str) -> Diagnostic {
    Diagnostic::error(
        Code::DistrolessPackages,
        format!("`{image}` has no package manager: `{}` cannot be installed at run time", package.value),
        package.span,
        "runtime package",
    )
    .with_help("remove the runtime package, or use `runtime=slim`")
}

fn check_images(config: &Config, target: &DockerTarget, diagnostics: &mut Diagnostics) {
    // Image repositories are `<prefix>-<name>`; the base image takes `<prefix>-base` and
    // `<prefix>-base-builder` (see plan/builds.rs).
    let reserved = ["base", "base-builder"];
    let distroless = match &target.runtime {
        DockerRuntime::Distroless { image } => Some(image.as_str()),
        DockerRuntime::Slim => None,
    };
    for decl in &config.images {
        let dns = dns_name(&decl.name.value);
        // `Dockerfile.base` is already reported as reserved by the image checks.
        let dockerfile_reported = decl.dockerfile.as_ref().unwrap_or(&decl.name).value == "base";
        if reserved.contains(&dns.as_str()) && !dockerfile_reported {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidName,
                    format!("image `{}` would take the shared base image's repository name", decl.name.value),
                    decl.name.span,
                    "reserved for the base image",
                )
                .with_help("rename the image"),
            );
        }
        for copy in &decl.copies {
            check_docker_path(diagnostics, "copy source", &copy.source);
            check_docker_path(diagnostics, "copy target", &copy.target);
        }
        if let Some(workdir) = &decl.workdir {
            check_docker_path(diagnostics, "workdir", workdir);
        }
        for path in &decl.writable {
            check_docker_path(diagnostics, "writable path", path);
        }
        for package in decl.build_packages.iter().chain(&decl.runtime_packages) {
            check_package(diagnostics, package);
        }
        if let Some(image) = distroless
            && decl.from.is_none()
        {
            for package in &decl.runtime_packages {
                diagnostics.push(distroless_packages(package, image));
            }
        }
        for env in &decl.env {
            if !is_env_name(&env.key.value) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{}` is not an environment variable name", env.key.value.escape_debug()),
                        env.key.span,
                        "invalid name",
                    )
                    .with_help("use letters, digits and `_`, not starting with a digit, e.g. `LOG_LEVEL`"),
                );
            }
            if quote::dockerfile_env_value(&env.value.value).is_none() {
                diagnostics.push(
                    Diagnostic::error(
                        Code::DockerValue,
                        "an ENV value cannot contain a line break or NUL",
                        env.value.span,
                        "not representable in a Dockerfile",
                    )
                    .with_help("a Dockerfile instruction is one line: put the value on one line"),
                );
            }
        }
        match &decl.from {
            Some(from) => check_plain(decl, from, diagnostics),
            None => check_user(config, decl.user.as_ref(), diagnostics),
        }
        if let (Some(unpinned), None) = (&decl.unpinned, &decl.from) {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`unpinned=` on image `{}`, which starts from the base image", decl.name.value),
                    unpinned.span,
                    "nothing to acknowledge",
                )
                .with_help("`unpinned=` acknowledges a `from=` without a version tag or digest: remove it"),
            );
        }
        if let Some(health) = &decl.health {
            check_health(health, diagnostics);
        }
        check_build_args(decl, diagnostics);
    }
    if let Some(uid) = config.project.as_ref().and_then(|p| p.uid.as_ref()).filter(|u| u.value == 0) {
        diagnostics.push(uid_zero(uid));
    }
}

/// A plain image (`from=`): its reference is pinned as a pre-built service's is, and
/// what only an image of the shared base image can do is refused, each at its span: the
/// groups and preloads need the base's Python environment, the packages its apt (the
/// `from` image may have another package manager, or none), an HTTP health check its
/// Python. Its user already exists in the `from` image: gscgen writes its uid, never
/// creates it, so a name alone (which Kubernetes cannot verify as non-root) is refused, and
/// so are writable folders without a known owner or without a shell to create them.
fn check_plain(decl: &ImageDecl, from: &Text, diagnostics: &mut Diagnostics) {
    let what = format!("image `{}`'s `from`", decl.name.value);
    if check_reference(diagnostics, &what, from) {
        check_pinned(diagnostics, &what, from, decl.unpinned.as_ref());
    }
    let needs_base = |what: &str, span: SourceSpan, help: &str| {
        Diagnostic::error(
            Code::ImageNeedsBase,
            format!(
                "{what} needs the shared base image, but image `{}` starts from `{}`",
                decl.name.value, from.value
            ),
            span,
            "needs the base image",
        )
        .with_label(from.span, "a plain image: no Python environment")
        .with_help(help.to_owned())
    };
    let python = "remove `from=` to build the image from the base image, or put this in an image that does";
    if let Some(group) = decl.groups.first() {
        diagnostics.push(needs_base("`groups`", group.span, python));
    }
    if let Some(preload) = decl.preload.first() {
        diagnostics.push(needs_base("`preload`", preload.span, python));
    }
    let install = "install it with the `from` image's own package manager: `dockerfile-extra { before-install \
                 \"RUN apk add --no-cache …\" }` (or apt-get, as the image has), or remove `from=`";
    for (name, packages) in
        [("`build-packages`", &decl.build_packages), ("`runtime-packages`", &decl.runtime_packages)]
    {
        if let Some(package) = packages.first() {
            diagnostics.push(needs_base(name, package.span, install));
        }
    }
    if let Some(HealthDecl { check: Some(HealthCheckDecl::Http { path, .. }), .. }) = &decl.health {
        diagnostics.push(needs_base(
            "an HTTP health check (run with the base image's Python)",
            path.span,
            "write the check as a command the `from` image has, e.g. `health \"redis-cli\" \"ping\"` or \
                 `health \"wget\" \"-q\" \"--spider\" \"http://localhost:8080/\"`",
        ));
    }
    let root = decl.user.as_ref().and_then(|u| u.root.as_ref()).is_some_and(|r| r.value);
    let uid = decl.user.as_ref().and_then(|u| u.uid.as_ref()).filter(|_| !root);
    if let Some(uid) = uid.filter(|u| u.value == 0) {
        diagnostics.push(uid_zero(uid));
    }
    if let Some(user) = &decl.user
        && !root
        && user.uid.is_none()
    {
        let span = user.name.as_ref().map_or(user.span, |n| n.span);
        diagnostics.push(
            Diagnostic::error(
                Code::PlainImageUser,
                format!("image `{}` names a user of `{}` without its uid", decl.name.value, from.value),
                span,
                "no uid",
            )
            .with_help(
                "gscgen creates no user in a plain image, it switches to one the `from` image has, by uid (which \
                 Kubernetes' runAsNonRoot can verify): write `user uid=101` (with the image's uid), or \
                 `user root=#true`, or remove `user` to keep the image's own",
            ),
        );
    }
    if let Some(path) = decl.writable.first() {
        if decl.user.is_none() {
            diagnostics.push(
                Diagnostic::error(
                    Code::PlainImageUser,
                    format!(
                        "image `{}` keeps the user of `{}`, which gscgen does not know: its writable folders \
                 would have no owner",
                        decl.name.value, from.value
                    ),
                    path.span,
                    "writable for whom?",
                )
                .with_label(from.span, "runs as this image's own user")
                .with_help(
                    "say which user the image runs as: `user uid=101` (the `from` image's uid), or `user \
                 root=#true`",
                ),
            );
        } else if distroless_of(&from.value).is_some() {
            diagnostics.push(
                Diagnostic::error(
                    Code::DistrolessPackages,
                    format!("`{}` has no shell to create the writable folders with", from.value),
                    path.span,
                    "writable folder",
                )
                .with_help("remove `writable` (mount a volume at the folder instead), or start from an image with a shell"),
            );
        }
    }
}

fn uid_zero(uid: &Spanned<u32>) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, "uid 0 is root", uid.span, "root").with_help(
        "choose a non-root uid such as 1000, or write `user root=#true` on an image that must run as root",
    )
}

/// A per-image user must not clash with the base image's user (`app`, the project's uid),
/// which the base runtime stage already created.
fn check_user(config: &Config, user: Option<&UserDecl>, diagnostics: &mut Diagnostics) {
    let Some(user) = user else { return };
    if user.root.as_ref().is_some_and(|r| r.value) {
        return;
    }
    if let Some(uid) = user.uid.as_ref().filter(|u| u.value == 0) {
        diagnostics.push(uid_zero(uid));
    }
    let project_uid = config.project.as_ref().and_then(|p| p.uid.as_ref()).map_or(1000, |u| u.value);
    if let Some(name) = &user.name {
        let valid = name.value.len() <= 32
            && name.value.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidName,
                    format!("`{}` is not a valid user name", name.value.escape_debug()),
                    name.span,
                    "invalid user name",
                )
                .with_help(
                    "use at most 32 lowercase letters, digits, `_` and `-`, starting with a letter or `_`",
                ),
            );
            return;
        }
        let uid = user.uid.as_ref().map_or(project_uid, |u| u.value);
        let clash = (name.value == BASE_USER) != (uid == project_uid);
        if clash {
            diagnostics.push(
                Diagnostic::error(
                    Code::UserConflict,
                    format!(
                        "user `{}` (uid {uid}) clashes with the base image's user `{BASE_USER}` (uid {project_uid})",
                        name.value
                    ),
                    name.span,
                    "clashes with the base user",
                )
                .with_help(format!(
                    "use a different name and a different uid, or drop `user` to run as `{BASE_USER}`"
                )),
            );
        }
    } else if let Some(uid) = user.uid.as_ref().filter(|u| u.value != project_uid) {
        diagnostics.push(
            Diagnostic::error(
                Code::UserConflict,
                format!("uid {} needs a user name other than `{BASE_USER}`", uid.value),
                uid.span,
                "different uid",
            )
            .with_help(format!(
                "write `user \"worker\" uid={}`, or set `uid` in `project` to change every image",
                uid.value
            )),
        );
    }
}

/// A health check's HTTP path and durations, for images and services alike.
pub(super) fn check_health(health: &HealthDecl, diagnostics: &mut Diagnostics) {
    if let Some(HealthCheckDecl::Http { path, .. }) = &health.check
        && (!path.value.starts_with('/') || path.value.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not an HTTP path", path.value.escape_debug()),
                path.span,
                "expected /path",
            )
            .with_help("write the path the check requests, starting with `/`, e.g. \"/health\""),
        );
    }
    for duration in [&health.interval, &health.timeout, &health.start_period].into_iter().flatten() {
        if !is_duration(&duration.value) {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a duration", duration.value.escape_debug()),
                    duration.span,
                    "expected e.g. 30s",
                )
                .with_help("write a number with a unit (ms, s, m, h), e.g. \"30s\" or \"1m30s\""),
            );
        }
    }
}

fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Paths written into COPY, WORKDIR and RUN lines: Dockerfile words are split on
/// whitespace, `$` substitutes variables, `\` escapes, and COPY sources are globs. Rather
/// than half-escape them, only characters with no meaning to any of these are accepted.
fn check_docker_path(diagnostics: &mut Diagnostics, what: &str, path: &Text) {
    let allowed = |c: char| c.is_alphanumeric() || "_./-+@,=:%~".contains(c);
    // `./-x` is cleaned to `-x` before it is written: look at the first real component.
    if path.value.split('/').find(|c| !c.is_empty() && *c != ".").is_some_and(|c| c.starts_with('-'))
        && !path.value.starts_with('/')
    {
        // `COPY --from=alpine:3 /app/x`: an argument that starts with `-` is read as a flag.
        diagnostics.push(
            Diagnostic::error(
                Code::DockerFlag,
                format!(
                    "{what} `{}` starts with `-`, so Docker would read it as a flag",
                    path.value.escape_debug()
                ),
                path.span,
                "read as a flag",
            )
            .with_help(
                "rename the file or folder so that its name starts with a letter, a digit, `_` or `.`",
            ),
        );
    } else if let Some(bad) = path.value.chars().find(|c| !allowed(*c)) {
        diagnostics.push(
            Diagnostic::error(
                Code::DockerValue,
                format!("{what} `{}` contains `{}`, which a Dockerfile cannot carry as is", path.value.escape_debug(), bad.escape_debug()),
                path.span,
                "not representable in a Dockerfile",
            )
            .with_help(
                "Dockerfile COPY/WORKDIR words split on spaces, expand `$`, and treat `*?[` as wildcards: use \
                 letters, digits and `_ . / - + @ , = : % ~`",
            ),
        );
    }
}

/// An image reference (`python:3.11-slim`, `gcr.io/x/y@sha256:…`, `docker/dockerfile:1`).
/// It starts with a letter or digit, as every registry host and repository name does, so
/// `FROM`, `image:` and `# syntax=` can never receive a flag (`--platform=…`).
pub(crate) fn check_reference(diagnostics: &mut Diagnostics, what: &str, reference: &Text) -> bool {
    let valid = reference.value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && reference.value.chars().all(|c| c.is_ascii_alphanumeric() || "._/:@-".contains(c));
    if !valid {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not an image reference", reference.value.escape_debug()),
                reference.span,
                format!("invalid {what}"),
            )
            .with_help("write a reference such as \"python:3.11-slim\" or \"registry/name@sha256:…\""),
        );
    }
    valid
}

/// Whether a reference names one image for good: a valid `@sha256:` digest, or at least a
/// tag other than `latest`. An untagged or `latest` reference moves under the config
/// (builds and nodes a week apart run different images): a warning, unless `unpinned=`
/// gives the reason it cannot be pinned yet. A malformed digest is an error.
pub(crate) fn check_pinned(
    diagnostics: &mut Diagnostics,
    what: &str,
    reference: &Text,
    unpinned: Option<&Text>,
) {
    let value = reference.value.as_str();
    if let Some((_, digest)) = value.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_digit() || matches!(c, 'a'..='f')) {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a sha256 digest", digest.escape_debug()),
                    reference.span,
                    "invalid digest",
                )
                .with_help("a digest is `sha256:` and 64 lowercase hex digits, as `docker buildx imagetools inspect` prints it"),
            );
        } else if let Some(unpinned) = unpinned {
            diagnostics.push(nothing_to_waive(reference, unpinned));
        }
        return;
    }
    let name = value.rsplit('/').next().unwrap_or(value);
    let tag = name.split_once(':').map(|(_, tag)| tag);
    let problem = match tag {
        None => "has no tag (Docker takes `latest`)",
        Some("latest") => "is tagged `latest`",
        Some(_) => {
            if let Some(unpinned) = unpinned {
                diagnostics.push(nothing_to_waive(reference, unpinned));
            }
            return;
        }
    };
    if unpinned.is_some() {
        return;
    }
    diagnostics.push(
        Diagnostic::warning(
            Code::UnpinnedImage,
            format!("{what} `{value}` {problem}: it moves whenever its publisher pushes"),
            reference.span,
            "not pinned",
        )
        .with_help(
            "name a version tag (\"redis:7.4-alpine\"), best with its digest (\"redis:7.4-alpine@sha256:…\", from `docker buildx imagetools inspect`); a service that truly cannot be pinned yet says why with `unpinned=\"…\"`",
        ),
    );
}

fn nothing_to_waive(reference: &Text, unpinned: &Text) -> Diagnostic {
    Diagnostic::error(
        Code::InvalidValue,
        format!("`unpinned=` on `{}`, which is pinned", reference.value),
        unpinned.span,
        "nothing to acknowledge",
    )
    .with_label(reference.span, "pinned")
    .with_help("remove `unpinned=`")
}

/// A Debian package name, optionally pinned with `=version`.
fn check_package(diagnostics: &mut Diagnostics, package: &Text) {
    let (name, version) = match package.value.split_once('=') {
        Some((name, version)) => (name, Some(version)),
        None => (package.value.as_str(), None),
    };
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    let version_ok = version.is_none_or(|v| {
        v.starts_with(|c: char| c.is_ascii_digit())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c))
    });
    if !(name_ok && version_ok) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidPackage,
                format!("`{}` is not a Debian package name", package.value.escape_debug()),
                package.span,
                "invalid package",
            )
            .with_help(
                "write a package name such as `libpq-dev`, optionally pinned as `libpq-dev=15.8-0+deb12u1`",
            ),
        );
    }
}

/// One `.dockerignore` pattern, with its span when the config wrote it.
struct PatternSource<'a> {
    text: &'a str,
    span: Option<SourceSpan>,
}

/// The compiled `.dockerignore` and where each pattern came from.
struct Ignore<'a> {
    rules: IgnoreRules,
    sources: Vec<PatternSource<'a>>,
    /// The config declares `dockerignore` (else the default list applies).
    declared: bool,
}

impl<'a> Ignore<'a> {
    fn compile(config: &'a Config, patterns: &'a [String], diagnostics: &mut Diagnostics) -> Option<Self> {
        let sources: Vec<PatternSource<'a>> = match &config.dockerignore {
            Some(decl) => {
                decl.patterns.iter().map(|p| PatternSource { text: &p.value, span: Some(p.span) }).collect()
            }
            None => patterns.iter().map(|p| PatternSource { text: p, span: None }).collect(),
        };
        let mut valid = true;
        for source in &sources {
            if source.text.contains(['\n', '\r']) {
                valid = false;
                diagnostics.push(
                    Diagnostic::error(
                        Code::DockerValue,
                        "a `.dockerignore` pattern cannot contain a line break",
                        source.span.unwrap_or(SourceSpan::from(0..0)),
                        "not one line",
                    )
                    .with_help("write each pattern as its own string"),
                );
            }
        }
        match IgnoreRules::new(&sources.iter().map(|s| s.text).collect::<Vec<_>>()) {
            Ok(rules) => valid.then_some(Self { rules, sources, declared: config.dockerignore.is_some() }),
            Err(errors) => {
                for error in errors {
                    let span =
                        sources.get(error.index).and_then(|s| s.span).unwrap_or(SourceSpan::from(0..0));
                    diagnostics.push(
                        Diagnostic::error(
                            Code::DockerignorePattern,
                            error.message.clone(),
                            span,
                            "invalid pattern",
                        )
                        .with_help(
                            "see docs/docker.md for the `.dockerignore` pattern syntax Docker accepts",
                        ),
                    );
                }
                None
            }
        }
    }

    /// How the config wrote the pattern at `index`.
    fn describe(&self, index: usize) -> String {
        let text = self.sources[index].text;
        if !self.declared {
            return format!("the default pattern `{text}`");
        }
        match text.strip_prefix('!') {
            Some(kept) => format!("`keep \"{kept}\"`"),
            None => format!("`exclude \"{text}\"`"),
        }
    }

    fn how_to_fix(&self) -> &'static str {
        if self.declared {
            "remove that pattern, or add a `keep` for this path after it"
        } else {
            "declare `dockerignore { exclude … }` without that pattern (it replaces the default list)"
        }
    }

    /// A `copy` source that the context does not contain would fail the build.
    fn check_copies(&self, config: &Config, diagnostics: &mut Diagnostics) {
        for decl in &config.images {
            for copy in &decl.copies {
                if super::names::check_relative_path("copy source", &copy.source).is_some() {
                    continue; // reported as an invalid path
                }
                let source = clean_relative(&copy.source.value);
                let verdict = self.rules.verdict(&source);
                if !verdict.excluded {
                    continue;
                }
                let mut d = Diagnostic::error(
                    Code::CopyExcluded,
                    format!("`.dockerignore` excludes the copy source `{source}`"),
                    copy.source.span,
                    "excluded from the build context",
                );
                if let Some(span) = verdict.pattern.and_then(|i| self.sources[i].span) {
                    d = d.with_label(span, "excluded by this pattern");
                }
                let pattern = verdict.pattern.map(|i| self.describe(i)).unwrap_or_default();
                // BuildKit still walks into an excluded folder when a `!` pattern could
                // re-include something beneath it, but the folder as written is not there.
                let partly = if self.rules.may_reinclude_under(&source) {
                    " (a `keep` pattern may re-include parts of it; copy those paths instead)"
                } else {
                    ""
                };
                diagnostics
                    .push(d.with_help(format!("{pattern} excludes it{partly}: {}", self.how_to_fix())));
            }
        }
    }

    /// The requirements files are COPY sources of every builder stage.
    fn check_requirements(&self, config: &Config, model: &Model, diagnostics: &mut Diagnostics) {
        let mut groups: Vec<usize> = model.base.closure.clone();
        for image in &model.images {
            groups.extend(&image.closure);
        }
        groups.sort_unstable();
        groups.dedup();
        // A locked build copies the locks instead (rules::lock): those must reach it too.
        let locks = crate::rules::lock::lock_sets(model);
        let paths: Vec<_> = if locks.is_empty() {
            groups.into_iter().filter_map(|g| requirements_path(model, g)).collect()
        } else {
            locks
                .into_iter()
                .filter(|s| !matches!(s.kind, crate::rules::lock::LockKind::Group(_)))
                .map(|s| s.path)
                .collect()
        };
        for path in paths {
            let verdict = self.rules.verdict(path.as_str());
            if !verdict.excluded {
                continue;
            }
            let project = config.project.as_ref();
            let span = project
                .and_then(|p| p.output.as_ref())
                .map(|o| o.span)
                .or_else(|| project.map(|p| p.name.span))
                .unwrap_or(SourceSpan::from(0..0));
            let mut d = Diagnostic::error(
                Code::RequirementsExcluded,
                format!("`.dockerignore` excludes the generated requirements file `{path}`"),
                span,
                "the requirements are generated here",
            );
            if let Some(pattern_span) = verdict.pattern.and_then(|i| self.sources[i].span) {
                d = d.with_label(pattern_span, "excluded by this pattern");
            }
            let pattern = verdict.pattern.map(|i| self.describe(i)).unwrap_or_default();
            diagnostics.push(d.with_help(format!(
                "{pattern} excludes it, so no image could install its requirements: {}, or change `output`",
                self.how_to_fix()
            )));
            // One report is enough: every other file sits in the same folder.
            break;
        }
    }
}

/// `build-arg NAME "value"`: a name the Dockerfile's `ARG` takes, not one gscgen sets itself,
/// once per image; a value every build carries as is (Dockerfile, sh and bat scripts, Compose,
/// the workflow's `build-args` lines).
fn check_build_args(decl: &crate::config::ImageDecl, diagnostics: &mut Diagnostics) {
    let mut seen: std::collections::HashMap<&str, SourceSpan> = std::collections::HashMap::new();
    for arg in &decl.build_args {
        let name = &arg.name;
        if !is_env_name(&name.value) {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a build argument name", name.value.escape_debug()),
                    name.span,
                    "invalid name",
                )
                .with_help("use letters, digits and `_`, not starting with a digit, e.g. `APP_VERSION`"),
            );
            continue;
        }
        if crate::rules::layout::RESERVED_BUILD_ARGS.contains(&name.value.as_str()) {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is a build argument gscgen sets itself", name.value),
                    name.span,
                    "reserved",
                )
                .with_help(format!(
                    "choose another name; the reserved ones are {}",
                    crate::rules::layout::RESERVED_BUILD_ARGS.join(", ")
                )),
            );
            continue;
        }
        if let Some(first) = seen.insert(&name.value, name.span) {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("image `{}` sets build argument `{}` twice", decl.name.value, name.value),
                    name.span,
                    "set again here",
                )
                .with_label(first, "first set here")
                .with_help("keep one of them"),
            );
        }
        let value = &arg.value;
        let pair = format!("{}={}", name.value, value.value);
        let dockerfile = quote::dockerfile_env_value(&value.value).is_some();
        let batch = quote::batch_word(&pair).is_some();
        let workflow = !value.value.contains("${{");
        if !(dockerfile && batch && workflow) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DockerValue,
                    "this build argument value cannot be carried by every build",
                    value.span,
                    "not representable",
                )
                .with_help(
                    "a build argument is one line, without NUL, `\"`, `^` or non-ASCII characters \
                     (docker-build.bat), and without `${{` (the workflow's expressions)",
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default list compiles, excludes at any depth what the seed meant to exclude
    /// anywhere, and keeps what images copy (application code, its own scripts, the
    /// generated requirements).
    #[test]
    fn default_dockerignore_means_what_the_seed_meant() {
        let rules = IgnoreRules::new(super::super::DEFAULT_DOCKERIGNORE).expect("default list compiles");
        for excluded in [
            "ingestors/__pycache__/x.cpython-311.pyc",
            "ingestors/api/x.pyc",
            "insights_core/.env",
            "services/.env.local",
            "agents/README.md",
            "README.rst",
            "ingestors/api/debug.log",
            "data/export.csv",
            "pkg/native.cpython-311-x86_64-linux-gnu.so",
            "src/app.egg-info",
            "secrets/gsc_sa.json",
            "compose/dockerfiles/Dockerfile.api",
            "Dockerfile",
            ".git",
            "tests/test_x.py",
        ] {
            assert!(rules.is_excluded(excluded), "{excluded}");
        }
        for kept in [
            "ingestors/api/gsc_api_ingestor.py",
            "ingestors/api/run.sh",
            "scheduler/scheduler.py",
            "transform/sql/001.sql",
            "generated/requirements/base.txt",
            "generated/compose/dockerfiles/Dockerfile.base",
            "insights_api",
        ] {
            assert!(!rules.is_excluded(kept), "{kept}");
        }
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("LOG_LEVEL") && is_env_name("_x1"));
        assert!(!is_env_name("1X") && !is_env_name("A-B") && !is_env_name("") && !is_env_name("A B"));
    }
}
