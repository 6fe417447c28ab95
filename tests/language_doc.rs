//! docs/language.md is the reference of the configuration language. These tests keep it
//! complete and correct:
//!
//! * every node name the parser knows (the `&[&str]` lists and the match arms of
//!   `src/parse/nodes.rs`) and every property it reads (`prop_*` / `req_prop_*` calls) appears
//!   in the doc as a code span;
//! * every ` ```kdl ` example that starts with `project` parses and resolves without errors,
//!   and every ` ```kdl-fragment ` is KDL 2 that uses only known nodes and properties.
//!
//! The sources are read at run time, so a name added to nodes.rs fails this test without the
//! test itself changing.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use gscgen::diagnostics::{self, RenderOptions};
use gscgen::source::Source;

fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// The string literals of `text`, in order (no escapes occur in node or property names).
fn string_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        out.push(after[..end].to_owned());
        rest = &after[end + 1..];
    }
    out
}

/// Node names: every string of a `const …: &[&str] = &[…];` list (TOP_LEVEL, KNOWN, SINGLE)
/// plus every string match arm (`"name" =>`), which catches a node read but not listed.
fn node_names(nodes_rs: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = nodes_rs;
    while let Some(at) = rest.find("&[&str]") {
        let after = &rest[at..];
        let Some(open) = after.find("&[\"").or_else(|| after.find("&[\n")) else { break };
        let Some(close) = after[open..].find("];") else { break };
        names.extend(string_literals(&after[open..open + close]));
        rest = &after[open + close..];
    }
    for line in nodes_rs.lines() {
        let line = line.trim_start();
        if let Some(arm) = line.strip_prefix('"')
            && let Some((name, tail)) = arm.split_once('"')
            && tail.trim_start().starts_with("=>")
        {
            names.insert(name.to_owned());
        }
    }
    names
}

/// Property names: the first string argument of every `.prop_*(…)` / `.req_prop_*(…)` call,
/// with or without a turbofish (`prop_uint::<u16>(ctx, "port")`).
fn property_names(nodes_rs: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in nodes_rs.match_indices("prop_") {
        let before = &nodes_rs[..at];
        if !(before.ends_with('.') || before.ends_with(".req_")) {
            continue;
        }
        let call = &nodes_rs[at..];
        let Some(open) = call.find('(') else { continue };
        let method = &call[..open];
        let plain = method.split("::").next().unwrap();
        if !plain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let Some(close) = call[open..].find(')') else { continue };
        if let Some(name) = string_literals(&call[open..open + close]).into_iter().next() {
            names.insert(name);
        }
    }
    names
}

/// Splits markdown into (prose, fenced blocks as (info string, body)).
fn split_markdown(markdown: &str) -> (String, Vec<(String, String)>) {
    let mut prose = String::new();
    let mut blocks = Vec::new();
    let mut fence: Option<(String, String, String)> = None; // (marker, info, body)
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match &mut fence {
            None => {
                if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                    let marker: String = trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect();
                    let info = trimmed[marker.len()..].trim().to_owned();
                    fence = Some((marker, info, String::new()));
                } else {
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
            Some((marker, info, body)) => {
                if trimmed.starts_with(marker.as_str())
                    && trimmed.trim_end().chars().all(|c| c == marker.as_bytes()[0] as char)
                {
                    blocks.push((std::mem::take(info), std::mem::take(body)));
                    fence = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    assert!(fence.is_none(), "docs/language.md ends inside a fenced code block");
    (prose, blocks)
}

/// The contents of the inline code spans of `prose` (CommonMark: a backtick run opens a span
/// that the next run of the same length closes; one surrounding space is stripped).
fn code_spans(prose: &str) -> BTreeSet<String> {
    let bytes = prose.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|b| **b == b'`').count();
    let mut spans = BTreeSet::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let start = i + open;
        let mut j = start;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = run_at(j);
                if run == open {
                    closed = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                let content = prose[start..end].replace('\n', " ");
                let content = match content.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !inner.trim().is_empty() => inner.to_owned(),
                    _ => content,
                };
                spans.insert(content);
                i = end + open;
            }
            None => i = start,
        }
    }
    spans
}

/// Names from `wanted` that no code span of `prose` documents. A node must be a span of its
/// own (`` `env-secret` ``); a property may also open one (`` `retries=3` ``).
fn undocumented(wanted: &BTreeSet<String>, prose: &str, allow_assignment: bool) -> Vec<String> {
    let spans = code_spans(prose);
    wanted
        .iter()
        .filter(|name| {
            !spans.iter().any(|span| {
                span == *name
                    || allow_assignment
                        && span.strip_prefix(name.as_str()).is_some_and(|r| r.starts_with('='))
            })
        })
        .cloned()
        .collect()
}

fn doc() -> String {
    repo_file("docs/language.md")
}

fn nodes_rs() -> String {
    repo_file("src/parse/nodes.rs")
}

#[test]
fn scanning_finds_the_language() {
    // Guards against a silent pass: if nodes.rs changes shape, the scanners must still see it.
    let source = nodes_rs();
    let nodes = node_names(&source);
    let props = property_names(&source);
    for node in ["project", "group", "image", "service", "env-secret", "disruption-budget", "toleration"] {
        assert!(nodes.contains(node), "node scanner missed `{node}`: {nodes:?}");
    }
    for prop in ["dir", "port", "start-period", "min-available", "run-as-non-root", "image", "secret"] {
        assert!(props.contains(prop), "property scanner missed `{prop}`: {props:?}");
    }
    assert!(nodes.len() >= 50, "only {} node names found: {nodes:?}", nodes.len());
    assert!(props.len() >= 25, "only {} property names found: {props:?}", props.len());
}

#[test]
fn every_node_is_documented() {
    let nodes = node_names(&nodes_rs());
    let (prose, _) = split_markdown(&doc());
    let missing = undocumented(&nodes, &prose, false);
    assert!(
        missing.is_empty(),
        "docs/language.md does not document these nodes of src/parse/nodes.rs (as `name` code spans): {missing:?}"
    );
}

#[test]
fn every_property_is_documented() {
    let props = property_names(&nodes_rs());
    let (prose, _) = split_markdown(&doc());
    let missing = undocumented(&props, &prose, true);
    assert!(
        missing.is_empty(),
        "docs/language.md does not document these properties of src/parse/nodes.rs (as `name` code spans): {missing:?}"
    );
}

#[test]
fn the_completeness_check_catches_an_undocumented_name() {
    // Mutation check on a copy: a name added to a KNOWN list or read as a property, and not
    // documented, must be reported.
    let source = nodes_rs();
    // Compared with the unmutated source, so the check holds while the doc lags behind.
    let (prose, _) = split_markdown(&doc());
    let added = |before: Vec<String>, after: Vec<String>| -> Vec<String> {
        after.into_iter().filter(|n| !before.contains(n)).collect()
    };
    let list = "const KNOWN: &[&str] = &[";
    assert!(source.contains(list), "nodes.rs has no `{list}`");
    let mutated = source.replacen(list, &format!("{list}\"zz-undocumented\", "), 1);
    assert_eq!(
        added(
            undocumented(&node_names(&source), &prose, false),
            undocumented(&node_names(&mutated), &prose, false)
        ),
        ["zz-undocumented"]
    );
    let mutated = format!(
        "{source}\nfn f(view: V) {{ view.prop_bool(ctx, \"zz-flag\"); view.req_prop_uint::<u16>(ctx, \"zz-num\"); }}\n"
    );
    assert_eq!(
        added(
            undocumented(&property_names(&source), &prose, true),
            undocumented(&property_names(&mutated), &prose, true)
        ),
        ["zz-flag", "zz-num"]
    );
}

/// The first line that is neither blank nor a `//` comment.
fn first_significant_line(text: &str) -> &str {
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("//")).unwrap_or("")
}

#[test]
fn kdl_examples_are_valid_projects() {
    let (_, blocks) = split_markdown(&doc());
    let mut checked = 0;
    let mut failures = Vec::new();
    for (index, (info, body)) in blocks.iter().enumerate() {
        if info != "kdl" {
            continue;
        }
        let first = first_significant_line(body);
        if !(first == "project" || first.starts_with("project ")) {
            failures.push(format!(
                "block {index} is fenced ```kdl but does not start with `project`; fence it ```kdl-fragment:\n{body}"
            ));
            continue;
        }
        checked += 1;
        let source = Source::new(format!("docs/language.md block {index}"), body.clone());
        let (model, diags) = gscgen::app::check_source(&source);
        if model.is_none() || diags.has_errors() {
            let rendered =
                diagnostics::render(&source, &diags, RenderOptions { color: false, width: 100, max: 20 });
            failures.push(format!("block {index} does not compile:\n{body}\n{rendered}"));
        }
    }
    assert!(checked >= 5, "only {checked} ```kdl examples found in docs/language.md");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn kdl_fragments_use_only_known_names() {
    let source = nodes_rs();
    let nodes = node_names(&source);
    let props = property_names(&source);
    let (_, blocks) = split_markdown(&doc());
    let mut failures = Vec::new();
    for (index, (info, body)) in blocks.iter().enumerate() {
        if info != "kdl-fragment" {
            continue;
        }
        let document = match kdl::KdlDocument::parse_v2(body) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!(
                    "fragment {index} is not KDL 2 ({e}); fence invalid examples as ```text:\n{body}"
                ));
                continue;
            }
        };
        let mut stack: Vec<&kdl::KdlNode> = document.nodes().iter().collect();
        while let Some(node) = stack.pop() {
            let name = node.name().value();
            if !nodes.contains(name) {
                failures.push(format!("fragment {index}: unknown node `{name}`"));
            }
            // `env` takes any variable names as its properties.
            if name != "env" {
                for key in node.entries().iter().filter_map(|e| e.name()) {
                    if !props.contains(key.value()) {
                        failures.push(format!(
                            "fragment {index}: unknown property `{}` on `{name}`",
                            key.value()
                        ));
                    }
                }
            }
            if let Some(children) = node.children() {
                stack.extend(children.nodes());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
