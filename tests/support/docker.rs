//! Running the real Docker Engine from tests: every step with a deadline, and a failure that
//! shows the tail of what the step printed.

use std::path::Path;
use std::process::{Command, Output};

/// Every external step gets a deadline (coreutils `timeout`), so a hung build fails the test.
pub const STEP_SECONDS: &str = "900";

/// The last `lines` lines of a command's output.
pub fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs `command`; panics with `what`, the exit status and the output's tail on failure.
pub fn run(what: &str, command: &mut Command) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}; 124 means it ran out of its {STEP_SECONDS} s)\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
            output.status,
            tail(&output.stdout, 40),
            tail(&output.stderr, 40)
        );
    }
    output
}

/// `program` under `timeout STEP_SECONDS`.
pub fn timed(program: &str) -> Command {
    let mut command = Command::new("timeout");
    command.arg(STEP_SECONDS).arg(program);
    command
}

/// stdout and stderr of a finished command, one after the other.
pub fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// Fails the test, saying why, when no Docker Engine answers: nothing is skipped.
pub fn require_engine() {
    run(
        "docker info (a Docker Engine must be running: see docs/docker-engine.md)",
        Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]),
    );
}

/// Builds the local stand-in images `names` (debian, python, postgres, redis) with
/// scripts/local-images; seconds when they exist already.
pub fn local_images(names: &[&str]) {
    let mut command = timed(&super::repo().join("scripts/local-images").display().to_string());
    for name in names {
        command.args(["--only", name]);
    }
    run(&format!("scripts/local-images --only {}", names.join(" --only ")), &mut command);
}

/// PATH with a Docker CLI that builds with BuildKit first (scripts/docker-buildkit).
pub fn buildkit_path() -> String {
    let dir =
        run("scripts/docker-buildkit", &mut Command::new(super::repo().join("scripts/docker-buildkit")));
    let dir = String::from_utf8_lossy(&dir.stdout).trim().to_owned();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Runs the generated `scripts/docker-build.sh` of the project in `project`, as a user does.
pub fn build_script(project: &Path, path: &str) -> Output {
    timed("sh")
        .arg("generated/scripts/docker-build.sh")
        .current_dir(project)
        .env("PATH", path)
        .output()
        .expect("sh runs")
}

/// [`build_script`], with the image logs in `logs` (`GSCGEN_BUILD_LOGS`).
#[allow(dead_code)] // not every test file that includes this module uses it
pub fn build_script_logging(project: &Path, path: &str, logs: &Path) -> Output {
    timed("sh")
        .arg("generated/scripts/docker-build.sh")
        .current_dir(project)
        .env("PATH", path)
        .env("GSCGEN_BUILD_LOGS", logs)
        .output()
        .expect("sh runs")
}

/// Copies the folder `from` into `to`, recursively (fixtures are small).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
