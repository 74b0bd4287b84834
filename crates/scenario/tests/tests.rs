//! Integration tests of the scenario loader, matcher and corpus (one binary, STYLE.md).

mod corpus;
mod errors;
mod loader;
mod matcher;
mod write;
