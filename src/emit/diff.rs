//! Unified diffs between what is on disk and what would be rendered.

use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

/// Past this, `similar` falls back to a coarser diff instead of searching for the minimal
/// one: a drifted 100,000-line file still diffs in well under a second.
const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// A unified diff from `old` (disk) to `new` (rendered), `--- path`/`+++ path` headers, with
/// ANSI colours when asked. Line endings are normalised first so a CRLF checkout does not
/// show every line as changed (the byte comparison still reports it as drift).
pub fn unified(path: &str, old: &[u8], new: &[u8], color: bool) -> String {
    let old = normalise(old);
    let new = normalise(new);
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_DEADLINE)
        .diff_lines(old.as_str(), new.as_str());
    let mut out = String::new();
    let (red, green, cyan, bold, reset) =
        if color { ("\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m") } else { ("", "", "", "", "") };
    out.push_str(&format!("{bold}--- {path} (on disk){reset}\n{bold}+++ {path} (rendered){reset}\n"));
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        out.push_str(&format!(
            "{cyan}@@ -{} +{} @@{reset}\n",
            hunk_range(old_range.start, old_range.len()),
            hunk_range(new_range.start, new_range.len())
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, colour) = match change.tag() {
                    ChangeTag::Delete => ('-', red),
                    ChangeTag::Insert => ('+', green),
                    ChangeTag::Equal => (' ', ""),
                };
                let reset = if colour.is_empty() { "" } else { reset };
                out.push_str(&format!("{colour}{sign}{}{reset}", change.value()));
                if change.missing_newline() {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

fn hunk_range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn normalise(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_changed_line() {
        let diff = unified("a.txt", b"one\ntwo\nthree\n", b"one\n2\nthree\n", false);
        assert_eq!(
            diff,
            "--- a.txt (on disk)\n+++ a.txt (rendered)\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n"
        );
    }

    #[test]
    fn missing_file_diffs_as_empty() {
        let diff = unified("a.txt", b"", b"x\n", false);
        assert!(diff.ends_with("@@ -0,0 +1 @@\n+x\n"), "{diff}");
    }
}
