//! Command sequence, replies, AUTH and DATA handling of the sans-IO session (permissive profile
//! unless said otherwise). Reply codes follow 004's table (RFC 5321 §4.2.3).

use smtp_sink::{Account, AuthPolicy, CloseReason, Mechanism, Profile};

use crate::harness::{H, b64, config};

#[test]
fn greeting_then_full_transaction_with_dot_unstuffing() {
    let mut h = H::new(config(Profile::Permissive));
    assert_eq!(
        h.all_out,
        b"220 sink.atconform.test ESMTP atconform smtp-sink\r\n"
    );
    let ehlo = h.send("EHLO client.test\r\n");
    assert_eq!(
        ehlo,
        "250-sink.atconform.test greets you\r\n250-PIPELINING\r\n250-SIZE 33554432\r\n\
         250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"
    );
    assert_eq!(h.send("MAIL FROM:<a@example.com>\r\n"), "250 2.1.0 Ok\r\n");
    assert_eq!(h.send("RCPT TO:<b@example.com>\r\n"), "250 2.1.5 Ok\r\n");
    assert_eq!(h.send("RCPT TO:<c@example.com>\r\n"), "250 2.1.5 Ok\r\n");
    assert_eq!(
        h.send("DATA\r\n"),
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    // 004 §3: the message ends with "." on its own line; "..x" is the stuffed ".x".
    let r = h.send("Subject: t\r\n\r\n..x\r\n.\r\n");
    assert_eq!(r, "250 2.0.0 Ok: queued as 1\r\n");
    assert_eq!(h.accepted.len(), 1);
    let m = &h.accepted[0];
    assert_eq!(m.raw, b"Subject: t\r\n\r\n.x\r\n");
    assert_eq!(m.envelope.mail_from, "a@example.com");
    assert_eq!(m.envelope.rcpt_to, ["b@example.com", "c@example.com"]);
    assert_eq!(m.envelope.helo, "client.test");
    assert!(!m.envelope.tls);
    assert_eq!(m.envelope.auth_user, None);
    assert_eq!(
        h.send("QUIT\r\n"),
        "221 2.0.0 sink.atconform.test closing connection\r\n"
    );
    assert_eq!(h.closed, Some(CloseReason::Quit));
}

#[test]
fn sequence_errors_answer_503() {
    let mut h = H::new(config(Profile::Permissive));
    assert_eq!(
        h.send("MAIL FROM:<a@b>\r\n"),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    assert_eq!(
        h.send("RCPT TO:<a@b>\r\n"),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(h.send("DATA\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
    h.send("HELO x\r\n");
    h.send("MAIL FROM:<a@b>\r\n");
    assert_eq!(h.send("DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
    assert_eq!(
        h.send("MAIL FROM:<a@b>\r\n"),
        "503 5.5.1 Error: nested MAIL command\r\n"
    );
    assert_eq!(h.send("RSET\r\n"), "250 2.0.0 Ok\r\n");
    assert_eq!(
        h.send("RCPT TO:<a@b>\r\n"),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert!(h.accepted.is_empty());
}

#[test]
fn other_commands_have_their_004_codes() {
    let mut h = H::new(config(Profile::Permissive));
    h.send("EHLO x\r\n");
    assert_eq!(h.send("NOOP\r\n"), "250 2.0.0 Ok\r\n");
    assert!(
        h.send("VRFY bob\r\n")
            .starts_with("252 2.0.0 Cannot VRFY user")
    );
    assert!(h.send("HELP\r\n").starts_with("214 "));
    assert_eq!(
        h.send("TURN\r\n"),
        "502 5.5.1 Error: command not implemented\r\n"
    );
    assert_eq!(
        h.send("ETRN x.com\r\n"),
        "502 5.5.1 Error: command not implemented\r\n"
    );
    assert_eq!(
        h.send("EXPN list\r\n"),
        "502 5.5.1 Error: command not implemented\r\n"
    );
    assert_eq!(
        h.send("FOO bar\r\n"),
        "500 5.5.2 Error: command not recognized\r\n"
    );
    assert_eq!(
        h.send("MAIL FROM:<a@b> FOO=1\r\n"),
        "555 5.5.4 Error: unsupported parameter FOO=1\r\n"
    );
    assert_eq!(
        h.send("STARTTLS\r\n"),
        "502 5.5.1 Error: command not implemented\r\n"
    );
}

#[test]
fn pipelined_commands_in_one_chunk_are_answered_in_order() {
    let mut h = H::new(config(Profile::Permissive));
    let r = h.send(
        "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
    );
    let codes: Vec<&str> = r
        .lines()
        .map(|l| &l[..4])
        .filter(|c| !c.ends_with('-'))
        .collect();
    assert_eq!(
        codes,
        ["250 ", "250 ", "250 ", "250 ", "354 ", "250 ", "221 "]
    );
    assert_eq!(h.accepted[0].raw, b"hi\r\n");
    assert_eq!(h.accepted[0].envelope.rcpt_to, ["c@d", "e@f"]);
}

#[test]
fn byte_at_a_time_equals_one_chunk() {
    let script = "EHLO x\r\nAUTH PLAIN AHUAcA==\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n\
                  Subject: s\r\n\r\n.line\r\n..\r\nend\r\n.\r\nQUIT\r\n";
    let mut one = H::new(config(Profile::Permissive));
    one.send(script);
    let mut bytes = H::new(config(Profile::Permissive));
    for b in script.as_bytes() {
        bytes.send([*b]);
    }
    assert_eq!(one.all_out, bytes.all_out);
    assert_eq!(one.accepted, bytes.accepted);
    assert_eq!(
        bytes.accepted[0].raw,
        b"Subject: s\r\n\r\nline\r\n.\r\nend\r\n"
    );
    assert_eq!(one.s.transcript().client_bytes(), script.as_bytes());
    assert_eq!(bytes.s.transcript().client_bytes(), script.as_bytes());
}

fn with_account() -> H {
    let mut c = config(Profile::Permissive);
    c.auth = AuthPolicy::Accounts(vec![Account::new("user@example.com", "s3cret")]);
    let mut h = H::new(c);
    h.send("EHLO x\r\n");
    h
}

#[test]
fn auth_login_prompts_as_in_004() {
    let mut h = with_account();
    // 004 §2: "334 VXNlcm5hbWU6" (Username:), "334 UGFzc3dvcmQ6" (Password:).
    assert_eq!(h.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
    assert_eq!(
        h.send(format!("{}\r\n", b64("user@example.com"))),
        "334 UGFzc3dvcmQ6\r\n"
    );
    assert_eq!(
        h.send(format!("{}\r\n", b64("s3cret"))),
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(
        h.send("AUTH LOGIN\r\n"),
        "503 5.5.1 Error: already authenticated\r\n"
    );
    h.mail("a@b", &["c@d"], "x\r\n");
    assert_eq!(
        h.accepted[0].envelope.auth_user.as_deref(),
        Some("user@example.com")
    );
    let shown = h.s.transcript().render();
    assert!(!shown.contains(&b64("s3cret")), "{shown}");
    assert!(!shown.contains(&b64("user@example.com")), "{shown}");
    assert!(shown.contains("C: <redacted>\\r\\n"), "{shown}");
}

#[test]
fn auth_plain_initial_and_continuation_and_failures() {
    let mut h = with_account();
    let good = b64("\0user@example.com\0s3cret");
    let bad = b64("\0user@example.com\0wrong");
    assert_eq!(
        h.send(format!("AUTH PLAIN {bad}\r\n")),
        "535 5.7.8 Error: authentication credentials invalid\r\n"
    );
    assert_eq!(h.send("AUTH PLAIN\r\n"), "334 \r\n");
    assert_eq!(h.send("*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
    assert_eq!(h.send("AUTH PLAIN\r\n"), "334 \r\n");
    assert_eq!(
        h.send("!!notbase64\r\n"),
        "501 5.5.2 Error: cannot decode response\r\n"
    );
    assert_eq!(
        h.send("AUTH CRAM-MD5\r\n"),
        "504 5.5.4 Error: unrecognized authentication type\r\n"
    );
    assert_eq!(h.send("AUTH PLAIN\r\n"), "334 \r\n");
    assert_eq!(
        h.send(format!("{good}\r\n")),
        "235 2.7.0 Authentication successful\r\n"
    );
    let shown = h.s.transcript().render();
    assert!(!shown.contains(&good) && !shown.contains(&bad), "{shown}");
    assert!(!format!("{:?}", h.s.transcript()).contains(&good));
}

#[test]
fn auth_mechanisms_restrict_what_ehlo_offers_and_auth_accepts() {
    // `@sink auth PLAIN`: EHLO offers PLAIN only and LOGIN is refused (RFC 4954 §4: 504).
    let mut c = config(Profile::Permissive);
    c.mechanisms = vec![Mechanism::Plain];
    let mut h = H::new(c);
    let ehlo = h.send("EHLO x\r\n");
    assert!(ehlo.ends_with("250 AUTH PLAIN\r\n"), "{ehlo}");
    assert_eq!(
        h.send("AUTH LOGIN\r\n"),
        "504 5.5.4 Error: unrecognized authentication type\r\n"
    );
    assert_eq!(
        h.send(format!("AUTH PLAIN {}\r\n", b64("\0u\0p"))),
        "235 2.7.0 Authentication successful\r\n"
    );
    // No mechanisms: no AUTH extension at all, and AUTH is refused.
    let mut c = config(Profile::Permissive);
    c.mechanisms = Vec::new();
    let mut h = H::new(c);
    let ehlo = h.send("EHLO x\r\n");
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    assert!(ehlo.ends_with("250 ENHANCEDSTATUSCODES\r\n"), "{ehlo}");
    assert!(h.send("AUTH PLAIN\r\n").starts_with("504 "));
    assert_eq!(Mechanism::from_name("login"), Some(Mechanism::Login));
    assert_eq!(Mechanism::from_name("CRAM-MD5"), None);
}

#[test]
fn auth_before_ehlo_and_inside_a_transaction_is_refused() {
    let mut h = H::new(config(Profile::Permissive));
    assert_eq!(
        h.send("AUTH LOGIN\r\n"),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(
        h.send("AUTH LOGIN\r\n"),
        "503 5.5.1 Error: MAIL transaction in progress\r\n"
    );
}

#[test]
fn require_auth_answers_530() {
    let mut c = config(Profile::Permissive);
    c.require_auth = true;
    let mut h = H::new(c);
    h.send("EHLO x\r\n");
    assert_eq!(
        h.send("MAIL FROM:<a@b>\r\n"),
        "530 5.7.0 Authentication required\r\n"
    );
    h.send(format!("AUTH PLAIN {}\r\n", b64("\0any\0thing")));
    assert_eq!(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0 Ok\r\n");
}

#[test]
fn starttls_discards_pipelined_bytes_and_restarts_the_session() {
    let mut c = config(Profile::Permissive);
    c.starttls = true;
    let mut h = H::new(c);
    assert!(h.send("EHLO x\r\n").contains("250-STARTTLS\r\n"));
    // CVE-2011-0411: a command injected after STARTTLS in the same packet must not run.
    let r = h.send("STARTTLS\r\nMAIL FROM:<evil@x>\r\n");
    assert_eq!(r, "220 2.0.0 Ready to start TLS\r\n");
    assert!(h.starttls);
    h.s.tls_established(h.now);
    assert!(h.s.is_tls());
    assert_eq!(
        h.send("MAIL FROM:<a@b>\r\n"),
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    let ehlo = h.send("EHLO x\r\n");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert_eq!(
        h.send("STARTTLS\r\n"),
        "503 5.5.1 Error: TLS already active\r\n"
    );
    h.mail("a@b", &["c@d"], "x\r\n");
    assert!(h.accepted[0].envelope.tls);
    assert_eq!(h.s.transcript().tls_upgrades.len(), 1);
}

#[test]
fn mail_size_parameter_over_the_limit_answers_552() {
    let mut h = H::new(config(Profile::Permissive));
    h.send("EHLO x\r\n");
    assert_eq!(
        h.send("MAIL FROM:<a@b> SIZE=999999999\r\n"),
        "552 5.3.4 Error: message size exceeds fixed maximum message size\r\n"
    );
    assert_eq!(h.send("MAIL FROM:<a@b> SIZE=1000\r\n"), "250 2.1.0 Ok\r\n");
}

#[test]
fn too_many_recipients_answers_452() {
    let mut c = config(Profile::Permissive);
    c.limits.max_recipients = 2;
    let mut h = H::new(c);
    h.send("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<1@x>\r\nRCPT TO:<2@x>\r\n");
    assert_eq!(
        h.send("RCPT TO:<3@x>\r\n"),
        "452 4.5.3 Error: too many recipients\r\n"
    );
}

#[test]
fn null_sender_is_accepted() {
    let mut h = H::new(config(Profile::Permissive));
    h.send("EHLO x\r\n");
    assert_eq!(h.send("MAIL FROM:<>\r\n"), "250 2.1.0 Ok\r\n");
    h.send("RCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n");
    assert_eq!(h.accepted[0].envelope.mail_from, "");
}

#[test]
fn unfinished_or_overlong_credentials_are_redacted_too() {
    let mut h = with_account();
    h.send("AUTH LOGIN\r\n");
    h.send(format!("{}\r\n", b64("user@example.com")));
    h.send(format!("{}{}\r\n", b64("s3cret"), "A".repeat(5000)));
    h.send("AUTH PLAIN c2VjcmV0cGFydA");
    h.eof();
    let shown = h.s.transcript().render();
    assert!(!shown.contains(&b64("s3cret")), "{shown}");
    assert!(!shown.contains("c2VjcmV0cGFydA"), "{shown}");
    assert!(shown.contains("AUTH PLAIN <redacted>"), "{shown}");
}
