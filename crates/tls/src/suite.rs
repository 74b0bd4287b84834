//! Cipher suites: IANA numbers (what `AT+QSSLCFG="ciphersuite"` takes), IANA names (what the
//! records show) and OpenSSL names (what the library's cipher strings take).

use core::fmt;

/// One cipher suite the project names by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Suite {
    /// IANA number (`0x002F`).
    pub id: u16,
    /// IANA name (`TLS_RSA_WITH_AES_128_CBC_SHA`).
    pub iana: &'static str,
    /// OpenSSL name (`AES128-SHA`).
    pub openssl: &'static str,
}

impl Suite {
    /// Whether it is a TLS 1.3 suite (OpenSSL configures those apart: `set_ciphersuites`).
    pub fn is_tls13(&self) -> bool {
        self.id >> 8 == 0x13
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:04X})", self.iana, self.id)
    }
}

const fn s(id: u16, iana: &'static str, openssl: &'static str) -> Suite {
    Suite { id, iana, openssl }
}

/// The suites named by number somewhere in the project: the module catalog's
/// `AT+QSSLCFG="ciphersuite"` list (000 §3.2, SSL manual \[8\]), 003's lists, and TLS 1.3's.
/// Whether the system library implements one is another matter (RC4 and 3DES are compiled out
/// of Debian's OpenSSL 3: see `docs/tls.md`).
pub const KNOWN: &[Suite] = &[
    // The catalog's list (at-catalog QSSLCFG_SETTINGS), in its order.
    s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
    s(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
    s(0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"),
    s(0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5"),
    s(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"),
    s(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"),
    s(
        0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ),
    s(
        0xC030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ),
    // Others of 003's list that share nothing with the catalog.
    s(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"),
    s(
        0x009C,
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "AES128-GCM-SHA256",
    ),
    s(
        0x009D,
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "AES256-GCM-SHA384",
    ),
    s(
        0xC013,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "ECDHE-RSA-AES128-SHA",
    ),
    s(
        0xC014,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "ECDHE-RSA-AES256-SHA",
    ),
    s(
        0xC027,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
    ),
    s(
        0xC028,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-RSA-AES256-SHA384",
    ),
    s(
        0xCCA8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ),
    // TLS 1.3 (RFC 8446 B.4); OpenSSL uses the IANA names.
    s(0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
    s(0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    s(
        0x1303,
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
    ),
];

/// The suite with this IANA number, if the project knows it.
pub fn by_id(id: u16) -> Option<&'static Suite> {
    KNOWN.iter().find(|s| s.id == id)
}

/// The suite with this IANA or OpenSSL name (any case), if the project knows it.
pub fn by_name(name: &str) -> Option<&'static Suite> {
    KNOWN
        .iter()
        .find(|s| s.iana.eq_ignore_ascii_case(name) || s.openssl.eq_ignore_ascii_case(name))
}

/// Parses `0x002F` / `0X002F` / `002F`-style hexadecimal suite numbers.
pub fn parse_id(text: &str) -> Option<u16> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
    u16::from_str_radix(hex, 16).ok()
}

/// Which suites a client offers or a server accepts, as OpenSSL cipher strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ciphers {
    /// TLS 1.2 and older, in OpenSSL's cipher-string syntax (`AES128-SHA:AES256-SHA`); may
    /// name suites the library lacks (they are ignored) and may be empty.
    pub tls12: String,
    /// TLS 1.3 suites (`TLS_AES_128_GCM_SHA256:…`); `None`: the library's default.
    pub tls13: Option<String>,
}

/// A suite list [`Ciphers::parse`] cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "cipher suite {0:?}: give an OpenSSL name (AES128-SHA), an IANA name or a known number (0x002F)"
)]
pub struct UnknownSuite(pub String);

impl Ciphers {
    /// Everything the library implements, TLS 1.2 and older (`ALL`), and its TLS 1.3 default.
    pub fn all() -> Ciphers {
        Ciphers {
            tls12: "ALL".into(),
            tls13: None,
        }
    }

    /// The library's default choice (`DEFAULT`): no anonymous or export suites.
    pub fn library_default() -> Ciphers {
        Ciphers {
            tls12: "DEFAULT".into(),
            tls13: None,
        }
    }

    /// Exactly the suites numbered `ids`, in that order (how a module offers its
    /// `AT+QSSLCFG="ciphersuite"`); unknown numbers are skipped.
    pub fn from_ids(ids: &[u16]) -> Ciphers {
        let known: Vec<&Suite> = ids.iter().filter_map(|&id| by_id(id)).collect();
        Ciphers::from_suites(&known)
    }

    fn from_suites(suites: &[&Suite]) -> Ciphers {
        let join = |tls13: bool| {
            suites
                .iter()
                .filter(|s| s.is_tls13() == tls13)
                .map(|s| s.openssl)
                .collect::<Vec<_>>()
                .join(":")
        };
        Ciphers {
            tls12: join(false),
            tls13: Some(join(true)),
        }
    }

    /// A list as users write it: names (OpenSSL or IANA), numbers (`0x002F`) and OpenSSL
    /// keywords (`ALL`, `HIGH`, `!aNULL`, `@SECLEVEL=0`), separated by `:`, `,` or spaces.
    /// TLS 1.3 suite names go to the TLS 1.3 list; without any, TLS 1.3 keeps its default.
    pub fn parse(list: &str) -> Result<Ciphers, UnknownSuite> {
        let mut tls12 = Vec::new();
        let mut tls13 = Vec::new();
        let items = list
            .split([':', ',', ' '])
            .map(str::trim)
            .filter(|i| !i.is_empty());
        for item in items {
            let suite = if item.starts_with("0x") || item.starts_with("0X") {
                Some(
                    parse_id(item)
                        .and_then(by_id)
                        .ok_or_else(|| UnknownSuite(item.to_owned()))?,
                )
            } else {
                by_name(item)
            };
            match suite {
                Some(s) if s.is_tls13() => tls13.push(s.openssl.to_owned()),
                Some(s) => tls12.push(s.openssl.to_owned()),
                None if item.starts_with("TLS_") => return Err(UnknownSuite(item.to_owned())),
                // An OpenSSL keyword or a name the library itself resolves.
                None => tls12.push(item.to_owned()),
            }
        }
        if tls12.is_empty() && tls13.is_empty() {
            return Err(UnknownSuite(list.to_owned()));
        }
        Ok(Ciphers {
            tls12: tls12.join(":"),
            tls13: (!tls13.is_empty()).then(|| tls13.join(":")),
        })
    }

    /// Whether the TLS 1.2 list lowers the security level itself (`@SECLEVEL=`).
    pub(crate) fn sets_seclevel(&self) -> bool {
        self.tls12.contains("@SECLEVEL=")
    }
}

impl fmt::Display for Ciphers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.tls12.is_empty() {
            "(none)"
        } else {
            &self.tls12
        })?;
        if let Some(t) = &self.tls13 {
            write!(f, " + TLS 1.3: {}", if t.is_empty() { "(none)" } else { t })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_suites_are_known_by_number_and_name() {
        for id in [
            0x0035, 0x002F, 0x0005, 0x0004, 0x000A, 0x003D, 0xC02F, 0xC030,
        ] {
            let s = by_id(id).unwrap();
            assert_eq!(by_name(s.openssl), Some(s));
            assert_eq!(by_name(s.iana), Some(s));
        }
        assert_eq!(parse_id("0X002F"), Some(0x002F));
        assert_eq!(parse_id("002F"), None);
    }

    #[test]
    fn lists_split_into_tls12_and_tls13() {
        let c = Ciphers::from_ids(&[0x0035, 0x1301, 0x002F, 0x9999]);
        assert_eq!(c.tls12, "AES256-SHA:AES128-SHA");
        assert_eq!(c.tls13.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        let c = Ciphers::parse("0x002F, TLS_RSA_WITH_AES_256_CBC_SHA:HIGH").unwrap();
        assert_eq!(c.tls12, "AES128-SHA:AES256-SHA:HIGH");
        assert_eq!(c.tls13, None);
        assert!(Ciphers::parse("0x9999").is_err());
        assert!(Ciphers::parse("TLS_NOPE").is_err());
        assert!(Ciphers::parse(" , ").is_err());
    }
}
