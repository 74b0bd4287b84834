//! Issue 9: "no allocation per line on the hot path". Counts heap allocations while the
//! response decoder and the framers run over the generated streams (its own test binary: the
//! counting allocator is global).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use atconform_benches::{Mix, Stream, decode_counts, pendings, quectel_frame};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls. (`unsafe` is
// unavoidable in a `GlobalAlloc`; this test binary is the only place in the package with it.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCS.load(Ordering::Relaxed);
    let out = f();
    (ALLOCS.load(Ordering::Relaxed) - before, out)
}

/// One test: the counter is global, and tests in one binary run in parallel threads.
#[test]
fn hot_paths_allocate_nothing_per_line() {
    decoding_allocates_nothing_per_line();
    the_quectel_framer_allocates_per_growth_not_per_read();
}

fn decoding_allocates_nothing_per_line() {
    for mix in Mix::ALL {
        let stream = Stream::generate(mix);
        for read_size in [usize::MAX, 16] {
            let p = pendings(&stream);
            let (n, counts) = allocations(|| decode_counts(&stream.bytes, p, read_size));
            assert_eq!(counts, stream.expected);
            // The decoder's line buffer and settings, and the pending slot growing to the
            // longest command: nothing per line or per command (the large mix has 520K lines
            // and 174K commands).
            assert!(n <= 16, "{mix:?}, reads of {read_size}: {n} allocations");
        }
    }
}

fn the_quectel_framer_allocates_per_growth_not_per_read() {
    let payload = atconform_benches::binary_attachment(1 << 20, 9);
    let (n, framed) = allocations(|| quectel_frame(&payload, 16));
    assert_eq!(framed.map(|f| f.payload.len()), Some(payload.len()));
    // 65,536 reads; the payload Vec doubles ~20 times.
    assert!(n <= 32, "{n} allocations");
}
