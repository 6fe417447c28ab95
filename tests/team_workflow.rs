//! Issue 9: machine-readable check output, GitHub annotations, init, fmt, completions.

mod support;

use std::fs;
use std::path::Path;

use support::{run_in, stderr, stdout};

/// A small project, rendered, then one file edited, one deleted and one mode changed.
fn drifted_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("project.kdl"),
        "project demo {\n    python \"3.12\"\n}\ntargets {\n    requirements\n}\n\
         group base {\n    require \"requests>=2.31\"\n}\ngroup api {\n    include base\n    require \"fastapi>=0.110\"\n}\n\
         group x {\n    include base base\n}\n",
    )
    .unwrap();
    assert_eq!(run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
    fs::write(dir.path().join("generated/requirements/api.txt"), "edited\n").unwrap();
    fs::remove_file(dir.path().join("generated/requirements/base.txt")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let x = dir.path().join("generated/requirements/x.txt");
        fs::set_permissions(x, fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn normalise(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[DIR]")
}

#[test]
fn check_json_on_a_drifted_fixture() {
    let dir = drifted_fixture();
    let output = run_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(json["status"], "drift");
    assert_eq!(json["files"].as_array().unwrap().len(), 3, "{json}");
    assert_eq!(json["diagnostics"][0]["code"], "gscgen::group::redundant-include");
    assert_eq!(json["diagnostics"][0]["line"], 15);
    insta::assert_snapshot!(normalise(&stdout(&output), dir.path()));
}

#[test]
fn check_json_on_an_invalid_config() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("project.kdl"),
        "project demo {\n    python \"3.12\"\n}\ngroup a {\n    include zzzz\n}\n",
    )
    .unwrap();
    let output = run_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["status"], "invalid");
    assert_eq!(json["diagnostics"][0]["code"], "gscgen::group::unknown");
    assert_eq!(json["diagnostics"][0]["column"], 13);
    assert!(json["diagnostics"][0]["help"].as_str().unwrap().contains("declare it"));
}

#[test]
fn check_github_annotations_on_a_drifted_fixture() {
    let dir = drifted_fixture();
    let output = run_in(dir.path(), &["check", "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(normalise(&stdout(&output), dir.path()));
    // Under GitHub Actions, the human output carries the same annotations.
    let output = support::gscgen()
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .arg("check")
        .output()
        .unwrap();
    let out = stdout(&output);
    assert!(out.contains("--- generated/requirements/api.txt (on disk)"), "{out}");
    assert!(out.contains(
        "::error file=generated/requirements/api.txt,line=1,title=gscgen drift (edited-by-hand)::"
    ));
    assert!(out.contains(
        "::warning file=project.kdl,line=15,col=18,title=gscgen%3A%3Agroup%3A%3Aredundant-include::"
    ));
}

#[test]
fn init_render_check_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run_in(dir.path(), &["--deny-warnings", "render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(run_in(dir.path(), &["--deny-warnings", "check"]).status.code(), Some(0));
    assert_eq!(run_in(dir.path(), &["fmt", "--check"]).status.code(), Some(0), "the starter is formatted");
    // Never overwrites.
    let before = fs::read(dir.path().join("project.kdl")).unwrap();
    let output = run_in(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("already exists"));
    assert_eq!(fs::read(dir.path().join("project.kdl")).unwrap(), before);
}

#[test]
fn init_from_requirements_validates_every_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("requirements.txt"), "# top\nRequests>=2.31  # http\n\nredis[hiredis]>=5\n")
        .unwrap();
    let output = run_in(dir.path(), &["init", "--from-requirements", "requirements.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
    let base = fs::read_to_string(dir.path().join("generated/requirements/base.txt")).unwrap();
    assert!(base.ends_with("\nrequests>=2.31\nredis[hiredis]>=5\n"), "{base}");

    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("requirements.txt"), "ok>=1\n-r other.txt\nbad>=>1\n").unwrap();
    let output = run_in(dir.path(), &["init", "--from-requirements", "requirements.txt"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("requirements.txt:2: `-r other.txt`"), "{err}");
    assert!(err.contains("requirements.txt:3: invalid requirement `bad>=>1`"), "{err}");
    assert!(!dir.path().join("project.kdl").exists());
}

#[test]
fn fmt_keeps_comments_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let messy = "// header\nproject   demo{\n  python \"3.12\"   // the version\n}\n\n\n// groups\ngroup base {\n      require \"requests\"\n}\n";
    fs::write(dir.path().join("project.kdl"), messy).unwrap();
    let output = run_in(dir.path(), &["fmt", "--check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("+project demo {"), "{}", stdout(&output));
    assert_eq!(fs::read_to_string(dir.path().join("project.kdl")).unwrap(), messy, "--check writes nothing");
    assert_eq!(run_in(dir.path(), &["fmt"]).status.code(), Some(0));
    let formatted = fs::read_to_string(dir.path().join("project.kdl")).unwrap();
    assert!(formatted.contains("// the version") && formatted.contains("// groups"), "{formatted}");
    assert!(
        formatted.contains("}\n\n// groups\ngroup base {"),
        "a blank line between sections stays: {formatted}"
    );
    assert_eq!(run_in(dir.path(), &["fmt", "--check"]).status.code(), Some(0));
}

/// Issue 20: the formatter changes whitespace only. A blank line after a section comment,
/// quoted and bare words, slashdashed arguments and comments between entries all stay.
#[test]
fn fmt_keeps_the_authors_comment_layout_and_quoting() {
    let dir = tempfile::tempdir().unwrap();
    let messy = "// header\n\n\nproject   demo{\n\n  python \"3.12\"   // the version\n  platforms \"linux/amd64\" /-\"linux/arm64\"\n  image-prefix \"gsc\"\n  network   gsc_network\n}\n\n\n// ----\n// Groups\n// ----\n\ngroup base {\n      require   /* pinned */ \"requests==2.31\"\n   // nothing after this\n}\n";
    let expected = "// header\n\nproject demo {\n    python \"3.12\" // the version\n    platforms \"linux/amd64\" /-\"linux/arm64\"\n    image-prefix \"gsc\"\n    network gsc_network\n}\n\n// ----\n// Groups\n// ----\n\ngroup base {\n    require /* pinned */ \"requests==2.31\"\n    // nothing after this\n}\n";
    fs::write(dir.path().join("project.kdl"), messy).unwrap();
    assert_eq!(run_in(dir.path(), &["fmt"]).status.code(), Some(0));
    assert_eq!(fs::read_to_string(dir.path().join("project.kdl")).unwrap(), expected);
    let output = run_in(dir.path(), &["fmt", "--check"]);
    assert_eq!(output.status.code(), Some(0), "idempotent: {}", stdout(&output));
}

/// Issue 20: the repo's own configuration is formatted (CI runs the same check).
#[test]
fn the_repos_project_kdl_is_formatted() {
    let output = run_in(&support::repo(), &["fmt", "--check"]);
    assert_eq!(output.status.code(), Some(0), "run `gscgen fmt`:\n{}{}", stdout(&output), stderr(&output));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = support::gscgen().args(["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        assert!(stdout(&output).contains("render"), "{shell}");
    }
}
