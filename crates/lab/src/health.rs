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

/// Opens `spec`, checks it as a `profile` module, closes it again (a fresh connection per case
/// follows).
pub fn check_spec(spec: &TargetSpec, profile: Profile) -> Result<Health, String> {
    let module = at_catalog::Profile::builtin(&profile.to_string()).map_err(|e| e.to_string())?;
    let mut device = spec
        .open()?
        .ok_or_else(|| "the in-process emulator needs no health check".to_string())?;
    let cancel = AtomicBool::new(false);
    let (health, _) = at_runner::prepare::health_check(device.as_mut(), &module, &cancel)
        .map_err(|e| e.reason)?;
    Ok(Health {
        ident: health.identity.join(" "),
    })
}
