//! Fault injection: module-level faults the core applies itself, and network faults it forwards
//! to the mailer in [`at_mailer::MailJob::faults`].
//!
//! ```
//! use at_emulator::faults::Fault;
//! use core::time::Duration;
//! assert_eq!("sim-not-ready".parse::<Fault>().unwrap(), Fault::SimNotReady);
//! assert_eq!(
//!     "pdp-deactivate@30s".parse::<Fault>().unwrap(),
//!     Fault::PdpDeactivate { at: Duration::from_secs(30) }
//! );
//! assert_eq!("dns".parse::<Fault>().unwrap(), Fault::Net(at_mailer::NetFault::Dns));
//! ```

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use at_mailer::NetFault;

/// Latest `pdp-deactivate@` time accepted (about 31 years of virtual time).
const MAX_FAULT_TIME: Duration = Duration::from_secs(1_000_000_000);

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The (U)SIM is not ready: `AT+CPIN?` → `+CME ERROR: 10`, SMTP and PDP commands → `ERROR`
    /// (000 §4.1).
    SimNotReady,
    /// Every active PDP context is deactivated by the network at this virtual time since
    /// power-on (`+QIURC: "pdpdeact",<id>`; a send in progress ends with `+QSMTPPUT: 657,0`).
    PdpDeactivate {
        /// When, since power-on.
        at: Duration,
    },
    /// `AT+QIACT` fails with `ERROR` (000 §4.2).
    PdpActivationFails,
    /// A network fault handed to the mailer with every delivery (DNS, refused, reset, stall).
    Net(NetFault),
}

impl Fault {
    /// Names accepted by [`Fault::from_str`], for help texts.
    pub const NAMES: &'static [&'static str] = &[
        "sim-not-ready",
        "pdp-deactivate@<duration>",
        "pdp-activation-fails",
        "pdp-deactivated",
        "tcp-connect-fails",
        "dns",
        "refused",
        "reset-mid-data",
        "reset@<stage>",
        "stall",
        "stall@<stage>",
    ];

    /// The network fault, if this is one.
    pub fn net(&self) -> Option<NetFault> {
        match self {
            Fault::Net(n) => Some(*n),
            _ => None,
        }
    }
}

/// A fault name that is not recognised.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault `{0}` (expected sim-not-ready, pdp-deactivate@DURATION, pdp-activation-fails, dns, refused, reset-mid-data, reset@STAGE, stall, stall@STAGE)"
)]
pub struct UnknownFault(pub String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sim-not-ready" => return Ok(Fault::SimNotReady),
            "pdp-activation-fails" => return Ok(Fault::PdpActivationFails),
            // Aliases used by scenario files.
            "pdp-deactivated" => return Ok(Fault::PdpDeactivate { at: Duration::ZERO }),
            "tcp-connect-fails" => return Ok(Fault::Net(NetFault::Refused)),
            _ => {}
        }
        if let Some(t) = s.strip_prefix("pdp-deactivate@") {
            // Bounded so that virtual-time arithmetic cannot overflow.
            return match at_wire::duration::parse_or_secs(t) {
                Ok(at) if at <= MAX_FAULT_TIME => Ok(Fault::PdpDeactivate { at }),
                _ => Err(UnknownFault(s.to_owned())),
            };
        }
        s.parse::<NetFault>()
            .map(Fault::Net)
            .map_err(|_| UnknownFault(s.to_owned()))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::SimNotReady => f.write_str("sim-not-ready"),
            Fault::PdpDeactivate { at } => {
                write!(f, "pdp-deactivate@{}", at_wire::duration::format(*at))
            }
            Fault::PdpActivationFails => f.write_str("pdp-activation-fails"),
            Fault::Net(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_names() {
        for s in [
            "sim-not-ready",
            "pdp-activation-fails",
            "pdp-deactivate@2500ms",
            "pdp-deactivate@30s",
            "dns",
            "refused",
            "reset-mid-data",
            "stall@greeting",
        ] {
            let f: Fault = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
        assert!("pdp-deactivate@xs".parse::<Fault>().is_err());
        assert!("pdp-deactivate@-1s".parse::<Fault>().is_err());
        // Sub-second times are kept exactly (they were once truncated to whole seconds).
        assert_eq!(
            "pdp-deactivate@1.5s".parse::<Fault>().unwrap(),
            Fault::PdpDeactivate {
                at: Duration::from_millis(1500)
            }
        );
        assert!("bogus".parse::<Fault>().is_err());
        assert_eq!(
            "tcp-connect-fails".parse::<Fault>().unwrap(),
            Fault::Net(NetFault::Refused)
        );
        assert_eq!(
            "pdp-deactivated".parse::<Fault>().unwrap(),
            Fault::PdpDeactivate { at: Duration::ZERO }
        );
        assert_eq!("dns".parse::<Fault>().unwrap().net(), Some(NetFault::Dns));
    }
}
