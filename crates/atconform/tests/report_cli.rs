//! `atconform report matrix`, `atconform diff` and `atconform scenario from-transcript` as a
//! user runs them: files written, exit codes (diff: 0 same, 1 changed, 2 usage).

use std::process::Command;

fn atconform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atconform"))
}

#[test]
fn matrix_then_diff_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let o = atconform()
        .args(["report", "matrix", "--target", "emulator:ec25"])
        .args(["--target", "fw2=emulator:ec25+body-length-off-by-one"])
        .args(["--filter", "2.2.4-qsmtpbody-length", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    // A target failed: exit 1, as `atconform run` (issue 19).
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("fw2: 0 pass, 0 informational, 0 non-strict, 1 fail, 0 skip"),
        "{text}"
    );
    let html = std::fs::read_to_string(out.join("matrix.html")).unwrap();
    assert!(html.contains("quectel/2.2.4-qsmtpbody-length.scn"));
    assert!(out.join("matrix.json").is_file());
    assert!(out.join("ec25/report.json").is_file());

    // The passing run alone, as a saved run directory: exit 0; with the failing one: 1.
    let o = atconform()
        .args(["report", "matrix"])
        .arg(out.join("ec25"))
        .arg("--out")
        .arg(dir.path().join("m2"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = atconform()
        .args(["report", "matrix"])
        .args([out.join("ec25"), out.join("fw2")])
        .arg("--out")
        .arg(dir.path().join("m3"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // 000 §2.2.4 changed between the two "firmware revisions": exit 1, with the byte diff.
    let o = atconform()
        .arg("diff")
        .args([out.join("ec25"), out.join("fw2")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("pass -> fail"), "{text}");
    assert!(text.contains("++QSMTPBODY: 101"), "{text}");
    // A run against itself: exit 0.
    let o = atconform()
        .arg("diff")
        .args([out.join("ec25"), out.join("ec25")])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Not a run: exit 2 with a message.
    let o = atconform()
        .arg("diff")
        .args([dir.path().join("nothing"), out.join("ec25")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no report.json"));

    // A run's transcript converts into a scenario that loads.
    let t = out.join("ec25/quectel__2.2.4-qsmtpbody-length.scn.ec25.txt");
    let o = atconform()
        .args(["scenario", "from-transcript", "--profile", "ec25"])
        .arg(&t)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let scn = String::from_utf8_lossy(&o.stdout);
    assert!(scn.contains("> AT+QSMTPBODY="), "{scn}");
    assert!(scn.contains("< CONNECT"), "{scn}");
    assert!(scn.contains("@data \""), "{scn}");
}

#[test]
fn coverage_counts_evidence_and_explain_shows_it() {
    let o = atconform().args(["report", "coverage"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("expectations by evidence ("), "{text}");
    assert!(text.contains("implementation-defined"), "{text}");
    // The embedded corpus by name: limits and non-default evidence per group.
    let o = atconform()
        .args([
            "scenario",
            "explain",
            "multitech/putmail-connect-refused-38028.scn",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("# evidence of unmarked expectations: ERRATA E21"),
        "{text}"
    );
    // 002: the session opens before the prompt, so a refused connection answers #PUTMAIL.
    assert!(
        text.contains("^ #CME ERROR: {int=38028} [002 #PUTMAIL]"),
        "{text}"
    );
    let o = atconform()
        .args([
            "scenario",
            "explain",
            "quectel/2.2.2-qsmtpdst.scn",
            "--profile",
            "multitech",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
