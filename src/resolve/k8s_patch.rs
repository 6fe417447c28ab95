//! `kubernetes { patch <kind> <name> { … } }`: extra fields for one rendered object, checked
//! against what the target renders. The objects and their [`Shape`] come from the plan's
//! description of its output ([`crate::rules::k8s_objects::objects`], a pure function of the
//! model), never from rendered text.
//!
//! The rules: the object exists; every mapping a patch descends into exists (or is new); an
//! element of a keyed list (`containers` by `name`) exists unless the list takes new ones
//! (`volumes`, `volumeMounts`); no field that an option of the config controls is set
//! (`image`, `replicas`, `resources`, …): the option is named in the help.

use miette::SourceSpan;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::model::{Model, ObjectKind, Patch, Yaml};
// The plan's description of the objects it renders: a pure function of the model.
use crate::config::{Config, PatchDecl, PatchField, PatchValue};
use crate::rules::k8s_objects::{KeyedList, Object, Shape, keyed_list, objects};

/// Checks every patch and stores the valid ones in the model's kubernetes target.
pub(super) fn resolve(config: &Config, model: &mut Model, diagnostics: &mut Diagnostics) {
    let Some(decl) = config.targets.as_ref().and_then(|t| t.kubernetes.as_ref()) else { return };
    if decl.patches.is_empty() {
        return;
    }
    let objects = objects(model);
    let mut seen: Vec<(ObjectKind, &str, SourceSpan)> = Vec::new();
    let mut patches = Vec::new();
    for patch in &decl.patches {
        let Some(object) = target(patch, &objects, diagnostics) else { continue };
        if let Some((_, _, first)) = seen.iter().find(|(k, n, _)| *k == object.kind && *n == object.name) {
            diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateNode,
                    format!("{} `{}` is patched twice", object.kind.word(), object.name),
                    patch.name.span,
                    "second patch",
                )
                .with_label(*first, "first patch")
                .with_help("merge the two blocks into one `patch`"),
            );
            continue;
        }
        seen.push((object.kind, &object.name, patch.name.span));
        let fields = Walk { diagnostics: &mut *diagnostics }.mapping(&patch.fields, Some(&object.shape), "");
        patches.push(Patch { kind: object.kind, name: object.name.clone(), fields });
    }
    if let Some(target) = model.targets.kubernetes.as_mut() {
        target.patches = patches;
    }
}

/// The object a patch names, or a diagnostic with the closest names.
fn target<'o>(patch: &PatchDecl, objects: &'o [Object], diagnostics: &mut Diagnostics) -> Option<&'o Object> {
    let words: Vec<&str> = ObjectKind::ALL.iter().map(|k| k.word()).collect();
    let Some(kind) = ObjectKind::from_word(&patch.kind.value) else {
        // `Deployment`, `HorizontalPodAutoscaler`: the Kubernetes spelling of a kind.
        let spelled = ObjectKind::ALL.into_iter().find(|k| k.api().1.eq_ignore_ascii_case(&patch.kind.value));
        let help = match spelled {
            Some(kind) => format!(
                "write `{}`: kinds are named as the files are (`<name>.{}.yaml`)",
                kind.word(),
                kind.word()
            ),
            None => did_you_mean(&suggest(&patch.kind.value, words.iter().copied()))
                .unwrap_or_else(|| format!("the rendered kinds are {}", words.join(", "))),
        };
        diagnostics.push(
            Diagnostic::error(
                Code::PatchTarget,
                format!(
                    "`{}` is not a kind of object the kubernetes target renders",
                    patch.kind.value.escape_debug()
                ),
                patch.kind.span,
                "unknown kind",
            )
            .with_help(help),
        );
        return None;
    };
    if let Some(object) = objects.iter().find(|o| o.kind == kind && o.name == patch.name.value) {
        return Some(object);
    }
    let same_kind: Vec<&str> = objects.iter().filter(|o| o.kind == kind).map(|o| o.name.as_str()).collect();
    let other_kinds: Vec<&str> =
        objects.iter().filter(|o| o.name == patch.name.value).map(|o| o.kind.word()).collect();
    let help = if let Some(help) = did_you_mean(&suggest(&patch.name.value, same_kind.iter().copied())) {
        help
    } else if !other_kinds.is_empty() {
        format!("`{}` is rendered as: {}", patch.name.value, other_kinds.join(", "))
    } else if same_kind.is_empty() {
        format!("this config renders no {}", kind.word())
    } else {
        format!(
            "patch an object gscgen renders (names as in `k8s/<name>.{}.yaml`, `_` becomes `-`): {}",
            kind.word(),
            same_kind.join(", ")
        )
    };
    diagnostics.push(
        Diagnostic::error(
            Code::PatchTarget,
            format!("no {} named `{}` is rendered", kind.word(), patch.name.value.escape_debug()),
            patch.name.span,
            "no such object",
        )
        .with_help(help),
    );
    None
}

/// Walks a patch along the shape of its object, reporting what it may not do.
struct Walk<'d> {
    diagnostics: &'d mut Diagnostics,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Walk<'_> {
    /// The fields of a mapping; `shape` is what gscgen renders there (`None`: nothing, the
    /// whole subtree is new).
    fn mapping(&mut self, fields: &[PatchField], shape: Option<&Shape>, path: &str) -> Vec<(String, Yaml)> {
        let entries = match shape {
            Some(Shape::Mapping(entries)) => entries.as_slice(),
            _ => &[],
        };
        let mut out = Vec::new();
        for field in fields {
            let key = &field.key.value;
            let path = join(path, key);
            let existing = entries.iter().find(|(k, _)| k == key).map(|(_, s)| s);
            if let Some(value) = self.field(field, existing, &path) {
                out.push((key.clone(), value));
            }
        }
        out
    }

    fn field(&mut self, field: &PatchField, existing: Option<&Shape>, path: &str) -> Option<Yaml> {
        let span = field.key.span;
        match (existing, &field.value) {
            (Some(Shape::Owned { option, .. }), _) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::PatchOwned,
                        format!("`{path}` is set by the config, not by a patch"),
                        span,
                        "owned by gscgen",
                    )
                    .with_help(format!("{option} controls this field: change it there")),
                );
                None
            }
            (Some(Shape::Keyed(items)), value) => self.keyed(field, value, Some(items), path),
            (None, value) if keyed_list(&field.key.value).is_some() => self.keyed(field, value, None, path),
            (Some(Shape::Mapping(_)), PatchValue::Mapping(fields)) => {
                Some(Yaml::Mapping(self.mapping(&fields.value, existing, path)))
            }
            (Some(Shape::Mapping(_)), _) => {
                self.push_path(
                    span,
                    format!("`{path}` is a mapping gscgen renders: a value would replace it"),
                    "add keys inside it: `key { field value }`",
                );
                None
            }
            (Some(Shape::Value), PatchValue::Mapping(_)) => {
                self.push_path(
                    span,
                    format!("`{path}` is a single value in the rendered object, not a mapping"),
                    "give it a value: `key \"value\"`",
                );
                None
            }
            (Some(Shape::Value) | None, value) => Some(self.value(value, path)),
        }
    }

    /// A value in a new place: nothing rendered to check against below it.
    fn value(&mut self, value: &PatchValue, path: &str) -> Yaml {
        match value {
            PatchValue::Scalar(scalar) => Yaml::Scalar(scalar.value.clone()),
            PatchValue::Sequence(items) => {
                Yaml::Sequence(items.value.iter().map(|item| self.value(item, path)).collect())
            }
            PatchValue::Mapping(fields) => Yaml::Mapping(self.mapping(&fields.value, None, path)),
        }
    }

    /// A keyed list (`containers`, `volumes`): each element a node named after its key.
    fn keyed(
        &mut self,
        field: &PatchField,
        value: &PatchValue,
        items: Option<&Vec<(String, Shape)>>,
        path: &str,
    ) -> Option<Yaml> {
        let list = keyed_list(&field.key.value).unwrap_or(KeyedList { merge_key: "name", open: true });
        let PatchValue::Mapping(elements) = value else {
            self.push_path(
                field.key.span,
                format!("`{path}` is merged element by element, by `{}`", list.merge_key),
                &format!(
                    "write each element as a node named after its `{}`: `{} {{ <{}> {{ field value }} }}`",
                    list.merge_key, field.key.value, list.merge_key
                ),
            );
            return None;
        };
        let items = items.map(Vec::as_slice).unwrap_or_default();
        let mut out = Vec::new();
        for element in &elements.value {
            let key = &element.key.value;
            let path = format!("{path}[{key}]");
            let PatchValue::Mapping(fields) = &element.value else {
                self.push_path(
                    element.key.span,
                    format!("the element `{key}` of `{}` needs a block", field.key.value),
                    &format!("write `{key} {{ field value }}`"),
                );
                continue;
            };
            let existing = items.iter().find(|(k, _)| k == key).map(|(_, s)| s);
            match existing {
                Some(Shape::Owned { option, .. }) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::PatchOwned,
                            format!("`{path}` is rendered by gscgen, not by a patch"),
                            element.key.span,
                            "owned by gscgen",
                        )
                        .with_help(format!("this element is one of {option}")),
                    );
                    continue;
                }
                None if !list.open => {
                    let known: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
                    let help = did_you_mean(&suggest(key, known.iter().copied())).unwrap_or_else(|| {
                        format!(
                            "a patch changes the {} gscgen renders ({}); it cannot add one",
                            field.key.value,
                            known.join(", ")
                        )
                    });
                    self.push_path(
                        element.key.span,
                        format!("`{}` has no element `{key}` in the rendered object", field.key.value),
                        &help,
                    );
                    continue;
                }
                _ => {}
            }
            if let Some(inner) = fields.value.iter().find(|f| f.key.value == list.merge_key) {
                self.push_path(
                    inner.key.span,
                    format!("the `{}` of `{path}` is the name of its node", list.merge_key),
                    &format!("remove `{}`: the element is `{key}`", list.merge_key),
                );
                continue;
            }
            let mut mapping =
                vec![(list.merge_key.to_owned(), Yaml::Scalar(crate::config::Scalar::String(key.clone())))];
            mapping.extend(self.mapping(&fields.value, existing, &path));
            out.push(Yaml::Mapping(mapping));
        }
        Some(Yaml::Sequence(out))
    }

    fn push_path(&mut self, span: SourceSpan, message: String, help: &str) {
        self.diagnostics.push(
            Diagnostic::error(Code::PatchPath, message, span, "not in the rendered object")
                .with_help(help.to_owned()),
        );
    }
}
