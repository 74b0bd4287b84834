//! Scenario file format and loader for documented AT transcripts.
//!
//! A scenario is a manual's example transcript (commands `>` and expected responses `<`, in the
//! order the manual prints them) plus directives for what the manual leaves implicit: data-mode
//! payloads, `+++` guard times, URC deadlines, expectations on the delivered mail, and the faults
//! the built-in emulator must be put in. The format is described in `scenarios/README.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod model;
mod profile;

pub use model::*;
pub use profile::{GROUPS, Profile, ProfileSet};
