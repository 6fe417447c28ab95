//! `build-affected #true`: the script of the workflow's `changes` job, which decides which
//! images a run builds and writes the images job's matrix, and the pull-request job's Bake
//! targets, to `$GITHUB_OUTPUT`.
//!
//! Each image's filter is its build inputs ([`super::inputs::image_inputs`], the list
//! `gscgen explain` prints and `gscgen affected` reads), written into the script as shell
//! words, in config order. A changed file selects an image when it is one of the image's
//! inputs or lies under one of its input folders: the rule of [`super::inputs::covers`]
//! for paths without wildcards, which are the only ones a `copy` source can have (resolve
//! rejects `*`, `?` and `[` in Dockerfile paths). docs/workflow.md explains the job.

use super::PlanError;
use super::inputs::image_inputs;
use crate::model::Model;
use crate::rules::layout::DEFAULT_WORKFLOW;
use crate::rules::quote::{json_string, shell_word};

/// One matrix entry, with raw (unquoted) values.
pub(super) struct Entry<'a> {
    pub(super) name: &'a str,
    pub(super) dockerfile: &'a str,
    pub(super) target: &'a str,
    /// The repository, relative to the registry path when that is computed at run time.
    pub(super) repository: String,
    /// A plain image (`from=`): the matrix of the `plain-images` job, which needs no base.
    pub(super) plain: bool,
}

/// What the script starts with: how it lists the changed files, and the `image` function.
/// No `${{ }}` anywhere: everything comes from the runner's own environment variables.
const PRELUDE: &str = r#"# Which images this run builds. Pull requests: the images whose build inputs they
# change (the diff of the merge commit with the base branch it merges into). Pushes
# and manual runs, a pull request that changes this workflow, or a diff that cannot be
# read: every image.
full=true
changed=()
if [ "$GITHUB_EVENT_NAME" = pull_request ]; then
  list="$(mktemp)"
  # The checkout is the merge commit; its first parent is the base branch. -z: paths as
  # they are, unquoted; --no-renames: a file moved out of an input counts for its old path.
  if git diff --name-only --no-renames -z HEAD^1 HEAD >"$list"; then
    mapfile -d '' -t changed <"$list"
    full=false
    # This workflow (owner/repo/<path>@<ref>): a change to it changes how every image builds.
    workflow="${GITHUB_WORKFLOW_REF#"$GITHUB_REPOSITORY"/}"
    workflow="${workflow%@*}"
    for file in "${changed[@]}"; do
      if [ "$file" = "$workflow" ]; then
        echo "$workflow changed: every image is built"
        full=true
        break
      fi
    done
  else
    echo "::warning::cannot diff the merge commit with the base branch: every image is built"
  fi
fi

entries=()
names=()
# image NAME DOCKERFILE TARGET REPOSITORY INPUT...: adds the image's matrix entry when
# every image is built, or when a changed file is one of its INPUTs or lies under one.
# No value needs escaping in JSON: gscgen checks its own, and GitHub owner and repository
# names are letters, digits, `-`, `_` and `.`.
image() {
  local name="$1" entry input file
  entry="$(printf '{"name":"%s","dockerfile":"%s","target":"%s","repository":"%s"}' "$1" "$2" "$3" "$4")"
  shift 4
  if [ "$full" = true ]; then
    echo "$name: built"
    entries+=("$entry")
    names+=("$name")
    return
  fi
  for input in "$@"; do
    for file in "${changed[@]}"; do
      if [ "$input" = . ] || [ "$file" = "$input" ] || [[ "$file" == "$input"/* ]]; then
        echo "$name: built, $file changed"
        entries+=("$entry")
        names+=("$name")
        return
      fi
    done
  done
  echo "$name: skipped, no input changed"
}
"#;

/// What the script ends with: the job's outputs.
const OUTPUTS: &str = r#"
matrix="$(IFS=,; printf '{"include":[%s]}' "${entries[*]}")"
if [ "${#entries[@]}" -gt 0 ]; then build=true; else build=false; fi
printf 'matrix=%s\nimages=%s\nbuild=%s\n' "$matrix" "${names[*]}" "$build" >>"$GITHUB_OUTPUT"
"#;

fn error(message: String) -> PlanError {
    PlanError { path: DEFAULT_WORKFLOW.into(), message }
}

/// The outputs when some image is plain: the entries of the images of the base were moved
/// to `base_entries` when the first plain image came; `build` is for the pull-request job.
const PLAIN_OUTPUTS: &str = r#"
matrix="$(IFS=,; printf '{"include":[%s]}' "${base_entries[*]}")"
plain_matrix="$(IFS=,; printf '{"include":[%s]}' "${entries[*]}")"
if [ "${#base_entries[@]}" -gt 0 ]; then images_build=true; else images_build=false; fi
if [ "${#entries[@]}" -gt 0 ]; then plain_build=true; else plain_build=false; fi
if [ "$images_build" = true ] || [ "$plain_build" = true ]; then build=true; else build=false; fi
printf 'matrix=%s\nplain_matrix=%s\nimages=%s\nbuild=%s\nimages_build=%s\nplain_build=%s\n' \
  "$matrix" "$plain_matrix" "${names[*]}" "$build" "$images_build" "$plain_build" >>"$GITHUB_OUTPUT"
"#;

/// The script. `registry_host` is set when the registry path is computed at run time
/// (`<host>/<owner>/<repository>`, lowercased, as the base job computes it); entries'
/// repositories are then relative to it.
pub(super) fn script(
    model: &Model,
    entries: &[Entry<'_>],
    registry_host: Option<&str>,
) -> Result<String, PlanError> {
    let mut script = String::from(PRELUDE);
    if let Some(host) = registry_host {
        script.push_str(&format!(
            "# Registries reject upper case, which owner and repository names may have.\nregistry={}/\"${{GITHUB_REPOSITORY,,}}\"\n",
            shell_word(host)
        ));
    }
    let inputs = image_inputs(model);
    let any_plain = entries.iter().any(|e| e.plain);
    if entries.windows(2).any(|pair| pair[0].plain && !pair[1].plain) {
        return Err(error("plain images must come after the images of the base".to_owned()));
    }
    // With plain images, `base_entries` holds the images of the base: filled when the first
    // plain image comes, or empty when every image is plain.
    let mut switched = entries.first().is_some_and(|e| e.plain);
    if switched {
        script.push_str(
            "# Every image is plain (`from=`): none is built from the base image.\nbase_entries=()\n",
        );
    }
    for entry in entries {
        if entry.plain && !switched {
            switched = true;
            script.push_str(
                "# The plain images (`from=`) are the plain-images job's matrix: they need no base.\n\
                 base_entries=(\"${entries[@]}\")\nentries=()\n",
            );
        }
        let image = inputs
            .iter()
            .find(|i| model.images[i.image].name.value == entry.name)
            .ok_or_else(|| error(format!("matrix entry `{}` is not an image", entry.name)))?;
        // The script's printf writes them into JSON strings as they are.
        for value in [entry.name, entry.dockerfile, entry.target, &entry.repository] {
            if json_string(value) != format!("\"{value}\"") {
                return Err(error(format!(
                    "`{}` cannot be written into the matrix JSON as is",
                    value.escape_debug()
                )));
            }
        }
        let repository = match registry_host {
            None => shell_word(&entry.repository).into_owned(),
            Some(_) => format!("\"$registry\"/{}", shell_word(&entry.repository)),
        };
        script.push_str(&format!(
            "image {} {} {} \\\n  {repository}",
            shell_word(entry.name),
            shell_word(entry.dockerfile),
            shell_word(entry.target)
        ));
        for path in image.paths() {
            let path = path.as_str();
            // Unreachable: resolve rejects these in copy sources and the output folder.
            if path.contains(['*', '?', '[', '\n', '\r']) {
                return Err(error(format!(
                    "`{}` cannot be a path filter (resolve rejects wildcards)",
                    path.escape_debug()
                )));
            }
            script.push_str(&format!(" \\\n  {}", shell_word(path)));
        }
        script.push('\n');
    }
    script.push_str(if any_plain { PLAIN_OUTPUTS } else { OUTPUTS });
    Ok(script)
}
