//! The one scenario writer: a [`Scenario`] (or single steps, lines and values) as scenario-file
//! text (`scenarios/README.md`), and the escaping rules that text needs. The transcript
//! recorder (`at_report::from_transcript`) and the device fuzzer's findings (`at_devfuzz::scn`)
//! write through it; `load_str(write(s))` gives `s` back (a property test).
//!
//! Not written: per-line `[evidence]`, `@within … [evidence]`, `max-response:` and
//! `evidence:` headers (the loaded scenario keeps them; [`write`] drops them).

use std::fmt::Write as _;
use std::time::Duration;

use crate::model::*;

/// Escapes bytes for an unquoted scenario text (a `>`/`<`/`~` line, a block value): `\r`,
/// `\n`, `\t`; `\xNN` for other control and non-ASCII bytes; `\` before `\ $ { } / # [ ]`;
/// a space at either end as `\x20` (the loader trims lines).
pub fn escape(bytes: &[u8]) -> String {
    escape_in(bytes, false)
}

/// [`escape`] for the inside of a quoted string (`@data "..."`, `seq="..."`): `"` is escaped
/// too, spaces are kept.
pub fn escape_quoted(bytes: &[u8]) -> String {
    escape_in(bytes, true)
}

fn escape_in(bytes: &[u8], quoted: bool) -> String {
    let mut s = String::with_capacity(bytes.len());
    let last = bytes.len().saturating_sub(1);
    for (i, &b) in bytes.iter().enumerate() {
        push_byte(&mut s, b, quoted, !quoted && (i == 0 || i == last));
    }
    s
}

fn push_byte(s: &mut String, b: u8, quoted: bool, edge: bool) {
    match b {
        b'"' if quoted => s.push_str("\\\""),
        b'\\' | b'$' | b'{' | b'}' | b'/' | b'#' | b'[' | b']' => {
            s.push('\\');
            s.push(char::from(b));
        }
        b'\r' => s.push_str("\\r"),
        b'\n' => s.push_str("\\n"),
        b'\t' => s.push_str("\\t"),
        b' ' if edge => s.push_str("\\x20"),
        0x20..=0x7E => s.push(char::from(b)),
        _ => {
            let _ = write!(s, "\\x{b:02X}");
        }
    }
}

/// A [`Text`] as written: literal bytes escaped ([`escape`]), `${NAME}`, `${NAME:-default}`,
/// patterns `{kind[:capture][=recorded][!other]}` / `{re:REGEX}`.
pub fn text(t: &Text) -> String {
    text_in(t, false)
}

/// [`text`] inside a quoted string (`@data "..."`).
pub fn text_quoted(t: &Text) -> String {
    text_in(t, true)
}

fn text_in(t: &Text, quoted: bool) -> String {
    let mut s = String::new();
    let n = t.0.len();
    for (k, piece) in t.0.iter().enumerate() {
        match piece {
            Piece::Lit(bytes) => {
                let last = bytes.len().saturating_sub(1);
                for (i, &b) in bytes.iter().enumerate() {
                    let edge = !quoted && ((k == 0 && i == 0) || (k + 1 == n && i == last));
                    push_byte(&mut s, b, quoted, edge);
                }
            }
            Piece::Var { name, default } => match default {
                Some(d) => {
                    let _ = write!(s, "${{{name}:-{d}}}");
                }
                None => {
                    let _ = write!(s, "${{{name}}}");
                }
            },
            Piece::Pattern(p) => s.push_str(&pattern(p)),
        }
    }
    s
}

/// A pattern as written: `{int}`, `{hex:sum}`, `{int=0}`, `{hex:b!a}`, `{re:[0-9]+}`.
pub fn pattern(p: &Pattern) -> String {
    let recorded = p
        .recorded
        .as_ref()
        .map(|r| String::from_utf8_lossy(r).into_owned());
    let kind = match &p.kind {
        PatternKind::Regex(re) => {
            return match recorded {
                Some(v) => format!("{{re={v}:{re}}}"),
                None => format!("{{re:{re}}}"),
            };
        }
        PatternKind::Int => "int",
        PatternKind::Hex => "hex",
        PatternKind::Ip => "ip",
        PatternKind::Str => "str",
        PatternKind::Any => "any",
    };
    let mut s = format!("{{{kind}");
    if let Some(c) = &p.capture {
        let _ = write!(s, ":{c}");
    }
    if let Some(v) = recorded {
        let _ = write!(s, "={v}");
    }
    if let Some(o) = &p.differs {
        let _ = write!(s, "!{o}");
    }
    s.push('}');
    s
}

/// A duration as written (`30s`, `1500ms`; exact, [`at_wire::duration::format`]).
pub fn duration(d: Duration) -> String {
    at_wire::duration::format(d)
}

/// A `@mail`/`@smtp` block value: [`escape`] (both ends' spaces kept as `\x20`).
pub fn value(bytes: &[u8]) -> String {
    escape(bytes)
}

/// `>`/`>>` line.
pub fn send_line(bytes: &[u8], cr: bool) -> String {
    format!("{} {}", if cr { ">" } else { ">>" }, escape(bytes))
}

/// `@data "..."` line for literal bytes.
pub fn data_line(bytes: &[u8]) -> String {
    format!("@data \"{}\"", escape_quoted(bytes))
}

/// `@escape before=… after=…` line (the default `+++`).
pub fn escape_line(before: Duration, after: Duration) -> String {
    format!(
        "@escape before={} after={}",
        duration(before),
        duration(after)
    )
}

/// `@wait …` line.
pub fn wait_line(d: Duration) -> String {
    format!("@wait {}", duration(d))
}

/// `@within …` line.
pub fn within_line(d: Duration) -> String {
    format!("@within {}", duration(d))
}

const fn tls_name(t: TlsMode) -> &'static str {
    match t {
        TlsMode::None => "none",
        TlsMode::Implicit => "implicit",
        TlsMode::Starttls => "starttls",
    }
}

const fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// The whole scenario as scenario-file text: header, variables, steps.
pub fn write(sc: &Scenario) -> String {
    let mut out = String::new();
    let m = &sc.meta;
    let _ = writeln!(out, "title: {}", m.title);
    let _ = writeln!(out, "source: {}", m.sources.join(", "));
    if !m.errata.is_empty() {
        let _ = writeln!(out, "errata: {}", m.errata.join(", "));
    }
    let _ = writeln!(out, "profiles: {}", m.profiles);
    if !m.tags.is_empty() {
        let _ = writeln!(out, "tags: {}", m.tags.join(", "));
    }
    if m.timeout != DEFAULT_TIMEOUT {
        let _ = writeln!(out, "timeout: {}", duration(m.timeout));
    }
    if m.verdict != Verdict::Pass {
        let _ = writeln!(out, "verdict: {}", m.verdict.as_str());
    }
    if !m.state.is_empty() {
        let _ = writeln!(out, "state: {}", m.state.join(", "));
    }
    for v in &sc.vars {
        let kw = if v.secret { "@secret" } else { "@var" };
        match &v.default {
            Some(d) => {
                let _ = writeln!(out, "{kw} {} = {d}", v.name);
            }
            None => {
                let _ = writeln!(out, "{kw} {}", v.name);
            }
        }
    }
    let base = sc.path.as_deref().and_then(std::path::Path::parent);
    for step in &sc.steps {
        step_in(&mut out, step, base);
    }
    out
}

/// One step as its line(s), with a newline after each.
pub fn write_step(out: &mut String, step: &Step) {
    step_in(out, step, None);
}

/// `base`: the scenario file's folder, which `@data file(...)` paths are written relative to.
fn step_in(out: &mut String, step: &Step, base: Option<&std::path::Path>) {
    let only = |only: &Option<crate::ProfileSet>| {
        only.as_ref().map(|p| format!("[{p}] ")).unwrap_or_default()
    };
    let pre = only(&step.only);
    match &step.kind {
        StepKind::Send(s) => {
            let mark = match s.terminator {
                Terminator::Cr => ">",
                Terminator::None => ">>",
            };
            let _ = writeln!(out, "{pre}{mark} {}", text(&s.text));
        }
        StepKind::Expect(e) => {
            if let Some(w) = e.within {
                let _ = writeln!(out, "{}", within_line(w));
            }
            for l in &e.lines {
                let mark = if l.frame == FrameKind::Raw { "<<" } else { "<" };
                let _ = writeln!(out, "{}{mark} {}", only(&l.only), text(&l.text));
            }
        }
        StepKind::Urc(u) => {
            if let Some(w) = u.within {
                let _ = writeln!(out, "{}", within_line(w));
            }
            let _ = writeln!(out, "{pre}~ {}", text(&u.line.text));
        }
        StepKind::Data(d) => {
            let mut line = match &d.payload {
                Payload::Text { len } => format!("@data {len}"),
                Payload::Binary { len, seed } => format!("@data {len} binary seed={seed}"),
                Payload::Literal(t) => format!("@data \"{}\"", text_quoted(t)),
                Payload::File(p) => {
                    let rel = base.and_then(|b| p.strip_prefix(b).ok()).unwrap_or(p);
                    format!("@data file({})", rel.display())
                }
            };
            if let Some(n) = &d.name {
                let _ = write!(line, " name={n}");
            }
            if let Some(c) = d.chunk {
                let _ = write!(line, " chunk={c}");
            }
            if let Some(p) = d.pace {
                let _ = write!(line, " pace={}", duration(p));
            }
            let _ = writeln!(out, "{pre}{line}");
        }
        StepKind::Escape(e) => {
            let mut line = escape_line(e.guard_before, e.guard_after);
            if e.sequence != b"+++" {
                let _ = write!(line, " seq=\"{}\"", escape_quoted(&e.sequence));
            }
            let _ = writeln!(out, "{pre}{line}");
        }
        StepKind::Wait(d) => {
            let _ = writeln!(out, "{pre}{}", wait_line(*d));
        }
        StepKind::Dtr(on) => {
            let _ = writeln!(out, "{pre}@dtr {}", on_off(*on));
        }
        StepKind::Echo(on) => {
            let _ = writeln!(out, "{pre}@echo {}", on_off(*on));
        }
        StepKind::AllowUrc(t) => {
            let _ = writeln!(out, "{pre}@allow-urc {}", text(t));
        }
        StepKind::Mail(m) => {
            let _ = writeln!(out, "{pre}@mail");
            for (c, _) in &m.checks {
                let _ = writeln!(out, "    {}", mail_check(c));
            }
        }
        StepKind::NoMail => {
            let _ = writeln!(out, "{pre}@mail none");
        }
        StepKind::Smtp(s) => {
            let _ = writeln!(out, "{pre}@smtp");
            for (c, _) in &s.checks {
                let _ = writeln!(out, "    {}", smtp_check(c));
            }
        }
        StepKind::Emulator(a) => {
            let line = match a {
                EmulatorAction::Fault(f) => format!("@fault {f}"),
                EmulatorAction::Net(n) => format!("@fault {n}"),
                EmulatorAction::Quirk(q) => format!("@quirk {q}"),
                EmulatorAction::Liberty(l) => format!("@liberty {l}"),
                EmulatorAction::Resolve { host, to } => {
                    let to = match to {
                        ResolveTo::Sink => "sink",
                        ResolveTo::Fail => "fail",
                        ResolveTo::Addr(a) => a.as_str(),
                    };
                    format!("@resolve {host} {to}")
                }
            };
            let _ = writeln!(out, "{pre}{line}");
        }
        StepKind::Sink(a) => {
            let line = match a {
                SinkAction::Profile(p) => format!("@sink profile {p}"),
                SinkAction::Tls(t) => format!("@sink tls {}", tls_name(*t)),
                SinkAction::Reply { stage, code, text } => match text {
                    Some(t) => format!("@sink reply {} {code} {t}", stage.name()),
                    None => format!("@sink reply {} {code}", stage.name()),
                },
                SinkAction::Drop(stage) => format!("@sink drop {}", stage.name()),
                SinkAction::AuthMechanisms(m) => format!("@sink auth {}", m.join(",")),
                SinkAction::TlsFault(f) => format!("@sink tls-fault {f}"),
                SinkAction::TlsVersions(v) => format!("@sink tls-versions {v}"),
                SinkAction::TlsCiphers(c) => format!("@sink tls-ciphers {c}"),
            };
            let _ = writeln!(out, "{pre}{line}");
        }
    }
}

/// One `@mail` block entry (without its indentation).
pub fn mail_check(c: &MailCheck) -> String {
    match c {
        MailCheck::MailFrom(t) => format!("mail-from: {}", text(t)),
        MailCheck::RcptTo(ts) => {
            let r: Vec<String> = ts.iter().map(text).collect();
            format!("rcpt-to: {}", r.join(", "))
        }
        MailCheck::Header { name, value } => format!("header: {name}: {}", text(value)),
        MailCheck::NoHeader(n) => format!("no-header: {n}"),
        MailCheck::NoHeaderValue { name, value } => format!("no-header: {name}: {}", text(value)),
        MailCheck::Subject(t) => format!("subject: {}", text(t)),
        MailCheck::Body(t) => format!("body: {}", text(t)),
        MailCheck::BodyPayload(p) => format!("body-payload: {p}"),
        MailCheck::AttachmentCount(n) => format!("attachments: {n}"),
        MailCheck::Attachment(a) => {
            let mut s = format!("attachment: {}", a.name);
            if let Some(n) = a.size {
                let _ = write!(s, " size={n}");
            }
            if let Some(h) = &a.sha256 {
                let _ = write!(s, " sha256={h}");
            }
            if let Some(p) = &a.payload {
                let _ = write!(s, " payload={p}");
            }
            s
        }
    }
}

/// One `@smtp` block entry (without its indentation).
pub fn smtp_check(c: &SmtpCheck) -> String {
    match c {
        SmtpCheck::Sent(t) => format!("sent: {}", text(t)),
        SmtpCheck::NotSent(t) => format!("not-sent: {}", text(t)),
        SmtpCheck::Replied(code) => format!("replied: {code}"),
        SmtpCheck::RepliedLine(t) => format!("replied: {}", text(t)),
        SmtpCheck::Tls(t) => format!("tls: {}", tls_name(*t)),
        SmtpCheck::TlsVersion(t) => format!("tls-version: {}", text(t)),
        SmtpCheck::TlsCipher(t) => format!("tls-cipher: {}", text(t)),
    }
}
