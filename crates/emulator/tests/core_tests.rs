//! Emulator core tests (one binary): the manuals' examples driven through the sans-IO core with
//! virtual time, bad input, faults, quirks and the Multi-Tech dialect. No network: deliveries
//! get synthetic `Outcome`s through `handle_delivery`.

#[path = "core/util.rs"]
mod util;

#[path = "core/bad_input.rs"]
mod bad_input;
#[path = "core/catalog.rs"]
mod catalog;
#[path = "core/faults.rs"]
mod faults;
#[path = "core/liberties.rs"]
mod liberties;
#[path = "core/manual.rs"]
mod manual;
#[path = "core/multitech.rs"]
mod multitech;
#[path = "core/quirks.rs"]
mod quirks;
