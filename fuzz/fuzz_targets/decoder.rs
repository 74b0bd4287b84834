//! Response-stream decoder: arbitrary bytes in arbitrary chunks. Asserts (in
//! `at_wire::fuzzing::decoder`) that chunked decoding equals one-shot decoding, that events tile
//! the stream byte-exactly and that no line exceeds the configured bound.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Known at-wire issue, reported with repros (team NOTES, [fuzz] 14:58): a `max_line` below 2
    // (shorter than the `> ` prompt) breaks the bound and tiling checks. Those configurations
    // are skipped until at-wire rejects or handles them; every other one is fuzzed.
    if data.first().is_some_and(|&max_line| max_line < 2) {
        return;
    }
    at_wire::fuzzing::decoder(data)
});
