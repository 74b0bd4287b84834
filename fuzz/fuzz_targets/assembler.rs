//! Module-side line assembler (host bytes → command lines): chunked equals one-shot, lines
//! bounded, overflow reported with its offset (`at_wire::fuzzing::assembler`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_wire::fuzzing::assembler(data));
