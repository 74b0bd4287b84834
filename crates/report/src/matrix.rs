//! The conformance matrix: targets as columns, scenarios grouped by document section as rows,
//! one graded verdict per cell.

use std::collections::BTreeMap;

use at_scenario::Scenario;
use serde::Serialize;

use at_runner::outcome::{Outcome, Tally};

use crate::load::{Case, Run, Status};

/// A cell's verdict: the case's outcome ([`at_runner::outcome::Outcome`], the rule every report
/// counts with), with `unimplemented` told apart among the failures. Grades after
/// Autobahn|Testsuite's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// Every byte as the manual says (for `verdict: fail` scenarios: the deviation was found).
    Pass,
    /// Passed, with differences where the manuals leave the behaviour open
    /// (implementation-defined: another checksum, cause code, recorded value).
    Informational,
    /// A deviation the manual tolerates: the right bytes later than a documented maximum
    /// response time, or a deviation from an ERRATA choice only (a blank-line layout other than
    /// W1's, another echo than W2's, a value an entry decides).
    NonStrict,
    /// A deviation from what a manual documents (wrong line, `<CR><LF>` framing, a failed mail
    /// check) or a missing response.
    Fail,
    /// A failure where the target answered a bare `ERROR` where the manual documents a
    /// result: the command or form is not implemented by this firmware (counted as fail).
    Unimplemented,
    /// Not run on this target (e.g. `@fault`/`@quirk` scenarios on real hardware), with the
    /// reason.
    Skip,
    /// The scenario could not be run.
    Error,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Grade {
    /// Every grade, in display order.
    pub const ALL: [Grade; 8] = [
        Grade::Pass,
        Grade::Informational,
        Grade::NonStrict,
        Grade::Fail,
        Grade::Unimplemented,
        Grade::Skip,
        Grade::Error,
        Grade::Interrupted,
    ];

    /// `pass`, `informational`, `non-strict`, `fail`, `unimplemented`, `skip`, `error`,
    /// `interrupted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Unimplemented => "unimplemented",
            g => g.outcome().as_str(),
        }
    }

    /// The outcome it counts as (`unimplemented` is a fail).
    pub fn outcome(self) -> Outcome {
        match self {
            Grade::Pass => Outcome::Pass,
            Grade::Informational => Outcome::Informational,
            Grade::NonStrict => Outcome::NonStrict,
            Grade::Fail | Grade::Unimplemented => Outcome::Fail,
            Grade::Skip => Outcome::Skip,
            Grade::Error => Outcome::Error,
            Grade::Interrupted => Outcome::Interrupted,
        }
    }

    /// How bad a grade is, for "the worst grade speaks for a cell" and "a case got worse"
    /// (`atconform run --baseline`): pass < informational = skip < non-strict < unimplemented
    /// < fail = error = interrupted.
    pub fn severity(self) -> u8 {
        match self {
            Grade::Pass => 0,
            Grade::Informational | Grade::Skip => 1,
            Grade::NonStrict => 2,
            Grade::Unimplemented => 3,
            Grade::Fail | Grade::Error | Grade::Interrupted => 4,
        }
    }

    /// The grade named `name` (as [`Grade::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// The grade of one case: its outcome ([`Case::outcome`]), and among the failures a bare
    /// `ERROR` where the manual documents another answer is `unimplemented`.
    pub fn of(case: &Case) -> Grade {
        match case.outcome() {
            Outcome::Pass => Grade::Pass,
            Outcome::Informational => Grade::Informational,
            Outcome::NonStrict => Grade::NonStrict,
            Outcome::Skip => Grade::Skip,
            Outcome::Error => Grade::Error,
            Outcome::Interrupted => Grade::Interrupted,
            Outcome::Fail => match &case.failure {
                Some(f) if f.kind == "mismatch" && !case.expect_failure => {
                    let bare_error = f.actual == format!("{}\\r\\nERROR\\r\\n", f.sent)
                        || f.actual == "\\r\\nERROR\\r\\n";
                    if bare_error && !f.expected.contains("ERROR") {
                        Grade::Unimplemented
                    } else {
                        Grade::Fail
                    }
                }
                _ => Grade::Fail,
            },
        }
    }
}

/// One cell: a case's grade and everything its detail view shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    /// The graded verdict.
    pub grade: Grade,
    /// The runner's status.
    pub status: Status,
    /// One line: why (empty for a plain pass).
    pub summary: String,
    /// Every graded deviation, one line each (`…: {hex=1513} is 5f07, the reference recorded
    /// 1513 (informational: implementation-defined)`).
    pub findings: Vec<String>,
    /// The failing step's sent bytes (escaped).
    pub sent: String,
    /// What the manual says the device sends (escaped).
    pub expected: String,
    /// What the device sent (escaped).
    pub observed: String,
    /// First differing byte.
    pub offset: Option<usize>,
    /// Full AT wire log (rendered transcript, secrets redacted).
    pub wire: Option<String>,
    /// SMTP sessions (secrets redacted).
    pub smtp: Option<String>,
    /// Target-clock seconds.
    pub elapsed: f64,
    /// The command that reruns this case alone (failing cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

/// One matrix column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Label (`ec25`, `ec25+body-length-off-by-one`).
    pub label: String,
    /// Targets it ran on (`emulator ec25`).
    pub targets: Vec<String>,
    /// Profiles it covered.
    pub profiles: Vec<String>,
}

/// One matrix row: a scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Corpus path.
    pub scenario: String,
    /// Title.
    pub title: String,
    /// Its citations (`000 §3.1`).
    pub sources: Vec<String>,
    /// One cell per column; `None` where the scenario does not apply to the target.
    pub cells: Vec<Option<Cell>>,
}

/// Rows of one document section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// `000 §2.2.4` (the scenario's first citation).
    pub section: String,
    /// The scenarios citing it first, by name.
    pub rows: Vec<Row>,
}

/// The whole matrix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matrix {
    /// Columns, in the order the runs were given.
    pub columns: Vec<Column>,
    /// Row groups, in document order.
    pub groups: Vec<Group>,
    /// Per column, its cases per outcome (the numbers of `atconform run`'s table and
    /// `report.json`; a column holding several profiles counts each case).
    pub counts: Vec<Tally>,
    /// Per column, how many of its failing cases are `unimplemented`.
    pub unimplemented: Vec<usize>,
}

/// Sort key for `000 §2.2.10`, `001 p.9`: document, then numbers numerically.
pub fn section_key(s: &str) -> (String, Vec<u64>, String) {
    let (doc, rest) = s.split_once(' ').unwrap_or((s, ""));
    let nums = rest
        .trim_start_matches(['§', 'p', '.'])
        .split('.')
        .map_while(|n| n.parse::<u64>().ok())
        .collect();
    (doc.to_string(), nums, rest.to_string())
}

impl Matrix {
    /// Builds the matrix of `runs` (one column each). `corpus` supplies sections, tags and the
    /// secrets to redact; scenarios it does not know are grouped by directory.
    pub fn build(runs: &[Run], corpus: &[Scenario]) -> Matrix {
        let meta: BTreeMap<String, &Scenario> = corpus
            .iter()
            .map(|s| (at_runner::corpus_name(&s.name).to_string(), s))
            .collect();
        let mut columns = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        for run in runs {
            let mut targets: Vec<String> = Vec::new();
            let mut profiles: Vec<String> = Vec::new();
            for c in &run.cases {
                if !targets.contains(&c.target) {
                    targets.push(c.target.clone());
                }
                if !profiles.contains(&c.profile) {
                    profiles.push(c.profile.clone());
                }
                if !names.iter().any(|(n, _)| *n == c.scenario) {
                    names.push((c.scenario.clone(), c.title.clone()));
                }
            }
            columns.push(Column {
                label: run.label.clone(),
                targets,
                profiles,
            });
        }
        let mut groups: BTreeMap<(String, Vec<u64>, String), Group> = BTreeMap::new();
        let counts: Vec<Tally> = runs.iter().map(Run::counts).collect();
        let unimplemented: Vec<usize> = runs
            .iter()
            .map(|r| {
                r.cases
                    .iter()
                    .filter(|c| Grade::of(c) == Grade::Unimplemented)
                    .count()
            })
            .collect();
        names.sort();
        for (name, title) in names {
            let sc = meta.get(&name).copied();
            let sources = sc.map(|s| s.meta.sources.clone()).unwrap_or_default();
            let section = sources.first().cloned().unwrap_or_else(|| {
                name.split_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_else(|| "other".into())
            });
            let redactor = sc.and_then(|s| {
                at_scenario::Bindings::for_scenario(s, |v| std::env::var(v).ok()).ok()
            });
            let redact = |s: &str| match &redactor {
                Some(b) => b.redact(s),
                None => s.to_string(),
            };
            let mut cells = Vec::new();
            for run in runs {
                // A column may hold several profiles of one scenario (an emulator run over
                // every profile); the worst grade speaks for the cell.
                let cases: Vec<&Case> = run.cases.iter().filter(|c| c.scenario == name).collect();
                let cell = cases
                    .iter()
                    .map(|c| (Grade::of(c), *c))
                    .max_by_key(|(g, _)| g.severity())
                    .map(|(grade, c)| {
                        let f = c.failure.clone().unwrap_or_default();
                        let summary = match (&c.failure, &c.reason) {
                            (Some(f), _) if c.expect_failure && c.status == Status::Pass => {
                                format!("deviation found as expected: {}", f.summary())
                            }
                            (Some(f), _) => f.summary(),
                            (None, Some(r)) => r.clone(),
                            (None, None) if c.status == Status::Fail && c.expect_failure => {
                                "verdict: fail scenario, but every step passed".into()
                            }
                            _ => String::new(),
                        };
                        Cell {
                            grade,
                            status: c.status,
                            summary: redact(&summary),
                            findings: c
                                .findings
                                .iter()
                                .map(|f| {
                                    let g = f.grade.as_deref().unwrap_or("fail");
                                    redact(&format!("{g}: {}", f.summary()))
                                })
                                .collect(),
                            sent: redact(&f.sent),
                            expected: redact(&f.expected),
                            observed: redact(&f.actual),
                            offset: f.offset,
                            wire: c.transcript.as_deref().map(redact),
                            smtp: c.smtp.as_deref().map(redact),
                            elapsed: c.elapsed,
                            reproduce: c.reproduce.clone(),
                        }
                    });
                cells.push(cell);
            }
            groups
                .entry(section_key(&section))
                .or_insert_with(|| Group {
                    section: section.clone(),
                    rows: Vec::new(),
                })
                .rows
                .push(Row {
                    scenario: name,
                    title,
                    sources,
                    cells,
                });
        }
        Matrix {
            columns,
            groups: groups.into_values().collect(),
            counts,
            unimplemented,
        }
    }

    /// The matrix as pretty JSON (same data as the HTML report).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Every row, in display order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.groups.iter().flat_map(|g| g.rows.iter())
    }

    /// A plain-text table: one line per scenario, one column per target, then the counts.
    pub fn summary_text(&self) -> String {
        let width = self
            .rows()
            .map(|r| r.scenario.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let colw: Vec<usize> = self.columns.iter().map(|c| c.label.len().max(13)).collect();
        let mut s = format!("{:width$}", "scenario");
        for (c, w) in self.columns.iter().zip(&colw) {
            s.push_str(&format!("  {:w$}", c.label));
        }
        s.push('\n');
        for g in &self.groups {
            s.push_str(&format!("## {}\n", g.section));
            for r in &g.rows {
                s.push_str(&format!("{:width$}", r.scenario));
                for (cell, w) in r.cells.iter().zip(&colw) {
                    let t = cell.as_ref().map(|c| c.grade.as_str()).unwrap_or("-");
                    s.push_str(&format!("  {t:w$}"));
                }
                s.push('\n');
            }
        }
        for line in self.count_lines() {
            s.push_str(&line);
            s.push('\n');
        }
        s
    }

    /// Per column, `label: N pass, N informational, N non-strict, N fail, N skip, N error,
    /// N interrupted` (the run table's numbers), then `(N unimplemented)` when some failures are.
    pub fn count_lines(&self) -> Vec<String> {
        self.columns
            .iter()
            .zip(&self.counts)
            .zip(&self.unimplemented)
            .map(|((c, t), u)| {
                let unimpl = if *u > 0 {
                    format!(" ({u} of the failures unimplemented)")
                } else {
                    String::new()
                };
                format!("{}: {}{unimpl}", c.label, t.line())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::FailureInfo;

    fn case(status: Status, failure: Option<FailureInfo>) -> Case {
        Case {
            scenario: "quectel/x.scn".into(),
            title: "x".into(),
            profile: "ec25".into(),
            target: "emulator ec25".into(),
            status,
            reason: None,
            expect_failure: false,
            expected: None,
            grade: None,
            failure,
            findings: Vec::new(),
            steps_passed: 0,
            elapsed: 0.0,
            transcript: None,
            smtp: None,
            reproduce: None,
        }
    }

    fn failure(kind: &str, sent: &str, expected: &str, actual: &str) -> FailureInfo {
        FailureInfo {
            kind: kind.into(),
            sent: sent.into(),
            expected: expected.into(),
            actual: actual.into(),
            ..Default::default()
        }
    }

    #[test]
    fn grades() {
        let g = |c: &Case| Grade::of(c);
        assert_eq!(g(&case(Status::Pass, None)), Grade::Pass);
        assert_eq!(g(&case(Status::Skip, None)), Grade::Skip);
        assert_eq!(g(&case(Status::Error, None)), Grade::Error);
        assert_eq!(g(&case(Status::Interrupted, None)), Grade::Interrupted);
        assert_eq!(Grade::Unimplemented.outcome(), Outcome::Fail);
        let slow = failure("too_slow", "AT\\r", "", "");
        assert_eq!(g(&case(Status::Fail, Some(slow))), Grade::NonStrict);
        // A bare ERROR (after the echo) where OK was documented: not implemented.
        let unimpl = failure(
            "mismatch",
            "AT+QSMTPCLR\\r",
            "AT+QSMTPCLR\\r\\r\\nOK\\r\\n",
            "AT+QSMTPCLR\\r\\r\\nERROR\\r\\n",
        );
        assert_eq!(g(&case(Status::Fail, Some(unimpl))), Grade::Unimplemented);
        // A wrong value is a plain failure.
        let wrong = failure(
            "mismatch",
            "",
            "\\r\\n+QSMTPBODY: 10240\\r\\n",
            "\\r\\n+QSMTPBODY: 10241\\r\\n",
        );
        assert_eq!(g(&case(Status::Fail, Some(wrong))), Grade::Fail);
        // ERROR where ERROR-something was documented is a failure, not "unimplemented".
        let err = failure(
            "mismatch",
            "",
            "\\r\\n+CME ERROR: 664\\r\\n",
            "\\r\\nERROR\\r\\n",
        );
        assert_eq!(g(&case(Status::Fail, Some(err))), Grade::Fail);
    }

    #[test]
    fn graded_findings_decide_the_cell() {
        let graded = |status, grade: &str, expect_failure| {
            let mut c = case(status, None);
            c.grade = Some(grade.into());
            c.expect_failure = expect_failure;
            Grade::of(&c)
        };
        // An implementation-defined difference: the case passed, the cell says so.
        assert_eq!(
            graded(Status::Pass, "informational", false),
            Grade::Informational
        );
        assert_eq!(graded(Status::Fail, "non-strict", false), Grade::NonStrict);
        assert_eq!(graded(Status::Pass, "pass", false), Grade::Pass);
        assert_eq!(graded(Status::Fail, "fail", false), Grade::Fail);
        // A negative scenario: the deviation it asks for was found, whatever its grade.
        assert_eq!(graded(Status::Pass, "non-strict", true), Grade::Pass);
        assert_eq!(graded(Status::Fail, "pass", true), Grade::Fail);
        // Bare ERROR where OK is documented stays "unimplemented".
        let mut c = case(
            Status::Fail,
            Some(failure(
                "mismatch",
                "AT+QSMTPCLR\\r",
                "AT+QSMTPCLR\\r\\r\\nOK\\r\\n",
                "AT+QSMTPCLR\\r\\r\\nERROR\\r\\n",
            )),
        );
        c.grade = Some("fail".into());
        assert_eq!(Grade::of(&c), Grade::Unimplemented);
    }

    #[test]
    fn sections_sort_numerically() {
        let mut v = vec![
            "000 §2.2.10",
            "000 §2.2.2",
            "001 p.9",
            "000 §10",
            "001 p.10",
        ];
        v.sort_by_key(|s| section_key(s));
        assert_eq!(
            v,
            [
                "000 §2.2.2",
                "000 §2.2.10",
                "000 §10",
                "001 p.9",
                "001 p.10"
            ]
        );
    }
}
