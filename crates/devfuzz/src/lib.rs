//! Device fuzzer: catalog-driven AT command cases against a module, with a liveness and
//! response-class oracle, seeded replay, shrinking, and findings written as scenario files.
//!
//! - [`cases`]: the [`Generator`](cases::Generator) turns `(seed, case number)` into a
//!   [`Case`](model::Case): groups of steps from ten families (valid, boundary, out-of-range,
//!   wrong types, overlong, broken quoting, bytes above 0x7F, out of sequence, data-mode abuse,
//!   normal flows), each step carrying the response the catalog says it must get.
//! - [`exec`]: the oracle. Runs a case on any [`at_runner::Target`] (serial port, TCP, the
//!   emulator), judging echo (ERRATA W2), W1 framing ([`frames`]), final result class,
//!   information lines, URC order and response times; after every case `AT` must answer `OK`.
//! - [`campaign`]: cases one after another, findings shrunk (groups, then steps, keeping the
//!   same finding) and rendered by [`scn`] as ready-to-run `.scn` files; JSON/JUnit reports;
//!   the quirk table ([`campaign::quirk_table`]).
//! - [`mail`]: the mail-level oracle. On the emulator every delivery runs in memory against the
//!   capture sink's protocol core; with quirks on, a case that sends mail also runs on the
//!   reference model (same profile, no quirk) and any difference in the delivered mail or the
//!   SMTP commands is a finding.
//! - [`virt`]: the emulator core on virtual time, each delivery's result after one virtual second.
//!
//! ```
//! use at_devfuzz::campaign::{Config, Device, Fuzzer};
//! use at_emulator::EmulatorConfig;
//! use at_emulator::quirks::{Quirk, QuirkSet};
//!
//! // A firmware that drops the empty line before OK (ERRATA W1) is caught at once.
//! let cfg = EmulatorConfig::builtin("ec25").unwrap()
//!     .with_quirks(QuirkSet::NONE.with(Quirk::MissingBlankLineBeforeOk));
//! let profile = cfg.profile.clone();
//! let mut fuzzer = Fuzzer::new(
//!     Device::Emulator(Box::new(cfg)),
//!     profile,
//!     Config { seed: 1, cases: 50, max_findings: 1, ..Config::default() },
//! );
//! let summary = fuzzer.run(&mut |_| {});
//! let found = &summary.findings[0];
//! assert!(found.scenario.contains("@quirk missing-blank-line-before-ok"));
//! // Replaying the same seed and case number gives the same case.
//! let case = fuzzer.generator().case(1, found.case);
//! assert_eq!(case, fuzzer.generator().case(1, found.case));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod campaign;
pub mod cases;
pub mod exec;
pub mod frames;
pub mod mail;
pub mod model;
pub mod scn;
pub mod virt;
