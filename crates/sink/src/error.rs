//! The error of starting or running a sink.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors starting or running a sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be read or used.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The store directory could not be created.
    #[error("store directory {path}: {source}")]
    Store {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or its thread could not be started.
    #[error("cannot start the sink runtime: {0}")]
    Runtime(std::io::Error),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
}
