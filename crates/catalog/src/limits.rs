//! Maximum response times per command and form, each with its evidence (ERRATA E30).
//!
//! 000 prints one "最大响应时间" per command table: 300 ms for `AT+QSMTPCFG`, `DST`, `SUB`,
//! `ATT`, `CLR`; "取决于<input_time>" for `AT+QSMTPBODY`; "取决于<timeout>" for `AT+QSMTPPUT`.
//! [`response_limit`] turns that into a limit per form: the printed value for every form, except
//! that a limit depending on a parameter applies to the form that has it (the write form) and the
//! test and read forms get the 300 ms of their siblings (E30). `AT+CPIN`, `AT+CGATT`, `AT+QIACT`
//! and `AT+QIDEACT` have the values of the AT and TCP/IP manuals 000 cites (E14). Every other
//! command, and every Multi-Tech command, has no documented limit: only a scenario's timeout
//! applies to it.
//!
//! ```
//! use std::time::Duration;
//! let l = at_catalog::line_limit(b"AT+QSMTPPUT=300", "ec25").unwrap();
//! assert_eq!((l.duration, l.evidence), (Duration::from_millis(300_300), "000 §2.2.7"));
//! let l = at_catalog::line_limit(b"AT+QSMTPPUT=?", "ec25").unwrap();
//! assert_eq!((l.duration, l.evidence), (Duration::from_millis(300), "E30"));
//! assert!(at_catalog::line_limit(b"AT+QFLST=\"RAM:*\"", "ec25").is_none());
//! ```

use std::time::Duration;

use crate::commands::{Command, Form, MaxResponse, command};

/// Where each command's maximum response time is given: a seed section or an ERRATA entry.
const SOURCES: &[(&str, &str)] = &[
    ("+QSMTPCFG", "000 §2.2.1"),
    ("+QSMTPDST", "000 §2.2.2"),
    ("+QSMTPSUB", "000 §2.2.3"),
    ("+QSMTPBODY", "000 §2.2.4"),
    ("+QSMTPATT", "000 §2.2.5"),
    ("+QSMTPCLR", "000 §2.2.6"),
    ("+QSMTPPUT", "000 §2.2.7"),
    ("+CPIN", "E14"),
    ("+CGATT", "E14"),
    ("+QIACT", "E14"),
    ("+QIDEACT", "E14"),
];

/// What a parameter-bound limit adds to the parameter's seconds: the answer that follows it
/// ("取决于<timeout>" read as `<timeout>` plus the 300 ms of a response, E30).
const AFTER_PARAM: Duration = Duration::from_millis(300);

/// A response-time limit and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseLimit {
    /// The limit, from the command being sent.
    pub duration: Duration,
    /// A seed citation (`000 §2.2.1`) or an ERRATA id (`E30`, `E14`).
    pub evidence: &'static str,
    /// How it was reached, for people (`300 ms`, `<timeout> 300 s + 300 ms`).
    pub rule: String,
}

/// The limit of `cmd` in `form` on module `profile`; `param(name)` gives the value of a
/// parameter the limit depends on (else its default is used).
pub fn response_limit(
    cmd: &Command,
    form: Form,
    profile: &str,
    param: impl Fn(&str) -> Option<i64>,
) -> Option<ResponseLimit> {
    if profile == "multitech" {
        return None; // 002 gives no response time (its 50 s is body inactivity)
    }
    let source = SOURCES.iter().find(|(n, _)| *n == cmd.name)?.1;
    // 001 prints no maximum response times as extracted: the AG35 takes 000's values (E30).
    let evidence = if profile == "ag35" && source.starts_with("000") {
        "E30"
    } else {
        source
    };
    match (cmd.max_response, form) {
        (MaxResponse::Undocumented, _) => None,
        (MaxResponse::Millis(ms), _) => Some(ResponseLimit {
            duration: Duration::from_millis(u64::from(ms)),
            evidence,
            rule: format!("{ms} ms"),
        }),
        (MaxResponse::Param(_), Form::Test | Form::Read) => Some(ResponseLimit {
            duration: Duration::from_millis(300),
            evidence: "E30",
            rule: "300 ms (a form without the parameter)".into(),
        }),
        (MaxResponse::Param(name), Form::Write | Form::Exec) => {
            let secs = param(name)
                .or_else(|| cmd.param(name).and_then(|p| p.default))
                .and_then(|s| u64::try_from(s).ok())?;
            Some(ResponseLimit {
                duration: Duration::from_secs(secs) + AFTER_PARAM,
                evidence,
                rule: format!("<{name}> {secs} s + 300 ms"),
            })
        }
    }
}

/// The limit of a whole command line as sent (`AT+QSMTPPUT=300`, without its CR): the sum of
/// its commands' limits when every one has one, else `None`.
pub fn line_limit(line: &[u8], profile: &str) -> Option<ResponseLimit> {
    let line = at_wire::strip_line_end(line);
    let parsed = at_wire::parse_command_line(line).ok()?;
    let mut total: Option<ResponseLimit> = None;
    for c in &parsed.commands {
        let at_wire::Command::Extended { sigil, name, form } = c else {
            return None;
        };
        let full = format!("{}{name}", char::from(*sigil));
        let cmd = command(&full)?;
        let (form, params) = match form {
            at_wire::Form::Test => (Form::Test, &[][..]),
            at_wire::Form::Read => (Form::Read, &[][..]),
            at_wire::Form::Set(p) => (Form::Write, p.as_slice()),
            at_wire::Form::Execute => (Form::Exec, &[][..]),
        };
        let value = |n: &str| {
            let i = cmd.params.iter().position(|p| p.name == n)?;
            params.get(i).and_then(at_wire::Param::as_int)
        };
        let l = response_limit(cmd, form, profile, value)?;
        total = Some(match total {
            None => l,
            Some(t) => ResponseLimit {
                duration: t.duration + l.duration,
                evidence: t.evidence,
                rule: format!("{} + {}", t.rule, l.rule),
            },
        });
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::COMMANDS;

    #[test]
    fn every_bound_has_a_source_and_every_source_a_bound() {
        for c in COMMANDS {
            let sourced = SOURCES.iter().any(|(n, _)| *n == c.name);
            let bound = c.max_response != MaxResponse::Undocumented;
            assert_eq!(sourced, bound, "{}", c.name);
        }
        for (_, ev) in SOURCES {
            assert!(
                crate::check_citation(ev).is_ok() || crate::errata_entry(ev).is_some(),
                "{ev}"
            );
        }
    }

    #[test]
    fn per_form_and_profile() {
        let ms = |line: &[u8], p: &str| line_limit(line, p).map(|l| (l.duration, l.evidence));
        let d = Duration::from_millis;
        assert_eq!(
            ms(b"AT+QSMTPCFG=\"ssltype\",0", "ec25"),
            Some((d(300), "000 §2.2.1"))
        );
        assert_eq!(ms(b"AT+QSMTPDST?", "ag35"), Some((d(300), "E30")));
        assert_eq!(
            ms(b"AT+QSMTPBODY=0,100,120", "ec25"),
            Some((d(120_300), "000 §2.2.4"))
        );
        assert_eq!(
            ms(b"AT+QSMTPBODY=0,100", "ec25"),
            Some((d(90_300), "000 §2.2.4"))
        );
        assert_eq!(ms(b"AT+QSMTPBODY?", "ec25"), Some((d(300), "E30")));
        assert_eq!(ms(b"AT+CPIN?", "ec25"), Some((d(5000), "E14")));
        assert_eq!(ms(b"AT+QIACT=1", "ag35"), Some((d(150_000), "E14")));
        assert_eq!(ms(b"AT+CGREG?", "ec25"), None);
        assert_eq!(ms(b"AT", "ec25"), None);
        assert_eq!(ms(b"ATE0", "ec25"), None);
        assert_eq!(ms(b"AT#PUTMAIL", "multitech"), None);
        assert_eq!(ms(b"AT+CPIN?", "multitech"), None);
        assert_eq!(ms(b"AT+QSMTPCLR\r", "ec25"), Some((d(300), "000 §2.2.6")));
        assert_eq!(
            ms(b"AT+QSMTPCLR;+QSMTPDST?", "ec25"),
            Some((d(600), "000 §2.2.6"))
        );
        assert_eq!(ms(b"AT+QSMTPCLR;+QFLST", "ec25"), None);
    }
}
