//! Free-form KDL read as YAML, for `compose-extra`: a node's name is a key and its value is
//!
//! * one argument: a scalar (`read_only #true`, `stop_signal SIGINT`);
//! * several arguments: a sequence of scalars (`cap_add NET_ADMIN SYS_TIME`);
//! * properties and/or children: a mapping (`logging { driver local; options max-size="10m" }`);
//! * children that are all named `-`: a sequence whose items are read by the same rules
//!   (`dns { - "1.1.1.1" }` is a one-item list, which one argument cannot say).
//!
//! Which keys are allowed is resolve's business; here only the shape is read, with a
//! diagnostic for anything that has no YAML meaning.

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use super::reader::Ctx;
use crate::config::{Spanned, YamlEntry, YamlScalar, YamlValue};
use crate::diagnostics::{Code, Diagnostic};

/// The name of the children that are sequence items.
const ITEM: &str = "-";

/// The children of `node` as mapping entries (the entries of `compose-extra` itself).
pub(super) fn mapping_children(ctx: &mut Ctx, node: &KdlNode) -> Vec<YamlEntry> {
    let children = node.children().map_or(&[][..], KdlDocument::nodes);
    let mut entries = Vec::with_capacity(children.len());
    for child in children {
        if let Some(value) = value(ctx, child) {
            push_unique(ctx, &mut entries, YamlEntry { key: name(child), value });
        }
    }
    entries
}

fn name(node: &KdlNode) -> Spanned<String> {
    Spanned::new(node.name().value().to_owned(), node.name().span())
}

/// Adds an entry unless its key is already there: YAML mappings have unique keys.
fn push_unique(ctx: &mut Ctx, entries: &mut Vec<YamlEntry>, entry: YamlEntry) {
    if let Some(first) = entries.iter().find(|e| e.key.value == entry.key.value) {
        ctx.report(
            Diagnostic::error(
                Code::DuplicateNode,
                format!("`{}` is given twice in one mapping", entry.key.value),
                entry.key.span,
                "second value",
            )
            .with_label(first.key.span, "first value")
            .with_help("a YAML mapping has each key once: keep one, or list several values in one node"),
        );
        return;
    }
    entries.push(entry);
}

/// The YAML value of one node, or `None` after reporting why it has none.
fn value(ctx: &mut Ctx, node: &KdlNode) -> Option<YamlValue> {
    let args: Vec<&KdlEntry> = node.entries().iter().filter(|e| e.name().is_none()).collect();
    let props: Vec<&KdlEntry> = node.entries().iter().filter(|e| e.name().is_some()).collect();
    let children = node.children().map(KdlDocument::nodes);
    let key = node.name().value();
    if !args.is_empty() && (!props.is_empty() || children.is_some()) {
        ctx.report(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{key}` has both arguments and properties or children"),
                node.name().span(),
                "a value or a mapping?",
            )
            .with_help(
                "arguments make a scalar or a list; properties and children make a mapping: use one of them \
                 (a list of mappings is written with `-` children)",
            ),
        );
        return None;
    }
    match args.as_slice() {
        [] => {}
        [one] => return scalar(ctx, one).map(YamlValue::Scalar),
        many => {
            let items: Vec<YamlValue> =
                many.iter().filter_map(|e| scalar(ctx, e).map(YamlValue::Scalar)).collect();
            return (items.len() == many.len()).then_some(YamlValue::Sequence(items));
        }
    }
    let children = children.unwrap_or(&[]);
    if props.is_empty() && children.is_empty() && node.children().is_none() {
        ctx.report(
            Diagnostic::error(
                Code::MissingArgument,
                format!("`{key}` has no value"),
                node.name().span(),
                "value missing",
            )
            .with_help(format!(
                "write a value (`{key} \"…\"`), several (a list), properties or a `{{ … }}` block (a mapping)"
            )),
        );
        return None;
    }
    let items = children.iter().filter(|c| c.name().value() == ITEM).count();
    if items > 0 {
        if items < children.len() || !props.is_empty() {
            let stray = children.iter().find(|c| c.name().value() != ITEM).map(|c| c.name().span());
            ctx.report(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{key}` mixes `-` items with keys"),
                    stray.unwrap_or(node.name().span()),
                    "a key among list items",
                )
                .with_help(
                    "a block is either a list (every child named `-`) or a mapping (no child named `-`)",
                ),
            );
            return None;
        }
        let values: Vec<YamlValue> = children.iter().filter_map(|c| value(ctx, c)).collect();
        return (values.len() == children.len()).then_some(YamlValue::Sequence(values));
    }
    let mut entries = Vec::with_capacity(props.len() + children.len());
    for prop in props {
        let Some(key) = prop.name() else { continue };
        if let Some(value) = scalar(ctx, prop) {
            let key = Spanned::new(key.value().to_owned(), key.span());
            push_unique(ctx, &mut entries, YamlEntry { key, value: YamlValue::Scalar(value) });
        }
    }
    for child in children {
        if let Some(value) = value(ctx, child) {
            push_unique(ctx, &mut entries, YamlEntry { key: name(child), value });
        }
    }
    Some(YamlValue::Mapping(entries))
}

/// A KDL value as a YAML scalar that YAML 1.1 and 1.2 readers see alike.
fn scalar(ctx: &mut Ctx, entry: &KdlEntry) -> Option<YamlScalar> {
    let invalid = |ctx: &mut Ctx, message: &str, help: &str| {
        ctx.report(
            Diagnostic::error(Code::InvalidValue, message, entry.span(), "no YAML value").with_help(help),
        );
        None
    };
    match entry.value() {
        KdlValue::String(s) => Some(YamlScalar::String(s.clone())),
        KdlValue::Bool(b) => Some(YamlScalar::Bool(*b)),
        // Past i64, YAML readers disagree (some read a float, some fail).
        KdlValue::Integer(i) => match i64::try_from(*i) {
            Ok(i) => Some(YamlScalar::Number(i.to_string())),
            Err(_) => invalid(
                ctx,
                "this number is too large for YAML readers",
                "use a number between -9223372036854775808 and 9223372036854775807, or a string",
            ),
        },
        KdlValue::Float(f) if f.is_finite() => {
            // Rust never writes an exponent here; YAML 1.1 needs the `.` to read a float.
            let text = f.to_string();
            Some(YamlScalar::Number(if text.contains('.') { text } else { format!("{text}.0") }))
        }
        KdlValue::Float(_) => invalid(
            ctx,
            "#inf, #-inf and #nan have no portable YAML form",
            "write a finite number, or a string",
        ),
        KdlValue::Null => invalid(
            ctx,
            "#null is not accepted",
            "leave the key out instead; gscgen never writes YAML nulls, whose meaning differs between Compose keys",
        ),
    }
}
