//! W1 expansion to exact bytes and the pattern matcher, table-driven.

use at_scenario::{
    Bindings, FrameKind, MatchStatus, Matcher, Profile, StepKind, expected_bytes, frame_w1,
    load_str,
};

const HEAD: &str = "title: t\nsource: 000 §2.2.2\nprofiles: quectel\n";

/// The expected group of the first `<` lines after a `> AT` in `body`.
fn group(body: &str) -> at_scenario::Expect {
    let sc = load_str("m.scn", &format!("{HEAD}> AT\n{body}")).unwrap();
    match sc.steps.into_iter().nth(1).map(|s| s.kind) {
        Some(StepKind::Expect(e)) => e,
        other => panic!("no expect group: {other:?}"),
    }
}

#[test]
fn w1_expansion_table() {
    // (scenario lines, exact bytes) — ERRATA W1, 000 §2.1.2
    let table: &[(&str, &[u8])] = &[
        ("< OK\n", b"\r\nOK\r\n"),
        ("< ERROR\n", b"\r\nERROR\r\n"),
        ("< +CME ERROR: 664\n", b"\r\n+CME ERROR: 664\r\n"),
        ("< CONNECT\n", b"\r\nCONNECT\r\n"),
        (
            "< +QSMTPSUB: 0,\"TEST SMTP\"\n< OK\n",
            b"\r\n+QSMTPSUB: 0,\"TEST SMTP\"\r\n\r\nOK\r\n",
        ),
        // 000 §2.2.2: two information lines, one block, then OK framed alone
        (
            "< +QSMTPDST: 1,\"quectel_test@aol.com\"\n< +QSMTPDST: 2,\"quectel_test@21cn.com\"\n< OK\n",
            b"\r\n+QSMTPDST: 1,\"quectel_test@aol.com\"\r\n+QSMTPDST: 2,\"quectel_test@21cn.com\"\r\n\r\nOK\r\n",
        ),
        // a blank line between `<` lines means nothing
        (
            "< +QSMTPSUB: 0,\"\"\n\n< OK\n",
            b"\r\n+QSMTPSUB: 0,\"\"\r\n\r\nOK\r\n",
        ),
        // 002: Multi-Tech finals
        ("< OK_Info_WaitingForData\n", b"\r\nOK_Info_WaitingForData\r\n"),
        ("< #CME ERROR: 38027\n", b"\r\n#CME ERROR: 38027\r\n"),
        // raw lines are copied as written
        ("<< \\r\\nOK\\r\\n\n", b"\r\nOK\r\n"),
        ("<< A\n< OK\n", b"A\r\nOK\r\n"),
        // escapes
        ("< \\x41\\\\\\{\\}\n", b"\r\nA\\{}\r\n"),
    ];
    for (lines, bytes) in table {
        let g = group(lines);
        let got = expected_bytes(&g.lines, &Bindings::new()).unwrap();
        assert_eq!(
            got,
            *bytes,
            "{lines:?}: {:?}",
            String::from_utf8_lossy(&got)
        );
        let m = Matcher::new(&g.lines, &Bindings::new()).unwrap();
        assert_eq!(m.literal(), Some(*bytes));
        assert!(m.matches(bytes).is_some());
    }
}

#[test]
fn frame_w1_urc_and_info_runs() {
    use FrameKind::*;
    let b = frame_w1([
        (Info, &b"a"[..]),
        (Final, b"OK"),
        (Urc, b"+QSMTPPUT: 0,0"),
        (Info, b"b"),
        (Info, b"c"),
    ]);
    assert_eq!(
        b,
        b"\r\na\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n\r\nb\r\nc\r\n".to_vec()
    );
}

/// (expected line, received line, captures or `None` = no match)
type PatternCase = (
    &'static str,
    &'static str,
    Option<&'static [(&'static str, &'static str)]>,
);

#[test]
fn pattern_table() {
    let table: &[PatternCase] = &[
        (
            "+QIACT: 1,1,1,\"{ip}\"",
            "+QIACT: 1,1,1,\"10.7.157.1\"",
            Some(&[]),
        ),
        (
            "+QIACT: 1,1,1,\"{ip}\"",
            "+QIACT: 1,1,1,\"fe80::1\"",
            Some(&[]),
        ),
        ("+QIACT: 1,1,1,\"{ip}\"", "+QIACT: 1,1,1,\"host\"", None),
        (
            "+QFUPL: 200,{int:checksum}",
            "+QFUPL: 200,707",
            Some(&[("checksum", "707")]),
        ),
        ("+QFUPL: 200,{int:checksum}", "+QFUPL: 200,70a", None),
        (
            "+QFUPL: 200,{hex:c}",
            "+QFUPL: 200,70a",
            Some(&[("c", "70a")]),
        ),
        ("+QFUPL: 200,{hex:c}", "+QFUPL: 200,", None),
        ("+CGREG: 0,{int}", "+CGREG: 0,-1", Some(&[])),
        (
            "+QSMTPDST: 1,\"{str:a}\"",
            "+QSMTPDST: 1,\"x@y.z\"",
            Some(&[("a", "x@y.z")]),
        ),
        (
            "+QSMTPDST: 1,\"{str:a}\"",
            "+QSMTPDST: 1,\"\"",
            Some(&[("a", "")]),
        ),
        ("+QSMTPDST: 1,\"{str}\"", "+QSMTPDST: 1,\"a\"b\"", None),
        ("+X: {any}", "+X: anything \" at all", Some(&[])),
        (
            "+QSMTPPUT: {re:6[5-8][0-9]},0",
            "+QSMTPPUT: 653,0",
            Some(&[]),
        ),
        ("+QSMTPPUT: {re:6[5-8][0-9]},0", "+QSMTPPUT: 700,0", None),
        (
            "+QSMTPPUT: {int:e},{int:p}",
            "+QSMTPPUT: 677,535",
            Some(&[("e", "677"), ("p", "535")]),
        ),
        // literal text around patterns is exact, including case and spaces
        ("+QSMTPPUT: {int},0", "+qsmtpput: 0,0", None),
        ("+QSMTPPUT: {int},0", "+QSMTPPUT:  0,0", None),
    ];
    for (expected, got, caps) in table {
        let g = group(&format!("< {expected}\n"));
        let m = Matcher::new(&g.lines, &Bindings::new()).unwrap();
        let wire = format!("\r\n{got}\r\n");
        match (m.matches(wire.as_bytes()), caps) {
            (Some(c), Some(want)) => {
                for (k, v) in *want {
                    assert_eq!(c.get(k), Some(v.as_bytes()), "{expected} vs {got}");
                }
                assert_eq!(c.0.len(), want.len(), "{expected} vs {got}");
            }
            (None, None) => {}
            (got_c, want) => panic!("{expected} vs {got}: got {got_c:?}, want {want:?}"),
        }
    }
}

#[test]
fn match_prefix_partial_and_mismatch_offsets() {
    let g = group("< +QFUPL: 100,{hex}\n< OK\n");
    let m = Matcher::new(&g.lines, &Bindings::new()).unwrap();
    let full = b"\r\n+QFUPL: 100,707\r\n\r\nOK\r\n";
    for cut in 0..full.len() {
        assert_eq!(
            m.match_prefix(&full[..cut]),
            MatchStatus::Partial,
            "cut {cut}"
        );
    }
    assert!(matches!(
        m.match_prefix(full),
        MatchStatus::Complete { len, .. } if len == full.len()
    ));
    // trailing bytes are left for the next step
    let mut more = full.to_vec();
    more.extend_from_slice(b"\r\n+QSMTPPUT: 0,0\r\n");
    assert!(matches!(
        m.match_prefix(&more),
        MatchStatus::Complete { len, .. } if len == full.len()
    ));
    assert!(m.matches(&more).is_none());
    // the first differing byte is reported
    assert_eq!(
        m.match_prefix(b"\r\n+QFUPL: 100,707\r\nOK\r\n"),
        MatchStatus::Mismatch { offset: 19 }
    );
    assert_eq!(
        m.match_prefix(b"\r\n+QFUPL: 200,707\r\n"),
        MatchStatus::Mismatch { offset: 2 }
    );
    // a bare LF inside a pattern line (quirk crlf-lf-only) cannot match
    assert_eq!(
        m.match_prefix(b"\r\n+QFUPL: 100,707\n"),
        MatchStatus::Mismatch { offset: 17 }
    );
}

#[test]
fn variables_and_captures_render() {
    let sc = load_str(
        "v.scn",
        &format!(
            "{HEAD}@var SERVER = smtp.163.com\n@secret PW = wq664551\n\
             > AT+QSMTPCFG=\"smtpserver\",\"${{SERVER}}\",${{PORT:-25}}\n< OK\n\
             > AT+QSMTPCFG=\"account\",\"u\",\"${{PW}}\"\n< OK\n\
             > AT+QFUPL=\"RAM:a\",1\n< CONNECT\n@data 1\n< +QFUPL: 1,{{hex:ck}}\n< OK\n\
             > AT+ECHO=${{ck}}\n< +ECHO: ${{ck}}\n< OK\n"
        ),
    )
    .unwrap();
    let mut b = sc.bindings(|_| None).unwrap();
    let sends: Vec<_> = sc
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Send(x) => Some(&x.text),
            _ => None,
        })
        .collect();
    assert_eq!(
        b.render(sends[0]).unwrap(),
        b"AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25"
    );
    assert_eq!(
        b.render(sends[1]).unwrap(),
        b"AT+QSMTPCFG=\"account\",\"u\",\"wq664551\""
    );
    // shown to people, the secret is redacted
    assert_eq!(
        b.display(sends[1]),
        "AT+QSMTPCFG=\"account\",\"u\",\"<redacted>\""
    );
    assert!(!format!("{b:?}").contains("wq664551"));
    // the capture is unbound until matched
    assert!(b.render(sends[3]).is_err());
    let StepKind::Expect(g) = &sc.steps[7].kind else {
        panic!("{:?}", sc.steps[7].kind)
    };
    let caps = Matcher::new(&g.lines, &b)
        .unwrap()
        .matches(b"\r\n+QFUPL: 1,30\r\n\r\nOK\r\n")
        .unwrap();
    b.extend(&caps);
    assert_eq!(b.render(sends[3]).unwrap(), b"AT+ECHO=30");
    // environment wins over the default
    let b2 = sc
        .bindings(|n| (n == "SERVER").then(|| "mail.example.com".to_owned()))
        .unwrap();
    assert_eq!(
        b2.render(sends[0]).unwrap(),
        b"AT+QSMTPCFG=\"smtpserver\",\"mail.example.com\",25"
    );
}

#[test]
fn redaction_covers_base64_and_every_occurrence() {
    let sc = load_str(
        "r.scn",
        &format!("{HEAD}@secret PW = wq664551\n@var USER = sishen\n> AT\n< OK\n"),
    )
    .unwrap();
    let b = sc.bindings(|_| None).unwrap();
    assert_eq!(
        b.redact("PASS wq664551 again wq664551"),
        "PASS <redacted> again <redacted>"
    );
    // AUTH LOGIN sends base64("wq664551") = "d3E2NjQ1NTE="
    assert_eq!(b.redact("C: d3E2NjQ1NTE="), "C: <redacted>");
    assert_eq!(b.redact("user sishen"), "user sishen");
    // a required secret without a default is an error, never an empty password
    let sc2 = load_str("r2.scn", &format!("{HEAD}@secret PW\n> AT\n< OK\n")).unwrap();
    assert!(sc2.bindings(|_| None).is_err());
}

#[test]
fn per_profile_lines() {
    let g = group(
        "< +QSMTPCFG: \"ssltype\",(0-2)\n[!ag35] < +QSMTPCFG: \"bodyoriginal\",(0,1)\n< OK\n",
    );
    let ec25 = expected_bytes(g.lines_for(Profile::Ec25), &Bindings::new()).unwrap();
    let ag35 = expected_bytes(g.lines_for(Profile::Ag35), &Bindings::new()).unwrap();
    assert_eq!(
        ec25,
        b"\r\n+QSMTPCFG: \"ssltype\",(0-2)\r\n+QSMTPCFG: \"bodyoriginal\",(0,1)\r\n\r\nOK\r\n"
    );
    assert_eq!(ag35, b"\r\n+QSMTPCFG: \"ssltype\",(0-2)\r\n\r\nOK\r\n");
}

#[test]
fn match_text_and_urc_matcher() {
    let sc = load_str(
        "t.scn",
        &format!("{HEAD}> AT\n< OK\n@allow-urc +QIURC: \"pdpdeact\",{{int:ctx}}\n"),
    )
    .unwrap();
    let StepKind::AllowUrc(t) = &sc.steps[2].kind else {
        panic!()
    };
    let b = Bindings::new();
    let m = Matcher::urc(t, &b).unwrap();
    let caps = m.matches(b"\r\n+QIURC: \"pdpdeact\",1\r\n").unwrap();
    assert_eq!(caps.get("ctx"), Some(&b"1"[..]));
    // the value itself, unframed
    let caps = at_scenario::match_text(t, &b, b"+QIURC: \"pdpdeact\",3")
        .unwrap()
        .unwrap();
    assert_eq!(caps.get("ctx"), Some(&b"3"[..]));
    assert!(
        at_scenario::match_text(t, &b, b"+QIURC: \"pdpdeact\",x")
            .unwrap()
            .is_none()
    );
}
