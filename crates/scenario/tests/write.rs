//! The writer: `load_str(write(s)) == s` for generated scenarios and for the whole corpus.

use std::time::Duration;

use at_scenario::*;
use proptest::prelude::*;

const HEAD: &str = "title: t\nsource: 000 §2.2.1\nprofiles: ec25\n";

/// What the writer promises to keep: positions are the loader's, and evidence is not written
/// (`at_scenario::write`'s module docs).
fn normalized(steps: &[Step]) -> Vec<Step> {
    steps
        .iter()
        .cloned()
        .map(|mut s| {
            s.span = Span::default();
            match &mut s.kind {
                StepKind::Expect(e) => {
                    e.within_evidence = None;
                    e.lines.iter_mut().for_each(|l| {
                        l.span = Span::default();
                        l.evidence = Evidence::default();
                    });
                }
                StepKind::Urc(u) => {
                    u.within_evidence = None;
                    u.line.span = Span::default();
                    u.line.evidence = Evidence::default();
                }
                StepKind::Mail(m) => {
                    m.checks.iter_mut().for_each(|c| c.1 = Span::default());
                    m.evidence.clear();
                }
                StepKind::Smtp(m) => {
                    m.checks.iter_mut().for_each(|c| c.1 = Span::default());
                    m.evidence.clear();
                }
                _ => {}
            }
            s
        })
        .collect()
}

/// Adjacent literal pieces as one (the loader cannot tell them apart).
fn merged(pieces: Vec<Piece>) -> Text {
    let mut out: Vec<Piece> = Vec::new();
    for p in pieces {
        match (out.last_mut(), p) {
            (_, Piece::Lit(b)) if b.is_empty() => {}
            (Some(Piece::Lit(a)), Piece::Lit(b)) => a.extend_from_slice(&b),
            (_, p) => out.push(p),
        }
    }
    Text(out)
}

fn lit() -> impl Strategy<Value = Piece> {
    proptest::collection::vec(any::<u8>(), 1..12).prop_map(Piece::Lit)
}

fn var() -> impl Strategy<Value = Piece> {
    ("[A-Z][A-Z0-9_]{0,5}", "[a-z0-9.@]{0,6}").prop_map(|(name, d)| Piece::Var {
        name,
        default: Some(d),
    })
}

fn pattern() -> impl Strategy<Value = Piece> {
    let kind = prop_oneof![
        Just(PatternKind::Int),
        Just(PatternKind::Hex),
        Just(PatternKind::Ip),
        Just(PatternKind::Str),
        Just(PatternKind::Any),
        Just(PatternKind::Regex("[0-9]+(,[0-9]+)?".into())),
        Just(PatternKind::Regex("a{2,3}".into())),
    ];
    (kind, proptest::option::of("[a-z][a-z0-9_]{0,5}")).prop_map(|(kind, capture)| {
        let capture = match kind {
            PatternKind::Regex(_) => None,
            _ => capture,
        };
        Piece::Pattern(Pattern {
            kind,
            capture,
            recorded: None,
            differs: None,
        })
    })
}

/// An exact text (send lines, `@data`, `<<` lines): literal bytes and variables.
fn exact_text() -> impl Strategy<Value = Text> {
    proptest::collection::vec(prop_oneof![4 => lit(), 1 => var()], 1..4).prop_map(merged)
}

/// An expected text: literals, variables and patterns, never a final result code, captures
/// unique in the line.
fn expected_text() -> impl Strategy<Value = Text> {
    proptest::collection::vec(prop_oneof![3 => lit(), 1 => var(), 2 => pattern()], 1..5).prop_map(
        |pieces| {
            let mut seen = std::collections::HashSet::new();
            let mut v = vec![Piece::Lit(b"+X: ".to_vec())];
            for p in pieces {
                match p {
                    Piece::Pattern(mut pat) => {
                        if pat
                            .capture
                            .as_ref()
                            .is_some_and(|c| !seen.insert(c.clone()))
                        {
                            pat.capture = None;
                        }
                        v.push(Piece::Pattern(pat));
                    }
                    p => v.push(p),
                }
            }
            merged(v)
        },
    )
}

fn dur() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000).prop_map(Duration::from_millis),
        (0u64..86_400).prop_map(Duration::from_secs),
        (0u64..1_000_000_000).prop_map(Duration::from_nanos),
    ]
}

fn line(frame: FrameKind, text: Text) -> ExpectedLine {
    ExpectedLine {
        frame,
        text,
        only: None,
        span: Span::default(),
        evidence: Evidence::default(),
    }
}

fn expect() -> impl Strategy<Value = StepKind> {
    (
        proptest::collection::vec(expected_text(), 0..3),
        proptest::option::of(exact_text()),
        prop_oneof![
            Just("OK"),
            Just("ERROR"),
            Just("+CME ERROR: 10"),
            Just("CONNECT")
        ],
        proptest::option::of(dur()),
    )
        .prop_map(|(info, raw, fin, within)| {
            let mut lines: Vec<ExpectedLine> =
                info.into_iter().map(|t| line(FrameKind::Info, t)).collect();
            if let Some(r) = raw {
                lines.push(line(FrameKind::Raw, r));
            }
            lines.push(line(FrameKind::Final, Text(vec![Piece::Lit(fin.into())])));
            StepKind::Expect(Expect {
                lines,
                within,
                within_evidence: None,
            })
        })
}

fn addr() -> impl Strategy<Value = Text> {
    "[a-z]{1,5}@[a-z]{1,5}\\.com".prop_map(|s| Text(vec![Piece::Lit(s.into_bytes())]))
}

fn mail() -> impl Strategy<Value = StepKind> {
    let check = prop_oneof![
        addr().prop_map(MailCheck::MailFrom),
        proptest::collection::vec(addr(), 1..3).prop_map(MailCheck::RcptTo),
        expected_text().prop_map(MailCheck::Subject),
        expected_text().prop_map(MailCheck::Body),
        ("X-[A-Za-z]{1,6}", expected_text())
            .prop_map(|(name, value)| MailCheck::Header { name, value }),
        "[A-Z][a-z]{1,5}".prop_map(MailCheck::NoHeader),
        (0usize..4).prop_map(MailCheck::AttachmentCount),
    ];
    proptest::collection::vec(check, 1..5).prop_map(|checks| {
        StepKind::Mail(MailExpect {
            checks: checks.into_iter().map(|c| (c, Span::default())).collect(),
            evidence: Vec::new(),
        })
    })
}

fn smtp() -> impl Strategy<Value = StepKind> {
    let check = prop_oneof![
        expected_text().prop_map(SmtpCheck::Sent),
        expected_text().prop_map(SmtpCheck::NotSent),
        (200u16..600).prop_map(SmtpCheck::Replied),
    ];
    proptest::collection::vec(check, 1..4).prop_map(|checks| {
        StepKind::Smtp(SmtpExpect {
            checks: checks.into_iter().map(|c| (c, Span::default())).collect(),
            evidence: Vec::new(),
        })
    })
}

fn step() -> impl Strategy<Value = StepKind> {
    prop_oneof![
        (exact_text(), any::<bool>()).prop_map(|(text, cr)| StepKind::Send(Send {
            text,
            terminator: if cr { Terminator::Cr } else { Terminator::None },
        })),
        expect(),
        (expected_text(), proptest::option::of(dur())).prop_map(|(t, within)| {
            StepKind::Urc(ExpectUrc {
                line: line(FrameKind::Urc, t),
                within,
                within_evidence: None,
            })
        }),
        (
            prop_oneof![
                exact_text().prop_map(Payload::Literal),
                (1usize..5000).prop_map(|len| Payload::Text { len }),
                (1usize..5000, any::<u64>()).prop_map(|(len, seed)| Payload::Binary { len, seed }),
            ],
            proptest::option::of("[a-z][a-z0-9]{0,5}"),
            proptest::option::of(1usize..100),
            proptest::option::of(dur()),
        )
            .prop_map(|(payload, name, chunk, pace)| StepKind::Data(Data {
                payload,
                name,
                chunk,
                pace,
            })),
        (
            dur(),
            dur(),
            prop_oneof![Just(b"+++".to_vec()), Just(b"+ +\"".to_vec())]
        )
            .prop_map(|(b, a, sequence)| StepKind::Escape(Escape {
                guard_before: b,
                guard_after: a,
                sequence,
            })),
        dur().prop_map(StepKind::Wait),
        any::<bool>().prop_map(StepKind::Dtr),
        any::<bool>().prop_map(StepKind::Echo),
        mail(),
        Just(StepKind::NoMail),
        smtp(),
        prop_oneof![
            Just(EmulatorAction::Fault(Fault::SimNotReady)),
            Just(EmulatorAction::Fault(Fault::TcpConnectFails)),
            (0u64..86_400_000).prop_map(|ms| EmulatorAction::Fault(Fault::PdpDeactivateAt(
                Duration::from_millis(ms)
            ))),
            Just(EmulatorAction::Net(NetFault::Dns)),
            Just(EmulatorAction::Net(NetFault::Stall(ClientStage::MailFrom))),
            Just(EmulatorAction::Net(NetFault::Reset(ClientStage::Body))),
        ]
        .prop_map(StepKind::Emulator),
        (
            proptest::sample::select(SmtpStage::ALL.to_vec()),
            200u16..600,
            proptest::option::of("[A-Za-z0-9.]{1,4}( [A-Za-z0-9.]{1,4}){0,2}"),
        )
            .prop_map(|(stage, code, text)| StepKind::Sink(SinkAction::Reply {
                stage,
                code,
                text
            })),
        proptest::sample::select(SmtpStage::ALL.to_vec())
            .prop_map(|s| StepKind::Sink(SinkAction::Drop(s))),
    ]
}

/// Steps the loader reads back as written: two expected groups never touch (they would be one).
fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 1..12).prop_map(|kinds| {
        let mut out: Vec<Step> = Vec::new();
        for k in kinds {
            let touching = matches!(k, StepKind::Expect(Expect { within: None, .. }))
                && out
                    .last()
                    .is_some_and(|s| matches!(s.kind, StepKind::Expect(_)));
            if touching {
                out.push(Step {
                    kind: StepKind::Wait(Duration::from_secs(1)),
                    only: None,
                    span: Span::default(),
                });
            }
            out.push(Step {
                kind: k,
                only: None,
                span: Span::default(),
            });
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn load_of_write_is_identity(steps in steps()) {
        let mut sc = load_str("w.scn", &format!("{HEAD}> AT\n< OK\n")).unwrap();
        sc.steps = steps;
        let text = write(&sc);
        let back = load_str("w.scn", &text)
            .unwrap_or_else(|e| panic!("{e:?}\n--- written:\n{text}"));
        prop_assert_eq!(normalized(&back.steps), normalized(&sc.steps), "written:\n{}", text);
        prop_assert_eq!(&back.meta, &sc.meta);
    }
}

/// Every corpus file loads back from its written form with the same steps and header.
#[test]
fn corpus_round_trips() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let (scenarios, errors) = load_dir_each(dir);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(scenarios.len() > 50);
    let mut n = 0;
    for sc in scenarios {
        let text = write(&sc);
        let path = sc.path.clone().expect("loaded from a file");
        // Next to the file (its data paths are relative to it), not named `*.scn` (the corpus globs).
        let tmp = path.with_extension(format!("scn-written-{}", std::process::id()));
        std::fs::write(&tmp, &text).unwrap();
        let back = load_file(&tmp);
        std::fs::remove_file(&tmp).unwrap();
        let back = back.unwrap_or_else(|e| panic!("{}: {e:?}\n{text}", sc.name));
        assert_eq!(
            normalized(&back.steps),
            normalized(&sc.steps),
            "{}\n{text}",
            sc.name
        );
        n += 1;
    }
    assert!(n > 50);
}

/// Bytes the format gives a meaning stay bytes: a trailing `[E12]` is not evidence, `//` not a
/// comment, edge spaces are kept.
#[test]
fn reserved_bytes_stay_literal() {
    for bytes in [
        &b"+X: a [E12]"[..],
        b"+X: a // b",
        b" +X: a ",
        b"+X: ${A} {int}",
    ] {
        let t = Text(vec![Piece::Lit(bytes.to_vec())]);
        let text = format!("{HEAD}> AT\n< {}\n< OK\n", write::text(&t));
        let sc = load_str("w.scn", &text).unwrap_or_else(|e| panic!("{e:?}"));
        let StepKind::Expect(e) = &sc.steps[1].kind else {
            panic!("{text}")
        };
        assert_eq!(e.lines[0].text, t, "{text}");
        assert!(!e.lines[0].evidence.explicit, "{text}");
    }
}
