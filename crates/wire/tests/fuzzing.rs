//! The fuzz entry points (`at_wire::fuzzing`) under proptest, so they are exercised in CI.

use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b'\r'),
            Just(b'\n'),
            Just(0u8),
            Just(b'+'),
            Just(b'.'),
            Just(b'"'),
            Just(b','),
            Just(b'A'),
            Just(b'T'),
            Just(b'O'),
            Just(b'K'),
            Just(b':'),
            Just(b' '),
            any::<u8>()
        ],
        0..160,
    )
}

proptest! {
    #[test]
    fn command_line(data in bytes()) {
        let mut line = b"AT+".to_vec();
        line.extend_from_slice(&data);
        at_wire::fuzzing::command_line(&line);
        at_wire::fuzzing::command_line(&data);
    }
    #[test]
    fn assembler(data in bytes()) { at_wire::fuzzing::assembler(&data); }
    #[test]
    fn decoder(data in bytes()) { at_wire::fuzzing::decoder(&data); }
    #[test]
    fn quectel(data in bytes()) { at_wire::fuzzing::quectel(&data); }
    #[test]
    fn multitech(data in bytes()) { at_wire::fuzzing::multitech(&data); }
}

/// Seeds a fuzzer should start from (000 §2.2.4 escape, 002 body, W1 transcript).
#[test]
fn seeds() {
    at_wire::fuzzing::quectel(&[100, 0, b'a', 0, b'b', 63, b'+', 0, b'+', 0, b'+', 63, b'x']);
    at_wire::fuzzing::multitech(&[64, 3, b'h', b'i', b'\r', b'\n', b'.', b'\r', b'\n']);
    at_wire::fuzzing::decoder(b"\x40\x00\x05AT+QSMTPDST?\r\r\n+QSMTPDST: 1,\"a\"\r\n\r\nOK\r\n");
}

/// cargo-fuzz `decoder` crashes (team log, fuzz 14:58): a `max_line` below the two bytes of the
/// `> ` prompt let the prompt escape the line bound and the event tiling. `Decoder::new` now
/// raises the bound to `MIN_MAX_LINE`.
#[test]
fn fuzz_regression_decoder_max_line_below_prompt() {
    for input in [
        &[0x00, 0x20, 0x00, 0x3e][..],
        &[0x01, 0x20, 0x00, 0x3e, 0x20][..],
        &[
            0x00, 0x7b, 0x69, 0x6e, 0x74, 0x7d, 0x54, 0x50, 0x00, 0x0a, 0x0f, 0x3e, 0x69, 0x6e,
            0x74, 0x7d, 0x54, 0x50, 0x00, 0x0a, 0x0f, 0x3e, 0x3e, 0x20, 0x0a, 0x3e, 0x20, 0x0a,
            0x4f, 0x4b, 0x0d, 0x0a,
        ][..],
    ] {
        at_wire::fuzzing::decoder(input);
    }
}

#[test]
fn decoder_max_line_is_at_least_the_prompt() {
    use at_wire::{Decoder, DecoderConfig, Kind, MIN_MAX_LINE};
    let mut d = Decoder::new(DecoderConfig {
        max_line: 0,
        ..DecoderConfig::default()
    });
    let mut p = at_wire::Pending::infer(b"AT+CMGS=1", &DecoderConfig::default());
    p.expects_prompt = true;
    d.expect(p);
    d.push(b"> ");
    let ev = d.poll_event().expect("the prompt is an event");
    assert!(matches!(ev.kind, Kind::Prompt), "{:?}", ev.kind);
    assert_eq!(ev.line.len(), MIN_MAX_LINE);
}
