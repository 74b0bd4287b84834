//! Precision and recall of the corpus's verdicts (issue "Liberties, the dual of quirks").
//!
//! * Precision: the reference emulator with any liberty (a conforming module that chose
//!   otherwise where the manuals leave room) gets no failure on any profile: 0 fail, 0
//!   non-strict; its differences are informational.
//! * Recall: the emulator with any quirk (a defect) is caught: some case fails, or, for the
//!   quirks named in [`NON_STRICT_ONLY`], is non-strict because the only rule it breaks is an
//!   ERRATA choice (or a documented response time, which is graded non-strict by design).
//!
//! Run with `--nocapture` to see both tables (docs/liberties.md reproduces them).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use at_emulator::liberties::LIBERTIES;
use at_emulator::quirks::QUIRKS;
use at_runner::{CaseResult, Grade, RunConfig, Status, corpus, run};
use at_scenario::{Profile, Scenario};

/// Quirks whose only deviation is graded non-strict, and why.
const NON_STRICT_ONLY: &[(&str, &str)] = &[
    ("ate0-ignored", "ERRATA W2: no seed documents the echo"),
    (
        "missing-blank-line-before-ok",
        "ERRATA W1: the blank-line layout is our reading of the examples",
    ),
    (
        "qfupl-checksum-zero",
        "ERRATA E12: that <checksum> is a checksum of the data (000 prints 707 for two files)",
    ),
    (
        "slow-responses",
        "000 §2.2.1–§2.2.7 limits: a late answer is non-strict by design (ERRATA E30)",
    ),
];

#[derive(Clone, Copy, Default)]
struct Cell {
    cases: usize,
    informational: usize,
    non_strict: usize,
    fail: usize,
    errors: usize,
}

impl Cell {
    fn add(&mut self, r: &CaseResult) {
        self.cases += 1;
        match (&r.status, r.grade) {
            (Status::Pass, Grade::Informational) => self.informational += 1,
            (Status::Pass, _) => {}
            (Status::Fail, Grade::NonStrict) => self.non_strict += 1,
            (Status::Fail, _) => self.fail += 1,
            _ => self.errors += 1,
        }
    }

    fn show(&self) -> String {
        let mut s = format!(
            "{} pass",
            self.cases - self.fail - self.non_strict - self.errors
        );
        if self.informational > 0 {
            s.push_str(&format!(" ({} inf.)", self.informational));
        }
        if self.non_strict > 0 {
            s.push_str(&format!(", {} n-s", self.non_strict));
        }
        if self.fail > 0 {
            s.push_str(&format!(", {} FAIL", self.fail));
        }
        if self.errors > 0 {
            s.push_str(&format!(", {} ERR", self.errors));
        }
        s
    }
}

fn cases() -> Vec<(Arc<Scenario>, Profile)> {
    run::select(corpus::embedded().expect("corpus"), &RunConfig::default())
}

/// The corpus on every profile with these quirks and liberties; per-profile cells. With
/// `stop_at_fail` the run stops at the first case graded fail.
fn table(
    cases: &[(Arc<Scenario>, Profile)],
    quirks: &[&str],
    liberties: &[&str],
    stop_at_fail: bool,
) -> (BTreeMap<String, Cell>, Vec<CaseResult>) {
    let cfg = RunConfig {
        quirks: quirks.iter().map(|s| s.to_string()).collect(),
        liberties: liberties.iter().map(|s| s.to_string()).collect(),
        ..RunConfig::default()
    };
    let cancel = AtomicBool::new(false);
    let report = run::run(cases, &cfg, &cancel, |r| {
        if stop_at_fail && r.status == Status::Fail && r.grade == Grade::Fail {
            cancel.store(true, Ordering::Relaxed);
        }
    })
    .expect("run");
    let mut cells: BTreeMap<String, Cell> = BTreeMap::new();
    for r in &report.cases {
        cells.entry(r.profile.clone()).or_default().add(r);
    }
    (cells, report.cases)
}

fn first_problem(results: &[CaseResult], grade: Grade) -> String {
    results
        .iter()
        .find(|r| r.status != Status::Pass && r.grade == grade)
        .map(|r| {
            let f = r.failure.as_ref().map(|f| f.summary()).unwrap_or_default();
            format!("{} [{}]: {f}", r.scenario, r.profile)
        })
        .unwrap_or_default()
}

#[test]
fn every_profile_with_every_liberty_gets_no_failure() {
    let cases = cases();
    let profiles: Vec<String> = {
        let mut p: Vec<String> = cases.iter().map(|(_, p)| p.to_string()).collect();
        p.sort();
        p.dedup();
        p
    };
    let (reference, _) = table(&cases, &[], &[], false);
    let all: Vec<&str> = LIBERTIES.iter().map(|l| l.name).collect();
    let mut rows: Vec<(String, BTreeMap<String, Cell>, Vec<CaseResult>)> =
        vec![("(reference)".into(), reference, Vec::new())];
    for l in LIBERTIES {
        let (cells, results) = table(&cases, &[], &[l.name], false);
        rows.push((l.name.to_string(), cells, results));
    }
    let (cells, results) = table(&cases, &[], &all, false);
    rows.push(("(all together)".into(), cells, results));

    println!("| liberty | {} |", profiles.join(" | "));
    println!("|---|{}", "---|".repeat(profiles.len()));
    let mut bad = Vec::new();
    for (name, cells, results) in &rows {
        let shown: Vec<String> = profiles
            .iter()
            .map(|p| cells.get(p).map(Cell::show).unwrap_or_default())
            .collect();
        println!("| {name} | {} |", shown.join(" | "));
        let total = cells.values().fold(Cell::default(), |mut a, c| {
            a.fail += c.fail;
            a.non_strict += c.non_strict;
            a.errors += c.errors;
            a.informational += c.informational;
            a
        });
        if total.fail + total.non_strict + total.errors > 0 {
            bad.push(format!(
                "{name}: {} fail, {} non-strict, {} errors; first: {}{}",
                total.fail,
                total.non_strict,
                total.errors,
                first_problem(results, Grade::Fail),
                first_problem(results, Grade::NonStrict)
            ));
        }
        if name == "(reference)" {
            assert_eq!(total.informational, 0, "the reference differs from itself");
        }
    }
    assert!(
        bad.is_empty(),
        "liberties graded as failures:\n{}",
        bad.join("\n")
    );
    // Every liberty is realised somewhere the corpus or a unit test sees it; that the corpus
    // grades some of them informational shows the evidence at work.
    let informational = rows
        .iter()
        .filter(|(n, c, _)| !n.starts_with('(') && c.values().any(|c| c.informational > 0))
        .count();
    assert!(informational >= 5, "{informational}");
}

#[test]
fn every_quirk_is_caught() {
    let cases = cases();
    println!("| quirk | caught as | first finding |");
    println!("|---|---|---|");
    let mut missed = Vec::new();
    for q in QUIRKS {
        let lenient = NON_STRICT_ONLY.iter().find(|(n, _)| *n == q.name);
        let (_, results) = table(&cases, &[q.name], &[], true);
        let fail = results
            .iter()
            .find(|r| r.status == Status::Fail && r.grade == Grade::Fail);
        let non_strict = results
            .iter()
            .find(|r| r.status == Status::Fail && r.grade == Grade::NonStrict);
        let (caught, example) = match (fail, non_strict) {
            (Some(r), _) => ("fail", r),
            (None, Some(r)) => ("non-strict", r),
            (None, None) => {
                missed.push(format!("{}: not caught", q.name));
                println!("| `{}` | **not caught** | |", q.name);
                continue;
            }
        };
        let f = example.failure.as_ref().expect("a failure");
        println!(
            "| `{}` | {caught}{} | {}:{} ({}) |",
            q.name,
            lenient
                .map(|(_, why)| format!(" — {why}"))
                .unwrap_or_default(),
            f.location.file,
            f.location.line,
            if f.evidence.is_empty() {
                "documented".to_string()
            } else {
                f.evidence.clone()
            }
        );
        match (caught, lenient) {
            ("fail", Some(_)) => missed.push(format!(
                "{}: now fails; take it out of NON_STRICT_ONLY",
                q.name
            )),
            ("non-strict", None) => missed.push(format!(
                "{}: only non-strict ({}), but breaks a documented rule",
                q.name, f.evidence
            )),
            _ => {}
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
