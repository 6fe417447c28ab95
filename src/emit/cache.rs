//! The freshness cache that lets `check` (and an unchanged `render`) skip parsing: when the
//! configuration's bytes and gscgen's own build are the ones that produced the manifest on
//! disk, the plan *is* that manifest, so checking every file's hash against it is the whole
//! check. Any mismatch falls back to the full pipeline, which also produces the diffs.
//!
//! The cache lives in `.gscgen/` next to the configuration, a folder that ignores itself in
//! git (it holds a `.gitignore` of `*`). A stale or corrupt cache can only cost time: it is
//! never trusted without verifying every file against the manifest it names.

use std::fs;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::manifest::{MANIFEST_NAME, Manifest, sha256_hex};
use super::{Found, read_inside, same_mode};
use crate::plan::FileMode;

include!(concat!(env!("OUT_DIR"), "/fingerprint.rs"));

/// Folder, next to the configuration, holding gscgen's local state.
pub const STATE_DIR: &str = ".gscgen";

/// What a cached verdict depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// gscgen's build (sources and templates).
    pub build: String,
    /// The configuration's file name (it is named in every header).
    pub config: String,
    pub config_sha256: String,
    /// `--out`, when given; otherwise the output folder follows from the configuration.
    pub out: Option<Utf8PathBuf>,
}

impl CacheKey {
    pub fn new(config_name: &str, config_text: &str, out: Option<&Utf8Path>) -> Self {
        Self {
            build: BUILD_FINGERPRINT.to_owned(),
            config: config_name.to_owned(),
            config_sha256: sha256_hex(config_text.as_bytes()),
            out: out.map(Utf8Path::to_owned),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    key: CacheKey,
    /// The folder the configuration renders into (the project root, or `--out`).
    root: Utf8PathBuf,
    /// The output folder inside it, which holds the manifest.
    output: Utf8PathBuf,
    manifest_sha256: String,
}

/// gscgen's local state folder next to the config (`.gscgen/`), created on first use with a
/// `.gitignore` that ignores everything in it; `None` when it cannot be made.
pub fn state_dir(config_dir: &Utf8Path) -> Option<Utf8PathBuf> {
    let state = config_dir.join(STATE_DIR);
    if fs::symlink_metadata(&state).is_ok_and(|m| !m.is_dir()) || fs::create_dir_all(&state).is_err() {
        return None;
    }
    // Created only if nothing is there, never through a symlink: `O_EXCL` fails on any
    // existing name, a dangling link included, so a committed `.gitignore` link cannot make
    // gscgen create its target.
    if let Ok(mut file) = super::create_new_nofollow(&state.join(".gitignore")) {
        use std::io::Write as _;
        let _ = file.write_all(b"# gscgen's local cache: never committed.\n*\n");
    }
    Some(state)
}

fn cache_path(config_dir: &Utf8Path, config_name: &str) -> Utf8PathBuf {
    config_dir.join(STATE_DIR).join(format!("{config_name}.cache.json"))
}

/// What a fresh cache proves: the root, the output folder in it, and every generated file.
#[derive(Debug)]
pub struct Fresh {
    pub root: Utf8PathBuf,
    pub output: Utf8PathBuf,
    pub files: Vec<Utf8PathBuf>,
}

/// The generated files when the cache proves them fresh for `key`; `None` whenever anything
/// does not match (then run the full pipeline).
pub fn fresh_files(config_dir: &Utf8Path, key: &CacheKey) -> Option<Fresh> {
    let bytes = fs::read(cache_path(config_dir, &key.config)).ok()?;
    let cache: CacheFile = serde_json::from_slice(&bytes).ok()?;
    if cache.key != *key {
        return None;
    }
    let root = &cache.root;
    let Ok(Found::File { bytes: manifest_bytes, .. }) = read_inside(root, &cache.output.join(MANIFEST_NAME))
    else {
        return None;
    };
    if sha256_hex(&manifest_bytes) != cache.manifest_sha256 {
        return None;
    }
    let manifest = Manifest::parse(&manifest_bytes)?.rooted(&cache.output);
    for (path, entry) in &manifest.files {
        let Ok(Found::File { bytes, mode }) = read_inside(root, path) else { return None };
        let wanted = if entry.mode == "0755" { FileMode::Executable } else { FileMode::Regular };
        if sha256_hex(&bytes) != entry.sha256 || !same_mode(mode, wanted) {
            return None;
        }
    }
    // Temporary files left by an interrupted render are drift too: the full check reports them.
    if !super::leftover_temporaries_among(
        root,
        &cache.output,
        manifest.files.keys().map(Utf8PathBuf::as_path),
    )
    .is_empty()
    {
        return None;
    }
    Some(Fresh { root: cache.root, output: cache.output, files: manifest.files.into_keys().collect() })
}

/// Records that `key` produces the manifest now on disk. Best effort: a failure to write
/// the cache never fails the command.
pub fn store(config_dir: &Utf8Path, key: &CacheKey, root: &Utf8Path, output: &Utf8Path, manifest: &Manifest) {
    if state_dir(config_dir).is_none() {
        return;
    }
    let cache = CacheFile {
        key: key.clone(),
        root: root.to_owned(),
        output: output.to_owned(),
        manifest_sha256: sha256_hex(&manifest.to_bytes()),
    };
    if let Ok(text) = serde_json::to_vec_pretty(&cache) {
        let _ = super::replace_or_create(&cache_path(config_dir, &key.config), &text);
    }
}
