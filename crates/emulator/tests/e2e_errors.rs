//! End to end: delivery failures and injected network faults become the right
//! `+QSMTPPUT: <err>,<protocol_error>` (000 §4.3, §4.4, §5, §6; ERRATA M3), with virtual time
//! making the 300 s `<timeout>` free.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use at_emulator::driver::{Driver, Smtp};
use at_emulator::{EmulatorConfig, Fault};
use at_mailer::{NetFault, ResolveMap, Stage};
use common::{
    BODY, Mail, Module, PASS, Peer, SUBJECT, attachment_bytes, prepare, put, resolve_163,
};

fn module(resolve: ResolveMap, fault: Option<Fault>) -> Module {
    let mut config = EmulatorConfig::builtin("ec25").expect("ec25");
    if let Some(f) = fault {
        config = config.with_fault(f);
    }
    Driver::new(config, Smtp::new(resolve))
}

fn prepared(resolve: ResolveMap, fault: Option<Fault>) -> Module {
    let mut m = module(resolve, fault);
    let attachment = attachment_bytes();
    prepare(
        &mut m,
        &Mail {
            ssltype: 0,
            password: PASS,
            subject_utf8: SUBJECT,
            body: BODY,
            attachment: &attachment,
        },
    );
    m
}

fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

#[test]
fn dns_failure_is_653_0() {
    // 000 §4.3: "+QSMTPPUT: 653,0" when the server name does not resolve.
    let mut m = prepared(ResolveMap::new(), Some(Fault::Net(NetFault::Dns)));
    assert_eq!(put(&mut m), "+QSMTPPUT: 653,0");
}

#[test]
fn refused_is_654_0() {
    let mut m = prepared(resolve_163(closed_port()), None);
    assert_eq!(put(&mut m), "+QSMTPPUT: 654,0");
}

#[test]
fn reset_mid_data_is_656_0() {
    let peer = Peer::start();
    let fault = "reset-mid-data".parse().expect("fault");
    let mut m = prepared(resolve_163(peer.plain), Some(fault));
    assert_eq!(put(&mut m), "+QSMTPPUT: 656,0");
    assert!(peer.messages().is_empty(), "nothing was delivered");
    // The client got as far as the message and sent part of it.
    let t = m.smtp_transcripts()[0];
    let rendered = t.render();
    assert!(rendered.contains("C: DATA\nS: 354 "), "{rendered}");
    let sent = t.raw_sent();
    let data_at = sent
        .windows(6)
        .position(|w| w == b"DATA\r\n")
        .expect("DATA sent")
        + 6;
    let part = &sent[data_at..];
    assert!(
        !part.is_empty() && !part.ends_with(b"\r\n.\r\n"),
        "a partial message, no terminator"
    );
}

#[test]
fn stall_is_658_0_after_the_virtual_timeout() {
    let peer = Peer::start();
    let fault = Fault::Net(NetFault::Stall {
        stage: Stage::Greeting,
    });
    let mut m = prepared(resolve_163(peer.plain), Some(fault));
    let sent_at = m.now();
    m.write(b"AT+QSMTPPUT=300\r");
    assert_eq!(m.read_available(), b"\r\nOK\r\n");
    // Nothing before the timeout…
    m.advance(Duration::from_secs(299)).expect("driver");
    assert!(!m.has_output());
    // …and 658 at exactly 300 virtual seconds (000 §2.2.7 <timeout>).
    assert!(
        m.advance_until_output(Duration::from_secs(10))
            .expect("driver")
    );
    assert_eq!(m.now() - sent_at, Duration::from_secs(300));
    assert_eq!(m.read_available(), b"\r\n+QSMTPPUT: 658,0\r\n");
    assert!(peer.messages().is_empty());
}

#[test]
fn fault_injected_at_run_time_applies_to_the_next_send() {
    let mut m = prepared(resolve_163(closed_port()), None);
    m.inject_fault(Fault::Net(NetFault::Dns));
    assert_eq!(put(&mut m), "+QSMTPPUT: 653,0");
    m.clear_faults();
    // 000 §2.2.7: after an error the mail can be sent again directly; now the port is closed.
    assert_eq!(put(&mut m), "+QSMTPPUT: 654,0");
}
