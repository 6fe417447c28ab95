//! The `dependency-groups` target (issue 9): `generated/pyproject.toml` holds every group as
//! PEP 735 `[dependency-groups]`, and expanding a group's `include-group`s gives exactly the
//! requirements its requirements file installs (with its `-r` lines followed). Proven three
//! ways: our own reading of the TOML, the PEP 735 reference implementation
//! (`dependency-groups`, the library pip's `--group` is built on) and uv.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use gscgen::source::Source;

/// The repo's groups in config order, read with gscgen's own parser.
fn config_groups() -> Vec<String> {
    let text = fs::read_to_string(support::repo().join("project.kdl")).unwrap();
    let (config, diagnostics) = gscgen::parse::parse(&Source::new("project.kdl", text));
    assert!(!diagnostics.has_errors());
    config.unwrap().groups.into_iter().map(|g| g.name.value).collect()
}

/// Keeps the first occurrence of each line: a diamond (`all` reaches `base` three times)
/// lists a requirement once per path, which pip and uv install once.
fn dedup(lines: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    lines.into_iter().filter(|l| seen.insert(l.clone())).collect()
}

/// What pip installs for `-r <folder>/<group>.txt`: each `-r` expanded where it stands,
/// then the file's own requirements.
fn requirements_closure(folder: &Path, group: &str) -> Vec<String> {
    fn walk(folder: &Path, file: &str, out: &mut Vec<String>) {
        let text = fs::read_to_string(folder.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            match line.strip_prefix("-r ") {
                Some(include) => walk(folder, include, out),
                None => out.push(line.to_owned()),
            }
        }
    }
    let mut out = Vec::new();
    walk(folder, &format!("{group}.txt"), &mut out);
    dedup(out)
}

/// PEP 735 expansion of `group`, as the reference implementation does it: strings are
/// requirements, `{include-group = "…"}` tables are replaced by that group's expansion.
fn expand(groups: &toml::Table, group: &str) -> Vec<String> {
    fn walk(groups: &toml::Table, group: &str, depth: usize, out: &mut Vec<String>) {
        assert!(depth < 64, "include-group cycle through `{group}`");
        let items = groups[group].as_array().unwrap_or_else(|| panic!("`{group}` is not an array"));
        for item in items {
            match item {
                toml::Value::String(requirement) => out.push(requirement.clone()),
                toml::Value::Table(include) => {
                    assert_eq!(include.len(), 1, "an include table has one key: {include:?}");
                    let name = include["include-group"].as_str().expect("include-group is a string");
                    walk(groups, name, depth + 1, out);
                }
                other => panic!("`{group}` holds {other:?}, neither a string nor an include table"),
            }
        }
    }
    let mut out = Vec::new();
    walk(groups, group, 0, &mut out);
    dedup(out)
}

/// The `[dependency-groups]` table of a rendered pyproject.toml, checked to be the only table.
fn dependency_groups(text: &str) -> toml::Table {
    let mut document: toml::Table = text.parse().expect("pyproject.toml is TOML");
    assert_eq!(document.keys().collect::<Vec<_>>(), ["dependency-groups"], "only [dependency-groups]");
    match document.remove("dependency-groups") {
        Some(toml::Value::Table(groups)) => groups,
        other => panic!("[dependency-groups] is not a table: {other:?}"),
    }
}

#[test]
fn pyproject_snapshot() {
    insta::assert_snapshot!(support::generated("pyproject.toml"));
}

/// docs/dependency-groups.md shows real output: each ```toml block is part of the file.
#[test]
fn the_doc_excerpts_are_real() {
    let doc = fs::read_to_string(support::repo().join("docs/dependency-groups.md")).unwrap();
    let generated = support::generated("pyproject.toml");
    let blocks: Vec<&str> =
        doc.split("```toml\n").skip(1).map(|b| b.split_once("```").expect("closed block").0).collect();
    assert!(blocks.len() >= 2, "the page shows the output");
    for block in blocks {
        assert!(generated.contains(block), "not in generated/pyproject.toml:\n{block}");
    }
}

#[test]
fn groups_expand_to_the_requirements_files_closures() {
    let groups = dependency_groups(&support::generated("pyproject.toml"));
    let names = config_groups();
    assert_eq!(groups.keys().cloned().collect::<Vec<_>>(), names, "one entry per group, in config order");
    let requirements = support::repo().join("generated/requirements");
    for name in &names {
        assert_eq!(expand(&groups, name), requirements_closure(&requirements, name), "group `{name}`");
    }
    // The chain of the issue: celery includes insights, which includes base.
    let includes = |group: &str| -> Vec<String> {
        groups[group]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i.get("include-group")?.as_str().map(String::from))
            .collect()
    };
    assert_eq!(includes("celery"), ["insights"]);
    assert_eq!(includes("insights"), ["base"]);
    let celery = expand(&groups, "celery");
    for requirement in ["sqlalchemy==2.0.36", "prophet>=1.1.5", "redis[hiredis]>=5.0.0"] {
        assert!(celery.iter().any(|r| r == requirement), "celery's closure lacks {requirement}");
    }
}

/// The reference implementation of PEP 735 (`dependency-groups` on PyPI, which pip's
/// `--group` uses) validates the table and expands every group like the requirements files.
#[test]
fn the_reference_implementation_reads_every_group() {
    let file = support::repo().join("generated/pyproject.toml");
    let lint = support::tool("lint-dependency-groups").arg("-f").arg(&file).output().unwrap();
    assert!(lint.status.success(), "{}{}", support::stdout(&lint), support::stderr(&lint));
    let requirements = support::repo().join("generated/requirements");
    for name in config_groups() {
        let output = support::tool("dependency-groups").arg("-f").arg(&file).arg(&name).output().unwrap();
        assert!(output.status.success(), "{name}: {}", support::stderr(&output));
        let expanded = dedup(support::stdout(&output).lines().map(String::from).collect());
        assert_eq!(expanded, canonical(&requirements_closure(&requirements, &name)), "group `{name}`");
    }
}

/// The lines as `packaging` prints them (`str(Requirement(line))`), which is how the
/// reference implementation prints a group: `x ; sys_platform == 'win32'` becomes
/// `x; sys_platform == "win32"`.
fn canonical(lines: &[String]) -> Vec<String> {
    let script = "import json, sys\nfrom packaging.requirements import Requirement\n\
                  print(json.dumps([str(Requirement(l)) for l in json.loads(sys.argv[1])]))";
    let output = support::tool("python3")
        .args(["-c", script])
        .arg(serde_json::to_string(lines).unwrap())
        .output()
        .unwrap();
    assert!(output.status.success(), "packaging: {}", support::stderr(&output));
    serde_json::from_str(&support::stdout(&output)).unwrap()
}

/// Writes, for every requirement, a stub wheel (metadata only) of a version its specifier
/// allows, with the extras it asks for, so uv can resolve each group without an index.
const STUB_WHEELS: &str = r#"
import json, sys, zipfile
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

folder, lines = sys.argv[1], json.loads(sys.argv[2])
extras, versions = {}, {}
for line in lines:
    r = Requirement(line)
    name = canonicalize_name(r.name)
    extras.setdefault(name, set()).update(r.extras)
    candidates = [s.version.replace("*", "0") for s in r.specifier] + ["1.0"]
    candidates += [c + ".1" for c in candidates] + ["9999"]
    chosen = next((c for c in candidates if r.specifier.contains(Version(c), prereleases=True)), None)
    assert chosen, f"no stub version satisfies {line}"
    versions.setdefault(name, set()).add(chosen)
for name, chosen in versions.items():
    for version in chosen:
        dist = f"{name.replace('-', '_')}-{version}"
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        metadata += "".join(f"Provides-Extra: {e}\n" for e in sorted(extras[name]))
        with zipfile.ZipFile(f"{folder}/{dist}-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"{dist}.dist-info/METADATA", metadata)
            wheel.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: gscgen-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            wheel.writestr(f"{dist}.dist-info/RECORD", "")
print("ok", len(versions))
"#;

/// uv reads every group (`uv pip compile --group <file>:<group>`) and resolves exactly the
/// packages of the group's requirements closure.
///
/// Offline on purpose: `--offline --no-index --find-links <stub wheels> --no-deps` makes uv
/// read the groups and expand `include-group`s without PyPI, so the test neither flakes
/// with the network nor depends on what PyPI serves today (resolving `all` for real pulls
/// torch through sentence-transformers). What it proves is uv's reading of the file, which
/// is what gscgen controls; the packages themselves are the requirements files' business.
#[test]
fn uv_resolves_every_group_offline() {
    let file = support::repo().join("generated/pyproject.toml");
    let requirements = support::repo().join("generated/requirements");
    let names = config_groups();
    let every: Vec<String> = names.iter().flat_map(|g| requirements_closure(&requirements, g)).collect();
    let wheels = tempfile::tempdir().unwrap();
    let stubs = support::tool("python3")
        .args(["-c", STUB_WHEELS])
        .arg(wheels.path())
        .arg(serde_json::to_string(&every).unwrap())
        .output()
        .unwrap();
    assert!(stubs.status.success(), "stub wheels: {}{}", support::stdout(&stubs), support::stderr(&stubs));
    for name in &names {
        let output = support::tool("uv")
            .args(["pip", "compile", "--no-config", "--offline", "--no-cache", "--no-index", "--no-deps"])
            .args(["--no-header", "--no-annotate", "--quiet", "--python-version", "3.11", "--find-links"])
            .arg(wheels.path())
            .arg("--group")
            .arg(format!("{}:{name}", file.display()))
            .output()
            .unwrap();
        assert!(output.status.success(), "uv, group `{name}`: {}", support::stderr(&output));
        let resolved: BTreeSet<String> = support::stdout(&output)
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| l.split_once("==").unwrap_or_else(|| panic!("not a pin: {l}")).0.to_owned())
            .collect();
        let expected: BTreeSet<String> =
            requirements_closure(&requirements, name).iter().map(|r| package_name(r)).collect();
        assert_eq!(resolved, expected, "uv, group `{name}`");
    }
}

/// The project name of a normalised requirement line (`redis[hiredis]>=5.0.0` → `redis`).
fn package_name(line: &str) -> String {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .next()
        .unwrap()
        .to_owned()
}

/// A project of its own: `dir=`, a description with quotes and a tab, a requirement with a
/// marker and one with a URL, an empty group. The file must read back as exactly the
/// requirements files' lines, by the `toml` crate and by the reference implementation.
#[test]
fn odd_values_round_trip() {
    const CONFIG: &str = r#"
project demo {
    python "3.12"
    output "out"
}
targets {
    requirements
    dependency-groups dir="python/deps"
}
group base {
    description "Say \"hi\"\tand a backslash \\ here.\nSecond line."
    require "pywin32>=306; sys_platform == 'win32'" "pkg @ https://example.com/pkg-1.0.tar.gz"
}
group later
group api {
    include base later
    require "Foo_Bar[Extra]~=1.2"
}
"#;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("project.kdl"), CONFIG).unwrap();
    let output = support::run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", support::stderr(&output));
    let file = dir.path().join("out/python/deps/pyproject.toml");
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("uv pip install --group out/python/deps/pyproject.toml:api\n"), "{text}");
    assert!(text.contains("# Say \"hi\"\tand a backslash \\ here.\n# Second line.\nbase = ["), "{text}");
    assert!(text.contains("later = []\n"), "{text}");
    assert!(text.contains("    \"pywin32>=306 ; sys_platform == 'win32'\",\n"), "{text}");
    let groups = dependency_groups(&text);
    let requirements = dir.path().join("out/requirements");
    for name in ["base", "later", "api"] {
        assert_eq!(expand(&groups, name), requirements_closure(&requirements, name), "group `{name}`");
    }
    let reference = support::tool("dependency-groups").arg("-f").arg(&file).arg("api").output().unwrap();
    assert!(reference.status.success(), "{}", support::stderr(&reference));
    let read_back: Vec<String> = support::stdout(&reference).lines().map(String::from).collect();
    assert_eq!(
        read_back,
        canonical(&requirements_closure(&requirements, "api")),
        "the reference implementation"
    );
}

/// PEP 735 merges names that differ by repeated separators; gscgen reports it only when the
/// target is on, and never twice for names its own `_`/`-` rule already rejects.
#[test]
fn name_collisions_after_normalisation() {
    let run = |targets: &str, groups: &str| {
        let dir = tempfile::tempdir().unwrap();
        let config = format!("project demo {{\n    python \"3.12\"\n}}\ntargets {{\n{targets}\n}}\n{groups}");
        fs::write(dir.path().join("project.kdl"), config).unwrap();
        support::run_in(dir.path(), &["render", "-q", "--color", "never"])
    };
    let merged = "group ml-api { require \"fastapi\"; }\ngroup ml--api { require \"httpx\"; }\n";
    let off = run("    requirements", merged);
    assert_eq!(off.status.code(), Some(0), "{}", support::stderr(&off));
    let on = run("    requirements\n    dependency-groups", merged);
    assert_eq!(on.status.code(), Some(2));
    assert!(
        support::stderr(&on).contains("gscgen::dependency-groups::name-collision"),
        "{}",
        support::stderr(&on)
    );

    let underscore = "group ml_api { require \"fastapi\"; }\ngroup ml-api { require \"httpx\"; }\n";
    let both = run("    requirements\n    dependency-groups", underscore);
    let stderr = support::stderr(&both);
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr.contains("gscgen::name::collision"), "{stderr}");
    assert!(!stderr.contains("gscgen::dependency-groups::"), "reported twice: {stderr}");
}
