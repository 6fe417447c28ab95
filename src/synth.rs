//! Synthetic projects for benchmarks and scale tests: a valid `project.kdl` with N services
//! and M groups, realistic include depth and fan-out, deterministic for a seed.

use std::fmt::Write as _;

/// SplitMix64: deterministic across platforms, no dependency. Also drives the fuzz tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { usize::try_from(self.next_u64() % n as u64).unwrap_or(0) }
    }
}

/// A synthetic project. Groups form four layers (each group includes one to three groups
/// of the layer below, like base → insights → celery); two thirds of the services run an
/// image of their own, the others share one or run a pre-built image.
pub fn project(services: usize, groups: usize, seed: u64) -> String {
    let groups = groups.max(1);
    let mut rng = Rng(seed);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Synthetic project: {services} services, {groups} groups, seed {seed} (gscgen synth).\n\
         project synthetic {{\n    python \"3.12\"\n    registry \"ghcr.io/acme/synthetic\"\n    image-prefix syn\n}}\n"
    );
    // Four layers, like base → ingestors/insights/api → celery → all/dev in the seed: a
    // group includes one to three groups of the layer below (never two that imply each
    // other, since groups of one layer do not include each other).
    let layer_of = |g: usize| -> usize {
        match g * 100 / groups {
            0..=4 => 0,
            5..=49 => 1,
            50..=84 => 2,
            _ => 3,
        }
    };
    let layer_start = |layer: usize| (0..groups).find(|g| layer_of(*g) == layer).unwrap_or(0);
    for g in 0..groups {
        let _ = writeln!(out, "group g{g} {{");
        let layer = layer_of(g);
        if layer > 0 {
            let (start, end) = (layer_start(layer - 1), layer_start(layer));
            let mut picked: Vec<usize> = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let candidate = start + rng.below(end - start);
                if !picked.contains(&candidate) {
                    picked.push(candidate);
                }
            }
            let names: Vec<String> = picked.iter().map(|p| format!("g{p}")).collect();
            let _ = writeln!(out, "    include {}", names.join(" "));
        }
        for k in 0..3 + rng.below(6) {
            let _ = writeln!(out, "    require \"pkg-{g}-{k}>={}.{}\"", 1 + rng.below(9), rng.below(20));
        }
        let _ = writeln!(out, "}}\n");
    }
    let images = (services * 2).div_ceil(3).max(1);
    for i in 0..images {
        // Images install one group of the middle layers, as the seed's images do.
        let group = layer_start(1) + rng.below(groups - layer_start(1));
        let _ = writeln!(
            out,
            "image img{i} {{\n    groups g{group}\n    copy \"src/img{i}\" \"/app/img{i}\"\n    writable \"/logs\"\n    \
             env APP_NAME=\"img{i}\"\n    cmd python \"/app/img{i}/main.py\"\n}}\n"
        );
    }
    for s in 0..services {
        let source = if s < images {
            format!("image=img{s}")
        } else if s % 5 == 0 {
            "from=\"redis:7-alpine\"".to_owned()
        } else {
            format!("image=img{}", rng.below(images))
        };
        let _ = writeln!(out, "service svc{s} {source} profile=p{} {{", s % 7);
        let _ = writeln!(out, "    port {}", 8000 + (s % 1000));
        let _ = writeln!(out, "    env LOG_LEVEL=\"INFO\" SERVICE_INDEX=\"{s}\"");
        if s > 0 && rng.below(3) == 0 {
            let _ = writeln!(out, "    depends-on svc{}", rng.below(s));
        }
        let _ = writeln!(
            out,
            "    k8s {{\n        replicas {}\n        requests cpu=\"100m\" memory=\"128Mi\"\n        \
             limits cpu=\"500m\" memory=\"512Mi\"\n    }}\n}}\n",
            1 + rng.below(3)
        );
    }
    out
}

/// A single chain of `length` groups, each including the previous one.
pub fn include_chain(length: usize) -> String {
    let mut out = String::from("project chain {\n    python \"3.12\"\n}\n");
    for g in 0..length {
        if g == 0 {
            let _ = writeln!(out, "group g0 {{\n    require \"pkg-0\"\n}}");
        } else {
            let _ = writeln!(out, "group g{g} {{\n    include g{}\n    require \"pkg-{g}\"\n}}", g - 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    #[test]
    fn synthetic_projects_are_valid_and_deterministic() {
        for (services, groups) in [(1, 1), (15, 7), (100, 30)] {
            let text = project(services, groups, 7);
            assert_eq!(text, project(services, groups, 7));
            let (model, diagnostics) = crate::app::check_source(&Source::new("synth.kdl", text));
            assert!(diagnostics.is_empty(), "{services}/{groups}: {diagnostics:?}");
            let model = model.expect("valid");
            assert_eq!(model.services.len(), services);
        }
    }

    #[test]
    fn long_include_chain_resolves_without_recursion() {
        let text = include_chain(100_000);
        let (model, diagnostics) = crate::app::check_source(&Source::new("chain.kdl", text));
        assert!(!diagnostics.has_errors());
        let model = model.expect("valid");
        let last = model.groups.len() - 1;
        assert_eq!(model.closure(&[last]).len(), 100_000);
        assert_eq!(model.closure(&[last])[0], 0, "dependencies first");
    }
}
