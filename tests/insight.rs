//! `explain`, `why`, `graph` and `affected` on the repository's own project.kdl (docs/explain.md,
//! docs/why.md, docs/graph.md, docs/affected.md).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{repo, run_in, stderr, stdout, tool};

fn run(args: &[&str]) -> Output {
    run_in(&repo(), args)
}

/// The text of line `line` (1-based) of the repo's project.kdl.
fn config_line(line: usize) -> String {
    let text = std::fs::read_to_string(repo().join("project.kdl")).expect("project.kdl");
    text.lines().nth(line - 1).unwrap_or_default().to_owned()
}

/// Every `project.kdl:LINE:COL` location in a report, with the rest of its line.
fn locations(report: &str) -> Vec<(usize, String)> {
    report
        .lines()
        .filter_map(|l| {
            let at = l.find("project.kdl:")?;
            let rest = &l[at + "project.kdl:".len()..];
            let line: usize = rest.split(':').next()?.parse().ok()?;
            Some((line, l.to_owned()))
        })
        .collect()
}

#[test]
fn why_celery_worker_prophet_walks_insights_then_celery_with_config_lines() {
    let output = run(&["why", "celery_worker", "prophet"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}{}", stderr(&output));
    assert!(report.contains("insights → celery → image celery"), "{report}");
    // Each step names the line that makes it, and that line says so.
    let steps = locations(&report);
    assert_eq!(steps.len(), 3, "{report}");
    assert!(steps[0].1.contains("group insights requires \"prophet"), "{report}");
    assert!(config_line(steps[0].0).contains("prophet"), "line {}: {}", steps[0].0, config_line(steps[0].0));
    assert!(steps[1].1.contains("group celery includes insights"), "{report}");
    assert!(config_line(steps[1].0).trim_start().starts_with("include insights"));
    assert!(steps[2].1.contains("image celery installs group celery"), "{report}");
    assert!(config_line(steps[2].0).trim_start().starts_with("groups celery"));
}

#[test]
fn why_accepts_any_spelling_pep_503_normalises() {
    let output = run(&["why", "celery_worker", "Prophet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = run(&["why", "api_ingestor", "google_auth"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn why_api_ingestor_prophet_is_not_included() {
    let output = run(&["why", "api_ingestor", "prophet"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("does not install `prophet`"), "{report}");
    assert!(report.contains("group insights requires"), "{report}");
    assert!(report.contains("Images that install it: insights_engine, celery."), "{report}");
}

#[test]
fn why_an_unknown_package_suggests_the_closest_name() {
    let output = run(&["why", "api_ingestor", "pandsa"]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("No group requires it."), "{report}");
    assert!(report.contains("did you mean `pandas`?"), "{report}");
}

#[test]
fn why_lists_every_path_including_the_base_image() {
    let report = stdout(&run(&["why", "api_ingestor", "pandas"]));
    assert!(report.contains("(2 include paths)"), "{report}");
    assert!(report.contains("  base → base image\n"), "{report}");
    assert!(report.contains("  base → ingestors → image api_ingestor\n"), "{report}");
}

#[test]
fn unknown_names_are_usage_errors_with_a_suggestion() {
    let output = run(&["explain", "celery_wroker"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("there is no image or service named `celery_wroker`"), "{message}");
    assert!(message.contains("did you mean `celery_worker`?"), "{message}");
    let output = run(&["why", "image:celery_worker", "prophet"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("there is no image named `celery_worker`"), "{}", stderr(&output));
}

#[test]
fn pre_built_services_install_nothing() {
    let output = run(&["why", "redis", "redis"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("pre-built redis:7-alpine"), "{}", stdout(&output));
    let report = stdout(&run(&["explain", "redis"]));
    assert!(report.contains("Nothing is built for it"), "{report}");
}

#[test]
fn explain_celery_worker() {
    let output = run(&["explain", "celery_worker"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout(&output);
    // Groups in resolution order, each requirement with its group, the artifacts.
    let groups = report.split("groups (").nth(1).expect("groups section");
    let order: Vec<&str> = groups
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(order, ["base", "insights", "celery"]);
    assert!(report.contains("prophet>=1.1.5"), "{report}");
    assert!(report.contains("generated/k8s/celery-worker.deployment.yaml"), "{report}");
    assert!(report.contains("generated/compose/dockerfiles/Dockerfile.celery"), "{report}");
    assert!(report.contains("matrix entry name: celery"), "{report}");
    insta::assert_snapshot!(report);
}

#[test]
fn explain_lists_exactly_the_requirements_of_the_rendered_files() {
    // The requirements explain shows for image celery are those of the requirements files
    // its Dockerfile installs (base image: base.txt; image: insights.txt, celery.txt).
    let report = stdout(&run(&["explain", "image:celery"]));
    let section = report.split("requirements (").nth(1).expect("requirements section");
    let mut shown: Vec<String> = section
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    let mut rendered: Vec<String> = ["base", "insights", "celery"]
        .iter()
        .flat_map(|g| {
            support::generated(&format!("requirements/{g}.txt"))
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("-r"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    shown.sort();
    rendered.sort();
    assert_eq!(shown, rendered);
}

#[test]
fn graph_text_and_mermaid() {
    let text = run(&["graph"]);
    assert_eq!(text.status.code(), Some(0));
    insta::assert_snapshot!("graph_text", stdout(&text));
    let mermaid = run(&["graph", "--format", "mermaid"]);
    insta::assert_snapshot!("graph_mermaid", stdout(&mermaid));
    // Deterministic: the same bytes every run.
    assert_eq!(stdout(&run(&["graph", "--format", "mermaid"])), stdout(&mermaid));
}

#[test]
fn graph_dot_renders_with_graphviz() {
    let dot = run(&["graph", "--format", "dot"]);
    assert_eq!(dot.status.code(), Some(0));
    let text = stdout(&dot);
    insta::assert_snapshot!("graph_dot", text);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.dot");
    std::fs::write(&file, &text).unwrap();
    let svg = tool("dot").arg("-Tsvg").arg(&file).output().expect("dot runs");
    assert!(svg.status.success(), "dot failed: {}", String::from_utf8_lossy(&svg.stderr));
    assert!(svg.stderr.is_empty(), "dot warned: {}", String::from_utf8_lossy(&svg.stderr));
    let svg = String::from_utf8_lossy(&svg.stdout);
    // Every group and image is a node of the drawing, every include an edge.
    for name in ["base", "insights", "celery", "api_ingestor", "base image"] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name} not drawn");
    }
    assert!(svg.contains("<title>group:celery&#45;&gt;group:insights</title>"), "include edge not drawn");
}

// ------------------------------------------------------------------------------------------
// affected, over a temporary git repository holding a copy of the project.
// ------------------------------------------------------------------------------------------

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A git repository with the project, its generated files and one file in every copy
/// source, all committed.
fn project_repo() -> tempfile::TempDir {
    // Unlocked: these tests edit requirements, which would make the committed locks stale
    // (`affected` of a locked project is in tests/locking.rs).
    let dir = support::rendered_unlocked_copy();
    for source in
        ["ingestors/api", "ingestors/ga4", "scheduler", "transform", "insights_core", "insights_api", "mcp"]
            .iter()
            .chain(&["metrics", "services", "agents", "docs"])
    {
        std::fs::create_dir_all(dir.path().join(source)).unwrap();
        std::fs::write(dir.path().join(source).join("main.py"), "print('hello')\n").unwrap();
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "project"]);
    dir
}

fn affected_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["affected"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let output = run_in(dir, &all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("affected --format json prints JSON")
}

fn names(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect()
}

fn all_images() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("project.kdl")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("image ")?.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn affected_a_copy_source_edit_rebuilds_that_image_only() {
    let dir = project_repo();
    std::fs::write(dir.path().join("mcp/main.py"), "print('changed')\n").unwrap();
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), ["mcp"]);
    assert_eq!(names(&json, "services"), ["mcp"]);
    assert_eq!(json["images"][0]["reasons"][0], serde_json::json!({"kind": "file", "path": "mcp/main.py"}));
    // The same from a file list, and for a new untracked file.
    let json = affected_json(dir.path(), &["--files", "mcp/main.py"]);
    assert_eq!(names(&json, "images"), ["mcp"]);
    std::fs::write(dir.path().join("metrics/new.py"), "x = 1\n").unwrap();
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), ["mcp", "metrics"]);
}

#[test]
fn affected_ignores_files_outside_every_input_and_dockerignored_files() {
    let dir = project_repo();
    std::fs::write(dir.path().join("docs/main.py"), "changed\n").unwrap();
    std::fs::create_dir_all(dir.path().join("mcp/__pycache__")).unwrap();
    std::fs::write(dir.path().join("mcp/__pycache__/main.cpython-311.pyc"), "x").unwrap();
    let output =
        run_in(dir.path(), &["affected", "--files", "docs/main.py", "mcp/__pycache__/main.cpython-311.pyc"]);
    assert_eq!(stdout(&output), "nothing to rebuild or redeploy\n", "{}", stderr(&output));
}

#[test]
fn affected_a_base_group_edit_rebuilds_every_image() {
    let dir = project_repo();
    let config = dir.path().join("project.kdl");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text.replacen("require \"tenacity>=8.2.0\"", "require \"tenacity>=8.3.0\"", 1);
    assert_ne!(edited, text, "the base group's tenacity line moved");
    std::fs::write(&config, edited).unwrap();
    // Not rendered yet: the model-level comparison with the config at HEAD finds it.
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), all_images());
    let reasons = json["images"][0]["reasons"].to_string();
    assert!(reasons.contains("generated/requirements/base.txt"), "{reasons}");
    // Rendered and committed: the changed generated file says the same.
    let output = run_in(dir.path(), &["render", "-q"]);
    assert_eq!(output.status.code(), Some(0));
    git(dir.path(), &["commit", "-qam", "tenacity"]);
    let json = affected_json(dir.path(), &["--since", "HEAD~1"]);
    assert_eq!(names(&json, "images"), all_images());
}

#[test]
fn affected_an_insights_edit_rebuilds_the_images_whose_closure_contains_it() {
    let dir = project_repo();
    let config = dir.path().join("project.kdl");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text.replacen("\"prophet>=1.1.5\"", "\"prophet>=1.1.6\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&config, edited).unwrap();
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), ["insights_engine", "celery"]);
    assert_eq!(names(&json, "services"), ["insights_engine", "celery_worker"]);
}

#[test]
fn affected_a_comment_edit_affects_nothing() {
    let dir = project_repo();
    let config = dir.path().join("project.kdl");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("// a new comment at the top\n{text}")).unwrap();
    let output = run_in(dir.path(), &["affected", "--since", "HEAD"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "nothing to rebuild or redeploy\n");
}

#[test]
fn affected_a_deployment_edit_redeploys_without_rebuilding() {
    let dir = project_repo();
    let config = dir.path().join("project.kdl");
    let text = std::fs::read_to_string(&config).unwrap();
    // A new environment variable of service mcp: nothing to build, one service to redeploy.
    let edited = text.replacen(
        "service mcp image=mcp profile=insights {",
        "service mcp image=mcp profile=insights {\n    env LOG_LEVEL=debug",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&config, edited).unwrap();
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), Vec::<String>::new());
    assert_eq!(names(&json, "services"), ["mcp"]);
    assert_eq!(json["services"][0]["reasons"][0]["kind"], "deployment");
}

#[test]
fn affected_rejects_a_bad_revision() {
    let dir = project_repo();
    let output = run_in(dir.path(), &["affected", "--since", "no-such-ref"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`no-such-ref` is not a commit"), "{}", stderr(&output));
}

// ------------------------------------------------------------------------------------------
// The command pages show real output.
// ------------------------------------------------------------------------------------------

/// Every ```text block of the page that starts with `$ gscgen ARGS` shows exactly what that
/// command prints on the repository's project. `UPDATE_DOCS=1 cargo test --test insight`
/// rewrites the blocks after a deliberate change.
#[test]
fn command_pages_show_real_output() {
    for page in ["explain", "why", "graph", "affected"] {
        let path = repo().join("docs").join(format!("{page}.md"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("docs/{page}.md: {e}"));
        let mut updated = String::new();
        let mut rest = text.as_str();
        let mut blocks = 0;
        while let Some(start) = rest.find("```text\n$ gscgen ") {
            let body_start = start + "```text\n".len();
            let end = body_start + rest[body_start..].find("\n```").expect("closed block");
            let body = &rest[body_start..end];
            let command = body.lines().next().unwrap().trim_start_matches("$ gscgen ");
            let args: Vec<&str> = command.split_whitespace().collect();
            let real = format!("$ gscgen {command}\n{}", stdout(&run(&args)));
            let real = real.trim_end_matches('\n');
            updated.push_str(&rest[..body_start]);
            updated.push_str(real);
            rest = &rest[end..];
            blocks += 1;
        }
        updated.push_str(rest);
        assert!(blocks > 0, "docs/{page}.md shows no command output");
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &updated).unwrap();
        } else {
            assert!(
                updated == text,
                "docs/{page}.md shows stale output; rerun with UPDATE_DOCS=1 and review the diff"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// affected: what one service's settings do to another, build settings, git edge cases.
// ------------------------------------------------------------------------------------------

/// Edits project.kdl in the repository (the edit must apply).
fn edit_config(dir: &Path, from: &str, to: &str) {
    let config = dir.join("project.kdl");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text.replacen(from, to, 1);
    assert_ne!(edited, text, "`{from}` is not in project.kdl");
    std::fs::write(&config, edited).unwrap();
}

#[test]
fn affected_a_dependency_health_check_redeploys_the_services_that_wait_for_it() {
    let dir = project_repo();
    // celery_worker waits for redis to be healthy; without redis's health check it waits
    // for redis to start: celery_worker's own Compose entry changes.
    edit_config(dir.path(), "    health redis-cli ping interval=\"10s\" timeout=\"5s\" retries=5\n", "");
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), Vec::<String>::new());
    assert_eq!(names(&json, "services"), ["celery_worker", "redis"], "{json}");
}

#[test]
fn affected_an_init_container_image_redeploys_its_service() {
    let dir = project_repo();
    // insights_api runs image transformer as its db-migrations init container.
    std::fs::write(dir.path().join("transform/main.py"), "changed\n").unwrap();
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), ["scheduler", "transformer"]);
    let services = names(&json, "services");
    assert!(services.contains(&"insights_api".to_owned()), "{json}");
    let insights_api =
        json["services"].as_array().unwrap().iter().find(|s| s["name"] == "insights_api").unwrap();
    assert_eq!(insights_api["reasons"][0], serde_json::json!({"kind": "image", "image": "transformer"}));
}

#[test]
fn affected_a_new_platform_rebuilds_every_image() {
    let dir = project_repo();
    edit_config(dir.path(), "platforms \"linux/amd64\" \"linux/arm64\"", "platforms \"linux/amd64\"");
    let json = affected_json(dir.path(), &["--since", "HEAD"]);
    assert_eq!(names(&json, "images"), all_images());
    assert!(json["images"][0]["reasons"].to_string().contains("\"build\""), "{json}");
}

#[test]
fn affected_works_for_a_project_in_a_subfolder_and_sees_deletions() {
    let outer = tempfile::tempdir().unwrap();
    let project = support::rendered_copy();
    let sub = outer.path().join("deploy");
    std::fs::create_dir_all(&sub).unwrap();
    for entry in ["project.kdl", "generated"] {
        let status = Command::new("cp").arg("-r").arg(project.path().join(entry)).arg(&sub).status().unwrap();
        assert!(status.success());
    }
    std::fs::create_dir_all(sub.join("mcp")).unwrap();
    std::fs::write(sub.join("mcp/main.py"), "x\n").unwrap();
    std::fs::write(outer.path().join("README.md"), "outside the project\n").unwrap();
    git(outer.path(), &["init", "-q", "-b", "main"]);
    // A user setting that would make `git diff` print project-relative paths.
    git(outer.path(), &["config", "diff.relative", "true"]);
    git(outer.path(), &["add", "-A"]);
    git(outer.path(), &["commit", "-q", "-m", "project"]);
    std::fs::remove_file(sub.join("mcp/main.py")).unwrap();
    std::fs::write(outer.path().join("README.md"), "changed\n").unwrap();
    let output = support::gscgen()
        .current_dir(outer.path())
        .args(["--config", "deploy/project.kdl", "affected", "--since", "HEAD", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["changed_files"], serde_json::json!(["mcp/main.py"]), "{json}");
    assert_eq!(names(&json, "images"), ["mcp"]);
}

#[test]
fn affected_without_the_config_at_the_revision_counts_everything() {
    let dir = project_repo();
    git(dir.path(), &["mv", "project.kdl", "old.kdl"]);
    git(dir.path(), &["commit", "-qm", "rename"]);
    git(dir.path(), &["mv", "old.kdl", "project.kdl"]);
    let output = run_in(dir.path(), &["affected", "--since", "HEAD", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("does not exist at HEAD"), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(names(&json, "images"), all_images());
}

#[test]
fn affected_with_an_empty_file_list_reports_nothing() {
    let output = run(&["affected", "--files"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "nothing to rebuild or redeploy\n");
}

#[test]
fn why_refuses_what_is_not_a_package_name() {
    let output = run(&["why", "celery_worker", "prophet>=1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not a package name"), "{}", stderr(&output));
}

#[test]
fn graph_declares_the_base_image_even_without_base_groups() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("project.kdl"),
        "project p {\n    python \"3.12\"\n}\ntargets {\n    requirements\n    docker\n}\ngroup web {\n    require \"idna>=3\"\n}\nimage web {\n    groups web\n}\nservice web image=web\n",
    )
    .unwrap();
    let dot = stdout(&run_in(dir.path(), &["graph", "--format", "dot"]));
    assert!(dot.contains("\"base-image\" [label=\"base image\""), "{dot}");
    let file = dir.path().join("g.dot");
    std::fs::write(&file, &dot).unwrap();
    let svg = tool("dot").arg("-Tsvg").arg(&file).output().unwrap();
    assert!(svg.status.success() && svg.stderr.is_empty(), "{}", String::from_utf8_lossy(&svg.stderr));
    let mermaid = stdout(&run_in(dir.path(), &["graph", "--format", "mermaid"]));
    assert!(mermaid.contains("base[[\"base image\"]]"), "{mermaid}");
}
