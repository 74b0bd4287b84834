//! Every file of `scenarios/` loads, cites its sources, and binds with its defaults.

use std::path::PathBuf;

use at_scenario::{Bindings, StepKind, load_dir};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

#[test]
fn every_corpus_file_loads() {
    let scenarios = match load_dir(corpus_dir()) {
        Ok(s) => s,
        Err(e) => {
            let msgs: Vec<String> = e.0.iter().map(ToString::to_string).collect();
            panic!("corpus failed to load:\n{}", msgs.join("\n"));
        }
    };
    assert!(scenarios.len() >= 60, "only {} scenarios", scenarios.len());
    for sc in &scenarios {
        assert!(!sc.meta.sources.is_empty(), "{}", sc.name);
        assert!(!sc.meta.profiles.is_empty(), "{}", sc.name);
        // Every variable has a default: the corpus runs against the emulator without setup.
        let b = Bindings::for_scenario(sc, |_| None).unwrap_or_else(|e| panic!("{}: {e}", sc.name));
        // Every send line renders to exact bytes.
        for step in &sc.steps {
            if let StepKind::Send(s) = &step.kind {
                b.render(&s.text)
                    .unwrap_or_else(|e| panic!("{}:{}: {e}", sc.name, step.span.line));
            }
        }
    }
}

/// Every ERRATA entry a scenario cites exists, and every source is one of the seed documents.
#[test]
fn corpus_citations_exist() {
    let errata = std::fs::read_to_string(corpus_dir().join("../ERRATA.md")).unwrap();
    let scenarios = load_dir(corpus_dir()).unwrap_or_else(|e| panic!("{e}"));
    for sc in &scenarios {
        for id in &sc.meta.errata {
            assert!(
                errata.contains(&format!("**{id}.")),
                "{}: ERRATA {id} not in ERRATA.md",
                sc.name
            );
        }
        for src in &sc.meta.sources {
            assert!(
                ["000 ", "001 ", "002 ", "003 ", "004 "]
                    .iter()
                    .any(|d| src.starts_with(d)),
                "{}: source `{src}` does not name a seed document",
                sc.name
            );
        }
    }
}

/// One snapshot per corpus file: the exact bytes it sends and expects (W1 expanded) on its first
/// profile, so a review sees what every scenario pins down.
#[test]
fn corpus_expansion_snapshots() {
    insta::glob!("../../../scenarios", "**/*.scn", |path| {
        let sc = at_scenario::load_file(path).unwrap_or_else(|e| panic!("{e}"));
        let profile = sc.meta.profiles.iter().next().expect("a profile");
        let b = Bindings::for_scenario(&sc, |_| None).unwrap();
        insta::assert_snapshot!(at_scenario::explain(&sc, profile, &b));
    });
}
