//! Spec coverage: which catalog commands and forms, sub-settings, parameter boundary values,
//! `<err>` codes (000 §5 table 3, 651–682) and `<protocol_error>` codes (000 §6 table 4,
//! 421–554) the corpus exercises, per profile, and which it does not (with the reason where a
//! code cannot be provoked).
//!
//! **Static** coverage reads the scenario files: command lines sent (parsed with at-wire) and
//! codes in expected lines. **Dynamic** coverage reads run transcripts: command lines that
//! really went out and codes the target really answered.

use std::collections::{BTreeMap, BTreeSet};

use at_catalog::{COMMANDS, Dialect, ERR_CODES, Form, PROTOCOL_ERRORS, ParamKind};
use at_scenario::{Bindings, Profile, Scenario, StepKind, Text};
use regex::bytes::Regex;
use serde::Serialize;

use crate::load::{Run, WireLine, parse_transcript};

/// `<err>` codes no scenario can provoke on the emulator and capture sink, and why.
pub const UNPROVOKABLE: &[(u16, &str)] = &[
    (
        651,
        "000 §5 gives no trigger (\"Unknown error\"); the emulator reports it only for an SMTP reply it cannot parse, and the sink (no @sink directive) sends none",
    ),
    (
        662,
        "000 §5 names the trigger (\"No enough memory for the attachment\") but no memory size; any size would be invented (the drives' sizes are implementation-defined, ERRATA E18), so the emulator models none and never reports it",
    ),
    (
        663,
        "000 §5 \"Failed to save the attachment\" names no host action that saves an attachment (attachments are read from uploaded files, 000 §2.2.5); the emulator never reports it",
    ),
];

/// How to provoke an `<err>` code the corpus does not reach yet.
pub fn how_to_provoke(code: u16) -> String {
    match code {
        654 => "provokable: `@fault tcp-connect-fails` (the server refuses the connection)".into(),
        656 => "provokable: `@sink drop STAGE` or `@fault reset@STAGE`".into(),
        660 => "provokable: `@sink reply rcpt 541` (a reply code outside table 4)".into(),
        665 => "provokable: a TLS handshake failure (`ssltype` 1 against `@sink tls none`)".into(),
        c => match at_catalog::protocol_for_err(c) {
            Some(p) => format!("provokable: `@sink reply STAGE {p}` (table 4 row of {c})"),
            None => "provokable: no scenario yet".into(),
        },
    }
}

/// What one source (the corpus or a set of runs) exercised for one profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// `AT+QSMTPCFG=?`-style items: command and form.
    pub commands: BTreeSet<String>,
    /// `AT+QSMTPCFG="account"`-style items.
    pub settings: BTreeSet<String>,
    /// `AT+QSMTPPUT <timeout>=max+1`-style items.
    pub boundaries: BTreeSet<String>,
    /// `<err>` codes seen (table 3).
    pub err: BTreeSet<u16>,
    /// `<protocol_error>` codes seen (table 4).
    pub protocol: BTreeSet<u16>,
    /// Multi-Tech `#CME ERROR` causes seen (ERRATA E22; not in the Quectel tables).
    pub multitech: BTreeSet<u32>,
}

impl Observed {
    fn extend(&mut self, o: &Observed) {
        self.commands.extend(o.commands.iter().cloned());
        self.settings.extend(o.settings.iter().cloned());
        self.boundaries.extend(o.boundaries.iter().cloned());
        self.err.extend(&o.err);
        self.protocol.extend(&o.protocol);
        self.multitech.extend(&o.multitech);
    }
}

fn form_suffix(f: Form) -> &'static str {
    match f {
        Form::Test => "=?",
        Form::Read => "?",
        Form::Write => "=",
        Form::Exec => "",
    }
}

/// Boundary values that cannot be written on the wire, so no scenario can send them: a basic
/// command's value is unsigned decimal digits (V.250 §5.3.1), so `AT&D-1` is a syntax error,
/// not the value -1; the out-of-range case of such a command is max+1 (`AT&D3`).
pub const UNEXPRESSIBLE: &str = "min-1 of a basic command whose minimum is 0 (V.250 §5.3.1: its value is unsigned decimal digits; max+1, e.g. AT&D3, is its out-of-range case)";

fn boundary_items(owner: &str, p: &at_catalog::Param, basic: bool) -> Vec<String> {
    match p.kind {
        // UNEXPRESSIBLE: no min-1 for a basic command at 0.
        ParamKind::Int { min, max } if basic && min == 0 => vec![
            format!("{owner} <{}>=min({min})", p.name),
            format!("{owner} <{}>=max({max})", p.name),
            format!("{owner} <{}>=max+1({})", p.name, max + 1),
        ],
        ParamKind::Int { min, max } => vec![
            format!("{owner} <{}>=min({min})", p.name),
            format!("{owner} <{}>=max({max})", p.name),
            format!("{owner} <{}>=min-1({})", p.name, min - 1),
            format!("{owner} <{}>=max+1({})", p.name, max + 1),
        ],
        ParamKind::Str { max_len } | ParamKind::FileName { max_len } => vec![
            format!("{owner} <{}> len=max({max_len})", p.name),
            format!("{owner} <{}> len=max+1({})", p.name, max_len + 1),
        ],
        ParamKind::IntList(_) | ParamKind::HexInt { .. } => Vec::new(),
    }
}

fn boundary_hit(owner: &str, p: &at_catalog::Param, v: &at_wire::Param) -> Option<String> {
    match (p.kind, v) {
        (ParamKind::Int { min, max }, at_wire::Param::Int(n)) => {
            let which = if *n == min {
                format!("min({min})")
            } else if *n == max {
                format!("max({max})")
            } else if *n == min - 1 {
                format!("min-1({n})")
            } else if *n == max + 1 {
                format!("max+1({n})")
            } else {
                return None;
            };
            Some(format!("{owner} <{}>={which}", p.name))
        }
        (ParamKind::Str { max_len } | ParamKind::FileName { max_len }, at_wire::Param::Str(s)) => {
            let len = s.as_bytes().len();
            if len == max_len {
                Some(format!("{owner} <{}> len=max({max_len})", p.name))
            } else if len == max_len + 1 {
                Some(format!("{owner} <{}> len=max+1({len})", p.name))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The catalog's items for a dialect: (commands, settings, boundaries).
fn universe(dialect: Dialect) -> Observed {
    let mut u = Observed::default();
    for c in COMMANDS {
        if c.dialect != dialect && c.dialect != Dialect::Common {
            continue;
        }
        for f in c.forms {
            u.commands
                .insert(format!("AT{}{}", c.name, form_suffix(*f)));
        }
        let owner = format!("AT{}", c.name);
        let basic = !c.name.starts_with(['+', '#']);
        for p in c.params {
            u.boundaries.extend(boundary_items(&owner, p, basic));
        }
        for s in c.settings {
            u.settings.insert(format!("AT{}=\"{}\"", c.name, s.name));
            let owner = format!("AT{}=\"{}\"", c.name, s.name);
            for p in s.params {
                u.boundaries.extend(boundary_items(&owner, p, false));
            }
        }
    }
    if dialect == Dialect::MultiTech {
        for p in &at_catalog::MULTITECH_PARAMS {
            for f in ["=", "?", "=?"] {
                u.commands.insert(format!("AT#{}{f}", p.name));
            }
            u.boundaries
                .extend(boundary_items(&format!("AT#{}", p.name), p, false));
        }
    } else {
        u.err = ERR_CODES.iter().map(|e| e.code).collect();
        u.protocol = PROTOCOL_ERRORS.iter().map(|e| e.code).collect();
    }
    u
}

/// Records what one command line exercises.
pub fn observe_command_line(line: &[u8], out: &mut Observed) {
    let line = at_wire::strip_line_end(line);
    let Ok(cl) = at_wire::parse_command_line(line) else {
        return;
    };
    if cl.commands.is_empty() {
        out.commands.insert("AT".into());
    }
    for c in &cl.commands {
        match c {
            at_wire::Command::Basic { amp, letter, value } => {
                let name = format!(
                    "{}{}",
                    if *amp { "&" } else { "" },
                    char::from(letter.to_ascii_uppercase())
                );
                let Some(cat) = at_catalog::command(&name) else {
                    continue;
                };
                out.commands.insert(format!("AT{}", cat.name));
                if let (Some(v), Some(p)) = (value, cat.params.first()) {
                    let owner = format!("AT{}", cat.name);
                    out.boundaries.extend(boundary_hit(
                        &owner,
                        p,
                        &at_wire::Param::Int(i64::from(*v)),
                    ));
                }
            }
            at_wire::Command::Extended { sigil, name, form } => {
                let full = format!("{}{}", char::from(*sigil), name.to_ascii_uppercase());
                let suffix = match form {
                    at_wire::Form::Test => "=?",
                    at_wire::Form::Read => "?",
                    at_wire::Form::Set(_) => "=",
                    at_wire::Form::Execute => "",
                };
                if let Some(p) = full.strip_prefix('#').and_then(at_catalog::multitech_param) {
                    out.commands.insert(format!("AT#{}{suffix}", p.name));
                    if let at_wire::Form::Set(params) = form
                        && let Some(v) = params.first()
                    {
                        out.boundaries
                            .extend(boundary_hit(&format!("AT#{}", p.name), p, v));
                    }
                    continue;
                }
                let Some(cat) = at_catalog::command(&full) else {
                    continue;
                };
                out.commands.insert(format!("AT{}{suffix}", cat.name));
                let at_wire::Form::Set(params) = form else {
                    continue;
                };
                let setting = match params.first() {
                    Some(at_wire::Param::Str(s)) if !cat.settings.is_empty() => {
                        std::str::from_utf8(s.as_bytes())
                            .ok()
                            .and_then(|n| cat.setting(n))
                    }
                    _ => None,
                };
                match setting {
                    Some(s) => {
                        let owner = format!("AT{}=\"{}\"", cat.name, s.name);
                        out.settings.insert(owner.clone());
                        for (p, v) in s.params.iter().zip(params.iter().skip(1)) {
                            out.boundaries.extend(boundary_hit(&owner, p, v));
                        }
                    }
                    None => {
                        let owner = format!("AT{}", cat.name);
                        for (p, v) in cat.params.iter().zip(params) {
                            out.boundaries.extend(boundary_hit(&owner, p, v));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Records the codes in device output (or expected output).
pub fn observe_codes(bytes: &[u8], out: &mut Observed) {
    static RES: std::sync::OnceLock<[Regex; 3]> = std::sync::OnceLock::new();
    let [cme, put, mt] = RES.get_or_init(|| {
        [
            Regex::new(r"\+CME ERROR: ([0-9]+)").expect("regex"),
            Regex::new(r"\+QSMTPPUT: ([0-9]+),([0-9]+)").expect("regex"),
            Regex::new(r"#CME ERROR: ([0-9]+)").expect("regex"),
        ]
    });
    let num = |m: Option<regex::bytes::Match<'_>>| {
        m.and_then(|m| std::str::from_utf8(m.as_bytes()).ok())
            .and_then(|s| s.parse::<u32>().ok())
    };
    for c in cme.captures_iter(bytes) {
        if let Some(n) = num(c.get(1)).and_then(|n| u16::try_from(n).ok())
            && at_catalog::err_code(n).is_some()
        {
            out.err.insert(n);
        }
    }
    for c in put.captures_iter(bytes) {
        if let Some(e) = num(c.get(1)).and_then(|n| u16::try_from(n).ok())
            && at_catalog::err_code(e).is_some()
        {
            out.err.insert(e);
        }
        if let Some(p) = num(c.get(2)).and_then(|n| u16::try_from(n).ok())
            && at_catalog::protocol_error(p).is_some()
        {
            out.protocol.insert(p);
        }
    }
    for c in mt.captures_iter(bytes) {
        if let Some(n) = num(c.get(1)) {
            out.multitech.insert(n);
        }
    }
}

fn text_bytes(b: Option<&Bindings>, t: &Text) -> Vec<u8> {
    match b.map(|b| b.render(t)) {
        Some(Ok(v)) => v,
        // A pattern with a recorded value (`#CME ERROR: {int=38028}`) counts as that value:
        // what the corpus provokes on the reference.
        _ if t
            .0
            .iter()
            .any(|p| matches!(p, at_scenario::Piece::Pattern(q) if q.recorded.is_some())) =>
        {
            let mut out = Vec::new();
            for p in &t.0 {
                match p {
                    at_scenario::Piece::Lit(l) => out.extend_from_slice(l),
                    at_scenario::Piece::Pattern(q) => match &q.recorded {
                        Some(v) => out.extend_from_slice(v),
                        None => out.extend_from_slice(format!("{{{q}}}").as_bytes()),
                    },
                    at_scenario::Piece::Var { .. } => {
                        let one = Text(vec![p.clone()]);
                        if let Some(Ok(v)) = b.map(|b| b.render(&one)) {
                            out.extend_from_slice(&v);
                        }
                    }
                }
            }
            out
        }
        _ => b
            .map(|b| b.display(t).into_bytes())
            .unwrap_or_else(|| format!("{t:?}").into_bytes()),
    }
}

/// Static coverage of `corpus`, per profile name.
pub fn from_corpus(corpus: &[Scenario]) -> BTreeMap<String, Observed> {
    let mut out: BTreeMap<String, Observed> = BTreeMap::new();
    for sc in corpus {
        let bindings = Bindings::for_scenario(sc, |_| None).ok();
        for p in sc.meta.profiles.iter() {
            let o = out.entry(p.to_string()).or_default();
            for step in sc.steps_for(p) {
                match &step.kind {
                    StepKind::Send(s) => {
                        observe_command_line(&text_bytes(bindings.as_ref(), &s.text), o)
                    }
                    StepKind::Expect(e) => {
                        for l in e.lines_for(p) {
                            observe_codes(&text_bytes(bindings.as_ref(), &l.text), o);
                        }
                    }
                    StepKind::Urc(u) => {
                        observe_codes(&text_bytes(bindings.as_ref(), &u.line.text), o)
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// Dynamic coverage of `runs` (their transcripts), per profile name.
pub fn from_runs(runs: &[Run]) -> BTreeMap<String, Observed> {
    let mut out: BTreeMap<String, Observed> = BTreeMap::new();
    for run in runs {
        for case in &run.cases {
            let Some(t) = &case.transcript else { continue };
            let o = out.entry(case.profile.clone()).or_default();
            for line in parse_transcript(t) {
                match line {
                    // Each write separately: a data-mode payload never runs into the next
                    // command line.
                    WireLine::Tx(b) => {
                        for l in b.split(|&b| b == b'\r') {
                            let start = l.iter().position(|&b| b != b'\n').unwrap_or(l.len());
                            let l = l.get(start..).unwrap_or_default();
                            if l.len() >= 2 && l[..2].eq_ignore_ascii_case(b"AT") {
                                observe_command_line(l, o);
                            }
                        }
                    }
                    WireLine::Rx(b) => observe_codes(&b, o),
                    WireLine::Note(_) => {}
                }
            }
        }
    }
    out
}

/// Covered and uncovered items of one category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Items {
    /// How many the catalog has.
    pub total: usize,
    /// Exercised.
    pub covered: Vec<String>,
    /// Not exercised.
    pub uncovered: Vec<String>,
}

impl Items {
    fn of(universe: &BTreeSet<String>, seen: &BTreeSet<String>) -> Items {
        Items {
            total: universe.len(),
            covered: universe.intersection(seen).cloned().collect(),
            uncovered: universe.difference(seen).cloned().collect(),
        }
    }
    fn codes(universe: &BTreeSet<u16>, seen: &BTreeSet<u16>) -> Items {
        let s = |c: &u16| c.to_string();
        Items {
            total: universe.len(),
            covered: universe.intersection(seen).map(s).collect(),
            uncovered: universe.difference(seen).map(s).collect(),
        }
    }
    fn ratio(&self) -> String {
        format!("{}/{}", self.covered.len(), self.total)
    }
}

/// Coverage of one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileCoverage {
    /// Profile name.
    pub profile: String,
    /// Command × form.
    pub commands: Items,
    /// Sub-settings of `AT+QSMTPCFG` / `AT+QSSLCFG`.
    pub settings: Items,
    /// Parameter boundary values (min, max, min-1, max+1; string max length and one more).
    pub boundaries: Items,
    /// `<err>` codes.
    pub err: Items,
    /// `<protocol_error>` codes.
    pub protocol: Items,
    /// Multi-Tech `#CME ERROR` causes seen.
    pub multitech_errors: Vec<u32>,
    /// Multi-Tech `#CME ERROR` causes of the profile (ERRATA E22) not seen.
    pub multitech_uncovered: Vec<u32>,
}

/// The `#CME ERROR` causes of the `multitech` catalog profile (002, ERRATA E22).
pub fn multitech_causes() -> Vec<u32> {
    match at_catalog::profile("multitech")
        .ok()
        .and_then(|p| p.multitech)
    {
        Some(m) => {
            let e = m.errors;
            let mut v = vec![
                e.dns,
                e.connection,
                e.smtp_rejected,
                e.timeout,
                e.inactivity,
                e.not_ready,
                e.busy,
            ];
            v.sort_unstable();
            v.dedup();
            v
        }
        None => Vec::new(),
    }
}

/// The coverage report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// `static` (scenario files), `dynamic` (transcripts) or `static+dynamic`.
    pub source: String,
    /// Per profile, in catalog order.
    pub profiles: Vec<ProfileCoverage>,
    /// All Quectel profiles together (the number to drive to complete).
    pub quectel: ProfileCoverage,
    /// Why the uncovered codes that no scenario can provoke cannot be (`code`: reason).
    pub unprovokable: BTreeMap<u16, String>,
    /// The corpus's expectations by evidence level (static coverage only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceCounts>,
    /// The runs' cases per outcome (dynamic coverage): only those that ran count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<at_runner::outcome::Tally>,
}

/// How many expectations of the corpus each evidence level backs: what a conformance claim
/// rests on (documented), what rests on our reading (ERRATA) and what is only recorded
/// (implementation-defined).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceCounts {
    /// Scenario files counted.
    pub scenarios: usize,
    /// Expected lines (`<`, `~`) per level (`documented`, `errata`, `implementation-defined`).
    pub lines: BTreeMap<String, usize>,
    /// Pattern holes with a recorded value (each an implementation-defined value).
    pub recorded: usize,
    /// `@mail` / `@smtp` checks per level.
    pub checks: BTreeMap<String, usize>,
    /// Expectation groups by response-time limit: `documented`, `errata`, `none`.
    pub limits: BTreeMap<String, usize>,
    /// ERRATA entries named by expectations and limits, with how many each.
    pub errata: BTreeMap<String, usize>,
}

impl EvidenceCounts {
    /// Counts `corpus` (each file once; limits on its first profile).
    pub fn of(corpus: &[Scenario]) -> EvidenceCounts {
        use at_scenario::Level;
        let mut c = EvidenceCounts {
            scenarios: corpus.len(),
            ..EvidenceCounts::default()
        };
        let cite = |c: &mut EvidenceCounts, e: &at_scenario::Evidence| {
            for id in &e.errata {
                *c.errata.entry(id.clone()).or_insert(0) += 1;
            }
        };
        for sc in corpus {
            let profile = sc.meta.profiles.iter().next();
            let bindings = Bindings::for_scenario(sc, |_| None).ok();
            let mut last_command: Option<Vec<u8>> = None;
            for step in &sc.steps {
                let (lines, within, urc): (Vec<&at_scenario::ExpectedLine>, _, _) = match &step.kind
                {
                    StepKind::Send(s) => {
                        if s.terminator == at_scenario::Terminator::Cr {
                            last_command = bindings.as_ref().and_then(|b| b.render(&s.text).ok());
                        }
                        continue;
                    }
                    StepKind::Expect(e) => (
                        e.lines.iter().collect(),
                        e.within.zip(e.within_evidence.as_ref()),
                        None,
                    ),
                    StepKind::Urc(u) => {
                        let lit = match u.line.text.0.first() {
                            Some(at_scenario::Piece::Lit(b)) => b.clone(),
                            _ => Vec::new(),
                        };
                        (
                            vec![&u.line],
                            u.within.zip(u.within_evidence.as_ref()),
                            Some(lit),
                        )
                    }
                    StepKind::Mail(m) => {
                        for e in &m.evidence {
                            *c.checks.entry(e.level().as_str().into()).or_insert(0) += 1;
                            cite(&mut c, e);
                        }
                        continue;
                    }
                    StepKind::Smtp(m) => {
                        for e in &m.evidence {
                            *c.checks.entry(e.level().as_str().into()).or_insert(0) += 1;
                            cite(&mut c, e);
                        }
                        continue;
                    }
                    _ => continue,
                };
                for l in &lines {
                    *c.lines
                        .entry(l.evidence.level().as_str().into())
                        .or_insert(0) += 1;
                    cite(&mut c, &l.evidence);
                    c.recorded += l
                        .text
                        .0
                        .iter()
                        .filter(
                            |p| matches!(p, at_scenario::Piece::Pattern(q) if q.recorded.is_some()),
                        )
                        .count();
                }
                let limit = profile.and_then(|p| {
                    at_scenario::expectation_limit(
                        &sc.meta,
                        within,
                        urc.as_deref(),
                        last_command.as_deref(),
                        p,
                    )
                });
                let key = match &limit {
                    None => "none",
                    Some(l) if l.evidence.level() == Level::Documented => "documented",
                    Some(_) => "errata",
                };
                if let Some(l) = &limit {
                    cite(&mut c, &l.evidence);
                }
                *c.limits.entry(key.into()).or_insert(0) += 1;
            }
        }
        c
    }

    /// The lines of the text report.
    pub fn to_text(&self) -> String {
        let levels = |m: &BTreeMap<String, usize>| {
            let total: usize = m.values().sum();
            let parts: Vec<String> = ["documented", "errata", "implementation-defined"]
                .iter()
                .map(|k| format!("{} {k}", m.get(*k).copied().unwrap_or(0)))
                .collect();
            format!("{total} ({})", parts.join(", "))
        };
        let mut s = format!(
            "expectations by evidence ({} scenarios): lines {}; recorded values {}; @mail/@smtp checks {}\n",
            self.scenarios,
            levels(&self.lines),
            self.recorded,
            levels(&self.checks)
        );
        let lim: Vec<String> = ["documented", "errata", "none"]
            .iter()
            .map(|k| format!("{} {k}", self.limits.get(*k).copied().unwrap_or(0)))
            .collect();
        s.push_str(&format!(
            "response-time limits of groups: {}\n",
            lim.join(", ")
        ));
        if !self.errata.is_empty() {
            let mut by: Vec<(&String, &usize)> = self.errata.iter().collect();
            by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = by.iter().map(|(k, n)| format!("{k} {n}")).collect();
            s.push_str(&format!(
                "ERRATA entries expectations rest on: {}\n",
                list.join(", ")
            ));
        }
        s
    }
}

fn profile_coverage(name: &str, o: &Observed) -> ProfileCoverage {
    let dialect = if name == "multitech" {
        Dialect::MultiTech
    } else {
        Dialect::Quectel
    };
    let u = universe(dialect);
    ProfileCoverage {
        profile: name.to_string(),
        commands: Items::of(&u.commands, &o.commands),
        settings: Items::of(&u.settings, &o.settings),
        boundaries: Items::of(&u.boundaries, &o.boundaries),
        err: Items::codes(&u.err, &o.err),
        protocol: Items::codes(&u.protocol, &o.protocol),
        multitech_errors: o.multitech.iter().copied().collect(),
        multitech_uncovered: if dialect == Dialect::MultiTech {
            multitech_causes()
                .into_iter()
                .filter(|c| !o.multitech.contains(c))
                .collect()
        } else {
            Vec::new()
        },
    }
}

impl Coverage {
    /// Builds the report from static and/or dynamic observations (merged per profile).
    pub fn build(source: &str, observed: &[BTreeMap<String, Observed>]) -> Coverage {
        let mut merged: BTreeMap<String, Observed> = BTreeMap::new();
        for m in observed {
            for (p, o) in m {
                merged.entry(p.clone()).or_default().extend(o);
            }
        }
        let mut profiles = Vec::new();
        let mut quectel = Observed::default();
        for p in Profile::ALL {
            let name = p.to_string();
            let Some(o) = merged.get(&name) else { continue };
            if name != "multitech" {
                quectel.extend(o);
            }
            profiles.push(profile_coverage(&name, o));
        }
        let mut q = profile_coverage("quectel (all)", &quectel);
        q.multitech_errors.clear();
        // Only what is still uncovered: a code some scenario provokes is not unprovokable.
        let unprovokable = UNPROVOKABLE
            .iter()
            .filter(|(c, _)| q.err.uncovered.contains(&c.to_string()))
            .map(|(c, r)| (*c, (*r).to_string()))
            .collect();
        Coverage {
            source: source.into(),
            profiles,
            quectel: q,
            unprovokable,
            evidence: None,
            runs: None,
        }
    }

    /// Records how many cases of `runs` ran (their transcripts are what dynamic coverage
    /// reads) and how many did not (skipped, errors, interrupted), per outcome.
    pub fn with_runs(mut self, runs: &[Run]) -> Coverage {
        self.runs = Some(
            runs.iter()
                .flat_map(|r| r.cases.iter().map(crate::load::Case::outcome))
                .collect(),
        );
        self
    }

    /// Adds the expectations of `corpus` by evidence level.
    pub fn with_evidence(mut self, corpus: &[Scenario]) -> Coverage {
        self.evidence = Some(EvidenceCounts::of(corpus));
        self
    }

    /// JSON rendering.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The terminal summary: a line per profile, then the uncovered items of all Quectel
    /// profiles together with reasons.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "coverage ({}): commands×forms, settings, boundary values, <err> 651-682, <protocol_error> 421-554, Multi-Tech #CME causes\n",
            self.source
        );
        // Say what the numbers are: what ran, or what the scenario files would exercise.
        let ran = self.runs.map(|t| {
            let not = t.skip + t.error + t.interrupted;
            format!(
                "{} cases in the runs: {} ran ({}), {not} did not (skip {}, error {}, interrupted {})",
                t.total(),
                t.total() - not,
                [
                    at_runner::outcome::Outcome::Pass,
                    at_runner::outcome::Outcome::Informational,
                    at_runner::outcome::Outcome::NonStrict,
                    at_runner::outcome::Outcome::Fail,
                ]
                .iter()
                .map(|o| format!("{} {}", t.get(*o), o.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
                t.skip,
                t.error,
                t.interrupted
            )
        });
        match (self.source.as_str(), ran) {
            ("dynamic", Some(ran)) => s.push_str(&format!(
                "counts only what ran: {ran}; what did not run covers nothing (--static adds the scenario files)\n"
            )),
            ("static+dynamic", Some(ran)) => s.push_str(&format!(
                "counts what ran and what the scenario files contain, run or not (--static): {ran}\n"
            )),
            _ => s.push_str(
                "counts what the scenario files contain (static): nothing here ran; give run directories to count what ran\n",
            ),
        }
        let mut line = |p: &ProfileCoverage| {
            s.push_str(&format!(
                "{:<14} commands {:>7}  settings {:>5}  boundaries {:>7}  err {:>5}  protocol {:>5}{}\n",
                p.profile,
                p.commands.ratio(),
                p.settings.ratio(),
                p.boundaries.ratio(),
                p.err.ratio(),
                p.protocol.ratio(),
                if p.multitech_errors.is_empty() {
                    String::new()
                } else {
                    format!(
                        "  #CME {}/{} ({})",
                        p.multitech_errors.len(),
                        p.multitech_errors.len() + p.multitech_uncovered.len(),
                        p.multitech_errors
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                }
            ));
        };
        for p in &self.profiles {
            line(p);
        }
        line(&self.quectel);
        let q = &self.quectel;
        let list = |s: &mut String, what: &str, items: &[String]| {
            if !items.is_empty() {
                s.push_str(&format!(
                    "uncovered {what} ({}): {}\n",
                    items.len(),
                    items.join(", ")
                ));
            }
        };
        // Multi-Tech has its own command set (002): its gaps are listed with its name.
        for p in self.profiles.iter().filter(|p| p.profile == "multitech") {
            list(&mut s, "multitech commands", &p.commands.uncovered);
            list(&mut s, "multitech boundaries", &p.boundaries.uncovered);
            let causes: Vec<String> = p.multitech_uncovered.iter().map(u32::to_string).collect();
            list(&mut s, "multitech #CME causes", &causes);
        }
        list(&mut s, "commands", &q.commands.uncovered);
        list(&mut s, "settings", &q.settings.uncovered);
        list(&mut s, "boundaries", &q.boundaries.uncovered);
        s.push_str(&format!("not counted as boundaries: {UNEXPRESSIBLE}\n"));
        if self.source == "dynamic" {
            s.push_str(
                "note: transcripts show secrets as <redacted>, so password lengths count only statically (add --static)\n",
            );
        }
        for c in &q.err.uncovered {
            let why: String = c
                .parse::<u16>()
                .ok()
                .and_then(|c| self.unprovokable.get(&c))
                .cloned()
                .unwrap_or_else(|| c.parse::<u16>().map(how_to_provoke).unwrap_or_default());
            let name = c
                .parse::<u16>()
                .ok()
                .and_then(at_catalog::err_code)
                .map(|e| e.name)
                .unwrap_or("");
            s.push_str(&format!("uncovered <err> {c} ({name}): {why}\n"));
        }
        for c in &q.protocol.uncovered {
            s.push_str(&format!(
                "uncovered <protocol_error> {c}: provokable with `@sink reply STAGE {c}`; no scenario yet\n"
            ));
        }
        if let Some(e) = &self.evidence {
            s.push_str(&e.to_text());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_map_to_catalog_items() {
        let mut o = Observed::default();
        observe_command_line(b"AT+QSMTPPUT=65536\r", &mut o);
        observe_command_line(b"AT+QSMTPCFG=\"smtpserver\",\"a\",65535\r", &mut o);
        observe_command_line(b"AT+QSMTPCFG=?\r", &mut o);
        observe_command_line(b"ATE0\r", &mut o);
        observe_command_line(b"AT#SMTPPORT=0\r", &mut o);
        observe_command_line(b"AT\r", &mut o);
        observe_command_line(b"not a command", &mut o);
        let cmds: Vec<&str> = o.commands.iter().map(String::as_str).collect();
        assert_eq!(
            cmds,
            [
                "AT",
                "AT#SMTPPORT=",
                "AT+QSMTPCFG=",
                "AT+QSMTPCFG=?",
                "AT+QSMTPPUT=",
                "ATE"
            ]
        );
        assert!(o.settings.contains("AT+QSMTPCFG=\"smtpserver\""));
        assert!(
            o.boundaries.contains("AT+QSMTPPUT <timeout>=max+1(65536)"),
            "{:?}",
            o.boundaries
        );
        assert!(
            o.boundaries
                .contains("AT+QSMTPCFG=\"smtpserver\" <srvport>=max(65535)")
        );
        assert!(o.boundaries.contains("AT#SMTPPORT <SMTPPORT>=min-1(0)"));
    }

    #[test]
    fn multitech_gaps_are_listed_under_its_name() {
        let mut o = Observed::default();
        observe_codes(b"\r\n#CME ERROR: 38027\r\n", &mut o);
        observe_command_line(b"AT#REC1=\"a\"\r", &mut o);
        let c = Coverage::build("static", &[BTreeMap::from([("multitech".into(), o)])]);
        let mt = &c.profiles[0];
        assert_eq!(mt.multitech_errors, [38027]);
        assert_eq!(
            mt.multitech_uncovered,
            (38028..=38033).collect::<Vec<u32>>()
        );
        let text = c.to_text();
        assert!(text.contains("#CME 1/7 (38027)"), "{text}");
        assert!(
            text.contains("uncovered multitech #CME causes (6): 38028, 38029"),
            "{text}"
        );
        assert!(text.contains("uncovered multitech commands"), "{text}");
        assert!(text.contains("AT#REC1?"), "{text}");
    }

    #[test]
    fn codes_are_found_in_output() {
        let mut o = Observed::default();
        observe_codes(
            b"\r\n+CME ERROR: 664\r\n\r\n+QSMTPPUT: 677,535\r\n\r\n+QSMTPPUT: 0,0\r\n#CME ERROR: 38027\r\n+CME ERROR: 10\r\n",
            &mut o,
        );
        assert_eq!(o.err.iter().copied().collect::<Vec<_>>(), [664, 677]);
        assert_eq!(o.protocol.iter().copied().collect::<Vec<_>>(), [535]);
        assert_eq!(o.multitech.iter().copied().collect::<Vec<_>>(), [38027]);
    }
}
