//! A bounded mutation fuzzer that runs in `cargo test`: parse → resolve → plan must never
//! panic, whatever the input. Every outcome is a model and a plan, or diagnostics.
//!
//! Inputs are the repo's `project.kdl` mutated (deleted lines and nodes, swapped names,
//! random values, deep nesting, huge strings, random bytes) plus the regression corpus in
//! `tests/fuzz/regressions/`. A failing input is written to `target/fuzz-failures/` so it
//! can be added to the corpus.
//!
//! Longer runs: `GSCGEN_FUZZ_CASES=200000 GSCGEN_FUZZ_SEED=7 cargo test --release --test fuzz`
//! (see docs/robustness.md).

mod support;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};

use gscgen::app::check_source;
use gscgen::plan::{PlanContext, plan};
use gscgen::source::Source;

/// Deterministic randomness: the synthetic-project generator's SplitMix64.
struct Rng(gscgen::synth::Rng);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const VALUES: &[&str] = &[
    "",
    "0",
    "-1",
    "70000",
    "99999999999999999999999",
    "3.10",
    "#true",
    "#false",
    "#null",
    "#inf",
    "\"\"",
    "\"..\"",
    "\"../../etc\"",
    "\"/abs\"",
    "\"a\\\\b\"",
    "\"$(rm -rf /)\"",
    "\"`id`\"",
    "\"a\\nb\"",
    "\"é✓\"",
    "\"yes\"",
    "\"0755\"",
    "\"a: b\"",
    "\"#x\"",
    "{",
    "}",
    ";",
    "=",
    "(u8)1",
    "#\"raw\"#",
    "base",
    "insights",
    "api_ingestor",
    "api-ingestor",
    "Base",
    "x y",
    "\"redis>=5\"",
    "\"redis[hiredis]\"",
    "\"requests>=>2\"",
    "include",
    "require",
    "group",
    "image",
    "service",
    "k8s",
    "dev",
    "health",
    "http=\"/\"",
    "port=1",
    "image=ghost",
    "from=\"x:1\"",
    "profile=core",
    "/-",
    "//",
    "/*",
    "*/",
    "\\",
    "\"\\u{0}\"",
];

fn mutate(base: &str, rng: &mut Rng) -> String {
    let mut text = base.to_owned();
    for _ in 0..=rng.below(4) {
        let lines: Vec<&str> = text.lines().collect();
        text = match rng.below(10) {
            // Delete a run of lines (often a whole node or half of one).
            0 => {
                let start = rng.below(lines.len());
                let end = (start + 1 + rng.below(12)).min(lines.len());
                [&lines[..start], &lines[end..]].concat().join("\n")
            }
            // Duplicate a line.
            1 => {
                let at = rng.below(lines.len());
                let mut copy = lines.clone();
                copy.insert(at, lines[at]);
                copy.join("\n")
            }
            // Swap two words (names, values, node names).
            2 => {
                let words: Vec<&str> = text.split(' ').collect();
                let (a, b) = (rng.below(words.len()), rng.below(words.len()));
                let mut words = words.clone();
                words.swap(a, b);
                words.join(" ")
            }
            // Replace a word with a random value.
            3 | 4 => {
                let mut words: Vec<String> = text.split(' ').map(str::to_owned).collect();
                let at = rng.below(words.len());
                words[at] = (*rng.pick(VALUES)).to_owned();
                words.join(" ")
            }
            // Deep nesting.
            5 => {
                let depth = 1 + rng.below(3000);
                let at = char_boundary(&text, rng.below(text.len()));
                format!(
                    "{}{}{}{}",
                    &text[..at],
                    "n {".repeat(depth),
                    "}".repeat(rng.below(depth + 1)),
                    &text[at..]
                )
            }
            // A huge string value.
            6 => {
                let at = char_boundary(&text, rng.below(text.len()));
                let huge = "x".repeat(1 + rng.below(200_000));
                format!("{}\"{huge}\" {}", &text[..at], &text[at..])
            }
            // Random bytes (valid UTF-8, any characters).
            7 => {
                let at = char_boundary(&text, rng.below(text.len()));
                let noise: String = (0..rng.below(40))
                    .map(|_| char::from_u32(rng.below(0x2FFF) as u32).unwrap_or('?'))
                    .collect();
                format!("{}{noise}{}", &text[..at], &text[at..])
            }
            // Truncate.
            8 => {
                let at = char_boundary(&text, rng.below(text.len()));
                text[..at].to_owned()
            }
            // A long include chain or many groups.
            _ => {
                let n = 1 + rng.below(300);
                let mut extra = String::new();
                for i in 0..n {
                    let include = if i > 0 { format!("include g{}", rng.below(i)) } else { String::new() };
                    extra.push_str(&format!(
                        "\ngroup g{i} {{\n {include}\n require \"p{}\"\n}}",
                        rng.below(n)
                    ));
                }
                text + &extra
            }
        };
    }
    text
}

fn char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Runs the whole pipeline short of the disk; `Err` carries the panic message.
fn run_pipeline(text: &str) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        let source = Source::new("fuzz.kdl", text);
        let (model, diagnostics) = check_source(&source);
        // Rendering diagnostics exercises every span against the text.
        let _ = gscgen::diagnostics::render(&source, &diagnostics, Default::default());
        if let Some(model) = model {
            plan(&model, &PlanContext { config_name: "project.kdl".into() }).expect("templates render");
        } else {
            assert!(diagnostics.has_errors(), "no model but no error");
        }
    }))
    .map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

#[test]
fn regressions_never_panic() {
    let dir = support::repo().join("tests/fuzz/regressions");
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
        run_pipeline(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        count += 1;
    }
    assert!(count > 0, "the regression corpus is empty");
}

#[test]
fn mutations_never_panic() {
    let cases: usize = std::env::var("GSCGEN_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let seed: u64 = std::env::var("GSCGEN_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let base = fs::read_to_string(support::repo().join("project.kdl")).unwrap();
    let mut rng = Rng(gscgen::synth::Rng(seed));
    let mut failures = Vec::new();
    // Silence the default panic printer: failures are collected and reported below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in 0..cases {
        let input = mutate(&base, &mut rng);
        if std::env::var_os("GSCGEN_FUZZ_TRACE").is_some() {
            let _ = fs::write(support::repo().join("target/fuzz-last.kdl"), &input);
        }
        if let Err(message) = run_pipeline(&input) {
            let out = support::repo().join("target/fuzz-failures");
            fs::create_dir_all(&out).unwrap();
            let path = out.join(format!("seed{seed}-case{case}.kdl"));
            fs::write(&path, &input).unwrap();
            failures.push(format!("case {case}: {message} (input saved to {})", path.display()));
        }
    }
    std::panic::set_hook(hook);
    assert!(failures.is_empty(), "{} of {cases} inputs panicked:\n{}", failures.len(), failures.join("\n"));
}
