//! Multi-Tech `AT#PUTMAIL` (002; ERRATA E21–E23).

use core::time::Duration;

use at_emulator::{Fault, QuirkSet};
use at_mailer::{Failure, RecipientKind};

use crate::util::{Bench, auth_failure, s};

fn configured(faults: &[Fault]) -> Bench {
    let mut b = Bench::with("multitech", QuirkSet::NONE, faults);
    assert_eq!(s(&b.send(b"ATE0\r")), "ATE0\r\r\nOK\r\n");
    for l in [
        "AT#REC1=\"to@example.com\"",
        "AT#CCREC1=\"cc@example.com\"",
        "AT#SUBJ1=\"Meter report\"",
        "AT#SENDERADDR=\"modem@example.com\"",
        "AT#SENDERNAME=\"Modem 7\"",
        "AT#DOMAIN=\"example.com\"",
        "AT#SMTPSERV=\"smtp.example.com\"",
        "AT#SMTPPORT=2525",
        "AT#SMTPUN=\"modem\"",
        "AT#SMTPPW=\"secret\"",
    ] {
        assert_eq!(b.cmd(l), "\r\nOK\r\n", "{l}");
    }
    b
}

#[test]
fn parameters_read_back() {
    let mut b = configured(&[]);
    assert_eq!(
        b.cmd("AT#REC1?"),
        "\r\n#REC1: \"to@example.com\"\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT#SMTPPORT?"), "\r\n#SMTPPORT: 2525\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT#SMTPPORT=0"), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT#SMTPPORT=\"25\""), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT#NOSUCH=1"), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT+QSMTPCLR"), "\r\nERROR\r\n"); // Quectel command on Multi-Tech
    assert_eq!(b.cmd("AT#REC1=?"), "\r\nOK\r\n");
}

#[test]
fn putmail_opens_the_session_then_sends_the_unstuffed_body() {
    let mut b = configured(&[]);
    // 002: `OK_Info_WaitingForData` means "An SMTP session has been successfully opened":
    // nothing is printed while the session opens.
    assert_eq!(b.cmd("AT#PUTMAIL"), "");
    let (id, job, _) = b.deliver();
    assert!(job.body.bytes.is_empty(), "the body does not exist yet");
    assert_eq!(job.server, "smtp.example.com");
    assert_eq!(job.port, 2525);
    assert_eq!(job.helo_domain, "example.com");
    assert_eq!(job.auth.as_ref().unwrap().password.expose(), "secret");
    assert_eq!(b.opened(id, Ok(())), "\r\nOK_Info_WaitingForData\r\n");
    // 002: content is not echoed.
    assert_eq!(s(&b.send(b"Line 1\r\n..dotted\r\n")), "");
    assert_eq!(s(&b.send(b".\r\n")), "");
    assert!(b.no_new_delivery(), "the body goes on the session opened");
    let job = b.job_of(id);
    assert_eq!(job.body.bytes, b"Line 1\r\n.dotted\r\n");
    assert_eq!(
        job.recipients,
        [
            (RecipientKind::To, "to@example.com".to_owned()),
            (RecipientKind::Cc, "cc@example.com".to_owned())
        ]
    );
    assert_eq!(job.subject.bytes, b"Meter report");
    assert_eq!(job.sender_name, "Modem 7");
    assert_eq!(b.finish(id, Ok(())), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
}

#[test]
fn putmail_failures() {
    // Opening the session fails: the error comes instead of the prompt.
    for (failure, code) in [
        (Failure::Dns, 38027),
        (Failure::Refused, 38028),
        (auth_failure(), 38029),
    ] {
        let mut b = configured(&[]);
        assert_eq!(b.cmd("AT#PUTMAIL"), "");
        let (id, _, _) = b.deliver();
        assert_eq!(
            b.opened(id, Err(failure)),
            format!("\r\n#CME ERROR: {code}\r\n")
        );
        assert_eq!(b.cmd("AT"), "\r\nOK\r\n", "the module is free again");
    }
    // Rejected after the body (an invalid recipient): "during the data transfer".
    let mut b = configured(&[]);
    b.cmd("AT#PUTMAIL");
    let (id, _, _) = b.deliver();
    b.opened(id, Ok(()));
    b.send(b"x\r\n.\r\n");
    let rcpt = Failure::Protocol {
        stage: at_mailer::Stage::RcptTo,
        code: 553,
        text: "5.1.3 Bad recipient address syntax".into(),
    };
    assert_eq!(b.finish(id, Err(rcpt)), "\r\n#CME ERROR: 38029\r\n");
}

#[test]
fn fifty_seconds_of_inactivity_abort_the_body() {
    let mut b = configured(&[]);
    b.cmd("AT#PUTMAIL");
    let (id, _, _) = b.deliver();
    b.opened(id, Ok(()));
    b.send(b"partial");
    assert_eq!(s(&b.advance(Duration::from_secs(49))), "");
    b.send(b" more");
    assert_eq!(s(&b.advance(Duration::from_secs(49))), "");
    assert_eq!(
        s(&b.advance(Duration::from_secs(1))),
        "\r\n#CME ERROR: 38031\r\n"
    );
    assert!(
        b.cancelled(id),
        "the session opened for the body is given up"
    );
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
}

#[test]
fn not_ready_and_busy() {
    let mut b = Bench::with("multitech", QuirkSet::NONE, &[]);
    b.send(b"ATE0\r");
    assert_eq!(b.cmd("AT#PUTMAIL"), "\r\n#CME ERROR: 38032\r\n");
    // 002: "Once an IP link is established": detached, no session.
    let mut b = configured(&[]);
    assert_eq!(b.cmd("AT+CGATT=0"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT#PUTMAIL"), "\r\n#CME ERROR: 38032\r\n");
    assert!(b.no_new_delivery());
    // Busy while the session opens and while the mail is sent; 300 s without an answer.
    let mut b = configured(&[]);
    b.cmd("AT#PUTMAIL");
    assert_eq!(b.cmd("AT#PUTMAIL"), "\r\n#CME ERROR: 38033\r\n");
    let (id, _, _) = b.deliver();
    b.opened(id, Ok(()));
    b.send(b".\r\n");
    assert_eq!(b.cmd("AT#PUTMAIL"), "\r\n#CME ERROR: 38033\r\n");
    assert_eq!(
        s(&b.advance(Duration::from_secs(300))),
        "\r\n#CME ERROR: 38030\r\n"
    );
    // A session that never opens ends the same way.
    let mut b = configured(&[]);
    b.cmd("AT#PUTMAIL");
    let (id, _, _) = b.deliver();
    assert_eq!(
        s(&b.advance(Duration::from_secs(300))),
        "\r\n#CME ERROR: 38030\r\n"
    );
    assert!(b.cancelled(id));
}
