//! The health check that gates a lab place before its run: the runner's per-target check
//! ([`at_runner::prepare::health_check`]: the profile's `[setup] health` commands, `AT`, `ATI`,
//! `AT+CPIN?` for Quectel), so a place and a `--port` run are judged by the same rule.

use std::sync::atomic::AtomicBool;

use at_runner::TargetSpec;
use at_scenario::Profile;

/// A healthy module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// What `ATI` answered, lines joined by spaces (`Quectel EC25 Revision: EC25EFAR06A03M4G`).
    pub ident: String,
}

/// Why a place is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The profile is not a built-in one.
    #[error(transparent)]
    Profile(#[from] at_catalog::ProfileError),
    /// The device cannot be opened.
    #[error(transparent)]
    Open(#[from] at_runner::target::TargetError),
    /// The spec is the in-process emulator.
    #[error("the in-process emulator needs no health check")]
    Emulator,
    /// The device failed the check.
    #[error(transparent)]
    NotReady(#[from] at_runner::prepare::PrepareError),
}

/// Opens `spec`, checks it as a `profile` module, closes it again (a fresh connection per case
/// follows).
pub fn check_spec(spec: &TargetSpec, profile: Profile) -> Result<Health, HealthError> {
    let module = at_catalog::Profile::builtin(&profile.to_string())?;
    let mut device = spec.open()?.ok_or(HealthError::Emulator)?;
    let cancel = AtomicBool::new(false);
    let (health, _) = at_runner::prepare::health_check(device.as_mut(), &module, &cancel)
        .map_err(|e| *e.reason)?;
    Ok(Health {
        ident: health.identity.join(" "),
    })
}
