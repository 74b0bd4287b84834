//! Device fuzzer against the emulator: a clean firmware gives no finding, each misbehaving quirk
//! is found, findings shrink and come out as scenario files that load.

use at_devfuzz::campaign::{self, Config, Device, Fuzzer, Summary};
use at_devfuzz::model::FindingKind;
use at_devfuzz::virt::{self, Live};
use at_emulator::EmulatorConfig;
use at_emulator::quirks::{Quirk, QuirkSet};

fn fuzzer(profile: &str, quirks: QuirkSet, cfg: Config) -> Fuzzer {
    let emu = EmulatorConfig::builtin(profile)
        .unwrap()
        .with_quirks(quirks);
    let p = emu.profile.clone();
    Fuzzer::new(Device::Emulator(Box::new(emu)), p, cfg)
}

fn run(profile: &str, quirks: QuirkSet, cfg: Config) -> Summary {
    fuzzer(profile, quirks, cfg).run(&mut |_| {})
}

#[test]
fn clean_emulator_gives_no_finding() {
    for profile in ["ec25", "eg91", "ag35", "multitech"] {
        let s = run(
            profile,
            QuirkSet::NONE,
            Config {
                seed: 11,
                cases: 600,
                ..Config::default()
            },
        );
        assert_eq!(s.cases_run, 600);
        let msgs: Vec<_> = s.findings.iter().map(|f| (&f.groups, &f.finding)).collect();
        assert!(msgs.is_empty(), "{profile}: {msgs:#?}");
    }
}

/// A liberty is a conforming firmware's other choice: no oracle may flag it, on the profiles it
/// shows on, with its mail also compared against the liberty-free model on what any module
/// keeps (`mail::compare_live`).
#[test]
fn no_liberty_gives_a_finding() {
    use at_emulator::LibertySet;
    use at_emulator::liberties::LIBERTIES;
    let all = LibertySet::all();
    let mut sets: Vec<(String, LibertySet)> = LIBERTIES
        .iter()
        .map(|l| (l.name.to_owned(), LibertySet::NONE.with(l.liberty)))
        .collect();
    sets.push(("(all)".to_owned(), all));
    for profile in ["ec25", "ag35", "multitech"] {
        for (name, set) in &sets {
            let emu = EmulatorConfig::builtin(profile)
                .unwrap()
                .with_liberties(*set);
            let p = emu.profile.clone();
            let cfg = Config {
                seed: 5,
                cases: 300,
                ..Config::default()
            };
            let s = Fuzzer::new(Device::Emulator(Box::new(emu)), p, cfg).run(&mut |_| {});
            assert_eq!(s.cases_run, 300);
            assert_eq!(s.liberties.len(), set.iter().count());
            let msgs: Vec<_> = s.findings.iter().map(|f| &f.finding).collect();
            assert!(msgs.is_empty(), "{profile} + {name}: {msgs:#?}");
        }
    }
}

/// Every quirk of the registry when this test was written: the AT-level oracle catches most,
/// the mail oracle (differential against the reference model) the ones that only show in the
/// delivered mail or the SMTP session.
const FOUND: &[&str] = &[
    "bcc-header-leaked",
    "no-dot-stuffing",
    "hex-subject-not-decoded",
    "helo-only",
    "force-auth-login",
    "bodyoriginal-ignored",
    "slow-responses",
    "body-length-off-by-one",
    "urc-before-ok",
    "no-ok-after-data-mode",
    "guard-time-ignored",
    "escape-needs-no-silence-after",
    "lowercase-at-rejected",
    "ate0-ignored",
    "recipient-limit-19",
    "attachment-limit-9",
    "test-range-contextid-0-15",
    "crlf-lf-only",
    "missing-blank-line-before-ok",
    "cme-as-plain-error",
    "subject-truncated-at-64",
    "input-time-ignored",
    "busy-not-reported",
    "qsmtpclr-keeps-attachments",
    "dst-delete-keeps-cc",
    "qflst-size-wrong",
    "qiact-query-no-ip",
    "echo-doubles-cr",
    "put-before-body-crash-wedge",
    "qfupl-checksum-zero",
    "connect-missing",
    "urc-missing-on-timeout",
    "auth-failure-err-660",
    "protocol-error-zero",
];

#[test]
fn every_quirk_is_found_from_a_clean_start() {
    let budget = 400;
    let table = campaign::quirk_table("ec25", 1, budget);
    let mut text = String::from("| quirk | cases to first finding | kind |\n|---|---|---|\n");
    for r in &table {
        text.push_str(&format!(
            "| {} | {} | {} |\n",
            r.quirk,
            r.cases_to_finding
                .map_or_else(|| format!("not found in {budget}"), |n| n.to_string()),
            r.kind.map_or("-", FindingKind::name)
        ));
    }
    println!("{text}");
    for name in FOUND {
        let row = table.iter().find(|r| r.quirk == *name);
        let row = row.unwrap_or_else(|| panic!("quirk {name} left the registry"));
        assert!(row.cases_to_finding.is_some(), "{name} not found\n{text}");
    }
}

#[test]
fn findings_shrink_replay_and_load_as_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    for q in [
        Quirk::BodyLengthOffByOne,
        Quirk::PutBeforeBodyCrashWedge,
        Quirk::DstDeleteKeepsCc,
        Quirk::GuardTimeIgnored,
        Quirk::UrcBeforeOk,
        Quirk::CrlfLfOnly,
        Quirk::Ate0Ignored,
        Quirk::UrcMissingOnTimeout,
        Quirk::AuthFailureErr660,
    ] {
        let cfg = Config {
            seed: 3,
            cases: 500,
            max_findings: 1,
            out_dir: Some(dir.path().to_path_buf()),
            ..Config::default()
        };
        let s = run("ec25", QuirkSet::NONE.with(q), cfg);
        let f = s
            .findings
            .first()
            .unwrap_or_else(|| panic!("{q} not found"));
        assert!(f.steps.1 <= f.steps.0, "{q}: shrinking grew the case");
        let path = f.path.as_ref().unwrap();
        let sc =
            at_scenario::load_file(path).unwrap_or_else(|e| panic!("{q}: {e:?}\n{}", f.scenario));
        assert!(
            f.scenario.contains(&format!("@quirk {}", q.name())),
            "{}",
            f.scenario
        );
        // The runner's grade: an echo after `ATE0` breaks only ERRATA W2.
        let verdict = if q == Quirk::Ate0Ignored {
            "verdict: non-strict"
        } else {
            "verdict: fail"
        };
        assert!(f.scenario.contains(verdict), "{q}: {}", f.scenario);
        if q == Quirk::UrcMissingOnTimeout {
            // Shrinking must keep what makes the case meaningful on a conforming module: the
            // silent server and the configuration the send needs.
            assert!(f.scenario.contains("@fault stall"), "{}", f.scenario);
            assert!(f.scenario.contains("AT+QSMTPDST=1,"), "{}", f.scenario);
        }
        assert!(!sc.steps.is_empty());
        // `--seed 3 --case N` replays exactly that case and finds the same thing.
        let again = run(
            "ec25",
            QuirkSet::NONE.with(q),
            Config {
                seed: 3,
                first: f.case,
                cases: 1,
                ..Config::default()
            },
        );
        assert_eq!(again.findings.len(), 1, "{q}");
        assert_eq!(again.findings[0].finding, f.finding, "{q}");
    }
}

#[test]
fn shrinking_keeps_the_finding_and_drops_unrelated_groups() {
    let mut fz = fuzzer(
        "ec25",
        QuirkSet::NONE.with(Quirk::CmeAsPlainError),
        Config::default(),
    );
    let generator = fz.generator().clone();
    // Find a multi-group case that fails, then shrink it.
    let (case, finding) = (0..500)
        .find_map(|n| {
            let c = generator.case(5, n);
            if c.groups.len() < 3 {
                return None;
            }
            fz.run_case(&c).finding.map(|f| (c, f))
        })
        .expect("a failing 3-group case");
    let (small, run) = fz.shrink(&case, &finding);
    assert_eq!(run.finding.as_ref().map(|f| f.kind), Some(finding.kind));
    assert!(small.steps().count() < case.steps().count());
    assert_eq!(small.groups.len(), 1);
}

#[test]
fn live_devices_keep_state_and_recover_after_a_wedge() {
    // The emulator behind the `Live` path: state carries over between cases, and after the
    // put-before-body wedge the fuzzer's recovery (DTR drop, +++) brings it back.
    let emu = EmulatorConfig::builtin("ec25")
        .unwrap()
        .with_quirks(QuirkSet::NONE.with(Quirk::PutBeforeBodyCrashWedge));
    let p = emu.profile.clone();
    let target = Box::new(virt::module(emu));
    let mut fz = Fuzzer::new(
        Device::Live(Live(target)),
        p,
        Config {
            seed: 1,
            cases: 300,
            shrink: false,
            slack: std::time::Duration::ZERO,
            ..Config::default()
        },
    );
    let s = fz.run(&mut |_| {});
    assert!(s.aborted.is_none(), "{:?}", s.aborted);
    assert!(
        s.findings.iter().any(
            |f| f.finding.kind == FindingKind::Wedged || f.finding.kind == FindingKind::Timeout
        ),
        "{:#?}",
        s.findings.iter().map(|f| &f.finding).collect::<Vec<_>>()
    );
    assert_eq!(s.cases_run, 300);
}

#[test]
fn reports_are_json_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(
        "ec25",
        QuirkSet::NONE.with(Quirk::ConnectMissing),
        Config {
            seed: 2,
            cases: 40,
            ..Config::default()
        },
    );
    assert!(!s.findings.is_empty());
    let json = dir.path().join("r.json");
    campaign::write_json(&s, &json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["cases_run"], 40);
    assert_eq!(v["findings"].as_array().unwrap().len(), s.findings.len());
    let xml = dir.path().join("r.xml");
    campaign::write_junit(&s, &xml).unwrap();
    let x = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(x.matches("<failure").count(), s.findings.len());
    assert!(x.contains("cases without finding"));
}

#[test]
fn finding_scenarios_replay_through_the_runner() {
    // Each quirk's first finding (three seeds), replayed by `atconform run`'s engine: with its
    // `@quirk` it is a negative scenario the runner must flag; without it, a conforming module
    // passes it — so a finding is a ready regression scenario. This covers the mail findings'
    // `@mail`/`@smtp` checks, which the runner judges against its own sink.
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut replayed = 0;
    for seed in 1..=3 {
        for q in at_emulator::quirks::QUIRKS {
            let s = run(
                "ec25",
                QuirkSet::NONE.with(q.quirk),
                Config {
                    seed,
                    cases: 1000,
                    max_findings: 1,
                    ..Config::default()
                },
            );
            // Whether every quirk is found is `every_quirk_is_found_from_a_clean_start`'s job.
            let Some(f) = s.findings.first() else {
                continue;
            };
            let text = &f.scenario;
            let what = format!("seed {seed}, {}", q.name);
            let negative = at_scenario::load_str("finding.scn", text).unwrap();
            let r =
                at_runner::run_case_emulated(&negative, at_scenario::Profile::Ec25, &[], &cancel);
            assert_eq!(r.status, at_runner::Status::Pass, "{what}: {r:?}\n{text}");
            assert!(r.expect_failure && r.failure.is_some(), "{what}");
            if f.finding.kind == FindingKind::Mail {
                assert!(text.contains("@mail") || text.contains("@smtp"), "{text}");
            }
            let clean: String = text
                .lines()
                .filter(|l| !l.starts_with("@quirk") && !l.starts_with("verdict:"))
                .map(|l| format!("{l}\n"))
                .collect();
            let regression = at_scenario::load_str("regression.scn", &clean).unwrap();
            let r =
                at_runner::run_case_emulated(&regression, at_scenario::Profile::Ec25, &[], &cancel);
            assert_eq!(r.status, at_runner::Status::Pass, "{what}: {r:?}\n{clean}");
            assert!(r.failure.is_none(), "{what}");
            replayed += 1;
        }
    }
    assert!(replayed >= 3 * FOUND.len(), "{replayed}");
}

/// A "live" device whose mail really goes over loopback TCP to a capture sink: the emulator's
/// driver delivering over real SMTP (not the fuzzer's in-memory path).
fn live_with_sink(quirks: QuirkSet, cases: u64) -> Summary {
    let sink = smtp_sink::spawn(
        smtp_sink::SinkConfig::new(smtp_sink::Profile::Permissive)
            .tls_listen(None)
            .starttls(false),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    let emu = EmulatorConfig::builtin("ec25").unwrap().with_quirks(quirks);
    let p = emu.profile.clone();
    let mut resolve = at_mailer::ResolveMap::new();
    resolve.insert("127.0.0.1", addr.port(), addr);
    let target = at_emulator::driver::Driver::new(emu, at_emulator::driver::Smtp::new(resolve));
    let mut fz = Fuzzer::new(
        Device::Live(Live(Box::new(target))),
        p,
        Config {
            seed: 1,
            cases,
            slack: std::time::Duration::ZERO,
            ..Config::default()
        },
    )
    .with_mail_sink(sink, "127.0.0.1", addr.port());
    fz.run(&mut |_| {})
}

#[test]
fn live_device_mail_reaches_the_sink_and_is_compared_with_the_model() {
    // A conforming module: its real SMTP session, over TCP, agrees with the model.
    let s = live_with_sink(QuirkSet::NONE, 400);
    let all: Vec<_> = s.findings.iter().map(|f| &f.finding).collect();
    assert!(all.is_empty(), "{all:#?}");
    // A leaked Bcc header is seen in what the sink received.
    let s = live_with_sink(QuirkSet::NONE.with(Quirk::BccHeaderLeaked), 150);
    let f = s
        .findings
        .iter()
        .find(|f| f.finding.kind == FindingKind::Mail)
        .expect("bcc-header-leaked found on the live path");
    assert!(f.finding.message.contains("Bcc:"), "{}", f.finding.message);
    assert!(f.scenario.contains("no-header: Bcc"), "{}", f.scenario);
    at_scenario::load_str("live.scn", &f.scenario).unwrap();
}
