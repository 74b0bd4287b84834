//! What the loader builds from each line kind, and that it never panics.

use std::time::Duration;

use at_scenario::*;
use proptest::prelude::*;

const HEAD: &str = "title: t\nsource: 000 §2.2.4\nprofiles: quectel, !ag35\n";

fn load(body: &str) -> Scenario {
    load_str("l.scn", &format!("{HEAD}{body}")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn headers_and_defaults() {
    let sc = load("> AT\n< OK\n");
    assert_eq!(sc.meta.title, "t");
    assert_eq!(sc.meta.sources, ["000 §2.2.4"]);
    assert_eq!(sc.meta.profiles.len(), 9);
    assert!(!sc.applies_to(Profile::Ag35));
    assert_eq!(sc.meta.max_response, None);
    assert_eq!(sc.meta.timeout, DEFAULT_TIMEOUT);
    assert_eq!(sc.meta.verdict, Verdict::Pass);
    let sc = load_str(
        "h.scn",
        "title: x\nsource: 000 §3.1, 001 p.20\nerrata: W1, E2\nprofiles: ec25\ntags: a, b\n\
         timeout: 2min\nmax-response: 1.5s [E30]\nverdict: fail\n> AT\n< OK\n",
    )
    .unwrap();
    assert_eq!(sc.meta.sources, ["000 §3.1", "001 p.20"]);
    assert_eq!(sc.meta.errata, ["W1", "E2"]);
    assert_eq!(sc.meta.tags, ["a", "b"]);
    assert_eq!(sc.meta.timeout, Duration::from_secs(120));
    let limit = sc.meta.max_response.clone().unwrap();
    assert_eq!(limit.duration, Duration::from_millis(1500));
    assert_eq!(limit.evidence.errata, ["E30"]);
    assert_eq!(sc.meta.verdict, Verdict::Fail);
    for (v, want) in [
        ("non-strict", Verdict::NonStrict),
        ("informational", Verdict::Informational),
    ] {
        let sc = load_str("v.scn", &format!("{HEAD}verdict: {v}\n> AT\n< OK\n")).unwrap();
        assert_eq!(sc.meta.verdict, want);
    }
}

#[test]
fn evidence_on_lines_holes_checks_and_limits() {
    let sc = load(
        "> AT+CPIN?\n< +CME ERROR: {int:code=10}\n\
         > AT+QSMTPCFG=\"bodyoriginal\",1\n< +CME ERROR: 664 [impl, 001 p.9]   // AG35\n\
         > AT+CGREG?\n< +CGREG: 0,{re=1:[15]}\n< OK [E5]\n\
         @within 300s [000 §2.2.7]\n~ +QSMTPPUT: 0,0\n\
         @within 5s\n< OK \\[x]\n\
         @mail\n    subject: test SMTP [W4]\n    attachments: 1\n\
         @smtp\n    sent: EHLO [10.7.157.1]\n",
    );
    let lines: Vec<&ExpectedLine> = sc
        .steps
        .iter()
        .flat_map(|s| match &s.kind {
            StepKind::Expect(e) => e.lines.iter().collect::<Vec<_>>(),
            StepKind::Urc(u) => vec![&u.line],
            _ => Vec::new(),
        })
        .collect();
    // Unmarked lines inherit the `source:` header: documented.
    assert_eq!(lines[0].evidence.level(), Level::Documented);
    assert!(!lines[0].evidence.explicit);
    let Piece::Pattern(p) = &lines[0].text.0[1] else {
        panic!("{:?}", lines[0].text)
    };
    assert_eq!(
        (p.capture.as_deref(), p.recorded.as_deref()),
        (Some("code"), Some(&b"10"[..]))
    );
    assert_eq!(lines[1].evidence.level(), Level::Open);
    assert_eq!(
        lines[1].evidence.to_string(),
        "implementation-defined (001 p.9)"
    );
    assert_eq!(lines[1].text.as_literal().unwrap(), b"+CME ERROR: 664");
    assert_eq!(lines[1].frame, FrameKind::Final);
    let Piece::Pattern(p) = &lines[2].text.0[1] else {
        panic!()
    };
    assert_eq!(p.kind, PatternKind::Regex("[15]".into()));
    assert_eq!(p.recorded.as_deref(), Some(&b"1"[..]));
    assert_eq!(p.to_string(), "re=1:[15]");
    assert_eq!(lines[3].evidence.errata, ["E5"]);
    assert_eq!(lines[4].evidence.level(), Level::Documented);
    // `\[` keeps a bracket literal.
    assert_eq!(lines[5].text.as_literal().unwrap(), b"OK [x]");
    let urc = sc
        .steps
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::Urc(u) => Some(u),
            _ => None,
        })
        .unwrap();
    assert_eq!(urc.within, Some(Duration::from_secs(300)));
    assert_eq!(
        urc.within_evidence.as_ref().map(ToString::to_string),
        Some("000 §2.2.7".into())
    );
    let mail = sc
        .steps
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::Mail(m) => Some(m),
            _ => None,
        })
        .unwrap();
    let smtp = sc
        .steps
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::Smtp(m) => Some(m),
            _ => None,
        })
        .unwrap();
    // An address literal is text, not evidence.
    let SmtpCheck::Sent(t) = &smtp.checks[0].0 else {
        panic!()
    };
    assert_eq!(t.as_literal().unwrap(), b"EHLO [10.7.157.1]");
    assert!(!smtp.evidence[0].explicit);
    assert_eq!(mail.evidence.len(), 2);
    assert_eq!(mail.evidence[0].errata, ["W4"]);
    assert!(!mail.evidence[1].explicit);
}

#[test]
fn bad_evidence_is_an_error_at_its_place() {
    for (body, col, what) in [
        ("> AT\n< OK [E99]\n", 7, "no entry E99"),
        ("> AT\n< OK [000 2.2.1]\n", 7, "§"),
        ("> AT\n< OK [001 p.99]\n", 7, "pages"),
        ("> AT\n< OK [impl, E5]\n", 7, "contradict"),
        ("> AT\n< +QFUPL: 1,{hex=xyz}\n", 13, "recorded value `xyz`"),
        ("> AT\n< {re=:1}\n", 3, "recorded value ``"),
        ("> AT\n@within 1s [bogus]\n< OK\n", 13, "cites no source"),
        (
            "> AT\n< OK\n@mail\n    attachments: 1 [E0]\n",
            21,
            "no entry E0",
        ),
    ] {
        let err = load_str("e.scn", &format!("{HEAD}{body}")).unwrap_err();
        assert!(err.to_string().contains(what), "{body:?}: {err}");
        assert_eq!(err.col(), col, "{body:?}: {err}");
    }
    for (head, what) in [
        ("errata: W1, E99\n", "no entry E99"),
        ("source: 000 §3.1, 000 3.2\n", "names a section"),
        ("max-response: 300ms\n", "needs the citation"),
    ] {
        let text = format!(
            "title: t\nprofiles: ec25\n{head}{}> AT\n< OK\n",
            if head.starts_with("source") {
                ""
            } else {
                "source: 000 §2.2.1\n"
            }
        );
        let err = load_str("h.scn", &text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadEvidence, "{head}: {err}");
        assert!(err.to_string().contains(what), "{head}: {err}");
    }
}

#[test]
fn state_header_names_what_the_module_must_be_in() {
    let sc = load_str(
        "s.scn",
        "title: x\nsource: 000 §2.2.1\nprofiles: ec25\nstate: power-on, pdp-active\n> AT\n< OK\n",
    )
    .unwrap();
    assert_eq!(sc.meta.state, ["power-on", "pdp-active"]);
    for (bad, line) in [
        ("state: PDP_active", 4),
        ("state: ,", 4),
        ("state: a\nstate: b", 5),
    ] {
        let e = load_str(
            "s.scn",
            &format!("title: x\nsource: 000 §2.2.1\nprofiles: ec25\n{bad}\n> AT\n< OK\n"),
        )
        .expect_err(bad);
        assert_eq!(e.line(), line, "{bad}: {e}");
    }
}

#[test]
fn sends_comments_and_terminators() {
    let sc = load(
        "> AT+QSMTPDST=1,1,\"a@b.c\"    // 添加所有收件人。\n< OK\n\
         >> +++\n>> AT\\r\\n\n> AT+X=\"http:\\/\\/x\"\n< OK\n",
    );
    let sends: Vec<_> = sc
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Send(x) => Some((x.text.as_literal().unwrap(), x.terminator)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sends,
        [
            (b"AT+QSMTPDST=1,1,\"a@b.c\"".to_vec(), Terminator::Cr),
            (b"+++".to_vec(), Terminator::None),
            (b"AT\r\n".to_vec(), Terminator::None),
            (b"AT+X=\"http://x\"".to_vec(), Terminator::Cr),
        ]
    );
    // `//` without whitespace before it is not a comment
    let sc = load("> AT+X=\"a//b\"\n< OK\n");
    let StepKind::Send(s) = &sc.steps[0].kind else {
        panic!()
    };
    assert_eq!(s.text.as_literal().unwrap(), b"AT+X=\"a//b\"");
}

#[test]
fn groups_urcs_and_within() {
    let sc = load(
        "> AT+QSMTPPUT=300\n< OK\n@within 300s\n~ +QSMTPPUT: 0,0\n\
         > AT+QSMTPBODY=0,100,120\n< CONNECT\n@data 90\n@within 121s\n< +QSMTPBODY: 90\n\n# c\n< OK\n",
    );
    let kinds: Vec<&StepKind> = sc.steps.iter().map(|s| &s.kind).collect();
    assert!(matches!(kinds[1], StepKind::Expect(e) if e.within.is_none() && e.lines.len() == 1));
    assert!(
        matches!(kinds[2], StepKind::Urc(u) if u.within == Some(Duration::from_secs(300)) && u.line.frame == FrameKind::Urc)
    );
    assert!(matches!(kinds[5], StepKind::Data(d) if d.payload == Payload::Text { len: 90 }));
    match kinds[6] {
        StepKind::Expect(e) => {
            assert_eq!(e.within, Some(Duration::from_secs(121)));
            assert_eq!(e.lines.len(), 2);
            assert_eq!(e.lines[0].frame, FrameKind::Info);
            assert_eq!(e.lines[1].frame, FrameKind::Final);
            assert_eq!(e.lines[1].span.line, 15);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sc.steps.len(), 7);
}

#[test]
fn data_escape_and_setup_directives() {
    let sc = load(
        "@fault dns\n@fault pdp-deactivate@30s\n@quirk urc-before-ok\n@resolve smtp.163.com sink\n\
         @sink tls implicit\n@sink reply auth 535 5.7.8 Authentication failed\n@sink drop data\n\
         > AT+QSMTPBODY=0,100,120\n< CONNECT\n\
         @data 100 binary seed=7 name=att chunk=10 pace=5ms\n@data \"\\r\\n.\\r\\n\"\n\
         @escape before=2s after=1s seq=\"+++\"\n@escape\n@wait 120s\n@dtr off\n@echo off\n\
         @allow-urc +QIURC: \"pdpdeact\",{int}\n< OK\n",
    );
    let k: Vec<&StepKind> = sc.steps.iter().map(|s| &s.kind).collect();
    assert_eq!(
        k[0],
        &StepKind::Emulator(EmulatorAction::Net(NetFault::Dns))
    );
    assert_eq!(
        k[1],
        &StepKind::Emulator(EmulatorAction::Fault(Fault::PdpDeactivateAt(
            Duration::from_secs(30)
        )))
    );
    assert_eq!(
        k[1].clone(),
        StepKind::Emulator(EmulatorAction::Fault(Fault::PdpDeactivateAt(
            Duration::from_secs(30)
        )))
    );
    if let StepKind::Emulator(EmulatorAction::Fault(f)) = k[1] {
        assert_eq!(f.to_string(), "pdp-deactivate@30s");
    }
    assert_eq!(
        k[2],
        &StepKind::Emulator(EmulatorAction::Quirk("urc-before-ok".into()))
    );
    assert_eq!(
        k[3],
        &StepKind::Emulator(EmulatorAction::Resolve {
            host: "smtp.163.com".into(),
            to: ResolveTo::Sink
        })
    );
    assert_eq!(k[4], &StepKind::Sink(SinkAction::Tls(TlsMode::Implicit)));
    assert_eq!(
        k[5],
        &StepKind::Sink(SinkAction::Reply {
            stage: SmtpStage::Auth,
            code: 535,
            text: Some("5.7.8 Authentication failed".into())
        })
    );
    assert_eq!(k[6], &StepKind::Sink(SinkAction::Drop(SmtpStage::Data)));
    assert_eq!(
        k[9],
        &StepKind::Data(Data {
            payload: Payload::Binary { len: 100, seed: 7 },
            name: Some("att".into()),
            chunk: Some(10),
            pace: Some(Duration::from_millis(5)),
        })
    );
    let StepKind::Data(d) = k[10] else { panic!() };
    assert_eq!(d.payload.bytes(&Bindings::new()).unwrap(), b"\r\n.\r\n");
    assert_eq!(
        k[11],
        &StepKind::Escape(Escape {
            guard_before: Duration::from_secs(2),
            guard_after: Duration::from_secs(1),
            sequence: b"+++".to_vec()
        })
    );
    assert_eq!(
        k[12],
        &StepKind::Escape(Escape {
            guard_before: DEFAULT_GUARD_BEFORE,
            guard_after: DEFAULT_GUARD_AFTER,
            sequence: b"+++".to_vec()
        })
    );
    assert_eq!(k[13], &StepKind::Wait(Duration::from_secs(120)));
    assert_eq!(k[14], &StepKind::Dtr(false));
    assert_eq!(k[15], &StepKind::Echo(false));
    assert!(matches!(k[16], StepKind::AllowUrc(t) if t.has_pattern()));
    assert!(sc.needs_emulator());
    assert!(sc.needs_sink());
}

#[test]
fn mail_and_smtp_blocks() {
    let sc = load(
        "> AT\n< OK\n@data 3 name=body\n@mail\n    mail-from: a@b.c\n    rcpt-to: x@y.z, {str}@q.r\n\
         \x20   header: From: {any}a@b.c{any}\n    no-header: Bcc\n    subject: TEST SMTP\n\
         \x20   body: abc\\r\\n\n    body-payload: body\n    attachments: 1\n\
         \x20   attachment: smtp1.txt size=100 sha256=ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789 payload=body\n\
         @smtp\n    tls: starttls\n    sent: STARTTLS\n    not-sent: HELO {any}\n    replied: 250\n\
         @mail none\n",
    );
    let StepKind::Mail(m) = &sc.steps[3].kind else {
        panic!("{:?}", sc.steps[3])
    };
    assert_eq!(m.checks.len(), 9);
    assert!(matches!(&m.checks[1].0, MailCheck::RcptTo(v) if v.len() == 2 && v[1].has_pattern()));
    assert!(matches!(&m.checks[2].0, MailCheck::Header { name, .. } if name == "From"));
    assert_eq!(m.checks[3].0, MailCheck::NoHeader("Bcc".into()));
    assert_eq!(m.checks[6].0, MailCheck::BodyPayload("body".into()));
    assert_eq!(
        m.checks[8].0,
        MailCheck::Attachment(AttachmentExpect {
            name: "smtp1.txt".into(),
            size: Some(100),
            sha256: Some("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789".into()),
            payload: Some("body".into()),
        })
    );
    assert_eq!(m.checks[8].1.line, 16);
    let StepKind::Smtp(s) = &sc.steps[4].kind else {
        panic!()
    };
    assert_eq!(s.checks[0].0, SmtpCheck::Tls(TlsMode::Starttls));
    assert_eq!(s.checks[3].0, SmtpCheck::Replied(250));
    assert_eq!(sc.steps[5].kind, StepKind::NoMail);
}

#[test]
fn profile_prefixes() {
    let sc = load("[ag35] > AT+A\n< OK\n> AT\n[!ag35] < +X: 1\n< OK\n");
    assert!(sc.steps[0].applies_to(Profile::Ag35));
    assert!(!sc.steps[0].applies_to(Profile::Ec25));
    assert_eq!(sc.steps_for(Profile::Ec25).count(), 3);
    let StepKind::Expect(e) = &sc.steps[3].kind else {
        panic!()
    };
    assert_eq!(e.lines_for(Profile::Ag35).count(), 1);
    assert_eq!(e.lines_for(Profile::Eg95).count(), 2);
    assert_eq!(ProfileSet::parse_list("ec2x").unwrap().len(), 9);
    assert_eq!(Profile::from_name("EC20-R2.1"), Some(Profile::Ec20R21));
    assert_eq!(Profile::from_name("EC25"), Some(Profile::Ec25));
}

#[test]
fn payload_generators_are_fixed() {
    assert_eq!(text_payload(0), b"");
    assert_eq!(&text_payload(64)[..], &TEXT_UNIT[..]);
    assert_eq!(text_payload(10240).len(), 10240);
    assert!(!text_payload(10240).windows(5).any(|w| w == b"\r\n.\r\n"));
    assert_eq!(binary_payload(16, 7), binary_payload(16, 7));
    assert_ne!(binary_payload(16, 7), binary_payload(16, 8));
    // SplitMix64 first output for seed 0 is 0xE220A8397B1DCDAF (little-endian bytes)
    assert_eq!(binary_payload(8, 0), 0xE220_A839_7B1D_CDAFu64.to_le_bytes());
    assert_eq!(binary_payload(3, 0), binary_payload(8, 0)[..3]);
}

#[test]
fn load_error_positions() {
    let e = load_str(
        "p.scn",
        "title: t\nsource: 000 §2.2.1\nprofiles: ec25\n> AT\n< {bogus}\n",
    )
    .unwrap_err();
    assert_eq!((e.line(), e.col(), e.kind()), (5, 3, ErrorKind::BadPattern));
    assert_eq!(e.to_string(), "p.scn:5:3: unknown pattern `{bogus}`");
    // columns count characters, not bytes
    let e = load_str(
        "p.scn",
        "title: 标题\nsource: 000 §2.2.1\nprofiles: ec25\n> 测试 \\q\n",
    )
    .unwrap_err();
    assert_eq!((e.line(), e.col()), (4, 6));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary text never panics the loader.
    #[test]
    fn loader_never_panics_on_arbitrary_text(s in "\\PC*") {
        let _ = load_str("fuzz.scn", &s);
    }

    /// Line-structured inputs built from the grammar's own pieces never panic either, and an
    /// error always points inside the file.
    #[test]
    fn loader_never_panics_on_grammar_soup(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("title: t".to_owned()),
                Just("source: 000 §2.2.2".to_owned()),
                Just("profiles: quectel".to_owned()),
                Just("@within 1s".to_owned()),
                Just("@mail".to_owned()),
                Just("    subject: {str}".to_owned()),
                Just("@data 3 name=x".to_owned()),
                "[<>~@\\[\\]{}$\\\\:=\" a-z0-9!.,/-]{0,30}",
            ],
            0..20,
        )
    ) {
        let text = lines.join("\n");
        if let Err(e) = load_str("soup.scn", &text) {
            let total = u32::try_from(text.lines().count()).unwrap_or(u32::MAX) + 1;
            prop_assert!(e.line() <= total, "{e}");
        }
    }

    /// Whatever an expected line is, its matcher accepts its own literal expansion.
    #[test]
    fn literal_lines_match_their_expansion(line in "[ -~]{1,40}") {
        let escaped = line.replace('\\', "\\\\").replace('{', "\\{").replace('}', "\\}").replace('$', "\\$").replace('/', "\\/").replace('#', "\\#");
        let text = format!("title: t\nsource: 000 §2.2.1\nprofiles: ec25\n> AT\n< {escaped}\n");
        if let Ok(sc) = load_str("lit.scn", &text)
            && let Some(StepKind::Expect(e)) = sc.steps.get(1).map(|s| &s.kind)
        {
            let b = Bindings::new();
            let bytes = expected_bytes(&e.lines, &b).unwrap();
            let m = Matcher::new(&e.lines, &b).unwrap();
            prop_assert!(m.matches(&bytes).is_some());
            prop_assert!(bytes.starts_with(b"\r\n") && bytes.ends_with(b"\r\n"));
        }
    }
}

#[test]
fn secrets_never_in_debug_or_diagnostics() {
    let text = format!("{HEAD}@secret PW = wq664551\n> AT+X=\"${{PW}}\"\n< OK\n");
    let sc = load_str("s.scn", &text).unwrap();
    let dbg = format!("{sc:?}");
    assert!(!dbg.contains("wq664551"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
    // an error on a later line: the rendered source around it shows no secret
    let text = format!("{HEAD}@secret PW = wq664551\n> AT+X=\"wq664551\" \\q\n");
    let err = load_str("s.scn", &text).unwrap_err();
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, &err)
        .unwrap();
    assert!(out.contains("unknown escape"), "{out}");
    assert!(!out.contains("wq664551"), "{out}");
    assert!(!format!("{err:?}").contains("wq664551"));
}

#[test]
fn manual_comment_lines_are_comments() {
    // 000 §2.2.2 prints `//新增收件人` on a line of its own
    let sc = load("//新增收件人\n> AT+QSMTPDST=0\n< OK\n  // indented too\n");
    assert_eq!(sc.steps.len(), 2);
}

#[test]
fn crlf_files_and_byte_order_mark() {
    let text = format!("\u{feff}{}> AT\r\n< OK\r\n", HEAD.replace('\n', "\r\n"));
    let sc = load_str("w.scn", &text).unwrap();
    let StepKind::Send(s) = &sc.steps[0].kind else {
        panic!()
    };
    assert_eq!(s.text.as_literal().unwrap(), b"AT");
    assert_eq!(sc.steps[1].span.line, 5);
}

#[test]
fn duration_table() {
    let ms = Duration::from_millis;
    let ok: &[(&str, Duration)] = &[
        ("0s", ms(0)),
        ("300ms", ms(300)),
        ("1.5s", ms(1500)),
        ("1.25s", ms(1250)),
        // Exact to the nanosecond, never truncated.
        ("1.2345s", Duration::from_micros(1_234_500)),
        ("1.5ms", Duration::from_micros(1500)),
        ("2min", ms(120_000)),
        ("5m", ms(300_000)),
        ("1h", ms(3_600_000)),
        ("24h", ms(86_400_000)),
    ];
    for (text, want) in ok {
        let sc = load_str(
            "d.scn",
            &format!("title: t\nsource: 000 §2.2.1\nprofiles: ec25\ntimeout: {text}\n> AT\n< OK\n"),
        )
        .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(sc.meta.timeout, *want, "{text}");
    }
    for bad in [
        "",
        "s",
        ".5s",
        "1.s",
        "0.0000000001s",
        "25h",
        "10",
        "10 s",
        "1e3ms",
        "-1s",
        "1sec",
    ] {
        let err = load_str(
            "d.scn",
            &format!("title: t\nsource: 000 §2.2.1\nprofiles: ec25\ntimeout: {bad}\n> AT\n< OK\n"),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadDuration, "{bad:?}: {err}");
    }
}

#[test]
fn load_dir_is_sorted_and_reports_every_bad_file() {
    let dir = std::env::temp_dir().join(format!("at-scenario-load-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let good = format!("{HEAD}> AT\n< OK\n");
    std::fs::write(dir.join("b/2.scn"), &good).unwrap();
    std::fs::write(dir.join("a.scn"), &good).unwrap();
    std::fs::write(dir.join("b/1.scn"), &good).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a scenario").unwrap();
    let names: Vec<String> = load_dir(&dir)
        .unwrap()
        .iter()
        .map(|s| {
            s.path
                .as_ref()
                .unwrap()
                .strip_prefix(&dir)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["a.scn", "b/1.scn", "b/2.scn"]);
    std::fs::write(dir.join("b/3.scn"), "title: t\n@bogus\n").unwrap();
    std::fs::write(dir.join("c.scn"), "nope\n").unwrap();
    let errs = load_dir(&dir).unwrap_err();
    assert_eq!(errs.0.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `@liberty NAME`, `{kind!NAME}` (not the value captured as NAME), `no-header: Name: pattern`
/// and `replied: CODE TEXT`.
#[test]
fn liberties_inequality_and_negative_checks() {
    let sc = load(
        "@liberty checksum-sum16\n> AT\n< +QFUPL: 1,{hex:a}\n< +QFUPL: 1,{hex:b=7800!a}\n\
         @mail\n    no-header: Content-Type: {any}charset{any}\n\
         @smtp\n    replied: 554 5.0.0 {any}\n",
    );
    assert!(sc.needs_emulator());
    let k: Vec<&StepKind> = sc.steps.iter().map(|s| &s.kind).collect();
    assert_eq!(
        k[0],
        &StepKind::Emulator(EmulatorAction::Liberty("checksum-sum16".into()))
    );
    let StepKind::Expect(e) = k[2] else {
        panic!("{k:?}")
    };
    let pats: Vec<&Pattern> = e.lines[1]
        .text
        .0
        .iter()
        .filter_map(|p| match p {
            Piece::Pattern(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(pats[0].capture.as_deref(), Some("b"));
    assert_eq!(pats[0].recorded.as_deref(), Some(&b"7800"[..]));
    assert_eq!(pats[0].differs.as_deref(), Some("a"));
    assert_eq!(pats[0].to_string(), "hex:b=7800!a");
    let mut b = Bindings::new();
    b.set("a", b"1f2".to_vec(), false);
    let m = LineMatcher::new(&e.lines[1].text, &b).unwrap();
    assert!(m.matches(b"+QFUPL: 1,1f2").is_none(), "the same value");
    assert!(m.matches(b"+QFUPL: 1,1f3").is_some());
    let StepKind::Mail(mail) = k[3] else {
        panic!("{k:?}")
    };
    assert!(
        matches!(&mail.checks[0].0, MailCheck::NoHeaderValue { name, .. } if name == "Content-Type")
    );
    let StepKind::Smtp(smtp) = k[4] else {
        panic!("{k:?}")
    };
    assert!(matches!(smtp.checks[0].0, SmtpCheck::RepliedLine(_)));
    // `!NAME` needs a value captured before.
    let err = load_str("l.scn", &format!("{HEAD}> AT\n< +QFUPL: 1,{{hex!nope}}\n")).unwrap_err();
    assert!(
        err.to_string().contains("no value captured as `nope`"),
        "{err}"
    );
}

/// A scenario is untrusted input: `@data file(...)` reads only from its data folder.
#[test]
fn payload_files_are_confined_to_the_data_folder() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("corpus");
    std::fs::create_dir_all(dir.join("edge/data")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/ok.txt"), b"ok").unwrap();
    std::fs::write(dir.join("edge/data/near.txt"), b"near").unwrap();
    std::fs::write(root.path().join("secret.txt"), b"TOP SECRET").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), dir.join("data/link.txt")).unwrap();
    std::os::unix::fs::symlink(dir.join("data/ok.txt"), dir.join("edge/data/inner.txt")).unwrap();
    // A data folder that is itself a link to elsewhere.
    std::fs::create_dir_all(dir.join("other")).unwrap();
    std::os::unix::fs::symlink(root.path(), dir.join("other/data")).unwrap();
    let scn = |rel: &str, path: &str| {
        let f = dir.join(rel);
        std::fs::write(
            &f,
            format!("{HEAD}> AT+QSMTPBODY=0,4,5\n< CONNECT\n@data file({path})\n< OK\n"),
        )
        .unwrap();
        load_file(&f)
    };
    for (rel, path) in [
        ("edge/a.scn", "../data/ok.txt"),
        ("edge/a.scn", "data/near.txt"),
        ("edge/a.scn", "./data/near.txt"),
        ("x.scn", "data/ok.txt"),
    ] {
        let sc = scn(rel, path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            sc.steps
                .iter()
                .any(|s| matches!(&s.kind, StepKind::Data(_)))
        );
    }
    let secret = root.path().join("secret.txt");
    let abs = secret.display().to_string();
    for (rel, path, why) in [
        ("edge/a.scn", abs.as_str(), "absolute"),
        ("edge/a.scn", "../../secret.txt", "outside"),
        ("edge/a.scn", "../../../../../../etc/passwd", "outside"),
        ("edge/a.scn", "data/../../../secret.txt", "outside"),
        ("edge/a.scn", "../edge/data/near.txt", "outside"),
        ("edge/a.scn", "../data/link.txt", "resolves outside"),
        ("x.scn", "data/link.txt", "resolves outside"),
        ("other/a.scn", "data/secret.txt", "resolves outside"),
    ] {
        let e = scn(rel, path).expect_err(path);
        assert_eq!(e.kind(), ErrorKind::OutsideData, "{path}: {e}");
        assert!(e.to_string().contains(why), "{path}: {e}");
        // file:line:col of the path inside the directive.
        assert_eq!((e.line(), e.col()), (6, 12), "{path}: {e}");
    }
    // A link that stays inside a data folder is fine only if it resolves into the folder the
    // path names: edge/data/inner.txt -> ../../data/ok.txt leaves edge/data.
    let e = scn("edge/a.scn", "data/inner.txt").expect_err("inner link");
    assert_eq!(e.kind(), ErrorKind::OutsideData);
    // Without a file system (load_str), the written path is checked all the same.
    let e = load_str(
        "edge/x.scn",
        &format!("{HEAD}> AT+QSMTPBODY=0,4,5\n< CONNECT\n@data file(/etc/passwd)\n"),
    )
    .expect_err("absolute");
    assert_eq!(e.kind(), ErrorKind::OutsideData);
}
