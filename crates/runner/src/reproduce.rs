//! Copy-paste commands that rerun one case. Every failing case carries one (terminal output,
//! `report.json`, `matrix.json`, `matrix.html`); [`command`] is the one place that builds it.

/// How a run reached its target and what else it used, as `atconform run` arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rerun {
    /// Arguments selecting the target: `["--target", "labgrid:ec25-a"]`,
    /// `["--tcp", "127.0.0.1:7001", "--profile", "ec25"]`; empty for the in-process emulator.
    pub target: Vec<String>,
    /// Whether `target` fixes the profile; if not, `--emulator PROFILE` is added per case.
    pub fixes_profile: bool,
    /// Further options the case needs (`--quirk NAME`, `--sink-listen ADDR`, ...).
    pub options: Vec<String>,
    /// Scenario paths given on the command line (empty: the embedded corpus).
    pub paths: Vec<String>,
}

impl Rerun {
    /// A run on `--target SPEC` (the profile is the target's).
    pub fn target(spec: &str) -> Self {
        Rerun {
            target: vec!["--target".into(), spec.into()],
            fixes_profile: true,
            ..Rerun::default()
        }
    }
}

/// The command that reruns `scenario` (its corpus name) for `profile` exactly as `rerun`'s
/// run did: `atconform run [PATH...] TARGET [OPTIONS] --filter SCENARIO`.
pub fn command(rerun: &Rerun, scenario: &str, profile: &str) -> String {
    let mut args: Vec<String> = vec!["atconform".into(), "run".into()];
    args.extend(rerun.paths.iter().cloned());
    args.extend(rerun.target.iter().cloned());
    if !rerun.fixes_profile {
        args.push("--emulator".into());
        args.push(profile.into());
    }
    args.extend(rerun.options.iter().cloned());
    args.push("--filter".into());
    args.push(scenario.into());
    let quoted: Vec<String> = args.iter().map(|a| quote(a)).collect();
    quoted.join(" ")
}

/// `arg` as one POSIX-shell word: as is when it is plain, else single-quoted.
pub fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@+,%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_rerun_one_case() {
        assert_eq!(
            command(
                &Rerun::target("labgrid:ec25-a"),
                "edge/dtr-ends-body.scn",
                "ec25"
            ),
            "atconform run --target labgrid:ec25-a --filter edge/dtr-ends-body.scn"
        );
        let emu = Rerun {
            options: vec!["--quirk".into(), "urc-before-ok".into()],
            ..Rerun::default()
        };
        assert_eq!(
            command(&emu, "quectel/2.2.7-qsmtpput.scn", "eg95"),
            "atconform run --emulator eg95 --quirk urc-before-ok --filter quectel/2.2.7-qsmtpput.scn"
        );
        let tcp = Rerun {
            target: vec![
                "--tcp".into(),
                "lab 1:7001".into(),
                "--profile".into(),
                "ec25".into(),
            ],
            fixes_profile: true,
            paths: vec!["my scenarios/".into()],
            ..Rerun::default()
        };
        assert_eq!(
            command(&tcp, "it's.scn", "ec25"),
            r"atconform run 'my scenarios/' --tcp 'lab 1:7001' --profile ec25 --filter 'it'\''s.scn'"
        );
    }
}
