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
/// serialisation hide the secret parts (AUTH payloads, declared secrets) as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Time since the sink's clock origin.
    pub at: Duration,
    /// Direction.
    pub dir: Direction,
    /// The exact bytes (in memory only; may contain credentials).
    pub bytes: Vec<u8>,
    /// Sorted, disjoint byte ranges that are secret.
    secret: Vec<Range<usize>>,
}

/// Memory an entry costs besides its bytes (the struct and the allocation), counted against
/// the transcript limits so that many tiny entries cannot outgrow them.
pub(crate) const ENTRY_OVERHEAD: usize = std::mem::size_of::<Entry>() + 16;

impl Entry {
    /// Whether part of this entry is a credential.
    pub fn is_secret(&self) -> bool {
        !self.secret.is_empty()
    }

    /// The bytes with any credential replaced by `<redacted>`.
    pub fn redacted(&self) -> Cow<'_, [u8]> {
        if self.secret.is_empty() {
            Cow::Borrowed(&self.bytes)
        } else {
            Cow::Owned(at_wire::redact::replace_ranges(&self.bytes, &self.secret))
        }
    }

    /// Marks `range` (of this entry's bytes) secret.
    fn mark(&mut self, range: Range<usize>) {
        let end = range.end.min(self.bytes.len());
        if range.start >= end {
            return;
        }
        self.secret.push(range.start..end);
        self.secret.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(self.secret.len());
        for r in self.secret.drain(..) {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        self.secret = merged;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The client did not read the sink's replies within the write timeout (or the idle or
    /// session timeout passed while a reply could not be written).
    WriteTimeout,
    /// Too many failed AUTH attempts on the connection (`421 4.7.0`).
    TooManyAuthFailures,
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

    /// Records `bytes`; `secret` marks a credential inside them. The limit counts the bytes
    /// and [`ENTRY_OVERHEAD`] per new entry.
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
        // Merge consecutive client bytes of the same instant that carry no secret (DATA chunks).
        let merge = self.entries.last().is_some_and(|last| {
            secret.is_none()
                && last.secret.is_empty()
                && last.dir == dir
                && last.at == at
                && dir == Direction::ClientToServer
                && !last.bytes.ends_with(b"\n")
        });
        let overhead = if merge { 0 } else { ENTRY_OVERHEAD };
        let room = self.limit.saturating_sub(self.kept + overhead);
        let take = bytes.len().min(room);
        self.omitted_bytes += (bytes.len() - take) as u64;
        if take == 0 {
            return;
        }
        self.kept += take + overhead;
        let kept = bytes.get(..take).unwrap_or_default();
        if merge && let Some(last) = self.entries.last_mut() {
            last.bytes.extend_from_slice(kept);
            return;
        }
        let mut e = Entry {
            at,
            dir,
            bytes: kept.to_vec(),
            secret: Vec::new(),
        };
        if let Some(r) = secret {
            e.mark(r);
        }
        self.entries.push(e);
    }

    /// Marks every occurrence of a declared secret secret, in both directions, also where it
    /// straddles entries.
    pub fn redact_secrets(&mut self, secrets: &at_wire::redact::Secrets) {
        if secrets.is_empty() {
            return;
        }
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let stream = self.bytes_of(dir);
            let ranges = secrets.ranges(&stream);
            if ranges.is_empty() {
                continue;
            }
            let mut offset = 0;
            for e in self.entries.iter_mut().filter(|e| e.dir == dir) {
                let (start, end) = (offset, offset + e.bytes.len());
                for r in &ranges {
                    if r.start < end && r.end > start {
                        e.mark(r.start.max(start) - start..r.end.min(end) - start);
                    }
                }
                offset = end;
            }
        }
    }

    /// Memory the transcript holds, approximately (bytes, entries, strings).
    pub fn memory_cost(&self) -> usize {
        std::mem::size_of::<Transcript>()
            + self
                .entries
                .iter()
                .map(|e| e.bytes.capacity() + ENTRY_OVERHEAD + e.secret.len() * 16)
                .sum::<usize>()
            + self.peer.as_ref().map_or(0, String::len)
            + self
                .tls
                .as_ref()
                .map_or(0, |t| t.version.len() + t.cipher.len() + 64)
            + self.messages.capacity() * 8
            + self.tls_upgrades.capacity() * 16
    }

    /// Replaces the bytes of entry `index` (a reply changed after it was queued).
    pub(crate) fn replace_entry(&mut self, index: usize, bytes: &[u8]) {
        if let Some(e) = self.entries.get_mut(index) {
            self.kept = self.kept.saturating_sub(e.bytes.len()) + bytes.len();
            e.bytes = bytes.to_vec();
            e.secret.clear();
        }
    }

    pub(crate) fn mark_tls(&mut self, at: Duration) {
        self.tls_upgrades.push(TlsUpgrade {
            at,
            entry_index: self.entries.len(),
        });
    }

    /// Memory recorded against the limit: the bytes of both directions plus
    /// [`ENTRY_OVERHEAD`] per entry.
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

/// Parses the `at` text of the serialised form (`"12.345"`, seconds and milliseconds).
fn parse_at(s: &str) -> Option<Duration> {
    let (secs, ms) = s.split_once('.')?;
    let ms: u64 = ms.parse().ok().filter(|_| ms.len() == 3)?;
    Some(Duration::from_secs(secs.parse().ok()?) + Duration::from_millis(ms))
}

/// Reverses [`escape`]; `None` for text `escape` cannot produce.
fn unescape(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next()? {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = [it.next()?, it.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Reads a transcript in its serialised form (what `GET /api/transcripts` serves), so that a
/// sink run elsewhere can be judged like an in-process one. Credentials stay `<redacted>`:
/// the bytes hold that text, marked as the entry's secret, so every rendering is unchanged.
/// What a TLS client offered (`TlsInfo::offered`) is not read back.
impl<'de> serde::Deserialize<'de> for Transcript {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(serde::Deserialize)]
        struct WireEntry {
            at: String,
            dir: String,
            bytes: String,
        }
        #[derive(serde::Deserialize)]
        struct WireUpgrade {
            at: String,
            entry_index: usize,
        }
        #[derive(serde::Deserialize)]
        struct WireEnd {
            at: String,
            reason: CloseReason,
        }
        /// `TlsInfo` without what the client offered (not needed to judge a session).
        #[derive(serde::Deserialize)]
        struct WireTls {
            #[serde(default)]
            version: String,
            #[serde(default)]
            cipher: String,
            #[serde(default)]
            cipher_id: String,
            #[serde(default)]
            cipher_openssl: String,
            #[serde(default)]
            sni: Option<String>,
            #[serde(default)]
            client_certificate: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Wire {
            connection: u64,
            peer: Option<String>,
            implicit_tls: bool,
            entries: Vec<WireEntry>,
            #[serde(default)]
            tls_upgrades: Vec<WireUpgrade>,
            tls: Option<WireTls>,
            #[serde(default)]
            tls_error: Option<String>,
            #[serde(default)]
            messages: Vec<u64>,
            end: Option<WireEnd>,
            #[serde(default)]
            omitted_bytes: u64,
        }
        let w = Wire::deserialize(d)?;
        let at = |s: &str| parse_at(s).ok_or_else(|| D::Error::custom(format!("bad time {s:?}")));
        let mut entries = Vec::with_capacity(w.entries.len());
        let mut kept = 0;
        for e in w.entries {
            let dir = match e.dir.as_str() {
                "C" => Direction::ClientToServer,
                "S" => Direction::ServerToClient,
                other => return Err(D::Error::custom(format!("bad direction {other:?}"))),
            };
            let bytes = unescape(&e.bytes)
                .ok_or_else(|| D::Error::custom(format!("bad escape in {:?}", e.bytes)))?;
            let secret: Vec<Range<usize>> = memchr::memmem::find_iter(&bytes, REDACTED.as_bytes())
                .map(|i| i..i + REDACTED.len())
                .collect();
            kept += bytes.len();
            entries.push(Entry {
                at: at(&e.at)?,
                dir,
                bytes,
                secret,
            });
        }
        let tls_upgrades = w
            .tls_upgrades
            .into_iter()
            .map(|u| {
                Ok(TlsUpgrade {
                    at: at(&u.at)?,
                    entry_index: u.entry_index,
                })
            })
            .collect::<Result<Vec<_>, D::Error>>()?;
        let end = match w.end {
            Some(e) => Some(SessionEnd {
                at: at(&e.at)?,
                reason: e.reason,
            }),
            None => None,
        };
        Ok(Transcript {
            connection: w.connection,
            peer: w.peer,
            implicit_tls: w.implicit_tls,
            entries,
            tls_upgrades,
            tls: w.tls.map(|t| TlsInfo {
                version: t.version,
                cipher: t.cipher,
                cipher_id: t.cipher_id,
                cipher_openssl: t.cipher_openssl,
                sni: t.sni,
                client_certificate: t.client_certificate,
                offered: None,
            }),
            tls_error: w.tls_error,
            messages: w.messages,
            end,
            omitted_bytes: w.omitted_bytes,
            kept,
            limit: kept,
        })
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
        t.push(
            Duration::ZERO,
            Direction::ClientToServer,
            b"Subject: wq66",
            None,
        );
        t.push(
            Duration::from_secs(1),
            Direction::ClientToServer,
            b"4551\r\n",
            None,
        );
        let mut secrets = at_wire::redact::Secrets::new();
        secrets.add(b"wq664551");
        t.redact_secrets(&secrets);
        assert_eq!(
            t.client_bytes(),
            b"AUTH PLAIN AHVzZXIAcGFzcw==\r\nSubject: wq664551\r\n"
        );
        let shown = t.render();
        assert!(shown.contains("AUTH PLAIN <redacted>\\r\\n"), "{shown}");
        // A declared secret split over two entries is redacted in both.
        assert!(shown.contains("C: Subject: <redacted>\n"), "{shown}");
        assert!(shown.contains("C: <redacted>\\r\\n"), "{shown}");
        assert!(
            !shown.contains("wq66") && !shown.contains("4551"),
            "{shown}"
        );
        assert!(!format!("{t:?}").contains("AHVzZXIAcGFzcw"));
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("AHVzZXIAcGFzcw"), "{json}");
    }

    #[test]
    fn escapes_losslessly() {
        assert_eq!(escape(b"a\\b\x00\xff\r\n\t~"), "a\\\\b\\x00\\xff\\r\\n\\t~");
    }

    #[test]
    fn limit_counts_omitted_bytes_and_entry_overhead() {
        let mut t = Transcript::new(1, false, ENTRY_OVERHEAD + 4);
        t.push(
            Duration::ZERO,
            Direction::ServerToClient,
            b"220 x\r\n",
            None,
        );
        assert_eq!(t.server_bytes(), b"220 ");
        assert_eq!(t.omitted_bytes, 3);
        assert_eq!(t.kept_bytes(), ENTRY_OVERHEAD + 4);
        // Tiny entries are charged their overhead: 1000 one-byte lines do not fit in 4 KiB.
        let mut t = Transcript::new(1, false, 4096);
        for _ in 0..1000 {
            t.push(Duration::ZERO, Direction::ServerToClient, b"\n", None);
        }
        assert!(
            t.entries.len() <= 4096 / ENTRY_OVERHEAD,
            "{}",
            t.entries.len()
        );
        assert!(t.memory_cost() < 2 * 4096, "{}", t.memory_cost());
    }

    #[test]
    fn serialised_form_reads_back() {
        let mut t = Transcript::new(3, false, 1024);
        t.push(
            Duration::from_millis(1500),
            Direction::ServerToClient,
            b"220 x\r\n",
            None,
        );
        t.push(
            Duration::from_millis(1501),
            Direction::ClientToServer,
            b"EHLO \xff\\\r\n",
            None,
        );
        t.mark_tls(Duration::from_millis(1502));
        t.push(
            Duration::from_millis(1503),
            Direction::ClientToServer,
            b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n",
            Some(11..27),
        );
        t.end = Some(SessionEnd {
            at: Duration::from_secs(2),
            reason: CloseReason::Quit,
        });
        let json = serde_json::to_string(&t).unwrap();
        let back: Transcript = serde_json::from_str(&json).unwrap();
        assert_eq!(back.render(), t.render());
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(
            back.client_bytes(),
            b"EHLO \xff\\\r\nAUTH PLAIN <redacted>\r\n"
        );
        assert_eq!(back.tls_upgrades, t.tls_upgrades);
        assert!(serde_json::from_str::<Transcript>(&json.replace("\"C\"", "\"X\"")).is_err());
    }
}
