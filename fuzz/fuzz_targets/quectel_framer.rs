//! Quectel data mode (000 §1.3) with arbitrary timestamps and DTR: byte-by-byte equals
//! run-at-once, payload ≤ declared length, every byte accounted for
//! (`at_wire::fuzzing::quectel`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_wire::fuzzing::quectel(data));
