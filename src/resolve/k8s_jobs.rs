//! Jobs that can be applied again: a Job's pod template is immutable, so a Job that runs a
//! built image carries the image's tag in its name (`transform-<tag>`), and the
//! kustomization's `replacements` rewrite that suffix whenever `kustomize edit set image`
//! changes the tag. A new commit is a new Job; the finished one is deleted after
//! `ttlSecondsAfterFinished`. docs/kubernetes.md, "Jobs", shows the deploy sequence.
//!
//! Both halves of the name must fit: the name is a label value (at most 63 characters)
//! with the longest tag CI deploys, a full commit SHA; and the tag must be a name segment
//! without `-` (the replacement finds the suffix after the name's own dashes).

use crate::config::{Config, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{DEFAULT_TAG, init_job_name};
use crate::rules::k8s_objects::DEPLOYED_TAG_LEN;
use crate::rules::names::dns_name;

use super::kubernetes::is_deployed;

pub(super) fn check(config: &Config, diagnostics: &mut Diagnostics) {
    let Some(target) = config.targets.as_ref().and_then(|t| t.kubernetes.as_ref()) else { return };
    // (Job base name, span) of every Job that runs a built image.
    let mut jobs: Vec<(String, &Text)> = Vec::new();
    for service in config.services.iter().filter(|s| is_deployed(s)) {
        let dns = dns_name(&service.name.value);
        if service.oneshot.as_ref().is_some_and(|o| o.value) && service.image.is_some() {
            jobs.push((dns.clone(), &service.name));
        }
        for init in
            service.k8s.iter().flat_map(|k| &k.init).filter(|i| i.job.as_ref().is_some_and(|j| j.value))
        {
            jobs.push((init_job_name(&dns, &dns_name(&init.name.value)), &init.name));
        }
    }
    let Some((first, _)) = jobs.first() else { return };
    let tag = target.tag.as_ref().map_or(DEFAULT_TAG, |t| t.value.as_str());
    if !is_name_segment(tag) {
        let span = target.tag.as_ref().map_or(target.span, |t| t.span);
        diagnostics.push(
            Diagnostic::error(
                Code::JobName,
                format!("the tag `{}` cannot be part of a Job's name (`{first}-{}`)", tag.escape_debug(), tag.escape_debug()),
                span,
                "not a name segment",
            )
            .with_help(
                "use a tag of lowercase letters, digits and `.` (a commit SHA, \"latest\", \"v1.2.3\"): Jobs of built \
                 images carry the tag in their name, after its last `-`",
            ),
        );
    }
    for (base, name) in &jobs {
        let longest = base.len() + 1 + DEPLOYED_TAG_LEN;
        if longest > 63 {
            diagnostics.push(
                Diagnostic::error(
                    Code::JobName,
                    format!("the Job `{base}-<commit SHA>` would be {longest} characters long, more than 63"),
                    name.span,
                    "name too long for a Job",
                )
                .with_help(format!(
                    "shorten the name to at most {} characters: a Job of a built image is named `<name>-<tag>`, and \
                     CI deploys 40-character commit SHAs",
                    63 - 1 - DEPLOYED_TAG_LEN
                )),
            );
        }
    }
}

/// A tag that can follow `-` in an object name and be found again by splitting on `-`.
fn is_name_segment(tag: &str) -> bool {
    !tag.is_empty()
        && tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.')
        && !tag.starts_with('.')
        && !tag.ends_with('.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn name_segments() {
        for ok in ["latest", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v1.2.3"] {
            assert!(super::is_name_segment(ok), "{ok}");
        }
        for bad in ["v1-rc", "Latest", "a_b", ".x", ""] {
            assert!(!super::is_name_segment(bad), "{bad}");
        }
    }
}
