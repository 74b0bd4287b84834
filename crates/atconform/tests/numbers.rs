//! One set of numbers (issue 19): a multi-target run with quirks and a real (TCP) target
//! gives the same counts per target in the terminal table, `report.json`, JUnit, the matrix,
//! `report matrix` over the saved runs and `atconform diff`; every target keeps its label.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The outcomes, in the order every report prints them.
const OUTCOMES: [&str; 7] = [
    "pass",
    "informational",
    "non-strict",
    "fail",
    "skip",
    "error",
    "interrupted",
];

type Counts = BTreeMap<&'static str, usize>;

fn atconform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atconform"))
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `atconform emulate --listen 127.0.0.1:0`, stopped on drop.
struct Module {
    child: Child,
    addr: String,
}

impl Module {
    fn start() -> Module {
        let mut child = atconform()
            .args(["emulate", "--profile", "ec25", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn emulate");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("startup line");
        // `emulating EC25 on tcp 127.0.0.1:PORT`
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        Module { child, addr }
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `N pass, N informational, ...` after `prefix` on some line of `text`.
fn tally_line(text: &str, prefix: &str) -> Counts {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?}:\n{text}"));
    let mut c = Counts::new();
    for part in line.trim().split(", ") {
        let (n, name) = part.split_once(' ').expect("N name");
        let name = OUTCOMES
            .iter()
            .find(|o| name.starts_with(**o))
            .unwrap_or_else(|| panic!("{part:?} in {line:?}"));
        c.insert(name, n.parse().expect("a count"));
    }
    c
}

/// The run table's row: cases, pass, info, non-strict, fail, skip, error.
fn table_row(stdout: &str, label: &str) -> (usize, Counts) {
    let header = stdout
        .lines()
        .position(|l| l.starts_with("target ") && l.contains("non-strict"))
        .unwrap_or_else(|| panic!("no table:\n{stdout}"));
    let line = stdout
        .lines()
        .skip(header)
        .find(|l| l.starts_with(&format!("{label} ")))
        .unwrap_or_else(|| panic!("no row for {label}:\n{stdout}"));
    // The numbers come after "runs on" (which may hold spaces): the last 9 fields are
    // cases … error, the time and "s".
    let f: Vec<&str> = line.split_whitespace().collect();
    let n: Vec<usize> = f[f.len() - 9..f.len() - 2]
        .iter()
        .map(|x| x.parse().unwrap_or_else(|_| panic!("{line}")))
        .collect();
    let mut c = Counts::new();
    for (name, v) in OUTCOMES.iter().zip(&n[1..]) {
        c.insert(name, *v);
    }
    c.insert("interrupted", 0);
    (n[0], c)
}

fn json_counts(v: &serde_json::Value) -> Counts {
    OUTCOMES
        .iter()
        .map(|o| {
            let key = o.replace('-', "_");
            (
                *o,
                v[&key].as_u64().unwrap_or_else(|| panic!("{key} in {v}")) as usize,
            )
        })
        .collect()
}

/// The attribute `name` of the first tag in `tag`.
fn attr(tag: &str, name: &str) -> String {
    let key = format!(" {name}=\"");
    let start = tag.find(&key).unwrap_or_else(|| panic!("{name} in {tag}")) + key.len();
    tag[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Per suite name: its counts from its `outcome.*` properties and from its test cases
/// (`<failure type=…>`, `<error`, `<skipped`, the `outcome` property), and the attributes.
struct Suite {
    props: Counts,
    by_case: Counts,
    tests: usize,
    failures: usize,
    errors: usize,
}

fn junit_suites(xml: &str) -> BTreeMap<String, Suite> {
    let mut out = BTreeMap::new();
    for chunk in xml.split("<testsuite ").skip(1) {
        let body = chunk.split("</testsuite>").next().unwrap_or_default();
        let head = body.split('>').next().unwrap_or_default();
        let mut props = Counts::new();
        let mut by_case = Counts::new();
        for o in OUTCOMES {
            let key = format!("<property name=\"outcome.{o}\" value=\"");
            let v = body
                .split(&key)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("{key} in suite {head}"));
            props.insert(o, v.parse().expect("count"));
            by_case.insert(o, 0);
        }
        for case in body.split("<testcase ").skip(1) {
            let case = case.split("</testcase>").next().unwrap_or_default();
            let o = attr(
                case.split("<property name=\"outcome\"")
                    .nth(1)
                    .unwrap_or_else(|| panic!("outcome property in {case}")),
                "value",
            );
            // The element agrees with the property.
            let failure_type = case.split("<failure ").nth(1).map(|f| attr(f, "type"));
            match o.as_str() {
                "pass" | "informational" => assert!(
                    !case.contains("<failure") && !case.contains("<error"),
                    "{case}"
                ),
                "non-strict" | "fail" | "interrupted" => {
                    assert_eq!(failure_type.as_deref(), Some(o.as_str()), "{case}")
                }
                "skip" => assert!(case.contains("<skipped"), "{case}"),
                "error" => assert!(case.contains("<error"), "{case}"),
                other => panic!("outcome {other}"),
            }
            let name = OUTCOMES.iter().find(|x| **x == o).expect("known outcome");
            *by_case.entry(name).or_insert(0) += 1;
        }
        out.insert(
            attr(&format!(" {head}"), "name"),
            Suite {
                props,
                by_case,
                tests: attr(&format!(" {head}"), "tests").parse().expect("tests"),
                failures: attr(&format!(" {head}"), "failures").parse().expect("n"),
                errors: attr(&format!(" {head}"), "errors").parse().expect("n"),
            },
        );
    }
    out
}

#[test]
fn every_report_counts_the_same_per_target() {
    let module = Module::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let junit = dir.path().join("run.xml");
    let bench = format!("bench=ec25=tcp:{}", module.addr);
    let targets = [
        "ec25=emulator:ec25",
        "slow=emulator:ec25+slow-responses+urc-before-ok",
        "sum16=emulator:ec25+liberty:checksum-sum16",
        bench.as_str(),
    ];
    let mut cmd = atconform();
    cmd.args(["run", "--quiet"]);
    for t in targets {
        cmd.args(["--target", t]);
    }
    // A pass, a checksum (informational with the liberty), a late-answer non-strict, a strict
    // failure (urc-before-ok on the send), and @quirk/@fault scenarios (skipped on TCP).
    for f in [
        "quectel/2.2.2-qsmtpdst",
        "qfupl-checksum-e12",
        "quectel/2.2.3-qsmtpsub",
        "edge/pdp-deactivated-during-send",
        "edge/quirk-missing-blank-line",
    ] {
        cmd.args(["--filter", f]);
    }
    let o = cmd
        .arg("--out")
        .arg(&out)
        .arg("--report")
        .arg(format!("junit:{}", junit.display()))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let xml = std::fs::read_to_string(&junit).expect("junit");
    let suites = junit_suites(&xml);
    let matrix: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("matrix.json")).unwrap()).unwrap();
    let labels = ["ec25", "slow", "sum16", "bench"];
    let columns: Vec<&str> = matrix["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(columns, labels);

    // `report matrix` over the saved run directories, and `diff` of each against ec25.
    let mut rm = atconform();
    rm.args(["report", "matrix", "--out"])
        .arg(dir.path().join("again"));
    for l in labels {
        rm.arg(out.join(l));
    }
    let again = rm.output().expect("report matrix");
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let again = String::from_utf8_lossy(&again.stdout).into_owned();

    let mut seen = Counts::new();
    for (i, label) in labels.iter().enumerate() {
        let (cases, table) = table_row(&stdout, label);
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(label).join("report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["label"], *label);
        let json = json_counts(&report["counts"]);
        let column = json_counts(&matrix["counts"][i]);
        // A suite per target: its label, and the profile when the label is another name.
        let suite_name = if *label == "ec25" {
            label.to_string()
        } else {
            format!("{label} [ec25]")
        };
        let suite = suites
            .get(&suite_name)
            .unwrap_or_else(|| panic!("suite {suite_name}: {:?}", suites.keys()));
        let listed = tally_line(&again, &format!("{label}: "));
        let d = atconform()
            .arg("diff")
            .arg(out.join("ec25"))
            .arg(out.join(label))
            .output()
            .expect("diff");
        let d = String::from_utf8_lossy(&d.stdout).into_owned();
        let width = "ec25".len().max(label.len());
        let diffed = tally_line(&d, &format!("{label:<width$}  "));
        assert_eq!(table, json, "{label}: table vs report.json\n{stdout}");
        assert_eq!(json, column, "{label}: report.json vs matrix.json");
        assert_eq!(
            json, suite.props,
            "{label}: report.json vs JUnit properties"
        );
        assert_eq!(json, suite.by_case, "{label}: report.json vs JUnit cases");
        assert_eq!(
            json, listed,
            "{label}: report.json vs report matrix\n{again}"
        );
        assert_eq!(json, diffed, "{label}: report.json vs diff\n{d}");
        assert_eq!(cases, json.values().sum::<usize>(), "{label}");
        assert_eq!(suite.tests, cases, "{label}");
        assert_eq!(
            suite.failures,
            json["non-strict"] + json["fail"] + json["interrupted"],
            "{label}: JUnit failures are non-strict + fail + interrupted"
        );
        assert_eq!(suite.errors, json["error"], "{label}");
        for (k, v) in &json {
            *seen.entry(k).or_insert(0) += v;
        }
    }
    // The run really holds every kind the test is about.
    for o in ["pass", "informational", "non-strict", "fail", "skip"] {
        assert!(seen[o] > 0, "no {o} case: {seen:?}\n{stdout}");
    }

    // Labels survive: the quirked target's full name, `[label: profile]` in the terminal,
    // and a reproducer for every failing case (terminal, report.json, matrix cell).
    let slow: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("slow/report.json")).unwrap())
            .unwrap();
    for c in slow["cases"].as_array().unwrap() {
        assert_eq!(
            c["target"], "emulator ec25+slow-responses+urc-before-ok",
            "{c}"
        );
        if c["status"] == "fail" {
            let r = c["reproduce"].as_str().expect("a reproducer");
            assert!(
                r.contains("--target slow=emulator:ec25+slow-responses+urc-before-ok"),
                "{r}"
            );
        }
    }
    assert_eq!(
        matrix["columns"][1]["targets"][0],
        "emulator ec25+slow-responses+urc-before-ok"
    );
    assert!(
        stdout.contains("edge/pdp-deactivated-during-send.scn [slow: ec25] FAIL"),
        "{stdout}"
    );
    assert!(
        stdout.contains("quectel/2.2.2-qsmtpdst.scn [slow: ec25] NON-STRICT"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "reproduce: atconform run --target slow=emulator:ec25+slow-responses+urc-before-ok --filter"
        ),
        "{stdout}"
    );
    let cells: Vec<&serde_json::Value> = matrix["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rows"].as_array().unwrap())
        .filter_map(|r| r["cells"][1].as_object().map(|_| &r["cells"][1]))
        .filter(|c| c["grade"] == "fail" || c["grade"] == "non-strict")
        .collect();
    assert!(!cells.is_empty());
    for c in cells {
        assert!(c["reproduce"].as_str().is_some(), "{c}");
    }
    // Skip reasons are in the terminal, grouped with their counts.
    assert!(stdout.contains("== bench =="), "{stdout}");
    let skipped = format!("skipped {}:", tally_of(&out, "bench")["skip"]);
    assert!(stdout.contains(&skipped), "{skipped}\n{stdout}");
    let bench_report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench/report.json")).unwrap())
            .unwrap();
    for c in bench_report["cases"].as_array().unwrap() {
        if c["status"] == "skip" {
            let why = c["reason"].as_str().expect("a skip reason");
            assert!(stdout.contains(&format!("  {why}\n")), "{why}\n{stdout}");
        }
    }

    // Coverage of the TCP module's run counts only what ran, and says so; --static adds the
    // scenario files (the skipped @fault scenario's error codes among them).
    let coverage = |args: &[&str]| {
        let o = atconform()
            .args(["report", "coverage"])
            .arg(out.join("bench"))
            .args(args)
            .output()
            .expect("coverage");
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let err_covered = |t: &str| -> usize {
        let line = t
            .lines()
            .find(|l| l.starts_with("ec25 "))
            .expect("ec25 line");
        let ratio = line
            .split("err")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        ratio.split('/').next().unwrap().parse().unwrap()
    };
    let ran = coverage(&[]);
    let bench = tally_of(&out, "bench");
    let total: usize = bench.values().sum();
    assert!(ran.starts_with("coverage (dynamic)"), "{ran}");
    assert!(
        ran.contains(&format!(
            "counts only what ran: {total} cases in the runs: {} ran",
            total - bench["skip"] - bench["error"] - bench["interrupted"]
        )),
        "{ran}"
    );
    let both = coverage(&["--static"]);
    assert!(both.starts_with("coverage (static+dynamic)"), "{both}");
    assert!(
        err_covered(&ran) < err_covered(&both),
        "what was skipped must not count:\n{ran}\n{both}"
    );
    drop(module);
}

fn tally_of(out: &Path, label: &str) -> Counts {
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join(label).join("report.json")).unwrap(),
    )
    .unwrap();
    json_counts(&report["counts"])
}
