//! Named volumes on the cluster: `kubernetes { volume … }` checked, and every volume a
//! deployed workload mounts given its storage. A volume is a PersistentVolumeClaim unless
//! the config calls it `scratch`: data that Compose keeps in a named volume (Redis' queue,
//! Ollama's models) must survive a pod restart on the cluster too. docs/kubernetes.md,
//! "Volumes", explains the defaults.
//!
//! The rule that needs the whole config: a `ReadWriteOnce` claim is attached to one node,
//! so a volume mounted by two workloads, or by a Deployment that can run two pods, would
//! leave a pod Pending on another node. That is refused, with the two ways out.

use std::collections::HashMap;

use miette::SourceSpan;

use super::kubernetes::{is_deployed, parse_quantity};
use crate::config::{ClusterVolumeDecl, Config, ServiceDecl};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::{Claim, ClusterStorage, ClusterVolume, DEFAULT_CLAIM_SIZE, Model};
use crate::rules::k8s_objects::volume_base;

const ACCESS_MODES: [&str; 2] = ["ReadWriteOnce", "ReadWriteMany"];

/// Every rule of `kubernetes { volume … }` and of the claims the services' volumes become.
pub(super) fn check(config: &Config, diagnostics: &mut Diagnostics) {
    let Some(target) = config.targets.as_ref().and_then(|t| t.kubernetes.as_ref()) else { return };
    let mut declared: HashMap<&str, &ClusterVolumeDecl> = HashMap::new();
    for decl in &target.volumes {
        check_decl(config, decl, diagnostics);
        if let Some(first) = declared.insert(decl.name.value.as_str(), decl) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("volume `{}` is declared twice", decl.name.value),
                    decl.name.span,
                    "second declaration",
                )
                .with_label(first.name.span, "first declaration")
                .with_help("keep one `volume` node per named volume"),
            );
            declared.insert(decl.name.value.as_str(), first);
        }
    }
    // Who mounts each volume on the cluster, in order of first use.
    let mut mounts: Vec<(&str, Vec<(&ServiceDecl, SourceSpan)>)> = Vec::new();
    for service in config.services.iter().filter(|s| is_deployed(s)) {
        for volume in &service.volumes {
            let name = volume.name.value.as_str();
            match mounts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, users)) if users.iter().any(|(s, _)| std::ptr::eq(*s, service)) => {}
                Some((_, users)) => users.push((service, volume.name.span)),
                None => mounts.push((name, vec![(service, volume.name.span)])),
            }
        }
    }
    let mut claim_names: HashMap<String, (&str, SourceSpan)> = HashMap::new();
    for (volume, users) in &mounts {
        let decl = declared.get(volume).copied();
        if decl.and_then(|d| d.scratch.as_ref()).is_some_and(|s| s.value) {
            continue;
        }
        let claim = volume_base(volume);
        let span = decl.map_or(users[0].1, |d| d.name.span);
        if let Some((other, other_span)) = claim_names.insert(claim.clone(), (volume, span)) {
            diagnostics.push(
                Diagnostic::error(
                    Code::NameCollision,
                    format!("volumes `{other}` and `{volume}` both become the claim `{claim}`"),
                    span,
                    format!("becomes `{claim}`"),
                )
                .with_label(other_span, format!("also becomes `{claim}`"))
                .with_help("rename one of the volumes: claim names are lowercase DNS labels"),
            );
        }
        let shared = decl.and_then(|d| d.access.as_ref()).is_some_and(|a| a.value == "ReadWriteMany");
        if !shared {
            check_one_pod(volume, users, decl, diagnostics);
        }
    }
}

fn check_decl(config: &Config, decl: &ClusterVolumeDecl, diagnostics: &mut Diagnostics) {
    let known: Vec<&str> =
        config.services.iter().flat_map(|s| s.volumes.iter().map(|v| v.name.value.as_str())).collect();
    if !known.contains(&decl.name.value.as_str()) {
        let help = did_you_mean(&suggest(&decl.name.value, known.iter().copied())).unwrap_or_else(|| {
            "name a volume that a service mounts (`service … { volume NAME \"/path\" }`)".to_owned()
        });
        diagnostics.push(
            Diagnostic::error(
                Code::UnknownVolume,
                format!("no service mounts a volume named `{}`", decl.name.value),
                decl.name.span,
                "unknown volume",
            )
            .with_help(help),
        );
    }
    if let Some(size) = &decl.size
        && parse_quantity(&size.value).is_none_or(|v| v <= 0.0)
    {
        diagnostics.push(
            Diagnostic::error(
                Code::Quantity,
                format!("`{}` is not a Kubernetes storage quantity", size.value.escape_debug()),
                size.span,
                "invalid quantity",
            )
            .with_help("write a size with a suffix, such as \"1Gi\", \"500Mi\" or \"50G\""),
        );
    }
    if let Some(access) = &decl.access
        && !ACCESS_MODES.contains(&access.value.as_str())
    {
        let help = did_you_mean(&suggest(&access.value, ACCESS_MODES)).unwrap_or_else(|| {
            "write \"ReadWriteOnce\" (one node) or \"ReadWriteMany\" (shared storage)".to_owned()
        });
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not an access mode gscgen renders", access.value.escape_debug()),
                access.span,
                "unknown access mode",
            )
            .with_help(help),
        );
    }
    if decl.scratch.as_ref().is_some_and(|s| s.value) {
        for (option, text) in [("storage-class", &decl.storage_class), ("access", &decl.access)] {
            if let Some(text) = text {
                diagnostics.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("a scratch volume has no `{option}`"),
                        text.span,
                        "not used by an `emptyDir`",
                    )
                    .with_help(format!(
                        "remove `{option}=`, or `scratch=#true` to keep the data in a PersistentVolumeClaim"
                    )),
                );
            }
        }
    }
}

/// A `ReadWriteOnce` claim is attached to one node: one workload, one pod.
fn check_one_pod(
    volume: &str,
    users: &[(&ServiceDecl, SourceSpan)],
    decl: Option<&ClusterVolumeDecl>,
    diagnostics: &mut Diagnostics,
) {
    let help = format!(
        "mount it in one single-replica workload, or declare `kubernetes {{ volume {volume} access=\"ReadWriteMany\" }}` \
         (a storage class that supports it) or `scratch=#true` (data lost with the pod)"
    );
    if let [(first, first_span), (second, second_span), ..] = users {
        let mut diagnostic = Diagnostic::error(
            Code::SharedClaim,
            format!(
                "volume `{volume}` is mounted by `{}` and `{}`, but its claim is ReadWriteOnce",
                first.name.value, second.name.value
            ),
            *second_span,
            "second workload",
        )
        .with_label(*first_span, "first workload")
        .with_help(help.clone());
        if let Some(decl) = decl {
            diagnostic = diagnostic.with_label(decl.span, "declared here");
        }
        diagnostics.push(diagnostic);
        return;
    }
    let Some((service, span)) = users.first() else { return };
    let k8s = service.k8s.as_ref();
    let pods = match (k8s.and_then(|k| k.autoscale.as_ref()), k8s.and_then(|k| k.replicas.as_ref())) {
        (Some(autoscale), _) => Some((autoscale.max.value, autoscale.span)),
        (None, Some(replicas)) => Some((replicas.value, replicas.span)),
        (None, None) => None,
    };
    if let Some((pods, pods_span)) = pods.filter(|(pods, _)| *pods > 1) {
        diagnostics.push(
            Diagnostic::error(
                Code::SharedClaim,
                format!("volume `{volume}` is mounted by up to {pods} pods of `{}`, but its claim is ReadWriteOnce", service.name.value),
                *span,
                "one claim for every pod",
            )
            .with_label(pods_span, format!("up to {pods} pods"))
            .with_help(help),
        );
    }
}

/// The storage of every named volume a deployed workload mounts. Runs on a model without
/// errors, after the services' `k8s` blocks are resolved.
pub(super) fn apply(config: &Config, model: &mut Model) {
    let Some(decls) = config.targets.as_ref().and_then(|t| t.kubernetes.as_ref()).map(|k| &k.volumes) else {
        return;
    };
    let mut volumes: Vec<ClusterVolume> = Vec::new();
    for service in &model.services {
        if !service.k8s.as_ref().is_some_and(|k| k.is_deployed()) {
            continue;
        }
        for volume in &service.volumes {
            if volumes.iter().any(|v| v.volume == volume.name) {
                continue;
            }
            let decl = decls.iter().find(|d| d.name.value == volume.name);
            let size = decl.and_then(|d| d.size.as_ref()).map(|s| s.value.clone());
            let storage = if decl.and_then(|d| d.scratch.as_ref()).is_some_and(|s| s.value) {
                ClusterStorage::Scratch { size_limit: size }
            } else {
                ClusterStorage::Claim(Claim {
                    name: volume_base(&volume.name),
                    size: size.unwrap_or_else(|| DEFAULT_CLAIM_SIZE.to_owned()),
                    storage_class: decl.and_then(|d| d.storage_class.as_ref()).map(|s| s.value.clone()),
                    shared: decl.and_then(|d| d.access.as_ref()).is_some_and(|a| a.value == "ReadWriteMany"),
                })
            };
            volumes.push(ClusterVolume { volume: volume.name.clone(), storage });
        }
    }
    if let Some(target) = model.targets.kubernetes.as_mut() {
        target.volumes = volumes;
    }
}
