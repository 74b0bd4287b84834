//! Spec coverage of the corpus (static) and of real runs (dynamic).

use at_report::coverage::{Coverage, from_corpus, from_runs};

use crate::common::{corpus, runs};

#[test]
fn corpus_coverage_counts_against_the_catalog() {
    let c = Coverage::build("static", &[from_corpus(&corpus())]);
    let q = &c.quectel;
    // The tables of 000 §5 and §6, whole.
    assert_eq!(q.err.total, at_catalog::ERR_CODES.len());
    assert_eq!(q.protocol.total, at_catalog::PROTOCOL_ERRORS.len());
    assert_eq!(q.err.covered.len() + q.err.uncovered.len(), q.err.total);
    // What the corpus certainly exercises: 664 (bad parameter, edge/subject-too-long.scn),
    // 677/535 (000 §4.4), AT+QSMTPCFG=? (000 §2.2.1), every AT+QSMTPCFG setting.
    for code in ["664", "677", "653", "658"] {
        assert!(q.err.covered.iter().any(|c| c == code), "{code}");
    }
    assert!(q.protocol.covered.iter().any(|c| c == "535"));
    assert!(q.commands.covered.iter().any(|c| c == "AT+QSMTPCFG=?"));
    assert!(
        q.settings.uncovered.is_empty(),
        "{:?}",
        q.settings.uncovered
    );
    // 655 (no AUTH mechanism in common, ERRATA M3) is provoked by
    // edge/ehlo-refused-no-auth-655.scn, so it is covered and not called unprovokable.
    assert!(q.err.covered.iter().any(|c| c == "655"), "{:?}", q.err);
    assert!(!c.unprovokable.contains_key(&655), "{:?}", c.unprovokable);
    // What remains uncovered is exactly what cannot be provoked, each with its reason.
    assert_eq!(q.err.uncovered, ["651", "662", "663"]);
    assert_eq!(
        c.unprovokable.keys().copied().collect::<Vec<_>>(),
        [651, 662, 663]
    );
    let text = c.to_text();
    assert!(text.contains("uncovered <err> 662"), "{text}");
    assert!(text.contains("never reports it"), "{text}");
    assert!(!text.contains("<err> 655"), "{text}");
    // Every boundary the catalog defines is exercised: FILE names at 80 and 81 bytes (ERRATA
    // E29), AT&D out of range as AT&D3 (a basic command cannot carry -1, V.250 §5.3.1).
    assert!(
        q.boundaries.uncovered.is_empty(),
        "{:?}",
        q.boundaries.uncovered
    );
    for b in [
        "AT+QFLST <name_pattern> len=max+1(81)",
        "AT+QFDEL <filename> len=max+1(81)",
        "AT+QFUPL <filename> len=max(80)",
        "AT&D <value>=max+1(3)",
    ] {
        assert!(q.boundaries.covered.iter().any(|c| c == b), "{b}");
    }
    assert!(
        !q.boundaries
            .covered
            .iter()
            .any(|c| c.starts_with("AT&D <value>=min-1"))
    );
    assert!(text.contains("not counted as boundaries: min-1 of a basic command"));
    // Multi-Tech is counted against its own command set, not the Quectel tables.
    let mt = c
        .profiles
        .iter()
        .find(|p| p.profile == "multitech")
        .unwrap();
    assert_eq!(mt.err.total, 0);
    assert!(mt.commands.covered.iter().any(|c| c == "AT#PUTMAIL"));
    // Its own parameters with their forms and limits (ERRATA E21), the common commands, and
    // every #CME cause of ERRATA E22 (38027 is 002's own).
    assert!(
        mt.commands.uncovered.is_empty(),
        "{:?}",
        mt.commands.uncovered
    );
    assert!(
        mt.boundaries.uncovered.is_empty(),
        "{:?}",
        mt.boundaries.uncovered
    );
    assert_eq!(mt.multitech_errors, (38027..=38033).collect::<Vec<u32>>());
    assert!(mt.multitech_uncovered.is_empty());
    assert!(text.contains("#CME 7/7"), "{text}");
    assert!(!text.contains("uncovered multitech"), "{text}");
}

#[test]
fn run_transcripts_give_dynamic_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let r = runs(
        &["emulator:ec25"],
        &["4.4-auth-failed-535", "subject-too-long"],
        dir.path(),
    );
    let c = Coverage::build("dynamic", &[from_runs(&r)]);
    let ec25 = &c.profiles[0];
    assert_eq!(ec25.profile, "ec25");
    assert_eq!(ec25.err.covered, ["664", "677"]);
    assert_eq!(ec25.protocol.covered, ["535"]);
    assert!(ec25.commands.covered.iter().any(|c| c == "AT+QSMTPPUT="));
    // Secrets are redacted in transcripts: the report says why password lengths are missing.
    assert!(
        c.to_text()
            .contains("password lengths count only statically")
    );
    let both = Coverage::build("static+dynamic", &[from_corpus(&corpus()), from_runs(&r)]);
    assert!(!both.to_text().contains("password lengths"));
}

#[test]
fn corpus_expectations_count_by_evidence_level() {
    let e = at_report::coverage::EvidenceCounts::of(&corpus());
    let lines = |k: &str| e.lines.get(k).copied().unwrap_or(0);
    // Most of the corpus replays what the manuals print; our readings and the values they
    // leave open are counted apart.
    assert!(lines("documented") > lines("errata"), "{e:?}");
    assert!(lines("implementation-defined") >= 20, "{e:?}");
    assert!(
        e.recorded >= 10,
        "checksums and cause codes are recorded values: {e:?}"
    );
    assert!(e.errata.get("E14").copied().unwrap_or(0) > 0, "{e:?}");
    assert!(
        e.limits.get("documented").copied().unwrap_or(0) > 0,
        "{e:?}"
    );
    assert!(e.limits.get("none").copied().unwrap_or(0) > 0, "{e:?}");
    let text = at_report::coverage::Coverage::build("static", &[])
        .with_evidence(&corpus())
        .to_text();
    assert!(text.contains("expectations by evidence ("), "{text}");
    assert!(text.contains("response-time limits of groups:"), "{text}");
}
