//! One libtest trial per scenario × profile of the corpus, on the in-process emulator.
//!
//! `cargo test -p at-runner --test scenarios -- 3.1-send-plain` filters as usual; nextest
//! partitions, retries and JUnit output work per trial.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let scenarios = match at_scenario::load_dir(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e:?}");
            std::process::exit(2);
        }
    };
    let mut trials = Vec::new();
    for sc in scenarios {
        let sc = std::sync::Arc::new(sc);
        for profile in sc.meta.profiles.iter() {
            let sc = sc.clone();
            let name = format!("{} [{profile}]", at_runner::corpus_name(&sc.name));
            trials.push(Trial::test(name, move || {
                let r = at_runner::run_case_emulated(&sc, profile, &[], &AtomicBool::new(false));
                match r.status {
                    at_runner::Status::Pass => Ok(()),
                    _ => Err(Failed::from(at_runner::report::describe(&r))),
                }
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
