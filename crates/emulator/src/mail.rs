//! From delivery results to result codes, and deterministic `Date:`/`Message-ID:` values.

use at_catalog::{err, err_for_protocol};
use at_mailer::{Failure, Outcome};

use crate::quirks::{Quirk, QuirkSet};

/// The `+QSMTPPUT: <err>,<protocol_error>` pair for a delivery outcome (000 §5, §6;
/// ERRATA E19).
///
/// ```
/// use at_emulator::{outcome_codes, quirks::QuirkSet};
/// use at_mailer::{Failure, Outcome, Stage, Transcript};
/// let auth = Outcome {
///     result: Err(Failure::Protocol { stage: Stage::Auth, code: 535, text: "bad".into() }),
///     transcript: Transcript::default(),
/// };
/// assert_eq!(outcome_codes(&auth, QuirkSet::NONE), (677, 535));
/// ```
pub fn outcome_codes(outcome: &Outcome, quirks: QuirkSet) -> (u16, u16) {
    let (e, p) = match &outcome.result {
        Ok(()) => (err::OK, 0),
        Err(f) => failure_codes(f),
    };
    let e = if quirks.contains(Quirk::AuthFailureErr660) && e == err::AUTH_FAILED {
        err::SEND_FAILED
    } else {
        e
    };
    let p = if quirks.contains(Quirk::ProtocolErrorZero) {
        0
    } else {
        p
    };
    (e, p)
}

/// `<err>`,`<protocol_error>` for one failure, from the catalog's tables.
pub fn failure_codes(f: &Failure) -> (u16, u16) {
    match f {
        Failure::Dns => (err::DNS, 0),
        Failure::Refused => (err::NETWORK, 0),
        Failure::Reset { .. } => (err::CLOSED_BY_PEER, 0),
        Failure::Timeout { .. } | Failure::Stalled { .. } => (err::TIMEOUT, 0),
        Failure::Tls(_) => (err::SSL, 0),
        Failure::AuthUnsupported => (err::AUTH_UNSUPPORTED, 0),
        Failure::Malformed { .. } => (err::UNKNOWN, 0),
        Failure::Io { .. } => (err::NETWORK, 0),
        // A reply code outside table 4 (e.g. 554 is in it, 541 is not): 660 "failed to send".
        Failure::Protocol { code, .. } => {
            (err_for_protocol(*code).unwrap_or(err::SEND_FAILED), *code)
        }
        // A failure kind added to the mailer later.
        #[allow(unreachable_patterns)]
        _ => (err::UNKNOWN, 0),
    }
}

/// A Multi-Tech `#CME ERROR` cause for a failure (ERRATA E22).
pub(crate) fn multitech_error(f: &Failure, e: &at_catalog::MultiTechErrors) -> u32 {
    match f {
        Failure::Dns => e.dns,
        Failure::Refused | Failure::Reset { .. } | Failure::Tls(_) | Failure::Io { .. } => {
            e.connection
        }
        Failure::Timeout { .. } | Failure::Stalled { .. } => e.timeout,
        _ => e.smtp_rejected,
    }
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 5322 date (UTC) for seconds since the Unix epoch.
pub(crate) fn rfc5322_date(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        d,
        MONTHS[(m - 1).clamp(0, 11) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use at_mailer::{Stage, Transcript};

    fn out(f: Failure) -> Outcome {
        Outcome {
            result: Err(f),
            transcript: Transcript::default(),
        }
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_595_980_800),
            "Wed, 29 Jul 2020 00:00:00 +0000"
        );
        assert_eq!(
            rfc5322_date(951_782_400 + 3661),
            "Tue, 29 Feb 2000 01:01:01 +0000"
        );
    }

    #[test]
    fn mapping_agrees_with_the_mailer() {
        let cases = [
            Failure::Dns,
            Failure::Refused,
            Failure::Reset { stage: Stage::Body },
            Failure::Timeout { stage: Stage::Data },
            Failure::Stalled {
                stage: Stage::Greeting,
            },
            Failure::Tls("x".into()),
            Failure::AuthUnsupported,
            Failure::Protocol {
                stage: Stage::Auth,
                code: 535,
                text: String::new(),
            },
            Failure::Protocol {
                stage: Stage::RcptTo,
                code: 550,
                text: String::new(),
            },
            Failure::Protocol {
                stage: Stage::Data,
                code: 541,
                text: String::new(),
            },
        ];
        for f in cases {
            assert_eq!(failure_codes(&f), f.quectel_codes(), "{f:?}");
        }
        assert_eq!(failure_codes(&Failure::Dns), (653, 0)); // 000 §4.3
    }

    #[test]
    fn quirks_change_codes() {
        let auth = out(Failure::Protocol {
            stage: Stage::Auth,
            code: 535,
            text: String::new(),
        });
        assert_eq!(outcome_codes(&auth, QuirkSet::NONE), (677, 535));
        let q = QuirkSet::NONE.with(Quirk::AuthFailureErr660);
        assert_eq!(outcome_codes(&auth, q), (660, 535));
        let q = QuirkSet::NONE.with(Quirk::ProtocolErrorZero);
        assert_eq!(outcome_codes(&auth, q), (677, 0));
    }
}
