//! One TLS abstraction for both ends of a module's mail: the module's client (what
//! `AT+QSSLCFG` lets it offer and check) and the sink's server (what a provider accepts, the
//! certificate it shows, and TLS faults). The rest of the workspace sees versions, suites,
//! certificates, [`TlsStream`] and [`Negotiated`]; which library does the work is this crate's
//! business.
//!
//! The library is the system OpenSSL (`openssl` + `tokio-openssl`), because modules and
//! providers speak what rustls refuses by design: TLS 1.0/1.1 (000 §3.2 configures
//! `"sslversion",1,1`, TLS 1.0) and RSA key exchange (every suite of the module catalog but
//! two). OpenSSL 3 needs security level 0 for TLS 1.0/1.1; it is lowered exactly when a legacy
//! version is allowed ([`Versions::has_legacy`]). SSL 3.0, RC4 and 3DES are compiled out of
//! current distributions' OpenSSL: settings that allow only those offer nothing
//! ([`TlsError::NothingToOffer`]).
//!
//! ```
//! use at_tls::{Ciphers, Version, Versions};
//! // AT+QSSLCFG="sslversion",1,1 and "ciphersuite",1,0x002F: TLS 1.0 with AES128-SHA only.
//! let versions = Versions::only(Version::Tls10);
//! let ciphers = Ciphers::from_ids(&[0x002F]);
//! assert_eq!(versions.to_string(), "TLSv1");
//! assert_eq!(ciphers.tls12, "AES128-SHA");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cert;
mod client;
mod config;
mod error;
pub mod hello;
mod server;
mod stream;
pub mod suite;
mod version;

pub use cert::{
    CertFault, TEST_CA_PEM, TEST_MODULE_CERT_PEM, TEST_MODULE_KEY_PEM, UnknownCertFault,
    WRONG_HOST, certificates, server_certificate_pem,
};
pub use client::{ClientSettings, Identity, Verify, connect};
pub use error::TlsError;
pub use hello::ClientHello;
pub use server::{
    AcceptError, Acceptor, HandshakeFault, ServerIdentity, ServerSettings, UnknownHandshakeFault,
};
pub use stream::{Negotiated, Rewind, TlsStream};
pub use suite::{Ciphers, Suite, UnknownSuite};
pub use version::{UnknownVersion, Version, Versions};

/// The TLS library in use, as it names itself (`OpenSSL 3.0.19 27 Jan 2026`).
pub fn library_version() -> &'static str {
    openssl::version::version()
}
