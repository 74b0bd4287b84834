//! A plain-text rendering of what a scenario sends and expects, byte-exact, for review.

use std::fmt::Write as _;

use crate::bind::{Bindings, escape_bytes};
use crate::evidence::{Limit, expectation_limit};
use crate::matcher::Matcher;
use crate::model::*;
use crate::profile::Profile;

/// What `scenario` does for `profile`, one line per step: the exact bytes sent (`\r` shown) and
/// expected (W1 framing expanded, patterns as `{kind}`), response-time limits with their evidence
/// (ERRATA E30) and deadlines, data, setup and checks. Under a group, `^` lines show the
/// evidence of every expectation that does not inherit the `source:` header (and patterns with
/// recorded values). Secrets are redacted. `atconform` and the corpus snapshots use it.
///
/// ```
/// let sc = at_scenario::load_str("x.scn", "title: t\nsource: 000 §2.2.6\nprofiles: ec25\n\
///     > AT+QSMTPCLR\n< OK\n").unwrap();
/// let b = sc.bindings(|_| None).unwrap();
/// let text = at_scenario::explain(&sc, at_scenario::Profile::Ec25, &b);
/// assert!(text.contains("> AT+QSMTPCLR\\r\n< \\r\\nOK\\r\\n  (limit 300ms [000 §2.2.6])"));
/// ```
pub fn explain(scenario: &Scenario, profile: Profile, bindings: &Bindings) -> String {
    let mut out = String::new();
    let m = &scenario.meta;
    let _ = writeln!(out, "# {} [{}]", m.title, profile);
    let _ = writeln!(out, "# source: {}", m.sources.join(", "));
    if m.verdict != Verdict::Pass {
        let _ = writeln!(out, "# verdict: {}", m.verdict.as_str());
    }
    let default = m.default_evidence();
    let _ = writeln!(
        out,
        "# evidence of unmarked expectations: {default} ({})",
        default.level()
    );
    if let Some(c) = &m.max_response {
        let _ = writeln!(
            out,
            "# max-response: {} {}",
            dur(c.duration),
            c.evidence.bracketed()
        );
    }
    let mut last_command: Option<Vec<u8>> = None;
    // Captures are shown as the value the scenario records, else as `<name>`.
    let mut bindings = bindings.clone();
    let bindings = &mut bindings;
    for step in scenario.steps_for(profile) {
        let mut notes: Vec<String> = Vec::new();
        let line = match &step.kind {
            StepKind::Send(s) => {
                let mut t = bindings.display(&s.text);
                if s.terminator == Terminator::Cr {
                    t.push_str("\\r");
                    last_command = bindings.render(&s.text).ok();
                }
                format!("> {t}")
            }
            StepKind::Expect(e) if e.lines_for(profile).next().is_none() => continue,
            StepKind::Expect(e) => {
                bind_captures(e.lines_for(profile), bindings);
                let within = e.within.zip(e.within_evidence.as_ref());
                let limit = expectation_limit(m, within, None, last_command.as_deref(), profile);
                notes.extend(
                    e.lines_for(profile)
                        .filter_map(|l| evidence_note(l, bindings)),
                );
                match Matcher::new(e.lines_for(profile), bindings) {
                    Ok(mm) => format!(
                        "< {}  ({})",
                        mm.expected_display(bindings),
                        timing(
                            limit.as_ref(),
                            e.within.filter(|_| e.within_evidence.is_none())
                        )
                    ),
                    Err(err) => format!("< !{err}"),
                }
            }
            StepKind::Urc(u) => {
                bind_captures([&u.line], bindings);
                let within = u.within.zip(u.within_evidence.as_ref());
                let lit = u.line.text.as_literal();
                let prefix = match u.line.text.0.first() {
                    Some(crate::model::Piece::Lit(b)) => Some(b.clone()),
                    _ => lit,
                };
                let limit = expectation_limit(
                    m,
                    within,
                    Some(prefix.as_deref().unwrap_or_default()),
                    last_command.as_deref(),
                    profile,
                );
                notes.extend(evidence_note(&u.line, bindings));
                match Matcher::new([&u.line], bindings) {
                    Ok(mm) => format!(
                        "~ {}  ({})",
                        mm.expected_display(bindings),
                        timing(
                            limit.as_ref(),
                            u.within.filter(|_| u.within_evidence.is_none())
                        )
                    ),
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
            StepKind::Mail(mail) => {
                for ((c, _), ev) in mail.checks.iter().zip(&mail.evidence) {
                    if ev.explicit {
                        notes.push(format!(
                            "^ {} {}",
                            bindings.redact(&format!("{c:?}")),
                            ev.bracketed()
                        ));
                    }
                }
                format!("@mail ({} checks)", mail.checks.len())
            }
            StepKind::NoMail => "@mail none".into(),
            StepKind::Smtp(s) => {
                for ((c, _), ev) in s.checks.iter().zip(&s.evidence) {
                    if ev.explicit {
                        notes.push(format!(
                            "^ {} {}",
                            bindings.redact(&format!("{c:?}")),
                            ev.bracketed()
                        ));
                    }
                }
                format!("@smtp ({} checks)", s.checks.len())
            }
            // The fault as the file names it.
            StepKind::Emulator(EmulatorAction::Net(n)) => {
                format!("@emulator Net({:?})", n.to_string())
            }
            StepKind::Emulator(a) => format!("@emulator {}", bindings.redact(&format!("{a:?}"))),
            StepKind::Sink(a) => format!("@sink {}", bindings.redact(&format!("{a:?}"))),
        };
        out.push_str(&line);
        out.push('\n');
        for n in notes {
            out.push_str("    ");
            out.push_str(&n);
            out.push('\n');
        }
    }
    out
}

/// Binds the captures of `lines` for the rest of the rendering: the recorded value, else `<name>`.
fn bind_captures<'a>(lines: impl IntoIterator<Item = &'a ExpectedLine>, bindings: &mut Bindings) {
    for l in lines {
        for p in &l.text.0 {
            if let crate::model::Piece::Pattern(pat) = p
                && let Some(name) = &pat.capture
            {
                let value = pat
                    .recorded
                    .clone()
                    .unwrap_or_else(|| format!("<{name}>").into_bytes());
                bindings.set(name, value, false);
            }
        }
    }
}

/// `limit 300ms [000 §2.2.1]`, `no documented limit`, `waits 150s` for a group or URC.
fn timing(limit: Option<&Limit>, wait: Option<std::time::Duration>) -> String {
    let mut parts = Vec::new();
    match limit {
        Some(l) => parts.push(format!(
            "limit {} {}",
            dur(l.duration),
            l.evidence.bracketed()
        )),
        None => parts.push("no documented limit".to_owned()),
    }
    if let Some(w) = wait {
        parts.push(format!("waits {}", dur(w)));
    }
    parts.join("; ")
}

/// `^ +CME ERROR: 664 [impl]` for a line with its own evidence or a recorded value.
fn evidence_note(line: &ExpectedLine, bindings: &Bindings) -> Option<String> {
    let recorded = line
        .text
        .0
        .iter()
        .any(|p| matches!(p, crate::model::Piece::Pattern(pat) if pat.recorded.is_some()));
    if !line.evidence.explicit && !recorded {
        return None;
    }
    let mut s = format!("^ {}", bindings.display(&line.text));
    if line.evidence.explicit {
        s.push(' ');
        s.push_str(&line.evidence.bracketed());
    }
    if recorded {
        s.push_str("  (recorded values: implementation-defined)");
    }
    Some(s)
}

fn dur(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0'))
    }
}
