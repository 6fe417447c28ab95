//! Diagnostics: every problem found in a configuration is a value with a stable code, a
//! primary span, a help line and a severity. All of a run's diagnostics are collected and
//! reported together, in source order.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};
use serde::Serialize;

use crate::source::Source;

/// How serious a diagnostic is. Warnings fail a run only with `--deny-warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

macro_rules! codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Every diagnostic code gscgen emits. `docs/diagnostics.md` documents each one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable, user-visible code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
        }
    };
}

codes! {
    KdlSyntax => "gscgen::kdl::syntax",
    KdlVersion1 => "gscgen::kdl::version1",
    TooDeep => "gscgen::kdl::too-deep",
    UnknownNode => "gscgen::config::unknown-node",
    UnknownProperty => "gscgen::config::unknown-property",
    UnexpectedArgument => "gscgen::config::unexpected-argument",
    MissingArgument => "gscgen::config::missing-argument",
    MissingProperty => "gscgen::config::missing-property",
    MissingNode => "gscgen::config::missing-node",
    WrongType => "gscgen::config::wrong-type",
    InvalidValue => "gscgen::config::invalid-value",
    UnexpectedChildren => "gscgen::config::unexpected-children",
    DuplicateNode => "gscgen::config::duplicate-node",
    DuplicateName => "gscgen::name::duplicate",
    NameCollision => "gscgen::name::collision",
    InvalidName => "gscgen::name::invalid",
    InvalidPath => "gscgen::path::invalid",
    UnknownGroup => "gscgen::group::unknown",
    GroupCycle => "gscgen::group::cycle",
    RedundantInclude => "gscgen::group::redundant-include",
    SelfInclude => "gscgen::group::self-include",
    EmptyGroup => "gscgen::group::empty",
    InvalidRequirement => "gscgen::requirement::invalid",
    DuplicateRequirement => "gscgen::requirement::duplicate",
    UnknownIndex => "gscgen::index::unknown",
    IndexNeedsLock => "gscgen::index::needs-lock",
    LockMissing => "gscgen::lock::missing",
    LockStale => "gscgen::lock::stale",
    LockEdited => "gscgen::lock::edited",
    UnknownImage => "gscgen::image::unknown",
    UnusedImage => "gscgen::image::unused",
    UnpinnedImage => "gscgen::image::unpinned",
    ImageNeedsBase => "gscgen::image::needs-base",
    PlainImageUser => "gscgen::image::plain-user",
    DuplicateDockerfile => "gscgen::image::duplicate-dockerfile",
    ImageSource => "gscgen::service::image-source",
    UnknownService => "gscgen::service::unknown",
    UnknownSecret => "gscgen::secret::unknown",
    UnusedSecret => "gscgen::secret::unused",
    UnknownEnvSet => "gscgen::env-set::unknown",
    UnusedEnvSet => "gscgen::env-set::unused",
    DuplicateHostPort => "gscgen::service::duplicate-host-port",
    DependencyCycle => "gscgen::service::dependency-cycle",
    DependencyCondition => "gscgen::service::dependency-condition",
    DuplicateEnv => "gscgen::service::duplicate-env",
    DuplicateMountTarget => "gscgen::service::duplicate-mount-target",
    ServesConflict => "gscgen::service::serves-conflict",
    UnknownCapability => "gscgen::service::unknown-capability",
    HardeningConflict => "gscgen::service::hardening-conflict",
    HttpHealthPrebuilt => "gscgen::compose::http-health-prebuilt",
    PypiCachePort => "gscgen::compose::pypi-cache-port",
    ExtraUnknownKey => "gscgen::compose::extra-unknown-key",
    ExtraGeneratedKey => "gscgen::compose::extra-generated-key",
    EnvSecretReadOnly => "gscgen::compose::env-secret-read-only",
    LiteralInterpolation => "gscgen::compose::literal-interpolation",
    DockerValue => "gscgen::docker::unrepresentable",
    DockerFlag => "gscgen::docker::flag",
    BatchValue => "gscgen::docker::batch-unrepresentable",
    InvalidPackage => "gscgen::docker::invalid-package",
    DistrolessPython => "gscgen::docker::distroless-python",
    DistrolessBuilder => "gscgen::docker::distroless-builder",
    DistrolessPackages => "gscgen::docker::distroless-packages",
    ExtraUnknownInstruction => "gscgen::docker::extra-unknown-instruction",
    ExtraForbiddenInstruction => "gscgen::docker::extra-forbidden-instruction",
    ExtraSyntax => "gscgen::docker::extra-syntax",
    ExtraNoInstall => "gscgen::docker::extra-no-install",
    UserConflict => "gscgen::image::user-conflict",
    ProgramNotInstalled => "gscgen::image::program-not-installed",
    HealthKeyword => "gscgen::health::docker-keyword",
    DockerignorePattern => "gscgen::dockerignore::invalid-pattern",
    CopyExcluded => "gscgen::dockerignore::excludes-copy",
    RequirementsExcluded => "gscgen::dockerignore::excludes-requirements",
    DockerNeedsRequirements => "gscgen::targets::docker-needs-requirements",
    ComposeNeedsDocker => "gscgen::targets::compose-needs-docker",
    InvalidPythonVersion => "gscgen::project::python-version",
    NoTargets => "gscgen::targets::empty",
    TargetDirAndPath => "gscgen::targets::dir-and-path",
    PathCollision => "gscgen::targets::path-collision",
    KubernetesNeedsDocker => "gscgen::targets::kubernetes-needs-docker",
    KubernetesVersion => "gscgen::kubernetes::version",
    Quantity => "gscgen::kubernetes::quantity",
    RequestsExceedLimits => "gscgen::kubernetes::requests-exceed-limits",
    AutoscaleWithoutCpuRequest => "gscgen::kubernetes::autoscale-without-cpu-request",
    ReplicasWithAutoscale => "gscgen::kubernetes::replicas-with-autoscale",
    DisruptionBudgetBlocksDrain => "gscgen::kubernetes::disruption-budget-blocks-drain",
    DisruptionBudgetAtMinimum => "gscgen::kubernetes::disruption-budget-at-minimum",
    NeedsDeployment => "gscgen::kubernetes::needs-deployment",
    NotDeployed => "gscgen::kubernetes::not-deployed",
    RootImage => "gscgen::kubernetes::root-image",
    UnknownImageUser => "gscgen::kubernetes::unknown-image-user",
    ProbePort => "gscgen::kubernetes::probe-port",
    SecretRef => "gscgen::kubernetes::secret-ref",
    BindMount => "gscgen::kubernetes::bind-mount",
    EnvFileKubernetes => "gscgen::kubernetes::env-file",
    EnvHostKubernetes => "gscgen::kubernetes::env-host",
    NoResources => "gscgen::kubernetes::no-resources",
    PatchTarget => "gscgen::kubernetes::patch-target",
    PatchPath => "gscgen::kubernetes::patch-path",
    PatchOwned => "gscgen::kubernetes::patch-owned",
    UnknownVolume => "gscgen::kubernetes::unknown-volume",
    SharedClaim => "gscgen::kubernetes::shared-claim",
    AllowFromUnserved => "gscgen::kubernetes::allow-from-unserved",
    JobName => "gscgen::kubernetes::job-name",
    WorkflowNeedsDocker => "gscgen::targets::workflow-needs-docker",
    WorkflowBranch => "gscgen::workflow::invalid-branch",
    WorkflowRegistry => "gscgen::workflow::registry-mismatch",
    WorkflowDefaultBranch => "gscgen::workflow::default-branch-not-built",
    WorkflowNoImage => "gscgen::workflow::no-image",
    WorkflowBuildArgs => "gscgen::workflow::build-args-differ",
    DependencyGroupName => "gscgen::dependency-groups::name-collision",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled span of the configuration.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: SourceSpan,
    pub text: String,
}

/// One problem in the configuration.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The first label is the primary one: the exact text that is wrong.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error whose primary label sits on `span`.
    pub fn error(code: Code, message: impl Into<String>, span: SourceSpan, label: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label { span, text: label.into() }],
            help: None,
        }
    }

    /// A warning whose primary label sits on `span`.
    pub fn warning(
        code: Code,
        message: impl Into<String>,
        span: SourceSpan,
        label: impl Into<String>,
    ) -> Self {
        Self { severity: Severity::Warning, ..Self::error(code, message, span, label) }
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_label(mut self, span: SourceSpan, text: impl Into<String>) -> Self {
        self.labels.push(Label { span, text: text.into() });
        self
    }

    /// Sets the help line: how to fix it.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Byte offset of the primary label, for source ordering.
    pub fn offset(&self) -> usize {
        self.labels.first().map_or(0, |l| l.span.offset())
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of one run, in the order they were found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// The diagnostics in source order (stable for diagnostics at the same offset).
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by_key(|d| d.offset());
        items
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

/// A diagnostic joined with its source, as miette wants it for rendering.
struct Attached<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a Snippets,
}

/// The configuration as miette reads it, with one correction: miette's `SpanContents` of a
/// string reports as `line_count` every line from the top of the file to the end of the
/// snippet, not the lines of the snippet, and the graphical handler merges two labels'
/// snippets when `line + line_count` of the first reaches the second. With the count from
/// the top, every label of a diagnostic merged into one snippet, so a cycle whose includes
/// sit 60 lines apart printed all 60 lines. Counting the snippet's own lines, snippets merge
/// only when they touch, and distant labels are drawn as separate excerpts (as rustc does).
struct Snippets(miette::NamedSource<std::sync::Arc<String>>);

impl miette::SourceCode for Snippets {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents =
            miette::SourceCode::read_span(&self.0, span, context_lines_before, context_lines_after)?;
        let data = contents.data();
        let lines = data.iter().filter(|b| **b == b'\n').count() + usize::from(!data.ends_with(b"\n"));
        let mut fixed = miette::MietteSpanContents::new_named(
            contents.name().unwrap_or_default().to_owned(),
            data,
            *contents.span(),
            contents.line(),
            contents.column(),
            lines,
        );
        if let Some(language) = contents.language() {
            fixed = fixed.with_language(language);
        }
        Ok(Box::new(fixed))
    }
}

impl fmt::Debug for Attached<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Attached<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Attached<'_> {}

impl miette::Diagnostic for Attached<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.diagnostic.labels.iter().enumerate().map(|(i, label)| {
            let text = Some(label.text.clone()).filter(|t| !t.is_empty());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, label.span)
            } else {
                LabeledSpan::new_with_span(text, label.span)
            }
        });
        Some(Box::new(labels))
    }
}

/// How diagnostics are drawn.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
    /// At most this many diagnostics are drawn; the rest are counted.
    pub max: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self { color: false, width: 100, max: 50 }
    }
}

/// Draws every diagnostic, in source order, followed by a summary line.
pub fn render(source: &Source, diagnostics: &Diagnostics, options: RenderOptions) -> String {
    let theme = if options.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(options.width).with_links(false);
    let named = Snippets(source.named());
    let mut out = String::new();
    let sorted = diagnostics.sorted();
    for diagnostic in sorted.iter().take(options.max) {
        let shortened;
        let diagnostic = if has_far_label(source, diagnostic) {
            shortened = without_snippet(source, diagnostic);
            &shortened
        } else {
            *diagnostic
        };
        let attached = Attached { diagnostic, source: &named };
        if handler.render_report(&mut out, &attached).is_err() {
            // Rendering into a String cannot fail; keep the plain message if it ever does.
            out.push_str(&diagnostic.message);
        }
        out.push('\n');
    }
    if sorted.len() > options.max {
        out.push_str(&format!("… and {} more diagnostics not shown\n", sorted.len() - options.max));
    }
    out.push_str(&summary(diagnostics));
    out.push('\n');
    out
}

/// Labels past this column are not drawn: miette cannot pad that far (its format width is
/// limited) and a snippet of such a line would be unreadable anyway.
const MAX_LABEL_COLUMN: usize = 2000;

fn has_far_label(source: &Source, diagnostic: &Diagnostic) -> bool {
    diagnostic.labels.iter().any(|label| {
        let (_, start) = source.line_col(label.span.offset());
        let (_, end) = source.line_col(label.span.offset() + label.span.len());
        start > MAX_LABEL_COLUMN || end > MAX_LABEL_COLUMN
    })
}

/// The diagnostic with its locations written as `name:line:column` instead of a snippet.
fn without_snippet(source: &Source, diagnostic: &Diagnostic) -> Diagnostic {
    let places: Vec<String> = diagnostic
        .labels
        .iter()
        .map(|label| {
            let (line, column) = source.line_col(label.span.offset());
            format!("{}:{line}:{column} ({})", source.name, label.text)
        })
        .collect();
    Diagnostic {
        message: format!("{} at {}", diagnostic.message, places.join(", ")),
        labels: Vec::new(),
        ..diagnostic.clone()
    }
}

/// `2 errors, 1 warning` style summary.
pub fn summary(diagnostics: &Diagnostics) -> String {
    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    format!(
        "{}: {}, {}",
        if diagnostics.has_errors() { "error" } else { "warning" },
        plural(diagnostics.error_count(), "error"),
        plural(diagnostics.warning_count(), "warning")
    )
}

/// At most this many candidates get an edit distance per lookup: a configuration with
/// thousands of unknown names among thousands of declared ones stays linear (issue 21).
const MAX_EXAMINED: usize = 200;

/// The closest names to `wanted` among `known` (at most three), for "did you mean" help
/// lines. A candidate whose length alone puts it out of reach costs one comparison; at most
/// [`MAX_EXAMINED`] of the rest get an edit distance.
pub fn suggest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let wanted_len = wanted.len();
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        // Byte lengths bound character counts from above, so this only skips names whose
        // edit distance is certainly over the limit (a third of the longer name, at least 1).
        .filter(|candidate| {
            let longer = wanted_len.max(candidate.len());
            wanted_len.abs_diff(candidate.len()) <= longer / 3 + 1
                || !candidate.is_ascii()
                || !wanted.is_ascii()
        })
        .take(MAX_EXAMINED)
        .filter_map(|candidate| {
            let distance = edit_distance(&wanted_lower, &candidate.to_lowercase());
            let limit = (wanted.chars().count().max(candidate.chars().count()) / 3).max(1);
            (distance <= limit).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// Declared names bucketed by byte length, built once for many "did you mean" lookups: a
/// lookup visits only the lengths within reach of the wanted name (and the non-ASCII names,
/// whose byte length says little), so 10,000 unknown names among 10,000 declared ones cost
/// 10,000 short lookups instead of 10^8 length checks. Same answers as [`suggest`] over the
/// same names, except which [`MAX_EXAMINED`] are examined when more are within reach.
pub struct NameIndex<'a> {
    by_len: std::collections::BTreeMap<usize, Vec<&'a str>>,
    non_ascii: Vec<&'a str>,
}

impl<'a> NameIndex<'a> {
    pub fn new(known: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = Self { by_len: Default::default(), non_ascii: Vec::new() };
        for name in known {
            if name.is_ascii() {
                index.by_len.entry(name.len()).or_default().push(name);
            } else {
                index.non_ascii.push(name);
            }
        }
        index
    }

    /// The closest names to `wanted` (at most three).
    pub fn suggest(&self, wanted: &str) -> Vec<&'a str> {
        if !wanted.is_ascii() {
            return suggest(wanted, self.by_len.values().flatten().chain(&self.non_ascii).copied());
        }
        // |w - l| <= max(w, l) / 3 + 1 (the filter of `suggest`) holds only for lengths in
        // [w - w/3 - 1, (3w + 3) / 2]; the filter in `suggest` then decides exactly.
        let w = wanted.len();
        let lengths = w.saturating_sub(w / 3 + 1)..=(3 * w + 3) / 2;
        suggest(
            wanted,
            self.by_len
                .range(lengths)
                .flat_map(|(_, names)| names.iter().copied())
                .chain(self.non_ascii.iter().copied()),
        )
    }
}

/// A help line's list of names, cut to the first few: "a, b, c, d, e and 995 more".
pub fn some_of(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    if names.len() <= SHOWN + 1 {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..SHOWN].join(", "), names.len() - SHOWN)
    }
}

/// "did you mean `a` or `b`?" for a non-empty suggestion list.
pub fn did_you_mean(suggestions: &[&str]) -> Option<String> {
    match suggestions {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => {
            let quoted: Vec<String> = many.iter().map(|s| format!("`{s}`")).collect();
            Some(format!("did you mean one of {}?", quoted.join(", ")))
        }
    }
}

/// Optimal string alignment distance over characters: Levenshtein plus transposition of
/// two adjacent characters (the most common typo: `bsae` for `base`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_rank_by_distance() {
        assert_eq!(suggest("insigths", ["base", "insights", "api"]), vec!["insights"]);
        assert_eq!(suggest("zzzz", ["base", "insights"]), Vec::<&str>::new());
        assert_eq!(suggest("Base", ["base"]), vec!["base"]);
        assert_eq!(suggest("bsae", ["base", "api"]), vec!["base"]);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_name_index_suggests_what_suggest_does() {
        let names: Vec<String> = (0..300)
            .map(|i| format!("g{i}"))
            .chain(["insights", "base", "api", "ingestors", "celery", "überall", "a"].map(String::from))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let index = NameIndex::new(names.iter().copied());
        for wanted in
            ["insigths", "bsae", "g10", "g10x", "celry", "uberall", "überal", "zzzz", "", "b", "ingestor"]
        {
            assert_eq!(index.suggest(wanted), suggest(wanted, names.iter().copied()), "{wanted:?}");
        }
    }

    #[test]
    fn lists_in_help_lines_stay_short() {
        assert_eq!(some_of(&["a", "b"]), "a, b");
        let many: Vec<String> = (0..1000).map(|i| format!("g{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(some_of(&many), "g0, g1, g2, g3, g4 and 995 more");
        // g10 and g100 … g109 are all one edit from "g10x": eleven near names, three shown.
        assert_eq!(suggest("g10x", many.iter().copied()).len(), 3, "at most three suggestions");
    }

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(code.as_str().starts_with("gscgen::"), "{code}");
            assert!(seen.insert(code.as_str()), "duplicate {code}");
        }
    }
}
