//! Proof that the hot paths do not allocate per line: a counting global allocator.
//!
//! The counter is per thread so the test harness's other threads do not disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use at_wire::decoder::{Decoder, DecoderConfig, Kind};
use at_wire::{LineAssembler, LineEvent};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: a global allocator needs `unsafe impl`; this one only counts and forwards every call
// unchanged to the system allocator, so it upholds `GlobalAlloc`'s contract exactly as `System`.
// (`at-wire` itself forbids unsafe code; this test binary is the only place it appears.)
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (out, ALLOCS.with(Cell::get) - before)
}

/// A module transcript (000 §2.2.2 with echo, W1 framing) plus URCs, repeated.
fn stream(repeats: usize) -> Vec<u8> {
    let block: &[u8] = b"AT+QSMTPDST?\r\r\n+QSMTPDST: 1,\"quectel_test@aol.com\"\r\n+QSMTPDST: 2,\"quectel_test@21cn.com\"\r\n\r\n+QSMTPPUT: 0,0\r\n\r\nOK\r\n\0\r\n+CME ERROR: 664\r\nCONNECT\r\n";
    block.repeat(repeats)
}

/// The counter itself works (so the zeros below mean something).
#[test]
fn counter_counts() {
    let (v, n) = allocations(|| vec![1u8; 100]);
    assert_eq!(v.len(), 100);
    assert!(n >= 1);
}

#[test]
fn decoder_does_not_allocate_per_line() {
    let input = stream(2000);
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.expect_line(b"AT+QSMTPDST?"); // one allocation per command, outside the measurement
    for chunk in [1usize, 7, 64, 4096] {
        let (lines, n) = allocations(|| {
            let mut lines = 0u64;
            let mut finals = 0u64;
            for part in input.chunks(chunk) {
                dec.decode_all(part, |ev| {
                    lines += 1;
                    finals += u64::from(matches!(ev.kind, Kind::Final(_)));
                });
            }
            assert!(finals >= 2000);
            lines
        });
        assert!(lines >= 2000 * 10, "{lines} lines");
        assert_eq!(
            n, 0,
            "{n} allocations for {lines} lines in chunks of {chunk}"
        );
    }
}

#[test]
fn assembler_does_not_allocate_per_line() {
    let mut input = Vec::new();
    for _ in 0..5000 {
        input.extend_from_slice(b"AT+QSMTPDST=1,1,\"quectel_test@aol.com\"\r\n");
    }
    let mut asm = LineAssembler::new(256);
    // Warm-up: the line buffer grows once to the longest line.
    let _ = asm.feed(b"AT+QSMTPDST=1,1,\"quectel_test@aol.com\"\r");
    let (lines, n) = allocations(|| {
        let mut lines = 0;
        let mut rest = &input[..];
        while !rest.is_empty() {
            let feed = asm.feed(rest);
            if matches!(feed.event, Some(LineEvent::Line { .. })) {
                lines += 1;
            }
            rest = &rest[feed.consumed..];
        }
        lines
    });
    assert_eq!(lines, 5000);
    assert_eq!(n, 0);
}
