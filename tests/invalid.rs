//! The invalid-config corpus: every file under tests/invalid/ names the code it must
//! produce on its first line (`// expect: gscgen::…`). Each must exit 2, report that code
//! with a span on the right text (snapshot of the rendered diagnostic), and write nothing.

mod support;

use std::fs;
use std::path::PathBuf;

use gscgen::diagnostics::{self, RenderOptions};
use gscgen::source::Source;

fn cases() -> Vec<(String, PathBuf)> {
    let mut cases: Vec<_> = fs::read_dir(support::repo().join("tests/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    cases.sort();
    cases
}

fn expected_code(text: &str) -> &str {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect: "))
        .expect("first line names the expected code")
}

#[test]
fn corpus_is_large_enough() {
    assert!(cases().len() >= 25, "issue 2 asks for at least 25 invalid configs");
}

#[test]
fn each_case_reports_its_code_with_a_snapshot() {
    let mut failures = Vec::new();
    for (name, path) in cases() {
        let text = fs::read_to_string(&path).unwrap();
        let code = expected_code(&text).to_owned();
        let source = Source::new(format!("{name}.kdl"), text);
        let (model, diags) = gscgen::app::check_source(&source);
        if model.is_some() || !diags.has_errors() {
            failures.push(format!("{name}: accepted"));
            continue;
        }
        let codes: Vec<&str> = diags.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect();
        if !codes.contains(&code.as_str()) {
            failures.push(format!("{name}: expected {code}, got {codes:?}"));
        }
        for d in diags.iter() {
            if d.help.is_none() {
                failures.push(format!("{name}: {} has no help line", d.code));
            }
            let primary = &d.labels[0];
            if primary.span.offset() + primary.span.len() > source.text.len() {
                failures.push(format!("{name}: {} has a span outside the file", d.code));
            }
        }
        let rendered =
            diagnostics::render(&source, &diags, RenderOptions { color: false, width: 100, max: 50 });
        insta::assert_snapshot!(format!("invalid__{name}"), rendered);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_case_exits_2_and_writes_nothing() {
    for (name, path) in cases() {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(&path, dir.path().join("project.kdl")).unwrap();
        for command in ["render", "check", "diff"] {
            let output = support::run_in(dir.path(), &[command]);
            assert_eq!(output.status.code(), Some(2), "{name} {command}: {}", support::stderr(&output));
            let stderr = support::stderr(&output);
            assert!(stderr.contains(expected_code(&fs::read_to_string(&path).unwrap())), "{name}: {stderr}");
            assert!(stderr.contains("help:"), "{name}: {stderr}");
        }
        let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("project.kdl")], "{name} wrote something");
    }
}
