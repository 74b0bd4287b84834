//! Deterministic reference emulator of Quectel and Multi-Tech modules' SMTP AT command sets.
//!
//! The [`Emulator`] is a sans-IO state machine: the caller feeds it host bytes with the instant
//! they arrived ([`Emulator::handle_input`]), DTR changes and timer expiries, and drains the
//! module's bytes ([`Emulator::poll_output`]) and the deliveries it wants made
//! ([`Emulator::poll_action`]). It never reads a clock, so a 120 s `<input_time>` or a 300 s
//! `AT+QSMTPPUT` timeout costs no wall time under virtual time. In process, the core runs on
//! virtual time under its one [`driver::Driver`]; [`serve`] runs it behind a PTY or TCP on a
//! real clock.
//!
//! Behaviour follows the manuals (000 Quectel SMTP note, 001 AG35, 002 Multi-Tech) and the
//! choices in `ERRATA.md`; commands, limits and error tables come from [`at_catalog`], command
//! lines are parsed by [`at_wire`]. [`quirks`] makes it misbehave on purpose, [`liberties`] makes
//! the other choice where the manuals leave room, [`faults`] injects module and network faults.
//!
//! ```
//! use at_emulator::{Action, Emulator, EmulatorConfig};
//! use at_mailer::{Outcome, Transcript};
//! use at_wire::Instant;
//! use core::time::Duration;
//!
//! let t0 = Instant::ZERO;
//! let mut emu = Emulator::new(EmulatorConfig::builtin("ec25").unwrap(), t0);
//! for line in [
//!     "ATE0",
//!     "AT+QIACT=1",
//!     "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25",
//!     "AT+QSMTPDST=1,1,\"quectel_test@163.com\"",
//!     "AT+QSMTPBODY=0,5,120",
//! ] {
//!     emu.handle_input(t0, format!("{line}\r").as_bytes());
//! }
//! emu.handle_input(t0, b"hello"); // 5 bytes end data mode
//! emu.handle_input(t0, b"AT+QSMTPPUT=300\r");
//! let Some(Action::Deliver { id, job, .. }) = emu.poll_action() else { panic!() };
//! assert_eq!(job.body.bytes, b"hello");
//! emu.handle_delivery(t0 + Duration::from_secs(2), id, Outcome { result: Ok(()), transcript: Transcript::default() });
//! let mut out = Vec::new();
//! emu.poll_output(&mut out);
//! assert!(out.ends_with(b"\r\n+QSMTPBODY: 5\r\n\r\nOK\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod datamode;
pub mod driver;
pub mod faults;
mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod liberties;
mod machine;
mod mail;
pub mod quirks;
pub mod serve;
pub mod serve_rfc2217;
mod ssl;

pub use crate::faults::Fault;
pub use crate::liberties::{Liberty, LibertySet};
pub use crate::machine::{
    Action, BOOT_TIME, ConfigError, DEFAULT_EPOCH_UNIX, DeliveryId, Emulator, EmulatorConfig,
};
pub use crate::mail::{failure_codes, outcome_codes};
pub use crate::quirks::{Quirk, QuirkSet};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulator_is_send_and_debug_hides_secrets() {
        fn is_send<T: Send>() {}
        is_send::<Emulator>();
        let mut emu = Emulator::new(
            EmulatorConfig::builtin("ec25").unwrap(),
            at_wire::Instant::ZERO,
        );
        emu.handle_input(
            at_wire::Instant::ZERO,
            b"AT+QSMTPCFG=\"account\",\"u\",\"hunter2\"\r",
        );
        let dbg = format!("{emu:?}");
        assert!(dbg.contains("ec25") && !dbg.contains("hunter2"), "{dbg}");
    }
}
