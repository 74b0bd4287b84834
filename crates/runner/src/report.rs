//! Reports: the terminal view, `--report json:PATH`, `--report junit:PATH`, transcript files.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::case::{CaseResult, Status};
use crate::outcome::{Outcome, Tally};

pub use crate::corpus::corpus_name;

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

impl RunReport {
    /// Cases per outcome ([`Outcome::classify`]): the numbers every report prints.
    pub fn counts(&self) -> Tally {
        self.cases.iter().map(CaseResult::outcome).collect()
    }

    /// Process exit code: 0 all passed (informational differences and skips allowed), 1 any
    /// failure (fail, non-strict) or interruption, 2 scenario errors.
    pub fn exit_code(&self) -> u8 {
        match self.counts().exit_code() {
            0 if self.interrupted => 1,
            c => c,
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
        self.to_json_as(None)
    }

    /// The JSON report of the target `label` (a `--target` run): `label` is stored beside the
    /// counts, so the run keeps its name whatever its directory is called.
    pub fn to_json_as(&self, label: Option<&str>) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            label: Option<&'a str>,
            counts: Tally,
            #[serde(flatten)]
            report: &'a RunReport,
        }
        serde_json::to_string_pretty(&Json {
            label,
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
        self.write_run_dir_as(dir, None)
    }

    /// [`RunReport::write_run_dir`] for the target `label` ([`RunReport::to_json_as`]).
    pub fn write_run_dir_as(&self, dir: &Path, label: Option<&str>) -> std::io::Result<()> {
        self.write_transcripts(dir)?;
        smtp_sink::durable::write_file(&dir.join("report.json"), self.to_json_as(label).as_bytes())
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

    /// The closing summary for the terminal: [`RunReport::details`], then the count line.
    pub fn summary_text(&self) -> String {
        format!("{}\n{}\n", self.details(None), self.count_line())
    }

    /// `91 cases: 21 passed, 0 informational, 69 non-strict, 1 failed, 0 skipped, 0 errors in
    /// 1.377 s` (interrupted cases, when there are any, before the time).
    pub fn count_line(&self) -> String {
        let c = self.counts();
        format!(
            "{} cases: {} passed, {} informational, {} non-strict, {} failed, {} skipped, {} errors{}{} in {:.3} s",
            self.cases.len(),
            c.pass,
            c.informational,
            c.non_strict,
            c.fail,
            c.skip,
            c.error,
            if c.interrupted > 0 {
                format!(", {} interrupted", c.interrupted)
            } else {
                String::new()
            },
            if self.interrupted {
                ", INTERRUPTED"
            } else {
                ""
            },
            self.wall.as_secs_f64()
        )
    }

    /// What the terminal shows of the cases, without the count line: every case that did not
    /// pass (its outcome, the byte diff, the manual's context, the reproducer), each
    /// informational difference on one line, then the skip reasons grouped with their counts.
    /// `label` names the target of a `--target` run (`[slow: ec25]` instead of `[ec25]`).
    pub fn details(&self, label: Option<&str>) -> String {
        let mut s = String::new();
        for r in &self.cases {
            let id = case_id(r, label);
            let o = r.outcome();
            if o.is_failure() {
                s.push_str(&format!("\n{id} {}\n{}", outcome_word(o), describe(r)));
                if let Some(cmd) = &r.reproduce {
                    s.push_str(&format!("reproduce: {cmd}\n"));
                }
            } else if o == Outcome::Informational {
                // Where the module differs where the manuals let it: one line each.
                for f in r
                    .findings
                    .iter()
                    .filter(|f| f.grade == crate::judge::Grade::Informational)
                {
                    s.push_str(&format!("\n{id} informational: {}", f.summary()));
                }
                s.push('\n');
            }
        }
        let skips = self.skip_reasons();
        if !skips.is_empty() {
            let n: usize = skips.iter().map(|(_, n)| n).sum();
            s.push_str(&format!("\nskipped {n}:\n"));
            for (why, n) in skips {
                s.push_str(&format!("{n:>5}  {why}\n"));
            }
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                s.push_str(&format!("{n}\n"));
            }
        }
        s
    }

    /// The reasons of the skipped cases, grouped: `(reason, cases)`, most frequent first.
    pub fn skip_reasons(&self) -> Vec<(String, usize)> {
        crate::outcome::group_reasons(self.cases.iter().filter_map(|r| match &r.status {
            Status::Skip(why) => Some(why.as_str()),
            _ => None,
        }))
    }
}

/// `scenario [profile]`, or in a `--target` run `scenario [label]` (the label is the profile)
/// or `scenario [label: profile]`.
pub fn case_id(r: &CaseResult, label: Option<&str>) -> String {
    match label {
        Some(l) if l != r.profile => format!("{} [{l}: {}]", r.scenario, r.profile),
        _ => r.id(),
    }
}

/// `PASS`, `INFORMATIONAL`, `NON-STRICT`, `FAIL`, `SKIP`, `ERROR`, `INTERRUPTED`.
pub fn outcome_word(o: Outcome) -> String {
    o.as_str().to_ascii_uppercase()
}

/// The JUnit XML report of several targets' runs (`atconform run --target ...`): one suite per
/// target label (and profile, should a run hold several), one test case per scenario.
///
/// Outcomes map as: pass and informational → success; non-strict, fail and interrupted →
/// `<failure type="non-strict|fail|interrupted">`; error → `<error>`; skip → `<skipped>`. Every
/// test case has the property `outcome`, every suite the properties `outcome.<name>` with the
/// run table's counts, so JUnit's `failures` is the table's non-strict + fail + interrupted.
pub fn junit_of(runs: &[(&str, &RunReport)]) -> String {
    let runs: Vec<(Option<&str>, &RunReport)> = runs.iter().map(|(l, r)| (Some(*l), *r)).collect();
    junit(&runs)
}

fn junit(runs: &[(Option<&str>, &RunReport)]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("atconform");
    report.set_time(runs.iter().map(|(_, r)| r.wall).max().unwrap_or_default());
    // Suites in first-seen order (label, then profile).
    let mut suites: Vec<(String, TestSuite, Tally)> = Vec::new();
    for (label, run) in runs {
        for r in &run.cases {
            let outcome = r.outcome();
            let status = match (&r.status, outcome) {
                (Status::Error(e), _) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(e.clone());
                    s.set_type(outcome.as_str());
                    s
                }
                (Status::Skip(why), _) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(why.clone());
                    s
                }
                // Fail, non-strict, interrupted: a <failure> whose type is the outcome.
                (_, o) if o.is_failure() => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!("{}: {}", o.as_str(), summary(r)));
                    s.set_type(o.as_str());
                    s.set_description(describe(r));
                    s
                }
                _ => TestCaseStatus::success(),
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
            tc.add_property(("outcome", outcome.as_str()));
            if let Some(cmd) = &r.reproduce {
                tc.add_property(("reproduce", cmd.as_str()));
            }
            tc.set_system_out(r.transcript.render(true));
            match suites.iter_mut().find(|(n, _, _)| *n == suite) {
                Some((_, s, t)) => {
                    s.add_test_case(tc);
                    t.add(outcome);
                }
                None => {
                    let mut s = TestSuite::new(suite.clone());
                    s.add_test_case(tc);
                    let mut t = Tally::default();
                    t.add(outcome);
                    suites.push((suite, s, t));
                }
            };
        }
    }
    // Each suite carries the run table's counts: `outcome.non-strict` = 69, and so on.
    for (_, s, t) in &mut suites {
        s.add_properties(
            Outcome::ALL
                .iter()
                .map(|o| (format!("outcome.{}", o.as_str()), t.get(*o).to_string())),
        );
    }
    let mut suites: Vec<(String, TestSuite)> = suites.into_iter().map(|(n, s, _)| (n, s)).collect();
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

/// Why a `KIND:PATH` report argument does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportSpecError {
    /// No `:`.
    #[error("expected KIND:PATH (json:out.json, junit:out.xml), got {0:?}")]
    Shape(String),
    /// A kind other than `json` or `junit`.
    #[error("unknown report kind {0:?} (json, junit)")]
    Kind(String),
    /// Nothing after the `:`.
    #[error("empty report path")]
    EmptyPath,
}

impl std::str::FromStr for ReportSpec {
    type Err = ReportSpecError;
    fn from_str(s: &str) -> Result<Self, ReportSpecError> {
        let (kind, path) = s
            .split_once(':')
            .ok_or_else(|| ReportSpecError::Shape(s.into()))?;
        let kind = match kind {
            "json" => ReportKind::Json,
            "junit" => ReportKind::Junit,
            k => return Err(ReportSpecError::Kind(k.into())),
        };
        if path.is_empty() {
            return Err(ReportSpecError::EmptyPath);
        }
        Ok(ReportSpec {
            kind,
            path: path.into(),
        })
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
        match r.outcome() {
            Outcome::Pass | Outcome::Informational => {}
            o @ (Outcome::Fail | Outcome::NonStrict | Outcome::Error) => {
                self.pb
                    .println(format!("{} {id}\n{}", outcome_word(o), describe(r)));
            }
            o => self
                .pb
                .println(format!("{:<5} {id}: {}", outcome_word(o), summary(r))),
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
