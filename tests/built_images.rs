//! The generated build script and Dockerfiles, built and run by the real Docker Engine.
//!
//! A linter cannot tell whether `COPY --from=builder /opt/venv` carries a working
//! environment, whether the image's user can write its `writable` folders, or whether a code
//! change rebuilds into a new image. This test renders `tests/fixtures/built/project.kdl`,
//! runs the generated `scripts/docker-build.sh` exactly as a user does, runs the image, then
//! changes only the code and builds again.
//!
//! No registry is reachable on this project's machines, so `scripts/local-images` first makes
//! the `python:3.11-slim` stand-in from Debian's packages (docs/docker-engine.md), and
//! `scripts/docker-buildkit` names a Docker CLI that builds with BuildKit. Without a Docker
//! Engine the test fails and says so: nothing is skipped.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::docker::{buildkit_path, run, timed};

fn copy_fixture(to: &Path) {
    let from = support::repo().join("tests/fixtures/built");
    fs::create_dir_all(to.join("app")).unwrap();
    fs::copy(from.join("project.kdl"), to.join("project.kdl")).unwrap();
    fs::copy(from.join("app/main.py"), to.join("app/main.py")).unwrap();
}

fn build(project: &Path, path: &str) -> String {
    let output = support::docker::build_script(project, path);
    let log = support::docker::text(&output);
    assert!(
        output.status.success(),
        "generated/scripts/docker-build.sh failed ({}):\n{}",
        output.status,
        support::docker::tail(log.as_bytes(), 60)
    );
    log
}

fn run_image(path: &str) -> String {
    let output = run(
        "docker run built-hello",
        timed("docker").args(["run", "--rm", "built-hello:latest"]).env("PATH", path),
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_generated_build_script_builds_images_that_run() {
    support::docker::require_engine();
    support::docker::local_images(&["python"]);
    let path = buildkit_path();

    let project = tempfile::tempdir().unwrap();
    copy_fixture(project.path());
    let rendered = support::run_in(project.path(), &["render"]);
    assert!(rendered.status.success(), "render: {}", support::stderr(&rendered));

    let log = build(project.path(), &path);
    for step in ["[1/3] base-builder", "[2/3] base-runtime", "[3/3] hello", "Built 3 images."] {
        assert!(log.contains(step), "the build log lacks {step:?}:\n{log}");
    }
    let first = run_image(&path);
    // The venv came through COPY --from, the requirements of both groups are installed, the
    // image runs as the project uid, and its writable folder is writable by that user.
    assert!(first.contains("hello from /opt/venv as uid 1000"), "{first}");
    assert!(first.contains("six 1.16.0, idna 3.10"), "{first}");
    assert!(first.contains("writable /logs: ok"), "{first}");

    // A code-only change: the rebuilt image runs the new code; the dependency layers come
    // from the cache (the pip install step is not run again).
    let main = project.path().join("app/main.py");
    let code = fs::read_to_string(&main).unwrap() + "print(\"second build\")\n";
    fs::write(&main, code).unwrap();
    let log = build(project.path(), &path);
    let second = run_image(&path);
    assert!(second.contains("second build"), "the rebuilt image runs old code:\n{second}\n{log}");
    // BuildKit's plain progress: `#N [builder 4/4] RUN … pip install --requirement …` and,
    // for a step served from the cache, `#N CACHED`.
    let step = log
        .lines()
        .find(|l| {
            l.contains("[builder") && l.contains("pip install --requirement /tmp/requirements/hello.txt")
        })
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("the build log shows no install step of image hello:\n{log}"));
    assert!(
        log.lines().any(|l| l.trim() == format!("{step} CACHED")),
        "a code-only rebuild installed the requirements again ({step} not CACHED):\n{log}"
    );

    for image in ["built-hello:latest", "built-base:latest", "built-base-builder:latest"] {
        let _ = Command::new("docker").args(["rmi", "--force", image]).env("PATH", &path).output();
    }
}
