//! A finding written as a ready-to-run scenario file (`scenarios/README.md` format), so that it
//! becomes a regression scenario: it passes on a module that behaves, fails on the one found.

use core::fmt::Write as _;
use core::time::Duration;

use at_scenario::write::{self, escape};

use crate::exec::StepLog;
use crate::frames::Frame;
use crate::mail::{Delivery, Mail};
use crate::model::{Case, Class, Expect, Finding, FindingKind, Info, ServerFault, Step};

/// Expected-line text for a final result class (a pattern where the class is not one line).
fn class_line(c: &Class, observed: Option<&str>) -> String {
    match c {
        Class::Ok => "OK".into(),
        Class::Error => "{re:(ERROR|[+#]CME ERROR: [0-9]+)}".into(),
        Class::Cme(None) => "+CME ERROR: {int}".into(),
        Class::Cme(Some(n)) => format!("+CME ERROR: {n}"),
        Class::Connect => "CONNECT".into(),
        Class::Final(s) => escape(s.as_bytes()),
        Class::Any => observed.map_or_else(|| "{any}".into(), |o| escape(o.as_bytes())),
    }
}

/// The `<` lines for a step: what the expectation says where it is exact, otherwise what was
/// observed (steps before the finding were judged correct).
fn expect_lines(e: &Expect, log: Option<&StepLog>, out: &mut String) {
    let observed_info: Vec<&String> = log
        .map(|l| {
            l.frames
                .iter()
                .filter_map(|f| match f {
                    Frame::Info(v) => Some(v),
                    Frame::Final(_) => None,
                })
                .flatten()
                .collect()
        })
        .unwrap_or_default();
    let observed_final = log.and_then(|l| {
        l.frames.iter().find_map(|f| match f {
            Frame::Final(s) => Some(s.as_str()),
            Frame::Info(_) => None,
        })
    });
    if e.within > Duration::from_millis(300) {
        let _ = writeln!(out, "{}", write::within_line(e.within));
    }
    match &e.info {
        Info::Exact(lines) => {
            for l in lines {
                let _ = writeln!(out, "< {}", escape(l.as_bytes()));
            }
        }
        Info::None => {}
        Info::Match(res) => {
            for (_, pattern) in res {
                let _ = writeln!(out, "< {pattern}");
            }
        }
        Info::Checksum {
            size,
            name,
            differs_from,
        } => {
            // The value is the module's (ERRATA E12); only its link to other uploads is judged.
            let not = differs_from
                .as_ref()
                .map(|d| format!("!{d}"))
                .unwrap_or_default();
            let evidence = if differs_from.is_some() {
                " [000 §2.2.5, E12]"
            } else {
                ""
            };
            let _ = writeln!(out, "< +QFUPL: {size},{{hex:{name}{not}}}{evidence}");
        }
        Info::Any => {
            for l in observed_info {
                let _ = writeln!(out, "< {}", escape(l.as_bytes()));
            }
        }
    }
    let _ = writeln!(out, "< {}", class_line(&e.class, observed_final));
    if let Some((pfx, within)) = &e.urc {
        let _ = writeln!(out, "{}", write::within_line(*within));
        let _ = writeln!(out, "~ {}{{any}}", escape(pfx.as_bytes()));
    }
}

/// URCs that came before a step, as `~` lines with their numbers generalised to `{int}`.
fn urcs_before(log: Option<&StepLog>, out: &mut String) {
    for u in log.map(|l| l.before.as_slice()).unwrap_or_default() {
        let mut pattern = String::new();
        let mut in_digits = false;
        for part in escape(u.as_bytes()).chars() {
            if part.is_ascii_digit() {
                if !in_digits {
                    pattern.push_str("{int}");
                }
                in_digits = true;
            } else {
                in_digits = false;
                pattern.push(part);
            }
        }
        let _ = writeln!(out, "~ {pattern}");
    }
}

/// Everything needed to write a finding as a scenario.
#[derive(Clone, Copy, Debug)]
pub struct ScenarioInfo<'a> {
    /// Module profile name.
    pub profile: &'a str,
    /// Emulator quirks the run had on (`@quirk` lines, `verdict: fail`).
    pub quirks: &'a [&'a str],
    /// Emulator liberties the run had on (`@liberty` lines).
    pub liberties: &'a [&'a str],
    /// The profile's initial echo.
    pub echo: bool,
    /// Mail the reference model delivered, with the step that sent it: written as `@mail` and
    /// `@smtp` checks after that step (mail findings).
    pub mail: &'a [(usize, Delivery)],
    /// Mail the device delivered (headers and commands a conforming module must not send).
    pub device_mail: &'a [(usize, Delivery)],
    /// Check every header and the SMTP commands (the emulator); otherwise only what any
    /// conforming firmware gets right (envelope, subject, body, attachments, no `Bcc:`).
    pub exact: bool,
    /// URCs the reference sent after the case (see [`crate::exec::Run::trailing`]).
    pub trailing: &'a [String],
    /// The target it was found on ([`crate::campaign::Report::found_on`]).
    pub found_on: &'a str,
    /// Found on the in-process emulator (tag `found-on-emulator`, else `found-on-live`).
    pub on_emulator: bool,
}

/// A `@mail`/`@smtp` value ([`at_scenario::write::value`]).
fn value(s: &str) -> String {
    write::value(s.as_bytes())
}

/// A header value as a pattern: the multipart boundary (chosen by the composer) is `{any}`.
fn header_pattern(v: &str) -> String {
    match v.find("boundary=") {
        Some(i) => format!("{}{{any}}", value(&v[..i + "boundary=".len()])),
        None => value(v),
    }
}

/// A client command line as a pattern: credentials are `{any}`; `None` for lines that are
/// secret or the message itself.
fn command_pattern(c: &str) -> Option<String> {
    if c == "<secret>" || c == "<message>" {
        return None;
    }
    match c.strip_suffix(" <secret>") {
        Some(head) => Some(format!("{} {{any}}", value(head))),
        None => Some(value(c)),
    }
}

fn mail_block(out: &mut String, want: &Mail, got: Option<&Mail>, exact: bool) {
    let _ = writeln!(out, "@mail");
    let _ = writeln!(out, "    mail-from: {}", value(&want.mail_from));
    if !want.rcpt_to.is_empty() {
        let r: Vec<String> = want.rcpt_to.iter().map(|a| value(a)).collect();
        let _ = writeln!(out, "    rcpt-to: {}", r.join(", "));
    }
    for (n, v) in &want.headers {
        if v == "<masked>" || v.is_empty() || !exact {
            continue;
        }
        let _ = writeln!(out, "    header: {n}: {}", header_pattern(v));
    }
    let mut absent: Vec<&str> = got
        .map(|g| {
            g.headers
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !want.headers.iter().any(|(w, _)| w.eq_ignore_ascii_case(n)))
                .filter(|n| exact || n.eq_ignore_ascii_case("Bcc"))
                .collect()
        })
        .unwrap_or_default();
    absent.dedup();
    for n in absent {
        let _ = writeln!(out, "    no-header: {n}");
    }
    if let Some(sub) = want.subject.as_deref().filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "    subject: {}", value(sub));
    }
    if let Some(body) = want.body.as_deref().filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "    body: {}", value(body));
    }
    let _ = writeln!(out, "    attachments: {}", want.attachments.len());
    for (name, _, bytes) in &want.attachments {
        if let Some(name) = name.as_deref().filter(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'=' && b != b'/')
        }) {
            use sha2::Digest as _;
            let sum: String = sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let _ = writeln!(
                out,
                "    attachment: {name} size={} sha256={sum}",
                bytes.len()
            );
        }
    }
}

fn smtp_block(out: &mut String, want: &Delivery, got: Option<&Delivery>) {
    let sent: Vec<String> = want
        .commands
        .iter()
        .filter_map(|c| command_pattern(c))
        .collect();
    let not_sent: Vec<String> = got
        .map(|g| {
            g.commands
                .iter()
                .filter(|c| !want.commands.contains(c))
                .filter_map(|c| command_pattern(c))
                .collect()
        })
        .unwrap_or_default();
    if sent.is_empty() && not_sent.is_empty() {
        return;
    }
    let _ = writeln!(out, "@smtp");
    for c in sent {
        let _ = writeln!(out, "    sent: {c}");
    }
    for c in not_sent {
        let _ = writeln!(out, "    not-sent: {c}");
    }
}

/// `@mail`/`@smtp` blocks for the reference deliveries made by step `i`.
fn mail_checks(out: &mut String, i: usize, info: &ScenarioInfo<'_>) {
    for (k, (step, want)) in info.mail.iter().enumerate() {
        // The scenario's sink is plain SMTP behind `@resolve`: TLS sessions are not checked.
        if *step != i || want.tls != "none" || want.commands.is_empty() {
            continue;
        }
        let got = info.device_mail.get(k).map(|(_, d)| d);
        if let Some(m) = &want.mail {
            mail_block(out, m, got.and_then(|g| g.mail.as_ref()), info.exact);
        }
        if info.exact {
            smtp_block(out, want, got);
        }
    }
}

/// Renders `case` (shrunk) with its `finding` as a scenario file.
pub fn render(case: &Case, finding: &Finding, logs: &[StepLog], info: ScenarioInfo<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Found by `atconform fuzz --seed {} --case {}` ({}): {}",
        case.seed,
        case.number,
        finding.kind.name(),
        finding.headline()
    );
    for l in finding.message.lines().skip(1) {
        let _ = writeln!(out, "#   {}", l.trim_start());
    }
    let _ = writeln!(out, "# Found on: {}.", info.found_on);
    if !info.quirks.is_empty() {
        let _ = writeln!(
            out,
            "# It needs those quirks (@quirk), so it replays on the emulator only; a real module's \
             run reports it as not runnable there."
        );
    }
    let labels: Vec<&str> = case.groups.iter().map(|g| g.label.as_str()).collect();
    let _ = writeln!(
        out,
        "title: fuzz finding {}: {}",
        finding.kind.name(),
        labels.join("; ")
    );
    let _ = writeln!(out, "source: 000 §1.3, 000 §2.1.2, 000 §2.2");
    let _ = writeln!(out, "errata: W1, W2");
    let _ = writeln!(out, "profiles: {}", info.profile);
    let _ = writeln!(
        out,
        "tags: fuzz, {}, {}",
        finding.kind.name(),
        if info.on_emulator {
            "found-on-emulator"
        } else {
            "found-on-live"
        }
    );
    if !info.quirks.is_empty() {
        let _ = writeln!(out, "verdict: fail");
    }
    for q in info.quirks {
        let _ = writeln!(out, "@quirk {q}");
    }
    for l in info.liberties {
        let _ = writeln!(out, "@liberty {l}");
    }
    for g in &case.groups {
        if let Some(s) = &g.server {
            let _ = writeln!(out, "@resolve {s} sink");
            break;
        }
    }
    let _ = writeln!(out, "@allow-urc +QIURC: {{any}}");
    if !info.echo {
        let _ = writeln!(out, "@echo off");
    }
    let mut echo = info.echo;
    for (i, step) in case.steps().enumerate() {
        if i > finding.step {
            break;
        }
        let log = logs.get(i);
        urcs_before(log, &mut out);
        match step {
            Step::Send { bytes, cr, expect } => {
                let _ = writeln!(out, "{}", write::send_line(bytes, *cr));
                expect_lines(expect, log, &mut out);
                let up = bytes.to_ascii_uppercase();
                let to = if up == b"ATE0" || up == b"ATE" {
                    Some(false)
                } else if up == b"ATE1" {
                    Some(true)
                } else {
                    None
                };
                if let Some(v) = to
                    && v != echo
                {
                    echo = v;
                    let _ = writeln!(out, "@echo {}", if v { "on" } else { "off" });
                }
            }
            Step::Data { bytes, expect } => {
                let _ = writeln!(out, "{}", write::data_line(bytes));
                if let Some(e) = expect {
                    expect_lines(e, log, &mut out);
                }
            }
            Step::Escape {
                before,
                after,
                expect,
            } => {
                let _ = writeln!(out, "{}", write::escape_line(*before, *after));
                if let Some(e) = expect {
                    expect_lines(e, log, &mut out);
                }
            }
            Step::Wait { time, expect } => match expect {
                Some(e) => {
                    let e = Expect {
                        within: *time,
                        ..e.clone()
                    };
                    expect_lines(&e, log, &mut out);
                }
                None => {
                    let _ = writeln!(out, "{}", write::wait_line(*time));
                }
            },
            Step::Server(ServerFault::Stall) => {
                let _ = writeln!(out, "@fault stall");
            }
            Step::Server(ServerFault::AuthFailed) => {
                let _ = writeln!(out, "@sink reply auth 535");
            }
            Step::Server(ServerFault::EhloRefused) => {
                let _ = writeln!(out, "@sink reply ehlo 502 5.5.1 Command not implemented");
            }
            Step::Server(ServerFault::AuthPlainOnly) => {
                let _ = writeln!(out, "@sink auth PLAIN");
            }
            Step::Dtr { level, expect } => {
                let _ = writeln!(out, "@dtr {}", if *level { "on" } else { "off" });
                if let Some(e) = expect {
                    expect_lines(e, log, &mut out);
                }
            }
        }
        mail_checks(&mut out, i, &info);
    }
    let wedged = matches!(finding.kind, FindingKind::Wedged);
    if !wedged && finding.step < case.steps().count() {
        // URCs a conforming module sends after the last step (the `+QSMTPPUT` of a send whose
        // check was shrunk away): expected, so the scenario does not end on trailing output.
        if let Some(next) = logs.get(finding.step + 1) {
            // The liveness log is the last; URCs after it are the run's trailing ones.
            let tail: &[String] = if finding.step + 2 == logs.len() {
                info.trailing
            } else {
                &[]
            };
            let later = StepLog {
                before: next
                    .before
                    .iter()
                    .chain(&next.urcs)
                    .chain(tail)
                    .cloned()
                    .collect(),
                ..StepLog::default()
            };
            if !later.before.is_empty() {
                let _ = writeln!(out, "@within 61s");
                urcs_before(Some(&later), &mut out);
            }
        }
    }
    if wedged || finding.step >= case.steps().count() {
        let _ = writeln!(out, "// liveness: the module must still answer AT");
        urcs_before(logs.get(case.steps().count()), &mut out);
        let _ = writeln!(out, "> AT");
        let _ = writeln!(out, "< OK");
    }
    out
}

/// `text` (a finding scenario with `verdict: fail` and its `@quirk`s) with the verdict the
/// runner's grading gives it on the emulator: `non-strict` or `informational` when that is
/// all the quirk breaks; unchanged otherwise (or when it does not load).
pub fn graded_verdict(text: &str) -> String {
    let Ok(sc) = at_scenario::load_str("finding.scn", text) else {
        return text.to_owned();
    };
    let Some(profile) = sc.meta.profiles.iter().next() else {
        return text.to_owned();
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let r = at_runner::run_case_emulated(&sc, profile, &[], &cancel);
    let verdict = match r.grade {
        at_runner::Grade::NonStrict => "non-strict",
        at_runner::Grade::Informational => "informational",
        _ => return text.to_owned(),
    };
    text.replace("\nverdict: fail\n", &format!("\nverdict: {verdict}\n"))
}
