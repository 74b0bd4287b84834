//! The tokio driver against a small in-test SMTP server on 127.0.0.1:0 (plain, implicit TLS,
//! STARTTLS with an rcgen certificate), plus fault injection.

use std::net::SocketAddr;
use std::sync::Arc;

use at_mailer::{
    DeliverOptions, Failure, MailJob, NetFault, ResolveMap, SslType, Stage, StallMode, deliver,
    deliver_with,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::sample_job;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    Implicit,
    StartTls,
}

/// What the test server saw.
#[derive(Debug, Default)]
struct Seen {
    commands: Vec<String>,
    data: Vec<u8>,
    tls: bool,
}

struct Server {
    addr: SocketAddr,
    cert: CertificateDer<'static>,
    task: tokio::task::JoinHandle<Seen>,
}

fn tls_config() -> (Arc<ServerConfig>, CertificateDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec!["smtp.163.com".into()]).expect("cert");
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .expect("server config");
    (Arc::new(config), cert)
}

/// Starts a one-connection server; `auth_reply` answers AUTH (e.g. `235 ok` or `535 no`).
async fn start(mode: Mode, auth_reply: &'static str) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (config, cert) = tls_config();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let acceptor = TlsAcceptor::from(config);
        let mut seen = Seen::default();
        match mode {
            Mode::Implicit => {
                let tls = acceptor.accept(tcp).await.expect("tls accept");
                seen.tls = true;
                session(tls, true, false, auth_reply, &mut seen).await;
            }
            Mode::Plain | Mode::StartTls => {
                let offer = mode == Mode::StartTls;
                if let Some(tcp) = session(tcp, true, offer, auth_reply, &mut seen).await {
                    let tls = acceptor.accept(tcp).await.expect("tls accept");
                    seen.tls = true;
                    session(tls, false, false, auth_reply, &mut seen).await;
                }
            }
        }
        seen
    });
    Server { addr, cert, task }
}

/// Runs SMTP on `s`; returns the stream when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    greet: bool,
    offer_starttls: bool,
    auth_reply: &str,
    seen: &mut Seen,
) -> Option<S> {
    if greet {
        s.write_all(b"220 test ESMTP\r\n").await.ok()?;
    }
    let mut buf = Vec::new();
    let mut login_steps = 0;
    loop {
        let line = read_line(&mut s, &mut buf).await?;
        seen.commands.push(line.clone());
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let tls_line = if offer_starttls {
                "250-STARTTLS\r\n"
            } else {
                ""
            };
            format!("250-test\r\n{tls_line}250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
        } else if upper == "STARTTLS" {
            s.write_all(b"220 go ahead\r\n").await.ok()?;
            return Some(s);
        } else if upper == "AUTH LOGIN" {
            login_steps = 2;
            "334 VXNlcm5hbWU6\r\n".into()
        } else if login_steps == 2 {
            login_steps = 1;
            "334 UGFzc3dvcmQ6\r\n".into()
        } else if login_steps == 1 || upper.starts_with("AUTH PLAIN") {
            login_steps = 0;
            format!("{auth_reply}\r\n")
        } else if upper == "DATA" {
            s.write_all(b"354 go\r\n").await.ok()?;
            loop {
                if let Some(end) = find(&buf, b"\r\n.\r\n") {
                    seen.data = buf.drain(..end + 5).collect();
                    break;
                }
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            "250 queued\r\n".into()
        } else if upper == "QUIT" {
            let _ = s.write_all(b"221 bye\r\n").await;
            let _ = s.shutdown().await;
            return None;
        } else {
            "250 ok\r\n".into()
        };
        s.write_all(reply.as_bytes()).await.ok()?;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn read_line<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(i) = find(buf, b"\r\n") {
            let line: Vec<u8> = buf.drain(..i + 2).collect();
            return Some(String::from_utf8_lossy(&line[..i]).into_owned());
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn job_for(ssl: SslType) -> MailJob {
    MailJob {
        ssl,
        ..sample_job()
    }
}

/// `smtp.163.com:25` pointed at the test server, as `--resolve` does (ERRATA E4).
fn resolve_to(addr: SocketAddr) -> ResolveMap {
    let mut map = ResolveMap::new();
    map.add(&format!("smtp.163.com:25={addr}")).expect("entry");
    map
}

async fn delivers(mode: Mode, ssl: SslType) {
    let server = start(mode, "235 ok").await;
    let job = job_for(ssl);
    let expected_data = at_mailer::frame_data(&at_mailer::compose(&job), true);
    let outcome = deliver(job, &resolve_to(server.addr)).await;
    assert_eq!(outcome.result, Ok(()), "{}", outcome.transcript.render());
    assert_eq!(outcome.quectel_codes(), (0, 0));
    let seen = server.task.await.expect("server");
    assert_eq!(seen.tls, ssl != SslType::Plain);
    assert_eq!(seen.data, expected_data);
    let rcpts: Vec<&String> = seen
        .commands
        .iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(rcpts.len(), 3, "To, Cc and Bcc are all in the envelope");
    // The transcript holds exactly what the server received.
    let sent = outcome.transcript.raw_sent();
    assert!(find(&sent, &expected_data).is_some());
    assert_eq!(
        outcome.transcript.tls_started_at.is_some(),
        ssl != SslType::Plain
    );
}

#[tokio::test]
async fn plain_delivery() {
    delivers(Mode::Plain, SslType::Plain).await;
}

#[tokio::test]
async fn implicit_tls_delivery() {
    delivers(Mode::Implicit, SslType::Implicit).await;
}

#[tokio::test]
async fn starttls_delivery() {
    delivers(Mode::StartTls, SslType::StartTls).await;
}

#[tokio::test]
async fn auth_rejected_is_677_535() {
    let server = start(Mode::Plain, "535 Error: authentication failed").await;
    let outcome = deliver(job_for(SslType::Plain), &resolve_to(server.addr)).await;
    assert_eq!(outcome.quectel_codes(), (677, 535));
    drop(server.task.await);
}

#[tokio::test]
async fn a_quit_that_is_never_answered_does_not_hold_the_failure() {
    // The server refuses AUTH, reads the client's QUIT, then neither answers nor closes.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (got_quit, quit_seen) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        s.write_all(b"220 test ESMTP\r\n").await.expect("greet");
        let mut buf = Vec::new();
        let mut got_quit = Some(got_quit);
        while let Some(line) = read_line(&mut s, &mut buf).await {
            let reply: &[u8] = match line.as_str() {
                l if l.starts_with("EHLO") => b"250-test\r\n250 AUTH PLAIN\r\n",
                l if l.starts_with("AUTH") => b"535 Error: authentication failed\r\n",
                "QUIT" => {
                    if let Some(tx) = got_quit.take() {
                        let _ = tx.send(());
                    }
                    continue;
                }
                _ => b"500 unexpected\r\n",
            };
            s.write_all(reply).await.expect("reply");
        }
    });
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        deliver(job_for(SslType::Plain), &resolve_to(addr)),
    )
    .await
    .expect("the delivery ends although QUIT is never answered");
    assert_eq!(outcome.quectel_codes(), (677, 535));
    quit_seen
        .await
        .expect("the client sent QUIT after the failure");
    server.abort();
}

#[tokio::test]
async fn verification_on_rejects_unknown_ca_and_accepts_pinned_root() {
    let server = start(Mode::Implicit, "235 ok").await;
    let mut job = job_for(SslType::Implicit);
    // seclevel 1 without a "cacert": nothing to verify against (a module has no root store).
    job.tls.verify = at_tls::Verify::Chain {
        anchors: Vec::new(),
        check_host: true,
    };
    let outcome = deliver_with(
        job.clone(),
        &resolve_to(server.addr),
        &DeliverOptions::default(),
    )
    .await;
    assert!(
        matches!(outcome.result, Err(Failure::Tls(_))),
        "{:?}",
        outcome.result
    );
    assert_eq!(outcome.quectel_codes(), (665, 0));
    server.task.abort();

    let server = start(Mode::Implicit, "235 ok").await;
    let pinned = DeliverOptions {
        roots: Some(Arc::new(vec![server.cert.to_vec()])),
        ..DeliverOptions::default()
    };
    let outcome = deliver_with(job, &resolve_to(server.addr), &pinned).await;
    assert_eq!(outcome.result, Ok(()));
    // The rustls peer speaks TLS 1.2/1.3 only; the transcript shows what was negotiated.
    let tls = outcome.transcript.tls.as_ref().expect("negotiated");
    assert_eq!(tls.version, at_tls::Version::Tls13);
    assert!(
        outcome
            .transcript
            .render()
            .contains(&format!("-- TLS {tls} --")),
        "{}",
        outcome.transcript.render()
    );
    server.task.await.expect("server");
}

#[tokio::test]
async fn refused_is_654() {
    // Bind, learn the port, close: nothing listens there any more.
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr")
    };
    let outcome = deliver(job_for(SslType::Plain), &resolve_to(addr)).await;
    assert_eq!(outcome.result, Err(Failure::Refused));
    assert_eq!(outcome.quectel_codes(), (654, 0));
}

#[tokio::test]
async fn dns_fault_and_unresolvable_name_are_653() {
    let mut job = job_for(SslType::Plain);
    job.faults = vec![NetFault::Dns];
    let outcome = deliver(job, &ResolveMap::new()).await;
    assert_eq!(outcome.quectel_codes(), (653, 0));

    let mut job = job_for(SslType::Plain);
    job.server = String::new();
    let outcome = deliver(job, &ResolveMap::new()).await;
    assert_eq!(outcome.quectel_codes(), (653, 0));
}

#[tokio::test]
async fn reset_mid_data_is_656() {
    let server = start(Mode::Plain, "235 ok").await;
    let mut job = job_for(SslType::Plain);
    job.faults = vec!["reset-mid-data".parse().expect("fault")];
    let outcome = deliver(job, &resolve_to(server.addr)).await;
    assert_eq!(outcome.result, Err(Failure::Reset { stage: Stage::Body }));
    assert_eq!(outcome.quectel_codes(), (656, 0));
    let seen = server.task.await.expect("server");
    assert!(seen.commands.iter().any(|c| c == "DATA"));
    assert!(
        seen.data.is_empty(),
        "no complete message reached the server"
    );
    let sent = outcome.transcript.raw_sent();
    let after_data = sent
        .windows(6)
        .position(|w| w == b"DATA\r\n")
        .expect("DATA")
        + 6;
    let full = at_mailer::frame_data(&at_mailer::compose(&job_for(SslType::Plain)), true);
    assert_eq!(
        sent.len() - after_data,
        full.len() / 2,
        "half of the message went out"
    );
}

#[tokio::test]
async fn stall_reports_in_report_mode_and_pends_otherwise() {
    let server = start(Mode::Plain, "235 ok").await;
    let mut job = job_for(SslType::Plain);
    job.faults = vec![NetFault::Stall {
        stage: Stage::RcptTo,
    }];
    let report = DeliverOptions {
        stall: StallMode::Report,
        ..DeliverOptions::default()
    };
    let outcome = deliver_with(job.clone(), &resolve_to(server.addr), &report).await;
    assert_eq!(
        outcome.result,
        Err(Failure::Stalled {
            stage: Stage::RcptTo
        })
    );
    assert_eq!(outcome.quectel_codes(), (658, 0));
    server.task.abort();

    // Pend: the future is still pending after the server has gone quiet.
    let server = start(Mode::Plain, "235 ok").await;
    let map = resolve_to(server.addr);
    let fut = deliver(job, &map);
    tokio::pin!(fut);
    let mut polls = 0;
    let pending = loop {
        tokio::select! {
            biased;
            _ = &mut fut => break false,
            _ = tokio::task::yield_now() => {
                polls += 1;
                if polls > 200 { break true; }
            }
        }
    };
    assert!(pending, "a stalled delivery must not complete on its own");
    server.task.abort();
}

#[test]
fn blocking_wrapper_delivers() {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let server = rt.block_on(start(Mode::Plain, "235 ok"));
    let map = resolve_to(server.addr);
    let outcome =
        at_mailer::deliver_blocking(job_for(SslType::Plain), &map, &DeliverOptions::default());
    assert_eq!(outcome.result, Ok(()));
    rt.block_on(server.task).expect("server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_wrapper_works_inside_an_async_context() {
    let server = start(Mode::Plain, "235 ok").await;
    let map = resolve_to(server.addr);
    // Called from async code: must not panic with "runtime within a runtime".
    let outcome = tokio::task::block_in_place(|| {
        at_mailer::deliver_blocking(job_for(SslType::Plain), &map, &DeliverOptions::default())
    });
    assert_eq!(outcome.result, Ok(()));
    server.task.await.expect("server");
}
