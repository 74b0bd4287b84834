//! The encrypted stream both sides get, and what was negotiated on it.

use core::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::{ClientHello, Version};

/// What a handshake settled on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Negotiated {
    /// The protocol version.
    pub version: Version,
    /// The suite's IANA number.
    pub suite_id: u16,
    /// The suite's IANA name (`TLS_RSA_WITH_AES_128_CBC_SHA`).
    pub suite: String,
    /// The suite's OpenSSL name (`AES128-SHA`).
    pub openssl_name: String,
    /// The server name the client sent (SNI), if any.
    pub sni: Option<String>,
    /// The subject of the peer's certificate, if it sent one (the client's, on the server side).
    pub peer_certificate: Option<String>,
    /// What the client offered (server side only).
    pub offered: Option<ClientHello>,
}

impl fmt::Display for Negotiated {
    /// `TLSv1 TLS_RSA_WITH_AES_128_CBC_SHA (0x002F)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (0x{:04X})",
            self.version, self.suite, self.suite_id
        )
    }
}

impl Negotiated {
    pub(crate) fn of(ssl: &openssl::ssl::SslRef) -> Negotiated {
        let cipher = ssl.current_cipher();
        let [hi, lo] = cipher.map_or([0, 0], |c| c.protocol_id());
        let openssl_name = cipher.map_or("", |c| c.name()).to_owned();
        Negotiated {
            version: Version::from_openssl_name(ssl.version_str()).unwrap_or(Version::Tls12),
            suite_id: u16::from_be_bytes([hi, lo]),
            suite: cipher
                .and_then(|c| c.standard_name())
                .map_or_else(|| openssl_name.clone(), str::to_owned),
            openssl_name,
            sni: ssl
                .servername(openssl::ssl::NameType::HOST_NAME)
                .map(str::to_owned),
            peer_certificate: ssl
                .peer_certificate()
                .map(|c| crate::cert::subject_line(&c)),
            offered: None,
        }
    }
}

/// An established TLS connection over `S`; reads and writes plaintext.
pub struct TlsStream<S> {
    inner: tokio_openssl::SslStream<S>,
    negotiated: Negotiated,
}

impl<S> TlsStream<S> {
    pub(crate) fn new(inner: tokio_openssl::SslStream<S>, negotiated: Negotiated) -> Self {
        TlsStream { inner, negotiated }
    }

    /// What the handshake settled on.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The underlying transport.
    pub fn get_ref(&self) -> &S {
        self.inner.get_ref()
    }
}

impl<S> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A transport whose first bytes were already read (the ClientHello the sink inspected): they
/// are replayed before the rest.
#[derive(Debug)]
pub struct Rewind<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Rewind<S> {
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Self {
        Rewind {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// The underlying transport.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or_default());
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
