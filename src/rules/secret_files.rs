//! Secrets as files (`env-secret KEY … as-file=#true`): where the file lands and the
//! variable that names it. The `*_FILE` convention is the one of the official Docker images
//! (`POSTGRES_PASSWORD_FILE`) and of many libraries: the program reads `KEY_FILE`, a path,
//! and then the file, so the value never sits in the process environment (where `ps e`,
//! `/proc/<pid>/environ`, crash reports and child processes see it). Resolve checks these
//! names against the service's other variables and mounts; Compose and Kubernetes render
//! them, so the two targets agree.

use super::k8s_objects::SECRETS_DIR;

/// The variable that carries the file's path: `KEY_FILE`.
pub(crate) fn file_variable(key: &str) -> String {
    format!("{key}_FILE")
}

/// The file name under [`SECRETS_DIR`] (a Compose secret's `target`, a projected item's
/// `path`): the variable's own name, `KEY`.
pub(crate) fn file_name(key: &str) -> &str {
    key
}

/// Where the container sees the file: `/run/secrets/KEY`.
pub(crate) fn file_path(key: &str) -> String {
    format!("{SECRETS_DIR}/{}", file_name(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(file_variable("WAREHOUSE_DSN"), "WAREHOUSE_DSN_FILE");
        assert_eq!(file_path("WAREHOUSE_DSN"), "/run/secrets/WAREHOUSE_DSN");
    }
}
