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
fn missing_blank_line_quirk_fails_at_the_ok_line() {
    // ERRATA W1: the information block ends with its own CRLF before OK's framing.
    let c = cfg("quectel/2.2.2-qsmtpdst", &["missing-blank-line-before-ok"]);
    let cases = run::select(corpus::embedded().expect("corpus"), &c);
    let report = run::run(&cases, &c, &AtomicBool::new(false), |_| {}).expect("run");
    assert_eq!(report.exit_code(), 1);
    let r = report.cases.first().expect("a case");
    assert_eq!(r.status, Status::Fail);
    let f = r.failure.as_ref().expect("a failure");
    assert_eq!(f.location.file, "quectel/2.2.2-qsmtpdst.scn");
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
