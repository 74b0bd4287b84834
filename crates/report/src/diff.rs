//! `atconform diff RUN_A RUN_B`: what changed between two runs (two firmware revisions of one
//! module, or two modules).
//!
//! Cases pair up by scenario and profile (by scenario alone when the runs share no profile).
//! Per pair: the verdict change, and a byte-level diff of each step's exchange (host bytes,
//! device bytes; timestamps ignored) after **masking varying values**: a device line that
//! matches one of the scenario's expected lines with patterns (`{int}`, `{hex}`, `{ip}`, `{str}`,
//! `{any}`, `{re:…}`) has each pattern's bytes replaced by `{int}` etc., so a new Message-ID or
//! checksum is not a change.

use std::collections::BTreeMap;

use at_scenario::{PatternKind, Piece, Scenario, StepKind};
use regex::bytes::Regex;
use serde::Serialize;

use at_runner::outcome::{Outcome, Tally};

use crate::load::{Case, Run, Status, WireLine, parse_transcript};

/// Masks for one scenario's varying values: one anchored regex per patterned expected line.
#[derive(Debug, Default)]
pub struct Masks {
    lines: Vec<(Regex, Vec<&'static str>)>,
    sends: Vec<(Regex, Vec<&'static str>)>,
}

fn pattern_regex(kind: &PatternKind) -> (String, &'static str) {
    match kind {
        PatternKind::Int => ("-?[0-9]+".into(), "{int}"),
        PatternKind::Hex => ("[0-9A-Fa-f]+".into(), "{hex}"),
        PatternKind::Ip => ("[0-9A-Fa-f:.]+".into(), "{ip}"),
        PatternKind::Str => ("[^\"\\r\\n]*".into(), "{str}"),
        PatternKind::Any => ("[^\\r\\n]*".into(), "{any}"),
        PatternKind::Regex(r) => (format!("(?:{r})"), "{re}"),
    }
}

impl Masks {
    /// The masks of `sc`'s expected lines (`<`, `~`, `@allow-urc`) that contain patterns, and
    /// of its command lines that contain variables or captures (`${checksum}`, `${SMTP_USER}`).
    pub fn for_scenario(sc: &Scenario) -> Masks {
        let mut texts: Vec<&at_scenario::Text> = Vec::new();
        let mut sends: Vec<&at_scenario::Text> = Vec::new();
        for step in &sc.steps {
            match &step.kind {
                StepKind::Expect(e) => texts.extend(e.lines.iter().map(|l| &l.text)),
                StepKind::Urc(u) => texts.push(&u.line.text),
                StepKind::AllowUrc(t) => texts.push(t),
                StepKind::Send(s) => sends.push(&s.text),
                _ => {}
            }
        }
        Masks {
            lines: compile(texts, |p| matches!(p, Piece::Pattern(_))),
            sends: compile(sends, |p| matches!(p, Piece::Var { .. })),
        }
    }

    /// Host bytes with variable values masked (`${var}`).
    pub fn apply_tx(&self, bytes: &[u8]) -> Vec<u8> {
        apply(&self.sends, bytes)
    }

    /// `bytes` with varying values masked, line by line (line terminators kept).
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        apply(&self.lines, bytes)
    }
}

type LineMasks = Vec<(Regex, Vec<&'static str>)>;

/// One anchored regex per text that has a piece `varies` accepts.
fn compile<'a>(
    texts: impl IntoIterator<Item = &'a at_scenario::Text>,
    varies: impl Fn(&Piece) -> bool,
) -> LineMasks {
    let mut lines = Vec::new();
    for t in texts {
        if !t.0.iter().any(&varies) {
            continue;
        }
        let mut re = String::from("^");
        let mut kinds = Vec::new();
        for p in &t.0 {
            match p {
                Piece::Lit(b) => re.push_str(&regex::escape(&String::from_utf8_lossy(b))),
                // A variable's value is fixed within a run but may differ between runs.
                Piece::Var { .. } => {
                    re.push_str("([^\\r\\n]*)");
                    kinds.push("${var}");
                }
                Piece::Pattern(pat) => {
                    let (r, name) = pattern_regex(&pat.kind);
                    re.push('(');
                    re.push_str(&r);
                    re.push(')');
                    kinds.push(name);
                }
            }
        }
        re.push('$');
        if let Ok(r) = Regex::new(&re) {
            lines.push((r, kinds));
        }
    }
    lines
}

fn apply(masks: &LineMasks, bytes: &[u8]) -> Vec<u8> {
    if masks.is_empty() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let end = line
            .iter()
            .rposition(|&b| b != b'\r' && b != b'\n')
            .map_or(0, |i| i + 1);
        let (body, term) = line.split_at(end);
        out.extend_from_slice(&mask_line(masks, body));
        out.extend_from_slice(term);
    }
    out
}

fn mask_line(masks: &LineMasks, body: &[u8]) -> Vec<u8> {
    for (re, kinds) in masks {
        let Some(caps) = re.captures(body) else {
            continue;
        };
        let mut out = Vec::with_capacity(body.len());
        let mut at = 0;
        for (i, kind) in kinds.iter().enumerate() {
            if let Some(m) = caps.get(i + 1) {
                out.extend_from_slice(body.get(at..m.start()).unwrap_or_default());
                out.extend_from_slice(kind.as_bytes());
                at = m.end();
            }
        }
        out.extend_from_slice(body.get(at..).unwrap_or_default());
        return out;
    }
    body.to_vec()
}

/// One step's exchange: where it is in the scenario and the bytes both ways.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exchange {
    /// `file:line` of the step (the runner's note), or `start`.
    pub at: String,
    /// Host bytes.
    pub tx: Vec<u8>,
    /// Device bytes.
    pub rx: Vec<u8>,
}

/// Splits a rendered transcript into per-step exchanges.
pub fn exchanges(transcript: &str) -> Vec<Exchange> {
    let mut out = vec![Exchange {
        at: "start".into(),
        ..Default::default()
    }];
    for line in parse_transcript(transcript) {
        match line {
            WireLine::Note(n) => {
                let is_step = n
                    .rsplit_once(':')
                    .is_some_and(|(f, l)| f.ends_with(".scn") && l.parse::<u32>().is_ok());
                if is_step {
                    out.push(Exchange {
                        at: n,
                        ..Default::default()
                    });
                }
            }
            WireLine::Tx(b) => {
                if let Some(e) = out.last_mut() {
                    e.tx.extend_from_slice(&b);
                }
            }
            WireLine::Rx(b) => {
                if let Some(e) = out.last_mut() {
                    e.rx.extend_from_slice(&b);
                }
            }
        }
    }
    out.retain(|e| !(e.at == "start" && e.tx.is_empty() && e.rx.is_empty()));
    out
}

/// A difference inside one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepDiff {
    /// The step (`file:line`).
    pub at: String,
    /// Unified diff of the escaped device lines (`-` run A, `+` run B), host bytes first
    /// when they differ too.
    pub diff: String,
}

/// What changed for one scenario × profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseDiff {
    /// Corpus path.
    pub scenario: String,
    /// Profile in run A / run B.
    pub profile: (String, String),
    /// Status in run A / run B.
    pub status: (Status, Status),
    /// Grade in run A / run B (`pass`, `informational`, `non-strict`, `fail`; empty for
    /// reports from before graded findings).
    pub grade: (String, String),
    /// What the case counts as in run A / run B (the runs' tables count these).
    pub outcome: (Outcome, Outcome),
    /// Graded deviations only run A has / only run B has (`informational: file:line: …`):
    /// where the two differ where the manuals let them (informational), or beyond.
    pub findings: (Vec<String>, Vec<String>),
    /// Steps whose exchange differs (after masking).
    pub steps: Vec<StepDiff>,
    /// Transcript files one run has and the other lacks (`missing in B: x.ec25.txt`); the
    /// exchanges are then not compared.
    pub missing: Vec<String>,
}

impl CaseDiff {
    /// Whether the verdict changed: the case counts as another outcome (`pass -> non-strict`).
    pub fn verdict_changed(&self) -> bool {
        self.outcome.0 != self.outcome.1
    }
}

/// A case's graded findings, one line each.
fn findings_of(c: &Case) -> Vec<String> {
    c.findings
        .iter()
        .map(|f| format!("{}: {}", f.grade.as_deref().unwrap_or("fail"), f.summary()))
        .collect()
}

/// The comparison of two runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunDiff {
    /// Label of run A / run B.
    pub labels: (String, String),
    /// Pairs compared.
    pub compared: usize,
    /// Pairs with the same verdict and the same (masked) bytes.
    pub unchanged: usize,
    /// Pairs that changed.
    pub changed: Vec<CaseDiff>,
    /// Cases only in run A / only in run B.
    pub only_a: Vec<String>,
    /// Cases only in run B.
    pub only_b: Vec<String>,
    /// Run A's / run B's cases per outcome (the numbers of each run's own table).
    pub counts: (Tally, Tally),
    /// Outcome changes among the pairs, `(A, B, pairs)`, most frequent first.
    pub transitions: Vec<(Outcome, Outcome, usize)>,
}

fn escape_lines(bytes: &[u8]) -> String {
    at_runner::escape_lines(bytes)
        .into_iter()
        .map(|mut l| {
            l.push('\n');
            l
        })
        .collect()
}

fn unified(a: &[u8], b: &[u8]) -> String {
    let (ta, tb) = (escape_lines(a), escape_lines(b));
    let diff = similar::TextDiff::from_lines(&ta, &tb);
    let mut s = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        s.push(sign);
        s.push_str(change.value());
        if !change.value().ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The transcript files of `a` and `b` that only one of the two runs has.
fn missing_files(a: &Case, b: &Case, labels: &(String, String)) -> Vec<String> {
    let mut out = Vec::new();
    let pairs = [
        (".txt", a.transcript.is_some(), b.transcript.is_some()),
        (".smtp.txt", a.smtp.is_some(), b.smtp.is_some()),
    ];
    for (ext, in_a, in_b) in pairs {
        match (in_a, in_b) {
            (true, false) => out.push(format!(
                "transcript missing in {}: {}{ext}",
                labels.1,
                b.file_stem()
            )),
            (false, true) => out.push(format!(
                "transcript missing in {}: {}{ext}",
                labels.0,
                a.file_stem()
            )),
            _ => {}
        }
    }
    out
}

fn case_steps(a: &Case, b: &Case, masks: &Masks) -> Vec<StepDiff> {
    let ea = exchanges(a.transcript.as_deref().unwrap_or_default());
    let eb = exchanges(b.transcript.as_deref().unwrap_or_default());
    let mut out = Vec::new();
    let n = ea.len().max(eb.len());
    let empty = Exchange::default();
    for i in 0..n {
        let xa = ea.get(i).unwrap_or(&empty);
        let xb = eb.get(i).unwrap_or(&empty);
        let (ra, rb) = (masks.apply(&xa.rx), masks.apply(&xb.rx));
        let (ta, tb) = (masks.apply_tx(&xa.tx), masks.apply_tx(&xb.tx));
        if ta == tb && ra == rb {
            continue;
        }
        let mut diff = String::new();
        if ta != tb {
            diff.push_str("host:\n");
            diff.push_str(&unified(&ta, &tb));
            diff.push_str("device:\n");
        }
        diff.push_str(&unified(&ra, &rb));
        let at = if xa.at.is_empty() { &xb.at } else { &xa.at };
        out.push(StepDiff {
            at: at.clone(),
            diff,
        });
    }
    out
}

impl RunDiff {
    /// Compares `a` with `b`; `corpus` supplies each scenario's varying values.
    pub fn compare(a: &Run, b: &Run, corpus: &[Scenario]) -> RunDiff {
        let masks: BTreeMap<&str, Masks> = corpus
            .iter()
            .map(|s| (at_runner::corpus_name(&s.name), Masks::for_scenario(s)))
            .collect();
        let shared_profile = a
            .cases
            .iter()
            .any(|c| b.cases.iter().any(|d| d.profile == c.profile));
        let key = |c: &Case| {
            if shared_profile {
                format!("{} [{}]", c.scenario, c.profile)
            } else {
                c.scenario.clone()
            }
        };
        let bmap: BTreeMap<String, &Case> = b.cases.iter().map(|c| (key(c), c)).collect();
        let amap: BTreeMap<String, &Case> = a.cases.iter().map(|c| (key(c), c)).collect();
        let none = Masks::default();
        let mut d = RunDiff {
            labels: (a.label.clone(), b.label.clone()),
            compared: 0,
            unchanged: 0,
            changed: Vec::new(),
            only_a: amap
                .keys()
                .filter(|k| !bmap.contains_key(*k))
                .cloned()
                .collect(),
            only_b: bmap
                .keys()
                .filter(|k| !amap.contains_key(*k))
                .cloned()
                .collect(),
            counts: (a.counts(), b.counts()),
            transitions: Vec::new(),
        };
        for (k, ca) in &amap {
            let Some(cb) = bmap.get(k) else { continue };
            d.compared += 1;
            let m = masks.get(ca.scenario.as_str()).unwrap_or(&none);
            let missing = missing_files(ca, cb, &d.labels);
            // A missing file is not an empty exchange: say so instead of diffing against nothing.
            let steps = if missing.is_empty() {
                case_steps(ca, cb, m)
            } else {
                Vec::new()
            };
            let (fa, fb) = (findings_of(ca), findings_of(cb));
            let only_a: Vec<String> = fa.iter().filter(|f| !fb.contains(f)).cloned().collect();
            let only_b: Vec<String> = fb.iter().filter(|f| !fa.contains(f)).cloned().collect();
            let grade = (
                ca.grade.clone().unwrap_or_default(),
                cb.grade.clone().unwrap_or_default(),
            );
            let outcome = (ca.outcome(), cb.outcome());
            if outcome.0 != outcome.1 {
                match d
                    .transitions
                    .iter_mut()
                    .find(|(x, y, _)| (*x, *y) == outcome)
                {
                    Some((_, _, n)) => *n += 1,
                    None => d.transitions.push((outcome.0, outcome.1, 1)),
                }
            }
            if ca.status == cb.status
                && grade.0 == grade.1
                && steps.is_empty()
                && missing.is_empty()
                && only_a.is_empty()
                && only_b.is_empty()
            {
                d.unchanged += 1;
            } else {
                d.changed.push(CaseDiff {
                    scenario: ca.scenario.clone(),
                    profile: (ca.profile.clone(), cb.profile.clone()),
                    status: (ca.status, cb.status),
                    grade,
                    outcome,
                    findings: (only_a, only_b),
                    steps,
                    missing,
                });
            }
        }
        d.transitions
            .sort_by(|x, y| y.2.cmp(&x.2).then_with(|| (x.0, x.1).cmp(&(y.0, y.1))));
        d
    }

    /// Whether anything changed (the exit code: 0 same, 1 changed).
    pub fn is_changed(&self) -> bool {
        !self.changed.is_empty() || !self.only_a.is_empty() || !self.only_b.is_empty()
    }

    /// The terminal rendering.
    pub fn to_text(&self) -> String {
        let (la, lb) = &self.labels;
        let mut s = format!("--- {la}\n+++ {lb}\n");
        for c in &self.changed {
            let prof = if c.profile.0 == c.profile.1 {
                c.profile.0.clone()
            } else {
                format!("{} -> {}", c.profile.0, c.profile.1)
            };
            let (va, vb) = (c.outcome.0.as_str(), c.outcome.1.as_str());
            let verdict = if va != vb {
                format!("{va} -> {vb}")
            } else if !c.missing.is_empty() {
                format!("{va} (transcript missing)")
            } else if c.steps.is_empty() {
                format!("{va} (findings changed)")
            } else {
                format!("{va} (bytes changed)")
            };
            s.push_str(&format!("\n== {} [{prof}]: {verdict}\n", c.scenario));
            for m in &c.missing {
                s.push_str(&format!("!! {m}\n"));
            }
            for f in &c.findings.0 {
                s.push_str(&format!("only in {la}: {f}\n"));
            }
            for f in &c.findings.1 {
                s.push_str(&format!("only in {lb}: {f}\n"));
            }
            for st in &c.steps {
                s.push_str(&format!("@@ {} @@\n{}", st.at, st.diff));
            }
        }
        for k in &self.only_a {
            s.push_str(&format!("only in {la}: {k}\n"));
        }
        for k in &self.only_b {
            s.push_str(&format!("only in {lb}: {k}\n"));
        }
        let verdicts = self.changed.iter().filter(|c| c.verdict_changed()).count();
        // Each run's own counts (its table's), then how the pairs moved between outcomes.
        let lw = la.len().max(lb.len());
        s.push_str(&format!("\n{la:<lw$}  {}\n", self.counts.0.line()));
        s.push_str(&format!("{lb:<lw$}  {}\n", self.counts.1.line()));
        if !self.transitions.is_empty() {
            let moves: Vec<String> = self
                .transitions
                .iter()
                .map(|(x, y, n)| format!("{n} {} -> {}", x.as_str(), y.as_str()))
                .collect();
            s.push_str(&format!("verdict changes: {}\n", moves.join(", ")));
        }
        s.push_str(&format!(
            "{} compared: {} unchanged, {} changed ({} verdict changes), {} only in {la}, {} only in {lb}\n",
            self.compared,
            self.unchanged,
            self.changed.len(),
            verdicts,
            self.only_a.len(),
            self.only_b.len()
        ));
        s
    }

    /// JSON rendering.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_hide_pattern_values_only() {
        let sc = at_scenario::load_str(
            "t.scn",
            "title: t\nsource: 000 §2.2.5\nprofiles: ec25\n> AT+QFUPL=\"RAM:a\",100\n< +QFUPL: 100,{hex:sum}\n< OK\n",
        )
        .unwrap();
        let m = Masks::for_scenario(&sc);
        assert_eq!(
            m.apply(b"\r\n+QFUPL: 100,3fa2\r\n\r\nOK\r\n"),
            b"\r\n+QFUPL: 100,{hex}\r\n\r\nOK\r\n"
        );
        // The literal part must still match: 101 is a change, not a varying value.
        assert_eq!(m.apply(b"+QFUPL: 101,3fa2\r\n"), b"+QFUPL: 101,3fa2\r\n");
        // Host lines: a variable's value (from the environment) is masked, the rest is not.
        let sc = at_scenario::load_str(
            "t.scn",
            "title: t\nsource: 000 §2.2.1\nprofiles: ec25\n@var SMTP_USER = a\n> AT+QSMTPCFG=\"account\",\"${SMTP_USER}\",\"p\"\n< OK\n",
        )
        .unwrap();
        let m = Masks::for_scenario(&sc);
        assert_eq!(
            m.apply_tx(b"AT+QSMTPCFG=\"account\",\"bob\",\"p\"\r"),
            b"AT+QSMTPCFG=\"account\",\"${var}\",\"p\"\r"
        );
        assert_eq!(m.apply_tx(b"AT+QSMTPCFG=\"x\"\r"), b"AT+QSMTPCFG=\"x\"\r");
    }

    #[test]
    fn exchanges_split_at_step_notes() {
        let t = "[   0.000000] # x.scn [ec25] on emulator ec25\n[   0.000000] # x.scn:4\n[   0.000000] > AT\\r\n[   0.000000] < AT\\r\\r\\nOK\\r\\n\n[   0.000000] # x.scn:6\n[   0.000000] > ATI\\r\n[   0.100000] # pass\n";
        let e = exchanges(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].at, "x.scn:4");
        assert_eq!(e[0].rx, b"AT\r\r\nOK\r\n");
        assert_eq!(e[1].tx, b"ATI\r");
    }
}
