//! `.dockerignore` semantics, reproduced from Docker's own implementation so the
//! compiler can tell at compile time that a Dockerfile `COPY` source would be
//! missing from the build context.
//!
//! # Sources of truth
//!
//! * Docker's documentation, "Build context → .dockerignore files"
//!   (docs.docker.com/build/concepts/context/#dockerignore-files).
//! * `moby/buildkit` `frontend/dockerfile/dockerignore.ReadAll` (now
//!   `moby/patternmatcher/ignorefile.ReadAll`): how the file's lines become patterns.
//! * `moby/patternmatcher` `patternmatcher.go`: `New`/`NewPatternMatcher`,
//!   `Pattern.compile`, `Pattern.match`, `MatchesOrParentMatches`,
//!   `MatchesUsingParentResults`.
//! * `tonistiigi/fsutil` `filter.go` (`filterFS.Walk`): how BuildKit walks the
//!   context with those patterns and decides what it sends.
//!
//! # What is reproduced
//!
//! **Reading the file** (`ReadAll`, then `New`): a UTF-8 BOM on the first line is
//! dropped. A line whose *first column* is `#` is a comment. `" #x"` is not a
//! comment: the check runs before trimming. Lines are trimmed of Unicode white
//! space, and blank lines are skipped. A leading `!` marks an exception, and the
//! rest is trimmed again. The pattern is cleaned with Go's `filepath.Clean`
//! (`./x` → `x`, `a//b/../c` → `a/c`, `docs/` → `docs`). One leading `/` is then
//! dropped, so `/foo/bar`, `foo/bar/` and `foo/bar` are the same pattern. `New`
//! trims and cleans once more, so `a /` ends up as `a`. A lone `!` is an error.
//! Every pattern must be valid for Go's `filepath.Match` (a well-formed
//! `[...]`, no trailing `\`). The whole pattern is checked, as current Go does.
//! Go 1.19 stopped checking at the first chunk that failed to match `.`. `.` survives cleaning but matches nothing, which
//! is the "pattern `.` is ignored" in Docker's docs.
//!
//! **Matching one pattern** (`Pattern.compile` / `Pattern.match`). Docker
//! compiles each pattern to one of four shapes, and this module keeps all four:
//!
//! * *exact*: no wildcard, so the path must equal the pattern text;
//! * *prefix*: the pattern ends in `**` and has no other wildcard, so the path
//!   must start with the text before `**` (`dir/**` covers `dir/x` but not `dir`);
//! * *suffix*: the pattern starts with `**` and has no other wildcard, so the
//!   path must end with the text after `**`, or equal it minus its leading `/`.
//!   This is not bounded by `/`: `**file` covers `dir/myfile`, as in Docker;
//! * *regex*: everything else. `*` is `[^/]*`, `?` is `[^/]`, and `**` (an
//!   optional following `/` is eaten) is `(.*/)?`, so it spans any number of
//!   directories, including none. A trailing `**` is `.*`. `[...]` is a class
//!   (`^` negates), and `\x` escapes. The regex is anchored at both ends.
//!
//! The regex shape is carried out with `globset`, compiled once into one
//! `GlobSet` with `literal_separator(true)` and `backslash_escape(true)`. Docker's
//! regex is rewritten into an equivalent glob. Docker's `(.*/)?` is written
//! `{**/}`, which globset compiles to `(?:/?|.*/)`; that is the same language
//! for context-relative paths. Docker's trailing `.*` is written `{**/}*`.
//! Docker's classes are Go regex classes, so unlike `filepath.Match` they can
//! match `/`, and `[!a]` means "`!` or `a`". They are rewritten to globset
//! syntax that keeps both properties.
//!
//! **Anchoring.** All patterns are anchored at the context root: `*` never
//! crosses a `/`, and nothing adds an implicit `**/` the way `.gitignore` does.
//! `__pycache__` excludes only `./__pycache__` (and everything under it), and
//! `*.pyc` only `.pyc` files directly in the root. To exclude them at any depth,
//! write `**/__pycache__` and `**/*.pyc`. Docker's docs say the same for `*.md`:
//! "markdown files under subdirectories are still included".
//!
//! **Evaluating all patterns**: `is_excluded` gives the verdict BuildKit's
//! context walker computes. That is `MatchesUsingParentResults`, applied from
//! the top directory down to the path itself. At each level, patterns are
//! visited in file order:
//!
//! * a pattern that matched the parent directory also counts as matching the
//!   child. This is how `docs` excludes `docs/a/b.md`, and how `!keep` re-includes
//!   `keep/x`;
//! * otherwise a pattern is only tried when it could change the outcome: an
//!   exclusion while the path is still included, an exception (`!`) while it is
//!   excluded;
//! * every pattern that matches sets the outcome, so the last one tried wins.
//!
//! For a top-level path this is exactly `MatchesOrParentMatches`. For deeper
//! paths the two differ only in one corner case. Take `["a/b", "!a"]`: at the
//! level of `a` the exception is skipped because nothing was excluded yet, so
//! the walker excludes `a/b`. `MatchesOrParentMatches` would re-include it. The
//! walker's answer is what decides what BuildKit sends, so that is what this
//! module gives.
//!
//! The context root (`""`, `.`, `/`) is never excluded. Docker special-cases it
//! ("don't let them exclude everything") and never matches the root itself.
//!
//! # Directories, exceptions and `COPY`
//!
//! `is_excluded(dir)` is the directory's own verdict. When it is `true`, a `COPY`
//! of that directory does not get the directory as it is on disk. BuildKit skips
//! an excluded directory entirely unless a `!` exception could re-include
//! something beneath it. In that case it walks in, sends only the re-included
//! entries, and adds the directory entry back because of them. So for
//! `docs` + `!docs/README.md`, `is_excluded("docs")` is `true` and
//! `is_excluded("docs/README.md")` is `false`. `COPY docs …` copies only the
//! README. [`IgnoreRules::may_reinclude_under`] answers "does BuildKit walk into
//! this excluded directory?" using fsutil's own test. The compiler can use it to
//! tell "missing entirely" (an error) from "only partly present" (a warning).
//!
//! # Deliberate differences
//!
//! * All invalid patterns are reported, each with the index of its line. Docker
//!   stops at the first one.
//! * Some patterns have no sane meaning in Docker, and Docker would either fail
//!   the build at match time or silently mistranslate them. These are rejected
//!   with a [`PatternError`] instead:
//!   - `\` followed by a letter, a digit or a non-ASCII character (Docker passes
//!     it on as a regex escape such as `\d`, `\w` or `\b`, or fails);
//!   - `*` or `?` inside `[...]` (Docker rewrites them inside the class and
//!     produces a broken regex);
//!   - `[:` inside `[...]` (a POSIX class in Docker's regex);
//!   - a descending range such as `[z-a]` (Docker's regex fails to compile);
//!   - a non-ASCII character inside `[...]`;
//!   - an unescaped `^` outside `[...]` in a pattern of the regex shape (Docker
//!     does not escape it, so it becomes a start-of-text anchor). In the other
//!     shapes `^` is literal, as in Docker.
//! * globset matches bytes, while Go's regexp matches characters. For a
//!   *non-ASCII* character in the path, `?` and `[...]` therefore see one byte
//!   instead of one character. Results are identical for ASCII paths. Literal
//!   non-ASCII text, `*` and `**` are exact in every case.
//! * Paths given to the queries are cleaned like BuildKit cleans `COPY` sources
//!   (rooted at the context, so `./x`, `/x` and `x/` are `x`, and `..` cannot climb
//!   above the root). The rows of moby's test table for the path `/` do not
//!   apply: that path is the root, which is never excluded.

use std::borrow::Cow;
use std::fmt;
use std::iter::Peekable;
use std::str::Chars;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A `.dockerignore` line that Docker would reject, or that this module does not
/// model (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternError {
    /// Index of the offending line in the slice given to [`IgnoreRules::new`].
    pub(crate) index: usize,
    pub(crate) message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.index + 1, self.message)
    }
}

/// The outcome for one path: whether it is excluded, and which line decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) excluded: bool,
    /// Index (into the slice given to [`IgnoreRules::new`]) of the pattern whose
    /// match set the final outcome. It is an exception (`!`) pattern when
    /// `excluded` is false. `None` when no pattern matched.
    pub(crate) pattern: Option<usize>,
}

/// A compiled `.dockerignore`: patterns in file order.
#[derive(Debug)]
pub(crate) struct IgnoreRules {
    patterns: Vec<Pattern>,
    /// The regex-shaped patterns, compiled once. `Shape::Glob(slot)` indexes it.
    globs: GlobSet,
    /// fsutil's `excludeMatcher.Exclusions()`.
    has_exceptions: bool,
    /// fsutil's `onlyPrefixExcludeExceptions`: every exception is a plain path
    /// (ignoring a trailing `/*` or `/**`), so it only reaches its own prefix.
    only_prefix_exceptions: bool,
}

#[derive(Debug)]
struct Pattern {
    /// Index of the source line.
    index: usize,
    /// A `!` pattern.
    exception: bool,
    /// The cleaned pattern text without the `!` (moby's `cleanedPattern`).
    text: String,
    shape: Shape,
}

/// moby's `matchType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Exact,
    /// Path starts with `text[..len - 2]` (the text minus the trailing `**`).
    Prefix,
    /// Path ends with `text[2..]` (the text minus the leading `**`).
    Suffix,
    /// Regex shape, matched through the `GlobSet` slot.
    Glob(usize),
}

impl IgnoreRules {
    /// Compiles the lines of a `.dockerignore` file, in file order. Comments,
    /// blank lines and a leading BOM are handled here, the way Docker handles
    /// them, so indices in results and errors are line indices (0-based).
    pub(crate) fn new<S: AsRef<str>>(lines: &[S]) -> Result<Self, Vec<PatternError>> {
        let mut patterns = Vec::new();
        let mut globs = GlobSetBuilder::new();
        let mut glob_count = 0;
        let mut errors = Vec::new();

        for (index, line) in lines.iter().enumerate() {
            let Some(raw) = read_line(line.as_ref(), index == 0) else {
                continue;
            };
            match compile_pattern(&raw) {
                Ok(None) => {}
                Ok(Some((exception, text, translated))) => {
                    let shape = match translated {
                        Translated::Exact => Shape::Exact,
                        Translated::Prefix => Shape::Prefix,
                        Translated::Suffix => Shape::Suffix,
                        Translated::Glob(glob) => {
                            let built = GlobBuilder::new(&glob)
                                .literal_separator(true)
                                .backslash_escape(true)
                                .build();
                            match built {
                                Ok(glob) => {
                                    globs.add(glob);
                                    glob_count += 1;
                                    Shape::Glob(glob_count - 1)
                                }
                                Err(err) => {
                                    errors.push(PatternError {
                                        index,
                                        message: format!("pattern `{text}` could not be compiled: {err}"),
                                    });
                                    continue;
                                }
                            }
                        }
                    };
                    patterns.push(Pattern { index, exception, text, shape });
                }
                Err(message) => errors.push(PatternError { index, message }),
            }
        }

        let globs = match globs.build() {
            Ok(set) => set,
            Err(err) => {
                errors.push(PatternError {
                    index: patterns.first().map_or(0, |p| p.index),
                    message: format!("patterns could not be compiled together: {err}"),
                });
                GlobSet::empty()
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }

        let has_exceptions = patterns.iter().any(|p| p.exception);
        let only_prefix_exceptions = patterns
            .iter()
            .filter(|p| p.exception)
            .all(|p| !without_trailing_glob(&p.text).contains(['*', '[', ']', '?', '^', '\\']));
        Ok(Self { patterns, globs, has_exceptions, only_prefix_exceptions })
    }

    // Conveniences over `verdict` for the tests, which read best in these terms.
    #[cfg(test)]
    /// Compiles the full text of a `.dockerignore` file. Indices are 0-based
    /// line numbers.
    pub(crate) fn from_text(text: &str) -> Result<Self, Vec<PatternError>> {
        let lines: Vec<&str> = text.lines().collect();
        Self::new(&lines)
    }

    /// Is this context-relative path excluded from the build context? For a
    /// directory this is the directory's own verdict; see the module docs and
    /// [`Self::may_reinclude_under`].
    pub(crate) fn is_excluded(&self, path: &str) -> bool {
        self.verdict(path).excluded
    }

    #[cfg(test)]
    /// Index of the line whose pattern decided the result, if any pattern matched.
    pub(crate) fn deciding_pattern(&self, path: &str) -> Option<usize> {
        self.verdict(path).pattern
    }

    /// Does BuildKit walk into this directory, even though it is excluded, to
    /// look for `!` exceptions? This is fsutil's test: any exception at all,
    /// and either some exception uses wildcards, or a plain exception lies
    /// beneath `dir`. When `false` and `dir` is excluded, nothing under it
    /// reaches the build. When `true`, some of it may. Only meaningful for an
    /// excluded directory.
    pub(crate) fn may_reinclude_under(&self, dir: &str) -> bool {
        if !self.has_exceptions {
            return false;
        }
        if !self.only_prefix_exceptions {
            return true;
        }
        let dir = clean_context_path(dir);
        if dir.is_empty() {
            return true;
        }
        self.patterns.iter().filter(|p| p.exception).any(|p| {
            // fsutil: `strings.HasPrefix(pattern + "/", dir + "/")`.
            let plain = without_trailing_glob(&p.text);
            plain.starts_with(dir.as_ref())
                && (plain.len() == dir.len() || plain.as_bytes()[dir.len()] == b'/')
        })
    }

    /// Full outcome for one path (see the module docs for the evaluation order).
    pub(crate) fn verdict(&self, path: &str) -> Verdict {
        let mut verdict = Verdict { excluded: false, pattern: None };
        let path = clean_context_path(path);
        if path.is_empty() || self.patterns.is_empty() {
            return verdict;
        }

        let count = self.patterns.len();
        // matched[i] for the parent level and the current level
        // (moby's `MatchInfo.parentMatched`).
        let mut parent = vec![false; count];
        let mut current = vec![false; count];
        let mut glob_hit = vec![false; self.globs.len()];
        let mut glob_hits = Vec::new();

        let ends = path.match_indices('/').map(|(at, _)| at).chain(std::iter::once(path.len()));
        for end in ends {
            let level = &path[..end];
            if !glob_hit.is_empty() {
                glob_hit.fill(false);
                self.globs.matches_into(level, &mut glob_hits);
                for &slot in &glob_hits {
                    glob_hit[slot] = true;
                }
            }

            let mut excluded = false;
            let mut decided_by = None;
            for (i, pattern) in self.patterns.iter().enumerate() {
                let mut hit = parent[i];
                if !hit {
                    // Only try a pattern that could change the outcome.
                    if pattern.exception != excluded {
                        current[i] = false;
                        continue;
                    }
                    hit = pattern.matches(level, &glob_hit);
                }
                current[i] = hit;
                if hit {
                    excluded = !pattern.exception;
                    decided_by = Some(pattern.index);
                }
            }
            std::mem::swap(&mut parent, &mut current);
            verdict = Verdict { excluded, pattern: decided_by };
        }
        verdict
    }
}

impl Pattern {
    /// moby's `Pattern.match` for one already-cleaned path.
    fn matches(&self, path: &str, glob_hit: &[bool]) -> bool {
        match self.shape {
            Shape::Exact => path == self.text,
            Shape::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Shape::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/') == Some(path)
            }
            Shape::Glob(slot) => glob_hit[slot],
        }
    }
}

/// One line, as BuildKit's `ReadAll` turns it into a pattern string. `None`
/// for comments and blank lines.
fn read_line(line: &str, first: bool) -> Option<String> {
    let line = if first { line.strip_prefix('\u{feff}').unwrap_or(line) } else { line };
    if line.starts_with('#') {
        return None;
    }
    let mut pattern = line.trim();
    if pattern.is_empty() {
        return None;
    }
    let exception = pattern.starts_with('!');
    if exception {
        pattern = pattern[1..].trim();
    }
    let mut cleaned = String::new();
    if !pattern.is_empty() {
        cleaned = go_clean(pattern);
        if cleaned.len() > 1 && cleaned.starts_with('/') {
            cleaned.remove(0);
        }
    }
    Some(if exception { format!("!{cleaned}") } else { cleaned })
}

/// What a pattern compiles to.
enum Translated {
    Exact,
    Prefix,
    Suffix,
    /// Regex shape, as an equivalent globset glob.
    Glob(String),
}

/// `NewPatternMatcher` for one pattern string (output of [`read_line`]), then
/// `Pattern.compile`. `Ok(None)` when the pattern is blank after trimming.
fn compile_pattern(raw: &str) -> Result<Option<(bool, String, Translated)>, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let cleaned = go_clean(trimmed);
    let (exception, text) = match cleaned.strip_prefix('!') {
        Some("") => return Err("illegal exclusion pattern: \"!\"".to_owned()),
        Some(rest) => (true, rest.to_owned()),
        None => (false, cleaned),
    };
    let translated = translate(&text).map_err(|why| format!("pattern `{text}`: {why}"))?;
    Ok(Some((exception, text, translated)))
}

/// moby's `Pattern.compile`, with `filepath.Match`'s syntax check, producing
/// the shape and (for the regex shape) an equivalent glob.
fn translate(text: &str) -> Result<Translated, String> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut kind = Kind::Exact;
    let mut glob = String::with_capacity(text.len() + 8);
    let mut caret_outside_class = false;
    let mut chars = text.chars().peekable();
    let mut first = true;

    while let Some(ch) = chars.next() {
        match ch {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` is treated as `**`.
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        // Docker's `.*`.
                        glob.push_str("{**/}*");
                        kind = Kind::Regex;
                    }
                } else {
                    // Docker's `(.*/)?`.
                    glob.push_str("{**/}");
                    kind = Kind::Regex;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                glob.push('*');
                kind = Kind::Regex;
            }
            '?' => {
                glob.push('?');
                kind = Kind::Regex;
            }
            '\\' => {
                let escaped =
                    chars.next().ok_or("a trailing `\\` is not a valid pattern (filepath.Match)")?;
                check_escape(escaped)?;
                push_literal(&mut glob, escaped);
                kind = Kind::Regex;
            }
            '[' => {
                translate_class(&mut chars, &mut glob)?;
                kind = Kind::Regex;
            }
            ']' => {
                push_literal(&mut glob, ']');
                kind = Kind::Regex;
            }
            '^' => {
                caret_outside_class = true;
                push_literal(&mut glob, '^');
            }
            other => push_literal(&mut glob, other),
        }
        first = false;
    }

    Ok(match kind {
        Kind::Exact => Translated::Exact,
        Kind::Prefix => Translated::Prefix,
        Kind::Suffix => Translated::Suffix,
        Kind::Regex if caret_outside_class => {
            return Err("an unescaped `^` outside `[...]` is a regular-expression anchor in \
                 Docker's matcher; escape it as `\\^`"
                .to_owned());
        }
        Kind::Regex => Translated::Glob(glob),
    })
}

/// `\x` is a literal `x` in Docker only for ASCII punctuation and space. For
/// letters and digits Go's regexp gives it a meaning (`\d`, `\b`, …) or fails.
fn check_escape(escaped: char) -> Result<(), String> {
    if escaped.is_ascii() && !escaped.is_ascii_alphanumeric() {
        Ok(())
    } else {
        Err(format!(
            "`\\{escaped}` is a regular-expression escape in Docker's matcher, not a \
             literal `{escaped}`; this is not supported"
        ))
    }
}

/// Appends `c` to a glob as a literal character.
fn push_literal(glob: &mut String, c: char) {
    if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | ',' | '\\') {
        glob.push('\\');
    }
    glob.push(c);
}

/// Characters that need care inside a globset class: `!` and `^` (negation
/// when first), `-` (range), `/` (dropped by `literal_separator`), `[` (`[:`
/// starts a POSIX class) and `]` (closes unless first).
const CLASS_SPECIALS: [char; 6] = ['!', '-', '/', '[', ']', '^'];

/// Parses a bracket expression after its `[` (grammar of Go's
/// `filepath.Match`, meaning of Go's regexp) and appends an equivalent glob.
fn translate_class(chars: &mut Peekable<Chars<'_>>, glob: &mut String) -> Result<(), String> {
    let negated = chars.next_if_eq(&'^').is_some();
    let mut ranges: Vec<(char, char)> = Vec::new();
    loop {
        if !ranges.is_empty() && chars.next_if_eq(&']').is_some() {
            break;
        }
        let lo = class_char(chars)?;
        let hi = if chars.next_if_eq(&'-').is_some() { class_char(chars)? } else { lo };
        if lo > hi {
            return Err(format!("`[{lo}-{hi}]` is a descending range; Docker's matcher fails on it"));
        }
        ranges.push((lo, hi));
    }

    // Split the set into plain ranges and the special characters it contains.
    let mut plain: Vec<(char, char)> = Vec::new();
    let mut special = [false; CLASS_SPECIALS.len()];
    for (lo, hi) in ranges {
        let mut start = lo;
        for (slot, &s) in CLASS_SPECIALS.iter().enumerate() {
            if s < lo || s > hi {
                continue;
            }
            special[slot] = true;
            if start < s {
                plain.push((start, prev_ascii(s)));
            }
            start = next_ascii(s);
        }
        if start <= hi {
            plain.push((start, hi));
        }
    }
    let has = |c: char| CLASS_SPECIALS.iter().position(|&s| s == c).is_some_and(|slot| special[slot]);
    let push_plain = |glob: &mut String| {
        for &(lo, hi) in &plain {
            glob.push(lo);
            if hi != lo {
                glob.push('-');
                glob.push(hi);
            }
        }
    };

    if negated {
        // Docker's `[^…]` also matches `/` unless `/` is in the set. globset's
        // negated class never does, so `/` is added back as an alternative.
        let slash_matches = !has('/');
        if slash_matches {
            glob.push('{');
        }
        glob.push_str("[!");
        if has(']') {
            glob.push(']');
        }
        push_plain(glob);
        for c in ['!', '^', '/', '['] {
            if has(c) {
                glob.push(c);
            }
        }
        if has('-') {
            glob.push('-');
        }
        glob.push(']');
        if slash_matches {
            glob.push_str(",/}");
        }
    } else {
        let mut branches: Vec<String> = Vec::new();
        if !plain.is_empty() {
            let mut class = String::from("[");
            push_plain(&mut class);
            class.push(']');
            branches.push(class);
        }
        for c in ['!', '-', '[', ']', '^'] {
            if has(c) {
                branches.push(format!("\\{c}"));
            }
        }
        if has('/') {
            branches.push("/".to_owned());
        }
        if branches.len() == 1 {
            glob.push_str(&branches[0]);
        } else {
            glob.push('{');
            glob.push_str(&branches.join(","));
            glob.push('}');
        }
    }
    Ok(())
}

/// One class member, as Go's `getEsc` reads it, plus the cases this module
/// rejects (see the module docs).
fn class_char(chars: &mut Peekable<Chars<'_>>) -> Result<char, String> {
    const UNTERMINATED: &str = "unterminated `[...]` (filepath.Match: syntax error in pattern)";
    let c = match chars.next() {
        None => return Err(UNTERMINATED.to_owned()),
        Some('-') => {
            return Err("`-` must be escaped inside `[...]` here (filepath.Match: syntax error in pattern)"
                .to_owned());
        }
        Some(']') => {
            return Err("empty `[]` or `]` in a range (filepath.Match: syntax error in pattern)".to_owned());
        }
        Some('\\') => {
            let escaped = chars.next().ok_or(UNTERMINATED)?;
            check_escape(escaped)?;
            escaped
        }
        Some(c @ ('*' | '?')) => {
            return Err(format!(
                "`{c}` inside `[...]` is mistranslated by Docker's matcher; this is not supported"
            ));
        }
        Some('[') if chars.peek() == Some(&':') => {
            return Err(
                "`[:` inside `[...]` is a POSIX class in Docker's matcher; this is not supported".to_owned()
            );
        }
        Some(c) => c,
    };
    if !c.is_ascii() {
        return Err(format!("non-ASCII `{c}` inside `[...]` is not supported (matching is byte-wise)"));
    }
    if chars.peek().is_none() {
        return Err(UNTERMINATED.to_owned());
    }
    Ok(c)
}

fn prev_ascii(c: char) -> char {
    char::from(c as u8 - 1)
}

fn next_ascii(c: char) -> char {
    char::from(c as u8 + 1)
}

/// fsutil's `patternWithoutTrailingGlob`.
fn without_trailing_glob(text: &str) -> &str {
    let text = text.strip_suffix("/**").unwrap_or(text);
    text.strip_suffix("/*").unwrap_or(text)
}

/// A query path as BuildKit sees a `COPY` source: rooted at the context and
/// cleaned, without a leading `/`. `""` is the context root.
fn clean_context_path(path: &str) -> Cow<'_, str> {
    let already_clean =
        !path.is_empty() && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if already_clean {
        return Cow::Borrowed(path);
    }
    let mut cleaned = go_clean(&format!("/{path}"));
    cleaned.remove(0);
    Cow::Owned(cleaned)
}

/// Go's `path.Clean` (= `filepath.Clean` on Unix): lexical `.`/`..`/`//`
/// processing, no trailing `/`, `.` for an empty result.
fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[&str]) -> IgnoreRules {
        IgnoreRules::new(lines).unwrap_or_else(|errors| panic!("{lines:?}: {errors:?}"))
    }

    #[track_caller]
    fn check(lines: &[&str], path: &str, excluded: bool) {
        assert_eq!(rules(lines).is_excluded(path), excluded, "patterns {lines:?}, path {path:?}");
    }

    #[track_caller]
    fn error_lines(lines: &[&str]) -> Vec<usize> {
        match IgnoreRules::new(lines) {
            Ok(_) => panic!("{lines:?} should be rejected"),
            Err(errors) => errors.iter().map(|e| e.index).collect(),
        }
    }

    // ---- Docker documentation examples ------------------------------------

    #[test]
    fn docs_one_level_temp() {
        let r = rules(&["# comment", "*/temp*"]);
        assert!(r.is_excluded("somedir/temporary.txt"));
        assert!(r.is_excluded("somedir/temp"));
        assert!(r.is_excluded("somedir/temp/inside.txt"));
        assert!(!r.is_excluded("temporary.txt"));
        assert!(!r.is_excluded("somedir/subdir/temporary.txt"));
        assert!(!r.is_excluded("somedir/xtemp"));
    }

    #[test]
    fn docs_two_level_temp() {
        let r = rules(&["*/*/temp*"]);
        assert!(r.is_excluded("somedir/subdir/temporary.txt"));
        assert!(!r.is_excluded("somedir/temporary.txt"));
        assert!(!r.is_excluded("a/b/c/temporary.txt"));
    }

    #[test]
    fn docs_temp_question_mark() {
        let r = rules(&["temp?"]);
        assert!(r.is_excluded("tempa"));
        assert!(r.is_excluded("tempb"));
        assert!(r.is_excluded("tempb/child"));
        assert!(!r.is_excluded("temp"));
        assert!(!r.is_excluded("tempab"));
        assert!(!r.is_excluded("dir/tempa"));
    }

    #[test]
    fn docs_double_star_go() {
        let r = rules(&["**/*.go"]);
        assert!(r.is_excluded("main.go"));
        assert!(r.is_excluded("a/b/c.go"));
        assert!(!r.is_excluded("a/go"));
        assert!(!r.is_excluded("a/b.gox"));
    }

    #[test]
    fn docs_md_with_readme_exception() {
        let r = rules(&["*.md", "!README.md"]);
        assert!(r.is_excluded("CHANGELOG.md"));
        assert!(!r.is_excluded("README.md"));
        // "markdown files under subdirectories are still included"
        assert!(!r.is_excluded("docs/guide.md"));
        assert_eq!(r.deciding_pattern("README.md"), Some(1));
        assert_eq!(r.deciding_pattern("CHANGELOG.md"), Some(0));
        assert_eq!(r.deciding_pattern("docs/guide.md"), None);
    }

    #[test]
    fn docs_exception_placement_secret_last() {
        let r = rules(&["*.md", "!README*.md", "README-secret.md"]);
        assert!(r.is_excluded("README-secret.md"));
        assert!(!r.is_excluded("README.md"));
        assert!(!r.is_excluded("README-public.md"));
        assert!(r.is_excluded("CHANGELOG.md"));
        assert_eq!(r.deciding_pattern("README-secret.md"), Some(2));
    }

    #[test]
    fn docs_exception_placement_exception_last() {
        let r = rules(&["*.md", "README-secret.md", "!README*.md"]);
        assert!(!r.is_excluded("README-secret.md"));
        assert!(!r.is_excluded("README.md"));
        assert!(r.is_excluded("CHANGELOG.md"));
        assert_eq!(r.deciding_pattern("README-secret.md"), Some(2));
    }

    #[test]
    fn docs_leading_and_trailing_slashes_are_disregarded() {
        for pattern in ["/foo/bar/", "/foo/bar", "foo/bar/", "foo/bar"] {
            let r = rules(&[pattern]);
            assert!(r.is_excluded("foo/bar"), "{pattern}");
            assert!(r.is_excluded("foo/bar/baz.txt"), "{pattern}");
            assert!(!r.is_excluded("foo"), "{pattern}");
            assert!(!r.is_excluded("foo/barn"), "{pattern}");
            assert!(!r.is_excluded("x/foo/bar"), "{pattern}");
        }
    }

    #[test]
    fn docs_comments_only_in_column_one() {
        let r = rules(&["#/this/is/a/comment", " #not-a-comment"]);
        assert!(!r.is_excluded("this/is/a/comment"));
        assert!(r.is_excluded("#not-a-comment"));
        assert_eq!(r.deciding_pattern("#not-a-comment"), Some(1));
    }

    #[test]
    fn docs_dot_pattern_is_ignored() {
        let r = rules(&[".", "./", "!."]);
        for path in ["x", "a/b", ".hidden", ""] {
            assert!(!r.is_excluded(path), "{path}");
            assert_eq!(r.deciding_pattern(path), None, "{path}");
        }
    }

    #[test]
    fn docs_include_list_with_star_then_exceptions() {
        let r = rules(&["*", "!src", "!requirements.txt"]);
        assert!(!r.is_excluded("src"));
        assert!(!r.is_excluded("src/app/main.py"));
        assert!(!r.is_excluded("requirements.txt"));
        assert!(r.is_excluded("Dockerfile"));
        assert!(r.is_excluded("tests"));
        assert!(r.is_excluded("tests/test_a.py"));
    }

    #[test]
    fn dockerfile_and_dockerignore_can_be_excluded() {
        let r = rules(&["Dockerfile", ".dockerignore"]);
        assert!(r.is_excluded("Dockerfile"));
        assert!(r.is_excluded(".dockerignore"));
    }

    // ---- moby/patternmatcher test table (TestMatches) ------------------------

    #[test]
    fn moby_single_pattern_table() {
        // (pattern, path, excluded). The "/" rows are left out: "/" is the
        // context root here, which is never excluded.
        let table: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "file", true),
            ("**/", "file/", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**", "dir/file/", true),
            ("**/", "dir/file/", true),
            ("**/**", "dir/file", true),
            ("**/**", "dir/file/", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/file/", true),
            ("dir/**", "dir/dir2/file", true),
            ("dir/**", "dir/dir2/file/", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file/", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/file", true),
            ("**file", "dir/dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
            ("a\\*b", "a*b", true),
        ];
        for &(pattern, path, excluded) in table {
            check(&[pattern], path, excluded);
        }
    }

    #[test]
    fn moby_multi_pattern_table() {
        check(&["**", "!util/docker/web"], "util/docker/web/foo", false);
        check(&["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true);
        check(
            &["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            false,
        );
        check(&["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false);
    }

    #[test]
    fn moby_exception_tests() {
        // TestExclusionPatternMatchesPatternBefore / After
        check(&["!fileutils.go", "*.go"], "fileutils.go", true);
        check(&["*.go", "!fileutils.go"], "fileutils.go", false);
        // TestPatternMatchesFolderExclusions and variants
        check(&["docs", "!docs/README.md"], "docs/README.md", false);
        check(&["docs/", "!docs/README.md"], "docs/README.md", false);
        check(&["docs/*", "!docs/README.md"], "docs/README.md", false);
        // TestWildcardMatches / TestPatternMatches
        check(&["*"], "fileutils.go", true);
        check(&["*.go"], "fileutils.go", true);
        // TestExclusionPatternMatchesWholeDirectory / TestMatchesWithNoPatterns
        check(&["*.go"], ".", false);
        check(&[], "any/path/there", false);
    }

    #[test]
    fn moby_pattern_cleaning_tests() {
        // TestCleanPatternsStripEmptyPatterns / LeadingSpaceTrimmed / TrailingSpaceTrimmed
        let r = rules(&["docs", "config", ""]);
        assert_eq!(r.patterns.len(), 2);
        let r = rules(&["docs", "  !docs/README.md"]);
        assert!(r.has_exceptions);
        assert!(!r.is_excluded("docs/README.md"));
        let r = rules(&["docs", "!docs/README.md  "]);
        assert!(!r.is_excluded("docs/README.md"));
    }

    #[test]
    fn moby_errors_single_exclamation_and_malformed() {
        assert_eq!(error_lines(&["!"]), vec![0]);
        assert_eq!(error_lines(&["ok", "! "]), vec![1]);
        assert_eq!(error_lines(&["["]), vec![0]);
    }

    #[test]
    fn moby_read_all_normalisation() {
        // moby ignorefile_test: "/test2" → "test2", "! /inverted/abs/path" → "!inverted/abs/path"
        let r = rules(&[
            "test1",
            "/test2",
            "/a/file/here",
            "",
            "lastfile",
            "# this is a comment",
            "! /inverted/abs/path",
        ]);
        let texts: Vec<(bool, &str)> = r.patterns.iter().map(|p| (p.exception, p.text.as_str())).collect();
        assert_eq!(
            texts,
            vec![
                (false, "test1"),
                (false, "test2"),
                (false, "a/file/here"),
                (false, "lastfile"),
                (true, "inverted/abs/path"),
            ]
        );
        assert_eq!(error_lines(&["ok", "!", "! "]), vec![1, 2]);
    }

    /// Go's `filepath.Match` tests as moby runs them through `Matches`.
    #[test]
    fn go_filepath_match_table() {
        let table: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ab/c", true),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "x", true),
            ("[\\-x]", "-", true),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
        ];
        for &(pattern, path, excluded) in table {
            check(&[pattern], path, excluded);
        }
        for bad in ["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a["] {
            assert_eq!(error_lines(&[bad]), vec![0], "{bad}");
        }
    }

    // ---- Shapes, quirks and classes --------------------------------------

    #[test]
    fn double_star_at_start_middle_and_end() {
        let start = rules(&["**/cache"]);
        assert!(start.is_excluded("cache"));
        assert!(start.is_excluded("a/b/cache"));
        assert!(start.is_excluded("a/cache/x"));
        assert!(!start.is_excluded("a/mycache"));

        let middle = rules(&["a/**/b"]);
        assert!(middle.is_excluded("a/b"));
        assert!(middle.is_excluded("a/x/b"));
        assert!(middle.is_excluded("a/x/y/b/z"));
        assert!(!middle.is_excluded("a/xb"));
        assert!(!middle.is_excluded("x/a/b"));

        let end = rules(&["build/**"]);
        assert!(!end.is_excluded("build"));
        assert!(end.is_excluded("build/x"));
        assert!(end.is_excluded("build/x/y"));
        assert!(!end.is_excluded("builder/x"));

        let end_after_wildcard = rules(&["out*/**"]);
        assert!(end_after_wildcard.is_excluded("output/x/y"));
        assert!(!end_after_wildcard.is_excluded("output"));
    }

    #[test]
    fn docker_quirks_are_reproduced() {
        // Suffix shape is not bounded by `/`.
        check(&["**file"], "dir/myfile", true);
        check(&["**.go"], "a/b.go", true);
        // A leading-`**` pattern without other wildcards is the suffix shape.
        check(&["**/foo/bar"], "dir/xfoo/bar", false);
        // `a**b` is `a(.*/)?b`: it spans directories but not plain characters.
        let r = rules(&["x**y"]);
        assert!(r.is_excluded("xy"));
        assert!(r.is_excluded("x/y"));
        assert!(r.is_excluded("xq/y"));
        assert!(!r.is_excluded("xqy"));
        // Prefix shape is not bounded by `/` either.
        check(&["a**"], "abc/def", true);
    }

    #[test]
    fn classes_follow_go_regexp() {
        // `!` does not negate in Docker.
        let r = rules(&["[!a]x"]);
        assert!(r.is_excluded("!x"));
        assert!(r.is_excluded("ax"));
        assert!(!r.is_excluded("bx"));
        // Go regexp classes can match `/`.
        check(&["a[^x]b"], "a/b", true);
        check(&["a[/]b"], "a/b", true);
        check(&["a[^/]b"], "a/b", false);
        check(&["a[^/]b"], "acb", true);
        // Special characters as members and range ends.
        let r = rules(&["[\\]\\-\\[^!]z"]);
        for member in ["]z", "-z", "[z", "^z", "!z"] {
            assert!(r.is_excluded(member), "{member}");
        }
        assert!(!r.is_excluded("az"));
        let r = rules(&["a[^\\]\\-!^]z"]);
        for member in ["a]z", "a-z", "a!z", "a^z"] {
            assert!(!r.is_excluded(member), "{member}");
        }
        assert!(r.is_excluded("abz"));
        assert!(r.is_excluded("a/z"));
        // A range crossing `-` and `/`.
        let r = rules(&["q[+-0]x"]);
        for member in ["q+x", "q,x", "q-x", "q.x", "q/x", "q0x"] {
            assert!(r.is_excluded(member), "{member}");
        }
        assert!(!r.is_excluded("q1x"));
        // Literal globset-special characters outside classes.
        check(&["{a,b}*"], "{a,b}x", true);
        check(&["{a,b}*"], "ax", false);
        check(&["\\!keep*"], "!keep.txt", true);
    }

    #[test]
    fn caret_is_literal_except_in_regex_shape() {
        check(&["a^b"], "a^b", true);
        check(&["**/a^b"], "x/a^b", true);
        check(&["a\\^b*"], "a^bc", true);
        assert_eq!(error_lines(&["a^b*"]), vec![0]);
    }

    #[test]
    fn unsupported_patterns_are_rejected_with_their_line() {
        let lines =
            ["# fine", "ok/*", "\\d*", "[*]", "[[:alpha:]]", "[z-a]", "[é]", "trailing\\", "!", "also-ok"];
        assert_eq!(error_lines(&lines), vec![2, 3, 4, 5, 6, 7, 8]);
        let errors = IgnoreRules::new(&lines).err().unwrap_or_default();
        assert!(errors[0].to_string().starts_with("line 3: "));
    }

    #[test]
    fn non_ascii_known_difference() {
        // Literal non-ASCII text and `*` are exact.
        check(&["*é*"], "café.txt", true);
        check(&["données/**"], "données/x", true);
        // `?` sees one byte in globset, one character in Go: documented difference.
        check(&["caf?"], "café", false);
    }

    // ---- Cleaning, BOM, whitespace ---------------------------------------

    #[test]
    fn pattern_and_path_cleaning() {
        check(&["./x"], "x", true);
        check(&["a/../b"], "b", true);
        check(&["a//b/"], "a/b/c", true);
        check(&["/"], "anything", false);
        check(&["x"], "./x", true);
        check(&["x"], "/x", true);
        check(&["x"], "x/", true);
        check(&["x"], "y/../x/z", true);
        check(&["x"], "../x", true);
        check(&["*"], "", false);
        check(&["*"], ".", false);
        check(&["**"], "/", false);
    }

    #[test]
    fn bom_whitespace_and_exception_text() {
        let r = rules(&["\u{feff}first", "  spaced  ", "a /", "!  b", "!!bang", "\t"]);
        assert!(r.is_excluded("first"));
        assert!(r.is_excluded("spaced"));
        assert!(r.is_excluded("a/x"));
        let texts: Vec<(bool, &str)> = r.patterns.iter().map(|p| (p.exception, p.text.as_str())).collect();
        assert_eq!(
            texts,
            vec![(false, "first"), (false, "spaced"), (false, "a"), (true, "b"), (true, "!bang"),]
        );
        // A BOM is only stripped on the first line.
        assert!(!rules(&["x", "\u{feff}y"]).is_excluded("y"));
        // `from_text` indexes by line.
        let r = IgnoreRules::from_text("# c\r\n\r\n*.log\r\n!keep.log\n").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.deciding_pattern("a.log"), Some(2));
        assert_eq!(r.deciding_pattern("keep.log"), Some(3));
    }

    // ---- Requested cases -------------------------------------------------

    #[test]
    fn logs_star_excludes_contents_not_the_directory() {
        let r = rules(&["logs/*"]);
        assert!(r.is_excluded("logs/a.log"));
        assert!(r.is_excluded("logs/sub/deep.log"));
        assert!(!r.is_excluded("logs"));
        assert!(!r.is_excluded("app/logs/a.log"));
    }

    #[test]
    fn directory_patterns_with_trailing_slash() {
        let r = rules(&["docs/", "compose/"]);
        assert!(r.is_excluded("docs"));
        assert!(r.is_excluded("docs/x.md"));
        assert!(r.is_excluded("compose/dockerfiles/Dockerfile.base"));
        assert!(!r.is_excluded("documentation/x.md"));
        assert!(!r.is_excluded("src/docs/x.md"));
    }

    #[test]
    fn dockerfile_star_and_secrets_json() {
        let r = rules(&["Dockerfile*", "secrets/*.json"]);
        assert!(r.is_excluded("Dockerfile"));
        assert!(r.is_excluded("Dockerfile.prod"));
        assert!(!r.is_excluded("build/Dockerfile"));
        assert!(r.is_excluded("secrets/gsc_sa.json"));
        assert!(!r.is_excluded("secrets/readme.txt"));
        assert!(!r.is_excluded("secrets/nested/key.json"));
        assert!(!r.is_excluded("secrets"));
    }

    #[test]
    fn patterns_are_anchored_at_the_root() {
        let r = rules(&["__pycache__", "*.pyc", "node_modules/"]);
        assert!(r.is_excluded("__pycache__"));
        assert!(r.is_excluded("__pycache__/mod.cpython-312.pyc"));
        assert!(!r.is_excluded("pkg/__pycache__"));
        assert!(!r.is_excluded("pkg/__pycache__/mod.cpython-312.pyc"));
        assert!(r.is_excluded("c.pyc"));
        assert!(!r.is_excluded("a/b/c.pyc"));
        assert!(!r.is_excluded("web/node_modules/x.js"));

        let anywhere = rules(&["**/__pycache__", "**/*.pyc"]);
        assert!(anywhere.is_excluded("pkg/__pycache__/mod.cpython-312.pyc"));
        assert!(anywhere.is_excluded("a/b/c.pyc"));
        assert!(anywhere.is_excluded("c.pyc"));
    }

    #[test]
    fn case_sensitive() {
        check(&["*.MD"], "README.md", false);
    }

    // ---- Directories and exceptions --------------------------------------

    #[test]
    fn excluded_directory_with_reincluded_child() {
        let r = rules(&["docs", "!docs/README.md"]);
        assert!(r.is_excluded("docs"));
        assert!(!r.is_excluded("docs/README.md"));
        assert!(r.is_excluded("docs/other.md"));
        assert!(r.may_reinclude_under("docs"));
        assert!(!r.may_reinclude_under("docs/sub"));
        assert!(!r.may_reinclude_under("doc"));
        assert_eq!(r.deciding_pattern("docs/README.md"), Some(1));
        assert_eq!(r.deciding_pattern("docs/other.md"), Some(0));
    }

    #[test]
    fn reinclusion_by_wildcard_exception_walks_everywhere() {
        let r = rules(&["docs", "!**/*.md"]);
        assert!(!r.is_excluded("docs/x.md"));
        assert!(r.is_excluded("docs/x.png"));
        assert!(r.may_reinclude_under("docs"));
        assert!(r.may_reinclude_under("anything"));
    }

    #[test]
    fn excluded_directory_without_exceptions_is_pruned() {
        let r = rules(&["scripts/"]);
        assert!(!r.may_reinclude_under("scripts"));
        let r = rules(&["scripts/", "!keep/**"]);
        assert!(!r.may_reinclude_under("scripts"));
        assert!(r.may_reinclude_under("keep"));
    }

    #[test]
    fn exception_on_the_directory_reincludes_its_contents() {
        let r = rules(&["*", "!app"]);
        assert!(!r.is_excluded("app/a/b.py"));
        assert_eq!(r.deciding_pattern("app/a/b.py"), Some(1));
        let r = rules(&["a", "!a", "a"]);
        assert!(r.is_excluded("a/x"));
        assert_eq!(r.deciding_pattern("a/x"), Some(2));
    }

    #[test]
    fn walker_semantics_not_or_parent_matches() {
        // At level `a` the exception is skipped (nothing excluded yet), so
        // BuildKit's walker keeps `a/b` excluded.
        let r = rules(&["a/b", "!a"]);
        assert!(!r.is_excluded("a"));
        assert!(r.is_excluded("a/b"));
        assert!(r.is_excluded("a/b/c"));
    }

    // ---- The seed project's .dockerignore --------------------------------

    const SEED: &str = "\
.git
.gitignore
.github
__pycache__
*.pyc
*.pyo
*.pyd
.Python
*.so
*.egg
*.egg-info
dist
build
.pytest_cache
.coverage
.coveragerc
venv
env
.venv
.conda
.vscode
.idea
*.swp
*.swo
*~
.claude
.DS_Store
Thumbs.db
*.log
logs/*
reports/*
report/
secrets/*.json
secrets/*.txt
.env
.env.example
docs/
*.md
README*
tests/
test_*.py
*_test.py
samples/
scripts/
*.bat
*.ps1
*.sh
plans/
automation/
grafana/
prometheus/
deployment/
compose/
docker-compose*.yml
Dockerfile*
*.csv
*.parquet
*.db
*.sqlite
node_modules/
tmp/
temp/
*.tmp
*.bak
";

    fn seed() -> IgnoreRules {
        IgnoreRules::from_text(SEED).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn seed_line(text: &str) -> usize {
        SEED.lines().position(|line| line == text).unwrap_or_else(|| panic!("{text} not in seed"))
    }

    #[test]
    fn seed_keeps_application_sources() {
        let r = seed();
        for path in [
            "ingestors/api/gsc_api_ingestor.py",
            "insights_api/main.py",
            "requirements/base.txt",
            "requirements",
            "ingestors",
        ] {
            assert!(!r.is_excluded(path), "{path}");
        }
    }

    #[test]
    fn seed_excludes_tooling_docs_tests_and_secrets() {
        let r = seed();
        for (path, line) in [
            ("scripts/docker-build.sh", "scripts/"),
            ("docs/x.md", "docs/"),
            ("compose/dockerfiles/Dockerfile.base", "compose/"),
            ("tests/test_x.py", "tests/"),
            ("secrets/gsc_sa.json", "secrets/*.json"),
            ("logs/x.log", "logs/*"),
            // `*.md` is tried first; `README*` is skipped (already excluded).
            ("README.md", "*.md"),
            ("README", "README*"),
            ("c.pyc", "*.pyc"),
            ("Dockerfile", "Dockerfile*"),
            ("__pycache__/m.pyc", "__pycache__"),
            ("test_main.py", "test_*.py"),
        ] {
            assert!(r.is_excluded(path), "{path}");
            assert_eq!(r.deciding_pattern(path), Some(seed_line(line)), "{path}");
        }
    }

    #[test]
    fn seed_is_root_anchored() {
        let r = seed();
        // These patterns only cover the context root in Docker.
        for path in [
            "a/b/c.pyc",
            "ingestors/__pycache__/x.cpython-312.pyc",
            "ingestors/api/README.md",
            "ingestors/api/test_api.py",
            "ingestors/run.sh",
            "ingestors/api/debug.log",
            "data/export.csv",
        ] {
            assert!(!r.is_excluded(path), "{path}");
        }
        assert!(!r.is_excluded("logs"));
    }

    #[test]
    fn many_queries_reuse_compiled_rules() {
        let r = seed();
        let excluded =
            (0..5_000).filter(|i| r.is_excluded(&format!("pkg{}/mod{i}/file{i}.py", i % 7))).count();
        assert_eq!(excluded, 0);
    }
}
