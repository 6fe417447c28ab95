//! Issue 10: `github-workflow { build-affected #true }`, the workflow that builds on pull
//! requests only the images whose build inputs changed.
//!
//! The `changes` job's script is read back from the rendered YAML and
//! * its per-image filter lists are compared with the library's `image_inputs`;
//! * it is run with bash, as the runner runs it, in a shallow clone of a git repository
//!   whose HEAD is a pull request's merge commit (what actions/checkout with
//!   `fetch-depth: 2` gives), for a set of changes, and its matrix is compared with the
//!   images that `covers()` says are affected and with hand-written expectations;
//! * shellcheck, actionlint, zizmor, yamllint and the workflow schema accept it.
//!
//! Fixtures: the repo's own project with the option turned on (nine images, folders that
//! images share), and tests/fixtures/workflow/affected.kdl (no project registry, so the
//! script computes the registry path; untidy copy sources; a file source).

mod support;

use support::Rendered;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use gscgen::plan::inputs::{covers, image_inputs};
use serde_json::{Value, json};

/// An owner/repository with upper case, as `github.repository` can carry.
const REPOSITORY: &str = "Acme-Org/Site_Warehouse";
const FIXTURES: [&str; 2] = ["repo", "affected"];

fn fixture_text(name: &str) -> String {
    match name {
        // The repo's own project, with the option on.
        "repo" => {
            let text = fs::read_to_string(support::repo().join("project.kdl")).unwrap();
            let on = text.replace(
                "        pin-actions #true\n",
                "        pin-actions #true\n        build-affected #true\n",
            );
            assert_ne!(on, text, "project.kdl has no `pin-actions #true` line to extend");
            on
        }
        other => {
            fs::read_to_string(support::repo().join(format!("tests/fixtures/workflow/{other}.kdl"))).unwrap()
        }
    }
}

impl Rendered {
    fn fixture(name: &str) -> Self {
        Self::new(&fixture_text(name))
    }

    /// The workflow's path relative to the project root.
    fn workflow_path(&self) -> String {
        self.model.layout.workflow.to_string()
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join(self.workflow_path())
    }

    fn text(&self) -> String {
        fs::read_to_string(self.path()).unwrap()
    }

    fn yaml(&self) -> Value {
        serde_yaml_ng::from_str(&self.text()).expect("the workflow is YAML")
    }

    /// The `run:` script of the changes job.
    fn script(&self) -> String {
        let doc = self.yaml();
        let step = doc["jobs"]["changes"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "affected")
            .expect("a step with id `affected`")
            .clone();
        assert_eq!(step["shell"], "bash");
        step["run"].as_str().unwrap().to_owned()
    }

    fn image_names(&self) -> Vec<String> {
        self.model.images.iter().map(|i| i.name.value.clone()).collect()
    }
}

// ---------------------------------------------------------------------------------------
// The rendered file
// ---------------------------------------------------------------------------------------

#[test]
fn snapshots() {
    for name in FIXTURES {
        insta::assert_snapshot!(name, Rendered::fixture(name).text());
    }
}

#[test]
fn off_is_the_default_and_renders_the_plain_workflow() {
    let text = fixture_text("affected");
    let off = Rendered::new(&text.replace("build-affected #true", "build-affected #false"));
    let absent = Rendered::new(&text.replace("build-affected #true", "pin-actions #true"));
    assert_eq!(off.text(), absent.text());
    let doc = off.yaml();
    assert!(doc["jobs"]["changes"].is_null());
    assert!(doc["on"]["workflow_dispatch"].is_null());
    assert_eq!(doc["jobs"]["images"]["needs"], "base");
}

#[test]
fn jobs_are_wired_through_the_changes_job() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let doc = rendered.yaml();
        let jobs = &doc["jobs"];
        // A manual run is the "build everything on demand".
        assert!(doc["on"].get("workflow_dispatch").is_some(), "{name}");
        let changes = &jobs["changes"];
        assert_eq!(changes["permissions"], json!({"contents": "read"}), "{name}: least privilege");
        let checkout = &changes["steps"][0];
        assert!(checkout["uses"].as_str().unwrap().starts_with("actions/checkout@"), "{name}");
        assert_eq!(checkout["with"], json!({"persist-credentials": false, "fetch-depth": 2}), "{name}");
        assert_eq!(
            changes["outputs"],
            json!({
                "build": "${{ steps.affected.outputs.build }}",
                "matrix": "${{ steps.affected.outputs.matrix }}",
                "images": "${{ steps.affected.outputs.images }}",
            }),
            "{name}"
        );
        // Nothing from an expression reaches the script (zizmor's template-injection).
        assert!(!rendered.script().contains("${{"), "{name}");
        // On pushes, the base runs when any image is built (every image's inputs include
        // the base's), and the images build FROM this run's base: they need the base job.
        let pushes = "github.event_name != 'pull_request' && needs.changes.outputs.build == 'true'";
        assert_eq!(jobs["base"]["needs"], "changes", "{name}");
        assert_eq!(jobs["base"]["if"], pushes, "{name}");
        assert_eq!(jobs["images"]["needs"], json!(["changes", "base"]), "{name}");
        assert_eq!(jobs["images"]["if"], pushes, "{name}");
        // On pull requests, one job bakes the base and the selected images.
        let pull_request = &jobs["pull-request"];
        assert_eq!(pull_request["needs"], "changes", "{name}");
        assert_eq!(
            pull_request["if"],
            "github.event_name == 'pull_request' && needs.changes.outputs.build == 'true'",
            "{name}"
        );
        let bake = pull_request["steps"].as_array().unwrap().last().unwrap();
        assert_eq!(bake["env"]["IMAGES"], "${{ needs.changes.outputs.images }}", "{name}");
        let script = bake["run"].as_str().unwrap();
        assert!(script.starts_with("read -ra images <<<\"$IMAGES\"\n"), "{name}: {script}");
        assert!(script.trim_end().ends_with("\"${images[@]}\""), "{name}: {script}");
        assert_eq!(
            jobs["images"]["strategy"]["matrix"], "${{ fromJSON(needs.changes.outputs.matrix) }}",
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The filters are the image inputs
// ---------------------------------------------------------------------------------------

/// The arguments of every `image` call of the script, as bash reads them (`"$registry"`
/// is `$registry`): a stub `image` prints them.
fn image_calls(script: &str) -> Vec<Vec<String>> {
    let mut calls =
        String::from("registry='$registry'\nimage() { printf '%s\\0' \"$@\"; printf '\\n\\0'; }\n");
    let mut inside = false;
    for line in script.lines() {
        if line.starts_with("image ") || inside {
            calls.push_str(line);
            calls.push('\n');
            inside = line.ends_with('\\');
        }
    }
    let output = Command::new("bash").args(["-c", &calls]).output().expect("bash runs");
    assert!(output.status.success(), "{}", support::stderr(&output));
    let mut words: Vec<String> =
        String::from_utf8(output.stdout).unwrap().split('\0').map(str::to_owned).collect();
    assert_eq!(words.pop().as_deref(), Some(""), "NUL-terminated");
    words.split(|w| w == "\n").filter(|c| !c.is_empty()).map(<[String]>::to_vec).collect()
}

#[test]
fn each_image_filter_is_its_build_inputs() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let calls = image_calls(&rendered.script());
        let inputs = image_inputs(&rendered.model);
        assert_eq!(calls.len(), inputs.len(), "{name}: one call per image");
        for (call, inputs) in calls.iter().zip(&inputs) {
            let image = &rendered.model.images[inputs.image];
            assert_eq!(call[0], image.name.value, "{name}: config order");
            let filter: Vec<&str> = call[4..].iter().map(String::as_str).collect();
            let expected: Vec<&str> = inputs.paths().map(|p| p.as_str()).collect();
            assert_eq!(filter, expected, "{name}/{}", image.name.value);
        }
    }
    // The untidy sources are written as git lists paths.
    let rendered = Rendered::fixture("affected");
    let web = &image_calls(&rendered.script())[0];
    assert!(web.contains(&"web".to_owned()) && !web.iter().any(|w| w.contains("./")), "{web:?}");
}

/// The same list as `gscgen explain IMAGE`'s "build inputs" section.
#[test]
fn each_image_filter_is_what_explain_lists() {
    let rendered = Rendered::fixture("repo");
    let calls = image_calls(&rendered.script());
    for call in &calls {
        let output = support::run_in(rendered.dir.path(), &["explain", &call[0]]);
        assert_eq!(output.status.code(), Some(0), "{}", support::stderr(&output));
        let stdout = support::stdout(&output);
        let section = stdout.split("build inputs").nth(1).expect("a build inputs section");
        let listed: Vec<&str> = section
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(|l| l.split_whitespace().nth(1).unwrap())
            .collect();
        assert_eq!(call[4..].iter().map(String::as_str).collect::<Vec<_>>(), listed, "{}", call[0]);
    }
}

// ---------------------------------------------------------------------------------------
// Running the script
// ---------------------------------------------------------------------------------------

/// A change a pull request makes, relative to the project root.
#[derive(Clone, Copy)]
enum Change<'a> {
    Edit(&'a str),
    Rename(&'a str, &'a str),
}

/// What one run of the script wrote to `$GITHUB_OUTPUT`, and its log.
struct Outcome {
    build: bool,
    matrix: Vec<Value>,
    log: String,
}

impl Outcome {
    fn names(&self) -> Vec<String> {
        self.matrix.iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect()
    }
}

/// The rendered project as a git repository: every generated file and one file in each
/// copy source, committed on `main`.
struct Repo {
    rendered: Rendered,
    script: String,
}

impl Repo {
    fn new(name: &str) -> Self {
        let rendered = Rendered::fixture(name);
        let root = rendered.dir.path();
        for image in &rendered.model.images {
            for copy in &image.copies {
                let source = root.join(&copy.source.value);
                if Path::new(&copy.source.value).extension().is_some() {
                    fs::create_dir_all(source.parent().unwrap()).unwrap();
                    fs::write(&source, "print('hi')\n").unwrap();
                } else {
                    fs::create_dir_all(&source).unwrap();
                    fs::write(source.join("main.py"), "print('hi')\n").unwrap();
                }
            }
        }
        fs::write(root.join("README.md"), "# project\n").unwrap();
        support::git(root, &["init", "-q", "-b", "main"]);
        support::git(root, &["add", "-A"]);
        support::git(root, &["commit", "-q", "-m", "base"]);
        let script = rendered.script();
        Self { rendered, script }
    }

    fn root(&self) -> &Path {
        self.rendered.dir.path()
    }

    /// A pull request that makes `changes` (while the base branch gets `base_changes`),
    /// checked out as the runner does: its merge commit, `depth` commits deep. Then the
    /// repository is reset to its first commit.
    fn pull_request(&self, changes: &[Change<'_>], base_changes: &[&str], depth: u32) -> Outcome {
        let root = self.root();
        let start = support::git(root, &["rev-parse", "HEAD"]).trim().to_owned();
        support::git(root, &["checkout", "-q", "-b", "topic"]);
        for change in changes {
            match change {
                Change::Edit(path) => {
                    let path = root.join(path);
                    fs::create_dir_all(path.parent().unwrap()).unwrap();
                    let old = fs::read_to_string(&path).unwrap_or_default();
                    fs::write(&path, format!("{old}# changed\n")).unwrap();
                }
                Change::Rename(from, to) => {
                    fs::create_dir_all(root.join(to).parent().unwrap()).unwrap();
                    support::git(root, &["mv", from, to]);
                }
            }
        }
        support::git(root, &["add", "-A"]);
        support::git(root, &["commit", "-q", "--allow-empty", "-m", "topic"]);
        support::git(root, &["checkout", "-q", "main"]);
        for path in base_changes {
            fs::write(root.join(path), "# moved on\n").unwrap();
        }
        support::git(root, &["add", "-A"]);
        support::git(root, &["commit", "-q", "--allow-empty", "-m", "base moves on"]);
        support::git(root, &["merge", "-q", "--no-ff", "-m", "merge", "topic"]);

        let clone = tempfile::tempdir().unwrap();
        support::git(
            clone.path(),
            &["clone", "-q", "--depth", &depth.to_string(), &format!("file://{}", root.display()), "."],
        );
        let outcome = self.run(clone.path(), "pull_request");

        support::git(root, &["reset", "-q", "--hard", &start]);
        support::git(root, &["branch", "-q", "-D", "topic"]);
        outcome
    }

    /// Runs the script in `dir` for `event`, as the runner runs a `shell: bash` step.
    fn run(&self, dir: &Path, event: &str) -> Outcome {
        let temp = tempfile::tempdir().unwrap();
        let (script, output) = (temp.path().join("script.sh"), temp.path().join("output"));
        fs::write(&script, &self.script).unwrap();
        fs::write(&output, "").unwrap();
        let workflow = format!("{REPOSITORY}/{}@refs/pull/7/merge", self.rendered.workflow_path());
        let run = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(dir)
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_REPOSITORY", REPOSITORY)
            .env("GITHUB_WORKFLOW_REF", workflow)
            .env("GITHUB_OUTPUT", &output)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("bash runs");
        assert!(run.status.success(), "the script failed: {}", support::stderr(&run));
        let outputs: BTreeMap<String, String> = fs::read_to_string(&output)
            .unwrap()
            .lines()
            .map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).expect("key=value"))
            .collect();
        let matrix: Value = serde_json::from_str(&outputs["matrix"]).expect("the matrix is JSON");
        assert_eq!(matrix.as_object().unwrap().len(), 1, "only `include`: {matrix}");
        // The pull-request job's Bake targets: the matrix's names, space-separated.
        let names: Vec<&str> =
            matrix["include"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(outputs["images"], names.join(" "), "images= is the matrix's names");
        Outcome {
            build: match outputs["build"].as_str() {
                "true" => true,
                "false" => false,
                other => panic!("build={other}"),
            },
            matrix: matrix["include"].as_array().unwrap().clone(),
            log: support::stdout(&run) + &support::stderr(&run),
        }
    }

    /// The images whose inputs cover one of `files`, by the library's rule.
    fn covered(&self, files: &[&str]) -> Vec<String> {
        let model = &self.rendered.model;
        image_inputs(model)
            .iter()
            .filter(|i| i.inputs.iter().any(|input| files.iter().any(|f| covers(input, f))))
            .map(|i| model.images[i.image].name.value.clone())
            .collect()
    }
}

#[test]
fn pull_requests_build_the_images_whose_inputs_changed() {
    let repo = Repo::new("repo");
    let all = repo.rendered.image_names();
    let cases: Vec<(Vec<Change<'_>>, Vec<&str>)> = vec![
        (vec![Change::Edit("metrics/main.py")], vec!["metrics"]),
        // `ingestors` is a copy source of the scheduler too.
        (vec![Change::Edit("ingestors/api/main.py")], vec!["api_ingestor", "scheduler"]),
        // A sibling whose name extends a source's is not inside it.
        (vec![Change::Edit("ingestors/api_v2/main.py")], vec!["scheduler"]),
        (vec![Change::Edit("transform/main.py")], vec!["scheduler", "transformer"]),
        // The project locks: an image's lock is its input, a group's requirements file is not.
        (vec![Change::Edit("generated/requirements/lock/images/insights_api.txt")], vec!["insights_api"]),
        (vec![Change::Edit("generated/requirements/api.txt")], vec![]),
        (vec![Change::Edit("generated/compose/dockerfiles/Dockerfile.mcp")], vec!["mcp"]),
        // The base's inputs are every image's.
        (
            vec![Change::Edit("generated/requirements/lock/base-image.txt")],
            all.iter().map(String::as_str).collect(),
        ),
        (
            vec![Change::Edit("generated/compose/dockerfiles/Dockerfile.base.dockerignore")],
            all.iter().map(String::as_str).collect(),
        ),
        // Not a build input: the config reaches the images through the generated files.
        (vec![Change::Edit("README.md"), Change::Edit("project.kdl")], vec![]),
        (vec![], vec![]),
        // A file moved out of an input still changes that input.
        (vec![Change::Rename("metrics/main.py", "docs/main.py")], vec!["metrics"]),
        (vec![Change::Edit("mcp/main.py"), Change::Edit("celery/x.py")], vec!["mcp"]),
    ];
    for (changes, expected) in &cases {
        let outcome = repo.pull_request(changes, &[], 2);
        let files: Vec<&str> = changes
            .iter()
            .flat_map(|c| match c {
                Change::Edit(p) => vec![*p],
                Change::Rename(from, to) => vec![*from, *to],
            })
            .collect();
        assert_eq!(outcome.names(), *expected, "{files:?}\n{}", outcome.log);
        assert_eq!(outcome.names(), repo.covered(&files), "{files:?}: the rule of covers()");
        assert_eq!(outcome.build, !expected.is_empty(), "{files:?}");
    }
    // What the base branch did meanwhile is not the pull request's change.
    let outcome = repo.pull_request(
        &[Change::Edit("metrics/main.py")],
        &["generated/requirements/lock/base-image.txt"],
        2,
    );
    assert_eq!(outcome.names(), ["metrics"], "{}", outcome.log);
}

#[test]
fn everything_is_built_on_pushes_on_demand_and_when_the_workflow_changes() {
    let repo = Repo::new("repo");
    let all = repo.rendered.image_names();
    for event in ["push", "workflow_dispatch"] {
        let outcome = repo.run(repo.root(), event);
        assert_eq!(outcome.names(), all, "{event}");
        assert!(outcome.build);
    }
    let workflow = repo.rendered.workflow_path();
    let outcome = repo.pull_request(&[Change::Edit(&workflow)], &[], 2);
    assert_eq!(outcome.names(), all, "{}", outcome.log);
    assert!(outcome.log.contains("every image is built"), "{}", outcome.log);
    // Without the base branch's commit the diff cannot be read: everything, with a warning.
    let outcome = repo.pull_request(&[Change::Edit("metrics/main.py")], &[], 1);
    assert_eq!(outcome.names(), all, "{}", outcome.log);
    assert!(outcome.log.contains("::warning::"), "{}", outcome.log);
}

/// The pull-request job bakes the images the changes job selected, with the base stages
/// they start from and nothing else: the real Buildx resolves the step (`bake --print`).
#[test]
fn pull_requests_bake_the_selected_images_and_their_base_only() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let doc = rendered.yaml();
        let steps = doc["jobs"]["pull-request"]["steps"].as_array().unwrap();
        let bake = steps.last().unwrap();
        let images: Vec<String> = rendered.image_names().into_iter().rev().take(2).collect();
        let mut env = BTreeMap::from([("IMAGES".to_owned(), images.join(" "))]);
        if bake["env"]["REGISTRY"].is_string() {
            env.insert("REGISTRY".to_owned(), format!("ghcr.io/{}", REPOSITORY.to_lowercase()));
        }
        let printed =
            support::run_bake_step(bake["run"].as_str().unwrap(), &env, rendered.dir.path(), REPOSITORY);
        assert_eq!(printed["group"]["default"]["targets"], json!(images), "{name}");
        let mut targets: Vec<&str> =
            printed["target"].as_object().unwrap().keys().map(String::as_str).collect();
        targets.sort_unstable();
        let mut expected: Vec<&str> =
            images.iter().map(String::as_str).chain(["base-builder", "base-runtime"]).collect();
        expected.sort_unstable();
        assert_eq!(targets, expected, "{name}");
    }
}

/// A full run's matrix is the plain workflow's matrix, entry for entry.
#[test]
fn the_full_matrix_is_the_plain_workflows() {
    for name in FIXTURES {
        let repo = Repo::new(name);
        let outcome = repo.run(repo.root(), "push");
        let plain =
            Rendered::new(&fixture_text(name).replace("build-affected #true", "build-affected #false"));
        let registry = format!("ghcr.io/{}", REPOSITORY.to_lowercase());
        let expected: Vec<Value> = plain.yaml()["jobs"]["images"]["strategy"]["matrix"]["include"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                let mut entry = entry.clone();
                let repository = entry["repository"]
                    .as_str()
                    .unwrap()
                    .replace("${{ needs.base.outputs.registry }}", &registry);
                entry["repository"] = json!(repository);
                entry
            })
            .collect();
        assert_eq!(outcome.matrix, expected, "{name}");
    }
}

#[test]
fn untidy_sources_files_and_prefixes() {
    let repo = Repo::new("affected");
    let cases: [(&str, &[&str]); 6] = [
        ("web/main.py", &["web"]),
        ("shared/util.py", &["web"]),
        ("shared/jobs/main.py", &["web", "worker"]),
        ("tool.py", &["tool"]),
        ("tool.py.orig", &[]),
        ("web_extra/main.py", &["tool"]),
    ];
    for (file, expected) in cases {
        let outcome = repo.pull_request(&[Change::Edit(file)], &[], 2);
        assert_eq!(outcome.names(), expected, "{file}\n{}", outcome.log);
        assert_eq!(outcome.names(), repo.covered(&[file]), "{file}");
    }
    let outcome = repo.pull_request(&[Change::Edit("ci/requirements/web.txt")], &[], 2);
    assert_eq!(outcome.names(), ["web"]);
    assert_eq!(
        outcome.matrix[0]["repository"],
        format!("ghcr.io/{}/affected-web", REPOSITORY.to_lowercase()),
        "the registry path is lowercased"
    );
}

// ---------------------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------------------

#[test]
fn shellcheck_accepts_the_script() {
    for name in FIXTURES {
        let script = Rendered::fixture(name).script();
        let mut child = support::tool("shellcheck")
            .args(["--shell=bash", "--severity=style", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("shellcheck runs");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), script.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{name}: {}", support::stdout(&output));
    }
}

#[test]
fn actionlint_and_zizmor_report_nothing() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = support::tool("actionlint")
            .arg("-no-color")
            .arg(format!("-shellcheck={}", support::which("shellcheck").display()))
            .arg("-pyflakes=")
            .arg(rendered.path())
            .output()
            .expect("actionlint runs");
        assert_eq!(output.status.code(), Some(0), "{name}: {}", support::stdout(&output));
        assert_eq!(support::stdout(&output), "", "{name}");
        for persona in ["regular", "auditor"] {
            let output = support::tool("zizmor")
                .args(["--offline", "--no-progress", "--color", "never", "--persona", persona])
                .arg(rendered.path())
                .output()
                .expect("zizmor runs");
            let stdout = support::stdout(&output);
            assert_eq!(output.status.code(), Some(0), "{name} {persona}: {stdout}");
            assert!(stdout.starts_with("No findings to report."), "{name} {persona}: {stdout}");
        }
    }
}

#[test]
fn yamllint_and_the_workflow_schema_accept_it() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = support::tool("yamllint")
            .arg("-c")
            .arg(support::repo().join(".yamllint.yaml"))
            .args(["-f", "parsable"])
            .arg(rendered.path())
            .output()
            .expect("yamllint runs");
        let stdout = support::stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{name}: {stdout}");
        // Not even a line-length warning in what the option adds (the conditional lines of
        // the other jobs may exceed 160 characters, see docs/workflow.md).
        let base_job = rendered.text().lines().position(|l| l == "  base:").expect("a base job") + 1;
        for warning in stdout.lines() {
            let line: usize = warning.split(':').nth(1).and_then(|n| n.parse().ok()).expect("path:line:…");
            assert!(line > base_job, "{name}: {warning}");
        }
        let output = support::tool("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(rendered.path())
            .output()
            .expect("check-jsonschema runs");
        assert_eq!(output.status.code(), Some(0), "{name}: {}", support::stdout(&output));
    }
}
