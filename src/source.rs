//! The configuration text and its display name, shared by every diagnostic.

use std::sync::Arc;

use camino::Utf8PathBuf;
use miette::NamedSource;

/// One configuration file as read from disk (or built in memory by tests).
#[derive(Debug, Clone)]
pub struct Source {
    /// The name diagnostics show (the path as the user gave it).
    pub name: String,
    /// The path it was read from, when it came from disk.
    pub path: Option<Utf8PathBuf>,
    /// The text, without a leading UTF-8 byte order mark.
    pub text: Arc<String>,
}

impl Source {
    /// A source held in memory.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text: String = text.into();
        // A byte order mark is invisible in editors but is not KDL: drop it here so spans
        // still line up with what the user sees.
        let text = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
        Self { name: name.into(), path: None, text: Arc::new(text) }
    }

    /// The miette view of this source, for rendering labels.
    pub fn named(&self) -> NamedSource<Arc<String>> {
        NamedSource::new(&self.name, Arc::clone(&self.text)).with_language("kdl")
    }

    /// 1-based line and column of a byte offset (column counted in characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}
