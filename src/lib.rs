//! gscgen: compiles one `project.kdl` into every container build and deploy artifact.
//!
//! Data flows one way: [`parse`] (KDL text → typed config with spans) → [`resolve`]
//! (names, include graph, closures, defaults, cross-artifact rules → [`model`]) →
//! [`plan`] (every output file and its bytes, in memory) → [`emit`] (write / check / diff).

pub mod app;
pub mod cli;
pub mod diagnostics;
pub mod emit;
pub mod model;
pub mod parse;
pub mod plan;
pub mod resolve;
pub mod source;
pub mod synth;
