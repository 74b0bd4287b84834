//! `compose`: snapshots of the exact bytes, and mail-parser reading them back.

use at_mailer::{Charset, ClientQuirks, RecipientKind, Subject, compose};
use mail_parser::{MessageParser, MimeHeaders};

use crate::sample_job;

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("composed message is ASCII")
}

#[test]
fn sample_message_snapshot() {
    insta::assert_snapshot!(text(&compose(&sample_job())));
}

#[test]
fn sample_message_parses_back() {
    let job = sample_job();
    let raw = compose(&job);
    let msg = MessageParser::default().parse(&raw).expect("parses");
    let from = msg.from().and_then(|a| a.first()).expect("from");
    assert_eq!(from.name(), Some("sishen664551"));
    assert_eq!(from.address(), Some("sishen664551@163.com"));
    assert_eq!(
        msg.to().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("quectel_test@163.com")
    );
    assert_eq!(
        msg.cc().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("quectel_test@21cn.com")
    );
    assert!(msg.bcc().is_none(), "Bcc must not appear in headers");
    assert!(!text(&raw).contains("hidden@example.test"));
    assert_eq!(msg.subject(), Some("TEST SMTP"));
    assert_eq!(msg.message_id(), Some("1@ec25.local"));
    assert_eq!(
        msg.body_text(0).as_deref(),
        Some("Hello from the emulator.\r\n.leading dot\r\n")
    );
    let atts: Vec<_> = msg.attachments().collect();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].attachment_name(), Some("smtp1.txt"));
    assert_eq!(atts[0].contents(), job.attachments[0].bytes.as_slice());
}

#[test]
fn utf8_subject_is_rfc2047_and_decodes() {
    let mut job = sample_job();
    // 000 §2.2.3: non-ASCII subjects arrive as hex; here already decoded to bytes.
    let subject = "测试邮件：移远通信 EC25 模块发送的一封相当长的中文主题邮件，用来检查折叠";
    job.subject = Subject {
        charset: Charset::Utf8,
        bytes: subject.as_bytes().to_vec(),
    };
    job.attachments.clear();
    let raw = compose(&job);
    let header = text(&raw)
        .lines()
        .skip_while(|l| !l.starts_with("Subject:"))
        .take_while(|l| l.starts_with("Subject:") || l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(header.starts_with("Subject: =?UTF-8?B?"), "{header}");
    for word in header.split_whitespace().filter(|w| w.starts_with("=?")) {
        assert!(word.len() <= 75, "encoded-word too long: {word}");
    }
    let msg = MessageParser::default().parse(&raw).expect("parses");
    assert_eq!(msg.subject(), Some(subject));
}

#[test]
fn utf8_subject_of_000_example_is_encoded() {
    // 000 §2.2.3: AT+QSMTPSUB=1,"7465737420534D5450", which 000 calls "TEST SMTP"; the bytes
    // say `test SMTP` (ERRATA W4), and that is what M2 encodes: one truth, checked against the
    // ERRATA text itself.
    let hex = "7465737420534D5450";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(bytes, b"test SMTP");
    let mut job = sample_job();
    job.subject = Subject {
        charset: Charset::Utf8,
        bytes,
    };
    let raw = text(&compose(&job));
    let word = "=?UTF-8?B?dGVzdCBTTVRQ?=";
    assert!(raw.contains(&format!("Subject: {word}\r\n")), "{raw}");
    let errata = include_str!("../../../../ERRATA.md");
    let entry = |id: &str| {
        let start = errata.find(&format!("**{id}. ")).expect("entry");
        let rest = &errata[start..];
        rest[..rest[2..].find("\n**").map_or(rest.len(), |e| e + 2)].to_owned()
    };
    assert!(entry("W4").contains("`test SMTP`"), "{}", entry("W4"));
    assert!(entry("M2").contains(word), "{}", entry("M2"));
    assert!(
        !errata.contains("VEVTVCBTTVRQ"),
        "no second truth (\"TEST SMTP\") left"
    );
}

#[test]
fn gb2312_and_big5_subjects_name_their_charset() {
    for (charset, name, bytes) in [
        // "测试" in GB2312 and "測試" in Big5.
        (Charset::Gb2312, "GB2312", vec![0xb2, 0xe2, 0xca, 0xd4]),
        (Charset::Big5, "BIG5", vec![0xb4, 0xfa, 0xb8, 0xd5]),
    ] {
        let mut job = sample_job();
        job.subject = Subject { charset, bytes };
        let raw = text(&compose(&job));
        let expected = match charset {
            Charset::Gb2312 => "Subject: =?GB2312?B?suLK1A==?=\r\n",
            _ => "Subject: =?BIG5?B?tPq41Q==?=\r\n",
        };
        assert!(raw.contains(expected), "{name}: {raw}");
    }
}

#[test]
fn long_gb2312_subject_splits_on_character_boundaries() {
    let mut job = sample_job();
    // 100 bytes = 50 two-byte characters; a word holds at most 45 bytes, so 44 per word.
    job.subject = Subject {
        charset: Charset::Gb2312,
        bytes: [0xb2, 0xe2].repeat(50),
    };
    let raw = text(&compose(&job));
    let words: Vec<&str> = raw
        .split_whitespace()
        .filter(|w| w.starts_with("=?GB2312?B?"))
        .collect();
    assert_eq!(words.len(), 3);
    use base64::Engine as _;
    let mut total = 0;
    for w in words {
        let b64 = w.trim_start_matches("=?GB2312?B?").trim_end_matches("?=");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64");
        assert_eq!(decoded.len() % 2, 0, "a character was split");
        total += decoded.len();
    }
    assert_eq!(total, 100);
}

#[test]
fn non_ascii_body_is_base64_with_its_charset() {
    let mut job = sample_job();
    job.attachments.clear();
    job.body.charset = Charset::Utf8;
    job.body.bytes = "正文\nbare LF".as_bytes().to_vec();
    let raw = compose(&job);
    let s = text(&raw);
    assert!(s.contains("Content-Type: text/plain; charset=\"UTF-8\"\r\n"));
    assert!(s.contains("Content-Transfer-Encoding: base64\r\n"));
    let msg = MessageParser::default().parse(&raw).expect("parses");
    let part = msg.text_part(0).expect("text part");
    assert_eq!(part.contents(), job.body.bytes.as_slice());
}

#[test]
fn bodyoriginal_sends_raw_body_without_charset() {
    // ERRATA M1: bodyoriginal=1 → no Content-Type/charset, body bytes verbatim.
    let mut job = sample_job();
    job.attachments.clear();
    job.body.original = true;
    job.body.bytes = b"raw line 1\r\nraw line 2\r\n".to_vec();
    insta::assert_snapshot!(text(&compose(&job)));
}

#[test]
fn bodyoriginal_with_attachment_keeps_part_headerless() {
    let mut job = sample_job();
    job.body.original = true;
    let raw = compose(&job);
    let s = text(&raw);
    assert!(!s.contains("charset"), "{s}");
    let msg = MessageParser::default().parse(&raw).expect("parses");
    assert_eq!(msg.attachments().count(), 1);
    assert_eq!(
        msg.body_text(0).as_deref(),
        Some("Hello from the emulator.\r\n.leading dot\r\n")
    );
}

#[test]
fn leak_bcc_quirk_writes_bcc_header() {
    let mut job = sample_job();
    job.quirks = ClientQuirks {
        leak_bcc_header: true,
        ..ClientQuirks::NONE
    };
    let s = text(&compose(&job));
    assert!(s.contains("Bcc: <hidden@example.test>\r\n"), "{s}");
}

#[test]
fn several_recipients_fold_and_non_ascii_names_encode() {
    let mut job = sample_job();
    job.sender_name = "移远 \"Quectel\"".into();
    job.recipients
        .push((RecipientKind::To, "second@x.test".into()));
    job.attachments[0].file_name = "报告.txt".into();
    let raw = compose(&job);
    let s = text(&raw);
    assert!(
        s.contains("To: <quectel_test@163.com>,\r\n <second@x.test>\r\n"),
        "{s}"
    );
    let msg = MessageParser::default().parse(&raw).expect("parses");
    let from = msg.from().and_then(|a| a.first()).expect("from");
    assert_eq!(from.name(), Some("移远 \"Quectel\""));
    assert_eq!(msg.to().map(|a| a.iter().count()), Some(2));
    let att = msg.attachments().next().expect("attachment");
    assert_eq!(att.attachment_name(), Some("报告.txt"));
}

#[test]
fn compose_is_deterministic() {
    assert_eq!(compose(&sample_job()), compose(&sample_job()));
}

#[test]
fn boundary_avoids_body_text() {
    let mut job = sample_job();
    job.body.bytes = b"--=_atconform_0000\r\n".to_vec();
    let s = text(&compose(&job));
    assert!(s.contains("boundary=\"=_atconform_0001\""), "{s}");
}
