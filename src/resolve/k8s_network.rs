//! `k8s { allow-from … }` and the NetworkPolicies of the dependency graph: the checks that
//! need resolved services (which ports a service serves). The policies themselves follow
//! from the model ([`ingress_sources`](crate::rules::k8s_objects::ingress_sources)); a
//! setting that would change none of them is refused rather than ignored.

use crate::config::Config;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{DEFAULT_DENY_POLICY, Deploy, Model};
use crate::rules::k8s_objects::container_ports;
use crate::rules::names::is_dns_label;

pub(super) fn check(config: &Config, model: &Model, diagnostics: &mut Diagnostics) {
    for (decl, service) in config.services.iter().zip(&model.services) {
        let (Some(k8s_decl), Some(k8s)) = (decl.k8s.as_ref(), service.k8s.as_ref()) else { continue };
        let served = k8s.deploy == Deploy::Deployment && !container_ports(model, service).is_empty();
        if served && k8s.name == DEFAULT_DENY_POLICY {
            diagnostics.push(
                Diagnostic::error(
                    Code::NameCollision,
                    format!(
                        "service `{}` would name its NetworkPolicy `{DEFAULT_DENY_POLICY}`",
                        service.name.value
                    ),
                    service.name.span,
                    "the namespace's default policy",
                )
                .with_help("rename the service: the namespace's default-deny policy has this name"),
            );
        }
        for namespace in &k8s_decl.allow_from {
            if !is_dns_label(&namespace.value) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        format!("namespace `{}` is not a DNS-1123 label", namespace.value.escape_debug()),
                        namespace.span,
                        "invalid namespace",
                    )
                    .with_help(
                        "a namespace is 1 to 63 lowercase letters, digits and `-`, e.g. \"ingress-nginx\"",
                    ),
                );
            } else if !served && k8s.is_deployed() {
                let why = if k8s.deploy == Deploy::Job {
                    "a `oneshot` Job serves no port"
                } else {
                    "it serves no port"
                };
                diagnostics.push(
                    Diagnostic::error(
                        Code::AllowFromUnserved,
                        format!("`allow-from` on service `{}`, but {why}", service.name.value),
                        namespace.span,
                        "admits nothing",
                    )
                    .with_help(
                        "`allow-from` opens the ports of the service's NetworkPolicy: add the `port` it listens on, \
                         or remove `allow-from`",
                    ),
                );
            }
        }
    }
}
