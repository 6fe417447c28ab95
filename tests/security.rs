//! Issue 21: a repository someone clones and renders is untrusted input. These tests plant
//! what such a repository can commit — symlinks under gscgen's temporary names, a symlinked
//! output folder, a dangling `.gscgen/.gitignore` — and prove that gscgen writes nothing
//! outside the project through them (docs/robustness.md, "Threat model").

mod support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use camino::Utf8PathBuf;
use gscgen::emit::{self, WriteOptions};
use gscgen::plan::{Plan, PlanContext, plan};
use gscgen::source::Source;

fn repo_plan() -> Plan {
    let text = fs::read_to_string(support::repo().join("project.kdl")).unwrap();
    let (model, diagnostics) = support::check_source(&Source::new("project.kdl", text));
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    plan(&model.unwrap(), &PlanContext { config_name: "project.kdl".into() }).unwrap()
}

/// A victim file outside the project, with known bytes.
fn victim(dir: &Path) -> std::path::PathBuf {
    let victim = dir.join("victim");
    fs::write(&victim, "precious\n").unwrap();
    victim
}

fn assert_untouched(victim: &Path) {
    assert_eq!(fs::read_to_string(victim).unwrap(), "precious\n", "{} was overwritten", victim.display());
}

/// Every entry below `dir`, as relative paths (the lock file included).
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.symlink_metadata().unwrap().is_dir() {
                stack.push(path.clone());
            }
            out.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

/// Escape 1: temporary names used to be `.<file>.gscgen-<pid>.tmp`, opened with a plain
/// create that follows symlinks. A repository that commits links under those names for
/// every pid a fresh CI container may get (and under this process's pid, which the
/// in-process write used to use) had the victim overwritten and the generated file
/// replaced by a link to it.
#[test]
fn planted_temporary_name_symlinks_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let victim = victim(outside.path());
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8PathBuf::from_path_buf(dir.path().join("generated")).unwrap();
    let plan = repo_plan();
    let mut planted = 0;
    for file in &plan.files {
        let folder = root.join(file.path.parent().unwrap_or("".into()));
        fs::create_dir_all(&folder).unwrap();
        let name = file.path.file_name().unwrap();
        for pid in (1..=64).chain([std::process::id()]) {
            symlink(&victim, folder.join(format!(".{name}.gscgen-{pid}.tmp"))).unwrap();
            planted += 1;
        }
    }
    assert!(planted > 64 * 20, "links planted next to every planned file");

    emit::write(&plan, &root, WriteOptions::default()).expect("render succeeds");

    assert_untouched(&victim);
    for file in &plan.files {
        let path = root.join(&file.path);
        let metadata = fs::symlink_metadata(&path).unwrap();
        assert!(metadata.is_file(), "{path} is not a regular file (a symlink?)");
        assert_eq!(fs::read(&path).unwrap(), file.bytes, "{path}");
    }
    // The planted links are gone (unlinking a link leaves its target alone).
    let left: Vec<_> = listing(root.as_std_path()).into_iter().filter(|p| p.ends_with(".tmp")).collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(emit::check(&plan, &root).unwrap().is_empty());
}

/// Escape 1, the check cache: `.gscgen/<config>.cache.json.gscgen-<pid>.tmp`.
#[test]
fn planted_cache_temporary_symlinks_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let victim = victim(outside.path());
    let dir = support::rendered_copy();
    let state = dir.path().join(".gscgen");
    fs::create_dir_all(&state).unwrap();
    let _ = fs::remove_file(state.join("project.kdl.cache.json"));
    for pid in 1..=4096 {
        symlink(&victim, state.join(format!(".project.kdl.cache.json.gscgen-{pid}.tmp"))).unwrap();
    }
    // The cache is written after a clean check, by a child whose pid is below 4096 only by
    // luck; the in-process writer is exercised below with this process's pid planted too.
    assert_eq!(support::run_in(dir.path(), &["check", "-q"]).status.code(), Some(0));
    // (Where this process's pid is 4096 or lower, the loop above planted it already.)
    let own = state.join(format!(".project.kdl.cache.json.gscgen-{}.tmp", std::process::id()));
    if fs::symlink_metadata(&own).is_err() {
        symlink(&victim, &own).unwrap();
    }
    let config_dir = Utf8PathBuf::from_path_buf(dir.path().to_owned()).unwrap();
    let text = fs::read_to_string(dir.path().join("project.kdl")).unwrap();
    let key = emit::cache::CacheKey::new("project.kdl", &text, None);
    let plan = repo_plan();
    emit::cache::store(&config_dir, &key, &config_dir, &plan.output, &emit::manifest::Manifest::of(&plan));

    assert_untouched(&victim);
    let cache = state.join("project.kdl.cache.json");
    assert!(fs::symlink_metadata(&cache).unwrap().is_file(), "the cache is a regular file");
    assert!(fs::read_to_string(&cache).unwrap().contains("manifest_sha256"));
}

/// Escape 2: `ln -s /elsewhere generated` used to make `render` write every file and the
/// lock into /elsewhere.
#[test]
fn a_symlinked_output_folder_is_refused_and_nothing_is_written() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("project.kdl"), support::unlocked_project()).unwrap();
    symlink(outside.path(), dir.path().join("generated")).unwrap();
    for command in [&["render"][..], &["render", "--force"], &["check"], &["diff"]] {
        let output = support::run_in(dir.path(), command);
        let stderr = support::stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{command:?}: {stderr}");
        assert!(
            stderr.contains("refusing to write into generated: the output folder is a symlink"),
            "{command:?}: {stderr}"
        );
        assert_eq!(listing(outside.path()), Vec::<String>::new(), "{command:?} wrote through the link");
    }
}

/// Escape 2, a link on the way: `output "out/gen"` with `out` a symlink.
#[test]
fn a_symlinked_parent_of_the_output_folder_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = support::unlocked_project().replacen("output generated", "output \"out/gen\"", 1);
    assert!(text.contains("output \"out/gen\""));
    fs::write(dir.path().join("project.kdl"), text).unwrap();
    symlink(outside.path(), dir.path().join("out")).unwrap();
    let output = support::run_in(dir.path(), &["render"]);
    let stderr = support::stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("refusing to write into out/gen: out, on the way to the output folder"),
        "{stderr}"
    );
    assert_eq!(listing(outside.path()), Vec::<String>::new());
    // The same project renders once `out` is a real folder.
    fs::remove_file(dir.path().join("out")).unwrap();
    assert_eq!(support::run_in(dir.path(), &["render", "-q"]).status.code(), Some(0));
    assert!(dir.path().join("out/gen/docker-compose.yml").is_file());
}

/// Escape 2 through `--out`, and a fresh cache that names a folder later replaced by a link.
#[test]
fn a_symlinked_out_argument_and_a_cached_root_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let dir = support::rendered_copy();
    assert_eq!(support::run_in(dir.path(), &["check", "-q"]).status.code(), Some(0));
    // The cache now says `generated` is fresh; swap it for a link to a copy of itself.
    let copy = outside.path().join("copy");
    fs::rename(dir.path().join("generated"), &copy).unwrap();
    symlink(&copy, dir.path().join("generated")).unwrap();
    let before = listing(&copy);
    let output = support::run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(3), "{}", support::stderr(&output));
    let link = dir.path().join("link");
    symlink(outside.path(), &link).unwrap();
    let output = support::run_in(dir.path(), &["render", "--out", "link"]);
    assert_eq!(output.status.code(), Some(3), "{}", support::stderr(&output));
    assert_eq!(listing(&copy), before);
    assert_eq!(listing(outside.path()).len(), before.len() + 1, "only the copy is in the victim folder");
}

/// Escape 3: `.gscgen/.gitignore` committed as a dangling symlink used to make `check`
/// create the link's target.
#[test]
fn a_dangling_gitignore_link_in_the_state_folder_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("created-by-gscgen");
    let dir = support::rendered_copy();
    let state = dir.path().join(".gscgen");
    let _ = fs::remove_dir_all(&state);
    fs::create_dir(&state).unwrap();
    symlink(&target, state.join(".gitignore")).unwrap();
    let output = support::run_in(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", support::stderr(&output));
    assert!(!target.exists(), "check created the symlink's target outside the project");
    assert!(fs::symlink_metadata(state.join(".gitignore")).unwrap().file_type().is_symlink());
}

/// Without a planted link, the state folder gets its `.gitignore` as before.
#[test]
fn the_state_folder_still_ignores_itself() {
    let dir = support::rendered_copy();
    let _ = fs::remove_dir_all(dir.path().join(".gscgen"));
    assert_eq!(support::run_in(dir.path(), &["check", "-q"]).status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(dir.path().join(".gscgen/.gitignore")).unwrap(),
        "# gscgen's local cache: never committed.\n*\n"
    );
}

/// The lock file is opened with `O_NOFOLLOW`: a committed `generated/.gscgen.lock` link is
/// refused rather than created or truncated at its target.
#[test]
fn a_lock_file_symlink_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let victim = victim(outside.path());
    let dir = support::rendered_copy();
    let lock = dir.path().join("generated/.gscgen.lock");
    fs::remove_file(&lock).unwrap();
    symlink(&victim, &lock).unwrap();
    fs::remove_file(dir.path().join("generated/docker-compose.yml")).unwrap();
    let output = support::run_in(dir.path(), &["render"]);
    assert_eq!(output.status.code(), Some(3), "{}", support::stderr(&output));
    assert!(support::stderr(&output).contains("refusing to write through the symlink"));
    assert_untouched(&victim);
}

/// Point 2: a value at an instruction's argument position can never be read as a flag.
/// Each payload is refused (exit 2, nothing rendered) whatever form it takes, including
/// `./-x`, which path cleaning would otherwise turn back into `-x`.
#[test]
fn values_that_look_like_flags_are_refused() {
    let project = |line: &str| {
        format!(
            "project demo {{\n    python \"3.12\"\n}}\ngroup base {{\n    require \"requests\"\n}}\n\
             image api {{\n    groups base\n    {line}\n}}\nservice api image=api\n"
        )
    };
    let cases = [
        ("copy \"--from=alpine:3\" \"/app/x\"", "gscgen::docker::flag"),
        ("copy \"--chmod=4777\" \"/app/x\"", "gscgen::docker::flag"),
        ("copy \"--link\" \"/app/x\"", "gscgen::docker::flag"),
        ("copy \"-rf\" \"/app/x\"", "gscgen::docker::flag"),
        ("copy \"./-rf\" \"/app/x\"", "gscgen::docker::flag"),
        ("copy \"././--link\" \"/app/x\"", "gscgen::docker::flag"),
        ("copy \"api\" \"--chmod=4777\"", "gscgen::docker::flag"),
    ];
    for (line, code) in cases {
        let (model, diagnostics) = support::check_source(&Source::new("project.kdl", project(line)));
        assert!(model.is_none(), "{line}: accepted");
        assert!(diagnostics.iter().any(|d| d.code.as_str() == code), "{line}: {diagnostics:?}");
    }
    // A dash inside a name is fine.
    let (model, diagnostics) =
        support::check_source(&Source::new("project.kdl", project("copy \"my-app\" \"/app/my-app\"")));
    assert!(model.is_some(), "{diagnostics:?}");
    let services = "project demo {\n    python \"3.12\"\n}\ngroup base {\n    require \"requests\"\n}\n\
                    image api {\n    groups base\n}\nservice api image=api\n";
    for from in ["--platform=linux/arm64", "postgres:16\nRUN id", "-x", ".hidden"] {
        let text = format!("{services}service db from=\"{}\"\n", from.escape_default());
        let (model, diagnostics) = support::check_source(&Source::new("project.kdl", text));
        assert!(model.is_none(), "from={from:?} accepted");
        assert!(
            diagnostics.iter().any(|d| d.code.as_str() == "gscgen::config::invalid-value"),
            "{diagnostics:?}"
        );
    }
}

/// Point 2, read by the parser BuildKit itself runs (moby/buildkit's
/// `frontend/dockerfile/parser`, through PyPI's `dockerfile` package, a validator): in every
/// generated Dockerfile, the only flags are the ones gscgen writes itself, and config values
/// that contain `=`, `--` or a flag's name after the first character stay arguments.
#[test]
fn buildkits_parser_reads_config_values_as_arguments_never_as_flags() {
    let tricky = support::Rendered::new(
        "project demo {\n    python \"3.12\"\n}\ngroup base {\n    require \"requests\"\n}\n\
         image api {\n    groups base\n    copy \"a=b\" \"/app/a=b\"\n    copy \"x--link\" \"/app/--link\"\n    \
         copy \"chmod=4777\" \"/app/--chmod=4777\"\n    workdir \"/app/--from=alpine\"\n    \
         writable \"/--mount=type=bind\"\n    env A=\"--from=alpine:3\"\n    \
         cmd python \"--link\" \"-rf\"\n}\nservice api image=api\n",
    );
    let repo = support::rendered_copy();
    let mut dockerfiles = Vec::new();
    for out in [tricky.out(), repo.path().join("generated")] {
        for entry in fs::read_dir(out.join("compose/dockerfiles")).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".dockerignore") {
                dockerfiles.push(path);
            }
        }
    }
    dockerfiles.sort();
    let instructions = buildkit_parse(&dockerfiles);
    assert!(instructions.len() > 100, "{} instructions", instructions.len());
    let allowed = |cmd: &str, flag: &str| match cmd {
        "COPY" => {
            flag.strip_prefix("--chown=").is_some_and(|id| id.split(':').all(|n| n.parse::<u32>().is_ok()))
                || ["--from=builder", "--from=base-builder"].contains(&flag)
        }
        "RUN" => flag.starts_with("--mount=type=cache,target=/"),
        "HEALTHCHECK" => ["--interval=", "--timeout=", "--start-period=", "--retries="]
            .iter()
            .any(|prefix| flag.starts_with(prefix)),
        _ => false,
    };
    for (file, line, cmd, flags, _) in &instructions {
        for flag in flags {
            assert!(allowed(cmd, flag), "{file}:{line}: BuildKit reads {flag:?} as a flag of {cmd}");
        }
    }
    // The tricky values arrive as arguments, exactly.
    let api: Vec<_> = instructions.iter().filter(|i| i.0.ends_with("Dockerfile.api")).collect();
    let has = |cmd: &str, value: &[&str]| {
        api.iter().any(|(_, _, c, _, v)| c == cmd && v.iter().map(String::as_str).eq(value.iter().copied()))
    };
    assert!(has("COPY", &["a=b", "/app/a=b"]), "{api:#?}");
    assert!(has("COPY", &["x--link", "/app/--link"]), "{api:#?}");
    assert!(has("COPY", &["chmod=4777", "/app/--chmod=4777"]), "{api:#?}");
    assert!(has("WORKDIR", &["/app/--from=alpine"]), "{api:#?}");
    assert!(has("CMD", &["python", "--link", "-rf"]), "{api:#?}");

    // Not vacuous: the same parser reads the rendering this issue reported as a flag.
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("Dockerfile");
    fs::write(&old, "FROM scratch\nCOPY --from=alpine:3 /app/x\n").unwrap();
    let parsed = buildkit_parse(&[old]);
    assert_eq!(parsed[1].3, ["--from=alpine:3"], "{parsed:?}");
}

/// (file, line, instruction, flags, arguments) of every instruction, from BuildKit's parser.
type Instruction = (String, u64, String, Vec<String>, Vec<String>);

fn buildkit_parse(files: &[std::path::PathBuf]) -> Vec<Instruction> {
    let script = "import dockerfile, json, sys\n\
                  for path in sys.argv[1:]:\n    \
                  for c in dockerfile.parse_file(path):\n        \
                  print(json.dumps([path, c.start_line, c.cmd.upper(), list(c.flags), list(c.value)]))\n";
    let output = support::tool("python3").arg("-c").arg(script).args(files).output().expect("python3 runs");
    assert!(
        output.status.success(),
        "BuildKit's parser (PyPI `dockerfile`, installed by scripts/install-validators) failed: {}",
        support::stderr(&output)
    );
    support::stdout(&output).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// Point 1: a refused render leaves nothing behind, not even the lock file it created (a
/// lock file that was there before stays).
#[test]
fn a_refused_render_leaves_no_lock_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("project.kdl"),
        "project demo {\n    python \"3.12\"\n}\ngroup base {\n    require \"requests\"\n}\n\
         image api {\n    groups base\n}\nservice api image=api\n",
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("generated")).unwrap();
    fs::write(dir.path().join("generated/docker-compose.yml"), "mine\n").unwrap();
    let output = support::run_in(dir.path(), &["render", "-q"]);
    assert!(support::stderr(&output).contains("nothing was written"), "{}", support::stderr(&output));
    assert_eq!(listing(&dir.path().join("generated")), ["docker-compose.yml"]);
    assert_eq!(fs::read_to_string(dir.path().join("generated/docker-compose.yml")).unwrap(), "mine\n");

    // After a real render the lock file is there, and a later refusal keeps it.
    let output = support::run_in(dir.path(), &["render", "-q", "--force"]);
    assert_eq!(output.status.code(), Some(0), "{}", support::stderr(&output));
    fs::write(dir.path().join("generated/docker-compose.yml"), "mine again\n").unwrap();
    let _ = support::run_in(dir.path(), &["render", "-q"]);
    assert!(dir.path().join("generated/.gscgen.lock").exists());
}
