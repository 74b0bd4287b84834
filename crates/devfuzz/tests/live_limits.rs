//! Live fuzzing that finishes (issue 19): the per-case budget passes over cases that wait
//! longer by design and cuts one that runs past it, Ctrl-C (the stop flag) ends a campaign
//! within a fraction of a second, and a duration bounds it. The module is the emulator served
//! over loopback TCP in real time, as `atconform emulate --listen` serves it.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use at_devfuzz::campaign::{Config, Device, Event, Fuzzer};
use at_devfuzz::virt::Live;
use at_emulator::EmulatorConfig;
use at_emulator::serve::{ResolveMap, ServeOptions, serve_tcp};
use at_runner::target::TcpTarget;

/// An ec25 served over TCP on its own runtime until the returned sender is dropped.
fn tcp_module() -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let h = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(l.local_addr().unwrap()).unwrap();
            let config = EmulatorConfig::builtin("ec25").unwrap();
            let opts = ServeOptions::new(config, ResolveMap::new());
            let _ = serve_tcp(l, &opts, async {
                let _ = stopped.await;
            })
            .await;
        });
    });
    (addr_rx.recv().unwrap().to_string(), stop, h)
}

fn fuzzer(addr: &str, cfg: Config) -> Fuzzer {
    let target = TcpTarget::connect(addr, Duration::from_secs(5)).unwrap();
    let profile = at_catalog::profile("ec25").unwrap();
    Fuzzer::new(Device::Live(Live(Box::new(target))), profile, cfg)
}

/// Seed 0's first live case that waits longer than `min` by design (a 61 s send).
fn long_case(min: Duration) -> u64 {
    let g = at_devfuzz::cases::Generator::new(
        at_catalog::profile("ec25").unwrap(),
        at_devfuzz::cases::Caps::default(),
    );
    (0..200)
        .find(|&n| g.case(0, n).planned_waits() > min)
        .expect("a long case among the first 200")
}

#[test]
fn over_budget_cases_are_passed_over_and_listed() {
    let (addr, _stop, _h) = tcp_module();
    let long = long_case(Duration::from_secs(30));
    let mut f = fuzzer(
        &addr,
        Config {
            first: long,
            cases: 1,
            shrink: false,
            case_budget: Some(Duration::from_secs(30)),
            ..Config::default()
        },
    );
    let t = Instant::now();
    let mut events = Vec::new();
    let s = f.run_observed(&mut |e| {
        if let Event::OverBudget { case, time, cut } = e {
            events.push((case, time, cut));
        }
    });
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(s.over_budget, [long]);
    assert_eq!(s.cases_run, 0);
    assert_eq!(events.len(), 1);
    assert!(
        events[0].1 > Duration::from_secs(30) && !events[0].2,
        "{events:?}"
    );
    let text = at_devfuzz::campaign::summary_text(&s);
    assert!(
        text.contains("1 cases over the per-case budget of 30s"),
        "{text}"
    );
}

#[test]
fn ctrl_c_ends_a_waiting_case_at_once_and_discards_it() {
    let (addr, _stop, _h) = tcp_module();
    let long = long_case(Duration::from_secs(30));
    // No budget: the case would wait a minute.
    let mut f = fuzzer(
        &addr,
        Config {
            first: long,
            cases: 5,
            shrink: false,
            ..Config::default()
        },
    );
    let stop = f.stop_flag();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
    });
    let t = Instant::now();
    let s = f.run(&mut |_| {});
    setter.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(s.stopped.as_deref(), Some("interrupted"));
    assert_eq!(s.cases_run, 0, "the interrupted case is no verdict");
    assert!(s.findings.is_empty());
    assert!(at_devfuzz::campaign::summary_text(&s).contains("stopped: interrupted"));
}

#[test]
fn a_case_running_past_its_budget_is_cut() {
    // A device that accepts the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let keep = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let mut f = fuzzer(
        &addr,
        Config {
            cases: 1,
            shrink: false,
            case_budget: Some(Duration::from_millis(200)),
            // Its answers would be due long after the budget.
            slack: Duration::from_secs(1),
            ..Config::default()
        },
    );
    let t = Instant::now();
    let s = f.run(&mut |_| {});
    assert_eq!(s.over_budget, [0], "{s:?}");
    assert!(s.findings.is_empty(), "a cut case is no finding");
    // Recovery after the cut finds a silent device.
    assert!(s.aborted.is_some(), "{s:?}");
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    drop(keep);
}

#[test]
fn a_duration_bounds_the_campaign() {
    let (addr, _stop, _h) = tcp_module();
    let mut f = fuzzer(
        &addr,
        Config {
            cases: u64::MAX,
            shrink: false,
            duration: Some(Duration::from_secs(2)),
            case_budget: Some(Duration::from_secs(5)),
            ..Config::default()
        },
    );
    let t = Instant::now();
    let s = f.run(&mut |_| {});
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(s.cases_run > 0);
    assert_eq!(s.stopped.as_deref(), Some("duration 2s reached"), "{s:?}");
}
