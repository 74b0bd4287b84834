//! Sans-IO grammar of AT command lines, response streams and data-mode framing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod time;

pub use time::Instant;
