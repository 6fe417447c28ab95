//! `requirements/<group>.txt`: one file per group, `-r` lines for the direct includes, then
//! the group's own requirements, normalised.

use askama::Template;

use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::{Model, RequirementsTarget};

#[derive(Template)]
#[template(path = "requirements/group.txt", escape = "none")]
struct GroupFile<'a> {
    config_name: &'a str,
    name: &'a str,
    description: Vec<&'a str>,
    includes: Vec<String>,
    requires: Vec<&'a str>,
}

pub(super) fn plan(
    model: &Model,
    context: &PlanContext,
    target: &RequirementsTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    for group in &model.groups {
        let file = GroupFile {
            config_name: &context.config_name,
            name: &group.name.value,
            description: group.description.as_deref().map(|d| d.lines().collect()).unwrap_or_default(),
            includes: group
                .includes
                .iter()
                .map(|i| format!("{}.txt", model.groups[i.value].name.value))
                .collect(),
            requires: group.requires.iter().map(|r| r.line.as_str()).collect(),
        };
        planner.render(target.dir.join(format!("{}.txt", group.name.value)), &file, FileMode::Regular)?;
    }
    Ok(())
}
