//! Running the corpus on several targets at once, one run directory per target.
//!
//! Target specs (the `--target` syntax of the issue):
//! `emulator:eg95`, `emulator:ec25+body-length-off-by-one` (a quirk stands in for a new firmware
//! revision), `emulator:ec25+liberty:checksum-sum16` (a liberty stands in for a conforming
//! firmware that chose otherwise), `ec25=/dev/ttyUSB2` (serial or PTY, 115200 baud),
//! `ag35=tcp:127.0.0.1:7001`, `ec25=rfc2217:lab1:4001` (RFC 2217: baud rate and DTR over TCP),
//! and `LABEL=` in front of any of them: `LABEL=emulator:PROFILE[+QUIRK...][+liberty:NAME...]`,
//! `LABEL=PROFILE=/dev/ttyUSB2`, `LABEL=PROFILE=tcp:HOST:PORT`. Without a label, a real
//! device's label is its profile (the part before `@` names it: `ec25@fw2=/dev/ttyUSB3`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::AtomicBool;

use at_scenario::{Profile, Scenario};

use crate::{RunConfig, TargetSpec};

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
    /// Emulator liberties added to every case (`+liberty:NAME`).
    pub liberties: Vec<String>,
    /// The `--target` value that selects exactly this target again (reproducer commands).
    pub origin: String,
}

/// Why a `--target` value does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetArgError {
    /// No such module profile.
    #[error("unknown profile {name:?} (one of {known})")]
    UnknownProfile {
        /// The name given.
        name: String,
        /// The known profiles, comma-separated.
        known: String,
    },
    /// An unknown profile as the label of a real device (`bench1=/dev/ttyUSB2`).
    #[error("{error}; a label that is not a profile names it too: {label}=PROFILE={device}")]
    LabelNotProfile {
        /// The profile error.
        error: Box<TargetArgError>,
        /// The label given.
        label: String,
        /// The device given.
        device: String,
    },
    /// No such emulator liberty.
    #[error("unknown liberty {0:?} (see `atconform emulate --list-liberties`)")]
    UnknownLiberty(String),
    /// No such emulator quirk.
    #[error(
        "unknown quirk {0:?} (see `atconform emulate --list-quirks`; a liberty is \
         `+liberty:NAME`)"
    )]
    UnknownQuirk(String),
    /// Not one of the forms.
    #[error(
        "expected emulator:PROFILE, PROFILE=DEVICE, PROFILE=tcp:HOST:PORT, \
         PROFILE=rfc2217:HOST:PORT or LABEL= in front of any of them, got {0:?}"
    )]
    Syntax(String),
    /// `=` with nothing before or after it.
    #[error("empty label or device in {0:?}")]
    EmptyLabelOrDevice(String),
    /// `LABEL=PROFILE=DEVICE` with an empty part.
    #[error("empty label, profile or device in {0:?}")]
    EmptyPart(String),
}

fn profile(name: &str) -> Result<Profile, TargetArgError> {
    Profile::from_name(name).ok_or_else(|| {
        let names: Vec<String> = Profile::ALL.iter().map(|p| p.to_string()).collect();
        TargetArgError::UnknownProfile {
            name: name.to_string(),
            known: names.join(", "),
        }
    })
}

fn emulator(label: Option<&str>, spec: &str) -> Result<TargetArg, TargetArgError> {
    let mut parts = spec.split('+');
    let p = profile(parts.next().unwrap_or_default())?;
    let mut quirks = Vec::new();
    let mut liberties = Vec::new();
    for part in parts {
        if let Some(l) = part.strip_prefix("liberty:") {
            if at_emulator::liberties::Liberty::from_name(l).is_none() {
                return Err(TargetArgError::UnknownLiberty(l.to_string()));
            }
            liberties.push(l.to_string());
        } else if at_emulator_quirk_known(part) {
            quirks.push(part.to_string());
        } else {
            return Err(TargetArgError::UnknownQuirk(part.to_string()));
        }
    }
    Ok(TargetArg {
        label: label.unwrap_or(spec).to_string(),
        profile: p,
        target: TargetSpec::Emulator,
        quirks,
        liberties,
        origin: match label {
            Some(l) => format!("{l}=emulator:{spec}"),
            None => format!("emulator:{spec}"),
        },
    })
}

fn at_emulator_quirk_known(name: &str) -> bool {
    at_emulator::quirks::QUIRKS.iter().any(|q| q.name == name)
}

impl FromStr for TargetArg {
    type Err = TargetArgError;
    fn from_str(s: &str) -> Result<Self, TargetArgError> {
        if let Some(spec) = s.strip_prefix("emulator:") {
            return emulator(None, spec);
        }
        let (head, spec) = s
            .split_once('=')
            .ok_or_else(|| TargetArgError::Syntax(s.to_string()))?;
        if head.is_empty() || spec.is_empty() {
            return Err(TargetArgError::EmptyLabelOrDevice(s.to_string()));
        }
        if let Some(spec) = spec.strip_prefix("emulator:") {
            return emulator(Some(head), spec);
        }
        // `LABEL=PROFILE[@TAG]=DEVICE`: a device, address or path has no `=` of its own.
        let (label, prof, device) = match spec.split_once('=') {
            Some((p, device)) if !p.contains(':') && !p.contains('/') => (head, p, device),
            _ => (head, head, spec),
        };
        if label.is_empty() || prof.is_empty() || device.is_empty() {
            return Err(TargetArgError::EmptyPart(s.to_string()));
        }
        let p = profile(prof.split('@').next().unwrap_or(prof)).map_err(|e| {
            if prof == head {
                TargetArgError::LabelNotProfile {
                    error: Box::new(e),
                    label: head.to_string(),
                    device: device.to_string(),
                }
            } else {
                e
            }
        })?;
        let target = if let Some(addr) = device.strip_prefix("tcp:") {
            TargetSpec::Tcp { addr: addr.into() }
        } else if let Some(addr) = device.strip_prefix("rfc2217:") {
            TargetSpec::Rfc2217 {
                addr: addr.into(),
                baud: 115_200,
            }
        } else {
            TargetSpec::Serial {
                path: device.into(),
                baud: 115_200,
            }
        };
        Ok(TargetArg {
            label: label.into(),
            profile: p,
            target,
            quirks: Vec::new(),
            liberties: Vec::new(),
            origin: s.to_string(),
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

/// One target's finished run.
#[derive(Clone, Debug)]
pub struct TargetRun {
    /// The target as given.
    pub target: TargetArg,
    /// Its run directory (`report.json` and the transcripts).
    pub dir: PathBuf,
    /// The runner's report (counts, wall time, exit code).
    pub report: crate::RunReport,
}

/// Why the targets could not all be run.
#[derive(Debug, thiserror::Error)]
pub enum MultiError {
    /// Two labels map to one run directory (nothing was run).
    #[error(
        "targets {first:?} and {second:?} would share the run directory {}; give one a label (LABEL=...)",
        dir.display()
    )]
    SharedRunDir {
        /// The earlier target's label.
        first: String,
        /// The later target's label.
        second: String,
        /// The directory both would use.
        dir: PathBuf,
    },
    /// One target could not be run.
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// Why one target could not be run.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The runner refused (e.g. the device cannot be opened).
    #[error("{label}: {source}")]
    Run {
        /// The target's label.
        label: String,
        /// The runner's error.
        source: crate::run::RunError,
    },
    /// The run directory could not be written: the results are not saved.
    #[error("cannot write the run directory {}: {source}", dir.display())]
    WriteFailed {
        /// The run directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The target's thread panicked.
    #[error("{label}: the run panicked")]
    Panicked {
        /// The target's label.
        label: String,
    },
}

/// A human description of where a target runs: `emulator ec25+urc-before-ok`, `/dev/ttyUSB2`,
/// `tcp 127.0.0.1:7001`.
pub fn describe(t: &TargetArg) -> String {
    match &t.target {
        TargetSpec::Emulator => {
            let mut s = format!("emulator {}", t.profile);
            for q in &t.quirks {
                s.push_str(&format!("+{q}"));
            }
            for l in &t.liberties {
                s.push_str(&format!("+liberty:{l}"));
            }
            s
        }
        TargetSpec::Serial { path, .. } => path.clone(),
        TargetSpec::Tcp { addr } => format!("tcp {addr}"),
        TargetSpec::Rfc2217 { addr, .. } => format!("rfc2217 {addr}"),
    }
}

/// Runs `scenarios` (filtered by `filters`, corpus-path substrings) on every target in
/// parallel; each target's run directory is `out/<label>/`. Returns the runs in target order,
/// or the first target that could not be run.
pub fn run_all(
    targets: &[TargetArg],
    scenarios: &[Scenario],
    filters: &[String],
    out: &Path,
    cancel: &AtomicBool,
) -> Result<Vec<TargetRun>, MultiError> {
    let base = RunConfig {
        filters: filters.to_vec(),
        // Failing cases carry `atconform run --target SPEC --filter SCENARIO`.
        rerun: Some(crate::reproduce::Rerun::default()),
        ..RunConfig::default()
    };
    Ok(
        run_targets(targets, scenarios, &base, out, cancel, &|_, _| {})?
            .into_iter()
            .collect::<Result<_, _>>()?,
    )
}

/// Runs `scenarios` on every target, one run directory `out/<label>/` each; `base` gives the
/// filters and, for real targets, the capture-sink settings (its target, profiles and quirks
/// are the target's). `on_case(label, result)` sees every case as it lands.
///
/// Targets run in parallel where they are independent: every emulator target, and real targets
/// on different devices that each get their own in-process sink on an ephemeral port. Real
/// targets sharing a fixed sink address or an external sink (`sink_api`), or one device, run
/// one after another (one sink cannot tell two modules' mail apart).
///
/// Fails (before running anything) when two targets would share a run directory; otherwise
/// returns one result per target, in target order: `Err` when that target could not be run
/// (e.g. its device cannot be opened).
pub fn run_targets(
    targets: &[TargetArg],
    scenarios: &[Scenario],
    base: &RunConfig,
    out: &Path,
    cancel: &AtomicBool,
    on_case: &(dyn Fn(&str, &crate::CaseResult) + Sync),
) -> Result<Vec<Result<TargetRun, TargetError>>, MultiError> {
    let mut dirs = std::collections::BTreeMap::new();
    for t in targets {
        if let Some(other) = dirs.insert(dir_name(&t.label), &t.label) {
            return Err(MultiError::SharedRunDir {
                first: other.clone(),
                second: t.label.clone(),
                dir: out.join(dir_name(&t.label)),
            });
        }
    }
    let chains = chains(targets, base);
    let mut results: Vec<Option<Result<TargetRun, TargetError>>> =
        (0..targets.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chains
            .into_iter()
            .map(|chain| {
                scope.spawn(move || {
                    chain
                        .into_iter()
                        .filter_map(|i| {
                            let t = targets.get(i)?;
                            let dir = out.join(dir_name(&t.label));
                            Some((i, run_one(t, scenarios, base, &dir, cancel, on_case)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // The slots of a panicked chain stay empty and are reported below.
        for done in handles.into_iter().filter_map(|h| h.join().ok()) {
            for (i, r) in done {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
    });
    Ok(results
        .into_iter()
        .zip(targets)
        .map(|(r, t)| {
            r.unwrap_or_else(|| {
                Err(TargetError::Panicked {
                    label: t.label.clone(),
                })
            })
        })
        .collect())
}

/// Groups target indices into chains that run one after another; chains run in parallel.
fn chains(targets: &[TargetArg], base: &RunConfig) -> Vec<Vec<usize>> {
    let shared_sink =
        base.sink_listen.is_some() || base.sink_tls_listen.is_some() || base.sink_api.is_some();
    let mut chains: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let key = match &t.target {
            TargetSpec::Emulator => None,
            _ if shared_sink => Some(String::from("shared sink")),
            TargetSpec::Serial { path, .. } => Some(format!("serial {path}")),
            TargetSpec::Tcp { addr } | TargetSpec::Rfc2217 { addr, .. } => {
                Some(format!("tcp {addr}"))
            }
        };
        match chains.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, c)) => c.push(i),
            None => chains.push((key, vec![i])),
        }
    }
    chains.into_iter().map(|(_, c)| c).collect()
}

fn run_one(
    t: &TargetArg,
    scenarios: &[Scenario],
    base: &RunConfig,
    dir: &Path,
    cancel: &AtomicBool,
    on_case: &(dyn Fn(&str, &crate::CaseResult) + Sync),
) -> Result<TargetRun, TargetError> {
    let cfg = RunConfig {
        target: t.target.clone(),
        profiles: vec![t.profile],
        quirks: t.quirks.clone(),
        liberties: t.liberties.clone(),
        ..base.clone()
    };
    let cases = crate::run::select(scenarios.to_vec(), &cfg);
    let mut report =
        crate::run::run(&cases, &cfg, cancel, |r| on_case(&t.label, r)).map_err(|e| {
            TargetError::Run {
                label: t.label.clone(),
                source: e,
            }
        })?;
    if let Some(rerun) = &base.rerun {
        // The run's options and paths, this target's `--target` value.
        let mut rerun = rerun.clone();
        rerun.target = vec!["--target".into(), t.origin.clone()];
        rerun.fixes_profile = true;
        report.attach_reproducers(&rerun);
    }
    let write_failed = |source| TargetError::WriteFailed {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(write_failed)?;
    report
        .write_run_dir_as(dir, Some(&t.label))
        .map_err(write_failed)?;
    Ok(TargetRun {
        target: t.clone(),
        dir: dir.to_path_buf(),
        report,
    })
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
        let t: TargetArg = "fw3=emulator:ec25+urc-before-ok+liberty:checksum-sum16"
            .parse()
            .unwrap();
        assert_eq!(t.quirks, ["urc-before-ok"]);
        assert_eq!(t.liberties, ["checksum-sum16"]);
        assert_eq!(
            describe(&t),
            "emulator ec25+urc-before-ok+liberty:checksum-sum16"
        );
        assert!(
            "emulator:ec25+liberty:no-such"
                .parse::<TargetArg>()
                .is_err()
        );
        // A liberty is not a quirk: it needs its prefix.
        assert!("emulator:ec25+checksum-sum16".parse::<TargetArg>().is_err());
        assert!("emulator:ec99".parse::<TargetArg>().is_err());
        assert!("/dev/ttyUSB2".parse::<TargetArg>().is_err());
        // LABEL= in front of every kind of real device.
        let t: TargetArg = "bench1=ec25=/dev/ttyUSB2".parse().unwrap();
        assert_eq!((t.label.as_str(), t.profile), ("bench1", Profile::Ec25));
        assert_eq!(t.origin, "bench1=ec25=/dev/ttyUSB2");
        let t: TargetArg = "fw2=ag35@b=tcp:127.0.0.1:7001".parse().unwrap();
        assert_eq!((t.label.as_str(), t.profile), ("fw2", Profile::Ag35));
        assert!(matches!(t.target, TargetSpec::Tcp { .. }));
        let t: TargetArg = "lab=eg95=rfc2217:lab1:4001".parse().unwrap();
        assert_eq!((t.label.as_str(), t.profile), ("lab", Profile::Eg95));
        assert!(matches!(t.target, TargetSpec::Rfc2217 { .. }));
        // A label that is not a profile, without one: the error says how to write it.
        let e = "bench1=/dev/ttyUSB2".parse::<TargetArg>().unwrap_err();
        assert!(e.to_string().contains("bench1=PROFILE=/dev/ttyUSB2"), "{e}");
        assert!("bench1=ec99=/dev/ttyUSB2".parse::<TargetArg>().is_err());
        assert_eq!(dir_name("a b/c"), "a_b_c");
    }

    #[test]
    fn independent_targets_run_in_parallel_chains() {
        let t = |s: &str| s.parse::<TargetArg>().unwrap();
        let targets = [
            t("emulator:ec25"),
            t("ec25=tcp:127.0.0.1:7001"),
            t("eg95=emulator:eg95"),
            t("ec25@b=tcp:127.0.0.1:7001"),
            t("ag35=/dev/ttyUSB2"),
        ];
        // Each emulator alone, the two targets on one TCP address one after another.
        assert_eq!(
            chains(&targets, &RunConfig::default()),
            [vec![0], vec![1, 3], vec![2], vec![4]]
        );
        // A fixed sink address: the real targets share the sink, so they take turns.
        let base = RunConfig {
            sink_listen: Some("127.0.0.1:2525".parse().unwrap()),
            ..RunConfig::default()
        };
        assert_eq!(chains(&targets, &base), [vec![0], vec![1, 3, 4], vec![2]]);
    }

    #[test]
    fn parse_errors_say_what_to_write() {
        let e = |s: &str| s.parse::<TargetArg>().unwrap_err().to_string();
        assert_eq!(
            e("emulator:ec25+nope"),
            "unknown quirk \"nope\" (see `atconform emulate --list-quirks`; a liberty is \
             `+liberty:NAME`)"
        );
        assert_eq!(
            e("emulator:ec25+liberty:nope"),
            "unknown liberty \"nope\" (see `atconform emulate --list-liberties`)"
        );
        assert_eq!(e("=x"), "empty label or device in \"=x\"");
        assert_eq!(e("a=b="), "empty label, profile or device in \"a=b=\"");
        assert!(e("/dev/x").starts_with("expected emulator:PROFILE, PROFILE=DEVICE,"));
        assert!(e("emulator:ec99").starts_with("unknown profile \"ec99\" (one of ec21, ec25,"));
    }

    #[test]
    fn an_unwritable_run_directory_is_its_own_error() {
        let out = tempfile::tempdir().unwrap();
        // A file where the target's run directory would go.
        std::fs::write(out.path().join("ec25"), b"").unwrap();
        let targets = ["emulator:ec25".parse::<TargetArg>().unwrap()];
        let results = run_targets(
            &targets,
            &[],
            &RunConfig::default(),
            out.path(),
            &AtomicBool::new(false),
            &|_, _| {},
        )
        .unwrap();
        let Some(Err(e)) = results.first() else {
            panic!("must fail: {results:?}")
        };
        assert!(matches!(e, TargetError::WriteFailed { .. }), "{e}");
        assert!(
            e.to_string().starts_with(&format!(
                "cannot write the run directory {}",
                out.path().join("ec25").display()
            )),
            "{e}"
        );
    }

    #[test]
    fn duplicate_run_directories_are_refused() {
        let t = |s: &str| s.parse::<TargetArg>().unwrap();
        let dir = std::path::Path::new("unused");
        let e = run_targets(
            &[t("emulator:ec25"), t("ec25=emulator:ec25")],
            &[],
            &RunConfig::default(),
            dir,
            &AtomicBool::new(false),
            &|_, _| {},
        )
        .unwrap_err();
        assert!(matches!(e, MultiError::SharedRunDir { .. }), "{e}");
        assert!(e.to_string().contains("share the run directory"), "{e}");
        assert_eq!(
            describe(&t("emulator:ec25+urc-before-ok")),
            "emulator ec25+urc-before-ok"
        );
    }
}
