//! Every Markdown link of the README, ARCHITECTURE.md (when there is one), docs/*.md and the
//! examples' READMEs (examples/README.md, examples/<name>/README.md) that
//! points into the repository resolves: the file exists, and a `#anchor` names a heading of
//! the target file (or of the same file, for `#anchor` alone) by GitHub's rules for heading
//! ids. Links inside code blocks and code spans are text, not links.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The Markdown files whose links are checked.
fn pages() -> Vec<PathBuf> {
    let repo = support::repo();
    let mut pages = vec![repo.join("README.md")];
    if repo.join("ARCHITECTURE.md").is_file() {
        pages.push(repo.join("ARCHITECTURE.md"));
    }
    let mut docs: Vec<PathBuf> = fs::read_dir(repo.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    // The examples' index and each example's README (examples/<name>/README.md).
    let examples = repo.join("examples");
    if examples.is_dir() {
        let mut readmes: Vec<PathBuf> = fs::read_dir(&examples)
            .unwrap()
            .map(|e| e.unwrap().path().join("README.md"))
            .filter(|p| p.is_file())
            .collect();
        readmes.sort();
        pages.push(examples.join("README.md"));
        pages.extend(readmes);
    }
    pages
}

/// The text with fenced code blocks and code spans blanked out (lengths and newlines kept).
fn prose(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<String> = None;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let marker: String = trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect();
        match &fence {
            Some(open) => {
                if marker.len() >= open.len() && marker.starts_with(&open[..1]) {
                    fence = None;
                }
                out.extend(line.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
                continue;
            }
            None if marker.len() >= 3 => {
                fence = Some(marker);
                out.extend(line.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
                continue;
            }
            None => {}
        }
        out.push_str(line);
    }
    blank_code_spans(&out)
}

/// Blanks `code spans` (a run of n backticks up to the next run of exactly n).
fn blank_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '`').count();
        let mut j = i + run;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let other = chars[j..].iter().take_while(|c| **c == '`').count();
                if other == run {
                    close = Some(j);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                for c in &mut out[i..end + run] {
                    if *c != '\n' {
                        *c = ' ';
                    }
                }
                i = end + run;
            }
            None => i += run,
        }
    }
    out.into_iter().collect()
}

/// The targets of the `[text](target)` links of a Markdown text (outside code), each with
/// the line of its `](`.
fn link_targets(markdown: &str) -> Vec<(usize, String)> {
    let text = prose(markdown);
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    let mut offset = 0;
    while let Some(at) = rest.find("](") {
        let start = at + 2;
        let end = rest[start..].find(')').map_or(rest.len(), |e| start + e);
        let target = rest[start..end].split_whitespace().next().unwrap_or("").to_owned();
        let line = text[..offset + at].matches('\n').count() + 1;
        targets.push((line, target));
        offset += end.min(rest.len());
        rest = &text[offset..];
    }
    targets
}

/// GitHub's id of a heading: the rendered text (no link syntax, no HTML tags), lowercased, spaces to `-`, every character
/// that is not a letter, digit, `-` or `_` removed; a repeated id gets `-1`, `-2`, …
fn slug(heading: &str) -> String {
    // Links in headings render as their text.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        match rest[open..].find("](").and_then(|mid| rest[open + mid..].find(')').map(|close| (mid, close))) {
            Some((mid, close)) => {
                text.push_str(&rest[..open]);
                text.push_str(&rest[open + 1..open + mid]);
                rest = &rest[open + mid + close + 1..];
            }
            None => break,
        }
    }
    text.push_str(rest);
    // Inline HTML (`<a id="…"></a>`) renders as no text.
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    plain
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every id a page defines: its headings' slugs (numbered when repeated) and explicit
/// `<a id="…">` / `<a name="…">` anchors.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut fence: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect();
        if let Some(open) = &fence {
            if marker.len() >= open.len() && marker.starts_with(&open[..1]) {
                fence = None;
            }
            continue;
        }
        if marker.len() >= 3 {
            fence = Some(marker);
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let base = slug(line[hashes..].trim().trim_end_matches('#'));
            let n = seen.entry(base.clone()).or_insert(0);
            ids.insert(if *n == 0 { base.clone() } else { format!("{base}-{n}") });
            *n += 1;
        }
        for attribute in ["id=\"", "name=\""] {
            let mut rest = line;
            while let Some(at) = rest.find("<a ") {
                let tag = &rest[at..rest[at..].find('>').map_or(rest.len(), |e| at + e)];
                if let Some(value) = tag.split(attribute).nth(1).and_then(|v| v.split('"').next()) {
                    ids.insert(value.to_owned());
                }
                rest = &rest[at + 3..];
            }
        }
    }
    ids
}

fn relative(path: &Path) -> String {
    path.strip_prefix(support::repo()).unwrap_or(path).display().to_string()
}

#[test]
fn every_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    let mut checked_anchors = 0;
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for (line, target) in link_targets(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if file.is_empty() { page.clone() } else { page.parent().unwrap().join(file) };
            let place = format!("{}:{line}: {target}", relative(&page));
            if !linked.exists() {
                broken.push(format!("{place}: {} does not exist", relative(&linked)));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if linked.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let ids = anchors(&fs::read_to_string(&linked).unwrap());
            checked_anchors += 1;
            if !ids.contains(anchor) {
                broken.push(format!("{place}: {} has no heading with the id `{anchor}`", relative(&linked)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked_anchors >= 30, "only {checked_anchors} anchors checked: is the link scanner broken?");
}

#[test]
fn slugs_follow_githubs_rules() {
    assert_eq!(slug("`docker-compose.dev.yml`"), "docker-composedevyml");
    assert_eq!(slug("Targets — requirements"), "targets--requirements");
    assert_eq!(slug("`gscgen::name::duplicate`"), "gscgennameduplicate");
    assert_eq!(slug("Input hygiene (tests/hygiene.rs)"), "input-hygiene-testshygieners");
    assert_eq!(slug("Snake_case and [a link](x.md) kept"), "snake_case-and-a-link-kept");
    let ids = anchors("# A\n## A\n```\n# not a heading\n```\n### B <a id=\"custom\"></a>\n");
    assert_eq!(ids, BTreeSet::from(["a".into(), "a-1".into(), "b".into(), "custom".into()]));
    assert_eq!(
        link_targets("see [x](a.md#b) and `[y](no.md)`\n```\n[z](no.md)\n```\n[w\nrest](#c)\n"),
        vec![(1, "a.md#b".to_owned()), (6, "#c".to_owned())]
    );
}
