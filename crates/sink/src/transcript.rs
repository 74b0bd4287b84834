//! Byte-exact session transcripts, with AUTH payloads redacted whenever they are shown.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::ser::SerializeStruct;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Direction {
    /// Sent by the client, as received.
    ClientToServer,
    /// Sent by the sink.
    ServerToClient,
}

/// The text shown for redacted bytes.
pub const REDACTED: &str = "<redacted>";

/// A run of bytes in one direction. `bytes` is exact; `Debug`, [`Entry::redacted`] and
/// serialisation hide the secret part (an AUTH payload) as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Time since the sink's clock origin.
    pub at: Duration,
    /// Direction.
    pub dir: Direction,
    /// The exact bytes (in memory only; may contain credentials).
    pub bytes: Vec<u8>,
    secret: Option<Range<usize>>,
}

impl Entry {
    /// Whether part of this entry is a credential.
    pub fn is_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// The bytes with any credential replaced by `<redacted>`.
    pub fn redacted(&self) -> Cow<'_, [u8]> {
        match &self.secret {
            None => Cow::Borrowed(&self.bytes),
            Some(r) => {
                let (start, end) = (r.start.min(self.bytes.len()), r.end.min(self.bytes.len()));
                let mut out = Vec::with_capacity(self.bytes.len() + REDACTED.len());
                out.extend_from_slice(self.bytes.get(..start).unwrap_or_default());
                out.extend_from_slice(REDACTED.as_bytes());
                out.extend_from_slice(self.bytes.get(end..).unwrap_or_default());
                Cow::Owned(out)
            }
        }
    }

    /// The redacted bytes, escaped so that the text is lossless and printable
    /// (`\r`, `\n`, `\t`, `\\`, `\xNN` for anything outside printable ASCII).
    pub fn escaped(&self) -> String {
        escape(&self.redacted())
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("at", &self.at)
            .field("dir", &self.dir)
            .field("bytes", &self.escaped())
            .finish()
    }
}

impl serde::Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Entry", 3)?;
        st.serialize_field("at", &format_at(self.at))?;
        st.serialize_field(
            "dir",
            match self.dir {
                Direction::ClientToServer => "C",
                Direction::ServerToClient => "S",
            },
        )?;
        st.serialize_field("bytes", &self.escaped())?;
        st.end()
    }
}

/// Escapes bytes losslessly into printable ASCII.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

fn format_at(at: Duration) -> String {
    format!("{}.{:03}", at.as_secs(), at.subsec_millis())
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloseReason {
    /// After `221` to QUIT.
    Quit,
    /// The client closed the connection outside DATA.
    ClientClosed,
    /// The client closed the connection in the middle of DATA (nothing stored).
    ClientClosedMidData,
    /// No complete line within the idle timeout (`421`).
    IdleTimeout,
    /// The session outlived its maximum duration (`421`).
    SessionTooLong,
    /// A fault script dropped the connection.
    FaultDrop,
    /// The profile refuses this listener (tencent-ses plain port, ERRATA S1).
    Refused,
    /// Too many connections at once (`421`).
    TooManyConnections,
    /// After a fatal protocol error (`421`/`554` and close).
    ProtocolError,
    /// The TLS handshake failed.
    TlsFailed,
    /// A socket error.
    IoError,
    /// The sink shut down.
    Shutdown,
}

/// When TLS came up in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TlsUpgrade {
    /// Time of the upgrade.
    #[serde(serialize_with = "ser_at")]
    pub at: Duration,
    /// Index in `entries` of the first entry sent over TLS.
    pub entry_index: usize,
}

fn ser_at<S: serde::Serializer>(at: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_at(*at))
}

/// What TLS was negotiated on a connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TlsInfo {
    /// Protocol version as OpenSSL and nginx name it: `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`.
    pub version: String,
    /// Cipher suite, IANA name, e.g. `TLS_RSA_WITH_AES_128_CBC_SHA`.
    pub cipher: String,
    /// The suite's IANA number as `AT+QSSLCFG="ciphersuite"` writes it, e.g. `0x002F`.
    pub cipher_id: String,
    /// The suite's OpenSSL name, e.g. `AES128-SHA`.
    pub cipher_openssl: String,
    /// Server name the client asked for (SNI), if any.
    pub sni: Option<String>,
    /// Subject of the certificate the client presented, if it was asked for one.
    pub client_certificate: Option<String>,
    /// What the client's ClientHello offered (versions, suites, SNI).
    pub offered: Option<at_tls::ClientHello>,
}

impl TlsInfo {
    /// `TLSv1 TLS_RSA_WITH_AES_128_CBC_SHA (0x002F)`.
    pub fn summary(&self) -> String {
        format!("{} {} ({})", self.version, self.cipher, self.cipher_id)
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SessionEnd {
    /// Time of the end.
    #[serde(serialize_with = "ser_at")]
    pub at: Duration,
    /// Why.
    pub reason: CloseReason,
}

/// Everything said on one connection, in order, plus TLS upgrades and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Transcript {
    /// Connection number (1-based, per sink).
    pub connection: u64,
    /// The client's address, when known.
    pub peer: Option<String>,
    /// Whether the connection started with TLS (SMTPS).
    pub implicit_tls: bool,
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// TLS upgrades (STARTTLS); implicit TLS is not an upgrade.
    pub tls_upgrades: Vec<TlsUpgrade>,
    /// The negotiated TLS parameters (implicit TLS or after STARTTLS).
    pub tls: Option<TlsInfo>,
    /// Why a TLS handshake failed (with what the client offered), when one did.
    pub tls_error: Option<String>,
    /// Ids of the messages accepted on this connection.
    pub messages: Vec<u64>,
    /// How it ended (`None` while open).
    pub end: Option<SessionEnd>,
    /// Bytes not recorded because the transcript reached its size limit.
    pub omitted_bytes: u64,
    #[serde(skip)]
    kept: usize,
    #[serde(skip)]
    limit: usize,
}

impl Transcript {
    /// An empty transcript that keeps at most `limit` bytes.
    pub fn new(connection: u64, implicit_tls: bool, limit: usize) -> Self {
        Transcript {
            connection,
            peer: None,
            implicit_tls,
            entries: Vec::new(),
            tls_upgrades: Vec::new(),
            tls: None,
            tls_error: None,
            messages: Vec::new(),
            end: None,
            omitted_bytes: 0,
            kept: 0,
            limit,
        }
    }

    /// Records `bytes`; `secret` marks a credential inside them.
    pub(crate) fn push(
        &mut self,
        at: Duration,
        dir: Direction,
        bytes: &[u8],
        secret: Option<Range<usize>>,
    ) {
        if bytes.is_empty() {
            return;
        }
        let room = self.limit.saturating_sub(self.kept);
        let take = bytes.len().min(room);
        self.omitted_bytes += (bytes.len() - take) as u64;
        if take == 0 {
            return;
        }
        self.kept += take;
        let kept = bytes.get(..take).unwrap_or_default();
        // Merge consecutive client bytes of the same instant that carry no secret (DATA chunks).
        if let Some(last) = self.entries.last_mut()
            && secret.is_none()
            && last.secret.is_none()
            && last.dir == dir
            && last.at == at
            && dir == Direction::ClientToServer
            && !last.bytes.ends_with(b"\n")
        {
            last.bytes.extend_from_slice(kept);
            return;
        }
        self.entries.push(Entry {
            at,
            dir,
            bytes: kept.to_vec(),
            secret,
        });
    }

    pub(crate) fn mark_tls(&mut self, at: Duration) {
        self.tls_upgrades.push(TlsUpgrade {
            at,
            entry_index: self.entries.len(),
        });
    }

    /// Bytes recorded (both directions).
    pub fn kept_bytes(&self) -> usize {
        self.kept
    }

    /// All bytes the client sent, exactly (credentials included).
    pub fn client_bytes(&self) -> Vec<u8> {
        self.bytes_of(Direction::ClientToServer)
    }

    /// All bytes the sink sent, exactly.
    pub fn server_bytes(&self) -> Vec<u8> {
        self.bytes_of(Direction::ServerToClient)
    }

    fn bytes_of(&self, dir: Direction) -> Vec<u8> {
        self.entries
            .iter()
            .filter(|e| e.dir == dir)
            .flat_map(|e| e.bytes.iter().copied())
            .collect()
    }

    /// A readable, lossless (except credentials) rendering, one entry per line:
    /// `  0.012 C: EHLO x\r\n`.
    pub fn render(&self) -> String {
        let mut out = format!(
            "connection #{} implicit-tls={}\n",
            self.connection,
            if self.implicit_tls { "yes" } else { "no" }
        );
        if let Some(t) = self.tls.as_ref().filter(|_| self.implicit_tls) {
            out.push_str(&format!("          -- TLS {} --\n", t.summary()));
        }
        let established = match &self.tls {
            Some(t) => format!("-- TLS established: {} --", t.summary()),
            None => "-- TLS established --".to_owned(),
        };
        for (i, e) in self.entries.iter().enumerate() {
            for up in self.tls_upgrades.iter().filter(|u| u.entry_index == i) {
                out.push_str(&format!("{:>9} {established}\n", format_at(up.at)));
            }
            let d = match e.dir {
                Direction::ClientToServer => "C",
                Direction::ServerToClient => "S",
            };
            out.push_str(&format!("{:>9} {d}: {}\n", format_at(e.at), e.escaped()));
        }
        for up in self
            .tls_upgrades
            .iter()
            .filter(|u| u.entry_index >= self.entries.len())
        {
            out.push_str(&format!("{:>9} {established}\n", format_at(up.at)));
        }
        if let Some(e) = &self.tls_error {
            out.push_str(&format!("          -- TLS failed: {e} --\n"));
        }
        if self.omitted_bytes > 0 {
            out.push_str(&format!(
                "          ({} bytes omitted)\n",
                self.omitted_bytes
            ));
        }
        if let Some(end) = self.end {
            out.push_str(&format!(
                "{:>9} -- closed: {:?} --\n",
                format_at(end.at),
                end.reason
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_in_every_rendering_but_keeps_exact_bytes() {
        let mut t = Transcript::new(1, false, 1024);
        t.push(
            Duration::ZERO,
            Direction::ClientToServer,
            b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n",
            Some(11..27),
        );
        assert_eq!(t.client_bytes(), b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
        let shown = t.render();
        assert!(shown.contains("AUTH PLAIN <redacted>\\r\\n"), "{shown}");
        assert!(!format!("{t:?}").contains("AHVzZXIAcGFzcw"));
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("AHVzZXIAcGFzcw"), "{json}");
    }

    #[test]
    fn escapes_losslessly() {
        assert_eq!(escape(b"a\\b\x00\xff\r\n\t~"), "a\\\\b\\x00\\xff\\r\\n\\t~");
    }

    #[test]
    fn limit_counts_omitted_bytes() {
        let mut t = Transcript::new(1, false, 4);
        t.push(
            Duration::ZERO,
            Direction::ServerToClient,
            b"220 x\r\n",
            None,
        );
        assert_eq!(t.server_bytes(), b"220 ");
        assert_eq!(t.omitted_bytes, 3);
    }
}
