//! The end-to-end stack: `tests/fixtures/stack/project.kdl` rendered by gscgen, built by the
//! generated `scripts/docker-build.sh`, started by Docker Compose with the generated
//! `docker-compose.yml` and `docker-compose.dev.yml`, probed, and taken down again — the
//! commands a user runs, in the order they run them.
//!
//! The stack is the seed's in small: an API (FastAPI) whose health endpoint queries
//! PostgreSQL, a Celery worker on Redis, a one-shot migration job, and PostgreSQL and Redis
//! from the local stand-in images (`scripts/local-images`, docs/docker-engine.md). A request
//! through the API returns the row the migration wrote, read by the worker.
//!
//! The fault test proves the run is not green by accident: a broken COPY source, a package
//! that does not exist and a health check that never passes each fail with a message naming
//! the image or service, within a deadline.
//!
//! Without a Docker Engine these tests fail and say so; nothing is skipped.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::docker::{buildkit_path, run, tail, text, timed};

/// The two tests share the engine's build cache and its CPU: one at a time.
static ENGINE: Mutex<()> = Mutex::new(());

/// How long `docker compose up --wait` may take before the run fails.
const WAIT_SECONDS: &str = "240";

/// A rendered copy of the fixture in a temporary folder, with the compose project it runs
/// as. Dropping it takes the stack down with its volumes, even when the test failed.
struct Stack {
    dir: tempfile::TempDir,
    name: String,
    path: String,
}

impl Stack {
    /// Copies the fixture, lets `edit` change its project.kdl, writes the database password
    /// secret (a test value, made here so that no secret file is committed) and renders.
    fn new(name: &str, edit: impl FnOnce(String) -> String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        support::docker::copy_tree(&support::repo().join("tests/fixtures/stack"), dir.path());
        let config = dir.path().join("project.kdl");
        fs::write(&config, edit(fs::read_to_string(&config).unwrap())).unwrap();
        fs::create_dir_all(dir.path().join("secrets")).unwrap();
        fs::write(dir.path().join("secrets/db_password.txt"), "e2e-test-password\n").unwrap();
        let rendered = support::run_in(dir.path(), &["render", "-q"]);
        assert!(rendered.status.success(), "gscgen render: {}", support::stderr(&rendered));
        let stack = Self { dir, name: name.to_owned(), path: buildkit_path() };
        // A stack left over by an interrupted earlier run would hold the names.
        let _ = stack.compose(&["down", "--volumes", "--remove-orphans"]).output();
        stack
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `docker compose` with the generated files, the dev override included.
    fn compose(&self, args: &[&str]) -> Command {
        let mut command = timed("docker-compose");
        command
            .args(["--project-name", &self.name])
            .args(["--file", "generated/docker-compose.yml", "--file", "generated/docker-compose.dev.yml"])
            .args(args)
            .current_dir(self.root())
            .env("PATH", &self.path);
        // Fails loudly when the validators (Compose among them) are not installed.
        let _ = support::tool("docker-compose");
        command
    }

    fn build(&self) -> Output {
        support::docker::build_script(self.root(), &self.path)
    }

    /// `up --wait`: every service healthy, the one-shot job completed.
    fn up(&self) -> Output {
        self.compose(&["up", "--detach", "--no-build", "--wait", "--wait-timeout", WAIT_SECONDS])
            .output()
            .expect("docker-compose runs")
    }

    /// What a failed step needs to be understood: every container's state and log tail.
    fn state(&self) -> String {
        let ps = self.compose(&["ps", "--all"]).output().map(|o| text(&o)).unwrap_or_default();
        let logs = self
            .compose(&["logs", "--no-color", "--tail", "30"])
            .output()
            .map(|o| tail(text(&o).as_bytes(), 150))
            .unwrap_or_default();
        format!("--- docker compose ps --all\n{ps}\n--- docker compose logs (tail)\n{logs}")
    }

    /// An HTTP GET from inside the API container (its port is not published on the host, so
    /// parallel runs cannot collide): the status and the body.
    fn get(&self, url_path: &str) -> (u16, String) {
        let script = format!(
            "import urllib.request, urllib.error\n\
             try:\n    r = urllib.request.urlopen('http://localhost:8000{url_path}', timeout=40)\n    \
             print(r.status); print(r.read().decode())\n\
             except urllib.error.HTTPError as e:\n    print(e.code); print(e.read().decode())\n"
        );
        let output = self.compose(&["exec", "-T", "api", "python", "-c", &script]).output().unwrap();
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        let (status, body) = out.split_once('\n').unwrap_or_else(|| {
            panic!("GET {url_path} through the API failed: {}\n{}", text(&output), self.state())
        });
        (status.trim().parse().unwrap(), body.trim().to_owned())
    }

    /// The JSON that `ps --all --format json` prints for every container (one object per
    /// line in Compose v2.21+, an array before).
    fn containers(&self) -> Vec<Value> {
        let output = run("docker compose ps", &mut self.compose(&["ps", "--all", "--format", "json"]));
        let out = String::from_utf8_lossy(&output.stdout);
        match serde_json::from_str::<Value>(out.trim()) {
            Ok(Value::Array(all)) => all,
            _ => out
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        }
    }

    fn images(&self) -> Vec<String> {
        ["stack-api", "stack-worker", "stack-migrate", "stack-base", "stack-base-builder"]
            .iter()
            .map(|image| format!("{image}:latest"))
            .collect()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "--volumes", "--remove-orphans"]).output();
    }
}

fn prepare() -> std::sync::MutexGuard<'static, ()> {
    let guard = ENGINE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    support::docker::require_engine();
    support::docker::local_images(&["python", "postgres", "redis"]);
    guard
}

fn assert_built(build: &Output) {
    assert!(
        build.status.success(),
        "generated/scripts/docker-build.sh failed ({}):\n{}",
        build.status,
        tail(text(build).as_bytes(), 60)
    );
}

fn field<'a>(container: &'a Value, key: &str) -> &'a str {
    container[key].as_str().unwrap_or("")
}

#[test]
fn the_generated_stack_builds_starts_healthy_and_serves_data_through_the_worker() {
    let _engine = prepare();
    let stack = Stack::new("gscgen-e2e-stack", |config| config);

    let started = Instant::now();
    let build = stack.build();
    assert_built(&build);
    let log = text(&build);
    for step in ["base-builder", "base-runtime", "migrate", "worker", "api", "Built 5 images in "] {
        assert!(log.contains(step), "the build log lacks {step:?}:\n{}", tail(log.as_bytes(), 60));
    }
    eprintln!("stack: built in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let up = stack.up();
    assert!(
        up.status.success(),
        "docker compose up --wait failed ({}):\n{}\n{}",
        up.status,
        text(&up),
        stack.state()
    );
    eprintln!("stack: up and healthy in {:.1} s", started.elapsed().as_secs_f64());

    // Every long-running service is healthy; the migration ran once and exited 0.
    let containers = stack.containers();
    for service in ["db", "redis", "worker", "api"] {
        let container = containers
            .iter()
            .find(|c| field(c, "Service") == service)
            .unwrap_or_else(|| panic!("no container for {service}:\n{}", stack.state()));
        assert_eq!(field(container, "Health"), "healthy", "{service}:\n{}", stack.state());
    }
    let migrate =
        containers.iter().find(|c| field(c, "Service") == "migrate").expect("the migrate container");
    assert_eq!(field(migrate, "State"), "exited", "{}", stack.state());
    assert_eq!(migrate["ExitCode"].as_i64(), Some(0), "{}", stack.state());

    // ... and they did so hardened, as the engine ran them: a read-only root with tmpfs
    // folders, every capability dropped (the database's entrypoint gets back only the five
    // its `hardening` names), no privilege escalation.
    for container in &containers {
        let service = field(container, "Service");
        let id = field(container, "ID");
        let inspect = run("docker inspect", Command::new("docker").args(["inspect", id]));
        let inspect: Value = serde_json::from_slice(&inspect.stdout).expect("docker inspect is JSON");
        let host = &inspect[0]["HostConfig"];
        assert_eq!(host["ReadonlyRootfs"], Value::Bool(true), "{service}: {host}");
        assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]), "{service}: {host}");
        assert_eq!(host["SecurityOpt"], serde_json::json!(["no-new-privileges:true"]), "{service}: {host}");
        let tmpfs = host["Tmpfs"].as_object().unwrap_or_else(|| panic!("{service}: no tmpfs: {host}"));
        assert!(tmpfs.contains_key("/tmp"), "{service}: {host}");
        let added = if service == "db" {
            serde_json::json!(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"])
        } else {
            Value::Null
        };
        // The engine may or may not prefix the names with CAP_.
        let added_names = host["CapAdd"].as_array().map(|list| {
            list.iter().map(|c| c.as_str().unwrap().trim_start_matches("CAP_").to_owned()).collect::<Vec<_>>()
        });
        assert_eq!(serde_json::to_value(added_names).unwrap(), added, "{service}: {host}");
        // The programs read the password as a file (`env-secret … as-file=#true`): the
        // variable names the file, the password is in no environment.
        if service != "db" && service != "redis" {
            let env: Vec<&str> =
                inspect[0]["Config"]["Env"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
            assert!(env.contains(&"DB_PASSWORD_FILE=/run/secrets/DB_PASSWORD"), "{service}: {env:?}");
            assert!(!env.iter().any(|e| e.starts_with("DB_PASSWORD=")), "{service}: {env:?}");
        }
    }

    // The health endpoint queries PostgreSQL; the item comes from the migration, read by the
    // worker (another container) through Redis.
    let (status, body) = stack.get("/health");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["database"], Value::Bool(true), "{body}");
    let (status, body) = stack.get("/items/1");
    assert_eq!(status, 200, "{body}\n{}", stack.state());
    let item: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(item["value"], "written by the migration job", "{body}");
    assert_ne!(item["worker"], item["api"], "the worker must be another container: {body}");
    let (status, _) = stack.get("/items/2");
    assert_eq!(status, 404);

    // The dev override is in force: the API runs `uvicorn --reload` on the bind-mounted code,
    // so an edit on the host is served without a rebuild.
    let main = stack.root().join("api/main.py");
    let code = fs::read_to_string(&main).unwrap()
        + "\n\n@app.get(\"/version\")\ndef version() -> dict:\n    return {\"version\": \"edited on the host\"}\n";
    fs::write(&main, code).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = stack.get("/version");
        if status == 200 {
            assert!(body.contains("edited on the host"), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dev override did not reload the edited code:\n{}",
            stack.state()
        );
        std::thread::sleep(Duration::from_secs(2));
    }

    // `down -v` removes the containers, the network and the named volumes.
    run("docker compose down -v", &mut stack.compose(&["down", "--volumes", "--remove-orphans"]));
    let volumes = run(
        "docker volume ls",
        Command::new("docker")
            .args(["volume", "ls", "--quiet", "--filter"])
            .arg(format!("label=com.docker.compose.project={}", stack.name)),
    );
    assert_eq!(String::from_utf8_lossy(&volumes.stdout).trim(), "", "volumes left after down -v");
    assert!(stack.containers().is_empty(), "containers left after down -v");
    let _ = Command::new("docker").arg("rmi").args(stack.images()).output();
}

/// A broken COPY, a package that does not exist, a health check that never passes: each
/// fails the run, promptly, naming what broke.
#[test]
fn faults_fail_the_run_and_name_the_image_or_service() {
    let _engine = prepare();

    // A COPY source that is not in the project: the build of `worker` fails and says so.
    let stack = Stack::new("gscgen-e2e-fault-copy", |config| {
        config.replacen(
            "copy \"worker\" \"/app/worker\"\n    env",
            "copy \"worker-missing\" \"/app/worker\"\n    env",
            1,
        )
    });
    let build = stack.build();
    let log = text(&build);
    assert!(!build.status.success(), "a missing COPY source built:\n{}", tail(log.as_bytes(), 40));
    assert!(log.contains("error: worker failed to build"), "{}", tail(log.as_bytes(), 40));
    assert!(
        log.contains("worker-missing"),
        "the log does not name the missing source:\n{}",
        tail(log.as_bytes(), 40)
    );

    // A requirement PyPI does not have: the build of `api` fails with pip's message.
    let stack = Stack::new("gscgen-e2e-fault-package", |config| {
        config.replace("\"uvicorn==0.32.1\"", "\"uvicorn==0.32.1\" \"gscgen-no-such-package-e2e==1.0\"")
    });
    let build = stack.build();
    let log = text(&build);
    assert!(
        !build.status.success(),
        "a package that does not exist installed:\n{}",
        tail(log.as_bytes(), 40)
    );
    assert!(log.contains("error: api failed to build"), "{}", tail(log.as_bytes(), 40));
    assert!(log.contains("gscgen-no-such-package-e2e"), "{}", tail(log.as_bytes(), 40));

    // A health check that never passes: `up --wait` fails, naming the service, long before
    // its deadline (the check turns the container unhealthy after its retries).
    let stack = Stack::new("gscgen-e2e-fault-health", |config| {
        config.replace(
            "health http=\"/health\" port=8000 interval=\"5s\" timeout=\"5s\" start-period=\"5s\" retries=10",
            "health http=\"/no-such-endpoint\" port=8000 interval=\"2s\" timeout=\"5s\" retries=3",
        )
    });
    assert_built(&stack.build());
    let started = Instant::now();
    let up = stack.up();
    let message = text(&up);
    assert!(!up.status.success(), "a never-healthy service came up green:\n{message}");
    eprintln!(
        "stack: a never-healthy check fails `up --wait` in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        tail(message.as_bytes(), 1)
    );
    assert!(
        message.contains("api") && message.contains("unhealthy"),
        "the failure does not name the unhealthy service:\n{message}\n{}",
        stack.state()
    );
    assert!(
        started.elapsed() < Duration::from_secs(WAIT_SECONDS.parse::<u64>().unwrap()),
        "up --wait ran into its deadline instead of failing on the health check"
    );
}
