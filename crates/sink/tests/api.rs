//! The JSON/HTTP API, queried with a minimal HTTP/1.1 client over loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use smtp_sink::{Profile, SinkConfig};

fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "{method} {path} HTTP/1.1\r\nHost: sink\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = Vec::new();
    tcp.read_to_end(&mut resp).unwrap();
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    let body = resp[split + 4..].to_vec();
    let lower = head.to_ascii_lowercase();
    if lower.contains("transfer-encoding: chunked") {
        // Streamed (transcripts).
        return (status, dechunk(&body));
    }
    assert!(
        lower.contains("content-length"),
        "expected a sized or chunked body: {head}"
    );
    (status, body)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap().trim(), 16)
            .expect("hex size");
        body = &body[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

fn json(addr: SocketAddr, method: &str, path: &str) -> (u16, serde_json::Value) {
    let (s, b) = http(addr, method, path);
    (s, serde_json::from_slice(&b).unwrap())
}

#[test]
fn list_get_raw_parsed_delete() {
    let sink = smtp_sink::spawn(
        SinkConfig::new(Profile::Permissive).api(Some(SocketAddr::from(([127, 0, 0, 1], 0)))),
    )
    .unwrap();
    let api = sink.api_addr().unwrap();
    let mut tcp = TcpStream::connect(sink.smtp_addr().unwrap()).unwrap();
    let raw = "From: A <a@b.c>\r\nTo: c@d.e\r\nCc: f@g.h\r\nBcc: x@y.z\r\nSubject: =?UTF-8?B?5rWL6K+V?=\r\n\r\nbody\r\n";
    write!(
        tcp,
        "EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<c@d.e>\r\nDATA\r\n{raw}.\r\nQUIT\r\n"
    )
    .unwrap();
    let mut sink_said = String::new();
    tcp.read_to_string(&mut sink_said).unwrap();

    let (status, list) = json(api, "GET", "/api/messages");
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], 1);
    assert_eq!(list[0]["subject"], "测试");
    assert_eq!(list[0]["envelope"]["mail_from"], "a@b.c");
    assert_eq!(list[0]["envelope"]["rcpt_to"], serde_json::json!(["c@d.e"]));
    assert_eq!(list[0]["size"], raw.len());

    let (status, bytes) = http(api, "GET", "/api/messages/1/raw");
    assert_eq!((status, bytes.as_slice()), (200, raw.as_bytes()));

    let (status, detail) = json(api, "GET", "/api/messages/1");
    assert_eq!(status, 200);
    let s = &detail["summary"];
    assert_eq!(s["subject"], "测试");
    assert_eq!(s["from"][0]["name"], "A");
    assert_eq!(s["cc"][0]["address"], "f@g.h");
    assert_eq!(s["has_bcc_header"], true);
    assert_eq!(s["text_body"], "body\r\n");

    let (status, _) = json(api, "GET", "/api/messages/99");
    assert_eq!(status, 404);
    sink.wait_for_transcripts(1, Duration::from_secs(10));
    let (status, t) = json(api, "GET", "/api/transcripts");
    assert_eq!(status, 200);
    assert_eq!(t[0]["connection"], 1);

    let (status, del) = json(api, "DELETE", "/api/messages");
    assert_eq!((status, del["deleted"].as_u64()), (200, Some(1)));
    let (_, list) = json(api, "GET", "/api/messages");
    assert_eq!(list, serde_json::json!([]));
    assert!(sink.messages().is_empty());
}
