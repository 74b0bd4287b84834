//! Command-line parser on raw bytes: `parse(encode(parse(x))) == parse(x)` and encoding is
//! stable (`at_wire::fuzzing::command_line`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_wire::fuzzing::command_line(data));
