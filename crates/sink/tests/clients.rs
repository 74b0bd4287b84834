//! Independent clients over real sockets: lettre (plain, STARTTLS, implicit TLS) and Python's
//! smtplib, against sinks started with [`smtp_sink::spawn`] on loopback ephemeral ports.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use smtp_sink::{CloseReason, Profile, SinkConfig};

const WAIT: Duration = Duration::from_secs(10);

fn tls_params() -> TlsParameters {
    TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .expect("TLS parameters")
}

fn transport(port: u16, tls: Tls) -> SmtpTransport {
    SmtpTransport::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(tls)
        .hello_name(ClientId::Domain("client.test".into()))
        .credentials(Credentials::new("abc@cd.com".into(), "pw".into()))
        .timeout(Some(WAIT))
        .build()
}

fn email(subject: &str) -> Message {
    Message::builder()
        .from("test <abc@cd.com>".parse().unwrap())
        .to("test@test123.com".parse().unwrap())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("hello from lettre"))
        .unwrap()
}

#[test]
fn lettre_plain() {
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::Permissive).account("abc@cd.com", "pw")).unwrap();
    let port = sink.smtp_addr().unwrap().port();
    transport(port, Tls::None)
        .send(&email("plain"))
        .expect("send");
    let msgs = sink.wait_for_messages(1, WAIT);
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.envelope.mail_from, "abc@cd.com");
    assert_eq!(m.envelope.rcpt_to, ["test@test123.com"]);
    assert_eq!(m.envelope.auth_user.as_deref(), Some("abc@cd.com"));
    assert!(!m.envelope.tls);
    assert_eq!(m.envelope.helo, "client.test");
    let p = m.parsed();
    assert_eq!(p.subject.as_deref(), Some("plain"));
    assert_eq!(
        p.text_body.as_deref().map(str::trim_end),
        Some("hello from lettre")
    );
}

#[test]
fn lettre_starttls() {
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::Rfc5321).account("abc@cd.com", "pw")).unwrap();
    let port = sink.smtp_addr().unwrap().port();
    transport(port, Tls::Required(tls_params()))
        .send(&email("starttls"))
        .expect("send");
    let msgs = sink.wait_for_messages(1, WAIT);
    assert!(msgs[0].envelope.tls);
    let ts = sink.wait_for_transcripts(1, WAIT);
    assert_eq!(ts[0].tls_upgrades.len(), 1);
    assert!(!ts[0].implicit_tls);
    let tls = ts[0].tls.as_ref().expect("TLS parameters recorded");
    // rustls (lettre) against the OpenSSL sink: TLS 1.3, recorded as OpenSSL and nginx name it.
    assert_eq!(tls.version, "TLSv1.3");
    assert!(tls.cipher_id.starts_with("0x130"), "{}", tls.cipher_id);
    assert!(tls.cipher.starts_with("TLS_"), "{}", tls.cipher);
    let offered = tls.offered.as_ref().expect("the ClientHello is recorded");
    assert_eq!(offered.sni.as_deref(), Some("localhost"));
    assert_eq!(tls.sni.as_deref(), Some("localhost"));
}

#[test]
fn lettre_implicit_tls_against_tencent_ses_with_attachment() {
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::TencentSes).account("abc@cd.com", "pw")).unwrap();
    let port = sink.smtps_addr().unwrap().port();
    let msg = |content: &[u8]| {
        Message::builder()
            .from("test <abc@cd.com>".parse().unwrap())
            .to("test@test123.com".parse().unwrap())
            .subject("测试邮件")
            .multipart(
                MultiPart::mixed()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(String::from("<h1>我的第一个标题</h1>")),
                    )
                    .singlepart(Attachment::new("a.txt".into()).body(
                        content.to_vec(),
                        "application/octet-stream".parse().unwrap(),
                    )),
            )
            .unwrap()
    };
    let mailer = transport(port, Tls::Wrapper(tls_params()));
    // lettre sends a short ASCII attachment as 7bit, which 003 refuses ("目前仅支持传 base64").
    let err = mailer.send(&msg(b"ascii text")).unwrap_err();
    assert!(
        err.to_string()
            .contains("Content-Transfer-Encoding must in [base64]"),
        "{err}"
    );
    let binary = [0u8, 0xff, 0x80, 0x7f, b'a', 0x10];
    mailer.send(&msg(&binary)).expect("send");
    let m = &sink.wait_for_messages(1, WAIT)[0];
    assert!(m.envelope.tls);
    let p = m.parsed();
    assert_eq!(p.subject.as_deref(), Some("测试邮件"));
    assert_eq!(p.attachments.len(), 1);
    assert_eq!(p.attachments[0].name.as_deref(), Some("a.txt"));
    assert_eq!(p.attachments[0].bytes, binary);
}

#[test]
fn tencent_ses_plain_port_closes_without_greeting() {
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::TencentSes)).unwrap();
    let mut tcp = TcpStream::connect(sink.smtp_addr().unwrap()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = Vec::new();
    let _ = tcp.read_to_end(&mut got);
    assert_eq!(got, b"");
    let ts = sink.wait_for_transcripts(1, WAIT);
    assert_eq!(ts[0].end.map(|e| e.reason), Some(CloseReason::Refused));
    assert!(
        transport(sink.smtp_addr().unwrap().port(), Tls::None)
            .send(&email("x"))
            .is_err()
    );
}

fn python(mode: &str, port: u16) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtplib_client.py");
    let out = Command::new(at_testkit::python())
        .args([
            script,
            mode,
            "127.0.0.1",
            &port.to_string(),
            "abc@cd.com",
            "pw",
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn python_smtplib_plain_starttls_and_implicit_tls() {
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::Permissive).account("abc@cd.com", "pw")).unwrap();
    assert_eq!(python("plain", sink.smtp_addr().unwrap().port()), "ok");
    assert_eq!(python("starttls", sink.smtp_addr().unwrap().port()), "ok");
    assert_eq!(python("ssl", sink.smtps_addr().unwrap().port()), "ok");
    let msgs = sink.wait_for_messages(3, WAIT);
    let tls: Vec<bool> = msgs.iter().map(|m| m.envelope.tls).collect();
    assert_eq!(tls, [false, true, true]);
    for (m, mode) in msgs.iter().zip(["plain", "starttls", "ssl"]) {
        assert_eq!(m.envelope.rcpt_to, ["x1@example.com", "x2@example.com"]);
        assert_eq!(m.subject(), Some(format!("测试主题 {mode}")));
        assert!(m.parsed().html_body.unwrap().contains("我的第一个标题"));
    }
}

#[test]
fn python_smtplib_as_in_003_sample_against_tencent_ses() {
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::TencentSes).account("abc@cd.com", "pw")).unwrap();
    assert_eq!(python("ssl", sink.smtps_addr().unwrap().port()), "ok");
    assert!(python("plain", sink.smtp_addr().unwrap().port()).starts_with("error"));
    assert_eq!(sink.wait_for_messages(1, WAIT).len(), 1);
}

#[test]
fn connection_limit_answers_421() {
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).max_connections(1)).unwrap();
    let addr = sink.smtp_addr().unwrap();
    let first = TcpStream::connect(addr).unwrap();
    let mut r = BufReader::new(first.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.starts_with("220 "), "{line}");
    let mut second = TcpStream::connect(addr).unwrap();
    second.set_read_timeout(Some(WAIT)).unwrap();
    let mut got = String::new();
    let _ = second.read_to_string(&mut got);
    assert_eq!(
        got,
        "421 4.3.2 sink.atconform.test Error: too many connections, try again later\r\n"
    );
    drop((first, r));
}

#[test]
fn store_dir_keeps_exact_bytes_and_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let lines: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let seen = lines.clone();
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .store_dir(dir.path())
            .on_message(move |m| seen.lock().unwrap().push(m.summary_line())),
    )
    .unwrap();
    let mut tcp = TcpStream::connect(sink.smtp_addr().unwrap()).unwrap();
    tcp.write_all(
        b"EHLO x\r\nAUTH PLAIN AHUAcA==\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<c@d.e>\r\nRCPT TO:<e@f.g>\r\nDATA\r\n\
          Subject: TEST SMTP\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
    )
    .unwrap();
    let mut all = String::new();
    tcp.read_to_string(&mut all).unwrap();
    assert!(
        all.ends_with("221 2.0.0 sink.atconform.test closing connection\r\n"),
        "{all}"
    );
    let raw = std::fs::read(dir.path().join("1.eml")).unwrap();
    assert_eq!(raw, b"Subject: TEST SMTP\r\n\r\n.dot\r\n");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("1.json")).unwrap()).unwrap();
    assert_eq!(
        meta["envelope"]["rcpt_to"],
        serde_json::json!(["c@d.e", "e@f.g"])
    );
    assert_eq!(meta["envelope"]["auth_user"], "u");
    assert_eq!(
        lines.lock().unwrap().as_slice(),
        ["#1 from=<a@b.c> to=<c@d.e>,<e@f.g> 28 bytes tls=no auth=u subject=\"TEST SMTP\""]
    );
    assert_eq!(sink.wait_for_transcripts(1, WAIT).len(), 1);
    drop(sink);
    // A restarted sink continues numbering after the files already there.
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::Permissive).store_dir(dir.path())).unwrap();
    let mut tcp = TcpStream::connect(sink.smtp_addr().unwrap()).unwrap();
    tcp.write_all(b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
        .unwrap();
    let mut all = String::new();
    tcp.read_to_string(&mut all).unwrap();
    assert!(all.contains("250 2.0.0 Ok: queued as 2\r\n"), "{all}");
    assert_eq!(sink.wait_for_transcripts(1, WAIT)[0].connection, 2);
    let transcript = std::fs::read_to_string(dir.path().join("transcripts/1.txt")).unwrap();
    assert!(transcript.contains("AUTH PLAIN <redacted>"), "{transcript}");
    assert!(!transcript.contains("AHUAcA=="));
}

#[test]
fn given_pem_certificate_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).tls_pem(&cert, &key)).unwrap();
    assert_eq!(sink.certificate_der(), ck.cert.der().as_ref());
    transport(
        sink.smtps_addr().unwrap().port(),
        Tls::Wrapper(tls_params()),
    )
    .send(&email("pem"))
    .expect("send over implicit TLS with the given certificate");
    assert!(sink.wait_for_messages(1, WAIT)[0].envelope.tls);
    let missing = SinkConfig::new(Profile::Permissive).tls_pem(dir.path().join("nope.pem"), &key);
    let err = smtp_sink::spawn(missing).unwrap_err();
    assert!(err.to_string().contains("nope.pem"), "{err}");
}

#[test]
fn fault_scripts_over_tcp() {
    let faults = smtp_sink::FaultScript::parse("rcpt#1=550 5.1.1 No such user here").unwrap();
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).faults(faults)).unwrap();
    let port = sink.smtp_addr().unwrap().port();
    let err = transport(port, Tls::None).send(&email("x")).unwrap_err();
    assert!(err.to_string().contains("No such user here"), "{err}");
    assert!(sink.messages().is_empty());

    let faults = smtp_sink::FaultScript::parse("drop=mid-data").unwrap();
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).faults(faults)).unwrap();
    let port = sink.smtp_addr().unwrap().port();
    assert!(transport(port, Tls::None).send(&email("x")).is_err());
    let ts = sink.wait_for_transcripts(1, WAIT);
    assert_eq!(ts[0].end.map(|e| e.reason), Some(CloseReason::FaultDrop));
    assert!(sink.messages().is_empty());
}

#[test]
fn delays_follow_the_manual_clock_over_tcp() {
    let manual = smtp_sink::ManualClock::new();
    let faults = smtp_sink::FaultScript::parse("delay=mail:60s").unwrap();
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .clock(smtp_sink::Clock::manual(&manual))
            .faults(faults),
    )
    .unwrap();
    let tcp = TcpStream::connect(sink.smtp_addr().unwrap()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    let mut w = tcp;
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    w.write_all(b"HELO x\r\n").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "250 sink.atconform.test\r\n");
    w.write_all(b"MAIL FROM:<a@b>\r\n").unwrap();
    // The reply comes only when virtual time moves (at most two steps, whenever MAIL was read).
    line.clear();
    let mut steps = 0;
    while r.read_line(&mut line).is_err() || line.is_empty() {
        line.clear();
        manual.advance(Duration::from_secs(60));
        steps += 1;
        assert!(steps <= 50, "no reply to MAIL");
    }
    assert_eq!(line, "250 2.1.0 Ok\r\n");
    assert!(steps >= 1, "the reply came before virtual time moved");
    w.write_all(b"QUIT\r\n").unwrap();
    let t = &sink.wait_for_transcripts(1, WAIT)[0];
    let at = |b: &[u8]| t.entries.iter().find(|e| e.bytes == b).unwrap().at;
    assert_eq!(
        at(b"250 2.1.0 Ok\r\n") - at(b"MAIL FROM:<a@b>\r\n"),
        Duration::from_secs(60)
    );
}
