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
