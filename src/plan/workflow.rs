//! The github-workflow target: `.github/workflows/build.yml`, the CI workflow that builds
//! (and, outside pull requests, pushes) the shared base image and every image.
//!
//! The builds come from [`builds::builds`], the same list the build scripts are rendered
//! from, so the workflow and `scripts/docker-build.{sh,bat}` can never disagree about which
//! images exist, which Dockerfile and stage each one builds, or which build arguments it
//! takes. What the workflow adds is CI policy: SHA tags, `latest` only on the default
//! branch, a registry build cache, no push on pull requests, and the base of the same run.
//! With `build-affected #true`, a first job ([`super::path_filters`]) selects the images a
//! pull request builds from their build inputs.
//!
//! Every value is computed and quoted here (through [`rules::quote`](crate::rules::quote)); the template in
//! `templates/workflow/` only lays out. docs/workflow.md explains each decision.

use askama::Template;

use super::builds::{self, BUILDCACHE_TAG, Build, LATEST};
use super::path_filters;
use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::{GithubWorkflowTarget, Model, WorkflowTimeouts};
use crate::rules::layout::{BAKE_FILE, DEFAULT_WORKFLOW};
use crate::rules::quote::{gha_string, gha_value, shell_word, yaml_scalar};

/// The registry whose credentials every workflow already has (`GITHUB_TOKEN`).
const GHCR: &str = "ghcr.io";

/// The pre-commit release the drift job runs (from PyPI, through the runner's `pipx`): the
/// version the project's own tests run its hooks with (scripts/validators.txt).
pub(crate) const PRE_COMMIT_VERSION: &str = "4.7.0";
/// The hook of gscgen's `.pre-commit-hooks.yaml` that the drift job runs.
pub(crate) const CHECK_HOOK: &str = "gscgen-check";

/// A GitHub Action the workflow uses, with the release it is pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Action {
    /// `owner/repo`.
    pub(crate) repository: &'static str,
    /// The moving major tag, used when `pin-actions #false`.
    pub(crate) major: &'static str,
    /// The release the commit below is tagged with.
    pub(crate) version: &'static str,
    /// The full commit SHA of that release.
    pub(crate) sha: &'static str,
}

impl Action {
    /// The `uses:` value: `owner/repo@<sha> # vX.Y.Z`, or `owner/repo@vN`.
    fn uses(&self, pin: bool) -> String {
        if pin {
            format!("{}@{} # {}", self.repository, self.sha, self.version)
        } else {
            format!("{}@{}", self.repository, self.major)
        }
    }
}

// The pinning table. Each SHA is the commit the release tag points to, as published by
// the action's repository; docs/workflow.md lists them with how to update them (a test
// keeps that table and this one in step). Checked in 2026-10: every entry is the newest
// release whose commit could be confirmed from at least two independent sources.
pub(crate) const CHECKOUT: Action = Action {
    repository: "actions/checkout",
    major: "v7",
    version: "v7.0.1",
    sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
};
pub(crate) const SETUP_QEMU: Action = Action {
    repository: "docker/setup-qemu-action",
    major: "v4",
    version: "v4.2.0",
    sha: "96fe6ef7f33517b61c61be40b68a1882f3264fb8",
};
pub(crate) const SETUP_BUILDX: Action = Action {
    repository: "docker/setup-buildx-action",
    major: "v4",
    version: "v4.2.0",
    sha: "bb05f3f5519dd87d3ba754cc423b652a5edd6d2c",
};
pub(crate) const LOGIN: Action = Action {
    repository: "docker/login-action",
    major: "v4",
    version: "v4.6.0",
    sha: "dbcb813823bdd20940b903addbd779551569679f",
};
pub(crate) const BUILD_PUSH: Action = Action {
    repository: "docker/build-push-action",
    major: "v7",
    version: "v7.3.0",
    sha: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a",
};

/// Every action of the table, in the order the workflow first uses them.
#[cfg(test)]
pub(crate) const ACTIONS: [Action; 5] = [CHECKOUT, SETUP_QEMU, SETUP_BUILDX, LOGIN, BUILD_PUSH];

/// The `uses:` values of one workflow.
struct Uses {
    checkout: String,
    /// Only when some platform needs emulation.
    qemu: Option<String>,
    buildx: String,
    login: String,
    build_push: String,
}

struct Login {
    registry: String,
    username: String,
    password: String,
}

/// A build of the base job.
struct BaseView {
    /// A plain YAML word (validated), printed after `Build `.
    name: String,
    dockerfile: String,
    target: String,
    /// Lines of the `tags` block: the commit SHA, then `latest` on the default branch.
    tags: Vec<String>,
    /// `NAME=value` lines (literal values: a base build depends on no other build).
    args: Vec<String>,
    cache_from: String,
    cache_to: String,
}

/// One `strategy.matrix.include` entry: an image, in config order.
struct MatrixEntry {
    name: String,
    dockerfile: String,
    target: String,
    repository: String,
}

#[derive(Template)]
#[template(path = "workflow/build.yml", escape = "none", syntax = "workflow")]
struct Workflow {
    header: Vec<String>,
    push_branches: Vec<String>,
    pull_request_branches: Vec<String>,
    packages_write: bool,
    /// The registry host, as a shell word, when the registry path is computed at run time.
    registry_step: Option<String>,
    actions: Uses,
    login: Login,
    platforms: String,
    base: Vec<BaseView>,
    base_registry: String,
    /// Whether some image starts from the base image: the base and images jobs.
    has_base: bool,
    images: Vec<MatrixEntry>,
    image_latest: String,
    image_args: Vec<String>,
    /// The `plain-images` job, when some image is plain (`from=`).
    plain: Option<PlainJob>,
    /// `if:` of the base and images jobs.
    images_condition: String,
    buildcache: &'static str,
    /// `if:` of the pull-request job.
    pull_request_condition: String,
    /// The Bake file the pull-request job builds, relative to the project root.
    bake_file: String,
    /// `every image` or `the affected images`, in the pull-request step's name.
    pull_request_images: &'static str,
    /// `NAME: value` lines of the bake step's `env:`.
    pull_request_env: Vec<String>,
    /// The bake step's script, one line each.
    bake_script: Vec<String>,
    /// `build-affected #true`: the `changes` job's script, indented for its `run: |` block.
    changes_script: Option<String>,
    /// `timeout-minutes` of each job.
    timeouts: WorkflowTimeouts,
    /// `drift-check #true`: the drift job's command.
    drift: Option<String>,
}

/// The `plain-images` job: the plain images (`from=`), built from their pre-built images
/// without waiting for the base job.
struct PlainJob {
    /// The static matrix (empty with `build-affected`, whose changes job writes it).
    images: Vec<MatrixEntry>,
    /// `if:` of the job.
    condition: String,
    /// The registry host, as a shell word, when the job computes the registry path itself.
    registry_step: Option<String>,
    /// The full repository of the matrix entry, as the job's lines write it.
    repository: String,
    latest: String,
    args: Vec<String>,
}

/// Where a job pushes: a registry path known when rendering (the project's `registry`), or
/// one a step computes (`<host>/<owner>/<repo>`, lowercased) and the job reads from an
/// expression such as `steps.registry.outputs.path`.
#[derive(Clone, Copy)]
enum RegistryPath<'a> {
    Literal(&'a str),
    Computed(&'static str),
}

impl RegistryPath<'_> {
    /// `<path>/<name>` where a plain value is expected (a block-scalar line, a YAML value).
    fn plain(self, name: &str) -> String {
        match self {
            RegistryPath::Literal(path) => format!("{path}/{name}"),
            RegistryPath::Computed(expression) => format!("${{{{ {expression} }}}}/{name}"),
        }
    }

    /// `<path>/<name>` as an operand inside `${{ }}`.
    fn operand(self, name: &str) -> String {
        match self {
            RegistryPath::Literal(path) => gha_string(&format!("{path}/{name}")),
            RegistryPath::Computed(expression) => {
                // format() reads `{` and `}` as placeholders; names never contain them, but
                // escape them anyway so the rule does not depend on that.
                let name = name.replace('{', "{{").replace('}', "}}");
                format!("format({}, {expression})", gha_string(&format!("{{0}}/{name}")))
            }
        }
    }
}

/// The expression body that is true on a push to the default branch.
fn on_default_branch(model: &Model) -> String {
    format!("github.ref == {}", gha_string(&format!("refs/heads/{}", model.project.default_branch)))
}

/// `${{ <condition> && <value> || '' }}`: the value when the condition holds, else an empty
/// line, which build-push-action skips in its list inputs.
fn when(condition: &str, operand: &str) -> String {
    format!("${{{{ {condition} && {operand} || '' }}}}")
}

const PUSHING: &str = "github.event_name != 'pull_request'";
const PULL_REQUEST: &str = "github.event_name == 'pull_request'";

fn error(message: impl Into<String>) -> PlanError {
    PlanError { path: DEFAULT_WORKFLOW.into(), message: message.into() }
}

/// A build's name, used after `Build ` in a step name: it must read back as itself.
fn step_word(name: &str) -> Result<String, PlanError> {
    if yaml_scalar(name) == name {
        Ok(name.to_owned())
    } else {
        Err(error(format!("build name `{name}` is not a plain word (resolve checks names)")))
    }
}

/// A value of the config that is written inside a block scalar or an expression: it must
/// be one line and must not open an expression of its own.
fn inert(value: &str) -> Result<&str, PlanError> {
    if value.contains(['\n', '\r']) || value.contains("${{") {
        Err(error(format!(
            "`{}` cannot be written into the workflow (resolve checks this)",
            value.escape_debug()
        )))
    } else {
        Ok(value)
    }
}

pub(super) fn plan(
    model: &Model,
    context: &PlanContext,
    target: &GithubWorkflowTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    let workflow = workflow(model, context, target)?;
    planner.render(model.layout.workflow.file_name().unwrap_or("build.yml"), &workflow, FileMode::Regular)
}

#[allow(clippy::too_many_lines)] // one view-model, built top to bottom like the file
fn workflow(
    model: &Model,
    context: &PlanContext,
    target: &GithubWorkflowTarget,
) -> Result<Workflow, PlanError> {
    let all = builds::builds(model);
    // A build that another build's argument refers to is built first, in the base job; the
    // others are the matrix. Today: base-builder and base-runtime, then every image.
    let referenced = |build: &Build| {
        all.iter().any(|other| other.args.iter().any(|(_, value)| build.tags.contains(value)))
    };
    let (base_builds, image_builds): (Vec<&Build>, Vec<&Build>) = all.iter().partition(|b| referenced(b));
    let depends_on_a_build = |build: &Build| {
        build.args.iter().any(|(_, value)| all.iter().any(|other| other.tags.contains(value)))
    };
    if let Some(build) = base_builds.iter().find(|b| depends_on_a_build(b)) {
        return Err(error(format!("base build `{}` depends on another build", build.name)));
    }

    // Repository names relative to the registry path, which is either the project's
    // registry or computed at run time.
    let prefix = model.project.registry.as_ref().map(|r| format!("{r}/"));
    let relative = |repository: &str| -> Result<String, PlanError> {
        match &prefix {
            None => Ok(repository.to_owned()),
            Some(prefix) => repository
                .strip_prefix(prefix.as_str())
                .map(str::to_owned)
                .ok_or_else(|| error(format!("repository `{repository}` is not under `{prefix}`"))),
        }
    };
    let (base_path, images_path) = match &model.project.registry {
        Some(registry) => {
            (RegistryPath::Literal(registry.as_str()), RegistryPath::Literal(registry.as_str()))
        }
        None => (
            RegistryPath::Computed("steps.registry.outputs.path"),
            RegistryPath::Computed("needs.base.outputs.registry"),
        ),
    };
    let default_branch = on_default_branch(model);

    // A build argument that names a base build's tag becomes that base in this run:
    // `${{ env.BASE_REGISTRY }}/<repository>:${{ github.sha }}` (env set per event below).
    let map_args = |build: &Build| -> Result<Vec<String>, PlanError> {
        build
            .args
            .iter()
            .map(|(name, value)| {
                let value = match base_builds.iter().find(|b| b.tags.contains(value)) {
                    Some(base) => format!(
                        "${{{{ env.BASE_REGISTRY }}}}/{}:${{{{ github.sha }}}}",
                        relative(&base.repository)?
                    ),
                    None => inert(value)?.to_owned(),
                };
                Ok(format!("{name}={value}"))
            })
            .collect()
    };

    let mut base = Vec::with_capacity(base_builds.len());
    for build in &base_builds {
        let name = relative(&build.repository)?;
        let args: Vec<String> = build
            .args
            .iter()
            .map(|(arg, value)| Ok(format!("{arg}={}", inert(value)?)))
            .collect::<Result<_, PlanError>>()?;
        base.push(BaseView {
            name: step_word(&build.name)?,
            dockerfile: yaml_scalar(build.dockerfile.as_str()).into_owned(),
            target: yaml_scalar(build.target).into_owned(),
            tags: vec![
                base_path.plain(&format!("{name}:${{{{ github.sha }}}}")),
                when(&default_branch, &base_path.operand(&format!("{name}:{LATEST}"))),
            ],
            cache_from: gha_value(&format!(
                "type=registry,ref={}",
                base_path.plain(&format!("{name}:{BUILDCACHE_TAG}"))
            ))
            .into_owned(),
            cache_to: gha_value(&format!(
                "type=registry,ref={},mode=max",
                base_path.plain(&format!("{name}:{BUILDCACHE_TAG}"))
            ))
            .into_owned(),
            args,
        });
    }

    // Plain images (`from=`) start from no build of this run: the plain-images job, which
    // does not wait for the base job. Their matrix entries come after the others.
    let (base_images, plain_images): (Vec<&Build>, Vec<&Build>) =
        image_builds.iter().partition(|b| depends_on_a_build(b));
    // The plain job computes its own registry path (it cannot read the base job's).
    let plain_path = match images_path {
        RegistryPath::Literal(_) => images_path,
        RegistryPath::Computed(_) => RegistryPath::Computed("steps.registry.outputs.path"),
    };
    let mut images = Vec::with_capacity(base_images.len());
    let mut plain_entries = Vec::with_capacity(plain_images.len());
    let mut filter_entries = Vec::with_capacity(image_builds.len());
    let mut image_args: Option<Vec<String>> = None;
    let mut plain_args: Option<Vec<String>> = None;
    for build in base_images.iter().chain(&plain_images) {
        let plain = !depends_on_a_build(build);
        let args = map_args(build)?;
        let expected = if plain { &mut plain_args } else { &mut image_args };
        match expected {
            None => *expected = Some(args),
            Some(first) if *first == args => {}
            Some(_) => {
                return Err(error(format!(
                    "image `{}` has other build arguments than the first image of its job; the workflow passes \
                     one set to every matrix entry",
                    build.name
                )));
            }
        }
        filter_entries.push(path_filters::Entry {
            name: &build.name,
            dockerfile: build.dockerfile.as_str(),
            target: build.target,
            // The full repository, or the part after the registry path the script computes.
            repository: match images_path {
                RegistryPath::Literal(_) => images_path.plain(&relative(&build.repository)?),
                RegistryPath::Computed(_) => relative(&build.repository)?,
            },
            plain,
        });
        let entry = MatrixEntry {
            name: yaml_scalar(&build.name).into_owned(),
            dockerfile: yaml_scalar(build.dockerfile.as_str()).into_owned(),
            target: yaml_scalar(build.target).into_owned(),
            repository: if plain {
                // A step's output cannot reach the matrix: the relative name, joined below.
                let repository = match plain_path {
                    RegistryPath::Literal(_) => plain_path.plain(&relative(&build.repository)?),
                    RegistryPath::Computed(_) => relative(&build.repository)?,
                };
                gha_value(&repository).into_owned()
            } else {
                gha_value(&images_path.plain(&relative(&build.repository)?)).into_owned()
            },
        };
        if plain { plain_entries.push(entry) } else { images.push(entry) }
    }
    if images.is_empty() && plain_entries.is_empty() {
        return Err(error("no image to build (resolve requires one for this target)"));
    }
    let plain = (!plain_entries.is_empty()).then(|| {
        // With build-affected, the changes job writes full repositories into the matrix.
        let computed = matches!(plain_path, RegistryPath::Computed(_)) && !target.build_affected;
        let repository = if computed {
            "${{ steps.registry.outputs.path }}/${{ matrix.repository }}".to_owned()
        } else {
            "${{ matrix.repository }}".to_owned()
        };
        let operand = if computed {
            format!(
                "format({}, steps.registry.outputs.path, matrix.repository)",
                gha_string(&format!("{{0}}/{{1}}:{LATEST}"))
            )
        } else {
            format!("format({}, matrix.repository)", gha_string(&format!("{{0}}:{LATEST}")))
        };
        PlainJob {
            images: if target.build_affected { Vec::new() } else { plain_entries },
            condition: if target.build_affected {
                format!("{PUSHING} && needs.changes.outputs.plain_build == 'true'")
            } else {
                PUSHING.to_owned()
            },
            registry_step: computed.then(|| shell_word(&target.registry_host).into_owned()),
            repository,
            latest: when(&default_branch, &operand),
            args: plain_args.clone().unwrap_or_default(),
        }
    });

    let base_registry = match images_path {
        RegistryPath::Literal(path) => path.to_owned(),
        RegistryPath::Computed(expression) => format!("${{{{ {expression} }}}}"),
    };

    let platforms = &model.project.platforms;
    let emulated = platforms.iter().any(|p| !p.starts_with("linux/amd64"));
    let pin = target.pin_actions;
    let login = if target.registry_host == GHCR {
        Login {
            registry: yaml_scalar(GHCR).into_owned(),
            username: "${{ github.actor }}".to_owned(),
            password: "${{ secrets.GITHUB_TOKEN }}".to_owned(),
        }
    } else {
        Login {
            registry: yaml_scalar(inert(&target.registry_host)?).into_owned(),
            username: "${{ secrets.REGISTRY_USERNAME }}".to_owned(),
            password: "${{ secrets.REGISTRY_PASSWORD }}".to_owned(),
        }
    };
    let where_to = match &model.project.registry {
        Some(registry) => registry.clone(),
        None => format!("{}/<owner>/<repository> (lowercased)", target.registry_host),
    };
    let changes_script = if target.build_affected {
        let host = model.project.registry.is_none().then_some(target.registry_host.as_str());
        let script = path_filters::script(model, &filter_entries, host)?;
        // Ten spaces: the `run: |` block of the changes job. Empty lines stay empty; the
        // last one separates the job from the next.
        let mut indented = String::new();
        for line in script.lines() {
            if !line.is_empty() {
                indented.push_str("          ");
                indented.push_str(line);
            }
            indented.push('\n');
        }
        Some(indented)
    } else {
        None
    };
    let pull_requests = if target.build_affected {
        "Pull requests build the images whose inputs they change and push nothing."
    } else {
        "Pull requests build everything and push nothing."
    };
    let bake_file = model.project.output.join(BAKE_FILE);
    let (pull_request_env, bake_script) = bake_step(
        &bake_file,
        &base_builds,
        &image_builds,
        platforms,
        &relative,
        target.build_affected,
        images_path,
    )?;
    let config_name: String =
        context.config_name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    Ok(Workflow {
        header: [
            format!(
                "Generated by gscgen from {config_name}: do not edit (change it there, then run `gscgen render`)."
            ),
            "Builds the shared base image, then every image FROM the base of the same run, and".to_owned(),
            format!("pushes them to {where_to}, tagged with the commit SHA and, on"),
            format!("{}, `latest`. {pull_requests}", model.project.default_branch),
        ]
        .into_iter()
        .chain(plain.as_ref().map(|_| {
            "Plain images (`from=`) build FROM their own pre-built images, without the base.".to_owned()
        }))
        .chain(placement_hint(model))
        .chain(["Each decision is explained in docs/workflow.md.".to_owned()])
        .collect(),
        push_branches: target.branches.iter().map(|b| yaml_scalar(b).into_owned()).collect(),
        pull_request_branches: target
            .pull_request_branches
            .iter()
            .map(|b| yaml_scalar(b).into_owned())
            .collect(),
        packages_write: target.registry_host == GHCR,
        registry_step: model
            .project
            .registry
            .is_none()
            .then(|| shell_word(&target.registry_host).into_owned()),
        actions: Uses {
            checkout: CHECKOUT.uses(pin),
            qemu: emulated.then(|| SETUP_QEMU.uses(pin)),
            buildx: SETUP_BUILDX.uses(pin),
            login: LOGIN.uses(pin),
            build_push: BUILD_PUSH.uses(pin),
        },
        login,
        platforms: yaml_scalar(&platforms.join(",")).into_owned(),
        base,
        base_registry: gha_value(&base_registry).into_owned(),
        has_base: !base_builds.is_empty(),
        images_condition: if target.build_affected && plain.is_some() {
            format!("{PUSHING} && needs.changes.outputs.images_build == 'true'")
        } else {
            job_condition(PUSHING, target.build_affected)
        },
        plain,
        images,
        image_latest: when(
            &default_branch,
            &format!("format({}, matrix.repository)", gha_string(&format!("{{0}}:{LATEST}"))),
        ),
        image_args: image_args.unwrap_or_default(),
        buildcache: BUILDCACHE_TAG,
        pull_request_condition: job_condition(PULL_REQUEST, target.build_affected),
        bake_file: bake_file.to_string(),
        pull_request_images: if target.build_affected { "the affected images" } else { "every image" },
        pull_request_env,
        bake_script,
        changes_script,
        timeouts: target.timeouts,
        drift: target.drift_check.then(|| {
            format!(
                "pipx run --spec pre-commit=={PRE_COMMIT_VERSION} pre-commit run {CHECK_HOOK} --all-files"
            )
        }),
    })
}

/// A job's `if:`: the event, and with `build-affected #true`, that the changes job found
/// something to build.
fn job_condition(event: &str, build_affected: bool) -> String {
    if build_affected {
        format!("{event} && needs.changes.outputs.build == 'true'")
    } else {
        event.to_owned()
    }
}

/// The pull-request job's bake step: its `env:` lines and its script. The Bake file holds
/// the graph (the same for every run); the step adds this run's policy: the platforms,
/// each build's registry cache (read only), and with `build-affected #true` the images the
/// changes job selected. Values reach the script through `env:`, never through `${{ }}`
/// inside it.
#[allow(clippy::too_many_arguments)]
fn bake_step(
    bake_file: &camino::Utf8Path,
    bases: &[&Build],
    images: &[&Build],
    platforms: &[String],
    relative: &dyn Fn(&str) -> Result<String, PlanError>,
    build_affected: bool,
    path: RegistryPath<'_>,
) -> Result<(Vec<String>, Vec<String>), PlanError> {
    let mut env = Vec::new();
    if let RegistryPath::Computed(_) = path {
        env.push("REGISTRY: ${{ steps.registry.outputs.path }}".to_owned());
    }
    if build_affected {
        env.push("IMAGES: ${{ needs.changes.outputs.images }}".to_owned());
    }
    let mut lines = Vec::new();
    if build_affected {
        lines.push("read -ra images <<<\"$IMAGES\"".to_owned());
    }
    let mut options = vec![format!("docker buildx bake --file {}", shell_word(inert(bake_file.as_str())?))];
    for platform in platforms {
        options.push(format!("--set {}", shell_word(&format!("*.platform={}", inert(platform)?))));
    }
    for build in bases.iter().chain(images) {
        let reference = format!("{}:{BUILDCACHE_TAG}", relative(&build.repository)?);
        let set = format!("{}.cache-from=type=registry,ref=", step_word(&build.name)?);
        options.push(match path {
            RegistryPath::Literal(registry) => {
                format!("--set {}", shell_word(&format!("{set}{registry}/{reference}")))
            }
            // "$REGISTRY" joined to two plain words: a name and a repository (resolve's
            // name rules), checked to need no quoting.
            RegistryPath::Computed(_) => {
                if shell_word(&set) != set || shell_word(&reference) != reference {
                    return Err(error(format!("`{reference}` is not a plain word")));
                }
                format!("--set {set}\"$REGISTRY\"/{reference}")
            }
        });
    }
    if build_affected {
        options.push("\"${images[@]}\"".to_owned());
    }
    let last = options.len() - 1;
    for (i, option) in options.into_iter().enumerate() {
        let indent = if i == 0 { "" } else { "  " };
        let tail = if i == last { "" } else { " \\" };
        lines.push(format!("{indent}{option}{tail}"));
    }
    Ok((env, lines))
}

/// GitHub runs only the workflows in the repository's `.github/workflows/`: a workflow
/// rendered anywhere else says how to put it there.
fn placement_hint(model: &Model) -> Vec<String> {
    let folder = model.layout.workflow.parent().map(camino::Utf8Path::as_str);
    if folder == Some(".github/workflows") {
        return Vec::new();
    }
    vec![
        "GitHub runs workflows only from .github/workflows/: place this file there with".to_owned(),
        "`github-workflow path=\".github/workflows/build.yml\"` in the config.".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_table_is_well_formed() {
        for action in ACTIONS {
            assert_eq!(action.sha.len(), 40, "{action:?}");
            assert!(action.sha.chars().all(|c| c.is_ascii_digit() || matches!(c, 'a'..='f')), "{action:?}");
            let parts: Vec<&str> = action.version.trim_start_matches('v').split('.').collect();
            assert_eq!(parts.len(), 3, "{action:?}: version is vX.Y.Z");
            assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{action:?}");
            assert!(action.version.starts_with(&format!("{}.", action.major)), "{action:?}");
        }
    }

    #[test]
    fn uses_pinned_and_unpinned() {
        assert_eq!(CHECKOUT.uses(true), "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1");
        assert_eq!(CHECKOUT.uses(false), "actions/checkout@v7");
    }

    #[test]
    fn registry_paths() {
        let literal = RegistryPath::Literal("ghcr.io/acme/app");
        assert_eq!(literal.plain("gsc-base:latest"), "ghcr.io/acme/app/gsc-base:latest");
        assert_eq!(literal.operand("gsc-base:latest"), "'ghcr.io/acme/app/gsc-base:latest'");
        let computed = RegistryPath::Computed("steps.registry.outputs.path");
        assert_eq!(computed.plain("gsc-base"), "${{ steps.registry.outputs.path }}/gsc-base");
        assert_eq!(
            computed.operand("gsc-base:latest"),
            "format('{0}/gsc-base:latest', steps.registry.outputs.path)"
        );
        assert_eq!(computed.operand("a{b}"), "format('{0}/a{{b}}', steps.registry.outputs.path)");
    }

    #[test]
    fn conditional_lines() {
        assert_eq!(when(PUSHING, "'x'"), "${{ github.event_name != 'pull_request' && 'x' || '' }}");
    }
}
