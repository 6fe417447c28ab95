//! Issue 9: the hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself.
//!
//! `pre-commit try-repo <this repo>` builds gscgen from this repository's HEAD plus its
//! uncommitted changes to tracked files (through a shadow commit; untracked files are not
//! part of it), exactly as a user's pre-commit builds it from a `rev`: `cargo install --path .`
//! (which resolves dependencies afresh against crates.io, so the test needs the index,
//! like `scripts/test` needs PyPI; without the network the test fails saying so). It then
//! runs the hooks in a throw-away git repository.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{repo, run_in, stderr, stdout};

/// The target folder of this test build (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("CARGO_TARGET_TMPDIR has a parent").to_owned()
}

/// `pre-commit try-repo <this repo> --all-files` in `dir`: every hook of the manifest, in id
/// order (gscgen-check, then gscgen-render); stdout and stderr together.
///
/// try-repo installs the hook into a fresh temporary store on every call, so each call runs
/// `cargo install`: a release build of gscgen and its whole dependency tree. The environment
/// below makes that affordable in the test suite, and only here (users get the normal
/// release build of Cargo.toml):
/// - `CARGO_TARGET_DIR` under target/ keeps the compiled dependencies between calls and
///   between test runs, so only gscgen itself is compiled again (its source path is new
///   on every call).
/// - The release-profile overrides (cargo reads `CARGO_PROFILE_RELEASE_*` for
///   `cargo install` as for any build) turn the optimised build into a quick one:
///   opt-level 0, many codegen units, no debug info, no incremental state. What is tested
///   is the hook definition and gscgen's behaviour, not the optimiser.
/// - `PRE_COMMIT_HOME` under target/ keeps pre-commit away from the user's
///   ~/.cache/pre-commit.
fn try_repo(dir: &Path) -> (Option<i32>, String) {
    support::needs_network(
        "index.crates.io",
        "pre-commit's `cargo install` resolves gscgen's dependencies against the crates.io index",
    );
    let target = target_dir();
    let mut command = support::tool("pre-commit");
    command.current_dir(dir).arg("try-repo").arg(repo());
    command.args(["--all-files", "--color", "never"]);
    command
        .env("PRE_COMMIT_HOME", target.join("pre-commit-home"))
        .env("CARGO_TARGET_DIR", target.join("pre-commit-build"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        // A user's `SKIP=gscgen-check` must not turn the test green.
        .env_remove("SKIP");
    without_git_hook_env(&mut command);
    let output = command.output().expect("pre-commit runs");
    (output.status.code(), format!("{}{}", stdout(&output), stderr(&output)))
}

/// Run from inside a git hook, git's variables would point every git command (pre-commit's
/// included) at the outer repository.
fn without_git_hook_env(command: &mut Command) {
    for name in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY"] {
        command.env_remove(name);
    }
}

fn git(dir: &Path, args: &[&str]) {
    let mut command = Command::new("git");
    command.current_dir(dir).args(args);
    without_git_hook_env(&mut command);
    let output = command.output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
}

/// A hook's status line: `gscgen check.....Passed`.
fn is_status_line(line: &str) -> bool {
    line.starts_with("gscgen ") && line.contains("....")
}

/// The part of pre-commit's output that belongs to one hook: from its status line to the
/// next hook's.
fn section(output: &str, name: &str) -> String {
    let mut lines = output.lines().skip_while(|line| !(is_status_line(line) && line.starts_with(name)));
    let first = lines.next().unwrap_or_else(|| panic!("no status line for `{name}` in:\n{output}"));
    let rest = lines.take_while(|line| !is_status_line(line));
    std::iter::once(first).chain(rest).collect::<Vec<_>>().join("\n") + "\n"
}

/// `Passed`, `Failed` or `Skipped`.
fn status(output: &str, name: &str) -> String {
    section(output, name).lines().next().unwrap().rsplit('.').next().unwrap().to_owned()
}

/// A git repository with a project.kdl from `gscgen init`, rendered and committed.
fn committed_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["config", "user.name", "gscgen test"]);
    git(dir.path(), &["config", "user.email", "test@example.invalid"]);
    git(dir.path(), &["config", "commit.gpgsign", "false"]);
    let output = run_in(dir.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The lock file is not committed (README).
    fs::write(dir.path().join(".gitignore"), "/generated/.gscgen.lock\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "gscgen init + render"]);
    dir
}

/// Both hooks, three installs: a hand edit (check shows the diff, render refuses), a config
/// change (check shows the diff, render fixes it and fails), then a clean pass.
#[test]
fn hooks_check_and_render_through_pre_commit() {
    let dir = committed_project();
    let base = dir.path().join("generated/requirements/base.txt");
    let rendered = fs::read_to_string(&base).unwrap();

    // A generated file edited by hand.
    fs::write(&base, rendered.replace("requests>=2.31.0", "requests>=2.0")).unwrap();
    let (code, output) = try_repo(dir.path());
    assert_eq!(code, Some(1), "{output}");
    let check = section(&output, "gscgen check");
    assert_eq!(status(&output, "gscgen check"), "Failed", "{output}");
    assert!(check.contains("edited-by-hand: generated/requirements/base.txt"), "{check}");
    assert!(
        check.contains(
            "--- generated/requirements/base.txt (on disk)\n+++ generated/requirements/base.txt (rendered)\n"
        ),
        "{check}"
    );
    assert!(check.contains("\n-requests>=2.0\n+requests>=2.31.0\n"), "{check}");
    // render never overwrites a hand edit: it fails, shows it, and writes nothing.
    let render = section(&output, "gscgen render");
    assert_eq!(status(&output, "gscgen render"), "Failed", "{output}");
    assert!(render.contains("- exit code: 1"), "{render}");
    assert!(render.contains("requirements/base.txt was edited by hand"), "{render}");
    assert!(fs::read_to_string(&base).unwrap().contains("requests>=2.0\n"));

    // Back to the committed files; then project.kdl changes and nobody renders.
    git(dir.path(), &["checkout", "--", "generated"]);
    let config = dir.path().join("project.kdl");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains("    require \"requests>=2.31.0\"\n"), "{text}");
    fs::write(&config, text.replace("require \"requests>=2.31.0\"", "require \"requests>=2.32.0\"")).unwrap();
    let (code, output) = try_repo(dir.path());
    assert_eq!(code, Some(1), "{output}");
    let check = section(&output, "gscgen check");
    assert_eq!(status(&output, "gscgen check"), "Failed", "{output}");
    assert!(check.contains("changed: generated/requirements/base.txt"), "{check}");
    assert!(check.contains("\n-requests>=2.31.0\n+requests>=2.32.0\n"), "{check}");
    // The fixer: rewrites the file and fails with its own exit code (render --exit-code).
    let render = section(&output, "gscgen render");
    assert_eq!(status(&output, "gscgen render"), "Failed", "{output}");
    assert!(render.contains("- exit code: 1"), "{render}");
    assert!(render.contains("updated generated/requirements/base.txt"), "{render}");
    assert!(fs::read_to_string(&base).unwrap().contains("\nrequests>=2.32.0\n"));
    assert_eq!(run_in(dir.path(), &["check"]).status.code(), Some(0), "render left the folder fresh");

    // The second run finds nothing to do.
    let (code, output) = try_repo(dir.path());
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(status(&output, "gscgen check"), "Passed", "{output}");
    assert_eq!(status(&output, "gscgen render"), "Passed", "{output}");
}
