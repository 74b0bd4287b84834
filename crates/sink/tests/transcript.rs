//! Transcript byte-exactness and insta snapshots of whole sessions.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use smtp_sink::{Clock, ManualClock, Profile, SinkConfig};

use crate::harness::{H, b64, config};

#[test]
fn transcript_is_byte_exact_in_both_directions() {
    let mut h = H::new(config(Profile::Permissive));
    let client: &[u8] =
        b"EHLO x\r\nAUTH PLAIN AHUAcA==\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n\
                          \x00\xff binary\r\n..\r\n.\r\nQUIT\r\n";
    for piece in client.chunks(7) {
        h.send(piece);
    }
    let t = h.s.transcript();
    assert_eq!(t.client_bytes(), client);
    assert_eq!(t.server_bytes(), h.all_out);
}

#[test]
fn sans_io_session_snapshot() {
    // Virtual time: every instant is exact, so nothing needs redacting but the credentials.
    let mut h = H::new(config(Profile::Permissive));
    h.advance(Duration::from_millis(5));
    h.send("EHLO client.test\r\n");
    h.advance(Duration::from_millis(5));
    h.send("AUTH LOGIN\r\n");
    h.send(format!("{}\r\n", b64("user")));
    h.send(format!("{}\r\n", b64("password")));
    h.advance(Duration::from_millis(5));
    h.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
    h.advance(Duration::from_millis(5));
    h.send("Subject: hi\r\n\r\n..dot\r\n\x01\r\n.\r\n");
    h.send("QUIT\r\n");
    insta::assert_snapshot!(h.s.transcript().render());
}

#[test]
fn lettre_starttls_session_snapshot_with_dates_and_ids_redacted() {
    let manual = ManualClock::new();
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .clock(Clock::manual(&manual))
            .account("user", "password"),
    )
    .unwrap();
    let tls = TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .unwrap();
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(sink.smtp_addr().unwrap().port())
        .tls(Tls::Required(tls))
        .hello_name(ClientId::Domain("client.test".into()))
        .credentials(Credentials::new("user".into(), "password".into()))
        .build();
    let msg = Message::builder()
        .from("a@example.com".parse().unwrap())
        .to("b@example.com".parse().unwrap())
        .subject("TEST SMTP")
        .date(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .message_id(Some("<fixed@client.test>".into()))
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("line one\r\n.line two\r\n"))
        .unwrap();
    mailer.send(&msg).unwrap();
    drop(mailer);
    let ts = sink.wait_for_transcripts(1, Duration::from_secs(10));
    let mut t = ts[0].clone();
    t.peer = Some("[peer]".into());
    let date = regex::Regex::new(r"Date: [^\\]+").unwrap();
    let text = t.render();
    let text = date.replace_all(&text, "Date: [date]");
    // The TLS 1.3 suite is the client's choice (rustls prefers by CPU features).
    let suite = regex::Regex::new(r"TLSv1\.3 TLS_\w+ \(0x13..\)").unwrap();
    let text = suite.replace_all(&text, "TLSv1.3 [suite]");
    insta::assert_snapshot!(text);
    insta::assert_json_snapshot!("lettre_session_json", t, {
        ".entries[].at" => "[at]",
        ".tls_upgrades[].at" => "[at]",
        ".end.at" => "[at]",
        ".tls.cipher" => "[cipher]",
        ".tls.cipher_id" => "[cipher]",
        ".tls.cipher_openssl" => "[cipher]",
        ".tls.offered.suites" => "[the client's suites]",
        ".tls.offered.supported_versions" => "[the client's versions]",
    });
}

#[test]
fn garbage_session_over_tcp_is_recorded_exactly() {
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive)).unwrap();
    let mut tcp = TcpStream::connect(sink.smtp_addr().unwrap()).unwrap();
    let junk: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\nQUIT\r\n";
    tcp.write_all(junk).unwrap();
    let mut got = Vec::new();
    tcp.read_to_end(&mut got).unwrap();
    let t = &sink.wait_for_transcripts(1, Duration::from_secs(10))[0];
    assert_eq!(t.client_bytes(), junk);
    assert_eq!(t.server_bytes(), got);
}
