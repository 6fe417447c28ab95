//! The distroless Python images gscgen knows: which Python each ships and which Debian
//! builder matches it. Resolve checks a `runtime=distroless` target against this table;
//! the Dockerfile renderer reads it to choose the builder and leave out what a distroless
//! runtime cannot run (a shell, a package manager).

use crate::model::PythonVersion;

/// A distroless Python image gscgen knows, with the Python it ships. The builder stages
/// must use the same Debian release's own Python: the virtual environment records the
/// interpreter's path (`/usr/bin/python3`), which python:*-slim images do not have.
pub(crate) struct Distroless {
    /// Repository without tag or digest.
    pub(crate) repository: &'static str,
    pub(crate) python: PythonVersion,
    /// Default builder image (`base-image from`).
    pub(crate) builder: &'static str,
    /// Accepted prefixes of an explicit `base-image from` (same Debian release).
    pub(crate) builder_prefixes: &'static [&'static str],
}

/// The published distroless Python images (GoogleContainerTools/distroless
/// `python3/testdata/debian12.yaml`, `debian13.yaml`: Python 3.11.2 and 3.13.5).
pub(crate) const DISTROLESS: &[Distroless] = &[
    Distroless {
        repository: "gcr.io/distroless/python3-debian12",
        python: PythonVersion { major: 3, minor: 11 },
        builder: "debian:12-slim",
        builder_prefixes: &["debian:12", "debian:bookworm", "docker.io/library/debian:12"],
    },
    Distroless {
        repository: "gcr.io/distroless/python3-debian13",
        python: PythonVersion { major: 3, minor: 13 },
        builder: "debian:13-slim",
        builder_prefixes: &["debian:13", "debian:trixie", "docker.io/library/debian:13"],
    },
];

/// The distroless image a runtime reference belongs to.
pub(crate) fn distroless_of(image: &str) -> Option<&'static Distroless> {
    let repository = image.split(['@']).next().unwrap_or(image);
    // Strip a tag: the last `:` after the last `/`.
    let repository = match repository.rfind(':') {
        Some(at) if !repository[at..].contains('/') => &repository[..at],
        _ => repository,
    };
    DISTROLESS.iter().find(|d| d.repository == repository)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distroless_lookup_ignores_tags_and_digests() {
        for image in [
            "gcr.io/distroless/python3-debian12",
            "gcr.io/distroless/python3-debian12:nonroot",
            "gcr.io/distroless/python3-debian12@sha256:abc",
            "gcr.io/distroless/python3-debian12:debug@sha256:abc",
        ] {
            assert_eq!(
                distroless_of(image).map(|d| d.python),
                Some(PythonVersion { major: 3, minor: 11 }),
                "{image}"
            );
        }
        assert!(distroless_of("gcr.io/distroless/python3-debian11").is_none());
        assert!(distroless_of("localhost:5000/python3-debian12").is_none());
    }
}
