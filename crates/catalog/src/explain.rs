//! What the error codes in a module's output mean, from the catalog's tables: `<err>` (000 §5
//! table 3), `<protocol_error>` (000 §6 table 4) and Multi-Tech `#CME ERROR` values (002,
//! ERRATA E22). Used to put the manual's words next to a failing line.
//!
//! ```
//! let m = at_catalog::explain::explain("\\r\\n+QSMTPPUT: 677,535\\r\\n", None);
//! assert_eq!(m[0].line, "+QSMTPPUT: 677,535");
//! assert_eq!(
//!     m[0].to_string(),
//!     "+QSMTPPUT: 677,535: <err> 677 = Authentication failed (验证失败; 000 §5); \
//!      <protocol_error> 535 = Authentication failed (000 §6)"
//! );
//! ```

use std::fmt;

use crate::errors::{err_code, protocol_error};
use crate::profile::MultiTechErrors;

/// One line of module output holding error codes, with what each code means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    /// The line as found (`+QSMTPPUT: 677,535`, `+CME ERROR: 664`, `#CME ERROR: 38027`).
    pub line: String,
    /// One meaning per code, in order (`<err> 677 = Authentication failed (…; 000 §5)`).
    pub meanings: Vec<String>,
}

impl fmt::Display for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.meanings.join("; "))
    }
}

fn err_meaning(code: u32) -> String {
    match u16::try_from(code).ok().and_then(err_code) {
        Some(e) => format!("<err> {code} = {} ({}; 000 §5)", e.name, e.zh),
        None if code == 0 => "<err> 0 = success (000 §2.2.7)".into(),
        None => format!("<err> {code} = not in 000 §5 table 3"),
    }
}

fn protocol_meaning(code: u32) -> String {
    match u16::try_from(code).ok().and_then(protocol_error) {
        Some(e) => format!("<protocol_error> {code} = {} (000 §6)", e.name),
        None if code == 0 => "<protocol_error> 0 = no SMTP reply code (000 §2.2.7)".into(),
        None => format!("<protocol_error> {code} = an SMTP reply code not in 000 §6 table 4"),
    }
}

fn multitech_meaning(code: u32, errors: Option<&MultiTechErrors>) -> String {
    let Some(e) = errors else {
        return format!("{code} = a Multi-Tech error value (002; ERRATA E22)");
    };
    let causes: [(u32, &str, &str); 7] = [
        (e.dns, "DNS could not resolve SMTPSERV", "002"),
        (
            e.connection,
            "TCP/TLS connection failed, refused or reset",
            "ERRATA E22",
        ),
        (
            e.smtp_rejected,
            "the SMTP server rejected the session (auth, recipient, data)",
            "ERRATA E22",
        ),
        (e.timeout, "the server did not answer in time", "ERRATA E22"),
        (
            e.inactivity,
            "50 s without a byte on the serial port during the body",
            "002, ERRATA E22",
        ),
        (
            e.not_ready,
            "no recipient, or the IP link is down",
            "ERRATA E22",
        ),
        (e.busy, "a mail is already being sent", "ERRATA E22"),
    ];
    match causes.iter().find(|(v, _, _)| *v == code) {
        Some((_, what, src)) => format!("{code} = {what} ({src})"),
        None => format!("{code} = not a documented Multi-Tech value (002; ERRATA E22)"),
    }
}

/// Reads the decimal number at the start of `s`: its value and length.
fn number(s: &str) -> Option<(u32, usize)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    let v = s.get(..n)?.parse().ok()?;
    Some((v, n))
}

/// Finds every `+CME ERROR: <err>`, `+QSMTPPUT: <err>,<protocol_error>` and `#CME ERROR:
/// <n>` in `text` (raw or escaped module output) and says what each code means; `multitech`
/// gives the Multi-Tech values (a profile's `multitech.errors`). Lines are reported once, in
/// order of first appearance; codes written as patterns (`{int}`) are not numbers and are
/// skipped.
pub fn explain(text: &str, multitech: Option<&MultiTechErrors>) -> Vec<Explained> {
    const KEYS: [&str; 3] = ["+CME ERROR: ", "+QSMTPPUT: ", "#CME ERROR: "];
    let mut out: Vec<Explained> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = text.get(i..).unwrap_or_default();
        let Some((at, key)) = KEYS
            .iter()
            .filter_map(|k| rest.find(k).map(|p| (p, *k)))
            .min_by_key(|(p, _)| *p)
        else {
            break;
        };
        let start = i + at;
        let after = start + key.len();
        i = after;
        let tail = text.get(after..).unwrap_or_default();
        let Some((a, n)) = number(tail) else { continue };
        let (line, meanings) = match key {
            "+QSMTPPUT: " => {
                let Some((b, m)) = tail
                    .get(n..)
                    .and_then(|t| t.strip_prefix(','))
                    .and_then(number)
                else {
                    continue;
                };
                (
                    text.get(start..after + n + 1 + m).unwrap_or_default(),
                    vec![err_meaning(a), protocol_meaning(b)],
                )
            }
            "+CME ERROR: " => (
                text.get(start..after + n).unwrap_or_default(),
                vec![err_meaning(a)],
            ),
            _ => (
                text.get(start..after + n).unwrap_or_default(),
                vec![multitech_meaning(a, multitech)],
            ),
        };
        if !out.iter().any(|e| e.line == line) {
            out.push(Explained {
                line: line.to_owned(),
                meanings,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_code_line() {
        let e = explain(
            r"AT+QSMTPPUT=300\r\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n+CME ERROR: 664\r\n+CME ERROR: {int}",
            None,
        );
        let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "+QSMTPPUT: 0,0: <err> 0 = success (000 §2.2.7); <protocol_error> 0 = no SMTP reply code (000 §2.2.7)",
                "+CME ERROR: 664: <err> 664 = The input parameter is wrong (输入参数错误; 000 §5)",
            ]
        );
        let e = explain(
            "+QSMTPPUT: 660,541 +CME ERROR: 405 +QSMTPPUT: 660,541",
            None,
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(
            e[0].meanings[1],
            "<protocol_error> 541 = an SMTP reply code not in 000 §6 table 4"
        );
        assert_eq!(e[1].meanings[0], "<err> 405 = not in 000 §5 table 3");
    }

    #[test]
    fn multitech_values_come_from_the_profile() {
        let p = crate::profile("multitech").expect("profile");
        let errors = p.multitech.as_ref().map(|m| &m.errors);
        let e = explain("\\r\\n#CME ERROR: 38027\\r\\n#CME ERROR: 38031", errors);
        assert_eq!(
            e[0].meanings[0],
            "38027 = DNS could not resolve SMTPSERV (002)"
        );
        assert!(
            e[1].meanings[0].starts_with("38031 = 50 s without a byte"),
            "{e:?}"
        );
        let e = explain("#CME ERROR: 1", errors);
        assert!(e[0].meanings[0].contains("not a documented"), "{e:?}");
    }
}
