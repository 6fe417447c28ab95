//! `env-set NAME { env …; env-secret … }` and `env-from NAME…`: environment shared across
//! services and inits (what Compose files do with `x-` anchors and `<<: *common`).
//!
//! The sets are expanded into each service and init before any other check, so every rule
//! on `env` and `env-secret` (names, duplicates, Kubernetes Secret references) also covers
//! the shared values, with their spans in the `env-set`. A variable the service (or init)
//! sets itself overrides the set's; two sets giving one service the same variable is an
//! error.

use std::borrow::Cow;
use std::collections::HashMap;

use miette::SourceSpan;

use crate::config::{Config, EnvDecl, EnvHostDecl, EnvSecretDecl, EnvSetDecl, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, NameIndex, did_you_mean, some_of};

/// The configuration with every `env-from` expanded (borrowed as is when nothing uses sets).
pub(super) fn expand<'c>(config: &'c Config, diagnostics: &mut Diagnostics) -> Cow<'c, Config> {
    let takes = config.services.iter().any(|s| {
        !s.env_from.is_empty() || s.k8s.iter().flat_map(|k| &k.init).any(|i| !i.env_from.is_empty())
    });
    if config.env_sets.is_empty() && !takes {
        return Cow::Borrowed(config);
    }
    let names: Vec<&Text> = config.env_sets.iter().map(|s| &s.name).collect();
    let index = super::index_names("env-set", &names, diagnostics);
    for set in &config.env_sets {
        let keys = set
            .env
            .iter()
            .map(|e| &e.key)
            .chain(set.env_host.iter().map(|e| &e.key))
            .chain(set.env_secrets.iter().map(|e| &e.key));
        super::names::check_env_keys(
            &format!("env-set `{}`", set.name.value),
            keys,
            "keep one of them",
            diagnostics,
        );
    }
    let known: Vec<&str> = names.iter().map(|n| n.value.as_str()).collect();
    let mut expander = Expander {
        sets: &config.env_sets,
        index,
        suggestions: NameIndex::new(known.iter().copied()),
        known: &known,
        used: vec![false; config.env_sets.len()],
        unknown: false,
        diagnostics,
    };
    let mut out = config.clone();
    for service in &mut out.services {
        let owner = format!("service `{}`", service.name.value);
        expander.expand(
            &owner,
            &service.env_from,
            &mut service.env,
            Some(&mut service.env_host),
            &mut service.env_secrets,
        );
        for init in service.k8s.iter_mut().flat_map(|k| &mut k.init) {
            let owner = format!("init `{}` of service `{}`", init.name.value, service.name.value);
            expander.expand(&owner, &init.env_from, &mut init.env, None, &mut init.env_secrets);
        }
    }
    // A misspelled `env-from` may be the one meant to take a set: no warning on top.
    if !expander.unknown {
        for (set, used) in config.env_sets.iter().zip(&expander.used) {
            if !used {
                expander.diagnostics.push(
                    Diagnostic::warning(
                        Code::UnusedEnvSet,
                        format!("env-set `{}` is declared but no service or init takes it", set.name.value),
                        set.name.span,
                        "unused env-set",
                    )
                    .with_help(format!(
                        "add `env-from {}` to the services that need it, or remove the env-set",
                        set.name.value
                    )),
                );
            }
        }
    }
    Cow::Owned(out)
}

/// A name [`super::names::check_env_keys`] accepts; the others are reported once, on the set.
fn portable(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Expander<'c, 'd> {
    sets: &'c [EnvSetDecl],
    index: HashMap<&'c str, usize>,
    suggestions: NameIndex<'c>,
    known: &'c [&'c str],
    used: Vec<bool>,
    unknown: bool,
    diagnostics: &'d mut Diagnostics,
}

impl Expander<'_, '_> {
    /// Puts the variables of the sets named in `from` before the owner's own, in order.
    /// `hosts` is `None` for an init, which runs only on the cluster: there a set's
    /// `env-host` is its default, a plain value (one without a default is refused).
    fn expand(
        &mut self,
        owner: &str,
        from: &[Text],
        env: &mut Vec<EnvDecl>,
        hosts: Option<&mut Vec<EnvHostDecl>>,
        secrets: &mut Vec<EnvSecretDecl>,
    ) {
        if from.is_empty() {
            return;
        }
        let own_hosts: Vec<&str> = hosts.iter().flat_map(|h| h.iter()).map(|e| e.key.as_str()).collect();
        let own: Vec<String> = env
            .iter()
            .map(|e| e.key.value.clone())
            .chain(own_hosts.iter().map(|k| (*k).to_owned()))
            .chain(secrets.iter().map(|e| e.key.value.clone()))
            .collect();
        // Variable → (set, where that set names it, the `env-from` that took it).
        let mut taken: HashMap<String, (usize, SourceSpan, SourceSpan)> = HashMap::new();
        let mut taken_sets: Vec<(usize, SourceSpan)> = Vec::new();
        let mut shared_env = Vec::new();
        let mut shared_hosts = Vec::new();
        let mut shared_secrets = Vec::new();
        for name in from {
            let Some(&id) = self.index.get(name.as_str()) else {
                self.unknown_set(name);
                continue;
            };
            if let Some((_, first)) = taken_sets.iter().find(|(s, _)| *s == id) {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::DuplicateEnv,
                        format!("{owner} takes env-set `{}` twice", name.value),
                        name.span,
                        "taken again here",
                    )
                    .with_label(*first, "first taken here")
                    .with_help("name each env-set once"),
                );
                continue;
            }
            taken_sets.push((id, name.span));
            self.used[id] = true;
            let set = &self.sets[id];
            let keys = set
                .env
                .iter()
                .map(|e| (&e.key, Some(e), None, None))
                .chain(set.env_host.iter().map(|e| (&e.key, None, Some(e), None)))
                .chain(set.env_secrets.iter().map(|e| (&e.key, None, None, Some(e))));
            for (key, plain, host, secret) in keys {
                // The owner's own value wins; names the set check reported are left out.
                if !portable(&key.value) || own.contains(&key.value) {
                    continue;
                }
                match taken.get(&key.value) {
                    // A key twice in one set is reported on the set.
                    Some((other, _, _)) if *other == id => continue,
                    Some((other, first, first_from)) => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::DuplicateEnv,
                                format!(
                                    "{owner} gets `{}` from env-sets `{}` and `{}`",
                                    key.value, self.sets[*other].name.value, set.name.value
                                ),
                                key.span,
                                "set again here",
                            )
                            .with_label(*first, "first set here")
                            .with_label(*first_from, "taken here")
                            .with_label(name.span, "and here")
                            .with_help(format!(
                                "remove `{}` from one of the env-sets, or set it in the {owner} itself, which overrides both",
                                key.value
                            )),
                        );
                        continue;
                    }
                    None => {}
                }
                taken.insert(key.value.clone(), (id, key.span, name.span));
                if let Some(e) = plain {
                    shared_env.push(e.clone());
                }
                if let Some(e) = host {
                    if hosts.is_some() {
                        shared_hosts.push(e.clone());
                    } else if let Some(default) = &e.default {
                        shared_env.push(EnvDecl { key: e.key.clone(), value: default.clone() });
                    } else {
                        self.diagnostics.push(super::kubernetes::env_host_without_default(
                            e,
                            &format!("{owner} runs only on the cluster"),
                            Some(name.span),
                        ));
                    }
                }
                if let Some(e) = secret {
                    shared_secrets.push(e.clone());
                }
            }
        }
        shared_env.append(env);
        *env = shared_env;
        if let Some(hosts) = hosts {
            shared_hosts.append(hosts);
            *hosts = shared_hosts;
        }
        shared_secrets.append(secrets);
        *secrets = shared_secrets;
    }

    fn unknown_set(&mut self, name: &Text) {
        self.unknown = true;
        let help = did_you_mean(&self.suggestions.suggest(&name.value)).unwrap_or_else(|| {
            if self.known.is_empty() {
                format!("no env-set is declared yet: declare `env-set {} {{ env KEY=\"value\" }}` at the top level", name.value)
            } else {
                format!("known env-sets: {}", some_of(self.known))
            }
        });
        self.diagnostics.push(
            Diagnostic::error(
                Code::UnknownEnvSet,
                format!("unknown env-set `{}`", name.value),
                name.span,
                "no env-set of this name",
            )
            .with_help(help),
        );
    }
}
