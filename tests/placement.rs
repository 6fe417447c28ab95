//! Issue 16, point 1: a target renders where its consumer reads it (`path=`), outside the
//! output folder but never outside the project root, and the manifest, `check`, stale-file
//! deletion, hand-edit protection and `--out` treat those files exactly like the rest.

mod support;

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::{run_in, stderr, stdout};

/// A project whose workflow, Compose files, manifests and requirements are all placed.
const PLACED: &str = r#"project demo {
    python "3.11"
    registry "ghcr.io/acme/demo"
    output generated
}
targets {
    requirements path="requirements"
    docker
    compose path="."
    github-workflow path=".github/workflows/build.yml"
    kubernetes path="deploy/k8s"
}
group base {
    require "requests>=2.31.0"
}
image api {
    groups base
    copy "app" "/app/app"
    cmd "python" "-m" "app"
    expose 8000
}
service api image=api {
    port 8000 host=8000
}
"#;

fn project(kdl: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("project.kdl"), kdl).unwrap();
    fs::create_dir_all(dir.path().join("app")).unwrap();
    fs::write(dir.path().join("app/__main__.py"), "print('hi')\n").unwrap();
    dir
}

fn ok(output: &Output, what: &str) {
    assert_eq!(output.status.code(), Some(0), "{what}: {}{}", stdout(output), stderr(output));
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("generated/.gscgen-manifest.json")).unwrap()).unwrap()
}

#[test]
fn placed_targets_land_where_their_tools_read_them_and_check_guards_them() {
    let dir = project(PLACED);
    ok(&run_in(dir.path(), &["render", "-q"]), "render");
    let root = dir.path();
    for placed in [
        ".github/workflows/build.yml",
        "docker-compose.yml",
        "docker-compose.dev.yml",
        "docker-compose.prod.yml",
        "deploy/k8s/kustomization.yaml",
        "deploy/k8s/api.deployment.yaml",
        "requirements/base.txt",
    ] {
        assert!(root.join(placed).is_file(), "{placed} is rendered where it was placed");
        assert!(
            manifest(root)["files"].get(placed).is_some(),
            "the manifest lists {placed} by its path from the project root"
        );
    }
    // Nothing of theirs is left in the output folder; the docker target stays in it.
    for unplaced in [".github", "docker-compose.yml", "k8s", "requirements"] {
        assert!(!root.join("generated").join(unplaced).exists(), "generated/{unplaced}");
    }
    assert!(root.join("generated/compose/dockerfiles/Dockerfile.api").is_file());
    ok(&run_in(root, &["check"]), "check");

    // Every path inside the files follows the placement: the Dockerfile copies the
    // requirements from their new folder, Compose builds from the project root.
    let dockerfile = fs::read_to_string(root.join("generated/compose/dockerfiles/Dockerfile.api")).unwrap();
    assert!(dockerfile.contains("requirements/base.txt"), "{dockerfile}");
    assert!(!dockerfile.contains("generated/requirements"), "{dockerfile}");
    let compose = support::tool("docker-compose")
        .current_dir(root)
        .args(["-f", "docker-compose.yml", "config", "--format", "json"])
        .output()
        .unwrap();
    ok(&compose, "docker-compose config");
    let config: Value = serde_json::from_slice(&compose.stdout).unwrap();
    let build = &config["services"]["api"]["build"];
    let context = Path::new(build["context"].as_str().unwrap());
    assert_eq!(context.canonicalize().unwrap(), root.canonicalize().unwrap(), "{build}");
    let dockerfile = build["dockerfile"].as_str().unwrap();
    assert!(context.join(dockerfile).is_file(), "compose's Dockerfile {dockerfile} exists");
    let kustomize =
        support::tool("kubectl").args(["kustomize"]).arg(root.join("deploy/k8s")).output().unwrap();
    ok(&kustomize, "kubectl kustomize deploy/k8s");
}

#[test]
fn a_placed_file_edited_by_hand_is_drift_and_render_refuses_it() {
    let dir = project(PLACED);
    ok(&run_in(dir.path(), &["render", "-q"]), "render");
    let workflow = dir.path().join(".github/workflows/build.yml");
    let text = fs::read_to_string(&workflow).unwrap();
    fs::write(&workflow, text.replace("name: build", "name: mine")).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("edited-by-hand: .github/workflows/build.yml"), "{}", stdout(&output));
    let output = run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(fs::read_to_string(&workflow).unwrap().contains("name: mine"), "the edit is kept");
    ok(&run_in(dir.path(), &["render", "--force", "-q"]), "render --force");
    assert_eq!(fs::read_to_string(&workflow).unwrap(), text);
}

#[test]
fn moving_a_target_removes_its_old_files_and_emptied_folders() {
    let dir = project(PLACED);
    ok(&run_in(dir.path(), &["render", "-q"]), "render");
    // A file of the user's next to the workflow stays; the folders it keeps stay too.
    fs::write(dir.path().join(".github/CODEOWNERS"), "* @acme\n").unwrap();
    let moved =
        PLACED.replace(" path=\".github/workflows/build.yml\"", "").replace(" path=\"deploy/k8s\"", "");
    fs::write(dir.path().join("project.kdl"), moved).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("stale: .github/workflows/build.yml"), "{}", stdout(&output));
    ok(&run_in(dir.path(), &["render", "-q"]), "render");
    assert!(!dir.path().join(".github/workflows").exists(), "the emptied folder goes");
    assert!(dir.path().join(".github/CODEOWNERS").is_file(), "the user's file stays");
    assert!(!dir.path().join("deploy").exists(), "deploy/k8s and deploy go");
    assert!(dir.path().join("generated/.github/workflows/build.yml").is_file());
    assert!(dir.path().join("generated/k8s/kustomization.yaml").is_file());
    ok(&run_in(dir.path(), &["check"]), "check");
}

#[test]
fn a_placed_file_never_replaces_a_file_gscgen_did_not_write() {
    let dir = project(PLACED);
    fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    fs::write(dir.path().join(".github/workflows/build.yml"), "name: theirs\n").unwrap();
    let output = run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains(".github/workflows/build.yml"), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(dir.path().join(".github/workflows/build.yml")).unwrap(), "name: theirs\n");
    assert!(!dir.path().join("generated").exists(), "nothing was written");
}

#[cfg(unix)]
#[test]
fn a_symlink_on_the_way_out_is_refused_and_nothing_lands_outside() {
    let outside = tempfile::tempdir().unwrap();
    let dir = project(PLACED);
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".github")).unwrap();
    for command in [&["render"][..], &["render", "--force"], &["check"]] {
        let output = run_in(dir.path(), command);
        assert_eq!(output.status.code(), Some(3), "{command:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("symlink"), "{command:?}: {}", stderr(&output));
    }
    assert!(fs::read_dir(outside.path()).unwrap().next().is_none(), "nothing written through the link");
    assert!(!dir.path().join("docker-compose.yml").exists(), "nothing written at all");
}

#[test]
fn out_renders_placed_files_below_it_as_the_project_root() {
    let dir = project(PLACED);
    let preview = tempfile::tempdir().unwrap();
    let out = preview.path().to_str().unwrap();
    ok(&run_in(dir.path(), &["render", "--out", out, "-q"]), "render --out");
    assert!(preview.path().join(".github/workflows/build.yml").is_file());
    assert!(preview.path().join("docker-compose.yml").is_file());
    assert!(preview.path().join("generated/.gscgen-manifest.json").is_file());
    ok(&run_in(dir.path(), &["check", "--out", out]), "check --out");
    let beside: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside.len(), 2, "the project holds only project.kdl and app/: {beside:?}");
}

/// A manifest written before placement listed paths relative to the output folder: it is
/// still understood (a file edited by hand is still recognised), and rewritten.
#[test]
fn an_older_manifest_is_read_relative_to_the_output_folder() {
    let dir = support::rendered_copy();
    let path = dir.path().join("generated/.gscgen-manifest.json");
    let mut manifest: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let files = manifest["files"].as_object().unwrap().clone();
    let old: serde_json::Map<String, Value> = files
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("generated/").map(|k| (k.to_owned(), v)))
        .collect();
    manifest["files"] = Value::Object(old);
    manifest.as_object_mut().unwrap().remove("paths");
    fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap() + "\n").unwrap();
    let base = dir.path().join("generated/requirements/base.txt");
    fs::write(&base, "edited\n").unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(out.contains("edited-by-hand: generated/requirements/base.txt"), "{out}");
    assert!(out.contains("changed: generated/.gscgen-manifest.json"), "{out}");
    // Read as output-relative, the old keys still name gscgen's files: none is taken for a
    // file gscgen never wrote.
    assert!(!out.contains("not-generated"), "{out}");
    ok(&run_in(dir.path(), &["render", "--force", "-q"]), "render --force");
    ok(&run_in(dir.path(), &["check"]), "check");
    assert!(fs::read_to_string(&path).unwrap().contains("\"paths\": \"relative to the project root\""));
}
