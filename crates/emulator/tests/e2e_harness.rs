//! The driver's virtual time with real SMTP: delivery latency, busy module, timers in order.

use std::time::Duration;

use at_emulator::driver::{Driver, Smtp};
use at_emulator::{EmulatorConfig, Fault};
use at_mailer::{NetFault, ResolveMap};

fn module(latency: Duration) -> Driver<Smtp> {
    let config = EmulatorConfig::builtin("ec25")
        .expect("ec25")
        .with_fault(Fault::Net(NetFault::Dns));
    let mut m = Driver::new(config, Smtp::new(ResolveMap::new())).with_delivery_latency(latency);
    m.write(b"ATE0\r");
    m.read_available();
    for line in [
        "AT+QIACT=1",
        "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25",
        "AT+QSMTPDST=1,1,\"quectel_test@163.com\"",
    ] {
        m.write(format!("{line}\r").as_bytes());
        assert_eq!(m.read_available(), b"\r\nOK\r\n", "{line}");
    }
    m
}

#[test]
fn without_latency_the_urc_follows_ok_at_once() {
    let mut m = module(Duration::ZERO);
    let t0 = m.now();
    m.write(b"AT+QSMTPPUT=300\r");
    assert_eq!(m.read_available(), b"\r\nOK\r\n\r\n+QSMTPPUT: 653,0\r\n");
    assert_eq!(m.now(), t0);
    assert_eq!(m.deliveries().len(), 1);
}

#[test]
fn with_latency_the_module_is_busy_until_the_result_is_due() {
    let mut m = module(Duration::from_secs(5));
    let t0 = m.now();
    m.write(b"AT+QSMTPPUT=300\r");
    assert_eq!(m.read_available(), b"\r\nOK\r\n");
    // 000 §5 652: busy while sending.
    m.write(b"AT+QSMTPSUB=0,\"x\"\r");
    assert_eq!(m.read_available(), b"\r\n+CME ERROR: 652\r\n");
    m.advance(Duration::from_secs(4)).expect("driver");
    assert!(!m.has_output());
    assert!(
        m.advance_until_output(Duration::from_secs(10))
            .expect("driver")
    );
    assert_eq!(m.now() - t0, Duration::from_secs(5));
    assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 653,0\r\n");
    m.write(b"AT+QSMTPSUB=0,\"x\"\r");
    assert_eq!(m.read_available(), b"\r\nOK\r\n");
}

#[test]
fn a_result_due_after_the_timeout_is_dropped() {
    // Latency beyond <timeout>: the core gives up first (658) and the late result is not shown.
    let mut m = module(Duration::from_secs(120));
    m.write(b"AT+QSMTPPUT=60\r");
    assert_eq!(m.read_available(), b"\r\nOK\r\n");
    m.advance(Duration::from_secs(200)).expect("driver");
    assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 658,0\r\n");
    m.advance(Duration::from_secs(200)).expect("driver");
    assert!(!m.has_output());
}
