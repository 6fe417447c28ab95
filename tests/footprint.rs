//! `gscgen footprint` resolves with the real uv against PyPI (the network CI has: the
//! validators come from PyPI too), on a small project so the test stays quick. The tests
//! that resolve need the network: without it they fail saying so (`support::needs_network`).

mod support;

use std::path::Path;

use support::{needs_network, run_in, stderr, stdout, tool};

const PROJECT: &str = r#"
project small {
    python "3.11"
}
targets {
    requirements
    docker
}
group base {
    require "idna>=3.4"
}
group web {
    include base
    require "requests>=2.31.0"
}
group all {
    include web
}
image web {
    groups web
}
image plain {
    groups base
}
service web image=web
service plain image=plain
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("project.kdl"), PROJECT).unwrap();
    dir
}

fn json(dir: &Path, path_env: Option<&str>) -> (Option<i32>, serde_json::Value, String) {
    let mut command = support::gscgen();
    command.current_dir(dir).args(["footprint", "--format", "json"]);
    if let Some(path) = path_env {
        command.env("PATH", path);
    }
    let output = command.output().unwrap();
    let value = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code(), value, stderr(&output))
}

#[test]
fn footprint_counts_what_uv_resolves_and_caches_it() {
    // uv must be there (scripts/test puts the validators' venv on PATH), and PyPI reachable.
    let _ = tool("uv");
    needs_network("pypi.org", "gscgen footprint resolves with uv against PyPI");
    let dir = project();
    let (code, report, errors) = json(dir.path(), None);
    assert_eq!(code, Some(0), "{errors}");
    let rows = report["images"].as_array().unwrap();
    let row =
        |name: &str| rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name}: {report}"));
    // idna alone; requests brings certifi, charset-normalizer, idna and urllib3.
    assert_eq!(row("plain")["packages"], 1, "{report}");
    assert_eq!(row("web")["packages"], 5, "{report}");
    assert_eq!(row("all (group)")["baseline"], true);
    let size = |name: &str| row(name)["download_bytes"].as_u64().unwrap();
    assert!(size("plain") > 10_000 && size("plain") < size("web"), "{report}");
    assert_eq!(size("web"), size("all (group)"));

    // Cached: the same answer when uv can no longer resolve anything. The stand-in answers
    // `uv --version` as the real one does (the version is part of the cache key) and fails
    // every resolution.
    let real_uv = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|p| p.join("uv"))
        .find(|p| p.is_file())
        .unwrap();
    let bin = tempfile::tempdir().unwrap();
    let stand_in = bin.path().join("uv");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then exec '{}' --version; fi\necho 'no resolving in this test' >&2\nexit 2\n",
            real_uv.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stand_in, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, again, errors) = json(dir.path(), Some(bin.path().to_str().unwrap()));
    assert_eq!(code, Some(0), "{errors}");
    assert_eq!(again, report);
    // With --refresh it must resolve again, and the stand-in refuses.
    let mut command = support::gscgen();
    command.current_dir(dir.path()).args(["footprint", "--refresh"]).env("PATH", bin.path());
    let refreshed = command.output().unwrap();
    assert_eq!(refreshed.status.code(), Some(3));
    assert!(stderr(&refreshed).contains("no resolving in this test"), "{}", stderr(&refreshed));
    assert!(dir.path().join(".gscgen/footprint").is_dir());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".gscgen/.gitignore")).unwrap().lines().last(),
        Some("*")
    );
}

#[test]
fn footprint_without_uv_says_what_it_needs() {
    let dir = project();
    let (code, _, errors) = json(dir.path(), Some(""));
    assert_eq!(code, Some(3));
    assert!(errors.contains("cannot run uv"), "{errors}");
    assert!(errors.contains("pip install uv"), "{errors}");
    // Issue 20: a newcomer's only uv is the validators' one; the hint names the folder.
    assert!(errors.contains("target/validators/venv/bin:$PATH\""), "{errors}");
    assert!(errors.contains("hint: "), "{errors}");
}

#[test]
fn footprint_text_names_the_platform_and_the_baseline() {
    let _ = tool("uv");
    needs_network("pypi.org", "gscgen footprint resolves with uv against PyPI");
    let dir = project();
    let output = run_in(dir.path(), &["footprint"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("Resolved by uv from PyPI for CPython 3.11 on x86_64-manylinux_2_28"), "{text}");
    assert!(text.contains("all (group)"), "{text}");
    assert!(text.contains(" %"), "{text}");
}
