//! The RFC 2217 front end (`atconform emulate --listen ADDR --rfc2217`) opened with pyserial's
//! `rfc2217://` client (PyPI), a third-party implementation: its negotiation, settings and
//! purge requests are answered, and its DTR drop reaches the core (000 §1.3: after `AT&D1`, a
//! DTR drop ends the body).

use std::process::Command;

use at_emulator::EmulatorConfig;
use at_emulator::serve::{ResolveMap, ServeOptions};
use at_emulator::serve_rfc2217::serve_rfc2217;

#[test]
fn pyserial_drops_dtr_over_rfc2217_and_the_body_ends() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let options = ServeOptions::new(
        EmulatorConfig::builtin("ec25").expect("ec25"),
        ResolveMap::new(),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(async move {
        serve_rfc2217(listener, &options, async {
            let _ = rx.await;
        })
        .await
    });
    let script = r#"
import sys, serial
s = serial.serial_for_url("rfc2217://127.0.0.1:%s" % sys.argv[1], baudrate=9600, timeout=10)
def until(end):
    got = b""
    while not got.endswith(end):
        c = s.read(1)
        if not c:
            break
        got += c
    return got
out = []
s.write(b"AT&D1\r")
out.append(until(b"OK\r\n"))
s.write(b"AT+QSMTPBODY=0,100,120\r")
out.append(until(b"CONNECT\r\n"))
s.write(b"\xff" * 2 + b"x" * 40)
s.dtr = False
out.append(until(b"OK\r\n"))
s.dtr = True
s.write(b"AT\r")
out.append(until(b"OK\r\n"))
s.close()
for o in out:
    print(repr(o))
"#;
    let out = Command::new(at_testkit::python())
        .args(["-c", script])
        .arg(port.to_string())
        .output()
        .expect("run python3");
    let _ = tx.send(());
    rt.block_on(server).expect("join").expect("serve_rfc2217");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pyserial: {stdout}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r"b'AT&D1\r\r\nOK\r\n'",
            r"b'AT+QSMTPBODY=0,100,120\r\r\nCONNECT\r\n'",
            // 42 bytes arrived (two of them 0xff, IAC-doubled on the wire: 44 or 40 would
            // mean a broken escape), then the DTR drop ended the body.
            r"b'\r\n+QSMTPBODY: 42\r\n\r\nOK\r\n'",
            // Back in command mode with DTR raised again.
            r"b'AT\r\r\nOK\r\n'",
        ],
        "{stdout}"
    );
}
