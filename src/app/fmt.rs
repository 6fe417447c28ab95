//! `gscgen fmt`: canonical formatting of the configuration. `--check` changes nothing and
//! exits 1 with a diff.
//!
//! What changes is whitespace only: four-space indentation, one space between a node's name
//! and each of its entries and before `{`, comments re-indented with their node, runs of
//! blank lines collapsed to one, no blank line right after `{` or at the top of the file,
//! and a final newline. What the author wrote is kept: every comment where it was
//! (including the blank lines around section comments), and the spelling of every name and
//! value, quoted or bare (`copy "scheduler" "/app"` and `copy scheduler "/app"` both stay
//! as they are), raw strings and number notation included. The layout of the text follows
//! the kdl crate's autoformat; the rest is put back from the original document.

use camino::Utf8Path;
use kdl::{KdlDocument, KdlEntryFormat, KdlNode};

use super::{Output, exit, failure, read_source};

const INDENT: &str = "    ";

pub(super) fn run(path: &Utf8Path, check: bool, color: bool) -> Output {
    let source = match read_source(path) {
        Ok(source) => source,
        Err(failure) => return failure,
    };
    let Some(formatted) = format_text(&source.text) else {
        return failure(
            exit::INVALID,
            format!("error: {path} is not valid KDL 2; run `gscgen check` to see why\n"),
        );
    };
    if formatted == *source.text {
        return Output { code: exit::SUCCESS, stdout: String::new(), stderr: String::new() };
    }
    if check {
        let mut out = Output { code: exit::DRIFT, ..Output::default() };
        out.stdout =
            crate::emit::diff::unified(path.as_str(), source.text.as_bytes(), formatted.as_bytes(), color);
        out.stderr = format!("error: {path} is not formatted; run `gscgen fmt`\n");
        return out;
    }
    match crate::emit::replace_file(path, formatted.as_bytes()) {
        Ok(()) => {
            Output { code: exit::SUCCESS, stdout: format!("formatted {path}\n"), stderr: String::new() }
        }
        Err(error) => failure(exit::IO, format!("error: {error}\n")),
    }
}

/// The canonical form of a KDL 2 text, or `None` when it does not parse.
pub(super) fn format_text(text: &str) -> Option<String> {
    let mut document = crate::parse::kdl_document(text)?;
    let mut kept = Vec::new();
    keep(&document, &mut kept);
    let end = document.format().map(|f| f.trailing.clone()).unwrap_or_default();
    document.autoformat();
    restore(&mut document, 0, &mut kept.into_iter());
    if let Some(format) = document.format_mut() {
        format.trailing = closing(&end, 0, false);
    }
    let mut formatted = document.to_string();
    let trimmed = formatted.trim_start_matches('\n').trim_end();
    formatted = trimmed.to_owned();
    formatted.push('\n');
    Some(formatted)
}

/// One entry's property key and type annotation as spelt, and the comment before it with
/// its value's text.
type KeptEntry = (Option<String>, Option<String>, Option<(String, String)>);

/// What autoformat would lose of one node, taken before it runs.
struct Kept {
    /// The comments and blank lines before the node, as written.
    leading: String,
    /// Its end-of-line comment: kdl 6.7's autoformat replaces a node terminator that holds
    /// one (`python "3.12" // why`) with a bare newline.
    line_comment: Option<String>,
    /// What stands between its last entry (or children block) and the end of the line:
    /// slashdashed arguments, properties or children (`/-"linux/arm64"`), with a space.
    before_terminator: String,
    name: Option<String>,
    ty: Option<String>,
    /// Per entry: its property key's and type annotation's spelling, and the comment
    /// before it and its value's text.
    entries: Vec<KeptEntry>,
    /// The comments after the last child, before `}`.
    closing: String,
}

/// In document order (a node, then its children), what each node keeps.
fn keep(document: &KdlDocument, out: &mut Vec<Kept>) {
    for node in document.nodes() {
        let format = node.format();
        let line_comment = format.and_then(|f| {
            let terminator = f.terminator.trim();
            (terminator.starts_with("//") || terminator.starts_with("/*")).then(|| terminator.to_owned())
        });
        out.push(Kept {
            leading: format.map(|f| f.leading.clone()).unwrap_or_default(),
            line_comment,
            before_terminator: format
                .map(|f| f.before_terminator.trim())
                .filter(|text| !text.is_empty())
                .map(|text| format!(" {text}"))
                .unwrap_or_default(),
            name: node.name().repr().map(str::to_owned),
            ty: node.ty().and_then(|ty| ty.repr()).map(str::to_owned),
            entries: node
                .entries()
                .iter()
                .map(|entry| {
                    (
                        entry.name().and_then(|name| name.repr()).map(str::to_owned),
                        entry.ty().and_then(|ty| ty.repr()).map(str::to_owned),
                        entry.format().map(|f| {
                            // A comment before the entry (`/* why */ 8000`) stays with it; a
                            // line continuation (`\` and a newline) stays as written.
                            let comment = f.leading.trim();
                            let leading = if f.leading.contains('\n') {
                                f.leading.clone()
                            } else if comment.is_empty() {
                                " ".to_owned()
                            } else {
                                format!(" {comment} ")
                            };
                            (leading, f.value_repr.trim().to_owned())
                        }),
                    )
                })
                .collect(),
            closing: node
                .children()
                .and_then(KdlDocument::format)
                .map(|f| f.trailing.clone())
                .unwrap_or_default(),
        });
        if let Some(children) = node.children() {
            keep(children, out);
        }
    }
}

fn restore(document: &mut KdlDocument, depth: usize, kept: &mut impl Iterator<Item = Kept>) {
    for (index, node) in document.nodes_mut().iter_mut().enumerate() {
        let Some(mut this) = kept.next() else { return };
        let end = std::mem::take(&mut this.closing);
        restore_node(node, depth, index == 0, this);
        if let Some(children) = node.children_mut() {
            restore(children, depth + 1, kept);
            let empty = children.nodes().is_empty();
            if let Some(format) = children.format_mut() {
                // A comment right after `{` goes on a line of its own.
                format.leading = format!("\n{}", closing(&format.leading, depth + 1, true));
                format.trailing = closing(&end, depth + 1, empty);
                format.trailing.push_str(&INDENT.repeat(depth));
            }
        }
    }
}

fn restore_node(node: &mut KdlNode, depth: usize, first: bool, kept: Kept) {
    if let Some(format) = node.format_mut() {
        format.leading = leading(&kept.leading, depth, first);
        // autoformat puts a newline after what precedes the terminator (`/-"arm64"`,
        // `/-{ … }`), a blank line in the output: put it back as it was, on the node's line.
        format.before_terminator = kept.before_terminator;
        if let Some(comment) = kept.line_comment {
            format.before_terminator.push(' ');
            format.before_terminator.push_str(&comment);
        }
        format.terminator = "\n".to_owned();
    }
    if let Some(name) = kept.name {
        node.name_mut().set_repr(name);
    }
    if let (Some(repr), Some(ty)) = (kept.ty, node.ty_mut().as_mut()) {
        ty.set_repr(repr);
    }
    for (entry, (key, ty, value)) in node.entries_mut().iter_mut().zip(kept.entries) {
        if let (Some(repr), Some(name)) = (key, entry.name_mut()) {
            name.set_repr(repr);
        }
        if let (Some(repr), Some(annotation)) = (ty, entry.ty_mut()) {
            annotation.set_repr(repr);
        }
        if let Some((leading, value_repr)) = value {
            entry.set_format(KdlEntryFormat { value_repr, leading, ..Default::default() });
        }
    }
}

/// The comments after the last node of a block (or of the file), each line re-indented to
/// `depth`; a blank line between the last node and them stays, none is left at the end.
fn closing(original: &str, depth: usize, empty: bool) -> String {
    let indent = INDENT.repeat(depth);
    let mut out = String::new();
    let mut blank = false;
    for line in original.split('\n') {
        let line = line.trim();
        if line.is_empty() {
            blank = !(empty && out.is_empty());
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(&indent);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The text before a node: each comment line of the original re-indented to `depth`, and
/// a blank line wherever the original had one or more (none before the first node of a
/// block or of the file).
fn leading(original: &str, depth: usize, first: bool) -> String {
    let indent = INDENT.repeat(depth);
    let mut out = String::new();
    let mut blank = false;
    let push = |out: &mut String, blank: &mut bool, line: &str| {
        if *blank && !(first && out.is_empty()) {
            out.push('\n');
        }
        *blank = false;
        out.push_str(&indent);
        out.push_str(line);
        out.push('\n');
    };
    // The text ends with the node's own indentation (or a comment on the node's line):
    // only the lines before it are complete.
    let (complete, rest) = original.rsplit_once('\n').unwrap_or(("", original));
    if original.contains('\n') {
        for line in complete.split('\n') {
            let line = line.trim();
            if line.is_empty() {
                blank = true;
            } else {
                push(&mut out, &mut blank, line);
            }
        }
    }
    if !rest.trim().is_empty() {
        push(&mut out, &mut blank, rest.trim());
    }
    if blank && !(first && out.is_empty()) {
        out.push('\n');
    }
    out.push_str(&indent);
    out
}
