//! `atconform record`'s recordings: the bytes a tap (`at_runner::tap::Tap`, between a host
//! application and a module) passed both ways, rendered with timestamps in the runner's
//! transcript format, passwords redacted, plus the mail a capture sink received meanwhile.

use std::time::Duration;

use at_runner::Direction;

/// Bytes recorded by a tap (`at_runner::tap::Tap`), with their time since the tap opened, and
/// the mail a capture sink received meanwhile (`atconform record --sink-listen`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recording {
    /// `(time, direction, bytes)`, in arrival order.
    pub chunks: Vec<(Duration, Direction, Vec<u8>)>,
    /// Messages the recording's capture sink accepted, in order.
    pub mail: Vec<MailRecord>,
}

/// One message a capture sink accepted during a recording, as `@mail`/`@smtp` checks see it.
/// Rendered into the transcript as a `@mail {json}` line (after the chunks), which
/// `scenario from-transcript` turns into checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailRecord {
    /// Envelope `MAIL FROM`.
    pub mail_from: String,
    /// Envelope `RCPT TO`, in order.
    pub rcpt_to: Vec<String>,
    /// Header fields, unfolded, in order.
    pub headers: Vec<(String, String)>,
    /// Decoded subject.
    pub subject: Option<String>,
    /// Decoded first text/plain body.
    pub body: Option<String>,
    /// Attachments: name, size and SHA-256 of the decoded bytes.
    pub attachments: Vec<AttachmentRecord>,
    /// How the session was secured: `none`, `implicit` or `starttls`.
    pub tls: String,
    /// Whether the client sent `AUTH`.
    pub auth: bool,
}

/// An attachment of a [`MailRecord`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentRecord {
    /// Decoded file name.
    pub name: Option<String>,
    /// Decoded size in bytes.
    pub size: u64,
    /// SHA-256 of the decoded bytes, lower-case hex.
    pub sha256: String,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl MailRecord {
    /// What `msg` looks like to the checks; `sessions` are the sink's transcripts (the one of
    /// the message's connection says how it was secured and whether it authenticated).
    pub fn from_sink(msg: &smtp_sink::StoredMessage, sessions: &[smtp_sink::Transcript]) -> Self {
        let parsed = msg.parsed();
        let session = sessions.iter().find(|t| t.connection == msg.connection);
        let tls = match session {
            Some(t) if t.implicit_tls => "implicit",
            Some(t) if !t.tls_upgrades.is_empty() => "starttls",
            _ => "none",
        };
        let auth = session.is_some_and(|t| {
            t.client_bytes()
                .split(|&b| b == b'\n')
                .any(|l| l.len() >= 5 && l[..5].eq_ignore_ascii_case(b"AUTH "))
        });
        MailRecord {
            mail_from: msg.envelope.mail_from.clone(),
            rcpt_to: msg.envelope.rcpt_to.clone(),
            headers: at_runner::scenario::header_fields(&msg.raw),
            subject: parsed.subject,
            body: parsed.text_body,
            attachments: parsed
                .attachments
                .iter()
                .map(|a| AttachmentRecord {
                    name: a.name.clone(),
                    size: a.bytes.len() as u64,
                    sha256: sha256_hex(&a.bytes),
                })
                .collect(),
            tls: tls.into(),
            auth,
        }
    }
}

impl Recording {
    /// Records one chunk.
    pub fn push(&mut self, at: Duration, dir: Direction, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.chunks.push((at, dir, bytes.to_vec()));
        }
    }

    /// All bytes in one direction.
    pub fn stream(&self, dir: Direction) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(_, d, _)| *d == dir)
            .flat_map(|(_, _, b)| b.iter().copied())
            .collect()
    }

    /// The passwords the recording shows: set by `AT+QSMTPCFG="account"` / `AT#SMTPPW`, or
    /// read back in a `+QSMTPCFG: "account",…` answer.
    pub fn secrets(&self) -> Vec<Vec<u8>> {
        let mut secrets: Vec<Vec<u8>> = Vec::new();
        let tx = self.stream(Direction::Tx);
        let rx = self.stream(Direction::Rx);
        let lines =
            tx.split(|&b| b == b'\r')
                .map(<[u8]>::to_vec)
                .chain(rx.split(|&b| b == b'\n').map(|l| {
                    // The query answer carries the same parameters as the set command.
                    let up = l.to_ascii_uppercase();
                    match up.windows(11).position(|w| w == b"+QSMTPCFG: ") {
                        Some(i) => [&l[..i], b"+QSMTPCFG=", &l[i + 11..]].concat(),
                        None => l.to_vec(),
                    }
                }));
        for line in lines {
            for s in at_runner::transcript::secrets_in_command(&line) {
                if !secrets.contains(&s) {
                    secrets.push(s);
                }
            }
        }
        secrets
    }

    /// The runner's transcript format (`[   0.012345] > AT\r`), passwords (`AT+QSMTPCFG=
    /// "account"`, `AT#SMTPPW`, and the same values wherever they recur) replaced by
    /// `<redacted>`; then one `@mail {json}` line per message the sink received.
    pub fn render(&self) -> String {
        let raw_secrets = self.secrets();
        let secrets: Vec<String> = raw_secrets.iter().map(|s| at_runner::escape(s)).collect();
        let mut out = String::new();
        for (at, dir, bytes) in &self.chunks {
            let arrow = match dir {
                Direction::Tx => '>',
                Direction::Rx => '<',
            };
            let mut text = at_runner::escape(bytes);
            for s in &secrets {
                text = text.replace(s.as_str(), "<redacted>");
            }
            out.push_str(&format!("[{:>11.6}] {arrow} {text}\n", at.as_secs_f64()));
        }
        if !self.mail.is_empty() {
            out.push_str(&format!(
                "# the capture sink received {} message(s):\n",
                self.mail.len()
            ));
        }
        for m in &self.mail {
            let mut json = serde_json::to_string(m).unwrap_or_default();
            for s in &raw_secrets {
                let s = String::from_utf8_lossy(s);
                if !s.is_empty() {
                    json = json.replace(s.as_ref(), "<redacted>");
                }
            }
            out.push_str(&format!("@mail {json}\n"));
        }
        out
    }
}

/// Shows a live byte stream with credentials hidden: each line (ended by CR or LF) is followed
/// as it arrives, and from the byte where [`at_wire::redact::secret_start`] says its
/// credentials begin the rest of the line is shown once as `<redacted>`. Works when a line
/// arrives in pieces.
#[derive(Debug, Default)]
pub struct LiveRedactor {
    line: Vec<u8>,
    hidden: bool,
}

/// Bytes of a line kept for recognising credentials (the start of a line is what counts).
const LIVE_LINE_MAX: usize = 4096;

impl LiveRedactor {
    /// The escaped, redacted text for `bytes`, the next piece of the stream.
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        let mut out = String::new();
        for seg in bytes.split_inclusive(|&b| b == b'\r' || b == b'\n') {
            let ends = seg.last().is_some_and(|&b| b == b'\r' || b == b'\n');
            let content = if ends { &seg[..seg.len() - 1] } else { seg };
            let before = self.line.len();
            if before < LIVE_LINE_MAX {
                let room = LIVE_LINE_MAX - before;
                self.line
                    .extend_from_slice(content.get(..room.min(content.len())).unwrap_or_default());
            }
            if self.hidden {
                // The rest of this line is credentials.
            } else {
                match at_wire::redact::secret_start(&self.line) {
                    Some(at) => {
                        let visible = at.saturating_sub(before).min(content.len());
                        out.push_str(&at_runner::escape(&content[..visible]));
                        out.push_str(at_wire::redact::REDACTED);
                        self.hidden = true;
                    }
                    None => out.push_str(&at_runner::escape(content)),
                }
            }
            if ends {
                out.push_str(&at_runner::escape(&seg[seg.len() - 1..]));
                self.line.clear();
                self.hidden = false;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_echo_hides_credentials_even_in_pieces() {
        let mut r = LiveRedactor::default();
        let shown: String = [
            &b"AT+QSMTPCFG=\"acc"[..],
            b"ount\",\"u\",\"wq6",
            b"64551\"\r",
            b"AT\r",
        ]
        .iter()
        .map(|p| r.feed(p))
        .collect();
        assert_eq!(
            shown, "AT+QSMTPCFG=\"account\",<redacted>\\rAT\\r",
            "{shown}"
        );
        let mut r = LiveRedactor::default();
        let shown = r.feed(b"AT+QSMTPCFG=\"account\",\"u\",\"p\"\r\r\nOK\r\n");
        assert_eq!(shown, "AT+QSMTPCFG=\"account\",<redacted>\\r\\r\\nOK\\r\\n");
        let mut r = LiveRedactor::default();
        assert_eq!(r.feed(b"AT#SMTPPW=\"x\"\r"), "AT#SMTPPW=<redacted>\\r");
    }

    #[test]
    fn a_password_read_back_is_redacted_too() {
        let mut rec = Recording::default();
        rec.push(Duration::ZERO, Direction::Tx, b"AT+QSMTPCFG=\"account\"\r");
        rec.push(
            Duration::from_millis(1),
            Direction::Rx,
            b"AT+QSMTPCFG=\"account\"\r\r\n+QSMTPCFG: \"account\",\"u\",\"set-before\"\r\n\r\nOK\r\n",
        );
        rec.mail.push(MailRecord {
            body: Some("the password set-before in a body".into()),
            ..MailRecord::default()
        });
        let t = rec.render();
        assert!(!t.contains("set-before"), "{t}");
        assert!(t.contains("@mail {"), "{t}");
    }
}
