//! The requirement groups: PEP 508 validation, the include graph (petgraph), cycles,
//! redundant includes, the resolution order and duplicate packages within a closure.
//!
//! Everything here is iterative: a 100,000-long include chain resolves without recursion.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::str::FromStr;

use miette::SourceSpan;
use pep508_rs::{Requirement as Pep508Requirement, VersionOrUrl};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::config::{GroupDecl, Spanned, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, NameIndex, did_you_mean, some_of};
use crate::model::{Group, GroupId, Requirement, closure};

/// The resolved groups plus what later stages need to compute closures.
pub(crate) struct ResolvedGroups {
    pub(crate) groups: Vec<Group>,
    /// Position of each group in the global resolution order (dependencies first, ties by
    /// config order).
    pub(crate) rank: Vec<usize>,
    /// Each group's requirements as parsed (for merge suggestions in duplicate reports).
    parsed: Vec<Vec<(Requirement, Option<Pep508Requirement>)>>,
    /// Duplicate pairs already reported, by (first span offset, second span offset).
    reported: BTreeSet<(usize, usize)>,
}

impl ResolvedGroups {
    /// Reports packages declared twice across the closures of several groups installed
    /// together (an image's `groups a b`, or the base image's groups).
    pub(crate) fn check_together(&mut self, owner: &str, roots: &[GroupId], diagnostics: &mut Diagnostics) {
        if roots.len() < 2 {
            return; // one root's closure was checked with the groups themselves
        }
        let names: Vec<&str> = roots.iter().map(|r| self.groups[*r].name.value.as_str()).collect();
        let where_ = format!("in {owner}, which installs groups {}", names.join(", "));
        duplicates_in(
            &self.groups,
            &self.rank,
            &self.parsed,
            roots,
            &mut self.reported,
            diagnostics,
            |_, _| where_.clone(),
        );
    }
}

/// Looks a group name up, reporting an unknown name with the closest known ones.
pub(crate) fn lookup(
    names: &HashMap<&str, GroupId>,
    known_in_order: &[&str],
    index: &NameIndex<'_>,
    name: &Text,
    diagnostics: &mut Diagnostics,
) -> Option<GroupId> {
    if let Some(id) = names.get(name.value.as_str()) {
        return Some(*id);
    }
    let mut diagnostic = Diagnostic::error(
        Code::UnknownGroup,
        format!("unknown group `{}`", name.value),
        name.span,
        "no group of this name",
    );
    diagnostic = diagnostic.with_help(did_you_mean(&index.suggest(&name.value)).unwrap_or_else(|| {
        format!("declare it with `group {} {{ … }}`, or use one of: {}", name.value, some_of(known_in_order))
    }));
    diagnostics.push(diagnostic);
    None
}

/// Resolves every group. Returns `None` when the include graph has a cycle (no order exists).
pub(crate) fn resolve_groups(
    decls: &[GroupDecl],
    names: &HashMap<&str, GroupId>,
    diagnostics: &mut Diagnostics,
) -> Option<ResolvedGroups> {
    let known: Vec<&str> = decls.iter().map(|g| g.name.value.as_str()).collect();
    let index = NameIndex::new(known.iter().copied());
    let mut graph: DiGraph<GroupId, SourceSpan> = DiGraph::with_capacity(decls.len(), decls.len());
    for id in 0..decls.len() {
        graph.add_node(id);
    }
    // Direct includes of each group, deduplicated, in config order, with their spans.
    let mut direct: Vec<Vec<(GroupId, SourceSpan)>> = vec![Vec::new(); decls.len()];
    for (id, decl) in decls.iter().enumerate() {
        for include in &decl.includes {
            let Some(target) = lookup(names, &known, &index, include, diagnostics) else { continue };
            if target == id {
                diagnostics.push(
                    Diagnostic::error(
                        Code::SelfInclude,
                        format!("group `{}` includes itself", decl.name.value),
                        include.span,
                        "includes itself",
                    )
                    .with_help("remove this include"),
                );
                continue;
            }
            if let Some((_, first)) = direct[id].iter().find(|(t, _)| *t == target) {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::RedundantInclude,
                        format!("group `{}` includes `{}` twice", decl.name.value, include.value),
                        include.span,
                        "second include",
                    )
                    .with_label(*first, "first include")
                    .with_help("remove the second include"),
                );
                continue;
            }
            direct[id].push((target, include.span));
            graph.add_edge(NodeIndex::new(id), NodeIndex::new(target), include.span);
        }
    }

    if report_cycles(&graph, decls, diagnostics) {
        return None;
    }
    let rank = resolution_rank(&graph);

    let requires: Vec<Vec<(Requirement, Option<Pep508Requirement>)>> = decls
        .iter()
        .map(|decl| decl.requires.iter().filter_map(|r| parse_requirement(r, diagnostics)).collect())
        .collect();

    // An include already implied by another include of the same group is reported and
    // dropped from the rendered `-r` lines: it adds nothing and hides the real structure.
    let mut includes: Vec<Vec<Spanned<GroupId>>> = Vec::with_capacity(decls.len());
    for (id, decl) in decls.iter().enumerate() {
        let mut kept = Vec::new();
        for (target, span) in &direct[id] {
            let implied_by = direct[id]
                .iter()
                .filter(|(other, _)| other != target)
                .find(|(other, _)| reachable(&graph, *other, *target));
            match implied_by {
                Some((other, other_span)) => diagnostics.push(
                    Diagnostic::warning(
                        Code::RedundantInclude,
                        format!(
                            "group `{}` includes `{}`, which `{}` already brings in",
                            decl.name.value, decls[*target].name.value, decls[*other].name.value
                        ),
                        *span,
                        "already implied",
                    )
                    .with_label(*other_span, format!("`{}` includes it", decls[*other].name.value))
                    .with_help(format!("remove `{}` from this include list", decls[*target].name.value)),
                ),
                None => kept.push(Spanned::new(*target, *span)),
            }
        }
        includes.push(kept);
    }

    let groups: Vec<Group> = decls
        .iter()
        .zip(includes)
        .zip(&requires)
        .map(|((decl, includes), requires)| Group {
            name: decl.name.clone(),
            description: decl.description.as_ref().map(|d| d.value.clone()),
            includes,
            requires: requires.iter().map(|(r, _)| r.clone()).collect(),
        })
        .collect();

    let mut reported = BTreeSet::new();
    report_duplicate_requirements(&groups, &rank, &requires, &mut reported, diagnostics);
    Some(ResolvedGroups { groups, rank, parsed: requires, reported })
}

/// Reports every strongly connected component with more than one group as a cycle, naming
/// the whole loop with a label on each include. Returns true when a cycle exists.
fn report_cycles(
    graph: &DiGraph<GroupId, SourceSpan>,
    decls: &[GroupDecl],
    diagnostics: &mut Diagnostics,
) -> bool {
    let mut found = false;
    let mut components = tarjan_scc(graph);
    // Report in source order of the first group of each cycle.
    for component in &mut components {
        component.sort_by_key(|n| graph[*n]);
    }
    components.sort_by_key(|c| graph[c[0]]);
    for component in components.iter().filter(|c| c.len() > 1) {
        found = true;
        let members: HashSet<NodeIndex> = component.iter().copied().collect();
        let path = cycle_path(graph, component[0], &members);
        let names: Vec<&str> = path.iter().map(|(from, _)| decls[graph[*from]].name.value.as_str()).collect();
        let mut loop_text = names.join(" → ");
        loop_text.push_str(&format!(" → {}", names[0]));
        let (first_from, first_span) = path[0];
        let mut diagnostic = Diagnostic::error(
            Code::GroupCycle,
            format!("include cycle: {loop_text}"),
            first_span,
            format!(
                "`{}` includes `{}`",
                names[0],
                decls[graph[path.get(1).map_or(first_from, |p| p.0)]].name.value
            ),
        );
        for (i, (from, span)) in path.iter().enumerate().skip(1) {
            let to = path[(i + 1) % path.len()].0;
            diagnostic = diagnostic.with_label(
                *span,
                format!("`{}` includes `{}`", decls[graph[*from]].name.value, decls[graph[to]].name.value),
            );
        }
        diagnostics.push(
            diagnostic
                .with_help("a group cannot include itself through others: remove one include of the loop"),
        );
    }
    found
}

/// The shortest loop from `start` back to itself inside one component, as (node, span of
/// the edge that leaves it) pairs. Shared by include cycles and `depends-on` cycles.
pub(crate) fn cycle_path(
    graph: &DiGraph<GroupId, SourceSpan>,
    start: NodeIndex,
    members: &HashSet<NodeIndex>,
) -> Vec<(NodeIndex, SourceSpan)> {
    // Breadth-first search from start over the component, remembering how each node was
    // reached, until an edge closes the loop at start.
    let mut reached_by: HashMap<NodeIndex, (NodeIndex, SourceSpan)> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut edges: Vec<_> = graph.edges(node).filter(|e| members.contains(&e.target())).collect();
        edges.sort_by_key(|e| e.weight().offset());
        for edge in edges {
            let target = edge.target();
            if target == start {
                let mut path = vec![(node, *edge.weight())];
                let mut current = node;
                while current != start {
                    let (previous, span) = reached_by[&current];
                    path.push((previous, span));
                    current = previous;
                }
                path.reverse();
                return path;
            }
            if target != start && !reached_by.contains_key(&target) {
                reached_by.insert(target, (node, *edge.weight()));
                queue.push_back(target);
            }
        }
    }
    Vec::new()
}

/// Kahn's algorithm with a min-heap on config order: included groups come before the groups
/// that include them, and ties keep the order of the config.
fn resolution_rank(graph: &DiGraph<GroupId, SourceSpan>) -> Vec<usize> {
    let count = graph.node_count();
    let mut waiting: Vec<usize> = (0..count).map(|i| graph.edges(NodeIndex::new(i)).count()).collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..count).filter(|i| waiting[*i] == 0).map(Reverse).collect();
    let mut rank = vec![0; count];
    let mut next = 0;
    while let Some(Reverse(id)) = ready.pop() {
        rank[id] = next;
        next += 1;
        for edge in graph.edges_directed(NodeIndex::new(id), petgraph::Direction::Incoming) {
            let includer = edge.source().index();
            waiting[includer] -= 1;
            if waiting[includer] == 0 {
                ready.push(Reverse(includer));
            }
        }
    }
    rank
}

/// Is `to` reachable from `from` by includes?
fn reachable(graph: &DiGraph<GroupId, SourceSpan>, from: GroupId, to: GroupId) -> bool {
    let mut stack = vec![NodeIndex::new(from)];
    let mut seen = HashSet::new();
    while let Some(node) = stack.pop() {
        if node.index() == to {
            return true;
        }
        if seen.insert(node) {
            stack.extend(graph.neighbors(node));
        }
    }
    false
}

/// Checks the project name at the start of a requirement before the PEP 508 parser sees
/// it: pep508_rs 0.9 panics on a name cut short by a character it does not expect (e.g.
/// `python-é`), instead of returning an error. Returns (char offset, char length, message).
fn precheck_name(value: &str) -> Option<(usize, usize, String)> {
    let trimmed = value.trim_start();
    let lead = value.chars().count() - trimmed.chars().count();
    let name_len = trimmed.chars().take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).count();
    if name_len == 0 {
        return None; // the parser reports a missing name properly
    }
    let name: String = trimmed.chars().take(name_len).collect();
    match trimmed.chars().nth(name_len) {
        Some(c) if !(c.is_whitespace() || "[(<>=!~;@".contains(c)) => {
            Some((lead + name_len, 1, format!("`{}` cannot appear in a project name", c.escape_debug())))
        }
        _ if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) => {
            Some((lead, name_len, format!("project name `{name}` must end with a letter or digit")))
        }
        _ => None,
    }
}

/// Validates and normalises one requirement with a PEP 508 parser.
fn parse_requirement(
    text: &Text,
    diagnostics: &mut Diagnostics,
) -> Option<(Requirement, Option<Pep508Requirement>)> {
    if let Some((start, len, message)) = precheck_name(&text.value) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidRequirement,
                format!("invalid requirement: {message}"),
                inner_span(text, start, len),
                "not PEP 508",
            )
            .with_help(
                "write a PEP 508 requirement such as \"requests>=2.31.0\" or \"redis[hiredis]>=5.0.0\"",
            ),
        );
        return None;
    }
    match Pep508Requirement::from_str(&text.value) {
        Ok(parsed) => {
            if matches!(parsed.version_or_url, Some(VersionOrUrl::Url(_))) {
                // URLs are valid PEP 508 but make builds unreproducible from an index cache;
                // they are still allowed, rendered verbatim.
            }
            Some((
                Requirement {
                    name: parsed.name.to_string(),
                    line: parsed.to_string(),
                    span: text.span,
                    index: None,
                },
                Some(parsed),
            ))
        }
        Err(error) => {
            let span = inner_span(text, error.start, error.len);
            diagnostics.push(
                Diagnostic::error(
                    Code::InvalidRequirement,
                    format!("invalid requirement: {}", error.message),
                    span,
                    "not PEP 508",
                )
                .with_help(
                    "write a PEP 508 requirement such as \"requests>=2.31.0\" or \"redis[hiredis]>=5.0.0\"",
                ),
            );
            None
        }
    }
}

/// The span of characters `start..start+len` of a string value, when the source text is a
/// plain quoted string (so offsets map one to one); the whole value otherwise.
fn inner_span(text: &Text, start: usize, len: usize) -> SourceSpan {
    let value = &text.value;
    // `"` + value + `"` occupies value.len() + 2 bytes when nothing was escaped.
    if text.span.len() != value.len() + 2 {
        return text.span;
    }
    let byte = |chars: usize| value.char_indices().nth(chars).map_or(value.len(), |(i, _)| i);
    let from = byte(start);
    let to = byte(start + len.max(1)).max(from);
    SourceSpan::from((text.span.offset() + 1 + from)..(text.span.offset() + 1 + to))
}

/// Within one include closure a project may be declared once. Every closure is a subset of
/// the closure of some root (a group nobody includes), so checking the roots finds every
/// pair; each pair is reported once.
fn report_duplicate_requirements(
    groups: &[Group],
    rank: &[usize],
    parsed: &[Vec<(Requirement, Option<Pep508Requirement>)>],
    reported: &mut BTreeSet<(usize, usize)>,
    diagnostics: &mut Diagnostics,
) {
    let mut included = vec![false; groups.len()];
    for group in groups {
        for include in &group.includes {
            included[include.value] = true;
        }
    }
    for root in (0..groups.len()).filter(|g| !included[*g]) {
        duplicates_in(groups, rank, parsed, &[root], reported, diagnostics, |first, second| {
            if first == second {
                format!("in group `{}`", groups[second].name.value)
            } else {
                format!(
                    "in the closure of group `{}` (from `{}` and `{}`)",
                    groups[root].name.value, groups[first].name.value, groups[second].name.value
                )
            }
        });
    }
}

/// Reports every package declared twice within the closure of `roots`; `where_` words the
/// place from the groups of the first and second declaration.
fn duplicates_in(
    groups: &[Group],
    rank: &[usize],
    parsed: &[Vec<(Requirement, Option<Pep508Requirement>)>],
    roots: &[GroupId],
    reported: &mut BTreeSet<(usize, usize)>,
    diagnostics: &mut Diagnostics,
    where_: impl Fn(GroupId, GroupId) -> String,
) {
    let mut first: HashMap<&str, (GroupId, usize)> = HashMap::new();
    for group in closure(groups, rank, roots) {
        for (index, (requirement, _)) in parsed[group].iter().enumerate() {
            let Some(&(first_group, first_index)) = first.get(requirement.name.as_str()) else {
                first.insert(&requirement.name, (group, index));
                continue;
            };
            let earlier = &parsed[first_group][first_index];
            if !reported.insert((earlier.0.span.offset(), requirement.span.offset())) {
                continue;
            }
            let help = match merge(earlier.1.as_ref(), parsed[group][index].1.as_ref()) {
                Some(merged) => format!("declare it once, e.g. \"{merged}\", and remove the other line"),
                None => {
                    "declare it once: the two lines have different markers or URLs, keep the one you mean"
                        .to_owned()
                }
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateRequirement,
                    format!("`{}` is required twice {}", requirement.name, where_(first_group, group)),
                    requirement.span,
                    "second declaration",
                )
                .with_label(earlier.0.span, "first declaration")
                .with_help(help),
            );
        }
    }
}

/// One requirement equivalent to both, when they differ only in extras and specifiers.
fn merge(a: Option<&Pep508Requirement>, b: Option<&Pep508Requirement>) -> Option<String> {
    let (a, b) = (a?, b?);
    if a.marker != b.marker {
        return None;
    }
    let mut merged = a.clone();
    for extra in &b.extras {
        if !merged.extras.contains(extra) {
            merged.extras.push(extra.clone());
        }
    }
    merged.extras.sort();
    merged.version_or_url = match (&a.version_or_url, &b.version_or_url) {
        (None, other) | (other, None) => other.clone(),
        (Some(VersionOrUrl::VersionSpecifier(x)), Some(VersionOrUrl::VersionSpecifier(y))) => {
            let mut specifiers: Vec<_> = x.iter().cloned().collect();
            for s in y.iter() {
                if !specifiers.contains(s) {
                    specifiers.push(s.clone());
                }
            }
            Some(VersionOrUrl::VersionSpecifier(specifiers.into_iter().collect()))
        }
        (Some(x), Some(y)) if x == y => Some(x.clone()),
        _ => return None,
    };
    Some(merged.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_pep508_parser_would_panic_on_are_rejected_first() {
        for bad in ["python-é>=1", "pytest-", "a.", "x_ >=1", "ok£"] {
            assert!(precheck_name(bad).is_some(), "{bad}");
        }
        for good in [
            "requests",
            "requests>=2",
            "redis[hiredis]>=5",
            "a-b.c_d (>=1)",
            "x ; python_version<'3.9'",
            "pkg@ https://x",
        ] {
            assert!(precheck_name(good).is_none(), "{good}");
        }
    }
}
