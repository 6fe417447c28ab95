//! Machine-readable reports of `check`: one JSON document (`--format json`, documented in
//! docs/check-json.md) and GitHub workflow commands (`--format github`, or under
//! GitHub Actions) that annotate the pull request.

use camino::Utf8Path;
use serde::Serialize;

use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::emit::{Drift, FileStatus, describe_mode};
use crate::source::Source;

/// Version of the JSON shape; bumped on any incompatible change.
const JSON_VERSION: u32 = 2;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    /// `fresh`, `drift`, `invalid` or `error`.
    status: &'a str,
    config: Option<&'a str>,
    output: Option<&'a str>,
    files: Vec<FileReport<'a>>,
    diagnostics: Vec<DiagnosticReport<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct FileReport<'a> {
    path: &'a str,
    status: &'a str,
    disk_mode: String,
    rendered_mode: String,
}

#[derive(Serialize)]
struct DiagnosticReport<'a> {
    code: &'static str,
    severity: Severity,
    file: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
    help: Option<&'a str>,
}

fn diagnostic_reports<'a>(source: &'a Source, diagnostics: &'a Diagnostics) -> Vec<DiagnosticReport<'a>> {
    diagnostics
        .sorted()
        .into_iter()
        .map(|d: &Diagnostic| {
            let (line, column) = source.line_col(d.offset());
            DiagnosticReport {
                code: d.code.as_str(),
                severity: d.severity,
                file: &source.name,
                line,
                column,
                message: &d.message,
                help: d.help.as_deref(),
            }
        })
        .collect()
}

fn to_json(report: &Report<'_>) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// The whole result of a `check` as one JSON document.
pub(super) fn json(
    source: &Source,
    diagnostics: &Diagnostics,
    drift: &[Drift],
    output: Option<&Utf8Path>,
    status: &str,
) -> String {
    to_json(&Report {
        version: JSON_VERSION,
        status,
        config: Some(&source.name),
        output: output.map(Utf8Path::as_str),
        files: drift
            .iter()
            .map(|d| FileReport {
                path: d.path.as_str(),
                status: d.status.as_str(),
                disk_mode: describe_mode(d.disk_mode),
                rendered_mode: describe_mode(d.rendered_mode),
            })
            .collect(),
        diagnostics: diagnostic_reports(source, diagnostics),
        error: None,
    })
}

/// The JSON document of a check that the cache proved fresh.
pub(super) fn json_fresh(source: &Source, output: &Utf8Path) -> String {
    json(source, &Diagnostics::default(), &[], Some(output), "fresh")
}

/// A JSON document for a run that failed on I/O.
pub(super) fn json_error(message: &str) -> String {
    to_json(&Report {
        version: JSON_VERSION,
        status: "error",
        config: None,
        output: None,
        files: Vec::new(),
        diagnostics: Vec::new(),
        error: Some(message),
    })
}

/// Escapes a workflow command's message (`%`, CR, LF).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,col=…,title=…::message` for every diagnostic.
pub(super) fn github_diagnostics(source: &Source, diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diagnostics.sorted() {
        let (line, column) = source.line_col(d.offset());
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{kind} file={},line={line},col={column},title={}::{}\n",
            escape_property(&source.name),
            escape_property(d.code.as_str()),
            escape_data(&message)
        ));
    }
    out
}

/// One `::error` per drifted file, on the file itself, saying what fixes it.
pub(super) fn github_drift(root: &Utf8Path, drift: &[Drift], config_name: &str) -> String {
    let mut out = String::new();
    for d in drift {
        let fix = match d.status {
            _ if !d.needs_force() => "run `gscgen render` and commit the result".to_owned(),
            FileStatus::NotGenerated => "move it out of the way, or run `gscgen render --force` to \
                                         overwrite it (its content is lost), and commit the result"
                .to_owned(),
            _ => format!(
                "move the edit into {config_name}, or run `gscgen render --force` to overwrite it (the edit \
                 is lost), and commit the result"
            ),
        };
        out.push_str(&format!(
            "::error file={},line=1,title={}::{} {}: {fix}\n",
            escape_property(root.join(&d.path).as_str()),
            escape_property(&format!("gscgen drift ({})", d.status.as_str())),
            escape_data(d.path.as_str()),
            d.status.describe()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
