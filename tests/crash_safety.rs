//! Crash safety of `render` (issue 7): a render interrupted between any two writes leaves
//! every file either old or new, never truncated, and the next render converges. Two
//! renders at once do not interleave.

mod support;

use std::fs;

use camino::{Utf8Path, Utf8PathBuf};
use gscgen::emit::{self, EmitError, WriteOptions};
use gscgen::plan::{Plan, PlanContext, plan};
use gscgen::source::Source;

fn plan_of(text: &str) -> Plan {
    let (model, diagnostics) = gscgen::app::check_source(&Source::new("project.kdl", text));
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    plan(&model.unwrap(), &PlanContext { config_name: "project.kdl".into() }).unwrap()
}

fn snapshot(root: &Utf8Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = Utf8PathBuf::from_path_buf(entry.path()).unwrap();
            if path.is_dir() {
                stack.push(path);
            } else if !path.as_str().ends_with(".gscgen.lock") {
                out.push((path.strip_prefix(root).unwrap().to_string(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn interrupted_render_leaves_old_or_new_files_and_converges() {
    let old_text = fs::read_to_string(support::repo().join("project.kdl")).unwrap();
    // A new version that changes some files, adds one and drops one.
    let new_text = old_text
        .replace("\"fastapi>=0.100.0\"", "\"fastapi>=0.110.0\"")
        .replace("\"celery>=5.3.0\"", "\"celery>=5.4.0\"")
        .replace("group dev {", "group extra {\n    require \"rich>=13\"\n}\n\ngroup dev {");
    let old = plan_of(&old_text);
    let new = plan_of(&new_text);
    let total_writes = {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
        emit::write(&old, &root, WriteOptions::default()).unwrap();
        emit::write(&new, &root, WriteOptions::default()).unwrap().applied.len()
    };
    assert!(total_writes >= 4, "the change should touch several files");

    for fail_after in 0..total_writes {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
        emit::write(&old, &root, WriteOptions::default()).unwrap();
        let before = snapshot(&root);
        let error =
            emit::write(&new, &root, WriteOptions { force: false, fail_after_writes: Some(fail_after) })
                .expect_err("fault injected");
        assert!(matches!(error, EmitError::Interrupted { .. }));

        // Every file on disk is byte-for-byte either its old or its new version.
        for (path, bytes) in snapshot(&root) {
            let was = before.iter().find(|(p, _)| *p == path).map(|(_, b)| b);
            let will = if path == emit::manifest::MANIFEST_NAME {
                Some(emit::manifest::Manifest::of(&new).to_bytes())
            } else {
                new.get(&path).map(|f| f.bytes.clone())
            };
            assert!(
                Some(&bytes) == was || Some(&bytes) == will.as_ref(),
                "after {fail_after} writes, {path} is neither old nor new"
            );
            assert!(!path.ends_with(".tmp"), "temporary file left visible as {path}");
        }
        // The next render converges without --force, and check is clean.
        let report = emit::write(&new, &root, WriteOptions::default()).unwrap();
        assert!(report.refused.is_empty(), "after {fail_after}: refused {:?}", report.refused);
        assert!(emit::check(&new, &root).unwrap().is_empty(), "after {fail_after}: not converged");
    }
}

#[test]
fn leftover_temporary_files_are_cleaned_up() {
    let dir = support::rendered_copy();
    let leftover = dir.path().join("generated/requirements/.base.txt.gscgen-999999.tmp");
    fs::write(&leftover, "half a fi").unwrap();
    // The interrupted render had not finished: one file is still missing.
    fs::remove_file(dir.path().join("generated/requirements/api.txt")).unwrap();
    let output = support::run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!leftover.exists());
}

#[test]
fn a_second_render_waits_for_nobody_and_says_why() {
    let dir = support::rendered_copy();
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("generated/.gscgen.lock"))
        .unwrap();
    lock.try_lock().expect("the test holds the lock");
    // Something to write, so the render cannot finish without the lock.
    fs::write(dir.path().join("generated/requirements/api.txt"), "").unwrap();
    fs::remove_file(dir.path().join("generated/requirements/api.txt")).unwrap();
    let output = support::run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        support::stderr(&output).contains("another gscgen render is running"),
        "{}",
        support::stderr(&output)
    );
    drop(lock);
    assert_eq!(support::run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
}
