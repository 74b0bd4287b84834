//! A capture sink run elsewhere (`atconform sink --api ADDR`), read through its HTTP API.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::scenario::MailSource;

/// Messages and SMTP sessions of an external `smtp-sink`, fetched from `GET /api/messages`,
/// `GET /api/messages/{id}/raw` and `GET /api/transcripts` (credentials arrive `<redacted>`).
#[derive(Clone, Debug)]
pub struct ExternalSink {
    api: SocketAddr,
    page: usize,
}

/// Why talking to the external sink failed.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// Connection or I/O failure.
    #[error("sink API {0}: {1}")]
    Io(SocketAddr, std::io::Error),
    /// Not a 200 response, or a body that does not parse.
    #[error("sink API {0}: {1}")]
    Protocol(SocketAddr, String),
}

impl ExternalSink {
    /// The sink whose API listens on `api`.
    pub fn new(api: SocketAddr) -> Self {
        ExternalSink { api, page: PAGE }
    }

    /// One `GET`, `Connection: close`; returns the body.
    fn get(&self, path: &str) -> Result<Vec<u8>, ExternalError> {
        let io = |e| ExternalError::Io(self.api, e);
        let mut s = TcpStream::connect_timeout(&self.api, Duration::from_secs(5)).map_err(io)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(io)?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.api
        )
        .map_err(io)?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).map_err(io)?;
        let proto = |m: &str| ExternalError::Protocol(self.api, format!("GET {path}: {m}"));
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| proto("no header end"))?;
        let head = String::from_utf8_lossy(resp.get(..split).unwrap_or_default()).into_owned();
        let body = resp.get(split + 4..).unwrap_or_default();
        let status = head.split_whitespace().nth(1).unwrap_or_default();
        if status != "200" {
            return Err(proto(&format!("status {status}")));
        }
        let chunked = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("transfer-encoding:") && l.contains("chunked")
        });
        if chunked {
            dechunk(body).ok_or_else(|| proto("bad chunked body"))
        } else {
            Ok(body.to_vec())
        }
    }

    /// Every message the sink holds, in id order.
    pub fn fetch_messages(&self) -> Result<Vec<smtp_sink::StoredMessage>, ExternalError> {
        #[derive(serde::Deserialize)]
        struct Entry {
            id: u64,
            connection: u64,
            envelope: smtp_sink::Envelope,
        }
        // The list is paged (`?after=ID`): a page shorter than its limit is the last.
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            let after = entries.last().map_or(0, |e| e.id);
            let path = format!("/api/messages?after={after}&limit={}", self.page);
            let page: Vec<Entry> = serde_json::from_slice(&self.get(&path)?)
                .map_err(|e| ExternalError::Protocol(self.api, format!("{path}: {e}")))?;
            let last = page.len() < self.page;
            entries.extend(page);
            if last {
                break;
            }
        }
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let raw = self.get(&format!("/api/messages/{}/raw", e.id))?;
            out.push(smtp_sink::StoredMessage {
                id: e.id,
                connection: e.connection,
                received_at: Duration::ZERO,
                envelope: e.envelope,
                raw,
            });
        }
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    /// Every SMTP session the sink finished recording, in connection order (paged like the
    /// messages: `?after=CONNECTION&limit=N`).
    pub fn fetch_transcripts(&self) -> Result<Vec<smtp_sink::Transcript>, ExternalError> {
        let limit = self.page.min(TRANSCRIPT_PAGE);
        let mut out: Vec<smtp_sink::Transcript> = Vec::new();
        let mut after = 0;
        loop {
            let path = format!("/api/transcripts?after={after}&limit={limit}");
            let page: Vec<smtp_sink::Transcript> = serde_json::from_slice(&self.get(&path)?)
                .map_err(|e| ExternalError::Protocol(self.api, format!("{path}: {e}")))?;
            let last = page.len() < limit;
            match page.last() {
                Some(t) if t.connection > after => after = t.connection,
                _ => {
                    out.extend(page);
                    break;
                }
            }
            out.extend(page);
            if last {
                break;
            }
        }
        out.sort_by_key(|t| t.connection);
        Ok(out)
    }
}

/// Messages asked for per `GET /api/messages` page.
const PAGE: usize = 1000;
/// Sessions asked for per `GET /api/transcripts` page (the sink's largest).
const TRANSCRIPT_PAGE: usize = 100;

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size_txt = std::str::from_utf8(body.get(..eol)?).ok()?;
        let size = usize::from_str_radix(size_txt.split(';').next()?.trim(), 16).ok()?;
        body = body.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

impl MailSource for ExternalSink {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage> {
        // A failing API reads as "no mail", which fails the @mail check that needed it.
        self.fetch_messages().unwrap_or_default()
    }
    fn transcripts(&self) -> Vec<smtp_sink::Transcript> {
        // As for messages: a failing API reads as "no session", which fails the @smtp check.
        self.fetch_transcripts().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"),
            Some(b"abcde".to_vec())
        );
        assert_eq!(dechunk(b"5\r\nab"), None);
    }

    #[test]
    fn reads_messages_from_a_running_sink_api() {
        let sink = smtp_sink::spawn(
            smtp_sink::SinkConfig::new(smtp_sink::Profile::default())
                .api(Some("127.0.0.1:0".parse().unwrap())),
        )
        .expect("sink starts");
        let api = sink.api_addr().expect("api listening");
        let ext = ExternalSink::new(api);
        assert!(ext.fetch_messages().expect("empty list").is_empty());
        // Deliver one message over plain SMTP.
        let smtp = sink.smtp_addr().expect("smtp");
        let mut s = TcpStream::connect(smtp).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        let mut say = |line: &[u8], s: &mut TcpStream| {
            if !line.is_empty() {
                s.write_all(line).unwrap();
            }
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        assert!(say(b"", &mut s).starts_with("220"));
        assert!(say(b"EHLO t\r\n", &mut s).starts_with("250"));
        assert!(say(b"MAIL FROM:<a@b.c>\r\n", &mut s).starts_with("250"));
        assert!(say(b"RCPT TO:<d@e.f>\r\n", &mut s).starts_with("250"));
        assert!(say(b"DATA\r\n", &mut s).starts_with("354"));
        assert!(say(b"Subject: hi\r\n\r\nbody\r\n.\r\n", &mut s).starts_with("250"));
        let msgs = ext.fetch_messages().expect("one message");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].envelope.mail_from, "a@b.c");
        assert_eq!(msgs[0].envelope.rcpt_to, vec!["d@e.f".to_string()]);
        assert_eq!(msgs[0].raw, sink.messages()[0].raw);
        // More messages than a page: every page is read.
        for _ in 0..2 {
            assert!(say(b"MAIL FROM:<a@b.c>\r\n", &mut s).starts_with("250"));
            assert!(say(b"RCPT TO:<d@e.f>\r\n", &mut s).starts_with("250"));
            assert!(say(b"DATA\r\n", &mut s).starts_with("354"));
            assert!(say(b"Subject: more\r\n\r\nx\r\n.\r\n", &mut s).starts_with("250"));
        }
        let paged = ExternalSink { api, page: 2 };
        let ids: Vec<u64> = paged
            .fetch_messages()
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(ids, [1, 2, 3]);
        // The session, once closed, reads back as the sink recorded it (issue 19: `@smtp`
        // checks through --sink-api).
        assert!(say(b"QUIT\r\n", &mut s).starts_with("221"));
        drop(s);
        let local = sink.wait_for_transcripts(1, Duration::from_secs(5));
        let ts = ext.fetch_transcripts().expect("one session");
        assert_eq!(ts.len(), 1);
        assert_eq!(ts[0].render(), local[0].render());
        assert_eq!(ts[0].client_bytes(), local[0].client_bytes());
        assert_eq!(MailSource::transcripts(&ext).len(), 1);
        // More sessions than a page: every page is read.
        for _ in 0..2 {
            let mut s = TcpStream::connect(smtp).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            assert!(say(b"", &mut s).starts_with("220"));
            assert!(say(b"QUIT\r\n", &mut s).starts_with("221"));
        }
        sink.wait_for_transcripts(3, Duration::from_secs(5));
        let conns: Vec<u64> = paged
            .fetch_transcripts()
            .unwrap()
            .iter()
            .map(|t| t.connection)
            .collect();
        assert_eq!(conns, [1, 2, 3]);
    }
}
