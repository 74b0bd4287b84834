//! Deterministic data-mode payloads, and helpers on [`Scenario`] the runner needs.

use std::path::PathBuf;

use crate::bind::{BindError, Bindings};
use crate::model::{EmulatorAction, Payload, Scenario, Step, StepKind};
use crate::profile::Profile;

/// The 64-byte unit `@data N` repeats: 62 printable characters and `\r\n`.
pub const TEXT_UNIT: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\r\n";

/// `len` bytes of [`TEXT_UNIT`] repeated and cut: what `@data N` sends.
///
/// ```
/// let p = at_scenario::text_payload(66);
/// assert_eq!(&p[60..], b"yz\r\n01");
/// ```
pub fn text_payload(len: usize) -> Vec<u8> {
    TEXT_UNIT.iter().copied().cycle().take(len).collect()
}

/// `len` pseudo-random bytes from `seed` (SplitMix64, little-endian words): `@data N binary seed=S`.
pub fn binary_payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let take = (len - out.len()).min(8);
        out.extend_from_slice(z.to_le_bytes().get(..take).unwrap_or_default());
    }
    out
}

/// Producing a payload's bytes failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A variable in a literal payload is unbound.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// The payload file cannot be read.
    #[error("cannot read payload file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Payload {
    /// The exact bytes to send.
    pub fn bytes(&self, bindings: &Bindings) -> Result<Vec<u8>, PayloadError> {
        match self {
            Payload::Text { len } => Ok(text_payload(*len)),
            Payload::Binary { len, seed } => Ok(binary_payload(*len, *seed)),
            Payload::Literal(t) => Ok(bindings.render(t)?),
            Payload::File(path) => std::fs::read(path).map_err(|source| PayloadError::File {
                path: path.clone(),
                source,
            }),
        }
    }
}

impl Step {
    /// Whether the step runs for `profile`.
    pub fn applies_to(&self, profile: Profile) -> bool {
        self.only.is_none_or(|s| s.contains(profile))
    }
}

impl Scenario {
    /// Whether the scenario applies to `profile` (`profiles:` header).
    pub fn applies_to(&self, profile: Profile) -> bool {
        self.meta.profiles.contains(profile)
    }

    /// The steps that run for `profile`, in order (expected lines inside a group are filtered by
    /// [`crate::Expect::lines_for`]).
    pub fn steps_for(&self, profile: Profile) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.applies_to(profile))
    }

    /// Whether the scenario needs the built-in emulator (it has a `@fault`, `@quirk` or `@liberty`).
    pub fn needs_emulator(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(
                s.kind,
                StepKind::Emulator(
                    EmulatorAction::Fault(_)
                        | EmulatorAction::Net(_)
                        | EmulatorAction::Quirk(_)
                        | EmulatorAction::Liberty(_)
                )
            )
        })
    }

    /// Whether the scenario needs a capture SMTP server (`@mail`, `@smtp` or `@sink`, or a
    /// `@resolve HOST sink`).
    pub fn needs_sink(&self) -> bool {
        self.steps.iter().any(|s| match &s.kind {
            StepKind::Mail(_) | StepKind::NoMail | StepKind::Smtp(_) | StepKind::Sink(_) => true,
            StepKind::Emulator(EmulatorAction::Resolve { to, .. }) => {
                matches!(to, crate::model::ResolveTo::Sink)
            }
            _ => false,
        })
    }

    /// Binds the declared variables from `env`, else their defaults.
    pub fn bindings(&self, env: impl Fn(&str) -> Option<String>) -> Result<Bindings, BindError> {
        Bindings::for_scenario(self, env)
    }
}

impl crate::model::Expect {
    /// The lines that apply to `profile`.
    pub fn lines_for(&self, profile: Profile) -> impl Iterator<Item = &crate::model::ExpectedLine> {
        self.lines
            .iter()
            .filter(move |l| l.only.is_none_or(|s| s.contains(profile)))
    }
}
