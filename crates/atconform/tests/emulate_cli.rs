//! `atconform emulate` as a user runs it: listings, usage errors (exit 2), and the PTY and TCP
//! front ends served until SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn atconform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atconform"))
}

#[test]
fn lists_quirks_and_profiles() {
    let out = atconform()
        .args(["emulate", "--list-quirks"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("urc-before-ok ")),
        "{text}"
    );
    let out = atconform()
        .args(["emulate", "--list-profiles"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["ec25", "ag35", "multitech"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} in {text}"
        );
    }
}

#[test]
fn usage_errors_exit_2_with_one_message() {
    for (args, needle) in [
        (
            &["emulate"][..],
            "exactly one of --pty-link PATH or --listen ADDR",
        ),
        (
            &["emulate", "--profile", "ec99", "--listen", "127.0.0.1:0"][..],
            "unknown profile",
        ),
        (
            &["emulate", "--quirk", "nope", "--listen", "127.0.0.1:0"][..],
            "nope",
        ),
        (
            &["emulate", "--fault", "meteor", "--listen", "127.0.0.1:0"][..],
            "meteor",
        ),
        (
            &[
                "emulate",
                "--resolve",
                "smtp.163.com=1.2.3.4",
                "--listen",
                "127.0.0.1:0",
            ][..],
            "HOST:PORT=IP:PORT",
        ),
    ] {
        let out = atconform().args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// Spawns `atconform emulate ARGS` and returns it with its startup line.
fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = atconform()
        .arg("emulate")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("startup line");
    (child, line.trim_end().to_owned())
}

/// SIGTERM, then the exit status (the emulator cleans up and exits 0).
fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    child.wait().expect("wait")
}

/// Reads from `r` on a helper thread until `end` (bounded so a failure cannot hang the suite).
fn read_until(mut r: impl Read + Send + 'static, end: &'static [u8]) -> Vec<u8> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(end) {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send(got);
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("module answered")
}

#[test]
fn pty_link_serves_until_sigterm_and_removes_the_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("ttyEC25");
    let link_s = link.to_string_lossy().into_owned();
    let (child, line) = spawn(&["--profile", "ec25", "--pty-link", &link_s]);
    let prefix = format!("emulating EC25 on {link_s} -> /dev/pts/");
    assert!(line.starts_with(&prefix), "{line}");
    let slave = std::fs::read_link(&link).expect("symlink");
    assert_eq!(
        format!("emulating EC25 on {link_s} -> {}", slave.display()),
        line
    );
    let mut port = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&link)
        .expect("open");
    port.write_all(b"AT\r").expect("write");
    let reader = port.try_clone().expect("clone");
    assert_eq!(read_until(reader, b"OK\r\n"), b"AT\r\r\nOK\r\n");
    drop(port);
    assert!(terminate(child).success());
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "link removed on exit"
    );
}

#[test]
fn listen_serves_tcp_until_sigterm() {
    let (child, line) = spawn(&["--profile", "ag35", "--listen", "127.0.0.1:0"]);
    let addr = line
        .strip_prefix("emulating AG35 on tcp ")
        .unwrap_or_else(|| panic!("{line}"));
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(b"AT\r").expect("write");
    assert_eq!(
        read_until(s.try_clone().expect("clone"), b"OK\r\n"),
        b"AT\r\r\nOK\r\n"
    );
    drop(s);
    assert!(terminate(child).success());
}
