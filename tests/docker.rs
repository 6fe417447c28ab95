//! Issue 3: the docker target. Every generated Dockerfile is parsed back (a small parser
//! below: `\` continuations, parser directives, stages, instruction flags) and checked
//! against the model of its config, for the repo's project.kdl and two fixture projects
//! of other shapes (tests/fixtures/docker/: one image on distroless; an eight-level
//! include chain on Python 3.12). Each rule is also shown to fail on the seed plan's own
//! version of the line (the `seed_*` tests), so none of them passes vacuously.
//! hadolint and shellcheck run on every generated Dockerfile and build script.

mod support;

use support::codes;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gscgen::config::{HealthCheckDecl, HealthDecl};
use gscgen::model::{DockerfileExtra, Image, Model, User};
use gscgen::plan::{Plan, PlanContext};
use gscgen::source::Source;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

struct Project {
    name: &'static str,
    model: Model,
    plan: Plan,
}

impl Project {
    fn load(name: &'static str, path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let source = Source::new("project.kdl", text);
        let (model, diagnostics) = support::check_source(&source);
        let Some(model) = model else {
            panic!(
                "{name} does not compile: {:?}",
                diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
            )
        };
        assert_eq!(diagnostics.warning_count(), 0, "{name} has warnings");
        let plan =
            gscgen::plan::plan(&model, &PlanContext { config_name: "project.kdl".into() }).expect("plan");
        Self { name, model, plan }
    }

    fn file(&self, path: &str) -> String {
        let file = self.planned(path).unwrap_or_else(|| panic!("{}: {path} not planned", self.name));
        String::from_utf8(file.bytes.clone()).expect("utf-8")
    }

    /// A planned file by its path inside the output folder (plans name files from the
    /// project root).
    fn planned(&self, path: &str) -> Option<&gscgen::plan::PlannedFile> {
        self.plan.get(self.model.project.output.join(path).as_str())
    }

    fn dockerfile(&self, path: &str) -> Dockerfile {
        Dockerfile::parse(&self.file(path))
    }

    /// Every planned file by its path relative to the build context (the project root).
    fn context_files(&self) -> BTreeMap<String, String> {
        self.plan
            .files
            .iter()
            .map(|f| (f.path.clone().into_string(), String::from_utf8_lossy(&f.bytes).into_owned()))
            .collect()
    }

    /// Paths (relative to the output folder) of every generated Dockerfile.
    fn dockerfiles(&self) -> Vec<String> {
        let mut paths = vec![gscgen::plan::base_dockerfile_path().into_string()];
        paths.extend(self.model.images.iter().map(|i| gscgen::plan::dockerfile_path(i).into_string()));
        paths
    }

    fn python(&self) -> String {
        self.model.project.python.to_string()
    }

    fn builder_ref(&self) -> String {
        self.tag("base-builder")
    }

    fn runtime_ref(&self) -> String {
        self.tag("base-runtime")
    }

    /// The tag the build script gives a build.
    fn tag(&self, name: &str) -> String {
        let builds = script_builds(&self.file("scripts/docker-build.sh"), unquote_sh);
        builds.into_iter().find(|b| b.name == name).and_then(|b| b.value("--tag")).expect("tag")
    }

    /// Writes the plan's output folder into a folder, for the external tools.
    fn write_to(&self, dir: &Path) {
        for file in &self.plan.files {
            let Ok(inside) = file.path.strip_prefix(&self.model.project.output) else { continue };
            let path = dir.join(inside.as_str());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &file.bytes).unwrap();
        }
    }
}

fn repo_project() -> Project {
    Project::load("repo", &support::repo().join("project.kdl"))
}

fn fixture(name: &'static str) -> Project {
    Project::load(name, &support::repo().join("tests/fixtures/docker").join(name).join("project.kdl"))
}

fn projects() -> Vec<Project> {
    vec![repo_project(), fixture("single"), fixture("deep")]
}

/// The escape-hatch fixture (tests/fixtures/hatches/): every `dockerfile-extra` point. Not in
/// [`projects`]: its `after-copy` RUN comes after the code on purpose, which the layer-order
/// rule forbids for generated lines; the linters, snapshots and placement tests take it.
fn hatches() -> Project {
    Project::load("hatches", &support::repo().join("tests/fixtures/hatches/project.kdl"))
}

/// The plain-image fixture (tests/fixtures/plain/): two images built FROM pre-built images
/// next to one of the base. Not in [`projects`]: the rules there are those of images of the
/// base (requirements, the venv, the base user); tests/plain_images.rs checks its own.
fn plain() -> Project {
    Project::load("plain", &support::repo().join("tests/fixtures/plain/project.kdl"))
}

/// Every project the linters and snapshots cover.
fn linted_projects() -> Vec<Project> {
    let mut all = projects();
    all.push(hatches());
    all.push(plain());
    all
}

// ---------------------------------------------------------------------------------------
// A small Dockerfile parser
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Instruction {
    /// 1-based line of the instruction's first line.
    line: usize,
    keyword: String,
    /// `--name=value` flags before the arguments, in order.
    flags: Vec<(String, String)>,
    /// The arguments after the flags, continuation lines joined.
    rest: String,
}

impl Instruction {
    fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn flags(&self, name: &str) -> Vec<&str> {
        self.flags.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    fn words(&self) -> Vec<&str> {
        self.rest.split_whitespace().collect()
    }

    /// The exec form (JSON array of strings), if the arguments are one.
    fn exec_form(&self) -> Option<Vec<String>> {
        serde_json::from_str(self.rest.trim()).ok()
    }

    /// A cache mount on `target` (`--mount=type=cache,target=…[,sharing=…]`).
    fn cache_mount(&self, target: &str) -> Option<BTreeMap<&str, &str>> {
        self.flags("mount").into_iter().map(mount_options).find(|m| {
            m.get("type") == Some(&"cache")
                && (m.get("target") == Some(&target) || m.get("dst") == Some(&target))
        })
    }

    fn is_copy_from_context(&self) -> bool {
        self.keyword == "COPY" && self.flag("from").is_none()
    }
}

fn mount_options(value: &str) -> BTreeMap<&str, &str> {
    value.split(',').filter_map(|kv| kv.split_once('=')).collect()
}

#[derive(Debug, Clone)]
struct Stage {
    /// The FROM argument as written (`${BASE_RUNTIME}`).
    from: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

impl Stage {
    fn all(&self, keyword: &str) -> Vec<&Instruction> {
        self.instructions.iter().filter(|i| i.keyword == keyword).collect()
    }
}

#[derive(Debug, Clone, Default)]
struct Dockerfile {
    /// Parser directives (`# syntax=…`), lowercased keys.
    directives: BTreeMap<String, String>,
    /// Instructions before the first FROM (global ARGs).
    global: Vec<Instruction>,
    stages: Vec<Stage>,
}

impl Dockerfile {
    fn parse(text: &str) -> Self {
        let mut file = Dockerfile::default();
        let lines: Vec<&str> = text.lines().collect();
        let mut directives_open = true;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let trimmed = line.trim_start();
            if directives_open {
                if let Some((key, value)) = directive(trimmed) {
                    file.directives.insert(key, value);
                    i += 1;
                    continue;
                }
                directives_open = false;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                i += 1;
                continue;
            }
            let start = i;
            let mut joined = String::new();
            let mut current = line;
            loop {
                match current.trim_end().strip_suffix('\\') {
                    Some(body) => {
                        joined.push_str(body);
                        joined.push(' ');
                        i += 1;
                        // Comment lines inside a continuation are dropped, as Docker does.
                        while i < lines.len() && lines[i].trim_start().starts_with('#') {
                            i += 1;
                        }
                        assert!(i < lines.len(), "line {}: continuation at end of file", start + 1);
                        current = lines[i];
                    }
                    None => {
                        joined.push_str(current);
                        i += 1;
                        break;
                    }
                }
            }
            let instruction = instruction(start + 1, &joined);
            if instruction.keyword == "FROM" {
                let words = instruction.words();
                let name = match words.as_slice() {
                    [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some((*name).to_owned()),
                    [_] => None,
                    other => panic!("line {}: malformed FROM {other:?}", instruction.line),
                };
                file.stages.push(Stage { from: words[0].to_owned(), name, instructions: Vec::new() });
            } else if let Some(stage) = file.stages.last_mut() {
                stage.instructions.push(instruction);
            } else {
                assert!(instruction.keyword == "ARG", "line {}: only ARG may precede FROM", instruction.line);
                file.global.push(instruction);
            }
        }
        file
    }

    fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name.as_deref() == Some(name))
    }

    fn last(&self) -> &Stage {
        self.stages.last().expect("a stage")
    }

    /// Default values of the global ARGs.
    fn global_args(&self) -> BTreeMap<String, Option<String>> {
        self.global
            .iter()
            .map(|a| match a.rest.trim().split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (a.rest.trim().to_owned(), None),
            })
            .collect()
    }

    /// A stage's base with `${ARG}` / `$ARG` replaced by the global ARG defaults.
    fn resolved_from(&self, stage: &Stage) -> String {
        let args = self.global_args();
        let from = stage.from.as_str();
        let name =
            from.strip_prefix("${").and_then(|f| f.strip_suffix('}')).or_else(|| from.strip_prefix('$'));
        match name {
            Some(name) => args.get(name).cloned().flatten().unwrap_or_default(),
            None => from.to_owned(),
        }
    }
}

/// `# key=value` at the top of the file.
fn directive(line: &str) -> Option<(String, String)> {
    let body = line.strip_prefix('#')?.trim();
    let (key, value) = body.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| (key.to_lowercase(), value.trim().into()))
}

fn instruction(line: usize, text: &str) -> Instruction {
    let text = text.trim();
    let (keyword, mut rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let keyword = keyword.to_uppercase();
    let mut flags = Vec::new();
    if matches!(keyword.as_str(), "FROM" | "RUN" | "COPY" | "ADD" | "HEALTHCHECK") {
        loop {
            let trimmed = rest.trim_start();
            let Some(flag) = trimmed.strip_prefix("--") else { break };
            let end = flag.find(char::is_whitespace).unwrap_or(flag.len());
            let (name, value) = flag[..end].split_once('=').unwrap_or((&flag[..end], ""));
            flags.push((name.to_owned(), value.to_owned()));
            rest = &flag[end..];
        }
    }
    Instruction { line, keyword, flags, rest: rest.trim().to_owned() }
}

/// BuildKit's reading of one `KEY="value"` word (see quote.rs: `\` escapes `"`, `$`, `\`).
fn env_pairs(instruction: &Instruction) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = instruction.rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('='), "ENV {key} without =");
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next().expect("unterminated quote") {
                    '\\' => value.push(chars.next().expect("escape at end")),
                    '"' => break,
                    '$' => panic!("unescaped $ in ENV {key}"),
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())));
        }
        pairs.push((key, value));
    }
    pairs
}

// ---------------------------------------------------------------------------------------
// The rules, each a function the seed tests can feed the seed's lines to
// ---------------------------------------------------------------------------------------

type Rule = Result<(), String>;

fn fail(errors: Vec<String>) -> Rule {
    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n")) }
}

/// Every `-r` file reachable from a `pip install -r` is copied into the stage before it.
/// `context` maps build-context paths to their contents (to follow nested `-r` lines).
fn rule_requirements_copied(df: &Dockerfile, context: &BTreeMap<String, String>) -> Rule {
    let mut errors = Vec::new();
    for stage in &df.stages {
        let mut copied: BTreeMap<String, String> = BTreeMap::new();
        for ins in &stage.instructions {
            if ins.is_copy_from_context() {
                let words = ins.words();
                let (dest, sources) = words.split_last().expect("COPY arguments");
                for source in sources {
                    let target = if dest.ends_with('/') || sources.len() > 1 {
                        format!("{}/{}", dest.trim_end_matches('/'), source.rsplit('/').next().unwrap())
                    } else {
                        (*dest).to_owned()
                    };
                    copied.insert(target, (*source).to_owned());
                }
            }
            if ins.keyword != "RUN" || !ins.rest.contains("pip install") {
                continue;
            }
            let words = ins.words();
            let mut pending: Vec<String> = words
                .windows(2)
                .filter(|w| w[0] == "-r" || w[0] == "--requirement")
                .map(|w| w[1].to_owned())
                .collect();
            let mut seen = BTreeSet::new();
            while let Some(file) = pending.pop() {
                if !seen.insert(file.clone()) {
                    continue;
                }
                let Some(source) = copied.get(&file) else {
                    errors.push(format!(
                        "line {}: `{file}` is read by pip but was not copied before",
                        ins.line
                    ));
                    continue;
                };
                let Some(content) = context.get(source) else {
                    errors.push(format!(
                        "line {}: COPY source `{source}` is not in the build context",
                        ins.line
                    ));
                    continue;
                };
                let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
                for line in content.lines() {
                    let line = line.trim();
                    let nested = line.strip_prefix("-r ").or_else(|| line.strip_prefix("--requirement "));
                    if let Some(nested) = nested {
                        pending.push(format!("{dir}/{}", nested.trim()));
                    }
                }
            }
        }
    }
    fail(errors)
}

/// pip runs with a BuildKit cache mount and nothing that defeats it (`--no-cache-dir`,
/// `PIP_NO_CACHE_DIR`).
fn rule_pip_cache(df: &Dockerfile) -> Rule {
    let mut errors = Vec::new();
    for stage in &df.stages {
        for ins in &stage.instructions {
            if ins.keyword == "ENV" && ins.rest.contains("PIP_NO_CACHE_DIR") {
                errors.push(format!("line {}: PIP_NO_CACHE_DIR disables the pip cache", ins.line));
            }
            if ins.keyword != "RUN" || !ins.rest.contains("pip install") {
                continue;
            }
            if ins.cache_mount("/root/.cache/pip").is_none() {
                errors.push(format!(
                    "line {}: pip install without a cache mount on /root/.cache/pip",
                    ins.line
                ));
            }
            if ins.rest.contains("--no-cache-dir") {
                errors.push(format!("line {}: --no-cache-dir makes the pip cache mount useless", ins.line));
            }
        }
    }
    fail(errors)
}

/// apt runs with locked cache mounts on /var/cache/apt and /var/lib/apt, keeps the
/// downloaded packages (Debian's docker-clean hook removed), and deletes nothing inside the
/// mounts.
fn rule_apt_cache(df: &Dockerfile) -> Rule {
    let mut errors = Vec::new();
    for stage in &df.stages {
        for ins in &stage.instructions {
            if ins.keyword != "RUN" || !ins.rest.contains("apt-get") {
                continue;
            }
            for target in ["/var/cache/apt", "/var/lib/apt"] {
                match ins.cache_mount(target) {
                    Some(m) if m.get("sharing") == Some(&"locked") => {}
                    Some(_) => {
                        errors.push(format!("line {}: cache mount {target} is not sharing=locked", ins.line))
                    }
                    None => {
                        errors.push(format!("line {}: apt-get without a cache mount on {target}", ins.line))
                    }
                }
            }
            if ins.rest.contains("/var/lib/apt/lists") && ins.rest.contains("rm ") {
                errors.push(format!("line {}: deletes apt lists inside the apt cache mount", ins.line));
            }
            if !ins.rest.contains("rm -f /etc/apt/apt.conf.d/docker-clean") {
                errors.push(format!("line {}: Debian's docker-clean would empty the apt cache", ins.line));
            }
            if !ins.rest.contains("--no-install-recommends") {
                errors.push(format!("line {}: apt-get install without --no-install-recommends", ins.line));
            }
        }
    }
    fail(errors)
}

/// The packages an instruction installs with apt-get.
fn apt_packages(ins: &Instruction) -> Vec<String> {
    let Some((_, after)) = ins.rest.split_once("apt-get install") else { return Vec::new() };
    after
        .split("&&")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .map(|w| w.trim_matches('\'').split('=').next().unwrap().to_owned())
        .collect()
}

fn stage_packages(stage: &Stage) -> BTreeSet<String> {
    stage.all("RUN").into_iter().flat_map(apt_packages).collect()
}

/// In the base Dockerfile, the builder stage installs every build package, the runtime
/// stage none of them.
fn rule_base_compilers(df: &Dockerfile, build_packages: &[String]) -> Rule {
    let mut errors = Vec::new();
    let builder = df.stage("base-builder").map(stage_packages).unwrap_or_default();
    for package in build_packages {
        if !builder.contains(package) {
            errors.push(format!("base-builder lacks build package `{package}`"));
        }
    }
    let runtime = df.stage("base-runtime").map(stage_packages).unwrap_or_default();
    for package in build_packages {
        if runtime.contains(package) {
            errors.push(format!("base-runtime installs build package `{package}`"));
        }
    }
    fail(errors)
}

/// In an image Dockerfile, the stage that runs pip starts from the base *builder* (which has
/// the compiler), the final stage from the base runtime, and the final stage installs no
/// build package.
fn rule_image_compilers(
    df: &Dockerfile,
    builder_ref: &str,
    runtime_ref: &str,
    build_packages: &[String],
) -> Rule {
    let mut errors = Vec::new();
    let last = df.last();
    for stage in &df.stages {
        let compiles =
            stage.instructions.iter().any(|i| i.keyword == "RUN" && i.rest.contains("pip install"));
        if compiles && df.resolved_from(stage) != builder_ref {
            errors.push(format!(
                "stage {:?} runs pip install on `{}`, not on the base builder `{builder_ref}` (no compiler)",
                stage.name,
                df.resolved_from(stage)
            ));
        }
    }
    if df.resolved_from(last) != runtime_ref {
        errors.push(format!("the final stage starts from `{}`, not `{runtime_ref}`", df.resolved_from(last)));
    }
    let runtime = stage_packages(last);
    for package in build_packages {
        if runtime.contains(package) {
            errors.push(format!("the runtime stage installs build package `{package}`"));
        }
    }
    fail(errors)
}

/// No Python version other than the configured one appears (`python:3.11`, `python3.11`).
fn rule_python_version(text: &str, python: &str) -> Rule {
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let lower = line.to_lowercase();
        for (at, _) in lower.match_indices("python") {
            let rest = lower[at + 6..].trim_start_matches(':');
            let version: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            let version = version.trim_end_matches('.');
            if version.contains('.') && version != python {
                errors
                    .push(format!("line {}: Python {version} hard-coded (the project uses {python})", n + 1));
            }
        }
    }
    fail(errors)
}

/// The `# syntax=` directive is present exactly when configured.
fn rule_syntax(df: &Dockerfile, configured: Option<&str>) -> Rule {
    match (df.directives.get("syntax").map(String::as_str), configured) {
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("# syntax= is {a:?}, configured {b:?}")),
    }
}

/// HEALTHCHECK only where the image declares a check, in exec form, doing that check.
fn rule_healthcheck(df: &Dockerfile, declared: Option<&HealthDecl>) -> Rule {
    let checks = df.last().all("HEALTHCHECK");
    let Some(decl) = declared else {
        return fail(
            checks
                .iter()
                .map(|c| format!("line {}: HEALTHCHECK the config does not declare", c.line))
                .collect(),
        );
    };
    let [check] = checks.as_slice() else {
        return Err(format!("{} HEALTHCHECK instructions for one declared check", checks.len()));
    };
    let mut errors = Vec::new();
    let Some(cmd) = check.rest.strip_prefix("CMD ") else {
        return Err(format!("line {}: HEALTHCHECK without CMD", check.line));
    };
    let Ok(args) = serde_json::from_str::<Vec<String>>(cmd.trim()) else {
        return Err(format!("line {}: HEALTHCHECK CMD is not exec form: {cmd}", check.line));
    };
    match &decl.check {
        Some(HealthCheckDecl::Http { path, port }) => {
            let url = format!("http://localhost:{}{}", port.value, path.value);
            if args.len() != 3 || args[0] != "python" || args[1] != "-c" || !args[2].contains(&url) {
                errors.push(format!("line {}: the HTTP check does not request {url}: {args:?}", check.line));
            }
        }
        Some(HealthCheckDecl::Exec(command)) => {
            let expected: Vec<&str> = command.args.iter().map(|a| a.value.as_str()).collect();
            if args != expected {
                errors.push(format!("line {}: runs {args:?}, configured {expected:?}", check.line));
            }
        }
        None => errors.push("declared health without a check".into()),
    }
    if args.iter().any(|a| a.contains("sys.exit(0)")) {
        errors.push(format!("line {}: a check that always passes", check.line));
    }
    for (flag, value) in
        [("interval", &decl.interval), ("timeout", &decl.timeout), ("start-period", &decl.start_period)]
    {
        if check.flag(flag) != value.as_ref().map(|v| v.value.as_str()) {
            errors.push(format!("line {}: --{flag} is {:?}", check.line, check.flag(flag)));
        }
    }
    let retries = decl.retries.as_ref().map(|r| r.value.to_string());
    if check.flag("retries") != retries.as_deref() {
        errors.push(format!("line {}: --retries is {:?}", check.line, check.flag("retries")));
    }
    fail(errors)
}

/// The final stage runs as the configured non-root uid (numeric, so Kubernetes'
/// runAsNonRoot can verify it), or as root only when the image opts out.
fn rule_user(df: &Dockerfile, expected: &User) -> Rule {
    let users = df.last().all("USER");
    let last = users.last().map(|u| u.rest.as_str());
    match expected {
        User::Root => match last {
            None | Some("root" | "0" | "0:0") => Ok(()),
            Some(other) => Err(format!("USER {other} in an image declared root")),
        },
        // A plain image without `user` keeps its `from` image's: no USER line.
        User::Inherited => match last {
            None => Ok(()),
            Some(other) => Err(format!("USER {other} in an image that keeps its from image's user")),
        },
        User::NonRoot { uid, .. } => {
            let want = format!("{uid}:{uid}");
            match last {
                Some(user) if user == want && *uid != 0 => Ok(()),
                Some(user) => Err(format!("USER {user}, expected the non-root uid {want}")),
                None => Err("no USER: the image runs as root".into()),
            }
        }
    }
}

/// CMD, ENTRYPOINT and HEALTHCHECK CMD are JSON arrays of strings.
fn rule_exec_form(df: &Dockerfile) -> Rule {
    let mut errors = Vec::new();
    for stage in &df.stages {
        for ins in &stage.instructions {
            let args = match ins.keyword.as_str() {
                "CMD" | "ENTRYPOINT" => ins.rest.as_str(),
                "HEALTHCHECK" => ins.rest.strip_prefix("CMD ").unwrap_or(&ins.rest),
                _ => continue,
            };
            if serde_json::from_str::<Vec<String>>(args.trim()).is_err() {
                errors.push(format!("line {}: {} in shell form: {args}", ins.line, ins.keyword));
            }
        }
    }
    fail(errors)
}

/// In the final stage, the code (COPY from the context) comes after every dependency
/// layer (RUN, COPY --from), so a code change rebuilds only the code layers.
fn rule_layer_order(df: &Dockerfile) -> Rule {
    let stage = df.last();
    let Some(first_code) = stage.instructions.iter().position(Instruction::is_copy_from_context) else {
        return Ok(());
    };
    fail(
        stage.instructions[first_code..]
            .iter()
            .filter(|i| i.keyword == "RUN" || (i.keyword == "COPY" && i.flag("from").is_some()))
            .map(|i| {
                format!(
                    "line {}: {} after the code is copied (rebuilt on every code change)",
                    i.line, i.keyword
                )
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// The rules applied to the generated files
// ---------------------------------------------------------------------------------------

fn check(project: &Project, path: &str, rule: &str, result: Rule) -> Option<String> {
    result.err().map(|e| format!("{} {path}: {rule}:\n{e}", project.name))
}

fn image_build_packages(model: &Model, image: &Image) -> Vec<String> {
    model.base.build_packages.iter().chain(&image.build_packages).cloned().collect()
}

#[test]
fn generated_dockerfiles_follow_every_rule() {
    let mut errors = Vec::new();
    for project in projects() {
        let context = project.context_files();
        let model = &project.model;
        let syntax = model.targets.docker.as_ref().unwrap().syntax.as_deref();
        let python = project.python();
        for path in project.dockerfiles() {
            let text = project.file(&path);
            let df = Dockerfile::parse(&text);
            errors.extend(check(&project, &path, "requirements", rule_requirements_copied(&df, &context)));
            errors.extend(check(&project, &path, "pip cache", rule_pip_cache(&df)));
            errors.extend(check(&project, &path, "apt cache", rule_apt_cache(&df)));
            errors.extend(check(&project, &path, "python", rule_python_version(&text, &python)));
            errors.extend(check(&project, &path, "syntax", rule_syntax(&df, syntax)));
            errors.extend(check(&project, &path, "exec form", rule_exec_form(&df)));
        }
        let base = project.dockerfile(&gscgen::plan::base_dockerfile_path().into_string());
        errors.extend(check(
            &project,
            "base",
            "compilers",
            rule_base_compilers(&base, &model.base.build_packages),
        ));
        for image in &model.images {
            let path = gscgen::plan::dockerfile_path(image).into_string();
            let df = project.dockerfile(&path);
            let build = image_build_packages(model, image);
            let (builder, runtime) = (project.builder_ref(), project.runtime_ref());
            errors.extend(check(
                &project,
                &path,
                "compilers",
                rule_image_compilers(&df, &builder, &runtime, &build),
            ));
            errors.extend(check(
                &project,
                &path,
                "healthcheck",
                rule_healthcheck(&df, image.health.as_ref()),
            ));
            errors.extend(check(&project, &path, "user", rule_user(&df, &image.user)));
            errors.extend(check(&project, &path, "layer order", rule_layer_order(&df)));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

/// A locked project's builders copy exactly one lock each: the base builder the base
/// image's, an image that installs groups of its own its own (whose closure holds the whole
/// closure: tests/locking.rs), and install it with hashes required.
fn locked_builders_install_their_lock(project: &Project) {
    let model = &project.model;
    let copied = |df: &Dockerfile| -> Vec<String> {
        df.stages
            .iter()
            .flat_map(|stage| stage.all("COPY"))
            .filter(|i| i.flag("from").is_none())
            .flat_map(|i| {
                let words = i.words();
                words[..words.len() - 1].iter().map(|w| w.to_string()).collect::<Vec<_>>()
            })
            .filter(|w| w.contains("/requirements/"))
            .collect()
    };
    let base = project.dockerfile(&gscgen::plan::base_dockerfile_path().into_string());
    assert_eq!(copied(&base), ["generated/requirements/lock/base-image.txt"], "{}: base", project.name);
    for image in &model.images {
        let df = project.dockerfile(&gscgen::plan::dockerfile_path(image).into_string());
        let own = image.groups.iter().any(|g| !model.base.closure.contains(&g.value));
        let expected: Vec<String> = if own {
            vec![format!("generated/requirements/lock/images/{}.txt", image.name.value)]
        } else {
            Vec::new()
        };
        assert_eq!(copied(&df), expected, "{}: {}", project.name, image.name.value);
    }
}

/// The builder stages together install exactly the image's closure: the base builder the
/// base closure, the image builder the rest (reached through `-r` lines).
#[test]
fn builders_install_the_whole_closure() {
    for project in projects() {
        let model = &project.model;
        if !model.locks.is_empty() {
            locked_builders_install_their_lock(&project);
            continue;
        }
        let group_of = |file: &str| file.rsplit('/').next().unwrap().trim_end_matches(".txt").to_owned();
        let reached = |df: &Dockerfile| -> BTreeSet<String> {
            let context = project.context_files();
            let mut files = BTreeSet::new();
            for stage in &df.stages {
                for ins in stage.all("COPY").into_iter().filter(|i| i.flag("from").is_none()) {
                    let words = ins.words();
                    for source in &words[..words.len() - 1] {
                        if source.ends_with(".txt") && context.contains_key(*source) {
                            files.insert(group_of(source));
                        }
                    }
                }
            }
            files
        };
        let base = reached(&project.dockerfile(&gscgen::plan::base_dockerfile_path().into_string()));
        let base_closure: BTreeSet<String> =
            model.base.closure.iter().map(|g| model.groups[*g].name.value.clone()).collect();
        assert_eq!(base, base_closure, "{}: base", project.name);
        for image in &model.images {
            let df = project.dockerfile(&gscgen::plan::dockerfile_path(image).into_string());
            let closure: BTreeSet<String> =
                image.closure.iter().map(|g| model.groups[*g].name.value.clone()).collect();
            let mut installed = reached(&df);
            if installed.is_empty() {
                // No builder stage: everything must come from the base image.
                assert!(
                    closure.is_subset(&base_closure),
                    "{}: {} needs a builder",
                    project.name,
                    image.name.value
                );
                assert!(df.stage("builder").is_none());
                continue;
            }
            installed.extend(base.iter().cloned());
            assert_eq!(
                installed,
                closure.union(&base_closure).cloned().collect(),
                "{}: {}",
                project.name,
                image.name.value
            );
        }
    }
}

/// The runtime stage carries the config: ENV values (read back with BuildKit's quoting),
/// CMD/ENTRYPOINT, EXPOSE, WORKDIR, the code COPYs in config order, pre-downloads.
#[test]
fn runtime_stages_carry_the_config() {
    for project in projects() {
        let model = &project.model;
        for image in &model.images {
            let path = gscgen::plan::dockerfile_path(image).into_string();
            let df = project.dockerfile(&path);
            let stage = df.last();
            let env: Vec<(String, String)> = stage.all("ENV").into_iter().flat_map(env_pairs).collect();
            let expected: Vec<(String, String)> = image.env.clone();
            let own: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k != "HOME").collect();
            assert_eq!(own, expected, "{path}: ENV");
            let exec =
                |keyword: &str| stage.all(keyword).last().and_then(|i| i.exec_form()).unwrap_or_default();
            assert_eq!(exec("CMD"), image.cmd, "{path}: CMD");
            assert_eq!(exec("ENTRYPOINT"), image.entrypoint, "{path}: ENTRYPOINT");
            let expose: Vec<String> =
                stage.all("EXPOSE").iter().flat_map(|e| e.words()).map(str::to_owned).collect();
            assert_eq!(expose, image.expose.iter().map(u16::to_string).collect::<Vec<_>>(), "{path}: EXPOSE");
            assert_eq!(
                stage.all("WORKDIR").last().map(|w| w.rest.as_str()),
                image.workdir.as_deref(),
                "{path}"
            );
            let copies: Vec<(String, String)> = stage
                .instructions
                .iter()
                .filter(|i| i.is_copy_from_context())
                .map(|i| (i.words()[0].to_owned(), i.words()[1].to_owned()))
                .collect();
            let expected: Vec<(String, String)> =
                image.copies.iter().map(|c| (c.source.value.clone(), c.target.clone())).collect();
            assert_eq!(copies, expected, "{path}: code COPYs");
            let preload: Vec<Vec<String>> = stage.all("RUN").iter().filter_map(|r| r.exec_form()).collect();
            assert_eq!(preload, image.preload, "{path}: pre-downloads");
            // Pre-downloads run as the image's user (caches in its home), after the environment.
            if let Some(first) =
                stage.instructions.iter().position(|i| i.keyword == "RUN" && i.exec_form().is_some())
            {
                let user = stage.instructions[..first].iter().rposition(|i| i.keyword == "USER");
                assert_eq!(user.is_some(), image.user != User::Root, "{path}: preload user");
                let venv = stage
                    .instructions
                    .iter()
                    .position(|i| i.flag("from").is_some() && i.rest.contains("/opt/venv"));
                assert!(venv.is_none_or(|v| v < first), "{path}: preload before the environment");
            }
        }
    }
}

/// Writable folders exist and belong to the image's user before the code arrives.
#[test]
fn writable_folders_belong_to_the_user() {
    for project in projects() {
        let model = &project.model;
        for image in &model.images {
            let path = gscgen::plan::dockerfile_path(image).into_string();
            let stage = project.dockerfile(&path).last().clone();
            let owner = match &image.user {
                User::NonRoot { uid, .. } => Some(format!("{uid}:{uid}")),
                User::Root | User::Inherited => None,
            };
            for dir in &image.writable {
                let by_run = stage.all("RUN").iter().any(|r| {
                    r.rest.contains("mkdir -p")
                        && r.words().contains(&dir.as_str())
                        && owner.as_ref().is_none_or(|o| r.rest.contains(&format!("chown {o} ")))
                });
                let by_copy = stage.all("COPY").iter().any(|c| {
                    c.flag("from").is_some()
                        && c.words().last() == Some(&dir.as_str())
                        && c.flag("chown") == owner.as_deref()
                });
                assert!(by_run || by_copy, "{path}: writable {dir} not created for {owner:?}");
            }
        }
    }
}

#[test]
fn base_dockerfile_stages_and_environment() {
    for project in projects() {
        let model = &project.model;
        let df = project.dockerfile(&gscgen::plan::base_dockerfile_path().into_string());
        let names: Vec<_> = df.stages.iter().map(|s| s.name.clone().unwrap_or_default()).collect();
        assert_eq!(names, ["base-builder", "base-runtime"], "{}", project.name);
        let builder = df.stage("base-builder").unwrap();
        assert_eq!(builder.from, model.base.from, "{}", project.name);
        assert!(builder.all("RUN").iter().any(|r| r.rest.contains("-m venv /opt/venv")), "{}", project.name);
        let runtime = df.stage("base-runtime").unwrap();
        assert!(
            runtime
                .all("COPY")
                .iter()
                .any(|c| c.flag("from") == Some("base-builder") && c.rest == "/opt/venv /opt/venv"),
            "{}",
            project.name
        );
        let env: BTreeMap<String, String> = runtime
            .all("ENV")
            .into_iter()
            .flat_map(|e| {
                // PATH is written with ${PATH} on purpose: read it raw.
                e.rest
                    .split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(env.get("PATH").map(String::as_str), Some("/opt/venv/bin:${PATH}"), "{}", project.name);
        assert_eq!(env.get("PYTHONUNBUFFERED").map(String::as_str), Some("1"));
        assert_eq!(env.get("PYTHONDONTWRITEBYTECODE").map(String::as_str), Some("1"));
        assert!(!builder.instructions.iter().any(|i| i.keyword == "USER"), "the builder runs as root");
    }
}

/// Docker's `.dockerignore` for a Dockerfile built from another folder than the context is
/// `<Dockerfile>.dockerignore` next to it; every Dockerfile gets one, with the config's list.
#[test]
fn every_dockerfile_has_its_dockerignore() {
    for project in projects() {
        for path in project.dockerfiles() {
            let ignore = project.file(&format!("{path}.dockerignore"));
            let patterns: Vec<&str> =
                ignore.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect();
            assert_eq!(patterns, project.model.dockerignore, "{path}");
        }
    }
}

/// The repo's default list fixes the seed's root-anchored patterns (docs/docker.md).
#[test]
fn default_dockerignore_is_anchored_as_meant() {
    let project = repo_project();
    let patterns = &project.model.dockerignore;
    for meant_anywhere in ["**/__pycache__", "**/*.pyc", "**/.env", "**/*.log", "**/*.md"] {
        assert!(patterns.iter().any(|p| p == meant_anywhere), "{meant_anywhere}");
    }
    for seed_root_only in ["__pycache__", "*.pyc", "*.log"] {
        assert!(
            !patterns.iter().any(|p| p == seed_root_only),
            "{seed_root_only} only covers the context root"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Build scripts
// ---------------------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq)]
struct ScriptBuild {
    name: String,
    options: Vec<(String, String)>,
}

impl ScriptBuild {
    fn value(&self, option: &str) -> Option<String> {
        self.options.iter().find(|(o, _)| o == option).map(|(_, v)| v.clone())
    }

    fn values(&self, option: &str) -> Vec<String> {
        self.options.iter().filter(|(o, _)| o == option).map(|(_, v)| v.clone()).collect()
    }
}

fn unquote_sh(word: &str) -> String {
    match word.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')) {
        Some(inner) => inner.replace(r"'\''", "'"),
        None => word.to_owned(),
    }
}

fn unquote_bat(word: &str) -> String {
    let inner = word.strip_prefix('"').and_then(|w| w.strip_suffix('"')).unwrap_or(word);
    inner.replace("%%", "%")
}

/// The `docker build` commands of a script, in order, with one option per continuation
/// line, ending with the context `.`. In the .sh each build is a call
/// `base_build NAME "$@" \` or `image NAME "$@" \`; in the .bat a `docker build` after
/// `echo [%time%] start NAME` (the base stages) or the label `:image_NAME` (the images).
/// The .bat's image builds redirect their log (`. >"…\NAME.log" 2>&1`).
fn script_builds(text: &str, unquote: fn(&str) -> String) -> Vec<ScriptBuild> {
    let mut builds = Vec::new();
    let mut lines = text.lines().peekable();
    let mut name = String::new();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("echo [%time%] start ") {
            name = rest.to_owned();
        }
        if let Some(rest) = line.strip_prefix(":image_") {
            name = rest.to_owned();
        }
        let call = ["base_build ", "image "]
            .iter()
            .find_map(|f| line.strip_prefix(f))
            .and_then(|rest| rest.strip_suffix(r#" "$@" \"#));
        if let Some(call) = call {
            name = call.to_owned();
        } else if !line.starts_with("docker build") {
            continue;
        }
        let mut options = Vec::new();
        for option in lines.by_ref() {
            let option = option.trim().trim_end_matches(['\\', '^']).trim();
            if option == "." || option.starts_with(". >") {
                break;
            }
            let (flag, value) = option.split_once(' ').expect("--flag value");
            options.push((flag.to_owned(), unquote(value)));
        }
        builds.push(ScriptBuild { name: name.clone(), options });
    }
    builds
}

#[test]
fn build_scripts_build_base_then_every_image_with_matching_arguments() {
    for project in projects() {
        let model = &project.model;
        let sh_text = project.file("scripts/docker-build.sh");
        assert_eq!(
            project.planned("scripts/docker-build.sh").unwrap().mode,
            gscgen::plan::FileMode::Executable
        );
        assert!(sh_text.contains("\nset -eu\n"), "stops at the first failure");
        let sh = script_builds(&sh_text, unquote_sh);
        // A base stage runs in the foreground and stops the script, naming itself; each image
        // runs in the background and is named with its log's end after the others finished.
        assert!(
            sh_text.contains("echo \"error: $name failed to build; its log is above\" >&2\n        exit 1")
        );
        assert!(sh_text.contains("    image_build \"$@\" &\n"), "{sh_text}");
        assert!(sh_text.contains("\nwait\n"), "{sh_text}");
        assert!(
            sh_text
                .contains("echo \"error: $name failed to build; the end of its log ($logs/$name.log):\" >&2"),
            "{sh_text}"
        );
        let names: Vec<&str> = model.images.iter().map(|i| i.name.value.as_str()).collect();
        assert!(
            sh_text.contains(&format!("\nimages='{}'\nfor name in $images; do\n", names.join(" "))),
            "{sh_text}"
        );
        let bat_text = project.file("scripts/docker-build.bat");
        let bat = script_builds(&bat_text, unquote_bat);
        assert_eq!(sh, bat, "{}: .sh and .bat build the same", project.name);
        assert_eq!(
            bat_text.matches("if errorlevel 1 exit /b").count(),
            1,
            "{}: the .bat stops after cd",
            project.name
        );
        for build in &bat[..2] {
            let stop = format!(
                "    .\nif errorlevel 1 (\n    echo error: {} failed to build; its log is above 1>&2\n    exit /b 1\n)\n",
                build.name
            );
            assert!(bat_text.contains(&stop), "{}: the .bat stops after {}", project.name, build.name);
        }
        for build in &bat[2..] {
            let log = format!("    . >\"%GSCGEN_BUILD_LOGS%\\{}.log\" 2>&1\n", build.name);
            assert!(bat_text.contains(&log), "{}: the .bat logs {} to a file", project.name, build.name);
        }
        assert!(bat_text.contains(&format!("for %%N in ({}) do (\n", names.join(" "))), "{bat_text}");
        let mut expected: Vec<String> = vec!["base-builder".into(), "base-runtime".into()];
        expected.extend(model.images.iter().map(|i| i.name.value.clone()));
        assert_eq!(sh.iter().map(|b| b.name.clone()).collect::<Vec<_>>(), expected, "{}", project.name);
        let output = model.project.output.as_str();
        for build in &sh {
            let file = build.value("--file").unwrap();
            let relative = file.strip_prefix(output).unwrap_or(&file).trim_start_matches('/');
            let df = project.dockerfile(relative);
            let target = build.value("--target").unwrap();
            assert!(df.stage(&target).is_some(), "{file}: no stage {target}");
            let args = df.global_args();
            for arg in build.values("--build-arg") {
                let (name, value) = arg.split_once('=').unwrap();
                assert!(args.contains_key(name), "{file}: --build-arg {name} is not an ARG");
                // The Dockerfile's default is what the script passes: a plain `docker build`
                // or Compose build without arguments gets the same images.
                assert_eq!(args[name].as_deref(), Some(value), "{file}: default of {name}");
            }
        }
        let builder = sh[0].value("--tag").unwrap();
        let runtime = sh[1].value("--tag").unwrap();
        for build in &sh[2..] {
            assert_eq!(
                build.values("--build-arg"),
                [format!("BASE_BUILDER={builder}"), format!("BASE_RUNTIME={runtime}")]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

/// One snapshot per project: every Dockerfile, the base's .dockerignore (the others are
/// the same list, see `every_dockerfile_has_its_dockerignore`) and both scripts.
#[test]
fn snapshots() {
    for project in linted_projects() {
        let mut paths = project.dockerfiles();
        paths.sort();
        paths.push(format!("{}.dockerignore", gscgen::plan::base_dockerfile_path()));
        paths.push("scripts/docker-build.sh".into());
        paths.push("scripts/docker-build.bat".into());
        let mut combined = String::new();
        for path in paths {
            combined.push_str(&format!("==== {path} ====\n{}\n", project.file(&path)));
        }
        insta::assert_snapshot!(project.name, combined);
    }
}

// ---------------------------------------------------------------------------------------
// Escape hatches: `dockerfile-extra` lines at their points
// ---------------------------------------------------------------------------------------

/// The instructions of `lines` as the parser reads them (continuations joined).
fn parsed(lines: &[String]) -> Vec<(String, String)> {
    let text = format!("FROM scratch\n{}\n", lines.join("\n"));
    Dockerfile::parse(&text).stages[0]
        .instructions
        .iter()
        .map(|i| (i.keyword.clone(), i.rest.clone()))
        .collect()
}

fn keyword_rest(instructions: &[Instruction]) -> Vec<(String, String)> {
    instructions.iter().map(|i| (i.keyword.clone(), i.rest.clone())).collect()
}

#[test]
fn dockerfile_extras_sit_at_their_points() {
    let project = hatches();
    let model = &project.model;

    // The fixture's lines, as written there (keywords in any case, a continued RUN).
    let image = &model.images[0];
    assert_eq!(image.dockerfile_extra.before_install[0], "ENV PIP_NO_COMPILE=1", "keyword upper-cased");
    assert_eq!(image.dockerfile_extra.after_copy.len(), 2);
    assert_eq!(image.dockerfile_extra.final_stage, ["STOPSIGNAL SIGINT"]);
    assert_eq!(model.base.dockerfile_extra.before_install, ["ENV PIP_DEFAULT_TIMEOUT=60"]);
    assert_eq!(model.base.dockerfile_extra.final_stage.len(), 1);

    let path = gscgen::plan::dockerfile_path(image).into_string();
    let text = project.file(&path);
    assert!(
        text.contains(
            "RUN python -c \"import sys; print(sys.version)\" \\\n    && python -m pip --version\n"
        ),
        "the continuation is kept as written:\n{text}"
    );
    for point in ["before-install", "after-copy", "final"] {
        let comment = format!("# Written as given in project.kdl: image api › dockerfile-extra › {point}.");
        assert_eq!(text.matches(&comment).count(), 1, "{point}: one comment naming the place:\n{text}");
    }
    let df = Dockerfile::parse(&text);

    // before-install: the first instructions of the builder stage, before its installs.
    let builder = df.stage("builder").expect("a builder stage");
    let before = parsed(&image.dockerfile_extra.before_install);
    assert_eq!(before.len(), 2);
    assert_eq!(keyword_rest(&builder.instructions[..before.len()]), before);
    let pip = builder.instructions.iter().position(|i| i.keyword == "RUN" && i.rest.contains("pip install"));
    assert!(pip.is_some_and(|p| p >= before.len()), "pip installs after the extras");

    // after-copy: right after the last COPY of the code, before EXPOSE and CMD.
    let runtime = df.last();
    let last_code = runtime.instructions.iter().rposition(Instruction::is_copy_from_context).expect("code");
    let after = parsed(&image.dockerfile_extra.after_copy);
    assert_eq!(keyword_rest(&runtime.instructions[last_code + 1..last_code + 1 + after.len()]), after);
    let expose = runtime.instructions.iter().position(|i| i.keyword == "EXPOSE").expect("EXPOSE");
    assert_eq!(expose, last_code + 1 + after.len(), "EXPOSE follows the after-copy lines");

    // final: the very last instructions, after CMD.
    let fin = parsed(&image.dockerfile_extra.final_stage);
    let n = runtime.instructions.len();
    assert_eq!(keyword_rest(&runtime.instructions[n - fin.len()..]), fin);
    assert_eq!(runtime.instructions[n - fin.len() - 1].keyword, "CMD");

    // The base image: before-install opens base-builder, final closes base-runtime.
    let base = project.dockerfile(&gscgen::plan::base_dockerfile_path().into_string());
    let builder = base.stage("base-builder").expect("base-builder");
    let before = parsed(&model.base.dockerfile_extra.before_install);
    assert_eq!(keyword_rest(&builder.instructions[..before.len()]), before);
    let fin = parsed(&model.base.dockerfile_extra.final_stage);
    let runtime = base.stage("base-runtime").expect("base-runtime");
    let n = runtime.instructions.len();
    assert_eq!(keyword_rest(&runtime.instructions[n - fin.len()..]), fin);
    assert_eq!(fin[0].0, "LABEL");

    // Nothing else moved: the Dockerfiles without the extra blocks are exactly what the same
    // model renders without extras.
    let mut plain = model.clone();
    plain.base.dockerfile_extra = DockerfileExtra::default();
    for image in &mut plain.images {
        image.dockerfile_extra = DockerfileExtra::default();
    }
    let plain_plan =
        gscgen::plan::plan(&plain, &PlanContext { config_name: "project.kdl".into() }).expect("plan");
    let block = |owner: &str, point: &str, lines: &[String]| {
        let mut block =
            format!("\n\n# Written as given in project.kdl: {owner} › dockerfile-extra › {point}.");
        for line in lines {
            block.push('\n');
            block.push_str(line);
        }
        block
    };
    let strip = |text: String, owner: &str, extra: &DockerfileExtra| {
        [
            ("before-install", &extra.before_install),
            ("after-copy", &extra.after_copy),
            ("final", &extra.final_stage),
        ]
        .into_iter()
        .filter(|(_, lines)| !lines.is_empty())
        .fold(text, |text, (point, lines)| {
            let block = block(owner, point, lines);
            assert_eq!(text.matches(&block).count(), 1, "{owner} {point}: one block");
            text.replacen(&block, "", 1)
        })
    };
    let base_path = gscgen::plan::base_dockerfile_path().into_string();
    let files = [
        (base_path, "base-image".to_owned(), &model.base.dockerfile_extra),
        (path, format!("image {}", image.name.value), &image.dockerfile_extra),
    ];
    for (path, owner, extra) in files {
        let plain_text = String::from_utf8(
            plain_plan.get(model.project.output.join(&path).as_str()).expect("planned").bytes.clone(),
        )
        .unwrap();
        assert_eq!(strip(project.file(&path), &owner, extra), plain_text, "{path}");
    }
}

// ---------------------------------------------------------------------------------------
// Linters
// ---------------------------------------------------------------------------------------

#[test]
fn hadolint_reports_nothing() {
    let mut report = String::new();
    for project in linted_projects() {
        let dir = tempfile::tempdir().unwrap();
        project.write_to(dir.path());
        let files: Vec<_> = project.dockerfiles().iter().map(|p| dir.path().join(p)).collect();
        let output = support::tool("hadolint")
            .arg("--no-color")
            .arg("--failure-threshold")
            .arg("style")
            .args(&files)
            .output()
            .unwrap();
        let text = format!("{}{}", support::stdout(&output), support::stderr(&output));
        if !output.status.success() || !text.trim().is_empty() {
            report.push_str(&format!("{}:\n{text}\n", project.name));
        }
    }
    assert!(report.is_empty(), "hadolint:\n{report}");
}

/// hadolint is not vacuous here: it flags the seed's hand-written lines (shell-form
/// HEALTHCHECK, unpinned apt packages without the documented pragma).
#[test]
fn hadolint_flags_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(
        &path,
        format!("{SEED_BASE}\n{}", SEED_CELERY.replace("# syntax=docker/dockerfile:1.4\n", "")),
    )
    .unwrap();
    let output = support::tool("hadolint").arg("--no-color").arg(&path).output().unwrap();
    let text = support::stdout(&output);
    assert!(!output.status.success());
    assert!(text.contains("DL3008"), "{text}");
}

#[test]
fn shellcheck_reports_nothing() {
    for project in linted_projects() {
        let dir = tempfile::tempdir().unwrap();
        project.write_to(dir.path());
        let output = support::tool("shellcheck")
            .args(["--severity=style", "--shell=sh"])
            .arg(dir.path().join("scripts/docker-build.sh"))
            .output()
            .unwrap();
        assert!(
            output.status.success() && output.stdout.is_empty(),
            "{}: {}{}",
            project.name,
            support::stdout(&output),
            support::stderr(&output)
        );
    }
}

// ---------------------------------------------------------------------------------------
// The seed plan's lines (Phase 3), which each rule must reject
// ---------------------------------------------------------------------------------------

const SEED_BASE: &str = r#"# syntax=docker/dockerfile:1.4
FROM python:3.11-slim AS base-builder

# Install system dependencies once
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends \
    gcc \
    g++ \
    libpq-dev \
    postgresql-client \
    curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Install base requirements with cache mount
COPY requirements/base.txt /tmp/base.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-cache-dir -r /tmp/base.txt

# -----------------------
# Production base (slim)
# -----------------------
FROM python:3.11-slim AS base-runtime

RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends \
    postgresql-client \
    curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Copy installed packages from builder
COPY --from=base-builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=base-builder /usr/local/bin /usr/local/bin

ENV PYTHONUNBUFFERED=1
ENV PYTHONDONTWRITEBYTECODE=1
"#;

const SEED_API_INGESTOR: &str = r#"# syntax=docker/dockerfile:1.4
ARG BASE_IMAGE=gsc-base:latest
FROM ${BASE_IMAGE} AS builder

# Install service-specific deps
COPY requirements/ingestors.txt /tmp/ingestors.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-cache-dir -r /tmp/ingestors.txt

# -----------------------
# Runtime
# -----------------------
FROM ${BASE_IMAGE}

# Copy service-specific packages
COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages

# Copy only needed code
COPY ingestors/api/ /app/ingestors/api/
RUN mkdir -p /report /logs

ENV PYTHONUNBUFFERED=1
ENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gsc_sa.json

HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
    CMD python -c "import sys; sys.exit(0)"

CMD ["python", "/app/ingestors/api/gsc_api_ingestor.py"]
"#;

const SEED_INSIGHTS_API: &str = r#"# syntax=docker/dockerfile:1.4
ARG BASE_IMAGE=gsc-base:latest
FROM ${BASE_IMAGE} AS builder
COPY requirements/api.txt /tmp/api.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-cache-dir -r /tmp/api.txt
FROM ${BASE_IMAGE}
COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=builder /usr/local/bin /usr/local/bin
RUN useradd -m -u 1000 apiuser && \
    chown -R apiuser:apiuser /app
COPY insights_api/ /app/insights_api/
RUN mkdir -p /logs && chown -R apiuser:apiuser /logs
USER apiuser
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=5s --retries=3 \
    CMD curl -f http://localhost:8000/api/health || exit 1
CMD ["uvicorn", "insights_api:app", "--host", "0.0.0.0", "--port", "8000"]
"#;

const SEED_CELERY: &str = r#"# syntax=docker/dockerfile:1.4
ARG BASE_IMAGE=gsc-base:latest
FROM ${BASE_IMAGE} AS builder
COPY requirements/celery.txt /tmp/celery.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-cache-dir -r /tmp/celery.txt
FROM ${BASE_IMAGE}
COPY --from=builder /usr/local/lib/python3.11/site-packages /usr/local/lib/python3.11/site-packages
COPY --from=builder /usr/local/bin /usr/local/bin
COPY insights_core /app/insights_core
COPY services /app/services
COPY agents /app/agents
RUN mkdir -p /logs
ENV PYTHONPATH=/app
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD celery -A services.tasks inspect ping || exit 1
CMD ["celery", "-A", "services.tasks", "worker", "--loglevel=info"]
"#;

/// The seed's build script builds only the runtime stage as `gsc-base:latest`, which is
/// what its image Dockerfiles start their builder stage from.
const SEED_BASE_TAG: &str = "gsc-base:latest";

/// The seed's requirements files (Phase 1), as the build context would hold them.
fn seed_context() -> BTreeMap<String, String> {
    [
        ("requirements/base.txt", "psycopg2-binary>=2.9.6\n"),
        ("requirements/ingestors.txt", "-r base.txt\n\ngoogle-auth>=2.16.0\n"),
        ("requirements/api.txt", "-r base.txt\n\nfastapi>=0.100.0\n"),
        ("requirements/insights.txt", "-r base.txt\n\nprophet>=1.1.5\n"),
        ("requirements/celery.txt", "-r base.txt\n-r insights.txt\n\ncelery>=5.3.0\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn expect_failure(rule: Rule, needle: &str) {
    match rule {
        Ok(()) => panic!("the seed's line passed; expected a failure mentioning `{needle}`"),
        Err(e) => assert!(e.contains(needle), "expected `{needle}` in:\n{e}"),
    }
}

#[test]
fn seed_requirements_closure_is_not_copied() {
    let context = seed_context();
    // ingestors.txt's `-r base.txt` finds no /tmp/base.txt; celery.txt misses both.
    expect_failure(
        rule_requirements_copied(&Dockerfile::parse(SEED_API_INGESTOR), &context),
        "/tmp/base.txt",
    );
    expect_failure(rule_requirements_copied(&Dockerfile::parse(SEED_CELERY), &context), "/tmp/insights.txt");
}

#[test]
fn seed_defeats_the_pip_cache_mount() {
    expect_failure(rule_pip_cache(&Dockerfile::parse(SEED_BASE)), "--no-cache-dir");
    expect_failure(rule_pip_cache(&Dockerfile::parse(SEED_API_INGESTOR)), "--no-cache-dir");
}

#[test]
fn seed_deletes_apt_lists_in_the_cache_mount() {
    let rule = rule_apt_cache(&Dockerfile::parse(SEED_BASE));
    expect_failure(rule.clone(), "deletes apt lists");
    expect_failure(rule, "docker-clean");
}

#[test]
fn seed_compiles_on_the_runtime_base() {
    // The seed's images build their requirements on gsc-base:latest, the base-runtime
    // stage: no compiler there.
    let rule = rule_image_compilers(
        &Dockerfile::parse(SEED_API_INGESTOR),
        "gsc-base-builder:latest",
        SEED_BASE_TAG,
        &["gcc".into()],
    );
    expect_failure(rule, "no compiler");
    // And the rule accepts a runtime stage with the compiler only in the builder.
    let fixed = SEED_API_INGESTOR
        .replace(
            "ARG BASE_IMAGE=gsc-base:latest",
            "ARG B=gsc-base-builder:latest\nARG BASE_IMAGE=gsc-base:latest",
        )
        .replace("FROM ${BASE_IMAGE} AS builder", "FROM ${B} AS builder");
    rule_image_compilers(
        &Dockerfile::parse(&fixed),
        "gsc-base-builder:latest",
        SEED_BASE_TAG,
        &["gcc".into()],
    )
    .unwrap();
    // A base whose runtime stage installs the compiler is rejected.
    let leaky = SEED_BASE.replace(
        "    postgresql-client \\\n    curl \\\n    && rm -rf /var/lib/apt/lists/*\n\nWORKDIR /app\n\n# Copy",
        "    gcc \\\n    curl\n\nWORKDIR /app\n\n# Copy",
    );
    expect_failure(rule_base_compilers(&Dockerfile::parse(&leaky), &["gcc".into()]), "base-runtime installs");
}

#[test]
fn seed_hard_codes_python_3_11() {
    expect_failure(rule_python_version(SEED_API_INGESTOR, "3.12"), "Python 3.11 hard-coded");
    expect_failure(rule_python_version(SEED_BASE, "3.12"), "Python 3.11 hard-coded");
    rule_python_version(SEED_BASE, "3.11").unwrap();
}

#[test]
fn seed_pulls_a_syntax_frontend_nobody_configured() {
    expect_failure(rule_syntax(&Dockerfile::parse(SEED_BASE), None), "docker/dockerfile:1.4");
}

#[test]
fn seed_healthchecks_are_undeclared_trivial_or_shell_form() {
    // api_ingestor declares no check, yet the seed adds `sys.exit(0)`.
    expect_failure(
        rule_healthcheck(&Dockerfile::parse(SEED_API_INGESTOR), None),
        "HEALTHCHECK the config does not declare",
    );
    // Even where a check is declared, the seed's is shell form.
    let project = repo_project();
    let celery = project.model.image("celery").unwrap();
    expect_failure(
        rule_healthcheck(&Dockerfile::parse(SEED_CELERY), celery.health.as_ref()),
        "not exec form",
    );
    let api = project.model.image("insights_api").unwrap();
    expect_failure(
        rule_healthcheck(&Dockerfile::parse(SEED_INSIGHTS_API), api.health.as_ref()),
        "not exec form",
    );
    expect_failure(rule_exec_form(&Dockerfile::parse(SEED_CELERY)), "HEALTHCHECK in shell form");
}

#[test]
fn seed_runs_as_root_or_by_name() {
    let user = User::NonRoot { name: "app".into(), uid: 1000 };
    expect_failure(rule_user(&Dockerfile::parse(SEED_API_INGESTOR), &user), "no USER");
    expect_failure(rule_user(&Dockerfile::parse(SEED_CELERY), &user), "no USER");
    expect_failure(rule_user(&Dockerfile::parse(SEED_INSIGHTS_API), &user), "USER apiuser");
}

#[test]
fn seed_rebuilds_layers_after_the_code() {
    expect_failure(rule_layer_order(&Dockerfile::parse(SEED_API_INGESTOR)), "RUN after the code");
    expect_failure(rule_layer_order(&Dockerfile::parse(SEED_INSIGHTS_API)), "RUN after the code");
}

#[test]
fn seed_script_builds_no_builder_stage() {
    let seed = "echo \"[1/2] Building shared base image...\"\n\
                docker build --target base-runtime -t gsc-base:latest -f compose/dockerfiles/Dockerfile.base .\n";
    let builds = script_builds(seed, unquote_sh);
    // One line, no options on continuation lines: no base-builder build at all.
    assert!(builds.iter().all(|b| b.value("--target").as_deref() != Some("base-builder")));
}

// ---------------------------------------------------------------------------------------
// The parser itself
// ---------------------------------------------------------------------------------------

#[test]
fn parser_reads_directives_continuations_stages_and_flags() {
    let df = Dockerfile::parse(
        "# syntax=docker/dockerfile:1\n# escape=\\\n# a comment\nARG A=x:1\nARG B\n\nFROM ${A} AS one\n\
         RUN --mount=type=cache,target=/c,sharing=locked \\\n    # dropped\n    echo hi \\\n    && true\n\
         COPY --from=one --chown=1:1 a b /d/\nFROM scratch\nCMD [\"a\", \"b c\"]\n",
    );
    assert_eq!(df.directives.get("syntax").map(String::as_str), Some("docker/dockerfile:1"));
    assert_eq!(df.global_args().get("A"), Some(&Some("x:1".to_owned())));
    assert_eq!(df.global_args().get("B"), Some(&None));
    assert_eq!(df.stages.len(), 2);
    assert_eq!(df.resolved_from(&df.stages[0]), "x:1");
    let run = &df.stages[0].instructions[0];
    assert_eq!(run.line, 8);
    assert_eq!(run.cache_mount("/c").unwrap().get("sharing"), Some(&"locked"));
    assert_eq!(run.words(), ["echo", "hi", "&&", "true"]);
    let copy = &df.stages[0].instructions[1];
    assert_eq!((copy.flag("from"), copy.flag("chown")), (Some("one"), Some("1:1")));
    assert_eq!(df.last().all("CMD")[0].exec_form().unwrap(), ["a", "b c"]);
    let env = instruction(1, r#"ENV A="x \"y\" \$z \\w" B=plain"#);
    assert_eq!(env_pairs(&env), [("A".into(), r#"x "y" $z \w"#.into()), ("B".into(), "plain".into())]);
}

/// `copy "." "/app"` (the whole build context, the most common COPY) and its spellings `./`
/// and `././` copy the context root: `COPY . /app`, never `COPY  /app` without a source; the
/// image's build inputs are the whole project, and a dev mount of `./` binds the project root.
#[test]
fn copying_the_project_root_names_the_context() {
    for root in [".", "./", "././"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("project.kdl");
        let text = format!(
            "project demo {{\n    python \"3.12\"\n}}\ngroup base {{\n    require \"requests\"\n}}\n\
             image api {{\n    groups base\n    copy \"{root}\" \"/app\"\n    cmd python \"/app/main.py\"\n}}\n\
             service api image=api {{\n    dev {{\n        mount \"{root}\" \"/app\"\n    }}\n}}\n"
        );
        std::fs::write(&path, text).unwrap();
        let project = Project::load("root-copy", &path);
        let df = project.dockerfile("compose/dockerfiles/Dockerfile.api");
        let runtime = df.stage("runtime").expect("runtime stage");
        let code: Vec<Vec<&str>> =
            runtime.all("COPY").into_iter().filter(|c| c.is_copy_from_context()).map(|c| c.words()).collect();
        assert_eq!(code, [vec![".", "/app"]], "{root}");
        let image = project.model.image("api").unwrap();
        assert_eq!(image.copies[0].source.value, ".", "{root}");
        let dev = project.file("docker-compose.dev.yml");
        assert!(dev.contains("        source: \"..\"\n        target: /app\n"), "{root}:\n{dev}");
    }
}

/// `build-arg NAME "value"` (issue 18): declared with its value in both stages of the
/// image's Dockerfile, and passed by every build: both scripts, the three Compose files and
/// the workflow; values that some build cannot carry, reserved names and images whose sets
/// the workflow's one matrix step cannot pass are refused.
#[test]
fn build_args_reach_every_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("project.kdl");
    std::fs::write(
        &path,
        r#"project demo {
    python "3.12"
    registry "ghcr.io/acme/demo"
}
targets { requirements; docker; compose; github-workflow; }
group base { require "celery>=5.3"; }
image app {
    groups base
    build-arg APP_VERSION "1.2.3"
    build-arg GREETING "hello world $HOME 100%"
    cmd celery "-A" app worker
}
service worker image=app
"#,
    )
    .unwrap();
    let project = Project::load("build-args", &path);
    let dockerfile = project.dockerfile("compose/dockerfiles/Dockerfile.app");
    for stage in &dockerfile.stages {
        let args: Vec<String> = stage.all("ARG").iter().map(|i| i.rest.clone()).collect();
        assert!(args.contains(&r#"APP_VERSION="1.2.3""#.to_owned()), "{:?}: {args:?}", stage.name);
        assert!(
            args.contains(&r#"GREETING="hello world \$HOME 100%""#.to_owned()),
            "{:?}: {args:?}",
            stage.name
        );
    }
    for (script, unquote) in [
        ("scripts/docker-build.sh", unquote_sh as fn(&str) -> String),
        ("scripts/docker-build.bat", unquote_bat),
    ] {
        let builds = script_builds(&project.file(script), unquote);
        let app = builds.iter().find(|b| b.name == "app").expect("app build");
        let args = app.values("--build-arg");
        assert!(args.contains(&"APP_VERSION=1.2.3".to_owned()), "{script}: {args:?}");
        assert!(args.contains(&"GREETING=hello world $HOME 100%".to_owned()), "{script}: {args:?}");
    }
    for file in ["docker-compose.yml", "docker-compose.dev.yml", "docker-compose.prod.yml"] {
        let yaml: serde_json::Value = serde_yaml_ng::from_str(&project.file(file)).unwrap();
        let args = &yaml["services"]["worker"]["build"]["args"];
        assert_eq!(args["APP_VERSION"], serde_json::json!("1.2.3"), "{file}");
        assert_eq!(
            args["GREETING"],
            serde_json::json!("hello world $$HOME 100%"),
            "{file}: `$` stays literal"
        );
    }
    let workflow = project.file(".github/workflows/build.yml");
    assert!(workflow.contains("            APP_VERSION=1.2.3\n"), "{workflow}");
    assert!(workflow.contains("            GREETING=hello world $HOME 100%\n"), "{workflow}");
    // hadolint accepts the ARG lines.
    let out = tempfile::tempdir().unwrap();
    project.write_to(out.path());
    let output = support::tool("hadolint")
        .arg("--no-color")
        .arg("--failure-threshold")
        .arg("style")
        .arg(out.path().join("compose/dockerfiles/Dockerfile.app"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}{}", support::stdout(&output), support::stderr(&output));

    let head = "project demo { python \"3.12\"; }\ngroup base { require \"x\"; }\n";
    for (args, code) in [
        (r#"build-arg "9X" "1""#, "gscgen::config::invalid-value"),
        (r#"build-arg BASE_RUNTIME "x""#, "gscgen::config::invalid-value"),
        (r#"build-arg A "1"; build-arg A "2""#, "gscgen::config::invalid-value"),
        (r#"build-arg A "say \"hi\"""#, "gscgen::docker::unrepresentable"),
        (r#"build-arg A "a^b""#, "gscgen::docker::unrepresentable"),
        ("build-arg A \"two\\nlines\"", "gscgen::docker::unrepresentable"),
        (r#"build-arg A "${{ secrets.X }}""#, "gscgen::docker::unrepresentable"),
    ] {
        let kdl = format!("{head}image app {{ groups base; {args}; }}\n");
        assert_eq!(codes(&kdl), [code], "{args}");
    }
    let two = "project demo { python \"3.12\"; }\ntargets { requirements; docker; github-workflow; }\n\
         group base { require \"x\"; }\nimage a { groups base; build-arg V \"1\"; }\n\
         image b { groups base; build-arg V \"2\"; }\n"
        .to_owned();
    assert_eq!(codes(&two), ["gscgen::workflow::build-args-differ"]);
    assert!(
        codes(&two.replace("github-workflow; ", "")).is_empty(),
        "the scripts and Compose pass each image's own"
    );
}

/// checkov checks skipped on the generated Dockerfiles, each with its reason (docs/docker.md
/// lists the same). The workflow is scanned with none skipped.
const DOCKERFILE_CHECKOV_SKIPS: [(&str, &str); 3] = [
    ("CKV_DOCKER_2", "an image without a `health` has no HEALTHCHECK rather than one that always passes"),
    (
        "CKV_DOCKER_3",
        "the base Dockerfile builds stages only; every image's Dockerfile sets USER (root only with `root=#true`)",
    ),
    (
        "CKV_DOCKER_7",
        "`FROM ${BASE_RUNTIME}` defaults to this project's own base at :latest; every build passes the base it just built",
    ),
];

/// checkov (PyPI, scripts/install-security-scanners) over the repo's committed Dockerfiles
/// and its workflow: nothing fails but the documented skips.
#[test]
fn checkov_finds_nothing_in_the_dockerfiles_and_the_workflow_beyond_documented_skips() {
    let repo = support::repo();
    // checkov silently skips hidden folders: no `.tmp` prefix.
    let scratch = tempfile::Builder::new().prefix("checkov-").tempdir().unwrap();
    let dockerfiles = scratch.path().join("dockerfiles");
    std::fs::create_dir_all(&dockerfiles).unwrap();
    for entry in std::fs::read_dir(repo.join("generated/compose/dockerfiles")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dockerfiles.join(entry.file_name())).unwrap();
    }
    let workflow = scratch.path().join("workflow");
    std::fs::create_dir_all(workflow.join(".github/workflows")).unwrap();
    for entry in std::fs::read_dir(repo.join(".github/workflows")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), workflow.join(".github/workflows").join(entry.file_name())).unwrap();
    }
    let skips: Vec<&str> = DOCKERFILE_CHECKOV_SKIPS.iter().map(|(id, _)| *id).collect();
    for (dir, framework, skip) in
        [(&dockerfiles, "dockerfile", skips.join(",")), (&workflow, "github_actions", String::new())]
    {
        let mut command = support::tool("checkov");
        command.env("BC_SKIP_MAPPING", "TRUE").arg("-d").arg(dir).args([
            "--framework",
            framework,
            "--quiet",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ]);
        if !skip.is_empty() {
            command.arg("--skip-check").arg(&skip);
        }
        let output = command.output().expect("checkov runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{framework}: checkov output ({e}): {stdout}"));
        let passed = report["summary"]["passed"].as_u64().unwrap_or(0);
        assert!(passed >= 20, "{framework}: checkov checked too little: {stdout}");
        let failed: Vec<String> = report["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                format!(
                    "{} on {}",
                    f["check_id"].as_str().unwrap_or("?"),
                    f["resource"].as_str().unwrap_or("?")
                )
            })
            .collect();
        assert!(failed.is_empty(), "{framework}: checkov findings: {failed:#?}");
    }
}
