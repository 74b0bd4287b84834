//! RFC 2217: a client and a server back to back. Asserts (in
//! `at_rfc2217::fuzzing::roundtrip`) that the client's data, DTR and baud changes reach the
//! server intact and in order, and the device's bytes reach the client, whatever the chunking.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_rfc2217::fuzzing::roundtrip(data));
