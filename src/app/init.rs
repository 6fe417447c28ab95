//! `gscgen init`: a commented starter `project.kdl` that renders and passes `check` at once;
//! `--from-requirements` seeds the `base` group from an existing requirements file, every
//! line validated as PEP 508 first.

use std::str::FromStr;

use askama::Template;
use camino::Utf8Path;

use super::{Output, exit, failure};

#[derive(Template)]
#[template(path = "init/project.kdl", escape = "none")]
struct Starter<'a> {
    name: &'a str,
    /// KDL string literals, already quoted.
    requirements: Vec<String>,
}

pub(super) fn run(config: &Utf8Path, from_requirements: Option<&Utf8Path>) -> Output {
    if config.exists() {
        return failure(
            exit::DRIFT,
            format!(
                "error: {config} already exists; gscgen init never overwrites it\nhint: remove it first, or pass --config NEW.kdl\n"
            ),
        );
    }
    let requirements = match from_requirements {
        None => vec![kdl_string("requests>=2.31.0")],
        Some(path) => match read_requirements(path) {
            Ok(lines) => lines.iter().map(|l| kdl_string(l)).collect(),
            Err(message) => return failure(exit::INVALID, message),
        },
    };
    let folder = std::env::current_dir().ok();
    let name = folder
        .as_ref()
        .and_then(|d| d.file_name())
        .map(|n| sanitize(&n.to_string_lossy()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "my-platform".to_owned());
    let text = match (Starter { name: &name, requirements }).render() {
        Ok(text) => text,
        Err(e) => {
            return failure(exit::IO, format!("error: internal error rendering the starter: {e} (a bug)\n"));
        }
    };
    // The starter is already in canonical form, so `gscgen fmt --check` passes on it.
    let text = super::fmt::format_text(&text).unwrap_or(text);
    match crate::emit::create_new_file(config, text.as_bytes()) {
        Ok(()) => Output {
            code: exit::SUCCESS,
            stdout: format!("wrote {config}: edit it, then run `gscgen render`\n"),
            stderr: String::new(),
        },
        Err(error) => failure(exit::IO, format!("error: {error}\n")),
    }
}

/// A KDL 2 string literal (JSON string escaping is valid KDL 2 for these characters).
fn kdl_string(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// A valid project name from a folder name: lowercase letters, digits and `-`.
fn sanitize(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .collect();
    let trimmed =
        lowered.trim_matches('-').trim_start_matches(|c: char| c.is_ascii_digit()).trim_matches('-');
    trimmed.chars().take(63).collect::<String>().trim_end_matches('-').to_owned()
}

/// Every requirement line of a requirements file, validated; every problem at once.
fn read_requirements(path: &Utf8Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("error: cannot read {path}: {e}\n"))?;
    let mut lines = Vec::new();
    let mut problems = String::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('-') {
            problems.push_str(&format!(
                "error: {path}:{}: `{line}`: options and includes are not requirements; \
                 declare included files as groups in project.kdl\n",
                number + 1
            ));
            continue;
        }
        match pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(line) {
            Ok(requirement) => lines.push(requirement.to_string()),
            Err(error) => {
                problems.push_str(&format!(
                    "error: {path}:{}: invalid requirement `{line}`: {}\n",
                    number + 1,
                    error.message
                ));
            }
        }
    }
    if problems.is_empty() { Ok(lines) } else { Err(problems) }
}
