//! Names as Kubernetes and DNS see them: the DNS-1123 form of a config name and the
//! label and subdomain grammars. Resolve checks names with them (and reports, with spans);
//! the renderers write the DNS form. What makes a config name valid, with its diagnostic,
//! is resolve's (`resolve/names.rs`).

/// The DNS-1123 form of a valid name: `api_ingestor` → `api-ingestor`.
pub(crate) fn dns_name(name: &str) -> String {
    name.replace('_', "-")
}

/// A DNS-1123 label: namespaces, object names that must be labels.
pub(crate) fn is_dns_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: Secret names.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && !s.is_empty() && s.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_grammars() {
        assert_eq!(dns_name("api_ingestor"), "api-ingestor");
        assert!(is_dns_label("gsc-warehouse") && !is_dns_label("gsc_warehouse") && !is_dns_label("-a"));
        assert!(is_dns_subdomain("db-credentials") && is_dns_subdomain("a.b") && !is_dns_subdomain("a..b"));
    }
}
