//! `atconform scenario from-transcript`: turns a recorded transcript into a scenario file.
//!
//! Each host command line becomes `> LINE` (its echo, ERRATA W2, is left to the runner); the
//! device's answer becomes `<` lines when it has the W1 framing, `<<` raw bytes otherwise;
//! bytes after `CONNECT` / `OK_Info_WaitingForData` become `@data "..."`; device output that
//! arrives later on its own becomes `@within` + `~ URC`. Values that legitimately vary between
//! runs become patterns: the `AT+QFUPL` checksum (000 §3.1, `{hex}`), the PDP address of
//! `+QIACT:` (000 §3.1, `{ip}`), the firmware revision of `ATI` (`{any}`). A password the
//! recorder redacted becomes `${SMTP_PASSWORD}`, declared `@secret`.

use std::time::Duration;

use regex::Regex;

use crate::load::unescape;

/// Output arriving this long after the last host bytes is a URC (`~`), not the answer.
const URC_GAP: Duration = Duration::from_millis(1000);

#[derive(Debug)]
struct Entry {
    at: Duration,
    tx: bool,
    bytes: Vec<u8>,
}

fn parse(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for line in text.lines() {
        let Some((ts, rest)) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) else {
            continue;
        };
        let at = ts
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or_default();
        let (tx, body) = if let Some(b) = rest.strip_prefix("> ") {
            (true, b)
        } else if let Some(b) = rest.strip_prefix("< ") {
            (false, b)
        } else {
            continue;
        };
        let bytes = unescape(body);
        match out.last_mut() {
            // Consecutive chunks of one direction arriving close together are one unit.
            Some(e) if e.tx == tx && at.saturating_sub(e.at) < URC_GAP => {
                e.bytes.extend_from_slice(&bytes)
            }
            _ => out.push(Entry { at, tx, bytes }),
        }
    }
    out
}

/// Escapes bytes for a scenario line: control bytes, `\`, `{`, `}`, `$`, `/` and a trailing
/// space.
pub fn scenario_escape(bytes: &[u8]) -> String {
    escape_with(bytes, false)
}

/// [`scenario_escape`] for the inside of `@data "..."` (quotes escaped too).
fn escape_quoted(bytes: &[u8]) -> String {
    escape_with(bytes, true)
}

fn escape_with(bytes: &[u8], quoted: bool) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0 => s.push_str("\\0"),
            b'"' if quoted => s.push_str("\\\""),
            b'\\' | b'{' | b'}' | b'$' | b'/' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if s.ends_with(' ') {
        s.pop();
        s.push_str("\\x20");
    }
    s
}

fn is_final(line: &str) -> bool {
    matches!(
        line,
        "OK" | "ERROR" | "NO CARRIER" | "CONNECT" | "OK_Info_WaitingForData"
    ) || line.starts_with("CONNECT ")
        || line.starts_with("+CME ERROR: ")
        || line.starts_with("+CMS ERROR: ")
        || line.starts_with("#CME ERROR: ")
}

/// Splits W1-framed bytes into lines, or `None` if they are not exactly W1.
fn w1_lines(rx: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(rx).ok()?;
    let lines: Vec<String> = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if lines.is_empty() || lines.iter().any(|l| l.contains(['\r', '\n'])) {
        return None;
    }
    // Rebuild per W1 and compare.
    let mut rebuilt = String::new();
    let mut in_info = false;
    for l in &lines {
        if is_final(l) {
            if in_info {
                in_info = false;
            }
            rebuilt.push_str("\r\n");
            rebuilt.push_str(l);
            rebuilt.push_str("\r\n");
        } else {
            if !in_info {
                rebuilt.push_str("\r\n");
                in_info = true;
            }
            rebuilt.push_str(l);
            rebuilt.push_str("\r\n");
        }
    }
    (rebuilt.as_bytes() == rx).then_some(lines)
}

/// An expected line with known varying values turned into patterns (the rest escaped).
fn expected_line(line: &str) -> String {
    static RES: std::sync::OnceLock<[(Regex, &str); 3]> = std::sync::OnceLock::new();
    let res = RES.get_or_init(|| {
        [
            // 000 §3.1: +QFUPL: <upload_size>,<checksum>
            (
                Regex::new(r"^(\+QFUPL: [0-9]+,)[0-9A-Fa-f]+$").expect("regex"),
                "{hex}",
            ),
            // 000 §3.1: +QIACT: <contextID>,<state>,<type>,"<address>"
            (
                Regex::new(r#"^(\+QIACT: [0-9]+,[0-9]+,[0-9]+,")[^"]*"$"#).expect("regex"),
                "{ip}\"",
            ),
            // ATI: the firmware revision differs per build.
            (Regex::new(r"^(Revision: ).*$").expect("regex"), "{any}"),
        ]
    });
    for (re, pattern) in res {
        if let Some(c) = re.captures(line) {
            let prefix = c.get(1).map(|m| m.as_str()).unwrap_or_default();
            // The prefix is followed by the pattern: a space at its end is not trailing.
            let (head, space) = match prefix.strip_suffix(' ') {
                Some(h) => (h, " "),
                None => (prefix, ""),
            };
            return format!("{}{space}{pattern}", scenario_escape(head.as_bytes()));
        }
    }
    scenario_escape(line.as_bytes())
}

/// Converts a rendered transcript (the runner's format, as `atconform record` writes it) into
/// scenario text for `profile`.
pub fn scenario_from_transcript(transcript: &str, title: &str, profile: &str) -> String {
    let mut body = String::new();
    let mut echo = true;
    let mut data_mode = false;
    let mut secret = false;
    let mut last_cmd: Vec<u8> = Vec::new();
    let mut last_tx_at = Duration::ZERO;
    let mut answered = true;
    for e in parse(transcript) {
        if e.tx {
            last_tx_at = e.at;
            answered = false;
            if data_mode {
                body.push_str(&format!("@data \"{}\"\n", escape_quoted(&e.bytes)));
                data_mode = false;
                last_cmd.clear();
                continue;
            }
            for (i, line) in e.bytes.split_inclusive(|&b| b == b'\r').enumerate() {
                let _ = i;
                let Some(cmd) = line.strip_suffix(b"\r") else {
                    body.push_str(&format!(">> {}\n", scenario_escape(line)));
                    continue;
                };
                let mut text = scenario_escape(cmd);
                if text.contains("<redacted>") {
                    text = text.replace("<redacted>", "${SMTP_PASSWORD}");
                    secret = true;
                }
                body.push_str(&format!("> {text}\n"));
                last_cmd = line.to_vec();
            }
            continue;
        }
        let mut rx = e.bytes.as_slice();
        if echo && !last_cmd.is_empty() {
            rx = rx.strip_prefix(last_cmd.as_slice()).unwrap_or(rx);
        }
        let cmd = String::from_utf8_lossy(&last_cmd)
            .trim_end()
            .to_ascii_uppercase();
        last_cmd.clear();
        if rx.is_empty() {
            continue;
        }
        let late = answered || e.at.saturating_sub(last_tx_at) >= URC_GAP;
        match w1_lines(rx) {
            Some(lines) if late => {
                let secs = e.at.saturating_sub(last_tx_at).as_secs() * 2 + 2;
                for l in &lines {
                    body.push_str(&format!("@within {secs}s\n~ {}\n", expected_line(l)));
                }
            }
            Some(lines) => {
                for l in &lines {
                    body.push_str(&format!("< {}\n", expected_line(l)));
                }
                let last = lines.last().map(String::as_str).unwrap_or_default();
                if last == "CONNECT" || last.starts_with("CONNECT ") {
                    data_mode = true;
                }
                if last == "OK_Info_WaitingForData" {
                    data_mode = true;
                }
                if last == "OK" && (cmd == "ATE0" || cmd == "ATE") {
                    echo = false;
                    body.push_str("@echo off\n");
                } else if last == "OK" && cmd == "ATE1" {
                    echo = true;
                    body.push_str("@echo on\n");
                }
            }
            None => body.push_str(&format!("<< {}\n", scenario_escape(rx))),
        }
        answered = true;
    }
    let mut head = format!(
        "# Recorded with `atconform record`, converted by `atconform scenario from-transcript`.\n\
         title: {title}\nsource: recorded\nprofiles: {profile}\n\n"
    );
    if secret {
        head.push_str("@secret SMTP_PASSWORD\n");
    }
    head + &body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_becomes_scenario() {
        let t = "[   0.000000] > AT+QFUPL=\"RAM:a.txt\",5\\r\n\
[   0.010000] < AT+QFUPL=\"RAM:a.txt\",5\\r\\r\\nCONNECT\\r\\n\n\
[   0.020000] > hello\n\
[   0.030000] < \\r\\n+QFUPL: 5,2d0e\\r\\n\\r\\nOK\\r\\n\n\
[   0.040000] > AT+QSMTPCFG=\"account\",\"u\",\"<redacted>\"\\r\n\
[   0.050000] < AT+QSMTPCFG=\"account\",\"u\",\"<redacted>\"\\r\\r\\nOK\\n\n\
[   0.060000] > AT+QSMTPPUT=300\\r\n\
[   0.070000] < AT+QSMTPPUT=300\\r\\r\\nOK\\r\\n\n\
[   3.070000] < \\r\\n+QSMTPPUT: 0,0\\r\\n\n";
        let s = scenario_from_transcript(t, "rec", "ec25");
        assert_eq!(
            s.split_once("\n\n").unwrap().1,
            "@secret SMTP_PASSWORD\n\
> AT+QFUPL=\"RAM:a.txt\",5\n\
< CONNECT\n\
@data \"hello\"\n\
< +QFUPL: 5,{hex}\n\
< OK\n\
> AT+QSMTPCFG=\"account\",\"u\",\"${SMTP_PASSWORD}\"\n\
<< \\r\\nOK\\n\n\
> AT+QSMTPPUT=300\n\
< OK\n\
@within 8s\n\
~ +QSMTPPUT: 0,0\n"
        );
        let sc = at_scenario::load_str("rec.scn", &s).expect("loads");
        assert_eq!(sc.meta.title, "rec");
        assert_eq!(
            expected_line("Revision: EC25EFAR06A03M4G"),
            "Revision: {any}"
        );
        assert_eq!(
            expected_line("+QIACT: 1,1,1,\"10.7.157.1\""),
            "+QIACT: 1,1,1,\"{ip}\""
        );
    }

    #[test]
    fn escapes_what_the_format_reserves() {
        assert_eq!(
            scenario_escape(b"a{b}$c\\d//e \x01\" "),
            "a\\{b\\}\\$c\\\\d\\/\\/e \\x01\"\\x20"
        );
        assert_eq!(escape_quoted(b"a\"b"), "a\\\"b");
    }
}
