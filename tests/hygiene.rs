//! Input hygiene (issue 7): odd but valid encodings work; unusable inputs give a clear
//! diagnostic and exit 2 or 3, never a stack trace.

mod support;

use std::fs;

use support::{run_in, stderr};

const PROJECT: &str =
    "project demo {\n    python \"3.12\"\n}\ngroup base {\n    require \"requests>=2.31\"\n}\n";

fn assert_no_trace(output: &std::process::Output) {
    let err = stderr(output);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE") && !err.contains("stack backtrace"),
        "{err}"
    );
}

fn render(text: &[u8]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("project.kdl"), text).unwrap();
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_no_trace(&output);
    (dir, output)
}

#[test]
fn bom_crlf_and_tabs_are_fine_and_output_is_the_same() {
    let (plain_dir, plain) = render(PROJECT.as_bytes());
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let odd = format!("\u{feff}{}", PROJECT.replace("    ", "\t").replace('\n', "\r\n"));
    let (odd_dir, output) = render(odd.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let read = |d: &tempfile::TempDir| fs::read(d.path().join("generated/requirements/base.txt")).unwrap();
    assert_eq!(read(&plain_dir), read(&odd_dir), "LF output whatever the input's line endings");
}

#[test]
fn diagnostics_point_at_the_right_text_after_a_bom_and_crlf() {
    let text = "\u{feff}project demo {\r\n\tpython \"3.12\"\r\n}\r\ngroup base {\r\n\tinclude nope\r\n}\r\n";
    let (_dir, output) = render(text.as_bytes());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("[project.kdl:5:10]"), "{}", stderr(&output));
}

#[test]
fn non_ascii_names_are_rejected_with_a_hint_and_values_are_kept() {
    let text = "project demo {\n    python \"3.12\"\n}\ngroup données {\n    require \"requests\"\n}\n";
    let (_dir, output) = render(text.as_bytes());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("gscgen::name::invalid"), "{}", stderr(&output));
    let text = "project demo {\n    python \"3.12\"\n}\ngroup base {\n    description \"Données et café ✓\"\n    require \"requests\"\n}\n";
    let (dir, output) = render(text.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let base = fs::read_to_string(dir.path().join("generated/requirements/base.txt")).unwrap();
    assert!(base.contains("# Données et café ✓\n"));
}

#[test]
fn empty_file_says_what_is_missing() {
    let (_dir, output) = render(b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("the `project` node is missing"), "{}", stderr(&output));
}

#[test]
fn not_utf8_is_invalid_input() {
    let (_dir, output) = render(b"project demo {\n    python \"3.12\xff\"\n}\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not UTF-8 text (invalid byte at offset 31)"), "{}", stderr(&output));
}

#[test]
fn a_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("project.kdl")).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_no_trace(&output);
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("project.kdl is a directory"), "{}", stderr(&output));
}

#[test]
fn a_path_through_a_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), "x").unwrap();
    let output = run_in(dir.path(), &["--config", "file/project.kdl", "check"]);
    assert_no_trace(&output);
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("cannot read file/project.kdl"), "{}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_io_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("project.kdl");
    fs::write(&path, PROJECT).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_no_trace(&output);
    // Root ignores permission bits; then the file simply reads (and the folder is not rendered).
    if fs::read(&path).is_ok() {
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    } else {
        assert_eq!(output.status.code(), Some(3));
        assert!(stderr(&output).contains("permission denied"), "{}", stderr(&output));
    }
}

#[test]
fn a_fifty_megabyte_file_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = PROJECT.as_bytes().to_vec();
    big.resize(50 * 1024 * 1024, b' ');
    fs::write(dir.path().join("project.kdl"), &big).unwrap();
    let started = std::time::Instant::now();
    let output = run_in(dir.path(), &["check"]);
    assert_no_trace(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("gscgen reads configurations up to"), "{}", stderr(&output));
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn kdl1_file_says_so_and_converts() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = "project \"demo\" {\n    python \"3.12\"\n}\ngroup \"base\" {\n    require \"requests\"\n}\nservice \"db\" from=\"postgres:16\" {\n    k8s {\n        security run-as-non-root=false\n    }\n}\n";
    fs::write(dir.path().join("project.kdl"), v1).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_no_trace(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("this file is KDL 1"), "{}", stderr(&output));
    let converted = run_in(dir.path(), &["convert-kdl1"]);
    assert_eq!(converted.status.code(), Some(0));
    fs::write(dir.path().join("project.kdl"), &converted.stdout).unwrap();
    let text = String::from_utf8(converted.stdout).unwrap();
    assert!(text.contains("run-as-non-root=#false"), "{text}");
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
