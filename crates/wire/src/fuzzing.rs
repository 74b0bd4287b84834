//! Entry points for fuzz targets: each takes raw fuzzer bytes, drives one decoder or framer and
//! **asserts** its invariants (one-shot vs chunked equality, round trips, bounds). A failed
//! assertion panics, which is what a fuzzer reports. Not part of the stable API.

use alloc::vec::Vec;
use core::time::Duration;

use crate::assembler::{LineAssembler, LineEvent};
use crate::command::parse_command_line;
use crate::decoder::{Decoder, DecoderConfig, Echo, Kind, OwnedEvent, Pending};
use crate::multitech::{MultiTechFramer, dot_stuff};
use crate::quectel::{EndReason, Framed, FramerConfig, QuectelFramer};
use crate::time::Instant;

/// Splits `data` into a control prefix of `n` bytes and the rest.
fn split(data: &[u8], n: usize) -> (&[u8], &[u8]) {
    data.split_at(n.min(data.len()))
}

/// Cut points derived from a seed byte: every `(seed % 13) + 1` bytes.
fn cuts(seed: u8, len: usize) -> Vec<usize> {
    let step = usize::from(seed % 13) + 1;
    (step..len).step_by(step).collect()
}

/// Command-line parser: `parse(encode(parse(x))) == parse(x)`; never panics.
pub fn command_line(data: &[u8]) {
    if let Ok(line) = parse_command_line(data) {
        let bytes = line.to_bytes();
        assert_eq!(
            parse_command_line(&bytes).as_ref(),
            Ok(&line),
            "re-parse of encoding"
        );
        assert_eq!(line.to_bytes(), bytes);
    }
}

fn assemble(max: usize, data: &[u8], cut: &[usize]) -> Vec<(bool, Vec<u8>, u64, u64)> {
    let mut asm = LineAssembler::new(max);
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cut.iter().chain([&data.len()]) {
        let mut rest = data.get(prev..c).unwrap_or_default();
        while !rest.is_empty() {
            let feed = asm.feed(rest);
            assert!(feed.consumed > 0 && feed.consumed <= rest.len());
            match feed.event {
                Some(LineEvent::Line { line, start }) => {
                    assert!(line.len() <= max);
                    out.push((true, line.to_vec(), start, 0));
                }
                Some(LineEvent::Overflow { start, len }) => {
                    out.push((false, Vec::new(), start, len))
                }
                None => assert_eq!(feed.consumed, rest.len()),
            }
            rest = rest.get(feed.consumed..).unwrap_or_default();
        }
        prev = c;
    }
    out
}

/// Module-side line assembler: chunked equals one-shot. `data[0]` = max line, `data[1]` = cuts.
pub fn assembler(data: &[u8]) {
    let (ctl, data) = split(data, 2);
    let max = usize::from(ctl.first().copied().unwrap_or(64));
    let cut = cuts(ctl.get(1).copied().unwrap_or(0), data.len());
    assert_eq!(assemble(max, data, &[]), assemble(max, data, &cut));
}

fn decode(cfg: &DecoderConfig, pending: &Pending, data: &[u8], cut: &[usize]) -> Vec<OwnedEvent> {
    let mut dec = Decoder::new(cfg.clone());
    dec.expect(pending.clone());
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cut.iter().chain([&data.len()]) {
        dec.decode_all(data.get(prev..c).unwrap_or_default(), |e| {
            out.push(e.to_owned())
        });
        prev = c;
    }
    dec.flush();
    while let Some(e) = dec.poll_event() {
        out.push(e.to_owned());
    }
    out
}

/// The pull path: `push` + `poll_event` per chunk.
fn decode_pull(
    cfg: &DecoderConfig,
    pending: &Pending,
    data: &[u8],
    cut: &[usize],
) -> Vec<OwnedEvent> {
    let mut dec = Decoder::new(cfg.clone());
    dec.expect(pending.clone());
    let mut out = Vec::new();
    let mut prev = 0;
    let poll = |dec: &mut Decoder, out: &mut Vec<OwnedEvent>| {
        while let Some(e) = dec.poll_event() {
            out.push(e.to_owned());
        }
    };
    for &c in cut.iter().chain([&data.len()]) {
        let mut chunk = data.get(prev..c).unwrap_or_default();
        loop {
            let n = dec.push(chunk);
            chunk = chunk.get(n..).unwrap_or_default();
            poll(&mut dec, &mut out);
            if chunk.is_empty() {
                break;
            }
        }
        prev = c;
    }
    dec.flush();
    poll(&mut dec, &mut out);
    out
}

/// Response decoder: the batch path (`decode_all`, lines in place) equals the pull path
/// (`push` + `poll_event`); chunked equals one-shot; events tile the stream; lines within
/// bounds. `data[0]` = max line, `data[1]` = echo/prompt/numeric flags, `data[2]` = cuts.
pub fn decoder(data: &[u8]) {
    let (ctl, data) = split(data, 3);
    let max_line = usize::from(ctl.first().copied().unwrap_or(64));
    let flags = ctl.get(1).copied().unwrap_or(0);
    let cfg = DecoderConfig {
        max_line,
        echo: match flags % 3 {
            0 => Echo::On,
            1 => Echo::Off,
            _ => Echo::Infer,
        },
        numeric_codes: flags & 0x10 != 0,
        ..DecoderConfig::default()
    };
    let mut pending = Pending::infer(b"AT+QSMTPDST?", &cfg);
    pending.expects_prompt = flags & 0x20 != 0;
    let whole = decode(&cfg, &pending, data, &[]);
    let cut = cuts(ctl.get(2).copied().unwrap_or(0), data.len());
    assert_eq!(whole, decode(&cfg, &pending, data, &cut), "chunked differs");
    assert_eq!(
        whole,
        decode_pull(&cfg, &pending, data, &[]),
        "pull differs"
    );
    assert_eq!(
        whole,
        decode_pull(&cfg, &pending, data, &cut),
        "chunked pull differs"
    );
    let mut pos = 0u64;
    for e in &whole {
        let ev = e.as_event();
        assert_eq!(ev.offset, pos, "events must tile the stream");
        pos += ev.raw_len();
        assert!(ev.line.len() <= max_line.max(crate::decoder::MIN_MAX_LINE));
        if !matches!(ev.kind, Kind::Overflow { .. }) {
            let mut raw = Vec::new();
            ev.encode_raw(&mut raw);
            let at = usize::try_from(ev.offset).unwrap_or(usize::MAX);
            assert_eq!(data.get(at..at + raw.len()), Some(&raw[..]), "raw bytes");
        }
    }
    assert!(
        data.get(usize::try_from(pos).unwrap_or(usize::MAX)..)
            .unwrap_or_default()
            .iter()
            .all(|&b| b == 0)
    );
}

/// One Quectel session from fuzzer bytes: each pair of bytes is (delay in 16 ms units, byte), a
/// delay byte of 0xFF means DTR. Runs pushing byte by byte and pushing same-instant runs; with
/// `stream`, through `push_with`, the streamed bytes joined back in front of the payload.
fn quectel_run(
    declared: usize,
    ops: &[u8],
    bytewise: bool,
    stream: bool,
) -> (Option<Framed>, usize) {
    let cfg = FramerConfig {
        guard: Duration::from_millis(1000),
        ..FramerConfig::new(declared, Duration::from_secs(30))
    };
    let mut f = QuectelFramer::new(cfg, Instant::ZERO);
    let mut now = Instant::ZERO;
    let mut consumed = 0;
    let mut run: Vec<u8> = Vec::new();
    let mut streamed: Vec<u8> = Vec::new();
    let mut flush =
        |f: &mut QuectelFramer, now: Instant, run: &mut Vec<u8>, consumed: &mut usize| {
            let mut push = |f: &mut QuectelFramer, b: &[u8]| {
                if stream {
                    f.push_with(now, b, &mut |s: &[u8]| streamed.extend_from_slice(s))
                } else {
                    f.push(now, b)
                }
            };
            if bytewise {
                for b in run.iter() {
                    *consumed += push(f, core::slice::from_ref(b));
                }
            } else {
                *consumed += push(f, run);
            }
            run.clear();
        };
    for pair in ops.chunks(2) {
        let (d, b) = match pair {
            [d, b] => (*d, *b),
            _ => break,
        };
        if d == 0xFF {
            flush(&mut f, now, &mut run, &mut consumed);
            f.dtr(now);
            continue;
        }
        if d > 0 {
            flush(&mut f, now, &mut run, &mut consumed);
            now += Duration::from_millis(u64::from(d) * 16);
            while let Some(t) = f.poll_timeout() {
                if t > now {
                    break;
                }
                f.handle_timeout(t);
            }
        }
        run.push(b);
    }
    flush(&mut f, now, &mut run, &mut consumed);
    f.handle_timeout(now + Duration::from_secs(60));
    let mut r = f.take_result();
    if let Some(r) = &mut r {
        assert_eq!(r.streamed, streamed.len(), "streamed bytes are counted");
        streamed.extend_from_slice(&r.payload);
        r.payload = streamed;
        r.streamed = 0;
    }
    (r, consumed)
}

/// Quectel framer: byte-by-byte equals run-at-once; payload ≤ declared; nothing lost.
/// `data[0]` = declared length.
pub fn quectel(data: &[u8]) {
    let (ctl, ops) = split(data, 1);
    let declared = usize::from(ctl.first().copied().unwrap_or(16));
    let a = quectel_run(declared, ops, false, false);
    let b = quectel_run(declared, ops, true, false);
    assert_eq!(a, b, "chunking changed the outcome");
    let c = quectel_run(declared, ops, false, true);
    assert_eq!(a, c, "push_with streamed a different payload");
    let (Some(r), consumed) = a else {
        panic!("framer must finish after the input time");
    };
    assert!(r.payload.len() <= declared);
    assert!(r.leftover.len() <= 2);
    let escape = if r.end == EndReason::Escape { 3 } else { 0 };
    assert_eq!(consumed, r.payload.len() + escape + r.leftover.len());
}

/// Multi-Tech framer: chunked equals one-shot; `dot_stuff` round trip of the data as a body.
/// `data[0]` = max body, `data[1]` = cuts.
pub fn multitech(data: &[u8]) {
    let (ctl, data) = split(data, 2);
    let max = usize::from(ctl.first().copied().unwrap_or(64));
    let run = |cut: &[usize]| {
        let mut f = MultiTechFramer::new(max);
        let mut prev = 0;
        let mut total = 0;
        for &c in cut.iter().chain([&data.len()]) {
            let part = data.get(prev..c).unwrap_or_default();
            let n = f.push(part);
            total += n;
            if n < part.len() {
                break;
            }
            prev = c;
        }
        assert!(f.body().len() <= max);
        (total, f.result().map(|r| r.map(<[u8]>::to_vec)))
    };
    let cut = cuts(ctl.get(1).copied().unwrap_or(0), data.len());
    assert_eq!(run(&[]), run(&cut));
    let wire = dot_stuff(data);
    let mut f = MultiTechFramer::new(data.len() + 2);
    assert_eq!(f.push(&wire), wire.len());
    let mut expected = data.to_vec();
    if !data.is_empty() && !data.ends_with(b"\r\n") {
        expected.extend_from_slice(b"\r\n");
    }
    assert_eq!(f.result(), Some(Ok(&expected[..])));
}
