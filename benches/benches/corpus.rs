//! The whole scenario corpus, every profile, on the in-process emulator and capture sink.
//!
//! The corpus holds 120 s `<input_time>` and 300 s `AT+QSMTPPUT` waits; on virtual time a full
//! run should take well under a second of wall time (issue 6). Each iteration loads nothing
//! (the corpus is embedded and parsed once) and runs every scenario × profile from power-on.

use std::sync::atomic::AtomicBool;

use criterion::{Criterion, criterion_group, criterion_main};

fn corpus(c: &mut Criterion) {
    let scenarios = at_runner::corpus::embedded().expect("embedded corpus loads");
    let cases = at_runner::run::select(scenarios, &at_runner::RunConfig::default());
    let cancel = AtomicBool::new(false);
    let mut g = c.benchmark_group("corpus");
    g.sample_size(10);
    g.bench_function(format!("emulator/{}-cases", cases.len()), |b| {
        b.iter(|| {
            let report =
                at_runner::run::run(&cases, &at_runner::RunConfig::default(), &cancel, |_| {})
                    .expect("emulator runs need no device");
            assert_eq!(report.exit_code(), 0, "{}", report.summary_text());
            report.cases.len()
        })
    });
    g.finish();
}

criterion_group!(benches, corpus);
criterion_main!(benches);
