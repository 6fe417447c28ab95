//! `cargo bench`: each pipeline stage on the repo's project and on synthetic projects of
//! 100, 1,000 and 10,000 services (see docs/performance.md for the numbers and the
//! whole-process timings of scripts/bench).

use std::fs;

use camino::Utf8PathBuf;
use gscgen::emit::{self, WriteOptions};
use gscgen::model::Model;
use gscgen::plan::{Plan, PlanContext, plan};
use gscgen::source::Source;

fn main() {
    divan::main();
}

const SIZES: &[&str] = &["repo", "100", "1000", "10000"];

fn source(size: &str) -> Source {
    let text = match size {
        "repo" => fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/project.kdl")).unwrap(),
        n => {
            let services: usize = n.parse().unwrap();
            gscgen::synth::project(services, (services / 4).max(1), 1)
        }
    };
    Source::new("project.kdl", text)
}

fn model(size: &str) -> Model {
    let (model, diagnostics) = gscgen::app::check_source(&source(size));
    assert!(!diagnostics.has_errors());
    model.unwrap()
}

fn planned(size: &str) -> Plan {
    plan(&model(size), &PlanContext { config_name: "project.kdl".into() }).unwrap()
}

fn rendered_folder(plan: &Plan) -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
    emit::write(plan, &root, WriteOptions::default()).unwrap();
    (dir, root)
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn parse_and_validate(bencher: divan::Bencher, size: &str) {
    let source = source(size);
    bencher.bench(|| gscgen::app::check_source(divan::black_box(&source)));
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn plan_only(bencher: divan::Bencher, size: &str) {
    let model = model(size);
    let context = PlanContext { config_name: "project.kdl".into() };
    bencher.bench(|| plan(divan::black_box(&model), &context).unwrap());
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn render_to_empty_folder(bencher: divan::Bencher, size: &str) {
    let plan = planned(size);
    bencher
        .with_inputs(|| {
            let dir = tempfile::tempdir().unwrap();
            let root = Utf8PathBuf::from_path_buf(dir.path().join("out")).unwrap();
            (dir, root)
        })
        .bench_local_values(|(dir, root)| {
            emit::write(&plan, &root, WriteOptions::default()).unwrap();
            dir
        });
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn render_unchanged(bencher: divan::Bencher, size: &str) {
    let plan = planned(size);
    let (_dir, root) = rendered_folder(&plan);
    bencher.bench(|| emit::write(&plan, &root, WriteOptions::default()).unwrap());
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn check_unchanged(bencher: divan::Bencher, size: &str) {
    let plan = planned(size);
    let (_dir, root) = rendered_folder(&plan);
    bencher.bench(|| assert!(emit::check(&plan, &root).unwrap().is_empty()));
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn check_one_drifted(bencher: divan::Bencher, size: &str) {
    let plan = planned(size);
    let (_dir, root) = rendered_folder(&plan);
    let victim = root.join(&plan.files[0].path);
    fs::write(&victim, b"drifted\n").unwrap();
    bencher.bench(|| {
        let drift = emit::check(&plan, &root).unwrap();
        assert_eq!(drift.len(), 1);
        drift[0].diff(false)
    });
}

/// Diffing a drifted 100,000-line file (issue 8, target 4: under a second).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn diff_100k_lines(bencher: divan::Bencher) {
    let old: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
    let new: String = (0..100_000)
        .map(|i| if i % 97 == 0 { format!("changed {i}\n") } else { format!("line {i}\n") })
        .collect();
    bencher.bench(|| emit::diff::unified("big.txt", old.as_bytes(), new.as_bytes(), false));
}

/// A 100,000-long include chain resolves (issue 8, target 3: no stack overflow).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn include_chain_100k(bencher: divan::Bencher) {
    let source = Source::new("chain.kdl", gscgen::synth::include_chain(100_000));
    bencher.bench(|| gscgen::app::check_source(&source));
}

/// Issue 21: 10,000 errors (each of 10,000 groups includes a group that does not exist) must
/// stay linear: every "did you mean" examines a bounded number of names and every help line
/// lists at most a few. Before, each hint listed all 10,000 groups (28 s, 905 MB).
fn ten_thousand_bad_includes() -> Source {
    use std::fmt::Write as _;
    let mut text = String::from("project demo {\n    python \"3.12\"\n}\n");
    for i in 0..10_000 {
        let _ = writeln!(text, "group g{i} {{\n    include \"missing{i}\"\n}}");
    }
    Source::new("project.kdl", text)
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn diagnostics_10000_bad_includes(bencher: divan::Bencher) {
    let source = ten_thousand_bad_includes();
    bencher.bench(|| {
        let (model, diagnostics) = gscgen::app::check_source(divan::black_box(&source));
        assert!(model.is_none() && diagnostics.error_count() >= 10_000);
        gscgen::diagnostics::render(&source, &diagnostics, gscgen::diagnostics::RenderOptions::default())
    });
}
