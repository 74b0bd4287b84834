//! The server side: what the sink accepts, the certificate it shows, and TLS faults.

use core::fmt;
use core::str::FromStr;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use openssl::dh::Dh;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    NameType, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslVerifyMode,
};
use openssl::x509::X509;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::cert::{CertFault, server_certificate};
use crate::config::versions_and_ciphers;
use crate::error::classify;
use crate::hello::{self, ClientHello, Progress};
use crate::stream::Rewind;
use crate::{Ciphers, Negotiated, TlsError, TlsStream, Versions};

/// Where the server's certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerIdentity {
    /// Generated at start, signed by the atconform test CA, for these names plus whatever name
    /// a client asks for with SNI.
    Generated {
        /// Names (DNS names or IP addresses) the certificate always carries.
        names: Vec<String>,
    },
    /// Given as PEM: certificate chain and private key.
    Pem {
        /// Certificate chain, leaf first.
        cert: Vec<u8>,
        /// Private key.
        key: Vec<u8>,
    },
}

/// A handshake the server refuses on purpose (a TLS fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandshakeFault {
    /// Close the connection as soon as the ClientHello has arrived, without a reply.
    Abort,
    /// Answer the ClientHello with a fatal `protocol_version` alert, as a server that shares no
    /// version with the client does (RFC 8446 §4.2.1, RFC 5246 Appendix E.1).
    VersionMismatch,
    /// Answer the ClientHello with a fatal `handshake_failure` alert, as a server that shares no
    /// suite with the client does (RFC 5246 §7.4.1.3, RFC 8446 §4.1.1).
    SuiteMismatch,
}

impl HandshakeFault {
    /// Every handshake fault.
    pub const ALL: [HandshakeFault; 3] = [
        HandshakeFault::Abort,
        HandshakeFault::VersionMismatch,
        HandshakeFault::SuiteMismatch,
    ];

    /// The fault's name in scripts (`abort`, `version-mismatch`, `suite-mismatch`).
    pub fn name(self) -> &'static str {
        match self {
            HandshakeFault::Abort => "abort",
            HandshakeFault::VersionMismatch => "version-mismatch",
            HandshakeFault::SuiteMismatch => "suite-mismatch",
        }
    }

    fn alert(self) -> Option<(u8, &'static str)> {
        match self {
            HandshakeFault::Abort => None,
            HandshakeFault::VersionMismatch => Some((70, "protocol_version")),
            HandshakeFault::SuiteMismatch => Some((40, "handshake_failure")),
        }
    }
}

impl fmt::Display for HandshakeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`HandshakeFault`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown handshake fault `{0}`")]
pub struct UnknownHandshakeFault(pub String);

impl FromStr for HandshakeFault {
    type Err = UnknownHandshakeFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HandshakeFault::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownHandshakeFault(s.to_owned()))
    }
}

/// What a server accepts and shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// The certificate.
    pub identity: ServerIdentity,
    /// Versions accepted.
    pub versions: Versions,
    /// Suites accepted (the client's preference decides among them).
    pub ciphers: Ciphers,
    /// Present a faulty certificate (only with [`ServerIdentity::Generated`]).
    pub cert_fault: Option<CertFault>,
    /// Demand a client certificate (any certificate is then accepted; its subject is recorded).
    pub require_client_cert: bool,
    /// Refuse every handshake this way.
    pub handshake_fault: Option<HandshakeFault>,
}

impl ServerSettings {
    /// A generated certificate for `names`, TLS 1.0–1.3, every suite the library has, no fault.
    pub fn generated(names: Vec<String>) -> ServerSettings {
        ServerSettings {
            identity: ServerIdentity::Generated { names },
            versions: Versions::TLS,
            ciphers: Ciphers::all(),
            cert_fault: None,
            require_client_cert: false,
            handshake_fault: None,
        }
    }
}

/// Why a handshake did not complete, with what the client offered (when it got that far).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptError {
    /// The failure.
    pub error: TlsError,
    /// The client's offer, if a ClientHello arrived.
    pub offered: Option<ClientHello>,
}

impl fmt::Display for AcceptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(h) = &self.offered {
            write!(f, " (client offered {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AcceptError {}

fn cfg(e: impl fmt::Display) -> TlsError {
    TlsError::Config(e.to_string())
}

fn context(
    settings: &ServerSettings,
    cert: &[X509],
    key: &PKey<Private>,
) -> Result<SslContextBuilder, TlsError> {
    let mut b = SslContextBuilder::new(SslMethod::tls_server()).map_err(cfg)?;
    versions_and_ciphers(&mut b, settings.versions, &settings.ciphers)?;
    b.set_options(SslOptions::IGNORE_UNEXPECTED_EOF);
    // DHE suites (003's list names some) need parameters; ECDHE needs none.
    let dh = Dh::get_2048_256().map_err(cfg)?;
    b.set_tmp_dh(&dh).map_err(cfg)?;
    let mut chain = cert.iter();
    let leaf = chain
        .next()
        .ok_or_else(|| TlsError::Config("no certificate".into()))?;
    b.set_certificate(leaf).map_err(cfg)?;
    for extra in chain {
        b.add_extra_chain_cert(extra.clone()).map_err(cfg)?;
    }
    b.set_private_key(key).map_err(cfg)?;
    b.check_private_key()
        .map_err(|e| TlsError::Config(format!("key does not match the certificate: {e}")))?;
    if settings.require_client_cert {
        let ca = X509::from_pem(crate::TEST_CA_PEM.as_bytes()).map_err(cfg)?;
        b.add_client_ca(&ca).map_err(cfg)?;
        b.set_verify_callback(
            SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            |_preverified, _ctx| true,
        );
    }
    Ok(b)
}

/// Certificates made for the names clients ask for (SNI), bounded.
struct NameCache {
    settings: ServerSettings,
    base_names: Vec<String>,
    contexts: Mutex<HashMap<String, SslContext>>,
}

const MAX_CACHED_NAMES: usize = 64;

impl NameCache {
    fn context_for(&self, name: &str) -> Option<SslContext> {
        let plausible = name.len() <= 253
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !plausible || self.base_names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return None;
        }
        let mut map = self.contexts.lock().ok()?;
        if let Some(c) = map.get(name) {
            return Some(c.clone());
        }
        if map.len() >= MAX_CACHED_NAMES {
            return None;
        }
        let mut names = vec![name.to_ascii_lowercase()];
        names.extend(self.base_names.iter().cloned());
        let (cert, key) = server_certificate(&names, self.settings.cert_fault).ok()?;
        let ctx = context(&self.settings, &[cert], &key).ok()?.build();
        map.insert(name.to_owned(), ctx.clone());
        Some(ctx)
    }
}

/// A configured TLS server; cheap to share between connections.
#[derive(Clone)]
pub struct Acceptor {
    ctx: SslContext,
    settings: Arc<ServerSettings>,
    leaf_der: Vec<u8>,
}

impl fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Acceptor {
    /// Prepares the certificate and the library context.
    pub fn new(settings: ServerSettings) -> Result<Acceptor, TlsError> {
        let (chain, key, base_names) = match &settings.identity {
            ServerIdentity::Generated { names } => {
                let (cert, key) = server_certificate(names, settings.cert_fault)?;
                (vec![cert], key, Some(names.clone()))
            }
            ServerIdentity::Pem { cert, key } => {
                if let Some(f) = settings.cert_fault {
                    return Err(TlsError::Config(format!(
                        "the certificate fault `{f}` needs the generated certificate, not a given one"
                    )));
                }
                (
                    crate::cert::certificates(cert)?,
                    crate::cert::private_key(key)?,
                    None,
                )
            }
        };
        let leaf_der = chain
            .first()
            .and_then(|c| c.to_der().ok())
            .unwrap_or_default();
        let mut b = context(&settings, &chain, &key)?;
        if let Some(base_names) =
            base_names.filter(|_| settings.cert_fault != Some(CertFault::WrongHost))
        {
            let cache = Arc::new(NameCache {
                settings: settings.clone(),
                base_names,
                contexts: Mutex::new(HashMap::new()),
            });
            b.set_servername_callback(move |ssl, _alert| {
                let name = ssl.servername(NameType::HOST_NAME).map(str::to_owned);
                if let Some(ctx) = name.and_then(|n| cache.context_for(&n)) {
                    let _ = ssl.set_ssl_context(&ctx);
                }
                Ok(())
            });
        }
        Ok(Acceptor {
            ctx: b.build(),
            settings: Arc::new(settings),
            leaf_der,
        })
    }

    /// The settings this acceptor was made from.
    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// The certificate presented to clients that send no SNI (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.leaf_der
    }

    /// Runs the server handshake over `io`: reads the ClientHello (recorded), applies the
    /// handshake fault if any, then lets the library finish. The caller bounds it in time.
    pub async fn accept<S>(&self, mut io: S) -> Result<TlsStream<Rewind<S>>, AcceptError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let offered = loop {
            match hello::parse(&buf) {
                Progress::Hello(h) => break Some(h),
                Progress::NotAHello => break None,
                Progress::Incomplete if buf.len() > hello::MAX_HELLO => break None,
                Progress::Incomplete => {}
            }
            match io.read(&mut chunk).await {
                Ok(0) | Err(_) => {
                    return Err(AcceptError {
                        error: TlsError::Closed,
                        offered: None,
                    });
                }
                Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        };
        if let Some(fault) = self.settings.handshake_fault {
            let message = match fault.alert() {
                None => "handshake aborted: connection closed after the ClientHello".to_owned(),
                Some((code, name)) => {
                    let v = offered
                        .as_ref()
                        .map_or(0x0301, |h| h.legacy_version.clamp(0x0300, 0x0303));
                    let [hi, lo] = v.to_be_bytes();
                    let _ = io.write_all(&[21, hi, lo, 0, 2, 2, code]).await;
                    format!("answered the ClientHello with a fatal {name} alert")
                }
            };
            let _ = io.shutdown().await;
            return Err(AcceptError {
                error: TlsError::Fault(message),
                offered,
            });
        }
        let fail = |error: TlsError, offered: Option<ClientHello>| AcceptError { error, offered };
        let ssl = match Ssl::new(&self.ctx) {
            Ok(s) => s,
            Err(e) => return Err(fail(cfg(e), offered)),
        };
        let mut stream = match tokio_openssl::SslStream::new(ssl, Rewind::new(buf, io)) {
            Ok(s) => s,
            Err(e) => return Err(fail(cfg(e), offered)),
        };
        match Pin::new(&mut stream).accept().await {
            Ok(()) => {
                let mut negotiated = Negotiated::of(stream.ssl());
                negotiated.offered = offered;
                Ok(TlsStream::new(stream, negotiated))
            }
            Err(e) => Err(fail(classify(&e), offered)),
        }
    }
}
