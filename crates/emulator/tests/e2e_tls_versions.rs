//! `AT+QSSLCFG="sslversion"` against third-party servers that speak one TLS version each
//! (aiosmtpd on Python's `ssl`, `tests/tls_only_peer.py`): `sslversion` 1 (TLS 1.0, as 000 §3.2
//! configures it) must deliver to the TLS 1.0 server and fail against the TLS 1.2 one;
//! `sslversion` 3 the reverse; 4 (all) both. Over implicit TLS and STARTTLS (000 §1.1).

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

use common::{Mail, PASS, attachment_bytes, ec25, ok, prepare, put};

/// `tls_only_peer.py`, stopped (stdin closed, then killed) on drop.
struct TlsOnly {
    child: Child,
    stdin: Option<ChildStdin>,
    plain: SocketAddr,
    smtps: SocketAddr,
    out: tempfile::TempDir,
    _certs: tempfile::TempDir,
    name: String,
}

impl TlsOnly {
    fn start(version: &str) -> TlsOnly {
        let certs = tempfile::tempdir().expect("tempdir");
        let (cert, key) = common::write_cert(certs.path());
        let out = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls_only_peer.py");
        let mut child = Command::new(at_testkit::python())
            .arg(&script)
            .arg(version)
            .arg(&cert)
            .arg(&key)
            .arg(out.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the TLS-only peer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read READY");
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("READY"), "peer did not start: {line:?}");
        let port = |w: Option<&str>| -> u16 { w.and_then(|p| p.parse().ok()).expect("port") };
        let plain = SocketAddr::from(([127, 0, 0, 1], port(words.next())));
        let smtps = SocketAddr::from(([127, 0, 0, 1], port(words.next())));
        let stdin = child.stdin.take();
        TlsOnly {
            child,
            stdin,
            plain,
            smtps,
            out,
            _certs: certs,
            name: format!("TLS {version}-only server"),
        }
    }

    /// The `tls_version` of each message received, in order.
    fn versions(&self) -> Vec<String> {
        (1..)
            .map_while(|n| {
                let dir = self.out.path();
                std::fs::read(dir.join(format!("{n}.eml"))).ok()?;
                let meta = std::fs::read_to_string(dir.join(format!("{n}.meta"))).ok()?;
                Some(
                    meta.lines()
                        .find_map(|l| l.strip_prefix("tls_version "))
                        .unwrap_or("none")
                        .to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for TlsOnly {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one mail with `sslversion` over `ssltype`; returns the `+QSMTPPUT` URC.
fn send(peer: &TlsOnly, ssltype: u8, sslversion: u8) -> String {
    let urc = send_inner(peer, ssltype, sslversion);
    eprintln!(
        "ssltype {ssltype} sslversion {sslversion} -> {}: {urc}",
        peer.name
    );
    urc
}

fn send_inner(peer: &TlsOnly, ssltype: u8, sslversion: u8) -> String {
    let addr = if ssltype == 1 { peer.smtps } else { peer.plain };
    let mut m = ec25(addr);
    let attachment = attachment_bytes();
    prepare(
        &mut m,
        &Mail {
            ssltype,
            password: PASS,
            subject_utf8: "TLS version",
            body: b"hello\r\n",
            attachment: &attachment,
        },
    );
    ok(&mut m, &format!("AT+QSSLCFG=\"sslversion\",1,{sslversion}"));
    put(&mut m)
}

/// A refused handshake: 665, or 656 when the server just closes (asyncio drops the connection
/// without flushing its alert); ERRATA E31.
fn refused(urc: &str) -> bool {
    urc == "+QSMTPPUT: 665,0" || urc == "+QSMTPPUT: 656,0"
}

#[test]
fn sslversion_1_speaks_tls10_only_and_3_tls12_only() {
    let tls10 = TlsOnly::start("1.0");
    let tls12 = TlsOnly::start("1.2");
    for ssltype in [1, 2] {
        // 000 §3.2's "sslversion",1,1: TLS 1.0.
        assert_eq!(
            send(&tls10, ssltype, 1),
            "+QSMTPPUT: 0,0",
            "ssltype {ssltype}"
        );
        let urc = send(&tls12, ssltype, 1);
        assert!(refused(&urc), "ssltype {ssltype}: {urc}");
        // "sslversion",1,3: TLS 1.2.
        let urc = send(&tls10, ssltype, 3);
        assert!(refused(&urc), "ssltype {ssltype}: {urc}");
        assert_eq!(
            send(&tls12, ssltype, 3),
            "+QSMTPPUT: 0,0",
            "ssltype {ssltype}"
        );
        // "sslversion",1,4: all of them.
        assert_eq!(
            send(&tls10, ssltype, 4),
            "+QSMTPPUT: 0,0",
            "ssltype {ssltype}"
        );
        assert_eq!(
            send(&tls12, ssltype, 4),
            "+QSMTPPUT: 0,0",
            "ssltype {ssltype}"
        );
    }
    // What the servers' own TLS stacks say was negotiated, message by message.
    assert_eq!(tls10.versions(), ["TLSv1"; 4]);
    assert_eq!(tls12.versions(), ["TLSv1.2"; 4]);
}
