//! Deterministic reference emulator of Quectel and Multi-Tech modules' SMTP AT command sets.
#![forbid(unsafe_code)]
