//! The `tencent-ses` profile: one test per rule of 003, each showing the exact reply.
//! Rule numbers refer to ERRATA.md S-entries where 003 needed interpreting.

use std::time::Duration;

use smtp_sink::ses::SES_TOO_LONG_LINE;
use smtp_sink::{Account, AuthPolicy, CloseReason, Profile, SessionConfig, SharedState};

use crate::harness::{H, b64};

const PREFIX: &str =
    "554 5.0.0 Error: transaction failed, blame it on the weather: ##SES-response-json: ";

fn ses_config() -> SessionConfig {
    let mut c = SessionConfig::new(Profile::TencentSes);
    c.auth = AuthPolicy::Accounts(vec![Account::new("abc@cd.com", "pw")]);
    c
}

/// An authenticated implicit-TLS session (003: port 465, "mail.smtp.auth" true).
fn authed_with(shared: SharedState) -> H {
    let mut h = H::with_shared(ses_config(), shared, 1, true);
    h.send("EHLO client\r\n");
    let r = h.send(format!("AUTH PLAIN {}\r\n", b64("\0abc@cd.com\0pw")));
    assert_eq!(r, "235 2.7.0 Authentication successful\r\n");
    h
}

fn authed() -> H {
    authed_with(SharedState::default())
}

const GOOD_HEADERS: &str =
    "From: test <abc@cd.com>\r\nTo: test@test123.com\r\nSubject: test subject\r\n";

fn simple(headers: &str, body: &str) -> String {
    format!("{headers}\r\n{body}\r\n")
}

fn good() -> String {
    simple(
        &format!("{GOOD_HEADERS}Content-Type: text/html; charset=UTF-8\r\n"),
        "<h1>hi</h1>",
    )
}

/// Parses a business-error reply and returns (Code, Message).
fn business(reply: &str) -> (String, String) {
    let json = reply
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not an SES business error: {reply:?}"));
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON");
    let id = v["Response"]["RequestId"].as_str().expect("RequestId");
    assert_eq!(id.len(), 36, "{id}");
    let e = &v["QcloudError"]["Error"];
    (
        e["Code"].as_str().unwrap().into(),
        e["Message"].as_str().unwrap().into(),
    )
}

fn send(h: &mut H, msg: &str) -> String {
    h.mail("abc@cd.com", &["test@test123.com"], msg)
}

fn multipart(parts: &[String]) -> String {
    let mut m = format!(
        "{GOOD_HEADERS}Mime-Version: 1.0\r\nContent-Type: multipart/mixed;boundary=GoBoundary\r\n\r\n"
    );
    m += "--GoBoundary\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>body</p>\r\n";
    for p in parts {
        m += "--GoBoundary\r\n";
        m += p;
    }
    m += "--GoBoundary--\r\n";
    m
}

/// An attachment part as 003's Go sample builds it, with `size` bytes, base64 in 76-char lines.
fn attachment(name: &str, size: usize) -> String {
    use base64::Engine as _;
    let data = vec![b'a'; size];
    let enc = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut p = format!(
        "Content-Transfer-Encoding:base64\r\nContent-Disposition:attachment\r\n\
         Content-Type:application/octet-stream;name=\"{name}\"\r\n\r\n"
    );
    for chunk in enc.as_bytes().chunks(76) {
        p += std::str::from_utf8(chunk).unwrap();
        p += "\r\n";
    }
    p
}

#[test]
fn s1_plain_port_is_refused_without_a_byte() {
    // 003 "SMTP 服务地址": 465 (SSL) only, "目前已禁用 25 端口".
    let h = H::new(ses_config());
    assert_eq!(h.all_out, b"");
    assert_eq!(h.closed, Some(CloseReason::Refused));
}

#[test]
fn implicit_tls_greets_and_does_not_offer_starttls() {
    let mut h = H::tls(ses_config());
    assert!(String::from_utf8_lossy(&h.all_out).starts_with("220 "));
    let ehlo = h.send("EHLO x\r\n");
    assert!(
        !ehlo.contains("STARTTLS") && ehlo.contains("250 AUTH PLAIN LOGIN"),
        "{ehlo}"
    );
}

#[test]
fn auth_is_required() {
    let mut h = H::tls(ses_config());
    h.send("EHLO x\r\n");
    assert_eq!(
        h.send("MAIL FROM:<abc@cd.com>\r\n"),
        "530 5.7.0 Authentication required\r\n"
    );
    assert_eq!(
        h.send(format!("AUTH PLAIN {}\r\n", b64("\0abc@cd.com\0nope"))),
        "535 5.7.8 Error: authentication credentials invalid\r\n"
    );
}

#[test]
fn well_formed_message_as_in_the_go_sample_is_accepted() {
    let mut h = authed();
    assert_eq!(send(&mut h, &good()), "250 2.0.0 Ok: queued as 1\r\n");
    let m = multipart(&[attachment("./go.mod", 100), attachment("./bbbb.txt", 10)]);
    assert_eq!(send(&mut h, &m), "250 2.0.0 Ok: queued as 2\r\n");
    let parsed = h.accepted[1].parsed();
    assert_eq!(parsed.attachments.len(), 2);
    assert_eq!(parsed.attachments[0].bytes, vec![b'a'; 100]);
}

#[test]
fn from_is_required() {
    let mut h = authed();
    let r = send(
        &mut h,
        &simple(
            "To: t@x\r\nSubject: s\r\nContent-Type: text/plain; charset=UTF-8\r\n",
            "b",
        ),
    );
    assert_eq!(
        business(&r),
        ("FailedOperation".into(), "msg.From is null".into())
    );
}

#[test]
fn to_is_required() {
    let mut h = authed();
    let r = send(
        &mut h,
        &simple(
            "From: a@x\r\nSubject: s\r\nContent-Type: text/plain; charset=UTF-8\r\n",
            "b",
        ),
    );
    assert_eq!(
        business(&r),
        ("FailedOperation".into(), "msg.To is null".into())
    );
}

#[test]
fn subject_is_required() {
    let mut h = authed();
    let r = send(
        &mut h,
        &simple(
            "From: a@x\r\nTo: t@x\r\nContent-Type: text/plain; charset=UTF-8\r\n",
            "b",
        ),
    );
    assert_eq!(
        business(&r),
        ("FailedOperation".into(), "msg.Subject is null".into())
    );
}

#[test]
fn body_is_required() {
    let mut h = authed();
    let r = send(
        &mut h,
        &simple(
            &format!("{GOOD_HEADERS}Content-Type: text/plain; charset=UTF-8\r\n"),
            "",
        ),
    );
    assert_eq!(
        business(&r),
        ("FailedOperation".into(), "msg.Body is null".into())
    );
}

#[test]
fn content_type_must_be_in_the_whitelist() {
    let bad = [
        "Content-Type: text/plain; charset=GBK\r\n",
        "Content-Type: application/json\r\n",
        "Content-Type: multipart/signed; boundary=x\r\n",
        "",
    ];
    for ct in bad {
        let mut h = authed();
        let r = send(&mut h, &simple(&format!("{GOOD_HEADERS}{ct}"), "b"));
        let (code, msg) = business(&r);
        assert_eq!(code, "FailedOperation");
        assert!(msg.starts_with("Content-Type must in"), "{ct}: {msg}");
    }
    for ct in ["text/plain; charset=UTF-8", "text/html; charset=utf-8"] {
        let mut h = authed();
        let r = send(
            &mut h,
            &simple(&format!("{GOOD_HEADERS}Content-Type: {ct}\r\n"), "b"),
        );
        assert_eq!(r, "250 2.0.0 Ok: queued as 1\r\n", "{ct}");
    }
}

#[test]
fn mime_version_must_be_1_0_or_absent() {
    let mut h = authed();
    let r = send(
        &mut h,
        &simple(
            &format!(
                "{GOOD_HEADERS}MIME-Version: 2.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            ),
            "b",
        ),
    );
    let (code, msg) = business(&r);
    assert_eq!(
        (code.as_str(), msg.starts_with("Mime-Version must in")),
        ("FailedOperation", true)
    );
    let r = send(
        &mut h,
        &simple(
            &format!(
                "{GOOD_HEADERS}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            ),
            "b",
        ),
    );
    assert_eq!(r, "250 2.0.0 Ok: queued as 1\r\n");
}

#[test]
fn attachments_must_be_base64() {
    let mut h = authed();
    let part =
        "Content-Transfer-Encoding: 7bit\r\nContent-Disposition: attachment; filename=a.txt\r\n\
                Content-Type: text/plain\r\n\r\nplain text\r\n"
            .to_string();
    let (code, msg) = business(&send(&mut h, &multipart(&[part])));
    assert_eq!(code, "FailedOperation");
    assert!(
        msg.starts_with("Content-Transfer-Encoding must in"),
        "{msg}"
    );
}

#[test]
fn attachment_content_must_be_valid_base64() {
    let mut h = authed();
    let part = "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\
                Content-Type: application/octet-stream\r\n\r\n@@@not*base64@@@\r\n"
        .to_string();
    let (code, msg) = business(&send(&mut h, &multipart(&[part])));
    assert_eq!(code, "FailedOperation");
    assert!(
        msg.starts_with("Incorrect attachment content. Make sure the base64 content is"),
        "{msg}"
    );
}

#[test]
fn at_most_ten_attachments() {
    let mut h = authed();
    let ten: Vec<String> = (0..10)
        .map(|i| attachment(&format!("{i}.txt"), 10))
        .collect();
    assert_eq!(
        send(&mut h, &multipart(&ten)),
        "250 2.0.0 Ok: queued as 1\r\n"
    );
    let eleven: Vec<String> = (0..11)
        .map(|i| attachment(&format!("{i}.txt"), 10))
        .collect();
    let (code, msg) = business(&send(&mut h, &multipart(&eleven)));
    assert_eq!(code, "FailedOperation");
    assert!(msg.starts_with("Too many attachments"), "{msg}");
}

#[test]
fn single_attachment_over_5m_is_too_large() {
    // ERRATA S6: 003's error table ("单个附件超过5M") with M = MiB, decoded size.
    let mut h = authed();
    let ok = multipart(&[attachment("ok.bin", 5 * 1024 * 1024)]);
    assert_eq!(send(&mut h, &ok), "250 2.0.0 Ok: queued as 1\r\n");
    let big = multipart(&[attachment("big.bin", 5 * 1024 * 1024 + 1)]);
    let (code, msg) = business(&send(&mut h, &big));
    assert_eq!(code, "FailedOperation");
    assert!(
        msg.starts_with("The attachments are too large. Make sure they do not exceed the"),
        "{msg}"
    );
}

#[test]
fn total_attachments_over_the_limit_are_too_large() {
    // With the default limits the 10 MiB message cap (S6) is reached first (base64 adds a third),
    // so the total rule is shown with scaled-down limits: 3 × 40 bytes > 100 bytes total.
    let mut c = ses_config();
    c.ses.max_attachments_total = 100;
    c.ses.max_attachment = 50;
    let mut h = H::tls(c);
    h.send(format!(
        "EHLO x\r\nAUTH PLAIN {}\r\n",
        b64("\0abc@cd.com\0pw")
    ));
    let parts: Vec<String> = (0..3).map(|i| attachment(&format!("{i}"), 40)).collect();
    let (_, msg) = business(&send(&mut h, &multipart(&parts)));
    assert!(msg.starts_with("The attachments are too large"), "{msg}");
}

#[test]
fn body_without_attachments_over_1m_is_too_large() {
    let mut h = authed();
    let line = format!("{}\r\n", "x".repeat(1000));
    let body = line.repeat(1100); // 1.1 MB of text, lines under 2000
    let r = send(
        &mut h,
        &simple(
            &format!("{GOOD_HEADERS}Content-Type: text/plain; charset=UTF-8\r\n"),
            &body,
        ),
    );
    let (code, msg) = business(&r);
    assert_eq!(code, "FailedOperation");
    assert!(
        msg.starts_with("The email is too large. Remove some content"),
        "{msg}"
    );
}

#[test]
fn body_line_over_2000_characters_gets_the_weather_reply() {
    // 003 "系统级错误" 1: the exact text.
    let mut h = authed();
    let ok = simple(
        &format!("{GOOD_HEADERS}Content-Type: text/plain; charset=UTF-8\r\n"),
        &"y".repeat(2000),
    );
    assert_eq!(send(&mut h, &ok), "250 2.0.0 Ok: queued as 1\r\n");
    let long = simple(
        &format!("{GOOD_HEADERS}Content-Type: text/plain; charset=UTF-8\r\n"),
        &"y".repeat(2001),
    );
    let r = send(&mut h, &long);
    assert_eq!(r, format!("{SES_TOO_LONG_LINE}\r\n"));
    assert_eq!(
        r,
        "554 5.0.0 Error: transaction failed, blame it on the weather: smtp: too longer line in input stream\r\n"
    );
    assert_eq!(h.accepted.len(), 1);
}

#[test]
fn the_2000_limit_counts_body_characters_not_header_octets() {
    // ERRATA S4: "body 部分单行超过2000" — body lines, in characters.
    let mut h = authed();
    let ct = "Content-Type: text/plain; charset=UTF-8\r\n";
    // 2000 characters of three octets each (6000 octets): accepted.
    let wide = simple(&format!("{GOOD_HEADERS}{ct}"), &"测".repeat(2000));
    assert_eq!(send(&mut h, &wide), "250 2.0.0 Ok: queued as 1\r\n");
    let wider = simple(&format!("{GOOD_HEADERS}{ct}"), &"测".repeat(2001));
    assert_eq!(send(&mut h, &wider), format!("{SES_TOO_LONG_LINE}\r\n"));
    // A header line over 2000 octets is not a body line.
    let header = format!("{GOOD_HEADERS}{ct}X-Long: {}\r\n", "h".repeat(2500));
    assert_eq!(
        send(&mut h, &simple(&header, "short body")),
        "250 2.0.0 Ok: queued as 2\r\n"
    );
    assert!(!smtp_sink::ses::body_line_too_long(
        b"A: b\r\n\r\n\xff\xfe",
        2
    ));
    assert!(smtp_sink::ses::body_line_too_long(
        b"A: b\r\n\r\n\xff\xfe\xfd",
        2
    ));
}

#[test]
fn at_most_fifty_recipients() {
    let mut h = authed();
    let fifty: Vec<String> = (0..50).map(|i| format!("r{i}@x.com")).collect();
    let fifty: Vec<&str> = fifty.iter().map(String::as_str).collect();
    assert_eq!(
        h.mail("abc@cd.com", &fifty, &good()),
        "250 2.0.0 Ok: queued as 1\r\n"
    );
    let many: Vec<String> = (0..51).map(|i| format!("s{i}@x.com")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (code, msg) = business(&h.mail("abc@cd.com", &many, &good()));
    assert_eq!(code, "FailedOperation");
    assert!(msg.starts_with("Too many recipients"), "{msg}");
}

#[test]
fn twenty_per_second_per_account_then_request_limit_exceeded() {
    // 003 "使用 SMTP 发信频率": 20/1s per appId (the authenticated account).
    let mut h = authed();
    for i in 0..20 {
        let r = h.mail("abc@cd.com", &[&format!("r{i}@x.com")], &good());
        assert!(r.starts_with("250 "), "{i}: {r}");
    }
    let r = h.mail("abc@cd.com", &["other@x.com"], &good());
    assert_eq!(
        business(&r),
        (
            "RequestLimitExceeded.SmtpRateLimit".into(),
            "smtp sending frequency limit exceeded".into()
        )
    );
    h.advance(Duration::from_secs(1));
    assert!(
        h.mail("abc@cd.com", &["other@x.com"], &good())
            .starts_with("250 ")
    );
}

#[test]
fn ten_per_hour_per_sender_recipient_pair_across_connections() {
    let shared = SharedState::default();
    let mut h = authed_with(shared.clone());
    for i in 0..10 {
        // One a minute, inside the 60 s idle timeout.
        h.advance(Duration::from_secs(59));
        assert!(send(&mut h, &good()).starts_with("250 "), "{i}");
    }
    // A new connection shares the limiter (state per sink, not per connection).
    let mut h2 = authed_with(shared.clone());
    h2.now = h.now;
    let (code, _) = business(&send(&mut h2, &good()));
    assert_eq!(code, "RequestLimitExceeded.SmtpRateLimit");
    assert!(
        h2.mail("abc@cd.com", &["someone-else@x.com"], &good())
            .starts_with("250 ")
    );
    // An hour after the first of the ten, the pair may send again.
    let mut h3 = authed_with(shared);
    h3.now = smtp_sink::Instant::from_elapsed(Duration::from_secs(59 + 3600));
    assert!(send(&mut h3, &good()).starts_with("250 "));
}

#[test]
fn message_over_10m_gets_eof() {
    // 003: "附件9M左右 返回 EOF ... 整体报文大小不能超过10M" (ERRATA S6).
    let mut h = authed();
    h.send("MAIL FROM:<abc@cd.com>\r\nRCPT TO:<t@x.com>\r\nDATA\r\n");
    let chunk = format!("{}\r\n", "z".repeat(1000)).repeat(1024);
    let mut out = String::new();
    for _ in 0..11 {
        out += &h.send(&chunk);
    }
    assert_eq!(out, "");
    assert_eq!(h.closed, Some(CloseReason::ProtocolError));
    assert!(h.accepted.is_empty());
}

#[test]
fn request_ids_are_deterministic_per_seed() {
    let reply = |seed| {
        let mut h = authed_with(SharedState::new(seed, 1));
        send(
            &mut h,
            &simple(
                "To: t@x\r\nSubject: s\r\nContent-Type: text/plain; charset=UTF-8\r\n",
                "b",
            ),
        )
    };
    assert_eq!(reply(7), reply(7));
    assert_ne!(reply(7), reply(8));
}
