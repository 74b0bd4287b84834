//! Protocol versions and sets of them.

use core::fmt;
use core::str::FromStr;

use openssl::ssl::SslVersion;

/// An SSL/TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// SSL 3.0 (RFC 6101; prohibited by RFC 7568).
    Ssl3,
    /// TLS 1.0 (RFC 2246; deprecated by RFC 8996).
    Tls10,
    /// TLS 1.1 (RFC 4346; deprecated by RFC 8996).
    Tls11,
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 5] = [
        Version::Ssl3,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// The name OpenSSL, Python's `ssl` and nginx's `ssl_protocols` use (`TLSv1`, `TLSv1.2`).
    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }

    /// The version number on the wire (`0x0301` for TLS 1.0).
    pub fn wire(self) -> u16 {
        match self {
            Version::Ssl3 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    /// The version of a wire number, `None` for anything else (GREASE, DTLS, drafts).
    pub fn from_wire(v: u16) -> Option<Version> {
        Version::ALL.into_iter().find(|x| x.wire() == v)
    }

    /// Whether OpenSSL 3 needs security level 0 to speak it (its handshake signatures use
    /// MD5/SHA-1, below level 1).
    pub fn is_legacy(self) -> bool {
        self < Version::Tls12
    }

    pub(crate) fn openssl(self) -> SslVersion {
        match self {
            Version::Ssl3 => SslVersion::SSL3,
            Version::Tls10 => SslVersion::TLS1,
            Version::Tls11 => SslVersion::TLS1_1,
            Version::Tls12 => SslVersion::TLS1_2,
            Version::Tls13 => SslVersion::TLS1_3,
        }
    }

    pub(crate) fn from_openssl_name(name: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl serde::Serialize for Version {
    /// As its [`Version::name`].
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version name [`Version::from_str`] or [`Versions::from_str`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown TLS version {0:?} (expected ssl3, 1.0, 1.1, 1.2, 1.3 — or TLSv1, TLSv1.2, … —, a range such as 1.0-1.2, or all)"
)]
pub struct UnknownVersion(pub String);

impl FromStr for Version {
    type Err = UnknownVersion;

    /// Accepts `1.0`, `tls1.0`, `TLSv1`, `TLSv1.0`, `tls1_2`, `ssl3`, `SSLv3` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('_', ".");
        let t = t
            .strip_prefix("tlsv")
            .or_else(|| t.strip_prefix("tls"))
            .unwrap_or(&t);
        Ok(match t {
            "ssl3" | "sslv3" | "ssl3.0" | "sslv3.0" | "3.0" => Version::Ssl3,
            "1" | "1.0" => Version::Tls10,
            "1.1" => Version::Tls11,
            "1.2" => Version::Tls12,
            "1.3" => Version::Tls13,
            _ => return Err(UnknownVersion(s.to_owned())),
        })
    }
}

/// A set of versions (what a client offers or a server accepts).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Versions(u8);

impl Versions {
    /// No version.
    pub const NONE: Versions = Versions(0);

    /// TLS 1.0 through 1.3: what the sink accepts by default.
    pub const TLS: Versions = Versions(0b11110);

    /// Exactly one version.
    pub fn only(v: Version) -> Versions {
        Versions(v.bit())
    }

    /// Every version from `lo` to `hi`, both included.
    pub fn range(lo: Version, hi: Version) -> Versions {
        Versions(
            Version::ALL
                .into_iter()
                .filter(|v| (lo..=hi).contains(v))
                .fold(0, |acc, v| acc | v.bit()),
        )
    }

    /// Adds `v`.
    pub fn with(self, v: Version) -> Versions {
        Versions(self.0 | v.bit())
    }

    /// Removes `v`.
    pub fn without(self, v: Version) -> Versions {
        Versions(self.0 & !v.bit())
    }

    /// Whether `v` is in the set.
    pub fn contains(self, v: Version) -> bool {
        self.0 & v.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, oldest first.
    pub fn iter(self) -> impl Iterator<Item = Version> {
        Version::ALL.into_iter().filter(move |v| self.contains(*v))
    }

    /// The oldest member.
    pub fn min(self) -> Option<Version> {
        self.iter().next()
    }

    /// The newest member.
    pub fn max(self) -> Option<Version> {
        self.iter().last()
    }

    /// Whether a member needs OpenSSL's security level 0 ([`Version::is_legacy`]).
    pub fn has_legacy(self) -> bool {
        self.iter().any(Version::is_legacy)
    }
}

impl fmt::Debug for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Versions({self})")
    }
}

impl fmt::Display for Versions {
    /// `TLSv1,TLSv1.2`; `none` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<_> = self.iter().map(Version::name).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Versions {
    type Err = UnknownVersion;

    /// A comma- or space-separated list of versions and ranges (`1.0,1.2`, `1.0-1.2`,
    /// `TLSv1 TLSv1.1`), or `all` (TLS 1.0–1.3).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = Versions::NONE;
        let items = s.split([',', ' ']).map(str::trim).filter(|i| !i.is_empty());
        for item in items {
            if item.eq_ignore_ascii_case("all") {
                set = Versions(set.0 | Versions::TLS.0);
                continue;
            }
            set = match item.split_once('-') {
                Some((lo, hi)) => Versions(set.0 | Versions::range(lo.parse()?, hi.parse()?).0),
                None => set.with(item.parse()?),
            };
        }
        if set.is_empty() {
            return Err(UnknownVersion(s.to_owned()));
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_sets_print_oldest_first() {
        for v in Version::ALL {
            assert_eq!(v.name().parse::<Version>(), Ok(v));
            assert_eq!(Version::from_wire(v.wire()), Some(v));
        }
        assert_eq!("1.0".parse::<Version>(), Ok(Version::Tls10));
        assert_eq!("tls1_2".parse::<Version>(), Ok(Version::Tls12));
        assert!("1.4".parse::<Version>().is_err());
        let set: Versions = "1.2, TLSv1".parse().unwrap();
        assert_eq!(set.to_string(), "TLSv1,TLSv1.2");
        assert_eq!(
            "1.0-1.2".parse::<Versions>().unwrap().to_string(),
            "TLSv1,TLSv1.1,TLSv1.2"
        );
        assert_eq!("all".parse::<Versions>().unwrap(), Versions::TLS);
        assert!("".parse::<Versions>().is_err());
        assert!(set.has_legacy());
        assert!(!Versions::only(Version::Tls12).has_legacy());
        assert_eq!(set.min(), Some(Version::Tls10));
        assert_eq!(set.max(), Some(Version::Tls12));
    }
}
