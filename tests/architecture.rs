//! Issue 19: the stages depend one way. Every file under `src/` belongs to a stage (by its
//! top-level module), and a stage may use only the stages its row below names: every
//! `crate::…` path (in `use`, `pub use`, grouped `use crate::{a, b}` and in code) and every
//! `super::` that climbs to the crate root is checked. A forbidden path fails the test
//! with `file:line: stage X may not use Y`, every offence listed.
//!
//! Comments, strings and unit-test modules (`#[cfg(test)] mod tests { … }`, which may
//! drive the whole pipeline, as the integration tests do) are not checked. ARCHITECTURE.md
//! shows the same table; a test keeps the two equal.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` (a folder or a file; `lib` and `main` are the crate
/// roots) and its stage. A new module must be added here, or `every_module_has_a_stage`
/// fails.
const MODULES: &[(&str, &str)] = &[
    ("source", "source"),
    ("diagnostics", "diagnostics"),
    ("config", "config"),
    ("model", "model"),
    ("rules", "rules"),
    ("parse", "parse"),
    ("resolve", "resolve"),
    ("plan", "plan"),
    ("emit", "emit"),
    ("insight", "insight"),
    ("app", "driver"),
    ("cli", "driver"),
    ("synth", "driver"),
    ("lib", "driver"),
    ("main", "driver"),
];

/// The stages each stage may use (itself always). `*`: any.
const ALLOWED: &[(&str, &[&str])] = &[
    ("source", &[]),
    ("diagnostics", &["source"]),
    ("config", &["source"]),
    ("model", &["config", "source"]),
    ("rules", &["config", "model", "source"]),
    ("parse", &["config", "diagnostics", "source"]),
    ("resolve", &["config", "diagnostics", "model", "rules", "source"]),
    ("plan", &["config", "model", "rules"]),
    ("emit", &["plan"]),
    ("insight", &["config", "diagnostics", "model", "plan", "rules", "source"]),
    ("driver", &["*"]),
];

fn stage_of(module: &str) -> Option<&'static str> {
    MODULES.iter().find(|(m, _)| *m == module).map(|(_, s)| *s)
}

fn may_use(stage: &str, other: &str) -> bool {
    stage == other
        || ALLOWED
            .iter()
            .find(|(s, _)| *s == stage)
            .is_some_and(|(_, used)| used.contains(&"*") || used.contains(&other))
}

/// The module path of a file under `src/`: `src/resolve/docker.rs` → `[resolve, docker]`,
/// `src/plan/mod.rs` → `[plan]`, `src/lib.rs` → `[lib]` (a crate root, depth 0).
fn module_path(relative: &str) -> Vec<String> {
    let trimmed = relative.strip_prefix("src/").unwrap_or(relative).trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The text with comments, string and char literals blanked out (line breaks kept, so
/// line numbers stay) and unit-test modules removed.
fn code_only(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_end() == "#[cfg(test)]"
            && lines.peek().is_some_and(|next| next.starts_with("mod tests {"))
        {
            kept.push('\n');
            for skipped in lines.by_ref() {
                kept.push('\n');
                if skipped == "}" {
                    break;
                }
            }
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    blank_literals(&kept)
}

fn blank_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if !ident_before
            && (c == 'r' || (c == 'b' && next == Some('r')))
            && raw_string_start(&chars, i).is_some()
        {
            let (hashes, body) = raw_string_start(&chars, i).expect("checked");
            i = body;
            let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                out.push(blank(chars[i]));
                i += 1;
            }
            i += closing.len();
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            i += 1;
        } else if c == '\'' {
            // A char literal (`'x'`, `'\n'`, `'\u{1F600}'`), else a lifetime (`'a`).
            let end = if next == Some('\\') {
                chars[i + 2..].iter().position(|&c| c == '\'').map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => i = end + 1,
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br##"` …: the number of `#` and the index of the first character inside.
fn raw_string_start(chars: &[char], at: usize) -> Option<(usize, usize)> {
    let mut i = at + if chars[at] == 'b' { 2 } else { 1 };
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    (chars.get(i) == Some(&'"')).then_some((hashes, i + 1))
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The top-level modules a path names, from just after its `crate::` (or its last
/// `super::` that reaches the crate root): `plan::x` → `plan`, `{model::A, rules}` →
/// `model`, `rules`; `*` (a glob of the crate root) and `self` as themselves.
fn first_segments(rest: &[char]) -> Vec<String> {
    let skip_ws = |mut i: usize| {
        while i < rest.len() && rest[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let ident_at = |i: usize| -> String {
        if rest.get(i) == Some(&'*') {
            return "*".to_owned();
        }
        rest[i..].iter().take_while(|c| is_ident(**c)).collect()
    };
    let i = skip_ws(0);
    if rest.get(i) != Some(&'{') {
        return vec![ident_at(i)];
    }
    let mut segments = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    let mut j = i;
    while j < rest.len() {
        match rest[j] {
            '{' => {
                depth += 1;
                expect_item = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect_item = true,
            c if expect_item && depth == 1 && (is_ident(c) || c == '*') => {
                segments.push(ident_at(j));
                expect_item = false;
            }
            _ => {}
        }
        j += 1;
    }
    segments
}

/// Every `(line, top-level module)` the file's code names by a path from the crate root.
fn uses(relative: &str, text: &str) -> Vec<(usize, String)> {
    let depth = match module_path(relative).as_slice() {
        [root] if root == "lib" || root == "main" => 0,
        parts => parts.len(),
    };
    let code: Vec<char> = code_only(text).chars().collect();
    let mut found = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < code.len() {
        if code[i] == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        let starts_token = i == 0 || !is_ident(code[i - 1]);
        let keyword = ["crate::", "super::"].into_iter().find(|k| {
            let k: Vec<char> = k.chars().collect();
            code[i..].starts_with(&k)
        });
        match keyword {
            Some("crate::") if starts_token => {
                for segment in first_segments(&code[i + 7..]) {
                    found.push((line, segment));
                }
                i += 7;
            }
            Some("super::") if starts_token => {
                let mut climbs = 0;
                let mut j = i;
                while code[j..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                    climbs += 1;
                    j += 7;
                }
                if climbs >= depth {
                    for segment in first_segments(&code[j..]) {
                        found.push((line, segment));
                    }
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    found
}

/// Every offence of the files (`(path relative to the repo, text)`), as
/// `file:line: stage X may not use Y`.
fn offences(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in files {
        let top = module_path(path).first().cloned().unwrap_or_default();
        let Some(stage) = stage_of(&top) else {
            out.push(format!(
                "{path}:1: module `{top}` has no stage (add it to MODULES in tests/architecture.rs)"
            ));
            continue;
        };
        for (line, used) in uses(path, text) {
            if used == "self" {
                continue;
            }
            if used == "*" {
                out.push(format!("{path}:{line}: stage {stage} may not glob-import the crate root"));
                continue;
            }
            match stage_of(&used) {
                Some(other) if may_use(stage, other) => {}
                Some(other) => {
                    out.push(format!("{path}:{line}: stage {stage} may not use {other} (crate::{used})"))
                }
                None => out.push(format!("{path}:{line}: `crate::{used}` is not a module with a stage")),
            }
        }
    }
    out
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = repo();
    let mut paths = Vec::new();
    collect(&root.join("src"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let relative =
                p.strip_prefix(&root).expect("under the repo").to_string_lossy().replace('\\', "/");
            (relative, fs::read_to_string(&p).expect("read a source file"))
        })
        .collect()
}

#[test]
fn stages_depend_one_way() {
    let files = sources();
    assert!(files.len() > 40, "found only {} files under src/", files.len());
    let offences = offences(&files);
    assert!(offences.is_empty(), "the stages depend one way (see ARCHITECTURE.md):\n{}", offences.join("\n"));
}

/// The checker finds what it must: without this, a broken scanner would pass vacuously.
#[test]
fn the_checker_reports_every_kind_of_forbidden_path() {
    let text = r##"//! Doc: crate::resolve is only named here.
use std::fmt;

use crate::model::Model;
use crate::resolve::names::dns_name;
pub use crate::emit::Drift;
use crate::{
    config::Text,
    parse::parse,
};
use super::super::app;

fn f() {
    let s = "crate::resolve::x in a string";
    let r = r#"crate::app in a raw string"#;
    let c = '"';
    let _ = crate::insight::graph::render(s); // crate::app in a comment
    let _ = crate::rules::quote::yaml_scalar(r);
}

#[cfg(test)]
mod tests {
    use crate::app::check_source;
}
"##;
    let files = vec![("src/plan/fake.rs".to_owned(), text.to_owned())];
    assert_eq!(
        offences(&files),
        [
            "src/plan/fake.rs:5: stage plan may not use resolve (crate::resolve)",
            "src/plan/fake.rs:6: stage plan may not use emit (crate::emit)",
            "src/plan/fake.rs:7: stage plan may not use parse (crate::parse)",
            "src/plan/fake.rs:11: stage plan may not use driver (crate::app)",
            "src/plan/fake.rs:17: stage plan may not use insight (crate::insight)",
        ]
    );
    // `super::` within the stage is fine; a glob of the crate root is not.
    let files = vec![
        ("src/resolve/fake.rs".to_owned(), "use super::names;\nuse super::super::*;\n".to_owned()),
        ("src/newstage/mod.rs".to_owned(), "\n".to_owned()),
    ];
    assert_eq!(
        offences(&files),
        [
            "src/resolve/fake.rs:2: stage resolve may not glob-import the crate root",
            "src/newstage/mod.rs:1: module `newstage` has no stage (add it to MODULES in tests/architecture.rs)",
        ]
    );
}

/// Every top-level module of `src/` (folder, file, or `mod` in lib.rs) has a stage, every
/// entry of MODULES exists, and every stage has a row in ALLOWED.
#[test]
fn every_module_has_a_stage() {
    let mut on_disk = BTreeSet::new();
    for entry in fs::read_dir(repo().join("src")).expect("read src/") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().expect("a name").to_string_lossy().into_owned();
        if path.is_dir() || path.extension().is_some_and(|e| e == "rs") {
            on_disk.insert(name);
        }
    }
    let lib = fs::read_to_string(repo().join("src/lib.rs")).expect("read src/lib.rs");
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|l| l.trim_end_matches(';').to_owned())
        .collect();
    for module in on_disk.iter().chain(&declared) {
        assert!(
            stage_of(module).is_some(),
            "src/{module} has no stage: add it to MODULES in tests/architecture.rs"
        );
    }
    for (module, stage) in MODULES {
        assert!(on_disk.contains(*module), "MODULES names `{module}`, which is not in src/");
        assert!(ALLOWED.iter().any(|(s, _)| s == stage), "stage {stage} has no row in ALLOWED");
    }
}

/// ARCHITECTURE.md's table of directions is this test's: `| stage | modules | may use |`.
#[test]
fn architecture_md_shows_the_same_directions() {
    let text = fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    let section = text.split("\n## Dependencies\n").nth(1).expect("a `## Dependencies` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut documented: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [stage, modules, used] = cells[..] else { continue };
        let words = |cell: &str| -> BTreeSet<String> {
            cell.split(',')
                .map(|w| {
                    w.trim().trim_matches('`').trim_start_matches("src/").trim_end_matches('/').to_owned()
                })
                .map(|w| w.trim_end_matches(".rs").to_owned())
                .filter(|w| !w.is_empty() && w != "—")
                .collect()
        };
        documented.insert(stage.trim_matches('`').to_owned(), (words(modules), words(used)));
    }
    let mut expected: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (stage, used) in ALLOWED {
        let modules = MODULES.iter().filter(|(_, s)| s == stage).map(|(m, _)| (*m).to_owned()).collect();
        let used =
            used.iter().map(|u| if *u == "*" { "anything".to_owned() } else { (*u).to_owned() }).collect();
        expected.insert((*stage).to_owned(), (modules, used));
    }
    assert_eq!(documented, expected, "ARCHITECTURE.md's table differs from tests/architecture.rs");
}
