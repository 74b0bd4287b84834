//! Multi-Tech `#PUTMAIL` body framing (002).

use at_wire::{MultiTechFramer, dot_stuff};
use proptest::prelude::*;
use rstest::rstest;

fn frame(max: usize, input: &[u8]) -> (Option<Result<Vec<u8>, at_wire::BodyOverflow>>, usize) {
    let mut f = MultiTechFramer::new(max);
    let n = f.push(input);
    (f.take_body(), n)
}

#[rstest]
// 002: "<content>" then "<CR><LF> . <CR><LF>"; the reply `OK` follows.
#[case::doc002_body("002 #PUTMAIL", b"Hello from the host\r\n.\r\n", Some(&b"Hello from the host\r\n"[..]), 24)]
#[case::doc002_empty_body("002 #PUTMAIL (start counts as after CRLF)", b".\r\n", Some(&b""[..]), 3)]
#[case::stuffed_dot("RFC 5321 §4.5.2", b"a\r\n..b\r\n.\r\n", Some(&b"a\r\n.b\r\n"[..]), 11)]
#[case::single_dot_line_unstuffed("RFC 5321 §4.5.2", b"..\r\n.\r\n", Some(&b".\r\n"[..]), 7)]
#[case::unstuffed_dot_dropped("RFC 5321 §4.5.2", b".x\r\n.\r\n", Some(&b"x\r\n"[..]), 7)]
#[case::bare_lf_not_line_end("002 (CR)(LF)", b"a\n.\r\n", None, 5)]
#[case::dot_cr_not_lf("RFC 5321 §4.5.2", b".\rz\r\n.\r\n", Some(&b"\rz\r\n"[..]), 8)]
#[case::stops_at_terminator("002", b"x\r\n.\r\nAT\r", Some(&b"x\r\n"[..]), 6)]
#[case::partial("002", b"x\r\n.\r", None, 5)]
fn bodies(
    #[case] doc: &str,
    #[case] input: &[u8],
    #[case] body: Option<&[u8]>,
    #[case] consumed: usize,
) {
    let (got, n) = frame(1024, input);
    assert_eq!(n, consumed, "{doc}");
    assert_eq!(got.map(|r| r.unwrap()).as_deref(), body, "{doc}");
}

#[test]
fn overflow_is_an_error_and_recovers_at_terminator() {
    let mut f = MultiTechFramer::new(4);
    let input = b"abcdef\r\n.\r\nAT";
    assert_eq!(f.push(input), 11);
    let err = f.result().unwrap().unwrap_err();
    assert_eq!((err.offset, err.len), (4, 8));
    assert!(err.to_string().contains("exceeds"));
}

#[test]
fn stuffing() {
    assert_eq!(dot_stuff(b""), b".\r\n");
    assert_eq!(dot_stuff(b"hi"), b"hi\r\n.\r\n");
    assert_eq!(dot_stuff(b".\r\n.."), b"..\r\n...\r\n.\r\n");
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n'), any::<u8>()],
        0..60,
    )
}

proptest! {
    /// decode(stuff(body)) == body (with the CRLF `dot_stuff` adds to an unterminated last line).
    #[test]
    fn stuffing_round_trip(body in body_bytes(), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut wire = dot_stuff(&body);
        let framed_len = wire.len();
        wire.extend_from_slice(&trailing);
        let (got, n) = frame(1 << 16, &wire);
        let mut expected = body.clone();
        if !body.is_empty() && !body.ends_with(b"\r\n") {
            expected.extend_from_slice(b"\r\n");
        }
        prop_assert_eq!(n, framed_len);
        prop_assert_eq!(got.unwrap().unwrap(), expected);
    }

    /// Any split of the input gives the same body and consumption.
    #[test]
    fn chunking_invariance(input in body_bytes(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5), max in 0usize..40) {
        let mut f = MultiTechFramer::new(max);
        let whole = f.push(&input);
        let whole_result = f.result().map(|r| r.map(<[u8]>::to_vec));
        let whole_body = f.body().to_vec();

        let mut g = MultiTechFramer::new(max);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut prev = 0;
        let mut total = 0;
        for p in points.into_iter().chain([input.len()]) {
            let n = g.push(&input[prev..p]);
            total += n;
            if n < p - prev { break; }
            prev = p;
        }
        prop_assert_eq!(total, whole);
        prop_assert_eq!(g.result().map(|r| r.map(<[u8]>::to_vec)), whole_result);
        prop_assert_eq!(g.body(), &whole_body[..]);
        prop_assert!(g.body().len() <= max);
    }
}
