//! Scenario file format and loader for documented AT transcripts.
#![forbid(unsafe_code)]
