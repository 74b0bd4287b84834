//! End to end, second dialect: Multi-Tech `AT#PUTMAIL` (002) delivering to aiosmtpd.

mod common;

use at_emulator::EmulatorConfig;
use at_emulator::driver::{Driver, Smtp};
use common::{PASS, Peer, USER, resolve_163};
use mail_parser::MessageParser;

#[test]
fn putmail_delivers_to_aiosmtpd() {
    let peer = Peer::start();
    let mut m = Driver::new(
        EmulatorConfig::builtin("multitech").expect("multitech"),
        Smtp::new(resolve_163(peer.plain)),
    );
    m.write(b"ATE0\r");
    m.read_available();
    // Parameters #PUTMAIL reads (002 "Values"; syntax ERRATA E21).
    for line in [
        "AT#SMTPSERV=\"smtp.163.com\"".to_owned(),
        "AT#SMTPPORT=25".to_owned(),
        format!("AT#SMTPUN=\"{USER}\""),
        format!("AT#SMTPPW=\"{PASS}\""),
        "AT#DOMAIN=\"example.com\"".to_owned(),
        "AT#SENDERADDR=\"modem@example.com\"".to_owned(),
        "AT#SENDERNAME=\"Modem\"".to_owned(),
        "AT#REC1=\"quectel_test@163.com\"".to_owned(),
        "AT#CCREC1=\"quectel_test@21cn.com\"".to_owned(),
        "AT#SUBJ1=\"TEST PUTMAIL\"".to_owned(),
    ] {
        common::ok(&mut m, &line);
    }
    m.write(b"AT#PUTMAIL\r");
    let out = String::from_utf8_lossy(&m.read_available()).into_owned();
    assert!(out.contains("OK_Info_WaitingForData"), "{out:?}");
    // Content is not echoed; <CR><LF>.<CR><LF> ends it (002).
    m.write(b"line one\r\n..dot line\r\nline three\r\n.\r\n");
    let mut out = m.read_available();
    if out.is_empty() {
        assert!(
            m.advance_until_output(std::time::Duration::from_secs(400))
                .expect("driver")
        );
        out = m.read_available();
    }
    assert_eq!(String::from_utf8_lossy(&out), "\r\nOK\r\n");
    let got = peer.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "modem@example.com");
    assert_eq!(
        got[0].rcpt,
        ["quectel_test@163.com", "quectel_test@21cn.com"]
    );
    assert_eq!(got[0].auth.as_deref(), Some(USER));
    let msg = MessageParser::default().parse(&got[0].raw).expect("parses");
    assert_eq!(msg.subject(), Some("TEST PUTMAIL"));
    let body = msg.body_text(0).expect("body");
    assert!(
        body.contains("line one") && body.contains("line three"),
        "{body:?}"
    );
    let transcripts = m.smtp_transcripts();
    assert!(transcripts[0].render().contains("C: EHLO example.com\n"));
}
