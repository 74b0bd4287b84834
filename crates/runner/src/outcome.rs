//! The one rule that turns a case's status and grade into the outcome every report counts.
//!
//! The terminal summary, the multi-target table, `report.json`'s `counts`, JUnit, the matrix
//! and `atconform diff` all count cases with [`Outcome::classify`] and [`Tally`], so the same
//! run gives the same numbers everywhere.
//!
//! ```
//! use at_runner::outcome::{Ended, Outcome, Tally};
//! use at_runner::Grade;
//!
//! // A late answer (non-strict) where the scenario asks for a plain pass.
//! let o = Outcome::classify(Ended::Fail, Some(Grade::NonStrict), false);
//! assert_eq!(o, Outcome::NonStrict);
//! // A negative scenario (`verdict: non-strict`) that found its deviation passes.
//! assert_eq!(Outcome::classify(Ended::Pass, Some(Grade::NonStrict), true), Outcome::Pass);
//! let t: Tally = [Outcome::Pass, o, Outcome::Skip].into_iter().collect();
//! assert_eq!(
//!     t.line(),
//!     "1 pass, 0 informational, 1 non-strict, 0 fail, 1 skip, 0 error, 0 interrupted"
//! );
//! ```

use serde::{Deserialize, Serialize};

use crate::judge::Grade;

/// How a case ended, without its reason (the runner's `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ended {
    /// As the scenario expects.
    Pass,
    /// Not as expected.
    Fail,
    /// Not run on this target.
    Skip,
    /// The scenario could not be run.
    Error,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// What a case counts as, in every report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// As the scenario expects, with no difference (or, for a negative scenario, the deviation
    /// it asks for was found).
    Pass,
    /// Passed, with differences where the manuals leave the behaviour open.
    Informational,
    /// Failed only by non-strict findings: an ERRATA choice or a documented response time.
    NonStrict,
    /// Failed: a deviation from what a manual documents (or a negative scenario that did not
    /// reach its grade).
    Fail,
    /// Not run on this target, with the reason.
    Skip,
    /// The scenario could not be run (unbound variable, bad sink setup).
    Error,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Outcome {
    /// Every outcome, in display order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Pass,
        Outcome::Informational,
        Outcome::NonStrict,
        Outcome::Fail,
        Outcome::Skip,
        Outcome::Error,
        Outcome::Interrupted,
    ];

    /// The rule: the status decides, and the grade the run reached splits a pass into pass /
    /// informational and a failure into non-strict / fail. A negative scenario (`verdict:` other
    /// than `pass`) is judged against its expected grade, so its status alone speaks.
    pub fn classify(ended: Ended, grade: Option<Grade>, expect_failure: bool) -> Outcome {
        match ended {
            Ended::Skip => Outcome::Skip,
            Ended::Error => Outcome::Error,
            Ended::Interrupted => Outcome::Interrupted,
            Ended::Pass if !expect_failure && grade == Some(Grade::Informational) => {
                Outcome::Informational
            }
            Ended::Pass => Outcome::Pass,
            Ended::Fail if !expect_failure && grade == Some(Grade::NonStrict) => Outcome::NonStrict,
            Ended::Fail => Outcome::Fail,
        }
    }

    /// `pass`, `informational`, `non-strict`, `fail`, `skip`, `error`, `interrupted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Informational => "informational",
            Outcome::NonStrict => "non-strict",
            Outcome::Fail => "fail",
            Outcome::Skip => "skip",
            Outcome::Error => "error",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Whether the outcome makes the run's exit code non-zero (everything but pass,
    /// informational and skip).
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Pass | Outcome::Informational | Outcome::Skip)
    }
}

/// The runner's grade named `name` (`pass`, `informational`, `non-strict`, `fail`).
pub fn grade_named(name: &str) -> Option<Grade> {
    [
        Grade::Pass,
        Grade::Informational,
        Grade::NonStrict,
        Grade::Fail,
    ]
    .into_iter()
    .find(|g| g.as_str() == name)
}

/// Cases per outcome: what every report prints and `report.json` stores as `counts`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// [`Outcome::Pass`].
    pub pass: usize,
    /// [`Outcome::Informational`].
    pub informational: usize,
    /// [`Outcome::NonStrict`].
    pub non_strict: usize,
    /// [`Outcome::Fail`].
    pub fail: usize,
    /// [`Outcome::Skip`].
    pub skip: usize,
    /// [`Outcome::Error`].
    pub error: usize,
    /// [`Outcome::Interrupted`].
    pub interrupted: usize,
}

impl Tally {
    /// Counts one more case.
    pub fn add(&mut self, o: Outcome) {
        *self.slot(o) += 1;
    }

    fn slot(&mut self, o: Outcome) -> &mut usize {
        match o {
            Outcome::Pass => &mut self.pass,
            Outcome::Informational => &mut self.informational,
            Outcome::NonStrict => &mut self.non_strict,
            Outcome::Fail => &mut self.fail,
            Outcome::Skip => &mut self.skip,
            Outcome::Error => &mut self.error,
            Outcome::Interrupted => &mut self.interrupted,
        }
    }

    /// Cases with outcome `o`.
    pub fn get(&self, o: Outcome) -> usize {
        let mut c = *self;
        *c.slot(o)
    }

    /// Every case counted.
    pub fn total(&self) -> usize {
        Outcome::ALL.iter().map(|o| self.get(*o)).sum()
    }

    /// `N pass, N informational, N non-strict, N fail, N skip, N error, N interrupted`.
    pub fn line(&self) -> String {
        Outcome::ALL
            .iter()
            .map(|o| format!("{} {}", self.get(*o), o.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Process exit code of a run with these counts: 2 a case could not be run, 1 any failure
    /// (fail, non-strict or interrupted), else 0.
    pub fn exit_code(&self) -> u8 {
        if self.error > 0 {
            2
        } else if Outcome::ALL
            .iter()
            .any(|o| o.is_failure() && self.get(*o) > 0)
        {
            1
        } else {
            0
        }
    }
}

impl FromIterator<Outcome> for Tally {
    fn from_iter<I: IntoIterator<Item = Outcome>>(iter: I) -> Self {
        let mut t = Tally::default();
        for o in iter {
            t.add(o);
        }
        t
    }
}

/// Skip reasons grouped: `(reason, cases)`, most frequent first, then by reason.
pub fn group_reasons<'a>(reasons: impl IntoIterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut m: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in reasons {
        *m.entry(r).or_insert(0) += 1;
    }
    let mut v: Vec<(String, usize)> = m.into_iter().map(|(r, n)| (r.to_string(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_grade_has_one_outcome() {
        use Ended::*;
        let g = |e, g, x| Outcome::classify(e, g, x);
        assert_eq!(g(Pass, Some(Grade::Pass), false), Outcome::Pass);
        assert_eq!(
            g(Pass, Some(Grade::Informational), false),
            Outcome::Informational
        );
        assert_eq!(g(Fail, Some(Grade::NonStrict), false), Outcome::NonStrict);
        assert_eq!(g(Fail, Some(Grade::Fail), false), Outcome::Fail);
        // Reports from before graded findings: no grade, the status alone.
        assert_eq!(g(Fail, None, false), Outcome::Fail);
        assert_eq!(g(Pass, None, false), Outcome::Pass);
        // Negative scenarios: the status alone.
        assert_eq!(g(Pass, Some(Grade::Informational), true), Outcome::Pass);
        assert_eq!(g(Fail, Some(Grade::NonStrict), true), Outcome::Fail);
        assert_eq!(g(Skip, None, false), Outcome::Skip);
        assert_eq!(g(Error, Some(Grade::Fail), false), Outcome::Error);
        assert_eq!(g(Interrupted, None, false), Outcome::Interrupted);
    }

    #[test]
    fn tallies_count_and_decide_the_exit_code() {
        let t: Tally = [Outcome::Pass, Outcome::Informational, Outcome::Skip]
            .into_iter()
            .collect();
        assert_eq!((t.total(), t.exit_code()), (3, 0));
        let t: Tally = [Outcome::Pass, Outcome::NonStrict].into_iter().collect();
        assert_eq!((t.non_strict, t.exit_code()), (1, 1));
        let t: Tally = [Outcome::Fail, Outcome::Error].into_iter().collect();
        assert_eq!(t.exit_code(), 2);
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json["non_strict"], 0);
        assert_eq!(json["error"], 1);
    }

    #[test]
    fn reasons_group_by_count() {
        let g = group_reasons(["b", "a", "b", "c"]);
        assert_eq!(
            g,
            [
                ("b".to_string(), 2),
                ("a".to_string(), 1),
                ("c".to_string(), 1)
            ]
        );
    }
}
