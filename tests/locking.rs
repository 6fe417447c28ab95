//! Locks (issue 15, docs/locking.md): `gscgen lock` resolves with the real uv, the committed
//! locks are checked offline against project.kdl, the Dockerfiles install exactly the lock,
//! and the real Docker Engine refuses a file whose hash the lock does not name.
//!
//! `tests/fixtures/locks/` is a small locked project with its locks committed under
//! `generated/`. The offline tests copy it and break it; the network test (`needs_network`)
//! locks a fresh project against PyPI; the Docker test builds the fixture.

mod support;

use std::fs;
use std::path::Path;

use support::{run_in, stderr, stdout};

fn fixture() -> std::path::PathBuf {
    support::repo().join("tests/fixtures/locks")
}

/// A copy of the locked fixture, its committed output included.
fn locked_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    support::docker::copy_tree(&fixture(), dir.path());
    // Not part of the project: the corpus, and what a local `gscgen lock` leaves.
    for extra in ["invalid", ".gscgen", "generated/.gscgen.lock"] {
        let path = dir.path().join(extra);
        let _ = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
    }
    dir
}

const IMAGE_LOCK: &str = "generated/requirements/lock/images/hello.txt";

/// A pinned version in a lock file, e.g. `idna==3.20`.
fn pin(lock: &str, package: &str) -> String {
    lock.lines()
        .find(|l| l.starts_with(&format!("{package}==")))
        .map(|l| l.trim_end_matches(" \\").to_owned())
        .unwrap_or_else(|| panic!("{package} is not pinned in:\n{lock}"))
}

#[test]
fn the_committed_fixture_is_fresh() {
    let dir = locked_copy();
    let output = run_in(dir.path(), &["--deny-warnings", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
}

#[test]
fn the_dockerfiles_install_the_lock_with_hashes_and_nothing_else() {
    let dir = locked_copy();
    let base = fs::read_to_string(dir.path().join("generated/compose/dockerfiles/Dockerfile.base")).unwrap();
    let image =
        fs::read_to_string(dir.path().join("generated/compose/dockerfiles/Dockerfile.hello")).unwrap();
    for (text, lock) in [(&base, "base-image.txt"), (&image, "hello.txt")] {
        assert!(
            text.contains(&format!(
                "pip install --require-hashes --no-deps --requirement /tmp/requirements/{lock}"
            )),
            "{text}"
        );
        // Only the lock is copied in: no requirements file a resolution could start from.
        assert!(!text.contains("generated/requirements/base.txt"), "{text}");
        // The pip cache mount stays: a warm rebuild downloads nothing, and pip still checks
        // every cached file against the lock's hashes.
        assert!(text.contains("--mount=type=cache,target=/root/.cache/pip"), "{text}");
    }
    assert!(image.contains("COPY generated/requirements/lock/images/hello.txt"), "{image}");
    let output = support::tool("hadolint")
        .args(["--no-color", "--failure-threshold", "style"])
        .arg(dir.path().join("generated/compose/dockerfiles/Dockerfile.base"))
        .arg(dir.path().join("generated/compose/dockerfiles/Dockerfile.hello"))
        .output()
        .unwrap();
    assert!(output.status.success(), "hadolint: {}{}", stdout(&output), stderr(&output));
}

#[test]
fn every_locked_pin_has_hashes_and_a_reason() {
    let lock = fs::read_to_string(fixture().join(IMAGE_LOCK)).unwrap();
    // The image's lock holds the base image's packages too, constrained by its lock.
    let base = fs::read_to_string(fixture().join("generated/requirements/lock/base-image.txt")).unwrap();
    assert_eq!(pin(&lock, "six"), pin(&base, "six"));
    assert!(lock.contains("# constraint: sha256:"), "{lock}");
    assert!(lock.contains("# input: base six>=1.16.0\n# input: hello idna>=3.10\n"), "{lock}");
    let mut pins = 0;
    let lines: Vec<&str> = lock.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with('#') || line.starts_with(' ') {
            continue;
        }
        pins += 1;
        assert!(line.contains("==") && line.ends_with(" \\"), "{line}");
        assert!(lines[i + 1].trim_start().starts_with("--hash=sha256:"), "{line}");
    }
    assert_eq!(pins, 2, "{lock}");
    assert!(lock.contains("    # via group hello\n"), "{lock}");
}

#[test]
fn a_changed_requirement_is_stale_at_its_span() {
    let dir = locked_copy();
    let config = dir.path().join("project.kdl");
    let text = fs::read_to_string(&config).unwrap().replace("\"idna>=3.10\"", "\"idna>=3.11\"");
    fs::write(&config, text).unwrap();
    let before = fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap();
    for command in ["check", "render"] {
        let output = run_in(dir.path(), &[command]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("gscgen::lock::stale"), "{err}");
        assert!(
            err.contains("`idna>=3.11` (group hello) is not in the lock of image hello, group hello"),
            "{err}"
        );
        // The span is the requirement in project.kdl; the help says what to run.
        assert!(err.contains("\"idna>=3.11\""), "{err}");
        assert!(err.contains("run `gscgen lock`"), "{err}");
        // The old requirement is named as what the locks were made from.
        assert!(err.contains("was made with `idna>=3.10` (group hello)"), "{err}");
    }
    // Nothing was written.
    assert_eq!(fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap(), before);
}

#[test]
fn a_hand_edited_lock_is_refused_and_kept() {
    let dir = locked_copy();
    let path = dir.path().join(IMAGE_LOCK);
    let lock = fs::read_to_string(&path).unwrap();
    let old = pin(&lock, "idna");
    let edited = lock.replace(&old, "idna==3.10");
    fs::write(&path, &edited).unwrap();
    for command in ["check", "render", "diff"] {
        let output = run_in(dir.path(), &[command]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("gscgen::lock::edited"), "{err}");
        assert!(
            err.contains(
                "the lock of image hello (generated/requirements/lock/images/hello.txt) was edited by hand"
            ),
            "{err}"
        );
    }
    // `render --force` does not paper over it either: only `gscgen lock` writes locks.
    let output = run_in(dir.path(), &["render", "--force"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(&path).unwrap(), edited, "the edit is kept for the user to look at");
}

#[test]
fn a_missing_lock_is_named() {
    let dir = locked_copy();
    fs::remove_file(dir.path().join(IMAGE_LOCK)).unwrap();
    let output = run_in(dir.path(), &["check"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("gscgen::lock::missing"), "{err}");
    assert!(
        err.contains("1 lock file is missing: image hello (generated/requirements/lock/images/hello.txt)"),
        "{err}"
    );
}

/// The lock codes' corpus (tests/fixtures/locks/invalid/): each case, as project.kdl next
/// to the fixture's committed locks, reports its code and exits 2 (docs/diagnostics.md
/// shows the same files).
#[test]
fn each_lock_case_reports_its_code() {
    let cases = fixture().join("invalid");
    let mut names: Vec<_> = fs::read_dir(&cases).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert_eq!(names.len(), 3);
    for case in names {
        let text = fs::read_to_string(&case).unwrap();
        let code = text.lines().next().unwrap().strip_prefix("// expect: ").unwrap().to_owned();
        let dir = locked_copy();
        fs::write(dir.path().join("project.kdl"), &text).unwrap();
        if code == "gscgen::lock::edited" {
            let path = dir.path().join(IMAGE_LOCK);
            let lock = fs::read_to_string(&path).unwrap();
            fs::write(&path, lock.replace(&pin(&lock, "idna"), "idna==3.10")).unwrap();
        }
        let output = run_in(dir.path(), &["check"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{}: {err}", case.display());
        assert!(err.contains(&code) && err.contains("help:"), "{}: {err}", case.display());
    }
}

#[test]
fn lock_without_lock_true_says_how() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("project.kdl"),
        "project demo { python \"3.11\" }\ngroup base { require \"six>=1.16\" }\n",
    )
    .unwrap();
    let output = run_in(dir.path(), &["lock"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("add `lock=#true` to `targets` › `requirements`"), "{err}");
}

/// The round trip against PyPI: lock a fresh project, check it, change a requirement,
/// see `check` fail, lock again; `lock --check` agrees; `--upgrade-package` moves only
/// what it names.
#[test]
fn lock_round_trip_against_pypi() {
    support::needs_network("pypi.org", "gscgen lock resolves with uv against PyPI");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("project.kdl");
    let project = fs::read_to_string(fixture().join("project.kdl")).unwrap();
    // Old pins, so that an upgrade has somewhere to go.
    fs::write(&config, project.replace("\"six>=1.16.0\"", "\"six>=1.16.0,<1.17\"")).unwrap();
    fs::create_dir_all(dir.path().join("app")).unwrap();
    fs::copy(fixture().join("app/main.py"), dir.path().join("app/main.py")).unwrap();

    let output = run_in(dir.path(), &["check"]);
    assert!(stderr(&output).contains("gscgen::lock::missing"), "{}", stderr(&output));
    let output = run_in(dir.path(), &["lock"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).contains("locked image hello: 2 packages (new lock)"), "{}", stdout(&output));
    let lock = fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap();
    assert_eq!(pin(&lock, "six"), "six==1.16.0");
    let output = run_in(dir.path(), &["--deny-warnings", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run_in(dir.path(), &["lock", "--check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // A new requirement: check fails offline, lock --check fails, lock fixes it.
    fs::write(
        &config,
        fs::read_to_string(&config).unwrap().replace("\"six>=1.16.0,<1.17\"", "\"six>=1.16.0\""),
    )
    .unwrap();
    assert!(stderr(&run_in(dir.path(), &["check"])).contains("gscgen::lock::stale"));
    let output = run_in(dir.path(), &["lock", "--check"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // uv keeps what the lock pins while it is allowed: six stays at 1.16.0.
    let output = run_in(dir.path(), &["lock"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lock = fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap();
    assert_eq!(pin(&lock, "six"), "six==1.16.0", "{}", stdout(&output));
    let idna = pin(&lock, "idna");

    // Upgrading one package moves it and nothing else.
    let output = run_in(dir.path(), &["lock", "--upgrade-package", "six"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("six 1.16.0 → "), "{}", stdout(&output));
    let lock = fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap();
    assert_ne!(pin(&lock, "six"), "six==1.16.0");
    assert_eq!(pin(&lock, "idna"), idna);
    let output = run_in(dir.path(), &["--deny-warnings", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Proof by building (real Docker Engine, no registry: `scripts/local-images` makes the
/// `python:3.11-slim` stand-in): the generated build script installs exactly the locked
/// versions; then a hash in the image's lock is changed behind gscgen's back (as a
/// tampered or mistyped file would be) and pip refuses to install, so the build fails.
#[test]
fn built_images_install_exactly_the_lock_and_refuse_other_files() {
    use support::docker::{
        build_script_logging, buildkit_path, local_images, require_engine, run, tail, text, timed,
    };
    require_engine();
    local_images(&["python"]);
    let path = buildkit_path();
    let dir = locked_copy();
    let logs = dir.path().join("build-logs");
    let output = build_script_logging(dir.path(), &path, &logs);
    let log = fs::read_to_string(logs.join("hello.log")).unwrap_or_default();
    assert!(output.status.success(), "build failed:\n{}\n{}", text(&output), tail(log.as_bytes(), 40));
    let ran = run(
        "docker run locked-hello",
        timed("docker").args(["run", "--rm", "locked-hello:latest"]).env("PATH", &path),
    );
    let lock = fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap();
    let installed = String::from_utf8_lossy(&ran.stdout).into_owned();
    assert_eq!(installed, format!("{}\n{}\n", pin(&lock, "six"), pin(&lock, "idna")));

    // A rebuild of every layer (`--no-cache`, passed through to `docker build`) installs
    // the same lock again, hashes checked, through the pip cache mount. (Whether pip can serve
    // it from that cache depends on the index's HTTP headers: docs/locking.md, "Builds install
    // exactly the lock", says why it cannot here.)
    let rebuild = timed("sh")
        .args(["generated/scripts/docker-build.sh", "--no-cache"])
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("GSCGEN_BUILD_LOGS", &logs)
        .output()
        .unwrap();
    let log = fs::read_to_string(logs.join("hello.log")).unwrap_or_default();
    assert!(rebuild.status.success(), "{}\n{}", text(&rebuild), tail(log.as_bytes(), 40));
    assert!(
        log.contains("--mount=type=cache,target=/root/.cache/pip     pip install --require-hashes --no-deps"),
        "{}",
        tail(log.as_bytes(), 40)
    );
    assert!(
        log.contains(&format!("Successfully installed {}", pin(&lock, "idna").replace("==", "-"))),
        "{log}"
    );

    let lock_path = dir.path().join(IMAGE_LOCK);
    let idna = lock.split("idna==").nth(1).unwrap();
    let first_hash = idna.split("--hash=sha256:").nth(1).unwrap()[..64].to_owned();
    let mut tampered = lock.clone();
    for hash in idna.split("--hash=sha256:").skip(1).map(|h| &h[..64]) {
        tampered = tampered.replace(hash, &"0".repeat(64));
    }
    assert_ne!(tampered, lock, "{first_hash}");
    fs::write(&lock_path, tampered).unwrap();
    let output = build_script_logging(dir.path(), &path, &logs);
    let log = fs::read_to_string(logs.join("hello.log")).unwrap_or_default();
    assert!(!output.status.success(), "a lock whose hashes match no file must not build:\n{log}");
    assert!(log.contains("DO NOT MATCH THE HASHES"), "{}", tail(log.as_bytes(), 40));
}

/// Builds a wheel of `name` `version` (pure Python, by hand, as the wheel spec lays it out)
/// into `root/simple/<name>/`, with a PEP 503 page that links it with its sha256; returns the
/// sha256.
fn serve_wheel(root: &Path, name: &str, version: &str) -> String {
    let script = r#"
import base64, hashlib, os, sys, zipfile
root, name, version = sys.argv[1:4]
dist = name.replace("-", "_")
info = f"{dist}-{version}.dist-info"
files = {
    f"{dist}/__init__.py": f"VERSION = {version!r}\n".encode(),
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
    f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: gscgen-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = "".join(
    f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
    for path, data in files.items()
)
files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
folder = os.path.join(root, "simple", name)
os.makedirs(folder, exist_ok=True)
wheel = f"{dist}-{version}-py3-none-any.whl"
with zipfile.ZipFile(os.path.join(folder, wheel), "w") as archive:
    for path, data in files.items():
        archive.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
sha = hashlib.sha256(open(os.path.join(folder, wheel), "rb").read()).hexdigest()
with open(os.path.join(folder, "index.html"), "w") as page:
    page.write(f'<!DOCTYPE html><html><body><a href="{wheel}#sha256={sha}">{wheel}</a></body></html>\n')
print(sha)
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(root)
        .args([name, version])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).trim().to_owned()
}

/// A simple-API index on loopback, served by Python's http.server for as long as it lives.
struct LoopbackIndex {
    server: std::process::Child,
    url: String,
}

impl LoopbackIndex {
    fn start(root: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = std::process::Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory"])
            .arg(root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self { server, url: format!("http://127.0.0.1:{port}/simple") }
    }
}

impl Drop for LoopbackIndex {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// `require … index=NAME` is uv's explicit index: the bound package comes from that index
/// only, and nothing else is looked up there. The loopback index serves `gscgen-demo` 1.0 and
/// a `six` 99.0 that PyPI does not have: the lock takes gscgen-demo (with the hash of the
/// wheel built here) from it and six from PyPI.
#[test]
fn a_package_bound_to_an_index_comes_from_it_alone() {
    support::needs_network("pypi.org", "the unbound packages resolve with uv against PyPI");
    let served = tempfile::tempdir().unwrap();
    let demo_sha = serve_wheel(served.path(), "gscgen-demo", "1.0");
    serve_wheel(served.path(), "six", "99.0");
    let index = LoopbackIndex::start(served.path());

    let dir = tempfile::tempdir().unwrap();
    let project = fs::read_to_string(fixture().join("project.kdl")).unwrap().replace(
        "    require \"idna>=3.10\"\n",
        "    require \"idna>=3.10\"\n    require \"gscgen-demo==1.0\" index=local\n",
    );
    let project = format!("{project}\nindex local url=\"{}\"\n", index.url);
    fs::write(dir.path().join("project.kdl"), &project).unwrap();
    fs::create_dir_all(dir.path().join("app")).unwrap();
    let cache = dir.path().join("uv-cache");
    let lock =
        support::gscgen().current_dir(dir.path()).env("UV_CACHE_DIR", &cache).arg("lock").output().unwrap();
    assert_eq!(lock.status.code(), Some(0), "{}{}", stdout(&lock), stderr(&lock));

    let text = fs::read_to_string(dir.path().join(IMAGE_LOCK)).unwrap();
    assert_eq!(pin(&text, "gscgen-demo"), "gscgen-demo==1.0");
    assert!(
        text.contains(&format!("gscgen-demo==1.0 \\\n    --hash=sha256:{demo_sha}\n    # via group hello\n")),
        "{text}"
    );
    assert_eq!(pin(&text, "six"), "six==1.17.0", "six must come from PyPI, not the explicit index");
    assert!(text.contains(&format!("--extra-index-url {}\n", index.url)), "{text}");
    assert!(
        text.contains(&format!("# input: hello gscgen-demo==1.0 index=local url={}\n", index.url)),
        "{text}"
    );
    // The base image's lock binds nothing: no extra index there.
    let base = fs::read_to_string(dir.path().join("generated/requirements/lock/base-image.txt")).unwrap();
    assert!(!base.contains("--extra-index-url"), "{base}");

    let output = run_in(dir.path(), &["--deny-warnings", "check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dockerfile =
        fs::read_to_string(dir.path().join("generated/compose/dockerfiles/Dockerfile.hello")).unwrap();
    assert!(
        dockerfile.contains(
            "RUN --mount=type=cache,target=/root/.cache/pip \\\n    --mount=type=secret,id=pip-netrc,target=/root/.netrc \\\n    pip install --require-hashes"
        ),
        "{dockerfile}"
    );
    let hadolint = support::tool("hadolint")
        .args(["--no-color", "--failure-threshold", "style"])
        .arg(dir.path().join("generated/compose/dockerfiles/Dockerfile.hello"))
        .output()
        .unwrap();
    assert!(hadolint.status.success(), "{}{}", stdout(&hadolint), stderr(&hadolint));

    // The index moves: every lock that binds a package to it is stale, offline.
    fs::write(
        dir.path().join("project.kdl"),
        project.replace(&index.url, "https://packages.example.org/simple"),
    )
    .unwrap();
    let output = run_in(dir.path(), &["check"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("gscgen::lock::stale")
            && err.contains("index=local url=https://packages.example.org/simple"),
        "{err}"
    );
}
