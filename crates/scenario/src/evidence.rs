//! Where an expectation comes from, which decides how a deviation from it grades.
//!
//! Every expected line, `@mail`/`@smtp` check and response-time limit carries an [`Evidence`]:
//! seed citations (`000 §2.2.2`: documented), `ERRATA.md` entries (`E12`: our decision), or
//! `impl` (the manuals leave it open: implementation-defined). A line without its own `[...]`
//! inherits the scenario's `source:` citations. The runner grades a deviation by the
//! [`Level`] of what it breaks: documented → fail, ERRATA → non-strict (naming the entry),
//! implementation-defined → informational.
//!
//! ```
//! use at_scenario::{Evidence, Level};
//! let e = Evidence::parse("E26").unwrap();
//! assert_eq!(e.level(), Level::Errata);
//! assert_eq!(e.to_string(), "ERRATA E26");
//! assert_eq!(Evidence::parse("impl, 001 p.9").unwrap().level(), Level::Open);
//! assert!(Evidence::parse("E99").unwrap_err().to_string().contains("no entry E99"));
//! ```

use std::fmt;

/// How firmly the sources pin an expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// A seed section gives it: a deviation fails.
    Documented,
    /// An `ERRATA.md` entry records our reading: a deviation is non-strict, naming the entry.
    Errata,
    /// The manuals leave it open (implementation-defined): a difference is informational.
    Open,
}

impl Level {
    /// Every level, firmest first.
    pub const ALL: [Level; 3] = [Level::Documented, Level::Errata, Level::Open];

    /// `documented`, `errata`, `implementation-defined`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Documented => "documented",
            Level::Errata => "errata",
            Level::Open => "implementation-defined",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The evidence of one expectation: what `[...]` after it says, or the scenario's `source:`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Evidence {
    /// Seed citations (`000 §2.2.1`, `001 p.9`).
    pub cites: Vec<String>,
    /// `ERRATA.md` entries (`E12`).
    pub errata: Vec<String>,
    /// `impl`: the manuals leave it open; `cites` then say where they do.
    pub open: bool,
    /// Written on the expectation itself (`[...]`), not inherited from the `source:` header.
    pub explicit: bool,
}

/// Why the inside of `[...]` is not evidence ([`Evidence::parse`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// `[a, , b]`.
    #[error("empty evidence item")]
    EmptyItem,
    /// An ERRATA id that ERRATA.md does not have.
    #[error("ERRATA.md has no entry {0}")]
    NoEntry(String),
    /// A seed citation that is not one.
    #[error(transparent)]
    Citation(#[from] at_catalog::CitationError),
    /// `impl` together with an ERRATA entry.
    #[error(
        "`impl` and an ERRATA entry contradict each other: an entry decides what `impl` leaves open"
    )]
    ImplAndErrata,
}

impl Evidence {
    /// Parses the inside of `[...]`: comma-separated seed citations, ERRATA ids and `impl`.
    /// The error names the bad item and says what is accepted.
    pub fn parse(s: &str) -> Result<Evidence, EvidenceError> {
        let mut e = Evidence {
            explicit: true,
            ..Evidence::default()
        };
        for item in s.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(EvidenceError::EmptyItem);
            }
            if item == "impl" {
                e.open = true;
            } else if at_catalog::is_errata_id(item) {
                if at_catalog::errata_entry(item).is_none() {
                    return Err(EvidenceError::NoEntry(item.to_owned()));
                }
                e.errata.push(item.to_owned());
            } else {
                at_catalog::check_citation(item)?;
                e.cites.push(item.to_owned());
            }
        }
        if e.open && !e.errata.is_empty() {
            return Err(EvidenceError::ImplAndErrata);
        }
        Ok(e)
    }

    /// The evidence of an expectation without `[...]`: the scenario's seed citations
    /// (documented), or implementation-defined when it has none (`source: recorded`).
    pub fn inherited(sources: &[String]) -> Evidence {
        let cites: Vec<String> = sources
            .iter()
            .filter(|s| at_catalog::check_citation(s).is_ok())
            .cloned()
            .collect();
        Evidence {
            open: cites.is_empty(),
            cites,
            errata: Vec::new(),
            explicit: false,
        }
    }

    /// How a deviation from this expectation grades.
    pub fn level(&self) -> Level {
        if self.open || (self.cites.is_empty() && self.errata.is_empty()) {
            Level::Open
        } else if !self.errata.is_empty() {
            Level::Errata
        } else {
            Level::Documented
        }
    }

    /// The `[...]` form as written (`[000 §2.2.1, E7]`, `[impl]`).
    pub fn bracketed(&self) -> String {
        let mut items: Vec<&str> = Vec::new();
        if self.open {
            items.push("impl");
        }
        items.extend(self.cites.iter().map(String::as_str));
        items.extend(self.errata.iter().map(String::as_str));
        format!("[{}]", items.join(", "))
    }
}

/// For people: `000 §2.2.1`, `ERRATA E12`, `implementation-defined (001 p.9)`.
impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level() {
            Level::Open if self.cites.is_empty() => f.write_str("implementation-defined"),
            Level::Open => write!(f, "implementation-defined ({})", self.cites.join(", ")),
            Level::Errata => write!(f, "ERRATA {}", self.errata.join(", ")),
            Level::Documented => f.write_str(&self.cites.join(", ")),
        }
    }
}

/// A response-time limit with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The limit, from the send of the command the expectation answers.
    pub duration: std::time::Duration,
    /// Where it comes from.
    pub evidence: Evidence,
}

/// The response-time limit of an expectation (ERRATA E30): a cited `@within`, else a cited
/// `max-response:` header, else the catalog's limit of `command` (the last line sent, as sent)
/// on `profile`. A `~` URC (`urc` = its literal text) has the command's limit only when it is
/// the command's own completion (`+QSMTPPUT: …` after `AT+QSMTPPUT=…`, 000 §2.2.7); any other
/// URC comes when it comes. `None`: no documented limit, only the deadline applies.
pub fn expectation_limit(
    meta: &crate::Meta,
    within: Option<(std::time::Duration, &Evidence)>,
    urc: Option<&[u8]>,
    command: Option<&[u8]>,
    profile: crate::Profile,
) -> Option<Limit> {
    if let Some((duration, evidence)) = within {
        return Some(Limit {
            duration,
            evidence: evidence.clone(),
        });
    }
    if let Some(c) = &meta.max_response {
        return Some(Limit {
            duration: c.duration,
            evidence: c.evidence.clone(),
        });
    }
    let command = command?;
    if let Some(text) = urc {
        let name = command_name(command)?;
        let prefix = text.split(|&b| b == b':').next().unwrap_or_default();
        if !prefix.eq_ignore_ascii_case(name) {
            return None;
        }
    }
    let l = at_catalog::line_limit(command, profile.name())?;
    Some(Limit {
        duration: l.duration,
        evidence: Evidence::parse(l.evidence).unwrap_or_default(),
    })
}

/// `+QSMTPPUT` of `AT+QSMTPPUT=300\r`.
fn command_name(line: &[u8]) -> Option<&[u8]> {
    let body = line.get(2..)?;
    let end = body
        .iter()
        .position(|&b| matches!(b, b'=' | b'?' | b';' | b'\r' | b'\n'))
        .unwrap_or(body.len());
    body.get(..end)
        .filter(|n| n.first().is_some_and(|c| matches!(c, b'+' | b'#')))
}

/// Whether the inside of a trailing `[...]` on an expected line is meant as evidence: its first
/// item is `impl`, an ERRATA id or starts with a document number (`000 …`). Anything else
/// (`EHLO [10.7.157.1]`, an address literal) is text.
pub(crate) fn looks_like_evidence(inner: &str) -> bool {
    let first = inner.split(',').next().unwrap_or("").trim();
    let doc = first.split(' ').next().unwrap_or("");
    first == "impl"
        || at_catalog::is_errata_id(first)
        || (doc.len() == 3 && doc.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits a trailing ` [evidence]` off an expectation (after its `//` comment was removed):
/// `(content, Some((offset, inside)))`. A `[` is evidence only after whitespace and when `]`
/// ends the text.
pub(crate) fn split_suffix(s: &str) -> (&str, Option<(usize, &str)>) {
    let Some(body) = s.strip_suffix(']') else {
        return (s, None);
    };
    let Some(open) = body.rfind('[') else {
        return (s, None);
    };
    let before = body.get(..open).unwrap_or("");
    if !before.ends_with([' ', '\t']) || before.trim().is_empty() {
        return (s, None);
    }
    let inner = body.get(open + 1..).unwrap_or("");
    (before.trim_end(), Some((open + 1, inner)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_display() {
        let d = Evidence::parse("000 §2.2.1").unwrap();
        assert_eq!(
            (d.level(), d.to_string()),
            (Level::Documented, "000 §2.2.1".into())
        );
        let both = Evidence::parse("000 §2.2.1, E7").unwrap();
        assert_eq!(both.level(), Level::Errata);
        assert_eq!(both.bracketed(), "[000 §2.2.1, E7]");
        let open = Evidence::parse("impl, 001 p.9").unwrap();
        assert_eq!(open.to_string(), "implementation-defined (001 p.9)");
        assert_eq!(
            Evidence::inherited(&["recorded".into()]).level(),
            Level::Open
        );
        assert_eq!(
            Evidence::inherited(&["000 §4.1".into()]).level(),
            Level::Documented
        );
    }

    #[test]
    fn bad_items_are_named() {
        assert_eq!(
            Evidence::parse("E99"),
            Err(EvidenceError::NoEntry("E99".into()))
        );
        let e = Evidence::parse("000 2.2.1").unwrap_err();
        assert!(matches!(e, EvidenceError::Citation(_)), "{e:?}");
        assert!(e.to_string().contains("§"));
        assert_eq!(
            Evidence::parse("impl, E12"),
            Err(EvidenceError::ImplAndErrata)
        );
        assert_eq!(Evidence::parse(""), Err(EvidenceError::EmptyItem));
        assert_eq!(Evidence::parse("E1,"), Err(EvidenceError::EmptyItem));
    }

    #[test]
    fn suffix_needs_space_and_final_bracket() {
        assert_eq!(split_suffix("OK [E5]"), ("OK", Some((4, "E5"))));
        assert_eq!(split_suffix("+X: (1-16)"), ("+X: (1-16)", None));
        assert_eq!(split_suffix("a[b]"), ("a[b]", None));
        assert_eq!(split_suffix("[E5]"), ("[E5]", None));
        assert_eq!(split_suffix("x [E5] y"), ("x [E5] y", None));
    }
}
