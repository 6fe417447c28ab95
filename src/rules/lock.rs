//! Locks: which requirement sets are locked, where their lock files go, and the lock file
//! format. `gscgen lock` (app) fills a [`LockFile`] from uv's answer; resolve reads the
//! committed files back and checks them against the config; the plan writes them out again
//! (the same bytes) and the Dockerfiles install them. One owner for all three, so the file
//! the builds install is the file `check` verified.
//!
//! Why hashed requirements files, not PEP 751 `pylock.toml`: the images install with the
//! pip that `python:*-slim` already has (`pip install --require-hashes --no-deps`); pip
//! cannot install a `pylock.toml` (uv could, but then every image would carry uv), and
//! uv's `pylock.toml` records no dependency graph, which `gscgen why` follows (the `# via`
//! lines). docs/locking.md has the whole reasoning.

use std::fmt::Write as _;

use camino::Utf8PathBuf;
use miette::SourceSpan;
use sha2::{Digest, Sha256};

use crate::model::{GroupId, ImageId, LockFile, LockedPackage, Model};

/// The folder of the lock files, inside the requirements target's folder.
pub const LOCK_DIR: &str = "lock";

/// What a lock is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// The shared base image's groups.
    BaseImage,
    /// An image that installs groups of its own: the base image's closure and its own.
    Image(ImageId),
    /// A group's closure, for installs outside the images (`pip install -r`, CI, laptops).
    Group(GroupId),
}

/// One requirement that went into a lock: the group that declares it and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInput {
    pub group: String,
    /// The normalised requirement line (`redis[hiredis]>=5.0.0`).
    pub line: String,
    /// Its normalised project name.
    pub name: String,
    /// Where project.kdl declares it (for drift diagnostics).
    pub span: SourceSpan,
    /// `index=`: the index's name and URL, the only place the package comes from.
    pub index: Option<(String, String)>,
}

impl LockInput {
    /// What the lock records of it: the line, and the index it is bound to, so a lock made
    /// before the package moved to another index (or the index to another URL) is stale.
    pub fn recorded(&self) -> String {
        match &self.index {
            Some((name, url)) => format!("{} index={name} url={url}", self.line),
            None => self.line.clone(),
        }
    }
}

/// One requirement set gscgen locks.
#[derive(Debug, Clone)]
pub struct LockSet {
    pub kind: LockKind,
    /// `base-image`, `image celery`, `group dev`: how messages name it.
    pub title: String,
    /// The file, relative to the project root.
    pub path: Utf8PathBuf,
    /// The groups, in resolution order.
    pub groups: Vec<String>,
    /// Every requirement of the closure, in resolution order.
    pub inputs: Vec<LockInput>,
    /// An image's lock is resolved with the base image's lock as constraints, so the two
    /// agree on every package they share and the image's install changes nothing the base
    /// installed: the index of that set in [`lock_sets`].
    pub constrained_by: Option<usize>,
}

/// Every set to lock when the requirements target locks (`lock=#true`): the base image (when
/// it installs groups), each image that installs groups of its own, then every group. In
/// config order; the base image first, because the images are constrained by it.
pub fn lock_sets(model: &Model) -> Vec<LockSet> {
    let Some(requirements) = &model.targets.requirements else { return Vec::new() };
    if requirements.lock.is_none() {
        return Vec::new();
    }
    let dir = model.layout.requirements.join(LOCK_DIR);
    let inputs_of = |closure: &[GroupId]| -> Vec<LockInput> {
        let mut inputs: Vec<LockInput> = Vec::new();
        for &group in closure {
            for requirement in &model.groups[group].requires {
                if !inputs.iter().any(|i| i.line == requirement.line) {
                    inputs.push(LockInput {
                        group: model.groups[group].name.value.clone(),
                        line: requirement.line.clone(),
                        name: requirement.name.clone(),
                        span: requirement.span,
                        index: requirement
                            .index
                            .map(|id| (model.indexes[id].name.value.clone(), model.indexes[id].url.clone())),
                    });
                }
            }
        }
        inputs
    };
    // One set: what it is for, its title and file, its closure, its constraint.
    let set = |kind, title: String, path: Utf8PathBuf, closure: &[GroupId], constrained_by| LockSet {
        kind,
        title,
        path,
        groups: closure.iter().map(|g| model.groups[*g].name.value.clone()).collect(),
        inputs: inputs_of(closure),
        constrained_by,
    };
    let mut sets = Vec::new();
    let base_closure = &model.base.closure;
    let base = (!base_closure.is_empty()).then(|| {
        sets.push(set(
            LockKind::BaseImage,
            "base-image".to_owned(),
            dir.join("base-image.txt"),
            base_closure,
            None,
        ));
        0
    });
    for (id, image) in model.images.iter().enumerate() {
        if !image_installs(model, id) {
            continue;
        }
        let mut closure: Vec<GroupId> = base_closure.clone();
        closure.extend(image.closure.iter().filter(|g| !base_closure.contains(g)));
        closure.sort_by_key(|g| model.group_rank[*g]);
        let name = &image.name.value;
        let path = dir.join("images").join(format!("{name}.txt"));
        sets.push(set(LockKind::Image(id), format!("image {name}"), path, &closure, base));
    }
    for (id, group) in model.groups.iter().enumerate() {
        let name = &group.name.value;
        let path = dir.join("groups").join(format!("{name}.txt"));
        sets.push(set(LockKind::Group(id), format!("group {name}"), path, &model.closure(&[id]), None));
    }
    sets
}

/// The lock an image's build installs: its own when it installs groups of its own, else the
/// base image's; none for a plain image (`from=`), which installs no group.
pub fn image_lock_kind(model: &Model, image: ImageId) -> Option<LockKind> {
    if !model.images[image].on_base() {
        None
    } else if image_installs(model, image) {
        Some(LockKind::Image(image))
    } else {
        Some(LockKind::BaseImage)
    }
}

/// The set and the attached lock of `kind`, once resolve has put the locks in the model.
pub fn attached(model: &Model, kind: LockKind) -> Option<(LockSet, &LockFile)> {
    lock_sets(model).into_iter().zip(&model.locks).find(|(set, _)| set.kind == kind)
}

/// Does the image install groups beyond the base image's? (Only then does its Dockerfile
/// have a `pip install` of its own, and a lock of its own.)
pub fn image_installs(model: &Model, image: ImageId) -> bool {
    model.images[image].groups.iter().any(|g| !model.base.closure.contains(&g.value))
}

/// Why a lock file could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockError {
    /// The checksum line is missing or does not match: the file was edited by hand.
    Edited,
    /// A line is not what `gscgen lock` writes (1-based line number, what was expected).
    Malformed { line: usize, expected: &'static str },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Edited => f.write_str("its checksum does not match its contents"),
            LockError::Malformed { line, expected } => write!(f, "line {line}: expected {expected}"),
        }
    }
}

const CHECKSUM: &str = "# checksum: sha256:";

impl LockFile {
    /// The checksum of everything the file says but its comments: what `constraint` of a
    /// dependent lock records.
    pub fn checksum(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.body());
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The checked lines: settings, inputs, packages.
    fn body(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# python: {}", self.python);
        let _ = writeln!(out, "# resolver: {}", self.resolver);
        if let Some(constraint) = &self.constraint {
            let _ = writeln!(out, "# constraint: sha256:{constraint}");
        }
        for (group, line) in &self.inputs {
            let _ = writeln!(out, "# input: {group} {line}");
        }
        for url in &self.indexes {
            let _ = writeln!(out, "--extra-index-url {url}");
        }
        for package in &self.packages {
            out.push_str(&package.name);
            out.push_str("==");
            out.push_str(&package.version);
            if let Some(marker) = &package.marker {
                out.push_str(" ; ");
                out.push_str(marker);
            }
            for hash in &package.hashes {
                out.push_str(" \\\n    --hash=");
                out.push_str(hash);
            }
            out.push('\n');
            if !package.via.is_empty() {
                let _ = writeln!(out, "    # via {}", package.via.join(", "));
            }
        }
        out
    }

    /// The file's bytes: a header that says what the file is for `set`, the checksum, and
    /// the body. `parse` of these bytes gives `self` back.
    pub fn render(&self, set: &LockSet, config_name: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Generated by `gscgen lock` from {config_name}: do not edit (change {config_name}, then run `gscgen lock`)."
        );
        let _ =
            writeln!(out, "# The locked requirements of {} (groups {}).", set.title, set.groups.join(", "));
        out.push_str(
            "# Installed with `pip install --require-hashes --no-deps`: exactly these versions and files,\n\
             # nothing resolved at build time. uv's universal resolution: valid on every platform.\n",
        );
        let _ = writeln!(out, "{CHECKSUM}{}", self.checksum());
        out.push_str(&self.body());
        out
    }

    /// Reads a lock file back, checking its checksum.
    pub fn parse(text: &str) -> Result<LockFile, LockError> {
        let mut file = LockFile {
            python: String::new(),
            resolver: String::new(),
            constraint: None,
            inputs: Vec::new(),
            indexes: Vec::new(),
            packages: Vec::new(),
        };
        let mut checksum = None;
        let mut lines = text.lines().enumerate().peekable();
        while let Some((number, line)) = lines.next() {
            let malformed = |expected| LockError::Malformed { line: number + 1, expected };
            if let Some(rest) = line.strip_prefix(CHECKSUM) {
                checksum = Some(rest.to_owned());
            } else if let Some(rest) = line.strip_prefix("# python: ") {
                file.python = rest.to_owned();
            } else if let Some(rest) = line.strip_prefix("# resolver: ") {
                file.resolver = rest.to_owned();
            } else if let Some(rest) = line.strip_prefix("# constraint: sha256:") {
                file.constraint = Some(rest.to_owned());
            } else if let Some(rest) = line.strip_prefix("# input: ") {
                let (group, requirement) =
                    rest.split_once(' ').ok_or(malformed("`# input: <group> <line>`"))?;
                file.inputs.push((group.to_owned(), requirement.to_owned()));
            } else if let Some(url) = line.strip_prefix("--extra-index-url ") {
                file.indexes.push(url.to_owned());
            } else if line.starts_with('#') || line.is_empty() {
                // The description: rendered from the set, not read.
            } else {
                let (pin, continued) = match line.strip_suffix(" \\") {
                    Some(pin) => (pin, true),
                    None => (line, false),
                };
                let (pin, marker) = match pin.split_once(" ; ") {
                    Some((pin, marker)) => (pin, Some(marker.to_owned())),
                    None => (pin, None),
                };
                let (name, version) = pin.split_once("==").ok_or(malformed("`<name>==<version>`"))?;
                let mut package = LockedPackage {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    marker,
                    hashes: Vec::new(),
                    via: Vec::new(),
                };
                let mut more = continued;
                while more {
                    let Some((number, line)) = lines.next() else {
                        return Err(LockError::Malformed { line: number + 2, expected: "a `--hash=` line" });
                    };
                    let hash_line = line.trim_start().strip_prefix("--hash=");
                    let Some(hash) = hash_line else {
                        return Err(LockError::Malformed { line: number + 1, expected: "a `--hash=` line" });
                    };
                    let (hash, continued) = match hash.strip_suffix(" \\") {
                        Some(hash) => (hash, true),
                        None => (hash, false),
                    };
                    package.hashes.push(hash.to_owned());
                    more = continued;
                }
                if let Some((_, via)) = lines.peek()
                    && let Some(via) = via.strip_prefix("    # via ")
                {
                    package.via = via.split(", ").map(str::to_owned).collect();
                    lines.next();
                }
                file.packages.push(package);
            }
        }
        match checksum {
            Some(sum) if sum == file.checksum() => Ok(file),
            _ => Err(LockError::Edited),
        }
    }

    /// The packages of uv's answer (`uv pip compile --generate-hashes`, annotated): each pin
    /// with its marker and hashes, and `# via` turned into package names, with `group <g>`
    /// for what `inputs` require directly (uv names the input file there instead).
    pub fn packages_from_uv(text: &str, inputs: &[LockInput]) -> Result<Vec<LockedPackage>, LockError> {
        let mut packages: Vec<LockedPackage> = Vec::new();
        let mut in_via = false;
        for (number, line) in text.lines().enumerate() {
            let malformed = |expected| LockError::Malformed { line: number + 1, expected };
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if !line.starts_with(' ') && !line.starts_with('#') {
                in_via = false;
                let pin = trimmed.trim_end_matches('\\').trim_end();
                let (pin, marker) = match pin.split_once(" ; ") {
                    Some((pin, marker)) => (pin.trim(), Some(marker.trim().to_owned())),
                    None => (pin, None),
                };
                let (name, version) = pin.split_once("==").ok_or(malformed("`<name>==<version>`"))?;
                packages.push(LockedPackage {
                    name: normalise(name),
                    version: version.to_owned(),
                    marker,
                    hashes: Vec::new(),
                    via: Vec::new(),
                });
                continue;
            }
            let Some(package) = packages.last_mut() else {
                if trimmed.starts_with('#') {
                    continue; // uv's own header
                }
                return Err(malformed("a pin before its hashes"));
            };
            if let Some(hash) = trimmed.strip_prefix("--hash=") {
                package.hashes.push(hash.trim_end_matches('\\').trim_end().to_owned());
            } else if let Some(rest) = trimmed.strip_prefix("# via") {
                in_via = true;
                let rest = rest.trim();
                if !rest.is_empty() {
                    push_via(package, rest);
                }
            } else if in_via && let Some(rest) = trimmed.strip_prefix('#') {
                push_via(package, rest.trim());
            }
        }
        for package in &mut packages {
            package.via.retain(|v| !v.starts_with("-r ") && !v.starts_with("-c "));
            package.via.sort();
            package.via.dedup();
            let mut groups: Vec<String> = Vec::new();
            for input in inputs.iter().filter(|i| i.name == package.name) {
                let group = format!("group {}", input.group);
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
            package.via.extend(groups);
            package.hashes.sort();
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.marker.cmp(&b.marker)));
        Ok(packages)
    }
}

fn push_via(package: &mut LockedPackage, source: &str) {
    // `-r file`, `-c file`, or `gscgen-lock (…/pyproject.toml)`: the input, not a package
    // (a package name has no space).
    if source.contains(' ') {
        return;
    }
    package.via.push(normalise(source));
}

/// PEP 503 name normalisation (`Foo_Bar.baz` → `foo-bar-baz`), by the PEP 508 parser the
/// requirements are read with; a name it refuses (never one uv writes) is only lowercased.
pub fn normalise(name: &str) -> String {
    pep508_rs::PackageName::new(name.trim().to_owned())
        .map_or_else(|_| name.trim().to_lowercase(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UV: &str = "\
# This file was autogenerated by uv via the following command:
#    uv pip compile - --universal --generate-hashes
certifi==2026.10.19.post1 \\
    --hash=sha256:bbbb \\
    --hash=sha256:aaaa
    # via requests
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash=sha256:cccc
    # via
    #   click
    #   tqdm
requests==2.32.5 \\
    --hash=sha256:dddd
    # via -r -
";

    fn inputs() -> Vec<LockInput> {
        vec![LockInput {
            group: "base".into(),
            line: "requests>=2.31.0".into(),
            name: "requests".into(),
            span: SourceSpan::from(0..0),
            index: None,
        }]
    }

    #[test]
    fn reads_uv_output_with_markers_hashes_and_via() {
        let packages = LockFile::packages_from_uv(UV, &inputs()).unwrap();
        assert_eq!(packages.len(), 3);
        assert_eq!(packages[0].hashes, ["sha256:aaaa", "sha256:bbbb"]);
        assert_eq!(packages[0].via, ["requests"]);
        assert_eq!(packages[1].marker.as_deref(), Some("sys_platform == 'win32'"));
        assert_eq!(packages[1].via, ["click", "tqdm"]);
        assert_eq!(packages[2].via, ["group base"]);
    }

    fn file() -> LockFile {
        LockFile {
            python: "3.11".into(),
            resolver: "uv 0.13.9".into(),
            constraint: Some("00ff".into()),
            inputs: vec![("base".into(), "requests>=2.31.0".into())],
            indexes: vec!["https://download.pytorch.org/whl/cpu".into()],
            packages: LockFile::packages_from_uv(UV, &inputs()).unwrap(),
        }
    }

    fn set() -> LockSet {
        LockSet {
            kind: LockKind::BaseImage,
            title: "base-image".into(),
            path: "generated/requirements/lock/base-image.txt".into(),
            groups: vec!["base".into()],
            inputs: inputs(),
            constrained_by: None,
        }
    }

    #[test]
    fn render_then_parse_round_trips() {
        let file = file();
        let text = file.render(&set(), "project.kdl");
        assert_eq!(LockFile::parse(&text).unwrap(), file);
        assert!(text.contains(
            "colorama==0.4.6 ; sys_platform == 'win32' \\\n    --hash=sha256:cccc\n    # via click, tqdm\n"
        ));
    }

    #[test]
    fn a_hand_edit_breaks_the_checksum() {
        let text = file().render(&set(), "project.kdl");
        let edited = text.replace("requests==2.32.5", "requests==2.32.4");
        assert_eq!(LockFile::parse(&edited), Err(LockError::Edited));
        let input_edited = text.replace("# input: base requests>=2.31.0", "# input: base requests>=2.0");
        assert_eq!(LockFile::parse(&input_edited), Err(LockError::Edited));
        // The description is not checked: it is rendered from the set again.
        assert!(LockFile::parse(&text.replace("The locked", "Locked")).is_ok());
    }

    #[test]
    fn malformed_lines_are_named() {
        let text = file().render(&set(), "project.kdl").replace("requests==2.32.5", "requests 2.32.5");
        assert!(matches!(LockFile::parse(&text), Err(LockError::Malformed { .. })));
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(normalise("GitPython"), "gitpython");
    }
}
