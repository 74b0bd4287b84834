//! Review-friendly renderings of a case's byte exchanges, for insta snapshots.
//!
//! Every control byte is escaped and lines break after each `\n`, so a changed byte shows as
//! a one-line diff. Wall-clock times are left out (the AT side keeps its virtual time, which is
//! deterministic); `Date:` and `Message-ID:` values and credentials are redacted.

use crate::case::CaseResult;
use crate::escape::escape_lines;
use crate::report::status_word;
use crate::transcript::{Direction, Entry};

/// The AT side then the SMTP side of one case.
pub fn render_case(r: &CaseResult) -> String {
    let mut out = format!("verdict: {}", status_word(&r.status));
    if let Some(f) = &r.failure {
        out.push_str(&format!(" ({})", f.summary()));
    }
    out.push_str("\n--- AT (virtual time, > host, < module) ---\n");
    out.push_str(&render_at(r));
    for t in &r.smtp {
        out.push_str(&format!(
            "--- SMTP connection #{} implicit-tls={} (C client, S sink) ---\n",
            t.connection,
            if t.implicit_tls { "yes" } else { "no" }
        ));
        out.push_str(&render_smtp(t));
    }
    out
}

fn push_block(out: &mut String, head: &str, bytes: &[u8]) {
    let pad = " ".repeat(head.len());
    for (i, line) in escape_lines(bytes).iter().enumerate() {
        out.push_str(if i == 0 { head } else { &pad });
        out.push_str(line);
        out.push('\n');
    }
}

/// The AT transcript: one block per chunk, `[t] >`/`<`, interleaved-URC notes kept.
pub fn render_at(r: &CaseResult) -> String {
    let mut out = String::new();
    for e in r.transcript.redacted_entries() {
        match e {
            Entry::Bytes { at, dir, bytes } => {
                let arrow = if dir == Direction::Tx { '>' } else { '<' };
                let head = format!("[{:>11.6}] {arrow} ", at.since_origin().as_secs_f64());
                push_block(&mut out, &head, &bytes);
            }
            Entry::Note { text, .. } if text.starts_with("interleaved URC") => {
                out.push_str(&format!("# {text}\n"));
            }
            Entry::Note { .. } => {}
        }
    }
    out
}

/// An SMTP session: consecutive bytes in one direction merged, then one line per `\n`.
pub fn render_smtp(t: &smtp_sink::Transcript) -> String {
    let mut out = String::new();
    // What TLS settled on: the version and suite a module negotiated are part of its behaviour.
    let tls_line = match &t.tls {
        Some(info) => format!("-- TLS established: {} --\n", info.summary()),
        None => "-- TLS established --\n".to_owned(),
    };
    if t.implicit_tls
        && let Some(info) = &t.tls
    {
        out.push_str(&format!("-- TLS {} --\n", info.summary()));
    }
    if let Some(e) = &t.tls_error {
        out.push_str(&format!("-- TLS failed: {e} --\n"));
    }
    let mut run: Vec<u8> = Vec::new();
    let mut dir = None;
    let flush = |out: &mut String, dir: Option<smtp_sink::Direction>, run: &mut Vec<u8>| {
        if run.is_empty() {
            return;
        }
        let head = match dir {
            Some(smtp_sink::Direction::ClientToServer) => "C: ",
            _ => "S: ",
        };
        let text = redact_headers(run);
        push_block(out, head, &text);
        run.clear();
    };
    for (i, e) in t.entries.iter().enumerate() {
        if t.tls_upgrades.iter().any(|u| u.entry_index == i) {
            flush(&mut out, dir, &mut run);
            out.push_str(&tls_line);
        }
        if dir != Some(e.dir) {
            flush(&mut out, dir, &mut run);
            dir = Some(e.dir);
        }
        run.extend_from_slice(&e.redacted());
    }
    flush(&mut out, dir, &mut run);
    if let Some(end) = &t.end {
        out.push_str(&format!("-- closed: {:?} --\n", end.reason));
    }
    out
}

/// `Date:` and `Message-ID:` header values replaced (they vary between clients and runs).
fn redact_headers(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let lower = line.to_ascii_lowercase();
        let eol: &[u8] = if line.ends_with(b"\r\n") {
            b"\r\n"
        } else if line.ends_with(b"\n") {
            b"\n"
        } else {
            b""
        };
        if lower.starts_with(b"date: ") {
            out.extend_from_slice(b"Date: <date>");
            out.extend_from_slice(eol);
        } else if lower.starts_with(b"message-id: ") {
            out.extend_from_slice(b"Message-ID: <message-id>");
            out.extend_from_slice(eol);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ids_are_redacted_line_ends_kept() {
        let got = redact_headers(b"Date: Wed, 29 Jul 2020\r\nMessage-ID: <1@x>\nSubject: s\r\n");
        assert_eq!(
            got,
            b"Date: <date>\r\nMessage-ID: <message-id>\nSubject: s\r\n"
        );
    }
}
