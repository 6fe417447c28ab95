//! A service's `hardening`: what its container needs beyond Compose's hardened defaults.
//!
//! Every service runs with a read-only root filesystem, every capability dropped and
//! `no-new-privileges`; `hardening` relaxes that per service, typed and checked: a
//! capability must be one Linux knows, a `writable` folder an absolute container path, and
//! `writable` only means something under a read-only root. docs/compose.md explains why
//! each default holds and which pre-built images need which relaxation.

use super::names;
use crate::config::HardeningDecl;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::Hardening;

/// The Linux capabilities (capabilities(7), as of Linux 6.x), without the `CAP_` prefix:
/// the names `cap_add` takes.
const CAPABILITIES: [&str; 41] = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

pub(super) fn resolve(decl: Option<&HardeningDecl>, diagnostics: &mut Diagnostics) -> Hardening {
    let Some(decl) = decl else { return Hardening::default() };
    let read_only = decl.read_only.as_ref().is_none_or(|r| r.value);
    let mut cap_add: Vec<String> = Vec::new();
    for capability in &decl.cap_add {
        let written = capability.value.as_str();
        let name = written.strip_prefix("CAP_").unwrap_or(written);
        if !CAPABILITIES.contains(&name) {
            let upper = name.to_ascii_uppercase();
            let help = if CAPABILITIES.contains(&upper.as_str()) {
                format!("capability names are upper case: `{upper}`")
            } else if name == "ALL" {
                "list the capabilities the program needs: adding every one back undoes `cap_drop: [ALL]` \
                 (a container that truly needs them all is `privileged: true`, through `compose-extra`)"
                    .to_owned()
            } else {
                "a Linux capability without `CAP_`, e.g. CHOWN, SETUID, SETGID, DAC_OVERRIDE, FOWNER, \
                 NET_BIND_SERVICE (capabilities(7))"
                    .to_owned()
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::UnknownCapability,
                    format!("`{written}` is not a Linux capability"),
                    capability.span,
                    "not a capability",
                )
                .with_help(help),
            );
            continue;
        }
        if !cap_add.iter().any(|c| c == name) {
            cap_add.push(name.to_owned());
        }
    }
    let mut writable: Vec<String> = Vec::new();
    for path in &decl.writable {
        if let Some(diagnostic) = names::check_container_path("writable folder", path) {
            diagnostics.push(diagnostic);
            continue;
        }
        if !read_only {
            let read_only_span = decl.read_only.as_ref().map(|r| r.span);
            let mut diagnostic = Diagnostic::error(
                Code::HardeningConflict,
                format!("`writable \"{}\"` under a writable root filesystem", path.value),
                path.span,
                "a tmpfs only a read-only root needs",
            )
            .with_help("remove `writable`: with `read-only=#false` every folder is writable already");
            if let Some(span) = read_only_span {
                diagnostic = diagnostic.with_label(span, "the root filesystem is writable");
            }
            diagnostics.push(diagnostic);
            continue;
        }
        let folder = path.value.trim_end_matches('/');
        let folder = if folder.is_empty() { "/" } else { folder };
        if !writable.iter().any(|w| w == folder) {
            writable.push(folder.to_owned());
        }
    }
    Hardening {
        read_only,
        no_new_privileges: decl.no_new_privileges.as_ref().is_none_or(|n| n.value),
        cap_add,
        writable,
    }
}

#[cfg(test)]
mod tests {
    use super::CAPABILITIES;

    #[test]
    fn the_capability_list_is_sorted_and_unique() {
        let mut sorted = CAPABILITIES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, CAPABILITIES.to_vec());
    }
}
