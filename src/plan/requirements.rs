//! `requirements/<group>.txt`: one file per group, `-r` lines for the direct includes, then
//! the group's own requirements, normalised.

use askama::Template;

use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::{Model, RequirementsTarget};
use crate::rules::layout::requirements_file_name as file_name;
use crate::rules::lock::{LOCK_DIR, lock_sets};

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
    // The locks, as `gscgen lock` wrote them and resolve verified them: the same bytes.
    let sets = lock_sets(model);
    if !model.locks.is_empty() {
        if sets.len() != model.locks.len() {
            return Err(PlanError {
                path: model.layout.requirements.join(LOCK_DIR),
                message: "the locks do not match the lock sets (resolve checks this)".to_owned(),
            });
        }
        for (set, lock) in sets.iter().zip(&model.locks) {
            let relative = set.path.strip_prefix(&model.layout.requirements).unwrap_or(&set.path);
            planner.add(relative, lock.render(set, &context.config_name), FileMode::Regular);
        }
    }
    Ok(())
}
