//! Plain images (issue 18): `image NAME from="…"` is built FROM a pre-built image in the same
//! graph as the images of the shared base, and depends on nothing of the base. The fixture
//! (tests/fixtures/plain/) has one image of the base (`web`) and two plain ones (`proxy`,
//! `cache`), with every target on. Each test reads the rendered output back, or hands it
//! to the validator of its target.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/plain";

/// The fixture's project folder, copied with its sources and rendered there.
fn rendered() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::docker::copy_tree(&support::repo().join(FIXTURE), dir.path());
    let output = support::run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "render: {}", support::stderr(&output));
    dir
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join("generated").join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dockerfile(dir: &Path, image: &str) -> PathBuf {
    dir.join("generated/compose/dockerfiles").join(format!("Dockerfile.{image}"))
}

#[test]
fn plain_dockerfiles_are_one_stage_from_their_image_and_hadolint_clean() {
    let dir = rendered();
    let proxy = std::fs::read_to_string(dockerfile(dir.path(), "proxy")).unwrap();
    let froms: Vec<&str> = proxy.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms, ["FROM nginx:1.27.2 AS runtime"]);
    assert!(!proxy.contains("BASE_"), "no base argument:\n{proxy}");
    assert!(proxy.contains("\nUSER 101:101\n"), "{proxy}");
    assert!(proxy.contains("\nCOPY proxy/default.conf /etc/nginx/conf.d/default.conf\n"), "{proxy}");
    assert!(proxy.contains("chown 101:101 /var/cache/nginx /var/run/nginx"), "{proxy}");
    let cache = std::fs::read_to_string(dockerfile(dir.path(), "cache")).unwrap();
    // No `user`: the image keeps redis's own user, so no USER line and no WORKDIR.
    assert!(!cache.contains("USER") && !cache.contains("WORKDIR"), "{cache}");
    assert!(cache.contains("HEALTHCHECK CMD [\"redis-cli\", \"ping\"]"), "{cache}");
    insta::assert_snapshot!(
        "plain_dockerfiles",
        format!("==== Dockerfile.proxy ====\n{proxy}\n==== Dockerfile.cache ====\n{cache}")
    );
    let output = support::tool("hadolint")
        .args(["--no-color", "--failure-threshold", "style"])
        .args(["web", "proxy", "cache"].map(|i| dockerfile(dir.path(), i)))
        .output()
        .unwrap();
    let text = format!("{}{}", support::stdout(&output), support::stderr(&output));
    assert!(output.status.success() && text.trim().is_empty(), "hadolint:\n{text}");
}

#[test]
fn bake_builds_plain_images_without_the_base() {
    let dir = rendered();
    let output = support::tool("docker-buildx")
        .args(["bake", "--file", "generated/scripts/docker-bake.json", "--print"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "bake --print: {}", support::stderr(&output));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    for plain in ["proxy", "cache"] {
        let target = &printed["target"][plain];
        assert_eq!(target["target"], "runtime", "{target}");
        assert!(target.get("contexts").is_none(), "{plain} needs no base context: {target}");
        assert!(target.get("args").is_none(), "{plain} takes no base argument: {target}");
    }
    let web = &printed["target"]["web"];
    assert_eq!(web["contexts"]["plain-base"], "target:base-runtime", "{web}");
}

#[test]
fn the_workflow_builds_plain_images_in_a_job_that_needs_no_base() {
    let dir = rendered();
    let path = dir.path().join("generated/.github/workflows/build.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let workflow: Value = serde_yaml_ng::from_str(&text).unwrap();
    let job = &workflow["jobs"]["plain-images"];
    assert_eq!(job["needs"], "changes", "the plain job needs the changes job only: {job}");
    assert!(text.contains("fromJSON(needs.changes.outputs.plain_matrix)"));
    assert_eq!(workflow["jobs"]["images"]["needs"], serde_json::json!(["changes", "base"]));

    // The changes job's script, as bash runs it on the runner.
    let script = workflow["jobs"]["changes"]["steps"][1]["run"].as_str().expect("the changes script");
    let file = dir.path().join("changes.sh");
    std::fs::write(&file, script).unwrap();
    let output =
        support::tool("shellcheck").args(["--shell=bash", "--severity=style"]).arg(&file).output().unwrap();
    assert!(output.status.success(), "shellcheck: {}", support::stdout(&output));
    for (tool, args) in [("actionlint", vec![]), ("zizmor", vec!["--offline"])] {
        let output = support::tool(tool).args(args).arg(&path).output().unwrap();
        assert!(output.status.success(), "{tool}: {}{}", support::stdout(&output), support::stderr(&output));
    }
}

#[test]
fn compose_and_kubernetes_accept_plain_images() {
    let dir = rendered();
    let compose = read(dir.path(), "docker-compose.yml");
    let parsed: Value = serde_yaml_ng::from_str(&compose).unwrap();
    let build = &parsed["services"]["proxy"]["build"];
    assert_eq!(build["dockerfile"], "generated/compose/dockerfiles/Dockerfile.proxy", "{build}");
    assert!(build.get("args").is_none(), "no base argument: {build}");
    let home = tempfile::tempdir().unwrap();
    let output = support::tool("docker-compose")
        .args(["-f", "generated/docker-compose.yml", "-f", "generated/docker-compose.prod.yml"])
        .args(["--profile", "*", "config", "-q"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "docker compose config: {}", support::stderr(&output));
    let k8s = dir.path().join("generated/k8s");
    let files: Vec<PathBuf> = std::fs::read_dir(&k8s)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("kustomization.yaml"))
        .collect();
    let output = support::tool("kubernetes-validate")
        .args(["--strict", "-k", "1.25.0", "--quiet"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubernetes-validate: {}{}",
        support::stdout(&output),
        support::stderr(&output)
    );
    // The proxy runs as the uid its image names; the cache keeps its image's user, so only
    // the service's own `run-as-user` gives the pod a uid.
    let proxy = read(dir.path(), "k8s/proxy.deployment.yaml");
    assert!(proxy.contains("runAsUser: 101"), "{proxy}");
    let cache = read(dir.path(), "k8s/cache.deployment.yaml");
    assert!(cache.contains("runAsUser: 999"), "{cache}");
    let kustomization = read(dir.path(), "k8s/kustomization.yaml");
    assert!(
        kustomization.contains("plain-proxy") && kustomization.contains("plain-cache"),
        "{kustomization}"
    );
}

fn affected(dir: &Path, file: &str) -> Vec<String> {
    let output = support::run_in(dir, &["affected", "--format", "json", "--files", file]);
    assert_eq!(output.status.code(), Some(0), "affected: {}", support::stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn affected_follows_copied_files_not_requirements() {
    let dir = rendered();
    assert_eq!(affected(dir.path(), "proxy/default.conf"), ["proxy"]);
    assert_eq!(affected(dir.path(), "cache/redis.conf"), ["cache"]);
    assert_eq!(affected(dir.path(), "generated/requirements/web.txt"), ["web"]);
    assert_eq!(affected(dir.path(), "generated/compose/dockerfiles/Dockerfile.base"), ["web"]);
}

#[test]
fn what_needs_the_base_is_refused() {
    let base = "project demo { python \"3.12\" }\ngroup g { require \"flask\" }\n";
    for body in [
        "groups g",
        "preload \"python\" \"-c\" \"1\"",
        "build-packages gcc",
        "runtime-packages curl",
        "health http=\"/\" port=80",
    ] {
        let kdl = format!("{base}image p from=\"nginx:1.27.2\" {{\n    {body}\n}}\nservice p image=p\n");
        assert!(support::codes(&kdl).contains(&"gscgen::image::needs-base".to_owned()), "{body}");
    }
    let kdl = format!("{base}image p from=\"nginx\" {{\n}}\nservice p image=p\n");
    assert!(support::codes(&kdl).contains(&"gscgen::image::unpinned".to_owned()));
    let kdl = format!(
        "{base}image p from=\"nginx:latest\" unpinned=\"upstream has no tags\" {{\n}}\nservice p image=p\n"
    );
    assert!(!support::codes(&kdl).contains(&"gscgen::image::unpinned".to_owned()));
    let kdl = format!(
        "{base}image p {{\n    groups g\n}}\nimage q unpinned=\"x\" {{\n    groups g\n}}\nservice p image=p\nservice q image=q\n"
    );
    assert!(support::codes(&kdl).contains(&"gscgen::config::invalid-value".to_owned()));
    // Without a user, Kubernetes cannot be told the uid: a warning, unless a uid is given.
    let warned = |image: &str, service: &str| {
        let kdl = format!(
            "project demo {{ python \"3.12\" }}\ntargets {{\n    requirements\n    docker\n    kubernetes\n}}\n\
             image c from=\"redis:7.4.1\" {{\n{image}}}\nservice c image=c {{\n{service}}}\n"
        );
        support::codes(&kdl).contains(&"gscgen::kubernetes::unknown-image-user".to_owned())
    };
    assert!(warned("", ""));
    assert!(!warned("    user uid=999\n", ""));
    assert!(!warned("", "    user 999\n"));
    assert!(!warned("", "    k8s {\n        security run-as-user=999\n    }\n"));
    assert!(!warned("", "    k8s {\n        security run-as-non-root=#false\n    }\n"));
    // Its copy sources are checked against `.dockerignore` like any image's.
    let kdl = format!(
        "{base}image p from=\"nginx:1.27.2\" {{\n    copy \"docs/index.html\" \"/usr/share/nginx/html/index.html\"\n}}\n\
         service p image=p\n"
    );
    assert!(support::codes(&kdl).contains(&"gscgen::dockerignore::excludes-copy".to_owned()));
    // gscgen cannot know what a plain image has installed: its commands are not judged.
    let kdl = format!(
        "{base}image p from=\"apache/airflow:2.9.3\" {{\n    cmd celery \"worker\"\n}}\nservice p image=p\n"
    );
    assert!(!support::codes(&kdl).contains(&"gscgen::image::program-not-installed".to_owned()));
    // A service of a plain image cannot have an HTTP check either (no Python, no known client).
    let kdl = format!(
        "{base}image p from=\"nginx:1.27.2\" {{\n}}\nservice p image=p {{\n    health http=\"/\" port=80\n}}\n"
    );
    assert!(support::codes(&kdl).contains(&"gscgen::compose::http-health-prebuilt".to_owned()));
}

/// Runs the changes job's script as the runner does (`shell: bash`) in `dir`, after a
/// commit that changes `changed`, and returns its outputs.
fn changes_outputs(dir: &Path, event: &str, changed: &str) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("generated/.github/workflows/build.yml")).unwrap();
    let workflow: Value = serde_yaml_ng::from_str(&text).unwrap();
    let script =
        workflow["jobs"]["changes"]["steps"][1]["run"].as_str().expect("the changes script").to_owned();
    support::git(dir, &["init", "-q", "-b", "main"]);
    support::git(dir, &["add", "-A"]);
    support::git(dir, &["commit", "-q", "--allow-empty", "-m", "start"]);
    let path = dir.join(changed);
    let old = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{old}# changed\n")).unwrap();
    support::git(dir, &["commit", "-q", "-am", "change"]);
    let temp = tempfile::tempdir().unwrap();
    let (file, output) = (temp.path().join("script.sh"), temp.path().join("output"));
    std::fs::write(&file, script).unwrap();
    std::fs::write(&output, "").unwrap();
    let run = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&file)
        .current_dir(dir)
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_REPOSITORY", "acme/plain")
        .env("GITHUB_WORKFLOW_REF", "acme/plain/generated/.github/workflows/build.yml@refs/pull/7/merge")
        .env("GITHUB_OUTPUT", &output)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(run.status.success(), "the changes script failed: {}", support::stderr(&run));
    std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).expect("key=value"))
        .collect()
}

fn matrix_names(matrix: &str) -> Vec<String> {
    let matrix: Value = serde_json::from_str(matrix).expect("JSON matrix");
    matrix["include"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect()
}

/// The changes job gives the plain-images job its own matrix: a pull request that changes
/// only the proxy's config builds only the proxy, and neither the base nor `web`; a push
/// builds everything, each image in its own job's matrix.
#[test]
fn the_changes_job_selects_plain_images_by_their_own_inputs() {
    let dir = rendered();
    let outputs = changes_outputs(dir.path(), "pull_request", "proxy/default.conf");
    assert_eq!(matrix_names(&outputs["plain_matrix"]), ["proxy"], "{outputs:?}");
    assert!(matrix_names(&outputs["matrix"]).is_empty(), "{outputs:?}");
    assert_eq!(outputs["images_build"], "false");
    assert_eq!(outputs["plain_build"], "true");
    assert_eq!(outputs["build"], "true");
    assert_eq!(outputs["images"], "proxy");

    let dir = rendered();
    let outputs = changes_outputs(dir.path(), "pull_request", "generated/requirements/web.txt");
    assert_eq!(matrix_names(&outputs["matrix"]), ["web"], "{outputs:?}");
    assert!(matrix_names(&outputs["plain_matrix"]).is_empty(), "{outputs:?}");
    assert_eq!(outputs["plain_build"], "false");

    let dir = rendered();
    let outputs = changes_outputs(dir.path(), "push", "web/main.py");
    assert_eq!(matrix_names(&outputs["matrix"]), ["web"]);
    assert_eq!(matrix_names(&outputs["plain_matrix"]), ["proxy", "cache"]);
    assert_eq!(outputs["images"], "web proxy cache");
}

/// When every image is plain, nothing builds the base: no base build in the scripts or the
/// Bake file, no `base` or `images` job, and the changes job's script still runs.
#[test]
fn with_only_plain_images_the_base_is_not_built() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("cache")).unwrap();
    std::fs::write(dir.path().join("cache/redis.conf"), "port 6379\n").unwrap();
    std::fs::write(
        dir.path().join("project.kdl"),
        "project allplain { python \"3.12\" }\ntargets {\n    requirements\n    docker\n    compose\n    \
         github-workflow {\n        build-affected #true\n    }\n}\nimage cache from=\"redis:7.4.1\" {\n    \
         copy \"cache/redis.conf\" \"/usr/local/etc/redis/redis.conf\"\n}\nservice cache image=cache\n\
         image tool from=\"busybox:1.36.1\" {\n    user root=#true\n    writable \"/work\"\n    \
         cmd \"sh\" \"-c\" \"true\"\n}\nservice tool image=tool\n",
    )
    .unwrap();
    let output = support::run_in(dir.path(), &["--deny-warnings", "render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "render: {}", support::stderr(&output));
    // `root=#true` is USER 0:0, deliberately: hadolint is told so, and accepts the file.
    let tool = read(dir.path(), "compose/dockerfiles/Dockerfile.tool");
    assert!(
        tool.contains("RUN mkdir -p /work\n") && tool.contains("# hadolint ignore=DL3002\nUSER 0:0\n"),
        "{tool}"
    );
    let output = support::tool("hadolint")
        .args(["--no-color", "--failure-threshold", "style"])
        .arg(dockerfile(dir.path(), "tool"))
        .output()
        .unwrap();
    assert!(output.status.success() && output.stdout.is_empty(), "hadolint: {}", support::stdout(&output));
    let script = read(dir.path(), "scripts/docker-build.sh");
    assert!(!script.contains("base_build base"), "{script}");
    let bake: Value = serde_json::from_str(&read(dir.path(), "scripts/docker-bake.json")).unwrap();
    let targets: Vec<&String> = bake["target"].as_object().unwrap().keys().collect();
    assert_eq!(targets, ["cache", "tool"]);
    let text = read(dir.path(), ".github/workflows/build.yml");
    let workflow: Value = serde_yaml_ng::from_str(&text).unwrap();
    let jobs: Vec<&String> = workflow["jobs"].as_object().unwrap().keys().collect();
    assert_eq!(jobs, ["changes", "drift", "plain-images", "pull-request"], "(sorted)");
    let path = dir.path().join("generated/.github/workflows/build.yml");
    let output = support::tool("actionlint").arg(&path).output().unwrap();
    assert!(output.status.success(), "actionlint: {}", support::stdout(&output));
    let outputs = changes_outputs(dir.path(), "pull_request", "cache/redis.conf");
    assert_eq!(matrix_names(&outputs["plain_matrix"]), ["cache"], "{outputs:?}");
    assert!(matrix_names(&outputs["matrix"]).is_empty());
    let outputs = changes_outputs(dir.path(), "push", "cache/redis.conf");
    assert_eq!(matrix_names(&outputs["plain_matrix"]), ["cache", "tool"], "{outputs:?}");
    assert_eq!(outputs["images_build"], "false");
}
