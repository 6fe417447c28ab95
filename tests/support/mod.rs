//! Shared helpers of the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod docker;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The gscgen binary built for this test run.
pub fn gscgen() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gscgen"));
    command.env_remove("NO_COLOR").env_remove("GITHUB_ACTIONS");
    command
}

/// Runs gscgen with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    gscgen().current_dir(dir).args(args).output().expect("gscgen runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An external validator (hadolint, actionlint, docker-compose, kubectl, yamllint, …).
/// `scripts/test` installs them and puts them on PATH; a missing tool fails the test
/// loudly instead of skipping it.
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).any(|p| p.is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "validator `{name}` is not on PATH: run the test suite with `scripts/test`, which installs the \
         validators into target/validators/ (see docs/validators.md)"
    );
    Command::new(name)
}

/// The codes of every diagnostic a configuration gets, in order (parse, resolve, placement).
pub fn codes(kdl: &str) -> Vec<String> {
    let (_, diagnostics) = gscgen::app::check_source(&gscgen::source::Source::new("project.kdl", kdl));
    diagnostics.iter().map(|d| d.code.as_str().to_owned()).collect()
}

/// The repo's project compiled in-process as `render` compiles it: with the committed locks
/// of the repo (generated/requirements/lock/) when the text locks, so a test of the repo's
/// project sees the Dockerfiles and locks the repo commits. Other texts are unaffected.
pub fn check_source(
    source: &gscgen::source::Source,
) -> (Option<gscgen::model::Model>, gscgen::diagnostics::Diagnostics) {
    let root = camino::Utf8PathBuf::from_path_buf(repo()).expect("UTF-8 repo path");
    gscgen::app::check_source_with_locks(source, &root)
}

/// The repo's committed locks, relative to the project root.
pub const LOCK_DIR: &str = "generated/requirements/lock";

/// Copies the repo's committed locks into the project rooted at `root` (the folder of a copy
/// of the repo's project.kdl), so that the copy renders as the repo does.
pub fn copy_locks(root: &Path) {
    docker::copy_tree(&repo().join(LOCK_DIR), &root.join(LOCK_DIR));
}

/// The repo's project.kdl without `lock=#true`: for tests that change its requirements (a
/// change that would make the committed locks stale) and are not about locks.
pub fn unlocked_project() -> String {
    std::fs::read_to_string(repo().join("project.kdl")).expect("project.kdl").replace(" lock=#true", "")
}

/// [`rendered_copy`] of [`unlocked_project`]: for tests about the output folder itself
/// (symlinks, previews), where the committed locks, which are read from beside the config,
/// would only be in the way.
pub fn rendered_unlocked_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("project.kdl"), unlocked_project()).expect("write project.kdl");
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "render failed: {}", stderr(&output));
    dir
}

/// Copies the repo's project.kdl (and its locks) into a fresh temporary folder and renders it there.
pub fn rendered_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(repo().join("project.kdl"), dir.path().join("project.kdl")).expect("copy project.kdl");
    copy_locks(dir.path());
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "render failed: {}", stderr(&output));
    dir
}

/// Reads a file of the repo's committed generated/ folder.
pub fn generated(path: &str) -> String {
    std::fs::read_to_string(repo().join("generated").join(path))
        .unwrap_or_else(|e| panic!("generated/{path}: {e}"))
}

/// A project compiled in memory (its model, for assertions) and rendered into a fresh
/// folder as `project.kdl`. Test files add their own accessors in `impl Rendered` blocks.
pub struct Rendered {
    pub dir: tempfile::TempDir,
    pub model: gscgen::model::Model,
}

impl Rendered {
    /// Panics with the diagnostics when `kdl` does not compile, or when render fails.
    pub fn new(kdl: &str) -> Self {
        let (model, diagnostics) = check_source(&gscgen::source::Source::new("project.kdl", kdl));
        let model = model.unwrap_or_else(|| {
            panic!("project does not compile: {:?}", diagnostics.iter().collect::<Vec<_>>())
        });
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("project.kdl"), kdl).expect("write project.kdl");
        if kdl.contains("lock=#true") {
            copy_locks(dir.path());
        }
        let output = run_in(dir.path(), &["render", "-q"]);
        assert_eq!(output.status.code(), Some(0), "render failed: {}", stderr(&output));
        Self { dir, model }
    }

    /// The output folder.
    pub fn out(&self) -> PathBuf {
        self.dir.path().join(self.model.project.output.as_str())
    }
}

/// Tests that need the network call this first. Without a connection to `host` (port 443,
/// or the proxy of `HTTPS_PROXY` / `ALL_PROXY` when one is set) they fail, never skip,
/// with a message that says the network is what is missing (README, "Tests and validators").
pub fn needs_network(host: &str, why: &str) {
    use std::net::{TcpStream, ToSocketAddrs};
    let proxy = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    let address = match &proxy {
        // scheme://[user@]host:port[/…]
        Some(url) => {
            let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
            let authority = rest.split('/').next().unwrap_or(rest);
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:80") }
        }
        None => format!("{host}:443"),
    };
    let connected = address
        .to_socket_addrs()
        .map_err(|e| e.to_string())
        .and_then(|mut addresses| addresses.next().ok_or_else(|| "no address".to_owned()))
        .and_then(|a| {
            TcpStream::connect_timeout(&a, std::time::Duration::from_secs(10)).map_err(|e| e.to_string())
        });
    if let Err(error) = connected {
        let via = proxy.map_or(String::new(), |p| format!(" through the proxy {p}"));
        panic!(
            "this test needs network access: {why}, and {host} cannot be reached{via} ({address}: {error}). \
             It fails instead of skipping; run it on a machine with access to {host} (README, \"Tests and \
             validators\")"
        );
    }
}

/// Runs the pull-request job's bake step with bash in the project root, as the runner
/// does, with a `docker` on PATH that hands `buildx …` to the real Docker Buildx with
/// `--print` added (resolve the graph, build nothing), and returns what Buildx printed.
pub fn run_bake_step(
    script: &str,
    env: &std::collections::BTreeMap<String, String>,
    root: &std::path::Path,
    repository: &str,
) -> serde_json::Value {
    let _ = tool("docker-buildx"); // fails loudly when missing
    let buildx = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths).map(|p| p.join("docker-buildx")).find(|p| p.is_file())
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shim = dir.path().join("docker");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\n[ \"$1\" = buildx ] || {{ echo \"unexpected: docker $*\" >&2; exit 1; }}\nshift\nexec '{}' \"$@\" --print\n",
            buildx.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &shim,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    let path = std::env::join_paths(
        std::iter::once(dir.path().to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let output = std::process::Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(root)
        .envs(env)
        .env("PATH", path)
        .env("GITHUB_REPOSITORY", repository)
        .output()
        .expect("bash runs");
    assert!(output.status.success(), "bake step failed: {script}\n{}", stderr(&output));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("bake --print is not JSON ({e}): {}", stdout(&output)))
}

/// Runs git in `dir` with no user or system configuration and a fixed identity; panics
/// with its stderr when it fails; returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = tool("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output)
}

/// The path of a validator on PATH (for a script that runs it by path); fails loudly when
/// it is missing, as [`tool`] does.
pub fn which(name: &str) -> PathBuf {
    let _ = tool(name);
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
        .unwrap()
}
