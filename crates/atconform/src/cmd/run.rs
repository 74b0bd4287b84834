//! `atconform run`: replay scenarios against a device or the built-in emulator and judge them.
//!
//! With no arguments: the embedded corpus, every profile each scenario applies to, on the
//! in-process emulator and capture sink (virtual time). Exit code 0 all pass, 1 any failure
//! (or Ctrl-C), 2 usage or scenario errors.
//!
//! `--out DIR` is a run directory: `DIR/report.json` and one transcript per case, so any two
//! runs compare with `atconform diff`. With `--target SPEC` (repeatable) the corpus runs on
//! every target (in parallel where independent, see [`at_runner::multi::run_targets`]), one
//! run directory `DIR/<label>/` each, plus `DIR/matrix.html` and `DIR/matrix.json`.
//! `--target labgrid:...` targets are labgrid places (see [`super::lab`]); `--baseline FILE`
//! turns the exit code into a regression gate; `--list` shows what would run where.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use at_lab::TargetSel;
use at_runner::multi::TargetArg;
use at_runner::report::ReportSpec;
use at_runner::reproduce::Rerun;
use at_runner::{RunConfig, TargetSpec};
use at_scenario::Profile;
use miette::miette;

/// Replay scenarios (default: the embedded corpus) and judge every byte.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Scenario files or directories (default: the corpus embedded in this binary).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A module on a serial port or PTY (e.g. /dev/ttyUSB2, or `atconform emulate --pty-link`).
    #[arg(long, value_name = "DEVICE", conflicts_with_all = ["tcp", "emulator", "target"])]
    port: Option<String>,
    /// Baud rate for --port.
    #[arg(long, default_value_t = 115_200, requires = "port")]
    baud: u32,
    /// A module's AT port over TCP.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["emulator", "target"])]
    tcp: Option<String>,
    /// The in-process emulator as this profile only (default: every profile of each scenario).
    #[arg(long, value_name = "PROFILE", conflicts_with = "target")]
    emulator: Option<String>,
    /// Run on this target (repeatable; one run directory per target under --out):
    /// emulator:PROFILE[+QUIRK...][+liberty:NAME...], PROFILE[@TAG]=/dev/ttyUSB2,
    /// PROFILE[@TAG]=tcp:HOST:PORT, PROFILE[@TAG]=rfc2217:HOST:PORT, and labgrid places
    /// (coordinator from LG_COORDINATOR): [PROFILE=]labgrid:PLACE,
    /// [PROFILE=]labgrid:KEY=VALUE[,KEY=VALUE...] (every matching place; the profile from the
    /// place's `profile` tag unless given). LABEL= in front of any of them names the target:
    /// LABEL=emulator:PROFILE[+QUIRK...][+liberty:NAME...], LABEL=PROFILE=/dev/ttyUSB2,
    /// LABEL=PROFILE=tcp:HOST:PORT, LABEL=PROFILE=labgrid:PLACE.
    #[arg(long, value_name = "SPEC")]
    target: Vec<TargetSel>,
    /// How long to wait for each labgrid place's reservation (`300`, `90s`, `10m`; a bare
    /// number is seconds); a place not allocated by then is not run.
    #[arg(long, value_name = "TIME", default_value = "300s", value_parser = parse_wait)]
    lab_wait: Duration,
    /// Regression gate: compare every case's grade with this baseline file (per target and
    /// case, written by `atconform baseline update`); exit 0 unless a case got worse (or a
    /// baseline case could not be graded). Newly passing and new cases are listed.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Dry run: list what would run on which target, and why anything would be skipped
    /// (labgrid places are looked up, not reserved; nothing is sent to a device).
    #[arg(long)]
    list: bool,
    /// Only scenarios citing this manual section or a subsection of it (repeatable):
    /// "000 §2.2.4", "000 §2.2", "001 p.9".
    #[arg(long, value_name = "SECTION")]
    section: Vec<String>,
    /// The module's profile (required with --port/--tcp; repeatable to narrow emulator runs).
    #[arg(long, value_name = "NAME", conflicts_with = "target")]
    profile: Vec<String>,
    /// Only scenarios whose corpus path contains this (repeatable).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Add emulator quirks to every case: repeatable and/or comma-separated (see `atconform
    /// emulate --list-quirks`).
    #[arg(
        long,
        value_name = "NAME[,NAME...]",
        value_delimiter = ',',
        conflicts_with = "target"
    )]
    quirk: Vec<String>,
    /// Add an emulator liberty to every case (repeatable or comma-separated; see `atconform
    /// emulate --list-liberties`).
    #[arg(long, value_name = "NAME[,NAME...]")]
    liberty: Vec<String>,
    /// Also write a report: json:PATH or junit:PATH (repeatable; DIR/report.json is always
    /// written). With --target: junit:PATH only, one suite per target.
    #[arg(long, value_name = "KIND:PATH")]
    report: Vec<ReportSpec>,
    /// Run directory: report.json and transcripts (default: <data dir>/runs/<unix-time>; the data
    /// directory is $ATCONFORM_DATA_DIR, the workspace's target/atconform when run under Cargo or
    /// inside a Cargo workspace, or ~/.local/share/atconform). Must be new or empty, unless
    /// --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Empty the --out run directory first if it holds an earlier run.
    #[arg(long)]
    force: bool,
    /// Capture-sink listen address for real targets (the device must be able to reach it).
    #[arg(long, value_name = "ADDR")]
    sink_listen: Option<std::net::SocketAddr>,
    /// Implicit-TLS (SMTPS) listen address of that sink (for `ssltype` 1 scenarios).
    #[arg(long, value_name = "ADDR")]
    sink_tls_listen: Option<std::net::SocketAddr>,
    /// Check mail and SMTP sessions in a sink run elsewhere (`atconform sink --api ADDR`)
    /// instead.
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["sink_listen", "sink_tls_listen"])]
    sink_api: Option<std::net::SocketAddr>,
    /// Real targets: the lab's fault-control port (HOST:PORT; `atconform emulate
    /// --fault-control` for the emulator), through which `@fault` SIM and mobile-network cases
    /// run instead of being skipped (docs/real-modules.md).
    #[arg(long, value_name = "HOST:PORT")]
    fault_control: Option<String>,
    /// Run the cases in a shuffled order: SEED repeats an order; without SEED a random seed
    /// is drawn. The seed is printed.
    #[arg(long, value_name = "SEED", num_args = 0..=1, default_missing_value = "random")]
    shuffle: Option<String>,
    /// A module profile file (`base = "ec25"` plus your `[setup]`) whose setup prepares a real
    /// target before each case (see docs/real-modules.md).
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    setup_profile: Option<PathBuf>,
    /// A lab file: TOML `[vars]` with the lab's APN, SMTP server and ports, account and
    /// addresses (docs/real-modules.md, "Lab variables"). Precedence: --var, then the
    /// environment, then this file, then each scenario's default (the manual's value).
    #[arg(long, value_name = "FILE")]
    lab: Option<PathBuf>,
    /// Set a variable for this run, above the environment and --lab (repeatable):
    /// --var APN=internet. Prefer the environment or --lab for secrets.
    #[arg(long, value_name = "NAME=VALUE")]
    var: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// The variables' values of this run: `--var`, the environment, `--lab FILE`. Every name
/// given must be one some scenario (or the setup profile, or docs/real-modules.md) knows.
fn lab_vars(
    args: &Args,
    scenarios: &[at_scenario::Scenario],
) -> miette::Result<at_runner::vars::LabVars> {
    let env = |name: &str| std::env::var(name).ok();
    let mut vars = at_runner::vars::LabVars::new(env);
    let mut known: std::collections::BTreeSet<String> = scenarios
        .iter()
        .flat_map(|sc| sc.vars.iter().map(|v| v.name.clone()))
        .collect();
    known.extend(
        setup_lines(args)
            .iter()
            .flat_map(|l| at_runner::vars::setup_refs(l).into_iter().map(|(n, _)| n)),
    );
    if let Some(path) = &args.lab {
        let file = at_runner::vars::LabFile::load(path, env).map_err(|e| miette!("{e}"))?;
        file.check_known(&known).map_err(|e| miette!("{e}"))?;
        vars = vars.with_file(file);
    }
    let mut cli = Vec::new();
    for kv in &args.var {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(miette!("--var {kv:?}: expected NAME=VALUE"));
        };
        if !known.contains(k) && at_runner::vars::lab_var(k).is_none() {
            let mut all: Vec<&str> = known.iter().map(String::as_str).collect();
            all.extend(at_runner::vars::LAB_VARS.iter().map(|v| v.name));
            all.sort_unstable();
            all.dedup();
            return Err(miette!(
                "--var {k}: no scenario declares `{k}`; the variables are: {}",
                all.join(", ")
            ));
        }
        cli.push((k.to_owned(), v.to_owned()));
    }
    Ok(vars.with_cli(cli))
}

/// The setup commands of the profile(s) a real target would be prepared with.
fn setup_lines(args: &Args) -> Vec<String> {
    let mut profiles = Vec::new();
    if let Some(path) = &args.setup_profile {
        profiles.extend(at_catalog::Profile::load_file(path).ok());
    }
    for p in &args.profile {
        profiles.extend(at_catalog::Profile::builtin(p).ok());
    }
    for t in &args.target {
        if let TargetSel::Direct(t) = t {
            profiles.extend(at_catalog::Profile::builtin(&t.profile.to_string()).ok());
        }
    }
    profiles
        .iter()
        .flat_map(|m| {
            let s = &m.setup;
            s.health
                .iter()
                .chain(&s.prelude)
                .chain(s.states.values().flatten())
                .map(|c| c.send.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `--list`'s variables block: each variable the selected scenarios (and setup) use, its
/// effective value (secrets masked) and where it comes from.
fn variables_text(
    args: &Args,
    scenarios: &[at_scenario::Scenario],
    vars: &at_runner::vars::LabVars,
) -> String {
    let mut profiles: Vec<Profile> = args
        .profile
        .iter()
        .chain(&args.emulator)
        .filter_map(|p| Profile::from_name(p))
        .collect();
    profiles.extend(args.target.iter().filter_map(|t| match t {
        TargetSel::Direct(t) => Some(t.profile),
        TargetSel::Lab(_) => None,
    }));
    let cfg = RunConfig {
        filters: args.filter.clone(),
        sections: args.section.clone(),
        profiles,
        ..RunConfig::default()
    };
    let selected = at_runner::run::select(scenarios.to_vec(), &cfg);
    let mut seen = std::collections::BTreeSet::new();
    let used: Vec<&at_scenario::Scenario> = selected
        .iter()
        .filter(|(sc, _)| seen.insert(sc.name.clone()))
        .map(|(sc, _)| sc.as_ref())
        .collect();
    let rows = at_runner::vars::effective(used, &setup_lines(args), vars);
    let mut text = format!(
        "variables ({}; precedence: --var, environment, --lab file, the scenario's default):\n",
        match vars.file() {
            Some(f) => format!("lab file {}", f.path().display()),
            None => "no --lab file".into(),
        }
    );
    // Lab settings (docs/real-modules.md) and whatever the run sets; the scenarios' own
    // test data (boundary strings) on one line.
    let (lab, data): (Vec<_>, Vec<_>) = rows
        .iter()
        .partition(|r| at_runner::vars::lab_var(&r.name).is_some() || r.set.is_some());
    let described: Vec<(String, String, String)> = lab
        .iter()
        .map(|r| {
            let (v, o) = r.describe();
            let v = if v.chars().count() > 40 {
                let head: String = v.chars().take(30).collect();
                format!("{head}… ({} chars)", v.chars().count())
            } else {
                v
            };
            (r.name.clone(), v, o)
        })
        .collect();
    let nw = described.iter().map(|d| d.0.len()).max().unwrap_or(0);
    let vw = described
        .iter()
        .map(|d| d.1.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    for (n, v, o) in described {
        text.push_str(&format!("  {n:<nw$}  {v:<vw$}  {o}\n"));
    }
    if !data.is_empty() {
        let names: Vec<&str> = data.iter().map(|r| r.name.as_str()).collect();
        text.push_str(&format!(
            "  (test data, each scenario's default: {})\n",
            names.join(", ")
        ));
    }
    text
}

/// The seed of `--shuffle [SEED]`, drawn from the clock when not given.
/// `--lab-wait`: a duration (`90s`, `10m`), a bare number being seconds.
fn parse_wait(s: &str) -> Result<Duration, String> {
    at_wire::duration::parse_or_secs(s).map_err(|e| format!("{s:?}: {e}"))
}

fn shuffle_seed(arg: Option<&str>) -> miette::Result<Option<u64>> {
    match arg {
        None => Ok(None),
        Some("random") => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            Ok(Some(
                (t as u64) ^ u64::from(std::process::id()).rotate_left(32),
            ))
        }
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| miette!("--shuffle {s:?}: the seed is a number (0 to 2^64-1)")),
    }
}

fn profile(name: &str) -> miette::Result<Profile> {
    Profile::from_name(name).ok_or_else(|| miette!("unknown profile {name:?}"))
}

/// `<data dir>/runs/<unix-time>`: `$ATCONFORM_DATA_DIR`, the workspace's `target/atconform`,
/// or `~/.local/share/atconform` ([`at_runner::data_dir`]), not the current directory.
fn default_out() -> PathBuf {
    at_runner::rundir::unused(&at_runner::data_dir::default_dir("runs"))
}

/// The run directory, checked before anything runs: new or empty, or emptied with --force.
fn out_dir(args: &Args) -> miette::Result<PathBuf> {
    let out = args.out.clone().unwrap_or_else(default_out);
    at_runner::rundir::prepare(&out, args.force).map_err(|e| miette!("{e}"))?;
    Ok(out)
}

/// Ctrl-C sets the flag; the run stops at the next read (every read has a deadline).
fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    // A second Ctrl-C while the partial report is written is ignored.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    cancel
}

/// Prints `text` to stdout; a closed pipe (`| head`) is not an error: the verdict is in the
/// exit code (ripgrep). Every subcommand of this binary that prints a report uses it.
pub(crate) fn print(text: &str) -> miette::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(miette!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let (scenarios, load_errors) = if args.paths.is_empty() {
        (
            at_runner::corpus::embedded().map_err(|e| miette!("{e}"))?,
            Vec::new(),
        )
    } else {
        at_runner::corpus::load_paths_each(&args.paths)
    };
    // A file that does not load is reported and the rest still runs; the exit code is then 2.
    for e in &load_errors {
        eprintln!("{e}\n");
    }
    if !load_errors.is_empty() {
        eprintln!(
            "{} scenario file(s) failed to load (above); running the {} that loaded",
            load_errors.len(),
            scenarios.len()
        );
    }
    // 2 is the highest exit code: a load error decides it.
    let at_least = |code: ExitCode| {
        if load_errors.is_empty() {
            code
        } else {
            ExitCode::from(crate::EXIT_USAGE)
        }
    };
    if scenarios.is_empty() && !load_errors.is_empty() {
        return Err(miette!("no scenario file loaded"));
    }
    check_sections(&args.section, &scenarios)?;
    let vars = lab_vars(&args, &scenarios)?;
    if args.list {
        let mut view = args_view(&args);
        view.variables = variables_text(&args, &scenarios, &vars);
        return super::lab::list(&view, &scenarios);
    }
    if !args.target.is_empty() {
        return run_targets(&args, &scenarios, &vars).map(at_least);
    }
    let mut profiles = args
        .profile
        .iter()
        .map(|p| profile(p))
        .collect::<miette::Result<Vec<_>>>()?;
    let target = single_target(&args);
    if let Some(p) = &args.emulator {
        profiles = vec![profile(p)?];
    }
    at_emulator::QuirkSet::from_names(&args.quirk).map_err(|e| miette!("--quirk: {e}"))?;
    at_emulator::LibertySet::from_names(&args.liberty).map_err(|e| miette!("{e}"))?;
    if target != TargetSpec::Emulator && !args.liberty.is_empty() {
        return Err(miette!(
            "--liberty only applies to the emulator (a real module makes its own choices)"
        ));
    }
    if target != TargetSpec::Emulator && profiles.len() != 1 {
        return Err(miette!(
            "--port/--tcp need exactly one --profile NAME (the module on the other end)"
        ));
    }
    let module = match &args.setup_profile {
        Some(path) => Some(
            at_catalog::Profile::load_file(path)
                .map_err(|e| miette!("--setup-profile {}: {e}", path.display()))?,
        ),
        None => None,
    };
    if module.is_some() && target == TargetSpec::Emulator {
        return Err(miette!(
            "--setup-profile prepares a real target (--port/--tcp); the in-process emulator \
             starts every case powered on"
        ));
    }
    let shuffle = shuffle_seed(args.shuffle.as_deref())?;
    let cfg = RunConfig {
        rerun: Some(single_rerun(
            &args,
            &target,
            &profiles,
            &at_runner::vars::secret_names(&scenarios),
        )),
        target,
        profiles,
        filters: args.filter.clone(),
        quirks: args.quirk.clone(),
        liberties: args.liberty.clone(),
        sink_listen: args.sink_listen,
        sink_tls_listen: args.sink_tls_listen,
        sink_api: args.sink_api,
        sections: args.section.clone(),
        shuffle,
        fault_control: args
            .fault_control
            .as_ref()
            .map(at_runner::fault_control::FaultControl::new),
        module,
        vars,
    };
    if let Some(seed) = shuffle {
        eprintln!("shuffling the cases with seed {seed} (--shuffle {seed} repeats this order)");
    }
    let baseline = super::lab::load_baseline(args.baseline.as_deref())?;
    let cases = at_runner::run::select(scenarios, &cfg);
    if cases.is_empty() {
        return Err(miette!("no scenario matches the selection"));
    }
    for w in at_runner::run::mail_warnings(&cases, &cfg) {
        eprintln!("{w}");
    }
    let out = out_dir(&args)?;

    let cancel = cancel_on_ctrl_c();
    let progress = at_runner::report::Progress::new(cases.len(), args.quiet);
    let mut report = match at_runner::run::run(&cases, &cfg, &cancel, |r| progress.case(r)) {
        Ok(r) => r,
        Err(e) => {
            // The device cannot be opened or fails its health check: one line, no cases.
            progress.finish();
            eprintln!("NOT RUN: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    progress.finish();
    if let Some(rerun) = &cfg.rerun {
        report.attach_reproducers(rerun);
    }

    // A run directory: transcripts + report.json, what `atconform diff` and the reports read.
    // Results that cannot be written are an error (exit 2), never claimed.
    if let Err(e) = report.write_run_dir(&out) {
        print(&report.summary_text())?;
        return Err(miette!(
            "cannot write the run directory {}: {e} (the verdicts above are not saved)",
            out.display()
        ));
    }
    for spec in &args.report {
        report
            .write(spec)
            .map_err(|e| miette!("cannot write {}: {e}", spec.path.display()))?;
    }
    print(&format!(
        "{}{}run directory: {} (report.json, transcripts)\n",
        report.summary_text(),
        if load_errors.is_empty() {
            String::new()
        } else {
            format!(
                "{} scenario file(s) failed to load and did not run (errors above)\n",
                load_errors.len()
            )
        },
        out.display()
    ))?;
    if let Some((path, baseline)) = &baseline {
        let run = at_report::load::Run::from_runner(at_lab::baseline::SINGLE_RUN, &report);
        let ids: std::collections::BTreeSet<String> = cases
            .iter()
            .map(|(sc, p)| format!("{} [{p}]", at_runner::corpus_name(&sc.name)))
            .collect();
        let scope = [(at_lab::baseline::SINGLE_RUN.to_string(), Some(ids))].into();
        let gate = super::lab::gate(
            path,
            baseline,
            &[(at_lab::baseline::SINGLE_RUN.to_string(), &run)],
            &scope,
            &Default::default(),
        );
        print(&gate.0)?;
        return Ok(at_least(ExitCode::from(gate.1)));
    }
    Ok(at_least(ExitCode::from(report.exit_code())))
}

/// Every `--section` must be cited by some scenario (a typo would otherwise select nothing).
fn check_sections(sections: &[String], scenarios: &[at_scenario::Scenario]) -> miette::Result<()> {
    for want in sections {
        let cited = scenarios.iter().any(|sc| {
            sc.meta
                .sources
                .iter()
                .any(|s| at_runner::corpus::cites(s, want))
        });
        if !cited {
            let mut all: Vec<&str> = scenarios
                .iter()
                .flat_map(|sc| sc.meta.sources.iter().map(String::as_str))
                .collect();
            all.sort_by_key(|s| at_report::matrix::section_key(s));
            all.dedup();
            return Err(miette!(
                "--section {want:?}: no scenario cites it; cited sections: {}",
                all.join(", ")
            ));
        }
    }
    Ok(())
}

/// The arguments of a single-target run that a reproducer repeats.
fn single_rerun(
    args: &Args,
    target: &TargetSpec,
    profiles: &[Profile],
    secrets: &std::collections::BTreeSet<String>,
) -> Rerun {
    let profile = profiles.first().map(|p| p.to_string()).unwrap_or_default();
    let (target_args, fixes_profile) = match target {
        TargetSpec::Serial { path, baud } => (
            vec![
                "--port".into(),
                path.clone(),
                "--baud".into(),
                baud.to_string(),
                "--profile".into(),
                profile,
            ],
            true,
        ),
        TargetSpec::Tcp { addr } => (
            vec!["--tcp".into(), addr.clone(), "--profile".into(), profile],
            true,
        ),
        TargetSpec::Emulator | TargetSpec::Rfc2217 { .. } => (Vec::new(), false),
    };
    let mut options = sink_options(args);
    options.extend(var_options(args, secrets));
    for q in &args.quirk {
        options.push("--quirk".into());
        options.push(q.clone());
    }
    Rerun {
        target: target_args,
        fixes_profile,
        options,
        paths: paths(args),
    }
}

/// `--sink-listen`, `--sink-tls-listen`, `--sink-api` as given.
fn sink_options(args: &Args) -> Vec<String> {
    let mut o = Vec::new();
    for (flag, v) in [
        ("--sink-listen", args.sink_listen),
        ("--sink-tls-listen", args.sink_tls_listen),
        ("--sink-api", args.sink_api),
    ] {
        if let Some(v) = v {
            o.push(flag.to_string());
            o.push(v.to_string());
        }
    }
    if let Some(c) = &args.fault_control {
        o.push("--fault-control".into());
        o.push(c.clone());
    }
    o
}

/// `--lab FILE` and the non-secret `--var`s, as given (a secret is set again by the user).
fn var_options(args: &Args, secrets: &std::collections::BTreeSet<String>) -> Vec<String> {
    let mut o = Vec::new();
    if let Some(lab) = &args.lab {
        o.push("--lab".into());
        o.push(lab.display().to_string());
    }
    for kv in &args.var {
        let name = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
        if !secrets.contains(name) {
            o.push("--var".into());
            o.push(kv.clone());
        }
    }
    o
}

fn paths(args: &Args) -> Vec<String> {
    args.paths.iter().map(|p| p.display().to_string()).collect()
}

/// The target of a run without `--target`: `--port`, `--tcp`, or the in-process emulator.
fn single_target(args: &Args) -> TargetSpec {
    match (&args.port, &args.tcp) {
        (Some(path), _) => TargetSpec::Serial {
            path: path.clone(),
            baud: args.baud,
        },
        (_, Some(addr)) => TargetSpec::Tcp { addr: addr.clone() },
        _ => TargetSpec::Emulator,
    }
}

/// What `--list` needs to know of the arguments.
fn args_view(args: &Args) -> super::lab::ListArgs {
    let single = if args.target.is_empty() {
        let profiles: Vec<Profile> = match &args.emulator {
            Some(p) => Profile::from_name(p).into_iter().collect(),
            None => args
                .profile
                .iter()
                .filter_map(|p| Profile::from_name(p))
                .collect(),
        };
        let target = single_target(args);
        Some((target, profiles))
    } else {
        None
    };
    super::lab::ListArgs {
        targets: args.target.clone(),
        single,
        filters: args.filter.clone(),
        sections: args.section.clone(),
        lab_wait: args.lab_wait,
        fault_control: args.fault_control.is_some(),
        variables: String::new(),
    }
}

/// `--target SPEC...`: the corpus on every target, one run directory each, a summary table
/// and the matrix. Exit code: the worst of the targets' (a target that cannot run counts as
/// failed), or with `--baseline` the gate's.
fn run_targets(
    args: &Args,
    scenarios: &[at_scenario::Scenario],
    vars: &at_runner::vars::LabVars,
) -> miette::Result<ExitCode> {
    let shuffle = shuffle_seed(args.shuffle.as_deref())?;
    if let Some(seed) = shuffle {
        eprintln!("shuffling the cases with seed {seed} (--shuffle {seed} repeats this order)");
    }
    let base = RunConfig {
        filters: args.filter.clone(),
        sink_listen: args.sink_listen,
        sink_tls_listen: args.sink_tls_listen,
        sink_api: args.sink_api,
        sections: args.section.clone(),
        rerun: Some(Rerun {
            options: [
                sink_options(args),
                var_options(args, &at_runner::vars::secret_names(scenarios)),
            ]
            .concat(),
            paths: paths(args),
            ..Rerun::default()
        }),
        shuffle,
        fault_control: args
            .fault_control
            .as_ref()
            .map(at_runner::fault_control::FaultControl::new),
        vars: vars.clone(),
        ..RunConfig::default()
    };
    if let Some(spec) = args
        .report
        .iter()
        .find(|s| s.kind != at_runner::report::ReportKind::Junit)
    {
        return Err(miette!(
            "--report {}: with --target each target's JSON report is <out>/<label>/report.json and \
             the matrix is <out>/matrix.json; --report takes junit:PATH (one suite per target)",
            spec.path.display()
        ));
    }
    let baseline = super::lab::load_baseline(args.baseline.as_deref())?;
    let out = out_dir(args)?;
    let cancel = cancel_on_ctrl_c();
    // labgrid places become targets: reserved, acquired and health-checked, in parallel.
    let mut lab = super::lab::take_places(&args.target, args.lab_wait, &cancel)?;
    let mut targets: Vec<TargetArg> = args
        .target
        .iter()
        .filter_map(|t| match t {
            TargetSel::Direct(t) => Some(t.clone()),
            TargetSel::Lab(_) => None,
        })
        .collect();
    targets.extend(lab.held.iter().map(|h| h.target.clone()));
    let selected = |t: &TargetArg| {
        let cfg = RunConfig {
            profiles: vec![t.profile],
            ..base.clone()
        };
        at_runner::run::select(scenarios.to_vec(), &cfg)
    };
    for t in &targets {
        let cfg = RunConfig {
            target: t.target.clone(),
            profiles: vec![t.profile],
            ..base.clone()
        };
        for w in at_runner::run::mail_warnings(&selected(t), &cfg) {
            eprintln!("{}: {w}", t.label);
        }
    }
    let total: usize = targets.iter().map(|t| selected(t).len()).sum();
    if total == 0 && lab.not_run.is_empty() {
        return Err(miette!("no scenario matches the selection on any target"));
    }
    let progress = at_runner::report::Progress::new(total, args.quiet);
    let results =
        at_runner::multi::run_targets(&targets, scenarios, &base, &out, &cancel, &|label, r| {
            progress.target_case(label, r)
        })
        .map_err(|e| miette!("{e}"))?;
    progress.finish();
    // Release every place now (errors reported), not at the end of the process.
    let lab_text = lab.finish();

    let mut text = lab.summary().to_string();
    let mut exit = 0u8;
    // Per target: what did not pass (labelled `[slow: ec25]`), informational differences and
    // the skip reasons grouped.
    for r in results.iter().flatten() {
        let details = r.report.details(Some(&r.target.label));
        if !details.trim().is_empty() {
            text.push_str(&format!("\n== {} ==", r.target.label));
            text.push_str(&details);
        }
    }
    let lw = targets
        .iter()
        .map(|t| t.label.len())
        .chain(lab.not_run.iter().map(|n| n.label.len()))
        .max()
        .unwrap_or(0)
        .max(6);
    let rw = targets
        .iter()
        .map(|t| at_runner::multi::describe(t).len())
        .max()
        .unwrap_or(0)
        .max(7);
    // The same numbers as each target's report.json `counts`, JUnit suite and matrix column.
    text.push_str(&format!(
        "\n{:<lw$} {:<rw$} {:>5} {:>5} {:>5} {:>10} {:>5} {:>5} {:>5} {:>9}\n",
        "target", "runs on", "cases", "pass", "info", "non-strict", "fail", "skip", "error", "time"
    ));
    for (t, r) in targets.iter().zip(&results) {
        let runs_on = at_runner::multi::describe(t);
        match r {
            Ok(r) => {
                let c = r.report.counts();
                text.push_str(&format!(
                    "{:<lw$} {:<rw$} {:>5} {:>5} {:>5} {:>10} {:>5} {:>5} {:>5} {:>7.3} s{}{}\n",
                    t.label,
                    runs_on,
                    r.report.cases.len(),
                    c.pass,
                    c.informational,
                    c.non_strict,
                    c.fail,
                    c.skip,
                    c.error,
                    r.report.wall.as_secs_f64(),
                    if c.interrupted > 0 {
                        format!("  {} interrupted", c.interrupted)
                    } else {
                        String::new()
                    },
                    if r.report.interrupted {
                        "  INTERRUPTED"
                    } else {
                        ""
                    }
                ));
                exit = exit.max(r.report.exit_code());
            }
            Err(e) => {
                text.push_str(&format!("{:<lw$} {runs_on:<rw$} NOT RUN: {e}\n", t.label));
                // Results that could not be saved are a usage-level error, like a full disk.
                let code = match e {
                    at_runner::multi::TargetError::WriteFailed { .. } => 2,
                    _ => 1,
                };
                exit = exit.max(code);
            }
        }
    }
    for n in &lab.not_run {
        let runs_on = "labgrid place";
        text.push_str(&format!(
            "{:<lw$} {runs_on:<rw$} NOT RUN: {}\n",
            n.label, n.reason
        ));
        exit = exit.max(1);
    }
    // The runs as the reports read them, labelled with their targets' labels.
    let runs: Vec<at_report::load::Run> = results
        .iter()
        .flatten()
        .map(|r| at_report::load::Run::from_runner(&r.target.label, &r.report))
        .collect();
    let m = at_report::matrix::Matrix::build(&runs, scenarios);
    let html = out.join("matrix.html");
    let json = out.join("matrix.json");
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| {
            smtp_sink::durable::write_file(
                &html,
                at_report::html::render(&m, "atconform conformance matrix").as_bytes(),
            )
        })
        .and_then(|()| smtp_sink::durable::write_file(&json, m.to_json().as_bytes()));
    if let Err(e) = written {
        print(&text)?;
        return Err(miette!(
            "cannot write the matrix into {}: {e} (the results above are not all saved)",
            out.display()
        ));
    }
    let labelled: Vec<(&str, &at_runner::RunReport)> = results
        .iter()
        .flatten()
        .map(|r| (r.target.label.as_str(), &r.report))
        .collect();
    for spec in &args.report {
        if let Some(parent) = spec.path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| miette!("{}: {e}", parent.display()))?;
        }
        smtp_sink::durable::write_file(
            &spec.path,
            at_runner::report::junit_of(&labelled).as_bytes(),
        )
        .map_err(|e| miette!("cannot write {}: {e}", spec.path.display()))?;
    }
    text.push_str(&format!(
        "run directories: {}/<target>/ (report.json, transcripts); matrix: {}, {}\n",
        out.display(),
        html.display(),
        json.display()
    ));
    text.push_str(&lab_text);
    if let Some((path, baseline)) = &baseline {
        let keyed: Vec<(String, &at_report::load::Run)> = results
            .iter()
            .flatten()
            .zip(&runs)
            .map(|(r, run)| (at_runner::multi::dir_name(&r.target.label), run))
            .collect();
        let mut scope = std::collections::BTreeMap::new();
        let mut why = std::collections::BTreeMap::new();
        let ids = |t: &TargetArg| {
            selected(t)
                .iter()
                .map(|(sc, p)| format!("{} [{p}]", at_runner::corpus_name(&sc.name)))
                .collect::<std::collections::BTreeSet<String>>()
        };
        for (t, r) in targets.iter().zip(&results) {
            let key = at_runner::multi::dir_name(&t.label);
            if let Err(e) = r {
                why.insert(key.clone(), format!("not run: {e}"));
            }
            scope.insert(key, Some(ids(t)));
        }
        for n in &lab.not_run {
            let key = at_runner::multi::dir_name(&n.label);
            why.insert(key.clone(), format!("not run: {}", n.reason));
            // Its profile decides the selection; without one, every baseline case counts.
            let cases = n.profile.map(|p| {
                ids(&TargetArg {
                    label: n.label.clone(),
                    profile: p,
                    target: TargetSpec::Emulator,
                    quirks: Vec::new(),
                    liberties: Vec::new(),
                    origin: String::new(),
                })
            });
            scope.insert(key, cases);
        }
        let (gate_text, code) = super::lab::gate(path, baseline, &keyed, &scope, &why);
        text.push_str(&gate_text);
        print(&text)?;
        return Ok(ExitCode::from(code));
    }
    print(&text)?;
    Ok(ExitCode::from(exit))
}
