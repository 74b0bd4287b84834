//! Every liberty changes behaviour against the reference, and a mail liberty delivers the same
//! mail (issue "Liberties, the dual of quirks").

use core::time::Duration;

use at_emulator::liberties::{LIBERTIES, Liberty};
use at_emulator::{Fault, LibertySet, QuirkSet};
use at_mailer::{Failure, MailJob, compose};

use crate::util::{Bench, s};

fn bench(profile: &str, l: Option<Liberty>) -> Bench {
    let set = l.map_or(LibertySet::NONE, |l| LibertySet::NONE.with(l));
    let mut b = Bench::varied(profile, QuirkSet::NONE, set, &[]);
    b.send(b"ATE0\r");
    b.advance(Duration::from_secs(1)); // `answers-within-limits` holds its OK for 1 s
    b
}

/// Runs `script` on the reference and with `l` (EC25, echo off); both outputs.
fn both(l: Liberty, script: impl Fn(&mut Bench) -> String) -> (String, String) {
    (
        script(&mut bench("ec25", None)),
        script(&mut bench("ec25", Some(l))),
    )
}

/// The job of a send with an attachment and a UTF-8 subject, on the reference and with `l`.
fn jobs(l: Liberty) -> (MailJob, MailJob) {
    let run = |b: &mut Bench| {
        b.ready_mail();
        assert_eq!(b.cmd("AT+QSMTPSUB=1,\"E6B58BE8AF95204F4B\""), "\r\nOK\r\n");
        assert_eq!(b.cmd("AT+QFUPL=\"RAM:a.txt\",4"), "\r\nCONNECT\r\n");
        assert!(s(&b.send(b"\x00\xffab")).contains("OK"));
        assert_eq!(b.cmd("AT+QSMTPATT=1,1,\"RAM:a.txt\""), "\r\nOK\r\n");
        b.cmd("AT+QSMTPPUT=300");
        b.deliver().1
    };
    (
        run(&mut bench("ec25", None)),
        run(&mut bench("ec25", Some(l))),
    )
}

/// Attachments as a reader sees them: name and bytes.
type Attachments = Vec<(Option<String>, Vec<u8>)>;

/// What a reader sees of a message: decoded subject, first text body, attachments.
fn seen(job: &MailJob) -> (Option<String>, Option<String>, Attachments) {
    let raw = compose(job);
    let p = smtp_sink::ParsedSummary::parse(&raw);
    let att = p
        .attachments
        .into_iter()
        .map(|a| (a.name, a.bytes))
        .collect();
    (p.subject, p.text_body, att)
}

/// A composition liberty: other bytes, the same mail.
fn same_mail_other_bytes(l: Liberty) -> (String, String) {
    let (r, x) = jobs(l);
    let (rb, xb) = (compose(&r), compose(&x));
    assert_ne!(rb, xb, "{l}: the composition must differ");
    assert_eq!(seen(&r), seen(&x), "{l}: the same mail");
    let (subject, body, att) = seen(&r);
    assert_eq!(subject.as_deref(), Some("测试 OK"));
    assert_eq!(body.as_deref(), Some("hello"));
    assert_eq!(att, [(Some("a.txt".to_owned()), b"\x00\xffab".to_vec())]);
    (s(&rb), s(&xb))
}

const TESTED: &[&str] = &[
    "checksum-sum16",
    "cgreg-roaming",
    "sim-busy-cause",
    "multitech-causes",
    "auth-login-first",
    "body-base64",
    "multipart-always",
    "subject-q-words",
    "ehlo-name",
    "pdp-address",
    "ati-revision",
    "mail-headers",
    "answers-within-limits",
    "slow-send",
    "cipher-order",
    "attachment-types",
    "ag35-bodyoriginal",
];

#[test]
fn every_registered_liberty_has_a_test_here() {
    let names: Vec<&str> = LIBERTIES.iter().map(|l| l.name).collect();
    assert_eq!(names, TESTED);
}

#[test]
fn checksum_sum16() {
    let (r, x) = both(Liberty::ChecksumSum16, |b| {
        b.cmd("AT+QFUPL=\"RAM:c\",3");
        s(&b.send(b"\x12\x34\x56"))
    });
    assert_eq!(r, "\r\n+QFUPL: 3,4434\r\n\r\nOK\r\n"); // 0x1234 ^ 0x5600
    assert_eq!(x, "\r\n+QFUPL: 3,9c\r\n\r\nOK\r\n"); // 0x12 + 0x34 + 0x56
}

#[test]
fn cgreg_roaming() {
    let (r, x) = both(Liberty::CgregRoaming, |b| {
        b.cmd("AT+CGREG=2") + &b.cmd("AT+CGREG?")
    });
    assert!(r.contains("+CGREG: 2,1,\""), "{r}");
    assert!(x.contains("+CGREG: 2,5,\""), "{x}");
    let (r, x) = both(Liberty::CgregRoaming, |b| {
        b.cmd("AT+CGATT=0") + &b.cmd("AT+CGREG?")
    });
    assert_eq!(r, x, "not registered stays 0");
}

#[test]
fn sim_busy_cause() {
    let run = |l: LibertySet| {
        let mut b = Bench::varied("ec25", QuirkSet::NONE, l, &[Fault::SimNotReady]);
        b.send(b"ATE0\r");
        b.cmd("AT+CPIN?")
    };
    assert_eq!(run(LibertySet::NONE), "\r\n+CME ERROR: 10\r\n");
    assert_eq!(
        run(LibertySet::NONE.with(Liberty::SimBusyCause)),
        "\r\n+CME ERROR: 14\r\n"
    );
}

#[test]
fn multitech_causes() {
    let run = |l: LibertySet| {
        let mut b = Bench::varied("multitech", QuirkSet::NONE, l, &[]);
        b.send(b"ATE0\r");
        for c in [
            "AT#REC1=\"to@example.com\"",
            "AT#SMTPSERV=\"smtp.example.com\"",
        ] {
            assert_eq!(b.cmd(c), "\r\nOK\r\n");
        }
        let mut out = b.cmd("AT#PUTMAIL");
        let (id, _, _) = b.deliver();
        out += &b.opened(id, Err(Failure::Refused));
        out
    };
    let (r, x) = (
        run(LibertySet::NONE),
        run(LibertySet::NONE.with(Liberty::MultitechCauses)),
    );
    assert!(r.ends_with("#CME ERROR: 38028\r\n"), "{r}");
    assert!(x.ends_with("#CME ERROR: 38050\r\n"), "{x}");
}

#[test]
fn auth_login_first() {
    let (r, x) = jobs(Liberty::AuthLoginFirst);
    let auth = |job: &MailJob| {
        let mut c = at_mailer::SmtpClient::new(job);
        let t = Duration::ZERO;
        c.handle_input(t, b"220 hi\r\n");
        c.poll_transmit(t);
        c.handle_input(t, b"250-hi\r\n250 AUTH PLAIN LOGIN\r\n");
        s(&c.poll_transmit(t).unwrap())
    };
    assert!(auth(&r).starts_with("AUTH PLAIN "));
    assert_eq!(auth(&x), "AUTH LOGIN\r\n");
}

#[test]
fn body_base64() {
    let (r, x) = same_mail_other_bytes(Liberty::BodyBase64);
    assert!(r.contains("Content-Transfer-Encoding: 7bit\r\n\r\nhello"));
    assert!(x.contains("Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"));
}

#[test]
fn multipart_always() {
    let run = |l: LibertySet| {
        let mut b = Bench::varied("ec25", QuirkSet::NONE, l, &[]);
        b.send(b"ATE0\r");
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=300");
        b.deliver().1
    };
    let r = run(LibertySet::NONE);
    let x = run(LibertySet::NONE.with(Liberty::MultipartAlways));
    assert!(!s(&compose(&r)).contains("multipart/mixed"));
    assert!(s(&compose(&x)).contains("multipart/mixed"));
    assert_eq!(seen(&r), seen(&x));
}

#[test]
fn subject_q_words() {
    let (r, x) = same_mail_other_bytes(Liberty::SubjectQWords);
    assert!(r.contains("Subject: =?UTF-8?B?5rWL6K+VIE9L?=\r\n"), "{r}");
    assert!(
        x.contains("Subject: =?UTF-8?Q?=E6=B5=8B=E8=AF=95_OK?=\r\n"),
        "{x}"
    );
}

#[test]
fn ehlo_name() {
    let (r, x) = jobs(Liberty::EhloName);
    assert_eq!(r.helo_domain, "[10.7.157.1]");
    assert_eq!(x.helo_domain, "ec25.module.invalid");
}

#[test]
fn pdp_address() {
    let (r, x) = both(Liberty::PdpAddress, |b| {
        b.cmd("AT+QIACT=1") + &b.cmd("AT+QIACT?")
    });
    assert!(r.contains("+QIACT: 1,1,1,\"10.7.157.1\""), "{r}");
    assert!(x.contains("+QIACT: 1,1,1,\"100.72.18.5\""), "{x}");
}

#[test]
fn ati_revision() {
    let (r, x) = both(Liberty::AtiRevision, |b| b.cmd("ATI"));
    assert!(r.contains("Revision: EC25EFAR06A03M4G"), "{r}");
    assert!(x.contains("Revision: EC25R99A01M4G"), "{x}");
}

#[test]
fn mail_headers() {
    let (r, x) = same_mail_other_bytes(Liberty::MailHeaders);
    assert!(!r.contains("X-Mailer:") && x.contains("X-Mailer:"));
    assert!(r.contains("+0000\r\n") && x.contains("+0800\r\n"));
    assert!(x.find("Subject:") < x.find("To:"));
}

#[test]
fn answers_within_limits() {
    let (r, x) = both(Liberty::AnswersWithinLimits, |b| {
        let mut out = b.cmd("AT+QSMTPCFG=\"ssltype\",0"); // 300 ms (000 §2.2.1)
        out += "|";
        out += &s(&b.advance_ms(249));
        out += "|";
        out += &s(&b.advance_ms(1));
        out += "|";
        out += &b.cmd("AT+QFLST"); // no documented limit: 1 s
        out += "|";
        out += &s(&b.advance_ms(1000));
        out
    });
    assert_eq!(r, "\r\nOK\r\n|||\r\nOK\r\n|");
    assert_eq!(x, "||\r\nOK\r\n||\r\nOK\r\n");
    // Data mode is not delayed: CONNECT starts its clocks.
    let (r, x) = both(Liberty::AnswersWithinLimits, |b| {
        b.cmd("AT+QSMTPBODY=0,5,1")
    });
    assert_eq!(
        (r.as_str(), x.as_str()),
        ("\r\nCONNECT\r\n", "\r\nCONNECT\r\n")
    );
}

#[test]
fn slow_send() {
    let (r, x) = both(Liberty::SlowSend, |b| {
        b.ready_mail();
        let mut out = b.cmd("AT+QSMTPPUT=300");
        let (id, _, _) = b.deliver();
        out += &b.finish(id, Ok(()));
        out += "|";
        out += &b.cmd("AT+QSMTPCLR"); // still sending: 652
        out += "|";
        out += &s(&b.advance(Duration::from_secs(20)));
        out
    });
    assert_eq!(r, "\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n|\r\nOK\r\n|");
    assert_eq!(
        x,
        "\r\nOK\r\n|\r\n+CME ERROR: 652\r\n|\r\n+QSMTPPUT: 0,0\r\n"
    );
}

#[test]
fn cipher_order() {
    let (r, x) = jobs(Liberty::CipherOrder);
    assert!(
        r.tls.ciphers.tls12.starts_with("AES256-SHA:"),
        "{:?}",
        r.tls
    );
    assert!(
        x.tls
            .ciphers
            .tls12
            .starts_with("ECDHE-RSA-AES256-GCM-SHA384:"),
        "{:?}",
        x.tls
    );
    let sorted = |c: &str| {
        let mut v: Vec<String> = c.split(':').map(str::to_owned).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&r.tls.ciphers.tls12), sorted(&x.tls.ciphers.tls12));
}

#[test]
fn attachment_types() {
    let (r, x) = same_mail_other_bytes(Liberty::AttachmentTypes);
    assert!(r.contains("Content-Type: application/octet-stream;\r\n name=\"a.txt\""));
    assert!(x.contains("Content-Type: text/plain;\r\n name=\"a.txt\""));
}

#[test]
fn ag35_bodyoriginal() {
    let run = |l: Option<Liberty>| {
        let mut b = bench("ag35", l);
        let set = b.cmd("AT+QSMTPCFG=\"bodyoriginal\",1");
        let test = b.cmd("AT+QSMTPCFG=?");
        b.ready_mail();
        b.cmd("AT+QSMTPPUT=300");
        (set, test, b.deliver().1.body.original)
    };
    let (rs, rt, ro) = run(None);
    let (xs, xt, xo) = run(Some(Liberty::Ag35Bodyoriginal));
    assert_eq!(rs, "\r\n+CME ERROR: 664\r\n");
    assert_eq!(xs, "\r\nOK\r\n");
    assert_eq!(rt, xt, "001 p.9's test response stays as printed");
    assert!(!rt.contains("bodyoriginal"));
    assert!(!ro && xo);
}
