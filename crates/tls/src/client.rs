//! The client side: what a module offers and checks (`AT+QSSLCFG`), on a byte stream.

use core::fmt;
use std::pin::Pin;

use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslVerifyMode};
use openssl::x509::X509VerifyResult;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::versions_and_ciphers;
use crate::error::classify;
use crate::{Ciphers, Negotiated, TlsError, TlsStream, Versions};

/// How the client checks the server's certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    /// Accept any certificate (`seclevel` 0: "不需要 SSL CA 证书", 000 §3.2). Handshake
    /// signatures are still checked by the protocol itself.
    #[default]
    Nothing,
    /// Verify the chain up to one of `anchors` (each a PEM or DER file's bytes), the validity
    /// dates against the system clock and, when `check_host`, the server name.
    Chain {
        /// Trust anchors; none means nothing can verify.
        anchors: Vec<Vec<u8>>,
        /// Check that the certificate names the server (RFC 6125).
        check_host: bool,
    },
}

/// A certificate and its private key (PEM or DER bytes); `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The certificate (chain), PEM or DER.
    pub cert: Vec<u8>,
    key: Vec<u8>,
}

impl Identity {
    /// A certificate with its key.
    pub fn new(cert: Vec<u8>, key: Vec<u8>) -> Identity {
        Identity { cert, key }
    }

    /// The private key bytes; never log them.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("cert", &format_args!("{} bytes", self.cert.len()))
            .field("key", &"<redacted>")
            .finish()
    }
}

/// What a client offers and checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    /// Versions offered.
    pub versions: Versions,
    /// Suites offered, in preference order.
    pub ciphers: Ciphers,
    /// How the server's certificate is checked.
    pub verify: Verify,
    /// The certificate presented when the server asks for one.
    pub identity: Option<Identity>,
    /// Send the server name (SNI) when it is a host name.
    pub sni: bool,
}

impl Default for ClientSettings {
    /// TLS 1.0–1.3, the library's default suites, no verification, SNI sent.
    fn default() -> Self {
        ClientSettings {
            versions: Versions::TLS,
            ciphers: Ciphers::library_default(),
            verify: Verify::Nothing,
            identity: None,
            sni: true,
        }
    }
}

fn cfg(e: impl fmt::Display) -> TlsError {
    TlsError::Config(e.to_string())
}

fn context(settings: &ClientSettings) -> Result<SslContext, TlsError> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client()).map_err(cfg)?;
    versions_and_ciphers(&mut b, settings.versions, &settings.ciphers)?;
    b.set_options(SslOptions::IGNORE_UNEXPECTED_EOF);
    match &settings.verify {
        Verify::Nothing => b.set_verify(SslVerifyMode::NONE),
        Verify::Chain { anchors, .. } => {
            b.set_verify(SslVerifyMode::PEER);
            let store = b.cert_store_mut();
            for file in anchors {
                for cert in crate::cert::certificates(file)? {
                    store.add_cert(cert).map_err(cfg)?;
                }
            }
        }
    }
    if let Some(id) = &settings.identity {
        let mut certs = crate::cert::certificates(&id.cert)?.into_iter();
        if let Some(leaf) = certs.next() {
            b.set_certificate(&leaf).map_err(cfg)?;
        }
        for extra in certs {
            b.add_extra_chain_cert(extra).map_err(cfg)?;
        }
        let key = crate::cert::private_key(id.key())?;
        b.set_private_key(&key).map_err(cfg)?;
        b.check_private_key().map_err(|e| {
            TlsError::Config(format!("client key does not match its certificate: {e}"))
        })?;
    }
    Ok(b.build())
}

/// Runs the client handshake over `io` for `server_name` (a host name, or an IP address,
/// possibly in brackets). The caller bounds it in time.
pub async fn connect<S>(
    settings: &ClientSettings,
    server_name: &str,
    io: S,
) -> Result<TlsStream<S>, TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ctx = context(settings)?;
    let mut ssl = Ssl::new(&ctx).map_err(cfg)?;
    let host = server_name.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<std::net::IpAddr>().ok();
    if settings.sni && ip.is_none() && !host.is_empty() {
        ssl.set_hostname(host).map_err(cfg)?;
    }
    if let Verify::Chain {
        check_host: true, ..
    } = settings.verify
    {
        match ip {
            Some(ip) => ssl.param_mut().set_ip(ip).map_err(cfg)?,
            None => ssl.param_mut().set_host(host).map_err(cfg)?,
        }
    }
    let mut stream = tokio_openssl::SslStream::new(ssl, io).map_err(cfg)?;
    match Pin::new(&mut stream).connect().await {
        Ok(()) => {
            let negotiated = Negotiated::of(stream.ssl());
            Ok(TlsStream::new(stream, negotiated))
        }
        Err(e) => {
            let verify = stream.ssl().verify_result();
            if matches!(settings.verify, Verify::Chain { .. }) && verify != X509VerifyResult::OK {
                return Err(TlsError::Verify(verify.error_string().to_owned()));
            }
            Err(classify(&e))
        }
    }
}
