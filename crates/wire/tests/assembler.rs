//! Module-side command-line assembly (ERRATA W2).

use at_wire::{LineAssembler, LineEvent};
use proptest::prelude::*;

/// Owned form of the assembler's events, with the bytes each call consumed.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Ev {
    Line(Vec<u8>, u64),
    Overflow(u64, u64),
}

fn run(asm: &mut LineAssembler, mut bytes: &[u8], out: &mut Vec<Ev>, echo: &mut Vec<u8>) {
    while !bytes.is_empty() {
        let feed = asm.feed(bytes);
        assert!(feed.consumed > 0 && feed.consumed <= bytes.len());
        echo.extend_from_slice(&bytes[..feed.consumed]);
        match feed.event {
            Some(LineEvent::Line { line, start }) => out.push(Ev::Line(line.to_vec(), start)),
            Some(LineEvent::Overflow { start, len }) => out.push(Ev::Overflow(start, len)),
            None => assert_eq!(feed.consumed, bytes.len()),
        }
        bytes = &bytes[feed.consumed..];
    }
}

fn all(max: usize, bytes: &[u8]) -> Vec<Ev> {
    let mut asm = LineAssembler::new(max);
    let (mut out, mut echo) = (vec![], vec![]);
    run(&mut asm, bytes, &mut out, &mut echo);
    assert_eq!(echo, bytes, "every byte is consumed and echoed once (W2)");
    out
}

#[test]
fn lines_noise_and_crlf() {
    let got = all(64, b"\0\0\nAT\r\nATE0\r\r\nAT+QSMTPDST?\r");
    assert_eq!(
        got,
        vec![
            Ev::Line(b"AT".to_vec(), 3),
            Ev::Line(b"ATE0".to_vec(), 7),
            Ev::Line(b"AT+QSMTPDST?".to_vec(), 14),
        ]
    );
}

#[test]
fn stops_after_each_line() {
    // 000 §2.2.4: after the QSMTPBODY line the module is in data mode; the assembler must not
    // swallow the payload that follows in the same chunk.
    let input = b"AT+QSMTPBODY=0,5,120\rhello";
    let mut asm = LineAssembler::new(64);
    let feed = asm.feed(input);
    assert_eq!(feed.consumed, 21);
    assert_eq!(
        feed.event,
        Some(LineEvent::Line {
            line: b"AT+QSMTPBODY=0,5,120",
            start: 0
        })
    );
    assert!(asm.after_cr());
    asm.skip(5);
    assert_eq!(asm.offset(), 26);
    assert!(!asm.after_cr());
}

#[test]
fn overflow_recovers_at_next_cr() {
    let got = all(8, b"AT+QSMTPCLR=0123456789\rATI\r");
    assert_eq!(
        got,
        vec![Ev::Overflow(0, 22), Ev::Line(b"ATI".to_vec(), 23)]
    );
    // Exactly max bytes is fine.
    assert_eq!(all(3, b"ATI\r"), vec![Ev::Line(b"ATI".to_vec(), 0)]);
    assert_eq!(all(2, b"ATI\r"), vec![Ev::Overflow(0, 3)]);
}

#[test]
fn partial_line_is_held() {
    let mut asm = LineAssembler::new(64);
    let feed = asm.feed(b"AT+QSM");
    assert_eq!((feed.consumed, feed.event), (6, None));
    assert!(asm.in_line());
    let feed = asm.feed(b"TPCLR\r");
    assert_eq!(
        feed.event,
        Some(LineEvent::Line {
            line: b"AT+QSMTPCLR",
            start: 0
        })
    );
}

proptest! {
    /// Output is the same whatever the chunking; every byte is consumed exactly once.
    #[test]
    fn chunking_invariance(
        bytes in proptest::collection::vec(prop_oneof![
            Just(b'\r'), Just(b'\n'), Just(0u8), Just(b'A'), Just(b'T'), any::<u8>()
        ], 0..80),
        max in 0usize..16,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let whole = all(max, &bytes);
        for split in 0..=bytes.len() {
            let mut asm = LineAssembler::new(max);
            let (mut out, mut echo) = (vec![], vec![]);
            run(&mut asm, &bytes[..split], &mut out, &mut echo);
            run(&mut asm, &bytes[split..], &mut out, &mut echo);
            prop_assert_eq!(&out, &whole, "split at {}", split);
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut asm = LineAssembler::new(max);
        let (mut out, mut echo) = (vec![], vec![]);
        let mut prev = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            run(&mut asm, &bytes[prev..p], &mut out, &mut echo);
            prev = p;
        }
        prop_assert_eq!(&echo, &bytes);
        prop_assert_eq!(out.clone(), whole);
        for ev in out {
            if let Ev::Line(line, _) = ev {
                prop_assert!(line.len() <= max);
                prop_assert!(!line.contains(&b'\r'));
            }
        }
    }
}
