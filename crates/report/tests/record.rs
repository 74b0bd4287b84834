//! `atconform record`'s recordings: rendered with passwords redacted, and turned into scenarios
//! that replay on the emulator (the tap itself is tested in `at_runner::tap`).

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use at_report::from_transcript::scenario_from_transcript;
use at_report::record::Recording;
use at_runner::Direction;

#[test]
fn a_recorded_exchange_replays_as_a_scenario() {
    // 000 §2.2.3's example as a tap records it (`at_runner::tap` tests the tap itself).
    let mut rec = Recording::default();
    let exchange: [(&[u8], &[u8]); 4] = [
        (b"AT+QSMTPSUB=0,\"TEST SMTP\"\r", b"\r\nOK\r\n"),
        (
            b"AT+QSMTPSUB?\r",
            b"\r\n+QSMTPSUB: 0,\"TEST SMTP\"\r\n\r\nOK\r\n",
        ),
        (b"AT+QSMTPSUB=1,\"7465737420534D5450\"\r", b"\r\nOK\r\n"),
        (
            b"AT+QSMTPSUB?\r",
            b"\r\n+QSMTPSUB: 1,\"7465737420534D5450\"\r\n\r\nOK\r\n",
        ),
    ];
    let mut at = Duration::ZERO;
    for (tx, answer) in exchange {
        rec.push(at, Direction::Tx, tx);
        at += Duration::from_millis(3);
        // The module echoes the command line, then answers.
        rec.push(at, Direction::Rx, &[tx, answer].concat());
        at += Duration::from_millis(10);
    }
    let transcript = rec.render();
    assert!(transcript.contains("] > AT+QSMTPSUB?\\r\n"), "{transcript}");

    // The recording as a scenario: it loads and passes on the in-process emulator.
    let text = scenario_from_transcript(&transcript, "recorded subject", "ec25");
    assert!(
        text.contains("> AT+QSMTPSUB=0,\"TEST SMTP\"\n< OK\n"),
        "{text}"
    );
    let sc = at_scenario::load_str("recorded.scn", &text).expect("scenario loads");
    let r = at_runner::run_case_emulated(
        &sc,
        at_scenario::Profile::Ec25,
        &[],
        &AtomicBool::new(false),
    );
    assert_eq!(
        r.status,
        at_runner::Status::Pass,
        "{}",
        at_runner::report::describe(&r)
    );
}

#[test]
fn passwords_are_redacted_in_recordings() {
    let mut rec = Recording::default();
    let line = b"AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"\r";
    rec.push(Duration::ZERO, Direction::Tx, line);
    rec.push(Duration::from_millis(5), Direction::Rx, line);
    let t = rec.render();
    assert!(!t.contains("wq664551"), "{t}");
    assert_eq!(t.matches("<redacted>").count(), 2, "{t}");
    // Converted, the password becomes a required secret variable.
    let s = scenario_from_transcript(&t, "r", "ec25");
    assert!(s.contains("@secret SMTP_PASSWORD\n"), "{s}");
    assert!(s.contains("\"${SMTP_PASSWORD}\""), "{s}");
}
