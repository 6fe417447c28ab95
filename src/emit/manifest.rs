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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    pub sha256: String,
    pub mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Manifest {
    /// Marks the file as gscgen's, for a person who finds it.
    pub generator: String,
    /// Generated files, keyed by path relative to the output folder (sorted).
    pub files: BTreeMap<Utf8PathBuf, ManifestEntry>,
}

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

    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}
