//! The docker target: `compose/dockerfiles/Dockerfile.base`, one `Dockerfile.<name>` per
//! image, a `.dockerignore` next to each Dockerfile, `scripts/docker-build.{sh,bat}`, and
//! `scripts/docker-bake.json` ([`super::bake`]).
//!
//! Every value is computed and quoted here (through [`rules::quote`](crate::rules::quote)); the templates in
//! `templates/docker/` only lay out instructions. docs/docker.md explains each section.

use askama::Template;
use camino::{Utf8Path, Utf8PathBuf};

use super::builds::{self, Build};
use super::{FileMode, PlanContext, PlanError, Planner};
use crate::config::{HealthCheckDecl, HealthDecl};
use crate::model::{DockerRuntime, DockerTarget, Image, Model, User};
use crate::rules::distroless::distroless_of;
use crate::rules::image_user::{BASE_USER, home, user_spec};
use crate::rules::layout;
use crate::rules::lock::{LockKind, lock_sets};
use crate::rules::quote::{batch_word, dockerfile_env_value, dockerfile_exec_form, json_string, shell_word};

/// The virtual environment every image runs from.
const VENV: &str = "/opt/venv";
/// Where builder stages put the requirements files (one folder, so `-r` lines resolve).
const REQUIREMENTS_DIR: &str = "/tmp/requirements";
/// An empty folder of the builder stages, copied with `--chown` to create writable
/// folders where the runtime has no shell (distroless).
const EMPTY_DIR: &str = "/opt/empty";

/// `apt-get install` of some packages, with BuildKit cache mounts.
struct Apt {
    /// Shell words, one per package.
    packages: Vec<String>,
    /// Some package has no `=version`: the template adds the hadolint DL3008 pragma.
    unpinned: bool,
}

impl Apt {
    fn new<'a>(packages: impl IntoIterator<Item = &'a String>) -> Option<Self> {
        let mut words: Vec<String> = Vec::new();
        let mut unpinned = false;
        for package in packages {
            let word = shell_word(package).into_owned();
            if !words.contains(&word) {
                unpinned |= !package.contains('=');
                words.push(word);
            }
        }
        (!words.is_empty()).then_some(Self { packages: words, unpinned })
    }
}

/// `COPY` of requirements files, then `pip install -r` of the roots.
struct Pip {
    /// What the COPY brings: every file of the closure, or the one lock.
    copy_comment: &'static str,
    /// COPY sources, relative to the build context: every file of the closure.
    sources: Vec<String>,
    /// `pip install` arguments: `--requirement <file>` for each root.
    roots: Vec<String>,
    /// The project declares package indexes: their credentials come from the BuildKit
    /// secret `pip-netrc` (mounted for this one command, never in a layer; optional).
    netrc: bool,
}

/// A COPY of the image's own code.
struct CodeCopy {
    /// `--chown=uid:gid ` when the target holds a writable folder, else empty.
    chown: String,
    source: String,
    target: String,
}

struct Health {
    /// `--interval=30s --timeout=10s …` (may be empty).
    options: String,
    /// Exec form.
    cmd: String,
}

#[derive(Template)]
#[template(path = "docker/Dockerfile.base", escape = "none")]
struct BaseDockerfile {
    header: Vec<String>,
    builder_from: String,
    builder_apt: Option<Apt>,
    /// The command that creates the virtual environment.
    venv: String,
    pip: Option<Pip>,
    default_index: &'static str,
    runtime_from: String,
    runtime_apt: Option<Apt>,
    distroless: bool,
    /// `uid:gid` of the base user.
    owner: String,
    /// RUN command creating the base user (slim).
    useradd: String,
    home: String,
    /// `dockerfile-extra` blocks (see [`extra`]): start of base-builder, end of base-runtime.
    extra_before_install: String,
    extra_final: String,
}

#[derive(Template)]
#[template(path = "docker/Dockerfile.image", escape = "none")]
struct ImageDockerfile {
    header: Vec<String>,
    base_builder: String,
    base_runtime: String,
    /// Emit the builder stage.
    builder: bool,
    builder_apt: Option<Apt>,
    pip: Option<Pip>,
    default_index: &'static str,
    runtime_apt: Option<Apt>,
    /// RUN command creating the image's own user (slim), when it is not the base user.
    useradd: Option<String>,
    /// Distroless: folders created by `COPY --from=builder --chown=… /opt/empty <dir>`.
    chown_dirs: Vec<String>,
    /// `uid:gid ` prefix for `--chown=` (empty for root images).
    owner: String,
    /// Slim: RUN command creating the writable folders.
    mkdir: Option<String>,
    copy_venv: bool,
    /// `KEY="value"`.
    env: Vec<String>,
    /// `NAME="value"`: the image's `build-arg`s, declared in each stage.
    build_args: Vec<String>,
    workdir: String,
    user: Option<String>,
    /// Exec form.
    preload: Vec<String>,
    copies: Vec<CodeCopy>,
    expose: String,
    health: Option<Health>,
    entrypoint: Option<String>,
    cmd: Option<String>,
    /// `dockerfile-extra` blocks (see [`extra`]).
    extra_before_install: String,
    extra_after_copy: String,
    extra_final: String,
}

/// The Dockerfile of a plain image (`from=`): one stage, FROM the pre-built image, no
/// Python environment and no base image.
#[derive(Template)]
#[template(path = "docker/Dockerfile.plain", escape = "none")]
struct PlainDockerfile {
    header: Vec<String>,
    from: String,
    /// `NAME="value"`: the image's `build-arg`s.
    build_args: Vec<String>,
    /// RUN command creating the writable folders (the `from` image's shell runs it).
    mkdir: Option<String>,
    /// `KEY="value"`.
    env: Vec<String>,
    workdir: Option<String>,
    /// `uid:gid`, or `0:0` for `root=#true`; none when the image keeps its `from` image's user.
    user: Option<String>,
    /// The user is root, deliberately: the template tells hadolint so.
    root: bool,
    copies: Vec<CodeCopy>,
    expose: String,
    health: Option<Health>,
    entrypoint: Option<String>,
    cmd: Option<String>,
    extra_before_install: String,
    extra_after_copy: String,
    extra_final: String,
}

#[derive(Template)]
#[template(path = "docker/Dockerfile.dockerignore", escape = "none")]
struct Dockerignore<'a> {
    config_name: &'a str,
    dockerfile: &'a str,
    patterns: &'a [String],
}

struct ShellBuild {
    /// The build's name, a plain word (resolve checks image names).
    name: String,
    /// What the .bat prints on stderr when a base stage fails: it names the stage, so a
    /// failed run says which one broke without reading back through the log.
    failure: String,
    /// `--flag value` pairs, already quoted.
    options: Vec<String>,
}

#[derive(Template)]
#[template(path = "docker/docker-build.sh", escape = "none")]
struct ShellScript<'a> {
    config_name: &'a str,
    to_root: String,
    /// The base stages, built one after the other before any image.
    bases: Vec<ShellBuild>,
    /// The images, built in parallel from the bases.
    images: Vec<ShellBuild>,
    /// The image names, space-separated (plain words: no quoting needed).
    names: String,
    count: usize,
    /// A line on the plain images (`from=`), when there are any: they need no base.
    plain: Option<String>,
}

#[derive(Template)]
#[template(path = "docker/docker-build.bat", escape = "none")]
struct BatchScript<'a> {
    config_name: &'a str,
    to_root: String,
    bases: Vec<ShellBuild>,
    images: Vec<ShellBuild>,
    /// The image names, space-separated, for `for %%N in (…)`.
    names: String,
    count: usize,
    /// A line on the plain images (`from=`), when there are any: they need no base.
    plain: Option<String>,
}

pub(super) fn plan(
    model: &Model,
    context: &PlanContext,
    target: &DockerTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    let base_path = layout::base_dockerfile_path();
    planner.render(base_path.clone(), &base(model, context, target, &base_path)?, FileMode::Regular)?;
    ignore_file(model, context, &base_path, planner)?;
    for (id, image) in model.images.iter().enumerate() {
        let path = layout::dockerfile_path(image);
        match &image.from {
            None => planner.render(
                path.clone(),
                &image_file(model, context, target, id, &path)?,
                FileMode::Regular,
            )?,
            Some(from) => planner.render(
                path.clone(),
                &plain_file(context, target, image, from, &path)?,
                FileMode::Regular,
            )?,
        }
        ignore_file(model, context, &path, planner)?;
    }
    scripts(model, context, planner)?;
    super::bake::plan(model, context, planner)
}

/// BuildKit reads `<Dockerfile>.dockerignore` next to the Dockerfile before the context
/// root's `.dockerignore`; the context (the project root) lies outside the output folder.
fn ignore_file(
    model: &Model,
    context: &PlanContext,
    dockerfile: &Utf8Path,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    let name = dockerfile.file_name().unwrap_or_default();
    let file =
        Dockerignore { config_name: &context.config_name, dockerfile: name, patterns: &model.dockerignore };
    planner.render(format!("{dockerfile}.dockerignore"), &file, FileMode::Regular)
}

/// The `dockerfile-extra` instructions of one point, as a block the templates append to the
/// line before it: a blank line, a comment naming where they come from (not the line
/// number, which would change every Dockerfile on unrelated edits of the config), then the
/// instructions as resolve checked them. Empty when there are none.
fn extra(context: &PlanContext, owner: &str, point: &str, lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut block =
        format!("\n\n# Written as given in {}: {owner} › dockerfile-extra › {point}.", context.config_name);
    for line in lines {
        block.push('\n');
        block.push_str(line);
    }
    block
}

fn error(path: &Utf8Path, message: impl Into<String>) -> PlanError {
    PlanError { path: path.to_owned(), message: message.into() }
}

fn header(context: &PlanContext, target: &DockerTarget, what: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    // A parser directive must be the very first line.
    if let Some(syntax) = &target.syntax {
        lines.push(format!("# syntax={syntax}"));
    }
    lines.push(format!(
        "# Generated by gscgen from {}: do not edit (change it there, then run `gscgen render`).",
        context.config_name
    ));
    lines.extend(what.iter().map(|line| format!("# {line}")));
    lines.push(
        "# Built by scripts/docker-build.sh with BuildKit; the build context is the project root.".into(),
    );
    lines.push("# Each section is explained in docs/docker.md.".into());
    lines
}

/// Context-relative path of a group's requirements file.
fn requirements_source(model: &Model, group: usize, path: &Utf8Path) -> Result<String, PlanError> {
    let file = layout::requirements_path(model, group).ok_or_else(|| {
        error(path, "the docker target needs the requirements target (resolve checks this)")
    })?;
    Ok(file.into_string())
}

fn requirements_target(model: &Model, group: usize) -> String {
    format!("{REQUIREMENTS_DIR}/{}.txt", model.groups[group].name.value)
}

fn pip(
    model: &Model,
    closure: &[usize],
    roots: &[usize],
    lock: LockKind,
    path: &Utf8Path,
) -> Result<Option<Pip>, PlanError> {
    if roots.is_empty() {
        return Ok(None);
    }
    if !model.locks.is_empty() {
        // A locked project installs the lock alone: hashes required, nothing resolved, no
        // dependency pulled in that the lock does not name (docs/locking.md).
        let set = lock_sets(model)
            .into_iter()
            .find(|s| s.kind == lock)
            .ok_or_else(|| error(path, "no lock for this build (resolve checks this)"))?;
        let file = set.path.file_name().unwrap_or_default();
        return Ok(Some(Pip {
            copy_comment: "The lock of this build: every package, pinned, with the hashes of its files.",
            sources: vec![set.path.to_string()],
            roots: vec![
                "--require-hashes".to_owned(),
                "--no-deps".to_owned(),
                format!("--requirement {REQUIREMENTS_DIR}/{file}"),
            ],
            netrc: !model.indexes.is_empty(),
        }));
    }
    let sources = closure.iter().map(|g| requirements_source(model, *g, path)).collect::<Result<_, _>>()?;
    let roots = roots.iter().map(|g| format!("--requirement {}", requirements_target(model, *g))).collect();
    Ok(Some(Pip {
        copy_comment: "Every requirements file of the closure, so that each `-r` line finds its file.",
        sources,
        roots,
        netrc: false,
    }))
}

fn useradd(name: &str, uid: u32) -> String {
    let name = shell_word(name);
    format!(
        "groupadd --gid {uid} {name} \\\n    && useradd --no-log-init --create-home --uid {uid} --gid {uid} \
         --shell /usr/sbin/nologin {name}"
    )
}

fn base(
    model: &Model,
    context: &PlanContext,
    target: &DockerTarget,
    path: &Utf8Path,
) -> Result<BaseDockerfile, PlanError> {
    let base = &model.base;
    let distroless = match &target.runtime {
        DockerRuntime::Slim => None,
        DockerRuntime::Distroless { image } => Some(image.as_str()),
    };
    let mut builder_packages: Vec<String> = base.build_packages.clone();
    builder_packages.extend(base.runtime_packages.iter().cloned());
    let venv = if distroless.is_some() {
        // Debian's Python has no venv module until python3-venv is installed.
        builder_packages.push("python3-venv".into());
        format!("python3 -m venv {VENV} && mkdir -p {EMPTY_DIR}")
    } else {
        format!("python3 -m venv {VENV}")
    };
    if let Some(image) = distroless
        && distroless_of(image).is_none()
    {
        return Err(error(path, format!("unknown distroless image {image} (resolve checks this)")));
    }
    let uid = model.project.uid;
    Ok(BaseDockerfile {
        header: header(
            context,
            target,
            &[
                "The shared base image. Stage base-builder: compiler, headers and the base requirements.",
                "Stage base-runtime: runtime packages, the same environment and the non-root user.",
            ],
        ),
        builder_from: base.from.clone(),
        builder_apt: Apt::new(&builder_packages),
        venv,
        pip: pip(model, &base.closure, &Model::ids(&base.groups), LockKind::BaseImage, path)?,
        default_index: builds::DEFAULT_PIP_INDEX_URL,
        runtime_from: distroless.map_or_else(|| base.from.clone(), str::to_owned),
        runtime_apt: if distroless.is_some() { None } else { Apt::new(&base.runtime_packages) },
        distroless: distroless.is_some(),
        owner: format!("{uid}:{uid}"),
        useradd: useradd(BASE_USER, uid),
        home: home(BASE_USER),
        extra_before_install: extra(
            context,
            "base-image",
            "before-install",
            &base.dockerfile_extra.before_install,
        ),
        extra_final: extra(context, "base-image", "final", &base.dockerfile_extra.final_stage),
    })
}

/// Does a COPY to `target` put files into (or above) the writable folder `dir`?
fn overlaps(target: &str, dir: &str) -> bool {
    let target = target.trim_end_matches('/');
    let dir = dir.trim_end_matches('/');
    target == dir || dir.starts_with(&format!("{target}/")) || target.starts_with(&format!("{dir}/"))
}

fn image_file(
    model: &Model,
    context: &PlanContext,
    target: &DockerTarget,
    image_id: usize,
    path: &Utf8Path,
) -> Result<ImageDockerfile, PlanError> {
    let image = &model.images[image_id];
    let distroless = matches!(target.runtime, DockerRuntime::Distroless { .. });
    let base_closure = &model.base.closure;
    let roots: Vec<usize> =
        image.groups.iter().map(|g| g.value).filter(|g| !base_closure.contains(g)).collect();
    let pip = pip(model, &image.closure, &roots, LockKind::Image(image_id), path)?;

    // The image's own user, when it is not the base image's.
    let (own_user, owner) = match &image.user {
        // Inherited is a plain image's (resolve gives it to no image of the base).
        User::Root | User::Inherited => (None, String::new()),
        User::NonRoot { name, uid } => {
            let own = (name != BASE_USER).then(|| (name.clone(), *uid));
            (own, format!("{uid}:{uid}"))
        }
    };
    let mut writable: Vec<String> = image.writable.clone();
    if distroless && let Some((name, _)) = &own_user {
        writable.insert(0, home(name));
    }
    writable.dedup();
    let (mkdir, chown_dirs) = if writable.is_empty() {
        (None, Vec::new())
    } else if distroless {
        (None, writable.clone())
    } else {
        let dirs: Vec<String> = writable.iter().map(|d| shell_word(d).into_owned()).collect();
        let dirs = dirs.join(" ");
        let command = if owner.is_empty() {
            format!("mkdir -p {dirs}")
        } else {
            format!("mkdir -p {dirs} \\\n    && chown {owner} {dirs}")
        };
        (Some(command), Vec::new())
    };
    let builder = pip.is_some() || !chown_dirs.is_empty();
    let useradd = match (&own_user, distroless) {
        (Some((name, uid)), false) => Some(useradd(name, *uid)),
        _ => None,
    };
    let mut env: Vec<String> = Vec::new();
    if distroless && let Some((name, _)) = &own_user {
        env.push(format!("HOME={}", quote_env(&home(name), path)?));
    }
    for (key, value) in &image.env {
        env.push(format!("{key}={}", quote_env(value, path)?));
    }
    let build_args = image
        .build_args
        .iter()
        .map(|(name, value)| Ok(format!("{name}={}", quote_env(value, path)?)))
        .collect::<Result<Vec<_>, PlanError>>()?;
    let copies = code_copies(image, &owner);
    let what = if builder {
        [
            format!(
                "Image `{}`. Stage builder: its requirements, on top of the base builder's.",
                image.name.value
            ),
            "Stage runtime: the base runtime, the environment from the builder, then the image's code."
                .to_owned(),
        ]
    } else {
        [
            format!("Image `{}`: the base runtime and the image's code.", image.name.value),
            "Its requirements are all in the base image, so it needs no builder stage.".to_owned(),
        ]
    };
    let what: Vec<&str> = what.iter().map(String::as_str).collect();
    let owner_name = format!("image {}", image.name.value);
    Ok(ImageDockerfile {
        header: header(context, target, &what),
        base_builder: builds::base_builder_ref(model),
        base_runtime: builds::base_runtime_ref(model),
        builder,
        builder_apt: if pip.is_some() { Apt::new(&image.build_packages) } else { None },
        copy_venv: pip.is_some(),
        build_args,
        pip,
        default_index: builds::DEFAULT_PIP_INDEX_URL,
        runtime_apt: if distroless { None } else { Apt::new(&image.runtime_packages) },
        useradd,
        chown_dirs,
        owner,
        mkdir,
        env,
        workdir: image.workdir.clone().unwrap_or_default(),
        user: user_spec(&image.user),
        preload: image.preload.iter().map(|p| dockerfile_exec_form(p)).collect(),
        copies,
        expose: image.expose.iter().map(u16::to_string).collect::<Vec<_>>().join(" "),
        health: image.health.as_ref().and_then(health),
        entrypoint: (!image.entrypoint.is_empty()).then(|| dockerfile_exec_form(&image.entrypoint)),
        cmd: (!image.cmd.is_empty()).then(|| dockerfile_exec_form(&image.cmd)),
        extra_before_install: extra(
            context,
            &owner_name,
            "before-install",
            &image.dockerfile_extra.before_install,
        ),
        extra_after_copy: extra(context, &owner_name, "after-copy", &image.dockerfile_extra.after_copy),
        extra_final: extra(context, &owner_name, "final", &image.dockerfile_extra.final_stage),
    })
}

/// The COPY lines of an image: `--chown` where a copy puts files into a writable folder.
fn code_copies(image: &Image, owner: &str) -> Vec<CodeCopy> {
    image
        .copies
        .iter()
        .map(|c| CodeCopy {
            chown: if !owner.is_empty() && image.writable.iter().any(|w| overlaps(&c.target, w)) {
                format!("--chown={owner} ")
            } else {
                String::new()
            },
            source: c.source.value.clone(),
            target: c.target.clone(),
        })
        .collect()
}

/// A plain image: FROM its pre-built image, then what the image declares. Resolve refused
/// everything that needs the base image (groups, packages, preloads, an HTTP health check,
/// a user gscgen would have to create).
fn plain_file(
    context: &PlanContext,
    target: &DockerTarget,
    image: &Image,
    from: &str,
    path: &Utf8Path,
) -> Result<PlainDockerfile, PlanError> {
    let (user, owner, root) = match &image.user {
        User::Inherited => (None, String::new(), false),
        User::Root => (Some("0:0".to_owned()), String::new(), true),
        User::NonRoot { uid, .. } => (Some(format!("{uid}:{uid}")), format!("{uid}:{uid}"), false),
    };
    if user.is_none() && !image.writable.is_empty() {
        return Err(error(path, "writable folders need a known owner (resolve checks this)"));
    }
    let mkdir = (!image.writable.is_empty()).then(|| {
        let dirs: Vec<String> = image.writable.iter().map(|d| shell_word(d).into_owned()).collect();
        let dirs = dirs.join(" ");
        if owner.is_empty() {
            format!("mkdir -p {dirs}")
        } else {
            format!("mkdir -p {dirs} \\\n    && chown {owner} {dirs}")
        }
    });
    let env = image
        .env
        .iter()
        .map(|(key, value)| Ok(format!("{key}={}", quote_env(value, path)?)))
        .collect::<Result<Vec<_>, PlanError>>()?;
    let build_args = image
        .build_args
        .iter()
        .map(|(name, value)| Ok(format!("{name}={}", quote_env(value, path)?)))
        .collect::<Result<Vec<_>, PlanError>>()?;
    let health = match &image.health {
        Some(decl) if matches!(decl.check, Some(HealthCheckDecl::Http { .. })) => {
            return Err(error(path, "an HTTP health check needs Python (resolve checks this)"));
        }
        Some(decl) => health(decl),
        None => None,
    };
    let first = format!("Image `{}`: built FROM {from}, not from the shared base image.", image.name.value);
    let what = [first.as_str(), "One stage, no Python environment: its own files and settings only."];
    let owner_name = format!("image {}", image.name.value);
    Ok(PlainDockerfile {
        header: header(context, target, &what),
        from: from.to_owned(),
        build_args,
        mkdir,
        env,
        workdir: image.workdir.clone(),
        user,
        root,
        copies: code_copies(image, &owner),
        expose: image.expose.iter().map(u16::to_string).collect::<Vec<_>>().join(" "),
        health,
        entrypoint: (!image.entrypoint.is_empty()).then(|| dockerfile_exec_form(&image.entrypoint)),
        cmd: (!image.cmd.is_empty()).then(|| dockerfile_exec_form(&image.cmd)),
        extra_before_install: extra(
            context,
            &owner_name,
            "before-install",
            &image.dockerfile_extra.before_install,
        ),
        extra_after_copy: extra(context, &owner_name, "after-copy", &image.dockerfile_extra.after_copy),
        extra_final: extra(context, &owner_name, "final", &image.dockerfile_extra.final_stage),
    })
}

fn quote_env(value: &str, path: &Utf8Path) -> Result<String, PlanError> {
    dockerfile_env_value(value)
        .ok_or_else(|| error(path, "an ENV value with a line break (resolve checks this)"))
}

/// HEALTHCHECK in exec form. An HTTP check runs Python's urllib against localhost, so the
/// image needs no curl: `urlopen` raises (exit 1) on a refused connection or a 4xx/5xx.
fn health(decl: &HealthDecl) -> Option<Health> {
    let cmd = match decl.check.as_ref()? {
        HealthCheckDecl::Http { path, port } => {
            let url = format!("http://localhost:{}{}", port.value, path.value);
            // A JSON string literal is also a valid Python string literal with the same value.
            let program = format!("import urllib.request; urllib.request.urlopen({})", json_string(&url));
            dockerfile_exec_form(&["python", "-c", program.as_str()])
        }
        HealthCheckDecl::Exec(command) => {
            dockerfile_exec_form(&command.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>())
        }
    };
    let mut options = Vec::new();
    for (flag, value) in
        [("interval", &decl.interval), ("timeout", &decl.timeout), ("start-period", &decl.start_period)]
    {
        if let Some(value) = value {
            options.push(format!("--{flag}={}", value.value));
        }
    }
    if let Some(retries) = &decl.retries {
        options.push(format!("--retries={}", retries.value));
    }
    // Options on the first line, the command on a continuation line.
    let options = if options.is_empty() { String::new() } else { format!("{} \\\n    ", options.join(" ")) };
    Some(Health { options, cmd })
}

/// `../..` from `<output>/scripts/` back to the project root, in `/` or `\` form.
fn to_root(output: &Utf8Path, separator: &str) -> String {
    let depth = output.components().count() + 1;
    vec![".."; depth].join(separator)
}

fn build_options(
    build: &Build,
    quote: &dyn Fn(&str) -> Option<String>,
    path: &Utf8Path,
) -> Result<Vec<String>, PlanError> {
    let q = |value: &str| {
        quote(value).ok_or_else(|| error(path, format!("`{value}` cannot be quoted (resolve checks this)")))
    };
    let mut options =
        vec![format!("--file {}", q(build.dockerfile.as_str())?), format!("--target {}", q(build.target)?)];
    for tag in &build.tags {
        options.push(format!("--tag {}", q(tag)?));
    }
    for (name, value) in &build.args {
        options.push(format!("--build-arg {}", q(&format!("{name}={value}"))?));
    }
    Ok(options)
}

/// A build name written as a bare word into both scripts (a function argument, a `for`
/// list, a batch label): resolve's name rules make every name such a word.
fn script_name(name: &str, path: &Utf8Path) -> Result<String, PlanError> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        Ok(name.to_owned())
    } else {
        Err(error(path, format!("build name `{name}` is not a plain word (resolve checks names)")))
    }
}

fn scripts(model: &Model, context: &PlanContext, planner: &mut Planner) -> Result<(), PlanError> {
    let all = builds::builds(model);
    let count = all.len();
    // A build another build's argument names is a base stage: built first, in the
    // foreground; the others are the images, built in parallel (as in the workflow).
    let (bases, images) = super::bake::split(&all);
    let sh_path = Utf8PathBuf::from("scripts/docker-build.sh");
    let bat_path = Utf8PathBuf::from("scripts/docker-build.bat");
    let sh_quote = |s: &str| Some(shell_word(s).into_owned());
    let view = |list: &[&Build], quote: &dyn Fn(&str) -> Option<String>, path: &Utf8Path| {
        list.iter()
            .map(|build| {
                Ok(ShellBuild {
                    name: script_name(&build.name, path)?,
                    failure: format!("error: {} failed to build; its log is above", build.name),
                    options: build_options(build, quote, path)?,
                })
            })
            .collect::<Result<Vec<_>, PlanError>>()
    };
    let plain: Vec<&str> =
        model.images.iter().filter(|i| !i.on_base()).map(|i| i.name.value.as_str()).collect();
    let plain = (!plain.is_empty()).then(|| {
        format!(
            "Plain images ({}) start FROM their own pre-built image: they need no base stage.",
            plain.join(", ")
        )
    });
    let sh_images = view(&images, &sh_quote, &sh_path)?;
    let names = sh_images.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(" ");
    let sh = ShellScript {
        config_name: &context.config_name,
        to_root: to_root(&model.project.output, "/"),
        bases: view(&bases, &sh_quote, &sh_path)?,
        images: sh_images,
        names: names.clone(),
        count,
        plain: plain.clone(),
    };
    planner.render(sh_path.clone(), &sh, FileMode::Executable)?;
    let bat = BatchScript {
        config_name: &context.config_name,
        to_root: to_root(&model.project.output, "\\"),
        bases: view(&bases, &batch_word, &bat_path)?,
        names,
        images: view(&images, &batch_word, &bat_path)?,
        count,
        plain,
    };
    planner.render(bat_path, &bat, FileMode::Regular)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_by_path_component() {
        assert!(overlaps("/app", "/app/data"));
        assert!(overlaps("/app/data", "/app"));
        assert!(overlaps("/app/", "/app"));
        assert!(!overlaps("/app", "/application"));
        assert!(!overlaps("/logs", "/report"));
    }

    #[test]
    fn path_back_to_the_project_root() {
        assert_eq!(to_root(Utf8Path::new("generated"), "/"), "../..");
        assert_eq!(to_root(Utf8Path::new("out/gen"), "\\"), "..\\..\\..");
        assert_eq!(to_root(Utf8Path::new(""), "/"), "..");
    }
}
