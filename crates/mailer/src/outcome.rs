//! What happened: the result of a delivery, its failure modes and the SMTP transcript.

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

/// A step of the SMTP session, used to say where a failure or fault happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Name resolution and TCP connect (and the TLS handshake for implicit TLS).
    Connect,
    /// Waiting for the server's `220` greeting.
    Greeting,
    /// `EHLO` (or `HELO`).
    Ehlo,
    /// `STARTTLS` and the TLS handshake that follows it.
    StartTls,
    /// `AUTH PLAIN` / `AUTH LOGIN`.
    Auth,
    /// `MAIL FROM`.
    MailFrom,
    /// `RCPT TO`.
    RcptTo,
    /// `DATA` and its `354` reply.
    Data,
    /// The message itself, up to the reply to the final `.`.
    Body,
    /// `QUIT`.
    Quit,
}

impl Stage {
    /// Every stage, in session order.
    pub const ALL: [Stage; 10] = [
        Stage::Connect,
        Stage::Greeting,
        Stage::Ehlo,
        Stage::StartTls,
        Stage::Auth,
        Stage::MailFrom,
        Stage::RcptTo,
        Stage::Data,
        Stage::Body,
        Stage::Quit,
    ];

    /// Lower-case name (`connect`, `greeting`, `ehlo`, `starttls`, `auth`, `mail-from`,
    /// `rcpt-to`, `data`, `body`, `quit`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Greeting => "greeting",
            Stage::Ehlo => "ehlo",
            Stage::StartTls => "starttls",
            Stage::Auth => "auth",
            Stage::MailFrom => "mail-from",
            Stage::RcptTo => "rcpt-to",
            Stage::Data => "data",
            Stage::Body => "body",
            Stage::Quit => "quit",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stage name [`Stage::from_str`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown SMTP stage {0:?}")]
pub struct UnknownStage(pub String);

impl FromStr for Stage {
    type Err = UnknownStage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.name() == s)
            .ok_or_else(|| UnknownStage(s.to_owned()))
    }
}

/// Why a delivery failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The server name could not be resolved.
    #[error("DNS resolution failed")]
    Dns,
    /// The TCP connection was refused (or could not be established).
    #[error("connection refused")]
    Refused,
    /// The peer closed or reset the connection.
    #[error("connection closed by peer during {stage}")]
    Reset {
        /// Where it happened.
        stage: Stage,
    },
    /// No answer in time.
    #[error("timed out during {stage}")]
    Timeout {
        /// Where it happened.
        stage: Stage,
    },
    /// An injected stall: the delivery would never complete on its own; the caller's deadline
    /// decides (the module reports a timeout).
    #[error("stalled during {stage} (injected fault)")]
    Stalled {
        /// Where the silence started.
        stage: Stage,
    },
    /// TLS handshake or certificate failure.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The server answered with an unexpected reply code.
    #[error("server replied {code} {text:?} during {stage}")]
    Protocol {
        /// Where it happened.
        stage: Stage,
        /// The reply code.
        code: u16,
        /// The reply text (lines joined by `\n`).
        text: String,
    },
    /// The server offers no AUTH mechanism this client supports, or `STARTTLS` is not offered.
    #[error("authentication type not supported by the server")]
    AuthUnsupported,
    /// The job has no recipient.
    #[error("no recipient")]
    NoRecipient,
    /// The server sent something that is not an SMTP reply.
    #[error("malformed server reply during {stage}: {reason}")]
    Malformed {
        /// Where it happened.
        stage: Stage,
        /// What was wrong.
        reason: &'static str,
    },
    /// Another local I/O error.
    #[error("I/O error during {stage}: {message}")]
    Io {
        /// Where it happened.
        stage: Stage,
        /// The error text.
        message: String,
    },
}

impl Failure {
    /// The `+QSMTPPUT: <err>,<protocol_error>` pair this failure is reported as (000 §5, §6).
    ///
    /// SMTP reply codes map to the `<err>` of the same meaning (421 → 666 … 554 → 682) with the
    /// code itself as `<protocol_error>`; an unlisted code gives `660,<code>`.
    pub fn quectel_codes(&self) -> (u16, u16) {
        match self {
            Failure::Dns => (653, 0),
            Failure::Refused => (654, 0),
            Failure::Reset { .. } => (656, 0),
            Failure::Timeout { .. } | Failure::Stalled { .. } => (658, 0),
            Failure::Tls(_) => (665, 0),
            Failure::AuthUnsupported => (655, 0),
            Failure::NoRecipient => (659, 0),
            Failure::Malformed { .. } => (651, 0),
            Failure::Io { .. } => (654, 0),
            Failure::Protocol { code, .. } => {
                // 000 §5 table 3 (666–682) lists the meanings of 000 §6 table 4 in order.
                let err = match code {
                    421 => 666,
                    450 => 667,
                    451 => 668,
                    452 => 669,
                    500 => 670,
                    501 => 671,
                    502 => 672,
                    503 => 673,
                    504 => 674,
                    521 => 675,
                    530 => 676,
                    535 => 677,
                    550 => 678,
                    551 => 679,
                    552 => 680,
                    553 => 681,
                    554 => 682,
                    _ => 660,
                };
                (err, *code)
            }
        }
    }
}

/// Which way bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client (module) to server.
    Sent,
    /// Server to client.
    Received,
}

/// One chunk of the SMTP conversation, as plaintext (decrypted when TLS is on).
#[derive(Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// Time since the delivery started.
    pub at: Duration,
    /// Which way the bytes went.
    pub dir: Direction,
    bytes: Vec<u8>,
    secret: bool,
}

impl TranscriptEntry {
    /// A chunk; `secret` marks AUTH payloads, which are redacted whenever rendered.
    pub fn new(at: Duration, dir: Direction, bytes: Vec<u8>, secret: bool) -> Self {
        TranscriptEntry {
            at,
            dir,
            bytes,
            secret,
        }
    }

    /// The exact bytes, secrets included; never log them.
    pub fn raw_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the chunk carries credentials.
    pub fn is_secret(&self) -> bool {
        self.secret
    }

    /// The bytes with credentials replaced by `<redacted>` (an `AUTH <mechanism> ` prefix is
    /// kept).
    pub fn redacted_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        if !self.secret {
            return std::borrow::Cow::Borrowed(&self.bytes);
        }
        let mut out = Vec::new();
        if self.bytes.starts_with(b"AUTH ") {
            let mech_end = self
                .bytes
                .iter()
                .skip(5)
                .position(|&b| b == b' ')
                .map_or(self.bytes.len(), |p| p + 6);
            out.extend_from_slice(self.bytes.get(..mech_end).unwrap_or_default());
        }
        out.extend_from_slice(b"<redacted>\r\n");
        std::borrow::Cow::Owned(out)
    }
}

impl fmt::Debug for TranscriptEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TranscriptEntry")
            .field("at", &self.at)
            .field("dir", &self.dir)
            .field("bytes", &String::from_utf8_lossy(&self.redacted_bytes()))
            .finish()
    }
}

impl serde::Serialize for TranscriptEntry {
    /// `{"at_ms": 12, "dir": "sent", "text": "MAIL FROM:<a@b>\r\n"}`; credentials redacted, bytes
    /// that are not UTF-8 replaced (U+FFFD).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("TranscriptEntry", 3)?;
        st.serialize_field(
            "at_ms",
            &u64::try_from(self.at.as_millis()).unwrap_or(u64::MAX),
        )?;
        st.serialize_field(
            "dir",
            match self.dir {
                Direction::Sent => "sent",
                Direction::Received => "received",
            },
        )?;
        st.serialize_field("text", &String::from_utf8_lossy(&self.redacted_bytes()))?;
        st.end()
    }
}

/// The byte-exact SMTP conversation of one delivery; serialises (serde) with credentials
/// redacted.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Transcript {
    /// Chunks in order.
    pub entries: Vec<TranscriptEntry>,
    /// Index in `entries` of the first chunk sent or received under TLS, if TLS was started.
    pub tls_started_at: Option<usize>,
    /// What the TLS handshake settled on (version, suite), if TLS was started.
    pub tls: Option<at_tls::Negotiated>,
}

impl Transcript {
    /// Appends a chunk, merging it into the previous one when direction and secrecy agree.
    pub fn push(&mut self, at: Duration, dir: Direction, bytes: &[u8], secret: bool) {
        if bytes.is_empty() {
            return;
        }
        let tls_boundary = self.tls_started_at == Some(self.entries.len());
        if let Some(last) = self.entries.last_mut()
            && !tls_boundary
            && last.dir == dir
            && last.secret == secret
            && !secret
        {
            last.bytes.extend_from_slice(bytes);
            return;
        }
        self.entries
            .push(TranscriptEntry::new(at, dir, bytes.to_vec(), secret));
    }

    /// Marks that everything recorded from now on travelled under TLS.
    pub fn mark_tls(&mut self) {
        self.tls_started_at = Some(self.entries.len());
    }

    /// All bytes sent by the client, secrets included; never log them.
    pub fn raw_sent(&self) -> Vec<u8> {
        self.entries
            .iter()
            .filter(|e| e.dir == Direction::Sent)
            .flat_map(|e| e.bytes.iter().copied())
            .collect()
    }

    /// A readable rendering without times: each line prefixed `C: ` or `S: `, credentials
    /// redacted, `-- TLS --` where TLS started (with the version and suite when known:
    /// `-- TLS TLSv1 TLS_RSA_WITH_AES_128_CBC_SHA (0x002F) --`). Deterministic for a given
    /// conversation.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let tls_line = match &self.tls {
            Some(n) => format!("-- TLS {n} --\n"),
            None => "-- TLS --\n".to_owned(),
        };
        for (i, entry) in self.entries.iter().enumerate() {
            if self.tls_started_at == Some(i) {
                out.push_str(&tls_line);
            }
            let prefix = match entry.dir {
                Direction::Sent => "C: ",
                Direction::Received => "S: ",
            };
            let redacted = entry.redacted_bytes();
            let text = String::from_utf8_lossy(&redacted);
            for line in text.split_inclusive("\r\n") {
                out.push_str(prefix);
                out.push_str(line.strip_suffix("\r\n").unwrap_or(line));
                out.push('\n');
            }
        }
        if self.tls_started_at == Some(self.entries.len()) {
            out.push_str(&tls_line);
        }
        out
    }
}

/// The result of one delivery and its transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `Ok` when the server accepted the message (`250` after the final `.`).
    pub result: Result<(), Failure>,
    /// What was said on the wire.
    pub transcript: Transcript,
}

impl Outcome {
    /// The `+QSMTPPUT: <err>,<protocol_error>` pair: `(0, 0)` on success (000 §2.2.7).
    pub fn quectel_codes(&self) -> (u16, u16) {
        match &self.result {
            Ok(()) => (0, 0),
            Err(failure) => failure.quectel_codes(),
        }
    }
}
