//! Regression gates for CI: a baseline file records, per target and case, the grade a run got
//! (`atconform baseline update`); a later run with `--baseline FILE` passes unless a case got
//! worse, and lists the cases that got better (newly passing) or are new.
//!
//! Grades are the matrix's ([`at_report::matrix::Grade::of`], informational included) and
//! "worse" is [`Grade::severity`], except that pass and informational rank alike ([`rank`]): both
//! conform, and another implementation-defined value is no regression.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use at_report::load::Run;
use at_report::matrix::Grade;
use serde::{Deserialize, Serialize};

/// How bad a grade is for the gate: [`Grade::severity`], with informational ranked as pass (a
/// case that conforms but records another implementation-defined value has not got worse).
pub fn rank(g: Grade) -> u8 {
    match g {
        Grade::Informational => Grade::Pass.severity(),
        g => g.severity(),
    }
}

/// The file format version this module writes and reads.
pub const FORMAT: u32 = 1;

/// The target key of a run without `--target` (one device or the in-process emulator).
pub const SINGLE_RUN: &str = "run";

/// A case's grade in a run, with the command that reruns it (failing cases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseGrade {
    /// The grade.
    pub grade: Grade,
    /// `atconform run ... --filter SCENARIO`, when the run recorded one.
    pub reproduce: Option<String>,
}

/// Per target key, per case (`scenario [profile]`): the grade.
pub type Grades = BTreeMap<String, BTreeMap<String, CaseGrade>>;

/// The grades of `runs`, keyed by `key(run)` (the target's run-directory name), graded as the
/// matrix grades them (from each case's outcome, the rule every report counts with).
pub fn grades(runs: &[(String, &Run)]) -> Grades {
    let mut out = Grades::new();
    for (key, run) in runs {
        let cases = out.entry(key.clone()).or_default();
        for c in &run.cases {
            cases.insert(
                c.id(),
                CaseGrade {
                    grade: Grade::of(c),
                    reproduce: c.reproduce.clone(),
                },
            );
        }
    }
    out
}

/// The baseline file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version ([`FORMAT`]).
    pub atconform_baseline: u32,
    /// Per target (run-directory name), per case (`scenario [profile]`): the grade's name.
    pub targets: BTreeMap<String, BTreeMap<String, String>>,
}

/// What an update changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Updated {
    /// Cases whose grade changed.
    pub changed: usize,
    /// Cases not in the file before.
    pub added: usize,
    /// Cases in the file now.
    pub total: usize,
}

/// Why a baseline file cannot be read, used or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file's content is not a usable baseline.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<BaselineError>,
    },
    /// Not baseline JSON.
    #[error("not an atconform baseline: {0}")]
    Json(#[source] serde_json::Error),
    /// A format this version does not read.
    #[error("baseline format {0} (this atconform reads {FORMAT})")]
    Format(u32),
    /// A grade name that is not a grade.
    #[error(
        "{target} / {case}: unknown grade {grade:?} (one of {})",
        Grade::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
    )]
    UnknownGrade {
        /// The target.
        target: String,
        /// The case.
        case: String,
        /// The grade as written.
        grade: String,
    },
}

impl Baseline {
    /// Reads and checks a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: path.to_owned(),
            source,
        })?;
        Baseline::from_json(&text).map_err(|e| BaselineError::Invalid {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Parses and checks baseline JSON (every grade a known grade name).
    pub fn from_json(text: &str) -> Result<Baseline, BaselineError> {
        let b: Baseline = serde_json::from_str(text).map_err(BaselineError::Json)?;
        if b.atconform_baseline != FORMAT {
            return Err(BaselineError::Format(b.atconform_baseline));
        }
        for (target, cases) in &b.targets {
            for (case, grade) in cases {
                if Grade::from_name(grade).is_none() {
                    return Err(BaselineError::UnknownGrade {
                        target: target.clone(),
                        case: case.clone(),
                        grade: grade.clone(),
                    });
                }
            }
        }
        Ok(b)
    }

    /// The file's JSON (sorted, one case per line: reviewable diffs).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
            + "\n"
    }

    /// Writes the file (to a temporary file first, then renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, self.to_json())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|source| BaselineError::Io {
                path: path.to_owned(),
                source,
            })
    }

    /// Records `grades`: each graded case's grade replaces the old one; cases and targets
    /// the run did not grade are kept.
    pub fn update(&mut self, grades: &Grades) -> Updated {
        self.atconform_baseline = FORMAT;
        let mut u = Updated::default();
        for (target, cases) in grades {
            let t = self.targets.entry(target.clone()).or_default();
            for (case, g) in cases {
                match t.insert(case.clone(), g.grade.as_str().to_string()) {
                    None => u.added += 1,
                    Some(old) if old != g.grade.as_str() => u.changed += 1,
                    Some(_) => {}
                }
            }
        }
        u.total = self.targets.values().map(BTreeMap::len).sum();
        u
    }

    /// Compares `grades` with the baseline. `scope` says, per target of this run, which cases
    /// it was meant to grade (`None`: all the baseline holds for it, e.g. a place that could
    /// not run); a baseline case in scope but not graded is missing, which fails the gate as
    /// a worse case does. Targets outside `scope` are not compared.
    pub fn gate(
        &self,
        grades: &Grades,
        scope: &BTreeMap<String, Option<BTreeSet<String>>>,
    ) -> Gate {
        let mut g = Gate::default();
        for (target, wanted) in scope {
            let before = self.targets.get(target);
            let now = grades.get(target);
            let in_scope = |case: &str| wanted.as_ref().is_none_or(|w| w.contains(case));
            if let Some(before) = before {
                for (case, was) in before.iter().filter(|(c, _)| in_scope(c)) {
                    let Some(was) = Grade::from_name(was) else {
                        continue;
                    };
                    match now.and_then(|n| n.get(case)) {
                        None => g.missing.push(Change {
                            target: target.clone(),
                            case: case.clone(),
                            was: Some(was),
                            now: None,
                            reproduce: None,
                        }),
                        Some(cg) => {
                            let change = Change {
                                target: target.clone(),
                                case: case.clone(),
                                was: Some(was),
                                now: Some(cg.grade),
                                reproduce: cg.reproduce.clone(),
                            };
                            g.compared += 1;
                            if rank(cg.grade) > rank(was) {
                                g.worse.push(change);
                            } else if rank(cg.grade) < rank(was) {
                                g.better.push(change);
                            }
                        }
                    }
                }
            }
            for (case, cg) in now.into_iter().flatten() {
                if before.is_none_or(|b| !b.contains_key(case)) {
                    g.new.push(Change {
                        target: target.clone(),
                        case: case.clone(),
                        was: None,
                        now: Some(cg.grade),
                        reproduce: cg.reproduce.clone(),
                    });
                }
            }
        }
        g
    }
}

/// One case's grade before and now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Target key.
    pub target: String,
    /// `scenario [profile]`.
    pub case: String,
    /// Its grade in the baseline.
    pub was: Option<Grade>,
    /// Its grade in this run.
    pub now: Option<Grade>,
    /// The command that reruns it, if it failed.
    pub reproduce: Option<String>,
}

/// The outcome of comparing a run with a baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    /// Cases graded worse than in the baseline.
    pub worse: Vec<Change>,
    /// Cases graded better (newly passing among them).
    pub better: Vec<Change>,
    /// Cases the baseline does not know.
    pub new: Vec<Change>,
    /// Baseline cases this run should have graded and did not.
    pub missing: Vec<Change>,
    /// Cases graded both times.
    pub compared: usize,
}

impl Gate {
    /// Whether CI passes: nothing worse, nothing missing.
    pub fn passed(&self) -> bool {
        self.worse.is_empty() && self.missing.is_empty()
    }

    /// The report for the terminal: every worse, better, new and missing case, then the
    /// verdict line.
    pub fn text(&self, file: &str, why_missing: &BTreeMap<String, String>) -> String {
        let name = |g: Option<Grade>| g.map_or("-", Grade::as_str);
        let mut s = format!(
            "\nbaseline {file}: {} cases compared: {} worse, {} better, {} unchanged; {} new, {} missing\n",
            self.compared,
            self.worse.len(),
            self.better.len(),
            self.compared - self.worse.len() - self.better.len(),
            self.new.len(),
            self.missing.len()
        );
        for c in &self.worse {
            s.push_str(&format!(
                "  WORSE    {}  {}: {} -> {}\n",
                c.target,
                c.case,
                name(c.was),
                name(c.now)
            ));
            if let Some(cmd) = &c.reproduce {
                s.push_str(&format!("           reproduce: {cmd}\n"));
            }
        }
        for c in &self.missing {
            s.push_str(&format!(
                "  MISSING  {}  {}: {} before, not graded now{}\n",
                c.target,
                c.case,
                name(c.was),
                why_missing
                    .get(&c.target)
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            ));
        }
        for c in &self.better {
            let newly = if c.now == Some(Grade::Pass) {
                "  (newly passing)"
            } else {
                ""
            };
            s.push_str(&format!(
                "  BETTER   {}  {}: {} -> {}{newly}\n",
                c.target,
                c.case,
                name(c.was),
                name(c.now)
            ));
        }
        for c in &self.new {
            s.push_str(&format!(
                "  NEW      {}  {}: {}\n",
                c.target,
                c.case,
                name(c.now)
            ));
        }
        if !self.better.is_empty() || !self.new.is_empty() {
            s.push_str("  (record them with `atconform baseline update`)\n");
        }
        s.push_str(&if self.passed() {
            "gate: passed (no case got worse)\n".to_string()
        } else {
            format!(
                "gate: FAILED ({} worse, {} missing)\n",
                self.worse.len(),
                self.missing.len()
            )
        });
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades_of(v: &[(&str, &str, Grade)]) -> Grades {
        let mut g = Grades::new();
        for (t, c, grade) in v {
            g.entry(t.to_string()).or_default().insert(
                c.to_string(),
                CaseGrade {
                    grade: *grade,
                    reproduce: Some(format!("atconform run --target labgrid:{t} --filter {c}")),
                },
            );
        }
        g
    }

    #[test]
    fn worse_fails_the_gate_better_and_new_do_not() {
        let before = grades_of(&[
            ("a", "x.scn [ec25]", Grade::Pass),
            ("a", "y.scn [ec25]", Grade::Fail),
            ("a", "z.scn [ec25]", Grade::Pass),
            ("b", "x.scn [ec25]", Grade::Pass),
        ]);
        let mut base = Baseline::default();
        let u = base.update(&before);
        assert_eq!((u.added, u.changed, u.total), (4, 0, 4));
        let base = Baseline::from_json(&base.to_json()).unwrap();
        let all = |targets: &[&str]| {
            targets
                .iter()
                .map(|t| (t.to_string(), None))
                .collect::<BTreeMap<_, _>>()
        };
        // Unchanged: passes.
        let g = base.gate(&before, &all(&["a", "b"]));
        assert!(g.passed() && g.compared == 4, "{g:?}");
        // y newly passes, w is new, x got worse on a: fails, with the reproducer.
        let now = grades_of(&[
            ("a", "x.scn [ec25]", Grade::NonStrict),
            ("a", "y.scn [ec25]", Grade::Pass),
            ("a", "z.scn [ec25]", Grade::Pass),
            ("a", "w.scn [ec25]", Grade::Fail),
            ("b", "x.scn [ec25]", Grade::Pass),
        ]);
        let g = base.gate(&now, &all(&["a", "b"]));
        assert!(!g.passed());
        assert_eq!(g.worse.len(), 1);
        assert_eq!((g.better.len(), g.new.len()), (1, 1));
        let text = g.text("base.json", &BTreeMap::new());
        assert!(
            text.contains("WORSE    a  x.scn [ec25]: pass -> non-strict"),
            "{text}"
        );
        assert!(
            text.contains("reproduce: atconform run --target labgrid:a --filter x.scn [ec25]"),
            "{text}"
        );
        assert!(text.contains("(newly passing)"), "{text}");
        assert!(text.contains("gate: FAILED (1 worse, 0 missing)"), "{text}");
        // Pass <-> informational (another implementation-defined value) is no change for the
        // gate; pass -> skip is worse (the case no longer runs).
        let g = base.gate(
            &grades_of(&[
                ("a", "x.scn [ec25]", Grade::Informational),
                ("a", "y.scn [ec25]", Grade::Fail),
                ("a", "z.scn [ec25]", Grade::Skip),
                ("b", "x.scn [ec25]", Grade::Pass),
            ]),
            &all(&["a", "b"]),
        );
        assert_eq!((g.worse.len(), g.better.len()), (1, 0), "{g:?}");
        assert_eq!(g.worse[0].case, "z.scn [ec25]");
        // Target b not run at all: its cases are missing, with the reason.
        let g = base.gate(
            &grades_of(&[("a", "x.scn [ec25]", Grade::Pass)]),
            &all(&["b"]),
        );
        assert_eq!(g.missing.len(), 1);
        let why = BTreeMap::from([("b".to_string(), "not run: unhealthy".to_string())]);
        assert!(g.text("f", &why).contains("(not run: unhealthy)"));
        // A subset run (--filter): out-of-scope baseline cases are not missing.
        let scope = BTreeMap::from([(
            "a".to_string(),
            Some(BTreeSet::from(["x.scn [ec25]".to_string()])),
        )]);
        let g = base.gate(&grades_of(&[("a", "x.scn [ec25]", Grade::Pass)]), &scope);
        assert!(g.passed() && g.compared == 1, "{g:?}");
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(Baseline::from_json("{}").is_err());
        assert!(Baseline::from_json(r#"{"atconform_baseline":2,"targets":{}}"#).is_err());
        let e = Baseline::from_json(r#"{"atconform_baseline":1,"targets":{"a":{"x":"great"}}}"#)
            .unwrap_err();
        assert!(matches!(e, BaselineError::UnknownGrade { .. }), "{e}");
        assert!(e.to_string().contains("unknown grade \"great\""), "{e}");
    }
}
