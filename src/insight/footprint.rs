//! `gscgen footprint`: how much each image installs, measured. The resolution itself is
//! uv's (run by `app`, which owns the network and the cache); this module decides what to
//! resolve and reads uv's answer, a PEP 751 lock file (`pylock.toml`), into numbers.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{Model, PythonVersion};

/// What to resolve: one image (base image's groups and its own), or the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementSet {
    /// `celery`, or `all (every group)` for the baseline.
    pub name: String,
    pub baseline: bool,
    /// Requirement lines, in resolution order, without duplicates.
    pub lines: Vec<String>,
}

/// Every image's set, then the baseline: the group named `all` when there is one (what a
/// single shared requirements.txt installs), else every group together.
pub fn requirement_sets(model: &Model) -> Vec<RequirementSet> {
    let lines_of = |groups: &mut dyn Iterator<Item = &usize>| {
        let mut lines: Vec<String> = Vec::new();
        for group in groups {
            for requirement in &model.groups[*group].requires {
                if !lines.contains(&requirement.line) {
                    lines.push(requirement.line.clone());
                }
            }
        }
        lines
    };
    let mut sets: Vec<RequirementSet> = model
        .images
        .iter()
        // A plain image (`from=`) has no Python environment to measure.
        .filter(|image| image.on_base())
        .map(|image| RequirementSet {
            name: image.name.value.clone(),
            baseline: false,
            lines: lines_of(&mut model.base.closure.iter().chain(&image.closure)),
        })
        .collect();
    let baseline = match model.groups.iter().position(|g| g.name.value == "all") {
        Some(all) => RequirementSet {
            name: "all (group)".to_owned(),
            baseline: true,
            lines: lines_of(&mut model.closure(&[all]).iter()),
        },
        None => {
            let every: Vec<usize> = (0..model.groups.len()).collect();
            RequirementSet {
                name: "every group".to_owned(),
                baseline: true,
                lines: lines_of(&mut model.closure(&every).iter()),
            }
        }
    };
    sets.push(baseline);
    sets
}

/// The parts of a PEP 751 lock file this report reads.
#[derive(Debug, Deserialize)]
struct LockFile {
    #[serde(default)]
    packages: Vec<LockedPackage>,
}

#[derive(Debug, Deserialize)]
struct LockedPackage {
    name: String,
    #[serde(default)]
    sdist: Option<Artifact>,
    #[serde(default)]
    wheels: Vec<Artifact>,
}

#[derive(Debug, Deserialize)]
struct Artifact {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    size: Option<u64>,
}

impl Artifact {
    fn file_name(&self) -> &str {
        self.name.as_deref().or_else(|| self.url.as_deref().and_then(|u| u.rsplit('/').next())).unwrap_or("")
    }
}

/// What one requirement set costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footprint {
    pub name: String,
    pub baseline: bool,
    /// Packages installed (the whole resolution, dependencies included).
    pub packages: usize,
    /// Bytes downloaded: the wheel pip would pick for the platform, or the sdist.
    pub download_bytes: u64,
    /// Packages with no wheel for the platform: built from source in the builder stage.
    pub source_builds: Vec<String>,
}

/// Reads uv's lock file for one set. The lock was resolved for one platform, so it lists
/// only wheels that install there; of those, pip prefers the most specific (an exact
/// CPython tag over `abi3` over a pure-Python wheel), and so does this count.
pub fn read_lock(name: &str, baseline: bool, text: &str, python: PythonVersion) -> Result<Footprint, String> {
    let lock: LockFile =
        toml::from_str(text).map_err(|e| format!("uv's lock file is not PEP 751 TOML: {e}"))?;
    let exact = format!("-cp{}{}-", python.major, python.minor);
    let mut download_bytes = 0;
    let mut source_builds = Vec::new();
    for package in &lock.packages {
        let wheel = package
            .wheels
            .iter()
            .find(|w| w.file_name().contains(&exact))
            .or_else(|| package.wheels.iter().find(|w| w.file_name().contains("-abi3-")))
            .or_else(|| package.wheels.first());
        match (wheel, &package.sdist) {
            (Some(wheel), _) => download_bytes += wheel.size.unwrap_or(0),
            (None, Some(sdist)) => {
                download_bytes += sdist.size.unwrap_or(0);
                source_builds.push(package.name.clone());
            }
            // A package from a path or a VCS URL: nothing to download from an index.
            (None, None) => {}
        }
    }
    Ok(Footprint {
        name: name.to_owned(),
        baseline,
        packages: lock.packages.len(),
        download_bytes,
        source_builds,
    })
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The table `gscgen footprint` prints: each image against the baseline.
pub fn text(rows: &[Footprint], platform: &str, python: PythonVersion) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Resolved by uv from PyPI for CPython {python} on {platform} (download sizes of the wheels pip picks)."
    );
    let baseline = rows.iter().find(|r| r.baseline);
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(5);
    let _ =
        writeln!(out, "\n  {:width$}  {:>8}  {:>10}  {:>11}", "image", "packages", "download", "of baseline");
    for row in rows {
        let share = match baseline {
            Some(b) if b.download_bytes > 0 && !row.baseline => {
                format!("{:.0} %", row.download_bytes as f64 * 100.0 / b.download_bytes as f64)
            }
            _ => String::new(),
        };
        if row.baseline {
            let _ = writeln!(out);
        }
        let line = format!(
            "  {:width$}  {:>8}  {:>10}  {:>11}",
            row.name,
            row.packages,
            megabytes(row.download_bytes),
            share
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let sources: Vec<String> = rows
        .iter()
        .filter(|r| !r.source_builds.is_empty())
        .map(|r| format!("{}: {}", r.name, r.source_builds.join(", ")))
        .collect();
    if !sources.is_empty() {
        let _ = writeln!(out, "\nNo wheel for the platform (built from source): {}", sources.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY311: PythonVersion = PythonVersion { major: 3, minor: 11 };

    /// A lock in the shape uv 0.13 writes (hand-written, sizes made up).
    const LOCK: &str = r#"
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "pure"
version = "1.0"
wheels = [{ url = "https://files.example/p/pure-1.0-py3-none-any.whl", size = 1000 }]

[[packages]]
name = "native"
version = "2.0"
sdist = { url = "https://files.example/n/native-2.0.tar.gz", size = 99999 }
wheels = [
    { url = "https://files.example/n/native-2.0-cp311-cp311-manylinux_2_28_x86_64.whl", size = 300 },
    { url = "https://files.example/n/native-2.0-cp37-abi3-manylinux_2_28_x86_64.whl", size = 200 },
    { url = "https://files.example/n/native-2.0-py3-none-any.whl", size = 100 },
]

[[packages]]
name = "abi"
version = "3.0"
wheels = [
    { url = "https://files.example/a/abi-3.0-py3-none-any.whl", size = 10 },
    { url = "https://files.example/a/abi-3.0-cp38-abi3-manylinux_2_28_x86_64.whl", size = 20 },
]

[[packages]]
name = "source-only"
version = "4.0"
sdist = { url = "https://files.example/s/source_only-4.0.tar.gz", size = 5 }
"#;

    #[test]
    fn the_most_specific_wheel_counts_and_sdists_are_source_builds() {
        let footprint = read_lock("x", false, LOCK, PY311).unwrap();
        assert_eq!(footprint.packages, 4);
        assert_eq!(footprint.download_bytes, 1000 + 300 + 20 + 5);
        assert_eq!(footprint.source_builds, ["source-only"]);
    }

    #[test]
    fn a_broken_lock_is_an_error_not_a_panic() {
        assert!(read_lock("x", false, "packages = 3", PY311).is_err());
        assert!(read_lock("x", false, "[[packages]]\nversion = \"1\"", PY311).is_err());
    }
}
