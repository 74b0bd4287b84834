//! `SmtpClient` against scripted server bytes: no sockets.

use std::time::Duration;

use at_mailer::{
    ClientQuirks, Event, Failure, MAX_REPLY_LINE, SmtpClient, SslType, Stage, frame_data,
};

use crate::sample_job;

const T: Duration = Duration::ZERO;

/// Feeds `reply` and returns everything the client wants to send in response.
fn step(c: &mut SmtpClient, reply: &[u8]) -> Vec<u8> {
    c.handle_input(T, reply);
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit(T) {
        out.extend_from_slice(&b);
    }
    out
}

fn done(c: &mut SmtpClient) -> Option<Result<(), Failure>> {
    while let Some(e) = c.poll_event() {
        if let Event::Done(r) = e {
            return Some(r);
        }
    }
    None
}

const EHLO_PLAIN: &[u8] =
    b"250-smtp.163.com\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n";

#[test]
fn full_session_with_auth_plain() {
    let job = sample_job();
    let mut c = SmtpClient::new(&job);
    assert_eq!(
        step(&mut c, b"220 163.com Anti-spam GT for Coremail System\r\n"),
        b"EHLO ec25.local\r\n"
    );
    // \0sishen664551\0wq664551
    assert_eq!(
        step(&mut c, EHLO_PLAIN),
        b"AUTH PLAIN AHNpc2hlbjY2NDU1MQB3cTY2NDU1MQ==\r\n"
    );
    assert_eq!(
        step(&mut c, b"235 Authentication successful\r\n"),
        b"MAIL FROM:<sishen664551@163.com>\r\n"
    );
    assert_eq!(
        step(&mut c, b"250 Mail OK\r\n"),
        b"RCPT TO:<quectel_test@163.com>\r\n"
    );
    assert_eq!(
        step(&mut c, b"250 Mail OK\r\n"),
        b"RCPT TO:<quectel_test@21cn.com>\r\n"
    );
    // Bcc recipients are in the envelope.
    assert_eq!(
        step(&mut c, b"250 Mail OK\r\n"),
        b"RCPT TO:<hidden@example.test>\r\n"
    );
    assert_eq!(step(&mut c, b"250 Mail OK\r\n"), b"DATA\r\n");
    let data = step(&mut c, b"354 End data with <CR><LF>.<CR><LF>\r\n");
    assert_eq!(data, frame_data(&at_mailer::compose(&job), true));
    assert_eq!(c.stage(), Stage::Body);
    assert_eq!(
        step(&mut c, b"250 Mail OK queued as smtp1\r\n"),
        b"QUIT\r\n"
    );
    assert_eq!(step(&mut c, b"221 Bye\r\n"), b"");
    assert_eq!(done(&mut c), Some(Ok(())));
    assert!(c.is_done());
    let transcript = c.transcript().render();
    assert!(!transcript.contains("AHNpc2hlbjY2NDU1MQB3cTY2NDU1MQ=="));
    assert!(transcript.contains("C: AUTH PLAIN <redacted>\n"));
    assert!(!format!("{:?}", c.transcript()).contains("AHNpc2hl"));
    insta::assert_snapshot!(transcript);
}

#[test]
fn auth_login_when_plain_is_not_offered() {
    // 004 §2: AUTH LOGIN with base64 prompts.
    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"220 ready\r\n");
    assert_eq!(
        step(&mut c, b"250-x\r\n250 AUTH=LOGIN\r\n"),
        b"AUTH LOGIN\r\n"
    );
    assert_eq!(
        step(&mut c, b"334 VXNlcm5hbWU6\r\n"),
        b"c2lzaGVuNjY0NTUx\r\n"
    );
    assert_eq!(step(&mut c, b"334 UGFzc3dvcmQ6\r\n"), b"d3E2NjQ1NTE=\r\n");
    assert_eq!(
        step(&mut c, b"235 go ahead\r\n"),
        b"MAIL FROM:<sishen664551@163.com>\r\n"
    );
    let rendered = c.transcript().render();
    assert!(!rendered.contains("d3E2NjQ1NTE="), "{rendered}");
    assert_eq!(rendered.matches("<redacted>").count(), 2);
}

#[test]
fn force_auth_login_quirk() {
    let mut job = sample_job();
    job.quirks = ClientQuirks {
        force_auth_login: true,
        ..ClientQuirks::NONE
    };
    let mut c = SmtpClient::new(&job);
    step(&mut c, b"220 ready\r\n");
    assert_eq!(step(&mut c, EHLO_PLAIN), b"AUTH LOGIN\r\n");
}

#[test]
fn auth_failure_maps_to_677_535() {
    // 000 §4.4: 535 means wrong username or password.
    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"220 ready\r\n");
    step(&mut c, EHLO_PLAIN);
    // RFC 5321 §4.1.1.10: QUIT before closing; the failure is reported once it is answered.
    assert_eq!(
        step(&mut c, b"535 Error: authentication failed\r\n"),
        b"QUIT\r\n"
    );
    assert_eq!(done(&mut c), None);
    assert_eq!(step(&mut c, b"221 bye\r\n"), b"");
    let failure = done(&mut c).expect("done").expect_err("fails");
    assert_eq!(
        failure,
        Failure::Protocol {
            stage: Stage::Auth,
            code: 535,
            text: "Error: authentication failed".into()
        }
    );
    assert_eq!(failure.quectel_codes(), (677, 535));
    // Sticky: later input is ignored.
    assert_eq!(step(&mut c, b"250 ok\r\n"), b"");
    assert_eq!(c.poll_event(), None);
}

#[test]
fn no_auth_mechanism_is_655() {
    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"220 ready\r\n");
    assert_eq!(step(&mut c, b"250-x\r\n250 AUTH CRAM-MD5\r\n"), b"QUIT\r\n");
    // A close instead of `221` still reports the failure, not a reset.
    c.handle_close(T);
    let f = done(&mut c).expect("done").expect_err("fails");
    assert_eq!(f, Failure::AuthUnsupported);
    assert_eq!(f.quectel_codes(), (655, 0));
}

#[test]
fn no_account_skips_auth() {
    let mut job = sample_job();
    job.auth = None;
    let mut c = SmtpClient::new(&job);
    step(&mut c, b"220 ready\r\n");
    assert_eq!(
        step(&mut c, b"250 x\r\n"),
        b"MAIL FROM:<sishen664551@163.com>\r\n"
    );
}

#[test]
fn starttls_upgrade_and_ehlo_again() {
    let mut job = sample_job();
    job.ssl = SslType::StartTls;
    let mut c = SmtpClient::new(&job);
    step(&mut c, b"220 ready\r\n");
    assert_eq!(step(&mut c, b"250-x\r\n250 STARTTLS\r\n"), b"STARTTLS\r\n");
    // Bytes injected after the 220 (CVE-2011-0411 style) are discarded.
    assert_eq!(step(&mut c, b"220 go ahead\r\n250 injected\r\n"), b"");
    assert_eq!(c.poll_event(), Some(Event::UpgradeTls));
    assert_eq!(c.stage(), Stage::StartTls);
    c.tls_established(T);
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit(T) {
        out.extend(b);
    }
    assert_eq!(out, b"EHLO ec25.local\r\n");
    assert_eq!(
        step(&mut c, EHLO_PLAIN),
        b"AUTH PLAIN AHNpc2hlbjY2NDU1MQB3cTY2NDU1MQ==\r\n"
    );
    assert!(
        c.transcript()
            .render()
            .contains("-- TLS --\nC: EHLO ec25.local\n")
    );
}

#[test]
fn starttls_not_offered_is_tls_failure() {
    let mut job = sample_job();
    job.ssl = SslType::StartTls;
    let mut c = SmtpClient::new(&job);
    step(&mut c, b"220 ready\r\n");
    assert_eq!(step(&mut c, EHLO_PLAIN), b"QUIT\r\n");
    step(&mut c, b"221 bye\r\n");
    let f = done(&mut c).expect("done").expect_err("fails");
    assert!(matches!(f, Failure::Tls(_)));
    assert_eq!(f.quectel_codes(), (665, 0));
}

#[test]
fn ehlo_rejected_falls_back_to_helo() {
    let mut job = sample_job();
    job.auth = None;
    let mut c = SmtpClient::new(&job);
    step(&mut c, b"220 old server\r\n");
    assert_eq!(
        step(&mut c, b"502 command not implemented\r\n"),
        b"HELO ec25.local\r\n"
    );
    assert_eq!(
        step(&mut c, b"250 hello\r\n"),
        b"MAIL FROM:<sishen664551@163.com>\r\n"
    );
}

#[test]
fn greeting_421_maps_to_666() {
    let mut c = SmtpClient::new(&sample_job());
    // 421: the server is closing (RFC 5321 §3.8), so no QUIT.
    assert_eq!(step(&mut c, b"421 too busy\r\n"), b"");
    let f = done(&mut c).expect("done").expect_err("fails");
    assert_eq!(f.quectel_codes(), (666, 421));
}

#[test]
fn rcpt_rejected_maps_to_678_550() {
    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"220 ready\r\n");
    step(&mut c, EHLO_PLAIN);
    step(&mut c, b"235 ok\r\n");
    step(&mut c, b"250 ok\r\n");
    assert_eq!(step(&mut c, b"550 Mailbox not found\r\n"), b"QUIT\r\n");
    // Whatever answers the QUIT, the failure is the 550.
    step(&mut c, b"500 what\r\n");
    let f = done(&mut c).expect("done").expect_err("fails");
    assert!(matches!(
        f,
        Failure::Protocol {
            stage: Stage::RcptTo,
            code: 550,
            ..
        }
    ));
    assert_eq!(f.quectel_codes(), (678, 550));
}

#[test]
fn replies_split_at_every_byte() {
    let job = sample_job();
    let mut c = SmtpClient::new(&job);
    for b in b"220 a\r\n" {
        c.handle_input(T, &[*b]);
    }
    assert_eq!(
        c.poll_transmit(T).as_deref(),
        Some(&b"EHLO ec25.local\r\n"[..])
    );
    for b in EHLO_PLAIN {
        c.handle_input(T, &[*b]);
    }
    assert!(
        c.poll_transmit(T)
            .is_some_and(|b| b.starts_with(b"AUTH PLAIN "))
    );
}

#[test]
fn close_mid_data_is_656() {
    let mut job = sample_job();
    job.auth = None;
    let mut c = SmtpClient::new(&job);
    for r in [
        &b"220 a\r\n"[..],
        b"250 x\r\n",
        b"250 ok\r\n",
        b"250 ok\r\n",
        b"250 ok\r\n",
        b"250 ok\r\n",
        b"354 go\r\n",
    ] {
        step(&mut c, r);
    }
    assert_eq!(c.stage(), Stage::Body);
    c.handle_close(T);
    let f = done(&mut c).expect("done").expect_err("fails");
    assert_eq!(f, Failure::Reset { stage: Stage::Body });
    assert_eq!(f.quectel_codes(), (656, 0));
}

#[test]
fn close_after_acceptance_is_success() {
    let mut job = sample_job();
    job.auth = None;
    let mut c = SmtpClient::new(&job);
    for r in [
        &b"220 a\r\n"[..],
        b"250 x\r\n",
        b"250 ok\r\n",
        b"250 ok\r\n",
        b"250 ok\r\n",
        b"250 ok\r\n",
        b"354 go\r\n",
        b"250 queued\r\n",
    ] {
        step(&mut c, r);
    }
    c.handle_close(T);
    assert_eq!(done(&mut c), Some(Ok(())));
}

#[test]
fn malformed_and_oversized_replies_fail_cleanly() {
    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"hello there\r\n");
    let f = done(&mut c).expect("done").expect_err("fails");
    assert!(matches!(
        f,
        Failure::Malformed {
            stage: Stage::Greeting,
            ..
        }
    ));

    let mut c = SmtpClient::new(&sample_job());
    c.handle_input(T, &vec![b'2'; MAX_REPLY_LINE + 10]);
    let f = done(&mut c).expect("done").expect_err("fails");
    assert!(matches!(f, Failure::Malformed { .. }));

    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"250-a\r\n251 b\r\n");
    assert!(matches!(done(&mut c), Some(Err(Failure::Malformed { .. }))));
}

#[test]
fn no_recipient_is_659() {
    let mut job = sample_job();
    job.auth = None;
    job.recipients.clear();
    let mut c = SmtpClient::new(&job);
    step(&mut c, b"220 a\r\n");
    step(&mut c, b"250 x\r\n");
    step(&mut c, b"250 ok\r\n");
    let f = done(&mut c).expect("done").expect_err("fails");
    assert_eq!(f.quectel_codes(), (659, 0));
}

#[test]
fn dot_stuffing_and_terminator() {
    assert_eq!(
        frame_data(b".a\r\nb\r\n..c\r\n", true),
        b"..a\r\nb\r\n...c\r\n.\r\n"
    );
    assert_eq!(
        frame_data(b".a\r\nno newline", true),
        b"..a\r\nno newline\r\n.\r\n"
    );
    // Quirk: a firmware that forgets to stuff sends a lone "." that ends the data early.
    assert_eq!(
        frame_data(b"a\r\n.\r\nb\r\n", false),
        b"a\r\n.\r\nb\r\n.\r\n"
    );
}

#[test]
fn secret_debug_is_redacted() {
    let job = sample_job();
    let dbg = format!("{job:?}");
    assert!(!dbg.contains("wq664551"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
}

#[test]
fn serialised_transcript_redacts_credentials() {
    let mut c = SmtpClient::new(&sample_job());
    step(&mut c, b"220 ready\r\n");
    step(&mut c, EHLO_PLAIN);
    let json = serde_json::to_string(c.transcript()).expect("json");
    assert!(
        json.contains(r#""text":"AUTH PLAIN <redacted>\r\n""#),
        "{json}"
    );
    assert!(!json.contains("AHNpc2hl"), "{json}");
    assert!(json.contains(r#""dir":"sent""#) && json.contains(r#""tls_started_at":null"#));
}
