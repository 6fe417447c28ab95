//! gscgen: compiles one `project.kdl` into every container build and deploy artifact.
//!
//! Data flows one way: [`parse`] (KDL text → typed config with spans) → [`resolve`]
//! (names, include graph, closures, defaults, cross-artifact rules → [`model`]) →
//! [`plan`] (every output file and its bytes, in memory) → [`emit`] (write / check / diff).
//! [`insight`] reads the model and plan to explain them (`explain`, `why`, `graph`, `affected`).
//! Between the stages sit [`config`] (the declarations parse produces and resolve reads) and
//! [`rules`] (what resolve checks and plan writes alike); no stage reaches back. ARCHITECTURE.md
//! has the map, `tests/architecture.rs` keeps the direction.

pub mod app;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod emit;
pub mod insight;
pub mod model;
pub mod parse;
pub mod plan;
pub mod resolve;
pub mod rules;
pub mod source;
pub mod synth;
