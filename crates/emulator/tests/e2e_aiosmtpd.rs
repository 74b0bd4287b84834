//! End to end: AT commands into the in-process emulator, a real SMTP session to aiosmtpd
//! (an independent implementation from PyPI) over plain TCP, implicit TLS and STARTTLS
//! (000 §1.1, §3.1–§3.3), and the received message parsed back with mail-parser.

mod common;

use common::{BODY, Mail, PASS, Peer, SUBJECT, USER, attachment_bytes, ec25, prepare, put};
use mail_parser::{MessageParser, MimeHeaders};

fn send_and_check(ssltype: u8) {
    let peer = Peer::start();
    let addr = if ssltype == 1 { peer.smtps } else { peer.plain };
    let mut m = ec25(addr);
    let attachment = attachment_bytes();
    prepare(
        &mut m,
        &Mail {
            ssltype,
            password: PASS,
            subject_utf8: SUBJECT,
            body: BODY,
            attachment: &attachment,
        },
    );
    // 000 §2.2.7: OK, then +QSMTPPUT: 0,0 when the mail is sent.
    assert_eq!(put(&mut m), "+QSMTPPUT: 0,0");

    let got = peer.messages();
    assert_eq!(got.len(), 1, "exactly one message");
    let r = &got[0];
    assert_eq!(r.mail_from, format!("{USER}@163.com"));
    // Envelope: To, Cc and Bcc recipients, in the order they were added (000 §2.2.2).
    assert_eq!(
        r.rcpt,
        [
            "quectel_test@163.com",
            "quectel_test@21cn.com",
            "blind@bcc.test"
        ]
    );
    assert_eq!(
        r.tls,
        ssltype != 0,
        "TLS as configured by ssltype {ssltype}"
    );
    assert_eq!(r.auth.as_deref(), Some(USER));

    let msg = MessageParser::default()
        .parse(&r.raw)
        .expect("mail-parser parses it");
    let from = msg.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.name(), Some(USER));
    assert_eq!(from.address(), Some("sishen664551@163.com"));
    let to: Vec<_> = msg
        .to()
        .expect("To")
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, ["quectel_test@163.com"]);
    let cc: Vec<_> = msg
        .cc()
        .expect("Cc")
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(cc, ["quectel_test@21cn.com"]);
    assert!(msg.bcc().is_none(), "no Bcc header");
    assert!(!String::from_utf8_lossy(&r.raw).contains("blind@bcc.test"));
    assert_eq!(msg.subject(), Some(SUBJECT), "RFC 2047 subject decodes");
    let text = msg.text_part(0).expect("text part");
    assert_eq!(
        text.contents(),
        BODY,
        "body byte-identical (dot-stuffing undone)"
    );
    let atts: Vec<_> = msg.attachments().collect();
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].attachment_name(), Some("smtp1.txt"));
    assert_eq!(
        atts[0].contents(),
        attachment.as_slice(),
        "attachment byte-identical"
    );
    assert!(msg.date().is_some() && msg.message_id().is_some());

    // The client side's transcript: one delivery, password redacted in its rendering.
    let transcripts = m.smtp_transcripts();
    assert_eq!(transcripts.len(), 1);
    let rendered = transcripts[0].render();
    assert!(
        rendered.contains("C: MAIL FROM:<sishen664551@163.com>"),
        "{rendered}"
    );
    assert!(!rendered.contains(PASS));
    assert_eq!(transcripts[0].tls_started_at.is_some(), ssltype != 0);
}

#[test]
fn plain_smtp_to_aiosmtpd() {
    send_and_check(0);
}

#[test]
fn implicit_tls_to_aiosmtpd() {
    send_and_check(1);
}

#[test]
fn starttls_to_aiosmtpd() {
    send_and_check(2);
}

#[test]
fn wrong_password_is_677_535() {
    // 000 §4.4: protocol error 535 = authentication failed → <err> 677 (000 §5).
    let peer = Peer::start();
    let mut m = ec25(peer.plain);
    let attachment = attachment_bytes();
    prepare(
        &mut m,
        &Mail {
            ssltype: 0,
            password: "wrong",
            subject_utf8: SUBJECT,
            body: BODY,
            attachment: &attachment,
        },
    );
    assert_eq!(put(&mut m), "+QSMTPPUT: 677,535");
    assert!(peer.messages().is_empty());
}
