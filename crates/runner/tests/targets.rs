//! Real-time targets against loopback peers: a TCP "device" thread answers like a module,
//! then vanishes. No timing is asserted.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use at_runner::target::TcpTarget;
use at_runner::{FailureKind, Item, Location, Plan, Step, Verdict, execute};

/// A one-connection device: for each expected line, read it, echo it, answer; then close.
fn device(script: Vec<(&'static [u8], &'static [u8])>) -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = l.local_addr().expect("addr").to_string();
    let h = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        for (line, answer) in script {
            let mut got = vec![0u8; line.len()];
            if s.read_exact(&mut got).is_err() || got != line {
                return;
            }
            // Echo byte by byte, then the answer in two chunks (chunking must not matter).
            for b in &got {
                let _ = s.write_all(std::slice::from_ref(b));
            }
            let (a, b) = answer.split_at(answer.len() / 2);
            let _ = s.write_all(a);
            let _ = s.flush();
            let _ = s.write_all(b);
        }
        // Dropping the stream: the device disappears.
    });
    (addr, h)
}

fn plan(lines: &[&[u8]]) -> Plan {
    let mut p = Plan::new("tcp", "ec25");
    for (i, l) in lines.iter().enumerate() {
        let mut s = Step::command_lines(
            Location {
                file: "tcp.scn".into(),
                line: i as u32 + 1,
            },
            l,
            vec![Item::line(b"OK")],
        );
        s.timeout = Duration::from_secs(10);
        p.steps.push(s);
    }
    p
}

#[test]
fn tcp_device_passes_then_vanishing_fails_with_partial_transcript() {
    let (addr, h) = device(vec![(b"AT\r", b"\r\nOK\r\n"), (b"ATI\r", b"\r\nOK\r\n")]);
    let mut t = TcpTarget::connect(&addr, Duration::from_secs(5)).expect("connect");
    let run = execute(&plan(&[b"AT", b"ATI"]), &mut t, &AtomicBool::new(false));
    // The device closes right after its last answer: the quiet period after the last step
    // sees the close, which is a failure (a module must stay available).
    match &run.verdict {
        Verdict::Fail(f) => assert!(matches!(f.kind, FailureKind::Gone { .. }), "{f}"),
        v => panic!("expected the close to be reported, got {v:?}"),
    }
    assert_eq!(run.steps_passed, 2);
    assert_eq!(
        run.transcript.stream(at_runner::Direction::Rx),
        b"AT\r\r\nOK\r\nATI\r\r\nOK\r\n"
    );
    h.join().expect("device thread");

    let (addr, h) = device(vec![(b"AT\r", b"\r\nOK\r\n")]);
    let mut t = TcpTarget::connect(&addr, Duration::from_secs(5)).expect("connect");
    let run = execute(
        &plan(&[b"AT", b"AT+QSMTPCLR"]),
        &mut t,
        &AtomicBool::new(false),
    );
    let Verdict::Fail(f) = &run.verdict else {
        panic!("a vanished device must fail")
    };
    assert_eq!(f.step, 1);
    assert!(matches!(f.kind, FailureKind::Gone { .. }), "{f}");
    h.join().expect("device thread");
}

#[test]
fn unreachable_device_is_an_open_error() {
    // Bind then drop: nothing listens on this port any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("addr");
    let err = TcpTarget::connect(&addr.to_string(), Duration::from_secs(2)).unwrap_err();
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}
