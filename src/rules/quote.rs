//! Every quoting and escaping rule for generated output, in one place.
//!
//! Each output language (YAML, POSIX sh, cmd.exe batch, JSON, Dockerfile) has its own
//! idea of which characters are special. Values from the user's config reach all of them,
//! so a value that is harmless in one file can change the meaning of another: `on` becomes
//! a boolean in Kubernetes YAML, `$(rm -rf /)` runs in a shell script, `%PATH%` expands in
//! a batch file. Keeping the rules side by side makes them easy to audit together and
//! keeps the templates free of ad-hoc escaping.
//!
//! The grammars involved are tiny ("is every character in this set?"), so the checks are
//! hand-written `char` matches rather than regular expressions: they are shorter, have
//! no dependency, and each decision can carry the comment that justifies it.
//!
//! The policy throughout is *plain when obviously safe, quoted otherwise*: readable output
//! for the common case (image names, paths, identifiers), and a conservative quoted form
//! for everything else. Where a value cannot be represented safely at all, the function
//! returns `None` so the caller can report a diagnostic instead of emitting a broken file.

use std::borrow::Cow;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------

/// Renders `s` as a YAML scalar that reads back as exactly the string `s`.
///
/// Why so careful: the same YAML is read by YAML 1.2 parsers (go-yaml v3 in Docker
/// Compose) and YAML 1.1 parsers (PyYAML, go-yaml v2 behind `sigs.k8s.io/yaml` in
/// Kubernetes tooling). YAML 1.1 resolves many plain words to non-strings (`yes`, `on`,
/// `y`, `0755`, `1:20`, `2024-01-01`), YAML 1.2 others (`0o17`, `1e3`), so a plain scalar
/// is only emitted when no parser of either version can read it as anything but a string:
///
/// * it is non-empty and made only of `[A-Za-z0-9_./-]`, which rules out every indicator
///   (`-?:,[]{}#&*!|>'"%@` and backtick), `: `, ` #`, whitespace and anything non-ASCII,
///   and also makes the scalar safe inside flow collections (`[a, b]`);
/// * it starts with a letter, digit, `_` or `/`, which rules out `-1`, `+1`, `.5`, `.inf`,
///   `.nan`, `-` and the document markers `---` / `...`;
/// * it is not a YAML 1.1 boolean or null word in any letter case (`y`, `n`, `yes`, `no`,
///   `on`, `off`, `true`, `false`, `null`); matching case-insensitively quotes a few words
///   such as `yEs` that no parser would mistake, which is harmless;
/// * if it starts with a digit it must contain a letter that no number or date form uses,
///   i.e. a letter other than the hex digits `a-f`/`A-F` and the radix markers `x`/`o`.
///   This keeps `512Mi`, `250m` and `3.12-slim` readable while quoting every int, float,
///   octal, hex, binary, underscore-grouped, exponent and date form (`0x1F`, `0o17`,
///   `0b1`, `1e3`, `1_000`, `3.10`, `2024-01-01`). Sexagesimal (`1:20`) and timestamps
///   with a time part need `:`, which is already excluded.
///
/// Everything else is double-quoted, the one YAML style that can represent any string on
/// one line: `\` and `"` are escaped, tab/newline/CR as `\t`/`\n`/`\r`, and characters
/// outside YAML's printable set (C0 and C1 controls, DEL), the YAML 1.1 line breaks NEL,
/// LS and PS (which a YAML 1.1 parser would otherwise fold), the byte-order mark and the
/// non-characters U+FFFE/U+FFFF as `\xNN` / `\uNNNN`. Both YAML versions and every
/// parser named above understand these escapes.
pub(crate) fn yaml_scalar(s: &str) -> Cow<'_, str> {
    if yaml_plain_is_safe(s) { Cow::Borrowed(s) } else { Cow::Owned(yaml_double_quoted(s)) }
}

/// Renders `s` as a YAML mapping key that reads back as exactly the string `s`.
///
/// Keys are resolved like any other scalar, so the rule is the same as [`yaml_scalar`]:
/// an environment variable named `ON` or a label key `y` must be quoted, or a YAML 1.1
/// parser turns it into a boolean key. Templates that *mean* a literal keyword key, such
/// as GitHub Actions' `on:` trigger block, write it directly in the template instead of
/// passing it through here (GitHub's parser treats that `on` as a string).
///
/// Limitation: YAML implicit keys may be at most 1024 characters long; callers never pass
/// keys anywhere near that (service names, variable names, label keys).
pub(crate) fn yaml_key(s: &str) -> Cow<'_, str> {
    yaml_scalar(s)
}

/// Whether `s` can be written as a plain scalar; see [`yaml_scalar`] for the reasoning.
fn yaml_plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false; // empty plain scalar is null
    };
    let word_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-');
    if !s.chars().all(word_char) || !(first.is_ascii_alphanumeric() || matches!(first, '_' | '/')) {
        return false;
    }
    if first.is_ascii_digit() {
        return s.chars().any(|c| {
            c.is_ascii_alphabetic() && !c.is_ascii_hexdigit() && !matches!(c, 'x' | 'X' | 'o' | 'O')
        });
    }
    const KEYWORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

/// Double-quoted YAML scalar with every escape described in [`yaml_scalar`].
fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str(r#"\""#),
            '\t' => out.push_str(r"\t"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders `s` as the text of one YAML comment line (after `# `).
///
/// Why: comments carry config text (a service's `external` reason, secret file paths); a
/// line break in it would end the comment and turn the rest into YAML. Every character a
/// YAML 1.1 or 1.2 parser treats as a line break (LF, CR, NEL, LS, PS) and every other
/// control character becomes a space; nothing else needs escaping inside a comment.
pub(crate) fn yaml_comment(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}');
    if s.chars().any(unsafe_char) {
        Cow::Owned(s.chars().map(|c| if unsafe_char(c) { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
}

// ---------------------------------------------------------------------------------------
// Docker Compose
// ---------------------------------------------------------------------------------------

/// Renders `s` as a Compose YAML value that Compose reads back as exactly the string `s`.
///
/// Why: Compose interpolates `$VAR` and `${VAR…}` in every value of the file (not in keys),
/// so a user's `pa$word` would silently lose `$word`, and `${X:?}` would make the whole
/// file fail to load. `$$` is Compose's escape for a literal `$`; after that the value is a
/// [`yaml_scalar`]. Values that gscgen *means* to interpolate (`${REGISTRY:-…}`) are written
/// with [`yaml_scalar`] directly, from parts that were validated to contain no `$`.
pub(crate) fn compose_value(s: &str) -> Cow<'_, str> {
    if s.contains('$') { Cow::Owned(yaml_scalar(&s.replace('$', "$$")).into_owned()) } else { yaml_scalar(s) }
}

/// Renders Compose's interpolation of the host's variable `var` (an `env-host`) as a YAML
/// value: `${VAR:-default}`, `${VAR:?message}` (`required`), or `${VAR}`.
///
/// Why here: this is the one value gscgen *means* Compose to interpolate from the user's
/// text. `var` was checked to be a variable name; the default is escaped (`$` → `$$`) so it
/// stays literal, and resolve refused a `}` in it (Compose has no escape for `}` inside
/// `${…}`). `:-` and `:?` also cover a variable that is set but empty, as a shell does.
pub(crate) fn compose_interpolation(var: &str, default: Option<&str>, required: Option<&str>) -> String {
    let inner = match (default, required) {
        (Some(default), _) => format!("${{{var}:-{}}}", default.replace('$', "$$")),
        (None, Some(message)) => format!("${{{var}:?{}}}", message.replace('$', "$$")),
        (None, None) => format!("${{{var}}}"),
    };
    yaml_scalar(&inner).into_owned()
}

// ---------------------------------------------------------------------------------------
// GitHub Actions
// ---------------------------------------------------------------------------------------

/// Renders `s` as a string literal of a GitHub Actions expression (inside `${{ }}`).
///
/// Why: expression literals are single-quoted and the only escape is a doubled `'`; a
/// branch or registry name with a `'` would otherwise end the literal and turn the rest of
/// the value into expression syntax.
pub(crate) fn gha_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Renders `s` as the YAML value of a workflow key (a `with:` input, a matrix value, `env`),
/// keeping GitHub's `${{ … }}` expressions readable.
///
/// Why a second YAML rule: [`yaml_scalar`] quotes every `$`, `{` and space, which is right
/// for arbitrary values but turns each `${{ matrix.repository }}/app` into a quoted string.
/// In *block* context (never inside `[…]` or `{…}`) a plain scalar may also contain `$`,
/// `{`, `}`, `,`, `'`, `|`, `&` and single spaces, as long as it does not start with an
/// indicator and has no `: ` or ` #`. And a string containing `$` can never resolve to a
/// boolean, null, number or date in YAML 1.1 or 1.2, so such a value is left plain. Anything
/// else goes through [`yaml_scalar`].
pub(crate) fn gha_value(s: &str) -> Cow<'_, str> {
    let block_plain = |s: &str| {
        let Some(first) = s.chars().next() else { return false };
        !"-?:,[]{}#&*!|>'\"%@`".contains(first)
            && !first.is_whitespace()
            && !s.ends_with(|c: char| c == ':' || c.is_whitespace())
            && !s.contains(": ")
            && !s.contains(" #")
            && !s.contains("  ")
            && s.chars().all(|c| c == ' ' || (!c.is_control() && !c.is_whitespace() && c != '\u{feff}'))
    };
    if s.contains('$') && block_plain(s) { Cow::Borrowed(s) } else { yaml_scalar(s) }
}

// ---------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------

/// Renders `s` as a Kubernetes container `command`/`args` item or env `value` that the
/// container receives as exactly the string `s`.
///
/// Why: the kubelet expands `$(VAR)` in those fields from the container's environment,
/// and reduces `$$` to `$`, so a user's `pa$(x)` would change (or not, depending on
/// whether `x` is set). Doubling every `$` makes each one literal: `$$` is always read as
/// one `$`, whatever follows. Probe `exec` commands and other fields are not expanded and
/// use [`yaml_scalar`] directly.
pub(crate) fn kubernetes_value(s: &str) -> Cow<'_, str> {
    if s.contains('$') { Cow::Owned(yaml_scalar(&s.replace('$', "$$")).into_owned()) } else { yaml_scalar(s) }
}

// ---------------------------------------------------------------------------------------
// POSIX sh
// ---------------------------------------------------------------------------------------

/// Renders `s` as one POSIX `sh` word that the shell turns back into exactly `s`.
///
/// Why: generated build scripts pass config values (image tags, paths, build args) as
/// command arguments, and an unquoted `$`, backtick, `;`, `*`, `~`, space or newline would
/// expand, split, glob or run something. Words made only of `[A-Za-z0-9_./:=@%+,-]` have
/// no special meaning to `sh` in argument position and stay unquoted for readability.
/// Anything else (including the empty string, which would otherwise vanish) is wrapped in
/// single quotes, inside which `sh` interprets nothing; the only character single quotes
/// cannot contain, `'` itself, is written as `'\''` (close, escaped quote, reopen).
///
/// Deliberately *not* handled:
/// * A leading `-` is left alone. Quoting cannot help: the shell strips quotes before
///   the command sees its arguments, so `'-rf'` is still an option. Callers that pass
///   untrusted values to commands that parse options must put `--` before them.
/// * `=` is plain, which is right for arguments; a word like `A=b` in *command-name*
///   position would be an assignment, but callers never put values there.
/// * NUL cannot be part of any argument (arguments are C strings), quoted or not; the
///   config layer must reject it.
pub(crate) fn shell_word(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

// ---------------------------------------------------------------------------------------
// Windows cmd.exe batch
// ---------------------------------------------------------------------------------------

/// Renders `s` as one argument of a command in a `.bat` file, or `None` when cmd.exe
/// cannot carry the value safely.
///
/// Why: cmd.exe has no quoting mechanism that turns off everything (unlike `sh`'s single
/// quotes), so some values are simply refused rather than half-escaped:
/// * `"`: cmd and the program's own argument parser disagree about embedded quotes, and
///   an unbalanced quote exposes the rest of the line to `&`, `|`, `>`;
/// * `^`: its meaning depends on context (escape outside quotes, literal inside, doubled
///   again by `CALL`), and no build value (image names, paths, versions) needs it;
/// * control characters other than tab (CR/LF end the command, NUL and Ctrl-Z truncate
///   the script) and DEL;
/// * non-ASCII: a batch file is decoded with the console's OEM code page, not UTF-8, so
///   `é` would silently become a different string.
///
/// Everything else is representable:
/// * `%` is doubled to `%%` everywhere, because percent expansion (`%VAR%`, `%1`) runs
///   before quotes are even looked at;
/// * `!` is left as is: the generated scripts never enable delayed expansion, and with
///   it off `!` is an ordinary character;
/// * the value is wrapped in double quotes if it is empty or contains whitespace or one of
///   `& | < > ( )` (command operators; `)` also closes an `if (...)` block) or `, ; =`
///   (which cmd treats as argument separators);
/// * inside those quotes, trailing backslashes are doubled, because the Microsoft C
///   runtime argument parser reads `\"` as a literal quote: `"C:\dir\"` would arrive as
///   `C:\dir"`, while `"C:\dir\\"` arrives as `C:\dir\`.
///
/// Like [`shell_word`], a leading `/` or `-` is left alone (quotes would not stop a
/// program from reading it as a switch), and the result is meant for argument position:
/// `set NAME=value` keeps quotes as part of the value, so callers use `set "NAME=value"`.
pub(crate) fn batch_word(s: &str) -> Option<String> {
    let refused = |c: char| matches!(c, '"' | '^') || !c.is_ascii() || (c.is_ascii_control() && c != '\t');
    if s.chars().any(refused) {
        return None;
    }
    let escaped = s.replace('%', "%%");
    let needs_quotes = s.is_empty()
        || s.chars().any(|c| matches!(c, ' ' | '\t' | '&' | '|' | '<' | '>' | '(' | ')' | ',' | ';' | '='));
    if !needs_quotes {
        return Some(escaped);
    }
    let trailing_backslashes = escaped.len() - escaped.trim_end_matches('\\').len();
    Some(format!("\"{escaped}{}\"", "\\".repeat(trailing_backslashes)))
}

// ---------------------------------------------------------------------------------------
// TOML
// ---------------------------------------------------------------------------------------

// Why hand-written rather than the `toml` crate: the dependency-groups target writes one
// fixed shape (a table of arrays of strings and `{include-group = "…"}` tables), so the whole
// TOML we need is a string rule, a key rule and a comment rule, kept here beside the other
// quoting rules. The output must stay within TOML 1.0, which is what its readers implement
// (Python's `tomllib`/`tomli`, used by pip and the PEP 735 reference implementation); the
// tests prove every case against Python's `tomllib` and the `toml` crate.

/// Renders `s` as a TOML basic string (`"…"`) that reads back as exactly `s`.
///
/// TOML 1.0 lets every character into a basic string except `"`, `\` and the control
/// characters other than tab (U+0000–U+0008, U+000A–U+001F, U+007F). Those are escaped with
/// the short forms `\b \t \n \f \r \" \\` or `\uXXXX`, never TOML 1.1's `\e` and `\xHH`,
/// which a 1.0 reader rejects. Tab is escaped too, so a value always reads as one line.
/// Everything else, including non-ASCII text, is written as is (TOML files are UTF-8).
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\0'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders `s` as a TOML key: bare when TOML allows it (`A-Za-z0-9_-`, non-empty), which
/// covers every gscgen name, else a quoted key with [`toml_string`]'s escapes.
pub(crate) fn toml_key(s: &str) -> Cow<'_, str> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(toml_string(s))
    }
}

/// Renders `s` as the text of one TOML comment line (after `# `).
///
/// TOML 1.0 forbids the control characters other than tab in comments, and LF (or CR LF)
/// would end the comment and turn the rest into TOML: each becomes a space.
pub(crate) fn toml_comment(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c != '\t' && (c <= '\u{1f}' || c == '\u{7f}');
    if s.chars().any(unsafe_char) {
        Cow::Owned(s.chars().map(|c| if unsafe_char(c) { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
}

// ---------------------------------------------------------------------------------------
// JSON and Dockerfile
// ---------------------------------------------------------------------------------------

/// Renders `s` as a JSON string literal.
///
/// Why: JSON escaping has corner cases (control characters, `\u` forms) that serde_json
/// already gets right, so this delegates rather than re-implementing them. The result is
/// also valid wherever a JSON string is expected inside another format (Dockerfile exec
/// form, `devcontainer.json`, a YAML flow scalar).
pub(crate) fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Renders a Dockerfile exec-form argument list: `["python", "/app/x.py"]`.
///
/// Why: `CMD`, `ENTRYPOINT` and `RUN` in exec form are parsed as a JSON array of strings
/// and run without a shell, so no shell quoting applies and no variable is substituted;
/// JSON string escaping is the whole rule. Control characters (including newlines) come
/// out as JSON escapes, so the instruction always stays on one line. The `", "` separator
/// matches how the Docker documentation and hadolint write exec form.
pub(crate) fn dockerfile_exec_form(args: &[impl AsRef<str>]) -> String {
    let items: Vec<String> = args.iter().map(|a| json_string(a.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// Renders the value of `ENV KEY=<value>`, `ARG KEY=<value>` or `LABEL key=<value>`, or
/// `None` when the value cannot be written on one Dockerfile line.
///
/// Why: these instructions split on whitespace and perform `$VAR` / `${VAR}` substitution,
/// even inside double quotes. The value is therefore always double-quoted (so spaces,
/// `'`, `#` and `=` are literal) and the three characters BuildKit's lexer treats
/// specially inside double quotes are backslash-escaped: `\`, `"` and `$`. Any other
/// backslash sequence would be kept verbatim by Docker, but escaping every `\` keeps the
/// rule uniform. This assumes the default escape character; generated Dockerfiles never
/// use the `# escape=` parser directive.
///
/// Newline and CR are refused because an instruction cannot span lines except through
/// line continuations, which drop the newline. NUL is refused because environment
/// variables and labels are C strings at runtime.
pub(crate) fn dockerfile_env_value(s: &str) -> Option<String> {
    if s.contains(['\n', '\r', '\0']) {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml_ng::Value;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    // ----- shared fixtures -------------------------------------------------------------

    /// Hand-picked hard cases shared by every function's tests.
    const TABLE: &[&str] = &[
        "yes",
        "no",
        "on",
        "off",
        "y",
        "Y",
        "n",
        "N",
        "Yes",
        "NO",
        "ON",
        "Off",
        "true",
        "False",
        "TRUE",
        "null",
        "Null",
        "NULL",
        "~",
        "",
        " ",
        " lead",
        "trail ",
        "0",
        "7",
        "-1",
        "+1",
        "0755",
        "0o17",
        "0O17",
        "0x1F",
        "0X1f",
        "0b101",
        "3.10",
        "3.",
        "1e3",
        "1E3",
        "1.5e+3",
        ".5",
        "1_000",
        "1:20",
        "190:20:30",
        "2024-01-01",
        "2024-1-1",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        ".inf",
        "-.inf",
        ".NaN",
        "inf",
        "nan",
        "a: b",
        "a:b",
        "#x",
        "a #b",
        "a#b",
        "-",
        "--",
        "---",
        "...",
        "- x",
        "-x",
        "? x",
        "?x",
        ":x",
        "*ref",
        "&a",
        "!tag",
        "!!str",
        "%x",
        "@x",
        "`x",
        "|",
        ">",
        "<<",
        "=",
        "'q'",
        "\"dq\"",
        "it's",
        "multi\nline",
        "trailing newline\n",
        "\n",
        "tab\there",
        "cr\rlf",
        "nul\0byte",
        "esc\u{1b}[0m",
        "del\u{7f}",
        "nel\u{85}x",
        "nbsp\u{a0}x",
        "ls\u{2028}ps\u{2029}",
        "\u{feff}bom",
        "nonchar\u{fffe}\u{ffff}",
        "unicode é ✓",
        "emoji 😀",
        "C:\\path",
        "C:\\dir\\",
        "back\\slash\\\\",
        "${{ github.sha }}",
        "${REGISTRY}/gsc-api:${VERSION}",
        "$(rm -rf /)",
        "`id`",
        "a;b",
        "a && b",
        "a | b",
        "*",
        "~/x",
        "%PATH%",
        "50%",
        "!x!",
        "^",
        "a^b",
        "a&b",
        "(x)",
        "http://x:8000/a",
        "linux/amd64",
        "512Mi",
        "250m",
        "3.12-slim",
        "/run/secrets/x.json",
        "key=value",
        "[x]",
        "{x}",
        "a,b",
        "a b",
        "python",
        "gsc-base",
    ];

    /// Words that must stay plain in YAML so generated files remain readable.
    const YAML_PLAIN_WORDS: &[&str] = &[
        "python",
        "linux/amd64",
        "512Mi",
        "/app/insights_api",
        "ghcr.io/acme/x",
        "gsc-base",
        "api_ingestor",
        "250m",
        "3.12-slim",
        "/run/secrets/x.json",
        "app.kubernetes.io/name",
        "PYTHONUNBUFFERED",
        "yesterday",
        "only",
        "nullable",
        "_",
        "/",
    ];

    /// Words that YAML 1.1 or 1.2 would read as a non-string; serde_yaml_ng reads several
    /// of them (`yes`, `0755`, `1:20`) as strings, so the round trip alone cannot catch a
    /// regression here and each must be checked to be quoted.
    const YAML_MUST_QUOTE: &[&str] = &[
        "yes",
        "no",
        "on",
        "off",
        "y",
        "Y",
        "n",
        "N",
        "Yes",
        "NO",
        "ON",
        "Off",
        "true",
        "False",
        "TRUE",
        "null",
        "Null",
        "NULL",
        "~",
        "",
        "0",
        "7",
        "-1",
        "+1",
        "0755",
        "0o17",
        "0O17",
        "0x1F",
        "0X1f",
        "0b101",
        "3.10",
        "3.",
        "1e3",
        "1E3",
        "1.5e+3",
        ".5",
        "1_000",
        "1:20",
        "190:20:30",
        "2024-01-01",
        "2024-1-1",
        ".inf",
        "-.inf",
        ".NaN",
        "=",
        "<<",
        "---",
        "...",
    ];

    /// Tiny deterministic PRNG (SplitMix64) so random cases are reproducible without a
    /// property-testing crate.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n as u64) as usize
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len())]
        }
    }

    /// Characters that are special somewhere, plus letters and digits that form keywords
    /// and numbers.
    const NASTY: &[char] = &[
        'a', 'e', 'f', 'l', 'n', 'o', 's', 'u', 'x', 'y', 'E', 'M', 'N', 'O', 'X', 'Y', '0', '1', '7', '9',
        '.', '_', '-', '+', '/', ':', ' ', '\t', '\n', '\r', '#', '?', ',', '[', ']', '{', '}', '&', '*',
        '!', '|', '>', '<', '\'', '"', '%', '@', '`', '\\', '$', '(', ')', ';', '=', '^', '~', 'é', '✓',
        '😀', '\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', '\u{fffe}',
    ];

    /// Characters of YAML's plain-candidate alphabet, so the plain branch gets exercised
    /// with number- and keyword-like words.
    const WORDY: &[char] = &[
        'a', 'b', 'e', 'f', 'i', 'l', 'n', 'o', 's', 't', 'u', 'x', 'y', 'B', 'E', 'M', 'N', 'O', 'T', 'X',
        'Y', '0', '1', '5', '7', '9', '.', '_', '-', '/',
    ];

    const PREFIXES: &[&str] = &["", "", "", "yes", "no", "on", "0x", "0o", "0b", "1e", ".", "-", "~"];

    /// `n` reproducible random strings, half from [`NASTY`], half from [`WORDY`].
    fn random_strings(seed: u64, n: usize) -> Vec<String> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|i| {
                let alphabet = if i % 2 == 0 { NASTY } else { WORDY };
                let mut s = String::from(rng.pick(PREFIXES));
                for _ in 0..rng.below(10) {
                    s.push(rng.pick(alphabet));
                }
                s
            })
            .collect()
    }

    fn all_cases(seed: u64, random: usize) -> Vec<String> {
        TABLE
            .iter()
            .chain(YAML_PLAIN_WORDS)
            .map(|s| s.to_string())
            .chain(random_strings(seed, random))
            .collect()
    }

    // ----- YAML --------------------------------------------------------------------------

    fn yaml_value_roundtrip(s: &str) -> Value {
        let doc = format!("k: {}\n", yaml_scalar(s));
        let parsed: Value = serde_yaml_ng::from_str(&doc)
            .unwrap_or_else(|e| panic!("{s:?} rendered as {doc:?} does not parse: {e}"));
        parsed["k"].clone()
    }

    fn yaml_key_roundtrip(s: &str) -> Value {
        let doc = format!("{}: v\n", yaml_key(s));
        let parsed: Value = serde_yaml_ng::from_str(&doc)
            .unwrap_or_else(|e| panic!("{s:?} rendered as {doc:?} does not parse: {e}"));
        let map = parsed.as_mapping().expect("a mapping");
        assert_eq!(map.len(), 1, "{doc:?}");
        map.keys().next().expect("one key").clone()
    }

    #[test]
    fn yaml_table_round_trips_as_value_and_key() {
        for s in TABLE.iter().chain(YAML_PLAIN_WORDS) {
            assert_eq!(yaml_value_roundtrip(s), Value::String(s.to_string()), "{s:?}");
            assert_eq!(yaml_key_roundtrip(s), Value::String(s.to_string()), "key {s:?}");
        }
    }

    #[test]
    fn yaml_random_strings_round_trip() {
        let cases = random_strings(0x5EED_0001, 5_000);
        let mut plain = 0;
        for s in &cases {
            assert_eq!(yaml_value_roundtrip(s), Value::String(s.clone()), "{s:?}");
            plain += usize::from(!yaml_scalar(s).starts_with('"'));
        }
        // Make sure the generator reaches the plain branch, not only the quoted one.
        assert!(plain > 500, "only {plain} plain cases");
    }

    #[test]
    fn yaml_random_keys_round_trip() {
        for s in random_strings(0x5EED_0002, 1_000) {
            assert_eq!(yaml_key_roundtrip(&s), Value::String(s.clone()), "{s:?}");
        }
    }

    #[test]
    fn yaml_safe_words_stay_plain() {
        for s in YAML_PLAIN_WORDS {
            assert!(matches!(yaml_scalar(s), Cow::Borrowed(_)), "{s:?} was quoted");
            assert_eq!(yaml_key(s), *s);
        }
    }

    #[test]
    fn yaml_keywords_numbers_and_dates_are_quoted() {
        for s in YAML_MUST_QUOTE {
            let out = yaml_scalar(s);
            assert!(out.starts_with('"') && out.ends_with('"'), "{s:?} -> {out}");
        }
        assert_eq!(yaml_key("on"), r#""on""#);
    }

    #[test]
    fn yaml_digit_led_words_are_plain_only_with_a_non_numeric_letter() {
        for s in ["512Mi", "250m", "3.12-slim", "1_000s", "2024-01-01T", "7zip"] {
            assert_eq!(yaml_scalar(s), s, "{s:?}");
        }
        for s in ["1a", "1e3", "0x1F", "0o17", "0b1", "1.2.3", "1-2-3", "12ab"] {
            assert_eq!(yaml_scalar(s), format!("\"{s}\""), "{s:?}");
        }
    }

    #[test]
    fn yaml_indicators_and_separators_are_quoted() {
        for s in [
            "a: b",
            "#x",
            "a #b",
            "-",
            "- x",
            "-x",
            "? x",
            "*ref",
            "&a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "'q'",
            "[x]",
            "{x}",
            "a,b",
            " lead",
            "trail ",
            "a b",
            ".hidden",
            "key=value",
        ] {
            assert!(yaml_scalar(s).starts_with('"'), "{s:?}");
        }
    }

    #[test]
    fn yaml_escapes() {
        assert_eq!(yaml_scalar(""), r#""""#);
        assert_eq!(yaml_scalar("C:\\path"), r#""C:\\path""#);
        assert_eq!(yaml_scalar("\"dq\""), r#""\"dq\"""#);
        assert_eq!(yaml_scalar("multi\nline"), r#""multi\nline""#);
        assert_eq!(yaml_scalar("tab\there"), r#""tab\there""#);
        assert_eq!(yaml_scalar("a\r"), r#""a\r""#);
        assert_eq!(yaml_scalar("\0\u{1b}\u{7f}\u{85}"), r#""\x00\x1B\x7F\x85""#);
        assert_eq!(yaml_scalar("\u{2028}\u{2029}\u{feff}\u{fffe}"), r#""\u2028\u2029\uFEFF\uFFFE""#);
        assert_eq!(yaml_scalar("unicode é ✓ 😀"), "\"unicode é ✓ 😀\"");
        assert_eq!(yaml_scalar("${REGISTRY}/gsc-api:${VERSION}"), r#""${REGISTRY}/gsc-api:${VERSION}""#);
    }

    #[test]
    fn yaml_output_is_single_line_and_printable() {
        for s in all_cases(0x5EED_0003, 2_000) {
            let out = yaml_scalar(&s);
            assert!(
                out.chars()
                    .all(|c| c == ' ' || !(c.is_control() || "\u{2028}\u{2029}\u{feff}\u{fffe}".contains(c))),
                "{s:?} -> {out:?}"
            );
        }
    }

    #[test]
    fn yaml_scalars_work_in_flow_sequences() {
        let cases = all_cases(0x5EED_0004, 500);
        let items: Vec<String> = cases.iter().map(|s| yaml_scalar(s).into_owned()).collect();
        let doc = format!("k: [{}]\n", items.join(", "));
        let parsed: Value = serde_yaml_ng::from_str(&doc).expect("flow sequence parses");
        let expected: Vec<Value> = cases.into_iter().map(Value::String).collect();
        assert_eq!(parsed["k"], Value::Sequence(expected));
    }

    /// Proves the YAML 1.1 claims against PyYAML (serde_yaml_ng resolves like YAML 1.2 and
    /// would accept an unquoted `yes`). PyYAML comes with the validators (`scripts/test`);
    /// without it the test fails instead of proving nothing.
    #[test]
    fn yaml_round_trips_through_pyyaml() {
        let probe = Command::new("python3").args(["-c", "import yaml"]).output();
        assert!(
            probe.is_ok_and(|o| o.status.success()),
            "python3 with PyYAML is missing: run the tests with scripts/test (it installs the validators)"
        );
        let cases = all_cases(0x5EED_0005, 5_000);
        let mut values = String::new();
        let mut keys = String::new();
        for s in &cases {
            values.push_str(&format!("- {}\n", yaml_scalar(s)));
            keys.push_str(&format!("- {}: 0\n", yaml_key(s)));
        }
        let input = serde_json::json!({ "values": values, "keys": keys, "expected": cases });
        let script = r#"
import json, sys, yaml
d = json.load(sys.stdin)
values = yaml.safe_load(d["values"])
keys = [next(iter(m)) for m in yaml.safe_load(d["keys"])]
bad = [(e, v, k) for e, v, k in zip(d["expected"], values, keys) if not (e == v == k)]
if bad or len(values) != len(d["expected"]) or len(keys) != len(d["expected"]):
    print(repr(bad[:20]))
    sys.exit(1)
"#;
        let out = run_with_stdin(Command::new("python3").args(["-c", script]), input.to_string().as_bytes());
        assert!(
            out.status.success(),
            "PyYAML disagrees: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> std::process::Output {
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    #[test]
    fn yaml_comments_stay_on_one_line() {
        assert_eq!(yaml_comment("a managed PostgreSQL"), "a managed PostgreSQL");
        assert_eq!(yaml_comment("x\nkind: Secret"), "x kind: Secret");
        assert_eq!(yaml_comment("a\r\u{85}\u{2028}\u{2029}\tb"), "a     b");
    }

    // ----- Docker Compose ----------------------------------------------------------------

    #[test]
    fn compose_interpolation_keeps_the_default_literal() {
        assert_eq!(compose_interpolation("LOG_LEVEL", Some("info"), None), r#""${LOG_LEVEL:-info}""#);
        assert_eq!(compose_interpolation("PRICE", Some("$5"), None), r#""${PRICE:-$$5}""#);
        assert_eq!(compose_interpolation("X", Some(""), None), r#""${X:-}""#);
        assert_eq!(compose_interpolation("X", None, Some("X is required")), r#""${X:?X is required}""#);
        assert_eq!(compose_interpolation("X", None, None), r#""${X}""#);
        assert_eq!(compose_interpolation("X", Some("a \"b\"\n"), None), r#""${X:-a \"b\"\n}""#);
    }

    #[test]
    fn compose_values_escape_interpolation() {
        assert_eq!(compose_value("python"), "python");
        assert_eq!(compose_value("yes"), r#""yes""#);
        assert_eq!(compose_value("$HOME"), r#""$$HOME""#);
        assert_eq!(compose_value("a$$b"), r#""a$$$$b""#);
        assert_eq!(compose_value("${X:?unset}"), r#""$${X:?unset}""#);
    }

    // ----- GitHub Actions ----------------------------------------------------------------

    #[test]
    fn gha_string_doubles_quotes() {
        assert_eq!(gha_string("refs/heads/main"), "'refs/heads/main'");
        assert_eq!(gha_string("it's"), "'it''s'");
        assert_eq!(gha_string(""), "''");
    }

    #[test]
    fn gha_values_keep_expressions_plain_and_read_back() {
        for (input, expected) in [
            ("${{ matrix.repository }}/app", "${{ matrix.repository }}/app"),
            ("localhost:5000/base:${{ github.sha }}", "localhost:5000/base:${{ github.sha }}"),
            ("${{ a && 'x' || '' }}", "${{ a && 'x' || '' }}"),
            ("runtime", "runtime"),
            ("yes", r#""yes""#),
            ("a: ${{ b }}", r#""a: ${{ b }}""#),
            ("${{ b }} #c", r#""${{ b }} #c""#),
            ("{${{ b }}}", r#""{${{ b }}}""#),
            ("${{ b }}:", r#""${{ b }}:""#),
            ("$x\n", r#""$x\n""#),
        ] {
            let rendered = gha_value(input);
            assert_eq!(rendered, expected, "{input:?}");
            let doc = format!("key: {rendered}\n");
            let value: Value = serde_yaml_ng::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(value["key"].as_str(), Some(input), "{doc}");
        }
    }

    // ----- Kubernetes --------------------------------------------------------------------

    #[test]
    fn kubernetes_values_escape_expansion() {
        assert_eq!(kubernetes_value("python"), "python");
        assert_eq!(kubernetes_value("on"), r#""on""#);
        assert_eq!(kubernetes_value("$(HOME)"), r#""$$(HOME)""#);
        assert_eq!(kubernetes_value("a$$b $5"), r#""a$$$$b $$5""#);
    }

    // ----- POSIX sh ----------------------------------------------------------------------

    #[test]
    fn shell_plain_words_stay_unquoted() {
        for s in [
            "python",
            "ghcr.io/acme/x:1.2",
            "linux/amd64,linux/arm64",
            "KEY=value",
            "user@host",
            "50%",
            "a+b",
            "-rf",
            "--flag=x",
            "/app/insights_api",
        ] {
            assert!(matches!(shell_word(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn shell_special_words_are_single_quoted() {
        let cases = [
            ("", "''"),
            ("a b", "'a b'"),
            ("$(rm -rf /)", "'$(rm -rf /)'"),
            ("`id`", "'`id`'"),
            ("$HOME", "'$HOME'"),
            ("\"dq\"", "'\"dq\"'"),
            ("it's", r"'it'\''s'"),
            ("'", r"''\'''"),
            ("a\nb", "'a\nb'"),
            ("*", "'*'"),
            ("~", "'~'"),
            ("~/x", "'~/x'"),
            ("a;b", "'a;b'"),
            ("a && b", "'a && b'"),
            ("a|b", "'a|b'"),
            ("a\\b", "'a\\b'"),
            ("#x", "'#x'"),
            ("!x", "'!x'"),
            ("{a,b}", "'{a,b}'"),
            ("é", "'é'"),
        ];
        for (input, expected) in cases {
            assert_eq!(shell_word(input), expected, "{input:?}");
        }
    }

    /// Proves the quoting with a real shell: `printf '%s\0' <words>` must print back
    /// exactly the original strings.
    #[test]
    fn shell_words_survive_a_real_shell() {
        assert!(std::path::Path::new("/bin/sh").exists(), "the shell-quoting proof needs /bin/sh");
        // NUL cannot be an argument at all; see `shell_word`.
        let cases: Vec<String> =
            all_cases(0x5EED_0006, 3_000).into_iter().filter(|s| !s.contains('\0')).collect();
        let mut script = String::from("printf '%s\\0'");
        for s in &cases {
            script.push(' ');
            script.push_str(&shell_word(s));
        }
        script.push('\n');
        let out = run_with_stdin(Command::new("/bin/sh").arg("-s"), script.as_bytes());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut expected = Vec::new();
        for s in &cases {
            expected.extend_from_slice(s.as_bytes());
            expected.push(0);
        }
        if out.stdout != expected {
            let got: Vec<_> = out.stdout.split(|&b| b == 0).map(String::from_utf8_lossy).collect();
            let first_bad = cases.iter().zip(&got).find(|(e, g)| e.as_str() != g.as_ref());
            panic!("shell output differs; first mismatch (expected, got): {first_bad:?}");
        }
    }

    // ----- cmd.exe batch -----------------------------------------------------------------

    /// Models what a program receives when `word` is one argument in a `.bat` line:
    /// cmd's percent expansion, cmd's operator/separator handling outside quotes, then
    /// the Microsoft C runtime's argument parsing. `None` means the word would expand,
    /// split, or be read as an operator.
    fn batch_decode(word: &str) -> Option<String> {
        // Phase 1: percent expansion. `%%` is a literal `%`; any other `%` expands.
        let mut expanded = String::new();
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            if c == '%' && chars.next() != Some('%') {
                return None;
            }
            expanded.push(c);
        }
        // Outside quotes, whitespace and `,;=` separate arguments and `&|<>()^` are
        // operators or escapes.
        let mut quoted = false;
        for c in expanded.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' | '\t' | ',' | ';' | '=' | '&' | '|' | '<' | '>' | '(' | ')' | '^' if !quoted => {
                    return None;
                }
                '\r' | '\n' | '\0' => return None,
                _ => {}
            }
        }
        if quoted {
            return None;
        }
        // MSVCRT: 2n backslashes + `"` -> n backslashes and a quote toggle; backslashes not
        // followed by `"` are literal.
        let mut out = String::new();
        let mut backslashes = 0;
        for c in expanded.chars() {
            match c {
                '\\' => backslashes += 1,
                '"' => {
                    out.extend(std::iter::repeat_n('\\', backslashes / 2));
                    if backslashes % 2 == 1 {
                        out.push('"');
                    }
                    backslashes = 0;
                }
                c => {
                    out.extend(std::iter::repeat_n('\\', backslashes));
                    backslashes = 0;
                    out.push(c);
                }
            }
        }
        out.extend(std::iter::repeat_n('\\', backslashes));
        Some(out)
    }

    #[test]
    fn batch_expected_renderings() {
        let cases = [
            ("python", Some("python")),
            ("C:\\path\\x.exe", Some("C:\\path\\x.exe")),
            ("C:\\dir\\", Some("C:\\dir\\")),
            ("", Some("\"\"")),
            ("a b", Some("\"a b\"")),
            ("C:\\Program Files\\", Some("\"C:\\Program Files\\\\\"")),
            ("a&b", Some("\"a&b\"")),
            ("a|b", Some("\"a|b\"")),
            ("a>b", Some("\"a>b\"")),
            ("(x)", Some("\"(x)\"")),
            ("key=value", Some("\"key=value\"")),
            ("a,b", Some("\"a,b\"")),
            ("a;b", Some("\"a;b\"")),
            ("%PATH%", Some("%%PATH%%")),
            ("50% off", Some("\"50%% off\"")),
            ("!x!", Some("!x!")),
            ("ghcr.io/acme/x:1.2", Some("ghcr.io/acme/x:1.2")),
            ("-flag", Some("-flag")),
            ("/flag", Some("/flag")),
            ("\"dq\"", None),
            ("a^b", None),
            ("a\nb", None),
            ("a\rb", None),
            ("a\0b", None),
            ("a\u{1a}b", None),
            ("a\u{7f}b", None),
            ("é", None),
        ];
        for (input, expected) in cases {
            assert_eq!(batch_word(input).as_deref(), expected, "{input:?}");
        }
        assert_eq!(batch_word("a\tb").as_deref(), Some("\"a\tb\""));
    }

    #[test]
    fn batch_words_decode_to_the_original() {
        for s in all_cases(0x5EED_0007, 5_000) {
            match batch_word(&s) {
                Some(word) => {
                    assert_eq!(batch_decode(&word).as_deref(), Some(s.as_str()), "{s:?} -> {word:?}")
                }
                None => assert!(
                    s.chars().any(|c| c == '"'
                        || c == '^'
                        || !c.is_ascii()
                        || (c.is_ascii_control() && c != '\t')),
                    "{s:?} refused without reason"
                ),
            }
        }
    }

    // ----- JSON and Dockerfile -----------------------------------------------------------

    #[test]
    fn json_string_escapes_and_round_trips() {
        assert_eq!(json_string("python"), r#""python""#);
        assert_eq!(json_string("a\"b\\c\nd\te\u{1}"), r#""a\"b\\c\nd\te\u0001""#);
        assert_eq!(json_string("é ✓"), "\"é ✓\"");
        for s in all_cases(0x5EED_0008, 2_000) {
            let back: String = serde_json::from_str(&json_string(&s)).expect("valid JSON");
            assert_eq!(back, s);
        }
    }

    #[test]
    fn dockerfile_exec_form_layout() {
        assert_eq!(dockerfile_exec_form(&["python", "/app/x.py"]), r#"["python", "/app/x.py"]"#);
        assert_eq!(dockerfile_exec_form(&["sh"]), r#"["sh"]"#);
        assert_eq!(dockerfile_exec_form(&[] as &[&str]), "[]");
        let owned = vec![String::from("echo"), String::from("$HOME \"x\"")];
        assert_eq!(dockerfile_exec_form(&owned), r#"["echo", "$HOME \"x\""]"#);
        assert_eq!(dockerfile_exec_form(&["a\nb"]), r#"["a\nb"]"#);
    }

    #[test]
    fn dockerfile_exec_form_round_trips() {
        let cases = all_cases(0x5EED_0009, 5_000);
        for chunk in cases.chunks(7) {
            let rendered = dockerfile_exec_form(chunk);
            assert!(!rendered.contains(['\n', '\r']), "{rendered:?}");
            let back: Vec<String> = serde_json::from_str(&rendered).expect("valid JSON");
            assert_eq!(back, chunk);
        }
    }

    /// Models BuildKit's lexer for a double-quoted Dockerfile word: `\` escapes only `"`,
    /// `$` and `\`; an unescaped `$` would be substituted (`None`).
    fn dockerfile_decode(word: &str) -> Option<String> {
        let inner = word.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('"' | '$' | '\\')) => out.push(e),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => return None,
                },
                '"' | '$' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn dockerfile_env_value_expected_renderings() {
        let cases = [
            ("", Some(r#""""#)),
            ("python", Some(r#""python""#)),
            ("a b", Some(r#""a b""#)),
            ("$HOME", Some(r#""\$HOME""#)),
            ("${REGISTRY}/x:${VERSION}", Some(r#""\${REGISTRY}/x:\${VERSION}""#)),
            ("say \"hi\"", Some(r#""say \"hi\"""#)),
            ("C:\\path\\", Some(r#""C:\\path\\""#)),
            ("it's #1 = ok", Some(r#""it's #1 = ok""#)),
            ("tab\there", Some("\"tab\there\"")),
            ("é ✓", Some("\"é ✓\"")),
            ("a\nb", None),
            ("a\rb", None),
            ("\n", None),
            ("a\0b", None),
        ];
        for (input, expected) in cases {
            assert_eq!(dockerfile_env_value(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn dockerfile_env_values_decode_to_the_original() {
        for s in all_cases(0x5EED_000A, 5_000) {
            match dockerfile_env_value(&s) {
                Some(word) => {
                    assert!(!word.contains(['\n', '\r']), "{word:?}");
                    assert_eq!(dockerfile_decode(&word).as_deref(), Some(s.as_str()), "{s:?} -> {word:?}");
                }
                None => assert!(s.contains(['\n', '\r', '\0']), "{s:?} refused without reason"),
            }
        }
    }

    // ----- TOML --------------------------------------------------------------------------

    #[test]
    fn toml_expected_renderings() {
        assert_eq!(toml_string("requests>=2.31.0"), r#""requests>=2.31.0""#);
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("a\tb\nc\rd\u{8}\u{c}"), r#""a\tb\nc\rd\b\f""#);
        assert_eq!(toml_string("\0\u{1b}\u{7f}"), r#""\u0000\u001B\u007F""#);
        assert_eq!(toml_string("é ✓ 😀 \u{85}"), "\"é ✓ 😀 \u{85}\"");
        assert_eq!(toml_string("x; python_version < '3.12'"), r#""x; python_version < '3.12'""#);
        assert_eq!(toml_key("api_ingestor-2"), "api_ingestor-2");
        assert_eq!(toml_key(""), r#""""#);
        assert_eq!(toml_key("a.b"), r#""a.b""#);
        assert_eq!(toml_key("a b"), r#""a b""#);
        assert_eq!(toml_comment("one line"), "one line");
        assert_eq!(toml_comment("a\nb = 1\r\0\u{7f}\tc"), "a b = 1   \tc");
    }

    /// One TOML document per case: the case as a key, as a value and as a comment.
    fn toml_document(s: &str) -> String {
        format!("# {}\n{} = {}\n", toml_comment(s), toml_key(s), toml_string(s))
    }

    #[test]
    fn toml_strings_keys_and_comments_round_trip_through_the_toml_crate() {
        for s in all_cases(0x5EED_000B, 5_000) {
            let doc = toml_document(&s);
            let table: toml::Table =
                doc.parse().unwrap_or_else(|e| panic!("{s:?} rendered as {doc:?} does not parse: {e}"));
            assert_eq!(table.len(), 1, "{doc:?}");
            let (key, value) = table.iter().next().expect("one entry");
            assert_eq!(key, &s, "key of {doc:?}");
            assert_eq!(value.as_str(), Some(s.as_str()), "value of {doc:?}");
        }
    }

    /// Proves the TOML 1.0 claim against Python's `tomllib` (3.11+), the TOML 1.0 parser that
    /// pip (as `tomli`) and the PEP 735 reference implementation read pyproject.toml with.
    /// The `toml` crate implements TOML 1.1 and would also accept 1.1-only escapes. Python
    /// comes with the validators (`scripts/test`); without it the test fails.
    #[test]
    fn toml_round_trips_through_python_tomllib() {
        let probe = Command::new("python3").args(["-c", "import tomllib"]).output();
        assert!(
            probe.is_ok_and(|o| o.status.success()),
            "python3 >= 3.11 (tomllib) is missing: run the tests with scripts/test (it installs the validators)"
        );
        let cases = all_cases(0x5EED_000C, 5_000);
        let documents: Vec<String> = cases.iter().map(|s| toml_document(s)).collect();
        let input = serde_json::json!({ "documents": documents, "expected": cases });
        let script = r#"
import json, sys, tomllib
d = json.load(sys.stdin)
bad = []
for doc, expected in zip(d["documents"], d["expected"]):
    try:
        table = tomllib.loads(doc)
    except tomllib.TOMLDecodeError as e:
        bad.append((expected, doc, str(e)))
        continue
    if table != {expected: expected}:
        bad.append((expected, doc, table))
if bad or len(d["documents"]) != len(d["expected"]):
    print(repr(bad[:20]))
    sys.exit(1)
print("ok", len(d["documents"]))
"#;
        let out = run_with_stdin(Command::new("python3").args(["-c", script]), input.to_string().as_bytes());
        assert!(
            out.status.success(),
            "tomllib disagrees: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("ok {}", cases.len()));
    }
}
