//! Parse: KDL text → [`config::Config`], the typed configuration with a span on every value.
//!
//! Nothing here applies defaults or looks names up: that is resolve's job. Every problem is
//! recorded as a diagnostic and parsing goes on, so one run reports them all.

pub mod config;
mod nodes;
mod reader;

use kdl::KdlDocument;
use miette::SourceSpan;

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::Source;
use config::Config;

/// Parses the source into a typed configuration. The configuration is usable as far as it
/// could be read; the diagnostics say what could not. `None` when the text is not KDL 2 at
/// all (then there is nothing to resolve).
pub fn parse(source: &Source) -> (Option<Config>, Diagnostics) {
    match KdlDocument::parse_v2(&source.text) {
        Ok(document) => {
            let (config, diagnostics) = nodes::read_document(&document);
            (Some(config), diagnostics)
        }
        Err(error) => (None, syntax_diagnostics(source, &error)),
    }
}

fn syntax_diagnostics(source: &Source, error: &kdl::KdlError) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    if KdlDocument::parse_v1(&source.text).is_ok() {
        diagnostics.push(
            Diagnostic::error(
                Code::KdlVersion1,
                "this file is KDL 1; gscgen reads KDL 2",
                SourceSpan::from(0..0),
                "KDL 1 document",
            )
            .with_help(
                "convert it with `gscgen convert-kdl1 project.kdl`, or by hand: KDL 2 writes \
                 true/false/null as #true/#false/#null and raw strings as #\"…\"#",
            ),
        );
        return diagnostics;
    }
    for d in &error.diagnostics {
        let message = d.message.clone().unwrap_or_else(|| "invalid KDL".to_owned());
        let mut diagnostic = Diagnostic::error(
            Code::KdlSyntax,
            message,
            clamp(d.span, source.text.len()),
            d.label.clone().unwrap_or_else(|| "here".to_owned()),
        );
        diagnostic.help =
            Some(d.help.clone().unwrap_or_else(|| "see https://kdl.dev for KDL 2 syntax".to_owned()));
        diagnostics.push(diagnostic);
    }
    if diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::KdlSyntax, "invalid KDL", SourceSpan::from(0..0), "here")
                .with_help("see https://kdl.dev for KDL 2 syntax"),
        );
    }
    diagnostics
}

/// Keeps a span inside the text, so a parser's end-of-input span still renders.
fn clamp(span: SourceSpan, len: usize) -> SourceSpan {
    let start = span.offset().min(len);
    let end = (span.offset() + span.len()).min(len);
    SourceSpan::from(start..end)
}
