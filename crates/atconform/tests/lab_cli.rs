//! The lab on loopback (issue 17): a real `labgrid-coordinator` and `labgrid-exporter`
//! (labgrid 26.0.1 from PyPI, provisioned by `at_testkit::python()` into target/pyenv) export
//! three places, each a `NetworkSerialPort` in front of `atconform emulate`:
//!
//! - `ec25-raw`: raw TCP (`emulate --listen`), tag `profile=ec25`;
//! - `ec25-rfc2217`: RFC 2217 (`emulate --listen --rfc2217`, our own access server), tag
//!   `profile=ec25`;
//! - `ec25-nosim`: raw TCP to a module whose SIM is not ready, tag `module=ec25` only.
//!
//! `atconform run --target labgrid:profile=ec25` reserves and acquires both tagged places,
//! health-checks them, runs a corpus subset on both in parallel and writes one matrix; then a
//! baseline gate passes on an unchanged run and fails on a planted regression (the RFC 2217
//! module restarted with the `body-length-off-by-one` quirk); the unhealthy place is not run;
//! `--lab-wait` gives up on a place another user holds; Ctrl-C still releases.
//!
//! The subset (CI time): the 000 §2.2 command examples that need no mail delivery, the basic
//! commands, and the DTR scenario (000 §1.3), which passes over RFC 2217 and is skipped on raw
//! TCP. Mail-sending scenarios need the capture sink reachable from the module
//! (`--sink-listen`, docs/lab.md); their real-time `<input_time>` waits are out of budget here.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The corpus subset every lab run here uses.
const SUBSET: [&str; 9] = [
    "quectel/2.2-test-commands",
    "quectel/2.2.1-qsmtpcfg-set-query",
    "quectel/2.2.2-qsmtpdst",
    "quectel/2.2.3-qsmtpsub",
    "quectel/2.2.4-qsmtpbody-length",
    "edge/basic-commands",
    "edge/lowercase-at",
    "edge/ate0-no-echo",
    "edge/dtr-ends-body",
];

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A child process this test started, stopped when dropped.
struct Proc {
    child: Child,
    name: &'static str,
}

impl Proc {
    /// Starts `cmd` and waits (at most 60 s) for a stdout line containing `ready`; returns
    /// the process and that line.
    fn start(name: &'static str, cmd: &mut Command, ready: &str) -> (Proc, String) {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let want = ready.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(&want) {
                    let _ = tx.send(line);
                }
                // Keep draining so the child never blocks on a full pipe.
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{name} did not print {ready:?} within 60 s"));
        (Proc { child, name }, line)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
        eprintln!("stopped {}", self.name);
    }
}

fn port_of(line: &str) -> u16 {
    line.rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

struct Lab {
    dir: tempfile::TempDir,
    bin: PathBuf,
    coordinator: String,
    rfc2217_port: u16,
    _procs: Vec<Proc>,
    rfc2217: Option<Proc>,
}

impl Lab {
    fn labgrid(&self, args: &[&str]) -> Output {
        self.labgrid_as("atconform-ci", args)
    }

    fn labgrid_as(&self, user: &str, args: &[&str]) -> Output {
        let o = Command::new(self.bin.join("labgrid-client"))
            .args(args)
            .env("LG_COORDINATOR", &self.coordinator)
            .env("LG_USERNAME", user)
            .output()
            .expect("labgrid-client");
        assert!(o.status.success(), "labgrid-client {args:?}: {}", text(&o));
        o
    }

    fn atconform(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_atconform"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("LG_COORDINATOR", &self.coordinator)
            .env("LG_USERNAME", "atconform-ci")
            .env("ATCONFORM_LABGRID_CLIENT", self.bin.join("labgrid-client"));
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        for f in SUBSET {
            all.extend(["--filter", f]);
        }
        self.atconform(&all).output().expect("atconform")
    }

    /// (place, acquired-by) for every place, and the open reservations.
    fn state(&self) -> (Vec<(String, String)>, String) {
        let places = String::from_utf8_lossy(&self.labgrid(&["-v", "places"]).stdout).into_owned();
        let mut out = Vec::new();
        let mut name = String::new();
        for l in places.lines() {
            if let Some(n) = l.strip_prefix("Place '").and_then(|l| l.strip_suffix("':")) {
                name = n.to_string();
            } else if let Some(a) = l.trim().strip_prefix("acquired: ") {
                out.push((name.clone(), a.to_string()));
            }
        }
        let res = String::from_utf8_lossy(&self.labgrid(&["reservations"]).stdout).into_owned();
        (out, res)
    }

    fn assert_all_free(&self) {
        let (places, reservations) = self.state();
        for (p, by) in &places {
            assert_eq!(by, "None", "{p} still acquired: {places:?}");
        }
        assert!(
            !reservations.contains("atconform-ci"),
            "our reservations were not cancelled: {reservations}"
        );
    }

    /// (Re)starts the RFC 2217 module on its port, with `quirks`.
    fn restart_rfc2217(&mut self, quirks: &[&str]) {
        if let Some(mut p) = self.rfc2217.take() {
            p.stop();
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atconform"));
        cmd.args(["emulate", "--rfc2217", "--listen"])
            .arg(format!("127.0.0.1:{}", self.rfc2217_port));
        for q in quirks {
            cmd.args(["--quirk", q]);
        }
        let (p, _) = Proc::start("emulate --rfc2217", &mut cmd, "emulating EC25 on rfc2217");
        self.rfc2217 = Some(p);
    }
}

fn emulate(args: &[&str], ready: &str) -> (Proc, u16) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_atconform"));
    cmd.arg("emulate")
        .args(args)
        .args(["--listen", "127.0.0.1:0"]);
    let (p, line) = Proc::start("emulate", &mut cmd, ready);
    (p, port_of(&line))
}

fn start_lab() -> Lab {
    let python = at_testkit::python();
    let bin = python.parent().expect("venv bin").to_path_buf();
    let dir = tempfile::tempdir().expect("tempdir");
    let (raw, raw_port) = emulate(&[], "emulating EC25 on tcp");
    let (rfc, rfc_port) = emulate(&["--rfc2217"], "emulating EC25 on rfc2217");
    let (nosim, nosim_port) = emulate(&["--fault", "sim-not-ready"], "emulating EC25 on tcp");
    // The coordinator keeps places.yaml in its working directory: a fresh one.
    let (coord, line) = Proc::start(
        "labgrid-coordinator",
        Command::new(bin.join("labgrid-coordinator"))
            .args(["-l", "127.0.0.1:0"])
            .env("PYTHONUNBUFFERED", "1")
            .current_dir(dir.path()),
        "listening on",
    );
    let coordinator = format!("127.0.0.1:{}", port_of(&line));
    let config = dir.path().join("exporter.yaml");
    std::fs::write(
        &config,
        format!(
            "ec25-raw:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {raw_port}\n    protocol: raw\n\
             ec25-rfc2217:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {rfc_port}\n    protocol: rfc2217\n    speed: 115200\n\
             ec25-nosim:\n  NetworkSerialPort:\n    host: 127.0.0.1\n    port: {nosim_port}\n    protocol: raw\n"
        ),
    )
    .expect("exporter config");
    let (exporter, _) = Proc::start(
        "labgrid-exporter",
        Command::new(bin.join("labgrid-exporter"))
            .args(["-c", &coordinator, "-n", "lab1", "--hostname", "127.0.0.1"])
            .arg(&config)
            .env("PYTHONUNBUFFERED", "1")
            .current_dir(dir.path()),
        "Exporter ready",
    );
    let lab = Lab {
        dir,
        bin,
        coordinator,
        rfc2217_port: rfc_port,
        _procs: vec![raw, nosim, coord, exporter],
        rfc2217: Some(rfc),
    };
    for (place, tags) in [
        ("ec25-raw", "profile=ec25"),
        ("ec25-rfc2217", "profile=ec25"),
        ("ec25-nosim", "module=ec25"),
    ] {
        lab.labgrid(&["-p", place, "create"]);
        lab.labgrid(&["-p", place, "add-match", &format!("lab1/{place}/*")]);
        lab.labgrid(&["-p", place, "set-tags", tags]);
    }
    // The exporter registers its resources asynchronously.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let r = String::from_utf8_lossy(&lab.labgrid(&["resources"]).stdout).into_owned();
        if r.lines()
            .filter(|l| l.contains("NetworkSerialPort"))
            .count()
            == 3
        {
            break;
        }
        assert!(Instant::now() < until, "resources never appeared: {r}");
        std::thread::sleep(Duration::from_millis(200));
    }
    lab
}

fn row<'a>(stdout: &'a str, label: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{label} ")))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_else(|| panic!("no row for {label}: {stdout}"))
}

fn cell(matrix: &serde_json::Value, scenario: &str, column: usize) -> serde_json::Value {
    matrix["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rows"].as_array().into_iter().flatten())
        .find(|r| r["scenario"] == scenario)
        .map(|r| r["cells"][column].clone())
        .unwrap_or_else(|| panic!("no row {scenario}"))
}

#[test]
fn labgrid_places_run_in_parallel_into_one_matrix_gated_by_a_baseline() {
    let setup = Instant::now();
    let mut lab = start_lab();
    eprintln!("lab up in {:.1} s", setup.elapsed().as_secs_f64());
    let out = lab.dir.path().join("runs");
    let dir = |n: &str| out.join(n).display().to_string();

    // Dry run: what would run where, and why the DTR scenario is skipped on raw TCP. A
    // section selects by manual section.
    let o = lab
        .atconform(&[
            "run",
            "--list",
            "--target",
            "labgrid:profile=ec25",
            "--section",
            "000 §1.3",
            "--filter",
            "edge/dtr",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        list.contains("skip  edge/dtr-ends-body.scn [ec25]: needs DTR (@dtr); a raw TCP port has no modem lines"),
        "{list}"
    );
    assert!(
        list.contains("target ec25-rfc2217: labgrid place ec25-rfc2217"),
        "{list}"
    );
    assert!(
        list.contains("  run   edge/dtr-ends-body.scn [ec25]\n"),
        "{list}"
    );
    assert!(!list.contains("ec25-nosim"), "{list}");
    lab.assert_all_free();

    // The run: both places reserved, acquired, health-checked, run in parallel, one matrix.
    let t = Instant::now();
    let o = lab.run(&[
        "run",
        "--quiet",
        "--target",
        "labgrid:profile=ec25",
        "--out",
        &dir("1"),
    ]);
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!("== lab run ({:.1} s wall) ==\n{stdout}", took.as_secs_f64());
    // label, runs on (two words), cases, pass, info, non-strict, fail, skip, error.
    let raw = row(&stdout, "ec25-raw");
    assert_eq!(
        raw[1..10],
        ["tcp", raw[2], "9", "8", "0", "0", "0", "1", "0"],
        "{stdout}"
    );
    let rfc = row(&stdout, "ec25-rfc2217");
    assert_eq!(
        rfc[1..10],
        ["rfc2217", rfc[2], "9", "9", "0", "0", "0", "0", "0"],
        "{stdout}"
    );
    assert!(stdout.contains("healthy in"), "{stdout}");
    assert!(stdout.contains("labgrid: released"), "{stdout}");
    let matrix: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("1/matrix.json")).unwrap()).unwrap();
    let labels: Vec<&str> = matrix["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["ec25-raw", "ec25-rfc2217"]);
    assert_eq!(cell(&matrix, "edge/dtr-ends-body.scn", 0)["grade"], "skip");
    assert_eq!(cell(&matrix, "edge/dtr-ends-body.scn", 1)["grade"], "pass");
    assert!(
        out.join("1/ec25-rfc2217/edge__dtr-ends-body.scn.ec25.txt")
            .is_file()
    );
    lab.assert_all_free();

    // The baseline from that run; an unchanged run passes the gate.
    let base = lab.dir.path().join("baseline.json").display().to_string();
    let o = lab
        .atconform(&["baseline", "update", &dir("1"), "--baseline", &base])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("18 new, 0 changed; 18 cases"),
        "{}",
        text(&o)
    );
    let o = lab.run(&[
        "run",
        "--quiet",
        "--target",
        "labgrid:profile=ec25",
        "--out",
        &dir("2"),
        "--baseline",
        &base,
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!("== unchanged run, gated ==\n{stdout}");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout.contains("18 cases compared: 0 worse"), "{stdout}");
    assert!(stdout.contains("gate: passed"), "{stdout}");

    // A planted regression: the RFC 2217 module now reports one byte too many.
    lab.restart_rfc2217(&["body-length-off-by-one"]);
    let o = lab.run(&[
        "run",
        "--quiet",
        "--target",
        "labgrid:profile=ec25",
        "--out",
        &dir("3"),
        "--baseline",
        &base,
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!("== planted regression, gated ==\n{stdout}");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let repro = "atconform run --target labgrid:ec25-rfc2217 --filter edge/dtr-ends-body.scn";
    assert!(
        stdout.contains("WORSE    ec25-rfc2217  edge/dtr-ends-body.scn [ec25]: pass -> fail"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("reproduce: {repro}")), "{stdout}");
    // The quirk also breaks the 000 §2.2.4 length example; nothing on the raw place changed.
    assert!(
        stdout.contains(
            "WORSE    ec25-rfc2217  quectel/2.2.4-qsmtpbody-length.scn [ec25]: pass -> fail"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("18 cases compared: 2 worse, 0 better, 16 unchanged"),
        "{stdout}"
    );
    assert!(
        stdout.contains("gate: FAILED (2 worse, 0 missing)"),
        "{stdout}"
    );
    let matrix: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("3/matrix.json")).unwrap()).unwrap();
    assert_eq!(
        cell(&matrix, "edge/dtr-ends-body.scn", 1)["reproduce"],
        repro
    );
    let html = std::fs::read_to_string(out.join("3/matrix.html")).unwrap();
    assert!(html.contains(repro), "the HTML matrix shows the reproducer");
    // The reproducer, pasted, reproduces it.
    let args: Vec<&str> = repro.split(' ').skip(1).collect();
    let o = lab.atconform(&args).arg("--quiet").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("+QSMTPBODY: 43"),
        "{}",
        text(&o)
    );
    lab.restart_rfc2217(&[]);
    lab.assert_all_free();
}

#[test]
fn unhealthy_busy_and_interrupted_places_are_released() {
    let lab = start_lab();

    // The module behind ec25-nosim has no SIM: not run, with the reason; released at once.
    let o = lab.run(&["run", "--quiet", "--target", "ec25=labgrid:ec25-nosim"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        stdout.contains("ec25-nosim")
            && stdout.contains("NOT RUN: unhealthy: AT+CPIN? answered +CME ERROR: 10"),
        "{stdout}"
    );
    lab.assert_all_free();

    // Another user holds ec25-raw: the reservation waits, bounded by --lab-wait, then gives
    // up and leaves the queue.
    lab.labgrid_as("someone-else", &["-p", "ec25-raw", "acquire"]);
    let t = Instant::now();
    let o = lab.run(&[
        "run",
        "--quiet",
        "--lab-wait",
        "2",
        "--target",
        "labgrid:ec25-raw",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("NOT RUN: no place matching name=ec25-raw within --lab-wait 2 s"),
        "{}",
        text(&o)
    );
    lab.labgrid_as("someone-else", &["-p", "ec25-raw", "release"]);
    lab.assert_all_free();

    // Ctrl-C in the middle of a run (a 120 s input-time wait): the places are released.
    let child = lab
        .atconform(&[
            "run",
            "--quiet",
            "--target",
            "labgrid:ec25-rfc2217",
            "--filter",
            "quectel/2.2.4-qsmtpbody-input-time",
            "--out",
        ])
        .arg(lab.dir.path().join("interrupted"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (places, _) = lab.state();
        if places
            .iter()
            .any(|(p, by)| p == "ec25-rfc2217" && by != "None")
        {
            break;
        }
        assert!(Instant::now() < until, "the place was never acquired");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Past the health check and into the case.
    std::thread::sleep(Duration::from_secs(2));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let t = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("INTERRUPTED"),
        "{}",
        text(&o)
    );
    lab.assert_all_free();
}

/// ser2net (Debian) as the RFC 2217 access server, as labgrid exporters run it, in front of a
/// PTY module (`atconform emulate --pty-link`): the runner negotiates with a third-party
/// server and the cases pass; a PTY has no DTR line, which ser2net does not confirm, so the
/// DTR scenario is skipped with that reason instead of failing for the wrong one.
#[test]
#[ignore = "needs ser2net (Debian package): .ci/run installs it and runs this test"]
fn ser2net_rfc2217_in_front_of_a_pty_module() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyEMU");
    let (_pty, _) = Proc::start(
        "emulate --pty-link",
        Command::new(env!("CARGO_BIN_EXE_atconform"))
            .args(["emulate", "--pty-link"])
            .arg(&link),
        "emulating EC25 on",
    );
    // ser2net takes a port number: an ephemeral one, free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let mut ser2net = Command::new("ser2net")
        .args(["-d", "-n", "-Y"])
        .arg(format!(
            "connection: &con01#  accepter: telnet(rfc2217,mode=server),tcp,127.0.0.1,{port}"
        ))
        .arg("-Y")
        .arg(format!(
            "  connector: serialdev(nouucplock=true),{},115200n81,local",
            link.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ser2net (apt-get install ser2net)");
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "ser2net never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    let target = format!("ec25=rfc2217:127.0.0.1:{port}");
    let run = |filters: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_atconform"));
        c.args(["run", "--quiet", "--target", &target])
            .current_dir(dir.path());
        for f in filters {
            c.args(["--filter", f]);
        }
        c.output().unwrap()
    };
    let o = run(&[
        "edge/basic-commands",
        "quectel/2.2.2-qsmtpdst",
        "quectel/2.2.3-qsmtpsub",
    ]);
    let dtr = run(&["edge/dtr-ends-body"]);
    let _ = ser2net.kill();
    let _ = ser2net.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let ec25 = row(&String::from_utf8_lossy(&o.stdout), "ec25").join(" ");
    // cases, pass, info, non-strict, fail, skip, error.
    assert!(ec25.contains(" 3 3 0 0 0 0 0 "), "{ec25}");
    assert_eq!(dtr.status.code(), Some(0), "{}", text(&dtr));
    let ec25 = row(&String::from_utf8_lossy(&dtr.stdout), "ec25").join(" ");
    assert!(ec25.contains(" 1 0 0 0 0 1 0 "), "skipped: {ec25}");
}
