//! Integration tests of the scenario loader, matcher and corpus (one binary, STYLE.md).

mod corpus;
