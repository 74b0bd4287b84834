//! Issue 19 as a new QA engineer meets it: one `--quirk` syntax, a bad file in a scenario
//! directory, where run directories go, failure context, `scenario show`.

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

const GOOD: &str = "title: clear\nsource: 000 §2.2.6\nprofiles: ec25\n> AT+QSMTPCLR\n< OK\n";

#[test]
fn a_bad_file_is_reported_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let scn = dir.path().join("scn");
    std::fs::create_dir_all(&scn).unwrap();
    std::fs::write(scn.join("a.scn"), GOOD).unwrap();
    std::fs::write(scn.join("b.scn"), "title: t\n@bogus\n").unwrap();
    std::fs::write(scn.join("c.scn"), GOOD).unwrap();
    let o = atconform()
        .arg("run")
        .arg(&scn)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("b.scn:2:1: unknown directive `@bogus`"), "{t}");
    assert!(t.contains("2 cases: 2 passed"), "{t}");
    assert!(t.contains("1 scenario file(s) failed to load"), "{t}");
    // The same with --target: the targets run, the exit code is still 2.
    let o = atconform()
        .arg("run")
        .arg(&scn)
        .args(["--quiet", "--target", "emulator:ec25", "--out"])
        .arg(dir.path().join("multi"))
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(dir.path().join("multi/ec25/report.json").is_file(), "{t}");
}

#[test]
fn quirks_are_comma_separated_or_repeated_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let run = |quirks: &[&str], out: &str| {
        let o = atconform()
            .args([
                "run",
                "--emulator",
                "ec25",
                "--filter",
                "quectel/2.2.2-qsmtpdst",
            ])
            .args(quirks)
            .args(["--quiet", "--out"])
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    let (a, ta) = run(
        &[
            "--quirk",
            "missing-blank-line-before-ok,slow-responses",
            "--quirk",
            "echo-doubles-cr",
        ],
        "a",
    );
    let (b, tb) = run(
        &[
            "--quirk",
            "missing-blank-line-before-ok",
            "--quirk",
            "slow-responses,echo-doubles-cr",
        ],
        "b",
    );
    assert_eq!((a, b), (Some(1), Some(1)), "{ta}\n{tb}");
    // An unknown name is a usage error before anything runs, in every subcommand.
    for cmd in [
        &["run", "--emulator", "ec25"][..],
        &["fuzz", "--cases", "1", "--no-progress"][..],
        &["emulate", "--listen", "127.0.0.1:0"][..],
    ] {
        let o = atconform()
            .args(cmd)
            .args(["--quirk", "slow-responses,no-such-quirk"])
            .output()
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {t}");
        assert!(t.contains("no-such-quirk"), "{cmd:?}: {t}");
    }
    // The fuzzer takes both forms too.
    let o = atconform()
        .args([
            "fuzz",
            "--cases",
            "30",
            "--no-progress",
            "--max-findings",
            "1",
        ])
        .args([
            "--quirk",
            "echo-doubles-cr",
            "--quirk",
            "slow-responses,urc-before-ok",
        ])
        .arg("--out")
        .arg(dir.path().join("findings"))
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let finding = std::fs::read_dir(dir.path().join("findings"))
        .unwrap()
        .flatten()
        .next()
        .expect("a finding file");
    let scn = std::fs::read_to_string(finding.path()).unwrap();
    for q in ["echo-doubles-cr", "slow-responses", "urc-before-ok"] {
        assert!(scn.contains(&format!("@quirk {q}")), "{scn}");
    }
}

#[test]
fn run_directories_go_to_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cwd = dir.path().join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let o = atconform()
        .current_dir(&cwd)
        .env("ATCONFORM_DATA_DIR", &data)
        .args(["run", "--emulator", "ec25", "--filter", "2.2.6", "--quiet"])
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let runs: Vec<_> = std::fs::read_dir(data.join("runs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(runs.len(), 1, "{t}");
    assert!(runs[0].path().join("report.json").is_file());
    assert!(
        t.contains(&format!("run directory: {}", runs[0].path().display())),
        "{t}"
    );
    // Nothing was created where the command ran.
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "{t}");
}

#[test]
fn a_failure_cites_its_source_and_says_what_the_codes_mean() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = atconform()
        .args([
            "run",
            "--emulator",
            "ec25",
            "--quirk",
            "auth-failure-err-660",
        ])
        .args([
            "--filter",
            "quectel/4.4-auth-failed-535",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("  source:   000 §4.4, 000 §5, 000 §6 (ERRATA W1, E19)"),
        "{t}"
    );
    assert!(
        t.contains("+QSMTPPUT: 677,535: <err> 677 = Authentication failed"),
        "{t}"
    );
    assert!(
        t.contains("+QSMTPPUT: 660,535: <err> 660 = Failed to send an email"),
        "{t}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let ctx = &json["cases"][0]["context"];
    assert_eq!(ctx["source"][0], "000 §4.4", "{json}");
    assert_eq!(ctx["codes"].as_array().map(Vec::len), Some(2), "{json}");
}

#[test]
fn scenario_show_prints_an_embedded_file() {
    // The name as a failure prints it, with its line.
    let o = atconform()
        .args(["scenario", "show", "quectel/4.4-auth-failed-535.scn:54"])
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        t,
        include_str!("../../../scenarios/quectel/4.4-auth-failed-535.scn")
    );
    // A unique part of the name works; an ambiguous one lists the candidates (exit 2).
    let o = atconform()
        .args(["scenario", "show", "2.2.6-qsmtpclr"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = atconform()
        .args(["scenario", "show", "send"])
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("quectel/3.1-send-plain.scn"), "{t}");
}

#[test]
fn a_fuzz_finding_that_cannot_run_on_a_module_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings");
    let o = atconform()
        .args([
            "fuzz",
            "--quirk",
            "echo-doubles-cr",
            "--cases",
            "20",
            "--no-progress",
        ])
        .args(["--max-findings", "1", "--out"])
        .arg(&findings)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let file = std::fs::read_dir(&findings)
        .unwrap()
        .flatten()
        .next()
        .expect("a finding")
        .path();
    let scn = std::fs::read_to_string(&file).unwrap();
    assert!(
        scn.contains("# Found on: emulator ec25 with quirks echo-doubles-cr."),
        "{scn}"
    );
    assert!(
        scn.contains("tags: fuzz, ") && scn.contains("found-on-emulator"),
        "{scn}"
    );

    // A module behind a PTY: the finding is reported as not runnable there (exit 2); a corpus
    // scenario that needs the emulator is still only skipped.
    let link = dir.path().join("tty");
    let mut emu = atconform()
        .args(["emulate", "--profile", "ec25", "--pty-link"])
        .arg(&link)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::symlink_metadata(&link).is_err() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let run = |what: &[&str], out: &str| {
        atconform()
            .args(["run", "--profile", "ec25", "--quiet", "--port"])
            .arg(&link)
            .args(what)
            .arg("--out")
            .arg(dir.path().join(out))
            .output()
            .unwrap()
    };
    let o = run(&[file.to_str().unwrap()], "finding");
    let t = text(&o);
    let skipped = run(&["--filter", "edge/quirk-missing-blank-line"], "corpus");
    let _ = emu.kill();
    let _ = emu.wait();
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("fuzz finding that cannot run on") && t.contains("needs the emulator"),
        "{t}"
    );
    let ts = text(&skipped);
    assert_eq!(skipped.status.code(), Some(0), "{ts}");
    assert!(ts.contains("1 skipped"), "{ts}");
}
