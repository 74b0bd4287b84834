//! Reports over atconform runs: the conformance matrix (JSON and one self-contained HTML
//! file), run-to-run diffs, spec coverage, the module × provider matrix and the TLS
//! (`sslversion` × provider) matrix.
//!
//! Input is what the runner leaves behind ([`load::Run`]: its JSON report and transcripts),
//! or a [`at_runner::RunReport`] in memory, and the provider and TLS runs of
//! [`at_runner::matrices`]. This crate only reads and renders: running (several targets at
//! once, the matrices, the `record` tap) is the runner's.
//!
//! ```
//! use at_report::load::Run;
//! use at_report::matrix::{Grade, Matrix};
//!
//! let json = r#"{"cases":[
//!   {"scenario":"quectel/2.2.3-qsmtpsub.scn","title":"AT+QSMTPSUB example","profile":"ec25",
//!    "target":"emulator ec25","status":"pass","expect_failure":false,"failure":null},
//!   {"scenario":"quectel/2.2.3-qsmtpsub.scn","title":"AT+QSMTPSUB example","profile":"eg95",
//!    "target":"emulator eg95","status":"fail","expect_failure":false,
//!    "failure":{"location":{"file":"quectel/2.2.3-qsmtpsub.scn","line":10},"step":1,
//!      "sent":"AT+QSMTPSUB?\\r","kind":"mismatch","expected":"\\r\\nOK\\r\\n",
//!      "actual":"\\r\\nERROR\\r\\n","offset":2}}]}"#;
//! let a = Run::from_json("ec25", json).unwrap();
//! let mut b = a.clone();
//! b.label = "eg95".into();
//! let m = Matrix::build(&[a, b], &[]);
//! let row = m.rows().next().unwrap();
//! // Column "ec25" holds both profiles of its run; the worst grade speaks for the cell: a bare
//! // ERROR where the manual documents OK means the firmware does not implement the command.
//! assert_eq!(row.cells[0].as_ref().unwrap().grade, Grade::Unimplemented);
//! let html = at_report::html::render(&m, "demo");
//! assert!(at_report::html::external_references(&html).is_empty());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod coverage;
pub mod diff;
pub mod from_transcript;
pub mod html;
pub mod load;
pub mod matrix;
pub mod providers;
pub mod record;
pub mod tls;
