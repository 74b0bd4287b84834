//! `atconform sink` as a user runs it: a message over loopback is summarised on stdout (no
//! password), and SIGTERM stops it with exit 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// One SMTP command and the reply code it must get.
fn exchange(s: &mut TcpStream, r: &mut BufReader<TcpStream>, line: &str, code: &str) {
    if !line.is_empty() {
        s.write_all(line.as_bytes()).expect("write");
    }
    loop {
        let mut reply = String::new();
        r.read_line(&mut reply).expect("reply");
        assert!(reply.starts_with(code), "{line:?} -> {reply:?}");
        if reply.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
}

#[test]
fn summarises_a_message_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atconform"))
        .args([
            "sink",
            "--listen",
            "127.0.0.1:0",
            "--auth",
            "user:s3cr3t-pw",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(20)).expect("a line");
    let listening = next();
    let addr = listening
        .strip_prefix("[sink] listening smtp=")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("{listening}"))
        .to_owned();
    // STARTTLS is offered: the second line says what TLS the sink accepts (docs/tls.md).
    let tls = next();
    assert!(tls.starts_with("[sink] tls versions=TLSv1,"), "{tls}");

    let mut s = TcpStream::connect(&addr).expect("connect");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    exchange(&mut s, &mut r, "", "220");
    exchange(&mut s, &mut r, "EHLO host.test\r\n", "250");
    // \0user\0s3cr3t-pw
    exchange(&mut s, &mut r, "AUTH PLAIN AHVzZXIAczNjcjN0LXB3\r\n", "235");
    exchange(&mut s, &mut r, "MAIL FROM:<a@x.test>\r\n", "250");
    exchange(&mut s, &mut r, "RCPT TO:<b@y.test>\r\n", "250");
    exchange(&mut s, &mut r, "DATA\r\n", "354");
    exchange(
        &mut s,
        &mut r,
        "Subject: TEST SMTP\r\n\r\nhello\r\n.\r\n",
        "250",
    );
    exchange(&mut s, &mut r, "QUIT\r\n", "221");
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);

    let summary = next();
    assert!(summary.starts_with("[sink] #"), "{summary}");
    assert!(summary.contains("from=<a@x.test>"), "{summary}");
    assert!(summary.contains("to=<b@y.test>"), "{summary}");
    assert!(summary.contains("subject=\"TEST SMTP\""), "{summary}");
    assert!(!summary.contains("s3cr3t"), "{summary}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit 0 on SIGTERM, got {status:?}");
}
