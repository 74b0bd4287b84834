//! What to send: the mail job the emulator hands to the mailer on `AT+QSMTPPUT` (000 §2.2.7).

use core::fmt;
use core::str::FromStr;

use crate::Stage;

/// How the connection to the SMTP server is secured (`AT+QSMTPCFG="ssltype"`, 000 §1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SslType {
    /// `0`: no TLS at all.
    #[default]
    Plain,
    /// `1`: TLS from the first byte ("SSL", implicit TLS).
    Implicit,
    /// `2`: plain connection upgraded with `STARTTLS` (RFC 3207).
    StartTls,
}

impl SslType {
    /// The type for a Quectel `<SSL_type>` value (0, 1, 2), `None` otherwise.
    pub fn from_quectel(value: u32) -> Option<Self> {
        match value {
            0 => Some(SslType::Plain),
            1 => Some(SslType::Implicit),
            2 => Some(SslType::StartTls),
            _ => None,
        }
    }
}

/// A secret string (a password); `Debug` and `Display` print `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

/// SMTP AUTH account (`AT+QSMTPCFG="account"`, 000 §2.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Authentication user name.
    pub user: String,
    /// Authentication password.
    pub password: Secret,
}

/// The header a recipient appears in (`AT+QSMTPDST` `<type>`, 000 §2.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecipientKind {
    /// `1`: `To:`.
    To,
    /// `2`: `Cc:`.
    Cc,
    /// `3`: blind copy: envelope only, no header.
    Bcc,
}

impl RecipientKind {
    /// The kind for a Quectel `<type>` value (1, 2, 3), `None` otherwise.
    pub fn from_quectel(value: u32) -> Option<Self> {
        match value {
            1 => Some(RecipientKind::To),
            2 => Some(RecipientKind::Cc),
            3 => Some(RecipientKind::Bcc),
            _ => None,
        }
    }
}

/// Character set of the subject or body (`<charset>`, 000 §2.2.3, §2.2.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Charset {
    /// `0`: US-ASCII.
    #[default]
    Ascii,
    /// `1`: UTF-8.
    Utf8,
    /// `2`: GB2312.
    Gb2312,
    /// `3`: Big5.
    Big5,
}

impl Charset {
    /// The charset for a Quectel `<charset>` value (0–3), `None` otherwise.
    pub fn from_quectel(value: u32) -> Option<Self> {
        match value {
            0 => Some(Charset::Ascii),
            1 => Some(Charset::Utf8),
            2 => Some(Charset::Gb2312),
            3 => Some(Charset::Big5),
            _ => None,
        }
    }

    /// The MIME charset name (`US-ASCII`, `UTF-8`, `GB2312`, `BIG5`).
    pub fn mime_name(self) -> &'static str {
        match self {
            Charset::Ascii => "US-ASCII",
            Charset::Utf8 => "UTF-8",
            Charset::Gb2312 => "GB2312",
            Charset::Big5 => "BIG5",
        }
    }
}

/// The subject: raw bytes in `charset` (already hex-decoded when the charset is not ASCII).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// Charset of `bytes`.
    pub charset: Charset,
    /// The subject text, as bytes in `charset`.
    pub bytes: Vec<u8>,
}

/// The body as typed in data mode (`AT+QSMTPBODY`, 000 §2.2.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// Charset of `bytes`.
    pub charset: Charset,
    /// The body bytes exactly as received.
    pub bytes: Vec<u8>,
    /// `AT+QSMTPCFG="bodyoriginal",1` (000 §2.2.1): send the body raw, without a charset
    /// (ERRATA M1).
    pub original: bool,
}

/// One attachment (`AT+QSMTPATT`, 000 §2.2.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    /// File name shown to the recipient (without the `RAM:`/`UFS:`/`SD:` prefix).
    pub file_name: String,
    /// File contents.
    pub bytes: Vec<u8>,
}

/// A network fault the driver injects into one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetFault {
    /// Name resolution fails (→ `653,0`, 000 §4.3).
    Dns,
    /// The TCP connection is refused (→ `654,0`).
    Refused,
    /// The connection is cut just before the client sends the given stage's command; at
    /// `Stage::Body` ("reset-mid-data") after half of the message went out (→ `656,0`).
    Reset {
        /// Where the reset happens.
        stage: Stage,
    },
    /// The server stops answering at the given stage; the delivery never completes on its own
    /// (the module's `<timeout>` fires → `658,0`).
    Stall {
        /// Where the silence starts.
        stage: Stage,
    },
}

impl NetFault {
    /// The fault names accepted by [`NetFault::from_str`], for help texts.
    pub const NAMES: &'static [&'static str] = &[
        "dns",
        "refused",
        "reset-mid-data",
        "reset@<stage>",
        "stall",
        "stall@<stage>",
    ];
}

impl fmt::Display for NetFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetFault::Dns => f.write_str("dns"),
            NetFault::Refused => f.write_str("refused"),
            NetFault::Reset { stage: Stage::Body } => f.write_str("reset-mid-data"),
            NetFault::Reset { stage } => write!(f, "reset@{stage}"),
            NetFault::Stall { stage } => write!(f, "stall@{stage}"),
        }
    }
}

/// A fault name [`NetFault::from_str`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown network fault {0:?} (expected one of: dns, refused, reset-mid-data, reset@STAGE, stall, stall@STAGE)"
)]
pub struct UnknownFault(pub String);

impl FromStr for NetFault {
    type Err = UnknownFault;

    /// Parses `dns`, `refused`, `reset-mid-data`, `reset@<stage>`, `stall` (= `stall@greeting`)
    /// or `stall@<stage>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownFault(s.to_owned());
        match s {
            "dns" => return Ok(NetFault::Dns),
            "refused" => return Ok(NetFault::Refused),
            "reset-mid-data" => return Ok(NetFault::Reset { stage: Stage::Body }),
            "stall" => {
                return Ok(NetFault::Stall {
                    stage: Stage::Greeting,
                });
            }
            _ => {}
        }
        let (kind, stage) = s.split_once('@').ok_or_else(unknown)?;
        let stage: Stage = stage.parse().map_err(|_| unknown())?;
        match kind {
            "reset" => Ok(NetFault::Reset { stage }),
            "stall" => Ok(NetFault::Stall { stage }),
            _ => Err(unknown()),
        }
    }
}

/// Client-side misbehaviours a module firmware might have (for emulator quirks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientQuirks {
    /// Write a `Bcc:` header listing the blind-copy recipients.
    pub leak_bcc_header: bool,
    /// Do not dot-stuff lines of the message that start with `.`.
    pub no_dot_stuffing: bool,
    /// Send `HELO` instead of `EHLO` (so no AUTH, no STARTTLS).
    pub helo_only: bool,
    /// Always use `AUTH LOGIN`, even when the server offers only `PLAIN`.
    pub force_auth_login: bool,
}

impl ClientQuirks {
    /// No quirks: a correct client.
    pub const NONE: ClientQuirks = ClientQuirks {
        leak_bcc_header: false,
        no_dot_stuffing: false,
        helo_only: false,
        force_auth_login: false,
    };
}

/// How a client composes and talks where the manuals and the RFCs leave it free (the
/// emulator's liberties): every combination delivers the same mail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientStyle {
    /// Prefer `AUTH LOGIN` when the server offers both PLAIN and LOGIN (RFC 4954 §4).
    pub auth_login_first: bool,
    /// Encode every text body in base64, 7-bit text too.
    pub body_base64: bool,
    /// Make every mail `multipart/mixed`, even without attachments.
    pub multipart_always: bool,
    /// RFC 2047 Q-encoded words for a subject that is not printable ASCII (instead of B).
    pub subject_q_words: bool,
    /// An `X-Mailer:` field, and `Subject:` before the recipients.
    pub extra_headers: bool,
    /// Attachments typed by extension (`text/plain` for `.txt`) instead of
    /// `application/octet-stream`.
    pub attachment_types: bool,
}

/// Everything needed to send one mail: server, account, envelope, content, faults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailJob {
    /// Server host name or IP literal (`"smtpserver"` `<srvaddr>`).
    pub server: String,
    /// Server port (`<srvport>`).
    pub port: u16,
    /// Connection security (`"ssltype"`).
    pub ssl: SslType,
    /// What the TLS client offers and checks (`AT+QSSLCFG` of the `"sslctxid"` context):
    /// versions, suites, verification (`"seclevel"`, `"cacert"`) and the client certificate.
    pub tls: at_tls::ClientSettings,
    /// AUTH account; `None` (or an empty user) = no AUTH.
    pub auth: Option<Credentials>,
    /// Display name in `From:` (`"sender"` `<sender_name>`).
    pub sender_name: String,
    /// Envelope and header sender (`<sender_email>`).
    pub sender_email: String,
    /// Recipients in the order they were added (`AT+QSMTPDST`).
    pub recipients: Vec<(RecipientKind, String)>,
    /// Subject (`AT+QSMTPSUB`).
    pub subject: Subject,
    /// Body (`AT+QSMTPBODY`).
    pub body: Body,
    /// Attachments in index order (`AT+QSMTPATT`).
    pub attachments: Vec<Attachment>,
    /// Domain sent in `EHLO`.
    pub helo_domain: String,
    /// `Date:` header value (RFC 5322); supplied by the caller, so composing is deterministic.
    pub date: String,
    /// `Message-ID:` header value, without angle brackets.
    pub message_id: String,
    /// Network faults to inject.
    pub faults: Vec<NetFault>,
    /// Client misbehaviours to reproduce.
    pub quirks: ClientQuirks,
    /// Client choices where the manuals leave room.
    pub style: ClientStyle,
}

impl Default for MailJob {
    fn default() -> Self {
        MailJob {
            server: String::new(),
            port: 25,
            ssl: SslType::Plain,
            tls: at_tls::ClientSettings::default(),
            auth: None,
            sender_name: String::new(),
            sender_email: String::new(),
            recipients: Vec::new(),
            subject: Subject::default(),
            body: Body::default(),
            attachments: Vec::new(),
            helo_domain: "localhost".to_owned(),
            date: "Thu, 1 Jan 1970 00:00:00 +0000".to_owned(),
            message_id: "0@localhost".to_owned(),
            faults: Vec::new(),
            quirks: ClientQuirks::NONE,
            style: ClientStyle::default(),
        }
    }
}
