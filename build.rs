//! Computes a fingerprint of everything that decides gscgen's output (sources, templates,
//! dependency versions), so `check` can trust its cache only for the very same build.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let mut files = Vec::new();
    for root in ["src", "templates"] {
        collect(Path::new(root), &mut files);
        println!("cargo:rerun-if-changed={root}");
    }
    for file in ["askama.toml", "Cargo.toml", "Cargo.lock", "build.rs"] {
        files.push(PathBuf::from(file));
        println!("cargo:rerun-if-changed={file}");
    }
    files.sort();
    // FNV-1a, 64 bits: a change detector, not a security boundary.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let Ok(bytes) = fs::read(&file) else { continue };
        for byte in file.to_string_lossy().bytes().chain([0]).chain(bytes) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("fingerprint.rs");
    fs::write(out, format!("/// Fingerprint of the sources this binary was built from.\npub const BUILD_FINGERPRINT: &str = \"{hash:016x}\";\n"))
        .expect("write fingerprint");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
