//! Runs as the runner leaves them: `report.json` plus one transcript file per case.
//!
//! A **run directory** is what `atconform run --out DIR` writes (and what
//! `at_runner::multi` writes per target): the runner's JSON report and, per case,
//! `<scenario with / as __>.<profile>.txt` (AT transcript, timestamps, secrets redacted) and
//! `.smtp.txt` (SMTP sessions seen by the capture sink).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a run could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path has no `report.json` (and is not a JSON file).
    #[error("{0}: no report.json (a run directory is what `atconform run --out DIR` writes)")]
    NoReport(PathBuf),
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON is not a runner report.
    #[error("{path}: not an atconform run report: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// How a case ended (the runner's `status`).
pub use at_runner::outcome::Ended as Status;

/// Where a failing step is in its scenario file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Corpus path of the scenario.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// The runner's first failure of a case (all byte strings escaped, secrets redacted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailureInfo {
    /// The failing step's scenario line.
    #[serde(default)]
    pub location: Location,
    /// 0-based step index.
    #[serde(default)]
    pub step: usize,
    /// What the host sent in that step.
    #[serde(default)]
    pub sent: String,
    /// `mismatch`, `framing`, `recorded`, `echo`, `timeout`, `too_slow`, `trailing`, `gone`,
    /// `unsupported`, `mail`.
    #[serde(default)]
    pub kind: String,
    /// `fail`, `non-strict` or `informational` (runs before graded findings: absent).
    #[serde(default)]
    pub grade: Option<String>,
    /// The evidence of what it breaks (`000 §2.1.2`, `ERRATA W1`, `implementation-defined`).
    #[serde(default)]
    pub evidence: String,
    /// What the device should have sent (echo included).
    #[serde(default)]
    pub expected: String,
    /// What it sent.
    #[serde(default)]
    pub actual: String,
    /// First differing byte from the start of the step's output.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Kind-specific fields (`detail`, `reason`, `limit`, `took`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl FailureInfo {
    /// One line: `file:line: what`.
    pub fn summary(&self) -> String {
        let what = match self.kind.as_str() {
            "mismatch" => match self.offset {
                Some(o) => format!("unexpected bytes (first difference at byte {o})"),
                None => "unexpected bytes".into(),
            },
            "timeout" => "expected bytes incomplete before the deadline".into(),
            "too_slow" => format!(
                "correct bytes, slower than documented ({} s > {} s)",
                num(self.extra.get("took")),
                num(self.extra.get("limit"))
            ),
            "framing" => format!(
                "same events, framing differs: {}",
                text(self.extra.get("what"))
            ),
            "recorded" => format!(
                "{{{}}} is {}, the reference recorded {}",
                text(self.extra.get("pattern")),
                text(self.extra.get("got")),
                text(self.extra.get("recorded"))
            ),
            "echo" => text(self.extra.get("what")),
            "trailing" => "unexpected bytes after the last step".into(),
            "gone" => format!("device disappeared: {}", text(self.extra.get("reason"))),
            "unsupported" => format!("target cannot {}", text(self.extra.get("what"))),
            "mail" => format!("mail check failed: {}", text(self.extra.get("detail"))),
            k => k.to_string(),
        };
        let at = format!("{}:{}", self.location.file, self.location.line);
        match (self.grade.as_deref(), self.evidence.is_empty()) {
            (_, true) => format!("{at}: {what}"),
            (None | Some("fail"), false) => format!("{at}: {what} ({})", self.evidence),
            (Some(g), false) => format!("{at}: {what} ({g}: {})", self.evidence),
        }
    }
}

fn num(v: Option<&serde_json::Value>) -> String {
    v.and_then(serde_json::Value::as_f64)
        .map(|f| format!("{f:.3}"))
        .unwrap_or_else(|| "?".into())
}

fn text(v: Option<&serde_json::Value>) -> String {
    v.and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// One scenario × profile of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Corpus path (`quectel/3.1-send-plain.scn`).
    pub scenario: String,
    /// Scenario title.
    #[serde(default)]
    pub title: String,
    /// Module profile.
    pub profile: String,
    /// What it ran on (`emulator ec25`, `/dev/ttyUSB2`).
    #[serde(default)]
    pub target: String,
    /// How it ended.
    pub status: Status,
    /// Why it was skipped or errored.
    #[serde(default)]
    pub reason: Option<String>,
    /// `verdict:` other than `pass` (a negative scenario).
    #[serde(default)]
    pub expect_failure: bool,
    /// The grade the scenario asks for (`pass`, `informational`, `non-strict`, `fail`).
    #[serde(default)]
    pub expected: Option<String>,
    /// The grade the run reached, before the expected one is applied (runs before graded
    /// findings: absent).
    #[serde(default)]
    pub grade: Option<String>,
    /// The deviation that decided the grade.
    #[serde(default)]
    pub failure: Option<FailureInfo>,
    /// Every deviation found, in order (informational and non-strict ones, then the failure).
    #[serde(default)]
    pub findings: Vec<FailureInfo>,
    /// Steps that passed.
    #[serde(default)]
    pub steps_passed: usize,
    /// Target-clock duration, seconds.
    #[serde(default)]
    pub elapsed: f64,
    /// The rendered AT transcript, if its file was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// The rendered SMTP sessions, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<String>,
    /// The command that reruns this case alone (failed and erroneous cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

impl Case {
    /// `scenario [profile]`.
    pub fn id(&self) -> String {
        format!("{} [{}]", self.scenario, self.profile)
    }

    /// What the case counts as in every report: the runner's one rule
    /// ([`at_runner::outcome::Outcome::classify`]). A report from before graded findings has
    /// no grade; its `too_slow` failure was non-strict then too.
    pub fn outcome(&self) -> at_runner::outcome::Outcome {
        let grade = match self.grade.as_deref() {
            Some(g) => at_runner::outcome::grade_named(g),
            None if self.failure.as_ref().is_some_and(|f| f.kind == "too_slow") => {
                Some(at_runner::Grade::NonStrict)
            }
            None => None,
        };
        at_runner::outcome::Outcome::classify(self.status, grade, self.expect_failure)
    }

    /// The transcript file stem the runner uses for this case.
    pub fn file_stem(&self) -> String {
        format!(
            "{}.{}",
            self.scenario.replace(['/', '\\'], "__"),
            self.profile
        )
    }
}

#[derive(Deserialize)]
struct ReportJson {
    /// The target's label (`--target` runs).
    #[serde(default)]
    label: Option<String>,
    cases: Vec<Case>,
    #[serde(default)]
    interrupted: bool,
}

/// One target's run: its label (a matrix column) and its cases.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// Column label (`ec25`, `ec25+body-length-off-by-one`, a directory name).
    pub label: String,
    /// The cases, in run order.
    pub cases: Vec<Case>,
    /// Whether the run was stopped early.
    pub interrupted: bool,
}

impl Run {
    /// The exit code `atconform run` gives for this run: 0 all passed (skips allowed), 1 a
    /// failure or an interruption, 2 a case that could not be run (scenario error).
    pub fn exit_code(&self) -> u8 {
        match self.counts().exit_code() {
            0 if self.interrupted => 1,
            c => c,
        }
    }

    /// Cases per outcome: the same numbers as the runner's summary and `report.json`.
    pub fn counts(&self) -> at_runner::outcome::Tally {
        self.cases.iter().map(Case::outcome).collect()
    }

    /// Parses the runner's JSON report (`atconform run --report json:PATH`).
    pub fn from_json(label: impl Into<String>, json: &str) -> Result<Run, serde_json::Error> {
        let r: ReportJson = serde_json::from_str(json)?;
        Ok(Run {
            // A `--target` run's report names its target; other reports take `label`.
            label: r.label.unwrap_or_else(|| label.into()),
            cases: r.cases,
            interrupted: r.interrupted,
        })
    }

    /// A run the runner just produced, with its AT transcripts and SMTP sessions.
    pub fn from_runner(label: impl Into<String>, report: &at_runner::RunReport) -> Run {
        let label = label.into();
        let mut run = Run::from_json(label.clone(), &report.to_json()).unwrap_or(Run {
            label,
            cases: Vec::new(),
            interrupted: report.interrupted,
        });
        for (case, r) in run.cases.iter_mut().zip(&report.cases) {
            if !r.transcript.entries().is_empty() {
                case.transcript = Some(r.transcript.render(true));
            }
            if !r.smtp.is_empty() {
                let sessions: Vec<String> = r.smtp.iter().map(|t| t.render()).collect();
                case.smtp = Some(sessions.join("\n"));
            }
        }
        run
    }

    /// Loads a run directory (or a `report.json` file) and the transcripts beside it; the
    /// label is the one the report names (a `--target` run), else the directory's name.
    pub fn load(path: &Path) -> Result<Run, LoadError> {
        let (json_path, dir) = if path.is_dir() {
            (path.join("report.json"), path.to_path_buf())
        } else {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (path.to_path_buf(), dir)
        };
        if !json_path.is_file() {
            return Err(LoadError::NoReport(path.to_path_buf()));
        }
        let json = std::fs::read_to_string(&json_path).map_err(|source| LoadError::Io {
            path: json_path.clone(),
            source,
        })?;
        let label = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let mut run = Run::from_json(label, &json).map_err(|source| LoadError::Json {
            path: json_path.clone(),
            source,
        })?;
        for case in &mut run.cases {
            let stem = case.file_stem();
            case.transcript = std::fs::read_to_string(dir.join(format!("{stem}.txt"))).ok();
            case.smtp = std::fs::read_to_string(dir.join(format!("{stem}.smtp.txt"))).ok();
        }
        Ok(run)
    }

    /// The case for `scenario` on `profile`.
    pub fn case(&self, scenario: &str, profile: &str) -> Option<&Case> {
        self.cases
            .iter()
            .find(|c| c.scenario == scenario && c.profile == profile)
    }
}

/// One line of a rendered transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireLine {
    /// Host to device (`>`), bytes unescaped.
    Tx(Vec<u8>),
    /// Device to host (`<`), bytes unescaped.
    Rx(Vec<u8>),
    /// A runner note (`#`): step boundaries (`file:line`), verdicts.
    Note(String),
}

/// Parses a transcript rendered by the runner (`[   0.100000] > AT\r`), timestamps dropped.
pub fn parse_transcript(text: &str) -> Vec<WireLine> {
    let mut out = Vec::new();
    for line in text.lines() {
        let body = match line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
            Some((_, rest)) => rest,
            None => line,
        };
        if let Some(b) = body.strip_prefix("> ") {
            out.push(WireLine::Tx(unescape(b)));
        } else if let Some(b) = body.strip_prefix("< ") {
            out.push(WireLine::Rx(unescape(b)));
        } else if let Some(n) = body.strip_prefix("# ") {
            out.push(WireLine::Note(n.to_string()));
        }
    }
    out
}

/// Reverses the runner's escaping (`\r`, `\n`, `\t`, `\\`, `\xNN`); unknown escapes stay literal.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex = b
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            Some(&o) => {
                out.push(b'\\');
                out.push(o);
            }
            None => {
                out.push(b'\\');
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_reverses_runner_escape() {
        let raw = b"AT\r\r\nOK\r\n\x1a\\ \xff";
        assert_eq!(unescape(&at_runner::escape(raw)), raw);
        assert_eq!(unescape("a\\q\\"), b"a\\q\\");
    }

    #[test]
    fn transcript_lines_parse() {
        let t = "[   0.000000] # quectel/x.scn:8\n[   0.100000] > AT\\r\n[   0.100000] < AT\\r\\r\\nOK\\r\\n\n";
        assert_eq!(
            parse_transcript(t),
            vec![
                WireLine::Note("quectel/x.scn:8".into()),
                WireLine::Tx(b"AT\r".to_vec()),
                WireLine::Rx(b"AT\r\r\nOK\r\n".to_vec()),
            ]
        );
    }
}
