//! Replays scenarios against devices or the emulator and judges them with the grammar crate.
//!
//! Data flow: a scenario (`at-scenario`) becomes a [`Plan`] per profile; [`execute`] drives a
//! [`Target`] (serial port, PTY, TCP, the in-process emulator, a scripted fake) step by step,
//! records a byte-exact [`Transcript`], decodes the device's bytes with `at_wire::Decoder`,
//! grades every deviation by its evidence ([`Grade`]) and returns a [`Verdict`]; [`report`]
//! renders verdicts for terminals, JSON and JUnit.
//!
//! ```
//! use std::sync::atomic::AtomicBool;
//! use at_runner::{execute, FailureKind, Grade, Item, Location, Plan, Step, Verdict};
//! use at_runner::target::{Script, ScriptedTarget};
//!
//! let mut plan = Plan::new("at", "ec2x");
//! plan.steps.push(Step::command_lines(Location::default(), b"AT", vec![Item::line(b"OK")]));
//! let mut device = ScriptedTarget::new(vec![
//!     Script::Expect(b"AT\r".to_vec()),
//!     Script::Send(b"AT\r\r\nOK\n".to_vec()), // LF alone: a framing failure (000 §2.1.2)
//! ]);
//! let run = execute(&plan, &mut device, &AtomicBool::new(false));
//! let Verdict::Fail(f) = run.verdict else { panic!("must fail") };
//! assert!(matches!(f.kind, FailureKind::Framing { .. })); // same events, framing differs
//! assert_eq!((f.grade, f.evidence.as_str()), (Grade::Fail, "000 §2.1.2"));
//! assert_eq!(f.offset, Some(7)); // the step's output is `AT\r` (echo) + `\r\nOK\n`
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod case;
pub mod context;
pub mod corpus;
pub mod data_dir;
mod escape;
mod events;
pub mod external;
pub mod fault_control;
pub mod judge;
pub mod matrices;
pub mod multi;
pub mod outcome;
pub mod plan;
pub mod prepare;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod rundir;
pub mod scenario;
pub mod snapshot;
pub mod tap;
pub mod target;
pub mod transcript;
pub mod vars;

pub use case::{
    CaseResult, Status, Variations, run_case_emulated, run_case_emulated_vars,
    run_case_emulated_with, run_case_on, run_case_on_with,
};
pub use escape::{escape, escape_lines};
pub use judge::{Execution, Failure, FailureKind, Grade, Verdict, execute};
pub use plan::{
    Action, Frame, Grading, Item, ItemKind, LineMatch, LineText, Location, Plan, Segment, Step,
};
pub use report::{RunReport, corpus_name};
pub use run::{RunConfig, TargetSpec};
pub use target::Target;
pub use transcript::{Direction, Transcript};
