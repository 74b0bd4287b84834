//! Byte-exact, timestamped record of a run, both directions.

use std::time::Duration;

use at_wire::Instant;
use serde::Serialize;

use crate::escape::escape;

/// Which way bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Host to device.
    Tx,
    /// Device to host.
    Rx,
}

/// One entry of a [`Transcript`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Entry {
    /// Bytes written or read, exactly as they crossed the wire.
    Bytes {
        /// Target clock (virtual for the emulator).
        #[serde(serialize_with = "ser_instant")]
        at: Instant,
        /// Direction.
        dir: Direction,
        /// The bytes.
        #[serde(serialize_with = "ser_escaped")]
        bytes: Vec<u8>,
    },
    /// A runner annotation: step boundaries, DTR changes, the device vanishing.
    Note {
        /// Target clock.
        #[serde(serialize_with = "ser_instant")]
        at: Instant,
        /// What happened.
        text: String,
    },
}

fn ser_instant<S: serde::Serializer>(at: &Instant, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(at.since_origin().as_secs_f64())
}

fn ser_escaped<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&escape(b))
}

/// Everything that crossed the wire during one scenario run, with timestamps.
///
/// Secrets (SMTP passwords sent in `AT+QSMTPCFG="account"`) are replaced by `<redacted>` when
/// the transcript is rendered or serialised, never in memory while judging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    entries: Vec<Entry>,
    secrets: Vec<Vec<u8>>,
    /// The secrets and the forms they travel in (base64), as matched everywhere.
    set: at_wire::redact::Secrets,
    /// The same for text that is already escaped.
    escaped: at_wire::redact::Secrets,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records bytes; consecutive chunks in the same direction at the same instant are merged.
    pub fn record(&mut self, at: Instant, dir: Direction, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(Entry::Bytes {
            at: last_at,
            dir: last_dir,
            bytes: last,
        }) = self.entries.last_mut()
            && *last_at == at
            && *last_dir == dir
        {
            last.extend_from_slice(bytes);
            return;
        }
        self.entries.push(Entry::Bytes {
            at,
            dir,
            bytes: bytes.to_vec(),
        });
    }

    /// Records an annotation.
    pub fn note(&mut self, at: Instant, text: impl Into<String>) {
        self.entries.push(Entry::Note {
            at,
            text: text.into(),
        });
    }

    /// Marks `secret` for redaction in every rendering.
    pub fn add_secret(&mut self, secret: &[u8]) {
        if !secret.is_empty() && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_vec());
            self.set.add(secret);
            self.escaped.add(escape(secret).as_bytes());
            // Longest first: a secret that is a prefix of another must not leave its tail.
            self.secrets
                .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
    }

    /// Appends `other` (entries and secrets): the setup before a case, then the case.
    pub fn append(&mut self, other: Transcript) {
        for s in &other.secrets {
            self.add_secret(s);
        }
        self.entries.extend(other.entries);
    }

    /// The raw entries (not redacted).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// All bytes that went in `dir`, concatenated (not redacted).
    pub fn stream(&self, dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.entries {
            if let Entry::Bytes { dir: d, bytes, .. } = e
                && *d == dir
            {
                out.extend_from_slice(bytes);
            }
        }
        out
    }

    /// `bytes` with every registered secret (and its base64 forms) replaced by `<redacted>`.
    pub fn redact(&self, bytes: &[u8]) -> Vec<u8> {
        self.set.scrub(bytes)
    }

    /// Already-escaped text with every registered secret (escaped) replaced by `<redacted>`.
    pub fn redact_text(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.escaped.scrub(text.as_bytes())).into_owned()
    }

    /// The registered secrets, for redacting other artefacts of the same run (SMTP
    /// transcripts).
    pub fn secrets(&self) -> &at_wire::redact::Secrets {
        &self.set
    }

    /// The entries with secrets redacted.
    pub fn redacted_entries(&self) -> Vec<Entry> {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::Bytes { at, dir, bytes } => Entry::Bytes {
                    at: *at,
                    dir: *dir,
                    bytes: self.redact(bytes),
                },
                note => note.clone(),
            })
            .collect()
    }

    /// A readable rendering, one line per entry: `[  12.345678] > AT\r`, `<` for device bytes.
    ///
    /// With `timestamps: false` (snapshots) the time column is left out.
    pub fn render(&self, timestamps: bool) -> String {
        let mut out = String::new();
        for e in self.redacted_entries() {
            let (at, body) = match &e {
                Entry::Bytes { at, dir, bytes } => {
                    let arrow = match dir {
                        Direction::Tx => '>',
                        Direction::Rx => '<',
                    };
                    (*at, format!("{arrow} {}", escape(bytes)))
                }
                Entry::Note { at, text } => (*at, format!("# {text}")),
            };
            if timestamps {
                out.push_str(&format!("[{}] ", fmt_secs(at.since_origin())));
            }
            out.push_str(&body);
            out.push('\n');
        }
        out
    }
}

/// `12.345678` seconds, right-aligned.
pub(crate) fn fmt_secs(d: Duration) -> String {
    format!("{:>11.6}", d.as_secs_f64())
}

/// Finds the secrets a host line carries: the password of `AT+QSMTPCFG="account",u,p`
/// (000 §2.2.1) and of Multi-Tech `AT#SMTPPW=` (002).
pub fn secrets_in_command(line: &[u8]) -> Vec<Vec<u8>> {
    let upper = line.to_ascii_uppercase();
    let mut out = Vec::new();
    if let Some(pos) = find(&upper, b"+QSMTPCFG=\"ACCOUNT\",") {
        let rest = line
            .get(pos + b"+QSMTPCFG=\"ACCOUNT\",".len()..)
            .unwrap_or_default();
        if let Some(p) = split_params(rest).get(1) {
            out.push(p.clone());
        }
    }
    if let Some(pos) = find(&upper, b"#SMTPPW=") {
        let rest = line.get(pos + b"#SMTPPW=".len()..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|&b| b == b'\r' || b == b';')
            .unwrap_or(rest.len());
        let v = rest.get(..end).unwrap_or_default();
        let v = v
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(v);
        // `AT#SMTPPW=?` is the test form, not a password of `?`.
        if v != b"?" {
            out.push(v.to_vec());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Splits `a,b` parameters of a command (quoted strings kept whole, quotes removed).
fn split_params(rest: &[u8]) -> Vec<Vec<u8>> {
    let end = rest
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(rest.len());
    let rest = rest.get(..end).unwrap_or_default();
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    for &b in rest {
        match b {
            b'"' => quoted = !quoted,
            b',' | b';' if !quoted => {
                out.push(std::mem::take(&mut cur));
                if b == b';' {
                    return out;
                }
            }
            _ => cur.push(b),
        }
    }
    out.push(cur);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_password_is_found_and_redacted() {
        // 000 §3.1 step 2.
        let line = b"AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"\r";
        let secrets = secrets_in_command(line);
        assert_eq!(secrets, vec![b"wq664551".to_vec()]);
        let mut t = Transcript::new();
        for s in &secrets {
            t.add_secret(s);
        }
        t.record(Instant::ZERO, Direction::Tx, line);
        let r = t.render(false);
        assert!(!r.contains("wq664551"), "{r}");
        assert!(r.contains("\"sishen664551\",\"<redacted>\""), "{r}");
        // The stored bytes stay exact.
        assert_eq!(t.stream(Direction::Tx), line);
    }

    #[test]
    fn a_secret_that_prefixes_another_leaks_nothing() {
        // Lead's report: `<redacted>S` leaked the tail when the shorter secret came first.
        for order in [[&b"pass"[..], b"passWORD"], [b"passWORD", b"pass"]] {
            let mut t = Transcript::new();
            for s in order {
                t.add_secret(s);
            }
            t.record(Instant::ZERO, Direction::Tx, b"a=passWORD b=pass c=passW");
            let r = t.render(false);
            assert_eq!(
                r, "> a=<redacted> b=<redacted> c=<redacted>W\n",
                "{order:?}"
            );
            assert!(!t.redact_text("x passWORD").contains("WORD"));
        }
        // Overlapping secrets: the union of their matches is redacted.
        let mut t = Transcript::new();
        t.add_secret(b"abc");
        t.add_secret(b"bcd");
        assert_eq!(t.redact(b"xabcdy"), b"x<redacted>y");
        // A secret also in base64, as `AUTH LOGIN` sends it or inside a longer base64 text.
        let mut t = Transcript::new();
        t.add_secret(b"wq664551");
        assert_eq!(t.redact(b"d3E2NjQ1NTE="), b"<redacted>");
        assert!(
            !String::from_utf8_lossy(&t.redact(b"AHNpc2hlbgB3cTY2NDU1MQ==")).contains("cTY2NDU1")
        );
    }

    #[test]
    fn multitech_password_is_found() {
        assert_eq!(
            secrets_in_command(b"AT#SMTPPW=\"hunter2\"\r"),
            vec![b"hunter2".to_vec()]
        );
        assert!(secrets_in_command(b"AT+QSMTPCFG=\"account\"\r").is_empty());
        // The test form has no password (else every `?` of the transcript was redacted).
        assert!(secrets_in_command(b"AT#SMTPPW=?\r").is_empty());
    }

    #[test]
    fn chunks_merge_only_when_same_instant_and_direction() {
        let mut t = Transcript::new();
        t.record(Instant::ZERO, Direction::Rx, b"\r\n");
        t.record(Instant::ZERO, Direction::Rx, b"OK\r\n");
        t.record(Instant::from_millis(1), Direction::Rx, b"x");
        t.record(Instant::from_millis(1), Direction::Tx, b"y");
        assert_eq!(t.entries().len(), 3);
        assert_eq!(
            t.render(true),
            "[   0.000000] < \\r\\nOK\\r\\n\n[   0.001000] < x\n[   0.001000] > y\n"
        );
    }
}
