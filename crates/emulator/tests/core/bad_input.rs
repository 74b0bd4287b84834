//! Bad input never wedges the module, and errors keep earlier state (issue: "Bad input").

use core::time::Duration;

use proptest::prelude::*;

use crate::util::{Bench, s};

#[test]
fn unknown_and_malformed_lines_answer_error() {
    let mut b = Bench::quiet("ec25", Default::default());
    for bad in [
        "AT+NOSUCH",
        "AT+QSMTPCLR?", // no read form
        "AT+QSMTPPUT",  // no execute form
        "AT+QSMTPDST=1,1,\"unterminated",
        "ATX9",
        "ATS0?",
        "ATD123",
        "AT#PUTMAIL", // Multi-Tech command on a Quectel module
        "ATI5",
        "ATE2",
        "XYZ",
    ] {
        assert_eq!(b.cmd(bad), "\r\nERROR\r\n", "{bad}");
    }
    // An over-long line is discarded up to its CR; the next line works.
    let long = format!("AT+QSMTPSUB=0,\"{}\"", "a".repeat(2000));
    assert_eq!(b.cmd(&long), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
}

#[test]
fn a_bad_recipient_keeps_earlier_ones() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(b.cmd("AT+QSMTPDST=1,1,\"a@x.com\""), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPDST=1,2,\"b@x.com\""), "\r\nOK\r\n");
    for bad in [
        "AT+QSMTPDST=1,4,\"c@x.com\"",
        "AT+QSMTPDST=2,1,\"c@x.com\"",
        "AT+QSMTPDST=1,1",
        "AT+QSMTPDST=1,1,\"\"",
        "AT+QSMTPDST=1,,\"c@x.com\"",
        "AT+QSMTPDST=1,1,\"c@x.com\",5",
        "AT+QSMTPDST=\"1\",1,\"c@x.com\"",
    ] {
        assert_eq!(b.cmd(bad), "\r\n+CME ERROR: 664\r\n", "{bad}");
    }
    assert_eq!(
        b.cmd("AT+QSMTPDST?"),
        "\r\n+QSMTPDST: 1,\"a@x.com\"\r\n+QSMTPDST: 2,\"b@x.com\"\r\n\r\nOK\r\n"
    );
}

#[test]
fn an_error_in_a_concatenated_line_stops_it() {
    let mut b = Bench::quiet("ec25", Default::default());
    assert_eq!(
        b.cmd("AT+QSMTPDST=1,1,\"a@x.com\";+QSMTPDST=9;+QSMTPDST=1,1,\"b@x.com\""),
        "\r\n+CME ERROR: 664\r\n"
    );
    assert_eq!(
        b.cmd("AT+QSMTPDST?"),
        "\r\n+QSMTPDST: 1,\"a@x.com\"\r\n\r\nOK\r\n"
    );
    // Data mode must end the line, and cannot follow a send on the same line.
    assert_eq!(b.cmd("AT+QSMTPBODY=0,5;+QSMTPCLR"), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT+QSMTPPUT=60;+QSMTPBODY=0,5"), "\r\nERROR\r\n");
    assert!(b.no_new_delivery());
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
    assert_eq!(
        b.cmd("ATE0I"),
        "\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A03M4G\r\n\r\nOK\r\n"
    );
}

fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        Just(b"AT+QSMTPBODY=0,50,3\r".to_vec()),
        Just(b"AT+QFUPL=\"RAM:f\",40,4\r".to_vec()),
        Just(b"AT+QSMTPDST=1,1,\"a@b.c\"\r".to_vec()),
        Just(b"AT+QIACT=1\r".to_vec()),
        Just(b"AT+QSMTPCFG=\"smtpserver\",\"h\",25\r".to_vec()),
        Just(b"AT+QSMTPPUT=60\r".to_vec()),
        Just(b"ATE0\r".to_vec()),
        Just(b"AT&D1\r".to_vec()),
        Just(b"+++".to_vec()),
        Just(b"\r\n".to_vec()),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Bytes(Vec<u8>),
    Wait(u16),
    Dtr(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => fragment().prop_map(Op::Bytes),
        1 => (0u16..5000).prop_map(Op::Wait),
        1 => any::<bool>().prop_map(Op::Dtr),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// After any input, `+++` with guard times (or the data mode's own timeout) and `AT<CR>`
    /// get `OK`: the module never wedges (issue "Bad input").
    #[test]
    fn never_wedges(profile in prop::sample::select(vec!["ec25", "ag35", "multitech"]), ops in proptest::collection::vec(op(), 0..24)) {
        let mut b = Bench::new(profile);
        for op in ops {
            match op {
                Op::Bytes(bytes) => { b.send(&bytes); }
                Op::Wait(ms) => { b.advance_ms(u64::from(ms)); }
                Op::Dtr(v) => b.m.set_dtr(v),
            }
        }
        b.m.set_dtr(true);
        b.advance_ms(1100);
        b.send(b"+++");
        b.advance_ms(1100);
        // Whatever data mode is left ends on its own timer (all are bounded, and finite).
        b.advance(Duration::from_secs(120));
        // End any partial command line, then ask.
        b.send(b"\r");
        let out = b.send(b"AT\r");
        prop_assert!(s(&out).ends_with("\r\nOK\r\n"), "got {:?}", s(&out));
        // Output is bounded: no byte is produced without input or time.
        prop_assert_eq!(b.advance(Duration::ZERO), Vec::<u8>::new());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The fuzzing entry point (structure-aware operations) on random bytes.
    #[test]
    fn fuzz_entry_point_holds(profile in any::<u8>(), seed in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut u = arbitrary::Unstructured::new(&seed);
        let ops: Vec<at_emulator::fuzzing::Op> = u.arbitrary().unwrap_or_default();
        at_emulator::fuzzing::run(profile, &ops);
    }
}
