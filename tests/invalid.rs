//! The invalid-config corpus: every file under tests/invalid/ names the code it must
//! produce on its first line (`// expect: gscgen::…`). Each must report that code with a span
//! on the right text and a help line (snapshot of the rendered diagnostics), and write nothing.
//!
//! Most codes are errors: such a case must be rejected, and exit 2 with or without
//! `--deny-warnings`. A case whose code is a warning must be otherwise valid: the warning is
//! printed and the run goes on, unless `--deny-warnings` is given, which makes it exit 2 and
//! write nothing.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use gscgen::diagnostics::{self, RenderOptions, Severity};
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

/// The severity with which a case reports its expected code (`None`: not reported at all).
fn expected_severity(path: &Path) -> Option<Severity> {
    let text = fs::read_to_string(path).unwrap();
    let code = expected_code(&text).to_owned();
    let source = Source::new("project.kdl", text);
    let (_, diags) = gscgen::app::check_source(&source);
    diags.iter().filter(|d| d.code.as_str() == code).map(|d| d.severity).max()
}

#[test]
fn corpus_is_large_enough() {
    let count = cases().len();
    assert!(count >= 60, "issue 7 asks for at least 60 invalid configs, there are {count}");
}

#[test]
fn each_case_reports_its_code_with_a_snapshot() {
    let mut failures = Vec::new();
    for (name, path) in cases() {
        let text = fs::read_to_string(&path).unwrap();
        let code = expected_code(&text).to_owned();
        let source = Source::new(format!("{name}.kdl"), text);
        let (model, diags) = gscgen::app::check_source(&source);
        let reported: Vec<String> = diags.iter().map(|d| format!("{} ({:?})", d.code, d.severity)).collect();
        match diags.iter().filter(|d| d.code.as_str() == code).map(|d| d.severity).max() {
            None => failures.push(format!("{name}: expected {code}, got {reported:?}")),
            Some(Severity::Error) => {
                if model.is_some() || !diags.has_errors() {
                    failures.push(format!("{name}: accepted"));
                }
            }
            Some(Severity::Warning) => {
                // The warning alone: an error next to it would stop the run on its own.
                if model.is_none() || diags.has_errors() {
                    failures.push(format!("{name}: a warning case must have no error, got {reported:?}"));
                }
            }
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
        let code = expected_code(&fs::read_to_string(&path).unwrap()).to_owned();
        let severity = expected_severity(&path).unwrap_or_else(|| panic!("{name}: {code} is not reported"));
        let dir = tempfile::tempdir().unwrap();
        fs::copy(&path, dir.path().join("project.kdl")).unwrap();
        for command in ["render", "check", "diff"] {
            // Denied warnings fail every case, whatever its severity.
            let output = support::run_in(dir.path(), &["--deny-warnings", command]);
            let stderr = support::stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{name} --deny-warnings {command}: {stderr}");
            assert!(stderr.contains(&code), "{name} --deny-warnings {command}: {stderr}");
            assert!(stderr.contains("help:"), "{name} --deny-warnings {command}: {stderr}");
            if severity == Severity::Warning {
                assert!(
                    stderr.contains("warnings are denied (--deny-warnings)"),
                    "{name} {command}: {stderr}"
                );
            }
            if severity == Severity::Error {
                let output = support::run_in(dir.path(), &[command]);
                let stderr = support::stderr(&output);
                assert_eq!(output.status.code(), Some(2), "{name} {command}: {stderr}");
                assert!(stderr.contains(&code), "{name} {command}: {stderr}");
                assert!(stderr.contains("help:"), "{name} {command}: {stderr}");
            }
        }
        if severity == Severity::Warning {
            // Without the flag a warning is printed and does not fail the run (`diff` writes
            // nothing, so the folder stays empty for the check below).
            let output = support::run_in(dir.path(), &["diff"]);
            let stderr = support::stderr(&output);
            assert_eq!(output.status.code(), Some(0), "{name} diff: {stderr}");
            assert!(stderr.contains(&code) && stderr.contains("help:"), "{name} diff: {stderr}");
        }
        let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("project.kdl")], "{name} wrote something");
    }
}
