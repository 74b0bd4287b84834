//! Fault scripts: injected replies, drops, delays, greylisting, seeded probability.

use std::time::Duration;

use smtp_sink::{CloseReason, FaultScript, Profile, SessionConfig, SharedState};

use crate::harness::{H, config};

#[test]
fn injected_reply_at_rcpt() {
    let mut h = H::with_faults(Profile::Permissive, "rcpt=550");
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(h.send("RCPT TO:<c@d>\r\n"), "550 5.0.0 Injected fault\r\n");
    assert_eq!(h.send("DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
}

#[test]
fn injected_reply_on_the_nth_occurrence_only() {
    let mut h = H::with_faults(Profile::Permissive, "rcpt#2=452 4.5.3 Too many recipients");
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(h.send("RCPT TO:<1@d>\r\n"), "250 2.1.5 Ok\r\n");
    assert_eq!(
        h.send("RCPT TO:<2@d>\r\n"),
        "452 4.5.3 Too many recipients\r\n"
    );
    assert_eq!(h.send("RCPT TO:<3@d>\r\n"), "250 2.1.5 Ok\r\n");
    h.send("DATA\r\nx\r\n.\r\n");
    assert_eq!(h.accepted[0].envelope.rcpt_to, ["1@d", "3@d"]);
}

#[test]
fn injected_reply_at_each_command_point() {
    for (point, cmd) in [
        ("ehlo", "EHLO x\r\n"),
        ("helo", "HELO x\r\n"),
        ("auth", "AUTH LOGIN\r\n"),
        ("noop", "NOOP\r\n"),
        ("rset", "RSET\r\n"),
    ] {
        let mut h = H::with_faults(
            Profile::Permissive,
            &format!("{point}=421 4.3.0 {point} refused"),
        );
        if point == "auth" {
            h.send("EHLO x\r\n");
        }
        assert_eq!(
            h.send(cmd),
            format!("421 4.3.0 {point} refused\r\n"),
            "{point}"
        );
    }
    let mut h = H::with_faults(Profile::Permissive, "mail=451");
    h.send("EHLO x\r\n");
    assert_eq!(
        h.send("MAIL FROM:<a@b>\r\n"),
        "451 4.0.0 Injected fault\r\n"
    );
    let mut h = H::with_faults(Profile::Permissive, "data=554 5.0.0 no data today");
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
    assert_eq!(h.send("DATA\r\n"), "554 5.0.0 no data today\r\n");
}

#[test]
fn injected_reply_at_end_of_data_stores_nothing() {
    let mut h = H::with_faults(
        Profile::Permissive,
        "data-end=554 5.0.0 Error: transaction failed",
    );
    h.send("EHLO x\r\n");
    let r = h.mail("a@b", &["c@d"], "hello\r\n");
    assert_eq!(r, "554 5.0.0 Error: transaction failed\r\n");
    assert!(h.accepted.is_empty());
}

#[test]
fn refused_greeting_then_only_quit_is_served() {
    // RFC 5321 §3.1: after a 554 greeting the server answers 503 until QUIT.
    let mut h = H::with_faults(
        Profile::Permissive,
        "greeting=554 5.3.2 No SMTP service here",
    );
    assert_eq!(h.all_out, b"554 5.3.2 No SMTP service here\r\n");
    assert_eq!(
        h.send("EHLO x\r\n"),
        "503 5.5.1 Error: no SMTP service here\r\n"
    );
    assert!(h.send("QUIT\r\n").starts_with("221 "));
    assert_eq!(h.closed, Some(CloseReason::Quit));
}

#[test]
fn greeting_421_closes_the_connection() {
    let h = H::with_faults(
        Profile::Permissive,
        "greeting=421 4.3.2 System not accepting network messages",
    );
    assert_eq!(
        h.all_out,
        b"421 4.3.2 System not accepting network messages\r\n"
    );
    assert_eq!(h.closed, Some(CloseReason::Refused));
}

#[test]
fn drop_before_greeting_sends_nothing() {
    let h = H::with_faults(Profile::Permissive, "drop=before-greeting");
    assert_eq!(h.all_out, b"");
    assert_eq!(h.closed, Some(CloseReason::FaultDrop));
}

#[test]
fn drop_mid_data_stores_nothing() {
    let mut h = H::with_faults(Profile::Permissive, "drop=mid-data");
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
    assert_eq!(
        h.send("DATA\r\n"),
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    assert_eq!(h.send("Subject: x\r\n\r\nbody\r\n.\r\n"), "");
    assert_eq!(h.closed, Some(CloseReason::FaultDrop));
    assert!(h.accepted.is_empty());
}

#[test]
fn drop_at_a_command_closes_without_reply() {
    let mut h = H::with_faults(Profile::Permissive, "drop=mail");
    h.send("EHLO x\r\n");
    assert_eq!(h.send("MAIL FROM:<a@b>\r\n"), "");
    assert_eq!(h.closed, Some(CloseReason::FaultDrop));
}

#[test]
fn delayed_reply_arrives_after_virtual_time_passes() {
    let mut h = H::with_faults(Profile::Permissive, "delay=mail:2s");
    h.send("EHLO x\r\n");
    assert_eq!(h.send("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"), "");
    assert_eq!(h.advance(Duration::from_millis(1999)), "");
    assert_eq!(
        h.advance(Duration::from_millis(1)),
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
    );
    let t = h.s.transcript();
    let mail_reply = t
        .entries
        .iter()
        .find(|e| e.bytes == b"250 2.1.0 Ok\r\n")
        .unwrap();
    assert_eq!(mail_reply.at, Duration::from_secs(2));
}

#[test]
fn delayed_greeting() {
    let h0 = H::with_faults(Profile::Permissive, "delay=greeting:30s");
    let mut h = h0;
    assert_eq!(h.all_out, b"");
    assert!(h.advance(Duration::from_secs(30)).starts_with("220 "));
}

#[test]
fn greylist_answers_451_then_accepts_the_retry() {
    let shared = SharedState::default();
    let mut c = config(Profile::Permissive);
    c.faults = FaultScript::new().greylist(Duration::from_secs(30));
    let mut h = H::with_shared(c.clone(), shared.clone(), 1, false);
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(
        h.send("RCPT TO:<c@d>\r\n"),
        "451 4.7.1 Greylisted, please try again later\r\n"
    );
    h.advance(Duration::from_secs(10));
    assert_eq!(
        h.send("RCPT TO:<c@d>\r\n"),
        "451 4.7.1 Greylisted, please try again later\r\n"
    );
    // A retry on a new connection after the wait is accepted.
    let mut h2 = H::with_shared(c, shared, 2, false);
    h2.now = smtp_sink::Instant::from_elapsed(Duration::from_secs(30));
    h2.send("EHLO x\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(h2.send("RCPT TO:<c@d>\r\n"), "250 2.1.5 Ok\r\n");
}

fn outcomes(script: &str, conns: u64) -> Vec<String> {
    let shared = SharedState::default();
    let mut c: SessionConfig = config(Profile::Permissive);
    c.faults = FaultScript::parse(script).unwrap();
    (1..=conns)
        .map(|n| {
            let mut h = H::with_shared(c.clone(), shared.clone(), n, false);
            h.send("EHLO x\r\nMAIL FROM:<a@b>\r\n");
            h.send("RCPT TO:<c@d>\r\n")
        })
        .collect()
}

#[test]
fn probability_is_seeded_and_deterministic() {
    let a = outcomes("rcpt=550\nprobability=0.5\nseed=7", 40);
    let b = outcomes("rcpt=550\nprobability=0.5\nseed=7", 40);
    assert_eq!(a, b);
    let fired = a.iter().filter(|r| r.starts_with("550")).count();
    assert!((5..=35).contains(&fired), "fired {fired} of 40");
    assert_ne!(a, outcomes("rcpt=550\nprobability=0.5\nseed=8", 40));
    assert!(
        outcomes("rcpt=550\nprobability=0", 10)
            .iter()
            .all(|r| r.starts_with("250"))
    );
    assert!(
        outcomes("rcpt=550\nprobability=1", 10)
            .iter()
            .all(|r| r.starts_with("550"))
    );
}

#[test]
fn client_leaving_during_a_delayed_quit_ends_the_session_at_once() {
    let mut h = H::with_faults(Profile::Permissive, "delay=quit:10s");
    assert_eq!(h.send("QUIT\r\n"), "");
    assert!(h.s.is_closed());
    h.eof();
    assert_eq!(h.closed, Some(CloseReason::ClientClosed));
    assert_eq!(h.s.poll_timeout(), None);
    assert_eq!(h.advance(Duration::from_secs(20)), "");
}

#[test]
fn the_documented_fault_script_example_parses() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/sink.md"))
        .expect("docs/sink.md");
    let block: String = doc
        .lines()
        .skip_while(|l| !l.starts_with("**Fault scripts**"))
        .skip_while(|l| !l.starts_with("```text"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        block.contains("greylist"),
        "docs/sink.md fault-script block not found"
    );
    let s = FaultScript::parse(&block).expect("docs/sink.md fault script");
    assert_eq!(s.rules.len(), 6);
    assert_eq!(s.tls.certificate, Some(at_tls::CertFault::Expired));
    assert_eq!(s.greylist, Some(Duration::from_secs(30)));
    assert_eq!((s.probability, s.seed), (Some(0.1), 7));
}
