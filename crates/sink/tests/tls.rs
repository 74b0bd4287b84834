//! TLS as modules and providers speak it, checked with third-party peers: the `openssl s_client`
//! command (TLS 1.0 with `AES128-SHA`, implicit and `-starttls smtp`; each TLS fault seen by its
//! verifier) and `swaks` (Debian package; `#[ignore]`d here, run by `.ci/run` after installing
//! it). The sink is OpenSSL too, but s_client and swaks are independent clients, driven as a lab
//! would drive them.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use smtp_sink::{CloseReason, FaultScript, Profile, SinkConfig};

const WAIT: Duration = Duration::from_secs(10);

/// An `openssl s_client` process, its stdout read line by line on a thread.
struct SClient {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl SClient {
    fn start(args: &[&str]) -> SClient {
        let mut child = Command::new("openssl")
            .arg("s_client")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the openssl command (Debian package openssl) runs");
        let (tx, lines) = mpsc::channel();
        for out in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stdin = child.stdin.take();
        SClient {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line starting with `prefix`; panics with everything seen after `WAIT`.
    fn expect(&mut self, prefix: &str) -> String {
        let until = std::time::Instant::now() + WAIT;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.starts_with(prefix) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no line starting {prefix:?}; s_client said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write to s_client");
        stdin.flush().expect("flush");
    }

    /// Everything s_client printed until it exits (or `WAIT` passes).
    fn finish(mut self) -> String {
        drop(self.stdin.take());
        let until = std::time::Instant::now() + WAIT;
        while let Ok(l) = self
            .lines
            .recv_timeout(until.saturating_duration_since(std::time::Instant::now()))
        {
            self.seen.push(l);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.seen.join("\n")
    }
}

impl Drop for SClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One mail through an established s_client session (the greeting already read or consumed).
fn send_mail(c: &mut SClient, subject: &str) {
    c.say("EHLO lab.test");
    c.say("MAIL FROM:<module@lab.test>");
    c.expect("250 2.1.0");
    c.say("RCPT TO:<rcpt@lab.test>");
    c.expect("250 2.1.5");
    c.say("DATA");
    c.expect("354");
    c.say(&format!(
        "Subject: {subject}\r\n\r\nhello over legacy TLS\r\n."
    ));
    c.expect("250 2.0.0 Ok: queued");
    c.say("QUIT");
    c.expect("221");
}

fn legacy_args(addr: &str) -> Vec<String> {
    [
        "-connect",
        addr,
        "-tls1",
        "-cipher",
        "AES128-SHA:@SECLEVEL=0",
        "-servername",
        "localhost",
        "-ign_eof",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_s_client(args: &[String]) -> SClient {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    SClient::start(&refs)
}

#[test]
fn openssl_s_client_tls1_aes128_sha_implicit() {
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive)).unwrap();
    let addr = sink.smtps_addr().unwrap().to_string();
    let mut c = run_s_client(&legacy_args(&addr));
    c.expect("220 ");
    send_mail(&mut c, "s_client implicit");
    let said = c.finish();
    let msgs = sink.wait_for_messages(1, WAIT);
    assert_eq!(msgs.len(), 1, "{said}");
    assert_eq!(msgs[0].envelope.tls_version.as_deref(), Some("TLSv1"));
    assert_eq!(
        msgs[0].envelope.tls_cipher.as_deref(),
        Some("TLS_RSA_WITH_AES_128_CBC_SHA")
    );
    let t = &sink.wait_for_transcripts(1, WAIT)[0];
    let tls = t.tls.as_ref().expect("TLS recorded");
    assert_eq!(
        (
            tls.version.as_str(),
            tls.cipher_id.as_str(),
            tls.cipher_openssl.as_str()
        ),
        ("TLSv1", "0x002F", "AES128-SHA")
    );
    let offered = tls.offered.as_ref().expect("ClientHello recorded");
    assert_eq!(offered.max_version(), Some(at_tls::Version::Tls10));
    assert!(offered.suites.contains(&0x002F), "{offered}");
    // s_client's own view agrees.
    assert!(said.contains("Cipher is AES128-SHA"), "{said}");
    assert!(said.contains("Protocol  : TLSv1\n"), "{said}");
}

#[test]
fn openssl_s_client_tls1_aes128_sha_starttls() {
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive)).unwrap();
    let addr = sink.smtp_addr().unwrap().to_string();
    let mut args = legacy_args(&addr);
    args.extend(["-starttls".into(), "smtp".into()]);
    let mut c = run_s_client(&args);
    // s_client reads the greeting, says EHLO and STARTTLS itself, then hands over.
    c.expect("verify return:");
    send_mail(&mut c, "s_client starttls");
    c.finish();
    let msgs = sink.wait_for_messages(1, WAIT);
    assert_eq!(msgs[0].envelope.tls_version.as_deref(), Some("TLSv1"));
    let t = &sink.wait_for_transcripts(1, WAIT)[0];
    assert!(!t.implicit_tls);
    assert_eq!(t.tls_upgrades.len(), 1);
    assert_eq!(
        t.tls.as_ref().unwrap().cipher,
        "TLS_RSA_WITH_AES_128_CBC_SHA"
    );
}

#[test]
fn profiles_and_restrictions_decide_who_gets_tls1() {
    // rfc5321: TLS 1.2+ (RFC 8996); tencent-ses: 003's list has TLSv1 and AES128-SHA;
    // --tls-versions 1.2 restricts permissive.
    for (cfg, ok) in [
        (SinkConfig::new(Profile::Rfc5321), false),
        (SinkConfig::new(Profile::TencentSes), true),
        (
            SinkConfig::new(Profile::Permissive).tls_versions("1.2".parse().unwrap()),
            false,
        ),
        (
            SinkConfig::new(Profile::Permissive)
                .tls_ciphers(at_tls::Ciphers::parse("AES256-SHA").unwrap()),
            false,
        ),
    ] {
        let what = format!("{cfg:?}");
        let sink = smtp_sink::spawn(cfg).unwrap();
        let addr = sink.smtps_addr().unwrap().to_string();
        let mut c = run_s_client(&legacy_args(&addr));
        if ok {
            c.expect("220 ");
            c.say("QUIT");
            c.expect("221");
        }
        let said = c.finish();
        let t = &sink.wait_for_transcripts(1, WAIT)[0];
        if ok {
            assert_eq!(t.tls.as_ref().unwrap().version, "TLSv1", "{what}");
        } else {
            assert_eq!(
                t.end.unwrap().reason,
                CloseReason::TlsFailed,
                "{what}: {said}"
            );
            let why = t.tls_error.as_deref().unwrap_or_default();
            assert!(
                why.contains("client offered versions up to TLSv1"),
                "{what}: {why}"
            );
            assert!(
                said.contains("alert"),
                "{what}: s_client saw an alert: {said}"
            );
        }
    }
}

/// `openssl s_client -verify_return_error` with the test CA: its verifier names each fault.
#[test]
fn each_certificate_fault_as_s_client_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, at_tls::TEST_CA_PEM).unwrap();
    for (fault, reason) in [
        (None, None),
        (Some("expired"), Some("certificate has expired")),
        (Some("not-yet-valid"), Some("certificate is not yet valid")),
        (Some("self-signed"), Some("self-signed certificate")),
        (Some("wrong-host"), Some("hostname mismatch")),
        (
            Some("unknown-ca"),
            Some("unable to get local issuer certificate"),
        ),
    ] {
        let mut script = FaultScript::new();
        if let Some(f) = fault {
            script = script.tls_fault(f).unwrap();
        }
        let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).faults(script)).unwrap();
        let addr = sink.smtps_addr().unwrap().to_string();
        let mut c = SClient::start(&[
            "-connect",
            &addr,
            "-CAfile",
            ca.to_str().unwrap(),
            "-verify_return_error",
            "-verify_hostname",
            "smtp.163.com",
            "-servername",
            "smtp.163.com",
            "-ign_eof",
        ]);
        match reason {
            None => {
                c.expect("220 ");
                c.say("QUIT");
                c.expect("221");
                c.finish();
            }
            Some(reason) => {
                let said = c.finish();
                assert!(said.contains(reason), "{fault:?}: {said}");
                assert!(sink.messages().is_empty());
            }
        }
    }
}

#[test]
fn client_certificate_demanded_and_handshake_faults() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("m.pem"), dir.path().join("m.key"));
    std::fs::write(&cert, at_tls::TEST_MODULE_CERT_PEM).unwrap();
    std::fs::write(&key, at_tls::TEST_MODULE_KEY_PEM).unwrap();
    let script = FaultScript::new().tls_fault("client-cert").unwrap();
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).faults(script)).unwrap();
    let addr = sink.smtps_addr().unwrap().to_string();
    // Without a certificate (TLS 1.2: the refusal comes within the handshake).
    let said = SClient::start(&["-connect", &addr, "-tls1_2", "-ign_eof"]).finish();
    assert!(!said.contains("220 "), "{said}");
    let mut c = SClient::start(&[
        "-connect",
        &addr,
        "-tls1_2",
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-ign_eof",
    ]);
    c.expect("220 ");
    c.say("QUIT");
    c.expect("221");
    c.finish();
    let ts = sink.wait_for_transcripts(2, WAIT);
    assert_eq!(ts[0].end.unwrap().reason, CloseReason::TlsFailed);
    assert_eq!(
        ts[1].tls.as_ref().unwrap().client_certificate.as_deref(),
        Some("CN=atconform test module, O=atconform")
    );

    for (fault, s_client_says) in [
        ("abort", None),
        ("version-mismatch", Some("alert protocol version")),
        ("suite-mismatch", Some("alert handshake failure")),
    ] {
        let script = FaultScript::new().tls_fault(fault).unwrap();
        let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).faults(script)).unwrap();
        let addr = sink.smtps_addr().unwrap().to_string();
        let said = SClient::start(&["-connect", &addr, "-ign_eof"]).finish();
        if let Some(alert) = s_client_says {
            assert!(said.contains(alert), "{fault}: {said}");
        }
        assert!(!said.contains("220 "), "{fault}: {said}");
        let t = &sink.wait_for_transcripts(1, WAIT)[0];
        assert!(
            t.tls_error
                .as_deref()
                .unwrap_or_default()
                .contains("injected TLS fault"),
            "{fault}: {:?}",
            t.tls_error
        );
    }
}

/// `454` to STARTTLS (a fault-script reply), as s_client meets it.
#[test]
fn starttls_454() {
    let script =
        FaultScript::parse("starttls=454 4.7.0 TLS not available due to temporary reason").unwrap();
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).faults(script)).unwrap();
    let addr = sink.smtp_addr().unwrap().to_string();
    let said = SClient::start(&["-connect", &addr, "-starttls", "smtp", "-ign_eof"]).finish();
    // s_client does not read the reply to STARTTLS: its handshake then meets plain SMTP.
    assert!(said.contains("Cipher is (NONE)"), "{said}");
    let t = &sink.wait_for_transcripts(1, WAIT)[0];
    assert!(String::from_utf8_lossy(&t.server_bytes()).contains("454 4.7.0"));
    assert!(t.tls.is_none());
}

/// swaks (Debian package) with STARTTLS and implicit TLS, AUTH PLAIN and LOGIN. Not installed by
/// default: `.ci/run` installs it and runs this with `--ignored`.
#[test]
#[ignore = "needs swaks"]
fn swaks_with_tls_and_auth() {
    let sink =
        smtp_sink::spawn(SinkConfig::new(Profile::Permissive).account("lab", "secret")).unwrap();
    for (port, mode, auth) in [
        (sink.smtp_addr().unwrap().port(), "--tls", "PLAIN"),
        (
            sink.smtps_addr().unwrap().port(),
            "--tls-on-connect",
            "LOGIN",
        ),
    ] {
        let out = Command::new("swaks")
            .args([
                "--server",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                mode,
                "--auth",
                auth,
                "--auth-user",
                "lab",
                "--auth-password",
                "secret",
                "--from",
                "module@lab.test",
                "--to",
                "rcpt@lab.test",
                "--header",
                &format!("Subject: swaks {mode} {auth}"),
                "--timeout",
                "10",
            ])
            .output()
            .expect("swaks runs (apt-get install swaks)");
        assert!(
            out.status.success(),
            "swaks {mode}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let msgs = sink.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        assert_eq!(m.envelope.auth_user.as_deref(), Some("lab"));
        assert!(m.envelope.tls);
        assert!(m.envelope.tls_version.is_some(), "{:?}", m.envelope);
    }
    let ts = sink.wait_for_transcripts(2, WAIT);
    assert!(!ts[0].implicit_tls && ts[0].tls_upgrades.len() == 1);
    assert!(ts[1].implicit_tls);
    // AUTH payloads are redacted in every rendering.
    for t in &ts {
        assert!(!t.render().contains("secret"));
    }
}
