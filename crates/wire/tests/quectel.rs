//! Quectel data-mode framer (000 §1.3, §2.2.4, §2.2.5, §3.1).

use core::time::Duration;

use at_wire::quectel::{Step, apply_schedule, escape_schedule};
use at_wire::{EndReason, FramerConfig, Instant, QuectelFramer};
use proptest::prelude::*;
use rstest::rstest;

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn framer(declared: usize, input_time_s: u64) -> QuectelFramer {
    QuectelFramer::new(
        FramerConfig::new(declared, Duration::from_secs(input_time_s)),
        Instant::ZERO,
    )
}

/// 000 §2.2.4 and §3.1: `AT+QSMTPBODY=0,100,120`, "<Input 100 bytes data>" → `+QSMTPBODY: 100`.
#[test]
fn doc000_s2_2_4_full_length() {
    let mut f = framer(100, 120);
    let mut input = vec![b'a'; 100];
    input.extend_from_slice(b"AT\r");
    assert_eq!(
        f.push(ms(5), &input),
        100,
        "bytes after the 100th are command mode"
    );
    let r = f.result().unwrap();
    assert_eq!((r.len(), r.end, r.at), (100, EndReason::Length, ms(5)));
    assert_eq!(f.push(ms(6), b"AT\r"), 0);
}

/// 000 §2.2.4: "<Input 90 bytes data>" then `+++` → `+QSMTPBODY: 90`.
#[test]
fn doc000_s2_2_4_escape() {
    let mut f = framer(100, 120);
    f.push(ms(0), &[b'b'; 90]);
    let end = apply_schedule(&mut f, ms(0), &escape_schedule(b"", Duration::from_secs(1)));
    let r = f.result().unwrap();
    assert_eq!((r.len(), r.end, r.at), (90, EndReason::Escape, ms(2000)));
    assert_eq!(end, ms(2000));
}

/// 000 §2.2.4: 90 bytes, then 120 s pass → `+QSMTPBODY: 90`.
#[test]
fn doc000_s2_2_4_input_time() {
    let mut f = framer(100, 120);
    f.push(ms(100), &[b'c'; 90]);
    assert_eq!(f.poll_timeout(), Some(ms(120_000)));
    f.handle_timeout(ms(119_999));
    assert!(!f.is_finished());
    f.handle_timeout(ms(120_000));
    let r = f.result().unwrap();
    assert_eq!(
        (r.len(), r.end, r.at),
        (90, EndReason::InputTime, ms(120_000))
    );
}

/// 000 §2.2.5 `AT+QFUPL="RAM:test.txt",200,300,1` → `+QFUPL: 200,707`; §3.1 100 bytes.
#[rstest]
#[case::doc000_s2_2_5_qfupl(200, 300)]
#[case::doc000_s3_1_qfupl(100, 200)]
#[case::doc000_s3_1_body(100, 120)]
fn declared_length_ends(#[case] len: usize, #[case] timeout: u64) {
    let mut f = framer(len, timeout);
    // Arrives in pieces, including `+` bytes that are plainly payload.
    let data: Vec<u8> = (0..len)
        .map(|i| if i % 7 == 0 { b'+' } else { b'x' })
        .collect();
    for (k, chunk) in data.chunks(33).enumerate() {
        f.push(ms(10 * k as u64), chunk);
    }
    let r = f.result().unwrap();
    assert_eq!(
        (r.payload.as_slice(), r.end),
        (data.as_slice(), EndReason::Length)
    );
}

#[rstest]
// 000 §1.3 rule 1: data less than 1 s before `+++`.
#[case::data_too_close_before(&[(0, "abc"), (999, "+++")], None, "abc+++")]
// Rule 1 met exactly (inclusive), rules 2 and 3 met.
#[case::exact_guard_before(&[(0, "abc"), (1000, "+++")], Some((EndReason::Escape, 2000)), "abc")]
// Rule 2: `+++` spread over more than 1 s.
#[case::plus_too_slow(&[(0, "abc"), (1500, "+"), (2000, "+"), (2501, "+")], None, "abc+++")]
// Rule 2 met exactly: first and third `+` 1 s apart.
#[case::plus_exactly_within(&[(0, "abc"), (1500, "+"), (2000, "+"), (2500, "+")], Some((EndReason::Escape, 3500)), "abc")]
// Rule 2: other data between the `+`.
#[case::data_between(&[(0, "abc"), (1500, "+x++")], None, "abc+x++")]
// Rule 3: data within 1 s after.
#[case::data_too_close_after(&[(0, "abc"), (1500, "+++"), (2499, "d")], None, "abc+++d")]
// Rule 3 met exactly: data 1 s after completes the escape first; the `d` is command mode.
#[case::data_exactly_after(&[(0, "abc"), (1500, "+++"), (2500, "d")], Some((EndReason::Escape, 2500)), "abc")]
// Four `+`: the fourth breaks rule 2.
#[case::four_plus(&[(0, "abc"), (1500, "++++")], None, "abc++++")]
// Escape right after CONNECT (silence measured from CONNECT).
#[case::escape_at_start(&[(1000, "+++")], Some((EndReason::Escape, 2000)), "")]
#[case::plus_too_soon_after_connect(&[(999, "+++")], None, "+++")]
// A second, proper escape after a failed one.
#[case::retry(&[(0, "a"), (500, "+++"), (3000, "+++")], Some((EndReason::Escape, 4000)), "a+++")]
fn escape_rules(
    #[case] input: &[(u64, &str)],
    #[case] end: Option<(EndReason, u64)>,
    #[case] payload: &str,
) {
    let mut f = framer(100, 120);
    for (t, bytes) in input {
        f.push(ms(*t), bytes.as_bytes());
    }
    f.handle_timeout(ms(input.last().unwrap().0 + 1000));
    match end {
        Some((reason, at)) => {
            let r = f.result().unwrap();
            assert_eq!((r.end, r.at), (reason, ms(at)));
            assert_eq!(r.payload, payload.as_bytes());
        }
        None => {
            assert!(!f.is_finished());
            // DTR ends it (000 §1.3 with AT&D1); the held bytes are payload.
            f.dtr(ms(5000));
            let r = f.result().unwrap();
            assert_eq!(
                (r.end, r.payload.as_slice()),
                (EndReason::Dtr, payload.as_bytes())
            );
        }
    }
}

/// A `+++` that turns out to be payload but no longer fits the declared length.
#[test]
fn held_plus_overflowing_declared_length() {
    let mut f = framer(4, 120);
    f.push(ms(0), b"abc");
    assert_eq!(f.push(ms(2000), b"+++"), 3);
    assert_eq!(f.held_plus(), 3);
    assert_eq!(f.push(ms(2100), b"d"), 0, "the framer ended before `d`");
    let r = f.result().unwrap();
    assert_eq!(
        (r.payload.as_slice(), r.end, r.leftover.as_slice()),
        (&b"abc+"[..], EndReason::Length, &b"++"[..])
    );
}

#[test]
fn input_time_with_held_plus() {
    let mut f = framer(100, 2);
    f.push(ms(0), b"abc");
    f.push(ms(1500), b"++");
    f.handle_timeout(ms(2000));
    let r = f.result().unwrap();
    assert_eq!(
        (r.payload.as_slice(), r.end),
        (&b"abc++"[..], EndReason::InputTime)
    );
}

#[test]
fn escape_deadline_after_input_time_loses() {
    let mut f = framer(100, 2);
    f.push(ms(1500), b"+++");
    assert_eq!(f.poll_timeout(), Some(ms(2000)));
    f.handle_timeout(ms(2500));
    let r = f.result().unwrap();
    assert_eq!(
        (r.payload.as_slice(), r.end, r.at),
        (&b"+++"[..], EndReason::InputTime, ms(2000))
    );
}

#[test]
fn configurable_guard() {
    let cfg = FramerConfig {
        guard: Duration::from_millis(200),
        ..FramerConfig::new(50, Duration::from_secs(10))
    };
    let mut f = QuectelFramer::new(cfg, Instant::ZERO);
    f.push(ms(0), b"hello");
    let steps = escape_schedule(b" world", cfg.guard);
    assert_eq!(
        steps,
        vec![
            Step::Send(b" world".to_vec()),
            Step::Wait(Duration::from_millis(200)),
            Step::Send(b"+++".to_vec()),
            Step::Wait(Duration::from_millis(200)),
        ]
    );
    apply_schedule(&mut f, ms(300), &steps);
    let r = f.result().unwrap();
    assert_eq!(
        (r.payload.as_slice(), r.end, r.at),
        (&b"hello world"[..], EndReason::Escape, ms(700))
    );
}

/// One host action for the property tests.
#[derive(Clone, Debug)]
enum Op {
    Send(u16, Vec<u8>),
    Dtr(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u16..1600, proptest::collection::vec(prop_oneof![Just(b'+'), Just(b'+'), any::<u8>()], 1..6))
            .prop_map(|(d, b)| Op::Send(d, b)),
        1 => (0u16..1600).prop_map(Op::Dtr),
    ]
}

/// Runs ops (delays relative to the previous op, in ms), splitting each send as `split` says.
fn run(cfg: FramerConfig, ops: &[Op], split: bool) -> (Option<at_wire::Framed>, Vec<u8>, usize) {
    run_mode(cfg, ops, split, false)
}

/// [`run`], with `push_with` when `stream`: the streamed slices are joined back in front of the
/// result's payload (after checking `streamed` counts them), so both modes compare equal.
fn run_mode(
    cfg: FramerConfig,
    ops: &[Op],
    split: bool,
    stream: bool,
) -> (Option<at_wire::Framed>, Vec<u8>, usize) {
    let mut streamed = Vec::new();
    let mut push = |f: &mut QuectelFramer, now: Instant, b: &[u8]| {
        if stream {
            f.push_with(now, b, &mut |run: &[u8]| {
                assert!(!run.is_empty());
                streamed.extend_from_slice(run);
            })
        } else {
            f.push(now, b)
        }
    };
    let mut f = QuectelFramer::new(cfg, Instant::ZERO);
    let mut now = Instant::ZERO;
    let mut consumed_total = 0;
    let mut unconsumed = Vec::new();
    for op in ops {
        let (Op::Send(d, _) | Op::Dtr(d)) = op;
        now += Duration::from_millis(u64::from(*d));
        while let Some(t) = f.poll_timeout() {
            if t > now {
                break;
            }
            f.handle_timeout(t);
        }
        match op {
            Op::Send(_, bytes) => {
                let n = if split {
                    let mut n = 0;
                    for b in bytes.chunks(1) {
                        let c = push(&mut f, now, b);
                        n += c;
                        if c == 0 {
                            break;
                        }
                    }
                    n
                } else {
                    push(&mut f, now, bytes)
                };
                assert!(n <= bytes.len());
                if f.is_finished() {
                    unconsumed.extend_from_slice(&bytes[n..]);
                } else {
                    assert_eq!(n, bytes.len(), "a running framer consumes everything");
                }
                consumed_total += n;
            }
            Op::Dtr(_) => f.dtr(now),
        }
    }
    f.handle_timeout(now + Duration::from_secs(1000));
    let mut r = f.take_result();
    if let Some(r) = &mut r {
        assert_eq!(r.streamed, streamed.len());
        if !stream {
            assert_eq!(r.streamed, 0);
        }
        let len = r.len();
        streamed.extend_from_slice(&r.payload);
        r.payload = streamed;
        r.streamed = 0;
        assert_eq!(r.len(), len);
    }
    (r, unconsumed, consumed_total)
}

proptest! {
    /// Payload never exceeds the declared length; everything consumed is accounted for.
    #[test]
    fn payload_within_declared(ops in proptest::collection::vec(op(), 0..20), declared in 0usize..12) {
        let cfg = FramerConfig::new(declared, Duration::from_secs(5));
        let (r, _, consumed) = run(cfg, &ops, false);
        let r = r.expect("finished after input time");
        prop_assert!(r.payload.len() <= declared);
        let escape = if r.end == EndReason::Escape { 3 } else { 0 };
        // Consumed bytes = payload + escape + leftover, except that escapes that were held as
        // plus... are all payload or escape: nothing is lost.
        prop_assert_eq!(consumed, r.payload.len() + escape + r.leftover.len());
        prop_assert!(r.leftover.len() <= 2);
    }

    /// Same result whether the bytes of an instant arrive in one push or byte by byte.
    #[test]
    fn chunking_invariance(ops in proptest::collection::vec(op(), 0..20), declared in 1usize..40) {
        let cfg = FramerConfig::new(declared, Duration::from_secs(8));
        prop_assert_eq!(run(cfg, &ops, false), run(cfg, &ops, true));
    }

    /// `push_with` streams exactly the payload `push` collects, for any timing and chunking.
    #[test]
    fn streaming_equals_collecting(
        ops in proptest::collection::vec(op(), 0..20),
        declared in 0usize..40,
        split in any::<bool>(),
    ) {
        let cfg = FramerConfig::new(declared, Duration::from_secs(8));
        prop_assert_eq!(run_mode(cfg, &ops, split, true), run(cfg, &ops, split));
    }

    /// `+++` with data less than a guard before it is payload.
    #[test]
    fn plus_without_silence_is_payload(
        data in proptest::collection::vec(any::<u8>().prop_filter("no +", |b| *b != b'+'), 1..50),
        gap in 0u64..1000,
    ) {
        let mut f = framer(1000, 120);
        f.push(ms(0), &data);
        f.push(ms(gap), b"+++");
        f.handle_timeout(ms(gap + 5000));
        f.dtr(ms(gap + 5000));
        let r = f.result().unwrap();
        prop_assert_eq!(r.end, EndReason::Dtr);
        let mut expected = data.clone();
        expected.extend_from_slice(b"+++");
        prop_assert_eq!(&r.payload, &expected);
    }

    /// A guarded escape ends data mode with exactly the data before it.
    #[test]
    fn guarded_escape_ends(
        data in proptest::collection::vec(any::<u8>(), 0..50),
        guard_ms in 1u64..3000,
        extra in 0u64..500,
    ) {
        let guard = Duration::from_millis(guard_ms);
        let cfg = FramerConfig { guard, ..FramerConfig::new(data.len() + 1, Duration::from_secs(60)) };
        let mut f = QuectelFramer::new(cfg, Instant::ZERO);
        let steps = escape_schedule(&data, guard + Duration::from_millis(extra));
        apply_schedule(&mut f, ms(guard_ms), &steps);
        let r = f.result().unwrap();
        prop_assert_eq!((r.end, &r.payload), (EndReason::Escape, &data));
    }
}

/// An independent, look-ahead model of 000 §1.3 over a whole timed input, to check the
/// streaming framer against.
#[derive(Clone, Copy, Debug)]
enum Ev {
    Byte(u8),
    Dtr,
}

fn model(
    declared: usize,
    input_time: u64,
    guard: u64,
    evs: &[(u64, Ev)],
) -> (Vec<u8>, EndReason, u64, Vec<u8>) {
    let deadline = input_time;
    if declared == 0 {
        return (vec![], EndReason::Length, 0, vec![]);
    }
    let mut payload = Vec::new();
    let mut last_rx = 0u64;
    let mut i = 0;
    while let Some(&(t, e)) = evs.get(i) {
        if t >= deadline {
            break;
        }
        match e {
            Ev::Dtr => return (payload, EndReason::Dtr, t, vec![]),
            Ev::Byte(b'+') if t - last_rx >= guard => {
                let mut k = 1;
                while k < 3
                    && matches!(evs.get(i + k), Some(&(tj, Ev::Byte(b'+'))) if tj - t <= guard && tj < deadline)
                {
                    k += 1;
                }
                let t_last = evs[i + k - 1].0;
                let next = evs.get(i + k).map(|e| e.0);
                if k == 3 && t_last + guard <= deadline && next.is_none_or(|n| n >= t_last + guard)
                {
                    return (payload, EndReason::Escape, t_last + guard, vec![]);
                }
                let flush_at = next.filter(|&n| n < deadline).unwrap_or(deadline);
                for m in 0..k {
                    payload.push(b'+');
                    if payload.len() == declared {
                        return (payload, EndReason::Length, flush_at, vec![b'+'; k - m - 1]);
                    }
                }
                last_rx = t_last;
                i += k;
            }
            Ev::Byte(b) => {
                payload.push(b);
                last_rx = t;
                if payload.len() == declared {
                    return (payload, EndReason::Length, t, vec![]);
                }
                i += 1;
            }
        }
    }
    (payload, EndReason::InputTime, deadline, vec![])
}

fn timed_events() -> impl Strategy<Value = Vec<(u64, Ev)>> {
    // Steps of 250 ms hit the 1 s guard boundaries exactly.
    proptest::collection::vec(
        (
            prop_oneof![3 => Just(0u64), 3 => Just(250), 2 => Just(500), 2 => Just(1000), 1 => Just(1250), 1 => Just(2000)],
            prop_oneof![12 => prop_oneof![Just(b'+'), Just(b'+'), Just(b'a')].prop_map(Ev::Byte), 1 => Just(Ev::Dtr)],
        ),
        0..24,
    )
    .prop_map(|steps| {
        let mut t = 0;
        steps.into_iter().map(|(d, e)| { t += d; (t, e) }).collect()
    })
}

proptest! {
    /// The streaming framer agrees with the look-ahead model on payload, end, instant, leftover.
    #[test]
    fn agrees_with_model(evs in timed_events(), declared in 0usize..10, input_s in 1u64..12) {
        let cfg = FramerConfig::new(declared, Duration::from_secs(input_s));
        let mut f = QuectelFramer::new(cfg, Instant::ZERO);
        for &(t, e) in &evs {
            while let Some(d) = f.poll_timeout() {
                if d > ms(t) { break; }
                f.handle_timeout(d);
            }
            match e {
                Ev::Byte(b) => { f.push(ms(t), &[b]); }
                Ev::Dtr => f.dtr(ms(t)),
            }
        }
        f.handle_timeout(ms(1_000_000));
        let r = f.take_result().unwrap();
        let (payload, end, at, leftover) = model(declared, input_s * 1000, 1000, &evs);
        prop_assert_eq!((r.payload, r.end, r.at, r.leftover), (payload, end, ms(at), leftover));
    }
}
