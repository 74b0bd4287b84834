//! Integration tests of `smtp-sink`: one binary, one module per area.
//!
//! `harness` drives a sans-IO [`smtp_sink::Session`] under virtual time; the other modules use it,
//! or real sockets against [`smtp_sink::spawn`] (loopback, ephemeral ports, stopped on drop).

mod api;
mod clients;
mod faults;
mod harness;
mod profiles;
mod reliability;
mod robustness;
mod ses;
mod session;
mod tls;
mod transcript;
