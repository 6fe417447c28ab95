//! Every diagnostic code is documented and exercised:
//!
//! * every code of `Code::ALL` appears in docs/diagnostics.md as a heading or a code span;
//! * every code is the expected code (`// expect: …`, first line) of at least one case of an
//!   invalid-config corpus (tests/invalid/ and tests/fixtures/*/invalid/);
//! * no corpus case expects a code that `Code::ALL` does not have (a renamed or removed code).
//!
//! `Code::ALL` comes from the `codes!` macro, so a code added there fails these tests until it
//! has a section in the doc and a case in a corpus.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use gscgen::diagnostics::{Code, Severity};
use gscgen::source::Source;

fn doc() -> String {
    fs::read_to_string(support::repo().join("docs/diagnostics.md")).expect("docs/diagnostics.md")
}

/// The corpus folders: tests/invalid/ and every tests/fixtures/<target>/invalid/.
fn corpus_dirs() -> Vec<PathBuf> {
    let repo = support::repo();
    let mut dirs = vec![repo.join("tests/invalid")];
    for entry in fs::read_dir(repo.join("tests/fixtures")).unwrap() {
        let invalid = entry.unwrap().path().join("invalid");
        if invalid.is_dir() {
            dirs.push(invalid);
        }
    }
    dirs.sort();
    dirs
}

/// Expected code → the corpus cases (relative paths) that expect it.
fn corpus() -> BTreeMap<String, Vec<String>> {
    let repo = support::repo();
    let mut cases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for dir in corpus_dirs() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "kdl") {
                continue;
            }
            let relative = path.strip_prefix(&repo).unwrap().display().to_string();
            let text = fs::read_to_string(&path).unwrap();
            let code = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("// expect: "))
                .unwrap_or_else(|| panic!("{relative}: the first line must be `// expect: <code>`"));
            cases.entry(code.trim().to_owned()).or_default().push(relative);
        }
    }
    cases
}

/// The code spans (`…`) and the heading texts of a Markdown text.
fn documented(markdown: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in markdown.lines() {
        if let Some(heading) = line.strip_prefix('#') {
            found.insert(heading.trim_start_matches('#').trim().trim_matches('`').to_owned());
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(span), Some(_)) = (parts.next(), parts.next()) {
            found.insert(span.to_owned());
        }
    }
    found
}

/// `gscgen::<namespace>::<name>` with lowercase ASCII, digits and `-` (not a pattern such as
/// `gscgen::kdl::…`).
fn is_code(text: &str) -> bool {
    let parts: Vec<&str> = text.split("::").collect();
    parts.len() == 3
        && parts[0] == "gscgen"
        && parts[1..].iter().all(|p| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

#[test]
fn every_code_is_documented() {
    let documented = documented(&doc());
    let missing: Vec<&str> =
        Code::ALL.iter().map(|c| c.as_str()).filter(|c| !documented.contains(*c)).collect();
    assert!(missing.is_empty(), "codes missing from docs/diagnostics.md: {missing:?}");
}

#[test]
fn the_doc_lists_no_unknown_code() {
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let stale: Vec<String> = documented(&doc())
        .into_iter()
        .filter(|s| is_code(s))
        .filter(|s| !known.contains(s.as_str()))
        .collect();
    assert!(stale.is_empty(), "docs/diagnostics.md names codes that do not exist: {stale:?}");
}

/// One `### code` heading per code, grouped by namespace (each namespace one run of
/// headings, in any order), and within a namespace in the order of the `codes!` macro.
#[test]
fn the_doc_has_one_heading_per_code_grouped_by_namespace() {
    let doc = doc();
    let headings: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| h.trim().trim_matches('`'))
        .filter(|h| h.starts_with("gscgen::"))
        .collect();
    let namespace = |code: &str| code.rsplit_once("::").map_or("", |(ns, _)| ns).to_owned();
    let mut runs: Vec<(String, Vec<&str>)> = Vec::new();
    for heading in &headings {
        match runs.last_mut() {
            Some((ns, codes)) if *ns == namespace(heading) => codes.push(heading),
            _ => runs.push((namespace(heading), vec![heading])),
        }
    }
    let mut seen = BTreeSet::new();
    for (ns, codes) in &runs {
        assert!(seen.insert(ns.clone()), "namespace {ns} is split: its headings must be together");
        let expected: Vec<&str> =
            Code::ALL.iter().map(|c| c.as_str()).filter(|c| namespace(c) == *ns).collect();
        assert_eq!(codes, &expected, "the headings of {ns}, in the order of the `codes!` macro");
    }
    let all: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let headed: BTreeSet<&str> = headings.iter().copied().collect();
    assert_eq!(headed.len(), headings.len(), "a code has two headings");
    let missing: Vec<&&str> = all.difference(&headed).collect();
    assert!(missing.is_empty(), "codes without a `### code` heading: {missing:?}");
}

#[test]
fn every_code_has_a_corpus_case() {
    let corpus = corpus();
    let missing: Vec<&str> =
        Code::ALL.iter().map(|c| c.as_str()).filter(|c| !corpus.contains_key(*c)).collect();
    assert!(
        missing.is_empty(),
        "codes no case of tests/invalid/ or tests/fixtures/*/invalid/ expects: {missing:?}"
    );
}

#[test]
fn no_case_expects_an_unknown_code() {
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let unknown: Vec<String> = corpus()
        .into_iter()
        .filter(|(code, _)| !known.contains(code.as_str()))
        .map(|(code, cases)| format!("{code} (expected by {})", cases.join(", ")))
        .collect();
    assert!(unknown.is_empty(), "corpus cases expect codes that do not exist: {unknown:?}");
}

/// Each `### code` section: its severity line (`*Error.*` / `*Warning.*`) and its first ```kdl
/// example, which must report that code with that severity.
#[test]
fn every_example_reports_its_code_with_its_severity() {
    let doc = doc();
    let mut failures = Vec::new();
    let mut checked = 0;
    for section in doc.split("\n### ").skip(1) {
        let code = section.lines().next().unwrap().trim().trim_matches('`').to_owned();
        if !code.starts_with("gscgen::") {
            continue;
        }
        let section = section.split("\n## ").next().unwrap();
        let severity = if section.contains("\n*Error.*") {
            Severity::Error
        } else if section.contains("\n*Warning.*") {
            Severity::Warning
        } else {
            failures.push(format!("{code}: no `*Error.*` or `*Warning.*` line"));
            continue;
        };
        let Some(example) = section.split("```kdl\n").nth(1).and_then(|rest| rest.split("\n```").next())
        else {
            failures.push(format!("{code}: no ```kdl example"));
            continue;
        };
        // A lock code needs lock files next to the config: its example is a case of
        // tests/fixtures/locks/invalid/, shown byte for byte, which tests/locking.rs runs in
        // a copy of the locked fixture.
        if code.starts_with("gscgen::lock::") {
            let case = section
                .split("(`tests/fixtures/locks/invalid/")
                .nth(1)
                .and_then(|rest| rest.split('`').next())
                .map(|name| support::repo().join("tests/fixtures/locks/invalid").join(name));
            match case.map(|path| fs::read_to_string(&path)) {
                Some(Ok(text)) if text.trim_end() == example.trim_end() => {}
                _ => failures
                    .push(format!("{code}: the example must be its case in tests/fixtures/locks/invalid/")),
            }
            checked += 1;
            continue;
        }
        let source = Source::new(format!("docs/diagnostics.md {code}"), example);
        let (_, diags) = gscgen::app::check_source(&source);
        let found: Vec<Severity> =
            diags.iter().filter(|d| d.code.as_str() == code).map(|d| d.severity).collect();
        if !found.contains(&severity) {
            let reported: Vec<String> =
                diags.iter().map(|d| format!("{} ({:?})", d.code, d.severity)).collect();
            failures.push(format!("{code}: the example should report it as {severity:?}, got {reported:?}"));
        }
        checked += 1;
    }
    assert!(checked >= Code::ALL.len(), "only {checked} examples checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
