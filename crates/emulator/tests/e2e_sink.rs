//! End to end through the project's own capture sink (`smtp-sink`, in process), under its strict
//! RFC 5321 profile and its Tencent Cloud SES profile (003: implicit TLS on 465, AUTH required).

mod common;

use common::{BODY, Mail, PASS, SUBJECT, USER, attachment_bytes, ec25, prepare, put};
use mail_parser::{MessageParser, MimeHeaders};
use smtp_sink::{Profile, SinkConfig};

fn send_through_sink(profile: Profile, ssltype: u8) {
    let sink = smtp_sink::spawn(SinkConfig::new(profile).account(USER, PASS)).expect("sink starts");
    let addr = if ssltype == 1 {
        sink.smtps_addr()
    } else {
        sink.smtp_addr()
    }
    .expect("listener");
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
    assert_eq!(
        put(&mut m),
        "+QSMTPPUT: 0,0",
        "{}",
        m.smtp_transcripts()[0].render()
    );
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    let env = &msgs[0].envelope;
    assert_eq!(env.mail_from, "sishen664551@163.com");
    assert_eq!(
        env.rcpt_to,
        [
            "quectel_test@163.com",
            "quectel_test@21cn.com",
            "blind@bcc.test"
        ]
    );
    assert_eq!(env.tls, ssltype != 0);
    assert_eq!(env.auth_user.as_deref(), Some(USER));
    let msg = MessageParser::default()
        .parse(&msgs[0].raw)
        .expect("parses");
    assert_eq!(msg.subject(), Some(SUBJECT));
    assert!(msg.bcc().is_none());
    assert_eq!(msg.text_part(0).map(|p| p.contents()), Some(BODY));
    let att = msg.attachments().next().expect("attachment");
    assert_eq!(att.attachment_name(), Some("smtp1.txt"));
    assert_eq!(att.contents(), attachment.as_slice());
}

#[test]
fn plain_to_strict_rfc5321_sink() {
    send_through_sink(Profile::Rfc5321, 0);
}

#[test]
fn starttls_to_strict_rfc5321_sink() {
    send_through_sink(Profile::Rfc5321, 2);
}

#[test]
fn implicit_tls_to_tencent_ses_sink() {
    send_through_sink(Profile::TencentSes, 1);
}
