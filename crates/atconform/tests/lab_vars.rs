//! Issue 19 item 1: lab settings in one place. A lab file (`run --lab FILE`) changes the APN,
//! the SMTP server and port and the account of a module behind a PTY (`atconform emulate
//! --pty-link`, like hardware) and the corpus passes there; the password never shows in
//! `run --list` or the run directory; `run` warns when mail checks cannot be evaluated; a
//! misspelt variable in the lab file is an error at file:line:col.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use at_emulator::serve::{Pty, ResolveMap, ServeOptions};
use base64::Engine as _;

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

fn corpus(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(file)
}

/// A loopback port nobody listens on right now (the emulator must know where the runner's
/// sink will listen before the runner binds it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("an ephemeral port")
}

const PASSWORD: &str = "lab-pw-7Qx93vZ";

/// The lab's settings; the password from the environment.
const LAB: &str = r#"# the lab bench
[vars]
APN = "internet.lab"
SMTP_SERVER = "mail.lab.test"
SMTP_PORT = 2525
SMTP_USER = "qa-bench"
SMTP_PASSWORD = { env = "LAB_SMTP_PASSWORD" }
SENDER = "qa-bench@lab.test"
RCPT_TO = "inbox@lab.test"
RCPT_CC = "copy@lab.test"
"#;

/// Asks the profile's `pdp-active` state, then reads the APN back (000 §3.1, ERRATA E15).
const PDP_ACTIVE: &str = "\
title: the pdp-active state configures the lab's APN
source: 000 §3.1
profiles: ec25
state: pdp-active
@var APN = UNINET
> AT+QICSGP=1
< +QICSGP: 1,\"${APN}\",\"\",\"\",1 [E15]
< OK
";

/// Serves ec25 on a PTY linked at `link` until the sender is used. The module's DNS knows
/// only the lab's server (mapped to the runner's sink); any other name fails to resolve.
fn serve(
    link: &Path,
    smtp: u16,
) -> (
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<std::io::Result<()>>,
) {
    let mut map = ResolveMap::new().deny_unmapped();
    map.add(&format!("mail.lab.test:2525=127.0.0.1:{smtp}"))
        .expect("resolve entry");
    let config = at_emulator::EmulatorConfig::builtin("ec25").expect("profile");
    let opts = ServeOptions::new(config, map);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let pty = Pty::open(Some(link)).expect("a PTY");
    let h = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let r = rt.block_on(pty.serve(&opts, async {
            let _ = stop_rx.await;
        }));
        rt.shutdown_timeout(std::time::Duration::from_millis(200));
        r
    });
    (stop_tx, h)
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_lab_file_points_a_pty_module_at_the_lab_and_the_password_never_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = dir.path().join("lab.toml");
    std::fs::write(&lab, LAB).expect("write");
    let pdp = dir.path().join("pdp-active-apn.scn");
    std::fs::write(&pdp, PDP_ACTIVE).expect("write");
    let smtp = free_port();
    let link = dir.path().join("ttyEC25");
    let (stop, server) = serve(&link, smtp);
    let files_arg = [
        corpus("quectel/3.1-send-plain.scn"),
        corpus("quectel/2.2.2-qsmtpdst.scn"),
        pdp.clone(),
    ];
    let run = |out: &Path, with_lab: bool| {
        let mut c = atconform();
        c.args(["run", "--quiet", "--profile", "ec25", "--port"])
            .arg(&link)
            .args(["--sink-listen", &format!("127.0.0.1:{smtp}")])
            .arg("--out")
            .arg(out)
            .env("LAB_SMTP_PASSWORD", PASSWORD)
            .env_remove("APN")
            .env_remove("SMTP_SERVER")
            .env_remove("SMTP_PORT");
        if with_lab {
            c.arg("--lab").arg(&lab);
        }
        c.args(&files_arg).output().expect("atconform runs")
    };

    // `--list` shows where each value comes from, the password masked.
    let o = atconform()
        .args(["run", "--list", "--profile", "ec25", "--port"])
        .arg(&link)
        .arg("--lab")
        .arg(&lab)
        .env("LAB_SMTP_PASSWORD", PASSWORD)
        .env_remove("APN")
        .arg(corpus("quectel/3.1-send-plain.scn"))
        .output()
        .expect("atconform runs");
    let list = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let line = |name: &str| {
        list.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} line: {list}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let lab_s = lab.display().to_string();
    assert_eq!(
        line("APN"),
        format!("APN internet.lab lab file {lab_s}:3:1")
    );
    assert_eq!(
        line("SMTP_PORT"),
        format!("SMTP_PORT 2525 lab file {lab_s}:5:1")
    );
    assert_eq!(
        line("SMTP_PASSWORD"),
        format!("SMTP_PASSWORD <redacted> $LAB_SMTP_PASSWORD, named by lab file {lab_s}:7:1")
    );
    assert_eq!(
        line("RCPT_CC"),
        format!("RCPT_CC copy@lab.test lab file {lab_s}:10:1")
    );
    assert!(!text(&o).contains(PASSWORD), "{}", text(&o));

    // The lab's values reach the module (setup included) and every case passes.
    let out = dir.path().join("with-lab");
    let o = run(&out, true);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = at_report::load::Run::load(&out).expect("run directory");
    assert_eq!(report.cases.len(), 3, "{}", text(&o));
    for c in &report.cases {
        assert_eq!(
            format!("{:?}", c.status).to_lowercase(),
            "pass",
            "{}: {:?}",
            c.scenario,
            c.reason
        );
    }
    let plain = std::fs::read_to_string(out.join("quectel__3.1-send-plain.scn.ec25.txt"))
        .expect("transcript");
    assert!(
        plain.contains(r#"> AT+QICSGP=1,1,"internet.lab","","",1\r"#),
        "{plain}"
    );
    assert!(
        plain.contains(r#"> AT+QSMTPCFG="smtpserver","mail.lab.test",2525\r"#),
        "{plain}"
    );
    assert!(
        plain.contains(r#"AT+QSMTPCFG="account","qa-bench","<redacted>""#),
        "{plain}"
    );
    // The mail reached the sink with the lab's envelope: 3.1's `@mail` block (`rcpt-to:
    // ${RCPT_TO}, ${RCPT_CC}`, `mail-from: ${SENDER}`) passed with the lab's values.
    let setup_file = files(&out)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("pdp-active-apn"))
        .expect("the pdp-active transcript");
    let setup = std::fs::read_to_string(setup_file).expect("transcript");
    assert!(setup.contains("# setup: state pdp-active"), "{setup}");
    assert!(
        setup.contains(r#"> AT+QICSGP=1,1,"internet.lab","","",1\r"#),
        "{setup}"
    );

    // The password appears nowhere: not as is, not in the AUTH payloads' base64.
    let b64 = base64::engine::general_purpose::STANDARD;
    let forms = [
        PASSWORD.to_string(),
        b64.encode(PASSWORD),
        b64.encode(format!("\0qa-bench\0{PASSWORD}")),
    ];
    let mut checked = 0;
    for f in files(&out) {
        let bytes = std::fs::read(&f).expect("read");
        let s = String::from_utf8_lossy(&bytes);
        for form in &forms {
            assert!(!s.contains(form.as_str()), "{} holds {form:?}", f.display());
        }
        checked += 1;
    }
    assert!(checked >= 4, "report.json and three transcripts at least");
    for form in &forms {
        assert!(!text(&o).contains(form.as_str()), "{}", text(&o));
    }

    // Control: without the lab file the manual's server is used, which this lab's DNS does
    // not know, so the mail fails (653) and the run fails; the APN is the manual's again.
    let without = dir.path().join("without-lab");
    let o = run(&without, false);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let plain = std::fs::read_to_string(without.join("quectel__3.1-send-plain.scn.ec25.txt"))
        .expect("transcript");
    assert!(
        plain.contains(r#"> AT+QICSGP=1,1,"UNINET","","",1\r"#),
        "{plain}"
    );
    assert!(plain.contains("+QSMTPPUT: 653"), "{plain}");
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("SMTP_SERVER is the scenarios' default smtp.163.com"),
        "the run warned up front: {}",
        text(&o)
    );

    let _ = stop.send(());
    server.join().expect("PTY thread").expect("PTY served");
}

#[test]
fn run_warns_up_front_when_mail_checks_cannot_be_evaluated() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Each run on its own PTY nobody serves: the warnings come before the health check fails
    // (after its resynchronisation attempts, ~14 s), so the four runs go in parallel.
    let warn = |name: &str, extra: &[&str], lab: Option<&str>| {
        let pty = Pty::open(None).expect("a PTY");
        let mut c = atconform();
        c.args(["run", "--quiet", "--profile", "ec25", "--port"])
            .arg(pty.slave_path())
            .args(extra)
            .env_remove("SMTP_SERVER")
            .env_remove("SMTP_PORT");
        if let Some(lab) = lab {
            let p = dir.path().join(format!("{name}.toml"));
            std::fs::write(&p, lab).expect("write");
            c.arg("--lab").arg(p);
        }
        let o = c
            .arg(corpus("quectel/3.1-send-plain.scn"))
            .arg(corpus("quectel/2.2.2-qsmtpdst.scn"))
            .output()
            .expect("atconform runs");
        drop(pty);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        let warnings: Vec<String> = err
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .map(str::to_owned)
            .collect();
        assert!(
            err.lines().last().unwrap_or("").starts_with("NOT RUN: "),
            "{name}: {err}"
        );
        warnings
    };
    let sink = ["--sink-listen", "127.0.0.1:2526"];
    let (no_sink, defaults, elsewhere, pointed) = std::thread::scope(|s| {
        // No sink address: the module cannot know the ephemeral ports.
        let no_sink = s.spawn(|| warn("no-sink", &[], None));
        // A sink address, but the manual's server and a port that is not the sink's.
        let defaults = s.spawn(|| warn("defaults", &sink, None));
        // The lab file points at another address than the sink's.
        let elsewhere = s.spawn(|| {
            warn(
                "elsewhere",
                &sink,
                Some("[vars]\nSMTP_SERVER = \"192.0.2.7\"\nSMTP_PORT = 2526\n"),
            )
        });
        // Pointed at the sink: nothing to warn about.
        let pointed = s.spawn(|| {
            warn(
                "pointed",
                &sink,
                Some("[vars]\nSMTP_SERVER = \"127.0.0.1\"\nSMTP_PORT = 2526\n"),
            )
        });
        let join = |h: std::thread::ScopedJoinHandle<'_, Vec<String>>| h.join().expect("run");
        (
            join(no_sink),
            join(defaults),
            join(elsewhere),
            join(pointed),
        )
    });
    assert_eq!(no_sink.len(), 1, "{no_sink:?}");
    assert!(
        no_sink[0].starts_with(
            "warning: 1 case(s) check the delivered mail (@mail/@smtp), but no sink address was given"
        ),
        "{no_sink:?}"
    );
    assert_eq!(defaults.len(), 2, "{defaults:?}");
    assert!(
        defaults
            .iter()
            .any(|l| l.contains("SMTP_PORT is 25 but --sink-listen is port 2526")),
        "{defaults:?}"
    );
    assert!(
        defaults
            .iter()
            .any(|l| l.contains("SMTP_SERVER is the scenarios' default smtp.163.com")),
        "{defaults:?}"
    );
    assert_eq!(elsewhere.len(), 1, "{elsewhere:?}");
    assert!(
        elsewhere[0].contains("SMTP_SERVER is 192.0.2.7, not the sink's address 127.0.0.1"),
        "{elsewhere:?}"
    );
    assert!(pointed.is_empty(), "{pointed:?}");
}

#[test]
fn a_misspelt_lab_variable_is_an_error_at_its_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = dir.path().join("lab.toml");
    std::fs::write(
        &lab,
        "[vars]\nAPN = \"internet\"\n  SMTP_SERVR = \"mail.lab.test\"\n",
    )
    .expect("write");
    let o = atconform()
        .args(["run", "--list", "--lab"])
        .arg(&lab)
        .output()
        .expect("atconform runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // miette wraps long messages: compare without the frame.
    let err: String = String::from_utf8_lossy(&o.stderr)
        .replace(['│', '×'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        err.contains(&format!(
            "{}:3:3: unknown variable `SMTP_SERVR` (did you mean SMTP_SERVER?)",
            lab.display()
        )),
        "{}",
        text(&o)
    );
    // A top-level table other than [vars], and a value of the wrong type.
    std::fs::write(&lab, "[vars]\nAPN = \"x\"\n[lab]\n").expect("write");
    let o = atconform()
        .args(["run", "--list", "--lab"])
        .arg(&lab)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(":3:2: unknown key `lab`"), "{}", text(&o));
    std::fs::write(&lab, "[vars]\nSMTP_PORT = [25]\n").expect("write");
    let o = atconform()
        .args(["run", "--list", "--lab"])
        .arg(&lab)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(":2:13: SMTP_PORT: a value is a string"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_emulator_follows_the_lab_server_too() {
    // `@resolve ${SMTP_SERVER} sink`: the in-process emulator delivers to its sink whatever
    // server the lab names, so a lab file can be tried out on the emulator first.
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = dir.path().join("lab.toml");
    std::fs::write(&lab, LAB).expect("write");
    let out = dir.path().join("run");
    let o = atconform()
        .args(["run", "--quiet", "--emulator", "ec25", "--lab"])
        .arg(&lab)
        .arg("--out")
        .arg(&out)
        .env("LAB_SMTP_PASSWORD", PASSWORD)
        .arg(corpus("quectel/3.1-send-plain.scn"))
        .arg(corpus("quectel/3.3-send-starttls.scn"))
        .output()
        .expect("atconform runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = std::fs::read_to_string(out.join("quectel__3.1-send-plain.scn.ec25.txt"))
        .expect("transcript");
    assert!(t.contains(r#""smtpserver","mail.lab.test",2525"#), "{t}");
    assert!(!t.contains(PASSWORD), "{t}");
}
