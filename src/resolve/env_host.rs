//! `env-host KEY default="…" var="HOST_VAR" required=#true`: a value Compose takes from the
//! environment of the host that runs it (`${HOST_VAR:-default}`), and the warning on an
//! `env` value that looks like it wanted that (`"${HOME}/x"`), which gscgen keeps literal.
//!
//! The rules: the host's variable is a portable name (Compose reads nothing else); the
//! default is written literally (`$` escaped), but it cannot contain `}`, which would end
//! Compose's `${…}` (Compose has no escape for it); `required=#true` has no default. On the
//! cluster there is no host environment: the default is the value, and a deployed service's
//! `env-host` without one is refused (`kubernetes::env_host_without_default`).

use std::collections::HashSet;

use miette::SourceSpan;

use crate::config::{Config, EnvDecl, EnvHostDecl};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};

/// A name Compose interpolates: `[A-Za-z_][A-Za-z0-9_]*`.
pub(super) fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every rule above; `compose`: whether the compose target is on (the warning is about
/// Compose's reading of the value).
pub(super) fn check(config: &Config, compose: bool, diagnostics: &mut Diagnostics) {
    // The sets are expanded into the services: each declaration is checked once.
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut first = |span: SourceSpan| seen.insert((span.offset(), span.len()));
    let hosts = config.env_sets.iter().flat_map(|s| &s.env_host).chain(
        config.services.iter().flat_map(|s| s.env_host.iter().chain(s.dev.iter().flat_map(|d| &d.env_host))),
    );
    let mut checked: Vec<&EnvHostDecl> = Vec::new();
    for host in hosts {
        if first(host.span) {
            checked.push(host);
        }
    }
    for host in checked {
        check_decl(host, diagnostics);
    }
    if !compose {
        return;
    }
    let values =
        config.env_sets.iter().flat_map(|s| &s.env).chain(
            config.services.iter().flat_map(|s| s.env.iter().chain(s.dev.iter().flat_map(|d| &d.env))),
        );
    let mut warned: HashSet<(usize, usize)> = HashSet::new();
    for env in values {
        if interpolation(&env.value.value).is_some()
            && warned.insert((env.value.span.offset(), env.value.span.len()))
        {
            diagnostics.push(literal_interpolation(env));
        }
    }
}

fn check_decl(host: &EnvHostDecl, diagnostics: &mut Diagnostics) {
    if let Some(var) = &host.var
        && !is_variable_name(&var.value)
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not a variable name Compose reads", var.value.escape_debug()),
                var.span,
                "invalid name",
            )
            .with_help("use letters, digits and `_`, not starting with a digit (e.g. HOST_LOG_LEVEL)"),
        );
    }
    if let Some(default) = &host.default
        && default.value.contains('}')
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("the default of `env-host {}` contains `}}`", host.key.value),
                default.span,
                "would end Compose's `${…}`",
            )
            .with_help(
                "Compose has no escape for `}` in a default: write the value with `env` (literal), or set \
                 it on the host",
            ),
        );
    }
    if let (Some(required), Some(default)) = (&host.required, &host.default)
        && required.value
    {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`env-host {}` is required and has a default", host.key.value),
                required.span,
                "required",
            )
            .with_label(default.span, "default")
            .with_help(
                "keep one: `required=#true` stops Compose when the variable is unset, a default is used then",
            ),
        );
    }
}

/// Where `value` has what Compose would read as interpolation (`$NAME`, `${…}`), if it did:
/// gscgen escapes it, so the container gets the text as written. `$$` is two dollars.
pub(super) fn interpolation(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            match bytes.get(i + 1) {
                Some(b'$') => {
                    i += 2;
                    continue;
                }
                Some(c) if *c == b'{' || c.is_ascii_alphabetic() || *c == b'_' => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn literal_interpolation(env: &EnvDecl) -> Diagnostic {
    let at = interpolation(&env.value.value).unwrap_or(0);
    let rest = &env.value.value[at + 1..];
    let name: String =
        rest.trim_start_matches('{').chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let var = if name.is_empty() { "HOST_VAR".to_owned() } else { name };
    Diagnostic::warning(
        Code::LiteralInterpolation,
        format!("`{}` is passed literally: Compose does not expand `$` in an `env` value", env.key.value),
        env.value.span,
        "kept as written",
    )
    .with_help(format!(
        "to take the value from the host that runs Compose, write `env-host {} var=\"{var}\"` (with `default=\"…\"` \
         for the cluster); to keep the text, leave it (a warning, not an error)",
        env.key.value
    ))
}
