//! Relative paths as gscgen writes them. Resolve normalises every path of the config
//! with them (after checking it); the build inputs compare paths in the same form.

/// Normalises a relative path for output: strips `./` components and trailing `/`.
pub(crate) fn clean_relative(value: &str) -> String {
    value.split('/').filter(|c| !c.is_empty() && *c != ".").collect::<Vec<_>>().join("/")
}

/// [`clean_relative`] for a path that may name the project root itself (`copy "." "/app"`,
/// `mount "./" "/app"`): the root is `.`, never the empty string, which a Dockerfile would
/// render as `COPY  /app` (no source) and Compose as a bind of the compose folder's parent.
/// The build inputs name the root the same way, as git does.
pub(crate) fn clean_relative_or_root(value: &str) -> String {
    let clean = clean_relative(value);
    if clean.is_empty() { ".".to_owned() } else { clean }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean() {
        assert_eq!(clean_relative("./a//b/"), "a/b");
        assert_eq!(clean_relative_or_root("./a//b/"), "a/b");
        for root in [".", "./", "././", ".//"] {
            assert_eq!(clean_relative_or_root(root), ".", "{root}");
        }
    }
}
