//! The HTML report is one self-contained file that shows the matrix and every detail.

use at_report::html::{external_references, render};
use at_report::load::Run;
use at_report::matrix::{Grade, Matrix};

use crate::common::{corpus, runs};

#[test]
fn matrix_html_is_self_contained_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    // 000 §2.2.4 body by length and §1.3 DTR, plus a scenario the AG35 does not have.
    let runs = runs(
        &[
            "emulator:ec25",
            "emulator:ag35",
            "emulator:ec25+body-length-off-by-one",
        ],
        &[
            "2.2.4-qsmtpbody-length",
            "2.4-qsmtpbody-length",
            "dtr-ends-body",
        ],
        dir.path(),
    );
    let m = Matrix::build(&runs, &corpus());
    let html = render(&m, "t <&> title");
    assert_eq!(external_references(&html), Vec::<String>::new());
    assert!(html.contains("<meta name=\"viewport\""), "responsive");
    assert!(html.contains("<title>t &lt;&amp;&gt; title</title>"));
    for label in ["ec25", "ag35", "ec25+body-length-off-by-one"] {
        assert!(html.contains(&format!("<th>{label}</th>")), "{label}");
    }
    for row in m.rows() {
        assert!(html.contains(&row.scenario), "{}", row.scenario);
    }
    // Sections as row groups, in document order.
    let s13 = html.find(">000 §1.3<").expect("000 §1.3 group");
    let s224 = html.find(">000 §2.2.4<").expect("000 §2.2.4 group");
    assert!(s13 < s224);
    // The quirk column fails the body-length scenario; its detail shows expected vs observed
    // (000 §2.2.4: +QSMTPBODY reports the actual input length) and the wire log.
    let row = m
        .rows()
        .find(|r| r.scenario == "quectel/2.2.4-qsmtpbody-length.scn")
        .unwrap();
    assert_eq!(row.cells[0].as_ref().unwrap().grade, Grade::Pass);
    assert!(row.cells[1].is_none(), "ag35 runs ag35/ scenarios instead");
    let cell = row.cells[2].as_ref().unwrap();
    assert_eq!(cell.grade, Grade::Fail);
    assert!(
        cell.expected.contains("+QSMTPBODY: 100"),
        "{}",
        cell.expected
    );
    assert!(
        cell.observed.contains("+QSMTPBODY: 101"),
        "{}",
        cell.observed
    );
    assert!(html.contains(&at_report::html::escape(&cell.observed)));
    let wire = cell.wire.as_ref().unwrap();
    assert!(wire.contains("> AT+QSMTPBODY="), "{wire}");
    assert!(
        html.contains("&gt; AT+QSMTPBODY="),
        "wire log escaped in the page"
    );
    // Every cell links to a detail section that exists.
    for (i, _) in html.match_indices("href=\"#d-") {
        let id = &html[i + 7..];
        let id = &id[..id.find('"').unwrap()];
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The JSON carries the same data.
    let json: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(json["columns"].as_array().unwrap().len(), 3);
}

#[test]
fn secrets_and_markup_in_transcripts_never_reach_the_page() {
    // A run from a device whose transcript carries the password (000 §3.1 step 2) and markup.
    let json = r#"{"cases":[{"scenario":"quectel/3.1-send-plain.scn","title":"Send",
        "profile":"ec25","target":"/dev/ttyUSB2","status":"fail","expect_failure":false,
        "failure":{"location":{"file":"quectel/3.1-send-plain.scn","line":34},"step":3,
          "sent":"AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"\\r","kind":"mismatch",
          "expected":"\\r\\nOK\\r\\n","actual":"\\r\\n<script>alert(1)</script>\\r\\n","offset":2}}]}"#;
    let mut run = Run::from_json("dut", json).unwrap();
    run.cases[0].transcript =
        Some("[   0.000000] > AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"\\r\n".into());
    let m = Matrix::build(&[run], &corpus());
    let html = render(&m, "secrets");
    assert!(!html.contains("wq664551"), "password leaked");
    assert!(html.contains("&lt;redacted&gt;"));
    assert!(
        !html.contains("<script>"),
        "markup from the wire must be escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!m.to_json().contains("wq664551"));
}

#[test]
fn external_reference_check_catches_each_kind() {
    for bad in [
        "<img src=\"x.png\">",
        "<a href=\"other.html\">",
        "<link href=\"s.css\">",
        "<p>see https://example.invalid</p>",
        "<style>b{background:url(x.png)}</style>",
    ] {
        assert!(!external_references(bad).is_empty(), "{bad}");
    }
    assert!(external_references("<a href=\"#d-1-2\">x</a>").is_empty());
}
