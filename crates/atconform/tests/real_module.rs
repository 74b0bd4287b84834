//! Issue 13 end to end, in real time: `atconform run --port` against the emulator behind a PTY
//! (`atconform emulate --pty-link`, one module for the whole test, like hardware) with the
//! runner's own capture sink, then the same cases over TCP (`emulate --listen --keep-state`).
//!
//! A representative subset, not the corpus (a real-time run of the corpus takes minutes per
//! profile; docs/real-modules.md has those figures): a case that fails inside the body and one
//! that fails while its mail is sending, each followed by cases that pass (the plain send with
//! its mail checked, data mode ended by `+++`, a per-case sink reply, a refused connection, an
//! unresolvable server name, a restart to the power-on values). Run twice on the same module,
//! the second time shuffled.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use at_emulator::serve::{Pty, ResolveMap, ServeOptions, serve_tcp_keep_state};

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

/// (scenario, status, reason) of a run directory, in run order.
fn cases(dir: &Path) -> Vec<(String, String, String)> {
    let run = at_report::load::Run::load(dir).expect("a run directory");
    run.cases
        .into_iter()
        .map(|c| {
            let status = format!("{:?}", c.status).to_lowercase();
            (c.scenario, status, c.reason.unwrap_or_default())
        })
        .collect()
}

/// A loopback port nobody listens on right now, for the sink the runner starts (the emulator
/// must know where to deliver before the runner binds it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port")
}

/// The emulator's delivery map: the corpus' server names to the runner's sink.
fn resolve(smtp: u16, smtps: u16) -> ResolveMap {
    let mut map = ResolveMap::new();
    for (port, to) in [(25, smtp), (465, smtps)] {
        let entry = format!("smtp.163.com:{port}=127.0.0.1:{to}");
        map.add(&entry).expect("resolve entry");
    }
    map
}

/// Serves `profile` on a PTY linked at `link`, or on a keep-state TCP listener, on a thread
/// until the returned sender is used.
fn serve(
    profile: &str,
    map: ResolveMap,
    link: Option<&Path>,
) -> (
    Option<SocketAddr>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<std::io::Result<()>>,
) {
    let config = at_emulator::EmulatorConfig::builtin(profile).expect("profile");
    let opts = ServeOptions::new(config, map);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let pty = link.map(|l| Pty::open(Some(l)).expect("a PTY"));
    let h = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let stop = async {
            let _ = stop_rx.await;
        };
        let r = match &pty {
            Some(pty) => {
                let _ = addr_tx.send(None);
                rt.block_on(pty.serve(&opts, stop))
            }
            None => rt.block_on(async {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let _ = addr_tx.send(Some(l.local_addr()?));
                serve_tcp_keep_state(l, &opts, stop).await
            }),
        };
        // A PTY read may still be parked on the blocking pool: do not wait for it.
        rt.shutdown_timeout(std::time::Duration::from_millis(200));
        r
    });
    let addr = addr_rx.recv().expect("serving");
    (addr, stop_tx, h)
}

const FAILS_IN_THE_BODY: &str = "\
title: fails inside the body (leaves the module in data mode)
source: 000 §2.2.4
profiles: ec25
> AT+QSMTPBODY=0,100,120
< CONNECT 9600
";

const FAILS_WHILE_SENDING: &str = "\
title: fails while its mail is sending (leaves the send in progress)
source: 000 §2.2.7
profiles: ec25
@var SMTP_SERVER = smtp.163.com
@fault stall
> AT+QICSGP=1,1,\"UNINET\",\"\",\"\",1
< OK
> AT+QIACT=1
< OK
> AT+QSMTPCFG=\"smtpserver\",\"${SMTP_SERVER}\",25
< OK
> AT+QSMTPDST=1,1,\"a@example.com\"
< OK
> AT+QSMTPPUT=60
< OK
> AT+QSMTPDST?
< +QSMTPDST: 1,\"b@example.com\"
< OK
";

/// The subset, in the order of the first run: each failing case is followed by passing ones.
fn subset(dir: &Path) -> Vec<PathBuf> {
    let body = dir.join("fails-in-the-body.scn");
    let send = dir.join("fails-while-sending.scn");
    std::fs::write(&body, FAILS_IN_THE_BODY).expect("write");
    std::fs::write(&send, FAILS_WHILE_SENDING).expect("write");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files = vec![body];
    for f in [
        "quectel/2.2.2-qsmtpdst.scn",
        "quectel/3.1-send-plain.scn",
        "quectel/2.2.4-qsmtpbody-escape.scn",
    ] {
        files.push(corpus.join(f));
    }
    files.push(send);
    for f in [
        "edge/recipient-rejected-550.scn",
        "edge/tcp-connect-fails-654.scn",
        "quectel/4.3-dns-failure.scn",
        "quectel/2.2.1-qsmtpcfg-set-query.scn",
    ] {
        files.push(corpus.join(f));
    }
    files
}

fn run(
    device: &[&str],
    files: &[PathBuf],
    smtp: u16,
    smtps: u16,
    out: &Path,
    extra: &[&str],
) -> Output {
    atconform()
        .args(["run", "--quiet", "--profile", "ec25"])
        .args(device)
        .args(["--sink-listen", &format!("127.0.0.1:{smtp}")])
        .args(["--sink-tls-listen", &format!("127.0.0.1:{smtps}")])
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(files)
        .output()
        .expect("atconform runs")
}

/// The verdicts the subset must get on any stateful device, whatever the order.
fn check(out: &Path, o: &Output) {
    let got = cases(out);
    assert_eq!(got.len(), 9, "{}", text(o));
    for (name, status, reason) in &got {
        let planted =
            name.ends_with("/fails-in-the-body.scn") || name.ends_with("/fails-while-sending.scn");
        let want = if planted { "fail" } else { "pass" };
        assert_eq!(status, want, "{name}: {reason}\n{}", text(o));
    }
    // Exit 1: the two planted failures, nothing else.
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
}

#[test]
fn a_stateful_module_on_a_pty_passes_after_failures_in_any_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = subset(dir.path());
    let (smtp, smtps) = (free_port(), free_port());
    let link = dir.path().join("ttyEC25");
    let (_, stop, server) = serve("ec25", resolve(smtp, smtps), Some(&link));
    let link_s = link.display().to_string();
    let port = ["--port", link_s.as_str()];

    let first = dir.path().join("pty-1");
    let o = run(&port, &files, smtp, smtps, &first, &[]);
    check(&first, &o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("answers ATI with Quectel / EC25"),
        "the health check's identity is reported: {stdout}"
    );
    // The case after the failure inside the body starts with the escape out of it, recorded
    // as setup (000 §1.3), then passes.
    let after = std::fs::read_to_string(first.join("quectel__2.2.2-qsmtpdst.scn.ec25.txt"))
        .expect("transcript");
    assert!(after.contains("# setup: leave data mode"), "{after}");
    assert!(after.contains("> +++"), "{after}");
    // The restart for `state: power-on` waited for RDY.
    let reset =
        std::fs::read_to_string(first.join("quectel__2.2.1-qsmtpcfg-set-query.scn.ec25.txt"))
            .expect("transcript");
    assert!(reset.contains("> AT+CFUN=1,1\\r"), "{reset}");
    assert!(reset.contains("\\r\\nRDY\\r\\n"), "{reset}");

    // Again on the same module, in another order.
    let second = dir.path().join("pty-2");
    let o = run(&port, &files, smtp, smtps, &second, &["--shuffle", "5"]);
    check(&second, &o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("with seed 5"),
        "{}",
        text(&o)
    );
    let order: Vec<String> = cases(&second).into_iter().map(|c| c.0).collect();
    let plain: Vec<String> = cases(&first).into_iter().map(|c| c.0).collect();
    assert_ne!(order, plain, "--shuffle 5 changes the order");
    let _ = stop.send(());
    server.join().expect("PTY thread").expect("PTY served");
}

/// The same over TCP, one connection per case, the module kept across them (a separate test
/// so that it runs beside the PTY one: both wait on real time).
#[test]
fn a_stateful_module_over_tcp_passes_after_failures_in_any_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = subset(dir.path());
    let (smtp, smtps) = (free_port(), free_port());
    let (addr, stop, server) = serve("ec25", resolve(smtp, smtps), None);
    let addr = addr.expect("a TCP address").to_string();
    let tcp = dir.path().join("tcp");
    let o = run(
        &["--tcp", &addr],
        &files,
        smtp,
        smtps,
        &tcp,
        &["--shuffle", "9"],
    );
    check(&tcp, &o);
    let _ = stop.send(());
    server.join().expect("TCP thread").expect("TCP served");
}

#[test]
fn an_unresponsive_device_is_not_run_with_one_reason() {
    // A PTY nobody serves: the health check gets no answer, whatever it tries.
    let pty = Pty::open(None).expect("a PTY");
    let o = atconform()
        .args(["run", "--quiet", "--profile", "ec25", "--port"])
        .arg(pty.slave_path())
        // No case that checks mail: those would add a warning line (no --sink-listen).
        .args(["--filter", "quectel/2.2.2"])
        .output()
        .expect("atconform runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(err.starts_with("NOT RUN: "), "{}", text(&o));
    assert!(err.contains("health check failed"), "{}", text(&o));
    assert_eq!(err.lines().count(), 1, "one line: {}", text(&o));
    assert!(err.contains("does not answer AT with OK"), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("FAIL"),
        "{}",
        text(&o)
    );
    drop(pty);
}

/// Kills the child when dropped (a failing assertion must not leave an emulator behind).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `@fault` SIM and mobile-network cases run on a module behind a PTY when the lab has a
/// fault-control port (`emulate --fault-control` stands in for a SIM switch and a network
/// simulator); without one they are skipped, saying what would run them.
#[test]
fn module_faults_run_through_a_fault_control_port() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyEC25");
    let (smtp, smtps) = (free_port(), free_port());
    let mut emu = atconform()
        .args([
            "emulate",
            "--profile",
            "ec25",
            "--fault-control",
            "127.0.0.1:0",
        ])
        .arg("--pty-link")
        .arg(&link)
        .args(["--resolve", &format!("smtp.163.com:25=127.0.0.1:{smtp}")])
        .args(["--resolve", &format!("smtp.163.com:465=127.0.0.1:{smtps}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("emulate starts");
    let mut out = std::io::BufReader::new(emu.stdout.take().expect("stdout"));
    let emu = Child(emu);
    let mut line = String::new();
    out.read_line(&mut line).expect("the control line");
    let control = line
        .strip_prefix("fault control on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .trim()
        .to_string();
    line.clear();
    out.read_line(&mut line).expect("the PTY line");
    assert!(line.starts_with("emulating"), "{line}");
    // Keep reading: a closed pipe would fail the emulator's next line.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));

    let faults = [
        "quectel/4.1-sim-not-ready",
        "quectel/4.2-pdp-activation-fails",
        "edge/pdp-deactivated-during-send",
        "edge/urc-interleave",
    ];
    let run = |name: &str, extra: &[&str]| {
        let mut c = atconform();
        c.args(["run", "--quiet", "--profile", "ec25", "--port"])
            .arg(&link)
            .args(["--sink-listen", &format!("127.0.0.1:{smtp}")])
            .args(["--sink-tls-listen", &format!("127.0.0.1:{smtps}")])
            .arg("--out")
            .arg(dir.path().join(name));
        for f in faults {
            c.args(["--filter", f]);
        }
        // A plain send after the faults: the module is back to normal.
        c.args(["--filter", "quectel/3.1-send-plain"]);
        c.args(extra).output().unwrap()
    };

    let without = run("without", &[]);
    assert_eq!(without.status.code(), Some(0), "{}", text(&without));
    let skipped: Vec<_> = cases(&dir.path().join("without"))
        .into_iter()
        .filter(|(_, s, _)| s == "skip")
        .collect();
    assert_eq!(skipped.len(), faults.len(), "{skipped:?}");
    assert!(
        skipped
            .iter()
            .all(|(_, _, why)| why.contains("--fault-control")),
        "{skipped:?}"
    );

    let with = run("with", &["--fault-control", &control, "--shuffle", "7"]);
    assert_eq!(with.status.code(), Some(0), "{}", text(&with));
    let ran = cases(&dir.path().join("with"));
    assert_eq!(ran.len(), faults.len() + 1, "{ran:?}");
    assert!(ran.iter().all(|(_, s, _)| s == "pass"), "{ran:?}");
    drop(emu);
}
