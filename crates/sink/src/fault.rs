//! Fault scripts: make the sink misbehave on purpose, deterministically.
//!
//! The text form has one directive per line (or separated by `;`); a `#` at the start of a line or
//! after whitespace starts a comment:
//!
//! ```text
//! rcpt=550                              # every RCPT answered "550 5.0.0 Injected fault"
//! rcpt#2=452 4.5.3 Too many recipients  # only the 2nd RCPT of each connection, with this text
//! data-end=554 5.0.0 Error: transaction failed
//! greeting=421 4.3.2 Try later           # greeting refused, then closed (RFC 5321 §3.1)
//! drop=before-greeting                  # close before sending anything
//! drop=mid-data                         # close when the first message bytes arrive
//! drop=mail                             # close when MAIL arrives, without a reply
//! delay=mail:2s                         # hold the reply to MAIL for 2 s (virtual time in tests)
//! greylist                              # first RCPT of each sender→recipient pair: 451, then accept
//! greylist=30s                          # ...and accept only after 30 s
//! probability=0.1                       # each rule fires with this probability...
//! seed=7                                # ...drawn from ChaCha8 seeded with seed + connection number
//! starttls=454 4.7.0 TLS not available  # refuse STARTTLS (RFC 3207 §4)
//! tls=expired                           # TLS faults: every handshake (see below)
//! ```
//!
//! Points: `greeting`, `ehlo`, `helo`, `auth`, `mail`, `rcpt`, `data`, `data-end`, `rset`, `noop`,
//! `quit`, `starttls`. Injected replies must be 4xx or 5xx; the command they answer has no effect.
//!
//! TLS faults (`tls=NAME`, on implicit TLS and after STARTTLS alike, every connection): the
//! certificate shown is `expired`, `not-yet-valid`, `self-signed`, `wrong-host` (names
//! `wrong-host.invalid` only) or `unknown-ca` (signed by a CA given to nobody); `client-cert`
//! demands a client certificate; `abort` closes the connection when the ClientHello arrives;
//! `version-mismatch` / `suite-mismatch` answer it with a fatal `protocol_version` /
//! `handshake_failure` alert. One certificate fault and one handshake fault at most.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use at_wire::duration::parse_or_secs as parse_duration;

/// A place in the SMTP dialogue where a fault can fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Point {
    /// The `220` greeting.
    Greeting,
    /// `EHLO`.
    Ehlo,
    /// `HELO`.
    Helo,
    /// `AUTH` (the command itself: answered at once, before any `334`).
    Auth,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA` (the `354`).
    Data,
    /// The `.` that ends the message.
    DataEnd,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `STARTTLS`.
    StartTls,
}

impl Point {
    /// The name used in fault scripts.
    pub fn name(self) -> &'static str {
        match self {
            Point::Greeting => "greeting",
            Point::Ehlo => "ehlo",
            Point::Helo => "helo",
            Point::Auth => "auth",
            Point::Mail => "mail",
            Point::Rcpt => "rcpt",
            Point::Data => "data",
            Point::DataEnd => "data-end",
            Point::Rset => "rset",
            Point::Noop => "noop",
            Point::Quit => "quit",
            Point::StartTls => "starttls",
        }
    }

    const ALL: [Point; 12] = [
        Point::Greeting,
        Point::Ehlo,
        Point::Helo,
        Point::Auth,
        Point::Mail,
        Point::Rcpt,
        Point::Data,
        Point::DataEnd,
        Point::Rset,
        Point::Noop,
        Point::Quit,
        Point::StartTls,
    ];
}

/// A name that is not a [`Point`] (lower-cased, trimmed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown point `{0}`")]
pub struct UnknownPoint(pub String);

impl FromStr for Point {
    type Err = UnknownPoint;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Point::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or(UnknownPoint(s))
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a `drop` fault closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DropAt {
    /// Right after accepting the connection, before the greeting.
    BeforeGreeting,
    /// When the first message bytes arrive after `354`.
    MidData,
    /// When the command of this point arrives, instead of replying.
    Command(Point),
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Action {
    /// Answer with this reply instead of the normal one.
    Reply {
        /// Reply code, 400–599.
        code: u16,
        /// Text after the code (an enhanced status code is part of it when wanted).
        text: String,
    },
    /// Close the connection.
    Drop,
    /// Hold the reply for this long.
    Delay(Duration),
}

/// One directive of a fault script.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// Where it fires.
    pub at: Trigger,
    /// Only on the n-th occurrence (1-based) of the point in a connection; every time if `None`.
    pub nth: Option<u32>,
    /// What it does.
    pub action: Action,
}

/// The trigger of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Trigger {
    /// A dialogue point.
    Point(Point),
    /// A drop location that is not a command.
    Drop(DropAt),
}

/// The TLS faults of a script (`tls=NAME`), applied by the adapter to every handshake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsFaults {
    /// The certificate shown is faulty this way.
    pub certificate: Option<at_tls::CertFault>,
    /// A client certificate is demanded.
    pub client_cert: bool,
    /// The handshake is refused this way.
    pub handshake: Option<at_tls::HandshakeFault>,
}

impl TlsFaults {
    /// The names `tls=` accepts.
    pub const NAMES: &'static [&'static str] = &[
        "expired",
        "not-yet-valid",
        "self-signed",
        "wrong-host",
        "unknown-ca",
        "client-cert",
        "abort",
        "version-mismatch",
        "suite-mismatch",
    ];

    /// Whether no TLS fault is set.
    pub fn is_empty(&self) -> bool {
        *self == TlsFaults::default()
    }

    /// Adds the fault `name` (one of [`TlsFaults::NAMES`]).
    pub fn add(&mut self, name: &str) -> Result<(), TlsFaultError> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("client-cert") {
            self.client_cert = true;
        } else if let Ok(f) = name.parse::<at_tls::CertFault>() {
            if let Some(old) = self.certificate.replace(f).filter(|&o| o != f) {
                return Err(TlsFaultError::TwoCertificateFaults(old, f));
            }
        } else if let Ok(f) = name.parse::<at_tls::HandshakeFault>() {
            if let Some(old) = self.handshake.replace(f).filter(|&o| o != f) {
                return Err(TlsFaultError::TwoHandshakeFaults(old, f));
            }
        } else {
            return Err(TlsFaultError::Unknown(name.to_owned()));
        }
        Ok(())
    }
}

/// Why a TLS fault cannot be added ([`TlsFaults::add`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFaultError {
    /// Not one of [`TlsFaults::NAMES`].
    #[error("unknown TLS fault `{0}` (expected one of: {names})", names = TlsFaults::NAMES.join(", "))]
    Unknown(String),
    /// A second, different certificate fault.
    #[error("two certificate faults: `{0}` and `{1}`")]
    TwoCertificateFaults(at_tls::CertFault, at_tls::CertFault),
    /// A second, different handshake fault.
    #[error("two handshake faults: `{0}` and `{1}`")]
    TwoHandshakeFaults(at_tls::HandshakeFault, at_tls::HandshakeFault),
}

/// A fault script: rules, greylisting and the randomness that gates them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FaultScript {
    /// The rules, in script order; the first that fires at a point wins.
    pub rules: Vec<Rule>,
    /// Greylisting, with the minimum wait before a retry is accepted.
    pub greylist: Option<Duration>,
    /// Probability that a rule fires when reached (1.0 when `None`).
    pub probability: Option<f64>,
    /// Seed of the per-connection random generator (connection number is added).
    pub seed: u64,
    /// TLS faults (every handshake; not gated by `probability`).
    pub tls: TlsFaults,
}

/// A fault script that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault script, directive {index} `{directive}`: {reason}")]
pub struct FaultScriptError {
    /// 1-based index of the directive.
    pub index: usize,
    /// The directive as written.
    pub directive: String,
    /// What is wrong with it.
    #[source]
    pub reason: DirectiveError,
}

/// What is wrong with one fault-script directive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveError {
    /// A key without its `=value`.
    #[error("`{0}` needs a value")]
    NeedsValue(String),
    /// A duration that does not parse.
    #[error("bad duration `{value}`: {source}")]
    Duration {
        /// The value as written.
        value: String,
        /// Why.
        #[source]
        source: at_wire::duration::DurationError,
    },
    /// A probability that is not a number.
    #[error("bad probability `{0}`")]
    Probability(String),
    /// A probability outside 0..=1 (as parsed).
    #[error("probability {0} is not within 0..=1")]
    ProbabilityRange(String),
    /// A seed that is not a `u64`.
    #[error("bad seed `{0}`")]
    Seed(String),
    /// A TLS fault that cannot be added.
    #[error(transparent)]
    Tls(#[from] TlsFaultError),
    /// An unknown command point.
    #[error(transparent)]
    Point(#[from] UnknownPoint),
    /// `delay=` without `:`.
    #[error("expected `delay=<point>:<duration>`")]
    DelayShape,
    /// `#N` that is not a positive number.
    #[error("bad occurrence `{0}`")]
    Occurrence(String),
    /// A reply code outside 400-599.
    #[error("reply code `{0}` is not 400-599")]
    ReplyCode(String),
}

impl FaultScript {
    /// An empty script: no faults.
    pub fn new() -> Self {
        FaultScript::default()
    }

    /// Whether the script does nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.greylist.is_none() && self.tls.is_empty()
    }

    /// Adds the TLS fault `name` (see the module docs).
    pub fn tls_fault(mut self, name: &str) -> Result<Self, TlsFaultError> {
        self.tls.add(name)?;
        Ok(self)
    }

    /// Answers `code text` at `point` (every occurrence).
    pub fn reply(mut self, point: Point, code: u16, text: impl Into<String>) -> Self {
        self.rules.push(Rule {
            at: Trigger::Point(point),
            nth: None,
            action: Action::Reply {
                code,
                text: text.into(),
            },
        });
        self
    }

    /// Answers `code text` at the `nth` (1-based) occurrence of `point` only.
    pub fn reply_nth(mut self, point: Point, nth: u32, code: u16, text: impl Into<String>) -> Self {
        self.rules.push(Rule {
            at: Trigger::Point(point),
            nth: Some(nth),
            action: Action::Reply {
                code,
                text: text.into(),
            },
        });
        self
    }

    /// Closes the connection at `at`.
    pub fn drop_at(mut self, at: DropAt) -> Self {
        let at = match at {
            DropAt::Command(p) => Trigger::Point(p),
            other => Trigger::Drop(other),
        };
        self.rules.push(Rule {
            at,
            nth: None,
            action: Action::Drop,
        });
        self
    }

    /// Holds the reply at `point` for `by`.
    pub fn delay(mut self, point: Point, by: Duration) -> Self {
        self.rules.push(Rule {
            at: Trigger::Point(point),
            nth: None,
            action: Action::Delay(by),
        });
        self
    }

    /// Greylists: the first RCPT of a sender→recipient pair gets `451`, a retry after `min_wait` is accepted.
    pub fn greylist(mut self, min_wait: Duration) -> Self {
        self.greylist = Some(min_wait);
        self
    }

    /// Makes every rule fire with probability `p` (0.0–1.0).
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p.clamp(0.0, 1.0));
        self
    }

    /// Seeds the random generator that gates rules.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Appends the directives of `text` (see the module docs) to this script.
    pub fn extend_from_text(mut self, text: &str) -> Result<Self, FaultScriptError> {
        let directives = text
            .lines()
            .flat_map(|l| strip_comment(l).split(';'))
            .map(str::trim)
            .filter(|d| !d.is_empty());
        for (i, directive) in directives.enumerate() {
            let err = |reason| FaultScriptError {
                index: i + 1,
                directive: directive.to_string(),
                reason,
            };
            self = self.apply_directive(directive).map_err(err)?;
        }
        Ok(self)
    }

    /// Parses a whole script.
    pub fn parse(text: &str) -> Result<Self, FaultScriptError> {
        FaultScript::new().extend_from_text(text)
    }

    fn apply_directive(self, directive: &str) -> Result<Self, DirectiveError> {
        let (key, value) = match directive.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (directive.trim(), None),
        };
        fn need<'a>(key: &str, v: Option<&'a str>) -> Result<&'a str, DirectiveError> {
            v.ok_or_else(|| DirectiveError::NeedsValue(key.into()))
        }
        match key.to_ascii_lowercase().as_str() {
            "greylist" => {
                let wait = match value {
                    None | Some("") => Duration::ZERO,
                    Some(v) => parse_duration(v).map_err(|source| DirectiveError::Duration {
                        value: v.into(),
                        source,
                    })?,
                };
                Ok(self.greylist(wait))
            }
            "probability" => {
                let v = need(key, value)?;
                let p: f64 = v
                    .parse()
                    .map_err(|_| DirectiveError::Probability(v.into()))?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(DirectiveError::ProbabilityRange(p.to_string()));
                }
                Ok(self.probability(p))
            }
            "seed" => {
                let v = need(key, value)?;
                let s: u64 = v.parse().map_err(|_| DirectiveError::Seed(v.into()))?;
                Ok(self.seed(s))
            }
            "tls" => Ok(self.tls_fault(need(key, value)?)?),
            "drop" => {
                let v = need(key, value)?;
                let at = match v.to_ascii_lowercase().as_str() {
                    "before-greeting" => DropAt::BeforeGreeting,
                    "mid-data" => DropAt::MidData,
                    other => DropAt::Command(other.parse()?),
                };
                Ok(self.drop_at(at))
            }
            "delay" => {
                let v = need(key, value)?;
                let (point, dur) = v.split_once(':').ok_or(DirectiveError::DelayShape)?;
                let by = parse_duration(dur).map_err(|source| DirectiveError::Duration {
                    value: dur.into(),
                    source,
                })?;
                Ok(self.delay(point.parse()?, by))
            }
            point => {
                let (point, nth) = match point.split_once('#') {
                    Some((p, n)) => {
                        let n: u32 = n
                            .parse()
                            .ok()
                            .filter(|&n| n > 0)
                            .ok_or_else(|| DirectiveError::Occurrence(n.into()))?;
                        (p, Some(n))
                    }
                    None => (point, None),
                };
                let point: Point = point.parse()?;
                let v = need(key, value)?;
                let (code, text) = match v.split_once(' ') {
                    Some((c, t)) => (c, t.trim().to_string()),
                    None => (v, String::new()),
                };
                let code: u16 = code
                    .parse()
                    .ok()
                    .filter(|c| (400..600).contains(c))
                    .ok_or_else(|| DirectiveError::ReplyCode(code.into()))?;
                let text = if text.is_empty() {
                    format!("{}.0.0 Injected fault", code / 100)
                } else {
                    text
                };
                let mut s = self;
                s.rules.push(Rule {
                    at: Trigger::Point(point),
                    nth,
                    action: Action::Reply { code, text },
                });
                Ok(s)
            }
        }
    }
}

/// Cuts a comment: `#` at the start or after whitespace (`rcpt#2` is not a comment).
fn strip_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    let cut = line
        .char_indices()
        .find(|&(i, c)| {
            c == '#'
                && line
                    .get(..i)
                    .and_then(|h| h.chars().last())
                    .is_some_and(char::is_whitespace)
        })
        .map_or(line.len(), |(i, _)| i);
    line.get(..cut).unwrap_or(line).trim()
}

impl FromStr for FaultScript {
    type Err = FaultScriptError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultScript::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_directive() {
        let s = FaultScript::parse(
            "rcpt=550\n rcpt#2=452 4.5.3 Too many\n# comment\ndrop=before-greeting; drop=mid-data\n\
             drop=mail\ndelay=mail:2s\ngreylist=30s\nprobability=0.5\nseed=7\ndata-end=554 5.0.0 no",
        )
        .unwrap();
        let expected = FaultScript::new()
            .reply(Point::Rcpt, 550, "5.0.0 Injected fault")
            .reply_nth(Point::Rcpt, 2, 452, "4.5.3 Too many")
            .drop_at(DropAt::BeforeGreeting)
            .drop_at(DropAt::MidData)
            .drop_at(DropAt::Command(Point::Mail))
            .delay(Point::Mail, Duration::from_secs(2))
            .greylist(Duration::from_secs(30))
            .probability(0.5)
            .seed(7)
            .reply(Point::DataEnd, 554, "5.0.0 no");
        assert_eq!(s, expected);
    }

    #[test]
    fn tls_faults_parse_and_combine() {
        let s =
            FaultScript::parse("tls=wrong-host; tls=client-cert; tls=version-mismatch").unwrap();
        assert_eq!(
            s.tls,
            TlsFaults {
                certificate: Some(at_tls::CertFault::WrongHost),
                client_cert: true,
                handshake: Some(at_tls::HandshakeFault::VersionMismatch),
            }
        );
        assert!(!s.is_empty());
        for name in TlsFaults::NAMES {
            assert!(FaultScript::parse(&format!("tls={name}")).is_ok(), "{name}");
        }
    }

    #[test]
    fn trailing_comments_are_ignored_but_occurrences_are_not_comments() {
        let s = FaultScript::parse("rcpt#2=550 5.1.1 gone   # the second RCPT\n  # whole line")
            .unwrap();
        assert_eq!(
            s,
            FaultScript::new().reply_nth(Point::Rcpt, 2, 550, "5.1.1 gone")
        );
    }

    #[test]
    fn the_module_documentation_example_parses() {
        let doc = include_str!("fault.rs");
        let block: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```text"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!")))
            .collect();
        let s = FaultScript::parse(&block).unwrap();
        assert_eq!(s.rules.len(), 9);
        assert_eq!(s.tls.certificate, Some(at_tls::CertFault::Expired));
        assert_eq!(s.greylist, Some(Duration::from_secs(30)));
        assert_eq!((s.probability, s.seed), (Some(0.1), 7));
    }

    #[test]
    fn rejects_bad_directives_with_their_index() {
        for (text, index) in [
            ("rcpt=250", 1),
            ("rcpt=abc", 1),
            ("greylist\nfoo=550", 2),
            ("delay=mail", 1),
            ("delay=mail:xs", 1),
            ("probability=2", 1),
            ("rcpt#0=550", 1),
            ("drop=nowhere", 1),
            ("seed", 1),
            ("tls=sometimes", 1),
            ("tls=expired; tls=self-signed", 2),
            ("tls=abort\ntls=suite-mismatch", 2),
        ] {
            let err = FaultScript::parse(text).unwrap_err();
            assert_eq!(err.index, index, "{text}: {err}");
        }
    }
}
