//! A small schema reader over KDL nodes: typed access to arguments, properties and
//! children that records a diagnostic (with span and hint) for everything unexpected,
//! so that one pass reports every problem of the file.

use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use crate::config::{Spanned, Text};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};

/// What a reader needs while walking a document: the place to put diagnostics.
#[derive(Default)]
pub(crate) struct Ctx {
    pub(crate) diagnostics: Diagnostics,
}

impl Ctx {
    pub(crate) fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Reports a child node that is not part of the schema of its parent.
    pub(crate) fn unknown_node(&mut self, node: &KdlNode, parent: &str, known: &[&str]) {
        let name = node.name().value();
        let mut diagnostic = Diagnostic::error(
            Code::UnknownNode,
            format!("unknown node `{name}` in {parent}"),
            node.name().span(),
            "not known here",
        );
        let help = did_you_mean(&suggest(name, known.iter().copied()))
            .unwrap_or_else(|| format!("{parent} accepts: {}", known.join(", ")));
        diagnostic = diagnostic.with_help(help);
        self.report(diagnostic);
    }

    /// Reports nested children where none are allowed.
    pub(crate) fn no_children(&mut self, node: &KdlNode) {
        if let Some(children) = node.children() {
            self.report(
                Diagnostic::error(
                    Code::UnexpectedChildren,
                    format!("`{}` takes no children block", node.name().value()),
                    children.span(),
                    "unexpected block",
                )
                .with_help("remove the `{ … }` block, or move its contents to the parent"),
            );
        }
    }
}

/// Tracks which singleton children of a block were already seen, to report duplicates.
#[derive(Default)]
pub(crate) struct Seen {
    seen: Vec<(String, SourceSpan)>,
}

impl Seen {
    /// True when this is the first `node` of its name in the block; reports a duplicate otherwise.
    pub(crate) fn first(&mut self, ctx: &mut Ctx, node: &KdlNode) -> bool {
        let name = node.name().value();
        if let Some((_, first)) = self.seen.iter().find(|(n, _)| n == name) {
            ctx.report(
                Diagnostic::error(
                    Code::DuplicateNode,
                    format!("`{name}` is given twice"),
                    node.name().span(),
                    "second declaration",
                )
                .with_label(*first, "first declared here")
                .with_help(format!("keep one `{name}` node")),
            );
            false
        } else {
            self.seen.push((name.to_owned(), node.name().span()));
            true
        }
    }
}

/// A node seen through its schema: arguments and properties are consumed by typed
/// getters, and [`NodeView::finish`] reports whatever was left unconsumed.
pub(crate) struct NodeView<'a> {
    node: &'a KdlNode,
    args: Vec<&'a KdlEntry>,
    props: Vec<&'a KdlEntry>,
    args_used: usize,
    known_props: Vec<&'static str>,
}

impl<'a> NodeView<'a> {
    pub(crate) fn new(ctx: &mut Ctx, node: &'a KdlNode) -> Self {
        let mut args = Vec::new();
        let mut props: Vec<&KdlEntry> = Vec::new();
        for entry in node.entries() {
            match entry.name() {
                None => args.push(entry),
                Some(key) => {
                    if let Some(previous) =
                        props.iter().find(|p| p.name().map(|n| n.value()) == Some(key.value()))
                    {
                        ctx.report(
                            Diagnostic::error(
                                Code::DuplicateNode,
                                format!("property `{}` is given twice", key.value()),
                                entry.span(),
                                "second value",
                            )
                            .with_label(previous.span(), "first value")
                            .with_help("keep one of them: KDL would silently use the last"),
                        );
                    } else {
                        props.push(entry);
                    }
                }
            }
        }
        Self { node, args, props, args_used: 0, known_props: Vec::new() }
    }

    pub(crate) fn name(&self) -> &'a str {
        self.node.name().value()
    }

    /// The tight span of the node's name.
    pub(crate) fn name_span(&self) -> SourceSpan {
        self.node.name().span()
    }

    /// `` `node` needs {what} ``, on the node's name: every required argument that is not there.
    fn missing_argument(&self, what: &str) -> Diagnostic {
        Diagnostic::error(
            Code::MissingArgument,
            format!("`{}` needs {what}", self.name()),
            self.name_span(),
            format!("{what} missing"),
        )
    }

    /// A required string argument at the next position.
    pub(crate) fn arg_text(&mut self, ctx: &mut Ctx, what: &str) -> Option<Text> {
        let Some(entry) = self.args.get(self.args_used).copied() else {
            ctx.report(
                self.missing_argument(what)
                    .with_help(format!("write it after the node name: `{} \"…\"`", self.name())),
            );
            return None;
        };
        self.args_used += 1;
        text(ctx, entry, what)
    }

    /// An optional string argument at the next position.
    pub(crate) fn opt_arg_text(&mut self, ctx: &mut Ctx, what: &str) -> Option<Text> {
        if self.args_used < self.args.len() { self.arg_text(ctx, what) } else { None }
    }

    /// Every remaining argument, each a string.
    pub(crate) fn rest_texts(&mut self, ctx: &mut Ctx, what: &str) -> Vec<Text> {
        let rest = &self.args[self.args_used..];
        self.args_used = self.args.len();
        rest.iter().filter_map(|entry| text(ctx, entry, what)).collect()
    }

    /// Every remaining argument (at least one), each a string.
    pub(crate) fn some_texts(&mut self, ctx: &mut Ctx, what: &str) -> Vec<Text> {
        if self.args_used >= self.args.len() {
            ctx.report(
                Diagnostic::error(
                    Code::MissingArgument,
                    format!("`{}` needs at least one {what}", self.name()),
                    self.name_span(),
                    format!("{what} missing"),
                )
                .with_help(format!("list them after the node name: `{} \"…\" \"…\"`", self.name())),
            );
            return Vec::new();
        }
        self.rest_texts(ctx, what)
    }

    /// A required boolean argument at the next position.
    pub(crate) fn arg_bool(&mut self, ctx: &mut Ctx, what: &str) -> Option<Spanned<bool>> {
        let Some(entry) = self.args.get(self.args_used).copied() else {
            ctx.report(self.missing_argument(what).with_help(format!(
                "write `{} #true` or `{} #false`",
                self.name(),
                self.name()
            )));
            return None;
        };
        self.args_used += 1;
        match entry.value() {
            KdlValue::Bool(b) => Some(Spanned::new(*b, entry.span())),
            other => {
                wrong_type(ctx, entry, &format!("`{}`", self.name()), "a boolean (#true or #false)", other);
                None
            }
        }
    }

    /// A required unsigned integer argument at the next position.
    pub(crate) fn arg_uint<T: TryFrom<i128>>(&mut self, ctx: &mut Ctx, what: &str) -> Option<Spanned<T>> {
        let Some(entry) = self.args.get(self.args_used).copied() else {
            ctx.report(self.missing_argument(what));
            return None;
        };
        self.args_used += 1;
        uint(ctx, entry, what)
    }

    pub(crate) fn has_args_left(&self) -> bool {
        self.args_used < self.args.len()
    }

    fn prop(&mut self, key: &'static str) -> Option<&'a KdlEntry> {
        if !self.known_props.contains(&key) {
            self.known_props.push(key);
        }
        self.props.iter().copied().find(|p| p.name().map(|n| n.value()) == Some(key))
    }

    pub(crate) fn prop_text(&mut self, ctx: &mut Ctx, key: &'static str) -> Option<Text> {
        let entry = self.prop(key)?;
        text(ctx, entry, &format!("`{key}`"))
    }

    pub(crate) fn req_prop_text(&mut self, ctx: &mut Ctx, key: &'static str) -> Option<Text> {
        if self.prop(key).is_none() {
            self.missing_prop(ctx, key, "\"…\"");
            return None;
        }
        self.prop_text(ctx, key)
    }

    pub(crate) fn prop_uint<T: TryFrom<i128>>(
        &mut self,
        ctx: &mut Ctx,
        key: &'static str,
    ) -> Option<Spanned<T>> {
        let entry = self.prop(key)?;
        uint(ctx, entry, &format!("`{key}`"))
    }

    pub(crate) fn req_prop_uint<T: TryFrom<i128>>(
        &mut self,
        ctx: &mut Ctx,
        key: &'static str,
    ) -> Option<Spanned<T>> {
        if self.prop(key).is_none() {
            self.missing_prop(ctx, key, "1");
            return None;
        }
        self.prop_uint(ctx, key)
    }

    pub(crate) fn prop_bool(&mut self, ctx: &mut Ctx, key: &'static str) -> Option<Spanned<bool>> {
        let entry = self.prop(key)?;
        match entry.value() {
            KdlValue::Bool(b) => Some(Spanned::new(*b, entry.span())),
            other => {
                wrong_type(ctx, entry, &format!("`{key}`"), "a boolean (#true or #false)", other);
                None
            }
        }
    }

    /// Every property as a key/value string pair, in source order (for `env`-like nodes).
    pub(crate) fn all_props_text(&mut self, ctx: &mut Ctx, what: &str) -> Vec<(Text, Text)> {
        let props = std::mem::take(&mut self.props);
        props
            .into_iter()
            .filter_map(|entry| {
                let key = entry.name()?;
                let value = text(ctx, entry, what)?;
                Some((Spanned::new(key.value().to_owned(), key.span()), value))
            })
            .collect()
    }

    fn missing_prop(&self, ctx: &mut Ctx, key: &str, example: &str) {
        ctx.report(
            Diagnostic::error(
                Code::MissingProperty,
                format!("`{}` needs the property `{key}`", self.name()),
                self.name_span(),
                format!("`{key}=` missing"),
            )
            .with_help(format!("add `{key}={example}` to this node")),
        );
    }

    /// Reports unread arguments and unknown properties.
    pub(crate) fn finish(self, ctx: &mut Ctx) {
        for entry in &self.args[self.args_used..] {
            ctx.report(
                Diagnostic::error(
                    Code::UnexpectedArgument,
                    format!("`{}` takes no further argument", self.name()),
                    entry.span(),
                    "unexpected",
                )
                .with_help("remove it, or check the node's syntax in docs/language.md"),
            );
        }
        for entry in &self.props {
            let Some(key) = entry.name() else { continue };
            if self.known_props.contains(&key.value()) {
                continue;
            }
            let help =
                did_you_mean(&suggest(key.value(), self.known_props.iter().copied())).unwrap_or_else(|| {
                    if self.known_props.is_empty() {
                        format!("`{}` takes no properties", self.name())
                    } else {
                        format!("`{}` accepts: {}", self.name(), self.known_props.join(", "))
                    }
                });
            ctx.report(
                Diagnostic::error(
                    Code::UnknownProperty,
                    format!("unknown property `{}` on `{}`", key.value(), self.name()),
                    key.span(),
                    "not known here",
                )
                .with_help(help),
            );
        }
    }
}

fn describe(value: &KdlValue) -> &'static str {
    match value {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a decimal number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

fn wrong_type(ctx: &mut Ctx, entry: &KdlEntry, what: &str, expected: &str, found: &KdlValue) {
    let mut diagnostic = Diagnostic::error(
        Code::WrongType,
        format!("{what} must be {expected}, found {}", describe(found)),
        entry.span(),
        format!("expected {expected}"),
    );
    if expected == "a string" {
        // Numbers that should be strings lose information silently (3.10 reads as 3.1):
        // point at the quoted form, built from the text the user typed. A keyword (#true,
        // #false, #null) is meant as its word: "true", not "#true".
        let written = match found {
            KdlValue::Bool(b) => b.to_string(),
            KdlValue::Null => "null".to_owned(),
            _ => entry.format().map_or_else(|| found.to_string(), |f| f.value_repr.clone()),
        };
        diagnostic = diagnostic.with_help(format!("quote it: \"{}\"", written.trim()));
    } else if let (Some((host, container)), true) = (published_port(found), what.contains("port")) {
        // Compose's "host:container" string: gscgen's form names the two numbers.
        diagnostic = diagnostic.with_help(format!(
            "write `port {container} host={host}`: the container port, then `host=` for the port published on the host"
        ));
    } else if expected == "a whole number" {
        diagnostic = diagnostic.with_help("write the number without quotes, e.g. 8000");
    } else {
        diagnostic = diagnostic.with_help(format!("write {expected}"));
    }
    ctx.report(diagnostic);
}

/// `"8080:80"` (Compose's short port syntax) as (host, container).
fn published_port(value: &KdlValue) -> Option<(u16, u16)> {
    let KdlValue::String(s) = value else { return None };
    let (host, container) = s.split_once(':')?;
    Some((host.parse().ok()?, container.parse().ok()?))
}

fn text(ctx: &mut Ctx, entry: &KdlEntry, what: &str) -> Option<Text> {
    match entry.value() {
        KdlValue::String(s) => Some(Spanned::new(s.clone(), entry.span())),
        other => {
            wrong_type(ctx, entry, what, "a string", other);
            None
        }
    }
}

fn uint<T: TryFrom<i128>>(ctx: &mut Ctx, entry: &KdlEntry, what: &str) -> Option<Spanned<T>> {
    match entry.value() {
        KdlValue::Integer(i) => match T::try_from(*i) {
            Ok(v) if *i >= 0 => Some(Spanned::new(v, entry.span())),
            _ => {
                ctx.report(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("{what} is out of range"),
                        entry.span(),
                        "out of range",
                    )
                    .with_help(format!("use a whole number between 0 and {}", max_of::<T>())),
                );
                None
            }
        },
        other => {
            wrong_type(ctx, entry, what, "a whole number", other);
            None
        }
    }
}

fn max_of<T: TryFrom<i128>>() -> i128 {
    // Binary search the largest value that converts: avoids a trait bound per integer type.
    let (mut low, mut high) = (0_i128, i128::from(u64::MAX));
    while low < high {
        let mid = low + (high - low + 1) / 2;
        if T::try_from(mid).is_ok() { low = mid } else { high = mid - 1 }
    }
    low
}
