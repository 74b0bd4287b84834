//! Judging device output on decoded events: `at_wire::Decoder` turns the bytes into lines
//! (information, final result codes, URCs, blank lines, each with its terminator), the expected
//! [`Item`]s are compared with them text first, then their framing.
//!
//! A different line is graded by the evidence of the expected line (documented → fail, ERRATA →
//! non-strict, implementation-defined → informational; the last two are consumed and judging goes
//! on). A URC the scenario allows is accepted between frames, where 27.007 lets a URC arrive (not
//! inside an information block). Framing is graded by the rule it breaks: a line not ended by
//! `<CR><LF>`, or a response not preceded by one, breaks 000 §2.1.2 (fail); a different number of
//! blank lines breaks only the ERRATA W1 layout (non-strict). Either way the events are the same
//! and the finding says so.

use at_wire::decoder::{Decoder, DecoderConfig, Echo, Kind, OwnedEvent, Pending, Terminator};

use crate::plan::Grade;
use crate::plan::{Captures, Item, ItemKind};

/// Longest line the judge decodes (longer lines are one `Overflow` event, a mismatch).
const MAX_LINE: usize = 64 * 1024;
/// The evidence of the `<CR><LF>` framing of every response.
pub(crate) const CRLF_RULE: &str = "000 §2.1.2";
/// The evidence of the blank-line layout around an information block.
pub(crate) const LAYOUT_RULE: &str = "ERRATA W1";

/// What differs, for the failure record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum What {
    /// Another line than the expected one (or none where one was expected).
    Line,
    /// The same line, framed differently.
    Framing(String),
    /// A hole's value differs from the recorded one.
    Recorded {
        pattern: String,
        recorded: Vec<u8>,
        got: Vec<u8>,
    },
    /// An echo where none was expected (W2).
    Echo,
}

/// One deviation found, offsets relative to the judged bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub grade: Grade,
    pub evidence: String,
    pub what: What,
    /// Where the difference starts.
    pub offset: usize,
    /// The expected item it is about, if any.
    pub item: Option<usize>,
    /// The line the device sent there, if any.
    pub got: Option<Vec<u8>>,
}

/// The outcome of judging the bytes received so far.
#[derive(Debug, Default)]
pub(crate) struct Judged {
    /// Bytes consumed (up to the end of the last expected line's terminator).
    pub end: usize,
    /// Deviations, in stream order; a `Grade::Fail` one ends judging.
    pub findings: Vec<Finding>,
    /// Pattern captures.
    pub captures: Captures,
    /// Accepted interleaved URCs (byte ranges).
    pub urcs: Vec<(usize, usize)>,
    /// Whether a final result code was consumed (the pending command is done).
    pub final_seen: bool,
}

impl Judged {
    /// The first finding that ends judging.
    pub fn fatal(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.grade == Grade::Fail)
    }
}

/// The decoder's view of `buf`: every complete line as an event (with `settled`, the held
/// partial line too: the device has gone quiet).
pub(crate) fn decode(buf: &[u8], pending: Option<&[u8]>, settled: bool) -> Vec<OwnedEvent> {
    let cfg = DecoderConfig {
        max_line: MAX_LINE,
        echo: Echo::Infer,
        ..DecoderConfig::default()
    };
    let mut dec = Decoder::new(cfg);
    if let Some(p) = pending {
        let p = Pending::infer(p, dec.config());
        dec.expect(p);
    }
    let mut events = Vec::new();
    dec.decode_all(buf, |e| events.push(e.to_owned()));
    if settled {
        dec.flush();
        dec.decode_all(&[], |e| events.push(e.to_owned()));
    }
    events
}

fn end_of(e: &OwnedEvent) -> usize {
    usize::try_from(e.offset + e.as_event().raw_len()).unwrap_or(usize::MAX)
}

fn start_of(e: &OwnedEvent) -> usize {
    usize::try_from(e.offset).unwrap_or(usize::MAX)
}

/// Framing state between two content lines.
struct Gap {
    /// Blank lines since the last content line.
    blanks: usize,
    /// Whether the last content line ended with an LF (else: stream start, echo, data mode).
    after_lf: bool,
    /// Offset of the first blank line (for an extra-blank-line diff).
    first_blank: Option<usize>,
}

/// Judges the framing of content line `e` (expected `want` blank lines before it).
fn framing(e: &OwnedEvent, gap: &Gap, want: usize, out: &mut Vec<Finding>, item: Option<usize>) {
    let start = start_of(e);
    if e.leading_nul > 0 {
        out.push(Finding {
            grade: Grade::Fail,
            evidence: CRLF_RULE.into(),
            what: What::Framing(format!("{} NUL byte(s) before the line", e.leading_nul)),
            offset: start,
            item,
            got: Some(e.line.clone()),
        });
    }
    if gap.blanks == 0 && !gap.after_lf {
        out.push(Finding {
            grade: Grade::Fail,
            evidence: CRLF_RULE.into(),
            what: What::Framing("no <CR><LF> before the response".into()),
            offset: start,
            item,
            got: Some(e.line.clone()),
        });
    } else if gap.blanks != want {
        let what = if gap.blanks < want {
            "a blank line missing before this line".to_owned()
        } else {
            format!(
                "{} blank line(s) before this line, W1 has {want}",
                gap.blanks
            )
        };
        out.push(Finding {
            grade: Grade::NonStrict,
            evidence: LAYOUT_RULE.into(),
            what: What::Framing(what),
            offset: if gap.blanks > want {
                gap.first_blank.unwrap_or(start)
            } else {
                start
            },
            item,
            got: Some(e.line.clone()),
        });
    }
    if e.term != Terminator::CRLF {
        let what = match (e.term.crs, e.term.lf) {
            (0, true) => "line ended by <LF> alone".to_owned(),
            (0, false) => "line not terminated".to_owned(),
            (n, true) => format!("line ended by {n} <CR>s and <LF>"),
            (_, false) => "line ended by <CR> without <LF>".to_owned(),
        };
        out.push(Finding {
            grade: Grade::Fail,
            evidence: CRLF_RULE.into(),
            what: What::Framing(what),
            offset: start + e.leading_nul as usize + e.line.len(),
            item,
            got: Some(e.line.clone()),
        });
    }
}

/// Judges `buf` (the device's bytes from the end of what was judged before) against `items`.
///
/// `after_lf`: whether the byte before `buf` was an LF (a response needs a `<CR><LF>` before
/// it); `pending`: the command line awaiting its final result code (tells information lines
/// from URCs); `settled`: no more bytes will come (the deadline passed). `None`: more bytes are
/// needed.
pub(crate) fn judge(
    buf: &[u8],
    items: &[Item],
    allowed: &[Item],
    after_lf: bool,
    pending: Option<&[u8]>,
    settled: bool,
) -> Option<Judged> {
    let events = decode(buf, pending, settled);
    let mut out = Judged::default();
    let mut gap = Gap {
        blanks: 0,
        after_lf,
        first_blank: None,
    };
    let mut prev: Option<ItemKind> = None;
    let mut k = 0;
    let mut i = 0;
    while k < items.len() {
        let Some(e) = events.get(i) else {
            return None; // more lines needed
        };
        match e.kind {
            Kind::Blank => {
                if e.term != Terminator::CRLF || e.leading_nul > 0 {
                    out.findings.push(Finding {
                        grade: Grade::Fail,
                        evidence: CRLF_RULE.into(),
                        what: What::Framing(if e.term.lf && e.term.crs == 0 {
                            "blank line ended by <LF> alone".into()
                        } else {
                            "blank line not framed by <CR><LF>".into()
                        }),
                        offset: start_of(e),
                        item: Some(k),
                        got: None,
                    });
                    return Some(out);
                }
                gap.first_blank.get_or_insert(start_of(e));
                gap.blanks += 1;
                i += 1;
                continue;
            }
            Kind::Overflow { .. } => {
                out.findings.push(Finding {
                    grade: Grade::Fail,
                    evidence: items
                        .get(k)
                        .map(|it| it.grading.evidence.clone())
                        .unwrap_or_default(),
                    what: What::Line,
                    offset: start_of(e),
                    item: Some(k),
                    got: None,
                });
                return Some(out);
            }
            _ => {}
        }
        let Some(item) = items.get(k) else { break };
        let in_block = item.kind == ItemKind::Info && prev == Some(ItemKind::Info);
        let want = usize::from(!in_block);
        let mut caps = Captures::new();
        if item.line.matches(&e.line, &mut caps) {
            framing(e, &gap, want, &mut out.findings, Some(k));
            for r in item.line.recorded(&e.line) {
                out.findings.push(Finding {
                    grade: Grade::Informational,
                    evidence: "implementation-defined".into(),
                    what: What::Recorded {
                        pattern: r.pattern,
                        recorded: r.recorded,
                        got: r.got,
                    },
                    offset: start_of(e),
                    item: Some(k),
                    got: Some(e.line.clone()),
                });
            }
            out.captures.extend(caps);
            out.final_seen |= matches!(e.kind, Kind::Final(_));
            if out.fatal().is_some() {
                return Some(out);
            }
            out.end = end_of(e);
            gap = Gap {
                blanks: 0,
                after_lf: e.term.lf,
                first_blank: None,
            };
            prev = Some(item.kind);
            k += 1;
            i += 1;
            continue;
        }
        // A URC the scenario allows, between frames (27.007: not inside a response's lines).
        if e.kind == Kind::Urc
            && !in_block
            && allowed
                .iter()
                .any(|a| a.line.matches(&e.line, &mut Captures::new()))
        {
            framing(e, &gap, 1, &mut out.findings, None);
            if out.fatal().is_some() {
                return Some(out);
            }
            out.urcs.push((start_of(e), end_of(e)));
            out.end = end_of(e);
            gap = Gap {
                blanks: 0,
                after_lf: e.term.lf,
                first_blank: None,
            };
            prev = Some(ItemKind::Urc);
            i += 1;
            continue;
        }
        // The device echoes a line the host sent while no echo is expected (W2).
        if e.kind == Kind::Echo {
            out.findings.push(Finding {
                grade: Grade::NonStrict,
                evidence: "ERRATA W2".into(),
                what: What::Echo,
                offset: start_of(e),
                item: Some(k),
                got: Some(e.line.clone()),
            });
            out.end = end_of(e);
            gap = Gap {
                blanks: 0,
                after_lf: e.term.lf,
                first_blank: None,
            };
            i += 1;
            continue;
        }
        // Another line: graded by the expected line's evidence. An unexpected URC is never
        // the expected line, whatever that line's evidence.
        let grade = if e.kind == Kind::Urc && item.kind != ItemKind::Urc {
            Grade::Fail
        } else {
            item.grading.grade()
        };
        // The first differing byte, when the expected line is exact.
        let differs_at = item.line.literal().map_or(0, |want| {
            want.iter().zip(&e.line).take_while(|(a, b)| a == b).count()
        });
        out.findings.push(Finding {
            grade,
            evidence: item.grading.evidence.clone(),
            what: What::Line,
            offset: start_of(e) + e.leading_nul as usize + differs_at,
            item: Some(k),
            got: Some(e.line.clone()),
        });
        if grade == Grade::Fail {
            return Some(out);
        }
        // Non-strict or informational: the device's line takes the expected one's place and
        // judging goes on.
        let e_final = e.kind.ends_response();
        let it_final = item.kind == ItemKind::Final;
        if it_final && !e_final {
            // Another kind of answer: the device's response up to its final result code.
            let Some(j) =
                (i..events.len()).find(|&j| events.get(j).is_some_and(|x| x.kind.ends_response()))
            else {
                if settled {
                    out.end = events.last().map_or(out.end, end_of);
                    return Some(out);
                }
                return None;
            };
            i = j;
        } else if !it_final && e_final {
            // A line the device does not send: the item is skipped, the final line stays.
            prev = Some(item.kind);
            k += 1;
            continue;
        }
        let e = events.get(i).unwrap_or(e);
        out.final_seen |= matches!(e.kind, Kind::Final(_));
        out.end = end_of(e);
        gap = Gap {
            blanks: 0,
            after_lf: e.term.lf,
            first_blank: None,
        };
        prev = Some(item.kind);
        k += 1;
        i += 1;
    }
    Some(out)
}

/// After the last step: the accepted URCs in `buf`, or the offset of the first byte that is
/// not one (the end of the last accepted URC). `None`: a partial line is still coming.
pub(crate) fn trailing(
    buf: &[u8],
    allowed: &[Item],
    pending: Option<&[u8]>,
    settled: bool,
) -> Result<Vec<(usize, usize)>, usize> {
    let events = decode(buf, pending, settled);
    let mut urcs = Vec::new();
    for e in &events {
        match e.kind {
            Kind::Blank if e.term == Terminator::CRLF && e.leading_nul == 0 => {}
            Kind::Urc
                if e.term == Terminator::CRLF
                    && allowed
                        .iter()
                        .any(|a| a.line.matches(&e.line, &mut Captures::new())) =>
            {
                urcs.push((start_of(e), end_of(e)));
            }
            _ => return Err(start_of(e)),
        }
    }
    // Blank lines after the last URC belong to whatever comes next.
    Ok(urcs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Grading;

    fn judge_all(buf: &[u8], items: &[Item]) -> Judged {
        judge(buf, items, &[], false, Some(b"AT+QSMTPDST?"), true).expect("settled")
    }

    fn dst() -> Vec<Item> {
        vec![
            Item::line(br#"+QSMTPDST: 1,"a""#),
            Item::line(br#"+QSMTPDST: 2,"b""#),
            Item::line(b"OK"),
        ]
    }

    #[test]
    fn w1_layout_passes() {
        let j = judge_all(
            b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n",
            &dst(),
        );
        assert!(j.findings.is_empty(), "{:?}", j.findings);
        assert!(j.final_seen);
        assert_eq!(j.end, 44);
    }

    #[test]
    fn blank_line_layout_is_non_strict_w1() {
        // Missing blank line before OK; an extra one between the information lines.
        for bad in [
            &b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\nOK\r\n"[..],
            b"\r\n+QSMTPDST: 1,\"a\"\r\n\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n",
            b"\r\n\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n",
        ] {
            let j = judge_all(bad, &dst());
            assert_eq!(j.findings.len(), 1, "{:?}", j.findings);
            let f = &j.findings[0];
            assert_eq!(
                (f.grade, f.evidence.as_str()),
                (Grade::NonStrict, LAYOUT_RULE)
            );
            assert!(matches!(f.what, What::Framing(_)));
            assert_eq!(j.end, bad.len());
        }
    }

    #[test]
    fn terminators_other_than_crlf_fail_000_2_1_2() {
        for (bad, at) in [
            (
                &b"\r\n+QSMTPDST: 1,\"a\"\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n"[..],
                18,
            ),
            (
                b"\r\n+QSMTPDST: 1,\"a\"\r\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n",
                18,
            ),
            (b"+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n", 0),
            (
                b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK",
                42,
            ),
        ] {
            let j = judge_all(bad, &dst());
            let f = j
                .fatal()
                .unwrap_or_else(|| panic!("{bad:?}: {:?}", j.findings));
            assert_eq!(f.evidence, CRLF_RULE);
            assert!(matches!(f.what, What::Framing(_)), "{f:?}");
            assert_eq!(f.offset, at, "{bad:?}");
        }
    }

    #[test]
    fn another_line_grades_by_its_evidence() {
        let got = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"B\"\r\n\r\nOK\r\n";
        let j = judge_all(got, &dst());
        let f = j.fatal().expect("documented: fail");
        assert_eq!(
            (f.what.clone(), f.item, f.offset),
            (What::Line, Some(1), 34)
        );
        // The same line from an ERRATA choice: non-strict, and judging goes on to OK.
        let mut items = dst();
        items[1] = items[1]
            .clone()
            .graded(Grading::of(&at_scenario::Evidence::parse("E24").unwrap()));
        let j = judge_all(got, &items);
        assert_eq!(j.findings.len(), 1);
        assert_eq!(j.findings[0].grade, Grade::NonStrict);
        assert_eq!(j.findings[0].evidence, "ERRATA E24");
        assert_eq!(j.end, got.len());
        // An implementation-defined final answered by a response with information: informational,
        // the whole response consumed.
        let items = vec![
            Item::line(b"+CME ERROR: 10")
                .graded(Grading::of(&at_scenario::Evidence::parse("impl").unwrap())),
        ];
        let got = b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n";
        let j = judge(got, &items, &[], false, Some(b"AT+CPIN?"), true).unwrap();
        assert_eq!(j.findings.len(), 1, "{:?}", j.findings);
        assert_eq!(j.findings[0].grade, Grade::Informational);
        assert_eq!(j.end, got.len());
    }

    #[test]
    fn allowed_urcs_between_frames_not_inside_a_block() {
        let urc = Item::urc(std::sync::Arc::new(crate::plan::LinePrefix(
            b"+QIURC: ".to_vec(),
        )));
        let between = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\nOK\r\n";
        let j = judge(
            between,
            &dst(),
            std::slice::from_ref(&urc),
            false,
            Some(b"AT+QSMTPDST?"),
            true,
        )
        .unwrap();
        assert!(j.findings.is_empty(), "{:?}", j.findings);
        assert_eq!(j.urcs.len(), 1);
        let inside = b"\r\n+QSMTPDST: 1,\"a\"\r\n\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n";
        let j = judge(inside, &dst(), &[urc], false, Some(b"AT+QSMTPDST?"), true).unwrap();
        assert_eq!(j.fatal().map(|f| f.item), Some(Some(1)));
    }

    /// The event judge's blank-line expectation is ERRATA W1 as `at_scenario::frame_w1` writes
    /// it: every sequence of frame kinds framed by it is judged without a finding.
    #[test]
    fn w1_as_frame_w1_writes_it() {
        use at_scenario::FrameKind as F;
        let kinds = [F::Info, F::Final, F::Urc];
        for n in 1..=4usize {
            for code in 0..3usize.pow(n as u32) {
                let seq: Vec<F> = (0..n)
                    .map(|i| kinds[(code / 3usize.pow(i as u32)) % 3])
                    .collect();
                let texts: Vec<Vec<u8>> =
                    (0..n).map(|i| format!("+L{i}: x").into_bytes()).collect();
                let bytes =
                    at_scenario::frame_w1(seq.iter().zip(&texts).map(|(k, t)| (*k, t.as_slice())));
                let items: Vec<Item> = seq
                    .iter()
                    .zip(&texts)
                    .map(|(k, t)| {
                        let mut it = Item::line(t);
                        it.kind = match k {
                            F::Info => ItemKind::Info,
                            F::Final => ItemKind::Final,
                            _ => ItemKind::Urc,
                        };
                        it
                    })
                    .collect();
                let j = judge(&bytes, &items, &[], false, None, true).expect("complete");
                assert!(j.findings.is_empty(), "{seq:?}: {:?}", j.findings);
                assert_eq!(j.end, bytes.len(), "{seq:?}");
            }
        }
    }

    #[test]
    fn partial_lines_wait_unless_settled() {
        let part = b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK";
        assert!(judge(part, &dst(), &[], false, Some(b"AT+QSMTPDST?"), false).is_none());
        assert!(judge(part, &dst(), &[], false, Some(b"AT+QSMTPDST?"), true).is_some());
    }

    #[test]
    fn recorded_value_differences_are_informational() {
        let sc = at_scenario::load_str(
            "r.scn",
            "title: t\nsource: 000 §2.2.5\nprofiles: ec25\n> AT\n< +QFUPL: 200,{hex=707}\n< OK\n",
        )
        .unwrap();
        let at_scenario::StepKind::Expect(e) = &sc.steps[1].kind else {
            panic!()
        };
        let b = at_scenario::Bindings::new();
        let items: Vec<Item> = e
            .lines
            .iter()
            .map(|l| Item {
                kind: if l.frame == at_scenario::FrameKind::Final {
                    ItemKind::Final
                } else {
                    ItemKind::Info
                },
                line: std::sync::Arc::new(at_scenario::LineMatcher::new(&l.text, &b).unwrap()),
                grading: Grading::of(&l.evidence),
                location: None,
            })
            .collect();
        let j = judge(
            b"\r\n+QFUPL: 200,5f07\r\n\r\nOK\r\n",
            &items,
            &[],
            false,
            None,
            true,
        )
        .unwrap();
        assert_eq!(j.findings.len(), 1);
        assert_eq!(j.findings[0].grade, Grade::Informational);
        assert!(matches!(&j.findings[0].what, What::Recorded { got, .. } if got == b"5f07"));
        let j = judge(
            b"\r\n+QFUPL: 200,707\r\n\r\nOK\r\n",
            &items,
            &[],
            false,
            None,
            true,
        )
        .unwrap();
        assert!(j.findings.is_empty());
        let j = judge(
            b"\r\n+QFUPL: 200,x\r\n\r\nOK\r\n",
            &items,
            &[],
            false,
            None,
            true,
        )
        .unwrap();
        assert_eq!(j.fatal().map(|f| f.what.clone()), Some(What::Line));
    }
}
