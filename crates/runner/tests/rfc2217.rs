//! The RFC 2217 target against two servers: pyserial's `PortManager` (PyPI, a third-party
//! access server) in front of a loopback device that reports its DTR line in-band, and our
//! own emulator's RFC 2217 front end running the corpus's DTR scenario.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use at_runner::target::{ReadOutcome, Rfc2217Target, Target};
use at_runner::{RunConfig, Status, TargetSpec};

/// pyserial's access server: a `loop://` port (what the client writes comes back) whose DTR
/// changes are written into the loop as `<DTR=n>`, so they arrive in stream order.
const PORT_MANAGER: &str = r#"
import socket, sys, threading
import serial.rfc2217
from serial.urlhandler.protocol_loop import Serial as Loop

class Dev(Loop):
    def _update_dtr_state(self):
        if self.is_open:
            self.write(b"<DTR=%d>" % int(self._dtr_state))

dev = Dev("loop://", timeout=0.05)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
class Writer:
    lock = threading.Lock()
    def write(self, data):
        with self.lock:
            conn.sendall(data)
out = Writer()
pm = serial.rfc2217.PortManager(dev, out)
done = threading.Event()
def network():
    while True:
        data = conn.recv(1024)
        if not data:
            break
        # Byte by byte as the filter yields them: it handles commands in between.
        for byte in pm.filter(data):
            dev.write(byte)
    done.set()
threading.Thread(target=network, daemon=True).start()
while not done.is_set():
    data = dev.read(1024)
    if data:
        out.write(b"".join(pm.escape(data)))
print("baud", dev.baudrate, flush=True)
"#;

fn read_until(t: &mut Rfc2217Target, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = t.now() + Duration::from_secs(10);
    while !got.ends_with(end) {
        match t.read(deadline).expect("read") {
            ReadOutcome::Data(d) => got.extend(d),
            ReadOutcome::Timeout => break,
        }
    }
    got
}

#[test]
fn pyserial_port_manager_sees_our_baud_rate_data_and_dtr_in_order() {
    let mut child = Command::new(at_testkit::python())
        .args(["-c", PORT_MANAGER])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("port line");
    let addr = format!("127.0.0.1:{}", line.trim());
    let mut t = Rfc2217Target::connect(&addr, 57_600, Duration::from_secs(5)).expect("negotiates");
    t.write(b"AT\r\xff").expect("write");
    t.set_dtr(false).expect("dtr");
    t.write(b"after").expect("write");
    t.set_dtr(true).expect("dtr");
    let got = read_until(&mut t, b"<DTR=1>");
    let text = String::from_utf8_lossy(&got).into_owned();
    // The opening DTR-on may or may not be a change for the loop device; what follows is
    // exact: our data (0xff intact), the drop, more data, the rise, in that order.
    assert!(got.ends_with(b"AT\r\xff<DTR=0>after<DTR=1>"), "{text:?}");
    drop(t);
    let mut rest = String::new();
    out.read_line(&mut rest).expect("baud line");
    let status = child.wait().expect("python exits");
    assert!(status.success(), "{status}");
    assert_eq!(rest.trim(), "baud 57600");
}

/// `atconform emulate --listen 127.0.0.1:0 [--rfc2217]` in process: an ec25 until stopped.
fn emulator(
    rfc2217: bool,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    use at_emulator::serve::{ResolveMap, ServeOptions, serve_tcp};
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let h = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let _ = addr_tx.send(l.local_addr().expect("addr").to_string());
            let config = at_emulator::EmulatorConfig::builtin("ec25").expect("ec25");
            let opts = ServeOptions::new(config, ResolveMap::new());
            let stop = async {
                let _ = stop_rx.await;
            };
            if rfc2217 {
                at_emulator::serve_rfc2217::serve_rfc2217(l, &opts, stop).await
            } else {
                serve_tcp(l, &opts, stop).await
            }
            .expect("serve");
        });
    });
    (addr_rx.recv().expect("listening"), stop_tx, h)
}

#[test]
fn dtr_scenario_passes_over_rfc2217_and_is_skipped_on_raw_tcp() {
    let corpus = at_runner::corpus::embedded().expect("corpus");
    let run = |target: TargetSpec| {
        let cfg = RunConfig {
            target,
            profiles: vec![at_scenario::Profile::Ec25],
            filters: vec!["edge/dtr-ends-body".into(), "quectel/2.2.2-qsmtpdst".into()],
            ..RunConfig::default()
        };
        let cases = at_runner::run::select(corpus.clone(), &cfg);
        assert_eq!(cases.len(), 2);
        at_runner::run::run(&cases, &cfg, &AtomicBool::new(false), |_| {}).expect("runs")
    };
    let (addr, stop, h) = emulator(true);
    let over_rfc2217 = run(TargetSpec::Rfc2217 {
        addr,
        baud: 115_200,
    });
    let _ = stop.send(());
    h.join().expect("emulator");
    let (addr, stop, h) = emulator(false);
    let over_tcp = run(TargetSpec::Tcp { addr });
    let _ = stop.send(());
    h.join().expect("emulator");
    let status = |r: &at_runner::RunReport, name: &str| {
        r.cases
            .iter()
            .find(|c| c.scenario.contains(name))
            .map(|c| c.status.clone())
            .expect("case ran")
    };
    assert_eq!(
        status(&over_rfc2217, "dtr-ends-body"),
        Status::Pass,
        "{}",
        over_rfc2217.summary_text()
    );
    assert_eq!(status(&over_rfc2217, "qsmtpdst"), Status::Pass);
    assert!(
        matches!(status(&over_tcp, "dtr-ends-body"), Status::Skip(ref why) if why.contains("DTR")),
        "{:?}",
        status(&over_tcp, "dtr-ends-body")
    );
    assert_eq!(status(&over_tcp, "qsmtpdst"), Status::Pass);
    assert!(
        over_rfc2217
            .cases
            .iter()
            .all(|c| c.target.starts_with("rfc2217 "))
    );
}
