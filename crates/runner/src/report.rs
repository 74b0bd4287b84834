//! Reports: the terminal view, `--report json:PATH`, `--report junit:PATH`, transcript files.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::case::{CaseResult, Status};

/// A whole run: every case, how long it took, whether it was interrupted.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The cases, in run order.
    pub cases: Vec<CaseResult>,
    /// Wall time of the run, seconds.
    #[serde(serialize_with = "secs")]
    pub wall: Duration,
    /// Whether Ctrl-C stopped the run (the report is partial).
    pub interrupted: bool,
    /// What the run says about itself: the shuffle seed, the device's identity, the sink.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Counts per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Skipped.
    pub skip: usize,
    /// Errors.
    pub error: usize,
    /// Interrupted.
    pub interrupted: usize,
}

impl RunReport {
    /// Counts per status.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.cases {
            match r.status {
                Status::Pass => c.pass += 1,
                Status::Fail => c.fail += 1,
                Status::Skip(_) => c.skip += 1,
                Status::Error(_) => c.error += 1,
                Status::Interrupted => c.interrupted += 1,
            }
        }
        c
    }

    /// Process exit code: 0 all passed (skips allowed), 1 any failure, 2 scenario errors.
    pub fn exit_code(&self) -> u8 {
        let c = self.counts();
        if c.error > 0 {
            2
        } else if c.fail > 0 || c.interrupted > 0 || self.interrupted {
            1
        } else {
            0
        }
    }

    /// Gives every failed or erroneous case the command that reruns it alone.
    pub fn attach_reproducers(&mut self, rerun: &crate::reproduce::Rerun) {
        for r in &mut self.cases {
            if matches!(r.status, Status::Fail | Status::Error(_)) {
                r.reproduce = Some(crate::reproduce::command(rerun, &r.scenario, &r.profile));
            }
        }
    }

    /// The JSON report.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            counts: Counts,
            #[serde(flatten)]
            report: &'a RunReport,
        }
        serde_json::to_string_pretty(&Json {
            counts: self.counts(),
            report: self,
        })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The JUnit XML report: one suite per profile, one test case per scenario.
    pub fn to_junit(&self) -> String {
        junit(&[(None, self)])
    }

    /// Writes one transcript per case under `dir`: `<scenario>.<profile>.txt` (AT side, with
    /// timestamps, secrets redacted) and `.smtp.txt` when a sink was attached. Each file is
    /// written durably ([`smtp_sink::durable`]); the first failure is returned.
    pub fn write_transcripts(&self, dir: &Path) -> std::io::Result<()> {
        use smtp_sink::durable::{sync_dir, write_file_no_dir_sync};
        std::fs::create_dir_all(dir)?;
        for r in &self.cases {
            if r.transcript.entries().is_empty() {
                continue;
            }
            let stem = format!("{}.{}", r.scenario.replace(['/', '\\'], "__"), r.profile);
            write_file_no_dir_sync(
                &dir.join(format!("{stem}.txt")),
                r.transcript.render(true).as_bytes(),
            )?;
            if !r.smtp.is_empty() {
                let smtp: Vec<String> = r.smtp.iter().map(|t| t.render()).collect();
                write_file_no_dir_sync(
                    &dir.join(format!("{stem}.smtp.txt")),
                    smtp.join("\n").as_bytes(),
                )?;
            }
        }
        sync_dir(dir)
    }

    /// Writes the run directory `dir`: the transcripts, then `report.json` (last, so a
    /// directory with a `report.json` is complete). Every file is written durably.
    pub fn write_run_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.write_transcripts(dir)?;
        smtp_sink::durable::write_file(&dir.join("report.json"), self.to_json().as_bytes())
    }

    /// Writes `--report KIND:PATH` (durably).
    pub fn write(&self, spec: &ReportSpec) -> std::io::Result<()> {
        let text = match spec.kind {
            ReportKind::Json => self.to_json(),
            ReportKind::Junit => self.to_junit(),
        };
        if let Some(parent) = spec.path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        smtp_sink::durable::write_file(&spec.path, text.as_bytes())
    }

    /// The closing summary for the terminal.
    pub fn summary_text(&self) -> String {
        let c = self.counts();
        let mut s = String::new();
        for r in &self.cases {
            if matches!(r.status, Status::Fail | Status::Error(_)) {
                s.push_str(&format!(
                    "\n{} {}\n{}",
                    r.id(),
                    status_word(&r.status),
                    describe(r)
                ));
                if let Some(cmd) = &r.reproduce {
                    s.push_str(&format!("reproduce: {cmd}\n"));
                }
            } else if r.status == Status::Pass
                && r.grade == crate::judge::Grade::Informational
                && !r.expect_failure
            {
                // Where the module differs where the manuals let it: one line each.
                for f in r
                    .findings
                    .iter()
                    .filter(|f| f.grade == crate::judge::Grade::Informational)
                {
                    s.push_str(&format!("\n{} informational: {}", r.id(), f.summary()));
                }
                s.push('\n');
            }
        }
        // Graded: passes with implementation-defined differences, failures that are only
        // non-strict (a late answer, an ERRATA choice).
        let graded = |st: fn(&Status) -> bool, g: crate::judge::Grade| {
            self.cases
                .iter()
                .filter(|r| st(&r.status) && r.grade == g && !r.expect_failure)
                .count()
        };
        let info = graded(|s| *s == Status::Pass, crate::judge::Grade::Informational);
        let lax = graded(|s| *s == Status::Fail, crate::judge::Grade::NonStrict);
        let info = if info > 0 {
            format!(" ({info} with informational differences)")
        } else {
            String::new()
        };
        let lax = if lax > 0 {
            format!(" ({lax} only non-strict)")
        } else {
            String::new()
        };
        let skipped: Vec<String> = self
            .cases
            .iter()
            .filter_map(|r| match &r.status {
                Status::Skip(why) => Some(format!("  {}: {why}\n", r.id())),
                _ => None,
            })
            .collect();
        if !skipped.is_empty() {
            s.push_str(&format!(
                "\nskipped ({}):\n{}",
                skipped.len(),
                skipped.concat()
            ));
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                s.push_str(&format!("{n}\n"));
            }
        }
        s.push_str(&format!(
            "\n{} cases: {} passed{info}, {} failed{lax}, {} skipped, {} errors{} in {:.3} s\n",
            self.cases.len(),
            c.pass,
            c.fail,
            c.skip,
            c.error,
            if self.interrupted {
                ", INTERRUPTED"
            } else {
                ""
            },
            self.wall.as_secs_f64()
        ));
        s
    }
}

/// The JUnit XML report of several targets' runs (`atconform run --target ...`): one suite per
/// target label (and profile, should a run hold several), one test case per scenario.
pub fn junit_of(runs: &[(&str, &RunReport)]) -> String {
    let runs: Vec<(Option<&str>, &RunReport)> = runs.iter().map(|(l, r)| (Some(*l), *r)).collect();
    junit(&runs)
}

fn junit(runs: &[(Option<&str>, &RunReport)]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("atconform");
    report.set_time(runs.iter().map(|(_, r)| r.wall).max().unwrap_or_default());
    // Suites in first-seen order (label, then profile).
    let mut suites: Vec<(String, TestSuite)> = Vec::new();
    for (label, run) in runs {
        for r in &run.cases {
            let status = match &r.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail | Status::Interrupted => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(summary(r));
                    s.set_description(describe(r));
                    s
                }
                Status::Error(e) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(e.clone());
                    s
                }
                Status::Skip(why) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(why.clone());
                    s
                }
            };
            let (suite, class) = match label {
                None => (r.profile.clone(), format!("atconform.{}", r.profile)),
                Some(l) if *l == r.profile => (l.to_string(), format!("atconform.{l}")),
                Some(l) => (
                    format!("{l} [{}]", r.profile),
                    format!("atconform.{l}.{}", r.profile),
                ),
            };
            let mut tc = TestCase::new(r.scenario.clone(), status);
            tc.set_classname(class);
            tc.set_time(r.elapsed);
            tc.set_system_out(r.transcript.render(true));
            match suites.iter_mut().find(|(n, _)| *n == suite) {
                Some((_, s)) => {
                    s.add_test_case(tc);
                }
                None => {
                    let mut s = TestSuite::new(suite.clone());
                    s.add_test_case(tc);
                    suites.push((suite, s));
                }
            };
        }
    }
    // A single run keeps its suites in profile order, as before.
    if runs.len() == 1 && runs.first().is_some_and(|(l, _)| l.is_none()) {
        suites.sort_by(|a, b| a.0.cmp(&b.0));
    }
    report.add_test_suites(suites.into_iter().map(|(_, s)| s));
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- junit serialisation failed: {e} -->"))
}

/// `PASS`, `FAIL`, `SKIP`, `ERROR`, `INTERRUPTED`.
pub fn status_word(s: &Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Skip(_) => "SKIP",
        Status::Error(_) => "ERROR",
        Status::Interrupted => "INTERRUPTED",
    }
}

/// One line: why a case did not pass.
pub fn summary(r: &CaseResult) -> String {
    match (&r.status, &r.failure) {
        (Status::Fail, None) if r.expect_failure => {
            "verdict: fail scenario, but every step passed (the deviation was not found)".into()
        }
        (_, Some(f)) => f.summary(),
        (Status::Error(e), _) | (Status::Skip(e), _) => e.clone(),
        (s, None) => status_word(s).into(),
    }
}

/// Summary plus the byte diff.
pub fn describe(r: &CaseResult) -> String {
    let mut s = summary(r);
    s.push('\n');
    if let Some(f) = &r.failure {
        s.push_str(&f.diff());
    }
    if let Some(c) = &r.context {
        s.push_str(&c.render());
    }
    s
}

/// Which report format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// JSON.
    Json,
    /// JUnit XML.
    Junit,
}

/// A parsed `--report KIND:PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSpec {
    /// Format.
    pub kind: ReportKind,
    /// Output file.
    pub path: std::path::PathBuf,
}

impl std::str::FromStr for ReportSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, path) = s.split_once(':').ok_or_else(|| {
            format!("expected KIND:PATH (json:out.json, junit:out.xml), got {s:?}")
        })?;
        let kind = match kind {
            "json" => ReportKind::Json,
            "junit" => ReportKind::Junit,
            k => return Err(format!("unknown report kind {k:?} (json, junit)")),
        };
        if path.is_empty() {
            return Err("empty report path".into());
        }
        Ok(ReportSpec {
            kind,
            path: path.into(),
        })
    }
}

/// The scenario's path from the corpus root (`quectel/3.1-send-plain.scn`).
pub fn corpus_name(name: &str) -> &str {
    match name.rfind("scenarios/") {
        Some(i) => name.get(i + "scenarios/".len()..).unwrap_or(name),
        None => name,
    }
}

/// Terminal progress for long runs: a bar on stderr (hidden when not a terminal or `quiet`),
/// a line per case that did not pass, with the diff of each failure as it happens.
#[derive(Debug)]
pub struct Progress {
    pb: indicatif::ProgressBar,
}

impl Progress {
    /// A progress display for `total` cases.
    pub fn new(total: usize, quiet: bool) -> Self {
        let pb = if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            let pb = indicatif::ProgressBar::new(total as u64);
            pb.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb
        };
        Progress { pb }
    }

    /// Records one finished case.
    pub fn case(&self, r: &CaseResult) {
        self.show(&r.id(), r);
    }

    /// Records one finished case of the target `label` (a multi-target run: the same scenario
    /// and profile can run on several targets).
    pub fn target_case(&self, label: &str, r: &CaseResult) {
        self.show(&format!("{label}: {}", r.id()), r);
    }

    fn show(&self, id: &str, r: &CaseResult) {
        self.pb.inc(1);
        self.pb.set_message(id.to_string());
        // Passing cases only move the bar; anything else is shown as it happens.
        match r.status {
            Status::Pass => {}
            Status::Fail | Status::Error(_) => {
                self.pb
                    .println(format!("{} {id}\n{}", status_word(&r.status), describe(r)));
            }
            _ => self.pb.println(format!(
                "{:<5} {id}: {}",
                status_word(&r.status),
                summary(r)
            )),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{Failure, FailureKind};
    use crate::plan::Location;
    use crate::transcript::Transcript;

    fn case(status: Status, failure: Option<Failure>) -> CaseResult {
        CaseResult {
            scenario: "quectel/x.scn".into(),
            title: "t".into(),
            profile: "ec25".into(),
            target: "emulator ec25".into(),
            status,
            expect_failure: false,
            expected: crate::judge::Grade::Pass,
            grade: crate::judge::Grade::Fail,
            failure,
            findings: Vec::new(),
            context: None,
            steps_passed: 1,
            elapsed: Duration::from_secs(300),
            transcript: Transcript::new(),
            smtp: Vec::new(),
            reproduce: None,
        }
    }

    fn mismatch() -> Failure {
        Failure {
            location: Location {
                file: "quectel/x.scn".into(),
                line: 7,
            },
            step: 1,
            sent: "AT\\r".into(),
            kind: FailureKind::Mismatch,
            grade: crate::judge::Grade::Fail,
            evidence: String::new(),
            expected: "AT\\r\\r\\nOK\\r\\n".into(),
            actual: "AT\\r\\r\\nOK\\n".into(),
            offset: Some(7),
            column: Some(12),
        }
    }

    fn report(cases: Vec<CaseResult>) -> RunReport {
        RunReport {
            cases,
            wall: Duration::from_millis(5),
            interrupted: false,
            notes: Vec::new(),
        }
    }

    #[test]
    fn exit_codes() {
        assert_eq!(report(vec![case(Status::Pass, None)]).exit_code(), 0);
        assert_eq!(
            report(vec![
                case(Status::Pass, None),
                case(Status::Skip("x".into()), None)
            ])
            .exit_code(),
            0
        );
        assert_eq!(
            report(vec![
                case(Status::Pass, None),
                case(Status::Fail, Some(mismatch()))
            ])
            .exit_code(),
            1
        );
        assert_eq!(
            report(vec![
                case(Status::Fail, None),
                case(Status::Error("bad".into()), None)
            ])
            .exit_code(),
            2
        );
        let mut r = report(vec![case(Status::Pass, None)]);
        r.interrupted = true;
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn json_and_junit_carry_the_failure() {
        let r = report(vec![
            case(Status::Pass, None),
            case(Status::Fail, Some(mismatch())),
        ]);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["counts"]["fail"], 1);
        assert_eq!(v["cases"][1]["status"], "fail");
        assert_eq!(v["cases"][1]["failure"]["location"]["line"], 7);
        assert_eq!(v["cases"][1]["failure"]["offset"], 7);
        assert_eq!(v["cases"][0]["elapsed"], 300.0);
        let x = r.to_junit();
        assert!(
            x.contains(r#"tests="2""#) && x.contains(r#"failures="1""#),
            "{x}"
        );
        assert!(
            x.contains("quectel/x.scn:7: unexpected bytes (first difference at byte 7)"),
            "{x}"
        );
    }

    #[test]
    fn junit_of_several_targets_has_a_suite_per_target() {
        let a = report(vec![case(Status::Pass, None)]);
        let b = report(vec![case(Status::Fail, Some(mismatch()))]);
        let profile = a.cases[0].profile.clone();
        let x = junit_of(&[(profile.as_str(), &a), ("fw2", &b)]);
        // The target named after its profile keeps that name; another label says its profile.
        assert!(
            x.contains(&format!(r#"<testsuite name="{profile}""#)),
            "{x}"
        );
        assert!(
            x.contains(&format!(r#"<testsuite name="fw2 [{profile}]""#)),
            "{x}"
        );
        assert!(
            x.contains(&format!(r#"classname="atconform.fw2.{profile}""#)),
            "{x}"
        );
        assert!(
            x.contains(r#"tests="2""#) && x.contains(r#"failures="1""#),
            "{x}"
        );
    }

    #[test]
    fn report_specs_parse() {
        let s: ReportSpec = "junit:out/r.xml".parse().unwrap();
        assert_eq!(
            (s.kind, s.path.to_str()),
            (ReportKind::Junit, Some("out/r.xml"))
        );
        assert!("xml:out".parse::<ReportSpec>().is_err());
        assert!("json:".parse::<ReportSpec>().is_err());
        assert!("json".parse::<ReportSpec>().is_err());
    }

    #[test]
    fn corpus_names_are_relative() {
        assert_eq!(corpus_name("/a/b/scenarios/edge/x.scn"), "edge/x.scn");
        assert_eq!(corpus_name("edge/x.scn"), "edge/x.scn");
    }
}
