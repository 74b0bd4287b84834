//! Entry point for fuzzers (`cargo fuzz` targets and the property tests): drives the emulator
//! core (through its one [`Driver`]) with arbitrary operations and checks invariants, panicking when one breaks.

use core::time::Duration;

use at_mailer::{Failure, Outcome, Stage, Transcript};

use crate::driver::{Driver, Manual};
use crate::{EmulatorConfig, Fault};

/// One step of a fuzzed session.
#[derive(Debug, Clone, arbitrary::Arbitrary)]
pub enum Op {
    /// Raw host bytes.
    Input(Vec<u8>),
    /// A well-formed command line, so fuzzing reaches deep states quickly.
    Line(Line),
    /// Virtual time passes, in units of 10 ms.
    Advance(u16),
    /// DTR level.
    Dtr(bool),
    /// The pending delivery completes.
    Complete(Result_),
    /// A fault is injected.
    Inject(FaultKind),
}

/// Lines the fuzzer can pick whole.
#[derive(Debug, Clone, Copy, arbitrary::Arbitrary)]
#[allow(missing_docs)]
pub enum Line {
    Ate0,
    Ate1,
    AndD1,
    Qiact,
    Qideact,
    Server,
    Account,
    Ssl(u8),
    Dst(u8),
    DstDelete,
    Sub,
    SubHex,
    Body(u16, u8),
    Upload(u16, u8),
    Att,
    Clr,
    Put(u16),
    Putmail,
    Rec1,
    SmtpServ,
}

impl Line {
    fn bytes(self) -> Vec<u8> {
        let s = match self {
            Line::Ate0 => "ATE0".into(),
            Line::Ate1 => "ATE1".into(),
            Line::AndD1 => "AT&D1".into(),
            Line::Qiact => "AT+QIACT=1".into(),
            Line::Qideact => "AT+QIDEACT=1".into(),
            Line::Server => "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25".into(),
            Line::Account => "AT+QSMTPCFG=\"account\",\"u\",\"p\"".into(),
            Line::Ssl(t) => format!("AT+QSMTPCFG=\"ssltype\",{}", t % 4),
            Line::Dst(t) => format!("AT+QSMTPDST=1,{},\"a@b.c\"", t % 5),
            Line::DstDelete => "AT+QSMTPDST=0".into(),
            Line::Sub => "AT+QSMTPSUB=0,\"Hi\"".into(),
            Line::SubHex => "AT+QSMTPSUB=1,\"E4BDA0\"".into(),
            Line::Body(len, t) => format!("AT+QSMTPBODY=0,{},{}", len % 11_000, t % 8),
            Line::Upload(len, t) => format!("AT+QFUPL=\"RAM:f{}\",{},{}", t % 3, len, t % 8),
            Line::Att => "AT+QSMTPATT=1,1,\"RAM:f0\"".into(),
            Line::Clr => "AT+QSMTPCLR".into(),
            Line::Put(t) => format!("AT+QSMTPPUT={}", 50 + t % 100),
            Line::Putmail => "AT#PUTMAIL".into(),
            Line::Rec1 => "AT#REC1=\"a@b.c\"".into(),
            Line::SmtpServ => "AT#SMTPSERV=\"h\"".into(),
        };
        let mut v = s.into_bytes();
        v.push(b'\r');
        v
    }
}

/// A delivery result.
#[derive(Debug, Clone, Copy, arbitrary::Arbitrary)]
#[allow(missing_docs)]
pub enum Result_ {
    Ok,
    Dns,
    Refused,
    Auth,
    Reply(u16),
}

/// Faults the fuzzer can inject at run time.
#[derive(Debug, Clone, Copy, arbitrary::Arbitrary)]
#[allow(missing_docs)]
pub enum FaultKind {
    SimNotReady,
    PdpDeactivated,
    Clear,
}

/// Runs `ops` on a clean module of one of three profiles, then checks the module recovers:
/// after `+++` with guard times and enough virtual time for any data mode or send to end,
/// `AT<CR>` answers `OK` (issue "Bad input": the emulator never wedges). The module runs under
/// the one [`Driver`], deliveries completed by the operations ([`Manual`]).
pub fn run(profile: u8, ops: &[Op]) {
    let name = ["ec25", "ag35", "multitech"][usize::from(profile % 3)];
    let Ok(cfg) = EmulatorConfig::builtin(name) else {
        panic!("built-in profile {name} must load");
    };
    let mut m = Driver::new(cfg, Manual);
    let open = |m: &Driver<Manual>| m.deliveries().iter().filter(|d| d.is_open()).count();
    let advance = |m: &mut Driver<Manual>, d: Duration| {
        if let Err(e) = m.advance(d) {
            panic!("{e}");
        }
    };
    for op in ops {
        match op {
            Op::Input(b) => m.write(b),
            Op::Line(l) => m.write(&l.bytes()),
            Op::Advance(n) => advance(&mut m, Duration::from_millis(u64::from(*n) * 10)),
            Op::Dtr(v) => m.set_dtr(*v),
            Op::Complete(r) => {
                if let Some(id) = m.deliveries().iter().find(|d| d.is_open()).map(|d| d.id) {
                    let result = match r {
                        Result_::Ok => Ok(()),
                        Result_::Dns => Err(Failure::Dns),
                        Result_::Refused => Err(Failure::Refused),
                        Result_::Auth => Err(Failure::Protocol {
                            stage: Stage::Auth,
                            code: 535,
                            text: String::new(),
                        }),
                        Result_::Reply(c) => Err(Failure::Protocol {
                            stage: Stage::Data,
                            code: *c,
                            text: String::new(),
                        }),
                    };
                    let transcript = Transcript::default();
                    m.complete(id, Outcome { result, transcript });
                    assert!(
                        !m.emulator().is_sending(),
                        "still sending after the outcome"
                    );
                }
            }
            Op::Inject(FaultKind::SimNotReady) => m.inject_fault(Fault::SimNotReady),
            Op::Inject(FaultKind::PdpDeactivated) => {
                m.inject_fault(Fault::PdpDeactivate { at: Duration::ZERO })
            }
            Op::Inject(FaultKind::Clear) => m.clear_faults(),
        }
        assert!(open(&m) <= 1, "two deliveries at once");
        assert!(
            m.deliveries().iter().all(|d| !d.job.recipients.is_empty()),
            "delivery without recipients"
        );
        if let Some(e) = m.error() {
            panic!("{e}");
        }
        m.read_available();
    }
    // Recovery: DTR up, a guarded `+++`, then more than any `<input_time>`, upload `<timeout>`
    // or `AT+QSMTPPUT` `<timeout>` (65535 s).
    m.set_dtr(true);
    advance(&mut m, Duration::from_millis(1100));
    m.write(b"+++");
    advance(&mut m, Duration::from_secs(65_600));
    assert_eq!(open(&m), 0, "a delivery outlived its deadline");
    assert!(
        !m.emulator().in_data_mode(),
        "data mode outlived its timers"
    );
    m.write(b"\r");
    m.read_available();
    m.write(b"AT\r");
    let out = m.read_available();
    assert!(
        out.ends_with(b"\r\nOK\r\n"),
        "AT after recovery answered {:?}",
        String::from_utf8_lossy(&out)
    );
    // Nothing is emitted without input or time.
    advance(&mut m, Duration::ZERO);
    assert!(m.read_available().is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_session_passes_the_invariants() {
        let ops = [
            Op::Line(Line::Ate0),
            Op::Line(Line::Qiact),
            Op::Line(Line::Server),
            Op::Line(Line::Dst(1)),
            Op::Line(Line::Body(5, 3)),
            Op::Input(b"hello".to_vec()),
            Op::Line(Line::Put(10)),
            Op::Line(Line::Put(10)),
            Op::Complete(Result_::Auth),
            Op::Line(Line::Put(10)),
            Op::Advance(u16::MAX),
            Op::Line(Line::Upload(3, 1)),
            Op::Inject(FaultKind::PdpDeactivated),
            Op::Input(b"abc".to_vec()),
            Op::Line(Line::Att),
            Op::Line(Line::Qiact),
            Op::Line(Line::Put(0)),
            Op::Inject(FaultKind::PdpDeactivated),
            Op::Line(Line::Body(100, 7)),
            Op::Dtr(false),
        ];
        run(0, &ops);
        run(
            2,
            &[
                Op::Line(Line::Rec1),
                Op::Line(Line::SmtpServ),
                Op::Line(Line::Putmail),
            ],
        );
    }
}
