//! The `rfc5321` profile: strict syntax and line lengths; `permissive` accepts the same input.

use smtp_sink::Profile;

use crate::harness::{H, config};

fn ready(profile: Profile) -> H {
    let mut h = H::new(config(profile));
    h.send("EHLO x\r\n");
    h
}

#[test]
fn bare_lf_command_rfc5321_refuses_permissive_accepts() {
    // RFC 5321 §2.3.8: lines end with CRLF.
    let mut strict = ready(Profile::Rfc5321);
    assert_eq!(
        strict.send("NOOP\n"),
        "500 5.5.2 Error: bare LF received\r\n"
    );
    let mut lax = ready(Profile::Permissive);
    assert_eq!(lax.send("NOOP\n"), "250 2.0.0 Ok\r\n");
}

#[test]
fn command_line_limit_is_512_octets_with_crlf() {
    // RFC 5321 §4.5.3.1.4.
    let mut h = ready(Profile::Rfc5321);
    let ok = format!("NOOP {}\r\n", "a".repeat(512 - 7));
    assert_eq!(ok.len(), 512);
    assert_eq!(h.send(&ok), "250 2.0.0 Ok\r\n");
    let long = format!("NOOP {}\r\n", "a".repeat(512 - 6));
    assert_eq!(h.send(&long), "500 5.5.2 Error: line too long\r\n");
    let mut lax = ready(Profile::Permissive);
    assert_eq!(lax.send(&long), "250 2.0.0 Ok\r\n");
}

#[test]
fn space_after_colon_rfc5321_refuses_permissive_accepts() {
    let mut h = ready(Profile::Rfc5321);
    assert_eq!(
        h.send("MAIL FROM: <a@b>\r\n"),
        "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
    );
    assert_eq!(h.send("mail from:<a@b>\r\n"), "250 2.1.0 Ok\r\n");
    assert_eq!(
        h.send("RCPT TO: <c@d>\r\n"),
        "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
    );
    let mut lax = ready(Profile::Permissive);
    assert_eq!(lax.send("MAIL FROM: <a@b>\r\n"), "250 2.1.0 Ok\r\n");
    assert_eq!(lax.send("RCPT TO: <c@d>\r\n"), "250 2.1.5 Ok\r\n");
}

#[test]
fn text_line_limit_is_1000_octets_with_crlf_not_counting_the_stuffed_dot() {
    // RFC 5321 §4.5.3.1.6.
    let line_1000 = format!("{}\r\n", "x".repeat(998));
    let stuffed_1000 = format!(".{}\r\n", ".".repeat(998));
    let line_1001 = format!("{}\r\n", "x".repeat(999));
    let mut h = ready(Profile::Rfc5321);
    assert_eq!(
        h.mail("a@b", &["c@d"], &format!("{line_1000}{stuffed_1000}")),
        "250 2.0.0 Ok: queued as 1\r\n"
    );
    assert_eq!(
        h.mail("a@b", &["c@d"], &line_1001),
        "554 5.6.0 Error: text line longer than 1000 octets (RFC 5321 §4.5.3.1.6)\r\n"
    );
    assert_eq!(h.accepted.len(), 1);
    let mut lax = ready(Profile::Permissive);
    assert_eq!(
        lax.mail("a@b", &["c@d"], &line_1001),
        "250 2.0.0 Ok: queued as 1\r\n"
    );
}

#[test]
fn bare_lf_in_data_rfc5321_refuses_permissive_keeps_exact_bytes() {
    let mut h = ready(Profile::Rfc5321);
    assert_eq!(
        h.mail("a@b", &["c@d"], "a\nb\r\n"),
        "554 5.6.0 Error: bare LF in message (RFC 5321 §2.3.8)\r\n"
    );
    let mut lax = ready(Profile::Permissive);
    lax.mail("a@b", &["c@d"], "a\nb\r\n");
    assert_eq!(lax.accepted[0].raw, b"a\nb\r\n");
}
