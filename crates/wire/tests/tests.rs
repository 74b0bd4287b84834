//! Integration tests of `at-wire`: manual tables (rstest) and properties (proptest).

mod assembler;
mod commands;
mod decoder;
mod duration;
mod fuzzing;
mod multitech;
mod quectel;
mod redact;
mod strategies;
