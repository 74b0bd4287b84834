//! A plain-text rendering of what a scenario sends and expects, byte-exact, for review.

use std::fmt::Write as _;

use crate::bind::{Bindings, escape_bytes};
use crate::matcher::Matcher;
use crate::model::*;
use crate::profile::Profile;

/// What `scenario` does for `profile`, one line per step: the exact bytes sent (`\r` shown) and
/// expected (W1 framing expanded, patterns as `{kind}`), deadlines, data, setup and checks.
/// Secrets are redacted. `atconform` and the corpus snapshots use it.
///
/// ```
/// let sc = at_scenario::load_str("x.scn", "title: t\nsource: 000 §2.2.6\nprofiles: ec25\n\
///     > AT+QSMTPCLR\n< OK\n").unwrap();
/// let b = sc.bindings(|_| None).unwrap();
/// let text = at_scenario::explain(&sc, at_scenario::Profile::Ec25, &b);
/// assert!(text.contains("> AT+QSMTPCLR\\r\n< \\r\\nOK\\r\\n  (within 300ms)"));
/// ```
pub fn explain(scenario: &Scenario, profile: Profile, bindings: &Bindings) -> String {
    let mut out = String::new();
    let m = &scenario.meta;
    let _ = writeln!(out, "# {} [{}]", m.title, profile);
    let _ = writeln!(out, "# source: {}", m.sources.join(", "));
    if m.verdict == Verdict::Fail {
        let _ = writeln!(out, "# verdict: fail");
    }
    for step in scenario.steps_for(profile) {
        let line = match &step.kind {
            StepKind::Send(s) => {
                let mut t = bindings.display(&s.text);
                if s.terminator == Terminator::Cr {
                    t.push_str("\\r");
                }
                format!("> {t}")
            }
            StepKind::Expect(e) => {
                let within = e.within.unwrap_or(m.max_response);
                match Matcher::new(e.lines_for(profile), bindings) {
                    Ok(mm) => format!(
                        "< {}  (within {})",
                        mm.expected_display(bindings),
                        dur(within)
                    ),
                    Err(err) => format!("< !{err}"),
                }
            }
            StepKind::Urc(u) => {
                let within = u.within.map_or_else(|| "the scenario timeout".into(), dur);
                match Matcher::new([&u.line], bindings) {
                    Ok(mm) => format!("~ {}  (within {within})", mm.expected_display(bindings)),
                    Err(err) => format!("~ !{err}"),
                }
            }
            StepKind::Data(d) => {
                let mut t = match &d.payload {
                    Payload::Text { len } => format!("@data {len} bytes of text"),
                    Payload::Binary { len, seed } => {
                        format!("@data {len} binary bytes, seed {seed}")
                    }
                    Payload::Literal(t) => format!("@data \"{}\"", bindings.display(t)),
                    Payload::File(p) => {
                        // Relative to the scenario file, as written: no machine paths.
                        let dir = scenario.path.as_deref().and_then(std::path::Path::parent);
                        let shown = dir.and_then(|d| p.strip_prefix(d).ok()).unwrap_or(p);
                        format!("@data file {}", shown.display())
                    }
                };
                if let Some(n) = &d.name {
                    let _ = write!(t, " name={n}");
                }
                if let Some(c) = d.chunk {
                    let _ = write!(t, " chunk={c}");
                }
                if let Some(p) = d.pace {
                    let _ = write!(t, " pace={}", dur(p));
                }
                t
            }
            StepKind::Escape(e) => format!(
                "@escape {} silence, \"{}\", {} silence",
                dur(e.guard_before),
                escape_bytes(&e.sequence),
                dur(e.guard_after)
            ),
            StepKind::Wait(d) => format!("@wait {}", dur(*d)),
            StepKind::Dtr(v) => format!("@dtr {}", if *v { "on" } else { "off" }),
            StepKind::Echo(v) => format!("@echo {}", if *v { "on" } else { "off" }),
            StepKind::AllowUrc(t) => format!("@allow-urc {}", bindings.display(t)),
            StepKind::Mail(mail) => format!("@mail ({} checks)", mail.checks.len()),
            StepKind::NoMail => "@mail none".into(),
            StepKind::Smtp(s) => format!("@smtp ({} checks)", s.checks.len()),
            StepKind::Emulator(a) => format!("@emulator {}", bindings.redact(&format!("{a:?}"))),
            StepKind::Sink(a) => format!("@sink {}", bindings.redact(&format!("{a:?}"))),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn dur(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
