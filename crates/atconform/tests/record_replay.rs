//! Record → scenario → replay, round trip (issue 19): a pyserial application runs the 000 §3.1
//! and §3.2 send flows and the §2.2.4 body ended by `+++` through `atconform record
//! --emulator`, its mail going to the recording's capture sink; `atconform scenario
//! from-transcript` turns each recording into a scenario; the scenarios pass on the in-process
//! emulator and on the emulator served behind a PTY (`atconform emulate --pty-link`), whose
//! mail goes to an external sink read through `--sink-api`. Real time: about half a minute.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn atconform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atconform"))
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Kills the child when dropped (a failing assertion must not leave a process behind).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path) {
    let until = Instant::now() + Duration::from_secs(20);
    while std::fs::symlink_metadata(path).is_err() {
        assert!(Instant::now() < until, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ends a child as Ctrl-C does, and waits for it.
fn interrupt(mut child: Child) -> Output {
    let pid = child.id().to_string();
    let ok = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(ok.success());
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Records `flow` of the application; returns the transcript file.
fn record(dir: &Path, flow: &str, route: &str) -> PathBuf {
    let link = dir.join(format!("modem-{flow}"));
    let out = dir.join(format!("rec-{flow}.txt"));
    let rec = atconform()
        .args(["record", "--emulator", "ec25", "--pty-link"])
        .arg(&link)
        .args(["--resolve", &format!("smtp.163.com:25={route}"), "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("record starts");
    wait_for(&link);
    let app = Command::new(at_testkit::python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/record_app.py"))
        .arg(&link)
        .arg(flow)
        .output()
        .expect("python runs");
    let rec = interrupt(rec);
    assert!(
        app.status.success(),
        "application, flow {flow}: {}",
        text(&app)
    );
    assert!(rec.status.success(), "{}", text(&rec));
    // The password is neither in the live echo nor in the file (issue 19: it was on stderr).
    let all = format!("{}{}", text(&rec), std::fs::read_to_string(&out).unwrap());
    assert!(!all.contains("wq664551"), "{all}");
    out
}

/// An external capture sink (`atconform sink`): its SMTP, SMTPS and API addresses.
fn sink() -> (Guard, String, String, String) {
    let mut child = atconform()
        .args([
            "sink",
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
        ])
        .args(["--api", "127.0.0.1:0"])
        .stderr(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sink starts");
    let mut err = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    err.read_line(&mut line).expect("banner");
    // Keep reading its log: a closed pipe would make its next log line fail.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .unwrap_or_else(|| panic!("{k} in {line:?}"))
            .to_string()
    };
    let (smtp, smtps, api) = (field("smtp="), field("smtps="), field("api="));
    (Guard(child), smtp, smtps, api)
}

#[test]
fn recorded_flows_replay_on_the_emulator_and_the_pty_module() {
    let dir = tempfile::tempdir().unwrap();
    let flows = [("3.1", "sink"), ("3.2", "sink-tls"), ("2.2.4", "sink")];
    let mut scenarios = Vec::new();
    for (flow, route) in flows {
        let rec = record(dir.path(), flow, route);
        let scn = dir.path().join(format!("rec-{flow}.scn"));
        let o = atconform()
            .args(["scenario", "from-transcript", "--profile", "ec25"])
            .arg(&rec)
            .arg("-o")
            .arg(&scn)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let s = std::fs::read_to_string(&scn).unwrap();
        // What issue 19 found missing: the +++ with its guard times, @resolve, the send
        // result as a URC with the command's <timeout>, the mail checks.
        assert!(s.contains("@escape before="), "{s}");
        assert!(!s.contains(">> +++"), "{s}");
        if flow != "2.2.4" {
            assert!(s.contains("@resolve smtp.163.com sink"), "{s}");
            assert!(
                s.contains("< OK\n@within 300s\n~ +QSMTPPUT: 0,0\n@mail\n"),
                "{s}"
            );
            assert!(s.contains("    body-payload: body"), "{s}");
            let tls = if flow == "3.2" { "implicit" } else { "none" };
            assert!(s.contains(&format!("    tls: {tls}")), "{s}");
        }
        if flow == "3.1" {
            assert!(
                s.contains("attachment: smtp1.txt size=100 payload=att1"),
                "{s}"
            );
        }
        scenarios.push((flow, scn));
    }

    // In process (virtual time, a fresh module and sink per case).
    let o = atconform()
        .args(["run", "--emulator", "ec25", "--quiet", "--out"])
        .arg(dir.path().join("emu"))
        .args(scenarios.iter().map(|(_, s)| s))
        .env("SMTP_PASSWORD", "any")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 cases: 3 passed"), "{}", text(&o));

    // On the PTY module, each flow on a freshly started one (a PTY keeps its module's state),
    // its mail going to an external sink read through its API.
    let (_sink, smtp, smtps, api) = sink();
    for (flow, scn) in &scenarios {
        let link = dir.path().join(format!("tty-{flow}"));
        let to = if *flow == "3.2" { &smtps } else { &smtp };
        let _emu = Guard(
            atconform()
                .args(["emulate", "--profile", "ec25", "--pty-link"])
                .arg(&link)
                .args(["--resolve", &format!("smtp.163.com:25={to}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("emulate starts"),
        );
        wait_for(&link);
        let o = atconform()
            .args(["run", "--profile", "ec25", "--quiet", "--port"])
            .arg(&link)
            .args(["--sink-api", &api, "--out"])
            .arg(dir.path().join(format!("pty-{flow}")))
            .arg(scn)
            .env("SMTP_PASSWORD", "any")
            .output()
            .unwrap();
        assert!(o.status.success(), "flow {flow}: {}", text(&o));
        assert!(text(&o).contains("1 cases: 1 passed"), "{}", text(&o));
    }
}
