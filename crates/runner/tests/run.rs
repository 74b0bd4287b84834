//! Whole runs on the emulator: selection, order, exit codes, and an injected firmware quirk
//! caught with the scenario line that exposes it.

use std::sync::atomic::AtomicBool;

use at_runner::{RunConfig, Status, corpus, run};

fn cfg(filter: &str, quirks: &[&str]) -> RunConfig {
    RunConfig {
        filters: vec![filter.to_string()],
        quirks: quirks.iter().map(|q| q.to_string()).collect(),
        ..RunConfig::default()
    }
}

#[test]
fn corpus_slice_passes_in_case_order() {
    let c = cfg("quectel/2.2.2-qsmtpdst", &[]);
    let cases = run::select(corpus::embedded().expect("corpus"), &c);
    assert!(cases.len() >= 9, "every Quectel profile: {}", cases.len());
    let mut seen = 0;
    let report = run::run(&cases, &c, &AtomicBool::new(false), |_| seen += 1).expect("run");
    assert_eq!(seen, cases.len());
    assert_eq!(report.exit_code(), 0, "{}", report.summary_text());
    let got: Vec<String> = report.cases.iter().map(|r| r.profile.clone()).collect();
    let want: Vec<String> = cases.iter().map(|(_, p)| p.to_string()).collect();
    assert_eq!(got, want);
}

#[test]
fn missing_blank_line_quirk_is_non_strict_at_the_ok_line() {
    // ERRATA W1: the information block ends with its own CRLF before OK's framing. Without
    // it the events are the same and only the W1 layout differs: non-strict, with the diff.
    let c = cfg("quectel/2.2.2-qsmtpdst", &["missing-blank-line-before-ok"]);
    let cases = run::select(corpus::embedded().expect("corpus"), &c);
    let report = run::run(&cases, &c, &AtomicBool::new(false), |_| {}).expect("run");
    assert_eq!(report.exit_code(), 1);
    let r = report.cases.first().expect("a case");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.grade, at_runner::Grade::NonStrict);
    let f = r.failure.as_ref().expect("a failure");
    assert_eq!(f.location.file, "quectel/2.2.2-qsmtpdst.scn");
    assert_eq!(f.evidence, "ERRATA W1");
    assert!(
        f.summary().contains("same events, framing differs"),
        "{}",
        f.summary()
    );
    assert!(f.actual.contains(r#""\r\nOK\r\n"#), "{}", f.actual);
    assert!(f.expected.contains(r#""\r\n\r\nOK\r\n"#), "{}", f.expected);
}

#[test]
fn cancelled_run_reports_what_it_has() {
    let c = cfg("quectel/", &[]);
    let cases = run::select(corpus::embedded().expect("corpus"), &c);
    let report = run::run(&cases, &c, &AtomicBool::new(true), |_| {}).expect("run");
    assert!(report.interrupted);
    assert_eq!(report.exit_code(), 1);
    assert!(report.cases.len() < cases.len());
}

/// `scenarios/README.md`'s corpus table has one row per scenario file, taken from its headers
/// (`| \`dir/file.scn\` | source | profiles | title |`, `(**verdict: fail**)` (or another
/// grade) for negative scenarios), and no row for a file that is gone.
#[test]
fn corpus_table_lists_every_scenario_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("scenarios/README.md");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| file | source | profiles | what |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    let mut files = Vec::new();
    for sub in std::fs::read_dir(&dir).expect("scenarios/") {
        let sub = sub.expect("entry").path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).expect("corpus dir") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "scn") {
                files.push(f);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 100, "{}", files.len());
    let mut missing = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("scenario");
        let header = |key: &str| {
            text.lines()
                .take_while(|l| !l.starts_with(['>', '<', '~', '@']))
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        let rel = f.strip_prefix(&dir).expect("under scenarios/");
        let mut what = header("title");
        let verdict = header("verdict");
        if !verdict.is_empty() && verdict != "pass" {
            what.push_str(&format!(" (**verdict: {verdict}**)"));
        }
        let row = format!(
            "| `{}` | {} | {} | {what} |",
            rel.display(),
            header("source"),
            header("profiles")
        );
        if !table.contains(&row.as_str()) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "add or fix these rows in scenarios/README.md:\n{}",
        missing.join("\n")
    );
    assert_eq!(table.len(), files.len(), "a row for a file that is gone");
}

/// A failed `@mail` check grades by its evidence like an expected line: documented fails,
/// an ERRATA entry is non-strict, `[impl]` informational (and the case passes).
#[test]
fn mail_checks_grade_by_their_evidence() {
    let text = corpus::CORPUS
        .iter()
        .find(|(n, _)| *n == "quectel/2.2.7-qsmtpput.scn")
        .map(|(_, t)| *t)
        .expect("in the corpus");
    assert!(text.contains("    subject: TEST SMTP\n"));
    for (suffix, status, grade) in [
        ("", Status::Fail, at_runner::Grade::Fail),
        (" [W4]", Status::Fail, at_runner::Grade::NonStrict),
        (" [impl]", Status::Pass, at_runner::Grade::Informational),
    ] {
        let changed = text.replace(
            "    subject: TEST SMTP\n",
            &format!("    subject: another subject{suffix}\n"),
        );
        let sc = at_scenario::load_str("quectel/2.2.7-qsmtpput.scn", &changed).expect("loads");
        let r = at_runner::run_case_emulated(
            &sc,
            at_scenario::Profile::Ec25,
            &[],
            &AtomicBool::new(false),
        );
        assert_eq!(
            (r.status.clone(), r.grade),
            (status, grade),
            "{suffix}: {r:?}"
        );
        let f = r.failure.expect("the check's finding");
        assert!(f.summary().contains("subject was"), "{}", f.summary());
    }
}

/// `verdict: informational` asks for exactly that grade: a module that reports another
/// checksum (000 §2.2.5 gives no algorithm) is an implementation-defined difference.
#[test]
fn verdict_informational_needs_an_implementation_defined_difference() {
    let text = corpus::CORPUS
        .iter()
        .find(|(n, _)| *n == "edge/qfupl-checksum-e12.scn")
        .map(|(_, t)| *t)
        .expect("in the corpus");
    let with = |extra: &str| {
        let changed = text.replace("tags: edge\n", &format!("tags: edge\n{extra}"));
        let sc = at_scenario::load_str("edge/qfupl-checksum-e12.scn", &changed).expect("loads");
        at_runner::run_case_emulated(
            &sc,
            at_scenario::Profile::Ec25,
            &[],
            &AtomicBool::new(false),
        )
    };
    let r = with("verdict: informational\n@liberty checksum-sum16\n");
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert_eq!(r.grade, at_runner::Grade::Informational);
    assert_eq!(r.findings.len(), 3, "the three recorded checksums differ");
    // The reference itself has no implementation-defined difference here.
    let r = with("verdict: informational\n");
    assert_eq!(r.status, Status::Fail);
    // A plain scenario passes with the difference.
    let r = with("@liberty checksum-sum16\n");
    assert_eq!(
        (r.status, r.grade),
        (Status::Pass, at_runner::Grade::Informational)
    );
    // A checksum that is always 0 is no checksum of the bytes: two files that differ in one
    // byte get the same value. 000 prints 707 for two files itself, so only E12 says so:
    // non-strict, naming E12.
    let r = with("@quirk qfupl-checksum-zero\n");
    assert_eq!(
        (r.status.clone(), r.grade),
        (Status::Fail, at_runner::Grade::NonStrict)
    );
    let f = r.failure.expect("the finding");
    assert_eq!(f.evidence, "ERRATA E12");
    assert_eq!(
        f.location.line, 32,
        "the other file's line (one header line added)"
    );
}
