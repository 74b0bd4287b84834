//! Lab scale: labgrid places as targets, a health gate per place, fan-out over places, and
//! regression baselines for CI.
//!
//! - [`labgrid`]: the coordinator through `labgrid-client` (places, tags, reservations that
//!   wait, acquire/release, the place's `NetworkSerialPort`), and [`labgrid::Lease`].
//! - [`places`]: `--target labgrid:...` resolved to places, each reserved, acquired, checked
//!   ([`health`]) and turned into an ordinary target ([`at_runner::multi::TargetArg`]), so
//!   places run in parallel like any other targets, each in its own run directory.
//! - [`baseline`]: per target and case the expected grade; a run fails the gate only if a case
//!   got worse.
//! - [`pylit`]: the Python literals `labgrid-client show` prints.
//!
//! ```
//! use at_lab::TargetSel;
//!
//! let t: TargetSel = "labgrid:profile=ec25".parse().unwrap();
//! assert!(matches!(t, TargetSel::Lab(_)));
//! let t: TargetSel = "emulator:ec25".parse().unwrap();
//! assert!(matches!(t, TargetSel::Direct(_)));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::str::FromStr;

use at_runner::multi::TargetArg;

pub mod baseline;
pub mod health;
pub mod labgrid;
pub mod places;
pub mod pylit;

/// Why a `--target` value does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetSelError {
    /// A labgrid selection that does not parse.
    #[error(transparent)]
    Lab(#[from] labgrid::LabSpecError),
    /// Any other target that does not parse.
    #[error(transparent)]
    Direct(#[from] at_runner::multi::TargetArgError),
}

/// One `--target` value: a target as such, or labgrid places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSel {
    /// `emulator:...`, `LABEL=/dev/tty...`, `LABEL=tcp:...`, `LABEL=rfc2217:...`.
    Direct(TargetArg),
    /// `[PROFILE=]labgrid:PLACE` or `[PROFILE=]labgrid:KEY=VALUE[,...]`.
    Lab(labgrid::LabSpec),
}

impl FromStr for TargetSel {
    type Err = TargetSelError;
    fn from_str(s: &str) -> Result<Self, TargetSelError> {
        if s.starts_with("labgrid:") || s.contains("=labgrid:") {
            Ok(TargetSel::Lab(s.parse()?))
        } else {
            s.parse()
                .map(TargetSel::Direct)
                .map_err(TargetSelError::Direct)
        }
    }
}
