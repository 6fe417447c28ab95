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

/// Runs the generated script; returns its own output and the log of image `hello`.
fn build(project: &Path, path: &str) -> (String, String) {
    let logs = project.join("build-logs");
    let output = support::docker::build_script_logging(project, path, &logs);
    let mut log = support::docker::text(&output);
    for image in ["hello", "greet"] {
        let text = fs::read_to_string(logs.join(format!("{image}.log"))).unwrap_or_default();
        log.push_str(&format!("\n--- {image}.log\n{text}"));
    }
    assert!(
        output.status.success(),
        "generated/scripts/docker-build.sh failed ({}):\n{}",
        output.status,
        support::docker::tail(log.as_bytes(), 60)
    );
    let script = support::docker::text(&output);
    (script, log)
}

/// The lines of the script's own output that say a build starts or ends, in order:
/// `[hh:mm:ss] start NAME …` / `[hh:mm:ss] done NAME in N s`, as (event, name).
fn events(script: &str) -> Vec<(String, String)> {
    script
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('[')?.split_once("] ")?.1;
            let mut words = rest.split_whitespace();
            let event = words.next()?;
            let name = words.next()?;
            matches!(event, "start" | "done" | "FAILED").then(|| (event.to_owned(), name.to_owned()))
        })
        .collect()
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

    let (script, _) = build(project.path(), &path);
    // The base stages build once, one after the other, before any image; then both images
    // build at the same time: each starts before either ends. Each build says how long it took.
    let events = events(&script);
    let order: Vec<String> = events.iter().map(|(e, n)| format!("{e} {n}")).collect();
    assert_eq!(
        order[..4],
        ["start base-builder", "done base-builder", "start base-runtime", "done base-runtime"],
        "{script}"
    );
    let mut images: Vec<&str> = order[4..6].iter().map(String::as_str).collect();
    images.sort_unstable();
    assert_eq!(images, ["start greet", "start hello"], "the images did not overlap:\n{script}");
    let mut ends: Vec<&str> = order[6..].iter().map(String::as_str).collect();
    ends.sort_unstable();
    assert_eq!(ends, ["done greet", "done hello"], "{script}");
    for name in ["base-builder", "base-runtime", "hello", "greet"] {
        assert!(
            script.lines().any(|l| l.contains(&format!("] done {name} in ")) && l.ends_with(" s")),
            "no time for {name}:\n{script}"
        );
    }
    assert!(script.contains("Built 4 images in "), "{script}");
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
    let (_, log) = build(project.path(), &path);
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

    for image in
        ["built-hello:latest", "built-greet:latest", "built-base:latest", "built-base-builder:latest"]
    {
        let _ = Command::new("docker").args(["rmi", "--force", image]).env("PATH", &path).output();
    }
}

/// A plain image (`from=`, tests/fixtures/built-plain/) built by the generated script FROM the
/// local Redis stand-in, with the project's config copied in, then started: Docker's own
/// health check (the image's `health`) turns healthy, the server answers on the port of the
/// copied config, and the container runs as the stand-in's own user (no `user`: gscgen
/// wrote no USER). No image starts from the base, so the script builds no base stage.
#[test]
fn a_plain_image_builds_from_its_image_and_runs() {
    support::docker::require_engine();
    support::docker::local_images(&["redis"]);
    let path = buildkit_path();

    let project = tempfile::tempdir().unwrap();
    support::docker::copy_tree(&support::repo().join("tests/fixtures/built-plain"), project.path());
    let rendered = support::run_in(project.path(), &["render"]);
    assert!(rendered.status.success(), "render: {}", support::stderr(&rendered));
    let output = support::docker::build_script(project.path(), &path);
    let script = support::docker::text(&output);
    assert!(
        output.status.success(),
        "docker-build.sh failed:\n{}",
        support::docker::tail(script.as_bytes(), 60)
    );
    let built: Vec<String> =
        events(&script).into_iter().filter(|(e, _)| e == "start").map(|(_, n)| n).collect();
    assert_eq!(built, ["cache"], "only the plain image is built, no base stage:\n{script}");

    let name = format!("gscgen-plain-{}", std::process::id());
    run(
        "docker run plainbuilt-cache",
        timed("docker").args(["run", "-d", "--name", &name, "plainbuilt-cache:latest"]).env("PATH", &path),
    );
    let cleanup = Cleanup(name.clone());
    let mut status = String::new();
    for _ in 0..60 {
        let output = Command::new("docker")
            .args(["inspect", "--format", "{{.State.Health.Status}}", &name])
            .output()
            .unwrap();
        status = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if status == "healthy" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let logs = Command::new("docker").args(["logs", &name]).output().unwrap();
    assert_eq!(status, "healthy", "the health check never passed:\n{}", support::docker::text(&logs));
    let exec = |args: &[&str]| {
        let output = run("docker exec", Command::new("docker").arg("exec").arg(&name).args(args));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(exec(&["redis-cli", "-p", "6390", "ping"]), "PONG");
    assert_eq!(exec(&["sh", "-c", "echo \"$GSCGEN_PLAIN\""]), "yes");
    assert_eq!(exec(&["id", "-un"]), "redis", "the stand-in's own user");
    drop(cleanup);
}

/// Removes a container when the test ends, passed or not.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}
