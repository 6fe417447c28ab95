//! `requirements/<group>.txt`: one file per group, `-r` lines for the direct includes, then
//! the group's own requirements, normalised.

use askama::Template;
use camino::Utf8PathBuf;

use super::{FileMode, PlanContext, PlanError, Planner};
use crate::model::{GroupId, Model, RequirementsTarget};

/// Path, relative to the output folder, of a group's requirements file, when the
/// requirements target is on. The one place that lays these files out: the Dockerfiles
/// copy them, the build inputs list them, resolve checks `.dockerignore` against them.
pub fn requirements_path(model: &Model, group: GroupId) -> Option<Utf8PathBuf> {
    let target = model.targets.requirements.as_ref()?;
    Some(target.dir.join(file_name(model, group)))
}

/// `<group>.txt`: also what a `-r` line names (the files sit side by side).
fn file_name(model: &Model, group: GroupId) -> String {
    format!("{}.txt", model.groups[group].name.value)
}

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
    for (id, group) in model.groups.iter().enumerate() {
        let file = GroupFile {
            config_name: &context.config_name,
            name: &group.name.value,
            description: group.description.as_deref().map(|d| d.lines().collect()).unwrap_or_default(),
            includes: group.includes.iter().map(|i| file_name(model, i.value)).collect(),
            requires: group.requires.iter().map(|r| r.line.as_str()).collect(),
        };
        planner.render(target.dir.join(file_name(model, id)), &file, FileMode::Regular)?;
    }
    Ok(())
}
