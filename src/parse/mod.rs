//! Parse: KDL text → [`config::Config`], the typed configuration with a span on every value.
//!
//! Nothing here applies defaults or looks names up: that is resolve's job. Every problem is
//! recorded as a diagnostic and parsing goes on, so one run reports them all.

pub mod config;
mod extra;
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
    if let Some(offset) = too_deep(&source.text) {
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(
            Diagnostic::error(
                Code::TooDeep,
                format!("blocks are nested more than {MAX_DEPTH} levels deep"),
                SourceSpan::from(offset..offset + 1),
                "too deep",
            )
            .with_help("gscgen's language nests at most four levels; look for unbalanced or repeated `{`"),
        );
        return (None, diagnostics);
    }
    match parse_kdl(&source.text) {
        Ok(document) => {
            let (config, diagnostics) = nodes::read_document(&document);
            (Some(config), diagnostics)
        }
        Err(error) => (None, syntax_diagnostics(source, &error)),
    }
}

/// Stack for the KDL parser's thread. The parser recurses per nesting level and, while
/// recovering from errors, per construct; the depth limit above bounds the first, this
/// bounds the second with a wide margin (it is address space, not memory, until used).
const PARSER_STACK: usize = 256 * 1024 * 1024;

/// Runs the KDL 2 parser on a thread with a large stack, so no input can overflow it, and
/// turns a panic inside the parser into an error instead of a crash.
fn parse_kdl(text: &str) -> Result<KdlDocument, kdl::KdlError> {
    parse_kdl_bounded(text)
}

/// The KDL document of a text, or `None` when it is not KDL 2 or nests too deep. For tools
/// that work on the document itself (`gscgen fmt`), with the same protections as `parse`.
pub(crate) fn kdl_document(text: &str) -> Option<KdlDocument> {
    if too_deep(text).is_some() {
        return None;
    }
    parse_kdl_bounded(text).ok()
}

fn parse_kdl_bounded(text: &str) -> Result<KdlDocument, kdl::KdlError> {
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("kdl-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || KdlDocument::parse_v2(text));
        match parser {
            Ok(handle) => handle.join().unwrap_or_else(|_| Err(parser_failure(text))),
            // No thread could be made (a very constrained sandbox): parse here instead.
            Err(_) => KdlDocument::parse_v2(text),
        }
    })
}

fn parser_failure(text: &str) -> kdl::KdlError {
    kdl::KdlError {
        input: std::sync::Arc::new(text.to_owned()),
        diagnostics: vec![kdl::KdlDiagnostic {
            input: std::sync::Arc::new(text.to_owned()),
            span: SourceSpan::from(0..0),
            message: Some("the KDL parser failed on this file (a bug in gscgen's KDL library)".into()),
            label: Some("here".into()),
            help: Some("please report this file; meanwhile look for unusual syntax near recent edits".into()),
            severity: miette::Severity::Error,
        }],
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

/// Deepest `{ … }` nesting accepted. The language needs four levels; the KDL parser recurses
/// per level, so an adversarial file of a few thousand `{` would overflow the stack.
const MAX_DEPTH: usize = 64;

/// Offset of the first `{` that opens a block deeper than [`MAX_DEPTH`], if any. A small
/// lexer skips strings, raw strings and comments so braces inside them don't count; it
/// never fails, it only has to be right for text the KDL parser would accept.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in KDL.
                let mut level = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        level += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        level -= 1;
                        i += 2;
                        if level == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'#' if matches!(bytes.get(i + 1), Some(b'#' | b'"')) => {
                // Raw string: #"…"#, ##"…"##, …
                let hashes = bytes[i..].iter().take_while(|b| **b == b'#').count();
                let mut closing = vec![b'"'];
                closing.extend(std::iter::repeat_n(b'#', hashes));
                i += hashes;
                if bytes.get(i) == Some(&b'"') {
                    i += 1;
                    while i < bytes.len() && !bytes[i..].starts_with(&closing) {
                        i += 1;
                    }
                    i += closing.len();
                    continue;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Keeps a span inside the text, so a parser's end-of-input span still renders.
fn clamp(span: SourceSpan, len: usize) -> SourceSpan {
    let start = span.offset().min(len);
    let end = (span.offset() + span.len()).min(len);
    SourceSpan::from(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_strings_and_comments() {
        let deep = format!("{}{}", "a {".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
        assert_eq!(too_deep(&deep), Some((MAX_DEPTH) * 3 + 2));
        let braces = "{".repeat(500);
        for text in [
            format!("a \"{braces}\""),
            format!("a #\"{braces}\"#"),
            format!("a ##\"\"#{braces}\"##"),
            format!("// {braces}\na"),
            format!("/* /* {braces} */ */ a"),
            format!("a \"\\\"{braces}\""),
        ] {
            assert_eq!(too_deep(&text), None, "{text}");
        }
        assert_eq!(too_deep("a { b { c { d } } }"), None);
    }
}
