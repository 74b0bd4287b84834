//! `atconform diff`: verdict changes and byte diffs between runs, varying values ignored.

use at_report::diff::RunDiff;
use at_report::load::{Run, Status};

use crate::common::{corpus, runs};

#[test]
fn quirk_revision_changes_verdicts_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let filters = ["2.2.4-qsmtpbody-length", "2.2.3-qsmtpsub"];
    let r = runs(
        &["emulator:ec25", "emulator:ec25+body-length-off-by-one"],
        &filters,
        dir.path(),
    );
    // Through the files, as `atconform diff DIR_A DIR_B` does.
    let a = Run::load(&dir.path().join("ec25")).unwrap();
    let b = Run::load(&dir.path().join("ec25+body-length-off-by-one")).unwrap();
    assert_eq!(a.cases.len(), r[0].cases.len());
    let d = RunDiff::compare(&a, &b, &corpus());
    assert!(d.is_changed());
    assert_eq!(d.compared, 2);
    assert_eq!(d.unchanged, 1, "the subject scenario does not use a body");
    let c = &d.changed[0];
    assert_eq!(c.scenario, "quectel/2.2.4-qsmtpbody-length.scn");
    assert_eq!(c.status, (Status::Pass, Status::Fail));
    // 000 §2.2.4: <input_length> is the actual input length; the revision reports one more.
    let step = &c.steps[0];
    assert!(
        step.diff.contains("-+QSMTPBODY: 100\\r\\n"),
        "{}",
        step.diff
    );
    assert!(
        step.diff.contains("++QSMTPBODY: 101\\r\\n"),
        "{}",
        step.diff
    );
    let text = d.to_text();
    assert!(text.contains("pass -> fail"), "{text}");

    // A run compared with itself: nothing changed.
    let same = RunDiff::compare(&a, &a, &corpus());
    assert!(!same.is_changed(), "{}", same.to_text());
    assert_eq!(same.unchanged, 2);
}

#[test]
fn varying_values_are_not_changes() {
    let dir = tempfile::tempdir().unwrap();
    runs(&["emulator:ec25"], &["qfdel-wrong-name-e2"], dir.path());
    let a = Run::load(&dir.path().join("ec25")).unwrap();
    let t = a.cases[0].transcript.clone().unwrap();
    // The upload checksum is `{hex}` in the scenario (000 §3.1): a different value is not a
    // change, a different length is.
    let i = t
        .find("+QFUPL: 100,")
        .expect("upload answer in the transcript")
        + "+QFUPL: 100,".len();
    let end = i + t[i..].find('\\').unwrap();
    let mut b = a.clone();
    b.label = "b".into();
    b.cases[0].transcript = Some(format!("{}ffff{}", &t[..i], &t[end..]));
    assert_ne!(b.cases[0].transcript, a.cases[0].transcript);
    assert!(!RunDiff::compare(&a, &b, &corpus()).is_changed());
    b.cases[0].transcript = Some(t.replacen("+QFUPL: 100,", "+QFUPL: 99,", 1));
    let d = RunDiff::compare(&a, &b, &corpus());
    assert!(d.is_changed());
    // B's line no longer matches the pattern's literal parts, so it is shown as it came.
    let diff = &d.changed[0].steps[0].diff;
    assert!(diff.contains("-+QFUPL: 100,{hex}\\r\\n"), "{diff}");
    assert!(diff.contains("++QFUPL: 99,"), "{diff}");
}

#[test]
fn implementation_defined_differences_are_listed_not_failed() {
    // 000 §2.2.5 gives no checksum algorithm (ERRATA E12): a module that reports another
    // checksum (the liberty checksum-sum16) passes, and `diff` says where the two differ.
    let dir = tempfile::tempdir().unwrap();
    runs(
        &["emulator:ec25", "emulator:ec25+liberty:checksum-sum16"],
        &["qfupl-checksum-e12"],
        dir.path(),
    );
    let a = Run::load(&dir.path().join("ec25")).unwrap();
    let b = Run::load(&dir.path().join("ec25+liberty_checksum-sum16")).unwrap();
    assert_eq!(b.cases[0].status, Status::Pass);
    assert_eq!(b.cases[0].grade.as_deref(), Some("informational"));
    assert_eq!(b.cases[0].findings.len(), 3, "{:?}", b.cases[0].findings);
    let d = RunDiff::compare(&a, &b, &corpus());
    assert!(d.is_changed());
    let c = &d.changed[0];
    assert_eq!(c.grade, ("pass".to_string(), "informational".to_string()));
    assert!(c.findings.0.is_empty());
    assert!(
        c.findings.1[0].contains("is 4102, the reference recorded 1513"),
        "{:?}",
        c.findings.1
    );
    let text = d.to_text();
    // Outcomes, as every report counts them (at_runner::outcome).
    assert!(text.contains("pass -> informational"), "{text}");
    assert!(
        text.contains("verdict changes: 1 pass -> informational"),
        "{text}"
    );
    assert!(
        text.contains("only in ec25+liberty") && text.contains("checksum-sum16: informational:"),
        "{text}"
    );
    // The matrix cell is informational and lists the three findings.
    let m = at_report::matrix::Matrix::build(&[a, b], &corpus());
    let row = m.rows().next().unwrap();
    let cell = row.cells[1].as_ref().unwrap();
    assert_eq!(cell.grade, at_report::matrix::Grade::Informational);
    assert_eq!(cell.findings.len(), 3);
}

#[test]
fn a_missing_transcript_is_named_not_read_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    runs(&["emulator:ec25"], &["2.2.3-qsmtpsub"], dir.path());
    let a = Run::load(&dir.path().join("ec25")).unwrap();
    let stem = a.cases[0].file_stem();
    std::fs::remove_file(dir.path().join("ec25").join(format!("{stem}.txt"))).unwrap();
    let mut b = Run::load(&dir.path().join("ec25")).unwrap();
    b.label = "b".into();
    let d = RunDiff::compare(&a, &b, &corpus());
    assert!(d.is_changed());
    let c = &d.changed[0];
    assert!(c.steps.is_empty(), "no diff against an empty exchange");
    assert_eq!(c.missing, [format!("transcript missing in b: {stem}.txt")]);
    let text = d.to_text();
    assert!(text.contains("pass (transcript missing)"), "{text}");
    assert!(
        text.contains(&format!("!! transcript missing in b: {stem}.txt")),
        "{text}"
    );
    // The other way round names run A.
    let d = RunDiff::compare(&b, &a, &corpus());
    assert!(d.changed[0].missing[0].starts_with(&format!("transcript missing in {}", b.label)));
}
