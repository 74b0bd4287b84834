//! The lab side of `atconform run`: labgrid places as targets (`--target labgrid:...`), the
//! dry run (`--list`) and the regression gate (`--baseline FILE`). The logic is at-lab's;
//! this module only prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use at_lab::TargetSel;
use at_lab::baseline::Baseline;
use at_lab::labgrid::{Client, LabSpec, NetworkSerialPort, Protocol};
use at_lab::places::{self, Held, NotRun};
use at_report::load::Run;
use at_runner::{RunConfig, TargetSpec};
use at_scenario::{Profile, Scenario};
use miette::miette;

use super::run::print;

/// Reads `--baseline FILE` before anything runs (a bad file is a usage error).
pub fn load_baseline(path: Option<&Path>) -> miette::Result<Option<(PathBuf, Baseline)>> {
    path.map(|p| {
        Baseline::load(p)
            .map(|b| (p.to_path_buf(), b))
            .map_err(|e| miette!("--baseline {e}"))
    })
    .transpose()
}

/// The gate's report and exit code (0 passed, 1 failed).
pub fn gate(
    path: &Path,
    baseline: &Baseline,
    runs: &[(String, &Run)],
    scope: &BTreeMap<String, Option<BTreeSet<String>>>,
    why_missing: &BTreeMap<String, String>,
) -> (String, u8) {
    let grades = at_lab::baseline::grades(runs);
    let g = baseline.gate(&grades, scope);
    (
        g.text(&path.display().to_string(), why_missing),
        u8::from(!g.passed()),
    )
}

/// The places of a run: held ones (targets) and those not run.
#[derive(Debug, Default)]
pub struct LabPlaces {
    /// Reserved, acquired, healthy.
    pub held: Vec<Held>,
    /// Not run, with the reason.
    pub not_run: Vec<NotRun>,
    text: String,
}

impl LabPlaces {
    /// Which places were taken, how, and how long it took (empty without labgrid targets).
    pub fn summary(&self) -> &str {
        &self.text
    }

    /// Releases every place (in parallel); what happened, for the closing summary.
    pub fn finish(&mut self) -> String {
        let mut text = String::new();
        let start = std::time::Instant::now();
        let done: Vec<(String, Result<(), String>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .held
                .drain(..)
                .map(|h| {
                    let place = h.lease.place.clone();
                    (place, scope.spawn(move || h.lease.release()))
                })
                .collect();
            handles
                .into_iter()
                .map(|(p, h)| {
                    let r = h
                        .join()
                        .map_err(|_| "releasing panicked".to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()));
                    (p, r)
                })
                .collect()
        });
        let mut released = Vec::new();
        for (place, r) in done {
            match r {
                Ok(()) => released.push(place),
                Err(e) => text.push_str(&format!("labgrid: releasing {place}: {e}\n")),
            }
        }
        if !released.is_empty() {
            text.push_str(&format!(
                "labgrid: released {} in {:.1} s\n",
                released.join(", "),
                start.elapsed().as_secs_f64()
            ));
        }
        text
    }
}

fn describe_port(p: &NetworkSerialPort) -> String {
    let proto = match p.protocol {
        Protocol::Raw => "raw tcp",
        Protocol::Rfc2217 => "rfc2217",
    };
    match p.addr() {
        Some(a) => format!("{proto} {a} @ {}", p.speed),
        None => format!(
            "{proto} {} (port assigned when acquired) @ {}",
            p.host, p.speed
        ),
    }
}

/// Reserves, acquires and health-checks the places `targets` select (nothing when none is a
/// labgrid target); a summary of each is kept for the closing output.
pub fn take_places(
    targets: &[TargetSel],
    wait: Duration,
    cancel: &AtomicBool,
) -> miette::Result<LabPlaces> {
    let specs: Vec<LabSpec> = targets
        .iter()
        .filter_map(|t| match t {
            TargetSel::Lab(s) => Some(s.clone()),
            TargetSel::Direct(_) => None,
        })
        .collect();
    if specs.is_empty() {
        return Ok(LabPlaces::default());
    }
    let client = Client::from_env();
    let candidates = places::candidates(&client, &specs).map_err(|e| miette!("{e}"))?;
    eprintln!(
        "labgrid: reserving {} place(s) (coordinator {}, waiting up to {} s each)...",
        candidates.len(),
        at_lab::labgrid::coordinator(),
        wait.as_secs_f64()
    );
    let results = places::acquire_all(&client, &candidates, wait, cancel);
    let mut lab = LabPlaces::default();
    lab.text.push_str(&format!(
        "labgrid (coordinator {}):\n",
        at_lab::labgrid::coordinator()
    ));
    for r in results {
        match r {
            Ok(h) => {
                let from = h.candidate.profile.as_ref().map(|(_, f)| *f).unwrap_or("");
                lab.text.push_str(&format!(
                    "  {}  profile {} (from its {from})  {}  reserved+acquired in {:.1} s, \
                     healthy in {} ms: {}\n",
                    h.target.label,
                    h.target.profile,
                    describe_port(&h.port),
                    h.acquire_time.as_secs_f64(),
                    h.health_time.as_millis(),
                    h.health.ident
                ));
                lab.held.push(h);
            }
            Err(n) => {
                lab.text
                    .push_str(&format!("  {}  NOT RUN: {}\n", n.label, n.reason));
                lab.not_run.push(n);
            }
        }
    }
    Ok(lab)
}

/// What `--list` needs of the run's arguments.
#[derive(Debug, Clone)]
pub struct ListArgs {
    /// `--target` values.
    pub targets: Vec<TargetSel>,
    /// Without `--target`: the one target and the profiles asked for.
    pub single: Option<(TargetSpec, Vec<Profile>)>,
    /// `--filter`.
    pub filters: Vec<String>,
    /// `--section`.
    pub sections: Vec<String>,
    /// `--lab-wait`.
    pub lab_wait: Duration,
    /// `--fault-control` given: module faults run.
    pub fault_control: bool,
    /// The variables block (effective values, secrets masked), printed before the total.
    pub variables: String,
}

/// `atconform run --list`: for each target, every selected case and whether it would run or
/// be skipped (and why). Nothing is reserved, opened or written.
pub fn list(args: &ListArgs, scenarios: &[Scenario]) -> miette::Result<ExitCode> {
    let mut text = String::new();
    let (mut runs, mut skips) = (0usize, 0usize);
    let mut section =
        |text: &mut String, head: String, target: &TargetSpec, profiles: Vec<Profile>| {
            let cfg = RunConfig {
                target: target.clone(),
                profiles,
                filters: args.filters.clone(),
                sections: args.sections.clone(),
                ..RunConfig::default()
            };
            let cases = at_runner::run::select(scenarios.to_vec(), &cfg);
            text.push_str(&head);
            let (mut r, mut k) = (0, 0);
            for (sc, p) in &cases {
                let name = at_runner::corpus_name(&sc.name);
                match at_runner::case::would_skip(sc, *p, target, args.fault_control) {
                    None => {
                        r += 1;
                        text.push_str(&format!("  run   {name} [{p}]\n"));
                    }
                    Some(why) => {
                        k += 1;
                        text.push_str(&format!("  skip  {name} [{p}]: {why}\n"));
                    }
                }
            }
            text.push_str(&format!(
                "  {} cases: {r} would run, {k} would be skipped\n",
                cases.len()
            ));
            runs += r;
            skips += k;
        };
    if let Some((target, profiles)) = &args.single {
        let head = match target {
            TargetSpec::Emulator => {
                "target: the in-process emulator (a fresh module per case)\n".into()
            }
            TargetSpec::Serial { path, baud } => format!("target: {path} @ {baud}\n"),
            TargetSpec::Tcp { addr } => format!("target: tcp {addr}\n"),
            TargetSpec::Rfc2217 { addr, baud } => format!("target: rfc2217 {addr} @ {baud}\n"),
        };
        section(&mut text, head, target, profiles.clone());
    }
    let specs: Vec<LabSpec> = args
        .targets
        .iter()
        .filter_map(|t| match t {
            TargetSel::Lab(s) => Some(s.clone()),
            TargetSel::Direct(_) => None,
        })
        .collect();
    for t in &args.targets {
        if let TargetSel::Direct(t) = t {
            let head = format!("target {}: {}\n", t.label, at_runner::multi::describe(t));
            section(&mut text, head, &t.target, vec![t.profile]);
        }
    }
    let mut not_run = 0;
    if !specs.is_empty() {
        let client = Client::from_env();
        let candidates = places::candidates(&client, &specs).map_err(|e| miette!("{e}"))?;
        for c in candidates {
            let tags: Vec<String> = c
                .place
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let held = match &c.place.acquired {
                Some(who) => format!("; now acquired by {who}, so the run would wait for it"),
                None => String::new(),
            };
            let (profile, from) = match &c.profile {
                Ok(p) => *p,
                Err(e) => {
                    not_run += 1;
                    text.push_str(&format!("target {}: NOT RUN: {e}\n", c.label()));
                    continue;
                }
            };
            let port = client
                .show(&c.place.name)
                .map_err(|e| e.to_string())
                .and_then(|(_, r)| NetworkSerialPort::of(&r).map_err(|e| e.to_string()));
            let port = match port {
                Ok(p) => p,
                Err(e) => {
                    not_run += 1;
                    text.push_str(&format!("target {}: NOT RUN: {e}\n", c.label()));
                    continue;
                }
            };
            // The protocol decides what the run can do (DTR needs rfc2217); the address
            // may only be known once acquired.
            let target = port.target_spec().unwrap_or(match port.protocol {
                Protocol::Raw => TargetSpec::Tcp {
                    addr: port.host.clone(),
                },
                Protocol::Rfc2217 => TargetSpec::Rfc2217 {
                    addr: port.host.clone(),
                    baud: port.speed,
                },
            });
            let head = format!(
                "target {}: labgrid place {} (tags {}), profile {profile} from its {from}, {}; \
                 reserved (waiting up to {} s) and health-checked (AT, ATI, AT+CPIN?) before \
                 it runs{held}\n",
                c.label(),
                c.place.name,
                if tags.is_empty() {
                    "none".into()
                } else {
                    tags.join(", ")
                },
                describe_port(&port),
                args.lab_wait.as_secs_f64()
            );
            section(&mut text, head, &target, vec![profile]);
        }
    }
    text.push_str(&args.variables);
    text.push_str(&format!(
        "dry run: {runs} cases would run, {skips} would be skipped{}\n",
        if not_run > 0 {
            format!(", {not_run} target(s) would not run")
        } else {
            String::new()
        }
    ));
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
