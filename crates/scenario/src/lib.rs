//! Scenario file format and loader for documented AT transcripts.
//!
//! A scenario is a manual's example transcript (commands `>` and expected responses `<`, in the
//! order the manual prints them) plus directives for what the manual leaves implicit: data-mode
//! payloads, `+++` guard times, URC deadlines, expectations on the delivered mail, and the faults
//! the built-in emulator must be put in. Every expectation carries its [`Evidence`] (a seed
//! section, an `ERRATA.md` entry or `impl`), which is how a deviation from it grades. The format
//! is specified in `scenarios/README.md`.
//!
//! ```
//! use at_scenario::{load_str, Bindings, Matcher, Profile, StepKind};
//!
//! let sc = load_str("dst.scn", r#"
//! title: AT+QSMTPDST example
//! source: 000 §2.2.2
//! errata: W1
//! profiles: quectel
//! > AT+QSMTPDST=1,1,"quectel_test@aol.com"    // 添加所有收件人
//! < OK
//! > AT+QSMTPDST?
//! < +QSMTPDST: 1,"{str:addr}"
//! < OK
//! "#).unwrap();
//! assert!(sc.applies_to(Profile::Ag35));
//! let StepKind::Expect(group) = &sc.steps[3].kind else { unreachable!() };
//! let m = Matcher::new(group.lines_for(Profile::Ec25), &Bindings::new()).unwrap();
//! let caps = m.matches(b"\r\n+QSMTPDST: 1,\"quectel_test@aol.com\"\r\n\r\nOK\r\n").unwrap();
//! assert_eq!(caps.get("addr"), Some(&b"quectel_test@aol.com"[..]));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bind;
mod error;
mod evidence;
mod explain;
mod matcher;
mod model;
mod parse;
mod payload;
mod profile;
pub mod write;

pub use bind::{BindError, Bindings, Captures, escape_bytes};
pub use error::{ErrorKind, LoadError, LoadErrors};
pub use evidence::{Evidence, EvidenceError, Level, Limit, expectation_limit};
pub use explain::explain;
pub use matcher::{
    LineMatch, LineMatcher, MatchStatus, Matcher, RecordedDiff, expected_bytes, frame_w1,
    match_text,
};
pub use model::*;
pub use parse::{TLS_FAULTS, load_dir, load_dir_each, load_file, load_str};
pub use payload::{PayloadError, TEXT_UNIT, binary_payload, text_payload};
pub use profile::{GROUPS, Profile, ProfileSet, UnknownProfile};
pub use write::write;
