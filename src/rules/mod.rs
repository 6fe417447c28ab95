//! Rules: the knowledge that more than one stage needs, one small module per rule, named
//! for what it is. Resolve checks a value with a rule (and reports, with spans); the plan
//! writes output with the same rule; so the two can never disagree, and neither stage has
//! to ask the other.
//!
//! Rules are pure: no I/O, no diagnostics of their own (a rule answers; its caller
//! reports). They may read the [`crate::model`] and [`crate::config`] types, never a stage
//! (`parse`, `resolve`, `plan`, `emit`, `insight`, `app`): `tests/architecture.rs` checks
//! it. See ARCHITECTURE.md.

pub(crate) mod distroless;
pub(crate) mod dockerignore;
pub(crate) mod duration;
pub(crate) mod image_user;
pub mod k8s_objects;
pub mod layout;
pub mod lock;
pub(crate) mod names;
pub(crate) mod paths;
pub(crate) mod quote;
pub(crate) mod secret_files;
