//! SMTP sink session fed arbitrary client operations: replies are well-formed CRLF lines with
//! 3-digit codes, the transcript holds exactly the bytes exchanged, messages respect the size cap
//! (`smtp_sink::fuzzing::run`).
#![no_main]
libfuzzer_sys::fuzz_target!(|input: (u8, bool, Vec<smtp_sink::fuzzing::Op>)| {
    let (profile, tls, ops) = input;
    smtp_sink::fuzzing::run(profile, tls, &ops);
});
