//! The device fuzzer over real transports: TCP (`--tcp`) and a serial port (`--port`, a PTY),
//! with the emulator served in real time as `atconform emulate` serves it.

use std::time::Duration;

use at_devfuzz::campaign::{Config, Device, Fuzzer};
use at_devfuzz::cases::{Caps, Generator};
use at_devfuzz::model::Step;
use at_devfuzz::virt::Live;
use at_emulator::EmulatorConfig;
use at_emulator::serve::{Pty, ResolveMap, ServeOptions, serve_tcp};
use at_runner::target::{SerialTarget, Target, TcpTarget};

#[test]
fn clean_emulator_over_tcp_gives_no_finding() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let config = EmulatorConfig::builtin("ec25").unwrap();
    let profile = config.profile.clone();
    let options = ServeOptions::new(config, ResolveMap::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(async move {
        serve_tcp(listener, &options, async {
            let _ = stopped.await;
        })
        .await
    });

    let target = TcpTarget::connect(&addr.to_string(), Duration::from_secs(5)).unwrap();
    run_quick_cases(Box::new(target), profile);
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
}

/// Runs 25 cases that need no long silences or mail delivery (those cost real time here) and
/// expects no finding from a conforming module.
fn run_quick_cases(target: Box<dyn Target>, profile: at_catalog::Profile) {
    let generator = Generator::new(profile.clone(), Caps::default());
    let quick: Vec<u64> = (0..400)
        .filter(|&n| {
            generator.case(9, n).steps().all(|s| match s {
                Step::Send { expect, .. } => {
                    expect.urc.is_none() && expect.within <= Duration::from_secs(1)
                }
                Step::Data { .. } => true,
                _ => false,
            })
        })
        .take(25)
        .collect();
    assert!(quick.len() >= 10, "{quick:?}");
    let mut fuzzer = Fuzzer::new(
        Device::Live(Live(target)),
        profile,
        Config {
            seed: 9,
            shrink: false,
            slack: Duration::from_millis(500),
            ..Config::default()
        },
    );
    for &n in &quick {
        let case = fuzzer.generator().case(9, n);
        let run = fuzzer.run_case(&case);
        assert_eq!(run.finding, None, "case {n}: {case:#?}");
    }
}

#[test]
fn clean_emulator_on_a_serial_port_gives_no_finding() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pty = std::sync::Arc::new(Pty::open(None).unwrap());
    let path = pty.slave_path().to_string_lossy().into_owned();
    let config = EmulatorConfig::builtin("ec25").unwrap();
    let profile = config.profile.clone();
    let options = ServeOptions::new(config, ResolveMap::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = pty.clone();
    let server = rt.spawn(async move {
        served
            .serve(&options, async {
                let _ = stopped.await;
            })
            .await
    });
    let target = SerialTarget::open(&path, 115_200).unwrap();
    run_quick_cases(Box::new(target), profile);
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
    rt.shutdown_timeout(Duration::from_secs(1));
}
