//! Why a handshake failed, in terms a module maps to `+QSMTPPUT` errors.

/// A TLS failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The settings leave nothing the library can offer: no version it implements (SSL 3.0 is
    /// compiled out of current OpenSSL) or no suite it implements (RC4, 3DES).
    #[error("nothing to offer: {0}")]
    NothingToOffer(String),
    /// The peer's certificate did not verify (the reason as OpenSSL words it).
    #[error("certificate verification failed: {0}")]
    Verify(String),
    /// The handshake failed: an alert from the peer, no common version or suite, a protocol
    /// error.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// The peer closed or reset the connection during the handshake.
    #[error("connection closed by peer during the TLS handshake")]
    Closed,
    /// Certificates, keys or settings could not be used.
    #[error("TLS configuration: {0}")]
    Config(String),
    /// The server refused the handshake on purpose (an injected fault).
    #[error("injected TLS fault: {0}")]
    Fault(String),
}

/// Classifies an OpenSSL handshake error.
pub(crate) fn classify(e: &openssl::ssl::Error) -> TlsError {
    use std::io::ErrorKind;
    if let Some(io) = e.io_error() {
        return match io.kind() {
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::UnexpectedEof
            | ErrorKind::BrokenPipe => TlsError::Closed,
            _ => TlsError::Handshake(io.to_string()),
        };
    }
    let reasons: Vec<&str> = e
        .ssl_error()
        .map(|stack| stack.errors().iter().filter_map(|x| x.reason()).collect())
        .unwrap_or_default();
    if reasons.is_empty() {
        // SYSCALL without an I/O error, or ZERO_RETURN: the peer closed.
        return match e.code() {
            openssl::ssl::ErrorCode::SYSCALL | openssl::ssl::ErrorCode::ZERO_RETURN => {
                TlsError::Closed
            }
            _ => TlsError::Handshake(e.to_string()),
        };
    }
    let text = reasons.join("; ");
    if reasons.iter().any(|r| r.contains("unexpected eof")) {
        TlsError::Closed
    } else if reasons
        .iter()
        .any(|r| r.contains("no ciphers available") || r.contains("no protocols available"))
    {
        TlsError::NothingToOffer(text)
    } else {
        TlsError::Handshake(text)
    }
}
