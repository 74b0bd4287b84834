//! The RFC 5322 / MIME message a module sends for a [`MailJob`].
//!
//! Hand-built rather than with `mail-builder`: the bytes must be a pure function of the job
//! (boundaries derived from the job, no random or clock input) and quirks such as a leaked
//! `Bcc:` header need control over every header.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::{Charset, MailJob, RecipientKind};

/// Longest encoded text (bytes before base64) in one RFC 2047 encoded-word: 45 bytes → 60
/// base64 characters, so `=?GB2312?B?…?=` stays within the 75-character limit (RFC 2047 §2).
const WORD_BYTES: usize = 45;

/// Composes the message for `job`: headers, then a single text part or `multipart/mixed`
/// with base64 attachments. Lines end in CRLF; the result is not dot-stuffed.
///
/// * `From: "name" <email>` (name RFC 2047-encoded as UTF-8 when not ASCII), `To:`, `Cc:`;
///   no `Bcc:` header unless [`ClientQuirks::leak_bcc_header`](crate::ClientQuirks).
/// * Subject: as is when ASCII and printable, else `=?<charset>?B?…?=` words split on
///   character boundaries.
/// * Body: `text/plain; charset=…`, `7bit` when it is 7-bit text with CRLF line ends, else
///   base64 (the bytes arrive intact). With `body.original` (ERRATA M1) the body is written raw,
///   with no `Content-Type` nor transfer encoding.
///
/// ```
/// use at_mailer::{compose, MailJob, RecipientKind};
/// let job = MailJob {
///     sender_name: "sishen".into(), sender_email: "sishen@163.com".into(),
///     recipients: vec![(RecipientKind::To, "a@x.test".into()), (RecipientKind::Bcc, "b@x.test".into())],
///     ..MailJob::default()
/// };
/// let text = String::from_utf8(compose(&job)).unwrap();
/// assert!(text.contains("From: \"sishen\" <sishen@163.com>\r\n"));
/// assert!(text.contains("To: <a@x.test>\r\n"));
/// assert!(!text.contains("b@x.test"));
/// ```
pub fn compose(job: &MailJob) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + job.body.bytes.len() * 2);
    let style = job.style;
    header(&mut out, "Date", job.date.as_bytes());
    let from = format!("{} <{}>", display_name(&job.sender_name), job.sender_email);
    header(&mut out, "From", from.as_bytes());
    let subject = subject_value(
        job.subject.charset,
        &job.subject.bytes,
        style.subject_q_words,
    );
    if style.extra_headers {
        header(&mut out, "Subject", subject.as_bytes());
    }
    for (kind, name) in [
        (RecipientKind::To, "To"),
        (RecipientKind::Cc, "Cc"),
        (RecipientKind::Bcc, "Bcc"),
    ] {
        if kind == RecipientKind::Bcc && !job.quirks.leak_bcc_header {
            continue;
        }
        let list: Vec<String> = job
            .recipients
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, addr)| format!("<{addr}>"))
            .collect();
        if !list.is_empty() {
            header(&mut out, name, list.join(",\r\n ").as_bytes());
        }
    }
    if !style.extra_headers {
        header(&mut out, "Subject", subject.as_bytes());
    }
    header(
        &mut out,
        "Message-ID",
        format!("<{}>", job.message_id).as_bytes(),
    );
    if style.extra_headers {
        header(&mut out, "X-Mailer", b"atconform module emulator");
    }

    let body = &job.body;
    // A verbatim body (ERRATA M1) is never wrapped: it is the original SMTP body.
    if job.attachments.is_empty() && (body.original || !style.multipart_always) {
        if body.original {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&body.bytes);
        } else {
            header(&mut out, "MIME-Version", b"1.0");
            text_part(&mut out, body.charset, &body.bytes, style.body_base64);
        }
        return out;
    }

    let boundary = boundary_for(job);
    header(&mut out, "MIME-Version", b"1.0");
    header(
        &mut out,
        "Content-Type",
        format!("multipart/mixed;\r\n boundary=\"{boundary}\"").as_bytes(),
    );
    out.extend_from_slice(b"\r\nThis is a multi-part message in MIME format.\r\n");
    out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
    if body.original {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body.bytes);
    } else {
        text_part(&mut out, body.charset, &body.bytes, style.body_base64);
    }
    for att in &job.attachments {
        out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        let (name_param, filename_param) = file_name_params(&att.file_name);
        let media_type = if style.attachment_types {
            media_type_of(&att.file_name)
        } else {
            "application/octet-stream"
        };
        header(
            &mut out,
            "Content-Type",
            format!("{media_type};\r\n {name_param}").as_bytes(),
        );
        header(
            &mut out,
            "Content-Disposition",
            format!("attachment;\r\n {filename_param}").as_bytes(),
        );
        header(&mut out, "Content-Transfer-Encoding", b"base64");
        out.extend_from_slice(b"\r\n");
        base64_lines(&mut out, &att.bytes);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b":");
    if !value.is_empty() {
        out.push(b' ');
        out.extend_from_slice(value);
    }
    out.extend_from_slice(b"\r\n");
}

/// The media type of an attachment by its extension (client style `attachment_types`).
fn media_type_of(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" | "csv" => "text/plain",
        "htm" | "html" => "text/html",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Headers and content of the text part (after any part boundary); `base64` always encodes.
fn text_part(out: &mut Vec<u8>, charset: Charset, bytes: &[u8], base64: bool) {
    header(
        out,
        "Content-Type",
        format!("text/plain; charset=\"{}\"", charset.mime_name()).as_bytes(),
    );
    if !base64 && is_7bit_text(bytes) {
        header(out, "Content-Transfer-Encoding", b"7bit");
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(bytes);
    } else {
        header(out, "Content-Transfer-Encoding", b"base64");
        out.extend_from_slice(b"\r\n");
        base64_lines(out, bytes);
    }
}

/// 7-bit text safe to send verbatim: no NUL or 8-bit bytes, CR only in CRLF, LF only after CR,
/// lines of at most 998 bytes (RFC 5322 §2.1.1).
fn is_7bit_text(bytes: &[u8]) -> bool {
    let mut line_len = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0 | 0x80..=0xff => return false,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => return false,
            b'\n' => {
                if i == 0 || bytes.get(i - 1) != Some(&b'\r') {
                    return false;
                }
                line_len = 0;
                continue;
            }
            _ => {}
        }
        if b != b'\r' {
            line_len += 1;
            if line_len > 998 {
                return false;
            }
        }
    }
    true
}

/// Base64 in lines of 76 characters, each ending in CRLF (RFC 2045 §6.8).
fn base64_lines(out: &mut Vec<u8>, bytes: &[u8]) {
    let encoded = STANDARD.encode(bytes);
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
}

/// `"name"` as a quoted string, or RFC 2047 words when it is not printable ASCII.
fn display_name(name: &str) -> String {
    if name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    } else {
        encoded_words(Charset::Utf8, name.as_bytes())
    }
}

/// The `Subject:` value: verbatim when ASCII and printable, else RFC 2047 B-encoded words
/// naming the charset (8-bit bytes under "ASCII" are labelled UTF-8 rather than lie).
fn subject_value(charset: Charset, bytes: &[u8], q: bool) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let printable = bytes.iter().all(|b| (0x20..0x7f).contains(b));
    let words = if q { q_words } else { encoded_words };
    match charset {
        Charset::Ascii if printable => String::from_utf8_lossy(bytes).into_owned(),
        Charset::Ascii => words(Charset::Utf8, bytes),
        other => words(other, bytes),
    }
}

/// `=?CHARSET?Q?…?=` words (RFC 2047 §4.2: `_` for space, `=XX` for anything but letters and
/// digits), folded with CRLF SP, each holding whole characters and at most 75 characters.
fn q_words(charset: Charset, bytes: &[u8]) -> String {
    // 75 − len("=?GB2312?Q??=") leaves 62; an encoded byte takes at most 3.
    const Q_BYTES: usize = 20;
    let mut words = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let cut = char_boundary(charset, rest, Q_BYTES);
        let (chunk, tail) = rest.split_at(cut);
        let mut text = String::new();
        for &b in chunk {
            match b {
                b' ' => text.push('_'),
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => text.push(char::from(b)),
                _ => text.push_str(&format!("={b:02X}")),
            }
        }
        words.push(format!("=?{}?Q?{text}?=", charset.mime_name()));
        rest = tail;
    }
    words.join("\r\n ")
}

/// `=?CHARSET?B?…?=` words, folded with CRLF SP, each holding whole characters.
fn encoded_words(charset: Charset, bytes: &[u8]) -> String {
    let mut words = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let cut = char_boundary(charset, rest, WORD_BYTES);
        let (chunk, tail) = rest.split_at(cut);
        words.push(format!(
            "=?{}?B?{}?=",
            charset.mime_name(),
            STANDARD.encode(chunk)
        ));
        rest = tail;
    }
    words.join("\r\n ")
}

/// The largest prefix length ≤ `max` of `bytes` that ends on a character boundary (at least 1).
fn char_boundary(charset: Charset, bytes: &[u8], max: usize) -> usize {
    if bytes.len() <= max {
        return bytes.len();
    }
    let mut cut = 0;
    let mut i = 0;
    while i < bytes.len() {
        let len = match charset {
            Charset::Ascii => 1,
            Charset::Utf8 => {
                // Advance over one lead byte and its continuation bytes.
                let mut j = i + 1;
                while j < bytes.len() && j - i < 4 && bytes.get(j).is_some_and(|b| b & 0xc0 == 0x80)
                {
                    j += 1;
                }
                j - i
            }
            // Double-byte charsets: a lead byte ≥ 0x81 starts a two-byte character.
            Charset::Gb2312 | Charset::Big5 => {
                if bytes.get(i).is_some_and(|b| *b >= 0x81) {
                    2
                } else {
                    1
                }
            }
        };
        if i + len > max {
            break;
        }
        i += len;
        cut = i;
    }
    cut.clamp(1, bytes.len())
}

/// `name="…"` and `filename="…"` parameters; RFC 2047 / RFC 2231 forms for non-ASCII names.
fn file_name_params(file_name: &str) -> (String, String) {
    let plain = file_name
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        (
            format!("name=\"{file_name}\""),
            format!("filename=\"{file_name}\""),
        )
    } else {
        let mut pct = String::new();
        for b in file_name.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                pct.push(char::from(b));
            } else {
                pct.push_str(&format!("%{b:02X}"));
            }
        }
        (
            format!(
                "name=\"{}\"",
                encoded_words(Charset::Utf8, file_name.as_bytes())
            ),
            format!("filename*=UTF-8''{pct}"),
        )
    }
}

/// A multipart boundary that occurs in no part: `=_` never appears in base64 text, and the
/// counter moves on while a verbatim body happens to contain it.
fn boundary_for(job: &MailJob) -> String {
    let mut n: u32 = 0;
    loop {
        let candidate = format!("=_atconform_{n:04}");
        let needle = candidate.as_bytes();
        let clash = job.body.bytes.windows(needle.len()).any(|w| w == needle);
        if !clash {
            return candidate;
        }
        n = n.wrapping_add(1);
    }
}
