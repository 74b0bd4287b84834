//! Real runs on the in-process emulator, shared by the tests.

use std::sync::atomic::AtomicBool;

use at_report::load::Run;
use at_runner::multi::{TargetArg, run_all};
use at_scenario::Scenario;

/// The embedded corpus.
pub fn corpus() -> Vec<Scenario> {
    at_runner::corpus::embedded().expect("corpus loads")
}

/// Runs `filters` of the corpus on each target spec, saving run directories under `dir`.
pub fn runs(targets: &[&str], filters: &[&str], dir: &std::path::Path) -> Vec<Run> {
    let targets: Vec<TargetArg> = targets.iter().map(|t| t.parse().unwrap()).collect();
    let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
    run_all(&targets, &corpus(), &filters, dir, &AtomicBool::new(false))
        .expect("runs")
        .into_iter()
        .map(|t| {
            let run = Run::from_runner(&t.target.label, &t.report);
            // The run in memory is the run directory it left, as `report matrix DIR` reads it.
            assert_eq!(Run::load(&t.dir).expect("run directory loads"), run);
            run
        })
        .collect()
}
