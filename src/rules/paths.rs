//! Relative paths as gscgen writes them. Resolve normalises every path of the config
//! with it (after checking it); the build inputs compare paths in the same form.

/// Normalises a relative path for output: strips `./` components and trailing `/`.
pub(crate) fn clean_relative(value: &str) -> String {
    value.split('/').filter(|c| !c.is_empty() && *c != ".").collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean() {
        assert_eq!(clean_relative("./a//b/"), "a/b");
    }
}
