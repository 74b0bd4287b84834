//! Core-level faults (issue "Fault injection"); network faults are forwarded in the job.

use core::time::Duration;

use at_emulator::{Fault, QuirkSet};
use at_mailer::NetFault;

use crate::util::{Bench, s};

#[test]
fn sim_not_ready() {
    // 000 §4.1, ERRATA E25
    let mut b = Bench::with("ec25", QuirkSet::NONE, &[Fault::SimNotReady]);
    b.send(b"ATE0\r");
    assert_eq!(b.cmd("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
    assert_eq!(b.cmd("AT+QSMTPDST=1,1,\"a@b.c\""), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT+QSMTPCFG=?"), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT+CGREG?"), "\r\n+CGREG: 0,0\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT"), "\r\nOK\r\n");
}

#[test]
fn pdp_activation_fails() {
    let mut b = Bench::with("ec25", QuirkSet::NONE, &[Fault::PdpActivationFails]);
    b.send(b"ATE0\r");
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nERROR\r\n");
    assert_eq!(b.cmd("AT+QIACT?"), "\r\nOK\r\n");
}

#[test]
fn pdp_deactivated_by_the_network_mid_send() {
    let at = Duration::from_secs(30);
    let mut b = Bench::with("ec25", QuirkSet::NONE, &[Fault::PdpDeactivate { at }]);
    b.send(b"ATE0\r");
    b.ready_mail();
    b.cmd("AT+QSMTPPUT=300");
    let (id, _, _) = b.deliver();
    assert_eq!(
        b.emu().poll_timeout(),
        Some(at_wire::Instant::from_duration(at))
    );
    assert_eq!(
        s(&b.advance(Duration::from_secs(30))),
        "\r\n+QIURC: \"pdpdeact\",1\r\n\r\n+QSMTPPUT: 657,0\r\n"
    );
    assert!(b.cancelled(id));
    assert_eq!(b.cmd("AT+QIACT?"), "\r\nOK\r\n");
    // Reactivating recovers (000 §4.4).
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPPUT=300"), "\r\nOK\r\n");
    let _ = b.deliver();
}

#[test]
fn network_faults_are_forwarded_to_the_mailer() {
    let faults = [
        Fault::Net(NetFault::Dns),
        "reset-mid-data".parse().unwrap(),
        "stall".parse().unwrap(),
    ];
    let mut b = Bench::with("ec25", QuirkSet::NONE, &faults);
    b.send(b"ATE0\r");
    b.ready_mail();
    b.cmd("AT+QSMTPPUT=60");
    let (_, job, _) = b.deliver();
    assert_eq!(job.faults.len(), 3);
    assert_eq!(job.faults[0], NetFault::Dns);
}

/// A fault-control `pdp-deactivate@2s` counts from when it is injected, not from power-on.
#[test]
fn a_timed_pdp_fault_injected_at_run_time_fires_that_long_after() {
    let mut b = Bench::quiet("ec25", QuirkSet::NONE);
    b.advance_ms(5_000);
    b.ready_mail();
    b.m.inject_fault("pdp-deactivate@2s".parse().unwrap());
    assert_eq!(s(&b.advance_ms(1_999)), "");
    assert_eq!(s(&b.advance_ms(1)), "\r\n+QIURC: \"pdpdeact\",1\r\n");
}

#[test]
fn faults_injected_at_run_time() {
    let mut b = Bench::quiet("ec25", QuirkSet::NONE);
    b.ready_mail();
    b.m.inject_fault("pdp-deactivated".parse().unwrap());
    assert_eq!(s(&b.drain()), "\r\n+QIURC: \"pdpdeact\",1\r\n");
    b.m.inject_fault(Fault::SimNotReady);
    assert_eq!(b.cmd("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
    b.m.inject_fault(Fault::PdpActivationFails);
    b.m.clear_faults();
    assert_eq!(b.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    b.m.inject_fault("tcp-connect-fails".parse().unwrap());
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nOK\r\n");
    b.cmd("AT+QSMTPPUT=60");
    let (_, job, _) = b.deliver();
    assert_eq!(job.faults, [NetFault::Refused]);
}

/// ERRATA E32: `AT+CFUN=1,1` restarts the module: `OK`, nothing is read while it boots, `RDY`
/// after `BOOT_TIME`, then every setting is at its power-on value, RAM: files are gone, UFS:
/// files are kept and a send in progress is abandoned.
#[test]
fn restart_brings_back_the_power_on_state() {
    let mut b = Bench::new("ec25");
    assert_eq!(b.cmd("ATE0"), "ATE0\r\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPCFG=\"account\",\"u\",\"p\""), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPDST=1,1,\"a@example.com\""), "\r\nOK\r\n");
    for (drive, name) in [("RAM", "r.txt"), ("UFS", "u.txt")] {
        let out = b.cmd(&format!("AT+QFUPL=\"{drive}:{name}\",3,5"));
        assert!(out.contains("CONNECT"), "{out}");
        let out = String::from_utf8(b.send(b"abc")).unwrap();
        assert!(out.contains("+QFUPL: 3,"), "{out}");
    }
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25"),
        "\r\nOK\r\n"
    );
    b.cmd("AT+QICSGP=1,1,\"UNINET\",\"\",\"\",1");
    assert_eq!(b.cmd("AT+QIACT=1"), "\r\nOK\r\n");
    assert_eq!(b.cmd("AT+QSMTPPUT=300"), "\r\nOK\r\n");
    let (id, _, _) = b.deliver();

    assert_eq!(b.cmd("AT+CFUN?"), "\r\n+CFUN: 1\r\n\r\nOK\r\n");
    assert_eq!(b.cmd("AT+CFUN=4"), "\r\nERROR\r\n"); // flight mode is not modelled
    assert_eq!(b.cmd("AT+CFUN=1,1"), "\r\nOK\r\n");
    assert!(b.cancelled(id), "the send in progress is abandoned");
    assert_eq!(b.send(b"AT\r"), b"", "nothing is read while booting");
    let boot = at_emulator::BOOT_TIME.as_millis() as u64;
    assert_eq!(b.advance_ms(boot - 1), b"");
    assert_eq!(b.advance_ms(1), b"\r\nRDY\r\n");
    // Echo is back on (ERRATA W2), the settings at their power-on values (ERRATA E26).
    assert_eq!(
        b.cmd("AT+QSMTPCFG=\"account\""),
        "AT+QSMTPCFG=\"account\"\r\r\n+QSMTPCFG: \"account\",\"\",\"\"\r\n\r\nOK\r\n"
    );
    assert_eq!(b.cmd("AT+QSMTPDST?"), "AT+QSMTPDST?\r\r\nOK\r\n");
    assert_eq!(
        b.cmd("AT+QIACT?"),
        "AT+QIACT?\r\r\nOK\r\n",
        "no context is active"
    );
    assert_eq!(
        b.cmd("AT+QFLST=\"*\""),
        "AT+QFLST=\"*\"\r\r\n+QFLST: \"u.txt\",3\r\n\r\nOK\r\n",
        "UFS keeps its file"
    );
    assert_eq!(
        b.cmd("AT+QFLST=\"RAM:*\""),
        "AT+QFLST=\"RAM:*\"\r\r\nOK\r\n",
        "RAM is empty"
    );
}
