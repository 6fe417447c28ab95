//! Escape hatches (issue 9): extra Dockerfile instructions at named points
//! (`dockerfile-extra`) and extra Compose keys per service (`compose-extra`). They reach the
//! generated files as written, so each is checked here with its span: a hatch may add what
//! gscgen has no option for, never undo what it generates or break the file around it.

use crate::config::{Config, DockerfileExtraDecl, ServiceDecl, Text, YamlEntry};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::{DockerRuntime, DockerTarget, DockerfileExtra, Model};

/// Where an extra instruction goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    BeforeInstall,
    AfterCopy,
    Final,
}

impl Point {
    fn name(self) -> &'static str {
        match self {
            Point::BeforeInstall => "before-install",
            Point::AfterCopy => "after-copy",
            Point::Final => "final",
        }
    }

    /// The point is in the runtime stage, the image that runs.
    fn at_runtime(self) -> bool {
        self != Point::BeforeInstall
    }
}

/// Every Dockerfile instruction (Docker's Dockerfile reference).
const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Whose Dockerfile an extra belongs to.
#[derive(Clone, Copy)]
enum Owner {
    Base,
    Image,
    /// A plain image (`from=`): one stage, so every point is in the image that runs.
    Plain,
}

/// Why an instruction is refused at a point, with the fix; `None` when it is allowed.
fn refusal(keyword: &str, point: Point, owner: Owner) -> Option<(&'static str, &'static str)> {
    let image = matches!(owner, Owner::Image | Owner::Plain);
    let plain = matches!(owner, Owner::Plain);
    Some(match keyword {
        "FROM" if plain => (
            "FROM would start a new stage, and the image already starts FROM its `from=`",
            "set the image it starts from with `from=` on the image",
        ),
        "FROM" => (
            "FROM would start a new stage and break the stages gscgen generates",
            "choose the base with `base-image { from \"…\" }` or `targets { docker runtime=… }`",
        ),
        "CMD" => ("gscgen writes the image's CMD", "set it with `cmd` on the image"),
        "ENTRYPOINT" => ("gscgen writes the image's ENTRYPOINT", "set it with `entrypoint` on the image"),
        "HEALTHCHECK" => (
            "gscgen writes the image's HEALTHCHECK",
            "set it with `health` on the image (Compose and Kubernetes use it too)",
        ),
        "USER" => (
            "gscgen sets the user every stage runs as (numeric, so Kubernetes can verify it)",
            "set it with `user` on the image (`user root=#true` to run as root)",
        ),
        "EXPOSE" => ("gscgen writes the image's EXPOSE", "list the ports with `expose` on the image"),
        "ONBUILD" => (
            "ONBUILD runs in images built FROM this one, outside this configuration (every image is built \
             FROM the base)",
            "write the instruction itself at the point where it should run",
        ),
        "MAINTAINER" => {
            ("MAINTAINER is deprecated", "write `LABEL org.opencontainers.image.authors=\"…\"` instead")
        }
        "ENV" if image && (plain || point.at_runtime()) => (
            "the image's runtime environment has a typed option",
            "set it with `env KEY=\"value\"` on the image (quoted for you)",
        ),
        "WORKDIR" if image && (plain || point.at_runtime()) => {
            ("gscgen writes the image's WORKDIR", "set it with `workdir` on the image")
        }
        // Before the installs, SHELL would change how gscgen's own RUN lines (apt, pip)
        // run; in the base runtime, every image's RUN lines inherit it.
        "SHELL" if !(image && point.at_runtime()) => (
            "SHELL here would change how gscgen's own RUN lines run",
            "put it in `after-copy` or `final` of an image, where only your own instructions follow",
        ),
        _ => return None,
    })
}

/// Checks every `dockerfile-extra` of the config. The docker target's runtime matters: a
/// distroless runtime has no shell for a `RUN` in shell form.
pub(super) fn check_dockerfile_extras(
    config: &Config,
    target: Option<&DockerTarget>,
    diagnostics: &mut Diagnostics,
) {
    let distroless = matches!(target.map(|t| &t.runtime), Some(DockerRuntime::Distroless { .. }));
    if let Some(base) = &config.base_image {
        dockerfile_extra(&base.dockerfile_extra, Owner::Base, distroless, diagnostics);
    }
    for image in &config.images {
        // A plain image runs its RUN lines in its `from` image, whatever the runtime.
        let distroless = match &image.from {
            Some(from) => crate::rules::distroless::distroless_of(&from.value).is_some(),
            None => distroless,
        };
        let owner = if image.from.is_some() { Owner::Plain } else { Owner::Image };
        dockerfile_extra(&image.dockerfile_extra, owner, distroless, diagnostics);
    }
}

/// The normalised instructions of a checked declaration.
pub(super) fn resolve_dockerfile_extra(decl: &DockerfileExtraDecl) -> DockerfileExtra {
    let all = |list: &[Text]| list.iter().filter_map(|t| normalise(&t.value)).collect();
    DockerfileExtra {
        before_install: all(&decl.before_install),
        after_copy: all(&decl.after_copy),
        final_stage: all(&decl.final_stage),
    }
}

fn points(decl: &DockerfileExtraDecl) -> [(Point, &[Text]); 3] {
    [
        (Point::BeforeInstall, &decl.before_install),
        (Point::AfterCopy, &decl.after_copy),
        (Point::Final, &decl.final_stage),
    ]
}

fn dockerfile_extra(
    decl: &DockerfileExtraDecl,
    owner: Owner,
    distroless: bool,
    diagnostics: &mut Diagnostics,
) {
    for (point, list) in points(decl) {
        for text in list {
            if let Some(d) = check_instruction(text, point, owner, distroless) {
                diagnostics.push(d);
            }
        }
    }
}

/// The keyword upper-cased, the rest as written; `None` when there is no keyword.
fn normalise(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
    let keyword = &trimmed[..end];
    (!keyword.is_empty()).then(|| format!("{}{}", keyword.to_ascii_uppercase(), &trimmed[end..]))
}

fn syntax(text: &Text, message: impl Into<String>, label: &str, help: &str) -> Option<Diagnostic> {
    Some(Diagnostic::error(Code::ExtraSyntax, message, text.span, label).with_help(help))
}

fn check_instruction(text: &Text, point: Point, owner: Owner, distroless: bool) -> Option<Diagnostic> {
    let value = text.value.as_str();
    if let Some(bad) = value.chars().find(|c| c.is_control() && *c != '\n' && *c != '\t') {
        return syntax(
            text,
            format!("a Dockerfile instruction cannot contain {}", bad.escape_debug()),
            "control character",
            "remove it; only line breaks (as `\\` continuations) and tabs are allowed",
        );
    }
    let lines: Vec<&str> = value.split('\n').collect();
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        let continues = line.trim_end().ends_with('\\');
        if i > 0 && line.trim().is_empty() {
            return syntax(
                text,
                "an empty line inside a continued instruction",
                "empty continuation line",
                "remove the empty line (Docker warns about it and will refuse it)",
            );
        }
        if i < last && !continues {
            return syntax(
                text,
                format!("line {} of the instruction ends without `\\`", i + 1),
                "line break without continuation",
                "end every line but the last with ` \\`, as in a Dockerfile, and write the text as a raw string \
                 `#\"\"\"…\"\"\"#` (in a quoted KDL string, `\\` before a line break removes the line break); \
                 heredocs are not supported",
            );
        }
        if i == last && continues {
            return syntax(
                text,
                "the instruction ends with `\\`",
                "continues into the next line",
                "remove the final `\\`: it would join the next generated instruction to this one",
            );
        }
    }
    let first = lines[0].trim();
    let (keyword, arguments) = first.split_once(char::is_whitespace).unwrap_or((first, ""));
    if keyword.is_empty() {
        return syntax(text, "empty Dockerfile instruction", "empty", "write an instruction, e.g. \"RUN …\"");
    }
    let upper = keyword.to_ascii_uppercase();
    if !INSTRUCTIONS.contains(&upper.as_str()) {
        let help = did_you_mean(&suggest(keyword, INSTRUCTIONS.iter().copied())).unwrap_or_else(|| {
            format!("a Dockerfile instruction starts with one of {}", INSTRUCTIONS.join(", "))
        });
        return Some(
            Diagnostic::error(
                Code::ExtraUnknownInstruction,
                format!("`{}` is not a Dockerfile instruction", keyword.escape_debug()),
                text.span,
                "unknown instruction",
            )
            .with_help(help),
        );
    }
    if arguments.trim().is_empty() && last == 0 {
        return syntax(
            text,
            format!("{upper} needs arguments"),
            "no arguments",
            "write the whole instruction, e.g. \"RUN python -m compileall -q /app\"",
        );
    }
    if let Some((why, fix)) = refusal(&upper, point, owner) {
        return Some(
            Diagnostic::error(
                Code::ExtraForbiddenInstruction,
                format!("{upper} is not allowed in `{}`: {why}", point.name()),
                text.span,
                format!("{upper} refused here"),
            )
            .with_help(fix),
        );
    }
    let runtime = point.at_runtime();
    if distroless && runtime && upper == "RUN" && !arguments.trim_start().starts_with('[') {
        return Some(
            Diagnostic::error(
                Code::ExtraForbiddenInstruction,
                format!(
                    "RUN in shell form needs a shell, and the distroless runtime has none (`{}`)",
                    point.name()
                ),
                text.span,
                "shell form",
            )
            .with_help("write it in exec form, e.g. `RUN [\"python3\", \"-m\", \"compileall\", \"/app\"]`"),
        );
    }
    None
}

/// `before-install` of an image goes into its builder stage, which exists only when the image
/// installs requirements of its own: run on the finished model, which knows the closures.
pub(super) fn check_before_install(config: &Config, model: &Model, diagnostics: &mut Diagnostics) {
    for (decl, image) in config.images.iter().zip(&model.images) {
        let Some(first) = decl.dockerfile_extra.before_install.first() else { continue };
        // A plain image's `before-install` follows its FROM, before its own instructions.
        if !image.on_base() || image.groups.iter().any(|g| !model.base.closure.contains(&g.value)) {
            continue;
        }
        diagnostics.push(
            Diagnostic::error(
                Code::ExtraNoInstall,
                format!("image `{}` installs nothing of its own: it has no builder stage", decl.name.value),
                first.span,
                "no install to run before",
            )
            .with_label(decl.name.span, "every group of this image is in the base image")
            .with_help(
                "move the instruction to `base-image { dockerfile-extra { before-install … } }`, where the \
                 base requirements are installed, or to `after-copy`/`final`",
            ),
        );
    }
}

/// Every service key of the Compose specification (compose-spec.json, `service`); `x-…`
/// extension keys are accepted too.
const SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "umask",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// The typed option that writes a Compose key, for keys gscgen owns. Such a key is refused
/// in `compose-extra` even where the option is unused, so every setting has one place.
fn typed_option(key: &str, service: &ServiceDecl) -> Option<&'static str> {
    Some(match key {
        "image" => "`image=` (a built image) or `from=` (a pre-built one) on the service",
        "build" => "`image=`: gscgen builds it from the generated Dockerfile",
        "profiles" => "`profile=` or `profiles`",
        "command" => "`cmd` (in `dev`: `dev { cmd … }`)",
        "entrypoint" => "`entrypoint` on the service",
        "user" => "`user <uid>` on the service",
        "environment" => "`env` or `env-secret` (in `dev`: `dev { env … }`)",
        "env_file" => "`env-file` on the service",
        "secrets" => "`secret`",
        "ports" | "expose" => "`port` (with `host=` to publish it)",
        "volumes" => "`volume` or `mount` (in `dev`: `dev { mount … }`)",
        "networks" => "`network` in `project`: every service joins the project network",
        "network_mode" => {
            "nothing: every service joins the project network, and Compose refuses `network_mode` next to \
             `networks`"
        }
        "depends_on" => "`depends-on`",
        "healthcheck" => "`health`",
        "restart" => "`restart` or `oneshot`",
        "read_only" | "tmpfs" => "`hardening` (`read-only=`, `writable`)",
        "cap_drop" | "cap_add" => {
            "`hardening { cap-add … }`: every capability is dropped, and added back by name"
        }
        "security_opt" => "`hardening no-new-privileges=` (other security options are not supported)",
        "deploy" if service.limits.is_some() => {
            "`limits` (which writes `deploy.resources.limits`): drop `limits` and write the whole `deploy` here"
        }
        _ => return None,
    })
}

/// Checks the `compose-extra` keys of every service (base file and `dev`).
pub(super) fn check_compose_extras(config: &Config, diagnostics: &mut Diagnostics) {
    for service in &config.services {
        let blocks =
            [service.compose_extra.as_ref(), service.dev.as_ref().and_then(|d| d.compose_extra.as_ref())];
        for extra in blocks.into_iter().flatten() {
            for entry in &extra.entries {
                check_key(service, entry, diagnostics);
            }
        }
    }
}

fn check_key(service: &ServiceDecl, entry: &YamlEntry, diagnostics: &mut Diagnostics) {
    let key = entry.key.value.as_str();
    if key.starts_with("x-") {
        return;
    }
    if !SERVICE_KEYS.contains(&key) {
        // Compose keys use `_`; KDL habits write `-`.
        let underscored = key.replace('-', "_");
        let help = if let Some(option) = SERVICE_KEYS
            .contains(&underscored.as_str())
            .then(|| typed_option(&underscored, service))
            .flatten()
        {
            // Pointing to `cap_add` would only lead to the next refusal.
            format!("Compose's `{underscored}` is written by gscgen: use {option}")
        } else if SERVICE_KEYS.contains(&underscored.as_str()) {
            format!("did you mean `{underscored}`? Compose keys are written with `_`")
        } else {
            did_you_mean(&suggest(key, SERVICE_KEYS.iter().copied())).unwrap_or_else(|| {
                "use a service key of the Compose specification, or an `x-…` extension key".to_owned()
            })
        };
        diagnostics.push(
            Diagnostic::error(
                Code::ExtraUnknownKey,
                format!("`{}` is not a Compose service key", key.escape_debug()),
                entry.key.span,
                "unknown key",
            )
            .with_help(help),
        );
        return;
    }
    if let Some(option) = typed_option(key, service) {
        diagnostics.push(
            Diagnostic::error(
                Code::ExtraGeneratedKey,
                format!("gscgen writes `{key}` of service `{}` itself", service.name.value),
                entry.key.span,
                "generated key",
            )
            .with_help(format!("use {option}")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Spanned;
    use miette::SourceSpan;

    fn verdict(text: &str, point: Point, owner: Owner, distroless: bool) -> Option<Code> {
        let text = Spanned::new(text.to_owned(), SourceSpan::from(0..0));
        check_instruction(&text, point, owner, distroless).map(|d| d.code)
    }

    /// Each refusal depends on the point and the owner; everything else passes.
    #[test]
    fn instructions_are_refused_where_they_would_break_the_file() {
        use Owner::{Base, Image, Plain};
        use Point::{AfterCopy, BeforeInstall, Final};
        let forbidden = Some(Code::ExtraForbiddenInstruction);
        for (text, point, owner, expected) in [
            ("run echo hi", AfterCopy, Image, None),
            ("ENV A=1", BeforeInstall, Image, None),
            ("ENV A=1", AfterCopy, Image, forbidden),
            ("ENV A=1", Final, Base, None),
            ("WORKDIR /srv", BeforeInstall, Image, None),
            ("WORKDIR /srv", Final, Image, forbidden),
            ("SHELL [\"/bin/bash\", \"-c\"]", Final, Image, None),
            ("SHELL [\"/bin/bash\", \"-c\"]", BeforeInstall, Image, forbidden),
            ("SHELL [\"/bin/bash\", \"-c\"]", Final, Base, forbidden),
            ("from python:3.12", Final, Image, forbidden),
            ("FROM nginx:1.27.2", BeforeInstall, Plain, forbidden),
            ("ENV A=1", BeforeInstall, Plain, forbidden),
            ("WORKDIR /srv", BeforeInstall, Plain, forbidden),
            ("RUN apk add --no-cache curl", BeforeInstall, Plain, None),
            ("SHELL [\"/bin/bash\", \"-c\"]", Final, Plain, None),
            ("User 0", BeforeInstall, Base, forbidden),
            ("EXPOSE 80", AfterCopy, Image, forbidden),
            ("LABEL a=b", Final, Base, None),
            ("RNU echo", Final, Image, Some(Code::ExtraUnknownInstruction)),
            ("RUN", Final, Image, Some(Code::ExtraSyntax)),
            ("", Final, Image, Some(Code::ExtraSyntax)),
            ("RUN a \\\n    && b", Final, Image, None),
            ("RUN a \\\n\n    && b", Final, Image, Some(Code::ExtraSyntax)),
            ("RUN a\nRUN b", Final, Image, Some(Code::ExtraSyntax)),
            ("RUN a \\", Final, Image, Some(Code::ExtraSyntax)),
            ("RUN a\r", Final, Image, Some(Code::ExtraSyntax)),
        ] {
            assert_eq!(verdict(text, point, owner, false), expected, "{text:?} at {point:?}");
        }
        // Distroless: no shell at the runtime points, but exec form works, and builders have one.
        assert_eq!(verdict("RUN echo", Final, Image, true), forbidden);
        assert_eq!(verdict("RUN [\"python3\", \"-V\"]", Final, Image, true), None);
        assert_eq!(verdict("RUN echo", BeforeInstall, Image, true), None);
    }

    #[test]
    fn normalised_keyword_is_upper_case_and_the_rest_as_written() {
        assert_eq!(normalise("  run  echo \\\n  b").as_deref(), Some("RUN  echo \\\n  b"));
        assert_eq!(normalise("   "), None);
    }
}
