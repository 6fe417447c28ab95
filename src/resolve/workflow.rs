//! The `github-workflow` target: its settings, checked with spans, and their defaults
//! (applied here, once). Every value that reaches `.github/workflows/build.yml` is checked
//! so the renderer never meets one it cannot write: branch filters and the default branch
//! end up inside YAML and GitHub expressions, the registry host inside a shell command.

use crate::config::{Config, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{GithubWorkflowTarget, WorkflowTimeouts};

/// The registry whose credentials every workflow already has (`GITHUB_TOKEN`).
pub(crate) const DEFAULT_REGISTRY: &str = "ghcr.io";

/// The longest a job may run on GitHub's hosted runners, in minutes (6 hours).
const MAX_TIMEOUT_MINUTES: u32 = 360;

/// Resolves `targets { github-workflow { … } }`. `None` when the target is off, which it is
/// unless listed: a workflow belongs to a repository, so it is never rendered implicitly.
pub(super) fn target(config: &Config, diagnostics: &mut Diagnostics) -> Option<GithubWorkflowTarget> {
    let targets = config.targets.as_ref()?;
    let decl = targets.github_workflow.as_ref()?;
    if targets.docker.is_none() {
        diagnostics.push(
            Diagnostic::error(
                Code::WorkflowNeedsDocker,
                "the workflow builds the generated Dockerfiles, but the docker target is off",
                decl.span,
                "needs `docker`",
            )
            .with_help("add `docker` to `targets`"),
        );
    }
    if config.images.is_empty() {
        diagnostics.push(
            Diagnostic::error(
                Code::WorkflowNoImage,
                "the workflow builds the project's images, but the project declares none",
                decl.span,
                "nothing to build",
            )
            .with_help("declare an `image`, or remove `github-workflow` from `targets`"),
        );
    }
    let project = config.project.as_ref();

    // The default branch is compared with `github.ref` to decide where `latest` is pushed.
    let default_branch = project.and_then(|p| p.default_branch.as_ref());
    if let Some(branch) = default_branch {
        check_branch(diagnostics, "default branch", branch, false);
    }
    for branch in decl.branches.iter().chain(&decl.pull_request_branches) {
        check_branch(diagnostics, "branch filter", branch, true);
    }

    let project_registry = project.and_then(|p| p.registry.as_ref());
    if let Some(host) = &decl.registry {
        check_host(diagnostics, host);
        if let Some(registry) = project_registry {
            let project_host = host_of(&registry.value);
            if project_host != host.value {
                diagnostics.push(
                    Diagnostic::error(
                        Code::WorkflowRegistry,
                        format!(
                            "the workflow would log in to `{}`, but the project's images go to `{project_host}`",
                            host.value
                        ),
                        host.span,
                        "workflow registry",
                    )
                    .with_label(registry.span, "project registry")
                    .with_help(
                        "remove the workflow's `registry` (the project's registry decides where images go), or \
                         make it the same host",
                    ),
                );
            }
        }
    }

    // Defaults, once, at the end.
    let default_branch = default_branch.map_or("main", |b| b.value.as_str());
    let branches: Vec<String> = if decl.branches.is_empty() {
        vec![default_branch.to_owned()]
    } else {
        decl.branches.iter().map(|b| b.value.clone()).collect()
    };
    // `latest` is only pushed from the default branch: warn when no push ever builds it.
    // Patterns are not expanded: a filter with wildcards may match it, so no warning then.
    let literal = |b: &Text| !b.value.contains(['*', '?', '+', '[', '!']);
    if !decl.branches.is_empty()
        && decl.branches.iter().all(literal)
        && !decl.branches.iter().any(|b| b.value == default_branch)
    {
        // The label covers the whole list of branches, from the first to the last.
        let (first, last) = (decl.branches[0].span, decl.branches[decl.branches.len() - 1].span);
        let listed = miette::SourceSpan::from(first.offset()..last.offset() + last.len());
        diagnostics.push(
            Diagnostic::warning(
                Code::WorkflowDefaultBranch,
                format!("pushes to the default branch `{default_branch}` do not run the workflow"),
                listed,
                format!("`{default_branch}` is not one of these"),
            )
            .with_help(format!(
                "`latest` is only pushed from `{default_branch}`: add `{default_branch}` to `branches`, or set \
                 `default-branch` in `project` to the branch that releases"
            )),
        );
    }
    let mut timeouts = WorkflowTimeouts::DEFAULT;
    if let Some(decl) = &decl.timeout_minutes {
        for (value, into) in [
            (&decl.build, &mut timeouts.build),
            (&decl.drift, &mut timeouts.drift),
            (&decl.changes, &mut timeouts.changes),
        ] {
            let Some(value) = value else { continue };
            if (1..=MAX_TIMEOUT_MINUTES).contains(&value.value) {
                *into = value.value;
            } else {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`timeout-minutes` of {} is not between 1 and {MAX_TIMEOUT_MINUTES}", value.value),
                        value.span,
                        "out of range",
                    )
                    .with_help(format!(
                        "a job on GitHub's hosted runners stops after at most {MAX_TIMEOUT_MINUTES} minutes; write \
                         a number of minutes from 1 to {MAX_TIMEOUT_MINUTES}"
                    )),
                );
            }
        }
    }
    Some(GithubWorkflowTarget {
        drift_check: decl.drift_check.as_ref().is_none_or(|d| d.value),
        timeouts,
        pull_request_branches: if decl.pull_request_branches.is_empty() {
            branches.clone()
        } else {
            decl.pull_request_branches.iter().map(|b| b.value.clone()).collect()
        },
        branches,
        pin_actions: decl.pin_actions.as_ref().is_none_or(|p| p.value),
        build_affected: decl.build_affected.as_ref().is_some_and(|b| b.value),
        registry_host: match (project_registry, &decl.registry) {
            (Some(registry), _) => host_of(&registry.value).to_owned(),
            (None, Some(host)) => host.value.clone(),
            (None, None) => DEFAULT_REGISTRY.to_owned(),
        },
    })
}

/// The host of a registry path: `ghcr.io` of `ghcr.io/acme/app`.
fn host_of(registry: &str) -> &str {
    registry.split('/').next().unwrap_or(registry)
}

/// A branch name (or, where `patterns` is true, a GitHub branch filter such as `release/**`).
///
/// The rule is git's ref-name rule, narrowed to characters that need no quoting in a YAML
/// value, a GitHub expression string or a shell word: ASCII letters, digits, `.`, `_`, `-`
/// and `/`, plus the filter characters `*`, `?`, `+`, `[`, `]` and a leading `!` (negation).
fn branch_problem(value: &str, patterns: bool) -> Option<String> {
    let body = if patterns { value.strip_prefix('!').unwrap_or(value) } else { value };
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/') || (patterns && "*?+[]".contains(c))
    };
    if body.is_empty() {
        Some("is empty".to_owned())
    } else if let Some(bad) = body.chars().find(|c| !allowed(*c)) {
        Some(format!("contains `{}`", bad.escape_debug()))
    } else if body.starts_with(['/', '-', '.']) || body.ends_with(['/', '.']) {
        Some("starts with `/`, `-` or `.`, or ends with `/` or `.`".to_owned())
    } else if body.contains("//") || body.contains("..") || body.ends_with(".lock") {
        Some("contains `//` or `..`, or ends with `.lock`".to_owned())
    } else {
        None
    }
}

fn check_branch(diagnostics: &mut Diagnostics, what: &str, branch: &Text, patterns: bool) {
    let Some(problem) = branch_problem(&branch.value, patterns) else { return };
    let help = if patterns {
        "write a git branch name of letters, digits, `.`, `_`, `-` and `/`, or a filter with `*`, `?`, `+`, \
         `[…]` or a leading `!`, e.g. \"release/**\""
    } else {
        "write a git branch name of letters, digits, `.`, `_`, `-` and `/`, e.g. \"main\""
    };
    diagnostics.push(
        Diagnostic::error(
            Code::WorkflowBranch,
            format!("{what} `{}` {problem}", branch.value.escape_debug()),
            branch.span,
            "invalid branch",
        )
        .with_help(help),
    );
}

/// A registry host: lowercase DNS name with an optional port (`ghcr.io`, `localhost:5000`).
fn check_host(diagnostics: &mut Diagnostics, host: &Text) {
    let (name, port) = match host.value.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host.value.as_str(), None),
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if !(name_ok && port_ok) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a registry host", host.value.escape_debug()),
                host.span,
                "expected a host name",
            )
            .with_help(
                "write a lowercase host, optionally with a port: \"ghcr.io\", \"registry.example.com:5000\"",
            ),
        );
    }
}

/// The workflow builds every image in one matrix job whose build step passes one set of
/// build arguments, so every image must have the same `build-arg`s (names and values); the
/// plain images (`from=`) have a matrix job of their own, so the same among themselves.
pub(super) fn check_build_args(config: &Config, diagnostics: &mut Diagnostics) {
    // Images of the base and plain images (`from=`) are built by two matrix jobs.
    for plain in [false, true] {
        let images: Vec<&crate::config::ImageDecl> =
            config.images.iter().filter(|i| i.from.is_some() == plain).collect();
        check_same_build_args(&images, diagnostics);
    }
}

fn check_same_build_args(images: &[&crate::config::ImageDecl], diagnostics: &mut Diagnostics) {
    let Some(first) = images.first() else { return };
    let args = |image: &crate::config::ImageDecl| -> Vec<(String, String)> {
        image.build_args.iter().map(|a| (a.name.value.clone(), a.value.value.clone())).collect()
    };
    let expected = args(first);
    for image in &images[1..] {
        if args(image) == expected {
            continue;
        }
        let span = image.build_args.first().map_or(image.name.span, |a| a.span);
        let mut diagnostic = Diagnostic::error(
            Code::WorkflowBuildArgs,
            format!(
                "image `{}` has other build arguments than image `{}`",
                image.name.value, first.name.value
            ),
            span,
            "these build arguments",
        );
        diagnostic = match first.build_args.first() {
            Some(arg) => diagnostic.with_label(arg.span, "the first image's"),
            None => diagnostic.with_label(first.name.span, "the first image has none"),
        };
        diagnostics.push(diagnostic.with_help(
            "the workflow builds every image in one matrix step, which passes one set of build arguments: \
             give every image the same `build-arg` lines, or set the value with `env` if it is only needed at run time",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_and_patterns() {
        for ok in ["main", "develop", "release/1.2", "feature_x", "v2-next"] {
            assert_eq!(branch_problem(ok, false), None, "{ok}");
        }
        for ok in ["release/**", "!release/old", "v[0-9]+", "feat?"] {
            assert_eq!(branch_problem(ok, true), None, "{ok}");
        }
        for bad in
            ["", "it's", "a b", "${{ x }}", "-x", "/x", "x/", "a..b", "a//b", "x.lock", "release/*", "é"]
        {
            assert!(branch_problem(bad, false).is_some(), "{bad}");
        }
        for bad in ["!", "a'b", "a:b", "a#b"] {
            assert!(branch_problem(bad, true).is_some(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("ghcr.io/acme/app"), "ghcr.io");
        assert_eq!(host_of("localhost:5000"), "localhost:5000");
    }
}
