//! Issue 5: the GitHub Actions workflow `.github/workflows/build.yml`.
//!
//! Four kinds of test: snapshots of the whole workflow per fixture and of the matrices of
//! the one-image and twelve-image fixtures; tests that parse the YAML back and *run* it on
//! paper, evaluating GitHub's `${{ }}` expressions for a push to the default branch, a push
//! to another branch and a pull request, and assert what each job then does (logs in or
//! not, pushes or not, which tags, which base image, which cache); a comparison with the
//! generated `scripts/docker-build.sh`, parsed back; and the external validators
//! (actionlint, zizmor, yamllint, the workflow JSON schema), which fail loudly when missing
//! (run `scripts/test`). Compile-time rules are covered by tests/invalid/ (workflow_*).

mod support;

use support::Rendered;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use gscgen::model::Model;
use gscgen::source::Source;
use serde_json::{Value, json};

const WORKFLOW: &str = ".github/workflows/build.yml";
/// The repo's own project and the fixtures under tests/fixtures/workflow/.
const FIXTURES: [&str; 3] = ["repo", "single", "twelve"];
/// The commit every simulated run builds.
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
/// An owner/repository with upper case, as `github.repository` can carry.
const REPOSITORY: &str = "Acme-Org/Site_Warehouse";

fn fixture_text(name: &str) -> String {
    let path = match name {
        "repo" => support::repo().join("project.kdl"),
        other => support::repo().join(format!("tests/fixtures/workflow/{other}.kdl")),
    };
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Rendered {
    fn fixture(name: &str) -> Self {
        Self::new(&fixture_text(name))
    }

    /// Where the workflow is rendered: the output folder's `.github/workflows/`, or the
    /// target's `path=` from the project root (the repo's own project).
    fn path(&self) -> PathBuf {
        self.dir.path().join(self.model.layout.workflow.as_str())
    }

    fn text(&self) -> String {
        fs::read_to_string(self.path()).unwrap_or_else(|e| panic!("{WORKFLOW}: {e}"))
    }

    /// The workflow as a YAML 1.2 reader (serde_yaml_ng) sees it.
    fn yaml(&self) -> Value {
        serde_yaml_ng::from_str(&self.text()).unwrap_or_else(|e| panic!("{WORKFLOW} is not YAML: {e}"))
    }

    fn uses_ghcr(&self) -> bool {
        self.model.project.registry.as_deref().is_none_or(|r| r.starts_with("ghcr.io/"))
    }
}

fn jobs(doc: &Value) -> &serde_json::Map<String, Value> {
    doc["jobs"].as_object().expect("jobs is a mapping")
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("steps is a sequence")
}

fn uses(step: &Value) -> &str {
    step["uses"].as_str().unwrap_or_default()
}

fn is_action(step: &Value, repository: &str) -> bool {
    uses(step).split('@').next() == Some(repository)
}

// ---------------------------------------------------------------------------------------
// A GitHub expression evaluator, for the expression forms the workflow uses
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(String),
    Bool(bool),
}

impl V {
    fn truthy(&self) -> bool {
        match self {
            V::Bool(b) => *b,
            V::Str(s) => !s.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            V::Bool(b) => b.to_string(),
            V::Str(s) => s.clone(),
        }
    }
}

/// The contexts of one simulated job: `github.*`, `secrets.*`, `env.*`, `matrix.*`, …
type Vars = BTreeMap<String, String>;

struct Parser<'a> {
    src: &'a str,
    at: usize,
    vars: &'a Vars,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self.src[self.at..].starts_with(' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip();
        if self.src[self.at..].starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> V {
        let mut left = self.and();
        while self.eat("||") {
            let right = self.and();
            left = if left.truthy() { left } else { right };
        }
        left
    }

    fn and(&mut self) -> V {
        let mut left = self.cmp();
        while self.eat("&&") {
            let right = self.cmp();
            left = if left.truthy() { right } else { left };
        }
        left
    }

    fn cmp(&mut self) -> V {
        let left = self.primary();
        // GitHub compares strings ignoring case.
        if self.eat("==") {
            let right = self.primary();
            return V::Bool(left.text().eq_ignore_ascii_case(&right.text()));
        }
        if self.eat("!=") {
            let right = self.primary();
            return V::Bool(!left.text().eq_ignore_ascii_case(&right.text()));
        }
        left
    }

    fn primary(&mut self) -> V {
        self.skip();
        let rest = &self.src[self.at..];
        if rest.starts_with('\'') {
            let mut out = String::new();
            let mut i = self.at + 1;
            loop {
                let c =
                    self.src[i..].chars().next().unwrap_or_else(|| panic!("unclosed string in {}", self.src));
                i += c.len_utf8();
                if c == '\'' {
                    if self.src[i..].starts_with('\'') {
                        out.push('\'');
                        i += 1;
                    } else {
                        break;
                    }
                } else {
                    out.push(c);
                }
            }
            self.at = i;
            return V::Str(out);
        }
        if self.eat("(") {
            let value = self.or();
            assert!(self.eat(")"), "missing ) in {}", self.src);
            return value;
        }
        let len =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c))).unwrap_or(rest.len());
        let name = &rest[..len];
        assert!(!name.is_empty(), "unexpected `{rest}` in {}", self.src);
        self.at += len;
        if self.eat("(") {
            assert_eq!(name, "format", "only format() is used, in {}", self.src);
            let mut args = vec![self.or()];
            while self.eat(",") {
                args.push(self.or());
            }
            assert!(self.eat(")"), "missing ) in {}", self.src);
            let mut out = args[0].text();
            for (i, arg) in args.iter().enumerate().skip(1) {
                out = out.replace(&format!("{{{}}}", i - 1), &arg.text());
            }
            return V::Str(out.replace("{{", "{").replace("}}", "}"));
        }
        match name {
            "true" => V::Bool(true),
            "false" => V::Bool(false),
            _ => V::Str(
                self.vars
                    .get(name)
                    .unwrap_or_else(|| panic!("`{name}` is not available here (in `{}`)", self.src))
                    .clone(),
            ),
        }
    }
}

fn eval(expression: &str, vars: &Vars) -> V {
    let mut parser = Parser { src: expression, at: 0, vars };
    let value = parser.or();
    parser.skip();
    assert_eq!(parser.at, expression.len(), "trailing input in `{expression}`");
    value
}

/// Replaces every `${{ … }}` of `text` by its value.
fn interpolate(text: &str, vars: &Vars) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("unclosed ${{") + start;
        out.push_str(&eval(rest[start + 3..end].trim(), vars).text());
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// An `if:` (with or without `${{ }}`), evaluated.
fn condition(step: &Value, vars: &Vars) -> bool {
    match step["if"].as_str() {
        None => true,
        Some(text) => {
            let text = text.trim();
            let text = text.strip_prefix("${{").and_then(|t| t.strip_suffix("}}")).unwrap_or(text);
            eval(text.trim(), vars).truthy()
        }
    }
}

/// A list input of build-push-action: one item per non-empty line.
fn list(value: &Value, vars: &Vars) -> Vec<String> {
    let Some(text) = value.as_str() else { return Vec::new() };
    interpolate(text, vars).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------
// Running the workflow on paper
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    PushDefault,
    PushOther,
    PullRequest,
}

const EVENTS: [Event; 3] = [Event::PushDefault, Event::PushOther, Event::PullRequest];

/// One `docker/build-push-action` step that runs.
#[derive(Debug, Clone)]
struct BuildCall {
    step: String,
    file: String,
    target: String,
    platforms: Vec<String>,
    push: bool,
    tags: Vec<String>,
    args: Vec<(String, String)>,
    cache_from: Vec<String>,
    cache_to: Vec<String>,
}

/// What one job did.
#[derive(Debug, Default)]
struct JobRun {
    logins: Vec<String>,
    /// Builds, each with whether a login preceded it.
    builds: Vec<(bool, BuildCall)>,
    /// The `docker buildx bake` step, run for real with `--print` added: the graph the
    /// real Buildx resolves from the generated Bake file and the step's options.
    bake: Option<Value>,
    outputs: BTreeMap<String, String>,
}

fn github_vars(model: &Model, event: Event) -> Vars {
    let (name, reference) = match event {
        Event::PushDefault => ("push", format!("refs/heads/{}", model.project.default_branch)),
        Event::PushOther => ("push", "refs/heads/some-other-branch".to_owned()),
        Event::PullRequest => ("pull_request", "refs/pull/7/merge".to_owned()),
    };
    [
        ("github.event_name", name.to_owned()),
        ("github.ref", reference),
        ("github.sha", SHA.to_owned()),
        ("github.repository", REPOSITORY.to_owned()),
        ("github.server_url", "https://github.com".to_owned()),
        ("github.workflow", "build".to_owned()),
        ("github.actor", "someone".to_owned()),
        ("secrets.GITHUB_TOKEN", "token".to_owned()),
        ("secrets.REGISTRY_USERNAME", "user".to_owned()),
        ("secrets.REGISTRY_PASSWORD", "password".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Runs a `run:` step with bash, as the runner does, and returns what it wrote to
/// `$GITHUB_OUTPUT`.
fn run_step(script: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let output_file = dir.path().join("output");
    fs::write(&output_file, "").unwrap();
    let status = std::process::Command::new("bash")
        .args(["-e", "-c", script])
        .env("GITHUB_REPOSITORY", REPOSITORY)
        .env("GITHUB_OUTPUT", &output_file)
        .status()
        .expect("bash runs");
    assert!(status.success(), "step failed: {script}");
    read_outputs(&output_file)
}

fn read_outputs(file: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

fn run_job(job: &Value, vars: &mut Vars, root: &Path) -> JobRun {
    if let Some(env) = job["env"].as_object() {
        for (key, value) in env {
            let value = interpolate(value.as_str().expect("env value is a string"), vars);
            vars.insert(format!("env.{key}"), value);
        }
    }
    let mut run = JobRun::default();
    for step in steps(job) {
        if !condition(step, vars) {
            continue;
        }
        if let Some(script) = step["run"].as_str() {
            if script.contains("docker buildx bake") {
                let env: Vars = step["env"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), interpolate(v.as_str().expect("env value is a string"), vars)))
                    .collect();
                assert!(run.bake.is_none(), "one bake step per job");
                run.bake = Some(support::run_bake_step(script, &env, root, REPOSITORY));
                continue;
            }
            // Only the registry-path step has outputs.
            if let Some(id) = step["id"].as_str() {
                for (key, value) in run_step(script) {
                    vars.insert(format!("steps.{id}.outputs.{key}"), value);
                }
            }
            continue;
        }
        let with = &step["with"];
        if is_action(step, "docker/login-action") {
            run.logins.push(interpolate(with["registry"].as_str().unwrap(), vars));
        } else if is_action(step, "docker/build-push-action") {
            let text = |key: &str| interpolate(with[key].as_str().unwrap_or_default(), vars);
            let push = match &with["push"] {
                Value::Bool(b) => *b,
                Value::String(s) => interpolate(s, vars) == "true",
                other => panic!("push is {other}"),
            };
            let call = BuildCall {
                step: interpolate(step["name"].as_str().unwrap(), vars),
                file: text("file"),
                target: text("target"),
                platforms: text("platforms").split(',').map(str::to_owned).collect(),
                push,
                tags: list(&with["tags"], vars),
                args: list(&with["build-args"], vars)
                    .into_iter()
                    .map(|a| {
                        let (k, v) = a.split_once('=').expect("NAME=value");
                        (k.to_owned(), v.to_owned())
                    })
                    .collect(),
                cache_from: list(&with["cache-from"], vars),
                cache_to: list(&with["cache-to"], vars),
            };
            run.builds.push((!run.logins.is_empty(), call));
        }
    }
    if let Some(outputs) = job["outputs"].as_object() {
        for (key, value) in outputs {
            run.outputs.insert(key.clone(), interpolate(value.as_str().unwrap(), vars));
        }
    }
    run
}

/// The whole workflow for one event: the base job, then one images job per matrix entry
/// (pushes), or the pull-request job (pull requests). A job whose `if:` is false did
/// nothing: an empty run, no matrix entries.
struct Run {
    base: JobRun,
    /// (matrix entry with its values interpolated, job run), in matrix order.
    images: Vec<(BTreeMap<String, String>, JobRun)>,
    /// The pull-request job, when it ran.
    pull_request: Option<JobRun>,
    /// Where images go: the project registry or `ghcr.io/<owner>/<repo>` lowercased.
    registry: String,
}

fn simulate(rendered: &Rendered, event: Event) -> Run {
    let doc = rendered.yaml();
    let jobs = jobs(&doc);
    let root = rendered.dir.path();
    let vars = github_vars(&rendered.model, event);
    let runs = |job: &Value| condition(job, &vars);
    let pull_request = runs(&jobs["pull-request"])
        .then(|| run_job(&jobs["pull-request"], &mut github_vars(&rendered.model, event), root));
    let base = if runs(&jobs["base"]) {
        run_job(&jobs["base"], &mut github_vars(&rendered.model, event), root)
    } else {
        JobRun::default()
    };
    let images_job = &jobs["images"];
    assert_eq!(images_job["needs"], json!("base"));
    let mut needs = github_vars(&rendered.model, event);
    for (key, value) in &base.outputs {
        needs.insert(format!("needs.base.outputs.{key}"), value.clone());
    }
    let mut images = Vec::new();
    let matrix = images_job["strategy"]["matrix"]["include"].as_array().expect("matrix.include");
    for entry in matrix.iter().filter(|_| runs(images_job)) {
        let mut job_vars = needs.clone();
        let mut values = BTreeMap::new();
        for (key, value) in entry.as_object().unwrap() {
            let value = interpolate(value.as_str().expect("matrix values are strings"), &needs);
            job_vars.insert(format!("matrix.{key}"), value.clone());
            values.insert(key.clone(), value);
        }
        images.push((values, run_job(images_job, &mut job_vars, root)));
    }
    let registry = match &rendered.model.project.registry {
        Some(registry) => registry.clone(),
        None => format!("ghcr.io/{}", REPOSITORY.to_lowercase()),
    };
    Run { base, images, pull_request, registry }
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

#[test]
fn snapshots() {
    for name in FIXTURES {
        insta::assert_snapshot!(name, Rendered::fixture(name).text());
    }
}

/// The matrices of the one-image and the twelve-image fixtures, one line per entry.
#[test]
fn matrix_snapshots() {
    for name in ["single", "twelve"] {
        let doc = Rendered::fixture(name).yaml();
        let include = doc["jobs"]["images"]["strategy"]["matrix"]["include"].as_array().unwrap().clone();
        let lines: Vec<String> = include
            .iter()
            .map(|e| {
                format!(
                    "{} | {} | {} | {}",
                    e["name"].as_str().unwrap(),
                    e["dockerfile"].as_str().unwrap(),
                    e["target"].as_str().unwrap(),
                    e["repository"].as_str().unwrap()
                )
            })
            .collect();
        insta::assert_snapshot!(format!("matrix_{name}"), lines.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------
// Meaning, read back from the YAML
// ---------------------------------------------------------------------------------------

#[test]
fn matrix_is_every_built_image_in_config_order() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let model = &rendered.model;
        let run = simulate(&rendered, Event::PushDefault);
        let expected: Vec<Value> = model
            .images
            .iter()
            .map(|image| {
                json!({
                    "name": image.name.value,
                    "dockerfile": model.project.output.join(gscgen::plan::dockerfile_path(image)).as_str(),
                    "target": "runtime",
                    "repository": format!("{}/{}", run.registry, model.repository_name(image)),
                })
            })
            .collect();
        let actual: Vec<Value> = run.images.iter().map(|(entry, _)| json!(entry)).collect();
        assert_eq!(actual, expected, "{name}");
    }
    // The seed's hand-written matrix forgot these two.
    let repo = Rendered::fixture("repo").yaml();
    let names: Vec<&str> = repo["jobs"]["images"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"transformer") && names.contains(&"metrics"), "{names:?}");
    assert_eq!(Rendered::fixture("twelve").model.images.len(), 12);
}

#[test]
fn every_dockerfile_the_workflow_builds_is_generated() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = rendered.model.project.output.as_str();
        for event in EVENTS {
            let run = simulate(&rendered, event);
            let mut builds: Vec<BuildCall> = run
                .base
                .builds
                .iter()
                .chain(run.images.iter().flat_map(|(_, job)| job.builds.iter()))
                .map(|(_, b)| b.clone())
                .collect();
            if run.pull_request.is_some() {
                for (target, definition) in bake_graph(&run).targets {
                    builds.push(BuildCall {
                        step: target,
                        file: definition["dockerfile"].as_str().unwrap().to_owned(),
                        target: definition["target"].as_str().unwrap().to_owned(),
                        platforms: Vec::new(),
                        push: false,
                        tags: Vec::new(),
                        args: Vec::new(),
                        cache_from: Vec::new(),
                        cache_to: Vec::new(),
                    });
                }
            }
            assert!(!builds.is_empty(), "{name} {event:?}: nothing is built");
            for build in &builds {
                // Paths are relative to the project root (the build context `.`).
                let path = rendered.dir.path().join(&build.file);
                assert!(path.is_file(), "{name}: {} is not a generated file", build.file);
                let inside = Path::new(&build.file).strip_prefix(output).unwrap_or(Path::new(&build.file));
                assert!(inside.starts_with("compose/dockerfiles"), "{name}: {} is not generated", build.file);
                let dockerfile = fs::read_to_string(&path).unwrap();
                assert!(
                    dockerfile.contains(&format!(" AS {}\n", build.target)),
                    "{name}: {} has no stage {}",
                    build.file,
                    build.target
                );
            }
        }
    }
}

/// The graph the pull-request job's bake step resolves to, read back from `bake --print`.
struct BakeGraph {
    /// Target name → its resolved definition, as Buildx printed it.
    targets: serde_json::Map<String, Value>,
    /// The targets the step names (the default group, or the images it passes).
    requested: Vec<String>,
}

fn bake_graph(run: &Run) -> BakeGraph {
    let job = run.pull_request.as_ref().expect("the pull-request job runs");
    let printed = job.bake.as_ref().expect("the pull-request job bakes");
    BakeGraph {
        targets: printed["target"].as_object().expect("bake --print has targets").clone(),
        requested: printed["group"]["default"]["targets"]
            .as_array()
            .expect("bake --print has the default group")
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect(),
    }
}

/// A pull request runs one job: Buildx resolves one graph with each base stage once, each
/// image's base references bound to those stages (`target:` contexts, so no registry
/// and no second base build), for every platform, reading the registry caches and
/// writing, pushing or loading nothing. The push jobs do not run, and nothing logs in.
#[test]
fn pull_requests_build_one_graph_with_the_base_once_and_push_nothing() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let model = &rendered.model;
        let run = simulate(&rendered, Event::PullRequest);
        assert!(run.base.builds.is_empty() && run.base.logins.is_empty(), "{name}: the base job runs");
        assert!(run.images.is_empty(), "{name}: the matrix runs on a pull request");
        let job = run.pull_request.as_ref().unwrap();
        assert!(job.logins.is_empty() && job.builds.is_empty(), "{name}: {job:?}");
        let graph = bake_graph(&run);
        let images: Vec<String> = model.images.iter().map(|i| i.name.value.clone()).collect();
        assert_eq!(graph.requested, images, "{name}: every image, in config order");
        let mut expected: Vec<String> = ["base-builder", "base-runtime"].map(str::to_owned).to_vec();
        expected.extend(images.iter().cloned());
        expected.sort();
        let mut actual: Vec<String> = graph.targets.keys().cloned().collect();
        actual.sort();
        assert_eq!(actual, expected, "{name}: the graph is the two base stages and the images, each once");
        for (target, definition) in &graph.targets {
            // Buildx prints them sorted.
            let mut platforms: Vec<&str> =
                definition["platforms"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
            let mut expected: Vec<&str> = model.project.platforms.iter().map(String::as_str).collect();
            platforms.sort_unstable();
            expected.sort_unstable();
            assert_eq!(platforms, expected, "{name}/{target}");
            for key in ["output", "push", "load", "cache-to"] {
                assert!(definition[key].is_null(), "{name}/{target}: {key} = {}", definition[key]);
            }
            let cache: Vec<&str> =
                definition["cache-from"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
            let repository = repository_of(definition["tags"][0].as_str().unwrap());
            let repository = repository.rsplit('/').next().unwrap();
            assert_eq!(
                cache,
                [format!("type=registry,ref={}/{repository}:buildcache", run.registry)],
                "{name}/{target}"
            );
            if target.starts_with("base-") {
                assert!(definition["contexts"].is_null(), "{name}/{target}");
                continue;
            }
            // Each base argument names a context that is a base stage of this graph.
            let args = definition["args"].as_object().unwrap();
            let contexts = definition["contexts"].as_object().unwrap();
            for (arg, stage) in [("BASE_BUILDER", "base-builder"), ("BASE_RUNTIME", "base-runtime")] {
                let reference = args[arg].as_str().unwrap();
                assert_eq!(contexts[reference], json!(format!("target:{stage}")), "{name}/{target}: {arg}");
                assert!(!reference.contains([':', '/']), "{name}/{target}: {reference} would be pulled");
            }
            assert_eq!(contexts.len(), 2, "{name}/{target}");
        }
    }
}

/// Every `FROM` of an image Dockerfile that is not one of its own stages is a base
/// argument (`FROM ${BASE_RUNTIME}`, and `FROM ${BASE_BUILDER}` when the image has a
/// builder stage) that the Bake graph binds to a base stage: the names BuildKit looks up
/// among the named contexts.
#[test]
fn the_bake_contexts_bind_the_from_lines_of_every_image() {
    let rendered = Rendered::fixture("repo");
    let bake: Value = serde_json::from_str(
        &fs::read_to_string(rendered.out().join("scripts/docker-bake.json")).expect("docker-bake.json"),
    )
    .unwrap();
    for image in &rendered.model.images {
        let target = &bake["target"][image.name.value.as_str()];
        let dockerfile =
            fs::read_to_string(rendered.dir.path().join(target["dockerfile"].as_str().unwrap())).unwrap();
        let froms: Vec<&str> = dockerfile
            .lines()
            .filter_map(|l| l.strip_prefix("FROM "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert!(froms.contains(&"${BASE_RUNTIME}"), "{}: {froms:?}", image.name.value);
        let stages: Vec<&str> = dockerfile.lines().filter_map(|l| l.split(" AS ").nth(1)).collect();
        for from in froms.iter().filter(|f| !stages.contains(f)) {
            let arg = from.strip_prefix("${").and_then(|f| f.strip_suffix('}')).expect("FROM ${ARG}");
            let reference = target["args"][arg].as_str().unwrap_or_else(|| panic!("{arg} is not set"));
            assert!(target["contexts"][reference].as_str().unwrap().starts_with("target:base-"), "{arg}");
        }
        assert_eq!(target["target"], json!("runtime"));
    }
    // The base file's stages are the targets the contexts name.
    let base = fs::read_to_string(
        rendered.dir.path().join(bake["target"]["base-builder"]["dockerfile"].as_str().unwrap()),
    )
    .unwrap();
    assert!(base.contains(" AS base-builder\n") && base.contains(" AS base-runtime\n"));
}

#[test]
fn pushes_log_in_first_and_tag_the_commit_and_latest_only_on_the_default_branch() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let model = &rendered.model;
        for event in [Event::PushDefault, Event::PushOther] {
            let run = simulate(&rendered, event);
            assert!(run.pull_request.is_none(), "{name}: the pull-request job runs on a push");
            let host = run.registry.split('/').next().unwrap();
            let latest = event == Event::PushDefault;
            let expect_tags = |repository: &str| {
                let mut tags = vec![format!("{repository}:{SHA}")];
                if latest {
                    tags.push(format!("{repository}:latest"));
                }
                tags
            };
            assert_eq!(run.base.logins, vec![host.to_owned()], "{name}");
            let base_repositories = [
                format!("{}-base-builder", model.project.image_prefix),
                format!("{}-base", model.project.image_prefix),
            ];
            for ((logged_in, build), repository) in run.base.builds.iter().zip(&base_repositories) {
                let repository = format!("{}/{repository}", run.registry);
                assert!(*logged_in && build.push, "{name}: {}", build.step);
                assert_eq!(build.tags, expect_tags(&repository), "{name}: {}", build.step);
                assert_eq!(
                    build.cache_to,
                    vec![format!("type=registry,ref={repository}:buildcache,mode=max")],
                    "{name}"
                );
                assert_eq!(
                    build.cache_from[0],
                    format!("type=registry,ref={repository}:buildcache"),
                    "{name}"
                );
                assert_eq!(build.platforms, model.project.platforms, "{name}");
            }
            for (entry, job) in &run.images {
                assert_eq!(job.logins, vec![host.to_owned()], "{name}/{}", entry["name"]);
                assert_eq!(job.builds.len(), 1, "{name}: no local base on a push");
                let (logged_in, build) = &job.builds[0];
                assert!(*logged_in && build.push, "{name}/{}", entry["name"]);
                assert_eq!(build.tags, expect_tags(&entry["repository"]), "{name}");
                assert_eq!(
                    build.cache_to,
                    vec![format!("type=registry,ref={}:buildcache,mode=max", entry["repository"])]
                );
                assert_eq!(build.platforms, model.project.platforms, "{name}");
            }
        }
    }
}

/// Each image is built FROM the base of the same run: on a push, the commit's tags the
/// base job pushed (on a pull request, the graph's own base stages: the test above).
#[test]
fn images_build_from_the_base_of_the_same_run() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        for event in [Event::PushDefault, Event::PushOther] {
            let run = simulate(&rendered, event);
            for (entry, job) in &run.images {
                let (_, image) = job.builds.last().unwrap();
                let names: Vec<&str> = image.args.iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(names, ["BASE_BUILDER", "BASE_RUNTIME"], "{name}/{}", entry["name"]);
                let sources: Vec<&BuildCall> = run.base.builds.iter().map(|(_, b)| b).collect();
                for ((arg, value), source) in image.args.iter().zip(sources) {
                    assert!(value.ends_with(&format!(":{SHA}")), "{name}: {arg}={value}");
                    assert!(
                        source.push && source.tags.contains(value),
                        "{name} {event:?}: {arg}={value} was not pushed by {}: {:?}",
                        source.step,
                        source.tags
                    );
                }
            }
        }
    }
}

#[test]
fn permissions_are_minimal_per_job() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let doc = rendered.yaml();
        assert_eq!(doc["permissions"], json!({}), "{name}: top level");
        let mut expected = json!({"contents": "read"});
        if rendered.uses_ghcr() {
            expected["packages"] = json!("write");
        }
        for (job, value) in jobs(&doc) {
            // The drift and pull-request jobs only read the checkout: they never push.
            let read_only = job == "drift" || job == "pull-request";
            let expected = if read_only { json!({"contents": "read"}) } else { expected.clone() };
            assert_eq!(value["permissions"], expected, "{name}/{job}");
        }
        // Off GHCR, GITHUB_TOKEN is not the credential: repository secrets are.
        let password = jobs(&doc)["base"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| is_action(s, "docker/login-action"))
            .map(|s| s["with"]["password"].as_str().unwrap().to_owned())
            .unwrap();
        let expected = if rendered.uses_ghcr() {
            "${{ secrets.GITHUB_TOKEN }}"
        } else {
            "${{ secrets.REGISTRY_PASSWORD }}"
        };
        assert_eq!(password, expected, "{name}");
    }
}

#[test]
fn hardening_concurrency_checkout_and_pinned_actions() {
    let docs = fs::read_to_string(support::repo().join("docs/workflow.md")).expect("docs/workflow.md");
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let doc = rendered.yaml();
        assert_eq!(
            doc["concurrency"],
            json!({"group": "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": true}),
            "{name}"
        );
        for (job, value) in jobs(&doc) {
            for step in steps(value) {
                if is_action(step, "actions/checkout") {
                    assert_eq!(step["with"]["persist-credentials"], json!(false), "{name}/{job}");
                }
                assert!(step["uses"].is_null() || step["run"].is_null(), "{name}/{job}");
            }
        }
        // Every `uses:` line is `owner/repo@<40 hex> # vX.Y.Z`, and docs/workflow.md's table
        // lists that exact pin.
        let text = rendered.text();
        let mut seen = 0;
        for line in text.lines().filter(|l| l.trim_start().starts_with("uses: ")) {
            let value = line.trim_start().trim_start_matches("uses: ");
            let (reference, version) = value.split_once(" # ").unwrap_or_else(|| panic!("{name}: {line}"));
            let (action, sha) = reference.split_once('@').unwrap();
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{line}"
            );
            let parts: Vec<&str> = version.trim_start_matches('v').split('.').collect();
            assert!(version.starts_with('v') && parts.len() == 3, "{line}");
            assert!(
                docs.lines()
                    .any(|l| l.contains(&format!("`{action}`")) && l.contains(sha) && l.contains(version)),
                "docs/workflow.md does not list {action}@{sha} ({version})"
            );
            seen += 1;
        }
        assert!(seen >= 8, "{name}: {seen} actions");
    }
}

#[test]
fn unpinned_actions_use_major_tags() {
    let text = fixture_text("repo").replace("pin-actions #true", "pin-actions #false");
    assert_ne!(text, fixture_text("repo"));
    let rendered = Rendered::new(&text);
    let workflow = rendered.text();
    for line in workflow.lines().filter(|l| l.trim_start().starts_with("uses: ")) {
        let value = line.trim_start().trim_start_matches("uses: ");
        let (_, tag) = value.split_once('@').unwrap();
        assert!(tag.starts_with('v') && tag[1..].parse::<u32>().is_ok(), "{line}");
    }
    actionlint(&rendered.path());
    // zizmor flags every unpinned action: that is why pinning is the default.
    let output = zizmor(&rendered.path(), "regular");
    assert_ne!(output.status.code(), Some(0));
    assert!(support::stdout(&output).contains("unpinned-uses"), "{}", support::stdout(&output));
}

#[test]
fn the_registry_path_is_lowercased_when_the_project_names_no_registry() {
    let rendered = Rendered::fixture("single");
    assert!(rendered.model.project.registry.is_none());
    for event in [Event::PushDefault, Event::PushOther] {
        let run = simulate(&rendered, event);
        assert_eq!(run.base.outputs["registry"], "ghcr.io/acme-org/site_warehouse");
        for (entry, _) in &run.images {
            assert!(!entry["repository"].chars().any(|c| c.is_ascii_uppercase()), "{entry:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The workflow and scripts/docker-build.sh build the same images
// ---------------------------------------------------------------------------------------

/// One `docker build` of the generated script (or of the workflow, with the repository
/// in place of the tag).
#[derive(Debug)]
struct ScriptBuild {
    name: String,
    file: String,
    target: String,
    tags: Vec<String>,
    args: Vec<(String, String)>,
}

fn unquote(word: &str) -> String {
    word.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')).unwrap_or(word).replace(r"'\''", "'")
}

/// The builds of the generated .sh: each a call `base_build NAME "$@" \` or
/// `image NAME "$@" \`, one option per continuation line, ending with the context `.`.
fn parse_script(text: &str) -> Vec<ScriptBuild> {
    let mut builds = Vec::new();
    let mut current: Option<ScriptBuild> = None;
    for line in text.lines() {
        let call = ["base_build ", "image "]
            .iter()
            .find_map(|f| line.strip_prefix(f))
            .and_then(|rest| rest.strip_suffix(r#" "$@" \"#));
        if let Some(name) = call {
            current = Some(ScriptBuild {
                name: name.to_owned(),
                file: String::new(),
                target: String::new(),
                tags: Vec::new(),
                args: Vec::new(),
            });
            continue;
        }
        let line = line.trim();
        if line == "." {
            // The context ends the command.
            if let Some(build) = current.take() {
                builds.push(build);
            }
        } else if let Some(build) = current.as_mut() {
            let option = line.trim_end_matches(" \\");
            let (flag, value) = option.split_once(' ').expect("--flag value");
            let value = unquote(value);
            match flag {
                "--file" => build.file = value,
                "--target" => build.target = value,
                "--tag" => build.tags.push(value),
                "--build-arg" => {
                    let (k, v) = value.split_once('=').unwrap();
                    build.args.push((k.to_owned(), v.to_owned()));
                }
                other => panic!("unexpected option {other}"),
            }
        }
    }
    builds
}

fn repository_of(reference: &str) -> &str {
    reference.rsplit_once(':').map_or(reference, |(r, _)| r)
}

#[test]
fn workflow_and_build_script_build_the_same_images_with_the_same_arguments() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let script = parse_script(
            &fs::read_to_string(rendered.out().join("scripts/docker-build.sh")).expect("docker-build.sh"),
        );
        let run = simulate(&rendered, Event::PushDefault);
        // The script tags `<repository>:latest`, with the project registry when there is one;
        // the workflow pushes the same repository to the registry path.
        let qualify = |repository: &str| match &rendered.model.project.registry {
            Some(_) => repository.to_owned(),
            None => format!("{}/{repository}", run.registry),
        };
        // The workflow's builds in the script's shape: the base job's, then the matrix.
        let mut workflow: Vec<ScriptBuild> = Vec::new();
        for (_, build) in &run.base.builds {
            workflow.push(ScriptBuild {
                name: build.step.trim_start_matches("Build ").to_owned(),
                file: build.file.clone(),
                target: build.target.clone(),
                tags: vec![repository_of(&build.tags[0]).to_owned()],
                args: build.args.clone(),
            });
        }
        for (entry, job) in &run.images {
            let (_, build) = &job.builds[0];
            assert_eq!(build.file, entry["dockerfile"]);
            assert_eq!(build.target, entry["target"]);
            workflow.push(ScriptBuild {
                name: entry["name"].clone(),
                file: build.file.clone(),
                target: build.target.clone(),
                tags: vec![entry["repository"].clone()],
                args: build.args.clone(),
            });
        }
        assert_eq!(workflow.len(), script.len(), "{name}: number of builds");
        // The pull-request job's graph builds the same Dockerfiles and stages under the
        // script's names.
        let graph = bake_graph(&simulate(&rendered, Event::PullRequest));
        assert_eq!(graph.targets.len(), script.len(), "{name}: bake targets");
        for s in &script {
            let definition = &graph.targets[&s.name];
            assert_eq!(definition["dockerfile"], json!(s.file), "{name}/{}", s.name);
            assert_eq!(definition["target"], json!(s.target), "{name}/{}", s.name);
            assert_eq!(definition["tags"], json!(s.tags), "{name}/{}: the script's tags", s.name);
        }
        for (w, s) in workflow.iter().zip(&script) {
            assert_eq!(w.name, s.name, "{name}: build order");
            assert_eq!(w.file, s.file, "{name}/{}: Dockerfile", s.name);
            assert_eq!(w.target, s.target, "{name}/{}: target", s.name);
            assert_eq!(s.tags.len(), 1, "{name}/{}", s.name);
            assert_eq!(w.tags[0], qualify(repository_of(&s.tags[0])), "{name}/{}: repository", s.name);
            let script_args: Vec<(&str, String)> =
                s.args.iter().map(|(k, v)| (k.as_str(), qualify(repository_of(v)))).collect();
            let workflow_args: Vec<(&str, String)> =
                w.args.iter().map(|(k, v)| (k.as_str(), repository_of(v).to_owned())).collect();
            // Same names in the same order, naming the same base repositories; the workflow's
            // tag is the commit, the script's `latest`.
            assert_eq!(workflow_args, script_args, "{name}/{}: build arguments", s.name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// External validators
// ---------------------------------------------------------------------------------------

fn actionlint(path: &Path) {
    let shellcheck = support::which("shellcheck");
    let output = support::tool("actionlint")
        .arg("-no-color")
        .arg(format!("-shellcheck={}", shellcheck.display()))
        .arg("-pyflakes=")
        .arg(path)
        .output()
        .expect("actionlint runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "actionlint: {}{}",
        support::stdout(&output),
        support::stderr(&output)
    );
    assert_eq!(support::stdout(&output), "", "actionlint reports nothing");
}

fn zizmor(path: &Path, persona: &str) -> std::process::Output {
    support::tool("zizmor")
        .args(["--offline", "--no-progress", "--color", "never", "--persona", persona])
        .arg(path)
        .output()
        .expect("zizmor runs")
}

#[test]
fn actionlint_reports_nothing() {
    for name in FIXTURES {
        actionlint(&Rendered::fixture(name).path());
    }
}

/// The default persona reports nothing at all. The auditor persona (which adds findings
/// zizmor itself considers noisy) may only report what docs/workflow.md accepts: reading
/// registry secrets outside a GitHub environment, for registries other than GHCR.
#[test]
fn zizmor_reports_no_finding() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = zizmor(&rendered.path(), "regular");
        let stdout = support::stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{name}: {stdout}{}", support::stderr(&output));
        assert!(stdout.starts_with("No findings to report."), "{name}: {stdout}");

        let output = zizmor(&rendered.path(), "auditor");
        let stdout = support::stdout(&output);
        let audits: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.split_once('[').filter(|(level, _)| !level.contains(' ')))
            .filter_map(|(_, rest)| rest.split_once("]:").map(|(audit, _)| audit))
            .collect();
        if rendered.uses_ghcr() {
            assert!(audits.is_empty(), "{name}: {stdout}");
        } else {
            assert!(
                !audits.is_empty() && audits.iter().all(|a| *a == "secrets-outside-env"),
                "{name}: {stdout}"
            );
        }
    }
}

#[test]
fn yamllint_and_the_workflow_schema_accept_it() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = support::tool("yamllint")
            .args(["-c"])
            .arg(support::repo().join(".yamllint.yaml"))
            .args(["-f", "parsable"])
            .arg(rendered.path())
            .output()
            .expect("yamllint runs");
        assert_eq!(output.status.code(), Some(0), "{name}: {}", support::stdout(&output));
        let output = support::tool("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(rendered.path())
            .output()
            .expect("check-jsonschema runs");
        assert_eq!(output.status.code(), Some(0), "{name}: {}", support::stdout(&output));
    }
}

#[test]
fn the_committed_workflow_is_the_rendered_one() {
    let rendered = Rendered::fixture("repo");
    // Issue 16: the repo's workflow is placed where GitHub runs it, not in generated/.
    assert_eq!(rendered.model.layout.workflow.as_str(), WORKFLOW);
    let committed = fs::read_to_string(support::repo().join(WORKFLOW)).expect("the committed workflow");
    assert_eq!(committed, rendered.text(), "run `cargo run -- render`");
    assert!(!support::repo().join("generated").join(WORKFLOW).exists(), "no copy in generated/");
}

// ---------------------------------------------------------------------------------------
// Compile-time rules
// ---------------------------------------------------------------------------------------

#[test]
fn a_default_branch_the_workflow_never_builds_is_a_warning() {
    let text = fixture_text("single")
        .replace("    github-workflow\n", "    github-workflow {\n        branches develop\n    }\n");
    let (model, diags) = support::check_source(&Source::new("project.kdl", text.as_str()));
    assert!(model.is_some());
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["gscgen::workflow::default-branch-not-built"]);
    // A pattern may match it: no warning then.
    let text = text.replace("branches develop", "branches \"release/**\" develop");
    let (_, diags) = support::check_source(&Source::new("project.kdl", text.as_str()));
    assert_eq!(diags.iter().count(), 0);
}

#[test]
fn without_the_target_no_workflow_is_rendered() {
    let text = fixture_text("single").replace("    github-workflow\n", "");
    let rendered = Rendered::new(&text);
    assert!(!rendered.path().exists());
}

// ---------------------------------------------------------------------------------------
// Timeouts and the drift job
// ---------------------------------------------------------------------------------------

/// `timeout-minutes` of every job, by job id.
fn timeouts(rendered: &Rendered) -> BTreeMap<String, u64> {
    jobs(&rendered.yaml())
        .iter()
        .map(|(job, value)| {
            let minutes =
                value["timeout-minutes"].as_u64().unwrap_or_else(|| panic!("{job}: no timeout-minutes"));
            (job.clone(), minutes)
        })
        .collect()
}

#[test]
fn every_job_has_a_timeout() {
    for name in FIXTURES {
        let expected: BTreeMap<String, u64> =
            [("base", 60), ("drift", 30), ("images", 60), ("pull-request", 60)]
                .map(|(k, v)| (k.to_owned(), v))
                .into_iter()
                .collect();
        assert_eq!(timeouts(&Rendered::fixture(name)), expected, "{name}");
    }
    // Each kind of job has its own setting; the changes job of build-affected too.
    let text = fixture_text("single").replace(
        "    github-workflow\n",
        "    github-workflow {\n        build-affected #true\n        timeout-minutes build=90 drift=15 changes=3\n    }\n",
    );
    let expected: BTreeMap<String, u64> =
        [("base", 90), ("changes", 3), ("drift", 15), ("images", 90), ("pull-request", 90)]
            .map(|(k, v)| (k.to_owned(), v))
            .into_iter()
            .collect();
    assert_eq!(timeouts(&Rendered::new(&text)), expected);
}

#[test]
fn the_drift_job_runs_the_check_hook_with_pinned_pre_commit() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let doc = rendered.yaml();
        let drift = &jobs(&doc)["drift"];
        // It runs on every event, next to the builds: nothing waits for it, it waits for nothing.
        assert!(drift.get("needs").is_none() && drift.get("if").is_none(), "{name}: {drift}");
        let steps = steps(drift);
        assert_eq!(steps.len(), 2, "{name}");
        assert!(is_action(&steps[0], "actions/checkout"), "{name}");
        assert_eq!(steps[0]["with"]["persist-credentials"], json!(false), "{name}");
        // One command: pre-commit at a pinned version runs the project's gscgen-check hook,
        // `gscgen check` at the rev of .pre-commit-config.yaml, on every file.
        assert_eq!(
            steps[1]["run"].as_str().unwrap(),
            "pipx run --spec pre-commit==4.7.0 pre-commit run gscgen-check --all-files",
            "{name}"
        );
    }
    // The version is the one the hooks are tested with (tests/pre_commit.rs).
    let validators = fs::read_to_string(support::repo().join("scripts/validators.txt")).unwrap();
    assert!(
        validators.lines().any(|l| l == "pre-commit==4.7.0"),
        "scripts/validators.txt pins another pre-commit"
    );
    // The hook exists in the manifest gscgen ships, and it is the check.
    let hooks = fs::read_to_string(support::repo().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(hooks.contains("- id: gscgen-check\n  name: gscgen check\n"), "{hooks}");
    assert!(hooks.contains("  entry: gscgen check\n"), "{hooks}");

    let text = fixture_text("single")
        .replace("    github-workflow\n", "    github-workflow {\n        drift-check #false\n    }\n");
    let rendered = Rendered::new(&text);
    assert!(!jobs(&rendered.yaml()).contains_key("drift"));
}
