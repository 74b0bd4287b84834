//! The PTY front end opened with pyserial (PyPI), as Python host tools do.

mod common;

use std::process::Command;

use at_mailer::ResolveMap;
use common::PtyServer;

#[test]
fn pyserial_gets_at_ok() {
    let server = PtyServer::start(ResolveMap::new());
    let script = r#"
import sys, serial
s = serial.Serial(sys.argv[1], 115200, timeout=10)
s.write(b"AT\r")
want = b"AT\r\r\nOK\r\n"
got = b""
while not got.endswith(b"OK\r\n"):
    chunk = s.read(1)
    if not chunk:
        break
    got += chunk
sys.stdout.write(repr(got))
sys.exit(0 if got == want else 1)
"#;
    let out = Command::new(at_testkit::python())
        .args(["-c", script])
        .arg(&server.link)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pyserial read {stdout}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, r"b'AT\r\r\nOK\r\n'");
    server.stop();
}
