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
