//! The mail-level oracle: what a module delivered, seen by an SMTP server, compared with what
//! the reference model (the quirk-free emulator, same profile, same case) delivered.
//!
//! On the emulator every delivery runs for real, in memory: the module's SMTP client
//! ([`at_mailer::SmtpClient`]) against the capture sink's protocol core ([`smtp_sink::Session`],
//! permissive profile, `AUTH PLAIN LOGIN` offered), both sans-IO, so a delivery costs no socket
//! and no time. What the sink accepted and the client's command lines become a [`Delivery`];
//! [`compare`] judges two runs' deliveries field by field (envelope, headers with `Date` and
//! `Message-ID` masked, decoded subject, body, attachments, SMTP commands).

use core::fmt::Write as _;
use core::time::Duration;
use std::sync::Arc;

use at_mailer::{Direction, Failure, MailJob, SmtpClient, SslType};
use smtp_sink::{Event as SinkEvent, Profile, Session, SessionConfig, SharedState, StoredMessage};

/// Headers whose values depend on the clock or the delivery number, not on the mail.
const MASKED: &[&str] = &["Date", "Message-ID"];

/// The delivered message, in the parts the oracle compares.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mail {
    /// Envelope `MAIL FROM`.
    pub mail_from: String,
    /// Envelope `RCPT TO`, in order.
    pub rcpt_to: Vec<String>,
    /// Header fields in order, unfolded (`Date`/`Message-ID` values masked).
    pub headers: Vec<(String, String)>,
    /// Subject decoded (RFC 2047).
    pub subject: Option<String>,
    /// The subject's bytes with its RFC 2047 words decoded, no charset applied: what the
    /// module was given (000 §2.2.3), whatever words carried it.
    pub subject_bytes: Option<Vec<u8>>,
    /// Top-level content type.
    pub content_type: Option<String>,
    /// First text body, decoded.
    pub body: Option<String>,
    /// Attachments: name, content type, decoded bytes.
    pub attachments: Vec<(Option<String>, String, Vec<u8>)>,
    /// Rules of RFC 5321/5322 the message as transmitted breaks ([`rule_breaks`]).
    pub breaks: Vec<String>,
}

/// What any conforming module's message obeys, whatever its composer: header lines end in CRLF
/// and have at most 1000 octets (RFC 5321 §2.3.8, §4.5.3.1.6; the body is the host's bytes,
/// sent raw with `"bodyoriginal"`, ERRATA M1), one `Date:` and one `From:` (RFC 5322 §3.6),
/// no `Bcc:` header in transit (000 §2.2.2 type 3 is a blind copy).
pub fn rule_breaks(raw: &[u8], headers: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let head_len = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |p| p + 2);
    let head = raw.get(..head_len).unwrap_or(raw);
    for (i, &b) in head.iter().enumerate() {
        let crlf = b == b'\n' && i > 0 && head.get(i - 1) == Some(&b'\r');
        if b == b'\n' && !crlf {
            out.push(format!("bare LF at byte {i} (RFC 5321 §2.3.8)"));
            break;
        }
        if b == b'\r' && head.get(i + 1) != Some(&b'\n') {
            out.push(format!("bare CR at byte {i} (RFC 5321 §2.3.8)"));
            break;
        }
        if b == b'\n' {
            if i + 1 - start > 1000 {
                out.push(format!(
                    "line at byte {start} has {} octets (RFC 5321 §4.5.3.1.6: 1000)",
                    i + 1 - start
                ));
                break;
            }
            start = i + 1;
        }
    }
    for (name, want) in [("Date", 1), ("From", 1), ("Bcc", 0)] {
        let n = headers
            .iter()
            .filter(|(h, _)| h.eq_ignore_ascii_case(name))
            .count();
        if n != want {
            let rule = if name == "Bcc" {
                "000 §2.2.2: blind copies stay blind"
            } else {
                "RFC 5322 §3.6: exactly one"
            };
            out.push(format!("{n} `{name}:` header fields ({rule})"));
        }
    }
    out
}

/// The bytes an unfolded header value carries: RFC 2047 encoded words (B or Q) decoded to
/// their bytes, the white space between adjacent words dropped (RFC 2047 §6.2), other text as
/// is. No charset is applied, so the result does not depend on where an encoder cut its words.
pub fn rfc2047_bytes(value: &str) -> Vec<u8> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut pending_space = Vec::new();
    let mut last_was_word = false;
    let mut rest = value;
    while !rest.is_empty() {
        let word = rest.strip_prefix("=?").and_then(|w| {
            let mut parts = w.splitn(3, '?');
            let (_cs, enc, tail) = (parts.next()?, parts.next()?, parts.next()?);
            let end = tail.find("?=")?;
            let text = &tail[..end];
            let bytes = match enc {
                "B" | "b" => base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()?,
                "Q" | "q" => q_decode(text),
                _ => return None,
            };
            let used = 2 + (w.len() - tail.len()) + end + 2;
            Some((bytes, used))
        });
        match word {
            Some((bytes, used)) => {
                if !last_was_word {
                    out.append(&mut pending_space);
                }
                pending_space.clear();
                out.extend(bytes);
                last_was_word = true;
                rest = &rest[used..];
            }
            None => {
                let ch = rest.chars().next().unwrap_or(' ');
                let mut buf = [0u8; 4];
                let enc = ch.encode_utf8(&mut buf).as_bytes();
                if ch == ' ' || ch == '\t' {
                    pending_space.extend_from_slice(enc);
                } else {
                    out.append(&mut pending_space);
                    out.extend_from_slice(enc);
                    last_was_word = false;
                }
                rest = &rest[ch.len_utf8()..];
            }
        }
    }
    out.append(&mut pending_space);
    out
}

fn q_decode(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'='),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// One delivery attempt the module made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    /// Server name the module asked for.
    pub server: String,
    /// Connection security asked for (`none`, `implicit`, `starttls`).
    pub tls: &'static str,
    /// `+QSMTPPUT: <err>,<protocol_error>` the outcome maps to (000 §5, §6).
    pub codes: (u16, u16),
    /// What the sink accepted, if it accepted a message.
    pub mail: Option<Mail>,
    /// The client's command lines, in order (credentials as `<secret>`, the message as
    /// `<message>`); empty when no SMTP session took place.
    pub commands: Vec<String>,
}

/// Unfolded header fields of `raw` (the runner's `@mail header:` view of a message).
pub use at_runner::scenario::header_fields;

impl Mail {
    /// The parts of a message the sink accepted.
    pub fn from_stored(m: &StoredMessage) -> Mail {
        let p = m.parsed();
        let fields = header_fields(&m.raw);
        let subject_bytes = fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Subject"))
            .map(|(_, v)| rfc2047_bytes(v));
        let breaks = rule_breaks(&m.raw, &fields);
        let headers = fields
            .into_iter()
            .map(|(n, v)| {
                if MASKED.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                    (n, "<masked>".to_owned())
                } else {
                    (n, v)
                }
            })
            .collect();
        Mail {
            mail_from: m.envelope.mail_from.clone(),
            rcpt_to: m.envelope.rcpt_to.clone(),
            headers,
            subject: p.subject,
            subject_bytes,
            content_type: p.content_type,
            body: p.text_body,
            attachments: p
                .attachments
                .into_iter()
                .map(|a| (a.name, a.content_type, a.bytes))
                .collect(),
            breaks,
        }
    }
}

/// The first delivery whose message breaks a rule any module must keep ([`rule_breaks`]):
/// its index, a one-line summary and the list.
pub fn first_rule_break<'a>(
    mails: impl IntoIterator<Item = &'a Mail>,
) -> Option<(usize, String, String)> {
    mails.into_iter().enumerate().find_map(|(i, m)| {
        let first = m.breaks.first()?;
        let summary = format!("delivered mail #{} breaks the mail rules: {first}", i + 1);
        let list: String = m.breaks.iter().map(|b| format!("  {b}\n")).collect();
        Some((i, summary, list))
    })
}

fn tls_name(ssl: SslType) -> &'static str {
    match ssl {
        SslType::Plain => "none",
        SslType::Implicit => "implicit",
        SslType::StartTls => "starttls",
    }
}

/// The client's lines from its transcript: commands as sent, secrets and the message masked.
fn commands(t: &at_mailer::Transcript) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_354 = false;
    for e in &t.entries {
        match e.dir {
            Direction::Received => after_354 = e.raw_bytes().starts_with(b"354"),
            Direction::Sent if after_354 => {
                out.push("<message>".to_owned());
                after_354 = false;
            }
            Direction::Sent => {
                let text = String::from_utf8_lossy(e.raw_bytes()).into_owned();
                for line in text.split("\r\n").filter(|l| !l.is_empty()) {
                    if !e.is_secret() {
                        out.push(line.to_owned());
                    } else if let Some(mech) =
                        line.strip_prefix("AUTH ").and_then(|r| r.split(' ').next())
                    {
                        out.push(format!("AUTH {mech} <secret>"));
                    } else {
                        out.push("<secret>".to_owned());
                    }
                }
            }
        }
    }
    out
}

/// Delivers `job` in memory: the module's SMTP client against the capture sink's session.
/// Servers other than `server` (the name the fuzzer configures, [`SERVER`](crate::cases::SERVER)
/// by default) do not resolve (`653`, as in a scenario without `@resolve`).
pub fn deliver(job: &MailJob, server: &str) -> (Result<(), Failure>, Delivery) {
    deliver_to(job, server, |_| {})
}

/// [`deliver`] to a sink whose session configuration `setup` changes (fault script, AUTH
/// mechanisms).
pub fn deliver_to(
    job: &MailJob,
    server: &str,
    setup: impl FnOnce(&mut SessionConfig),
) -> (Result<(), Failure>, Delivery) {
    let tls = tls_name(job.ssl);
    if job.server != server {
        let r = Err(Failure::Dns);
        let d = Delivery {
            server: job.server.clone(),
            tls,
            codes: (653, 0),
            mail: None,
            commands: Vec::new(),
        };
        return (r, d);
    }
    let mut cfg = SessionConfig {
        starttls: job.ssl == SslType::StartTls,
        ..SessionConfig::new(Profile::Permissive)
    };
    setup(&mut cfg);
    let now = smtp_sink::Instant::ZERO;
    let mut server = Session::new(
        Arc::new(cfg),
        SharedState::default(),
        1,
        job.ssl == SslType::Implicit,
        now,
    );
    let mut client = SmtpClient::new(job);
    let t = Duration::ZERO;
    let mut accepted: Option<Mail> = None;
    let mut result = None;
    let mut closed = false;
    // Each round moves at least one chunk or the session is stuck; a session has a few dozen.
    for _ in 0..10_000 {
        let mut moved = false;
        while let Some(b) = server.poll_transmit() {
            client.handle_input(t, &b);
            moved = true;
        }
        while let Some(e) = server.poll_event() {
            match e {
                SinkEvent::Accepted(m) => accepted = Some(Mail::from_stored(&m)),
                SinkEvent::StartTls => {}
                SinkEvent::Close(_) => closed = true,
            }
        }
        while let Some(b) = client.poll_transmit(t) {
            server.handle_input(now, &b);
            moved = true;
        }
        while let Some(e) = client.poll_event() {
            match e {
                // No real handshake: both ends carry on as if it had succeeded.
                at_mailer::Event::UpgradeTls => {
                    server.tls_established(now);
                    client.tls_established(t);
                    moved = true;
                }
                at_mailer::Event::Done(r) => result = Some(r),
                // Only clients made with `SmtpClient::opening` hold; this one never does.
                at_mailer::Event::Opened => {}
            }
        }
        if result.is_some() {
            break;
        }
        if !moved {
            if closed {
                client.handle_close(t);
                closed = false;
                continue;
            }
            break;
        }
    }
    let result = result.unwrap_or(Err(Failure::Timeout {
        stage: client.stage(),
    }));
    let codes = match &result {
        Ok(()) => (0, 0),
        Err(f) => f.quectel_codes(),
    };
    let d = Delivery {
        server: job.server.clone(),
        tls,
        codes,
        mail: accepted,
        commands: commands(client.transcript()),
    };
    (result, d)
}

fn show(s: &str) -> String {
    let e = s.escape_debug().to_string();
    if e.len() > 160 {
        let mut cut = 160;
        while !e.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("\"{}…\" ({} bytes)", &e[..cut], s.len())
    } else {
        format!("\"{e}\"")
    }
}

/// An attachment's file name as a reader sees it, or `(no name)`.
fn attachment_name(n: Option<&str>) -> String {
    n.map_or_else(|| "(no name)".to_owned(), str::to_owned)
}

fn line_diff(
    what: &str,
    want: &[String],
    got: &[String],
    out: &mut String,
    fields: &mut Vec<String>,
) {
    if want == got {
        return;
    }
    fields.push(what.to_owned());
    let _ = writeln!(out, "  {what}:");
    for l in want.iter().filter(|l| !got.contains(l)) {
        let _ = writeln!(out, "    - {}", show(l));
    }
    for l in got.iter().filter(|l| !want.contains(l)) {
        let _ = writeln!(out, "    + {}", show(l));
    }
    if want.iter().all(|l| got.contains(l)) && got.iter().all(|l| want.contains(l)) {
        let shown = |ls: &[String]| ls.iter().map(|l| show(l)).collect::<Vec<_>>().join(" | ");
        let _ = writeln!(
            out,
            "    (same lines, other order) - {} + {}",
            shown(want),
            shown(got)
        );
    }
}

/// How a compared value is shown in a diff.
trait Shown {
    fn shown(&self) -> String;
}

impl Shown for String {
    fn shown(&self) -> String {
        show(self)
    }
}

impl Shown for Option<String> {
    fn shown(&self) -> String {
        self.as_ref()
            .map_or_else(|| "(none)".to_owned(), |s| show(s))
    }
}

impl Shown for Option<&str> {
    fn shown(&self) -> String {
        self.map_or_else(|| "(none)".to_owned(), show)
    }
}

impl Shown for Vec<String> {
    fn shown(&self) -> String {
        let v: Vec<String> = self.iter().map(|s| show(s)).collect();
        format!("[{}]", v.join(", "))
    }
}

impl Shown for (u16, u16) {
    fn shown(&self) -> String {
        format!("+QSMTPPUT: {},{}", self.0, self.1)
    }
}

impl Shown for bool {
    fn shown(&self) -> String {
        (if *self { "yes" } else { "no" }).to_owned()
    }
}

fn field_diff<T: PartialEq + Shown>(
    what: &str,
    want: &T,
    got: &T,
    out: &mut String,
    fields: &mut Vec<String>,
) {
    if want != got {
        fields.push(what.to_owned());
        let _ = writeln!(
            out,
            "  {what}:\n    - {}\n    + {}",
            want.shown(),
            got.shown()
        );
    }
}

/// Where two runs' deliveries first differ: the delivery's index (in `got`, or `want` when
/// `got` has fewer), a one-line summary naming the parts that differ, and a readable diff
/// (`-` reference, `+` device).
pub fn compare(want: &[Delivery], got: &[Delivery]) -> Option<(usize, String, String)> {
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        let mut out = String::new();
        let mut fields = Vec::new();
        field_diff("server", &w.server, &g.server, &mut out, &mut fields);
        field_diff("result", &w.codes, &g.codes, &mut out, &mut fields);
        line_diff(
            "SMTP commands",
            &w.commands,
            &g.commands,
            &mut out,
            &mut fields,
        );
        match (&w.mail, &g.mail) {
            (Some(a), Some(b)) => {
                field_diff(
                    "MAIL FROM",
                    &a.mail_from,
                    &b.mail_from,
                    &mut out,
                    &mut fields,
                );
                field_diff("RCPT TO", &a.rcpt_to, &b.rcpt_to, &mut out, &mut fields);
                let hs = |m: &Mail| -> Vec<String> {
                    m.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect()
                };
                line_diff("headers", &hs(a), &hs(b), &mut out, &mut fields);
                field_diff("subject", &a.subject, &b.subject, &mut out, &mut fields);
                field_diff(
                    "content type",
                    &a.content_type,
                    &b.content_type,
                    &mut out,
                    &mut fields,
                );
                field_diff("body", &a.body, &b.body, &mut out, &mut fields);
                let att = |m: &Mail| -> Vec<String> {
                    m.attachments
                        .iter()
                        .map(|(n, ct, b)| {
                            format!(
                                "{} {ct} {} bytes {}",
                                attachment_name(n.as_deref()),
                                b.len(),
                                at_scenario::write::escape(
                                    b.get(..40.min(b.len())).unwrap_or_default()
                                )
                            )
                        })
                        .collect()
                };
                line_diff("attachments", &att(a), &att(b), &mut out, &mut fields);
            }
            (a, b) => field_diff(
                "message accepted",
                &a.is_some(),
                &b.is_some(),
                &mut out,
                &mut fields,
            ),
        }
        if !fields.is_empty() {
            let summary = format!(
                "delivered mail #{} differs from the reference model: {}",
                i + 1,
                fields.join(", ")
            );
            return Some((i, summary, out));
        }
    }
    if want.len() != got.len() {
        let i = want.len().min(got.len());
        let summary = format!(
            "the module made {} deliveries, the reference model {}",
            got.len(),
            want.len()
        );
        return Some((i, summary, String::new()));
    }
    None
}

/// For a live device: its messages (from the capture sink, in order) against the reference
/// model's, on what any conforming module must get right whatever its composer — envelope
/// (recipients as a set), decoded subject, body (up to a final CRLF), attachments (name and
/// bytes), no `Bcc:` header. Header layout, encodings, `Date`/`Message-ID` formats and the AUTH
/// mechanism legitimately differ between firmwares and are not compared.
pub fn compare_live(want: &[Mail], got: &[Mail]) -> Option<(usize, String, String)> {
    fn body(b: &Option<String>) -> Option<&str> {
        b.as_deref().map(|s| s.strip_suffix("\r\n").unwrap_or(s))
    }
    fn sorted(v: &[String]) -> Vec<String> {
        let mut v = v.to_vec();
        v.sort();
        v
    }
    for (i, (a, b)) in want.iter().zip(got).enumerate() {
        let mut out = String::new();
        let mut fields = Vec::new();
        field_diff(
            "MAIL FROM",
            &a.mail_from,
            &b.mail_from,
            &mut out,
            &mut fields,
        );
        field_diff(
            "RCPT TO",
            &sorted(&a.rcpt_to),
            &sorted(&b.rcpt_to),
            &mut out,
            &mut fields,
        );
        let bcc = |m: &Mail| -> Vec<String> {
            m.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("Bcc"))
                .map(|(n, v)| format!("{n}: {v}"))
                .collect()
        };
        line_diff("headers", &bcc(a), &bcc(b), &mut out, &mut fields);
        let subject = |m: &Mail| {
            m.subject_bytes
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .or_else(|| m.subject.clone())
        };
        field_diff("subject", &subject(a), &subject(b), &mut out, &mut fields);
        field_diff(
            "body",
            &body(&a.body),
            &body(&b.body),
            &mut out,
            &mut fields,
        );
        let att = |m: &Mail| -> Vec<String> {
            m.attachments
                .iter()
                .map(|(n, _, b)| {
                    format!(
                        "{} {} bytes {}",
                        attachment_name(n.as_deref()),
                        b.len(),
                        at_scenario::write::escape(b)
                    )
                })
                .collect()
        };
        line_diff("attachments", &att(a), &att(b), &mut out, &mut fields);
        if !fields.is_empty() {
            let summary = format!(
                "delivered mail #{} differs from the reference model: {}",
                i + 1,
                fields.join(", ")
            );
            return Some((i, summary, out));
        }
    }
    (want.len() != got.len()).then(|| {
        let summary = format!(
            "the sink received {} messages, the reference model delivered {}",
            got.len(),
            want.len()
        );
        (want.len().min(got.len()), summary, String::new())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaks(raw: &[u8]) -> Vec<String> {
        rule_breaks(raw, &header_fields(raw))
    }

    #[test]
    fn rfc2047_bytes_do_not_depend_on_the_words() {
        let b = rfc2047_bytes("=?UTF-8?B?5rWL6K+VIE9L?=");
        let q = rfc2047_bytes(
            "=?UTF-8?Q?=E6=B5=8B?=\r\n =?UTF-8?Q?=E8=AF=95_OK?="
                .replace("\r\n", "")
                .as_str(),
        );
        assert_eq!(b, "测试 OK".as_bytes());
        assert_eq!(q, b);
        assert_eq!(rfc2047_bytes("plain  text"), b"plain  text");
        assert_eq!(rfc2047_bytes("a =?UTF-8?B?YQ==?= b"), b"a a b");
        assert_eq!(rfc2047_bytes("=?X?Q?=ZZ?="), b"=ZZ");
    }

    #[test]
    fn rules_any_module_keeps() {
        let ok = b"Date: x\r\nFrom: <a@b>\r\nTo: <c@d>\r\n\r\nbody with a bare \r in it\r\n";
        assert_eq!(breaks(ok), Vec::<String>::new());
        let bcc = b"Date: x\r\nFrom: <a@b>\r\nBcc: <e@f>\r\n\r\nhi\r\n";
        assert_eq!(
            breaks(bcc),
            ["1 `Bcc:` header fields (000 §2.2.2: blind copies stay blind)"]
        );
        let lf = b"Date: x\nFrom: <a@b>\r\n\r\nhi\r\n";
        // The bare LF also hides the From: field inside the Date: line.
        assert_eq!(
            breaks(lf),
            [
                "bare LF at byte 7 (RFC 5321 §2.3.8)",
                "0 `From:` header fields (RFC 5322 §3.6: exactly one)"
            ]
        );
        let no_date = b"From: <a@b>\r\nFrom: <a@b>\r\n\r\n";
        assert_eq!(
            breaks(no_date),
            [
                "0 `Date:` header fields (RFC 5322 §3.6: exactly one)",
                "2 `From:` header fields (RFC 5322 §3.6: exactly one)"
            ]
        );
        let mut long = b"Date: x\r\nFrom: <a@b>\r\nSubject: ".to_vec();
        long.extend(std::iter::repeat_n(b'x', 990));
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            breaks(&long),
            ["line at byte 22 has 1001 octets (RFC 5321 §4.5.3.1.6: 1000)"]
        );
    }
}
