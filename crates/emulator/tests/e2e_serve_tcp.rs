//! The TCP front end (`atconform emulate --listen ADDR`): each connection is a fresh module.

use std::io::{Read, Write};
use std::time::Duration;

use at_emulator::EmulatorConfig;
use at_emulator::serve::{ResolveMap, ServeOptions, serve_tcp, serve_tcp_keep_state};

fn read_until(s: &mut std::net::TcpStream, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(end) {
        let n = s.read(&mut buf).unwrap_or_else(|e| {
            panic!("read: {e}; got so far {:?}", String::from_utf8_lossy(&got))
        });
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// `serve_tcp` (or `serve_tcp_keep_state`) for `options` on a loopback port, on its own runtime.
struct Served {
    rt: tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    fn start(options: ServeOptions, keep_state: bool) -> Served {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let server = rt.spawn(async move {
            let stopped = async {
                let _ = rx.await;
            };
            if keep_state {
                serve_tcp_keep_state(listener, &options, stopped).await
            } else {
                serve_tcp(listener, &options, stopped).await
            }
        });
        Served {
            rt,
            addr,
            stop,
            server,
        }
    }

    /// Stops the server; it must end without an error.
    fn stop(self) {
        let _ = self.stop.send(());
        self.rt
            .block_on(self.server)
            .expect("join")
            .expect("serve_tcp");
    }
}

#[test]
fn tcp_clients_each_get_a_fresh_module() {
    let options = ServeOptions::new(
        EmulatorConfig::builtin("ec25").expect("ec25"),
        ResolveMap::new(),
    );
    let served = Served::start(options, false);
    let addr = served.addr;

    for _ in 0..2 {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        // A fresh module echoes (ERRATA W2) even after the previous client sent ATE0.
        s.write_all(b"AT\r").expect("write");
        assert_eq!(read_until(&mut s, b"OK\r\n"), b"AT\r\r\nOK\r\n");
        s.write_all(b"ATE0\r").expect("write");
        assert_eq!(read_until(&mut s, b"OK\r\n"), b"ATE0\r\r\nOK\r\n");
    }
    served.stop();
}

/// `emulate --listen --keep-state`: every connection talks to the same module, which keeps
/// its settings, and its data mode and timers run on while nobody is connected.
#[test]
fn keep_state_serves_one_module_to_every_connection() {
    let options = ServeOptions::new(
        EmulatorConfig::builtin("ec25").expect("ec25"),
        ResolveMap::new(),
    );
    let served = Served::start(options, true);
    let addr = served.addr;
    let connect = || {
        let s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s
    };
    let mut s = connect();
    s.write_all(b"ATE0\r").expect("write");
    assert_eq!(read_until(&mut s, b"OK\r\n"), b"ATE0\r\r\nOK\r\n");
    s.write_all(b"AT+QSMTPDST=1,1,\"a@example.com\"\r")
        .expect("write");
    assert_eq!(read_until(&mut s, b"OK\r\n"), b"\r\nOK\r\n");
    // Leave the module in data mode with a 1 s <input_time>, and hang up.
    s.write_all(b"AT+QSMTPBODY=0,100,1\r").expect("write");
    assert_eq!(read_until(&mut s, b"CONNECT\r\n"), b"\r\nCONNECT\r\n");
    s.write_all(b"hello").expect("write");
    drop(s);
    // The body ended while nobody listened (its output is lost); the module is back in
    // command mode, echo still off, the recipient still there.
    std::thread::sleep(Duration::from_millis(1500));
    let mut s = connect();
    s.write_all(b"AT+QSMTPDST?\r").expect("write");
    assert_eq!(
        read_until(&mut s, b"OK\r\n"),
        b"\r\n+QSMTPDST: 1,\"a@example.com\"\r\n\r\nOK\r\n"
    );
    drop(s);
    served.stop();
}

#[test]
fn finished_deliveries_reach_the_hook() {
    use std::sync::{Arc, Mutex};

    use at_emulator::Fault;
    use at_mailer::{Failure, NetFault};

    type Seen = Vec<(String, Result<(), Failure>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let hook_seen = seen.clone();
    let config = EmulatorConfig::builtin("ec25")
        .expect("ec25")
        .with_fault(Fault::Net(NetFault::Dns));
    let options = ServeOptions::new(config, ResolveMap::new()).with_delivery_hook(Arc::new(
        move |job, outcome| {
            let mut v = hook_seen.lock().expect("lock");
            v.push((job.server.clone(), outcome.result.clone()));
        },
    ));
    let served = Served::start(options, false);
    let addr = served.addr;
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut cmd = |line: &str, end: &[u8]| {
        s.write_all(line.as_bytes()).expect("write");
        read_until(&mut s, end)
    };
    cmd("ATE0\r", b"OK\r\n");
    for line in [
        "AT+QIACT=1\r",
        "AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25\r",
        "AT+QSMTPDST=1,1,\"quectel_test@163.com\"\r",
    ] {
        assert_eq!(cmd(line, b"OK\r\n"), b"\r\nOK\r\n", "{line}");
    }
    // 000 §4.3: a name that does not resolve → 653,0.
    let out = cmd("AT+QSMTPPUT=300\r", b"+QSMTPPUT: 653,0\r\n");
    assert_eq!(out, b"\r\nOK\r\n\r\n+QSMTPPUT: 653,0\r\n");
    drop(s);
    served.stop();
    let seen = seen.lock().expect("lock");
    assert_eq!(*seen, vec![("smtp.163.com".to_owned(), Err(Failure::Dns))]);
}

/// 002: `OK_Info_WaitingForData` means "An SMTP session has been successfully opened". On the
/// real-time front end the session opens (greeting, EHLO, AUTH) before the prompt, the body
/// goes on that same connection, and credentials the server rejects answer `#CME ERROR`
/// instead of the prompt.
#[test]
fn multitech_prompt_comes_once_the_session_is_open() {
    use smtp_sink::{FaultScript, Point, Profile, SinkConfig};

    for reject in [false, true] {
        let mut cfg = SinkConfig::new(Profile::Permissive);
        if reject {
            cfg = cfg.faults(FaultScript::new().reply(Point::Auth, 535, "5.7.8 no"));
        }
        let sink = smtp_sink::spawn(cfg).expect("sink");
        let sink_addr = sink.smtp_addr().expect("smtp");
        let mut resolve = ResolveMap::new();
        resolve
            .add(&format!("smtp.example.com:25={sink_addr}"))
            .expect("resolve");
        let options = ServeOptions::new(
            EmulatorConfig::builtin("multitech").expect("multitech"),
            resolve,
        );
        let served = Served::start(options, false);
        let addr = served.addr;
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut cmd = |line: &str, end: &[u8]| {
            s.write_all(line.as_bytes()).expect("write");
            read_until(&mut s, end)
        };
        cmd("ATE0\r", b"OK\r\n");
        for line in [
            "AT#SMTPSERV=\"smtp.example.com\"\r",
            "AT#SMTPUN=\"modem\"\r",
            "AT#SMTPPW=\"secret\"\r",
            "AT#SENDERADDR=\"modem@example.com\"\r",
            "AT#REC1=\"to@example.com\"\r",
            "AT#SUBJ1=\"Meter\"\r",
        ] {
            assert_eq!(cmd(line, b"OK\r\n"), b"\r\nOK\r\n", "{line}");
        }
        if reject {
            let out = cmd("AT#PUTMAIL\r", b"38029\r\n");
            assert_eq!(out, b"\r\n#CME ERROR: 38029\r\n");
            assert!(sink.messages().is_empty());
        } else {
            assert_eq!(
                cmd("AT#PUTMAIL\r", b"WaitingForData\r\n"),
                b"\r\nOK_Info_WaitingForData\r\n"
            );
            assert_eq!(cmd("reading 42\r\n.\r\n", b"OK\r\n"), b"\r\nOK\r\n");
            assert_eq!(sink.messages().len(), 1);
        }
        drop(s);
        served.stop();
        // One SMTP connection: the body went on the session the prompt announced. The sink
        // records a session once its connection has ended, which may be a moment later.
        let until = std::time::Instant::now() + Duration::from_secs(5);
        let t = loop {
            let t = sink.transcripts();
            if (!t.is_empty() && t.iter().all(|t| t.end.is_some()))
                || std::time::Instant::now() >= until
            {
                break t;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(t.len(), 1, "{t:?}");
        let text = t[0].render();
        assert!(text.contains("AUTH PLAIN"), "{text}");
        assert_eq!(text.contains("MAIL FROM"), !reject, "{text}");
    }
}

/// Fault control on a TCP front end that powers a fresh module per connection: a command sent
/// while no module runs is answered `error` and not taken by the next module; one sent while a
/// host is connected is answered `ok` once the module has it.
#[test]
fn fault_control_reaches_only_a_running_module() {
    use at_emulator::serve::serve_fault_control;
    let options = ServeOptions::new(
        EmulatorConfig::builtin("ec25").expect("ec25"),
        ResolveMap::new(),
    );
    let inbox = options.faults.clone();
    let served = Served::start(options, false);
    let addr = served.addr;
    let control = served
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let control_addr = control.local_addr().expect("addr");
    let ctl = served
        .rt
        .spawn(serve_fault_control(control, inbox, std::future::pending()));
    let command = |line: &str| {
        let mut c = std::net::TcpStream::connect(control_addr).expect("control");
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c.write_all(format!("{line}\n").as_bytes()).unwrap();
        String::from_utf8(read_until(&mut c, b"\n")).unwrap()
    };
    assert!(command("fault bogus").starts_with("error: "));
    assert_eq!(
        command("fault sim-not-ready"),
        "error: no module is running to take it\n"
    );
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"ATE0\r").unwrap();
    read_until(&mut s, b"OK\r\n");
    s.write_all(b"AT+CPIN?\r").unwrap();
    assert_eq!(
        read_until(&mut s, b"OK\r\n"),
        b"\r\n+CPIN: READY\r\n\r\nOK\r\n",
        "the stale command was not taken"
    );
    assert_eq!(command("fault sim-not-ready"), "ok\n");
    s.write_all(b"AT+CPIN?\r").unwrap();
    assert_eq!(read_until(&mut s, b"10\r\n"), b"\r\n+CME ERROR: 10\r\n");
    assert_eq!(command("clear"), "ok\n");
    s.write_all(b"AT+CPIN?\r").unwrap();
    assert_eq!(
        read_until(&mut s, b"OK\r\n"),
        b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
    );
    drop(s);
    ctl.abort();
    served.stop();
}
