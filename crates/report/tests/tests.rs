//! Integration tests: one binary (see STYLE.md), one module per concern.

mod common;
mod coverage;
mod diff;
mod html;
mod providers;
mod record;
mod render;
mod tls;
