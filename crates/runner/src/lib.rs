//! Replays scenarios against devices or the emulator and judges them byte-exactly.
#![forbid(unsafe_code)]
