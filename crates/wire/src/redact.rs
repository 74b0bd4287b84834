//! Keeping credentials out of Debug output, logs and reports.
//!
//! Lines that carry credentials: `AT+QSMTPCFG="account",<username>,<password>` and its echo and
//! query response `+QSMTPCFG: "account",…` (000 §2.2.1), and Multi-Tech `SMTPPW`/`SMTPUN`
//! (002). Everything from the first credential byte on is shown as `<redacted>`.

use core::fmt;

/// The text that replaces credentials.
pub const REDACTED: &str = "<redacted>";

/// Offset in `line` where credentials begin, if the line carries any.
///
/// ```
/// use at_wire::redact::secret_start;
/// let line = br#"AT+QSMTPCFG="account","sishen664551","wq664551""#;
/// assert_eq!(secret_start(line), Some(22));
/// assert_eq!(secret_start(br#"+qsmtpcfg: "ACCOUNT",u,p"#), Some(21));
/// assert_eq!(secret_start(b"AT#SMTPPW=\"x\""), Some(10));
/// assert_eq!(secret_start(br#"AT+QSMTPCFG="sender","a","b""#), None);
/// ```
pub fn secret_start(line: &[u8]) -> Option<usize> {
    if let Some(i) = find_ci(line, b"QSMTPCFG") {
        let rest = line.get(i + 8..)?;
        let skip = match rest {
            [b'=', ..] => 1,
            [b':', b' ', ..] => 2,
            [b':', ..] => 1,
            _ => return None,
        };
        let arg = rest.get(skip..)?;
        if !arg
            .get(..9)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"\"account\""))
        {
            return None;
        }
        let after = i + 8 + skip + 9;
        return match line.get(after) {
            None => None,
            Some(b',') => Some(after + 1),
            Some(_) => Some(after),
        };
    }
    for name in [&b"SMTPPW"[..], b"SMTPUN"] {
        if let Some(i) = find_ci(line, name) {
            let rest = line.get(i + 6..)?;
            let skip = match rest {
                [b'=', ..] => 1,
                [b':', b' ', ..] => 2,
                [b':', ..] => 1,
                _ => continue,
            };
            return Some(i + 6 + skip);
        }
    }
    None
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Debug/Display wrapper for a line: escaped ASCII, credentials replaced by `<redacted>`.
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub &'a [u8]);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match secret_start(self.0) {
            Some(i) => write!(
                f,
                "{}{REDACTED}",
                self.0.get(..i).unwrap_or_default().escape_ascii()
            ),
            None => write!(f, "{}", self.0.escape_ascii()),
        }
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Declared secret values (passwords, `@secret`s) and the forms they travel in, found anywhere.
///
/// The one redaction rule of the project for values (AUTH payloads are redacted by position, by
/// whoever parses them): each secret is matched as is, as its exact base64 encoding (`AUTH
/// LOGIN`), and as the part of its base64 encoding that does not depend on its neighbours, at
/// each of the three byte alignments a longer base64 text can give it (a body or an `AUTH PLAIN`
/// payload that contains it). Longer forms win where matches overlap.
///
/// ```
/// use at_wire::redact::Secrets;
/// let mut s = Secrets::new();
/// s.add(b"wq664551");
/// assert_eq!(s.scrub(b"pw=wq664551;"), b"pw=<redacted>;".to_vec());
/// // "\0sishen\0wq664551" as AUTH PLAIN sends it (the password at byte offset 8): only the
/// // characters that mix in a neighbour's bits are left.
/// assert_eq!(s.scrub(b"AHNpc2hlbgB3cTY2NDU1MQ=="), b"AHNpc2hlbgB<redacted>Q==".to_vec());
/// assert!(s.scrub(b"nothing here").as_slice() == b"nothing here");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    forms: alloc::vec::Vec<alloc::vec::Vec<u8>>,
}

/// Base64 forms shorter than this are not matched (too likely to occur by chance).
const MIN_BASE64_FORM: usize = 6;

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Adds a secret value (empty values are ignored).
    pub fn add(&mut self, secret: &[u8]) {
        use alloc::vec::Vec;
        if secret.is_empty() {
            return;
        }
        let mut forms: Vec<Vec<u8>> = Vec::with_capacity(5);
        forms.push(secret.to_vec());
        forms.push(base64(secret, true));
        for skew in 0..3usize {
            let mut padded = Vec::with_capacity(secret.len() + skew);
            padded.resize(skew, 0);
            padded.extend_from_slice(secret);
            let text = base64(&padded, false);
            // Characters carrying only the secret's bits: after the skew bytes' bits, and
            // before bits that the following byte would complete.
            let first = (8 * skew).div_ceil(6);
            let last = (8 * padded.len()) / 6;
            if let Some(core) = text.get(first..last)
                && core.len() >= MIN_BASE64_FORM
            {
                forms.push(core.to_vec());
            }
        }
        for f in forms {
            if !self.forms.contains(&f) {
                self.forms.push(f);
            }
        }
        self.forms
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Whether no secret was added.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// Every byte range of `hay` that holds a secret form, sorted and merged.
    pub fn ranges(&self, hay: &[u8]) -> alloc::vec::Vec<core::ops::Range<usize>> {
        let mut out: alloc::vec::Vec<core::ops::Range<usize>> = alloc::vec::Vec::new();
        if self.forms.is_empty() {
            return out;
        }
        for f in &self.forms {
            let finder = memchr::memmem::Finder::new(f);
            for start in finder.find_iter(hay) {
                out.push(start..start + f.len());
            }
        }
        out.sort_by_key(|r| (r.start, core::cmp::Reverse(r.end)));
        let mut merged: alloc::vec::Vec<core::ops::Range<usize>> =
            alloc::vec::Vec::with_capacity(out.len());
        for r in out {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// `hay` with every secret form replaced by `<redacted>`.
    pub fn scrub(&self, hay: &[u8]) -> alloc::vec::Vec<u8> {
        replace_ranges(hay, &self.ranges(hay))
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} forms)", self.forms.len())
    }
}

/// `bytes` with each of the sorted, disjoint `ranges` replaced by `<redacted>`.
pub fn replace_ranges(bytes: &[u8], ranges: &[core::ops::Range<usize>]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(bytes.len());
    let mut at = 0;
    for r in ranges {
        let (start, end) = (r.start.min(bytes.len()), r.end.min(bytes.len()));
        if start < at {
            continue;
        }
        out.extend_from_slice(bytes.get(at..start).unwrap_or_default());
        out.extend_from_slice(REDACTED.as_bytes());
        at = end;
    }
    out.extend_from_slice(bytes.get(at..).unwrap_or_default());
    out
}

fn base64(bytes: &[u8], pad: bool) -> alloc::vec::Vec<u8> {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = alloc::vec::Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(ABC.get(idx).copied().unwrap_or(b'A'));
            } else if pad {
                out.push(b'=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b"", true), b"");
        assert_eq!(base64(b"f", true), b"Zg==");
        assert_eq!(base64(b"fo", true), b"Zm8=");
        assert_eq!(base64(b"foo", true), b"Zm9v");
        assert_eq!(base64(b"foob", false), b"Zm9vYg");
        assert_eq!(base64(b"\0user\0pass", true), b"AHVzZXIAcGFzcw==");
    }

    #[test]
    fn a_secret_is_found_in_base64_at_every_alignment() {
        let secret = b"Zq9-probe-secret-77";
        let mut s = Secrets::new();
        s.add(secret);
        for prefix in 0..6 {
            for suffix in 0..4 {
                let mut plain = alloc::vec![b'x'; prefix];
                plain.extend_from_slice(secret);
                plain.extend(core::iter::repeat_n(b'y', suffix));
                let text = base64(&plain, true);
                let scrubbed = s.scrub(&text);
                assert!(scrubbed.windows(10).any(|w| w == REDACTED.as_bytes()));
                // At most the two characters at each edge of the secret's 152 bits survive.
                let removed = text.len() + REDACTED.len() - scrubbed.len();
                assert!(removed >= 152 / 6 - 2, "{prefix} {suffix}: {removed}");
            }
        }
        assert_eq!(s.scrub(b"short"), b"short".to_vec());
    }
}
