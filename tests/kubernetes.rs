//! Issue 6: the kubernetes target (`k8s/`). For the repo's project.kdl and the fixtures in
//! tests/fixtures/kubernetes/, the manifests are
//!
//! * snapshotted whole (one combined snapshot per fixture, `==== path ====` sections);
//! * built by kustomize (`kubectl kustomize`) and validated, object by object and as built,
//!   by `kubernetes-validate --strict` against the oldest Kubernetes the fixture supports
//!   and the newest one (1.37), with apiVersion/kind checked against an allow-list (the
//!   validator only warns on unknown ones);
//! * parsed back (serde_yaml_ng, and PyYAML as a YAML 1.1 reader) and checked for meaning:
//!   images are the ones the builds push, autoscalers target Deployments with CPU requests,
//!   budgets and Services select exactly one Deployment, probes use declared ports, GPU
//!   pods get affinity and a GPU limit, pods are hardened unless the config relaxes them;
//! * scanned by checkov, with every skipped check listed below with its reason (the same
//!   list as docs/kubernetes.md), and failures allowed only where the config relaxes a
//!   default explicitly.
//!
//! The external tools fail loudly when missing: run `scripts/test`.

mod support;

use support::codes;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use gscgen::model::{ClusterStorage, Deploy, K8s, Model, ServiceSource, User};
use gscgen::plan::PlanContext;
use gscgen::source::Source;
use serde_json::{Value, json};

/// The fixtures: the repo's own project and the ones under tests/fixtures/kubernetes/.
const FIXTURES: [&str; 3] = ["repo", "tricky", "minimal"];
/// The newest Kubernetes the manifests are validated against.
const NEWEST: &str = "1.37.0";
const K8S: &str = "k8s";
const KUSTOMIZATION: &str = "kustomization.yaml";

/// Every apiVersion/kind the target may render: current, GA APIs only (no beta HPA).
const CURRENT_APIS: [(&str, &str); 8] = [
    ("v1", "Namespace"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
];

/// checkov checks skipped, each with its reason. docs/kubernetes.md lists the same.
const CHECKOV_SKIPS: [(&str, &str); 6] = [
    (
        "CKV_K8S_14",
        "the tag is the config's (`latest` by default, what CI pushes on the default branch); deploys pin a commit with `kustomize edit set image`",
    ),
    (
        "CKV_K8S_43",
        "digests are only known after the push; pin them at deploy time with `kustomize edit set image name@sha256:…`",
    ),
    (
        "CKV_K8S_15",
        "`IfNotPresent` is chosen deliberately for immutable references (commit-SHA tags, digests); every movable tag gets `Always`",
    ),
    (
        "CKV_K8S_40",
        "the uid is the image's own user (project `uid`, 1000 by default), which the Dockerfiles create and own files as",
    ),
    ("CKV_K8S_8", "services without a health check get no liveness probe rather than one that always passes"),
    (
        "CKV_K8S_9",
        "services without a health check or a port get no readiness probe rather than one that always passes",
    ),
];

fn fixture_text(name: &str) -> String {
    let path = match name {
        "repo" => support::repo().join("project.kdl"),
        other => support::repo().join(format!("tests/fixtures/kubernetes/{other}.kdl")),
    };
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture compiled, planned and written into a temporary folder.
struct Rendered {
    name: &'static str,
    dir: tempfile::TempDir,
    model: Model,
}

impl Rendered {
    fn new(name: &'static str, kdl: &str) -> Self {
        let (model, diagnostics) = support::check_source(&Source::new("project.kdl", kdl));
        let model = model.unwrap_or_else(|| {
            panic!(
                "{name} does not compile: {:?}",
                diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
            )
        });
        assert_eq!(diagnostics.warning_count(), 0, "{name} has warnings: {diagnostics:?}");
        let plan =
            gscgen::plan::plan(&model, &PlanContext { config_name: "project.kdl".into() }).expect("plan");
        // Not a hidden folder (`.tmpXXXX`): checkov skips those without a word.
        let dir = tempfile::Builder::new().prefix("gscgen-k8s-").tempdir().expect("temp dir");
        for file in &plan.files {
            let path = dir.path().join(file.path.as_str());
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, &file.bytes).unwrap();
        }
        Self { name, dir, model }
    }

    fn fixture(name: &'static str) -> Self {
        Self::new(name, &fixture_text(name))
    }

    fn all() -> Vec<Self> {
        FIXTURES.iter().map(|name| Self::fixture(name)).collect()
    }

    /// The output folder (the plan names files from the project root, `dir`).
    fn out(&self) -> PathBuf {
        self.dir.path().join(self.model.project.output.as_str())
    }

    fn k8s_dir(&self) -> PathBuf {
        self.out().join(K8S)
    }

    /// File names under k8s/ (not its `patches/` folder), sorted.
    fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = fs::read_dir(self.k8s_dir())
            .expect("k8s/ exists")
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        files
    }

    fn text(&self, file: &str) -> String {
        fs::read_to_string(self.k8s_dir().join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", self.name))
    }

    fn yaml(&self, file: &str) -> Value {
        serde_yaml_ng::from_str(&self.text(file))
            .unwrap_or_else(|e| panic!("{}/{file} is not YAML: {e}", self.name))
    }

    /// Every object file (all but the kustomization), parsed: (file, object).
    fn objects(&self) -> Vec<(String, Value)> {
        self.files().into_iter().filter(|f| f != KUSTOMIZATION).map(|f| (f.clone(), self.yaml(&f))).collect()
    }

    fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.objects().into_iter().map(|(_, o)| o).filter(|o| o["kind"] == json!(kind)).collect()
    }

    /// The object of `kind` named `name`; a Job by the name the config gives it (its
    /// instance label: a Job of a built image carries its tag in `metadata.name`).
    fn object(&self, kind: &str, name: &str) -> Value {
        self.of_kind(kind)
            .into_iter()
            .find(|o| {
                if kind == "Job" {
                    o["metadata"]["labels"]["app.kubernetes.io/instance"] == json!(name)
                } else {
                    o["metadata"]["name"] == json!(name)
                }
            })
            .unwrap_or_else(|| panic!("{}: no {kind} {name}", self.name))
    }

    /// Deployments and Jobs: (kind, name, pod template).
    fn workloads(&self) -> Vec<(String, String, Value)> {
        self.objects()
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| o["kind"] == json!("Deployment") || o["kind"] == json!("Job"))
            .map(|o| {
                (
                    o["kind"].as_str().unwrap().to_owned(),
                    o["metadata"]["name"].as_str().unwrap().to_owned(),
                    o["spec"]["template"].clone(),
                )
            })
            .collect()
    }

    fn min_version(&self) -> String {
        format!("1.{}.0", self.model.targets.kubernetes.as_ref().expect("kubernetes target").min_minor)
    }

    fn namespace(&self) -> String {
        self.model.targets.kubernetes.as_ref().unwrap().namespace.clone()
    }

    fn tag(&self) -> String {
        self.model.targets.kubernetes.as_ref().unwrap().tag.clone()
    }

    /// Each service with its resolved `k8s` block.
    fn services(&self) -> Vec<(&gscgen::model::Service, &K8s)> {
        self.model.services.iter().map(|s| (s, s.k8s.as_ref().expect("resolved with the target"))).collect()
    }

    /// The repositories the build facts push: the build script's `--tag`s and, when the
    /// workflow is rendered, its matrix of repositories.
    fn pushed_repositories(&self) -> BTreeSet<String> {
        let mut pushed = BTreeSet::new();
        let script = self.out().join("scripts/docker-build.sh");
        if let Ok(text) = fs::read_to_string(&script) {
            for line in text.lines() {
                if let Some(reference) = line.trim().strip_prefix("--tag ") {
                    let reference = reference.trim_end_matches(['\\', ' ']);
                    pushed.insert(strip_tag(reference).to_owned());
                }
            }
        }
        pushed
    }
}

/// `repo/name:tag` → `repo/name` (a `:` after the last `/` starts the tag).
fn strip_tag(reference: &str) -> &str {
    let reference = reference.split('@').next().unwrap();
    match reference.rfind(':') {
        Some(at) if !reference[at..].contains('/') => &reference[..at],
        _ => reference,
    }
}

fn tag_of(reference: &str) -> Option<&str> {
    let repository = strip_tag(reference);
    reference.strip_prefix(repository).and_then(|rest| rest.strip_prefix(':'))
}

/// Every container of a pod template, init containers first: (is_init, container).
fn containers(pod: &Value) -> Vec<(bool, &Value)> {
    let spec = &pod["spec"];
    let mut out: Vec<(bool, &Value)> =
        spec["initContainers"].as_array().into_iter().flatten().map(|c| (true, c)).collect();
    out.extend(spec["containers"].as_array().into_iter().flatten().map(|c| (false, c)));
    out
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().expect("selector is a mapping");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn run(command: &mut std::process::Command) -> Output {
    command.output().expect("tool runs")
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

#[test]
fn snapshots() {
    for rendered in Rendered::all() {
        let mut combined = String::new();
        for file in rendered.files() {
            combined.push_str(&format!("==== {K8S}/{file} ====\n{}", rendered.text(&file)));
        }
        insta::assert_snapshot!(rendered.name, combined);
    }
}

// ---------------------------------------------------------------------------------------
// External validators
// ---------------------------------------------------------------------------------------

fn kustomize(dir: &Path) -> String {
    let output = run(support::tool("kubectl").arg("kustomize").arg(dir));
    assert!(output.status.success(), "kubectl kustomize {}: {}", dir.display(), support::stderr(&output));
    assert!(support::stderr(&output).is_empty(), "kustomize warns: {}", support::stderr(&output));
    support::stdout(&output)
}

#[test]
fn kustomize_builds_every_fixture_and_the_committed_folder() {
    for rendered in Rendered::all() {
        let built = kustomize(&rendered.k8s_dir());
        let documents: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&built)
            .map(|d| serde::Deserialize::deserialize(d).expect("kustomize output is YAML"))
            .collect();
        assert_eq!(documents.len(), rendered.objects().len(), "{}: one object per file", rendered.name);
        for document in &documents {
            if document["kind"] == json!("Namespace") {
                assert_eq!(document["metadata"]["name"], json!(rendered.namespace()));
            } else {
                assert_eq!(document["metadata"]["namespace"], json!(rendered.namespace()), "{document}");
            }
        }
    }
    // Acceptance: the repo's committed output builds as it is.
    kustomize(&support::repo().join("generated").join(K8S));
}

fn validate(version: &str, files: &[PathBuf]) {
    let output =
        run(support::tool("kubernetes-validate").args(["--strict", "-k", version, "--quiet"]).args(files));
    let all = format!("{}{}", support::stdout(&output), support::stderr(&output));
    assert!(output.status.success(), "kubernetes-validate -k {version}: {all}");
    assert!(!all.contains("WARN") && !all.contains("ERROR"), "kubernetes-validate -k {version}: {all}");
}

#[test]
fn every_object_validates_against_the_oldest_and_newest_kubernetes() {
    for rendered in Rendered::all() {
        let mut files: Vec<PathBuf> =
            rendered.objects().iter().map(|(file, _)| rendered.k8s_dir().join(file)).collect();
        let built = rendered.out().join("kustomized.yaml");
        fs::write(&built, kustomize(&rendered.k8s_dir())).unwrap();
        files.push(built);
        for version in [rendered.min_version(), NEWEST.to_owned()] {
            validate(&version, &files);
        }
    }
    // The oldest version the docs promise for the default settings.
    let minimal = Rendered::fixture("minimal");
    assert_eq!(minimal.min_version(), "1.25.0");
}

/// The validator is strict about unknown fields: the field gated on the minimum version
/// (`unhealthyPodEvictionPolicy`, 1.27+) must not appear below it.
#[test]
fn version_gated_fields_follow_min_version() {
    let tricky = Rendered::fixture("tricky");
    let pdb = tricky.object("PodDisruptionBudget", "yes");
    assert_eq!(pdb["spec"]["unhealthyPodEvictionPolicy"], json!("AlwaysAllow"));
    let repo = Rendered::fixture("repo");
    for pdb in repo.of_kind("PodDisruptionBudget") {
        assert!(pdb["spec"].get("unhealthyPodEvictionPolicy").is_none(), "1.25 has no such field");
    }
    // And the validator does reject it at 1.25: the gate is needed.
    let file = tricky.k8s_dir().join("yes.pdb.yaml");
    let output =
        run(support::tool("kubernetes-validate").args(["--strict", "-k", "1.25.0", "--quiet"]).arg(&file));
    assert!(!output.status.success(), "1.25 should reject unhealthyPodEvictionPolicy");
}

#[test]
fn api_versions_and_kinds_are_current() {
    for rendered in Rendered::all() {
        for (file, object) in rendered.objects() {
            let api = (
                object["apiVersion"].as_str().unwrap_or_default(),
                object["kind"].as_str().unwrap_or_default(),
            );
            assert!(CURRENT_APIS.contains(&api), "{}/{file}: {api:?} is not a current API", rendered.name);
        }
        let kustomization = rendered.yaml(KUSTOMIZATION);
        assert_eq!(kustomization["apiVersion"], json!("kustomize.config.k8s.io/v1beta1"));
        assert_eq!(kustomization["kind"], json!("Kustomization"));
    }
}

#[test]
fn yamllint_passes_and_yaml_11_and_12_readers_agree() {
    for rendered in Rendered::all() {
        let output = run(support::tool("yamllint")
            .args(["-c"])
            .arg(support::repo().join(".yamllint.yaml"))
            .args(["-f", "parsable"])
            .arg(rendered.k8s_dir()));
        assert!(output.status.success(), "{}: {}", rendered.name, support::stdout(&output));
        for file in rendered.files() {
            assert_eq!(
                pyyaml(&rendered.k8s_dir().join(&file)),
                rendered.yaml(&file),
                "{}/{file}",
                rendered.name
            );
        }
    }
}

/// PyYAML's `safe_load` of a file, as JSON. Fails loudly when PyYAML is missing.
fn pyyaml(path: &Path) -> Value {
    let script =
        "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))";
    let output = run(support::tool("python3").args(["-c", script]).arg(path));
    assert!(
        output.status.success(),
        "python3 with PyYAML is required (scripts/test): {}",
        support::stderr(&output)
    );
    serde_json::from_slice(&output.stdout).expect("PyYAML output is JSON")
}

#[derive(serde::Deserialize)]
struct CheckovReport {
    results: CheckovResults,
    summary: CheckovSummary,
}

#[derive(serde::Deserialize)]
struct CheckovSummary {
    passed: u64,
}

#[derive(serde::Deserialize)]
struct CheckovResults {
    failed_checks: Vec<CheckovFinding>,
}

#[derive(serde::Deserialize)]
struct CheckovFinding {
    check_id: String,
    resource: String,
}

/// checkov on every fixture: nothing fails but the documented skips and, for a workload
/// whose config relaxes a default explicitly, the check of that very default.
#[test]
fn checkov_finds_nothing_beyond_documented_skips_and_explicit_relaxations() {
    let skips: Vec<&str> = CHECKOV_SKIPS.iter().map(|(id, _)| *id).collect();
    for rendered in Rendered::all() {
        let output = run(support::tool("checkov")
            .env("BC_SKIP_MAPPING", "TRUE")
            .arg("-d")
            .arg(rendered.k8s_dir())
            .args(["--framework", "kubernetes", "--quiet", "--compact", "--skip-download", "-o", "json"])
            .arg("--skip-check")
            .arg(skips.join(",")));
        let stdout = support::stdout(&output);
        let report: CheckovReport = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{}: unexpected checkov output ({e}): {stdout}", rendered.name));
        // Guards against a scan of nothing (checkov silently skips hidden folders).
        assert!(report.summary.passed >= 50, "{}: checkov checked too little: {stdout}", rendered.name);
        let failed = report.results.failed_checks;
        let mut allowed: BTreeSet<(String, String)> = BTreeSet::new();
        let namespace = rendered.namespace();
        for (service, k8s) in rendered.services() {
            let mut resources = vec![match k8s.deploy {
                Deploy::Job => format!("Job.{namespace}.{}", k8s.name),
                _ => format!("Deployment.{namespace}.{}", k8s.name),
            }];
            // An `env-secret` without `as-file` asks for an environment variable: CKV_K8S_35
            // (secrets as files) on the workload whose containers read it, and only there.
            let env_variable = |secrets: &[gscgen::model::EnvSecret]| secrets.iter().any(|s| !s.as_file);
            if env_variable(&service.env_secrets)
                || k8s.init.iter().filter(|i| !i.job).any(|i| env_variable(&i.env_secrets))
            {
                allowed.insert(("CKV_K8S_35".to_owned(), resources[0].clone()));
            }
            for init in k8s.init.iter().filter(|i| i.job && k8s.is_deployed()) {
                // A Job of a built image carries its tag in `metadata.name`.
                let object = rendered.object("Job", &format!("{}-{}", k8s.name, init.name));
                let job = format!("Job.{namespace}.{}", object["metadata"]["name"].as_str().unwrap());
                if env_variable(&init.env_secrets) {
                    allowed.insert(("CKV_K8S_35".to_owned(), job.clone()));
                }
                resources.push(job);
            }
            for resource in resources {
                if !k8s.security.run_as_non_root {
                    allowed.insert(("CKV_K8S_23".to_owned(), resource.clone()));
                }
                if !k8s.security.read_only_root_filesystem {
                    allowed.insert(("CKV_K8S_22".to_owned(), resource.clone()));
                }
                if k8s.security.allow_privilege_escalation {
                    allowed.insert(("CKV_K8S_20".to_owned(), resource.clone()));
                }
            }
        }
        let unexpected: Vec<String> = failed
            .iter()
            .filter(|f| !allowed.contains(&(f.check_id.clone(), f.resource.clone())))
            .map(|f| format!("{} on {}", f.check_id, f.resource))
            .collect();
        assert!(unexpected.is_empty(), "{}: checkov findings: {unexpected:#?}", rendered.name);
        if rendered.name == "repo" {
            // The repo relaxes ollama only (root, writable root filesystem): both are found.
            let found: BTreeSet<(String, String)> =
                failed.iter().map(|f| (f.check_id.clone(), f.resource.clone())).collect();
            assert_eq!(found, allowed, "every explicit relaxation shows up in the scan");
        }
    }
}

#[test]
fn checkov_skips_are_documented_with_their_reasons() {
    let doc = fs::read_to_string(support::repo().join("docs/kubernetes.md")).expect("docs/kubernetes.md");
    for (id, _) in CHECKOV_SKIPS {
        assert!(doc.contains(&format!("`{id}`")), "docs/kubernetes.md does not explain skipping {id}");
    }
}

// ---------------------------------------------------------------------------------------
// Meaning, read back from the YAML
// ---------------------------------------------------------------------------------------

#[test]
fn files_are_lf_with_one_final_newline_and_a_header() {
    for rendered in Rendered::all() {
        for file in rendered.files() {
            let text = rendered.text(&file);
            assert!(
                !text.contains('\r') && !text.contains(" \n") && !text.contains("\n\n"),
                "{}/{file}",
                rendered.name
            );
            assert!(text.ends_with('\n'), "{}/{file}", rendered.name);
            assert!(
                text.starts_with("# Generated by gscgen from project.kdl: do not edit."),
                "{}/{file}",
                rendered.name
            );
        }
    }
}

#[test]
fn kustomization_lists_every_file_once_and_sets_built_image_tags() {
    for rendered in Rendered::all() {
        let kustomization = rendered.yaml(KUSTOMIZATION);
        assert_eq!(kustomization["namespace"], json!(rendered.namespace()));
        let listed: Vec<String> = kustomization["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        let files: Vec<String> = rendered.files().into_iter().filter(|f| f != KUSTOMIZATION).collect();
        assert_eq!(sorted, files, "{}: resources are exactly the object files", rendered.name);
        assert_eq!(listed[0], "namespace.yaml", "{}: the namespace first", rendered.name);
        // Built images: one entry each, at the target's tag; the Deployment references them.
        let images = kustomization["images"].as_array().cloned().unwrap_or_default();
        let names: BTreeSet<String> = images.iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names.len(), images.len(), "{}: one entry per image", rendered.name);
        for image in &images {
            assert_eq!(image["newTag"], json!(rendered.tag()), "{}", rendered.name);
        }
        let mut used = BTreeSet::new();
        for (_, _, pod) in rendered.workloads() {
            for (_, container) in containers(&pod) {
                let reference = container["image"].as_str().unwrap();
                if names.contains(strip_tag(reference)) {
                    used.insert(strip_tag(reference).to_owned());
                    assert_eq!(tag_of(reference), Some(rendered.tag().as_str()), "{reference}");
                }
            }
        }
        assert_eq!(used, names, "{}: every image entry is used, by its repository", rendered.name);
    }
    // `kustomize edit set image` is one edit: the built output follows the kustomization.
    let repo = Rendered::fixture("repo");
    let text = repo
        .text(KUSTOMIZATION)
        .replace("newTag: latest", "newTag: 0123456789abcdef0123456789abcdef01234567");
    fs::write(repo.k8s_dir().join(KUSTOMIZATION), text).unwrap();
    let built = kustomize(&repo.k8s_dir());
    assert!(!built.contains(":latest"), "every built image follows the kustomization's tag");
    assert!(built.contains("gsc-insights-api:0123456789abcdef0123456789abcdef01234567"));
}

#[test]
fn deployment_images_are_the_ones_the_builds_push() {
    for rendered in Rendered::all() {
        let pushed = rendered.pushed_repositories();
        let model = &rendered.model;
        for (service, k8s) in rendered.services() {
            if !k8s.is_deployed() {
                continue;
            }
            let (kind, name) = match k8s.deploy {
                Deploy::Job => ("Job", k8s.name.clone()),
                _ => ("Deployment", k8s.name.clone()),
            };
            let workload = rendered.object(kind, &name);
            let pod = &workload["spec"]["template"];
            let main = &pod["spec"]["containers"][0]["image"];
            match &service.source {
                ServiceSource::Image(id) => {
                    let repository = model.qualified(&model.repository_name(&model.images[*id]));
                    assert!(
                        pushed.contains(&repository),
                        "{}: {repository} is not pushed: {pushed:?}",
                        rendered.name
                    );
                    assert_eq!(main, &json!(format!("{repository}:{}", rendered.tag())));
                }
                ServiceSource::Prebuilt(reference) => assert_eq!(main, &json!(reference)),
            }
            for (is_init, container) in containers(pod) {
                if is_init {
                    let repository = strip_tag(container["image"].as_str().unwrap());
                    assert!(
                        pushed.contains(repository),
                        "{}: init image {repository} is not pushed",
                        rendered.name
                    );
                }
            }
        }
    }
    // The repo's workflow pushes every repository the manifests use, tagged with the
    // commit SHA and, on the default branch, `latest` (the repo's tag).
    let repo = Rendered::fixture("repo");
    let workflow = fs::read_to_string(repo.dir.path().join(repo.model.layout.workflow.as_str()))
        .expect("the repo renders its workflow");
    let kustomization = repo.yaml(KUSTOMIZATION);
    for image in kustomization["images"].as_array().unwrap() {
        let repository = image["name"].as_str().unwrap();
        assert!(
            workflow.contains(&format!("repository: {repository}\n")),
            "the workflow does not push {repository}"
        );
    }
    assert!(workflow.contains(":latest"), "the workflow pushes `latest`");
    assert_eq!(repo.tag(), "latest");
}

#[test]
fn pull_policy_is_if_not_present_only_for_immutable_references() {
    for rendered in Rendered::all() {
        for (_, name, pod) in rendered.workloads() {
            for (_, container) in containers(&pod) {
                let reference = container["image"].as_str().unwrap();
                let sha = tag_of(reference).is_some_and(|t| {
                    (7..=40).contains(&t.len())
                        && t.chars().all(|c| c.is_ascii_digit() || matches!(c, 'a'..='f'))
                });
                let immutable = reference.contains("@sha256:") || sha;
                let expected = if immutable { "IfNotPresent" } else { "Always" };
                assert_eq!(
                    container["imagePullPolicy"],
                    json!(expected),
                    "{}/{name}: {reference}",
                    rendered.name
                );
            }
        }
    }
    let tricky = Rendered::fixture("tricky");
    let cache = tricky.object("Deployment", "cache");
    assert_eq!(cache["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], json!("IfNotPresent"));
    let repo = Rendered::fixture("repo");
    let api = repo.object("Deployment", "insights-api");
    assert_eq!(api["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], json!("Always"));
}

#[test]
fn every_hpa_targets_a_deployment_with_cpu_requests() {
    let mut checked = 0;
    for rendered in Rendered::all() {
        for hpa in rendered.of_kind("HorizontalPodAutoscaler") {
            let target = &hpa["spec"]["scaleTargetRef"];
            assert_eq!(target["apiVersion"], json!("apps/v1"));
            assert_eq!(target["kind"], json!("Deployment"));
            let deployment = rendered.object("Deployment", target["name"].as_str().unwrap());
            for container in deployment["spec"]["template"]["spec"]["containers"].as_array().unwrap() {
                assert!(
                    container["resources"]["requests"]["cpu"].is_string(),
                    "{}: no CPU request: {container}",
                    rendered.name
                );
            }
            assert!(deployment["spec"].get("replicas").is_none(), "the HPA owns the replica count");
            let metric = &hpa["spec"]["metrics"][0];
            assert_eq!(metric["resource"]["name"], json!("cpu"));
            assert_eq!(metric["resource"]["target"]["type"], json!("Utilization"));
            assert!(hpa["spec"]["minReplicas"].as_u64().unwrap() >= 1);
            assert!(hpa["spec"]["minReplicas"].as_u64() <= hpa["spec"]["maxReplicas"].as_u64());
            checked += 1;
        }
    }
    assert!(checked >= 2, "the repo's and tricky's autoscalers");
}

/// Pods each selector selects: (kind, name) of every Deployment or Job whose pod labels match.
fn selected(rendered: &Rendered, selector: &Value) -> Vec<(String, String)> {
    rendered
        .workloads()
        .into_iter()
        .filter(|(_, _, pod)| labels_match(selector, &pod["metadata"]["labels"]))
        .map(|(kind, name, _)| (kind, name))
        .collect()
}

#[test]
fn every_pdb_and_service_selects_the_pods_of_exactly_one_deployment() {
    let mut pdbs = 0;
    for rendered in Rendered::all() {
        for pdb in rendered.of_kind("PodDisruptionBudget") {
            let name = pdb["metadata"]["name"].as_str().unwrap().to_owned();
            let selected = selected(&rendered, &pdb["spec"]["selector"]["matchLabels"]);
            assert_eq!(
                selected,
                vec![("Deployment".to_owned(), name.clone())],
                "{}: PDB {name}",
                rendered.name
            );
            let deployment = rendered.object("Deployment", &name);
            let max = match rendered
                .of_kind("HorizontalPodAutoscaler")
                .iter()
                .find(|h| h["metadata"]["name"] == json!(name))
            {
                Some(hpa) => hpa["spec"]["maxReplicas"].as_u64().unwrap(),
                None => deployment["spec"]["replicas"].as_u64().unwrap(),
            };
            assert!(
                pdb["spec"]["minAvailable"].as_u64().unwrap() < max,
                "{}: PDB {name} blocks drains",
                rendered.name
            );
            // The Deployment's own selector is the same.
            assert_eq!(deployment["spec"]["selector"]["matchLabels"], pdb["spec"]["selector"]["matchLabels"]);
            pdbs += 1;
        }
        for service in rendered.of_kind("Service") {
            let name = service["metadata"]["name"].as_str().unwrap().to_owned();
            let selected = selected(&rendered, &service["spec"]["selector"]);
            assert_eq!(
                selected,
                vec![("Deployment".to_owned(), name.clone())],
                "{}: Service {name}",
                rendered.name
            );
            let deployment = rendered.object("Deployment", &name);
            let ports: Vec<Value> = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].clone())
                .collect();
            for port in service["spec"]["ports"].as_array().unwrap() {
                assert!(
                    ports.contains(&port["targetPort"]),
                    "{}: Service {name} targets {port}",
                    rendered.name
                );
            }
        }
        // Deployments select their own pods only (not an init Job of the same service).
        for deployment in rendered.of_kind("Deployment") {
            let name = deployment["metadata"]["name"].as_str().unwrap().to_owned();
            let selected = selected(&rendered, &deployment["spec"]["selector"]["matchLabels"]);
            assert_eq!(selected, vec![("Deployment".to_owned(), name)], "{}", rendered.name);
        }
    }
    assert!(pdbs >= 3, "the repo's and tricky's budgets");
}

#[test]
fn probes_use_declared_ports_and_follow_the_health_check() {
    for rendered in Rendered::all() {
        for (kind, name, pod) in rendered.workloads() {
            for (is_init, container) in containers(&pod) {
                let declared: BTreeSet<u64> = container["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| p["containerPort"].as_u64().unwrap())
                    .collect();
                for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
                    let Some(probe) = container.get(probe) else { continue };
                    assert!(
                        !is_init && kind == "Deployment",
                        "{}/{name}: probes only on Deployments",
                        rendered.name
                    );
                    for handler in ["httpGet", "tcpSocket"] {
                        if let Some(port) = probe[handler]["port"].as_u64() {
                            assert!(
                                declared.contains(&port),
                                "{}/{name}: {handler} port {port} not declared",
                                rendered.name
                            );
                        }
                    }
                    // Never a probe that always passes.
                    if let Some(command) = probe["exec"]["command"].as_array() {
                        let words: Vec<&str> = command.iter().map(|c| c.as_str().unwrap()).collect();
                        assert!(
                            !matches!(words.as_slice(), ["true"] | ["/bin/true"] | ["exit", "0"]),
                            "{words:?}"
                        );
                        assert!(
                            !words.join(" ").contains("|| true") && !words.join(" ").contains("|| exit 0")
                        );
                    }
                }
            }
        }
        // Every Deployment whose service (or image) has a health check gets both probes from it.
        for (service, k8s) in rendered.services() {
            if k8s.deploy != Deploy::Deployment {
                continue;
            }
            let image = match service.source {
                ServiceSource::Image(id) => Some(&rendered.model.images[id]),
                ServiceSource::Prebuilt(_) => None,
            };
            let health = service.health.as_ref().or_else(|| image.and_then(|i| i.health.as_ref()));
            let deployment = rendered.object("Deployment", &k8s.name);
            let container = &deployment["spec"]["template"]["spec"]["containers"][0];
            match health.and_then(|h| h.check.as_ref()) {
                Some(gscgen::config::HealthCheckDecl::Http { path, port }) => {
                    for probe in ["readinessProbe", "livenessProbe"] {
                        assert_eq!(
                            container[probe]["httpGet"],
                            json!({"path": path.value, "port": port.value})
                        );
                    }
                }
                Some(gscgen::config::HealthCheckDecl::Exec(command)) => {
                    let args: Vec<&str> = command.args.iter().map(|a| a.value.as_str()).collect();
                    for probe in ["readinessProbe", "livenessProbe"] {
                        assert_eq!(
                            container[probe]["exec"]["command"],
                            json!(args),
                            "{}/{}",
                            rendered.name,
                            k8s.name
                        );
                    }
                }
                None => {
                    assert!(container.get("livenessProbe").is_none(), "{}/{}", rendered.name, k8s.name);
                    match container["ports"][0]["containerPort"].as_u64() {
                        Some(port) => {
                            assert_eq!(container["readinessProbe"], json!({"tcpSocket": {"port": port}}))
                        }
                        None => assert!(container.get("readinessProbe").is_none()),
                    }
                }
            }
        }
    }
    // Timings: Docker's `interval`/`timeout`/`retries`; `start-period` delays liveness only.
    let tricky = Rendered::fixture("tricky");
    let yes = tricky.object("Deployment", "yes");
    let container = &yes["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["livenessProbe"]["initialDelaySeconds"], json!(90));
    assert!(container["readinessProbe"].get("initialDelaySeconds").is_none());
    assert_eq!(container["readinessProbe"]["periodSeconds"], json!(15));
    assert_eq!(container["readinessProbe"]["timeoutSeconds"], json!(3));
    assert_eq!(container["readinessProbe"]["failureThreshold"], json!(4));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], json!("/health?probe=yes&x=1"));
}

#[test]
fn gpu_workloads_get_node_affinity_tolerations_and_a_gpu_limit() {
    let mut checked = 0;
    for rendered in Rendered::all() {
        for (_, k8s) in rendered.services() {
            let Some(gpu) = &k8s.gpu else { continue };
            let deployment = rendered.object("Deployment", &k8s.name);
            let spec = &deployment["spec"]["template"]["spec"];
            let resources = &spec["containers"][0]["resources"];
            assert_eq!(
                resources["limits"]["nvidia.com/gpu"],
                json!(gpu.count.to_string()),
                "{}",
                rendered.name
            );
            assert_eq!(
                resources["requests"]["nvidia.com/gpu"],
                json!(gpu.count.to_string()),
                "{}",
                rendered.name
            );
            let terms = &spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
            match &gpu.node_label {
                Some((key, values)) => {
                    assert_eq!(
                        terms[0]["matchExpressions"][0],
                        json!({"key": key, "operator": "In", "values": values})
                    );
                }
                None => assert!(spec.get("affinity").is_none()),
            }
            let tolerations = spec["tolerations"].as_array().expect("tolerations");
            assert_eq!(tolerations.len(), gpu.tolerations.len());
            for (toleration, declared) in tolerations.iter().zip(&gpu.tolerations) {
                assert_eq!(toleration["key"], json!(declared.key));
                assert_eq!(toleration["operator"], json!("Exists"));
                assert_eq!(toleration.get("effect"), declared.effect.as_ref().map(|e| json!(e)).as_ref());
            }
            // Init containers never take the pod's GPUs.
            for init in spec["initContainers"].as_array().into_iter().flatten() {
                assert!(init["resources"]["limits"].get("nvidia.com/gpu").is_none());
            }
            checked += 1;
        }
        // No GPU request without a declared gpu.
        for (_, name, pod) in rendered.workloads() {
            let declared = rendered.services().iter().any(|(_, k)| k.name == name && k.gpu.is_some());
            for (_, container) in containers(&pod) {
                if container["resources"]["limits"].get("nvidia.com/gpu").is_some() {
                    assert!(declared, "{}/{name}", rendered.name);
                }
            }
        }
    }
    // The seed's ollama: affinity AND the limit (the seed's affinity alone got no GPU).
    let repo = Rendered::fixture("repo");
    let ollama = repo.object("Deployment", "ollama");
    let spec = &ollama["spec"]["template"]["spec"];
    assert!(spec["affinity"]["nodeAffinity"].is_object());
    assert_eq!(spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], json!("1"));
    assert!(checked >= 2);
}

#[test]
fn pods_are_hardened_unless_the_config_relaxes_them_explicitly() {
    for rendered in Rendered::all() {
        let model = &rendered.model;
        for (service, k8s) in rendered.services() {
            if !k8s.is_deployed() {
                continue;
            }
            let mut workloads =
                vec![(if k8s.deploy == Deploy::Job { "Job" } else { "Deployment" }, k8s.name.clone())];
            workloads.extend(
                k8s.init.iter().filter(|i| i.job).map(|i| ("Job", format!("{}-{}", k8s.name, i.name))),
            );
            for (kind, name) in workloads {
                let workload = rendered.object(kind, &name);
                let spec = &workload["spec"]["template"]["spec"];
                let context = format!("{}/{kind} {name}", rendered.name);
                assert_eq!(spec["automountServiceAccountToken"], json!(false), "{context}");
                assert_eq!(
                    spec["securityContext"]["seccompProfile"]["type"],
                    json!("RuntimeDefault"),
                    "{context}"
                );
                assert_eq!(
                    spec["securityContext"]["runAsNonRoot"],
                    json!(k8s.security.run_as_non_root),
                    "{context}"
                );
                for key in ["hostNetwork", "hostPID", "hostIPC"] {
                    assert!(spec.get(key).is_none(), "{context}: {key}");
                }
                if kind == "Job" {
                    assert_eq!(spec["restartPolicy"], json!("Never"), "{context}");
                }
                for (_, container) in containers(&workload["spec"]["template"]) {
                    let security = &container["securityContext"];
                    assert_eq!(
                        security["allowPrivilegeEscalation"],
                        json!(k8s.security.allow_privilege_escalation),
                        "{context}"
                    );
                    assert_eq!(
                        security["readOnlyRootFilesystem"],
                        json!(k8s.security.read_only_root_filesystem),
                        "{context}"
                    );
                    assert_eq!(security["capabilities"], json!({"drop": ["ALL"]}), "{context}");
                    assert!(security.get("privileged").is_none(), "{context}");
                    assert!(
                        container["ports"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .all(|p| p.get("hostPort").is_none())
                    );
                }
            }
            // runAsUser: the built image's uid (no fixture overrides a non-root image's).
            let kind = if k8s.deploy == Deploy::Job { "Job" } else { "Deployment" };
            let workload = rendered.object(kind, &k8s.name);
            let main = &workload["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(
                main["securityContext"].get("runAsUser").cloned().unwrap_or(Value::Null),
                json!(k8s.run_as_user)
            );
            if let ServiceSource::Image(id) = service.source
                && let User::NonRoot { uid, .. } = model.images[id].user
            {
                assert_eq!(k8s.run_as_user, Some(uid), "{}/{}", rendered.name, k8s.name);
            }
        }
    }
    // The repo: every relaxation is ollama's, as written in project.kdl.
    let repo = Rendered::fixture("repo");
    let relaxed: Vec<&str> = repo
        .services()
        .into_iter()
        .filter(|(_, k)| k.is_deployed())
        .filter(|(_, k)| {
            !k.security.run_as_non_root
                || !k.security.read_only_root_filesystem
                || k.security.allow_privilege_escalation
        })
        .map(|(s, _)| s.name.value.as_str())
        .collect();
    assert_eq!(relaxed, ["ollama"]);
    let redis = repo.object("Deployment", "redis");
    assert_eq!(
        redis["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"],
        json!(999)
    );
    // The root image of the tricky fixture runs under its explicit uid.
    let tricky = Rendered::fixture("tricky");
    let job = tricky.object("Job", "fix-perms");
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"], json!(4242));
    assert_eq!(job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"], json!(true));
}

#[test]
fn namespace_enforces_restricted_unless_a_pod_is_relaxed() {
    let repo = Rendered::fixture("repo");
    let labels = &repo.yaml("namespace.yaml")["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], json!("baseline"), "ollama runs as root");
    assert_eq!(labels["pod-security.kubernetes.io/warn"], json!("restricted"));
    let minimal = Rendered::fixture("minimal");
    let labels = &minimal.yaml("namespace.yaml")["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], json!("restricted"));
    assert_eq!(
        minimal.yaml("namespace.yaml")["metadata"]["name"],
        json!("minimal-app"),
        "the project name as a DNS label"
    );
}

/// The policies, read back, against the dependency graph: the namespace denies all
/// ingress; each served Deployment admits exactly the deployed services that depend on it
/// (matching every pod of theirs, init Jobs included) and its `allow-from` namespaces, on
/// exactly its Service's ports; nothing else gets a policy.
#[test]
fn network_policies_admit_exactly_the_dependents_on_the_served_ports() {
    for rendered in Rendered::all() {
        let deny = rendered.object("NetworkPolicy", "default-deny-ingress");
        assert_eq!(deny["spec"]["podSelector"], json!({}), "{}", rendered.name);
        assert_eq!(deny["spec"]["policyTypes"], json!(["Ingress"]));
        assert!(deny["spec"].get("ingress").is_none(), "{}: the default admits nobody", rendered.name);
        let policies = rendered.of_kind("NetworkPolicy");
        let workloads = rendered.workloads();
        let mut served = 0;
        for (index, (_, k8s)) in rendered.services().into_iter().enumerate() {
            let context = format!("{}/{}", rendered.name, k8s.name);
            let has_service =
                rendered.of_kind("Service").iter().any(|s| s["metadata"]["name"] == json!(k8s.name));
            let policy = policies.iter().find(|p| p["metadata"]["name"] == json!(k8s.name));
            let Some(policy) = policy else {
                assert!(!has_service, "{context}: a Service without a policy");
                continue;
            };
            assert!(has_service, "{context}: a policy without a Service");
            served += 1;
            let deployment = rendered.object("Deployment", &k8s.name);
            assert_eq!(
                policy["spec"]["podSelector"]["matchLabels"], deployment["spec"]["selector"]["matchLabels"],
                "{context}"
            );
            let dependents: BTreeSet<String> = rendered
                .services()
                .into_iter()
                .filter(|(s, k)| k.is_deployed() && s.depends_on.contains(&index))
                .map(|(_, k)| k.name.clone())
                .collect();
            let rules = policy["spec"]["ingress"].as_array().cloned().unwrap_or_default();
            let from: Vec<&Value> = rules.iter().flat_map(|r| r["from"].as_array().unwrap().iter()).collect();
            let pods: BTreeSet<String> = from
                .iter()
                .filter_map(|f| f["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str())
                .map(str::to_owned)
                .collect();
            assert_eq!(pods, dependents, "{context}: admitted pods");
            let namespaces: Vec<&str> = from
                .iter()
                .filter_map(|f| f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str())
                .collect();
            assert_eq!(
                namespaces,
                k8s.allow_from.iter().map(String::as_str).collect::<Vec<_>>(),
                "{context}"
            );
            // Every pod of every dependent is admitted: its labels match a podSelector.
            for (_, _, template) in &workloads {
                let name = template["metadata"]["labels"]["app.kubernetes.io/name"].as_str().unwrap();
                assert_eq!(pods.contains(name), dependents.contains(name), "{context}: pods of {name}");
            }
            let service_ports: BTreeSet<u64> = rendered.object("Service", &k8s.name)["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_u64().unwrap())
                .collect();
            for rule in &rules {
                let ports: BTreeSet<u64> =
                    rule["ports"].as_array().unwrap().iter().map(|p| p["port"].as_u64().unwrap()).collect();
                assert_eq!(ports, service_ports, "{context}: ports");
            }
            assert_eq!(rules.is_empty(), dependents.is_empty() && k8s.allow_from.is_empty(), "{context}");
        }
        assert_eq!(
            policies.len(),
            served + 1,
            "{}: one policy per served service and the default",
            rendered.name
        );
    }
    // The fixtures exercise each case: a Job and a Deployment admitted, an external
    // dependency without a policy, namespaces.
    let tricky = Rendered::fixture("tricky");
    let cache = tricky.object("NetworkPolicy", "cache");
    let pods: Vec<&str> = cache["spec"]["ingress"][0]["from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().unwrap())
        .collect();
    assert_eq!(pods, ["yes", "fix-perms"]);
    assert!(tricky.of_kind("NetworkPolicy").iter().all(|p| p["metadata"]["name"] != json!("db")));
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// What `kustomize edit set image` does to the kustomization: every `newTag` becomes `tag`.
fn set_every_image_tag(kustomization: &str, tag: &str) -> String {
    kustomization
        .lines()
        .map(|line| match line.split_once("newTag: ") {
            Some((indent, _)) => format!("{indent}newTag: \"{tag}\""),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A Job cannot be applied again with another image (its pod template is immutable): after
/// a new tag, every Job of a built image must be a new object, named after the new tag,
/// while Deployments, Services and claims keep their names. Built by `kubectl kustomize`
/// itself, the way CI deploys a commit.
#[test]
fn jobs_of_built_images_are_renamed_by_a_new_tag() {
    let sha = "0123456789abcdef0123456789abcdef01234567";
    for rendered in Rendered::all() {
        let jobs: Vec<(String, String, bool)> = rendered
            .services()
            .into_iter()
            .filter(|(_, k)| k.is_deployed())
            .flat_map(|(service, k8s)| {
                let own = (k8s.deploy == Deploy::Job).then(|| {
                    (k8s.name.clone(), k8s.name.clone(), matches!(service.source, ServiceSource::Image(_)))
                });
                let inits = k8s.init.iter().filter(|i| i.job).map(|i| {
                    let name = gscgen::model::init_job_name(&k8s.name, &i.name);
                    (name, i.name.clone(), true)
                });
                own.into_iter().chain(inits).collect::<Vec<_>>()
            })
            .collect();
        if jobs.is_empty() {
            continue;
        }
        let copy = tempfile::tempdir().unwrap();
        let dir = copy.path().join(K8S);
        copy_tree(&rendered.k8s_dir(), &dir);
        let kustomization = dir.join(KUSTOMIZATION);
        let text = fs::read_to_string(&kustomization).unwrap();
        fs::write(&kustomization, set_every_image_tag(&text, sha)).unwrap();
        let built: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&kustomize(&dir))
            .map(|d| serde::Deserialize::deserialize(d).expect("kustomize output is YAML"))
            .collect();
        let names: BTreeSet<(String, String)> = built
            .iter()
            .map(|o| {
                (o["kind"].as_str().unwrap().to_owned(), o["metadata"]["name"].as_str().unwrap().to_owned())
            })
            .collect();
        for (base, container, built_image) in &jobs {
            let context = format!("{}/{base}", rendered.name);
            let job = built
                .iter()
                .find(|o| {
                    o["kind"] == json!("Job")
                        && o["metadata"]["labels"]["app.kubernetes.io/instance"] == json!(base)
                })
                .unwrap_or_else(|| panic!("{context}: no Job"));
            let name = job["metadata"]["name"].as_str().unwrap();
            let containers = job["spec"]["template"]["spec"]["containers"].as_array().unwrap();
            let image =
                containers.iter().find(|c| c["name"] == json!(container)).unwrap()["image"].as_str().unwrap();
            if *built_image {
                assert_eq!(name, format!("{base}-{sha}"), "{context}: named after the new tag");
                assert!(image.ends_with(&format!(":{sha}")), "{context}: {image}");
                assert!(name.len() <= 63, "{context}: {name} is a label value");
            } else {
                assert_eq!(name, base, "{context}: a pre-built image's Job keeps its name");
            }
            assert_eq!(job["spec"]["ttlSecondsAfterFinished"], json!(86_400), "{context}");
        }
        for (kind, name) in rendered.objects().iter().map(|(_, o)| {
            (o["kind"].as_str().unwrap().to_owned(), o["metadata"]["name"].as_str().unwrap().to_owned())
        }) {
            if kind != "Job" {
                assert!(
                    names.contains(&(kind.clone(), name.clone())),
                    "{}: {kind} {name} keeps its name",
                    rendered.name
                );
            }
        }
    }
}

#[test]
fn writable_paths_volumes_and_secrets_are_mounted() {
    for rendered in Rendered::all() {
        for (service, k8s) in rendered.services() {
            if !k8s.is_deployed() {
                continue;
            }
            let kind = if k8s.deploy == Deploy::Job { "Job" } else { "Deployment" };
            let workload = rendered.object(kind, &k8s.name);
            let spec = &workload["spec"]["template"]["spec"];
            let volumes: BTreeMap<String, Value> = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| (v["name"].as_str().unwrap().to_owned(), v.clone()))
                .collect();
            let mounts: BTreeMap<String, String> = spec["containers"][0]["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| {
                    (m["mountPath"].as_str().unwrap().to_owned(), m["name"].as_str().unwrap().to_owned())
                })
                .collect();
            let context = format!("{}/{}", rendered.name, k8s.name);
            let expected: Vec<&str> = k8s.writable.iter().map(String::as_str).collect();
            assert!(expected.contains(&"/tmp"), "{context}: /tmp is always writable");
            for path in &expected {
                let volume = mounts.get(*path).unwrap_or_else(|| panic!("{context}: {path} is not mounted"));
                assert_eq!(volumes[volume]["emptyDir"], json!({}), "{context}: {path}");
            }
            // Named volumes: a claim of the target's, or a scratch `emptyDir`.
            let target = rendered.model.targets.kubernetes.as_ref().unwrap();
            for named in &service.volumes {
                let path = named.target.as_str();
                let volume =
                    &volumes[mounts.get(path).unwrap_or_else(|| panic!("{context}: {path} is not mounted"))];
                match target.storage(&named.name) {
                    Some(ClusterStorage::Claim(claim)) => {
                        assert_eq!(
                            volume["persistentVolumeClaim"]["claimName"],
                            json!(claim.name),
                            "{context}"
                        );
                        let pvc = rendered.object("PersistentVolumeClaim", &claim.name);
                        assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], json!(claim.size));
                        assert_eq!(pvc["spec"]["accessModes"], json!([claim.access_mode()]));
                        if !claim.shared && kind == "Deployment" {
                            assert_eq!(workload["spec"]["strategy"]["type"], json!("Recreate"), "{context}");
                        }
                    }
                    Some(ClusterStorage::Scratch { size_limit: None }) => {
                        assert_eq!(volume["emptyDir"], json!({}), "{context}: {path}")
                    }
                    Some(ClusterStorage::Scratch { size_limit: Some(limit) }) => {
                        assert_eq!(volume["emptyDir"]["sizeLimit"], json!(limit), "{context}: {path}")
                    }
                    None => panic!("{context}: volume {} has no storage", named.name),
                }
            }
            if let ServiceSource::Image(id) = service.source {
                for path in &rendered.model.images[id].writable {
                    assert!(mounts.contains_key(path), "{context}: the image's writable {path}");
                }
            }
            // Secrets read as files: the service's and its inits' (they share the volume).
            let as_files: Vec<&gscgen::model::EnvSecret> = service
                .env_secrets
                .iter()
                .chain(k8s.init.iter().flat_map(|i| &i.env_secrets))
                .filter(|s| s.as_file)
                .collect();
            // (path, Secret, key) of every item of the secrets volume.
            let mut items: BTreeMap<String, (String, String)> = BTreeMap::new();
            if service.secrets.is_empty() && as_files.is_empty() {
                assert!(!mounts.contains_key("/run/secrets"), "{context}");
                assert!(!volumes.contains_key("secrets"), "{context}");
            } else {
                let volume = &volumes[&mounts["/run/secrets"]];
                for source in volume["projected"]["sources"].as_array().unwrap() {
                    let item = &source["secret"]["items"][0];
                    let previous = items.insert(
                        item["path"].as_str().unwrap().to_owned(),
                        (
                            source["secret"]["name"].as_str().unwrap().to_owned(),
                            item["key"].as_str().unwrap().to_owned(),
                        ),
                    );
                    assert!(previous.is_none(), "{context}: one item per path");
                }
                let mut targets: BTreeSet<&str> = service.secrets.iter().map(|s| s.target.as_str()).collect();
                targets.extend(as_files.iter().map(|s| s.key.as_str()));
                assert_eq!(
                    items.keys().map(String::as_str).collect::<BTreeSet<_>>(),
                    targets,
                    "{context}: files at /run/secrets/<target> and /run/secrets/<KEY>"
                );
                for secret in &as_files {
                    assert_eq!(
                        items[&secret.key],
                        (secret.secret.clone(), secret.secret_key.clone()),
                        "{context}: {}",
                        secret.key
                    );
                }
            }
            // Environment: values, secretKeyRefs and `KEY_FILE` paths, in config order.
            let env = spec["containers"][0]["env"].as_array().cloned().unwrap_or_default();
            assert_eq!(env.len(), service.env.len() + service.env_secrets.len(), "{context}");
            for secret in &service.env_secrets {
                if secret.as_file {
                    assert!(
                        env.iter().all(|e| e["name"] != json!(secret.key)),
                        "{context}: no value variable"
                    );
                    let entry = env
                        .iter()
                        .find(|e| e["name"] == json!(format!("{}_FILE", secret.key)))
                        .expect("KEY_FILE");
                    assert_eq!(entry["value"], json!(format!("/run/secrets/{}", secret.key)), "{context}");
                    assert!(entry.get("valueFrom").is_none(), "{context}");
                } else {
                    let entry = env.iter().find(|e| e["name"] == json!(secret.key)).expect("env-secret");
                    assert_eq!(
                        entry["valueFrom"]["secretKeyRef"],
                        json!({"name": secret.secret, "key": secret.secret_key}),
                        "{context}"
                    );
                }
            }
            // Every container that reads a file secret mounts the volume, read-only.
            let inits = spec["initContainers"].as_array().cloned().unwrap_or_default();
            for container in spec["containers"].as_array().unwrap().iter().chain(&inits) {
                let reads_file = container["env"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|e| e["value"].as_str().is_some_and(|v| v.starts_with("/run/secrets/")));
                if reads_file {
                    let mount = container["volumeMounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|m| m["mountPath"] == json!("/run/secrets"))
                        .unwrap_or_else(|| panic!("{context}: {} mounts no secrets", container["name"]));
                    assert_eq!(mount["readOnly"], json!(true), "{context}");
                }
            }
        }
    }
    // `$` is doubled where the kubelet expands `$(VAR)`: the container sees the value as written.
    let tricky = Rendered::fixture("tricky");
    let yes = tricky.object("Deployment", "yes");
    let env = yes["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap().clone();
    let dollar = env.iter().find(|e| e["name"] == json!("DOLLAR")).unwrap();
    assert_eq!(dollar["value"], json!("$$(x) $${Y}"));
    let octal = env.iter().find(|e| e["name"] == json!("OCTAL")).unwrap();
    assert_eq!(octal["value"], json!("0755"));
}

#[test]
fn oneshot_services_and_init_jobs_become_jobs_and_inits_init_containers() {
    let repo = Rendered::fixture("repo");
    for name in ["startup-orchestrator", "transform"] {
        let job = repo.object("Job", name);
        assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], json!("Never"));
        assert_eq!(job["metadata"]["labels"]["app.kubernetes.io/component"], json!("job"));
    }
    // The seed's migrations: an init container of insights-api, reading the DSN as a file
    // of the pod's secrets volume.
    let api = repo.object("Deployment", "insights-api");
    let init = &api["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(init["name"], json!("db-migrations"));
    assert_eq!(init["env"][0], json!({"name": "WAREHOUSE_DSN_FILE", "value": "/run/secrets/WAREHOUSE_DSN"}));
    assert!(
        init["volumeMounts"].as_array().unwrap().iter().any(|m| m["mountPath"] == json!("/run/secrets")),
        "{init}"
    );
    assert!(init["resources"]["limits"]["memory"].is_string(), "the seed's init container had no limits");
    // `job=#true`: a Job named <service>-<init>, not an init container.
    let tricky = Rendered::fixture("tricky");
    let job = tricky.object("Job", "yes-on");
    assert_eq!(job["metadata"]["labels"]["app.kubernetes.io/component"], json!("init"));
    assert_eq!(job["spec"]["template"]["spec"]["containers"][0]["name"], json!("on"));
    let yes = tricky.object("Deployment", "yes");
    let inits: Vec<&Value> =
        yes["spec"]["template"]["spec"]["initContainers"].as_array().unwrap().iter().collect();
    assert_eq!(inits.len(), 1);
    assert_eq!(inits[0]["name"], json!("wait-for-db"));
}

#[test]
fn services_not_deployed_render_nothing_and_are_listed() {
    for rendered in Rendered::all() {
        let kustomization = rendered.text(KUSTOMIZATION);
        let names: BTreeSet<String> = rendered
            .objects()
            .iter()
            .map(|(_, o)| {
                o["metadata"]["labels"]["app.kubernetes.io/instance"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        for (service, k8s) in rendered.services() {
            match &k8s.deploy {
                Deploy::External { reason } => {
                    assert!(!names.contains(&k8s.name), "{}: {}", rendered.name, k8s.name);
                    assert!(kustomization.contains(&format!("#   {} (external: {reason})", k8s.name)));
                }
                Deploy::DevOnly => {
                    assert!(service.profiles.iter().all(|p| p == "dev"));
                    assert!(!names.contains(&k8s.name), "{}: {}", rendered.name, k8s.name);
                    assert!(kustomization.contains(&format!("#   {} (development only", k8s.name)));
                }
                Deploy::Deployment | Deploy::Job => assert!(names.contains(&k8s.name), "{}", k8s.name),
            }
        }
    }
    let repo = Rendered::fixture("repo");
    let external: Vec<&str> = repo
        .services()
        .into_iter()
        .filter(|(_, k)| !k.is_deployed())
        .map(|(s, _)| s.name.value.as_str())
        .collect();
    assert_eq!(external, ["warehouse", "prometheus", "grafana", "pypi-cache"]);
}

#[test]
fn names_are_dns_labels_and_labels_are_the_recommended_set() {
    let is_label = |s: &str| {
        (1..=63).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    for rendered in Rendered::all() {
        for (file, object) in rendered.objects() {
            let name = object["metadata"]["name"].as_str().unwrap();
            assert!(is_label(name), "{}/{file}: {name}", rendered.name);
            let labels = object["metadata"]["labels"].as_object().unwrap();
            assert_eq!(labels["app.kubernetes.io/managed-by"], json!("gscgen"));
            assert_eq!(labels["app.kubernetes.io/part-of"], json!(rendered.model.project.name));
            if object["kind"] != json!("Namespace") {
                for key in ["name", "instance", "component"] {
                    assert!(
                        labels.contains_key(&format!("app.kubernetes.io/{key}")),
                        "{}/{file}: {key}",
                        rendered.name
                    );
                }
                if object["kind"] == json!("Job") {
                    // A Job's name is its instance, plus its image's tag when it is built.
                    let instance = labels["app.kubernetes.io/instance"].as_str().unwrap();
                    let tag = format!("{instance}-{}", rendered.tag());
                    assert!(name == instance || name == tag, "{}/{file}: {name}", rendered.name);
                } else {
                    assert_eq!(labels["app.kubernetes.io/instance"], json!(name));
                }
            }
        }
        for (_, _, pod) in rendered.workloads() {
            let mut seen = BTreeSet::new();
            for (_, container) in containers(&pod) {
                let name = container["name"].as_str().unwrap();
                assert!(
                    is_label(name) && seen.insert(name.to_owned()),
                    "{}: container {name}",
                    rendered.name
                );
            }
            for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
                assert!(is_label(volume["name"].as_str().unwrap()));
            }
        }
    }
    // The seed's `api_ingestor` becomes `api-ingestor`.
    let repo = Rendered::fixture("repo");
    repo.object("Deployment", "api-ingestor");
}

// ---------------------------------------------------------------------------------------
// Compile-time rules (tests/invalid/ holds one file per rule with its snapshot)
// ---------------------------------------------------------------------------------------

const HEAD: &str = "project demo { python \"3.12\"; }\n";

#[test]
fn min_version_is_checked_against_the_validated_range() {
    for (version, ok) in
        [("1.25", true), ("1.37", true), ("1.24", false), ("1.38", false), ("2.0", false), ("1.3x", false)]
    {
        let kdl = format!(
            "{HEAD}targets {{ kubernetes {{ min-version \"{version}\"; }} }}\nservice web from=\"nginx:1.27\"\n"
        );
        let codes = codes(&kdl);
        assert_eq!(codes.contains(&"gscgen::kubernetes::version".to_owned()), !ok, "{version}: {codes:?}");
    }
}

#[test]
fn workload_names_collide_across_jobs() {
    let kdl = format!(
        "{HEAD}targets {{ requirements; docker; kubernetes; }}\ngroup base {{ require \"x\"; }}\n\
         image app {{ groups base; cmd python; }}\n\
         service web image=app {{ k8s {{ init migrate image=app job=#true; }} }}\n\
         service web-migrate image=app {{ oneshot; }}\n"
    );
    assert!(codes(&kdl).contains(&"gscgen::name::collision".to_owned()), "{:?}", codes(&kdl));
}

/// A web image shared by the web server, a worker and a beat scheduler (issue 18): only the
/// service that serves the image's `expose`d port gets it as a container port, a
/// Kubernetes Service and a TCP readiness probe. The derived rule: a service serves them
/// when it runs the image's own command; `serves` says so where that is wrong.
#[test]
fn only_serving_services_get_the_image_ports_and_a_service() {
    let k = "k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; }";
    let kdl = format!(
        "{HEAD}targets {{ requirements; docker; kubernetes; }}\ngroup base {{ require \"x\"; }}\n\
         image web {{ groups base; expose 8000; cmd python \"-m\" web; }}\n\
         service web image=web {{ {k} }}\n\
         service worker image=web {{ cmd python \"-m\" worker; {k} }}\n\
         service beat image=web {{ cmd python \"-m\" beat; {k} }}\n\
         service admin image=web {{ cmd python \"-m\" admin; serves #true; {k} }}\n\
         service metrics image=web {{ cmd python \"-m\" exporter; port 9100; {k} }}\n"
    );
    let rendered = Rendered::new("serving", &kdl);
    let services: Vec<String> = rendered
        .of_kind("Service")
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(services, ["admin", "metrics", "web"]);
    let ports = |name: &str| {
        let deployment = rendered.object("Deployment", name);
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let ports: Vec<u64> = container["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["containerPort"].as_u64().unwrap())
            .collect();
        (ports, container.get("readinessProbe").is_some())
    };
    assert_eq!(ports("web"), (vec![8000], true));
    assert_eq!(ports("admin"), (vec![8000], true));
    assert_eq!(ports("metrics"), (vec![9100], true), "its own port only: its own cmd does not serve 8000");
    for name in ["worker", "beat"] {
        assert_eq!(ports(name), (Vec::new(), false), "{name} serves nothing");
    }
    let served: Vec<bool> = rendered.model.services.iter().map(|s| s.serves).collect();
    assert_eq!(served, [true, false, false, true, false]);

    // `serves` where the image exposes nothing is refused.
    let conflict = format!(
        "{HEAD}targets {{ requirements; docker; }}\ngroup base {{ require \"x\"; }}\n\
         image quiet {{ groups base; }}\nservice a from=\"nginx:1.27\" {{ port 80; serves #false; }}\n\
         service b image=quiet {{ serves #true; }}\n"
    );
    assert_eq!(codes(&conflict), ["gscgen::service::serves-conflict", "gscgen::service::serves-conflict"]);
    // An HTTP health check on a port the worker does not serve says why.
    let probe = format!(
        "{HEAD}targets {{ requirements; docker; kubernetes; }}\ngroup base {{ require \"x\"; }}\n\
         image web {{ groups base; expose 8000; health http=\"/health\" port=8000; }}\n\
         service web image=web\nservice worker image=web {{ cmd celery worker; }}\n"
    );
    assert!(codes(&probe).contains(&"gscgen::kubernetes::probe-port".to_owned()), "{:?}", codes(&probe));
    assert_eq!(codes(&probe).iter().filter(|c| c.ends_with("probe-port")).count(), 1, "only the worker");
}

#[test]
fn the_kubernetes_target_is_opt_in() {
    let kdl =
        format!("{HEAD}service web from=\"nginx:1.27\" {{ k8s {{ autoscale min=1 max=2 cpu=50; }} }}\n");
    let (model, diagnostics) = support::check_source(&Source::new("project.kdl", kdl));
    assert!(!diagnostics.has_errors(), "k8s rules run only with the target on");
    let model = model.unwrap();
    assert!(model.targets.kubernetes.is_none());
    assert!(model.services[0].k8s.is_none());
}

// ---------------------------------------------------------------------------------------
// Patches (`kubernetes { patch <kind> <name> { … } }`)
// ---------------------------------------------------------------------------------------

/// The fixture with patches. Not in [`FIXTURES`]: its `k8s/patches/` files are partial
/// objects, which the per-file checks (and checkov) would read as whole ones; its built
/// output is checked below instead.
const PATCHED: &str = "patched";

/// Where the target writes an object: `namespace.yaml`, else `<name>.<kind>.yaml`.
fn object_file(object: &gscgen::rules::k8s_objects::Object) -> String {
    object.kind.file_name(&object.name)
}

/// Differences between the model's [`Shape`] of an object and its rendered YAML.
fn shape_differences(
    shape: &gscgen::rules::k8s_objects::Shape,
    yaml: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    use gscgen::rules::k8s_objects::Shape;
    match shape {
        Shape::Mapping(entries) => {
            let Some(map) = yaml.as_object() else {
                out.push(format!("{path}: the model says a mapping, rendered {yaml}"));
                return;
            };
            for (key, child) in entries {
                let child_path = format!("{path}.{key}");
                let rendered = !matches!(child, Shape::Owned { rendered: false, .. });
                match (map.get(key), rendered) {
                    (Some(value), true) => {
                        if let Shape::Keyed(items) = child {
                            keyed_differences(key, items, value, &child_path, out);
                        } else {
                            shape_differences(child, value, &child_path, out);
                        }
                    }
                    (None, false) => {}
                    (Some(_), false) => out.push(format!("{child_path}: rendered, the model says not")),
                    (None, true) => out.push(format!("{child_path}: in the model, not rendered")),
                }
            }
            for key in map.keys().filter(|k| !entries.iter().any(|(e, _)| e == *k)) {
                out.push(format!("{path}.{key}: rendered, not in the model's shape"));
            }
        }
        Shape::Keyed(_) => out.push(format!("{path}: a keyed list outside a mapping")),
        Shape::Value | Shape::Owned { .. } => {}
    }
}

fn keyed_differences(
    field: &str,
    items: &[(String, gscgen::rules::k8s_objects::Shape)],
    yaml: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let list = gscgen::rules::k8s_objects::keyed_list(field)
        .unwrap_or_else(|| panic!("{path}: `{field}` is not a keyed list"));
    let Some(elements) = yaml.as_array() else {
        out.push(format!("{path}: the model says a list, rendered {yaml}"));
        return;
    };
    let rendered: Vec<&str> = elements.iter().map(|e| e[list.merge_key].as_str().unwrap_or("?")).collect();
    let modelled: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
    if rendered != modelled {
        out.push(format!("{path}: rendered {rendered:?}, the model says {modelled:?}"));
        return;
    }
    for ((key, item), element) in items.iter().zip(elements) {
        shape_differences(item, element, &format!("{path}[{key}]"), out);
    }
}

/// Resolve checks patches against a shape derived from the model (it never reads rendered
/// text): that shape must be exactly what the templates render, for every fixture.
#[test]
fn object_shapes_from_the_model_match_the_rendered_objects() {
    let mut rendered = Rendered::all();
    rendered.push(Rendered::fixture(PATCHED));
    for fixture in &rendered {
        let objects = gscgen::rules::k8s_objects::objects(&fixture.model);
        let mut files: Vec<String> = objects.iter().map(object_file).collect();
        files.sort();
        let mut rendered_files: Vec<String> =
            fixture.files().into_iter().filter(|f| f.ends_with(".yaml") && f != KUSTOMIZATION).collect();
        rendered_files.sort();
        assert_eq!(files, rendered_files, "{}: one object per file", fixture.name);
        let mut differences = Vec::new();
        for object in &objects {
            let yaml = fixture.yaml(&object_file(object));
            shape_differences(
                &object.shape,
                &yaml,
                &format!("{}/{}", fixture.name, object_file(object)),
                &mut differences,
            );
        }
        assert!(differences.is_empty(), "{differences:#?}");
    }
}

/// Whether `built` holds everything of `original`: every key with a value that holds the
/// original's, every list element in some element of the built list (patches add elements).
fn holds(built: &Value, original: &Value) -> bool {
    match (built, original) {
        (Value::Object(b), Value::Object(o)) => {
            o.iter().all(|(k, v)| b.get(k).is_some_and(|bv| holds(bv, v)))
        }
        (Value::Array(b), Value::Array(o)) => o.iter().all(|v| b.iter().any(|bv| holds(bv, v))),
        _ => built == original,
    }
}

#[test]
fn patches_render_as_strategic_merge_patches_that_kustomize_applies_and_that_validate() {
    let patched = Rendered::fixture(PATCHED);
    // The files: one per patch, listed by the kustomization in config order; a snapshot.
    let dir = patched.k8s_dir().join("patches");
    let mut files: Vec<String> =
        fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(
        files,
        ["api-migrate.job.yaml", "api.deployment.yaml", "api.service.yaml", "patched.namespace.yaml"]
    );
    let kustomization = patched.yaml(KUSTOMIZATION);
    assert_eq!(
        kustomization["patches"],
        json!([
            {"path": "patches/patched.namespace.yaml"},
            {"path": "patches/api.deployment.yaml"},
            {"path": "patches/api.service.yaml"},
            {"path": "patches/api-migrate.job.yaml"},
        ])
    );
    let mut combined = format!("==== {K8S}/{KUSTOMIZATION} ====\n{}", patched.text(KUSTOMIZATION));
    for file in &files {
        let text = fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.starts_with("# Generated by gscgen from project.kdl: do not edit."), "{file}");
        assert!(!text.contains('\r') && !text.contains(" \n") && text.ends_with('\n'), "{file}");
        // YAML 1.1 and 1.2 readers agree on every patch too.
        let yaml: Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(pyyaml(&dir.join(file)), yaml, "{file}");
        combined.push_str(&format!("==== {K8S}/patches/{file} ====\n{text}"));
    }
    insta::assert_snapshot!(PATCHED, combined);
    let output = run(support::tool("yamllint")
        .args(["-c"])
        .arg(support::repo().join(".yamllint.yaml"))
        .args(["-f", "parsable"])
        .arg(patched.k8s_dir()));
    assert!(output.status.success(), "{}", support::stdout(&output));

    // kustomize applies them: the patched fields are in the built objects...
    let built = kustomize(&patched.k8s_dir());
    let documents: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&built)
        .map(|d| serde::Deserialize::deserialize(d).expect("kustomize output is YAML"))
        .collect();
    assert_eq!(documents.len(), patched.objects().len(), "patches add no object");
    let find = |kind: &str, name: &str| {
        documents
            .iter()
            .find(|d| {
                // A Job also by its instance: its name carries its image's tag.
                let instance =
                    kind == "Job" && d["metadata"]["labels"]["app.kubernetes.io/instance"] == json!(name);
                d["kind"] == json!(kind) && (d["metadata"]["name"] == json!(name) || instance)
            })
            .unwrap_or_else(|| panic!("no {kind} {name} in the built output"))
            .clone()
    };
    let deployment = find("Deployment", "api");
    assert_eq!(deployment["metadata"]["annotations"]["example.com/owner"], json!("team-a"));
    assert_eq!(deployment["spec"]["revisionHistoryLimit"], json!(3));
    let template = &deployment["spec"]["template"];
    assert_eq!(template["metadata"]["annotations"]["prometheus.io/scrape"], json!("true"), "a string");
    let pod = &template["spec"];
    assert_eq!(pod["priorityClassName"], json!("high"));
    assert_eq!(pod["terminationGracePeriodSeconds"], json!(60));
    assert_eq!(
        pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"],
        json!("api")
    );
    let container = &pod["containers"][0];
    assert_eq!(pod["containers"].as_array().unwrap().len(), 1, "a patch adds no container");
    assert_eq!(container["startupProbe"]["httpGet"], json!({"path": "/health", "port": 8000}));
    assert_eq!(container["envFrom"][0]["configMapRef"], json!({"name": "api-settings", "optional": true}));
    let mounts = container["volumeMounts"].as_array().unwrap();
    assert!(mounts.contains(&json!({"mountPath": "/etc/api", "name": "settings", "readOnly": true})));
    assert!(mounts.contains(&json!({"mountPath": "/tmp", "name": "tmp"})), "gscgen's mount is kept");
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(
        volumes
            .contains(&json!({"name": "settings", "configMap": {"name": "api-settings", "optional": true}}))
    );
    let service = find("Service", "api");
    assert_eq!(service["spec"]["type"], json!("LoadBalancer"));
    assert_eq!(service["spec"]["externalTrafficPolicy"], json!("Local"));
    let job = find("Job", "api-migrate");
    assert_eq!(job["spec"]["backoffLimit"], json!(2));
    assert_eq!(job["spec"]["activeDeadlineSeconds"], json!(600));
    let namespace = find("Namespace", "patched");
    assert_eq!(namespace["metadata"]["annotations"]["example.com/team"], json!("platform"));
    // ...and everything gscgen rendered is still there, unchanged (patches only add), but
    // the one value a patch may replace here (the Service's type).
    for (file, mut original) in patched.objects() {
        let kind = original["kind"].as_str().unwrap().to_owned();
        let name = original["metadata"]["name"].as_str().unwrap().to_owned();
        if kind == "Service" {
            original["spec"]["type"] = json!("LoadBalancer");
        }
        assert!(holds(&find(&kind, &name), &original), "{file}: a rendered field changed");
    }

    // The patched output passes the validators, at the fixture's oldest and the newest version.
    let path = patched.out().join("kustomized.yaml");
    fs::write(&path, &built).unwrap();
    for version in [patched.min_version(), NEWEST.to_owned()] {
        validate(&version, std::slice::from_ref(&path));
    }
}

/// A config with one Deployment `web` (port 8080, a `/data` volume) and `patch` blocks.
fn patch_config(patches: &str) -> String {
    format!(
        "{HEAD}targets {{ kubernetes {{ volume data scratch=#true; {patches} }} }}\n\
         service web from=\"nginx:1.27\" {{ port 8080; volume data \"/data\"; k8s {{ requests cpu=\"50m\"; autoscale min=1 max=3 cpu=80; }} }}\n\
         service db from=\"postgres:16\" {{ k8s {{ external \"managed\"; }} }}\n"
    )
}

fn pod_patch(spec: &str) -> String {
    format!("patch deployment web {{ spec {{ template {{ spec {{ {spec} }} }} }} }}")
}

#[test]
fn patch_rules() {
    let ok = [
        // New fields and subtrees anywhere gscgen renders a mapping.
        pod_patch(
            "priorityClassName high; affinity { podAntiAffinity { preferredDuringSchedulingIgnoredDuringExecution { - { weight 1; podAffinityTerm { topologyKey \"kubernetes.io/hostname\"; } } } } }",
        ),
        pod_patch("containers { web { startupProbe { tcpSocket { port 8080; }; }; }; }"),
        // A new volume and its mount; a value no option controls.
        pod_patch(
            "volumes { cfg { configMap { name cfg; }; }; }; containers { web { volumeMounts { \"/etc/cfg\" { name cfg; }; }; }; }",
        ),
        pod_patch("automountServiceAccountToken #true"),
        "patch service web { spec { type NodePort; }; }".to_owned(),
        "patch hpa web { spec { behavior { scaleDown { stabilizationWindowSeconds 300; }; }; }; }".to_owned(),
        "patch namespace demo { metadata { annotations { owner \"x\"; }; labels { team a; }; }; }".to_owned(),
        // Sequences: several arguments, or `-` items.
        pod_patch(
            "imagePullSecrets { - { name regcred; }; }; containers { web { lifecycle { preStop { exec { command sleep \"5\"; }; }; }; }; }",
        ),
    ];
    for patch in ok {
        let codes = codes(&patch_config(&patch));
        assert!(codes.is_empty(), "{patch}: {codes:?}");
    }
    let refused = [
        ("patch deployment db { spec { paused #true; }; }", "gscgen::kubernetes::patch-target"),
        ("patch Deployment web { spec { paused #true; }; }", "gscgen::kubernetes::patch-target"),
        ("patch pdb web { spec { maxUnavailable 1; }; }", "gscgen::kubernetes::patch-target"),
        ("patch deployment web { spec { replicas 3; }; }", "gscgen::kubernetes::patch-owned"),
        // The container's `command` is the service's `entrypoint` (issue 18).
        (
            "patch deployment web { spec { template { spec { containers { web { command sh \"-c\" \"exec nginx\"; }; }; }; }; }; }",
            "gscgen::kubernetes::patch-owned",
        ),
        (
            "patch deployment web { metadata { labels { \"app.kubernetes.io/name\" x; }; }; }",
            "gscgen::kubernetes::patch-owned",
        ),
        ("patch deployment web { metadata { namespace other; }; }", "gscgen::kubernetes::patch-owned"),
        ("patch service web { spec { ports { - { port 80; }; }; }; }", "gscgen::kubernetes::patch-owned"),
        ("patch hpa web { spec { maxReplicas 9; }; }", "gscgen::kubernetes::patch-owned"),
        ("patch deployment web { spec { template \"x\"; }; }", "gscgen::kubernetes::patch-path"),
        ("patch service web { spec { type { x y; }; }; }", "gscgen::kubernetes::patch-path"),
    ];
    let pod_refused = [
        ("containers { web { image \"nginx:latest\"; }; }", "gscgen::kubernetes::patch-owned"),
        ("containers { web { resources { limits { cpu \"1\"; }; }; }; }", "gscgen::kubernetes::patch-owned"),
        (
            "containers { web { securityContext { capabilities { add NET_ADMIN; }; }; }; }",
            "gscgen::kubernetes::patch-owned",
        ),
        ("containers { web { env { - { name X; value y; }; }; }; }", "gscgen::kubernetes::patch-owned"),
        ("securityContext { runAsNonRoot #false; }", "gscgen::kubernetes::patch-owned"),
        ("hostNetwork #true", "gscgen::kubernetes::patch-owned"),
        ("initContainers { wait { image busybox; }; }", "gscgen::kubernetes::patch-owned"),
        ("volumes { tmp { emptyDir { medium Memory; }; }; }", "gscgen::kubernetes::patch-owned"),
        ("volumes { volume-data { emptyDir { medium Memory; }; }; }", "gscgen::kubernetes::patch-owned"),
        (
            "containers { web { volumeMounts { \"/data\" { name x; }; }; }; }",
            "gscgen::kubernetes::patch-owned",
        ),
        ("containers { sidecar { image envoy; }; }", "gscgen::kubernetes::patch-path"),
        ("containers { - { name web; }; }", "gscgen::kubernetes::patch-path"),
        ("containers { web \"x\"; }", "gscgen::kubernetes::patch-path"),
        ("volumes { cfg { name cfg; configMap { name cfg; }; }; }", "gscgen::kubernetes::patch-path"),
        ("containers { web { startupProbe #null; }; }", "gscgen::config::wrong-type"),
        ("containers { web { startupProbe { periodSeconds 1.5; }; }; }", "gscgen::config::wrong-type"),
        ("containers { web { startupProbe; }; }", "gscgen::config::missing-argument"),
        (
            "containers { web { startupProbe { exec { command sh { - x; }; }; }; }; }",
            "gscgen::config::unexpected-children",
        ),
        (
            "containers { web { startupProbe { exec { command { - sh; x y; }; }; }; }; }",
            "gscgen::config::invalid-value",
        ),
        ("containers { web { startupProbe periodSeconds=1; }; }", "gscgen::config::unknown-property"),
    ];
    for (patch, code) in refused
        .into_iter()
        .map(|(p, c)| (p.to_owned(), c))
        .chain(pod_refused.into_iter().map(|(p, c)| (pod_patch(p), c)))
    {
        let codes = codes(&patch_config(&patch));
        assert_eq!(codes, [code], "{patch}");
    }
    // Two patches of one object: one block.
    let twice = format!("{}; {}", pod_patch("priorityClassName a"), pod_patch("priorityClassName b"));
    assert_eq!(codes(&patch_config(&twice)), ["gscgen::config::duplicate-node"]);
    // The help names the option that owns a field, and the Kubernetes spelling of a kind.
    let (_, diagnostics) = support::check_source(&Source::new(
        "project.kdl",
        patch_config(
            "patch Deployment web { spec { paused #true; }; }; patch deployment web { spec { replicas 2; }; }",
        ),
    ));
    let helps: Vec<String> = diagnostics.iter().filter_map(|d| d.help.clone()).collect();
    assert!(helps.iter().any(|h| h.starts_with("write `deployment`")), "{helps:?}");
    assert!(helps.iter().any(|h| h.contains("`k8s { replicas … }`")), "{helps:?}");
}
