//! Names and paths that end up in file names, image references, YAML keys and Kubernetes
//! object names are validated once, here, with spans.

use crate::diagnostics::{Code, Diagnostic};
use crate::parse::config::Text;

/// Longest name we accept: a DNS-1123 label (Kubernetes object names) holds 63 characters.
const MAX_NAME: usize = 63;

/// Validates a name of a group, image or service: lowercase letters, digits, `-` and `_`,
/// starting with a letter and ending with a letter or digit. That one rule makes it safe
/// as a file name, an OCI repository component, a YAML key, a shell word and (with `_`
/// mapped to `-`) a DNS-1123 label.
pub(crate) fn check_name(kind: &str, name: &Text) -> Option<Diagnostic> {
    let value = name.value.as_str();
    let problem = if value.is_empty() {
        Some("is empty".to_owned())
    } else if value.chars().count() > MAX_NAME {
        Some(format!("is longer than {MAX_NAME} characters"))
    } else if let Some(bad) =
        value.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        Some(format!("contains `{}`", bad.escape_debug()))
    } else if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("does not start with a lowercase letter".to_owned())
    } else if !value.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        Some("does not end with a letter or digit".to_owned())
    } else {
        None
    }?;
    let suggestion = sanitize(value);
    let mut diagnostic = Diagnostic::error(
        Code::InvalidName,
        format!("{kind} name `{}` {problem}", value.escape_debug()),
        name.span,
        "invalid name",
    );
    diagnostic = diagnostic.with_help(if suggestion.is_empty() {
        "names use lowercase letters, digits, `-` and `_`, start with a letter and end with a letter or digit"
            .to_owned()
    } else {
        format!(
            "names use lowercase letters, digits, `-` and `_`, start with a letter and end with a letter or \
             digit: try `{suggestion}`"
        )
    });
    Some(diagnostic)
}

/// A best-effort valid name close to `value`, for the help line.
fn sanitize(value: &str) -> String {
    let lowered: String = value
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    let trimmed = lowered.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let trimmed = trimmed.trim_end_matches(['-', '_']);
    trimmed.chars().take(MAX_NAME).collect()
}

/// The DNS-1123 form of a valid name: `api_ingestor` → `api-ingestor`.
pub(crate) fn dns_name(name: &str) -> String {
    name.replace('_', "-")
}

/// Validates a path relative to the project (copy sources, mounts, secret files, output
/// folders): no absolute paths, no `..`, no backslashes, no empty components.
pub(crate) fn check_relative_path(what: &str, path: &Text) -> Option<Diagnostic> {
    let value = path.value.as_str();
    let problem = if value.is_empty() {
        Some("is empty")
    } else if value.starts_with('/') || value.starts_with('~') || value.get(1..2) == Some(":") {
        Some("is absolute")
    } else if value.contains('\\') {
        Some("contains a backslash")
    } else if value.split('/').any(|c| c == "..") {
        Some("climbs out with `..`")
    } else if value.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }?;
    Some(
        Diagnostic::error(
            Code::InvalidPath,
            format!("{what} `{}` {problem}", value.escape_debug()),
            path.span,
            "invalid path",
        )
        .with_help(
            "write a path relative to the folder of project.kdl, with `/` separators and without `..` \
             (e.g. \"ingestors/api\")",
        ),
    )
}

/// Validates an absolute path inside a container (copy targets, workdir, mount targets).
pub(crate) fn check_container_path(what: &str, path: &Text) -> Option<Diagnostic> {
    let value = path.value.as_str();
    let problem = if !value.starts_with('/') {
        Some("is not absolute")
    } else if value.contains('\\') {
        Some("contains a backslash")
    } else if value.split('/').any(|c| c == "..") {
        Some("contains `..`")
    } else if value.chars().any(|c| c.is_control() || c == '"') {
        Some("contains a control character or a quote")
    } else {
        None
    }?;
    Some(
        Diagnostic::error(
            Code::InvalidPath,
            format!("{what} `{}` {problem}", value.escape_debug()),
            path.span,
            "invalid container path",
        )
        .with_help("write an absolute path inside the container, such as \"/app/insights_api\""),
    )
}

/// Environment variable names of one owner (`service api`, `init db-migrations`): POSIX
/// shell names, which every tool (Compose, Kubernetes, `sh` in the container) handles, each
/// set once. `help_twice` says how to resolve a duplicate in the owner's context.
pub(crate) fn check_env_keys<'a>(
    owner: &str,
    keys: impl Iterator<Item = &'a Text>,
    help_twice: &str,
    diagnostics: &mut crate::diagnostics::Diagnostics,
) {
    let mut seen: std::collections::HashMap<&str, miette::SourceSpan> = std::collections::HashMap::new();
    for key in keys {
        let portable = key.value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !portable {
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a valid environment variable name", key.value.escape_debug()),
                    key.span,
                    "invalid name",
                )
                .with_help("use letters, digits and `_`, not starting with a digit (e.g. LOG_LEVEL)"),
            );
        }
        if let Some(first) = seen.insert(&key.value, key.span) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateEnv,
                    format!("{owner} sets `{}` twice", key.value),
                    key.span,
                    "set again here",
                )
                .with_label(first, "first set here")
                .with_help(help_twice),
            );
        }
    }
}

/// Normalises a relative path for output: strips `./` components and trailing `/`.
pub(crate) fn clean_relative(value: &str) -> String {
    value.split('/').filter(|c| !c.is_empty() && *c != ".").collect::<Vec<_>>().join("/")
}

/// [`clean_relative`] for a path that may name the project root itself (`copy "." "/app"`,
/// `mount "./" "/app"`): the root is `.`, never the empty string, which a Dockerfile would
/// render as `COPY  /app` (no source) and Compose as a bind of the compose folder's parent.
pub(crate) fn clean_relative_or_root(value: &str) -> String {
    let clean = clean_relative(value);
    if clean.is_empty() { ".".to_owned() } else { clean }
}

#[cfg(test)]
mod tests {
    use miette::SourceSpan;

    use super::*;
    use crate::parse::config::Spanned;

    fn text(s: &str) -> Text {
        Spanned::new(s.to_owned(), SourceSpan::from(0..s.len()))
    }

    #[test]
    fn names() {
        for ok in ["base", "api_ingestor", "api-ingestor", "a1", "x"] {
            assert!(check_name("group", &text(ok)).is_none(), "{ok}");
        }
        for bad in ["", "Api", "1api", "api-", "api/x", "a b", "../x", "a$(x)", &"a".repeat(64)] {
            assert!(check_name("group", &text(bad)).is_some(), "{bad}");
        }
        assert_eq!(sanitize("My Api!"), "my-api");
    }

    #[test]
    fn relative_paths() {
        for ok in ["ingestors/api", "./x", "a/b.txt", "generated"] {
            assert!(check_relative_path("path", &text(ok)).is_none(), "{ok}");
        }
        for bad in ["", "/etc", "../x", "a/../../b", "a\\b", "C:/x", "~/x"] {
            assert!(check_relative_path("path", &text(bad)).is_some(), "{bad}");
        }
        assert_eq!(clean_relative("./a//b/"), "a/b");
        assert_eq!(clean_relative_or_root("./a//b/"), "a/b");
        for root in [".", "./", "././", ".//"] {
            assert_eq!(clean_relative_or_root(root), ".", "{root}");
        }
    }

    #[test]
    fn container_paths() {
        assert!(check_container_path("target", &text("/app/x")).is_none());
        for bad in ["app", "/a/../b", "/a\\b"] {
            assert!(check_container_path("target", &text(bad)).is_some(), "{bad}");
        }
    }
}
