//! Go-style durations (`30s`, `1m30s`, `500ms`): what Docker's HEALTHCHECK options accept,
//! and their whole seconds for Kubernetes probes. Resolve checks them; the Kubernetes
//! renderer converts them.

/// Go's `time.ParseDuration` grammar, which Docker uses for HEALTHCHECK options.
pub(crate) fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..digits];
        let valid_number = !number.is_empty()
            && number.matches('.').count() <= 1
            && !number.starts_with('.')
            && !number.ends_with('.');
        if !valid_number {
            return false;
        }
        rest = &rest[digits..];
        // Longest unit first: `ms` before `m`.
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "h", "m"].into_iter().find(|u| rest.starts_with(u))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// A Go-style duration (`30s`, `1m30s`, `500ms`; validated elsewhere) in whole seconds,
/// rounded up, at least 1: what Kubernetes probe fields take.
pub(crate) fn duration_seconds(s: &str) -> Option<u32> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, scale) =
            [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("h", 3600.0), ("m", 60.0)]
                .into_iter()
                .find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total += number * scale;
    }
    let seconds = total.ceil().max(1.0);
    (seconds <= f64::from(u32::MAX)).then_some(seconds as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_go() {
        for ok in ["30s", "1m30s", "1.5h", "500ms", "0s", "10us", "3µs"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "30", "s", "1.s", ".5s", "30 s", "1d", "-1s", "30s\nRUN x"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn durations_in_seconds() {
        assert_eq!(duration_seconds("30s"), Some(30));
        assert_eq!(duration_seconds("1m30s"), Some(90));
        assert_eq!(duration_seconds("500ms"), Some(1));
        assert_eq!(duration_seconds("1.5s"), Some(2));
        assert_eq!(duration_seconds("x"), None);
    }
}
