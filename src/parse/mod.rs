//! Parse: KDL text → [`Config`], the typed configuration with a span on every value
//! (its types live in [`crate::config`], which resolve reads).
//!
//! Nothing here applies defaults or looks names up: that is resolve's job. Every problem is
//! recorded as a diagnostic and parsing goes on, so one run reports them all.

mod extra;
mod nodes;
mod reader;

use kdl::KdlDocument;
use miette::SourceSpan;

use crate::config::Config;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::Source;

/// Parses the source into a typed configuration. The configuration is usable as far as it
/// could be read; the diagnostics say what could not. `None` when the text is not KDL 2 at
/// all (then there is nothing to resolve).
pub fn parse(source: &Source) -> (Option<Config>, Diagnostics) {
    let scan = scan(&source.text);
    if let Some(offset) = scan.too_deep {
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
    match parse_kdl(&source.text, &scan.node_ends) {
        Ok(document) => {
            let (config, diagnostics) = nodes::read_document(&document);
            drop_in_background(document);
            (Some(config), diagnostics)
        }
        Err(error) => (None, syntax_diagnostics(source, &error)),
    }
}

/// Frees a large document on another thread: a KDL document holds several small strings
/// per token, and freeing them is a measurable part of a large check, which need not wait
/// for it (a process that exits first simply returns the memory to the system).
fn drop_in_background(document: KdlDocument) {
    if document.nodes().len() < 256 {
        return;
    }
    // When no thread can be made, `spawn` drops the closure, and the document with it,
    // right here: the same as not trying.
    let _ = std::thread::Builder::new().name("kdl-drop".into()).spawn(move || drop(document));
}

/// Stack for the KDL parser's thread. The parser recurses per nesting level and, while
/// recovering from errors, per construct; the depth limit above bounds the first, this
/// bounds the second with a wide margin (it is address space, not memory, until used).
const PARSER_STACK: usize = 256 * 1024 * 1024;

/// Texts smaller than this are parsed on one thread: below it, starting threads costs
/// more than it saves.
const PARALLEL_MIN_BYTES: usize = 64 * 1024;

/// Parses the text, in parallel for large texts. The KDL parser reads about 1 MB/s, so on
/// a large project it is most of a `check`; top-level nodes are independent, so the text
/// is cut after top-level `}` lines into one piece per core and the pieces are parsed at
/// once. Each piece is parsed with everything before it blanked out (spaces, newlines
/// kept), so every span is already an offset into the whole text.
///
/// A cut is only ever made where the scanner saw a top-level `}` end a line. Should the
/// scanner be wrong (a cut inside a string or comment it misread), the piece before the cut
/// ends inside an unterminated construct and fails to parse; any failure falls back to
/// parsing the whole text, which also gives the diagnostics their usual form.
fn parse_kdl(text: &str, node_ends: &[usize]) -> Result<KdlDocument, kdl::KdlError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
    let cuts = cut_points(text.len(), node_ends, threads);
    if text.len() < PARALLEL_MIN_BYTES || cuts.is_empty() {
        return parse_kdl_bounded(text);
    }
    parse_pieces(text, &cuts)
}

/// Parses the pieces between `cuts` on one thread each and joins their nodes; any failure
/// falls back to parsing the whole text.
fn parse_pieces(text: &str, cuts: &[usize]) -> Result<KdlDocument, kdl::KdlError> {
    let mut starts = vec![0];
    starts.extend(cuts);
    let mut ends = cuts.to_vec();
    ends.push(text.len());
    let pieces: Vec<String> = starts
        .iter()
        .zip(&ends)
        .map(|(&start, &end)| {
            let mut piece: String =
                text.as_bytes()[..start].iter().map(|b| if *b == b'\n' { '\n' } else { ' ' }).collect();
            piece.push_str(&text[start..end]);
            piece
        })
        .collect();
    let parsed: Vec<Result<KdlDocument, kdl::KdlError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|piece| {
                std::thread::Builder::new()
                    .name("kdl-parser".into())
                    .stack_size(PARSER_STACK)
                    .spawn_scoped(scope, || KdlDocument::parse_v2(piece))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(parser_failure(text))),
                Err(_) => Err(parser_failure(text)),
            })
            .collect()
    });
    let mut documents = Vec::with_capacity(parsed.len());
    for result in parsed {
        match result {
            Ok(document) => documents.push(document),
            Err(_) => return parse_kdl_bounded(text),
        }
    }
    let mut documents = documents.into_iter();
    let mut whole = documents.next().unwrap_or_default();
    // What follows the last node so far (whitespace, comments, slashdashed nodes): in a
    // whole parse it leads the next node, or trails the document.
    let mut carry = whole.format().map(|f| f.trailing.clone()).unwrap_or_default();
    for (mut document, start) in documents.zip(cuts) {
        let mut nodes = std::mem::take(document.nodes_mut());
        // Formatting text of this piece starts with the blanked text before it: drop that.
        let own_trailing = document.format().map(|f| f.trailing.clone()).unwrap_or_default();
        match nodes.first_mut() {
            Some(first) => {
                if let Some(format) = first.format_mut() {
                    format.leading = format!("{carry}{}", format.leading.get(*start..).unwrap_or_default());
                }
                carry = own_trailing;
            }
            None => carry.push_str(own_trailing.get(*start..).unwrap_or_default()),
        }
        whole.nodes_mut().extend(nodes);
    }
    if let Some(format) = whole.format_mut() {
        format.trailing = carry;
    }
    Ok(whole)
}

/// Up to `parts - 1` offsets from `node_ends` that cut the text into pieces of about
/// equal size, in order, none at the very start or end.
fn cut_points(len: usize, node_ends: &[usize], parts: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    for k in 1..parts {
        let target = len * k / parts;
        let at = node_ends.partition_point(|end| *end < target);
        if let Some(&cut) = node_ends.get(at)
            && cut < len
            && cuts.last().is_none_or(|last| cut > *last)
        {
            cuts.push(cut);
        }
    }
    cuts
}

/// The KDL document of a text, or `None` when it is not KDL 2 or nests too deep. For tools
/// that work on the document itself (`gscgen fmt`), with the same protections as `parse`.
pub(crate) fn kdl_document(text: &str) -> Option<KdlDocument> {
    if scan(text).too_deep.is_some() {
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

/// A file name as one shell word, for a command in a help line: as it is when it holds only
/// characters no shell treats specially, else in single quotes.
fn shell_word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | ':' | ','));
    if plain { name.to_owned() } else { format!("'{}'", name.replace('\'', r"'\''")) }
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
            .with_help(format!(
                "convert it with `gscgen convert-kdl1 {}`, or by hand: KDL 2 writes \
                 true/false/null as #true/#false/#null and raw strings as #\"…\"#",
                shell_word(&source.name)
            )),
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

/// What one pass of a small lexer learns about the text before the KDL parser runs.
struct Scan {
    /// Offset of the first `{` that opens a block deeper than [`MAX_DEPTH`], if any.
    too_deep: Option<usize>,
    /// Offsets just after each `}\n` that closes a top-level node: where the text can be
    /// cut into independent pieces (see [`parse_kdl`]).
    node_ends: Vec<usize>,
}

/// The lexer skips strings, raw strings and comments so braces inside them don't count;
/// it never fails, it only has to be right for text the KDL parser would accept.
fn scan(text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut node_ends = Vec::new();
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
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // Multi-line string: runs to the next unescaped `"""`; lone quotes and
                // whole lines such as `}` inside it are text.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 3;
                continue;
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
                    return Scan { too_deep: Some(i), node_ends };
                }
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && bytes.get(i + 1) == Some(&b'\n') {
                    node_ends.push(i + 2);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Scan { too_deep: None, node_ends }
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
        let too_deep = |text: &str| scan(text).too_deep;
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

    #[test]
    fn top_level_node_ends_skip_nested_blocks_strings_and_comments() {
        let text = "a {\n  b {\n  }\n}\nc \"}\n\"\n/* {\n}\n */\nd {\n}\n";
        let ends = scan(text).node_ends;
        assert_eq!(
            ends.iter().map(|e| &text[..*e]).map(|t| t.ends_with("}\n")).collect::<Vec<_>>(),
            [true, true]
        );
        assert_eq!(ends, [text.find("}\nc").unwrap() + 2, text.len()]);
    }

    #[test]
    fn cuts_are_balanced_and_never_at_the_edges() {
        assert_eq!(cut_points(100, &[10, 40, 55, 100], 2), [55]);
        assert_eq!(
            cut_points(100, &[10, 40, 55, 100], 3),
            [40, 100].iter().copied().filter(|c| *c < 100).collect::<Vec<_>>()
        );
        assert_eq!(cut_points(100, &[100], 4), Vec::<usize>::new());
        assert_eq!(cut_points(100, &[], 2), Vec::<usize>::new());
    }

    /// The parallel parse gives exactly the document (nodes and spans) of a whole parse.
    #[test]
    fn parallel_parse_equals_whole_parse() {
        let text = crate::synth::project(300, 60, 7);
        assert!(text.len() > PARALLEL_MIN_BYTES);
        let scan = scan(&text);
        let whole = KdlDocument::parse_v2(&text).unwrap();
        for parts in [2, 3] {
            let cuts = cut_points(text.len(), &scan.node_ends, parts);
            assert_eq!(cuts.len(), parts - 1);
            let parallel = parse_pieces(&text, &cuts).unwrap();
            assert!(parallel.to_string() == whole.to_string(), "{parts} pieces: another document");
            for (a, b) in parallel.nodes().iter().zip(whole.nodes()) {
                assert_eq!(a.to_string(), b.to_string());
                assert_eq!(a.span(), b.span());
                assert_eq!(a.name().span(), b.name().span());
                for (x, y) in a.entries().iter().zip(b.entries()) {
                    assert_eq!(x.span(), y.span());
                }
            }
        }
    }

    /// Every cut the scanner offers gives exactly the whole parse, on a text with the
    /// constructs that could mislead it: multi-line strings with lone quotes and `}` lines,
    /// raw strings, comments, slashdash, line continuations, non-ASCII text and CRLF.
    #[test]
    fn every_offered_cut_gives_the_whole_document() {
        let text = concat!(
            "a \"\"\"\n}\nx \" y\n\"\"\"\n",
            "b {\n  c \"}\\\"\"\n}\n",
            "d #\"\"\"\n}\n\" {\n\"\"\"#\n",
            "/* { */ e {\n}\n",
            "/- f {\n  g\n}\n",
            "h 1 \\ // tail\n  2\n",
            "i {\r\n  j \"é}\"\r\n}\r\n",
            "k {\n  l \"\"\"\n  }\n  \"\"\"\n}\n",
            "m {\n}\n",
        );
        let whole = KdlDocument::parse_v2(text).expect("the test text is KDL 2");
        let ends = scan(text).node_ends;
        assert!(ends.len() >= 4, "{ends:?}");
        for cut in &ends {
            if *cut >= text.len() {
                continue;
            }
            let pieces = parse_pieces(text, &[*cut]).unwrap();
            assert!(pieces.to_string() == whole.to_string(), "cut at {cut}: {:?}", &text[..*cut]);
            // The cut itself is a real node boundary: both halves parse on their own.
            assert!(KdlDocument::parse_v2(&text[..*cut]).is_ok(), "cut at {cut}: {:?}", &text[..*cut]);
        }
    }

    /// A cut the scanner got wrong (here: inside a multi-line string it cannot see) makes a
    /// piece fail, and the whole text is parsed instead.
    #[test]
    fn a_wrong_cut_falls_back_to_the_whole_parse() {
        let filler = "n { a 1\n}\n".repeat(PARALLEL_MIN_BYTES / 8);
        let text = format!("{filler}s \"\"\"\n  x {{\n  }}\n  \"\"\"\n{filler}");
        let scan = scan(&text);
        let whole = KdlDocument::parse_v2(&text).unwrap();
        let wrong = text.find("  }\n  \"\"\"").unwrap() + 4;
        assert!(KdlDocument::parse_v2(&text[..wrong]).is_err(), "the piece before a wrong cut fails");
        let fallback = parse_pieces(&text, &[wrong]).unwrap();
        assert_eq!(fallback.to_string(), whole.to_string());
        assert_eq!(parse_kdl(&text, &scan.node_ends).unwrap().to_string(), whole.to_string());
    }
}
