//! `gscgen footprint`: resolves each image's requirements with uv (network: PyPI, or the
//! index uv is configured for) and reports package counts and download sizes against the
//! baseline. The only command that needs the network; its answers are cached in
//! `.gscgen/footprint/`, keyed by everything that decides a resolution except time (new
//! releases on PyPI): `--refresh` resolves again.

use std::io::Write as _;
use std::process::{Command as Process, Stdio};

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Output, config_dir, exit, failure};
use crate::cli::ReportFormat;
use crate::emit::cache::state_dir;
use crate::insight::footprint::{self, Footprint, RequirementSet};
use crate::model::PythonVersion;

#[derive(Serialize)]
struct FootprintJson<'a> {
    python: String,
    platform: &'a str,
    images: &'a [Footprint],
}

pub(super) fn footprint(
    config: &Utf8Path,
    deny_warnings: bool,
    platform: &str,
    refresh: bool,
    format: ReportFormat,
) -> Output {
    let compiled = match super::insight::compiled(config, deny_warnings) {
        Ok(c) => c,
        Err(output) => return output,
    };
    let python = compiled.model.project.python;
    let Some(cache) = state_dir(&config_dir(config)).map(|s| s.join("footprint")) else {
        return failure(exit::IO, format!("error: cannot create {}/.gscgen\n", config_dir(config)));
    };
    if let Err(e) = std::fs::create_dir_all(&cache) {
        return failure(exit::IO, format!("error: cannot create {cache}: {e}\n"));
    }
    let uv = match uv_identity() {
        Ok(uv) => uv,
        Err(message) => return failure(exit::IO, format!("error: {message}\n")),
    };
    let project_root = config_dir(config);
    let mut rows = Vec::new();
    for set in footprint::requirement_sets(&compiled.model) {
        let context = Resolution { cache: &cache, project_root: &project_root, uv: &uv, python, platform };
        let lock = match resolve(&context, &set, refresh) {
            Ok(lock) => lock,
            Err(message) => return failure(exit::IO, format!("error: {message}\n")),
        };
        match footprint::read_lock(&set.name, set.baseline, &lock, python) {
            Ok(row) => rows.push(row),
            Err(message) => return failure(exit::IO, format!("error: {}: {message}\n", set.name)),
        }
    }
    let stdout = match format {
        ReportFormat::Text => footprint::text(&rows, platform, python),
        ReportFormat::Json => {
            let json = FootprintJson { python: python.to_string(), platform, images: &rows };
            let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    Output { code: exit::SUCCESS, stdout, stderr: String::new() }
}

/// Everything besides the requirement lines that decides a resolution.
struct Resolution<'a> {
    cache: &'a Utf8Path,
    /// uv runs here, so it finds the project's own `uv.toml` / `pyproject.toml` settings.
    project_root: &'a Utf8Path,
    /// uv's version and the index settings from the environment (see [`uv_identity`]).
    uv: &'a str,
    python: PythonVersion,
    platform: &'a str,
}

/// uv's version and the environment variables that choose its index: part of the cache key,
/// so another uv or another index resolves again.
fn uv_identity() -> Result<String, String> {
    let output = Process::new("uv").arg("--version").output().map_err(|e| missing_uv(&e))?;
    let mut identity = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    for variable in [
        "UV_INDEX",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
        "UV_CONFIG_FILE",
    ] {
        if let Some(value) = std::env::var_os(variable) {
            identity.push_str(&format!("\n{variable}={}", value.to_string_lossy()));
        }
    }
    Ok(identity)
}

/// Why uv could not run, and exactly what to run about it. A gscgen built in a checkout
/// (`<repo>/target/<profile>/gscgen`) whose validators are installed has a uv in
/// `<repo>/target/validators/venv/bin`: the hint names that folder. It is not used behind
/// the user's back: which uv resolves is part of the answer (and of the cache key).
pub(super) fn missing_uv(error: &std::io::Error) -> String {
    let mut message = format!(
        "cannot run uv ({error}); footprint resolves with uv, which must be on PATH\n\
         hint: install it: `pip install uv` (the tests pin uv==0.13.9, scripts/validators.txt)"
    );
    let validators = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("validators/venv/bin")))
        .filter(|bin| bin.join("uv").is_file());
    if let Some(bin) = validators {
        message.push_str(&format!(
            "\nhint: or use the uv of this checkout's validators: export PATH=\"{}:$PATH\"",
            bin.display()
        ));
    } else {
        message.push_str(
            "\nhint: in a gscgen checkout, `scripts/install-validators` installs one into \
             target/validators/venv/bin: export PATH=\"$PWD/target/validators/venv/bin:$PATH\"",
        );
    }
    message
}

/// uv's PEP 751 lock of one requirement set, from the cache or from uv.
fn resolve(context: &Resolution<'_>, set: &RequirementSet, refresh: bool) -> Result<String, String> {
    let Resolution { cache, project_root, uv, python, platform } = context;
    let input = set.lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut hash = Sha256::new();
    hash.update(format!("{uv}\npython {python}\nplatform {platform}\n{input}"));
    let key: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    // uv insists on the PEP 751 file name: `pylock.<name>.toml`.
    let path: Utf8PathBuf = cache.join(format!("pylock.{key}.toml"));
    if !refresh && let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text);
    }
    let partial = cache.join(format!("pylock.{key}partial.toml"));
    let mut child = Process::new("uv")
        .current_dir(if project_root.as_str().is_empty() { Utf8Path::new(".") } else { project_root })
        .args(["pip", "compile", "-", "--quiet", "--no-header", "--format", "pylock.toml"])
        .args(["--python-version", &python.to_string(), "--python-platform", platform])
        .arg("--output-file")
        .arg(
            std::path::absolute(partial.as_std_path())
                .map_err(|e| format!("cannot locate {partial}: {e}"))?,
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run uv ({e})"))?;
    // A failed write means uv stopped reading (it exited early): its stderr says why.
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| format!("uv failed: {e}"))?;
    if !output.status.success() || matches!(written, Some(Err(_))) {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "uv could not resolve {} (it needs network access to the package index):\n{}",
            set.name,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    std::fs::rename(&partial, &path).map_err(|e| format!("cannot write {path}: {e}"))?;
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))
}
