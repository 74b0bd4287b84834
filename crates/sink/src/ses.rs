//! Tencent Cloud SES rules (003): message validation, business-error replies, rate limits.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::message::type_subtype;
use crate::profile::SesLimits;
use crate::time::Instant;

/// The prefix of every SES error reply (003 "错误码": system- and business-level errors).
pub const SES_ERROR_PREFIX: &str = "554 5.0.0 Error: transaction failed, blame it on the weather: ";

/// The exact reply for a body line over 2000 characters (003 "系统级错误" 1; ERRATA S4).
pub const SES_TOO_LONG_LINE: &str = "554 5.0.0 Error: transaction failed, blame it on the weather: smtp: too longer line in input stream";

/// A business error of 003's "一般业务错误说明" table (plus the choices in ERRATA S8–S10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SesViolation {
    /// No `From` (003: "msg.From is null").
    FromMissing,
    /// No `To` (003 marks To 必传 but lists no error; ERRATA S8).
    ToMissing,
    /// No or empty `Subject` (003: "msg.Subject is null").
    SubjectMissing,
    /// No text or HTML body (003: "msg.Body is null").
    BodyMissing,
    /// Top-level Content-Type not in the whitelist (003 输入参数 Content-Type).
    ContentType,
    /// MIME-Version present and not 1.0 (003 输入参数 MIME-Version).
    MimeVersion,
    /// An attachment not in base64 (003 附件部分参数 Content-Transfer-Encoding).
    AttachmentEncoding,
    /// An attachment whose base64 does not decode (003 "Incorrect attachment content").
    AttachmentContent,
    /// More than 10 attachments (003 "附件个数不超过10个"; ERRATA S8).
    TooManyAttachments,
    /// An attachment or their total too large (003 error table; ERRATA S6).
    AttachmentsTooLarge,
    /// Body without attachments over 1M (003 "除了附件之外的邮件正文不能超过 1M").
    BodyTooLarge,
    /// More than 50 recipients (003 Java sample; ERRATA S9).
    TooManyRecipients,
    /// 20/s per account or 10/h per sender→recipient pair (003 "使用 SMTP 发信频率").
    RateLimit,
}

impl SesViolation {
    /// The `Code` field of the error JSON.
    pub fn code(self) -> &'static str {
        match self {
            SesViolation::RateLimit => "RequestLimitExceeded.SmtpRateLimit",
            _ => "FailedOperation",
        }
    }

    /// The `Message` field: 003's text where it prints one (completed where 003 cuts it with
    /// "...", ERRATA S7).
    pub fn message(self) -> &'static str {
        match self {
            SesViolation::FromMissing => "msg.From is null",
            SesViolation::ToMissing => "msg.To is null",
            SesViolation::SubjectMissing => "msg.Subject is null",
            SesViolation::BodyMissing => "msg.Body is null",
            SesViolation::ContentType => {
                "Content-Type must in [text/plain; charset=UTF-8, text/html; charset=UTF-8, multipart/mixed, multipart/related, multipart/alternative]"
            }
            SesViolation::MimeVersion => "Mime-Version must in [1.0]",
            SesViolation::AttachmentEncoding => "Content-Transfer-Encoding must in [base64]",
            SesViolation::AttachmentContent => {
                "Incorrect attachment content. Make sure the base64 content is correct."
            }
            SesViolation::TooManyAttachments => {
                "Too many attachments. Make sure there are no more than 10 attachments."
            }
            SesViolation::AttachmentsTooLarge => {
                "The attachments are too large. Make sure they do not exceed the limit."
            }
            SesViolation::BodyTooLarge => {
                "The email is too large. Remove some content and try again."
            }
            SesViolation::TooManyRecipients => {
                "Too many recipients. Make sure there are no more than 50 recipients."
            }
            SesViolation::RateLimit => "smtp sending frequency limit exceeded",
        }
    }

    /// The whole reply line (without CRLF), with `request_id` in the JSON.
    pub fn reply(self, request_id: &str) -> String {
        // 003 "业务级错误": `{"Response":{"RequestId":…},"QcloudError":{"Error":{"Code":…` (ERRATA S7).
        // Built by hand to keep 003's key order (Response first).
        let q = |s: &str| serde_json::Value::from(s).to_string();
        let json = format!(
            "{{\"Response\":{{\"RequestId\":{}}},\"QcloudError\":{{\"Error\":{{\"Code\":{},\"Message\":{}}}}}}}",
            q(request_id),
            q(self.code()),
            q(self.message())
        );
        format!("{SES_ERROR_PREFIX}##SES-response-json: {json}")
    }
}

fn is_attachment(p: &mail_parser::MessagePart<'_>) -> bool {
    // 003: Content-Disposition "目前仅支持传 attachment" — only those parts are attachments.
    p.content_disposition().is_some_and(|d| d.is_attachment())
}

/// Whether a body line of `raw` (the unstuffed message: every line after the header section's
/// empty line) is longer than `max` characters, CRLF excluded (003 "系统级错误" 1: "body 部分单行
/// 超过2000"; ERRATA S4). Characters are UTF-8 scalar values; a byte that is not UTF-8 counts
/// as one.
pub fn body_line_too_long(raw: &[u8], max: usize) -> bool {
    let body = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&[][..], |p| raw.get(p + 4..).unwrap_or_default());
    body.split(|&b| b == b'\n').any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.len() > max && chars(line) > max
    })
}

/// The number of characters of `bytes` read as UTF-8 (an invalid byte is one).
fn chars(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.utf8_chunks() {
        n += chunk.valid().chars().count() + chunk.invalid().len();
    }
    n
}

/// Checks a complete message against the SES MIME and size rules, in a fixed order.
pub fn check_message(
    raw: &[u8],
    rcpt_count: usize,
    limits: &SesLimits,
) -> Result<(), SesViolation> {
    if rcpt_count > limits.max_recipients {
        return Err(SesViolation::TooManyRecipients);
    }
    let Some(m) = MessageParser::default().parse(raw) else {
        return Err(SesViolation::FromMissing);
    };
    if m.from()
        .is_none_or(|a| a.first().and_then(|a| a.address()).is_none())
    {
        return Err(SesViolation::FromMissing);
    }
    if m.to()
        .is_none_or(|a| a.first().and_then(|a| a.address()).is_none())
    {
        return Err(SesViolation::ToMissing);
    }
    if m.subject().is_none_or(|s| s.trim().is_empty()) {
        return Err(SesViolation::SubjectMissing);
    }
    let root = m.root_part();
    match root.content_type() {
        None => return Err(SesViolation::ContentType),
        Some(ct) => {
            let ts = type_subtype(ct);
            let ok = match ts.as_str() {
                "text/plain" | "text/html" => ct
                    .attribute("charset")
                    .is_some_and(|c| c.eq_ignore_ascii_case("utf-8")),
                "multipart/mixed" | "multipart/related" | "multipart/alternative" => true,
                _ => false,
            };
            if !ok {
                return Err(SesViolation::ContentType);
            }
        }
    }
    if let Some(v) = m.header_raw("MIME-Version")
        && v.trim() != "1.0"
    {
        return Err(SesViolation::MimeVersion);
    }
    let has_body = m
        .parts
        .iter()
        .filter(|p| !is_attachment(p))
        .any(|p| match &p.body {
            PartType::Text(t) | PartType::Html(t) => !t.trim().is_empty(),
            _ => false,
        });
    if !has_body {
        return Err(SesViolation::BodyMissing);
    }
    let attachments: Vec<_> = m.parts.iter().filter(|p| is_attachment(p)).collect();
    if attachments.len() > limits.max_attachments {
        return Err(SesViolation::TooManyAttachments);
    }
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let mut total = 0usize;
    for p in &attachments {
        if !p
            .content_transfer_encoding()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"))
        {
            return Err(SesViolation::AttachmentEncoding);
        }
        let body = raw
            .get(p.offset_body as usize..p.offset_end as usize)
            .unwrap_or_default();
        let compact: Vec<u8> = body
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let decoded = lenient
            .decode(&compact)
            .map_err(|_| SesViolation::AttachmentContent)?;
        if decoded.len() > limits.max_attachment {
            return Err(SesViolation::AttachmentsTooLarge);
        }
        total += decoded.len();
    }
    if total > limits.max_attachments_total {
        return Err(SesViolation::AttachmentsTooLarge);
    }
    let body_size: usize = m
        .parts
        .iter()
        .filter(|p| !is_attachment(p) && !matches!(p.body, PartType::Multipart(_)))
        .map(|p| p.contents().len())
        .sum();
    if body_size > limits.max_body {
        return Err(SesViolation::BodyTooLarge);
    }
    Ok(())
}

/// Sliding-window rate limits of 003: per account per second, per sender→recipient pair per hour.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    accounts: HashMap<String, VecDeque<Instant>>,
    pairs: HashMap<(String, String), VecDeque<Instant>>,
}

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q
        .front()
        .is_some_and(|&t| now.saturating_duration_since(t) >= window)
    {
        q.pop_front();
    }
}

impl RateLimiter {
    /// Whether one more message is allowed; if so, counts it.
    pub(crate) fn try_send(
        &mut self,
        now: Instant,
        limits: &SesLimits,
        account: &str,
        from: &str,
        rcpts: &[String],
    ) -> bool {
        let acc = self.accounts.entry(account.to_string()).or_default();
        prune(acc, now, SECOND);
        if acc.len() >= limits.per_account_per_second {
            return false;
        }
        for r in rcpts {
            if let Some(q) = self
                .pairs
                .get_mut(&(from.to_string(), r.to_ascii_lowercase()))
            {
                prune(q, now, HOUR);
                if q.len() >= limits.per_pair_per_hour {
                    return false;
                }
            }
        }
        acc.push_back(now);
        for r in rcpts {
            self.pairs
                .entry((from.to_string(), r.to_ascii_lowercase()))
                .or_default()
                .push_back(now);
        }
        // Keep memory bounded: forget pairs with no sends in the last hour.
        if self.pairs.len() > 10_000 {
            self.pairs.retain(|_, q| {
                prune(q, now, HOUR);
                !q.is_empty()
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_shape_matches_003() {
        let r = SesViolation::FromMissing.reply("00000000-0000-4000-8000-000000000000");
        assert_eq!(
            r,
            "554 5.0.0 Error: transaction failed, blame it on the weather: ##SES-response-json: \
             {\"Response\":{\"RequestId\":\"00000000-0000-4000-8000-000000000000\"},\
             \"QcloudError\":{\"Error\":{\"Code\":\"FailedOperation\",\"Message\":\"msg.From is null\"}}}"
        );
    }

    #[test]
    fn garbage_messages_never_panic() {
        let limits = SesLimits::default();
        for raw in [
            &b""[..],
            b"\r\n",
            b"\x00\xff",
            b"Content-Type: multipart/mixed\r\n\r\n--",
            b":",
        ] {
            assert!(check_message(raw, 1, &limits).is_err());
            let _ = crate::message::ParsedSummary::parse(raw);
        }
    }

    #[test]
    fn rate_windows_slide() {
        let limits = SesLimits::default();
        let mut rl = RateLimiter::default();
        let rc = |i: usize| vec![format!("r{i}@x")];
        for i in 0..20 {
            assert!(rl.try_send(Instant::ZERO, &limits, "acc", "a@x", &rc(i)));
        }
        assert!(!rl.try_send(Instant::ZERO, &limits, "acc", "a@x", &rc(99)));
        let later = Instant::from_elapsed(SECOND);
        assert!(rl.try_send(later, &limits, "acc", "a@x", &rc(99)));
    }
}
