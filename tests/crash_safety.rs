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
    let (model, diagnostics) = support::check_source(&Source::new("project.kdl", text));
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
            } else if !path.as_str().ends_with(".gscgen.lock")
                && !path.as_str().ends_with(emit::manifest::JOURNAL_NAME)
            {
                out.push((path.strip_prefix(root).unwrap().to_string(), fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn interrupted_render_leaves_old_or_new_files_and_converges() {
    let old_text = support::unlocked_project();
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
            let will = if path == emit::manifest_path(&new).as_str() {
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

/// Issue 21: a render killed while renaming its files used to make a render of the
/// *previous* config refuse them as "edited by hand" (the old manifest does not describe
/// the new bytes). The journal written before the renames tells gscgen's own half-finished
/// work from a hand edit whatever config comes next.
#[test]
fn an_interrupted_render_is_undone_by_rendering_the_previous_config() {
    let old_text = support::unlocked_project();
    let new_text = old_text
        .replace("\"fastapi>=0.100.0\"", "\"fastapi>=0.110.0\"")
        .replace("group dev {", "group extra {\n    require \"rich>=13\"\n}\n\ngroup dev {");
    let (old, new) = (plan_of(&old_text), plan_of(&new_text));
    let total_writes = {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
        emit::write(&old, &root, WriteOptions::default()).unwrap();
        emit::write(&new, &root, WriteOptions::default()).unwrap().applied.len()
    };
    for fail_after in 1..total_writes {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
        emit::write(&old, &root, WriteOptions::default()).unwrap();
        emit::write(&new, &root, WriteOptions { force: false, fail_after_writes: Some(fail_after) })
            .expect_err("fault injected");
        assert!(
            root.join(&old.output).join(emit::manifest::JOURNAL_NAME).is_file(),
            "the journal survives the crash"
        );
        let report = emit::write(&old, &root, WriteOptions::default()).unwrap();
        let refused: Vec<_> = report.refused.iter().map(|d| (&d.path, d.status)).collect();
        assert!(refused.is_empty(), "after {fail_after}: refused {refused:?}");
        assert!(emit::check(&old, &root).unwrap().is_empty(), "after {fail_after}: not converged");
        assert!(
            !root.join(&old.output).join(emit::manifest::JOURNAL_NAME).exists(),
            "the journal is removed"
        );
    }
    // A real hand edit is still refused, journal or not.
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
    emit::write(&old, &root, WriteOptions::default()).unwrap();
    emit::write(&new, &root, WriteOptions { force: false, fail_after_writes: Some(1) }).unwrap_err();
    let edited = root.join(&old.files[0].path);
    fs::write(&edited, "edited by hand\n").unwrap();
    let report = emit::write(&old, &root, WriteOptions::default()).unwrap();
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused.iter().map(|d| &d.path).collect::<Vec<_>>());
    assert_eq!(report.refused[0].status, emit::FileStatus::EditedByHand);
}

/// Issue 21: a corrupt or oversized manifest is a clear error naming the manifest and what
/// to do (exit 3, nothing written), never "internal error … a bug in gscgen" nor ignored.
#[test]
fn a_corrupt_or_oversized_manifest_is_named_and_nothing_is_written() {
    let manifest_with = |path: &str| {
        format!(
            "{{\"generator\": \"x\", \"files\": {{{path:?}: {{\"sha256\": \"{}\", \"mode\": \"0644\"}}}}}}",
            "0".repeat(64)
        )
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("parent", manifest_with("../outside.txt").into_bytes()),
        ("absolute", manifest_with("/etc/passwd").into_bytes()),
        ("empty path", manifest_with("").into_bytes()),
        ("not json", b"{ this is not json".to_vec()),
        ("bad hash", manifest_with("a.txt").replace(&"0".repeat(64), "zz").into_bytes()),
    ];
    for (what, bytes) in cases {
        let dir = support::rendered_copy();
        let manifest = dir.path().join("generated").join(emit::manifest::MANIFEST_NAME);
        fs::write(&manifest, &bytes).unwrap();
        fs::remove_file(dir.path().join("generated/docker-compose.yml")).unwrap();
        for command in ["render", "check"] {
            let output = support::run_in(dir.path(), &[command]);
            let stderr = support::stderr(&output);
            assert_eq!(output.status.code(), Some(3), "{what}, {command}: {stderr}");
            assert!(
                stderr.contains("the manifest generated/.gscgen-manifest.json is corrupt"),
                "{what}: {stderr}"
            );
            assert!(stderr.contains("git checkout --"), "{what}: {stderr}");
            assert!(!stderr.contains("bug in gscgen"), "{what}: {stderr}");
        }
        assert!(!dir.path().join("generated/docker-compose.yml").exists(), "{what}: render wrote");
        assert_eq!(fs::read(&manifest).unwrap(), bytes, "{what}: manifest replaced");
    }
    // Oversized: refused from its size, without reading it (a sparse file).
    let dir = support::rendered_copy();
    let manifest = dir.path().join("generated").join(emit::manifest::MANIFEST_NAME);
    fs::File::options()
        .write(true)
        .open(&manifest)
        .unwrap()
        .set_len(emit::manifest::MAX_MANIFEST_BYTES + 1)
        .unwrap();
    let output = support::run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        support::stderr(&output).contains("more than the 67108864 gscgen reads"),
        "{}",
        support::stderr(&output)
    );
}

/// Issue 21: `check` used to say "fresh" with leftover temporary files present (also from
/// its cache); they are drift now, and `render` removes them.
#[test]
fn check_reports_leftover_temporary_files() {
    let dir = support::rendered_copy();
    // Twice, so the second check answers from the cache.
    assert_eq!(support::run_in(dir.path(), &["check", "-q"]).status.code(), Some(0));
    assert_eq!(support::run_in(dir.path(), &["check", "-q"]).status.code(), Some(0));
    for i in 0..300 {
        fs::write(dir.path().join(format!("generated/requirements/.base.txt.gscgen-{i}.tmp")), "half")
            .unwrap();
    }
    let output = support::run_in(dir.path(), &["check"]);
    let stderr = support::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: 300 of the generated files are out of date"), "{stderr}");
    let output = support::run_in(dir.path(), &["check", "--format", "json"]);
    assert!(support::stdout(&output).contains("\"leftover\""), "{}", support::stdout(&output));
    assert_eq!(support::run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
    assert_eq!(support::run_in(dir.path(), &["check", "-q"]).status.code(), Some(0));
    assert!(!dir.path().join("generated/requirements/.base.txt.gscgen-0.tmp").exists());
}
