//! `atconform baseline`: the expected grade per target and case, for CI gates.
//!
//! `atconform baseline update RUN_DIR --baseline FILE` records the grades of a saved run (a
//! `--target` run's directory holds one sub-directory per target; a single run's directory is
//! the target `run`); `atconform run ... --baseline FILE` then fails only if a case got worse.
//! `atconform baseline check RUN_DIR --baseline FILE` gates a saved run the same way.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use at_lab::baseline::{Baseline, SINGLE_RUN};
use at_report::load::Run;
use miette::miette;

use super::run::print;

/// Regression baselines.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum What {
    /// Record the grades of a saved run (cases it graded replace theirs; others are kept).
    Update(Common),
    /// Compare a saved run with the baseline: exit 0 unless a case got worse.
    Check(Common),
}

#[derive(Debug, Clone, clap::Args)]
struct Common {
    /// A run directory (`atconform run --out DIR`, with or without --target).
    #[arg(value_name = "RUN_DIR")]
    run: PathBuf,
    /// The baseline file.
    #[arg(long, value_name = "FILE", default_value = "atconform-baseline.json")]
    baseline: PathBuf,
}

/// The runs of a run directory, keyed as `run --baseline` keys them.
fn runs(dir: &Path) -> miette::Result<Vec<(String, Run)>> {
    if dir.join("report.json").is_file() {
        let run = Run::load(dir).map_err(|e| miette!("{e}"))?;
        return Ok(vec![(SINGLE_RUN.to_string(), run)]);
    }
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| miette!("{}: {e}", dir.display()))?;
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("report.json").is_file())
        .collect();
    subdirs.sort();
    for d in subdirs {
        let run = Run::load(&d).map_err(|e| miette!("{e}"))?;
        out.push((run.label.clone(), run));
    }
    if out.is_empty() {
        return Err(miette!(
            "{}: no report.json here or in its sub-directories (a run directory is what \
             `atconform run --out DIR` writes)",
            dir.display()
        ));
    }
    Ok(out)
}

/// Runs the subcommand.
pub fn run(args: Args) -> miette::Result<ExitCode> {
    let (What::Update(c) | What::Check(c)) = &args.what;
    let loaded = runs(&c.run)?;
    let keyed: Vec<(String, &Run)> = loaded.iter().map(|(k, r)| (k.clone(), r)).collect();
    let grades = at_lab::baseline::grades(&keyed);
    match &args.what {
        What::Update(_) => {
            let mut b = if c.baseline.exists() {
                Baseline::load(&c.baseline).map_err(|e| miette!("{e}"))?
            } else {
                Baseline::default()
            };
            let u = b.update(&grades);
            b.save(&c.baseline).map_err(|e| miette!("{e}"))?;
            let targets: Vec<&str> = keyed.iter().map(|(k, _)| k.as_str()).collect();
            print(&format!(
                "{}: {} cases from {} ({}): {} new, {} changed; {} cases in the file\n",
                c.baseline.display(),
                grades.values().map(|m| m.len()).sum::<usize>(),
                c.run.display(),
                targets.join(", "),
                u.added,
                u.changed,
                u.total
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        What::Check(_) => {
            let b = Baseline::load(&c.baseline).map_err(|e| miette!("{e}"))?;
            // A saved run says what it graded, not what it was meant to: compare those.
            let scope = grades
                .iter()
                .map(|(k, cases)| (k.clone(), Some(cases.keys().cloned().collect())))
                .collect();
            let g = b.gate(&grades, &scope);
            print(&g.text(&c.baseline.display().to_string(), &Default::default()))?;
            Ok(ExitCode::from(u8::from(!g.passed())))
        }
    }
}
