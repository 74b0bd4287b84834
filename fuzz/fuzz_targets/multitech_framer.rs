//! Multi-Tech `#PUTMAIL` body framer (002, CRLF.CRLF): chunked equals one-shot, and
//! `dot_stuff` → framer round-trips any body (`at_wire::fuzzing::multitech`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_wire::fuzzing::multitech(data));
