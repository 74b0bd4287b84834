//! Every quirk changes behaviour against the clean emulator (issue "Firmware quirks").

use core::time::Duration;

use at_emulator::QuirkSet;
use at_emulator::quirks::{QUIRKS, Quirk};
use at_mailer::MailJob;

use crate::util::{Bench, auth_failure, s};

/// Runs `script` on a clean and a quirky EC25 (echo off) and returns both transcripts.
fn both(q: Quirk, script: impl Fn(&mut Bench) -> String) -> (String, String) {
    let mut clean = Bench::quiet("ec25", QuirkSet::NONE);
    let mut quirky = Bench::quiet("ec25", QuirkSet::NONE.with(q));
    (script(&mut clean), script(&mut quirky))
}

fn job(b: &mut Bench) -> MailJob {
    b.deliver().1
}

fn sent_job(q: Quirk, setup: &[&str]) -> (MailJob, MailJob) {
    let run = |set: QuirkSet| {
        let mut b = Bench::quiet("ec25", set);
        b.ready_mail();
        for l in setup {
            b.cmd(l);
        }
        b.cmd("AT+QSMTPPUT=300");
        job(&mut b)
    };
    (run(QuirkSet::NONE), run(QuirkSet::NONE.with(q)))
}

const TESTED: &[&str] = &[
    "body-length-off-by-one",
    "urc-before-ok",
    "no-ok-after-data-mode",
    "guard-time-ignored",
    "escape-needs-no-silence-after",
    "bcc-header-leaked",
    "no-dot-stuffing",
    "lowercase-at-rejected",
    "ate0-ignored",
    "recipient-limit-19",
    "attachment-limit-9",
    "auth-failure-err-660",
    "test-range-contextid-0-15",
    "crlf-lf-only",
    "missing-blank-line-before-ok",
    "cme-as-plain-error",
    "subject-truncated-at-64",
    "hex-subject-not-decoded",
    "input-time-ignored",
    "busy-not-reported",
    "qsmtpclr-keeps-attachments",
    "dst-delete-keeps-cc",
    "qflst-size-wrong",
    "qiact-query-no-ip",
    "echo-doubles-cr",
    "urc-missing-on-timeout",
    "protocol-error-zero",
    "put-before-body-crash-wedge",
    "helo-only",
    "force-auth-login",
    "qfupl-checksum-zero",
    "bodyoriginal-ignored",
    "connect-missing",
    "slow-responses",
];

#[test]
fn every_registered_quirk_has_a_test_here() {
    let names: Vec<&str> = QUIRKS.iter().map(|q| q.name).collect();
    assert_eq!(names, TESTED);
    assert!(QUIRKS.len() >= 25);
}

#[test]
fn body_length_off_by_one() {
    let (c, q) = both(Quirk::BodyLengthOffByOne, |b| {
        b.cmd("AT+QSMTPBODY=0,4");
        s(&b.send(b"abcd"))
    });
    assert_eq!(c, "\r\n+QSMTPBODY: 4\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\n+QSMTPBODY: 5\r\n\r\nOK\r\n");
}

#[test]
fn urc_before_ok() {
    let (c, q) = both(Quirk::UrcBeforeOk, |b| {
        b.ready_mail();
        let mut out = b.cmd("AT+QSMTPPUT=300");
        let (id, _, _) = b.deliver();
        out += &b.finish(id, Ok(()));
        out
    });
    assert_eq!(c, "\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n");
    assert_eq!(q, "\r\n+QSMTPPUT: 0,0\r\n\r\nOK\r\n");
}

#[test]
fn no_ok_after_data_mode() {
    let (c, q) = both(Quirk::NoOkAfterDataMode, |b| {
        b.cmd("AT+QSMTPBODY=0,2");
        s(&b.send(b"ab"))
    });
    assert_eq!(c, "\r\n+QSMTPBODY: 2\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\n+QSMTPBODY: 2\r\n");
}

#[test]
fn guard_time_ignored() {
    let (c, q) = both(Quirk::GuardTimeIgnored, |b| {
        b.cmd("AT+QSMTPBODY=0,100");
        b.send(b"abc+++"); // no silence before +++
        s(&b.advance_ms(1500))
    });
    assert_eq!(c, "");
    assert_eq!(q, "\r\n+QSMTPBODY: 3\r\n\r\nOK\r\n");
}

#[test]
fn escape_needs_no_silence_after() {
    let (c, q) = both(Quirk::EscapeNeedsNoSilenceAfter, |b| {
        b.cmd("AT+QSMTPBODY=0,100");
        b.advance_ms(1500);
        let mut out = s(&b.send(b"+++"));
        out += &s(&b.send(b"x")); // within the after-guard
        out
    });
    assert_eq!(c, "");
    assert_eq!(q, "\r\n+QSMTPBODY: 0\r\n\r\nOK\r\n");
}

#[test]
fn bcc_header_leaked() {
    let (c, q) = sent_job(
        Quirk::BccHeaderLeaked,
        &["AT+QSMTPDST=1,3,\"hidden@x.com\""],
    );
    assert!(!c.quirks.leak_bcc_header);
    assert!(q.quirks.leak_bcc_header);
}

#[test]
fn no_dot_stuffing() {
    let (c, q) = sent_job(Quirk::NoDotStuffing, &[]);
    assert!(!c.quirks.no_dot_stuffing && q.quirks.no_dot_stuffing);
}

#[test]
fn helo_only() {
    let (c, q) = sent_job(Quirk::HeloOnly, &[]);
    assert!(!c.quirks.helo_only && q.quirks.helo_only);
}

#[test]
fn force_auth_login() {
    let (c, q) = sent_job(Quirk::ForceAuthLogin, &[]);
    assert!(!c.quirks.force_auth_login && q.quirks.force_auth_login);
}

#[test]
fn bodyoriginal_ignored() {
    let (c, q) = sent_job(
        Quirk::BodyoriginalIgnored,
        &["AT+QSMTPCFG=\"bodyoriginal\",1"],
    );
    assert!(c.body.original);
    assert!(!q.body.original);
}

#[test]
fn lowercase_at_rejected() {
    let (c, q) = both(Quirk::LowercaseAtRejected, |b| b.cmd("at"));
    assert_eq!(c, "\r\nOK\r\n");
    assert_eq!(q, "\r\nERROR\r\n");
}

#[test]
fn ate0_ignored() {
    let run = |set| {
        let mut b = Bench::with("ec25", set, &[]);
        b.send(b"ATE0\r");
        s(&b.send(b"AT\r"))
    };
    assert_eq!(run(QuirkSet::NONE), "\r\nOK\r\n");
    assert_eq!(
        run(QuirkSet::NONE.with(Quirk::Ate0Ignored)),
        "AT\r\r\nOK\r\n"
    );
}

#[test]
fn echo_doubles_cr() {
    let run = |set| {
        let mut b = Bench::with("ec25", set, &[]);
        s(&b.send(b"AT\r"))
    };
    assert_eq!(run(QuirkSet::NONE), "AT\r\r\nOK\r\n");
    assert_eq!(
        run(QuirkSet::NONE.with(Quirk::EchoDoublesCr)),
        "AT\r\r\r\nOK\r\n"
    );
}

#[test]
fn recipient_limit_19() {
    let (c, q) = both(Quirk::RecipientLimit19, |b| {
        for i in 0..19 {
            b.cmd(&format!("AT+QSMTPDST=1,1,\"r{i}@x.com\""));
        }
        b.cmd("AT+QSMTPDST=1,1,\"r19@x.com\"")
    });
    assert_eq!(c, "\r\nOK\r\n");
    assert_eq!(q, "\r\n+CME ERROR: 664\r\n");
}

#[test]
fn attachment_limit_9() {
    let (c, q) = both(Quirk::AttachmentLimit9, |b| {
        b.cmd("AT+QFUPL=\"RAM:f\",1");
        b.send(b"x");
        for i in 1..=9 {
            assert_eq!(b.cmd(&format!("AT+QSMTPATT=1,{i},\"RAM:f\"")), "\r\nOK\r\n");
        }
        b.cmd("AT+QSMTPATT=1,10,\"RAM:f\"")
    });
    assert_eq!(c, "\r\nOK\r\n");
    assert_eq!(q, "\r\n+CME ERROR: 664\r\n");
}

#[test]
fn auth_failure_err_660() {
    let (c, q) = both(Quirk::AuthFailureErr660, |b| {
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=300");
        let (id, _, _) = b.deliver();
        b.finish(id, Err(auth_failure()))
    });
    assert_eq!(c, "\r\n+QSMTPPUT: 677,535\r\n");
    assert_eq!(q, "\r\n+QSMTPPUT: 660,535\r\n");
}

#[test]
fn protocol_error_zero() {
    let (c, q) = both(Quirk::ProtocolErrorZero, |b| {
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=300");
        let (id, _, _) = b.deliver();
        b.finish(id, Err(auth_failure()))
    });
    assert_eq!(c, "\r\n+QSMTPPUT: 677,535\r\n");
    assert_eq!(q, "\r\n+QSMTPPUT: 677,0\r\n");
}

#[test]
fn test_range_contextid_0_15() {
    let (c, q) = both(Quirk::TestRangeContextid0To15, |b| b.cmd("AT+QSMTPCFG=?"));
    assert!(c.contains("\"contextid\",(1-16)"));
    assert!(q.contains("\"contextid\",(0-15)"));
}

#[test]
fn crlf_lf_only() {
    let (c, q) = both(Quirk::CrlfLfOnly, |b| b.cmd("ATI"));
    assert_eq!(
        c,
        "\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A03M4G\r\n\r\nOK\r\n"
    );
    assert_eq!(q, "\nQuectel\nEC25\nRevision: EC25EFAR06A03M4G\n\nOK\n");
}

#[test]
fn missing_blank_line_before_ok() {
    let (c, q) = both(Quirk::MissingBlankLineBeforeOk, |b| b.cmd("AT+QSMTPSUB?"));
    assert_eq!(c, "\r\n+QSMTPSUB: 0,\"\"\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\n+QSMTPSUB: 0,\"\"\r\nOK\r\n");
}

#[test]
fn cme_as_plain_error() {
    let (c, q) = both(Quirk::CmeAsPlainError, |b| b.cmd("AT+QSMTPPUT=1"));
    assert_eq!(c, "\r\n+CME ERROR: 664\r\n");
    assert_eq!(q, "\r\nERROR\r\n");
}

#[test]
fn subject_truncated_at_64() {
    let subject = "S".repeat(80);
    let (c, q) = sent_job(
        Quirk::SubjectTruncatedAt64,
        &[&format!("AT+QSMTPSUB=0,\"{subject}\"")],
    );
    assert_eq!(c.subject.bytes.len(), 80);
    assert_eq!(q.subject.bytes.len(), 64);
}

#[test]
fn hex_subject_not_decoded() {
    let (c, q) = sent_job(
        Quirk::HexSubjectNotDecoded,
        &["AT+QSMTPSUB=1,\"E4BDA0E5A5BD\""],
    );
    assert_eq!(c.subject.bytes, "你好".as_bytes());
    assert_eq!(q.subject.bytes, b"E4BDA0E5A5BD");
}

#[test]
fn input_time_ignored() {
    let (c, q) = both(Quirk::InputTimeIgnored, |b| {
        b.cmd("AT+QSMTPBODY=0,100,5");
        b.send(b"abc");
        s(&b.advance(Duration::from_secs(10)))
    });
    assert_eq!(c, "\r\n+QSMTPBODY: 3\r\n\r\nOK\r\n");
    assert_eq!(q, "");
}

#[test]
fn busy_not_reported() {
    let (c, q) = both(Quirk::BusyNotReported, |b| {
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=300");
        b.cmd("AT+QSMTPPUT=300")
    });
    assert_eq!(c, "\r\n+CME ERROR: 652\r\n");
    assert_eq!(q, "\r\nOK\r\n");
}

#[test]
fn qsmtpclr_keeps_attachments() {
    let (c, q) = both(Quirk::QsmtpclrKeepsAttachments, |b| {
        b.cmd("AT+QFUPL=\"RAM:f\",1");
        b.send(b"x");
        b.cmd("AT+QSMTPATT=1,1,\"RAM:f\"");
        b.cmd("AT+QSMTPCLR");
        b.cmd("AT+QSMTPATT?")
    });
    assert_eq!(c, "\r\nOK\r\n");
    assert_eq!(q, "\r\n+QSMTPATT: 1,\"RAM:f\",1\r\n\r\nOK\r\n");
}

#[test]
fn dst_delete_keeps_cc() {
    let (c, q) = both(Quirk::DstDeleteKeepsCc, |b| {
        b.cmd("AT+QSMTPDST=1,1,\"a@x.com\"");
        b.cmd("AT+QSMTPDST=1,2,\"b@x.com\"");
        b.cmd("AT+QSMTPDST=0");
        b.cmd("AT+QSMTPDST?")
    });
    assert_eq!(c, "\r\nOK\r\n");
    assert_eq!(q, "\r\n+QSMTPDST: 2,\"b@x.com\"\r\n\r\nOK\r\n");
}

#[test]
fn qflst_size_wrong() {
    let (c, q) = both(Quirk::QflstSizeWrong, |b| {
        b.cmd("AT+QFUPL=\"RAM:f\",3");
        b.send(b"xyz");
        b.cmd("AT+QFLST=\"RAM:*\"")
    });
    assert_eq!(c, "\r\n+QFLST: \"RAM:f\",3\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\n+QFLST: \"RAM:f\",2\r\n\r\nOK\r\n");
}

#[test]
fn qfupl_checksum_zero() {
    let (c, q) = both(Quirk::QfuplChecksumZero, |b| {
        b.cmd("AT+QFUPL=\"RAM:f\",2");
        s(&b.send(b"\x12\x34"))
    });
    assert_eq!(c, "\r\n+QFUPL: 2,1234\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\n+QFUPL: 2,0\r\n\r\nOK\r\n");
}

#[test]
fn qiact_query_no_ip() {
    let (c, q) = both(Quirk::QiactQueryNoIp, |b| {
        b.cmd("AT+QIACT=1");
        b.cmd("AT+QIACT?")
    });
    assert_eq!(c, "\r\n+QIACT: 1,1,1,\"10.7.157.1\"\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\n+QIACT: 1,1,1\r\n\r\nOK\r\n");
}

#[test]
fn urc_missing_on_timeout() {
    let (c, q) = both(Quirk::UrcMissingOnTimeout, |b| {
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=60");
        s(&b.advance(Duration::from_secs(60)))
    });
    assert_eq!(c, "\r\n+QSMTPPUT: 658,0\r\n");
    assert_eq!(q, "");
}

#[test]
fn put_before_body_crash_wedge() {
    let (c, q) = both(Quirk::PutBeforeBodyCrashWedge, |b| {
        for l in [
            "AT+QIACT=1",
            "AT+QSMTPCFG=\"smtpserver\",\"h\",25",
            "AT+QSMTPDST=1,1,\"a@b.c\"",
        ] {
            b.cmd(l);
        }
        let mut out = b.cmd("AT+QSMTPPUT=60");
        out += &b.cmd("AT");
        out
    });
    assert_eq!(c, "\r\nOK\r\n\r\nOK\r\n");
    assert_eq!(q, "\r\nOK\r\n"); // the second AT is ignored
    // DTR recovers the wedged module.
    let mut b = Bench::quiet("ec25", QuirkSet::NONE.with(Quirk::PutBeforeBodyCrashWedge));
    b.cmd("AT+QSMTPPUT=60");
    assert_eq!(b.cmd("AT"), "");
    b.m.set_dtr(false);
    b.m.set_dtr(true);
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
}

#[test]
fn connect_missing() {
    let (c, q) = both(Quirk::ConnectMissing, |b| b.cmd("AT+QSMTPBODY=0,5"));
    assert_eq!(c, "\r\nCONNECT\r\n");
    assert_eq!(q, "");
}

#[test]
fn slow_responses() {
    // 000 §2.1.2: 300 ms at most. The quirk answers at 500 ms; the echo is not held.
    let mut b = Bench::with("ec25", QuirkSet::NONE.with(Quirk::SlowResponses), &[]);
    assert_eq!(s(&b.send(b"AT+QSMTPCLR\r")), "AT+QSMTPCLR\r");
    assert_eq!(s(&b.advance_ms(499)), "");
    assert_eq!(s(&b.advance_ms(1)), "\r\nOK\r\n");
    // Two pipelined commands: both answers wait for the first one's 500 ms, in order.
    assert_eq!(s(&b.send(b"ATE0\rAT\r")), "ATE0\r");
    assert_eq!(s(&b.advance_ms(500)), "\r\nOK\r\n\r\nOK\r\n");
    let (c, q) = both(Quirk::SlowResponses, |b| b.cmd("AT"));
    assert_eq!(c, "\r\nOK\r\n");
    assert_eq!(q, "");
}

#[test]
fn profile_quirks_come_from_data() {
    let p = at_catalog::Profile::from_toml_str(
        "base = \"ec25\"\nrevision = \"EC25EFAR06A99M4G\"\nquirks = [\"crlf-lf-only\"]\n",
    )
    .unwrap();
    let cfg = at_emulator::EmulatorConfig::new(p).unwrap();
    assert!(cfg.quirks.contains(Quirk::CrlfLfOnly));
    let bad = at_catalog::Profile::from_toml_str("base = \"ec25\"\nquirks = [\"nope\"]\n").unwrap();
    assert!(at_emulator::EmulatorConfig::new(bad).is_err());
}
