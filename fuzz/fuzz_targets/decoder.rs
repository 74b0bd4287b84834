//! Response-stream decoder: arbitrary bytes in arbitrary chunks. Asserts (in
//! `at_wire::fuzzing::decoder`) that chunked decoding equals one-shot decoding, that events tile
//! the stream byte-exactly and that no line exceeds the configured bound.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_wire::fuzzing::decoder(data));
