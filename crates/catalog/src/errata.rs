//! The index of `ERRATA.md` and the citations of the source documents: what a scenario, a
//! catalog limit or a judgement may name as its evidence.
//!
//! An expectation is **documented** when a seed section gives it ([`check_citation`]: `000
//! §2.2.1`, `001 p.9`, `002 #PUTMAIL`, `003 …`, `004 …`), **decided** when an `ERRATA.md` entry
//! records our reading ([`errata_entry`]: `W1`, `E12`, …), and otherwise implementation-defined.
//!
//! ```
//! assert_eq!(at_catalog::errata_entry("W1").unwrap().title, "Response framing");
//! assert!(at_catalog::errata_entry("E99").is_none());
//! assert!(at_catalog::check_citation("000 §2.2.1").is_ok());
//! assert!(at_catalog::check_citation("000 §9.9").is_err());
//! ```

use std::sync::OnceLock;

/// The errata file, embedded so every binary cites the entries it was built with.
const ERRATA_MD: &str = include_str!("../../../ERRATA.md");

/// One entry of `ERRATA.md` (`**E12. Title.**`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrataEntry {
    /// `W1`, `E12`, `S4`, `M3`.
    pub id: &'static str,
    /// The bold title, without its final period.
    pub title: &'static str,
}

/// Every entry of `ERRATA.md`, in file order.
pub fn errata() -> &'static [ErrataEntry] {
    static INDEX: OnceLock<Vec<ErrataEntry>> = OnceLock::new();
    INDEX.get_or_init(|| parse_errata(ERRATA_MD))
}

/// The entry `id` (`E12`), if `ERRATA.md` has it.
pub fn errata_entry(id: &str) -> Option<&'static ErrataEntry> {
    errata().iter().find(|e| e.id == id)
}

/// Whether `s` has the shape of an ERRATA id: one or two capitals and a number (`W1`, `E12`).
pub fn is_errata_id(s: &str) -> bool {
    let letters = s.bytes().take_while(u8::is_ascii_uppercase).count();
    (1..=2).contains(&letters)
        && s.len() > letters
        && s.bytes().skip(letters).all(|b| b.is_ascii_digit())
}

fn parse_errata(text: &'static str) -> Vec<ErrataEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("**") else {
            continue;
        };
        let Some((id, after)) = rest.split_once(". ") else {
            continue;
        };
        if !is_errata_id(id) {
            continue;
        }
        let title = after.split("**").next().unwrap_or(after).trim();
        let title = title.strip_suffix('.').unwrap_or(title);
        out.push(ErrataEntry { id, title });
    }
    out
}

/// The sections of 000 (its table of contents).
const SECTIONS_000: &[&str] = &[
    "1", "1.1", "1.2", "1.3", "2", "2.1", "2.1.1", "2.1.2", "2.2", "2.2.1", "2.2.2", "2.2.3",
    "2.2.4", "2.2.5", "2.2.6", "2.2.7", "3", "3.1", "3.2", "3.3", "4", "4.1", "4.2", "4.3", "4.4",
    "5", "6", "7",
];
/// Pages of 001 as extracted.
const PAGES_001: std::ops::RangeInclusive<u32> = 1..=31;

/// The documents of `shared/seeds/` by number.
pub const DOCUMENTS: [(&str, &str); 5] = [
    (
        "000",
        "Quectel EC2x&EG9x&EG2x-G&EM05 SMTP application note V1.0",
    ),
    ("001", "Quectel AG35 SMTP AT Commands Manual V1.0"),
    ("002", "Multi-Tech S000333D #PUTMAIL"),
    ("003", "Tencent Cloud SES SMTP documentation"),
    ("004", "SMTP command and reply-code walk-through"),
];

/// Why a citation of a source document is not one ([`check_citation`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CitationError {
    /// A `000` citation without `§`.
    #[error("a 000 citation names a section: `000 §2.2.1`, not `{0}`")]
    NoSection(String),
    /// A `000` section that is not in its contents.
    #[error("000 has no section §{0}")]
    UnknownSection(String),
    /// A `001` citation without `p.N`.
    #[error("a 001 citation names a page: `001 p.9`, not `{0}`")]
    NoPage(String),
    /// A `001` page outside 1–31.
    #[error("001 has pages 1–31, not {0}")]
    UnknownPage(u32),
    /// A `002` citation other than `002 #PUTMAIL`.
    #[error("002 has one section: `002 #PUTMAIL`, not `{0}`")]
    NotPutmail(String),
    /// A `003`/`004` citation without a heading.
    #[error("a {0} citation names a heading: `{0} DATA`")]
    NoHeading(String),
    /// Not a seed document.
    #[error("`{0}` cites no source document (000 §…, 001 p.…, 002 #PUTMAIL, 003 …, 004 …)")]
    NoDocument(String),
}

/// Checks one citation of a source document: `000 §2.2.1` (a section of its contents), `001 p.9`
/// (a page, 1–31), `002 #PUTMAIL`, `003 <heading>`, `004 <heading>`. The error says what is wrong
/// in words a scenario author can act on.
pub fn check_citation(s: &str) -> Result<(), CitationError> {
    let (doc, rest) = s.split_once(' ').unwrap_or((s, ""));
    let rest = rest.trim();
    match doc {
        "000" => {
            let Some(sec) = rest.strip_prefix('§') else {
                return Err(CitationError::NoSection(s.to_owned()));
            };
            if SECTIONS_000.contains(&sec) {
                Ok(())
            } else {
                Err(CitationError::UnknownSection(sec.to_owned()))
            }
        }
        "001" => {
            let page = rest
                .strip_prefix("p.")
                .and_then(|p| p.parse::<u32>().ok())
                .ok_or_else(|| CitationError::NoPage(s.to_owned()))?;
            if PAGES_001.contains(&page) {
                Ok(())
            } else {
                Err(CitationError::UnknownPage(page))
            }
        }
        "002" if rest == "#PUTMAIL" => Ok(()),
        "002" => Err(CitationError::NotPutmail(s.to_owned())),
        "003" | "004" if !rest.is_empty() => Ok(()),
        "003" | "004" => Err(CitationError::NoHeading(doc.to_owned())),
        _ => Err(CitationError::NoDocument(s.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_indexed_once() {
        let all = errata();
        assert!(all.len() >= 50, "{}", all.len());
        for (i, e) in all.iter().enumerate() {
            assert!(is_errata_id(e.id), "{e:?}");
            assert!(!e.title.is_empty(), "{e:?}");
            assert!(all[i + 1..].iter().all(|f| f.id != e.id), "{} twice", e.id);
        }
        for id in [
            "W1", "W2", "E12", "E14", "E25", "E29", "S4", "S14", "M1", "M4",
        ] {
            assert!(errata_entry(id).is_some(), "{id}");
        }
        assert_eq!(errata_entry("E12").map(|e| e.id), Some("E12"));
    }

    #[test]
    fn citations() {
        for ok in [
            "000 §2.2.1",
            "000 §5",
            "001 p.9",
            "001 p.31",
            "002 #PUTMAIL",
            "003 SMTP 服务地址",
            "004 DATA",
        ] {
            assert_eq!(check_citation(ok), Ok(()), "{ok}");
        }
        for bad in [
            "000 2.2.1",
            "000 §2.2.8",
            "001 9",
            "001 p.32",
            "002 #GETMAIL",
            "004",
            "005 §1",
            "TCP/IP note [3]",
        ] {
            assert!(check_citation(bad).is_err(), "{bad}");
        }
    }
}
