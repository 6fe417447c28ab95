//! Package indexes (`index NAME url=`) and the requirements bound to them
//! (`require "torch" index=NAME`): uv's `[[tool.uv.index]]` with `explicit = true` and a
//! `[tool.uv.sources]` entry, so a bound package comes from that index only and no other
//! package is looked up there (docs/locking.md, "Package indexes").
//!
//! Only a lock can carry that binding into a build: a requirements file has no per-package
//! index, so pip would take the package from PyPI. A bound requirement therefore needs
//! `lock=#true`. A URL with credentials in it is refused: they would land in the committed
//! lock and in every image that copies it.

use crate::config::Config;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::{Group, Index};

use super::index_names;

pub(super) fn resolve(
    config: &Config,
    groups: &mut [Group],
    locked: bool,
    diagnostics: &mut Diagnostics,
) -> Vec<Index> {
    let names: Vec<_> = config.indexes.iter().map(|i| &i.name).collect();
    let ids = index_names("index", &names, diagnostics);
    let mut indexes = Vec::new();
    for decl in &config.indexes {
        let Some(url) = &decl.url else {
            // Reported by parse; the id must still line up with the declaration.
            indexes.push(Index { name: decl.name.clone(), url: String::new() });
            continue;
        };
        let value = url.value.as_str();
        let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
        match rest {
            None => diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("index `{}`: `{value}` is not an http(s) URL", decl.name.value),
                    url.span,
                    "not http(s)",
                )
                .with_help(
                    "write the index's simple-API URL, e.g. url=\"https://download.pytorch.org/whl/cpu\"",
                ),
            ),
            Some(rest) if rest.split('/').next().is_some_and(|host| host.contains('@')) => diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("index `{}`: the URL holds credentials", decl.name.value),
                    url.span,
                    "user or password in the URL",
                )
                .with_help(
                    "remove them: `gscgen lock` (uv) and the builds (a BuildKit secret `pip-netrc`) read \
                     them from ~/.netrc, so they never land in a lock or an image (docs/locking.md)",
                ),
            ),
            Some(_) => {}
        }
        indexes.push(Index { name: decl.name.clone(), url: value.trim_end_matches('/').to_owned() });
    }
    for (decl, group) in config.groups.iter().zip(groups.iter_mut()) {
        for (span, name) in &decl.require_index {
            let Some(&id) = ids.get(name.value.as_str()) else {
                let known: Vec<&str> = config.indexes.iter().map(|i| i.name.value.as_str()).collect();
                let mut help = format!("declare it: `index {} url=\"…\"`", name.value);
                if let Some(nearest) = did_you_mean(&suggest(&name.value, known)) {
                    help = nearest;
                }
                diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownIndex,
                        format!("index `{}` is not declared", name.value),
                        name.span,
                        "no such index",
                    )
                    .with_help(help),
                );
                continue;
            };
            if !locked {
                diagnostics.push(
                    Diagnostic::error(
                        Code::IndexNeedsLock,
                        format!("`index={}` needs the project to lock its requirements", name.value),
                        name.span,
                        "a requirements file cannot say where a package comes from",
                    )
                    .with_help(
                        "add `lock=#true` to `targets` › `requirements` and run `gscgen lock`: the lock \
                         pins the package's files from that index (docs/locking.md)",
                    ),
                );
            }
            if let Some(requirement) = group.requires.iter_mut().find(|r| r.span == *span) {
                requirement.index = Some(id);
            }
        }
    }
    indexes
}
