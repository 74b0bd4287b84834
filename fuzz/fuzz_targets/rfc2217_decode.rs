//! RFC 2217 (Telnet COM port control): arbitrary network bytes into a server and a client.
//! Asserts (in `at_rfc2217::fuzzing::decode`) that chunked input gives the same events and
//! replies as one-shot input and that output stays within the input's bounds.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| at_rfc2217::fuzzing::decode(data));
