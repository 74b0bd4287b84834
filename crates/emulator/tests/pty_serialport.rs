//! The PTY front end (`atconform emulate --pty-link PATH`) driven through the `serialport`
//! crate, as host software would open a module's serial port.

mod common;

use std::io::Write;
use std::time::Duration;

use at_mailer::ResolveMap;
use common::{Peer, PtyServer, read_until, resolve_163};

fn open(path: &std::path::Path) -> Box<dyn serialport::SerialPort> {
    serialport::new(path.to_string_lossy(), 115_200)
        .timeout(Duration::from_millis(200))
        .open()
        .expect("serialport opens the PTY link")
}

#[test]
fn at_ok_through_the_symlink() {
    let server = PtyServer::start(ResolveMap::new());
    assert!(server.slave.starts_with("/dev/pts"), "{:?}", server.slave);
    assert_eq!(
        std::fs::read_link(&server.link).expect("symlink"),
        server.slave
    );
    let mut port = open(&server.link);
    port.write_all(b"AT\r").expect("write");
    // Echo (ERRATA W2), then the framed OK (W1).
    assert_eq!(read_until(&mut port, b"OK\r\n"), b"AT\r\r\nOK\r\n");
    port.write_all(b"ATI\r").expect("write");
    let ati = read_until(&mut port, b"OK\r\n");
    assert_eq!(
        ati,
        b"ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A03M4G\r\n\r\nOK\r\n"
    );
    drop(port);
    // The host may close and reopen the port; the module keeps its state (echo still on).
    let mut port = open(&server.link);
    port.write_all(b"ATE0\r").expect("write");
    assert_eq!(read_until(&mut port, b"OK\r\n"), b"ATE0\r\r\nOK\r\n");
    port.write_all(b"AT\r").expect("write");
    assert_eq!(read_until(&mut port, b"OK\r\n"), b"\r\nOK\r\n");
    drop(port);
    let link = server.stop();
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "link removed on exit"
    );
}

#[test]
fn sends_a_mail_in_real_time_over_the_pty() {
    let peer = Peer::start();
    let server = PtyServer::start(resolve_163(peer.plain));
    let mut port = open(&server.link);
    let mut cmd = |line: &str, end: &[u8]| -> Vec<u8> {
        port.write_all(line.as_bytes()).expect("write");
        read_until(&mut port, end)
    };
    cmd("ATE0\r", b"OK\r\n");
    for line in [
        "AT+QIACT=1\r",
        "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25\r",
        "AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"\r",
        "AT+QSMTPCFG=\"sender\",\"sishen664551\",\"sishen664551@163.com\"\r",
        "AT+QSMTPDST=1,1,\"quectel_test@163.com\"\r",
        "AT+QSMTPSUB=0,\"TEST SMTP\"\r",
    ] {
        assert_eq!(cmd(line, b"OK\r\n"), b"\r\nOK\r\n", "{line}");
    }
    assert_eq!(
        cmd("AT+QSMTPBODY=0,7,120\r", b"CONNECT\r\n"),
        b"\r\nCONNECT\r\n"
    );
    assert_eq!(
        cmd("hello\r\n", b"OK\r\n"),
        b"\r\n+QSMTPBODY: 7\r\n\r\nOK\r\n"
    );
    let out = cmd("AT+QSMTPPUT=300\r", b"+QSMTPPUT: 0,0\r\n");
    assert_eq!(out, b"\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n");
    let got = peer.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt, ["quectel_test@163.com"]);
    assert!(String::from_utf8_lossy(&got[0].raw).contains("Subject: TEST SMTP\r\n"));
    drop(port);
    server.stop();
}
