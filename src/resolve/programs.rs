//! A command's program must be installed in the image that runs it.
//!
//! A linter cannot see that the dev override's `watchmedo auto-restart …` runs in an image
//! whose groups never install watchdog: the file is valid, the container crash-loops. gscgen
//! knows each image's requirement closure, so for the programs that container commands
//! usually start (servers, task queues, reloaders, migration and test runners) it knows
//! which distribution installs each, and refuses a command whose program's distribution is
//! not in the closure of the image that runs it. Other programs (`python`, shell tools, the
//! project's own scripts) are not judged: gscgen cannot know where they come from.
//!
//! The table is data, not package metadata: installing packages to read their console
//! scripts would need the network, and `check` never touches it.

use crate::config::{CommandDecl, Config, HealthCheckDecl, HealthDecl};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{Image, Model};
use crate::rules::lock::{attached, image_lock_kind};

/// Program (console script) → the normalised distribution that installs it.
const KNOWN: &[(&str, &str)] = &[
    ("alembic", "alembic"),
    ("celery", "celery"),
    ("daphne", "daphne"),
    ("dramatiq", "dramatiq"),
    ("flask", "flask"),
    ("gunicorn", "gunicorn"),
    ("huey_consumer", "huey"),
    ("hypercorn", "hypercorn"),
    ("jupyter-lab", "jupyterlab"),
    ("pytest", "pytest"),
    ("rq", "rq"),
    ("streamlit", "streamlit"),
    ("uvicorn", "uvicorn"),
    ("watchfiles", "watchfiles"),
    ("watchmedo", "watchdog"),
];

/// The distribution `program` (a bare name or `python -m <module>`'s module) comes from.
fn distribution(program: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(name, _)| *name == program).map(|(_, dist)| *dist)
}

/// Every command of every image of the base and of every service that runs one, checked
/// against the image's closure (or its lock). Plain images (`from=`) are not judged.
pub(super) fn check(config: &Config, model: &Model, diagnostics: &mut Diagnostics) {
    for decl in &config.images {
        let Some(image) = model.image(&decl.name.value).filter(|i| i.on_base()) else { continue };
        let commands = [decl.cmd.as_ref(), decl.entrypoint.as_ref()]
            .into_iter()
            .flatten()
            .chain(&decl.preload)
            .chain(exec(decl.health.as_ref()));
        for command in commands {
            check_command(model, image, false, command, diagnostics);
        }
    }
    for decl in &config.services {
        // A plain image (`from=`) has what its `from` image has, which gscgen cannot know.
        let Some(image) =
            decl.image.as_ref().and_then(|name| model.image(&name.value)).filter(|i| i.on_base())
        else {
            continue;
        };
        // With an entrypoint of its own, the service's commands are that program's arguments.
        if let Some(entrypoint) = &decl.entrypoint {
            check_command(model, image, false, entrypoint, diagnostics);
        } else {
            let commands = [decl.cmd.as_ref(), decl.dev.as_ref().and_then(|dev| dev.cmd.as_ref())];
            for command in commands.into_iter().flatten() {
                check_command(model, image, true, command, diagnostics);
            }
        }
        // A health check runs its program directly (`["CMD", …]`), never through the
        // entrypoint: it is a program even when the image has one.
        if let Some(command) = exec(decl.health.as_ref()) {
            check_command(model, image, false, command, diagnostics);
        }
    }
}

fn exec(health: Option<&HealthDecl>) -> Option<&CommandDecl> {
    match health?.check.as_ref()? {
        HealthCheckDecl::Exec(command) => Some(command),
        HealthCheckDecl::Http { .. } => None,
    }
}

fn check_command(
    model: &Model,
    image: &Image,
    // A service's command: with an entrypoint in the image, it is that entrypoint's arguments.
    of_service: bool,
    command: &CommandDecl,
    diagnostics: &mut Diagnostics,
) {
    // With an entrypoint, a command is its arguments, not a program.
    if of_service && !image.entrypoint.is_empty() {
        return;
    }
    // dockerfile-extra may install anything; gscgen cannot tell.
    let extra = &image.dockerfile_extra;
    if !(extra.before_install.is_empty() && extra.after_copy.is_empty() && extra.final_stage.is_empty()) {
        return;
    }
    let program = match command.args.as_slice() {
        [python, flag, module, ..]
            if matches!(python.value.as_str(), "python" | "python3") && flag.value == "-m" =>
        {
            module
        }
        [program, ..] => program,
        [] => return,
    };
    let Some(dist) = distribution(&program.value) else { return };
    // The image's own closure and the base image's: both are in its /opt/venv. A locked
    // project knows every package the image installs, dependencies included: its lock.
    let base = &model.base.closure;
    let locked = model
        .images
        .iter()
        .position(|i| std::ptr::eq(i, image))
        .and_then(|id| attached(model, image_lock_kind(model, id)?))
        .map(|(_, lock)| lock)
        .map(|lock| lock.packages.iter().any(|p| p.name == dist));
    let installed = locked.unwrap_or_else(|| {
        image
            .closure
            .iter()
            .chain(base)
            .any(|&group| model.groups[group].requires.iter().any(|r| r.name == dist))
    });
    if installed {
        return;
    }
    let groups: Vec<&str> = image.groups.iter().map(|g| model.groups[g.value].name.value.as_str()).collect();
    let installs = if groups.is_empty() {
        "it installs only the base image's groups".to_owned()
    } else {
        format!("it installs {}", groups.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", "))
    };
    let what = if locked.is_some() { "and its lock does not hold it" } else { "and none requires it" };
    diagnostics.push(
        Diagnostic::error(
            Code::ProgramNotInstalled,
            format!(
                "`{}` comes from the package `{dist}`, which no group of image `{}` installs",
                program.value, image.name.value
            ),
            program.span,
            "not installed in the image",
        )
        .with_help(format!(
            "add `require \"{dist}\"` to a group of image `{}` ({installs}, {what}): the container runs this command in that image, the dev override included",
            image.name.value,
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LockFile;
    use crate::rules::lock::lock_sets;

    #[test]
    fn the_table_is_sorted_and_names_normalised_distributions() {
        assert!(KNOWN.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
        for (_, dist) in KNOWN {
            assert_eq!(*dist, dist.to_lowercase().replace(['_', '.'], "-"), "PEP 503 normalised");
        }
        assert_eq!(distribution("watchmedo"), Some("watchdog"));
        assert_eq!(distribution("python"), None);
    }

    /// A locked project: a program is installed when its distribution is in the image's
    /// lock, as a dependency too (`gunicorn` through `apache-superset`), and refused when
    /// the lock does not have it.
    #[test]
    fn a_lock_knows_the_programs_dependencies_install() {
        let text = r#"
project demo { python "3.11" }
targets {
    requirements lock=#true
    docker
}
group web { require "apache-superset>=4.1" }
image superset {
    groups web
    cmd gunicorn "superset.app:create_app()"
}
"#;
        let source = crate::source::Source::new("project.kdl", text);
        let (config, parse) = crate::parse::parse(&source);
        assert!(!parse.has_errors());
        let config = config.unwrap();
        let (model, diagnostics) = crate::resolve::resolve(&config);
        // Not judged before the locks are in: the groups alone would refuse gunicorn.
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let mut model = model.unwrap();
        let package = |name: &str, via: &str| crate::model::LockedPackage {
            name: name.into(),
            version: "1.0".into(),
            marker: None,
            hashes: vec!["sha256:00".into()],
            via: vec![via.into()],
        };
        let lock = |packages| LockFile {
            python: "3.11".into(),
            resolver: "uv 0.13.9".into(),
            constraint: None,
            inputs: vec![("web".into(), "apache-superset>=4.1".into())],
            indexes: Vec::new(),
            packages,
        };
        let sets = lock_sets(&model);
        model.locks = sets
            .iter()
            .map(|_| {
                lock(vec![package("apache-superset", "group web"), package("gunicorn", "apache-superset")])
            })
            .collect();
        let mut found = Diagnostics::default();
        check(&config, &model, &mut found);
        assert!(found.is_empty(), "{found:?}");
        model.locks = sets.iter().map(|_| lock(vec![package("apache-superset", "group web")])).collect();
        check(&config, &model, &mut found);
        assert_eq!(found.len(), 1);
        let help = found.iter().next().unwrap().help.clone().unwrap_or_default();
        assert!(help.contains("and its lock does not hold it"), "{help}");
    }
}
