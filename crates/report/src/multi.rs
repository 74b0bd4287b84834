//! Running the corpus on several targets at once, one run directory per target.
//!
//! Target specs (the `--target` syntax of the issue):
//! `emulator:eg95`, `emulator:ec25+body-length-off-by-one` (a quirk stands in for a new firmware
//! revision), `ec25=/dev/ttyUSB2` (serial or PTY, 115200 baud), `ag35=tcp:127.0.0.1:7001`,
//! and `LABEL=emulator:PROFILE[+QUIRK...]`. For real devices the label's part before `@`
//! names the profile (`ec25@fw2=/dev/ttyUSB3`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicBool;

use at_runner::{RunConfig, TargetSpec};
use at_scenario::{Profile, Scenario};

use crate::load::Run;

/// One `--target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetArg {
    /// Column label and run-directory name.
    pub label: String,
    /// The module profile.
    pub profile: Profile,
    /// Where the cases run.
    pub target: TargetSpec,
    /// Emulator quirks added to every case.
    pub quirks: Vec<String>,
}

fn profile(name: &str) -> Result<Profile, String> {
    Profile::from_name(name).ok_or_else(|| {
        let names: Vec<String> = Profile::ALL.iter().map(|p| p.to_string()).collect();
        format!("unknown profile {name:?} (one of {})", names.join(", "))
    })
}

fn emulator(label: Option<&str>, spec: &str) -> Result<TargetArg, String> {
    let mut parts = spec.split('+');
    let p = profile(parts.next().unwrap_or_default())?;
    let quirks: Vec<String> = parts.map(str::to_string).collect();
    for q in &quirks {
        if !at_emulator_quirk_known(q) {
            return Err(format!(
                "unknown quirk {q:?} (see `atconform emulate --list-quirks`)"
            ));
        }
    }
    Ok(TargetArg {
        label: label.unwrap_or(spec).to_string(),
        profile: p,
        target: TargetSpec::Emulator,
        quirks,
    })
}

fn at_emulator_quirk_known(name: &str) -> bool {
    at_emulator::quirks::QUIRKS.iter().any(|q| q.name == name)
}

impl FromStr for TargetArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(spec) = s.strip_prefix("emulator:") {
            return emulator(None, spec);
        }
        let (label, spec) = s.split_once('=').ok_or_else(|| {
            format!("expected emulator:PROFILE, LABEL=DEVICE or LABEL=tcp:HOST:PORT, got {s:?}")
        })?;
        if label.is_empty() || spec.is_empty() {
            return Err(format!("empty label or device in {s:?}"));
        }
        if let Some(spec) = spec.strip_prefix("emulator:") {
            return emulator(Some(label), spec);
        }
        let p = profile(label.split('@').next().unwrap_or(label))?;
        let target = match spec.strip_prefix("tcp:") {
            Some(addr) => TargetSpec::Tcp { addr: addr.into() },
            None => TargetSpec::Serial {
                path: spec.into(),
                baud: 115_200,
            },
        };
        Ok(TargetArg {
            label: label.into(),
            profile: p,
            target,
            quirks: Vec::new(),
        })
    }
}

/// A label as a directory name (anything but `[A-Za-z0-9._+@-]` becomes `_`).
pub fn dir_name(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+@-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs `scenarios` (filtered by `filters`, corpus-path substrings) on every target in
/// parallel; each target's run directory is `out/<label>/`. Returns the runs in target order.
pub fn run_all(
    targets: &[TargetArg],
    scenarios: &[Scenario],
    filters: &[String],
    out: &Path,
    cancel: &AtomicBool,
) -> Result<Vec<Run>, String> {
    let results: Vec<Result<Run, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| {
                let dir: PathBuf = out.join(dir_name(&t.label));
                scope.spawn(move || run_one(t, scenarios, filters, &dir, cancel))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a target's run panicked".into()))
            })
            .collect()
    });
    results.into_iter().collect()
}

fn run_one(
    t: &TargetArg,
    scenarios: &[Scenario],
    filters: &[String],
    dir: &Path,
    cancel: &AtomicBool,
) -> Result<Run, String> {
    let cfg = RunConfig {
        target: t.target.clone(),
        profiles: vec![t.profile],
        filters: filters.to_vec(),
        quirks: t.quirks.clone(),
        ..RunConfig::default()
    };
    let cases = at_runner::run::select(scenarios.to_vec(), &cfg);
    let report = at_runner::run::run(&cases, &cfg, cancel, |_| {})
        .map_err(|e| format!("{}: {e}", t.label))?;
    Run::save_runner(&report, dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut run = Run::load(dir).map_err(|e| e.to_string())?;
    run.label = t.label.clone();
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_specs_parse() {
        let t: TargetArg = "emulator:eg95".parse().unwrap();
        assert_eq!((t.label.as_str(), t.profile), ("eg95", Profile::Eg95));
        assert_eq!(t.target, TargetSpec::Emulator);
        let t: TargetArg = "emulator:ec25+body-length-off-by-one".parse().unwrap();
        assert_eq!(t.quirks, vec!["body-length-off-by-one".to_string()]);
        assert_eq!(t.label, "ec25+body-length-off-by-one");
        let t: TargetArg = "ec25=/dev/ttyUSB2".parse().unwrap();
        assert_eq!(
            t.target,
            TargetSpec::Serial {
                path: "/dev/ttyUSB2".into(),
                baud: 115_200
            }
        );
        let t: TargetArg = "ag35@fw2=tcp:127.0.0.1:7001".parse().unwrap();
        assert_eq!(t.profile, Profile::Ag35);
        assert_eq!(
            t.target,
            TargetSpec::Tcp {
                addr: "127.0.0.1:7001".into()
            }
        );
        let t: TargetArg = "new-fw=emulator:ec25+urc-before-ok".parse().unwrap();
        assert_eq!(t.label, "new-fw");
        assert!("emulator:ec25+no-such-quirk".parse::<TargetArg>().is_err());
        assert!("emulator:ec99".parse::<TargetArg>().is_err());
        assert!("/dev/ttyUSB2".parse::<TargetArg>().is_err());
        assert_eq!(dir_name("a b/c"), "a_b_c");
    }
}
