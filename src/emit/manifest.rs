//! The manifest: which files gscgen generated, with their hashes and modes. Kept in the
//! output folder so that `render` can remove files it no longer generates, and can tell a
//! file edited by hand (hash differs from the manifest) from one it never wrote.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::{FileMode, Plan};

/// The manifest's file name inside the output folder.
pub const MANIFEST_NAME: &str = ".gscgen-manifest.json";

/// The journal's file name inside the output folder: the manifest of a render whose files
/// are being renamed into place, removed once the manifest itself is replaced. After a
/// crash it tells gscgen's own half-finished work from a hand edit (`emit::write`).
pub const JOURNAL_NAME: &str = ".gscgen-journal.json";

/// Largest manifest (or journal) gscgen reads: the one of a 10,000-service project is
/// about 4 MB.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    pub sha256: String,
    pub mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Manifest {
    /// Marks the file as gscgen's, for a person who finds it.
    pub generator: String,
    /// What the paths are relative to: [`PROJECT_ROOT`] since targets can be placed outside
    /// the output folder. Absent in the manifests of older gscgens, whose paths are relative
    /// to the output folder (the folder holding the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<String>,
    /// Generated files, keyed by path relative to the project root (sorted).
    pub files: BTreeMap<Utf8PathBuf, ManifestEntry>,
}

/// The value of [`Manifest::paths`]: the keys are relative to the project root.
pub const PROJECT_ROOT: &str = "relative to the project root";

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        use std::fmt::Write as _;
        let _ = write!(out, "{byte:02x}");
    }
    out
}

pub fn mode_text(mode: FileMode) -> String {
    format!("{:04o}", mode.bits())
}

impl Manifest {
    /// The manifest that describes a plan.
    pub fn of(plan: &Plan) -> Self {
        Self {
            generator: "gscgen: do not edit, this lists the files gscgen generated".to_owned(),
            paths: Some(PROJECT_ROOT.to_owned()),
            files: plan
                .files
                .iter()
                .map(|f| {
                    (f.path.clone(), ManifestEntry { sha256: sha256_hex(&f.bytes), mode: mode_text(f.mode) })
                })
                .collect(),
        }
    }

    /// Deterministic JSON, with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        text.push('\n');
        text.into_bytes()
    }

    /// The manifest with project-root paths: an older manifest's keys (relative to the
    /// output folder `output`) get that folder in front.
    pub fn rooted(self, output: &camino::Utf8Path) -> Self {
        if self.paths.is_some() {
            return self;
        }
        Self {
            generator: self.generator,
            paths: Some(PROJECT_ROOT.to_owned()),
            files: self.files.into_iter().map(|(path, entry)| (output.join(path), entry)).collect(),
        }
    }

    pub fn parse(bytes: &[u8]) -> Option<Self> {
        Self::parse_checked(bytes).ok()
    }

    /// Parses and validates a manifest read from disk: every path relative and inside the
    /// output folder, every hash 64 hex digits, every mode `0644` or `0755`. The error says
    /// what is wrong, for a diagnostic that names the manifest.
    pub fn parse_checked(bytes: &[u8]) -> Result<Self, String> {
        let manifest: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("not a gscgen manifest: {e}"))?;
        if let Some(paths) = &manifest.paths
            && paths != PROJECT_ROOT
        {
            return Err(format!("its paths are {paths:?}, not {PROJECT_ROOT:?}"));
        }
        for (path, entry) in &manifest.files {
            if !crate::plan::is_safe_relative(path) {
                return Err(format!(
                    "it lists the path {:?}, which is not inside the output folder",
                    path.as_str()
                ));
            }
            if entry.sha256.len() != 64 || !entry.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("the hash of {path} is not a SHA-256"));
            }
            if entry.mode != "0644" && entry.mode != "0755" {
                return Err(format!("the mode of {path} is {:?}, not \"0644\" or \"0755\"", entry.mode));
            }
        }
        Ok(manifest)
    }
}
