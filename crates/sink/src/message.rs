//! Accepted messages: the exact bytes, the envelope, and a parsed summary (mail-parser).

use std::time::Duration;

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders};

/// The SMTP envelope of an accepted message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    /// `MAIL FROM` address (empty for the null reverse-path `<>`).
    pub mail_from: String,
    /// `RCPT TO` addresses, in order.
    pub rcpt_to: Vec<String>,
    /// The authenticated user, if the client authenticated.
    pub auth_user: Option<String>,
    /// Whether the message arrived over TLS (implicit or STARTTLS).
    pub tls: bool,
    /// The `EHLO`/`HELO` name the client gave.
    pub helo: String,
    /// The TLS version it arrived under (`TLSv1` … `TLSv1.3`), if any.
    #[serde(default)]
    pub tls_version: Option<String>,
    /// The TLS suite it arrived under (IANA name), if any.
    #[serde(default)]
    pub tls_cipher: Option<String>,
}

/// A message the sink accepted (`250` after the final `.`), exactly as received.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredMessage {
    /// Id, unique per sink, increasing from 1.
    pub id: u64,
    /// Connection number it arrived on.
    pub connection: u64,
    /// Time it was accepted, since the sink's clock origin.
    pub received_at: Duration,
    /// The envelope.
    pub envelope: Envelope,
    /// The message after dot-unstuffing, without the terminating `.` line (RFC 5321 §4.5.2).
    #[serde(with = "raw_b64")]
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMessage")
            .field("id", &self.id)
            .field("connection", &self.connection)
            .field("envelope", &self.envelope)
            .field("raw_len", &self.raw.len())
            .finish()
    }
}

mod raw_b64 {
    use base64::Engine as _;
    pub fn serialize<S: serde::Serializer>(raw: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(raw))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}

/// An address from a header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mailbox {
    /// Display name, decoded.
    pub name: Option<String>,
    /// Address.
    pub address: Option<String>,
}

/// An attachment, decoded.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// File name (decoded), if any.
    pub name: Option<String>,
    /// `type/subtype`.
    pub content_type: String,
    /// Decoded content.
    #[serde(with = "raw_b64")]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What a test usually wants to know about a message, decoded by mail-parser.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParsedSummary {
    /// Decoded `Subject`.
    pub subject: Option<String>,
    /// `From` mailboxes.
    pub from: Vec<Mailbox>,
    /// `To` mailboxes.
    pub to: Vec<Mailbox>,
    /// `Cc` mailboxes.
    pub cc: Vec<Mailbox>,
    /// Whether a `Bcc` header is present (it should not be, in transit).
    pub has_bcc_header: bool,
    /// `Message-ID`, without brackets.
    pub message_id: Option<String>,
    /// Top-level `type/subtype`.
    pub content_type: Option<String>,
    /// The first text/plain body, decoded.
    pub text_body: Option<String>,
    /// The first text/html body, decoded.
    pub html_body: Option<String>,
    /// Attachments, decoded.
    pub attachments: Vec<Attachment>,
}

fn mailboxes(a: Option<&mail_parser::Address<'_>>) -> Vec<Mailbox> {
    a.map(|a| {
        a.iter()
            .map(|m| Mailbox {
                name: m.name().map(str::to_string),
                address: m.address().map(str::to_string),
            })
            .collect()
    })
    .unwrap_or_default()
}

impl ParsedSummary {
    /// Parses `raw` (never fails: unparseable input gives an empty summary).
    pub fn parse(raw: &[u8]) -> ParsedSummary {
        let Some(m) = MessageParser::default().parse(raw) else {
            return ParsedSummary {
                subject: None,
                from: Vec::new(),
                to: Vec::new(),
                cc: Vec::new(),
                has_bcc_header: false,
                message_id: None,
                content_type: None,
                text_body: None,
                html_body: None,
                attachments: Vec::new(),
            };
        };
        let text_body = m
            .text_bodies()
            .find(|p| !p.is_text_html())
            .and_then(|p| p.text_contents().map(str::to_string));
        let html_body = m
            .html_bodies()
            .find(|p| p.is_text_html())
            .and_then(|p| p.text_contents().map(str::to_string));
        ParsedSummary {
            subject: m.subject().map(str::to_string),
            from: mailboxes(m.from()),
            to: mailboxes(m.to()),
            cc: mailboxes(m.cc()),
            has_bcc_header: m.header_raw("Bcc").is_some(),
            message_id: m.message_id().map(str::to_string),
            content_type: m.root_part().content_type().map(type_subtype),
            text_body,
            html_body,
            attachments: m
                .attachments()
                .map(|p| Attachment {
                    name: p.attachment_name().map(str::to_string),
                    content_type: p
                        .content_type()
                        .map(type_subtype)
                        .unwrap_or_else(|| "application/octet-stream".into()),
                    bytes: attachment_bytes(raw, p),
                })
                .collect(),
        }
    }
}

/// An attachment's bytes as transfer-decoded, whatever its media type says: a `text/*`
/// attachment's `contents()` is its text converted to UTF-8 by charset, which is not the file
/// that was attached (a module may label a binary `.txt` file `text/plain`).
fn attachment_bytes(raw: &[u8], p: &mail_parser::MessagePart<'_>) -> Vec<u8> {
    use mail_parser::{Encoding, PartType};
    if !matches!(p.body, PartType::Text(_) | PartType::Html(_)) {
        return p.contents().to_vec();
    }
    let body = raw
        .get(p.offset_body as usize..p.offset_end as usize)
        .unwrap_or_default();
    let decoded = match p.encoding {
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
        }
        Encoding::None => Some(body.to_vec()),
    };
    decoded.unwrap_or_else(|| p.contents().to_vec())
}

pub(crate) fn type_subtype(ct: &mail_parser::ContentType<'_>) -> String {
    match ct.subtype() {
        Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
        None => ct.ctype().to_ascii_lowercase(),
    }
}

impl StoredMessage {
    /// The parsed summary of [`StoredMessage::raw`].
    pub fn parsed(&self) -> ParsedSummary {
        ParsedSummary::parse(&self.raw)
    }

    /// The decoded subject, if any.
    pub fn subject(&self) -> Option<String> {
        self.parsed().subject
    }

    /// One line for logs: `#3 from=<a@b> to=<c@d>,<e@f> 1234 bytes tls=no auth=user subject="TEST"`;
    /// over TLS, `tls=TLSv1/TLS_RSA_WITH_AES_256_CBC_SHA`.
    /// Never contains a password.
    pub fn summary_line(&self) -> String {
        let to: Vec<String> = self
            .envelope
            .rcpt_to
            .iter()
            .map(|r| format!("<{r}>"))
            .collect();
        let subject = self.subject().unwrap_or_default();
        format!(
            "#{} from=<{}> to={} {} bytes tls={} auth={} subject={:?}",
            self.id,
            self.envelope.mail_from,
            to.join(","),
            self.raw.len(),
            match (&self.envelope.tls_version, &self.envelope.tls_cipher) {
                (Some(v), Some(c)) => format!("{v}/{c}"),
                _ if self.envelope.tls => "yes".to_owned(),
                _ => "no".to_owned(),
            },
            self.envelope.auth_user.as_deref().unwrap_or("-"),
            subject
        )
    }

    /// The list entry served by `GET /api/messages`.
    pub fn list_entry(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "connection": self.connection,
            "envelope": self.envelope,
            "subject": self.subject(),
            "size": self.raw.len(),
        })
    }

    /// The parsed summary served by `GET /api/messages/{id}` (attachments base64-encoded).
    pub fn detail(&self) -> serde_json::Value {
        let p = self.parsed();
        serde_json::json!({
            "id": self.id,
            "envelope": self.envelope,
            "size": self.raw.len(),
            "raw_base64": base64::engine::general_purpose::STANDARD.encode(&self.raw),
            "summary": p,
        })
    }
}
