//! The sink's TLS: which versions and suites each profile accepts, the certificate it shows,
//! and TLS faults, through `at_tls` (one abstraction; the library is its business).

use std::path::Path;

use at_tls::{Acceptor, Ciphers, Negotiated, ServerIdentity, ServerSettings, Versions};

use crate::error::Error;
use crate::fault::TlsFaults;
use crate::profile::Profile;
use crate::transcript::TlsInfo;

/// What the sink's TLS accepts beyond the profile's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    /// Versions accepted instead of the profile's.
    pub(crate) versions: Option<Versions>,
    /// Suites accepted instead of the profile's.
    pub(crate) ciphers: Option<Ciphers>,
}

/// Builds the acceptor: the certificate (`pem` files, or generated for `hostname`, `localhost`
/// and the loopback addresses, signed by the atconform test CA), the profile's or the options'
/// versions and suites, and the script's TLS faults.
pub(crate) fn acceptor(
    profile: Profile,
    hostname: &str,
    pem: Option<(&Path, &Path)>,
    options: &TlsOptions,
    faults: &TlsFaults,
) -> Result<Acceptor, Error> {
    let identity = match pem {
        None => ServerIdentity::Generated {
            names: vec![
                hostname.to_owned(),
                "localhost".into(),
                "127.0.0.1".into(),
                "::1".into(),
            ],
        },
        Some((cert, key)) => {
            let read = |p: &Path| {
                std::fs::read(p).map_err(|e| Error::Tls(format!("{}: {e}", p.display())))
            };
            ServerIdentity::Pem {
                cert: read(cert)?,
                key: read(key)?,
            }
        }
    };
    let settings = ServerSettings {
        identity,
        versions: options.versions.unwrap_or_else(|| profile.tls_versions()),
        ciphers: options
            .ciphers
            .clone()
            .unwrap_or_else(|| profile.tls_ciphers()),
        cert_fault: faults.certificate,
        require_client_cert: faults.client_cert,
        handshake_fault: faults.handshake,
    };
    let what = pem.map_or_else(String::new, |(c, k)| {
        format!("{}, {}: ", c.display(), k.display())
    });
    Acceptor::new(settings).map_err(|e| Error::Tls(format!("{what}{e}")))
}

/// What a transcript records of a completed handshake.
pub(crate) fn info(n: &Negotiated) -> TlsInfo {
    TlsInfo {
        version: n.version.name().to_owned(),
        cipher: n.suite.clone(),
        cipher_id: format!("0x{:04X}", n.suite_id),
        cipher_openssl: n.openssl_name.clone(),
        sni: n.sni.clone(),
        client_certificate: n.peer_certificate.clone(),
        offered: n.offered.clone(),
    }
}
