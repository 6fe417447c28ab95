//! Locked requirement sets, as read back from the committed lock files (their format and
//! which sets exist are rules: `rules::lock`).

/// A lock file's contents: what it was made from, and what it pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockFile {
    /// The project's Python (`3.11`).
    pub python: String,
    /// The resolver that made it (`uv 0.13.9`).
    pub resolver: String,
    /// The checksum of the lock this one was constrained by (an image's base-image lock).
    pub constraint: Option<String>,
    /// `(group, requirement line)`, in resolution order (with ` index=… url=…` when the
    /// requirement is bound to an index).
    pub inputs: Vec<(String, String)>,
    /// The URLs of the indexes its bound packages come from: `--extra-index-url` lines, so
    /// pip finds their files (it accepts only the files whose hashes the lock names).
    pub indexes: Vec<String>,
    /// By name.
    pub packages: Vec<LockedPackage>,
}

/// One pinned distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// Normalised name.
    pub name: String,
    pub version: String,
    /// The environment marker uv's universal resolution attached (`sys_platform == 'linux'`).
    pub marker: Option<String>,
    /// `sha256:<hex>` of every file of that version (wheels and sdist).
    pub hashes: Vec<String>,
    /// Who requires it: package names, and `group <name>` for a direct requirement.
    pub via: Vec<String>,
}
