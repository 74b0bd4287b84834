//! The health check that gates a lab place before its run: `AT`, `ATI`, `AT+CPIN?` must answer
//! `OK` (and `+CPIN: READY`) within a few seconds, or the place is not run, with the reason.
//!
//! Issue #13 gives the runner a per-target health check of its own; until it lands, this is
//! the one function the lab calls ([`check_spec`]), so it can be swapped for that one.

use std::time::Duration;

use at_runner::TargetSpec;
use at_runner::target::{ReadOutcome, Target};
use at_wire::{Decoder, DecoderConfig, Final, Kind};

/// How long each command may take (000 §2.1.2 documents 300 ms; a busy lab gets more).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// A healthy module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// What `ATI` answered, lines joined by spaces (`Quectel EC25 Revision: EC25EFAR06A03M4G`).
    pub ident: String,
}

/// One command: its information lines, or why it failed.
fn ask(target: &mut dyn Target, command: &[u8]) -> Result<Vec<String>, String> {
    let shown = String::from_utf8_lossy(command).into_owned();
    let mut line = command.to_vec();
    line.push(b'\r');
    target.write(&line).map_err(|e| format!("{shown}: {e}"))?;
    let mut dec = Decoder::new(DecoderConfig::default());
    dec.expect_line(command);
    let deadline = target.now() + COMMAND_TIMEOUT;
    let mut info = Vec::new();
    let mut done: Option<(Final, String)> = None;
    while done.is_none() {
        match target.read(deadline).map_err(|e| format!("{shown}: {e}"))? {
            ReadOutcome::Timeout => {
                return Err(format!(
                    "no answer to {shown} within {} s",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            ReadOutcome::Data(d) => dec.decode_all(&d, |ev| match ev.kind {
                Kind::Info | Kind::Text => {
                    info.push(String::from_utf8_lossy(ev.line).trim().to_string());
                }
                Kind::Final(f) if done.is_none() => {
                    done = Some((f, String::from_utf8_lossy(ev.line).trim().to_string()));
                }
                _ => {}
            }),
        }
    }
    match done {
        Some((Final::Ok, _)) => Ok(info),
        Some((_, line)) => Err(format!("{shown} answered {line}")),
        None => Err(format!("no final result code for {shown}")),
    }
}

/// `AT`, `ATI`, `AT+CPIN?` on an open target.
pub fn check(target: &mut dyn Target) -> Result<Health, String> {
    ask(target, b"AT")?;
    let ident = ask(target, b"ATI")?.join(" ");
    let cpin = ask(target, b"AT+CPIN?").map_err(|e| format!("SIM not ready: {e}"))?;
    if !cpin.iter().any(|l| l.trim() == "+CPIN: READY") {
        return Err(format!(
            "SIM not ready: AT+CPIN? answered {}",
            if cpin.is_empty() {
                "no +CPIN line".to_string()
            } else {
                cpin.join(" ")
            }
        ));
    }
    Ok(Health { ident })
}

/// Opens `spec`, checks it, closes it again (a fresh connection per case follows).
pub fn check_spec(spec: &TargetSpec) -> Result<Health, String> {
    let mut device = spec
        .open()?
        .ok_or_else(|| "the in-process emulator needs no health check".to_string())?;
    check(device.as_mut())
}

#[cfg(test)]
mod tests {
    use super::*;
    use at_runner::target::{Script, ScriptedTarget};

    fn device(answers: &[(&'static [u8], &'static [u8])]) -> ScriptedTarget {
        ScriptedTarget::new(
            answers
                .iter()
                .flat_map(|(cmd, answer)| {
                    let mut s = vec![Script::Expect(cmd.to_vec())];
                    if !answer.is_empty() {
                        s.push(Script::Send(answer.to_vec()));
                    }
                    s
                })
                .collect(),
        )
    }

    #[test]
    fn a_ready_module_is_healthy_and_a_missing_sim_is_not() {
        let mut t = device(&[
            (b"AT\r", b"AT\r\r\nOK\r\n"),
            (
                b"ATI\r",
                b"ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A03M4G\r\n\r\nOK\r\n",
            ),
            (b"AT+CPIN?\r", b"AT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n"),
        ]);
        assert_eq!(
            check(&mut t),
            Ok(Health {
                ident: "Quectel EC25 Revision: EC25EFAR06A03M4G".into()
            })
        );
        let mut t = device(&[
            (b"AT\r", b"AT\r\r\nOK\r\n"),
            (b"ATI\r", b"ATI\r\r\nQuectel\r\n\r\nOK\r\n"),
            (b"AT+CPIN?\r", b"AT+CPIN?\r\r\n+CME ERROR: 10\r\n"),
        ]);
        let e = check(&mut t).unwrap_err();
        assert_eq!(e, "SIM not ready: AT+CPIN? answered +CME ERROR: 10");
        let mut t = device(&[(b"AT\r", b"")]);
        let e = check(&mut t).unwrap_err();
        assert!(e.contains("no answer to AT"), "{e}");
    }
}
