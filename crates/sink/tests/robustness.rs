//! Bad input: garbage, binary, overlong lines, slowloris, disconnects, oversize, smuggling.

use std::time::Duration;

use proptest::prelude::*;
use smtp_sink::{CloseReason, Profile};

use crate::harness::{H, config};

#[test]
fn binary_garbage_gets_500_and_the_session_recovers() {
    let mut h = H::new(config(Profile::Permissive));
    let r = h.send(b"\x00\xff\xfe\x16\x03\x01 junk\r\n");
    assert_eq!(r, "500 5.5.2 Error: command not recognized\r\n");
    assert_eq!(
        h.send("EHLO x\r\n").lines().last(),
        Some("250 AUTH PLAIN LOGIN")
    );
    assert_eq!(
        h.send(b"\r\n"),
        "500 5.5.2 Error: command not recognized\r\n"
    );
}

#[test]
fn overlong_command_line_is_discarded_with_bounded_memory() {
    let mut h = H::new(config(Profile::Permissive));
    // 1 MiB without a line end, fed in pieces: nothing is answered until the LF.
    for _ in 0..256 {
        assert_eq!(h.send(vec![b'A'; 4096]), "");
    }
    assert_eq!(h.send("\r\n"), "500 5.5.2 Error: line too long\r\n");
    assert_eq!(h.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
    // The transcript keeps the bytes up to its own limit and counts the rest.
    let t = h.s.transcript();
    assert_eq!(
        t.client_bytes().len() as u64 + t.omitted_bytes,
        256 * 4096 + 2 + 6
    );
}

#[test]
fn slowloris_is_closed_by_the_idle_timeout_in_virtual_time() {
    // The default idle timeout is 60 s (docs/sink.md).
    let mut h = H::new(config(Profile::Permissive));
    h.send("EH");
    assert_eq!(h.advance(Duration::from_secs(40)), "");
    h.send("L"); // a byte that completes no line does not reset the timer
    assert_eq!(
        h.advance(Duration::from_secs(20)),
        "421 4.4.2 sink.atconform.test Error: timeout exceeded\r\n"
    );
    assert_eq!(h.closed, Some(CloseReason::IdleTimeout));
    assert_eq!(h.send("O x\r\n"), "", "no input is processed after close");
}

#[test]
fn a_long_session_is_closed_even_when_busy() {
    let mut c = config(Profile::Permissive);
    c.limits.max_session = Duration::from_secs(10);
    let mut h = H::new(c);
    for _ in 0..9 {
        h.advance(Duration::from_secs(1));
        assert_eq!(h.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
    }
    let r = h.advance(Duration::from_secs(1));
    assert_eq!(
        r,
        "421 4.4.2 sink.atconform.test Error: session too long\r\n"
    );
    assert_eq!(h.closed, Some(CloseReason::SessionTooLong));
}

#[test]
fn disconnect_mid_data_stores_nothing() {
    let mut h = H::new(config(Profile::Permissive));
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: half\r\n\r\nbody");
    h.eof();
    assert!(h.accepted.is_empty());
    assert_eq!(h.closed, Some(CloseReason::ClientClosedMidData));
    let t = h.s.transcript();
    assert!(t.client_bytes().ends_with(b"body"));
    assert!(t.messages.is_empty());
}

#[test]
fn oversize_message_is_refused_and_memory_stays_bounded() {
    let mut c = config(Profile::Permissive);
    c.limits.max_message_size = 1000;
    let mut h = H::new(c);
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
    for _ in 0..100 {
        h.send(format!("{}\r\n", "x".repeat(98)));
    }
    assert_eq!(h.send(".\r\n"), "552 5.3.4 Error: message file too big\r\n");
    assert!(h.accepted.is_empty());
    // The transaction is over; a new one works.
    assert_eq!(
        h.mail("a@b", &["c@d"], "small\r\n"),
        "250 2.0.0 Ok: queued as 1\r\n"
    );
}

#[test]
fn bare_lf_dot_does_not_end_data_smtp_smuggling() {
    let mut h = H::new(config(Profile::Permissive));
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
    // "\n.\r\n" and "\r\n.\n" are not the end of data (RFC 5321 §4.1.1.4 requires CRLF.CRLF).
    let r = h.send("one\n.\r\nMAIL FROM:<smuggled@x>\r\ntwo\r\n.\nthree\r\n");
    assert_eq!(r, "");
    assert_eq!(h.send(".\r\n"), "250 2.0.0 Ok: queued as 1\r\n");
    assert_eq!(h.accepted.len(), 1);
    assert_eq!(
        h.accepted[0].raw,
        // The "." after a CRLF starts a line and is unstuffed; after a bare LF it is not.
        b"one\n.\r\nMAIL FROM:<smuggled@x>\r\ntwo\r\n\nthree\r\n".as_slice()
    );
}

#[test]
fn empty_message_is_accepted() {
    let mut h = H::new(config(Profile::Permissive));
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
    assert_eq!(h.send(".\r\n"), "250 2.0.0 Ok: queued as 1\r\n");
    assert_eq!(h.accepted[0].raw, b"");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any bytes, split anywhere, in any profile: no panic; every reply is a CRLF-terminated
    /// line starting with a 3-digit code; a message is stored only with a 250 after it.
    #[test]
    fn arbitrary_input_never_panics_and_replies_are_well_formed(
        chunks in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                Just(b"EHLO x\r\n".to_vec()),
                Just(b"MAIL FROM:<a@b>\r\n".to_vec()),
                Just(b"RCPT TO:<c@d>\r\n".to_vec()),
                Just(b"DATA\r\n".to_vec()),
                Just(b"\r\n.\r\n".to_vec()),
                Just(b"AUTH LOGIN\r\n".to_vec()),
                Just(b"STARTTLS\r\n".to_vec()),
            ],
            0..40,
        ),
        profile in prop_oneof![Just(Profile::Permissive), Just(Profile::Rfc5321), Just(Profile::TencentSes)],
        tls in any::<bool>(),
        step in 0u64..400,
    ) {
        let mut c = config(profile);
        c.starttls = true;
        c.limits.max_message_size = 256;
        c.limits.max_command_line = 128;
        let mut h = if tls { H::tls(c) } else { H::new(c) };
        for chunk in &chunks {
            h.send(chunk);
            if h.starttls && !h.s.is_tls() {
                h.s.tls_established(h.now);
            }
            h.advance(std::time::Duration::from_secs(step));
        }
        let closed_before_eof = h.closed.is_some();
        h.eof();
        // The transcript is byte-exact: what the sink sent, and (if the client ended the
        // session) everything the client sent.
        prop_assert_eq!(h.s.transcript().server_bytes(), h.all_out.clone());
        if !closed_before_eof {
            prop_assert_eq!(h.s.transcript().client_bytes(), chunks.concat());
        }
        let out = String::from_utf8(h.all_out.clone()).expect("replies are UTF-8");
        if !out.is_empty() {
            prop_assert!(out.ends_with("\r\n"));
        }
        for line in out.split_terminator("\r\n") {
            prop_assert!(line.len() >= 4, "{line:?}");
            prop_assert!(line[..3].bytes().all(|b| b.is_ascii_digit()), "{line:?}");
            prop_assert!(matches!(&line[3..4], " " | "-"), "{line:?}");
        }
        let queued = out.matches("Ok: queued as").count();
        prop_assert_eq!(queued, h.accepted.len());
        for m in &h.accepted {
            prop_assert!(m.raw.len() <= 256);
        }
        prop_assert!(h.s.is_closed());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Round trip of the DATA reader: any message, dot-stuffed by the client (RFC 5321 §4.5.2)
    /// and fed in arbitrary pieces, is stored exactly.
    #[test]
    fn dot_stuffed_message_round_trips(
        lines in prop::collection::vec("[.a-z \\x00-\\x09\\x0b\\x0c\\x0e-\\x7f]{0,20}", 0..20),
        cut in 1usize..50,
    ) {
        let original: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
        let stuffed: String = lines
            .iter()
            .map(|l| if l.starts_with('.') { format!(".{l}\r\n") } else { format!("{l}\r\n") })
            .collect();
        let mut h = H::new(config(Profile::Rfc5321));
        h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
        let wire = format!("{stuffed}.\r\n");
        for piece in wire.as_bytes().chunks(cut) {
            h.send(piece);
        }
        prop_assert_eq!(h.accepted.len(), 1);
        prop_assert_eq!(&h.accepted[0].raw, original.as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The fuzzing entry point (what a `cargo fuzz` target calls) over arbitrary operation lists.
    #[test]
    fn fuzz_entry_point_holds_its_invariants(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut u = arbitrary::Unstructured::new(&data);
        let profile: u8 = u.arbitrary().unwrap_or(0);
        let tls: bool = u.arbitrary().unwrap_or(false);
        let ops: Vec<smtp_sink::fuzzing::Op> = u.arbitrary().unwrap_or_default();
        smtp_sink::fuzzing::run(profile, tls, &ops);
    }
}
