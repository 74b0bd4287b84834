//! `atconform run` as a user runs it: run directories (report.json + transcripts) that
//! `atconform diff` compares, and multi-target runs (`--target`, issue 7) on the in-process
//! emulator and on an emulator served over loopback TCP.

use std::path::Path;
use std::process::{Command, Output};

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

/// The cases of a run directory's report.json: (scenario, status, reason).
fn cases(dir: &Path) -> Vec<(String, String, String)> {
    assert!(dir.join("report.json").is_file(), "{}", dir.display());
    let run = at_report::load::Run::load(dir).expect("a run directory");
    run.cases
        .into_iter()
        .map(|c| {
            let status = format!("{:?}", c.status).to_lowercase();
            (c.scenario, status, c.reason.unwrap_or_default())
        })
        .collect()
}

#[test]
fn every_run_directory_is_diffable() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let filter = ["--filter", "quectel/2.2.7-qsmtpput", "--emulator", "ec25"];
    let o = atconform()
        .arg("run")
        .args(filter)
        .arg("--out")
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A "new firmware" that sends the URC before OK (000 §2.2.7 order broken): exit 1.
    let o = atconform()
        .arg("run")
        .args(filter)
        .args(["--quirk", "urc-before-ok", "--out"])
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // No --report: report.json is written into the run directory anyway.
    assert_eq!(
        cases(&a),
        [(
            "quectel/2.2.7-qsmtpput.scn".to_string(),
            "pass".to_string(),
            String::new()
        )]
    );
    assert_eq!(cases(&b)[0].1, "fail");
    assert!(a.join("quectel__2.2.7-qsmtpput.scn.ec25.txt").is_file());

    let o = atconform().arg("diff").arg(&a).arg(&b).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("pass -> fail"), "{out}");
    assert!(out.contains("++QSMTPPUT: 0,0"), "{out}");
    let o = atconform().arg("diff").arg(&a).arg(&a).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_late_answer_is_non_strict_and_a_later_deviation_still_fails() {
    // 000 §2.1.2: 300 ms at most. `slow-responses` answers at 500 ms with the right bytes.
    let dir = tempfile::tempdir().unwrap();
    let o = atconform()
        .args([
            "run",
            "--quiet",
            "--target",
            "slow=emulator:ec25+slow-responses",
        ])
        .args([
            "--target",
            "both=emulator:ec25+slow-responses+urc-before-ok",
        ])
        .args(["--filter", "quectel/2.2.7-qsmtpput"])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // The table: label, runs on (two words), cases, pass, info, non-strict, fail, skip, error.
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{label} ")))
            .map(|l| l.split_whitespace().skip(3).take(7).collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no row for {label}: {stdout}"))
    };
    assert_eq!(row("slow"), ["1", "0", "0", "1", "0", "0", "0"], "{stdout}");
    assert_eq!(row("both"), ["1", "0", "0", "0", "1", "0", "0"], "{stdout}");
    assert!(
        stdout.contains("quectel/2.2.7-qsmtpput.scn [slow: ec25] NON-STRICT"),
        "{stdout}"
    );
    let matrix = std::fs::read_to_string(dir.path().join("matrix.json")).unwrap();
    assert!(matrix.contains("\"non-strict\""), "{matrix}");
}

#[test]
fn multi_target_run_keeps_a_run_directory_per_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let o = atconform()
        .args(["run", "--quiet", "--target", "emulator:ec25"])
        .args(["--target", "fw2=emulator:ec25+urc-before-ok"])
        .args(["--target", "emulator:ag35"])
        .args(["--filter", "2.2.7-qsmtpput", "--filter", "2.7-qsmtpput"])
        .arg("--out")
        .arg(&out)
        .arg("--report")
        .arg(format!(
            "junit:{}",
            dir.path().join("ci/junit.xml").display()
        ))
        .output()
        .unwrap();
    // fw2 fails, so the run fails.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{label} ")))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no row for {label}: {stdout}"))
    };
    // label, runs on (two words), cases, pass, info, non-strict, fail, skip, error.
    assert_eq!(
        row("ec25")[..10],
        [
            "ec25", "emulator", "ec25", "1", "1", "0", "0", "0", "0", "0"
        ]
    );
    assert_eq!(
        row("fw2")[..10],
        [
            "fw2",
            "emulator",
            "ec25+urc-before-ok",
            "1",
            "0",
            "0",
            "0",
            "1",
            "0",
            "0"
        ]
    );
    assert_eq!(
        row("ag35")[..10],
        [
            "ag35", "emulator", "ag35", "1", "1", "0", "0", "0", "0", "0"
        ]
    );
    assert!(stdout.contains("== fw2 =="), "{stdout}");

    // One run directory per target, each with its report and transcripts.
    assert_eq!(cases(&out.join("ec25"))[0].1, "pass");
    assert_eq!(cases(&out.join("fw2"))[0].1, "fail");
    assert_eq!(cases(&out.join("ag35"))[0].0, "ag35/2.7-qsmtpput.scn");
    assert!(
        out.join("fw2/quectel__2.2.7-qsmtpput.scn.ec25.txt")
            .is_file()
    );
    assert!(out.join("ag35/ag35__2.7-qsmtpput.scn.ag35.txt").is_file());
    // The matrix of the three targets.
    let json = std::fs::read_to_string(out.join("matrix.json")).unwrap();
    for label in ["\"ec25\"", "\"fw2\"", "\"ag35\""] {
        assert!(json.contains(label), "{label} in {json}");
    }
    assert!(out.join("matrix.html").is_file());
    // One JUnit file for CI: a suite per target.
    let junit = std::fs::read_to_string(dir.path().join("ci/junit.xml")).unwrap();
    for suite in ["ec25", "fw2 [ec25]", "ag35"] {
        assert!(
            junit.contains(&format!("<testsuite name=\"{suite}\"")),
            "{suite}: {junit}"
        );
    }
    assert!(junit.contains(r#"tests="3""#) && junit.contains(r#"failures="1""#));

    // The per-target directories are ordinary run directories.
    let o = atconform()
        .arg("diff")
        .arg(out.join("ec25"))
        .arg(out.join("fw2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn target_flags_are_checked() {
    // --target replaces --port/--tcp/--emulator/--profile: usage error.
    for extra in [
        ["--port", "/dev/null"],
        ["--emulator", "ec25"],
        ["--profile", "ec25"],
    ] {
        let o = atconform()
            .args(["run", "--target", "emulator:ec25"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", text(&o));
    }
    // JSON reports are per target (DIR/<label>/report.json): only junit:PATH is taken.
    let o = atconform()
        .args([
            "run",
            "--target",
            "emulator:ec25",
            "--report",
            "json:x.json",
        ])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("--report takes junit:PATH"),
        "{}",
        text(&o)
    );
    // Two targets in one directory.
    let dir = tempfile::tempdir().unwrap();
    let o = atconform()
        .args([
            "run",
            "--target",
            "emulator:ec25",
            "--target",
            "ec25=emulator:eg95",
        ])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("share the run directory"), "{}", text(&o));
    // A device that is not there: that target is NOT RUN and the run fails; the others run.
    let o = atconform()
        .args(["run", "--quiet", "--target", "emulator:ec25"])
        .args(["--target", "ec25@gone=/nonexistent/ttyUSB9"])
        .args(["--filter", "quectel/2.2.2-qsmtpdst", "--out"])
        .arg(dir.path().join("gone"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("NOT RUN"), "{}", text(&o));
    assert_eq!(cases(&dir.path().join("gone/ec25"))[0].1, "pass");
}

/// `atconform emulate --listen 127.0.0.1:0` in process: an ec25 served over loopback TCP until
/// the returned sender is used (or dropped).
fn emulator_over_tcp() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<std::io::Result<()>>,
) {
    use at_emulator::serve::{ResolveMap, ServeOptions, serve_tcp};
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let h = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let _ = addr_tx.send(l.local_addr()?);
            let config = at_emulator::EmulatorConfig::builtin("ec25").expect("ec25 profile");
            let opts = ServeOptions::new(config, ResolveMap::new());
            serve_tcp(l, &opts, async {
                let _ = stop_rx.await;
            })
            .await
        })
    });
    let addr = addr_rx.recv().expect("emulator listening");
    (addr, stop_tx, h)
}

/// `atconform emulate --pty-link PATH` in process: an eg95 on a PTY whose slave is linked at
/// `link`, served until the returned sender is used (or dropped).
fn emulator_on_pty(
    link: &Path,
) -> (
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<std::io::Result<()>>,
) {
    use at_emulator::serve::{Pty, ResolveMap, ServeOptions};
    let pty = Pty::open(Some(link)).expect("a PTY");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let h = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config = at_emulator::EmulatorConfig::builtin("eg95").expect("eg95 profile");
        let opts = ServeOptions::new(config, ResolveMap::new());
        let r = rt.block_on(pty.serve(&opts, async {
            let _ = stop_rx.await;
        }));
        // A PTY read may still be parked on the blocking pool: do not wait for it.
        rt.shutdown_timeout(std::time::Duration::from_millis(200));
        r
    });
    (stop_tx, h)
}

#[test]
fn real_targets_run_and_skip_what_needs_the_module_s_internals() {
    let (addr, stop, server) = emulator_over_tcp();
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyEMU");
    let (stop_pty, pty_server) = emulator_on_pty(&link);
    let out = dir.path().join("tcp");
    let o = atconform()
        .args(["run", "--quiet", "--target"])
        .arg(format!("ec25=tcp:{addr}"))
        .arg("--target")
        .arg(format!("eg95@pty={}", link.display()))
        .args(["--target", "emulator:eg95"])
        .args(["--filter", "quectel/2.2.2-qsmtpdst"])
        .args(["--filter", "quectel/4.1-sim-not-ready"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let _ = stop.send(());
    let _ = stop_pty.send(());
    server
        .join()
        .expect("server thread")
        .expect("server ran cleanly");
    pty_server
        .join()
        .expect("PTY server thread")
        .expect("PTY server ran cleanly");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let tcp = cases(&out.join("ec25"));
    let qsmtpdst = tcp
        .iter()
        .find(|c| c.0 == "quectel/2.2.2-qsmtpdst.scn")
        .expect("qsmtpdst ran over TCP");
    assert_eq!(qsmtpdst.1, "pass", "{tcp:?}");
    assert!(
        out.join("ec25/quectel__2.2.2-qsmtpdst.scn.ec25.txt")
            .is_file()
    );
    // A (U)SIM that is not ready cannot be produced from outside a real module: skipped with
    // the reason, not failed (issue 13: only what needs the module's radio or internals).
    let sim = tcp
        .iter()
        .find(|c| c.0 == "quectel/4.1-sim-not-ready.scn")
        .expect("4.1-sim-not-ready selected");
    assert_eq!(sim.1, "skip", "{tcp:?}");
    assert!(sim.2.contains("(U)SIM"), "{}", sim.2);
    // The serial target (a PTY, as `--port` opens it) gives the same verdicts.
    let pty = cases(&out.join("eg95@pty"));
    assert_eq!(pty.len(), 2, "{pty:?}");
    for c in &pty {
        let want = if c.0 == "quectel/2.2.2-qsmtpdst.scn" {
            "pass"
        } else {
            "skip"
        };
        assert_eq!(c.1, want, "{pty:?}");
    }
    assert!(
        out.join("eg95@pty/quectel__2.2.2-qsmtpdst.scn.eg95.txt")
            .is_file()
    );
    // On the in-process emulator the same scenario runs (and passes) with its own sink.
    let emu = cases(&out.join("eg95"));
    assert!(emu.iter().all(|c| c.1 == "pass"), "{emu:?}");
    assert_eq!(emu.len(), 2, "{emu:?}");
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    // `atconform report coverage | head -1`: the reader goes away before the report is printed.
    let mut child = atconform()
        .args(["report", "coverage"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
}

/// Issue 17 on the in-process emulator: `--section` selects by manual section, a failing case
/// prints a reproducer that reproduces it, `--list` dry-runs, and a baseline of a single run
/// gates the next one.
#[test]
fn sections_reproducers_and_a_single_run_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], out: &str| {
        atconform()
            .args([
                "run",
                "--quiet",
                "--emulator",
                "ec25",
                "--section",
                "000 §2.2.7",
            ])
            .args(extra)
            .arg("--out")
            .arg(dir.path().join(out))
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    // Dry run: what the section selects, nothing written.
    let o = atconform()
        .args([
            "run",
            "--list",
            "--emulator",
            "ec25",
            "--section",
            "000 §2.2.7",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        list.contains("  run   quectel/2.2.7-qsmtpput.scn [ec25]"),
        "{list}"
    );
    assert!(!list.contains("2.2.2-qsmtpdst"), "{list}");
    // An unknown section is a usage error naming the cited ones.
    let o = atconform()
        .args(["run", "--list", "--section", "000 §9.9"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no scenario cites it"), "{}", text(&o));

    let o = run(&[], "good");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let base = dir.path().join("base.json");
    let o = atconform()
        .args(["baseline", "update"])
        .arg(dir.path().join("good"))
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&["--baseline", base.to_str().unwrap()], "same");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("gate: passed"),
        "{}",
        text(&o)
    );

    // A new firmware answers the URC before OK: worse, with the command that reproduces it.
    let o = run(
        &[
            "--quirk",
            "urc-before-ok",
            "--baseline",
            base.to_str().unwrap(),
        ],
        "worse",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let repro =
        "atconform run --emulator ec25 --quirk urc-before-ok --filter quectel/2.2.7-qsmtpput.scn";
    assert!(stdout.contains(&format!("reproduce: {repro}")), "{stdout}");
    assert!(
        stdout.contains("WORSE    run  quectel/2.2.7-qsmtpput.scn [ec25]: pass -> fail"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(dir.path().join("worse/report.json")).unwrap();
    assert!(report.contains(repro), "{report}");
    // Pasted, it reproduces the failure.
    let args: Vec<&str> = repro.split(' ').skip(1).collect();
    let o = atconform()
        .args(&args)
        .arg("--quiet")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("++QSMTPPUT: 0,0")
            || String::from_utf8_lossy(&o.stdout).contains("+QSMTPPUT: 0,0"),
        "{}",
        text(&o)
    );
    // `baseline check` gates a saved run the same way.
    let o = atconform()
        .args(["baseline", "check"])
        .arg(dir.path().join("worse"))
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn shuffle_prints_its_seed_and_repeats_an_order() {
    let dir = tempfile::tempdir().unwrap();
    let order = |seed: &str, out: &str| {
        let mut cmd = atconform();
        cmd.args([
            "run",
            "--quiet",
            "--emulator",
            "ec25",
            "--filter",
            "quectel/2.2",
        ])
        .arg("--out")
        .arg(dir.path().join(out));
        if seed.is_empty() {
            cmd.arg("--shuffle");
        } else {
            cmd.args(["--shuffle", seed]);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let seed = err
            .split("with seed ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no seed printed: {}", text(&o)))
            .to_owned();
        let names: Vec<String> = cases(&dir.path().join(out))
            .into_iter()
            .map(|c| c.0)
            .collect();
        (seed, names)
    };
    let (s1, a) = order("3", "a");
    assert_eq!(s1, "3");
    let (_, b) = order("3", "b");
    assert_eq!(a, b, "the same seed gives the same order");
    let (_, c) = order("4", "c");
    assert_ne!(a, c);
    // Without a seed one is drawn and printed, so the order can be repeated.
    let (drawn, d) = order("", "d");
    let (_, e) = order(&drawn, "e");
    assert_eq!(d, e);
    let o = atconform()
        .args(["run", "--quiet", "--shuffle", "x1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
