//! `env-secret KEY … as-file=#true`: a secret the program reads from a file, named by the
//! variable `KEY_FILE` (`rules::secret_files`). What must hold for both targets to render it:
//!
//! - `file=` only with `as-file`, and a clean path of the project;
//! - `KEY_FILE` is not also set by the service (or init) itself: it would be a duplicate
//!   variable, one of the two values lost (a `dev { env … }` entry may still override it, as
//!   it may override any value);
//! - the file `/run/secrets/KEY` is the only thing mounted there: in Compose against the
//!   service's volumes, mounts and `secret`s (`compose::check_mount_targets`), in a
//!   Kubernetes pod against every other item of the pod's secrets volume, which the service
//!   and its inits share;
//! - Compose can create it: a secret taken from the host's variable (no `file=`) is written
//!   into the container when it is created, which Compose refuses for a read-only root (the
//!   default hardening); only a `file:` secret, a bind mount, works there;
//! - its Compose secret, named `KEY`, is not the name of a `secret` node, and every service
//!   that reads `KEY` as a file reads it from the same source.

use std::collections::HashMap;

use miette::SourceSpan;

use crate::config::{Config, EnvDecl, EnvHostDecl, EnvSecretDecl, ServiceDecl, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::rules::secret_files::{file_name, file_path, file_variable};

use super::names;

fn as_file(secret: &EnvSecretDecl) -> bool {
    secret.as_file.as_ref().is_some_and(|a| a.value)
}

/// Where `as-file=#true` is written, else the node.
fn as_file_span(secret: &EnvSecretDecl) -> SourceSpan {
    secret.as_file.as_ref().map_or(secret.span, |a| a.span)
}

/// Every rule above. `compose` and `kubernetes` say which targets are on.
pub(super) fn check(config: &Config, compose: bool, kubernetes: bool, diagnostics: &mut Diagnostics) {
    for secret in config.env_sets.iter().flat_map(|s| &s.env_secrets) {
        check_decl(secret, diagnostics);
    }
    for service in &config.services {
        let owner = format!("service `{}`", service.name.value);
        for secret in &service.env_secrets {
            check_decl(secret, diagnostics);
        }
        check_file_variables(&owner, &service.env, &service.env_host, &service.env_secrets, diagnostics);
        for init in service.k8s.iter().flat_map(|k| &k.init) {
            for secret in &init.env_secrets {
                check_decl(secret, diagnostics);
                if let Some(file) = &secret.file {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!("`file=` of `env-secret {}` is Compose's, and an init runs only on the cluster", secret.key.value),
                            file.span,
                            "not used by Kubernetes",
                        )
                        .with_help("remove `file=`: the init reads the Secret's key from the pod's secrets volume"),
                    );
                }
            }
            let owner = format!("init `{}` of service `{}`", init.name.value, service.name.value);
            check_file_variables(&owner, &init.env, &[], &init.env_secrets, diagnostics);
        }
        if kubernetes {
            check_pod_items(service, diagnostics);
        }
        if compose {
            check_compose_read_only(service, diagnostics);
        }
    }
    if compose {
        check_compose_names(config, diagnostics);
    }
}

fn check_decl(secret: &EnvSecretDecl, diagnostics: &mut Diagnostics) {
    let Some(file) = &secret.file else { return };
    if !as_file(secret) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`file=` of `env-secret {}` needs `as-file=#true`", secret.key.value),
                file.span,
                "Compose's file of a secret mounted as a file",
            )
            .with_help(format!(
                "add `as-file=#true` (the program then reads `{}`), or remove `file=`: an environment \
                 variable secret comes from the host's `{}`",
                file_variable(&secret.key.value),
                secret.key.value
            )),
        );
    }
    if let Some(d) = names::check_relative_path("secret file", file) {
        diagnostics.push(d);
    }
}

/// `KEY_FILE` set next to `env-secret KEY as-file=#true`.
fn check_file_variables(
    owner: &str,
    env: &[EnvDecl],
    hosts: &[EnvHostDecl],
    secrets: &[EnvSecretDecl],
    diagnostics: &mut Diagnostics,
) {
    let keys: Vec<&Text> = env
        .iter()
        .map(|e| &e.key)
        .chain(hosts.iter().map(|e| &e.key))
        .chain(secrets.iter().map(|e| &e.key))
        .collect();
    for secret in secrets.iter().filter(|s| as_file(s)) {
        let variable = file_variable(&secret.key.value);
        if let Some(other) = keys.iter().find(|k| k.value == variable) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateEnv,
                    format!("{owner} sets `{variable}` twice"),
                    other.span,
                    "set again here",
                )
                .with_label(as_file_span(secret), format!("sets `{variable}` to the path of the file"))
                .with_help(format!(
                    "remove this `{variable}`: `as-file=#true` sets it to {} (or drop `as-file` to pass \
                     the value itself in `{}`)",
                    file_path(&secret.key.value),
                    secret.key.value
                )),
            );
        }
    }
}

/// One item per path in the pod's secrets volume, which the service and its inits share.
fn check_pod_items(service: &ServiceDecl, diagnostics: &mut Diagnostics) {
    if !super::kubernetes::is_deployed(service) {
        return;
    }
    // Path under /run/secrets → (Secret and key, where); a `secret` node has no key here.
    type Item<'a> = (Option<(&'a str, &'a str)>, SourceSpan);
    let mut items: HashMap<String, Item> = HashMap::new();
    for secret in &service.secrets {
        let (target, span) =
            secret.target.as_ref().map_or((&secret.name.value, secret.name.span), |t| (&t.value, t.span));
        if !target.starts_with('/') {
            items.entry(target.trim_end_matches('/').to_owned()).or_insert((None, span));
        }
    }
    let inits = service.k8s.iter().flat_map(|k| &k.init).flat_map(|i| &i.env_secrets);
    for secret in service.env_secrets.iter().chain(inits).filter(|s| as_file(s)) {
        let source = Some((secret.secret.value.as_str(), secret.secret_key.value.as_str()));
        let path = file_name(&secret.key.value).to_owned();
        match items.get(&path) {
            Some((first, _)) if *first == source => {}
            Some((_, first)) => diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateMountTarget,
                    format!(
                        "the pod of service `{}` mounts two secrets on `{}`",
                        service.name.value,
                        file_path(&secret.key.value)
                    ),
                    as_file_span(secret),
                    "second file",
                )
                .with_label(*first, "first file")
                .with_help(
                    "the service and its inits share one secrets volume: give the other file another target, \
                     or read the same Secret key in both",
                ),
            ),
            None => {
                items.insert(path, (source, as_file_span(secret)));
            }
        }
    }
}

/// Compose writes a secret taken from the host's variable into the container, which it
/// refuses for a read-only root.
fn check_compose_read_only(service: &ServiceDecl, diagnostics: &mut Diagnostics) {
    let read_only = service.hardening.as_ref().and_then(|h| h.read_only.as_ref()).is_none_or(|r| r.value);
    if !read_only {
        return;
    }
    for secret in service.env_secrets.iter().filter(|s| as_file(s) && s.file.is_none()) {
        diagnostics.push(
            Diagnostic::error(
                Code::EnvSecretReadOnly,
                format!(
                    "Compose cannot write `{}` from the host's variable into service `{}`: its root is read-only",
                    secret.key.value, service.name.value
                ),
                as_file_span(secret),
                "a file taken from the host's variable",
            )
            .with_help(format!(
                "give Compose a file of the project: `file=\"secrets/{}\"` (a bind mount, which a read-only \
                 root allows); or relax the service with `hardening read-only=#false`",
                secret.key.value.to_ascii_lowercase()
            )),
        );
    }
}

/// The Compose secret `KEY`: not a `secret` node's name, one source for every service.
fn check_compose_names(config: &Config, diagnostics: &mut Diagnostics) {
    let mut sources: HashMap<&str, (Option<&str>, SourceSpan)> = HashMap::new();
    for secret in config.services.iter().flat_map(|s| &s.env_secrets).filter(|s| as_file(s)) {
        if let Some(node) = config.secrets.iter().find(|n| n.name.value == secret.key.value) {
            diagnostics.push(
                Diagnostic::error(
                    Code::NameCollision,
                    format!("the Compose secret of `env-secret {}` has the name of a `secret` node", secret.key.value),
                    as_file_span(secret),
                    format!("becomes the Compose secret `{}`", secret.key.value),
                )
                .with_label(node.name.span, "also a Compose secret")
                .with_help("rename the `secret` node: a file secret mounted by `as-file` is named after its variable"),
            );
        }
        let source = secret.file.as_ref().map(|f| f.value.as_str());
        match sources.get(secret.key.value.as_str()) {
            Some((first, _)) if *first == source => {}
            Some((_, first)) => diagnostics.push(
                Diagnostic::error(
                    Code::NameCollision,
                    format!("two services read `{}` as a file from different sources", secret.key.value),
                    secret.file.as_ref().map_or(as_file_span(secret), |f| f.span),
                    "this source",
                )
                .with_label(*first, "another source")
                .with_help(format!(
                    "both become the Compose secret `{}`: give every `env-secret {} as-file=#true` the same `file=`",
                    secret.key.value, secret.key.value
                )),
            ),
            None => {
                sources.insert(
                    &secret.key.value,
                    (source, secret.file.as_ref().map_or(as_file_span(secret), |f| f.span)),
                );
            }
        }
    }
}
