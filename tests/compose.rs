//! Issue 4: `docker-compose.yml`, `docker-compose.dev.yml` and `docker-compose.prod.yml`.
//!
//! Three kinds of test: snapshots of the whole output per fixture (one combined snapshot
//! with `==== path ====` sections); tests that parse the YAML back (serde_yaml_ng as a
//! YAML 1.2 reader, PyYAML as a YAML 1.1 reader, and Docker Compose's own loader) and
//! assert what it means; and the external validators (`docker-compose config`, yamllint,
//! the Compose JSON schema), which fail loudly when missing (run `scripts/test`).
//! Compile-time rules are covered by tests/invalid/ (compose_*), one config per rule.

mod support;

use support::codes;

use support::Rendered;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::Output;

use gscgen::model::ServiceSource;
use gscgen::source::Source;
use serde_json::{Value, json};

const BASE: &str = "docker-compose.yml";
const DEV: &str = "docker-compose.dev.yml";
const PROD: &str = "docker-compose.prod.yml";
const FILES: [&str; 3] = [BASE, DEV, PROD];

/// The fixtures: the repo's own project, the ones under tests/fixtures/compose/, and the
/// escape-hatch fixture (tests/fixtures/hatches/: `compose-extra` in the base and dev files).
const FIXTURES: [&str; 4] = ["repo", "tricky", "minimal", "hatches"];

fn fixture_text(name: &str) -> String {
    let path = match name {
        "repo" => support::repo().join("project.kdl"),
        "hatches" => support::repo().join("tests/fixtures/hatches/project.kdl"),
        other => support::repo().join(format!("tests/fixtures/compose/{other}.kdl")),
    };
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Rendered {
    fn fixture(name: &str) -> Self {
        Self::new(&fixture_text(name))
    }

    fn text(&self, file: &str) -> String {
        fs::read_to_string(self.out().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    /// The file as a YAML 1.2 reader (serde_yaml_ng) sees it.
    fn yaml(&self, file: &str) -> Value {
        serde_yaml_ng::from_str(&self.text(file)).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"))
    }

    fn built_services(&self) -> Vec<(&str, String)> {
        self.model
            .services
            .iter()
            .filter_map(|s| match s.source {
                ServiceSource::Image(id) => {
                    Some((s.name.value.as_str(), self.model.repository_name(&self.model.images[id])))
                }
                ServiceSource::Prebuilt(_) => None,
            })
            .collect()
    }
}

fn services(doc: &Value) -> &serde_json::Map<String, Value> {
    doc["services"].as_object().expect("services is a mapping")
}

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

#[test]
fn snapshots() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let mut combined = String::new();
        for file in FILES {
            combined.push_str(&format!("==== {file} ====\n{}", rendered.text(file)));
        }
        insta::assert_snapshot!(name, combined);
    }
}

// ---------------------------------------------------------------------------------------
// Meaning, read back from the YAML
// ---------------------------------------------------------------------------------------

#[test]
fn files_are_lf_with_one_final_newline_and_no_version_key() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        for file in FILES {
            let text = rendered.text(file);
            assert!(!text.contains('\r'), "{name}/{file}: CR");
            assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{name}/{file}: final newline");
            assert!(!text.contains(" \n"), "{name}/{file}: trailing space");
            let doc = rendered.yaml(file);
            let keys: BTreeSet<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(!keys.contains("version"), "{name}/{file}: obsolete `version` key");
            let allowed: BTreeSet<&str> = ["name", "services", "networks", "volumes", "secrets"].into();
            assert!(keys.is_subset(&allowed), "{name}/{file}: {keys:?}");
            assert_eq!(doc["name"], json!(rendered.model.project.name), "{name}/{file}");
        }
    }
}

#[test]
fn every_built_image_appears_in_prod_with_its_release_tag() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let prod = rendered.yaml(PROD);
        let registry = rendered.model.project.registry.as_deref();
        let expected: BTreeMap<&str, String> = rendered
            .built_services()
            .into_iter()
            .map(|(service, repository)| {
                let image = match registry {
                    Some(registry) => format!("${{REGISTRY:-{registry}}}/{repository}:${{VERSION:-latest}}"),
                    None => format!("${{REGISTRY:+${{REGISTRY}}/}}{repository}:${{VERSION:-latest}}"),
                };
                (service, image)
            })
            .collect();
        let actual: BTreeMap<&str, String> = services(&prod)
            .iter()
            .map(|(k, v)| (k.as_str(), v["image"].as_str().expect("image is a string").to_owned()))
            .collect();
        assert_eq!(actual, expected, "{name}: prod must name every built service's image, and only those");
        for (service, _) in rendered.built_services() {
            let platforms = &services(&prod)[service]["build"]["platforms"];
            assert_eq!(platforms, &json!(rendered.model.project.platforms), "{name}/{service}");
        }
    }
    // The repo: all of its images, each run by some service, are in prod.
    let repo = Rendered::fixture("repo");
    let in_prod: BTreeSet<String> = repo.built_services().into_iter().map(|(_, r)| r).collect();
    let all: BTreeSet<String> = repo.model.images.iter().map(|i| repo.model.repository_name(i)).collect();
    assert_eq!(in_prod, all);
    assert!(all.len() >= 8, "the seed's images: {all:?}");
}

#[test]
fn prod_image_names_resolve_with_and_without_variables() {
    let repo = Rendered::fixture("repo");
    let registry = repo.model.project.registry.clone().expect("the repo configures a registry");
    let files = [BASE, PROD];
    let defaults = compose_json(&repo.out(), &files, &[]);
    let set =
        compose_json(&repo.out(), &files, &[("REGISTRY", "registry.example.org/team"), ("VERSION", "1.2.3")]);
    for (service, repository) in repo.built_services() {
        assert_eq!(defaults["services"][service]["image"], json!(format!("{registry}/{repository}:latest")));
        assert_eq!(
            set["services"][service]["image"],
            json!(format!("registry.example.org/team/{repository}:1.2.3")),
            "{service}"
        );
        let base_runtime = &set["services"][service]["build"]["args"]["BASE_RUNTIME"];
        assert_eq!(base_runtime, &json!("registry.example.org/team/gsc-base:1.2.3"), "{service}");
    }
    // Without a configured registry, the default is a plain local name.
    let tricky = Rendered::fixture("tricky");
    let local = compose_json(&tricky.out(), &files, &[]);
    assert_eq!(local["services"]["yes"]["image"], json!("tricky-on:latest"));
}

#[test]
fn every_depends_on_target_exists() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        for files in [&[BASE][..], &[BASE, DEV], &[BASE, PROD]] {
            let mut known = BTreeSet::new();
            let mut edges = Vec::new();
            for file in files {
                let doc = rendered.yaml(file);
                for (service, body) in services(&doc) {
                    known.insert(service.clone());
                    for dependency in body["depends_on"].as_object().into_iter().flatten().map(|(k, _)| k) {
                        edges.push((service.clone(), dependency.clone()));
                    }
                }
            }
            for (service, dependency) in edges {
                assert!(
                    known.contains(&dependency),
                    "{name} {files:?}: {service} depends on unknown {dependency}"
                );
            }
        }
        // The dev and prod files stand alone: they name no dependency.
        for file in [DEV, PROD] {
            for (service, body) in services(&rendered.yaml(file)) {
                assert!(body.get("depends_on").is_none(), "{name}/{file}/{service}");
            }
        }
    }
}

#[test]
fn depends_on_conditions_follow_health_and_oneshot() {
    let repo = Rendered::fixture("repo");
    let base = repo.yaml(BASE);
    let condition = |service: &str, dependency: &str| {
        services(&base)[service]["depends_on"][dependency]["condition"].as_str().unwrap().to_owned()
    };
    assert_eq!(condition("startup_orchestrator", "warehouse"), "service_healthy"); // service health
    assert_eq!(condition("celery_worker", "redis"), "service_healthy");
    assert_eq!(condition("celery_worker", "ollama"), "service_started"); // no health
    assert_eq!(condition("grafana", "prometheus"), "service_healthy");
    let tricky = Rendered::fixture("tricky");
    let base = tricky.yaml(BASE);
    let depends = &services(&base)["yes"]["depends_on"];
    assert_eq!(depends["null"]["condition"], json!("service_healthy"));
    assert_eq!(depends["migrate"]["condition"], json!("service_completed_successfully")); // oneshot
    assert_eq!(services(&base)["migrate"]["restart"], json!("no"));
}

/// A service whose image declares an HTTP health check gets it in Compose too, so that
/// `service_healthy` is checkable from the compose file alone.
#[test]
fn healthchecks_are_exec_form_and_http_checks_use_python() {
    let repo = Rendered::fixture("repo");
    let base = repo.yaml(BASE);
    for (service, body) in services(&base) {
        if let Some(test) = body["healthcheck"]["test"].as_array() {
            assert_eq!(test[0], json!("CMD"), "{service}: exec form, no shell");
        }
    }
    let test = &services(&base)["insights_api"]["healthcheck"]["test"];
    assert_eq!(test[1], json!("python3"));
    assert_eq!(
        test[3],
        json!("import urllib.request; urllib.request.urlopen(\"http://localhost:8000/api/health\")")
    );
    assert_eq!(services(&base)["insights_api"]["healthcheck"]["retries"], json!(3));
}

/// Every bind mount source is relative and, resolved from the compose files' folder, stays
/// inside the project.
#[test]
fn every_bind_mount_source_is_relative_to_the_project() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let out = rendered.model.project.output.as_str();
        for file in FILES {
            for (service, body) in services(&rendered.yaml(file)) {
                for volume in body["volumes"].as_array().into_iter().flatten() {
                    if volume["type"] != json!("bind") {
                        continue;
                    }
                    let source = volume["source"].as_str().unwrap();
                    assert!(source.starts_with('.'), "{name}/{file}/{service}: {source} must be relative");
                    let inside = normalise(&Path::new(out).join(source));
                    assert!(
                        inside.components().all(|c| matches!(c, Component::Normal(_))),
                        "{name}/{file}/{service}: {source} leaves the project"
                    );
                    if file == DEV {
                        assert_eq!(
                            volume["read_only"],
                            json!(true),
                            "{name}/{file}/{service}: dev mounts are read-only"
                        );
                    }
                }
            }
        }
    }
    // Compose resolves them inside the project folder too.
    let repo = Rendered::fixture("repo");
    let merged = compose_json(&repo.out(), &[BASE, DEV], &[]);
    let root = repo.dir.path().canonicalize().unwrap();
    let mut binds = 0;
    for (service, body) in services(&merged) {
        for volume in body["volumes"].as_array().into_iter().flatten().filter(|v| v["type"] == json!("bind"))
        {
            binds += 1;
            let source = PathBuf::from(volume["source"].as_str().unwrap());
            assert!(source.starts_with(&root), "{service}: {} outside {}", source.display(), root.display());
        }
    }
    assert!(binds >= 10, "the seed's hot-reload mounts: {binds}");
}

/// Lexical `..` removal (the paths need not exist).
fn normalise(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.iter().collect()
}

#[test]
fn no_two_services_publish_the_same_host_port() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let merged = compose_json(&rendered.out(), &[BASE, DEV], &[]);
        let mut seen = BTreeMap::new();
        for (service, body) in services(&merged) {
            for port in body["ports"].as_array().into_iter().flatten() {
                let published = port["published"].as_str().expect("published port").to_owned();
                if let Some(first) = seen.insert(published.clone(), service.clone()) {
                    panic!("{name}: host port {published} published by {first} and {service}");
                }
            }
        }
    }
}

#[test]
fn profiles_close_over_depends_on() {
    let repo = Rendered::fixture("repo");
    let base = repo.yaml(BASE);
    // warehouse is `core`, but insights and monitoring services depend on it.
    assert_eq!(services(&base)["warehouse"]["profiles"], json!(["core", "insights", "monitoring"]));
    // The PyPI cache keeps its own profile and stays in the base file only.
    assert_eq!(services(&base)["pypi-cache"]["profiles"], json!(["dev"]));
    assert!(services(&repo.yaml(DEV)).get("pypi-cache").is_none());
    // A service without a profile makes its dependencies profile-less too.
    let rendered = Rendered::new(
        r#"project demo { python "3.12"; }
           targets { compose; }
           service web from="nginx:1.27" { depends-on api; }
           service api from="busybox:1.36" profile=backend { depends-on db; }
           service db from="postgres:16-alpine" profile=data
        "#,
    );
    let base = rendered.yaml(BASE);
    assert!(services(&base)["web"].get("profiles").is_none());
    assert!(services(&base)["api"].get("profiles").is_none());
    assert!(services(&base)["db"].get("profiles").is_none());
}

#[test]
fn dev_file_builds_with_the_mirror_and_the_registry_cache_and_defines_no_network() {
    let repo = Rendered::fixture("repo");
    let dev = repo.yaml(DEV);
    assert!(dev.get("networks").is_none() && dev.get("volumes").is_none() && dev.get("secrets").is_none());
    let registry = repo.model.project.registry.clone().unwrap();
    for (service, repository) in repo.built_services() {
        let body = &services(&dev)[service];
        assert!(body.get("networks").is_none(), "{service}");
        let build = &body["build"];
        assert_eq!(
            build["args"]["PIP_INDEX_URL"],
            json!("http://localhost:3141/root/pypi/+simple/"),
            "{service}"
        );
        assert_eq!(build["network"], json!("host"), "{service}: BuildKit cannot join a Compose network");
        assert_eq!(
            build["cache_from"],
            json!([format!("type=registry,ref={registry}/{repository}:buildcache")])
        );
        // Nothing the seed got wrong: no runtime pip-cache volume.
        for volume in body["volumes"].as_array().into_iter().flatten() {
            assert_ne!(volume["target"], json!("/root/.cache/pip"), "{service}");
        }
    }
    let api = &services(&dev)["insights_api"];
    assert!(api["command"].as_array().unwrap().contains(&json!("--reload")));
    assert_eq!(api["environment"]["LOG_LEVEL"], json!("DEBUG"));
    let celery = &services(&dev)["celery_worker"];
    assert_eq!(celery["command"][0], json!("watchmedo"));
}

/// `env-secret` without `as-file`: Compose passes the variable through, without a value, so
/// it comes from its environment (or `.env`) without a warning, and never writes the secret.
#[test]
fn env_secrets_pass_through_from_the_environment() {
    let kdl = "project demo { python \"3.12\"; }\n\
               service web from=\"nginx:1.27\" { env-secret TOKEN secret=api key=token; }\n";
    let rendered = Rendered::new(kdl);
    let base = rendered.yaml(BASE);
    assert_eq!(services(&base)["web"]["environment"], json!({"TOKEN": null}));
    assert!(base.get("secrets").is_none() && services(&base)["web"].get("secrets").is_none());
    let merged = compose_json(&rendered.out(), &[BASE], &[("TOKEN", "t0ken")]);
    assert_eq!(merged["services"]["web"]["environment"]["TOKEN"], json!("t0ken"));
    // File secrets of the repo: top-level `file:` relative to the compose file, per-service
    // source/target.
    let repo = Rendered::fixture("repo");
    let base = repo.yaml(BASE);
    assert_eq!(base["secrets"]["gsc_sa"]["file"], json!("../secrets/gsc_sa.json"));
    assert_eq!(
        services(&base)["api_ingestor"]["secrets"][0],
        json!({"source": "gsc_sa", "target": "gsc_sa.json"})
    );
}

/// `env-secret KEY … as-file=#true` (issue 17 point 6): the Compose secret `KEY` mounted at
/// /run/secrets/KEY and `KEY_FILE` naming it; from `file=`, or from the host's variable
/// `KEY` on a service whose root is writable (Compose refuses that on a read-only root).
/// Compose's own loader reads both sources, with and without the variable set.
#[test]
fn env_secrets_as_files_are_compose_secrets_with_a_file_variable() {
    let kdl = "project demo { python \"3.12\"; }\n\
               service web from=\"nginx:1.27\" {\n    \
               env-secret DSN secret=db key=dsn as-file=#true file=\"secrets/dsn.txt\"\n    \
               env-secret TOKEN secret=api key=token\n}\n\
               service tool from=\"busybox:1.36\" {\n    \
               env-secret API_KEY secret=api key=key as-file=#true\n    \
               env-secret DSN secret=db key=dsn as-file=#true file=\"secrets/dsn.txt\"\n    \
               hardening read-only=#false\n}\n";
    let rendered = Rendered::new(kdl);
    let base = rendered.yaml(BASE);
    let web = &services(&base)["web"];
    assert_eq!(web["environment"], json!({"DSN_FILE": "/run/secrets/DSN", "TOKEN": null}));
    assert_eq!(web["secrets"], json!([{"source": "DSN", "target": "DSN"}]));
    let tool = &services(&base)["tool"];
    assert_eq!(
        tool["environment"],
        json!({"API_KEY_FILE": "/run/secrets/API_KEY", "DSN_FILE": "/run/secrets/DSN"})
    );
    assert_eq!(
        tool["secrets"],
        json!([{"source": "API_KEY", "target": "API_KEY"}, {"source": "DSN", "target": "DSN"}])
    );
    // One Compose secret per variable, in order of first use.
    assert_eq!(
        base["secrets"],
        json!({"DSN": {"file": "../secrets/dsn.txt"}, "API_KEY": {"environment": "API_KEY"}})
    );
    create_sources(&rendered);
    for env in [&[][..], &[("API_KEY", "k3y")][..]] {
        let merged = compose_json(&rendered.out(), &[BASE, DEV, PROD], env);
        assert_eq!(merged["secrets"]["API_KEY"]["environment"], json!("API_KEY"), "{env:?}");
        assert!(
            merged["secrets"]["DSN"]["file"].as_str().unwrap().ends_with("/secrets/dsn.txt"),
            "{env:?}: {}",
            merged["secrets"]
        );
        assert_eq!(
            merged["services"]["web"]["secrets"],
            json!([{"source": "DSN", "target": "DSN"}]),
            "{env:?}"
        );
        assert_eq!(merged["services"]["web"]["environment"]["DSN_FILE"], json!("/run/secrets/DSN"));
    }
    // The repo reads the warehouse DSN as a file everywhere.
    let repo = Rendered::fixture("repo");
    let base = repo.yaml(BASE);
    assert_eq!(base["secrets"]["WAREHOUSE_DSN"], json!({"file": "../secrets/warehouse_dsn.txt"}));
    for (name, service) in services(&base) {
        assert!(service["environment"].get("WAREHOUSE_DSN").is_none(), "{name}: no value variable");
        if service["environment"].get("WAREHOUSE_DSN_FILE").is_some() {
            assert_eq!(service["environment"]["WAREHOUSE_DSN_FILE"], json!("/run/secrets/WAREHOUSE_DSN"));
            assert!(
                service["secrets"]
                    .as_array()
                    .unwrap()
                    .contains(&json!({"source": "WAREHOUSE_DSN", "target": "WAREHOUSE_DSN"})),
                "{name}"
            );
        }
    }

    // What cannot be rendered is refused.
    let head = "project demo { python \"3.12\"; }\n";
    let cases = [
        // The host's variable on a read-only root.
        (
            "service s from=\"busybox:1.36\" { env-secret K secret=s key=k as-file=#true; }",
            vec!["gscgen::compose::env-secret-read-only"],
        ),
        // `KEY_FILE` twice.
        (
            "service s from=\"busybox:1.36\" { env K_FILE=\"/x\"; env-secret K secret=s key=k as-file=#true file=\"k\"; }",
            vec!["gscgen::service::duplicate-env"],
        ),
        // `file=` without `as-file`.
        (
            "service s from=\"busybox:1.36\" { env-secret K secret=s key=k file=\"k\"; }",
            vec!["gscgen::config::invalid-value"],
        ),
        // /run/secrets/k twice.
        (
            "secret k file=\"k\"\nservice s from=\"busybox:1.36\" { secret k; env-secret k secret=s key=k as-file=#true file=\"k\"; }",
            vec!["gscgen::service::duplicate-mount-target", "gscgen::name::collision"],
        ),
        // One Compose secret, two sources.
        (
            "service s from=\"busybox:1.36\" { env-secret K secret=s key=k as-file=#true file=\"a\"; }\n\
             service t from=\"busybox:1.36\" { env-secret K secret=s key=k as-file=#true file=\"b\"; }",
            vec!["gscgen::name::collision"],
        ),
    ];
    for (services, expected) in cases {
        assert_eq!(codes(&format!("{head}{services}\n")), expected, "{services}");
    }
}

/// `env-host` (issue 18): Compose's interpolation of the host's variable, with the default
/// kept literal; `docker-compose config` with and without the variables set proves Compose
/// really takes the host's value; Kubernetes gets the default. What cannot be rendered is
/// refused, and a literal `${…}` in an `env` value warns.
#[test]
fn env_host_values_come_from_the_host_that_runs_compose() {
    let kdl = "project demo { python \"3.12\"; }\ntargets { requirements; docker; compose; kubernetes; }\n\
               group base { require \"celery>=5.3\"; }\n\
               image app { groups base; cmd celery \"-A\" app worker; }\n\
               env-set common { env-host TZ default=\"UTC\"; }\n\
               service worker image=app {\n    env-from common\n    env PLAIN=\"literal\"\n    \
               env-host LOG_LEVEL default=\"info\"\n    env-host PRICE var=\"HOST_PRICE\" default=\"$5\"\n    \
               dev {\n        env-host DEBUG_TOKEN required=#true\n        env-host EDITOR\n    }\n    \
               k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; \
               init migrate image=app { env-from common; cmd python \"-m\" migrate; }; }\n}\n";
    let rendered = Rendered::new(kdl);
    let base = rendered.yaml(BASE);
    assert_eq!(
        services(&base)["worker"]["environment"],
        json!({"TZ": "${TZ:-UTC}", "PLAIN": "literal", "LOG_LEVEL": "${LOG_LEVEL:-info}", "PRICE": "${HOST_PRICE:-$$5}"})
    );
    let dev = rendered.yaml(DEV);
    assert_eq!(
        services(&dev)["worker"]["environment"],
        json!({"DEBUG_TOKEN": "${DEBUG_TOKEN:?DEBUG_TOKEN is required}", "EDITOR": "${EDITOR}"})
    );
    // Unset: the defaults, literally (`config` prints a literal `$` escaped again).
    let env = |merged: &Value| merged["services"]["worker"]["environment"].clone();
    let unset = compose_json(&rendered.out(), &[BASE], &[]);
    assert_eq!(
        env(&unset),
        json!({"TZ": "UTC", "PLAIN": "literal", "LOG_LEVEL": "info", "PRICE": compose_escaped("$5")})
    );
    // Set: the host's values; set but empty takes the default, as `:-` says.
    let set = compose_json(
        &rendered.out(),
        &[BASE],
        &[("LOG_LEVEL", "debug"), ("HOST_PRICE", "7 EUR"), ("PRICE", "ignored"), ("TZ", "")],
    );
    assert_eq!(env(&set), json!({"TZ": "UTC", "PLAIN": "literal", "LOG_LEVEL": "debug", "PRICE": "7 EUR"}));
    // The dev file: a required variable stops Compose when unset; an optional one warns.
    let args = ["-f", BASE, "-f", DEV, "config", "--format", "json"];
    let missing = compose(&rendered.out(), &args, &[("EDITOR", "vi")]);
    assert!(!missing.status.success());
    assert!(support::stderr(&missing).contains("DEBUG_TOKEN is required"), "{}", support::stderr(&missing));
    let unset_optional = compose(&rendered.out(), &args, &[("DEBUG_TOKEN", "t")]);
    assert!(unset_optional.status.success(), "{}", support::stderr(&unset_optional));
    let warned = support::stderr(&unset_optional);
    assert!(warned.contains("EDITOR") && warned.contains("variable is not set"), "{warned}");
    let merged = compose_json(&rendered.out(), &[BASE, DEV], &[("DEBUG_TOKEN", "t0k"), ("EDITOR", "vi")]);
    assert_eq!(env(&merged)["DEBUG_TOKEN"], json!("t0k"));
    assert_eq!(env(&merged)["EDITOR"], json!("vi"));

    // Kubernetes: the defaults, plain values (`$` doubled for the kubelet), after the `env`
    // values (the set's `env-host` among the service's own); dev is not deployed.
    let deployment: Value = serde_yaml_ng::from_str(
        &fs::read_to_string(rendered.out().join("k8s/worker.deployment.yaml")).unwrap(),
    )
    .unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["env"],
        json!([
            {"name": "PLAIN", "value": "literal"},
            {"name": "TZ", "value": "UTC"},
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "PRICE", "value": "$$5"},
        ])
    );
    assert_eq!(pod["initContainers"][0]["env"], json!([{"name": "TZ", "value": "UTC"}]));

    let head = "project demo { python \"3.12\"; }\n";
    let k8s = "targets { requirements; docker; compose; kubernetes; }\ngroup g { require \"celery>=5.3\"; }\n\
               image app { groups g; cmd python \"-m\" app; }\n";
    let limits = "k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits memory=\"32Mi\"; }";
    let cases = [
        (
            format!("{head}service s from=\"busybox:1.36\" {{ env X=\"1\"; env-host X default=\"2\"; }}"),
            vec!["gscgen::service::duplicate-env"],
        ),
        (
            format!("{head}service s from=\"busybox:1.36\" {{ env-host X var=\"1X\"; }}"),
            vec!["gscgen::config::invalid-value"],
        ),
        (
            format!("{head}service s from=\"busybox:1.36\" {{ env-host X default=\"a}}b\"; }}"),
            vec!["gscgen::config::invalid-value"],
        ),
        (
            format!("{head}service s from=\"busybox:1.36\" {{ env-host X default=\"a\" required=#true; }}"),
            vec!["gscgen::config::invalid-value"],
        ),
        (format!("{head}image i {{ env-host X default=\"a\"; }}"), vec!["gscgen::config::unknown-node"]),
        (
            format!("{head}{k8s}service s image=app {{ env-host X; {limits} }}"),
            vec!["gscgen::kubernetes::env-host"],
        ),
        (
            format!(
                "{head}{k8s}env-set e {{ env-host X; }}\nservice s image=app {{ env-host X default=\"1\"; \
                     k8s {{ requests cpu=\"10m\" memory=\"16Mi\"; limits memory=\"32Mi\"; init i image=app {{ env-from e; }}; }} }}"
            ),
            vec!["gscgen::kubernetes::env-host"],
        ),
        (
            format!("{head}service s from=\"busybox:1.36\" {{ env X=\"$HOME/x\"; }}"),
            vec!["gscgen::compose::literal-interpolation"],
        ),
        // `$$` is two dollars, not interpolation; without the compose target, no warning.
        (format!("{head}service s from=\"busybox:1.36\" {{ env X=\"a$$b $5\"; }}"), vec![]),
        (
            format!(
                "{head}targets {{ requirements; docker; kubernetes; }}\nservice s from=\"busybox:1.36\" {{ env X=\"${{Y}}\"; {limits} }}"
            ),
            vec![],
        ),
    ];
    for (kdl, expected) in cases {
        assert_eq!(codes(&format!("{kdl}\n")), expected, "{kdl}");
    }
}

/// `env-set` + `env-from` (issue 18): the shared variables reach every service and init
/// that takes them, in Compose and in Kubernetes, before the service's own; a variable the
/// service sets itself overrides the set's.
#[test]
fn env_sets_are_shared_by_the_services_that_take_them() {
    let k = "k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; }";
    let kdl = format!(
        "project demo {{ python \"3.12\"; }}\ntargets {{ requirements; docker; compose; kubernetes; }}\n\
         group base {{ require \"celery>=5.3\"; }}\n\
         env-set common {{\n    env TZ=\"UTC\" LOG_LEVEL=\"INFO\"\n    env-secret DATABASE_URL secret=db key=url\n}}\n\
         env-set broker {{ env BROKER_URL=\"redis://redis:6379/0\" PRICE=\"$5\"; }}\n\
         image app {{ groups base; cmd celery \"-A\" app worker; }}\n\
         service worker image=app {{\n    env-from common broker\n    env LOG_LEVEL=\"DEBUG\"\n    \
         k8s {{ requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; \
         init migrate image=app {{ env-from common; cmd python \"-m\" migrate; }}; }}\n}}\n\
         service beat image=app {{ env-from common; cmd celery \"-A\" app beat; {k} }}\n"
    );
    let rendered = Rendered::new(&kdl);
    let base = rendered.yaml(BASE);
    let env = |service: &str| services(&base)[service]["environment"].clone();
    assert_eq!(
        env("worker"),
        json!({"TZ": "UTC", "BROKER_URL": "redis://redis:6379/0", "PRICE": "$$5", "LOG_LEVEL": "DEBUG", "DATABASE_URL": null})
    );
    assert_eq!(env("beat"), json!({"TZ": "UTC", "LOG_LEVEL": "INFO", "DATABASE_URL": null}));
    let text = rendered.text(BASE);
    let at = |line: &str| text.find(line).unwrap_or_else(|| panic!("{line}"));
    assert!(
        at("      TZ: UTC\n") < at("      BROKER_URL:") && at("      PRICE:") < at("      LOG_LEVEL: DEBUG"),
        "the sets' variables first, in order, then the service's own"
    );
    // Compose does not interpolate it (`config` prints the literal `$` escaped again).
    let merged = compose_json(&rendered.out(), &[BASE], &[]);
    assert_eq!(merged["services"]["worker"]["environment"]["PRICE"], json!(compose_escaped("$5")));

    let deployment: Value = serde_yaml_ng::from_str(
        &fs::read_to_string(rendered.out().join("k8s/worker.deployment.yaml")).unwrap(),
    )
    .unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let names = |container: &Value| -> Vec<String> {
        container["env"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&pod["containers"][0]), ["TZ", "BROKER_URL", "PRICE", "LOG_LEVEL", "DATABASE_URL"]);
    assert_eq!(names(&pod["initContainers"][0]), ["TZ", "LOG_LEVEL", "DATABASE_URL"]);
    assert_eq!(
        pod["containers"][0]["env"][4]["valueFrom"]["secretKeyRef"],
        json!({"name": "db", "key": "url"})
    );

    let head = "project demo { python \"3.12\"; }\n";
    // Two sets giving one service the same variable, a set taken twice, an unknown set.
    assert_eq!(
        codes(&format!(
            "{head}env-set a {{ env X=\"1\"; }}\nenv-set b {{ env X=\"2\"; }}\n\
             service s from=\"busybox:1.36\" {{ env-from a b a comon; }}\n"
        )),
        ["gscgen::service::duplicate-env", "gscgen::service::duplicate-env", "gscgen::env-set::unknown"]
    );
    // A variable twice in one set is reported once, on the set; a bad name once too.
    assert_eq!(
        codes(&format!(
            "{head}env-set a {{ env X=\"1\" \"9Y\"=\"2\"; env X=\"3\"; }}\n\
             service s from=\"busybox:1.36\" {{ env-from a; }}\nservice t from=\"busybox:1.36\" {{ env-from a; }}\n"
        )),
        ["gscgen::config::invalid-value", "gscgen::service::duplicate-env"]
    );
    // Unused sets warn; duplicate set names are errors.
    assert_eq!(
        codes(&format!(
            "{head}env-set a {{ env X=\"1\"; }}\nenv-set a {{ env Y=\"1\"; }}\nservice s from=\"busybox:1.36\"\n"
        )),
        ["gscgen::name::duplicate", "gscgen::env-set::unused", "gscgen::env-set::unused"]
    );
}

/// A service's own `user` and `entrypoint` (issue 18): Compose `user: "uid:uid"` and
/// `entrypoint:`, Kubernetes `runAsUser`/`runAsGroup` and `command:`; the image's command is
/// dropped with a new entrypoint in both, as Docker does.
#[test]
fn service_user_and_entrypoint_reach_compose_and_kubernetes() {
    let kdl = "project demo { python \"3.12\"; }\ntargets { requirements; docker; compose; kubernetes; }\n\
         group base { require \"celery>=5.3\"; }\n\
         image app { groups base; cmd celery \"-A\" app worker; }\n\
         service worker image=app {\n    entrypoint celery \"-A\" app\n    cmd beat \"--loglevel=info\"\n    user 1001\n    \
         k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; }\n}\n\
         service cache from=\"redis:7\" {\n    user 999\n    \
         k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; }\n}\n";
    let rendered = Rendered::new(kdl);
    let base = rendered.yaml(BASE);
    let worker = &services(&base)["worker"];
    assert_eq!(worker["entrypoint"], json!(["celery", "-A", "app"]));
    assert_eq!(worker["command"], json!(["beat", "--loglevel=info"]));
    assert_eq!(worker["user"], json!("1001:1001"));
    assert_eq!(services(&base)["cache"]["user"], json!("999:999"));
    let merged = compose_json(&rendered.out(), &[BASE], &[]);
    assert_eq!(merged["services"]["worker"]["user"], json!("1001:1001"));
    assert_eq!(merged["services"]["worker"]["entrypoint"], json!(["celery", "-A", "app"]));

    let container = |name: &str| -> Value {
        let text = fs::read_to_string(rendered.out().join(format!("k8s/{name}.deployment.yaml"))).unwrap();
        let deployment: Value = serde_yaml_ng::from_str(&text).unwrap();
        deployment["spec"]["template"]["spec"]["containers"][0].clone()
    };
    let worker = container("worker");
    assert_eq!(worker["command"], json!(["celery", "-A", "app"]));
    assert_eq!(worker["args"], json!(["beat", "--loglevel=info"]));
    assert_eq!(worker["securityContext"]["runAsUser"], json!(1001));
    assert_eq!(worker["securityContext"]["runAsGroup"], json!(1001));
    assert_eq!(container("cache")["securityContext"]["runAsUser"], json!(999));

    let head = "project demo { python \"3.12\"; }\n";
    // A name (Kubernetes takes a number), root, a uid given twice, the key in compose-extra.
    assert_eq!(
        codes(&format!("{head}service s from=\"redis:7\" {{ user redis; }}\n")),
        ["gscgen::config::wrong-type"]
    );
    assert_eq!(
        codes(&format!("{head}service s from=\"redis:7\" {{ user 0; }}\n")),
        ["gscgen::config::invalid-value"]
    );
    assert!(
        codes(&format!(
            "{head}targets {{ kubernetes; }}\nservice s from=\"redis:7\" {{ user 999; k8s {{ security run-as-user=999; }}; }}\n"
        ))
        .contains(&"gscgen::config::invalid-value".to_owned())
    );
    assert_eq!(
        codes(&format!(
            "{head}service s from=\"redis:7\" {{ compose-extra {{ user \"999\"; entrypoint sh; }}; }}\n"
        )),
        ["gscgen::compose::extra-generated-key", "gscgen::compose::extra-generated-key"]
    );
}

/// Stated `depends-on` conditions and read-only named volumes (issue 18): a condition the
/// dependency can meet is written as stated, one it cannot is refused; `read-only=#true` is
/// Compose `read_only: true` and Kubernetes `readOnly: true`.
#[test]
fn stated_conditions_and_read_only_volumes() {
    let k = "k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; security run-as-user=101; }";
    let kdl = format!(
        "project demo {{ python \"3.12\"; }}\ntargets {{ compose; kubernetes; }}\n\
         service db from=\"postgres:16\" {{ health pg_isready; {k} }}\n\
         service migrate from=\"busybox:1.36\" {{ oneshot; {k} }}\n\
         service web from=\"nginx:1.27\" {{\n    \
         depends-on db condition=service_started\n    depends-on migrate condition=service_completed_successfully\n    \
         volume static \"/usr/share/nginx/html\" read-only=#true\n    volume cache \"/var/cache/nginx\"\n    {k}\n}}\n"
    );
    let rendered = Rendered::new(&kdl);
    let base = rendered.yaml(BASE);
    let web = &services(&base)["web"];
    assert_eq!(
        web["depends_on"],
        json!({"db": {"condition": "service_started"}, "migrate": {"condition": "service_completed_successfully"}}),
        "service_started although db is healthy: as stated"
    );
    assert_eq!(web["volumes"][0]["read_only"], json!(true));
    assert_eq!(web["volumes"][1].get("read_only"), None);
    let merged = compose_json(&rendered.out(), &[BASE], &[]);
    assert_eq!(merged["services"]["web"]["volumes"][0]["read_only"], json!(true));
    assert_eq!(merged["services"]["web"]["depends_on"]["db"]["condition"], json!("service_started"));

    let text = fs::read_to_string(rendered.out().join("k8s/web.deployment.yaml")).unwrap();
    let deployment: Value = serde_yaml_ng::from_str(&text).unwrap();
    let mounts =
        deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].as_array().unwrap().clone();
    let mount = |path: &str| mounts.iter().find(|m| m["mountPath"] == json!(path)).unwrap().clone();
    assert_eq!(mount("/usr/share/nginx/html")["readOnly"], json!(true));
    assert_eq!(mount("/var/cache/nginx").get("readOnly"), None);

    let head = "project demo { python \"3.12\"; }\nservice db from=\"postgres:16\"\nservice job from=\"busybox:1.36\" { oneshot; health \"true\"; }\n";
    for (depends, ok) in [
        ("depends-on db condition=service_healthy", false),
        ("depends-on db condition=service_completed_successfully", false),
        ("depends-on db condition=service_started", true),
        ("depends-on job condition=service_healthy", true),
        ("depends-on job condition=service_completed_successfully", true),
        ("depends-on db condition=healthy", false),
        ("depends-on job condition=service_started; depends-on job condition=service_healthy", false),
    ] {
        let codes = codes(&format!("{head}service web from=\"nginx:1.27\" {{ {depends}; }}\n"));
        let expected: &[&str] = if ok { &[] } else { &["gscgen::service::dependency-condition"] };
        assert_eq!(codes, expected, "{depends}");
    }
}

/// `env-file` (issue 18): Compose `env_file:`, relative to the compose file's folder and read
/// when Compose runs; Kubernetes cannot read a file of the checkout, so a deployed service with
/// one is refused.
#[test]
fn env_files_reach_compose_and_are_refused_for_kubernetes() {
    let kdl = "project demo { python \"3.12\"; }\n\
         service web from=\"nginx:1.27\" {\n    env-file \"config/app.env\" \"./config/local.env\"\n    env TZ=\"UTC\"\n}\n";
    let rendered = Rendered::new(kdl);
    let base = rendered.yaml(BASE);
    assert_eq!(services(&base)["web"]["env_file"], json!(["../config/app.env", "../config/local.env"]));
    fs::create_dir_all(rendered.dir.path().join("config")).unwrap();
    fs::write(rendered.dir.path().join("config/app.env"), "FROM_FILE=1\nTZ=Europe/Paris\n").unwrap();
    fs::write(rendered.dir.path().join("config/local.env"), "LOCAL=2\n").unwrap();
    let merged = compose_json(&rendered.out(), &[BASE], &[]);
    let env = &merged["services"]["web"]["environment"];
    assert_eq!(env["FROM_FILE"], json!("1"));
    assert_eq!(env["LOCAL"], json!("2"));
    assert_eq!(env["TZ"], json!("UTC"), "`environment` wins over `env_file`, as Compose documents");

    let head = "project demo { python \"3.12\"; }\n";
    assert_eq!(
        codes(&format!("{head}service web from=\"nginx:1.27\" {{ env-file \"../app.env\"; }}\n")),
        ["gscgen::path::invalid"]
    );
    let k8s = "k8s { requests cpu=\"10m\" memory=\"16Mi\"; limits cpu=\"20m\" memory=\"32Mi\"; security run-as-user=101; }";
    assert_eq!(
        codes(&format!(
            "{head}targets {{ compose; kubernetes; }}\nservice web from=\"nginx:1.27\" {{ env-file \"app.env\"; {k8s} }}\n"
        )),
        ["gscgen::kubernetes::env-file"]
    );
    // Not deployed: nothing to refuse.
    assert_eq!(
        codes(&format!(
            "{head}targets {{ compose; kubernetes; }}\nservice web from=\"nginx:1.27\" {{ env-file \"app.env\"; k8s {{ external \"the cluster's\"; }}; }}\n"
        )),
        Vec::<String>::new()
    );
}

/// The values of tests/fixtures/compose/tricky.kdl, as the container must see them.
fn tricky_env() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("YES", "yes"),
        ("OCTAL", "0755"),
        ("VERSION", "3.10"),
        ("COLON", "a: b"),
        ("HASH", "#x"),
        ("EMPTY", ""),
        ("ON", "on"),
        ("NULL", "null"),
        ("TILDE", "~"),
        ("DATE", "2024-01-01"),
        ("FLOAT", "1e3"),
        ("DOLLAR", "$5 ${HOME} $$"),
        ("QUOTE", "say \"hi\""),
        ("NEWLINE", "line1\nline2"),
        ("LEADING", " x"),
        ("STAR", "*ref"),
        ("DASH", "- x"),
        ("TRUE", "True"),
        ("UNICODE", "é ✓"),
        ("BACKSLASH", "C:\\dir\\"),
    ])
}

/// Compose's escape for a literal `$` in a value.
fn compose_escaped(s: &str) -> String {
    s.replace('$', "$$")
}

#[test]
fn tricky_scalars_round_trip_through_yaml_12_yaml_11_and_compose() {
    let rendered = Rendered::fixture("tricky");
    let expected: BTreeMap<String, Value> =
        tricky_env().into_iter().map(|(k, v)| (k.to_owned(), json!(compose_escaped(v)))).collect();
    let expected = Value::Object(expected.into_iter().collect());
    let command = json!(["python", "-m", "src", "--flag=yes", "0755", "a: b", ""]);

    // YAML 1.2 (serde_yaml_ng)
    let base = rendered.yaml(BASE);
    let yes = &services(&base)["yes"];
    assert_eq!(yes["environment"], expected);
    assert_eq!(yes["command"], command);
    assert_eq!(yes["profiles"], json!(["no"]));
    assert_eq!(yes["networks"], json!(["off"]));
    assert_eq!(yes["secrets"], json!([{"source": "null", "target": "0755"}]));
    assert_eq!(base["volumes"], json!({"on": {}}));
    assert_eq!(services(&base)["null"]["restart"], json!("on-failure:3"));
    assert_eq!(
        services(&base)["null"]["deploy"]["resources"]["limits"],
        json!({"cpus": "0.25", "memory": "64M"})
    );
    let dev = rendered.yaml(DEV);
    assert_eq!(services(&dev)["yes"]["environment"], json!({"LOG_LEVEL": "DEBUG", "N": "no", "OFF": "off"}));

    // YAML 1.1 (PyYAML): the same document, value for value.
    for file in FILES {
        assert_eq!(
            pyyaml(&rendered.out().join(file)),
            rendered.yaml(file),
            "PyYAML reads {file} differently"
        );
    }

    // Docker Compose: after interpolation, `$$` is still `$$` in its output (it re-escapes),
    // and nothing was substituted (`${HOME}` would have been).
    let merged = compose_json(&rendered.out(), &[BASE], &[("HOME", "/home/should-not-appear")]);
    assert_eq!(merged["services"]["yes"]["environment"], expected);
    assert_eq!(merged["services"]["yes"]["command"], command);
}

/// Both YAML readers agree on every file of every fixture: no scalar changes type between
/// YAML 1.1 and 1.2.
#[test]
fn yaml_11_and_12_readers_agree_on_every_file() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        for file in FILES {
            assert_eq!(pyyaml(&rendered.out().join(file)), rendered.yaml(file), "{name}/{file}");
        }
    }
}

/// PyYAML's `safe_load` of a file, as JSON. Fails loudly when PyYAML is missing.
fn pyyaml(path: &Path) -> Value {
    let script =
        "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))";
    let output = support::tool("python3").args(["-c", script]).arg(path).output().expect("python3 runs");
    assert!(
        output.status.success(),
        "python3 with PyYAML is required (scripts/test installs it): {}",
        support::stderr(&output)
    );
    serde_json::from_slice(&output.stdout).expect("PyYAML output is JSON")
}

// ---------------------------------------------------------------------------------------
// Escape hatches: `compose-extra` read back
// ---------------------------------------------------------------------------------------

/// The `compose-extra` keys of the fixture, as a YAML 1.2 reader and as Compose itself read
/// them: each value with the type the KDL value had, in the file it was declared for, after
/// every generated key; nothing in the prod file.
#[test]
fn compose_extra_keys_read_back_with_their_values() {
    let rendered = Rendered::fixture("hatches");
    let base = rendered.yaml(BASE);
    let api = &services(&base)["api"];
    let expected = json!({
        "labels": {"com.example.team": "shop", "com.example.port": "8000", "com.example.price": "$$5 $${HOME}"},
        "init": true,
        "stop_grace_period": "30s",
        "pids_limit": 200,
        "oom_score_adj": -100,
        "extra_hosts": ["host.docker.internal:host-gateway"],
        "sysctls": {"net.core.somaxconn": 1024},
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
        "ulimits": {"nofile": {"soft": 20000, "hard": 40000}, "nproc": 65535},
        "deploy": {"resources": {"reservations": {"memory": "128M", "cpus": "0.25"}}},
        "x-rollout": {"owner": "team-a", "stages": [{"name": "canary", "weight": 0.25}, {"name": "all", "weight": 1.0}]},
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&api[key], value, "api.{key}");
    }
    // After every key gscgen generates, in config order (read from the text: the JSON map
    // sorts its keys).
    let text = rendered.text(BASE);
    let keys: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "  api:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter(|l| !l.starts_with("     ") && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
        .collect();
    let in_config_order = [
        "labels",
        "init",
        "stop_grace_period",
        "pids_limit",
        "oom_score_adj",
        "extra_hosts",
        "sysctls",
        "logging",
        "ulimits",
        "deploy",
        "x-rollout",
    ];
    assert_eq!(keys[keys.len() - in_config_order.len()..], in_config_order, "{keys:?}");
    assert_eq!(keys[keys.len() - in_config_order.len() - 1], "cap_add", "{keys:?}");
    // The typed hardening, as written by gscgen.
    assert_eq!(api["cap_drop"], json!(["ALL"]));
    assert_eq!(api["cap_add"], json!(["NET_BIND_SERVICE", "CHOWN"]));
    assert_eq!(api["read_only"], json!(true));

    let dev = rendered.yaml(DEV);
    assert_eq!(services(&dev)["api"]["stdin_open"], json!(true));
    assert_eq!(services(&dev)["api"]["tty"], json!(true));
    // A pre-built service with only dev extras is in the dev file, with its image.
    assert_eq!(services(&dev)["cache"]["mem_limit"], json!("128m"));
    assert_eq!(services(&dev)["cache"]["image"], json!("redis:7-alpine"));
    assert!(services(&base)["cache"].get("mem_limit").is_none(), "dev extras stay in the dev file");
    for (service, body) in services(&rendered.yaml(PROD)) {
        assert!(body.get("labels").is_none() && body.get("tty").is_none(), "prod/{service}");
    }

    // Compose's own reading: nothing interpolated (its output re-escapes `$` as `$$`), the
    // types hold.
    let merged = compose_json(&rendered.out(), &[BASE, DEV], &[("HOME", "/should/not/appear")]);
    let api = &merged["services"]["api"];
    assert_eq!(api["labels"]["com.example.price"], json!(compose_escaped("$5 ${HOME}")));
    assert_eq!(api["cap_drop"], json!(["ALL"]));
    assert_eq!(api["read_only"], json!(true));
    assert_eq!(api["tty"], json!(true));
    assert_eq!(api["ulimits"]["nofile"], json!({"soft": 20000, "hard": 40000}));
    assert_eq!(api["logging"]["options"]["max-file"], json!("3"));
}

// ---------------------------------------------------------------------------------------
// External validators
// ---------------------------------------------------------------------------------------

/// `docker-compose` in `dir` with a clean environment (no REGISTRY, VERSION, COMPOSE_* or
/// secrets from the caller) plus `env`.
fn compose(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().expect("temp home");
    let mut command = support::tool("docker-compose");
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .args(args)
        .envs(env.iter().copied());
    command.output().expect("docker-compose runs")
}

fn file_args<'a>(files: &[&'a str]) -> Vec<&'a str> {
    files.iter().flat_map(|f| ["-f", *f]).collect()
}

/// The merged, interpolated project as Compose sees it, every profile enabled.
fn compose_json(dir: &Path, files: &[&str], env: &[(&str, &str)]) -> Value {
    let mut args = file_args(files);
    args.extend(["--profile", "*", "config", "--format", "json"]);
    let output = compose(dir, &args, env);
    assert!(output.status.success(), "docker-compose {args:?}: {}", support::stderr(&output));
    serde_json::from_slice(&output.stdout).expect("compose config prints JSON")
}

/// Creates every bind mount source and secret file the files name, so that Compose sees a
/// complete project (its `config` does not require them today; a later version might).
fn create_sources(rendered: &Rendered) {
    let out = rendered.out();
    for file in FILES {
        let doc = rendered.yaml(file);
        for body in services(&doc).values() {
            for volume in
                body["volumes"].as_array().into_iter().flatten().filter(|v| v["type"] == json!("bind"))
            {
                let source = out.join(volume["source"].as_str().unwrap());
                fs::create_dir_all(&source).ok();
            }
        }
        for secret in doc["secrets"].as_object().into_iter().flatten().map(|(_, s)| s) {
            // A secret from the host's variable (`environment:`) needs no file.
            let Some(file) = secret["file"].as_str() else { continue };
            let path = out.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "not a real secret\n").unwrap();
        }
    }
}

/// Acceptance 1: Compose v2 accepts each file alone and merged, every profile enabled,
/// with exit 0 and nothing on stderr (no warning).
#[test]
fn docker_compose_accepts_the_files_alone_and_merged_without_warning() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        create_sources(&rendered);
        for files in [&[BASE][..], &[BASE, DEV], &[BASE, PROD], &[DEV], &[PROD], &[BASE, DEV, PROD]] {
            let mut args = file_args(files);
            args.extend(["--profile", "*", "config", "-q"]);
            let output = compose(&rendered.out(), &args, &[]);
            let stderr = support::stderr(&output);
            assert!(output.status.success(), "{name}: docker-compose {}: {stderr}", args.join(" "));
            assert!(stderr.is_empty(), "{name}: docker-compose {} warned: {stderr}", args.join(" "));
        }
    }
}

/// Each profile alone is a valid selection (dependencies' profiles are closed over).
#[test]
fn docker_compose_accepts_every_single_profile() {
    let rendered = Rendered::fixture("repo");
    let profiles: BTreeSet<String> =
        rendered.model.services.iter().flat_map(|s| s.profiles.clone()).collect();
    assert!(profiles.len() >= 4, "{profiles:?}");
    for profile in &profiles {
        let mut args = file_args(&[BASE, DEV]);
        args.extend(["--profile", profile, "config", "-q"]);
        let output = compose(&rendered.out(), &args, &[]);
        assert!(output.status.success(), "--profile {profile}: {}", support::stderr(&output));
        assert!(support::stderr(&output).is_empty(), "--profile {profile}: {}", support::stderr(&output));
    }
}

/// Acceptance 3: yamllint with the repo's configuration: no error and no warning.
#[test]
fn yamllint_is_clean() {
    let config = support::repo().join(".yamllint.yaml");
    assert!(config.is_file(), ".yamllint.yaml is missing");
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = support::tool("yamllint")
            .arg("-c")
            .arg(&config)
            .args(["-f", "parsable"])
            .args(FILES)
            .current_dir(rendered.out())
            .output()
            .expect("yamllint runs");
        let stdout = support::stdout(&output);
        assert!(
            output.status.success() && stdout.is_empty(),
            "{name}: yamllint: {stdout}{}",
            support::stderr(&output)
        );
    }
}

/// The Compose specification's JSON schema accepts every file.
#[test]
fn compose_spec_schema_accepts_every_file() {
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = support::tool("check-jsonschema")
            .args(["--builtin-schema", "vendor.compose-spec"])
            .args(FILES)
            .current_dir(rendered.out())
            .output()
            .expect("check-jsonschema runs");
        assert!(output.status.success(), "{name}: {}{}", support::stdout(&output), support::stderr(&output));
    }
}

/// The committed generated/ compose files are what the repo's project.kdl renders.
#[test]
fn committed_compose_files_are_fresh() {
    let rendered = Rendered::fixture("repo");
    for file in FILES {
        assert_eq!(
            support::generated(file),
            rendered.text(file),
            "generated/{file} is stale: run `gscgen render`"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Compile-time rules
// ---------------------------------------------------------------------------------------

/// The rules that need two spans label both.
#[test]
fn conflicts_label_both_sides() {
    for (case, labels) in [
        ("duplicate_host_port", 2),
        ("depends_on_cycle", 3),
        ("duplicate_env", 2),
        ("duplicate_mount_target", 2),
        ("pypi_cache_without_port", 2),
    ] {
        let path = support::repo().join(format!("tests/invalid/compose_{case}.kdl"));
        let source = Source::new(format!("{case}.kdl"), fs::read_to_string(path).unwrap());
        let (_, diags) = support::check_source(&source);
        let error = diags.iter().find(|d| d.is_error()).expect("an error");
        assert_eq!(error.labels.len(), labels, "{case}: {:?}", error.labels);
        let spans: BTreeSet<usize> = error.labels.iter().map(|l| l.span.offset()).collect();
        assert_eq!(spans.len(), labels, "{case}: labels on distinct text");
    }
}

/// The seed's compose files, for contrast: Compose rejects the seed's dev file alone
/// (undefined network) and warns about its `version` key. The generated ones pass.
#[test]
fn the_seeds_dev_file_fails_alone_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let seed = "version: '3.8'\nservices:\n  pypi-cache:\n    image: muccg/devpi:latest\n    networks:\n      - gsc_network\n";
    fs::write(dir.path().join(DEV), seed).unwrap();
    let output = compose(dir.path(), &["-f", DEV, "config", "-q"], &[]);
    let stderr = support::stderr(&output);
    assert!(!output.status.success(), "the seed's dev file should fail alone");
    assert!(stderr.contains("gsc_network") && stderr.contains("obsolete"), "{stderr}");
}

/// Issue 16 point 4: published ports bind to loopback unless `host-ip` says otherwise, as
/// Compose itself reads the files.
#[test]
fn published_ports_bind_to_loopback_unless_host_ip_says_otherwise() {
    let rendered = Rendered::new(
        r#"project demo { python "3.11"; }
group base { require "requests>=2.31.0"; }
image api { groups base; }
service api image=api {
    port 8000 host=8000
    port 9000 host=9000 host-ip="0.0.0.0"
    port 9100 host=9100 host-ip="::1"
    port 7000
}
"#,
    );
    let config = compose_json(&rendered.out(), &["docker-compose.yml", "docker-compose.dev.yml"], &[]);
    let ports = config["services"]["api"]["ports"].as_array().expect("ports").clone();
    let bound: Vec<(String, String)> = ports
        .iter()
        .map(|p| {
            (
                p["published"].to_string().trim_matches('"').to_owned(),
                p["host_ip"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        bound,
        vec![
            ("8000".to_owned(), "127.0.0.1".to_owned()),
            ("9000".to_owned(), "0.0.0.0".to_owned()),
            ("9100".to_owned(), "::1".to_owned()),
        ],
        "{ports:?}"
    );
    let expose = &config["services"]["api"]["expose"];
    assert_eq!(expose, &json!(["7000"]), "an unpublished port is only exposed");
}

/// Issue 17: every service, built or pre-built, runs hardened unless its `hardening` says
/// otherwise, as `docker compose config` reads the merged files: a read-only root with a
/// tmpfs at /tmp and at the image's `writable` folders (not where a volume already is),
/// every capability dropped, no privilege escalation; `hardening` adds capabilities back
/// and tmpfs folders, or turns a default off.
#[test]
fn services_are_hardened_by_default_and_relaxed_only_as_stated() {
    let rendered = Rendered::new(
        r#"project demo { python "3.11"; }
group base { require "requests>=2.31.0"; }
image api {
    groups base
    writable "/logs" "/data/"
}
service api image=api {
    volume api-data "/data"
}
service db from="postgres:16-alpine" {
    volume db-data "/var/lib/postgresql/data"
    hardening {
        cap-add CHOWN "CAP_SETUID" SETGID CHOWN
        writable "/var/run/postgresql" "/tmp"
    }
}
service legacy from="example/legacy:1.0" {
    hardening read-only=#false no-new-privileges=#false
}
"#,
    );
    let config = compose_json(&rendered.out(), &["docker-compose.yml", "docker-compose.dev.yml"], &[]);
    let service = |name: &str| config["services"][name].clone();
    let api = service("api");
    assert_eq!(api["read_only"], json!(true), "{api}");
    assert_eq!(api["tmpfs"], json!(["/tmp", "/logs"]), "/data is a volume: no tmpfs over it");
    assert_eq!(api["cap_drop"], json!(["ALL"]));
    assert!(api["cap_add"].is_null(), "{api}");
    assert_eq!(api["security_opt"], json!(["no-new-privileges:true"]));
    let db = service("db");
    assert_eq!(db["read_only"], json!(true));
    assert_eq!(db["tmpfs"], json!(["/tmp", "/var/run/postgresql"]));
    assert_eq!(db["cap_add"], json!(["CHOWN", "SETUID", "SETGID"]), "CAP_ dropped, each once");
    assert_eq!(db["cap_drop"], json!(["ALL"]));
    let legacy = service("legacy");
    assert!(legacy["read_only"].is_null() || legacy["read_only"] == json!(false), "{legacy}");
    assert!(legacy["tmpfs"].is_null() && legacy["security_opt"].is_null(), "{legacy}");
    assert_eq!(legacy["cap_drop"], json!(["ALL"]), "capabilities are dropped whatever else is relaxed");
    // The repo's own project: every service is hardened, the two pre-built images whose
    // entrypoints switch users get exactly the capabilities that needs.
    let repo = Rendered::new(&fs::read_to_string(support::repo().join("project.kdl")).unwrap());
    let text = fs::read_to_string(repo.out().join("docker-compose.yml")).unwrap();
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    for (name, service) in services(&doc) {
        assert_eq!(service["read_only"], json!(true), "{name}");
        assert_eq!(service["cap_drop"], json!(["ALL"]), "{name}");
        assert_eq!(service["security_opt"], json!(["no-new-privileges:true"]), "{name}");
        let expected = match name.as_str() {
            "warehouse" => json!(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]),
            "redis" => json!(["CHOWN", "SETGID", "SETUID"]),
            _ => Value::Null,
        };
        assert_eq!(service["cap_add"], expected, "{name}");
    }
}

/// `from=` pinning: a version tag or a digest passes; untagged and `latest` warn (for the
/// base image too), unless `unpinned=` says why; a malformed digest is an error; a digest
/// reaches every target as written.
#[test]
fn pre_built_images_are_pinned_or_acknowledged() {
    let head = "project demo { python \"3.11\" }\n";
    let service =
        |from: &str, extra: &str| format!("{head}service db from=\"{from}\" {extra} {{ port 5432; }}\n");
    let unpinned = "gscgen::image::unpinned";
    for pinned in [
        "postgres:16-alpine",
        "registry.example:5000/team/postgres:16",
        "postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "postgres:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        assert!(codes(&service(pinned, "")).is_empty(), "{pinned}");
    }
    for moving in ["postgres", "postgres:latest", "registry.example:5000/postgres", "library/postgres:latest"]
    {
        assert_eq!(codes(&service(moving, "")), [unpinned], "{moving}");
        assert!(codes(&service(moving, "unpinned=\"no tags yet\"")).is_empty(), "{moving}");
    }
    for bad in ["postgres@sha256:0123", "postgres@md5:0123456789abcdef0123456789abcdef", "postgres@sha256:"] {
        assert_eq!(codes(&service(bad, "")), ["gscgen::config::invalid-value"], "{bad}");
    }
    // Nothing to acknowledge: a pinned reference, or a built image.
    assert_eq!(codes(&service("postgres:16", "unpinned=\"x\"")), ["gscgen::config::invalid-value"]);
    let base = format!(
        "{head}targets {{ requirements; docker; }}\nbase-image {{ from \"python\"; }}\ngroup base {{ require \"requests\"; }}\nimage app {{ groups base; cmd python \"-V\"; }}\n"
    );
    assert!(codes(&base).contains(&unpinned.to_owned()), "{:?}", codes(&base));

    let digest = "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let rendered = Rendered::new(&format!(
        "{head}targets {{ compose; kubernetes; }}\nservice cache from=\"{digest}\" {{ port 6379; k8s {{ requests cpu=\"50m\" memory=\"64Mi\"; security run-as-non-root=#false; }} }}\n"
    ));
    let compose = fs::read_to_string(rendered.out().join("docker-compose.yml")).unwrap();
    assert!(
        compose.contains(&format!("image: \"{digest}\"")) || compose.contains(&format!("image: {digest}")),
        "{compose}"
    );
    let deployment = fs::read_to_string(rendered.out().join("k8s/cache.deployment.yaml")).unwrap();
    assert!(
        deployment.contains(digest) && deployment.contains("imagePullPolicy: IfNotPresent"),
        "{deployment}"
    );
}

/// compose-lint (PyPI, scripts/install-security-scanners) over the repo's Compose file: no
/// finding beyond the committed waivers (.compose-lint.yml, one reason per rule), and over
/// every fixture, none of the hardening rules, which gscgen renders by default.
#[test]
fn compose_lint_finds_nothing_beyond_the_committed_waivers() {
    let repo = support::repo();
    let output = support::tool("compose-lint")
        .arg("check")
        .arg("--config")
        .arg(repo.join(".compose-lint.yml"))
        .args(["--strict-config", "--fail-on", "low", "-q", "--no-pager"])
        .arg(repo.join("generated/docker-compose.yml"))
        .output()
        .expect("compose-lint runs");
    assert!(
        output.status.success(),
        "compose-lint: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Hardening: no-new-privileges, cap_drop ALL, read-only root, on every fixture.
    const HARDENING: [&str; 3] = ["CL-0003", "CL-0006", "CL-0007"];
    for name in FIXTURES {
        let rendered = Rendered::fixture(name);
        let output = support::tool("compose-lint")
            .args(["check", "--format", "json", "--no-pager"])
            .arg(rendered.out().join("docker-compose.yml"))
            .output()
            .expect("compose-lint runs");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("{name}: compose-lint JSON: {e}: {}", String::from_utf8_lossy(&output.stdout))
        });
        let findings = report["findings"].as_array().unwrap_or_else(|| panic!("{name}: no findings list"));
        for finding in findings {
            let rule = finding["rule_id"].as_str().unwrap();
            assert!(!HARDENING.contains(&rule), "{name}: {rule} on {}", finding["service"]);
        }
    }
}
