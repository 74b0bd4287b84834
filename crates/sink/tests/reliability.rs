//! Lose nothing, leak nothing, stay up (issue #18): durable store, restart, redaction of AUTH
//! payloads in every shape, AUTH throttling, clients that do not read, per-address limits, the
//! paged and streamed API, the transcript memory budget.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine as _;
use smtp_sink::{
    Account, AuthPolicy, CloseReason, Direction, Profile, SessionConfig, SharedState, SinkConfig,
};

use crate::harness::{H, config};

const WAIT: Duration = Duration::from_secs(10);

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every client byte the transcript would show (render, JSON, Debug), for leak checks.
fn shown(t: &smtp_sink::Transcript) -> String {
    format!(
        "{}\n{}\n{t:?}",
        t.render(),
        serde_json::to_string(t).unwrap()
    )
}

// ---- store failures: 451, nothing acknowledged that is not stored --------------------------

#[test]
fn a_message_that_cannot_be_stored_gets_451_not_250() {
    let mut h = H::new(config(Profile::Permissive));
    h.fail_store = true;
    h.send("EHLO x\r\n");
    let r = h.mail("a@b.c", &["d@e.f"], "Subject: s\r\n\r\nbody\r\n");
    assert_eq!(
        r,
        "451 4.3.0 Error: cannot store the message, try again later\r\n"
    );
    // The transcript shows what was really sent, and no message on this connection.
    let t = h.s.transcript();
    assert!(t.render().contains("S: 451 4.3.0"), "{}", t.render());
    assert!(!t.render().contains("queued as"), "{}", t.render());
    assert!(t.messages.is_empty());
    // The session goes on: the client may retry.
    h.fail_store = false;
    let r = h.mail("a@b.c", &["d@e.f"], "Subject: s\r\n\r\nbody\r\n");
    assert!(r.starts_with("250 2.0.0 Ok: queued as 2"), "{r}");
}

fn smtp(addr: SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    (s, r)
}

/// Sends `line` (if any) and returns the reply's last line.
fn say(s: &mut TcpStream, r: &mut BufReader<TcpStream>, line: &str) -> String {
    if !line.is_empty() {
        s.write_all(line.as_bytes()).unwrap();
    }
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap() == 0 {
            return l;
        }
        if l.as_bytes().get(3) != Some(&b'-') {
            return l;
        }
    }
}

fn send_mail(addr: SocketAddr, body: &str) -> String {
    let (mut s, mut r) = smtp(addr);
    say(&mut s, &mut r, "");
    say(&mut s, &mut r, "EHLO t\r\n");
    say(&mut s, &mut r, "MAIL FROM:<a@b.c>\r\n");
    say(&mut s, &mut r, "RCPT TO:<d@e.f>\r\n");
    say(&mut s, &mut r, "DATA\r\n");
    let reply = say(&mut s, &mut r, &format!("{body}.\r\n"));
    say(&mut s, &mut r, "QUIT\r\n");
    reply
}

#[test]
fn store_write_failure_answers_451_logs_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = errors.clone();
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .store_dir(dir.path())
            .on_error(move |e| seen.lock().unwrap().push(e.to_owned())),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    // Injected failure: a directory where message 1's .json must go makes its rename fail.
    std::fs::create_dir(dir.path().join("1.json")).unwrap();
    std::fs::write(dir.path().join("1.json").join("keep"), b"x").unwrap();
    let r = send_mail(addr, "Subject: one\r\n\r\nfirst\r\n");
    assert!(r.starts_with("451 4.3.0"), "{r}");
    let r = send_mail(addr, "Subject: two\r\n\r\nsecond\r\n");
    assert!(r.starts_with("250 2.0.0 Ok: queued as 2"), "{r}");
    sink.wait_for_transcripts(2, WAIT);
    let msgs = sink.messages();
    assert_eq!(msgs.iter().map(|m| m.id).collect::<Vec<_>>(), [2]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Message 1's .eml was removed again; no temporary file is left.
    assert_eq!(names, ["1.json", "2.eml", "2.json", "transcripts"]);
    assert_eq!(
        std::fs::read(dir.path().join("2.eml")).unwrap(),
        b"Subject: two\r\n\r\nsecond\r\n"
    );
    let errors = errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("message 1") && errors[0].contains("451"),
        "{errors:?}"
    );
    assert_eq!(sink.store().write_errors(), errors);
    let t1 = std::fs::read_to_string(dir.path().join("transcripts/1.txt")).unwrap();
    assert!(t1.contains("S: 451 4.3.0"), "{t1}");
}

#[test]
fn a_restarted_sink_serves_earlier_messages_and_continues_ids() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = || {
        SinkConfig::new(Profile::Permissive)
            .store_dir(dir.path())
            .api(Some("127.0.0.1:0".parse().unwrap()))
    };
    let sink = smtp_sink::spawn(cfg()).unwrap();
    let addr = sink.smtp_addr().unwrap();
    assert!(send_mail(addr, "Subject: a\r\n\r\n1\r\n").contains("queued as 1"));
    // A connection that got its 250 and is still open when the sink stops: its transcript is
    // never written, but its number is in 2.json.
    let (mut s, mut r) = smtp(addr);
    for l in [
        "",
        "EHLO t\r\n",
        "MAIL FROM:<a@b.c>\r\n",
        "RCPT TO:<d@e.f>\r\n",
        "DATA\r\n",
    ] {
        say(&mut s, &mut r, l);
    }
    assert!(say(&mut s, &mut r, "Subject: b\r\n\r\n2\r\n.\r\n").contains("queued as 2"));
    sink.wait_for_transcripts(1, WAIT);
    drop(sink);
    drop((s, r));

    let sink = smtp_sink::spawn(cfg()).unwrap();
    assert_eq!(sink.store().reloaded(), 2);
    let ids: Vec<u64> = sink.messages().iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(sink.messages()[1].raw, b"Subject: b\r\n\r\n2\r\n");
    assert!(
        send_mail(sink.smtp_addr().unwrap(), "Subject: c\r\n\r\n3\r\n").contains("queued as 3")
    );
    let m3 = sink.wait_for_messages(3, WAIT);
    // Connections 1 and 2 were used before the restart.
    assert_eq!(m3[2].connection, 3);
    let list = http_get(sink.api_addr().unwrap(), "/api/messages");
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
}

// ---- redaction: AUTH payloads of any length, pipelined or dropped ---------------------------

#[test]
fn auth_pipelined_behind_starttls_is_dropped_and_redacted() {
    let mut c = config(Profile::Permissive);
    c.starttls = true;
    let mut h = H::new(c);
    h.send("EHLO x\r\n");
    let token = b64(b"\0user\0pipelined-secret");
    let r = h.send(format!(
        "STARTTLS\r\nAUTH PLAIN {token}\r\nMAIL FROM:<a@b>\r\n"
    ));
    assert_eq!(r, "220 2.0.0 Ready to start TLS\r\n");
    // The same again, cut in the middle of "AUTH".
    let shown_text = shown(h.s.transcript());
    assert!(!shown_text.contains(&token), "{shown_text}");
    assert!(shown_text.contains("STARTTLS"), "{shown_text}");

    let mut c = config(Profile::Permissive);
    c.starttls = true;
    let mut h = H::new(c);
    h.send("EHLO x\r\nSTARTTLS\r\nNOOP\r\nAU");
    h.send(format!("TH LOGIN\r\n{}\r\n", b64(b"pw-after-split")));
    let shown_text = shown(h.s.transcript());
    assert!(
        !shown_text.contains(&b64(b"pw-after-split")),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("NOOP"),
        "kept what is no secret: {shown_text}"
    );
}

#[test]
fn overlong_auth_lines_are_redacted_whole() {
    for pieces in [1usize, 3, 64] {
        let mut h = H::new(config(Profile::Permissive));
        h.send("EHLO x\r\n");
        let mut secret = b"\0user\0".to_vec();
        secret.extend(std::iter::repeat_n(b'L', 9000));
        let token = b64(&secret);
        let line = format!("AUTH PLAIN {token}\r\n");
        let step = line.len().div_ceil(pieces);
        let mut out = String::new();
        for chunk in line.as_bytes().chunks(step) {
            out += &h.send(chunk);
        }
        assert_eq!(out, "500 5.5.2 Error: line too long\r\n", "{pieces}");
        let text = shown(h.s.transcript());
        // No 16 consecutive characters of the payload survive anywhere.
        for w in token.as_bytes().windows(16).step_by(97) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(!text.contains(w), "{pieces} pieces: {w} leaked");
        }
        // The same inside an AUTH exchange (the response line is overlong).
        let mut h = H::new(config(Profile::Permissive));
        h.send("EHLO x\r\nAUTH LOGIN\r\n");
        for chunk in format!("{token}\r\n").as_bytes().chunks(step) {
            h.send(chunk);
        }
        let text = shown(h.s.transcript());
        assert!(!text.contains(&token[100..140]), "{pieces}: {text:.300}");
    }
}

#[test]
fn auth_responses_pipelined_after_a_refused_auth_are_redacted() {
    // AUTH before EHLO is refused (503): the pipelined LOGIN responses are not commands.
    let mut h = H::new(config(Profile::Permissive));
    let user = b64(b"someone");
    let pass = b64(b"refused-pw-123");
    let r = h.send(format!("AUTH LOGIN\r\n{user}\r\n{pass}\r\nEHLO x\r\n"));
    assert!(r.starts_with("503"), "{r}");
    let text = shown(h.s.transcript());
    assert!(!text.contains(&pass) && !text.contains(&user), "{text}");
    assert!(text.contains("EHLO x"), "{text}");
}

#[test]
fn declared_secrets_are_redacted_in_files_and_api_wherever_they_appear() {
    let dir = tempfile::tempdir().unwrap();
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .store_dir(dir.path())
            .api(Some("127.0.0.1:0".parse().unwrap()))
            .account("user", "acct-pw-4711")
            .secret("body-secret-0815"),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    let (mut s, mut r) = smtp(addr);
    say(&mut s, &mut r, "");
    say(&mut s, &mut r, "EHLO t\r\n");
    let plain = b64(b"\0user\0acct-pw-4711");
    assert!(say(&mut s, &mut r, &format!("AUTH PLAIN {plain}\r\n")).starts_with("235"));
    say(&mut s, &mut r, "MAIL FROM:<a@b.c>\r\n");
    say(&mut s, &mut r, "RCPT TO:<d@e.f>\r\n");
    say(&mut s, &mut r, "DATA\r\n");
    // The secrets in the body: raw, and base64 at an odd offset.
    let encoded = b64(b"xyacct-pw-4711 and body-secret-0815");
    let reply = say(
        &mut s,
        &mut r,
        &format!("Subject: x\r\n\r\nacct-pw-4711 body-secret-0815\r\n{encoded}\r\n.\r\n"),
    );
    assert!(reply.starts_with("250"), "{reply}");
    say(&mut s, &mut r, "QUIT\r\n");
    sink.wait_for_transcripts(1, WAIT);
    let api = http_get(sink.api_addr().unwrap(), "/api/transcripts");
    let file = std::fs::read(dir.path().join("transcripts/1.txt")).unwrap();
    for (what, blob) in [("api", api), ("file", file)] {
        let text = String::from_utf8_lossy(&blob);
        for leak in ["acct-pw-4711", "body-secret-0815", &plain, &encoded[4..20]] {
            assert!(!text.contains(leak), "{what}: {leak} in {text}");
        }
        assert!(text.contains("<redacted>"), "{what}");
    }
    // The stored message itself is exact (it is the evidence, not a transcript).
    assert!(
        sink.messages()[0]
            .raw
            .windows(12)
            .any(|w| w == b"acct-pw-4711")
    );
}

// ---- AUTH throttling --------------------------------------------------------------------

fn auth_config() -> SessionConfig {
    let mut c = config(Profile::Permissive);
    c.auth = AuthPolicy::Accounts(vec![Account::new("user", "right")]);
    c
}

#[test]
fn auth_failures_close_the_connection_after_the_limit() {
    let mut h = H::new(auth_config());
    h.send("EHLO x\r\n");
    for i in 0..2 {
        let r = h.send(format!("AUTH PLAIN {}\r\n", b64(b"\0user\0wrong")));
        assert_eq!(
            r, "535 5.7.8 Error: authentication credentials invalid\r\n",
            "{i}"
        );
    }
    let r = h.send(format!("AUTH PLAIN {}\r\n", b64(b"\0user\0wrong")));
    assert_eq!(
        r,
        "535 5.7.8 Error: authentication credentials invalid\r\n\
         421 4.7.0 sink.atconform.test Error: too many authentication failures\r\n"
    );
    assert_eq!(h.closed, Some(CloseReason::TooManyAuthFailures));
}

#[test]
fn auth_failures_from_one_address_are_throttled_across_connections() {
    let shared = SharedState::default();
    let mut now = smtp_sink::Instant::ZERO;
    let attempt = |shared: &SharedState, now: smtp_sink::Instant, pw: &[u8]| {
        let mut h = H::with_shared(auth_config(), shared.clone(), 1, false);
        h.now = now;
        h.s.set_peer("192.0.2.7:40000");
        h.send("EHLO x\r\n");
        h.send(format!(
            "AUTH PLAIN {}\r\n",
            b64(&[b"\0user\0", pw].concat())
        ))
    };
    for i in 0..10 {
        assert!(attempt(&shared, now, b"wrong").starts_with("535"), "{i}");
    }
    // The eleventh attempt within the minute is refused without looking at the password.
    let r = attempt(&shared, now, b"right");
    assert!(r.starts_with("454 4.7.0"), "{r}");
    // Another address is not affected.
    let mut h = H::with_shared(auth_config(), shared.clone(), 1, false);
    h.s.set_peer("192.0.2.8:40000");
    h.send("EHLO x\r\n");
    assert!(
        h.send(format!("AUTH PLAIN {}\r\n", b64(b"\0user\0right")))
            .starts_with("235")
    );
    // A minute later the address may try again.
    now = now + Duration::from_secs(61);
    assert!(attempt(&shared, now, b"right").starts_with("235"));
}

// ---- clients that do not read, connection limits ----------------------------------------

#[test]
fn a_client_that_does_not_read_is_closed_by_the_idle_timeout_and_frees_its_slot() {
    let mut limits = Profile::Permissive.default_limits();
    limits.idle_timeout = Duration::from_secs(1);
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .limits(limits)
            .max_connections(2),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    // Two clients pipeline commands and never read the replies: the sink's writes block.
    let hogs: Vec<TcpStream> = (0..2)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_write_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            s
        })
        .collect();
    let noops = b"NOOP\r\n".repeat(20_000);
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        for mut h in &hogs {
            let _ = h.write(&noops);
        }
    }
    // The idle timeout holds while the writes are blocked: both slots free up.
    let deadline = Instant::now() + Duration::from_secs(30);
    let greeting = loop {
        let (mut s, mut r) = smtp(addr);
        let g = say(&mut s, &mut r, "");
        if g.starts_with("220") || Instant::now() > deadline {
            break g;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(greeting.starts_with("220"), "{greeting}");
    // Connections 1 and 2 are the hogs (their transcripts may come after the probes').
    let deadline = Instant::now() + WAIT;
    let hogs_ended = loop {
        let ts = sink.transcripts();
        let ends: Vec<_> = ts
            .iter()
            .filter(|t| t.connection <= 2)
            .map(|t| t.end.map(|e| e.reason))
            .collect();
        if ends.len() == 2 || Instant::now() > deadline {
            break ends;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(hogs_ended, [Some(CloseReason::WriteTimeout); 2]);
    drop(hogs);
}

#[test]
fn connections_per_address_are_limited_with_a_clear_421() {
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .max_connections(8)
            .max_connections_per_address(2),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..2 {
        let (mut s, mut r) = smtp(addr);
        assert!(say(&mut s, &mut r, "").starts_with("220"));
        held.push((s, r));
    }
    let (mut s, mut r) = smtp(addr);
    let line = say(&mut s, &mut r, "");
    assert_eq!(
        line,
        "421 4.7.0 sink.atconform.test Error: too many connections from 127.0.0.1, try again later\r\n"
    );
    // Another loopback address still gets in (Linux routes all of 127/8 to lo).
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    if sock
        .bind(&SocketAddr::from(([127, 0, 0, 2], 0)).into())
        .is_ok()
        && sock.connect(&addr.into()).is_ok()
    {
        let s: TcpStream = sock.into();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut r = BufReader::new(s);
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        assert!(l.starts_with("220"), "{l}");
    }
    drop(held);
}

// ---- API paging and streaming, transcript memory -----------------------------------------

fn http_get(addr: SocketAddr, path: &str) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: sink\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    tcp.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let mut body = &resp[split + 4..];
    if !head.contains("transfer-encoding: chunked") {
        return body.to_vec();
    }
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap(), 16).unwrap();
        body = &body[eol + 2..];
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&body[..n]);
        body = &body[n + 2..];
    }
}

#[test]
fn the_api_pages_messages_and_transcripts() {
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive).api(Some("127.0.0.1:0".parse().unwrap())),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    for i in 0..5 {
        assert!(send_mail(addr, &format!("Subject: {i}\r\n\r\nx\r\n")).starts_with("250"));
    }
    sink.wait_for_transcripts(5, WAIT);
    let api = sink.api_addr().unwrap();
    let ids = |path: &str, key: &str| -> Vec<u64> {
        let v: serde_json::Value = serde_json::from_slice(&http_get(api, path)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e[key].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids("/api/messages", "id"), [1, 2, 3, 4, 5]);
    assert_eq!(ids("/api/messages?limit=2", "id"), [1, 2]);
    assert_eq!(ids("/api/messages?after=2&limit=2", "id"), [3, 4]);
    assert_eq!(ids("/api/messages?after=4", "id"), [5]);
    assert_eq!(ids("/api/messages?after=5", "id"), Vec::<u64>::new());
    assert_eq!(ids("/api/transcripts", "connection"), [1, 2, 3, 4, 5]);
    assert_eq!(
        ids("/api/transcripts?after=1&limit=3", "connection"),
        [2, 3, 4]
    );
    assert_eq!(
        ids("/api/transcripts?after=9", "connection"),
        Vec::<u64>::new()
    );
}

#[test]
fn held_transcripts_stay_within_the_memory_budget_counting_overhead() {
    // Many tiny entries (a NOOP flood) cost far more than their bytes.
    let mut limits = Profile::Permissive.default_limits();
    limits.max_transcript = 256 * 1024;
    let sink = smtp_sink::spawn(SinkConfig::new(Profile::Permissive).limits(limits)).unwrap();
    let addr = sink.smtp_addr().unwrap();
    let mut worst = 0;
    for _ in 0..4 {
        let (mut s, mut r) = smtp(addr);
        say(&mut s, &mut r, "");
        let noops = b"NOOP\r\n".repeat(20_000);
        s.write_all(&noops).unwrap();
        s.write_all(b"QUIT\r\n").unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert!(rest.ends_with(b"closing connection\r\n"));
    }
    for t in sink.wait_for_transcripts(4, WAIT) {
        worst = worst.max(t.memory_cost());
        let bytes: usize = t.entries.iter().map(|e| e.bytes.len()).sum();
        assert!(
            t.omitted_bytes > 0,
            "the flood outgrew the transcript limit"
        );
        assert!(
            bytes < 256 * 1024 / 4,
            "{bytes} bytes kept: overhead not counted"
        );
        assert!(
            t.entries
                .iter()
                .all(|e| e.dir != Direction::ClientToServer || !e.is_secret())
        );
    }
    assert!(worst <= 256 * 1024 + 64 * 1024, "{worst}");
    assert!(sink.store().transcript_memory() <= smtp_sink::TRANSCRIPT_BUDGET);
}

#[test]
fn a_client_reconnecting_at_once_is_not_refused_while_transcripts_are_written() {
    // Each finished connection's transcript is written (and fsynced) after the client is
    // gone: its connection slot must already be free.
    let dir = tempfile::tempdir().unwrap();
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive)
            .store_dir(dir.path())
            .max_connections(2)
            .max_connections_per_address(2),
    )
    .unwrap();
    let addr = sink.smtp_addr().unwrap();
    for i in 0..30 {
        let (mut s, mut r) = smtp(addr);
        let g = say(&mut s, &mut r, "");
        assert!(g.starts_with("220"), "connection {i}: {g}");
        s.write_all(b"QUIT\r\n").unwrap();
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        assert!(rest.starts_with("221"), "{rest}");
    }
    assert_eq!(sink.wait_for_transcripts(30, WAIT).len(), 30);
}
