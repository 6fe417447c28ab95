//! `gscgen fmt`: canonical formatting of the configuration (the kdl crate's autoformat,
//! which keeps comments). `--check` changes nothing and exits 1 with a diff.

use camino::Utf8Path;

use super::{Output, exit, failure, read_source};

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
    // kdl 6.7's autoformat replaces a node terminator that holds an end-of-line comment
    // (`python "3.12" // why`) with a bare newline, losing the comment: keep them aside.
    let mut line_comments = Vec::new();
    take_line_comments(&mut document, &mut line_comments);
    // autoformat drops blank lines between nodes; a config reads in sections, so a blank
    // line before a top-level node in the original is kept (one, however many there were).
    let spaced: Vec<bool> = document
        .nodes()
        .iter()
        .map(|node| node.format().is_some_and(|f| has_blank_line(&f.leading)))
        .collect();
    document.autoformat();
    restore_line_comments(&mut document, &mut line_comments.into_iter());
    for (node, spaced) in document.nodes_mut().iter_mut().zip(spaced).skip(1) {
        if let (true, Some(format)) = (spaced, node.format_mut()) {
            format.leading.insert(0, '\n');
        }
    }
    let mut formatted = document.to_string();
    let trimmed = formatted.trim_end().len();
    formatted.truncate(trimmed);
    formatted.push('\n');
    Some(formatted)
}

fn has_blank_line(leading: &str) -> bool {
    // The leading text starts right after the previous node's newline and ends with this
    // node's indentation: any complete line in it that holds only spaces is a blank line.
    let lines: Vec<&str> = leading.split('\n').collect();
    lines.len() > 1 && lines[..lines.len() - 1].iter().any(|l| l.trim().is_empty())
}

/// In document order, each node's end-of-line comment (or `None`).
fn take_line_comments(document: &mut kdl::KdlDocument, out: &mut Vec<Option<String>>) {
    for node in document.nodes_mut() {
        let comment = node.format().and_then(|f| {
            let terminator = f.terminator.trim();
            (terminator.starts_with("//") || terminator.starts_with("/*")).then(|| terminator.to_owned())
        });
        out.push(comment);
        if let Some(children) = node.children_mut() {
            take_line_comments(children, out);
        }
    }
}

fn restore_line_comments(
    document: &mut kdl::KdlDocument,
    comments: &mut impl Iterator<Item = Option<String>>,
) {
    for node in document.nodes_mut() {
        if let (Some(Some(comment)), Some(format)) = (comments.next(), node.format_mut()) {
            format.before_terminator = format!(" {comment}");
            format.terminator = "\n".to_owned();
        }
        if let Some(children) = node.children_mut() {
            restore_line_comments(children, comments);
        }
    }
}
