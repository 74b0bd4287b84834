//! `atconform record` between an application and the emulator's PTY, then the recording as a
//! scenario that replays on the emulator.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use at_emulator::EmulatorConfig;
use at_emulator::serve::{Pty, ResolveMap, ServeOptions};
use at_report::from_transcript::scenario_from_transcript;
use at_report::record::Tap;
use at_runner::Direction;

/// Reads from `f` until `want` has arrived (a safety bound of 5 s per read, not a timing check).
fn read_until(f: &mut std::fs::File, want: &[u8]) -> Vec<u8> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.windows(want.len()).any(|w| w == want) {
        let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLIN)];
        let n = poll(&mut fds, PollTimeout::from(5000u16)).unwrap();
        assert!(n > 0, "no answer; got {:?}", String::from_utf8_lossy(&got));
        let n = f.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn tap_records_both_directions_and_replays_as_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let module_link = dir.path().join("module");
    let app_link = dir.path().join("app");

    // The module: the emulator on a PTY, real time.
    let pty = Pty::open(Some(&module_link)).unwrap();
    let opts = ServeOptions::new(EmulatorConfig::builtin("ec25").unwrap(), ResolveMap::new());
    let (stop_emu, stopped) = tokio::sync::oneshot::channel::<()>();
    let emu = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            pty.serve(&opts, async {
                let _ = stopped.await;
            })
            .await
        })
        .unwrap();
        rt.shutdown_timeout(std::time::Duration::from_secs(1));
    });

    // The tap between them.
    let mut tap = Tap::open(&module_link, &app_link).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let recorder = std::thread::spawn(move || tap.run(&stop2, |_, _, _| {}).unwrap());

    // The application: 000 §2.2.3's example through the link.
    let mut app = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&app_link)
        .unwrap();
    let mut seen = Vec::new();
    for cmd in [
        "AT+QSMTPSUB=0,\"TEST SMTP\"\r",
        "AT+QSMTPSUB?\r",
        "AT+QSMTPSUB=1,\"7465737420534D5450\"\r",
        "AT+QSMTPSUB?\r",
    ] {
        app.write_all(cmd.as_bytes()).unwrap();
        seen.extend(read_until(&mut app, b"OK\r\n"));
    }
    stop.store(true, Ordering::Relaxed);
    let rec = recorder.join().unwrap();
    let _ = stop_emu.send(());
    emu.join().unwrap();

    // Bytes passed unchanged and were recorded exactly, both ways.
    assert_eq!(rec.stream(Direction::Rx), seen);
    assert_eq!(
        rec.stream(Direction::Tx),
        b"AT+QSMTPSUB=0,\"TEST SMTP\"\rAT+QSMTPSUB?\rAT+QSMTPSUB=1,\"7465737420534D5450\"\rAT+QSMTPSUB?\r"
    );
    assert!(
        seen.ends_with(b"AT+QSMTPSUB?\r\r\n+QSMTPSUB: 1,\"7465737420534D5450\"\r\n\r\nOK\r\n"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
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
    let mut rec = at_report::record::Recording::default();
    let line = b"AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"\r";
    rec.push(std::time::Duration::ZERO, Direction::Tx, line);
    rec.push(std::time::Duration::from_millis(5), Direction::Rx, line);
    let t = rec.render();
    assert!(!t.contains("wq664551"), "{t}");
    assert_eq!(t.matches("<redacted>").count(), 2, "{t}");
    // Converted, the password becomes a required secret variable.
    let s = scenario_from_transcript(&t, "r", "ec25");
    assert!(s.contains("@secret SMTP_PASSWORD\n"), "{s}");
    assert!(s.contains("\"${SMTP_PASSWORD}\""), "{s}");
}
