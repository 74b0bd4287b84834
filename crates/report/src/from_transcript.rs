//! `atconform scenario from-transcript`: turns a recorded transcript into a scenario file that
//! replays: on the emulator (the server it sent to is `@resolve`d to the capture sink) and on
//! the module it was recorded from.
//!
//! - Each host command line becomes `> LINE` (its echo, ERRATA W2, is left to the runner); the
//!   device's answer, up to its final result code, becomes `<` lines when it has the W1
//!   framing, `<<` raw bytes otherwise, after `@within` when the catalog documents a longer
//!   maximum response time than 300 ms (`AT+QIACT` 150 s, …).
//! - What arrives after the final result code is a URC: `@within` + `~ URC`. The send result
//!   `+QSMTPPUT: <err>,<protocol_error>` gets the command's `<timeout>` (000 §2.2.7), never the
//!   300 ms of its `OK`; other URCs twice their measured delay plus 2 s. Lines that the command
//!   cannot answer with (a `+NAME:` it does not own, at_wire's rule) are URCs even before the
//!   final result: `@allow-urc`.
//! - Data mode (`CONNECT`, `OK_Info_WaitingForData`): the bytes sent become `@data "..."`
//!   (`name=body` for `AT+QSMTPBODY` and `AT#PUTMAIL`, `name=attN` for the N-th `AT+QFUPL`). A
//!   body ended by `+++` (the module counted the bytes before it, 000 §1.3) becomes
//!   `@escape before=… after=…` with the silences the application kept; a body ended by
//!   `<input_time>` gets `@within <input_time + 1 s>`; Multi-Tech's `<CR><LF>.<CR><LF>` its own
//!   `@data`.
//! - `AT+QSMTPCFG="smtpserver","HOST",…` / `AT#SMTPSERV="HOST"` give `@resolve HOST sink`;
//!   `"ssltype",1` gives `@sink tls implicit`.
//! - Each message the recording's capture sink received (`@mail {json}` lines of `atconform
//!   record --sink-listen`) becomes `@mail` + `@smtp` checks after the send that delivered it
//!   (the N-th `+QSMTPPUT: 0,…`, or Multi-Tech's `OK` after the body).
//! - Values that legitimately vary between runs become patterns: the `AT+QFUPL` checksum (000
//!   §3.1, `{hex}`), the PDP address of `+QIACT:` (000 §3.1, `{ip}`), the firmware revision of
//!   `ATI` (`{any}`). A password the recorder redacted becomes `${SMTP_PASSWORD}`, declared
//!   `@secret` (set it in the environment to replay).

use std::time::Duration;

use at_scenario::write;
use at_wire::decoder::{DecoderConfig, Pending};
use regex::Regex;

use crate::load::unescape;
use crate::record::MailRecord;

/// Device output arriving this long after the host's last bytes, with no answer pending, is
/// a URC; also the least silence around `+++` that counts as a guard when the module's count
/// cannot tell (000 §1.3: 1 s).
const URC_GAP: Duration = Duration::from_millis(1000);
/// 000 §2.2.1–§2.2.6: "最大响应时间 300 毫秒", the runner's default `max-response`.
const MAX_RESPONSE: Duration = Duration::from_millis(300);

#[derive(Debug)]
struct Chunk {
    at: Duration,
    tx: bool,
    bytes: Vec<u8>,
}

fn parse(text: &str) -> (Vec<Chunk>, Vec<MailRecord>) {
    let mut out = Vec::new();
    let mut mail = Vec::new();
    for line in text.lines() {
        if let Some(json) = line.strip_prefix("@mail ") {
            if let Ok(m) = serde_json::from_str::<MailRecord>(json) {
                mail.push(m);
            }
            continue;
        }
        let Some((ts, rest)) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) else {
            continue;
        };
        let at = ts
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && (0.0..1e9).contains(f))
            // The format has microseconds: whole microseconds keep differences exact.
            .map(|f| Duration::from_micros((f * 1e6).round() as u64))
            .unwrap_or_default();
        let (tx, body) = if let Some(b) = rest.strip_prefix("> ") {
            (true, b)
        } else if let Some(b) = rest.strip_prefix("< ") {
            (false, b)
        } else {
            continue;
        };
        let bytes = unescape(body);
        if !bytes.is_empty() {
            out.push(Chunk { at, tx, bytes });
        }
    }
    (out, mail)
}

/// Escapes bytes for a scenario line ([`at_scenario::write::escape`]).
pub fn scenario_escape(bytes: &[u8]) -> String {
    write::escape(bytes)
}

/// A `@mail`/`@smtp` block value ([`at_scenario::write::value`]).
fn value(s: &str) -> String {
    write::value(s.as_bytes())
}

fn is_final(line: &str) -> bool {
    at_wire::is_final_line(line.as_bytes())
}

/// The W1 bytes of `lines` (information lines joined in one frame, every final result its
/// own frame; ERRATA W1).
fn w1(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut in_info = false;
    for l in lines {
        if is_final(l) {
            in_info = false;
            out.extend_from_slice(b"\r\n");
        } else if !in_info {
            out.extend_from_slice(b"\r\n");
            in_info = true;
        }
        out.extend_from_slice(l.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The non-empty CRLF-separated lines of `rx`, if it is text.
fn lines_of(rx: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(rx).ok()?;
    let lines: Vec<String> = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    (!lines.iter().any(|l| l.contains(['\r', '\n']))).then_some(lines)
}

/// The end (after its CRLF) of the first final result line in `rx`, if one is complete.
fn final_end(rx: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(i) = rx
        .get(start..)
        .and_then(|r| r.windows(2).position(|w| w == b"\r\n"))
    {
        let line = rx.get(start..start + i).unwrap_or_default();
        if std::str::from_utf8(line).is_ok_and(is_final) {
            return Some(start + i + 2);
        }
        start += i + 2;
    }
    None
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

/// `d` rounded up to the millisecond (what a recording resolves).
fn ceil_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
}

/// The first extended command of a command line: its catalog entry, its parameters, and
/// whether it is the set or execute form (what the catalog's response time is about).
fn catalog_form(line: &[u8]) -> Option<(&'static at_catalog::Command, Vec<at_wire::Param>, bool)> {
    let parsed = at_wire::parse_command_line(line).ok()?;
    parsed.commands.into_iter().find_map(|c| match c {
        at_wire::Command::Extended { sigil, name, form } => {
            let entry = at_catalog::command(&format!("{}{name}", char::from(sigil)))?;
            let (params, acts) = match form {
                at_wire::Form::Set(p) => (p, true),
                at_wire::Form::Execute => (Vec::new(), true),
                _ => (Vec::new(), false),
            };
            Some((entry, params, acts))
        }
        _ => None,
    })
}

/// The first extended command of a command line: its catalog entry and parameters.
fn catalog_entry(line: &[u8]) -> Option<(&'static at_catalog::Command, Vec<at_wire::Param>)> {
    catalog_form(line).map(|(c, p, _)| (c, p))
}

/// The documented maximum response time of the command's own answer, when longer than the
/// default 300 ms (a `<param>`-long limit is for what comes later: data mode, the URC; the
/// test and read forms answer at once).
fn answer_limit(line: &[u8]) -> Option<Duration> {
    let (cmd, _, acts) = catalog_form(line)?;
    if !acts {
        return None;
    }
    match cmd.max_response {
        at_catalog::MaxResponse::Millis(ms) if u128::from(ms) > MAX_RESPONSE.as_millis() => {
            Some(Duration::from_millis(u64::from(ms)))
        }
        _ => None,
    }
}

/// The integer parameter `name` of the command line, else its catalog default.
fn param(line: &[u8], name: &str) -> Option<u64> {
    let (cmd, params) = catalog_entry(line)?;
    let i = cmd.params.iter().position(|p| p.name == name)?;
    params
        .get(i)
        .and_then(at_wire::Param::as_int)
        .or_else(|| cmd.params.get(i).and_then(|p| p.default))
        .and_then(|v| u64::try_from(v).ok())
}

/// Which data mode a command opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataKind {
    /// `AT+QSMTPBODY`: ended by length, `+++` or `<input_time>` (000 §2.2.4).
    Body,
    /// `AT+QFUPL`: the same rules (ERRATA E18).
    Upload,
    /// Multi-Tech `AT#PUTMAIL`: ended by `<CR><LF>.<CR><LF>` (002).
    PutMail,
}

/// A command waiting for its final result code.
#[derive(Debug)]
struct Cmd {
    line: Vec<u8>,
    upper: String,
    at: Duration,
    pending: Pending,
    echo_left: Vec<u8>,
}

impl Cmd {
    /// Whether `line` is a URC while this command waits (at_wire's rule: a `+NAME:`/`#NAME:`
    /// line the command does not answer with).
    fn urc(&self, line: &str) -> bool {
        if is_final(line) || !(line.starts_with('+') || line.starts_with('#')) {
            return false;
        }
        let Some((prefix, _)) = line.split_once(':') else {
            return false;
        };
        !self
            .pending
            .info_prefixes
            .iter()
            .any(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
    }
}

#[derive(Debug)]
struct Data {
    cmd: Cmd,
    kind: DataKind,
    tx: Vec<(Duration, Vec<u8>)>,
}

struct Conv<'m> {
    body: String,
    echo: bool,
    secret: bool,
    tx_line: Vec<u8>,
    cmd: Option<Cmd>,
    data: Option<Data>,
    rx: Vec<u8>,
    rx_at: Option<Duration>,
    /// Unsolicited output not yet written, with the arrival time of each piece's last byte.
    urc: Vec<(Duration, Vec<u8>)>,
    last_tx: Duration,
    put_timeout: Option<u64>,
    servers: Vec<String>,
    implicit_tls: bool,
    mails: &'m [MailRecord],
    mails_used: usize,
    payloads: Vec<(String, Vec<u8>)>,
    uploads: usize,
    /// Every host chunk's time, to measure silences after `+++`.
    tx_times: Vec<Duration>,
}

impl Conv<'_> {
    fn line(&mut self, s: impl AsRef<str>) {
        self.body.push_str(s.as_ref());
        self.body.push('\n');
    }

    fn next_tx_after(&self, at: Duration) -> Option<Duration> {
        self.tx_times.iter().copied().find(|t| *t > at)
    }

    fn on_tx(&mut self, at: Duration, bytes: &[u8]) {
        if let Some(d) = &mut self.data {
            d.tx.push((at, bytes.to_vec()));
            self.last_tx = at;
            return;
        }
        self.flush_urcs();
        if self.cmd.is_some() {
            // The application went on without waiting for the answer.
            self.finish_answer();
        }
        for seg in bytes.split_inclusive(|&b| b == b'\r') {
            self.tx_line.extend_from_slice(seg);
            if let Some(line) = self.tx_line.strip_suffix(b"\r").map(<[u8]>::to_vec) {
                self.tx_line.clear();
                self.command(at, line);
            }
        }
        self.last_tx = at;
    }

    fn flush_partial_tx(&mut self) {
        if !self.tx_line.is_empty() {
            let t = std::mem::take(&mut self.tx_line);
            self.line(write::send_line(&t, false));
        }
    }

    fn command(&mut self, at: Duration, line: Vec<u8>) {
        let mut text = scenario_escape(&line);
        if text.contains("<redacted>") {
            text = text.replace("<redacted>", "${SMTP_PASSWORD}");
            self.secret = true;
        }
        self.line(format!("> {text}"));
        let upper = String::from_utf8_lossy(&line).trim().to_ascii_uppercase();
        self.track_config(&line, &upper);
        let mut echo_left = Vec::new();
        if self.echo {
            echo_left = line.clone();
            echo_left.push(b'\r');
        }
        self.cmd = Some(Cmd {
            pending: Pending::infer(&line, &DecoderConfig::default()),
            line,
            upper,
            at,
            echo_left,
        });
        self.rx.clear();
        self.rx_at = None;
    }

    /// The settings a replay needs besides the bytes: the server to route to the sink, the
    /// TLS mode of the sink, the send's `<timeout>`.
    fn track_config(&mut self, line: &[u8], upper: &str) {
        let Some((cmd, params)) = catalog_entry(line) else {
            return;
        };
        let str_param = |i: usize| {
            params
                .get(i)
                .and_then(at_wire::Param::as_str_bytes)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let host = match cmd.name {
            "+QSMTPCFG" if str_param(0).is_some_and(|k| k.eq_ignore_ascii_case("smtpserver")) => {
                str_param(1)
            }
            "#SMTPSERV" => str_param(0),
            _ => None,
        };
        if let Some(h) = host.filter(|h| !h.is_empty() && h.parse::<std::net::IpAddr>().is_err())
            && !self.servers.iter().any(|s| s.eq_ignore_ascii_case(&h))
        {
            self.servers.push(h);
        }
        if cmd.name == "+QSMTPCFG"
            && str_param(0).is_some_and(|k| k.eq_ignore_ascii_case("ssltype"))
            && let Some(v) = params.get(1).and_then(at_wire::Param::as_int)
        {
            self.implicit_tls = v == 1;
        }
        if cmd.name == "+QSMTPPUT" && upper.contains('=') && !upper.ends_with("=?") {
            self.put_timeout = param(line, "timeout");
        }
    }

    fn on_rx(&mut self, at: Duration, bytes: &[u8]) {
        if self.data.is_some() {
            self.rx.extend_from_slice(bytes);
            self.rx_at.get_or_insert(at);
            if final_end(&self.rx).is_some() {
                self.finish_data();
            }
            return;
        }
        self.flush_partial_tx();
        let Some(cmd) = &mut self.cmd else {
            self.urc.push((at, bytes.to_vec()));
            return;
        };
        let mut b = bytes;
        while let (Some(&want), Some(&got)) = (cmd.echo_left.first(), b.first()) {
            if want != got {
                // Not the echo (ERRATA W2): the rest is the answer, judged as it is.
                cmd.echo_left.clear();
                break;
            }
            cmd.echo_left.remove(0);
            b = &b[1..];
        }
        if b.is_empty() {
            return;
        }
        self.rx.extend_from_slice(b);
        self.rx_at.get_or_insert(at);
        if let Some(end) = final_end(&self.rx) {
            let rest = self.rx.split_off(end);
            self.finish_answer();
            if !rest.is_empty() {
                if self.data.is_some() {
                    self.on_rx(at, &rest);
                } else {
                    self.urc.push((at, rest));
                }
            }
        }
    }

    /// Writes the answer gathered for the pending command (complete or not).
    fn finish_answer(&mut self) {
        let Some(cmd) = self.cmd.take() else {
            return;
        };
        let rx = std::mem::take(&mut self.rx);
        self.rx_at = None;
        if rx.is_empty() {
            return;
        }
        if let Some(limit) = answer_limit(&cmd.line) {
            self.line(write::within_line(ceil_ms(limit)));
        }
        let last = self.group(&rx, Some(&cmd));
        let Some(last) = last else { return };
        if matches!(
            at_wire::result_line(last.as_bytes()),
            Some(at_wire::Kind::Connect | at_wire::Kind::WaitingForData)
        ) {
            let kind = if cmd.upper.starts_with("AT+QFUPL") {
                DataKind::Upload
            } else if cmd.upper.starts_with("AT#PUTMAIL") {
                DataKind::PutMail
            } else {
                DataKind::Body
            };
            self.data = Some(Data {
                cmd,
                kind,
                tx: Vec::new(),
            });
            return;
        }
        if last == "OK" && (cmd.upper == "ATE0" || cmd.upper == "ATE") && self.echo {
            self.echo = false;
            self.line("@echo off");
        } else if last == "OK" && cmd.upper == "ATE1" && !self.echo {
            self.echo = true;
            self.line("@echo on");
        }
    }

    /// Writes `rx` as a `<` group (URC lines in it as `@allow-urc`), or `<<` when it is not
    /// W1; returns the last line.
    fn group(&mut self, rx: &[u8], cmd: Option<&Cmd>) -> Option<String> {
        let Some(lines) = lines_of(rx) else {
            self.line(format!("<< {}", scenario_escape(rx)));
            return None;
        };
        let (urcs, answer): (Vec<String>, Vec<String>) = lines
            .iter()
            .cloned()
            .partition(|l| cmd.is_some_and(|c| c.urc(l)));
        let mut rest = rx.to_vec();
        for u in &urcs {
            let frame = format!("\r\n{u}\r\n").into_bytes();
            if let Some(i) = rest
                .windows(frame.len())
                .position(|w| w == frame.as_slice())
            {
                rest.drain(i..i + frame.len());
            }
        }
        if answer.is_empty() || w1(&answer) != rest {
            self.line(format!("<< {}", scenario_escape(rx)));
            return lines.last().cloned();
        }
        for u in &urcs {
            self.line(format!("@allow-urc {}", expected_line(u)));
        }
        for l in &answer {
            self.line(format!("< {}", expected_line(l)));
        }
        answer.last().cloned()
    }

    /// Writes a finished data-mode exchange: payload, how it ended, the answer.
    fn finish_data(&mut self) {
        let Some(d) = self.data.take() else {
            return;
        };
        let end = final_end(&self.rx).unwrap_or(self.rx.len());
        let rest = self.rx.split_off(end);
        let rx = std::mem::take(&mut self.rx);
        let rx_at = self.rx_at.take().unwrap_or(self.last_tx);
        let payload: Vec<u8> = d.tx.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        let count = lines_of(&rx).and_then(|ls| {
            ls.iter().find_map(|l| {
                let n = l
                    .strip_prefix("+QSMTPBODY: ")
                    .or_else(|| l.strip_prefix("+QFUPL: "))?;
                n.split(',').next()?.parse::<usize>().ok()
            })
        });
        // Byte times: which chunk holds byte `i` of the payload.
        let last_tx = self.last_tx;
        let time_of = |i: usize| {
            let mut seen = 0;
            for (t, b) in &d.tx {
                seen += b.len();
                if i < seen {
                    return *t;
                }
            }
            last_tx
        };
        let n = payload.len();
        let escaped = d.kind != DataKind::PutMail
            && payload.ends_with(b"+++")
            && match count {
                Some(c) => c + 3 == n,
                None => n == 3 || time_of(n - 3) - time_of(n - 4) >= URC_GAP,
            };
        let (data, terminator) = if escaped {
            (&payload[..n - 3], None)
        } else if d.kind == DataKind::PutMail && payload.ends_with(b"\r\n.\r\n") {
            (&payload[..n - 5], Some(&b"\r\n.\r\n"[..]))
        } else if d.kind == DataKind::PutMail && payload == b".\r\n" {
            (&payload[..0], Some(&b".\r\n"[..]))
        } else {
            (&payload[..], None)
        };
        let name = match d.kind {
            DataKind::Body | DataKind::PutMail => "body".to_string(),
            DataKind::Upload => {
                self.uploads += 1;
                format!("att{}", self.uploads)
            }
        };
        if !data.is_empty() {
            self.line(format!("{} name={name}", write::data_line(data)));
            self.payloads.push((name, data.to_vec()));
        }
        if escaped {
            let first_plus = time_of(n - 3);
            let before = if n > 3 {
                first_plus.saturating_sub(time_of(n - 4))
            } else {
                first_plus.saturating_sub(d.cmd.at)
            };
            let last_plus = time_of(n - 1);
            // The silence the application kept after `+++`: until its next bytes (the answer
            // came meanwhile), or until the answer if nothing followed.
            let after = self
                .next_tx_after(last_plus)
                .unwrap_or(rx_at)
                .saturating_sub(last_plus);
            self.line(write::escape_line(ceil_ms(before), ceil_ms(after)));
        }
        if let Some(t) = terminator {
            self.line(write::data_line(t));
        }
        let quiet = rx_at.saturating_sub(self.last_tx);
        if d.kind == DataKind::PutMail {
            // ERRATA E22: the session runs after the body; no answer within 300 s is 38030.
            self.line("@within 300s");
        } else if !escaped && quiet >= URC_GAP {
            // Ended by <input_time> (000 §2.2.4) or the upload's <timeout> (ERRATA E18).
            let limit = param(&d.cmd.line, "input_time")
                .or_else(|| param(&d.cmd.line, "timeout"))
                .map(|s| Duration::from_secs(s + 1))
                .unwrap_or(quiet * 2 + Duration::from_secs(2));
            self.line(write::within_line(ceil_ms(limit)));
        }
        let last = self.group(&rx, None);
        if d.kind == DataKind::PutMail && last.as_deref() == Some("OK") {
            self.mail_checks();
        }
        if !rest.is_empty() {
            self.urc.push((rx_at, rest));
        }
    }

    /// Writes the unsolicited output gathered so far: `~` per W1 frame, `<<` for the rest.
    fn flush_urcs(&mut self) {
        if self.urc.is_empty() {
            return;
        }
        let pieces = std::mem::take(&mut self.urc);
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for (t, b) in &pieces {
            bytes.extend_from_slice(b);
            ends.push((bytes.len(), *t));
        }
        let last_tx = self.last_tx;
        let time_at = |i: usize| {
            ends.iter()
                .find(|(e, _)| i < *e)
                .map_or(last_tx, |(_, t)| *t)
        };
        let mut pos = 0;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let frame = rest.strip_prefix(b"\r\n").and_then(|r| {
                let i = r.windows(2).position(|w| w == b"\r\n")?;
                let line = std::str::from_utf8(&r[..i]).ok()?;
                (!line.is_empty() && !line.contains('\r')).then(|| (line.to_string(), i + 4))
            });
            let Some((line, len)) = frame else {
                self.line(format!("<< {}", scenario_escape(rest)));
                break;
            };
            let arrived = time_at(pos + len - 1);
            let within = match self.put_timeout {
                Some(t) if line.starts_with("+QSMTPPUT: ") => Duration::from_secs(t),
                _ => {
                    let gap = arrived.saturating_sub(last_tx);
                    Duration::from_secs(gap.as_secs() * 2 + 2)
                }
            };
            self.line(write::within_line(ceil_ms(within)));
            self.line(format!("~ {}", expected_line(&line)));
            if line
                .strip_prefix("+QSMTPPUT: ")
                .is_some_and(|r| r.split(',').next() == Some("0"))
            {
                self.mail_checks();
            }
            pos += len;
        }
    }

    /// `@mail` and `@smtp` for the next message the sink received, if the recording has one.
    fn mail_checks(&mut self) {
        let Some(m) = self.mails.get(self.mails_used) else {
            return;
        };
        self.mails_used += 1;
        let mut out = vec!["@mail".to_string()];
        out.push(format!("    mail-from: {}", value(&m.mail_from)));
        if !m.rcpt_to.is_empty() {
            let r: Vec<String> = m.rcpt_to.iter().map(|a| value(a)).collect();
            out.push(format!("    rcpt-to: {}", r.join(", ")));
        }
        for (n, v) in &m.headers {
            if ["From", "To", "Cc"]
                .iter()
                .any(|h| h.eq_ignore_ascii_case(n))
            {
                out.push(format!("    header: {n}: {}", value(v)));
            }
        }
        if let Some(s) = m.subject.as_deref().filter(|s| !s.is_empty()) {
            out.push(format!("    subject: {}", value(s)));
        }
        if let Some(body) = m.body.as_deref().filter(|b| !b.is_empty()) {
            let got = body.as_bytes();
            // The delivered body ends with CRLF even when the payload did not (RFC 5321).
            let same = |p: &[u8]| {
                got == p || (!p.ends_with(b"\r\n") && got.strip_suffix(b"\r\n") == Some(p))
            };
            match self
                .payloads
                .iter()
                .rev()
                .find(|(n, p)| n == "body" && same(p))
            {
                Some((n, _)) => out.push(format!("    body-payload: {n}")),
                None => out.push(format!("    body: {}", value(body))),
            }
        }
        out.push(format!("    attachments: {}", m.attachments.len()));
        for a in &m.attachments {
            let Some(name) = a.name.as_deref().filter(|n| {
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_graphic() && b != b'=' && b != b'/')
            }) else {
                continue;
            };
            let by_payload = self
                .payloads
                .iter()
                .find(|(n, p)| n.starts_with("att") && crate::record::sha256_hex(p) == a.sha256);
            match by_payload {
                Some((p, _)) => out.push(format!(
                    "    attachment: {name} size={} payload={p}",
                    a.size
                )),
                None => out.push(format!(
                    "    attachment: {name} size={} sha256={}",
                    a.size, a.sha256
                )),
            }
        }
        if !m.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("Bcc")) {
            out.push("    no-header: Bcc".into());
        }
        out.push("@smtp".into());
        out.push(format!("    tls: {}", m.tls));
        out.push(format!(
            "    sent: MAIL FROM:<{}>{{any}}",
            value(&m.mail_from)
        ));
        for r in &m.rcpt_to {
            out.push(format!("    sent: RCPT TO:<{}>{{any}}", value(r)));
        }
        if m.tls == "starttls" {
            out.push("    sent: STARTTLS".into());
        }
        if m.auth {
            out.push("    sent: AUTH {any}".into());
        }
        for l in out {
            self.line(l);
        }
    }

    fn finish(&mut self) {
        if self.data.is_some() {
            if !self.rx.is_empty() {
                self.finish_data();
            } else if let Some(d) = self.data.take() {
                let payload: Vec<u8> = d.tx.iter().flat_map(|(_, b)| b.iter().copied()).collect();
                if !payload.is_empty() {
                    self.line(write::data_line(&payload));
                }
            }
        }
        self.flush_partial_tx();
        self.finish_answer();
        self.flush_urcs();
    }
}

/// Converts a rendered transcript (the runner's format, as `atconform record` writes it, with
/// its `@mail` lines) into scenario text for `profile`.
pub fn scenario_from_transcript(transcript: &str, title: &str, profile: &str) -> String {
    let (chunks, mails) = parse(transcript);
    let mut c = Conv {
        body: String::new(),
        echo: at_catalog::profile(profile).map_or(true, |p| p.echo),
        secret: false,
        tx_line: Vec::new(),
        cmd: None,
        data: None,
        rx: Vec::new(),
        rx_at: None,
        urc: Vec::new(),
        last_tx: Duration::ZERO,
        put_timeout: None,
        servers: Vec::new(),
        implicit_tls: false,
        mails: &mails,
        mails_used: 0,
        payloads: Vec::new(),
        uploads: 0,
        tx_times: chunks.iter().filter(|c| c.tx).map(|c| c.at).collect(),
    };
    let initial_echo = c.echo;
    for ch in &chunks {
        if ch.tx {
            c.on_tx(ch.at, &ch.bytes);
        } else {
            c.on_rx(ch.at, &ch.bytes);
        }
    }
    c.finish();
    let mut head = format!(
        "# Recorded with `atconform record`, converted by `atconform scenario from-transcript`.\n\
         title: {title}\nsource: recorded\nprofiles: {profile}\n\n"
    );
    if c.secret {
        head.push_str(
            "# The password was redacted when recorded: set SMTP_PASSWORD to replay.\n\
             @secret SMTP_PASSWORD\n",
        );
    }
    for s in &c.servers {
        head.push_str(&format!(
            "@resolve {} sink{}\n",
            scenario_escape(s.as_bytes()),
            if head.contains("@resolve") {
                ""
            } else {
                "                // the emulator sends to the capture sink"
            }
        ));
    }
    if c.implicit_tls && !c.servers.is_empty() {
        head.push_str("@sink tls implicit                      // \"ssltype\",1 (000 §3.2)\n");
    }
    if !initial_echo {
        head.push_str("@echo off\n");
    }
    if mails.len() > c.mails_used {
        c.body.push_str(&format!(
            "# {} more message(s) reached the sink, after no send this recording shows\n",
            mails.len() - c.mails_used
        ));
    }
    head + &c.body
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
            "# The password was redacted when recorded: set SMTP_PASSWORD to replay.\n\
@secret SMTP_PASSWORD\n\
> AT+QFUPL=\"RAM:a.txt\",5\n\
< CONNECT\n\
@data \"hello\" name=att1\n\
< +QFUPL: 5,{hex}\n\
< OK\n\
> AT+QSMTPCFG=\"account\",\"u\",\"${SMTP_PASSWORD}\"\n\
<< \\r\\nOK\\n\n\
> AT+QSMTPPUT=300\n\
< OK\n\
@within 300s\n\
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
    fn escape_ended_body_send_result_and_mail() {
        // Issue 19: `+++` became `>> +++` and `~ OK`; the send result was folded into the
        // 300 ms `OK` check; no @resolve, no mail check.
        let mail = MailRecord {
            mail_from: "a@b.c".into(),
            rcpt_to: vec!["d@e.f".into()],
            headers: vec![
                ("From".into(), "\"a\" <a@b.c>".into()),
                ("To".into(), "<d@e.f>".into()),
                ("Date".into(), "x".into()),
            ],
            subject: Some("T".into()),
            body: Some("hi there\r\n".into()),
            attachments: Vec::new(),
            tls: "implicit".into(),
            auth: true,
        };
        let t = format!(
            "[   0.000000] > AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25\\r\n\
[   0.001000] < AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25\\r\\r\\nOK\\r\\n\n\
[   0.100000] > AT+QSMTPCFG=\"ssltype\",1\\r\n\
[   0.101000] < AT+QSMTPCFG=\"ssltype\",1\\r\\r\\nOK\\r\\n\n\
[   0.200000] > AT+QIACT=1\\r\n\
[   0.201000] < AT+QIACT=1\\r\\r\n\
[   1.201000] < \\nOK\\r\\n\n\
[   1.300000] > AT+QSMTPBODY=0,100,120\\r\n\
[   1.301000] < AT+QSMTPBODY=0,100,120\\r\\r\\nCONNECT\\r\\n\n\
[   1.400000] > hi there\n\
[   2.900000] > +++\n\
[   3.900500] < \\r\\n+QSMTPBODY: 8\\r\\n\\r\\nOK\\r\\n\n\
[   4.400000] > AT+QSMTPPUT=300\\r\n\
[   4.401000] < AT+QSMTPPUT=300\\r\\r\\nOK\\r\\n\n\
[   4.501000] < \\r\\n+QSMTPPUT: 0,0\\r\\n\n\
@mail {}\n",
            serde_json::to_string(&mail).unwrap()
        );
        let s = scenario_from_transcript(&t, "rec", "ec25");
        let body = s.split_once("profiles: ec25\n\n").unwrap().1;
        assert_eq!(
            body,
            "@resolve smtp.163.com sink                // the emulator sends to the capture sink\n\
@sink tls implicit                      // \"ssltype\",1 (000 §3.2)\n\
> AT+QSMTPCFG=\"smtpserver\",\"smtp.163.com\",25\n\
< OK\n\
> AT+QSMTPCFG=\"ssltype\",1\n\
< OK\n\
> AT+QIACT=1\n\
@within 150s\n\
< OK\n\
> AT+QSMTPBODY=0,100,120\n\
< CONNECT\n\
@data \"hi there\" name=body\n\
@escape before=1500ms after=1500ms\n\
< +QSMTPBODY: 8\n\
< OK\n\
> AT+QSMTPPUT=300\n\
< OK\n\
@within 300s\n\
~ +QSMTPPUT: 0,0\n\
@mail\n\
\x20   mail-from: a@b.c\n\
\x20   rcpt-to: d@e.f\n\
\x20   header: From: \"a\" <a@b.c>\n\
\x20   header: To: <d@e.f>\n\
\x20   subject: T\n\
\x20   body-payload: body\n\
\x20   attachments: 0\n\
\x20   no-header: Bcc\n\
@smtp\n\
\x20   tls: implicit\n\
\x20   sent: MAIL FROM:<a@b.c>{any}\n\
\x20   sent: RCPT TO:<d@e.f>{any}\n\
\x20   sent: AUTH {any}\n"
        );
        at_scenario::load_str("rec.scn", &s).expect("loads");
    }

    #[test]
    fn data_not_ended_by_escape() {
        // `+++` counted by the module is data; a late answer is <input_time>.
        let t = "[   0.000000] > AT+QSMTPBODY=0,100,5\\r\n\
[   0.001000] < AT+QSMTPBODY=0,100,5\\r\\r\\nCONNECT\\r\\n\n\
[   0.100000] > ab+++\n\
[   5.100000] < \\r\\n+QSMTPBODY: 5\\r\\n\\r\\nOK\\r\\n\n";
        let s = scenario_from_transcript(t, "rec", "ec25");
        assert!(
            s.ends_with("@data \"ab+++\" name=body\n@within 6s\n< +QSMTPBODY: 5\n< OK\n"),
            "{s}"
        );
        at_scenario::load_str("rec.scn", &s).expect("loads");
    }

    #[test]
    fn escapes_what_the_format_reserves() {
        assert_eq!(
            scenario_escape(b" a{b}$c\\d//e \x01\"#[x] "),
            "\\x20a\\{b\\}\\$c\\\\d\\/\\/e \\x01\"\\#\\[x\\]\\x20"
        );
        assert_eq!(write::escape_quoted(b"a\"b"), "a\\\"b");
    }
}
