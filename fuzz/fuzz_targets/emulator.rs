//! Emulator fed arbitrary host input, time, DTR, delivery outcomes and faults: after any input
//! (and the documented recovery: `+++` with guard times, timeouts), `AT` answers `OK`
//! (`at_emulator::fuzzing::run`).
#![no_main]
libfuzzer_sys::fuzz_target!(|input: (u8, Vec<at_emulator::fuzzing::Op>)| {
    let (profile, ops) = input;
    at_emulator::fuzzing::run(profile, &ops);
});
