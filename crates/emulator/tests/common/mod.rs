//! Shared helpers for the end-to-end tests: the aiosmtpd peer, a certificate, and AT driving.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use at_emulator::EmulatorConfig;
use at_emulator::driver::{Driver, Smtp};
use at_mailer::ResolveMap;

pub const USER: &str = "sishen664551";
pub const PASS: &str = "wq664551";

/// An RSA certificate for `smtp.163.com` signed by the atconform test CA, written as PEM files
/// in `dir`. RSA, because every suite of the module catalog authenticates with RSA.
pub fn write_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (pem, key_pem) =
        at_tls::server_certificate_pem(&["smtp.163.com".into()], None).expect("cert");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, pem).expect("write cert");
    std::fs::write(&key, key_pem).expect("write key");
    (cert, key)
}

/// One message aiosmtpd accepted.
#[derive(Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt: Vec<String>,
    pub tls: bool,
    pub auth: Option<String>,
    pub raw: Vec<u8>,
}

/// aiosmtpd (PyPI) running `tests/aiosmtpd_peer.py`: plain+STARTTLS and implicit TLS.
/// Stopped (stdin closed, then killed) on drop.
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub plain: SocketAddr,
    pub smtps: SocketAddr,
    out: tempfile::TempDir,
    _certs: tempfile::TempDir,
}

impl Peer {
    /// Starts the peer (aiosmtpd provisioned by `at_testkit`).
    pub fn start() -> Peer {
        let certs = tempfile::tempdir().expect("tempdir");
        let (cert, key) = write_cert(certs.path());
        let out = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aiosmtpd_peer.py");
        let mut child = Command::new(at_testkit::python())
            .arg(&script)
            .arg(&cert)
            .arg(&key)
            .arg(out.path())
            .arg(USER)
            .arg(PASS)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the aiosmtpd peer");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read READY");
        let mut words = line.split_whitespace();
        assert_eq!(
            words.next(),
            Some("READY"),
            "aiosmtpd peer did not start: {line:?}"
        );
        let port = |w: Option<&str>| -> u16 { w.and_then(|p| p.parse().ok()).expect("port") };
        let plain = SocketAddr::from(([127, 0, 0, 1], port(words.next())));
        let smtps = SocketAddr::from(([127, 0, 0, 1], port(words.next())));
        let stdin = child.stdin.take();
        Peer {
            child,
            stdin,
            plain,
            smtps,
            out,
            _certs: certs,
        }
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        let mut all = Vec::new();
        for n in 1.. {
            let eml = self.out.path().join(format!("{n}.eml"));
            let Ok(raw) = std::fs::read(&eml) else { break };
            let meta =
                std::fs::read_to_string(self.out.path().join(format!("{n}.meta"))).expect("meta");
            let mut r = Received {
                mail_from: String::new(),
                rcpt: Vec::new(),
                tls: false,
                auth: None,
                raw,
            };
            for l in meta.lines() {
                match l.split_once(' ') {
                    Some(("mail_from", v)) => r.mail_from = v.to_owned(),
                    Some(("rcpt", v)) => r.rcpt.push(v.to_owned()),
                    Some(("tls", v)) => r.tls = v == "1",
                    Some(("auth", v)) => r.auth = Some(v.to_owned()),
                    _ => {}
                }
            }
            all.push(r);
        }
        all
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `smtp.163.com:25` pointed at `addr` (000 §3.1's server, ERRATA E4).
pub fn resolve_163(addr: SocketAddr) -> ResolveMap {
    let mut map = ResolveMap::new();
    map.add(&format!("smtp.163.com:25={addr}"))
        .expect("resolve entry");
    map
}

/// An EC25 in process with `smtp.163.com:25` pointed at `addr`.
pub fn ec25(addr: SocketAddr) -> Module {
    Driver::new(
        EmulatorConfig::builtin("ec25").expect("ec25"),
        Smtp::new(resolve_163(addr)),
    )
}

/// An emulated module in process, delivering over real SMTP.
pub type Module = Driver<Smtp>;

/// Sends one command line (echo off expected) and returns the response text; asserts it
/// ends in `OK`.
pub fn ok(m: &mut Module, line: &str) -> String {
    m.write(format!("{line}\r").as_bytes());
    let out = String::from_utf8_lossy(&m.read_available()).into_owned();
    assert!(out.ends_with("\r\nOK\r\n"), "{line} -> {out:?}");
    out
}

/// The content of a mail as the tests send it.
pub struct Mail<'a> {
    pub ssltype: u8,
    pub password: &'a str,
    pub subject_utf8: &'a str,
    pub body: &'a [u8],
    pub attachment: &'a [u8],
}

pub const SUBJECT: &str = "移远 EC25 测试邮件 ✓";
pub const BODY: &[u8] = b"Hello from the EC25 emulator.\r\n.a line starting with a dot\r\n";

pub fn attachment_bytes() -> Vec<u8> {
    (0..=255u8).chain(b"\r\n.\r\n".iter().copied()).collect()
}

/// Configures the module as in 000 §3.1–§3.3 (seclevel 0, ERRATA E3) and fills in a mail:
/// To, Cc and Bcc recipients, a UTF-8 subject (hex, 000 §2.2.3), a body in data mode
/// (000 §2.2.4) and one RAM attachment (000 §2.2.5).
pub fn prepare(m: &mut Module, mail: &Mail<'_>) {
    m.write(b"ATE0\r");
    m.read_available();
    for line in [
        "AT+QIACT=1".to_owned(),
        "AT+QSMTPCFG=\"contextid\",1".to_owned(),
        format!("AT+QSMTPCFG=\"ssltype\",{}", mail.ssltype),
        "AT+QSMTPCFG=\"sslctxid\",1".to_owned(),
        "AT+QSSLCFG=\"seclevel\",1,0".to_owned(),
        "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25".to_owned(),
        format!("AT+QSMTPCFG=\"account\",\"{USER}\",\"{}\"", mail.password),
        format!("AT+QSMTPCFG=\"sender\",\"{USER}\",\"{USER}@163.com\""),
        "AT+QSMTPDST=1,1,\"quectel_test@163.com\"".to_owned(),
        "AT+QSMTPDST=1,2,\"quectel_test@21cn.com\"".to_owned(),
        "AT+QSMTPDST=1,3,\"blind@bcc.test\"".to_owned(),
        format!("AT+QSMTPSUB=1,\"{}\"", hex(mail.subject_utf8.as_bytes())),
    ] {
        ok(m, &line);
    }
    m.write(format!("AT+QSMTPBODY=1,{},120\r", mail.body.len()).as_bytes());
    assert_eq!(m.read_available(), b"\r\nCONNECT\r\n");
    m.write(mail.body);
    let out = String::from_utf8_lossy(&m.read_available()).into_owned();
    assert_eq!(
        out,
        format!("\r\n+QSMTPBODY: {}\r\n\r\nOK\r\n", mail.body.len())
    );
    m.write(format!("AT+QFUPL=\"RAM:smtp1.txt\",{},200\r", mail.attachment.len()).as_bytes());
    assert_eq!(m.read_available(), b"\r\nCONNECT\r\n");
    m.write(mail.attachment);
    let out = String::from_utf8_lossy(&m.read_available()).into_owned();
    assert!(
        out.contains(&format!("+QFUPL: {},", mail.attachment.len())),
        "{out:?}"
    );
    ok(m, "AT+QSMTPATT=1,1,\"RAM:smtp1.txt\"");
}

/// `AT+QSMTPPUT=300`, expecting `OK` and then the URC; returns the URC line.
pub fn put(m: &mut Module) -> String {
    m.write(b"AT+QSMTPPUT=300\r");
    let mut out = m.read_available();
    if !out.windows(10).any(|w| w == b"+QSMTPPUT:") {
        assert!(
            m.advance_until_output(std::time::Duration::from_secs(400))
                .expect("driver")
        );
        out.extend(m.read_available());
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(text.starts_with("\r\nOK\r\n"), "{text:?}");
    let urc = text
        .split("\r\n")
        .find(|l| l.starts_with("+QSMTPPUT: "))
        .unwrap_or_else(|| panic!("no URC in {text:?}"));
    urc.to_owned()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The emulator served on a PTY by `at_emulator::serve` (the code behind
/// `atconform emulate --pty-link`) on a background thread; stopped on drop.
pub struct PtyServer {
    pub link: PathBuf,
    pub slave: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl PtyServer {
    pub fn start(resolve: ResolveMap) -> PtyServer {
        use at_emulator::serve::{Pty, ServeOptions};
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("ttyEC25");
        let pty = Pty::open(Some(&link)).expect("open pty");
        let slave = pty.slave_path().to_path_buf();
        let options = ServeOptions::new(EmulatorConfig::builtin("ec25").expect("ec25"), resolve);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let r = rt.block_on(pty.serve(&options, async {
                let _ = rx.await;
            }));
            rt.shutdown_timeout(std::time::Duration::from_millis(100));
            drop(pty);
            r.expect("serve");
        });
        PtyServer {
            link,
            slave,
            stop: Some(tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// Stops serving and waits; the link is gone afterwards.
    pub fn stop(mut self) -> PathBuf {
        self.shutdown();
        self.link.clone()
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("serve thread");
        }
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Reads from `r` until the bytes read end with `end` (or 10 s pass, so a broken build fails
/// instead of hanging); returns everything read.
pub fn read_until(r: &mut dyn std::io::Read, end: &[u8]) -> Vec<u8> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(end) && std::time::Instant::now() < deadline {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}
