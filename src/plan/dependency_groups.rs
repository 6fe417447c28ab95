//! `pyproject.toml` with a PEP 735 `[dependency-groups]` table: one entry per group, in
//! config order, `{include-group = "…"}` for each direct include (redundant ones dropped, as
//! in the requirements files), then the group's own requirements, normalised. Expanding a
//! group's includes gives exactly the packages its requirements file installs.

use askama::Template;

use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::{DependencyGroupsTarget, Model};
use crate::rules::quote::{shell_word, toml_comment, toml_key, toml_string};

#[derive(Template)]
#[template(path = "dependency-groups/pyproject.toml", escape = "none")]
struct PyprojectFile<'a> {
    config_name: &'a str,
    /// `generated/pyproject.toml:<last group>` (shell-quoted when needed), for the usage lines:
    /// the last group is usually the one that includes the others.
    example: Option<String>,
    groups: Vec<GroupEntry>,
}

struct GroupEntry {
    /// The group's `description` as `#` comment lines.
    comments: Vec<String>,
    key: String,
    /// TOML values: `{include-group = "base"}` and requirement strings.
    items: Vec<String>,
}

pub(super) fn plan(
    model: &Model,
    context: &PlanContext,
    _: &DependencyGroupsTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    // The usage lines name the file from the project root, where the commands run.
    let path = &model.layout.dependency_groups;
    let groups = model
        .groups
        .iter()
        .map(|group| GroupEntry {
            comments: group
                .description
                .as_deref()
                .map(|d| {
                    d.lines()
                        .map(|line| match toml_comment(line.trim_end()) {
                            line if line.is_empty() => "#".to_owned(),
                            line => format!("# {line}"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            key: toml_key(&group.name.value).into_owned(),
            items: group
                .includes
                .iter()
                .map(|i| format!("{{include-group = {}}}", toml_string(&model.groups[i.value].name.value)))
                .chain(group.requires.iter().map(|r| toml_string(&r.line)))
                .collect(),
        })
        .collect();
    let file = PyprojectFile {
        config_name: &context.config_name,
        example: model
            .groups
            .last()
            .map(|g| toml_comment(&shell_word(&format!("{path}:{}", g.name.value))).into_owned()),
        groups,
    };
    planner.render(DependencyGroupsTarget::FILE_NAME, &file, FileMode::Regular)
}
