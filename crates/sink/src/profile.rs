//! Provider profiles: how strict the sink is and which provider it imitates.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Which server the sink behaves like.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Accepts what any sane client sends (bare LF line ends, long lines, `MAIL FROM: <a>`).
    #[default]
    Permissive,
    /// Strict RFC 5321: CRLF only, 512-octet command lines, 1000-octet text lines, exact syntax.
    Rfc5321,
    /// Tencent Cloud SES as documented in 003: implicit TLS only, AUTH required, MIME rules.
    TencentSes,
}

impl Profile {
    /// The profile's name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Permissive => "permissive",
            Profile::Rfc5321 => "rfc5321",
            Profile::TencentSes => "tencent-ses",
        }
    }

    /// The limits this profile applies unless the configuration overrides them.
    pub fn default_limits(self) -> Limits {
        match self {
            Profile::Permissive => Limits::default(),
            Profile::Rfc5321 => Limits {
                // RFC 5321 §4.5.3.1.4 and §4.5.3.1.6, both counting the CRLF.
                max_command_line: 512,
                max_text_line: Some(1000),
                ..Limits::default()
            },
            Profile::TencentSes => Limits {
                // 003 "错误码": "整体报文大小不能超过10M" (ERRATA S6).
                max_message_size: 10 * MIB,
                // 003 Java sample: "同时我们限制单次允许发送的人数是50人"; enforced at end of data (S9).
                max_recipients: 1000,
                ..Limits::default()
            },
        }
    }

    /// The TLS versions the profile accepts (ERRATA S2): permissive and tencent-ses TLS 1.0–1.3
    /// (003: `ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3`), rfc5321 TLS 1.2–1.3 (RFC 8996
    /// forbids 1.0 and 1.1).
    pub fn tls_versions(self) -> at_tls::Versions {
        use at_tls::{Version, Versions};
        match self {
            Profile::Permissive | Profile::TencentSes => Versions::TLS,
            Profile::Rfc5321 => Versions::range(Version::Tls12, Version::Tls13),
        }
    }

    /// The suites the profile accepts (ERRATA S2), as OpenSSL cipher strings: permissive
    /// everything the library has but anonymous suites (the legacy RSA key exchange of the module
    /// catalog included), rfc5321 the library's default, tencent-ses 003's `ssl_ciphers` list
    /// exactly (TLS 1.3 keeps the library's suites, as nginx does).
    pub fn tls_ciphers(self) -> at_tls::Ciphers {
        match self {
            Profile::Permissive => at_tls::Ciphers {
                tls12: "ALL:!aNULL".into(),
                tls13: None,
            },
            Profile::Rfc5321 => at_tls::Ciphers::library_default(),
            Profile::TencentSes => at_tls::Ciphers {
                tls12: TENCENT_SES_CIPHERS.into(),
                tls13: None,
            },
        }
    }

    /// Whether lines must end in CRLF (a bare LF is a syntax error).
    pub(crate) fn strict_crlf(self) -> bool {
        self == Profile::Rfc5321
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no sink [`Profile`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}` (expected permissive, rfc5321 or tencent-ses)")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "permissive" => Ok(Profile::Permissive),
            "rfc5321" => Ok(Profile::Rfc5321),
            "tencent-ses" => Ok(Profile::TencentSes),
            other => Err(UnknownProfile(other.to_owned())),
        }
    }
}

/// 003's `ssl_ciphers` (printed three times, in the Java, Go and PHP sections; ERRATA S2),
/// joined as nginx reads it. Debian's OpenSSL 3 has no 3DES or RC4: its last three names are
/// ignored by the library.
pub const TENCENT_SES_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:\
DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:\
ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:\
ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:\
AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:\
DES-CBC3-SHA:RC4-MD5:RC4-SHA";

/// One mebibyte; 003's "M" is read as MiB (ERRATA S6).
pub const MIB: usize = 1024 * 1024;

/// Per-connection resource limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line accepted, CRLF included; longer lines get `500` and are discarded.
    pub max_command_line: usize,
    /// Longest text line in DATA (CRLF included), or `None` for no limit.
    pub max_text_line: Option<usize>,
    /// Largest message (after dot-unstuffing); the excess is discarded and the message refused.
    pub max_message_size: usize,
    /// Most RCPT commands accepted per transaction (`452 4.5.3` after that, RFC 5321 §4.5.3.1.10).
    pub max_recipients: usize,
    /// A connection waiting this long for a complete line is closed with `421` (slowloris); also
    /// enforced while a reply cannot be written.
    pub idle_timeout: Duration,
    /// A reply the client does not read within this long closes the connection.
    pub write_timeout: Duration,
    /// A connection older than this is closed with `421`, however busy it is.
    pub max_session: Duration,
    /// Memory of transcript kept per connection (bytes plus a per-entry overhead); beyond this
    /// only a count is kept.
    pub max_transcript: usize,
    /// Failed AUTH attempts allowed on one connection; the next failure also gets
    /// `421 4.7.0` and the connection is closed.
    pub max_auth_failures: u32,
    /// Failed AUTH attempts allowed from one client address per minute; beyond, AUTH is
    /// answered `454 4.7.0` without checking the credentials until the minute has passed.
    pub max_auth_failures_per_address: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_command_line: 4096,
            max_text_line: None,
            max_message_size: 32 * MIB,
            // RFC 5321 §4.5.3.1.8: at least 100 recipients must be buffered.
            max_recipients: 100,
            // RFC 5321 §4.5.3.2.7 suggests 5 minutes; a test sink with a bounded number of
            // connections cannot let idle clients hold them that long (docs/sink.md).
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_session: Duration::from_secs(3600),
            max_transcript: 4 * MIB,
            max_auth_failures: 3,
            max_auth_failures_per_address: 10,
        }
    }
}

/// The Tencent SES limits of 003, with the choices recorded in ERRATA S5–S10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesLimits {
    /// Most recipients per message (003 Java sample: 50).
    pub max_recipients: usize,
    /// Most attachments per message (003 "发送带附件的邮件": 10).
    pub max_attachments: usize,
    /// Largest single attachment, decoded (003 error table: 5M; ERRATA S6).
    pub max_attachment: usize,
    /// Largest total of attachments, decoded (003 error table: 10M; ERRATA S6).
    pub max_attachments_total: usize,
    /// Largest body without attachments (003 error table: 1M).
    pub max_body: usize,
    /// Longest body line in characters, CRLF excluded (003 "系统级错误" 1: 2000; ERRATA S4).
    pub max_line: usize,
    /// Messages per second per account (003 "使用 SMTP 发信频率": 20/1s).
    pub per_account_per_second: usize,
    /// Messages per hour per sender→recipient pair (003: 10/1h).
    pub per_pair_per_hour: usize,
}

impl Default for SesLimits {
    fn default() -> Self {
        SesLimits {
            max_recipients: 50,
            max_attachments: 10,
            max_attachment: 5 * MIB,
            max_attachments_total: 10 * MIB,
            max_body: MIB,
            max_line: 2000,
            per_account_per_second: 20,
            per_pair_per_hour: 10,
        }
    }
}
