//! The `dependency-groups` target: the folder of its `pyproject.toml`, and the one rule the
//! PEP 735 table adds to group names.
//!
//! PEP 735 compares group names after PEP 503 normalisation (lowercase, every run of `-`,
//! `_` and `.` becomes one `-`), and a table whose names collide that way is invalid: pip
//! and uv reject the whole file. gscgen's own rule (`gscgen::name::collision`) already maps
//! `_` to `-`, so `api_x` and `api-x` never get here; what it does not map is a *run*:
//! `api--x`, `api__x` and `api-x` are three gscgen names but one dependency group.

use std::collections::HashMap;

use crate::config::Config;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::DependencyGroupsTarget;
use crate::rules::names::dns_name;

/// Resolves `targets { dependency-groups … }`. `None` when the target is off, which it is
/// unless listed.
pub(super) fn target(config: &Config, diagnostics: &mut Diagnostics) -> Option<DependencyGroupsTarget> {
    config.targets.as_ref()?.dependency_groups.as_ref()?;
    check_names(config, diagnostics);
    Some(DependencyGroupsTarget {})
}

/// PEP 503 normalisation, which PEP 735 prescribes for group names: `Api__X.y` → `api-x-y`.
/// pep508_rs, which already normalises requirement names, does it; a name it refuses is
/// reported by the name checks, and is compared lower-cased here.
pub(crate) fn normalize(name: &str) -> String {
    pep508_rs::PackageName::new(name.to_owned()).map_or_else(|_| name.to_lowercase(), |n| n.to_string())
}

fn check_names(config: &Config, diagnostics: &mut Diagnostics) {
    let mut first_of: HashMap<String, usize> = HashMap::with_capacity(config.groups.len());
    for (id, group) in config.groups.iter().enumerate() {
        let name = &group.name;
        let normal = normalize(&name.value);
        let Some(&first) = first_of.get(&normal) else {
            first_of.insert(normal, id);
            continue;
        };
        let first = &config.groups[first].name;
        // Same name: `gscgen::name::duplicate`; same once `_` is `-`: `gscgen::name::collision`.
        if dns_name(&first.value) == dns_name(&name.value) {
            continue;
        }
        diagnostics.push(
            Diagnostic::error(
                Code::DependencyGroupName,
                format!(
                    "groups `{}` and `{}` are one PEP 735 dependency group `{normal}`",
                    first.value, name.value
                ),
                name.span,
                format!("normalises to `{normal}`"),
            )
            .with_label(first.span, "so does this one")
            .with_help(
                "PEP 735 compares group names with every run of `-`, `_` and `.` read as one `-`: rename one \
                 group so the names differ by more than repeated separators",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    /// The examples of PEP 503 and PEP 735, and gscgen's own names.
    #[test]
    fn normalises_like_pep_503() {
        for (name, normal) in [
            ("base", "base"),
            ("api_ingestor", "api-ingestor"),
            ("api--x", "api-x"),
            ("api_-_x", "api-x"),
            ("Friendly-Bard", "friendly-bard"),
            ("FRIENDLY-BARD", "friendly-bard"),
            ("friendly.bard", "friendly-bard"),
            ("friendly_bard", "friendly-bard"),
            ("friendly--bard", "friendly-bard"),
            ("FrIeNdLy-._.-bArD", "friendly-bard"),
            ("test2", "test2"),
        ] {
            assert_eq!(normalize(name), normal, "{name}");
        }
    }
}
