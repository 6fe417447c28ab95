//! The render / check / diff workflow of issue 2, end to end through the binary.

mod support;

use std::fs;
use std::path::Path;

use support::{repo, run_in, stderr, stdout};

fn copy_project(dir: &Path) {
    fs::copy(repo().join("project.kdl"), dir.join("project.kdl")).unwrap();
    support::copy_locks(dir);
}

fn all_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                if relative != ".gscgen.lock" {
                    out.push((relative, fs::read(&path).unwrap()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn repo_is_fresh() {
    let output = run_in(&repo(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "generated/ is stale:\n{}{}", stdout(&output), stderr(&output));
}

#[test]
fn edited_file_is_drift_with_a_diff() {
    let dir = support::rendered_copy();
    let api = dir.path().join("generated/requirements/api.txt");
    let text = fs::read_to_string(&api).unwrap().replace("fastapi>=0.100.0", "fastapi>=0.99.0");
    fs::write(&api, text).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(out.contains("edited-by-hand: generated/requirements/api.txt"), "{out}");
    assert!(
        out.contains(
            "--- generated/requirements/api.txt (on disk)\n+++ generated/requirements/api.txt (rendered)\n"
        ),
        "{out}"
    );
    assert!(out.contains("\n-fastapi>=0.99.0\n+fastapi>=0.100.0\n"), "{out}");
    assert!(!out.contains("\x1b["), "no colour when not a terminal");
    // diff shows the same and exits 0.
    let diff = run_in(dir.path(), &["diff"]);
    assert_eq!(diff.status.code(), Some(0));
    assert!(stdout(&diff).contains("+fastapi>=0.100.0"));
}

#[test]
fn colour_only_when_asked() {
    let dir = support::rendered_copy();
    fs::write(dir.path().join("generated/requirements/api.txt"), "x\n").unwrap();
    let output =
        support::gscgen().current_dir(dir.path()).args(["--color=always", "check"]).output().unwrap();
    assert!(stdout(&output).contains("\x1b[32m+"), "{}", stdout(&output));
}

#[test]
fn deleted_file_is_missing_and_render_restores_it() {
    let dir = support::rendered_copy();
    let api = dir.path().join("generated/requirements/api.txt");
    let before = fs::read(&api).unwrap();
    fs::remove_file(&api).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("missing: generated/requirements/api.txt"), "{}", stdout(&output));
    assert_eq!(run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
    assert_eq!(fs::read(&api).unwrap(), before);
    assert_eq!(run_in(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn render_exit_code_fails_after_it_changed_something() {
    let dir = support::rendered_copy();
    // Fresh: nothing to write, exit 0 (also through the freshness cache).
    let output = run_in(dir.path(), &["render", "--exit-code"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // A missing file is written back, and the run says so with exit 1, even when quiet.
    let api = dir.path().join("generated/requirements/api.txt");
    let before = fs::read(&api).unwrap();
    fs::remove_file(&api).unwrap();
    let output = run_in(dir.path(), &["render", "--exit-code", "-q"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(fs::read(&api).unwrap(), before);
    let output = run_in(dir.path(), &["render", "--exit-code"]);
    assert_eq!(output.status.code(), Some(0), "the second run finds nothing to do: {}", stdout(&output));
    assert_eq!(run_in(dir.path(), &["check"]).status.code(), Some(0));
    // A config change that removes a group: the stale file is removed, exit 1.
    let config = fs::read_to_string(dir.path().join("project.kdl")).unwrap();
    let start = config.find("group dev {").unwrap();
    let end = start + config[start..].find("\n}\n").unwrap() + 3;
    fs::write(dir.path().join("project.kdl"), format!("{}{}", &config[..start], &config[end..])).unwrap();
    let output = run_in(dir.path(), &["render", "--exit-code"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("removed"), "{}", stdout(&output));
    assert_eq!(run_in(dir.path(), &["render", "--exit-code"]).status.code(), Some(0));
    // Without the flag a render that wrote files still succeeds.
    fs::remove_file(&api).unwrap();
    assert_eq!(run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
}

#[test]
fn removed_group_is_stale_then_removed_and_foreign_files_stay() {
    let dir = support::rendered_copy();
    let foreign = dir.path().join("generated/requirements/notes.txt");
    fs::write(&foreign, "mine\n").unwrap();
    // Remove the `dev` group (nothing includes it).
    let config = fs::read_to_string(dir.path().join("project.kdl")).unwrap();
    let start = config.find("group dev {").unwrap();
    let end = start + config[start..].find("\n}\n").unwrap() + 3;
    fs::write(dir.path().join("project.kdl"), format!("{}{}", &config[..start], &config[end..])).unwrap();

    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("stale: generated/requirements/dev.txt"), "{}", stdout(&output));
    assert!(!stdout(&output).contains("notes.txt"));

    let output = run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("removed"), "{}", stdout(&output));
    assert!(!dir.path().join("generated/requirements/dev.txt").exists());
    assert_eq!(fs::read_to_string(&foreign).unwrap(), "mine\n");
    assert_eq!(run_in(dir.path(), &["check"]).status.code(), Some(0));
}

#[test]
fn render_twice_and_elsewhere_is_byte_identical() {
    let first = support::rendered_copy();
    let files = all_files(&first.path().join("generated"));
    // A second render changes nothing, and keeps mtimes.
    let api = first.path().join("generated/requirements/api.txt");
    let mtime = fs::metadata(&api).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let output = run_in(first.path(), &["render"]);
    assert!(stdout(&output).contains(", 0 changed"), "{}", stdout(&output));
    assert_eq!(fs::metadata(&api).unwrap().modified().unwrap(), mtime);
    assert_eq!(all_files(&first.path().join("generated")), files);
    // Another folder, another depth: the same bytes, equal to the committed generated/.
    let second = tempfile::tempdir().unwrap();
    let nested = second.path().join("a/b");
    fs::create_dir_all(&nested).unwrap();
    copy_project(&nested);
    assert_eq!(run_in(&nested, &["render", "-q"]).status.code(), Some(0));
    assert_eq!(all_files(&nested.join("generated")), files);
    assert_eq!(all_files(&repo().join("generated")), files);
}

#[test]
fn config_and_out_flags() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("conf")).unwrap();
    // Unlocked: a locked project reads its locks from beside its config, which would put a
    // generated/ folder in conf/ (the assertion below is about what --out writes).
    fs::write(dir.path().join("conf/platform.kdl"), support::unlocked_project()).unwrap();
    let output = run_in(dir.path(), &["--config", "conf/platform.kdl", "render", "--out", "elsewhere", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let header = fs::read_to_string(dir.path().join("elsewhere/generated/requirements/base.txt")).unwrap();
    assert!(header.starts_with("# Generated by gscgen from platform.kdl: do not edit.\n"), "{header}");
    assert!(!dir.path().join("conf/generated").exists());
    let output = run_in(dir.path(), &["--config", "conf/platform.kdl", "check", "--out", "elsewhere"]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn hand_edited_file_is_not_overwritten_without_force() {
    let dir = support::rendered_copy();
    let base = dir.path().join("generated/requirements/base.txt");
    fs::write(&base, "my own edit\n").unwrap();
    let output = run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("requirements/base.txt was edited by hand"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read_to_string(&base).unwrap(), "my own edit\n");
    let output = run_in(dir.path(), &["render", "--force", "-q"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(fs::read_to_string(&base).unwrap().starts_with("# Generated by gscgen"));
}

#[test]
fn file_never_generated_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(dir.path());
    fs::create_dir_all(dir.path().join("generated/requirements")).unwrap();
    fs::write(dir.path().join("generated/requirements/base.txt"), "hand written\n").unwrap();
    let output = run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("exists but was not generated by gscgen"), "{}", stderr(&output));
    assert_eq!(
        fs::read_to_string(dir.path().join("generated/requirements/base.txt")).unwrap(),
        "hand written\n"
    );
    assert!(!dir.path().join("generated/requirements/api.txt").exists(), "nothing written on refusal");
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_output_folder_is_never_followed() {
    let dir = support::rendered_unlocked_copy();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("keep.txt"), "outside\n").unwrap();
    let requirements = dir.path().join("generated/requirements");
    fs::remove_dir_all(&requirements).unwrap();
    std::os::unix::fs::symlink(outside.path(), &requirements).unwrap();
    for args in [&["render"][..], &["render", "--force"], &["check"]] {
        let output = run_in(dir.path(), args);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("symlink"), "{}", stderr(&output));
    }
    let names: Vec<_> = fs::read_dir(outside.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keep.txt")], "nothing written outside");
}

#[cfg(unix)]
#[test]
fn wrong_mode_is_drift() {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::rendered_copy();
    let base = dir.path().join("generated/requirements/base.txt");
    fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("mode: generated/requirements/base.txt is 0755, should be 0644"),
        "{}",
        stdout(&output)
    );
    assert_eq!(run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
    assert_eq!(fs::metadata(&base).unwrap().permissions().mode() & 0o777, 0o644);
}

#[test]
fn missing_config_is_an_io_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("cannot read project.kdl: no such file"), "{}", stderr(&output));
    assert!(stderr(&output).contains("hint:"));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("project.kdl"),
        "project p { python \"3.12\" }\ngroup base { require \"requests\" }\ngroup x { include base base }\n",
    )
    .unwrap();
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("gscgen::group::redundant-include"), "{}", stderr(&output));
    let output = run_in(dir.path(), &["--deny-warnings", "check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("warnings are denied"), "{}", stderr(&output));
}

#[test]
fn version_and_help() {
    let output = support::gscgen().arg("--version").output().unwrap();
    assert!(stdout(&output).starts_with("gscgen "));
    let output = support::gscgen().arg("--help").output().unwrap();
    let help = stdout(&output);
    assert!(help.contains("Exit status:") && help.contains("Examples:"), "{help}");
}

/// Issue 20: for a file edited by hand, `check` does not say "run `gscgen render`" (which
/// refuses it): the hint names the file, the `--force` that works, and what it loses.
#[test]
fn check_hint_for_a_hand_edit_names_what_works() {
    let dir = support::rendered_copy();
    let api = dir.path().join("generated/requirements/api.txt");
    fs::write(&api, fs::read_to_string(&api).unwrap().replace("fastapi>=0.100.0", "fastapi>=0.99.0"))
        .unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: 1 of the generated files is out of date\n\
         hint: `gscgen render` refuses to overwrite a file edited by hand (generated/requirements/api.txt): move the \
         edits into project.kdl, or run `gscgen render --force` to overwrite it (the edits are lost)\n"
    );
    // Under GitHub Actions the annotation says the same.
    let output = run_in(dir.path(), &["check", "--format", "github"]);
    assert!(
        stdout(&output).contains(
            "::error file=generated/requirements/api.txt,line=1,title=gscgen drift (edited-by-hand)::\
             generated/requirements/api.txt was edited by hand: move the edit into project.kdl, or run `gscgen render \
             --force` to overwrite it (the edit is lost), and commit the result\n"
        ),
        "{}",
        stdout(&output)
    );
    // What the hint says works, and a file gscgen never wrote gets its own hint.
    assert_eq!(run_in(dir.path(), &["render"]).status.code(), Some(1), "render refuses, as the hint says");
    let base = dir.path().join("generated/requirements/base.txt");
    fs::remove_file(dir.path().join("generated/.gscgen-manifest.json")).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1));
    // Without the manifest, the edited file is one gscgen never wrote (the manifest is missing too).
    assert_eq!(
        stderr(&output),
        "error: 2 of the generated files are out of date\n\
         hint: `gscgen render` refuses to overwrite a file it did not generate (generated/requirements/api.txt): \
         move it out of the way, or run `gscgen render --force` to overwrite it (the contents are lost)\n"
    );
    assert_eq!(run_in(dir.path(), &["render", "--force", "-q"]).status.code(), Some(0));
    assert!(fs::read_to_string(&base).unwrap().starts_with("# Generated by gscgen"));
    assert_eq!(run_in(dir.path(), &["check"]).status.code(), Some(0));
}

/// Issue 20: "1 of the generated files is", "2 of the generated files are".
#[test]
fn drift_count_is_grammatical() {
    let dir = support::rendered_copy();
    fs::remove_file(dir.path().join("generated/requirements/api.txt")).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(stderr(&output), "error: 1 of the generated files is out of date; run `gscgen render`\n");
    fs::remove_file(dir.path().join("generated/requirements/base.txt")).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(stderr(&output), "error: 2 of the generated files are out of date; run `gscgen render`\n");
}

/// Issue 20: a preview (`--out`) of a configuration in another folder writes into the
/// preview folder only: no freshness cache (`.gscgen/`) beside the configuration.
#[test]
fn a_preview_leaves_nothing_beside_the_config() {
    let theirs = tempfile::tempdir().unwrap();
    fs::write(theirs.path().join("other.kdl"), support::unlocked_project()).unwrap();
    let config = theirs.path().join("other.kdl");
    let config = config.to_str().unwrap();
    let preview = tempfile::tempdir().unwrap();
    let out = preview.path().join("x");
    let out = out.to_str().unwrap();
    let here = tempfile::tempdir().unwrap();
    for args in [&["render", "--out", out, "-q"][..], &["check", "--out", out], &["diff", "--out", out]] {
        let mut full = vec!["--config", config];
        full.extend_from_slice(args);
        let output = run_in(here.path(), &full);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
    }
    let beside: Vec<_> = fs::read_dir(theirs.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("other.kdl")], "nothing beside the config");
    assert!(fs::read_dir(here.path()).unwrap().next().is_none(), "nothing in the current folder");
    assert!(preview.path().join("x/generated/requirements/base.txt").is_file());
    // Without --out the cache is kept next to the config, as the README says.
    let output = run_in(here.path(), &["render", "-q", "--config", config]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(theirs.path().join(".gscgen").is_dir());
}

/// Issue 20: the shared flags work before and after the subcommand, each subcommand's help
/// lists only those it takes, and one it does not take is refused wherever it is written.
#[test]
fn shared_flags_go_where_they_apply() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("p.kdl"),
        "project p { python \"3.12\" }\ngroup base { require \"requests\" }\ngroup x { include base base }\n",
    )
    .unwrap();
    for args in [
        &["--deny-warnings", "--config", "p.kdl", "check"][..],
        &["check", "--deny-warnings", "--config", "p.kdl"],
        &["--config", "p.kdl", "check", "--deny-warnings"],
        &["-c", "p.kdl", "explain", "--deny-warnings", "x"],
        &["--deny-warnings", "graph", "-c", "p.kdl"],
    ] {
        let output = run_in(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("gscgen::group::redundant-include"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    for args in [&["--config", "p.kdl", "render", "-q"][..], &["-q", "render", "--config", "p.kdl"]] {
        let output = run_in(dir.path(), args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), "", "{args:?}: quiet");
    }
    let output = run_in(dir.path(), &["-v", "check", "-c", "p.kdl"]);
    assert!(stdout(&output).contains("   fresh "), "{}", stdout(&output));
    // A flag a subcommand does not take: before it, gscgen's message; after it, clap's.
    let output = run_in(dir.path(), &["-v", "explain", "-c", "p.kdl", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: `--verbose` does not apply to `gscgen explain`\n\
         hint: `gscgen explain --help` lists the flags it takes\n"
    );
    let output = run_in(dir.path(), &["-c", "p.kdl", "completions", "bash"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: `--config` does not apply to `gscgen completions`\n"));
    let output = run_in(dir.path(), &["explain", "-v", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unexpected argument '-v'"), "{}", stderr(&output));

    let help = |args: &[&str]| stdout(&support::gscgen().args(args).arg("--help").output().unwrap());
    for command in ["render", "check", "diff"] {
        let text = help(&[command]);
        for flag in ["--config", "--color", "--quiet", "--verbose", "--deny-warnings"] {
            assert!(text.contains(flag), "{command} --help lacks {flag}:\n{text}");
        }
    }
    for command in ["explain", "why", "graph", "affected", "footprint", "fmt", "init", "completions"] {
        let text = help(&[command]);
        for flag in ["--quiet", "--verbose", "list fresh files"] {
            assert!(!text.contains(flag), "{command} --help lists {flag}:\n{text}");
        }
    }
    assert!(!help(&["completions"]).contains("--config"));
    assert!(help(&["fmt"]).contains("--color") && !help(&["explain"]).contains("--color"));
    // Every `--format` says what its values mean.
    for (command, words) in
        [("graph", "Graphviz"), ("affected", "one JSON document"), ("footprint", "one JSON document")]
    {
        let text = help(&[command]);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let format = flat.split("--format <FORMAT> ").nth(1).unwrap_or_else(|| panic!("{command}: {text}"));
        assert!(!format.starts_with('['), "{command}: --format has no description:\n{text}");
        assert!(format.contains(words), "{command}:\n{text}");
    }
}

/// Issue 20: the exit-status table of the README and of `--help` name every exit 1.
#[test]
fn exit_status_tables_name_init_and_fmt() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let row = readme.lines().find(|l| l.starts_with("| 1 |")).expect("README exit-status row 1");
    assert!(row.contains("`fmt --check`") && row.contains("`init`"), "{row}");
    let help = stdout(&support::gscgen().arg("--help").output().unwrap());
    assert!(
        help.contains("fmt --check: not formatted") && help.contains("init: the file exists already"),
        "{help}"
    );
}

/// Issue 20: an include cycle whose includes are far apart shows each include with its
/// neighbours, not every line between the first and the last (rustc's labelled spans).
#[test]
fn a_cycle_shows_its_edges_only() {
    let dir = tempfile::tempdir().unwrap();
    let filler: String = (0..30).map(|i| format!("group filler{i} {{ require \"pkg{i}\" }}\n")).collect();
    let text = format!(
        "project p {{ python \"3.12\" }}\ngroup a {{\n    include b\n}}\n{filler}group b {{\n    include a\n}}\n"
    );
    fs::write(dir.path().join("project.kdl"), text).unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "gscgen::group::cycle

  × include cycle: a → b → a
   ╭─[project.kdl:3:13]
 2 │ group a {
 3 │     include b
   ·             ┬
   ·             ╰── `a` includes `b`
 4 │ }
   ╰────
    ╭─[project.kdl:36:13]
 35 │ group b {
 36 │     include a
    ·             ┬
    ·             ╰── `b` includes `a`
 37 │ }
    ╰────
  help: a group cannot include itself through others: remove one include of the loop

error: 1 error, 0 warnings
"
    );
}

/// Issue 20: a oneshot service declared twice is reported once, as the duplicate it is.
#[test]
fn a_duplicate_job_is_one_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(repo().join("tests/invalid/k8s_duplicate_job_service.kdl"), dir.path().join("project.kdl"))
        .unwrap();
    let output = run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.starts_with("gscgen::name::duplicate\n"), "{err}");
    assert!(!err.contains("gscgen::name::collision"), "{err}");
    assert!(err.ends_with("error: 1 error, 0 warnings\n"), "{err}");
}
