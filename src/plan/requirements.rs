//! `requirements/<group>.txt`: one file per group, `-r` lines for the direct includes, then
//! the group's own requirements, normalised.

use askama::Template;

use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::{Model, RequirementsTarget};
use crate::rules::layout::requirements_file_name as file_name;

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
    _: &RequirementsTarget,
    planner: &mut Planner,
) -> Result<(), PlanError> {
    for (id, group) in model.groups.iter().enumerate() {
        let file = GroupFile {
            config_name: &context.config_name,
            name: &group.name.value,
            description: group.description.as_deref().map(|d| d.lines().collect()).unwrap_or_default(),
            includes: group.includes.iter().map(|i| file_name(model, i.value)).collect(),
            requires: group.requires.iter().map(|r| r.line.as_str()).collect(),
        };
        planner.render(file_name(model, id), &file, FileMode::Regular)?;
    }
    Ok(())
}
