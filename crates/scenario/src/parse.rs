//! The hand-written `.scn` parser: one pass over lines, precise spans, never panics.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{ErrorKind, LoadError, LoadErrors};
use crate::evidence::{Evidence, looks_like_evidence, split_suffix};
use crate::model::*;
use crate::profile::ProfileSet;

/// Longest duration a file may write (a day): bounds arithmetic on virtual time.
const MAX_DURATION: Duration = Duration::from_secs(86_400);
/// TLS fault names of the sink (`smtp_sink::TlsFaults::NAMES`; a runner test keeps them equal).
pub const TLS_FAULTS: [&str; 9] = [
    "expired",
    "not-yet-valid",
    "self-signed",
    "wrong-host",
    "unknown-ca",
    "client-cert",
    "abort",
    "version-mismatch",
    "suite-mismatch",
];

/// Whether `list` is a TLS version list `at_tls::Versions` parses: versions (`1.0`, `TLSv1.2`,
/// `ssl3`), ranges (`1.0-1.2`) or `all`, separated by `,` or spaces.
fn is_version_list(list: &str) -> bool {
    let version = |v: &str| {
        let t = v.trim().to_ascii_lowercase().replace('_', ".");
        let t = t
            .strip_prefix("tlsv")
            .or_else(|| t.strip_prefix("tls"))
            .unwrap_or(&t)
            .to_owned();
        matches!(
            t.as_str(),
            "ssl3" | "sslv3" | "ssl3.0" | "sslv3.0" | "3.0" | "1" | "1.0" | "1.1" | "1.2" | "1.3"
        )
    };
    let mut items = list
        .split([',', ' '])
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .peekable();
    items.peek().is_some()
        && items.all(|i| {
            i.eq_ignore_ascii_case("all")
                || match i.split_once('-') {
                    Some((lo, hi)) => version(lo) && version(hi),
                    None => version(i),
                }
        })
}

/// Largest generated payload (16 MiB).
const MAX_PAYLOAD: usize = 16 << 20;

/// Loads a scenario from text; `name` is used in diagnostics. `@data file(...)` paths are
/// checked as written (confined to the data folder) but not looked up on disk.
///
/// ```
/// let sc = at_scenario::load_str("x.scn", "title: t\nsource: 000 §2.2.6\nprofiles: quectel\n\
///     > AT+QSMTPCLR\n< OK\n").unwrap();
/// assert_eq!(sc.steps.len(), 2);
/// let err = at_scenario::load_str("x.scn", "title: t\n@bogus\n").unwrap_err();
/// assert_eq!(err.to_string(), "x.scn:2:1: unknown directive `@bogus`");
/// ```
pub fn load_str(name: &str, text: &str) -> Result<Scenario, LoadError> {
    Parser::new(name, text, None).run()
}

/// Loads one scenario file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Scenario, LoadError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| LoadError::whole_file(ErrorKind::Io, &name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let off = e.utf8_error().valid_up_to();
        let (line, col) = {
            let valid = e.as_bytes().get(..off).unwrap_or_default();
            let s = String::from_utf8_lossy(valid);
            crate::error::line_col(&s, s.len())
        };
        LoadError::whole_file(
            ErrorKind::Encoding,
            &name,
            format!(
                "not UTF-8 at byte {off} (line {line}, column {col}); write other bytes as \\xNN"
            ),
        )
    })?;
    let dir = path.parent().map(Path::to_path_buf);
    let mut sc = Parser::new(&name, &text, Some(dir.unwrap_or_default())).run()?;
    sc.path = Some(path.to_path_buf());
    Ok(sc)
}

/// Loads every `*.scn` file under `dir` (recursively), sorted by path. All files are tried;
/// the errors of every failing file are returned together.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Scenario>, LoadErrors> {
    let (out, errors) = load_dir_each(dir);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Like [`load_dir`], but keeps what loaded: every `*.scn` file under `dir` that loads, sorted
/// by path, and the errors of the others (a runner reports them and runs the rest).
pub fn load_dir_each(dir: impl AsRef<Path>) -> (Vec<Scenario>, Vec<LoadError>) {
    let dir = dir.as_ref();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    collect(dir, 0, &mut files, &mut errors);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        match load_file(&f) {
            Ok(s) => out.push(s),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// Directory depth `load_dir` descends to (bounds a symlink loop).
const MAX_DEPTH: usize = 16;

fn collect(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    if depth > MAX_DEPTH {
        errors.push(LoadError::whole_file(
            ErrorKind::Io,
            &dir.display().to_string(),
            format!("directory nesting deeper than {MAX_DEPTH} (a symlink loop?)"),
        ));
        return;
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(LoadError::whole_file(
                ErrorKind::Io,
                &dir.display().to_string(),
                format!("cannot read directory: {e}"),
            ));
            return;
        }
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, depth + 1, files, errors);
        } else if p.extension().is_some_and(|e| e == "scn") {
            files.push(p);
        }
    }
}

/// A piece of the source: text plus its byte offset in the file.
#[derive(Clone, Copy)]
struct Src<'a> {
    s: &'a str,
    off: usize,
}

impl<'a> Src<'a> {
    fn trim(self) -> Src<'a> {
        let start = self.s.len() - self.s.trim_start().len();
        Src {
            s: self.s.trim(),
            off: self.off + start,
        }
    }
    fn slice(self, from: usize, to: usize) -> Src<'a> {
        let s = self.s.get(from..to).unwrap_or("");
        Src {
            s,
            off: self.off + from,
        }
    }
    fn from(self, from: usize) -> Src<'a> {
        self.slice(from, self.s.len())
    }
    /// Splits off the first whitespace-separated word.
    fn word(self) -> (Src<'a>, Src<'a>) {
        let t = self.trim();
        let end = t.s.find(char::is_whitespace).unwrap_or(t.s.len());
        (t.slice(0, end), t.from(end).trim())
    }
    fn span(self) -> Span {
        Span {
            offset: self.off,
            len: self.s.len(),
            line: 0,
            col: 0,
        }
    }
}

enum Block {
    None,
    Mail(MailExpect, Span),
    Smtp(SmtpExpect, Span),
}

struct Parser<'a> {
    name: &'a str,
    src: &'a str,
    base_dir: Option<PathBuf>,
    title: Option<String>,
    sources: Option<Vec<String>>,
    errata: Option<Vec<String>>,
    profiles: Option<ProfileSet>,
    tags: Option<Vec<String>>,
    timeout: Option<Duration>,
    max_response: Option<Cited>,
    verdict: Option<Verdict>,
    evidence: Option<Evidence>,
    state: Option<Vec<String>>,
    vars: Vec<VarDecl>,
    names: HashSet<String>,
    payloads: HashSet<String>,
    steps: Vec<Step>,
    within: Option<(Duration, Option<Evidence>, Src<'a>)>,
    block: Block,
    /// Whether the previous step line was `<`/`<<` (blank and comment lines do not break a group).
    in_expect: bool,
}

type R<T> = Result<T, LoadError>;

impl<'a> Parser<'a> {
    fn new(name: &'a str, src: &'a str, base_dir: Option<PathBuf>) -> Parser<'a> {
        Parser {
            name,
            src,
            base_dir,
            title: None,
            sources: None,
            errata: None,
            profiles: None,
            tags: None,
            timeout: None,
            max_response: None,
            verdict: None,
            evidence: None,
            state: None,
            vars: Vec::new(),
            names: HashSet::new(),
            payloads: HashSet::new(),
            steps: Vec::new(),
            within: None,
            block: Block::None,
            in_expect: false,
        }
    }

    fn err(&self, kind: ErrorKind, at: Src<'_>, msg: impl Into<String>) -> LoadError {
        LoadError::new(kind, self.name, &self.masked_src(), at.off, at.s.len(), msg)
    }

    /// The source with the defaults of secrets declared so far blanked out (`*` per byte, so
    /// offsets stay valid): a diagnostic never shows a secret.
    fn masked_src(&self) -> String {
        let mut out = self.src.to_owned();
        for v in self.vars.iter().filter(|v| v.secret) {
            let Some(d) = v.default.as_deref().filter(|d| !d.is_empty()) else {
                continue;
            };
            out = out.replace(d, &"*".repeat(d.len()));
        }
        out
    }

    fn span(&self, at: Src<'_>) -> Span {
        let (line, col) = crate::error::line_col(self.src, at.off);
        Span {
            line,
            col,
            ..at.span()
        }
    }

    fn run(mut self) -> R<Scenario> {
        let mut off = 0;
        let src = self.src;
        for raw in src.split_inclusive('\n') {
            let line_off = off;
            off += raw.len();
            let body = raw.strip_suffix('\n').unwrap_or(raw);
            let body = body.strip_suffix('\r').unwrap_or(body);
            // A UTF-8 byte order mark (some Windows editors write one) is not content.
            let (body, line_off) = match body.strip_prefix('\u{feff}') {
                Some(rest) if line_off == 0 => (rest, 3),
                _ => (body, line_off),
            };
            let line = Src {
                s: body,
                off: line_off,
            };
            self.line(line)?;
        }
        self.end_block();
        let end = Src {
            s: "",
            off: src.len(),
        };
        if let Some((_, _, at)) = self.within {
            return Err(self
                .err(
                    ErrorKind::DanglingWithin,
                    at,
                    "`@within` is not followed by an expectation",
                )
                .with_help("put `@within` right before the `<` or `~` line it limits"));
        }
        let missing = |what: &str| {
            LoadError::new(
                ErrorKind::MissingHeader,
                self.name,
                self.src,
                0,
                0,
                format!("missing header `{what}:`"),
            )
            .with_help("every scenario starts with `title:`, `source:` and `profiles:` lines")
        };
        let title = self.title.clone().ok_or_else(|| missing("title"))?;
        let sources = self.sources.clone().ok_or_else(|| missing("source"))?;
        let profiles = self.profiles.ok_or_else(|| missing("profiles"))?;
        if self.steps.is_empty() {
            return Err(self.err(ErrorKind::Empty, end, "the scenario has no steps"));
        }
        Ok(Scenario {
            name: self.name.to_owned(),
            path: None,
            source: Arc::from(self.src),
            meta: Meta {
                title,
                sources,
                errata: self.errata.unwrap_or_default(),
                profiles,
                tags: self.tags.unwrap_or_default(),
                timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
                max_response: self.max_response,
                verdict: self.verdict.unwrap_or(Verdict::Pass),
                evidence: self.evidence,
                state: self.state.unwrap_or_default(),
            },
            vars: self.vars,
            steps: self.steps,
        })
    }

    fn line(&mut self, line: Src<'a>) -> R<()> {
        let t = line.trim();
        if t.s.is_empty() || t.s.starts_with('#') || t.s.starts_with("//") {
            return Ok(());
        }
        let indented = line.s.starts_with([' ', '\t']);
        if indented && !matches!(self.block, Block::None) {
            let content = strip_comment(t);
            return self.block_entry(content);
        }
        self.end_block();
        if indented {
            return Err(self
                .err(
                    ErrorKind::Syntax,
                    t,
                    "indented line outside a `@mail` or `@smtp` block",
                )
                .with_help("only `@mail`/`@smtp` block entries are indented"));
        }
        // Optional profile filter `[ag35] `.
        let (only, rest) = if t.s.starts_with('[') {
            let Some(close) = t.s.find(']') else {
                return Err(self.err(ErrorKind::Syntax, t, "`[` without a closing `]`"));
            };
            let list = t.slice(1, close);
            let set = self.profile_list(list)?;
            (Some(set), t.from(close + 1).trim())
        } else {
            (None, t)
        };
        let s = rest.s;
        if s.starts_with(">>") {
            self.send(rest.from(2), Terminator::None, only, rest)
        } else if s.starts_with('>') {
            self.send(rest.from(1), Terminator::Cr, only, rest)
        } else if s.starts_with("<<") {
            self.expect_line(rest.from(2), FrameKind::Raw, only, rest)
        } else if s.starts_with('<') {
            self.expect_line(rest.from(1), FrameKind::Info, only, rest)
        } else if s.starts_with('~') {
            self.urc(rest.from(1), only, rest)
        } else if s.starts_with('@') {
            self.directive(strip_comment(rest), only)
        } else if only.is_none() && is_header(s) {
            self.header(strip_comment(rest))
        } else {
            Err(self
                .err(
                    ErrorKind::Syntax,
                    rest,
                    "expected `>`, `<`, `~`, `@directive` or `key: value`",
                )
                .with_help("see scenarios/README.md for the line kinds"))
        }
    }

    fn end_block(&mut self) {
        match std::mem::replace(&mut self.block, Block::None) {
            Block::None => {}
            Block::Mail(m, span) => self.steps.push(Step {
                kind: StepKind::Mail(m),
                only: None,
                span,
            }),
            Block::Smtp(m, span) => self.steps.push(Step {
                kind: StepKind::Smtp(m),
                only: None,
                span,
            }),
        }
    }

    fn push(&mut self, kind: StepKind, only: Option<ProfileSet>, at: Src<'_>) -> R<()> {
        if let Some((_, _, w)) = self.within {
            return Err(self
                .err(
                    ErrorKind::DanglingWithin,
                    w,
                    "`@within` is not followed by an expectation",
                )
                .with_help("put `@within` right before the `<` or `~` line it limits"));
        }
        self.in_expect = false;
        let span = self.span(at);
        self.steps.push(Step { kind, only, span });
        Ok(())
    }

    fn profile_list(&self, list: Src<'_>) -> R<ProfileSet> {
        match ProfileSet::parse_list(list.s) {
            Ok(s) if s.is_empty() => Err(self.err(
                ErrorKind::UnknownProfile,
                list,
                "the profile list selects no profile",
            )),
            Ok(s) => Ok(s),
            Err(e) => {
                let item = e.0.as_str();
                let pos = list.s.find(item).unwrap_or(0);
                Err(self
                    .err(
                        ErrorKind::UnknownProfile,
                        list.slice(pos, pos + item.len()),
                        e.to_string(),
                    )
                    .with_help(
                        "profiles: ec21 ec25 ec20 ec20-cn eg21-g eg25-g eg91 eg95 em05 ag35 multitech; \
                         groups: ec2x quectel multitech all; `!name` excludes",
                    ))
            }
        }
    }

    // ---- headers ----

    fn header(&mut self, line: Src<'a>) -> R<()> {
        let colon = line.s.find(':').unwrap_or(line.s.len());
        let key = line.slice(0, colon);
        let value = line.from(colon + 1).trim();
        if !self.steps.is_empty() || self.in_expect {
            return Err(self
                .err(
                    ErrorKind::HeaderAfterStep,
                    key,
                    format!("header `{}:` after the first step", key.s),
                )
                .with_help("headers go at the top of the file, before any step"));
        }
        let dup = |p: &Self| {
            Err(p.err(
                ErrorKind::DuplicateHeader,
                key,
                format!("header `{}:` given twice", key.s),
            ))
        };
        match key.s {
            "title" => {
                if self.title.is_some() {
                    return dup(self);
                }
                self.title = Some(value.s.to_owned());
            }
            "source" => {
                if self.sources.is_some() {
                    return dup(self);
                }
                let items = self.list(value, "source")?;
                for it in &items {
                    if it == "recorded" {
                        continue;
                    }
                    if let Err(why) = at_catalog::check_citation(it) {
                        let pos = value.s.find(it.as_str()).unwrap_or(0);
                        return Err(self
                            .err(ErrorKind::BadEvidence, value.slice(pos, pos + it.len()), why.to_string())
                            .with_help("sources are seed sections: `000 §3.1`, `001 p.20`, `002 #PUTMAIL`, `003 …`, `004 …` (or `recorded` for a device recording)"));
                    }
                }
                self.sources = Some(items);
            }
            "errata" => {
                if self.errata.is_some() {
                    return dup(self);
                }
                let items = self.list(value, "errata")?;
                for it in &items {
                    let pos = value.s.find(it.as_str()).unwrap_or(0);
                    let at = value.slice(pos, pos + it.len());
                    if !at_catalog::is_errata_id(it) {
                        return Err(self
                            .err(
                                ErrorKind::BadValue,
                                at,
                                format!("`{it}` is not an ERRATA entry"),
                            )
                            .with_help("write entries as in ERRATA.md: W1, E2, M1, S3, ..."));
                    }
                    if at_catalog::errata_entry(it).is_none() {
                        return Err(self
                            .err(
                                ErrorKind::BadEvidence,
                                at,
                                format!("ERRATA.md has no entry {it}"),
                            )
                            .with_help(
                                "cite an entry ERRATA.md has, or add the entry there first",
                            ));
                    }
                }
                self.errata = Some(items);
            }
            "profiles" => {
                if self.profiles.is_some() {
                    return dup(self);
                }
                self.profiles = Some(self.profile_list(value)?);
            }
            "tags" => {
                if self.tags.is_some() {
                    return dup(self);
                }
                self.tags = Some(self.list(value, "tags")?);
            }
            "timeout" => {
                if self.timeout.is_some() {
                    return dup(self);
                }
                self.timeout = Some(self.duration(value)?);
            }
            "max-response" => {
                if self.max_response.is_some() {
                    return dup(self);
                }
                let (d, ev) = strip_limit_evidence(value);
                let Some(ev) = ev else {
                    return Err(self
                        .err(
                            ErrorKind::BadEvidence,
                            value,
                            "`max-response:` needs the citation of the limit",
                        )
                        .with_help("e.g. `max-response: 300ms [000 §2.2.1]`; without it the catalog's documented limit of each command applies, and where none is documented only `timeout:`"));
                };
                let evidence = self.evidence(ev)?;
                self.max_response = Some(Cited {
                    duration: self.duration(d)?,
                    evidence,
                });
            }
            "evidence" => {
                if self.evidence.is_some() {
                    return dup(self);
                }
                self.evidence = Some(self.evidence(value)?);
            }
            "verdict" => {
                if self.verdict.is_some() {
                    return dup(self);
                }
                self.verdict = Some(match value.s {
                    "pass" => Verdict::Pass,
                    "informational" => Verdict::Informational,
                    "non-strict" => Verdict::NonStrict,
                    "fail" => Verdict::Fail,
                    _ => {
                        return Err(self.err(
                            ErrorKind::BadValue,
                            value,
                            "verdict is `pass`, `informational`, `non-strict` or `fail`",
                        ));
                    }
                });
            }
            "state" => {
                if self.state.is_some() {
                    return dup(self);
                }
                let items = self.list(value, "state")?;
                for it in &items {
                    let ok = it
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                    if !ok {
                        let pos = value.s.find(it.as_str()).unwrap_or(0);
                        return Err(self
                            .err(
                                ErrorKind::BadValue,
                                value.slice(pos, pos + it.len()),
                                format!("`{it}` is not a state name"),
                            )
                            .with_help(
                                "state names are lower case: pdp-active, power-on, or a state \
                                 the profile's [setup.states] defines",
                            ));
                    }
                }
                self.state = Some(items);
            }
            _ => {
                return Err(self
                    .err(ErrorKind::UnknownHeader, key, format!("unknown header `{}:`", key.s))
                    .with_help("headers: title, source, errata, evidence, profiles, tags, timeout, max-response, verdict, state"));
            }
        }
        Ok(())
    }

    fn list(&self, value: Src<'_>, what: &str) -> R<Vec<String>> {
        let items: Vec<String> = value
            .s
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Err(self.err(ErrorKind::BadValue, value, format!("`{what}:` is empty")));
        }
        Ok(items)
    }

    fn duration(&self, v: Src<'_>) -> R<Duration> {
        at_wire::duration::parse(v.s)
            .ok()
            .filter(|d| *d <= MAX_DURATION)
            .ok_or_else(|| {
                self.err(
                    ErrorKind::BadDuration,
                    v,
                    format!("`{}` is not a duration", v.s),
                )
                .with_help("write a number and a unit: 300ms, 1.5s, 2min, 1h (at most 24h)")
            })
    }

    fn number<T: std::str::FromStr>(&self, v: Src<'_>, what: &str) -> R<T> {
        v.s.parse::<T>().map_err(|_| {
            self.err(
                ErrorKind::BadValue,
                v,
                format!("`{}` is not a valid {what}", v.s),
            )
        })
    }

    // ---- steps ----

    fn send(
        &mut self,
        content: Src<'a>,
        terminator: Terminator,
        only: Option<ProfileSet>,
        at: Src<'a>,
    ) -> R<()> {
        let text = self.text(strip_comment(content).trim(), false)?;
        self.push(StepKind::Send(Send { text, terminator }), only, at)
    }

    fn expect_line(
        &mut self,
        content: Src<'a>,
        frame: FrameKind,
        only: Option<ProfileSet>,
        at: Src<'a>,
    ) -> R<()> {
        let (content, ev) = strip_evidence(strip_comment(content).trim());
        let evidence = self.line_evidence(ev)?;
        let text = self.text(content, frame != FrameKind::Raw)?;
        let frame = if frame == FrameKind::Info && is_final(&text) {
            FrameKind::Final
        } else {
            frame
        };
        self.declare_captures(&text);
        let line = ExpectedLine {
            frame,
            text,
            only,
            span: self.span(at),
            evidence,
        };
        if self.in_expect
            && let Some(Step {
                kind: StepKind::Expect(e),
                ..
            }) = self.steps.last_mut()
        {
            e.lines.push(line);
            return Ok(());
        }
        let (within, within_evidence) = match self.within.take() {
            Some((d, e, _)) => (Some(d), e),
            None => (None, None),
        };
        self.push(
            StepKind::Expect(Expect {
                lines: vec![line],
                within,
                within_evidence,
            }),
            None,
            at,
        )?;
        self.in_expect = true;
        Ok(())
    }

    fn urc(&mut self, content: Src<'a>, only: Option<ProfileSet>, at: Src<'a>) -> R<()> {
        let (content, ev) = strip_evidence(strip_comment(content).trim());
        let evidence = self.line_evidence(ev)?;
        let text = self.text(content, true)?;
        self.declare_captures(&text);
        let line = ExpectedLine {
            frame: FrameKind::Urc,
            text,
            only: None,
            span: self.span(at),
            evidence,
        };
        let (within, within_evidence) = match self.within.take() {
            Some((d, e, _)) => (Some(d), e),
            None => (None, None),
        };
        self.push(
            StepKind::Urc(ExpectUrc {
                line,
                within,
                within_evidence,
            }),
            only,
            at,
        )
    }

    fn declare_captures(&mut self, text: &Text) {
        for p in &text.0 {
            if let Piece::Pattern(Pattern {
                capture: Some(c), ..
            }) = p
            {
                self.names.insert(c.clone());
            }
        }
    }

    fn directive(&mut self, line: Src<'a>, only: Option<ProfileSet>) -> R<()> {
        let (name, args) = line.word();
        match name.s {
            "@var" | "@secret" => {
                if only.is_some() {
                    return Err(self.err(
                        ErrorKind::Syntax,
                        name,
                        "variables cannot be profile-specific",
                    ));
                }
                self.var(args, name.s == "@secret", line)
            }
            "@data" => {
                let d = self.data(args)?;
                self.push(StepKind::Data(d), only, line)
            }
            "@escape" => {
                let mut esc = Escape {
                    guard_before: DEFAULT_GUARD_BEFORE,
                    guard_after: DEFAULT_GUARD_AFTER,
                    sequence: b"+++".to_vec(),
                };
                for (k, v) in self.options(args)? {
                    match k.s {
                        "before" => esc.guard_before = self.duration(v)?,
                        "after" => esc.guard_after = self.duration(v)?,
                        "seq" => esc.sequence = self.quoted_bytes(v)?,
                        _ => return Err(self.unknown_option(k, "before, after, seq")),
                    }
                }
                self.push(StepKind::Escape(esc), only, line)
            }
            "@wait" => {
                let d = self.duration(args)?;
                self.push(StepKind::Wait(d), only, line)
            }
            "@dtr" => {
                let v = self.on_off(args)?;
                self.push(StepKind::Dtr(v), only, line)
            }
            "@echo" => {
                let v = self.on_off(args)?;
                self.push(StepKind::Echo(v), only, line)
            }
            "@within" => {
                if self.within.is_some() {
                    return Err(self.err(
                        ErrorKind::DanglingWithin,
                        name,
                        "`@within` twice in a row",
                    ));
                }
                let (d, ev) = strip_limit_evidence(args);
                let ev = match ev {
                    Some(e) => Some(self.evidence(e)?),
                    None => None,
                };
                let d = self.duration(d)?;
                self.in_expect = false;
                self.within = Some((d, ev, line));
                Ok(())
            }
            "@allow-urc" => {
                let t = self.text(args, true)?;
                if t.0.is_empty() {
                    return Err(self.err(ErrorKind::BadValue, line, "`@allow-urc` needs a line"));
                }
                self.push(StepKind::AllowUrc(t), only, line)
            }
            "@mail" => {
                if args.s == "none" {
                    return self.push(StepKind::NoMail, only, line);
                }
                if !args.s.is_empty() || only.is_some() {
                    return Err(self
                        .err(
                            ErrorKind::Syntax,
                            line,
                            "`@mail` takes no argument but `none`",
                        )
                        .with_help("write the checks on indented lines below `@mail`"));
                }
                self.push_block_start()?;
                self.block = Block::Mail(
                    MailExpect {
                        checks: Vec::new(),
                        evidence: Vec::new(),
                    },
                    self.span(line),
                );
                Ok(())
            }
            "@smtp" => {
                if !args.s.is_empty() || only.is_some() {
                    return Err(self
                        .err(ErrorKind::Syntax, line, "`@smtp` takes no argument")
                        .with_help("write the checks on indented lines below `@smtp`"));
                }
                self.push_block_start()?;
                self.block = Block::Smtp(
                    SmtpExpect {
                        checks: Vec::new(),
                        evidence: Vec::new(),
                    },
                    self.span(line),
                );
                Ok(())
            }
            "@fault" => {
                let (w, rest) = args.word();
                let action = match w.s {
                    "sim-not-ready" => EmulatorAction::Fault(Fault::SimNotReady),
                    "pdp-activation-fails" => EmulatorAction::Fault(Fault::PdpActivationFails),
                    "pdp-deactivated" => EmulatorAction::Fault(Fault::PdpDeactivated),
                    "tcp-connect-fails" => EmulatorAction::Fault(Fault::TcpConnectFails),
                    "net" if !rest.s.is_empty() => match rest.s.parse::<NetFault>() {
                        Ok(n) => EmulatorAction::Net(n),
                        Err(()) => {
                            return Err(self
                                .err(ErrorKind::BadValue, rest, format!("unknown network fault `{}`", rest.s))
                                .with_help("network faults: dns, refused, reset-mid-data, reset@STAGE, stall, stall@STAGE \
                                            (STAGE: connect, greeting, ehlo, starttls, auth, mail-from, rcpt-to, data, body, quit)"));
                        }
                    },
                    n if n.starts_with("pdp-deactivate@") => {
                        let at = w.from("pdp-deactivate@".len());
                        let d = self.duration(at)?;
                        EmulatorAction::Fault(Fault::PdpDeactivateAt(d))
                    }
                    n => match n.parse::<NetFault>() {
                        Ok(f) => EmulatorAction::Net(f),
                        Err(()) => return Err(self
                            .err(ErrorKind::BadValue, if w.s.is_empty() { line } else { w }, format!("unknown fault `{}`", w.s))
                            .with_help("faults: sim-not-ready, pdp-activation-fails, pdp-deactivate@DURATION, tcp-connect-fails, \
                                        dns, refused, reset-mid-data, reset@STAGE, stall, stall@STAGE, net SPEC")),
                    },
                };
                if !rest.s.is_empty() && w.s != "net" {
                    return Err(self.err(ErrorKind::BadValue, rest, "unexpected argument"));
                }
                self.push(StepKind::Emulator(action), only, line)
            }
            "@quirk" | "@liberty" => {
                if !is_ident(args.s, true) {
                    return Err(self.err(
                        ErrorKind::BadValue,
                        if args.s.is_empty() { line } else { args },
                        format!("`{}` takes one name", name.s),
                    ));
                }
                let action = if name.s == "@quirk" {
                    EmulatorAction::Quirk(args.s.to_owned())
                } else {
                    EmulatorAction::Liberty(args.s.to_owned())
                };
                self.push(StepKind::Emulator(action), only, line)
            }
            "@resolve" => {
                let (host, to) = args.word();
                if host.s.is_empty() || to.s.is_empty() || to.s.contains(char::is_whitespace) {
                    return Err(self
                        .err(
                            ErrorKind::BadValue,
                            line,
                            "`@resolve` takes a host and `sink`, `fail` or an IP address",
                        )
                        .with_help("e.g. `@resolve smtp.163.com sink`"));
                }
                let to = match to.s {
                    "sink" => ResolveTo::Sink,
                    "fail" => ResolveTo::Fail,
                    a if a.parse::<std::net::IpAddr>().is_ok() => ResolveTo::Addr(a.to_owned()),
                    _ => {
                        return Err(self.err(
                            ErrorKind::BadValue,
                            to,
                            "expected `sink`, `fail` or an IP address",
                        ));
                    }
                };
                self.push(
                    StepKind::Emulator(EmulatorAction::Resolve {
                        host: host.s.to_owned(),
                        to,
                    }),
                    only,
                    line,
                )
            }
            "@sink" => {
                let a = self.sink(args, line)?;
                self.push(StepKind::Sink(a), only, line)
            }
            _ => Err(self
                .err(
                    ErrorKind::UnknownDirective,
                    name,
                    format!("unknown directive `{}`", name.s),
                )
                .with_help(
                    "directives: @var @secret @data @escape @wait @dtr @echo @within @allow-urc \
                     @mail @smtp @fault @quirk @liberty @resolve @sink",
                )),
        }
    }

    /// A `@mail`/`@smtp` block opens: a pending `@within` cannot apply to it.
    fn push_block_start(&mut self) -> R<()> {
        if let Some((_, _, w)) = self.within {
            return Err(self
                .err(
                    ErrorKind::DanglingWithin,
                    w,
                    "`@within` is not followed by an expectation",
                )
                .with_help("put `@within` right before the `<` or `~` line it limits"));
        }
        self.in_expect = false;
        Ok(())
    }

    fn var(&mut self, args: Src<'a>, secret: bool, line: Src<'a>) -> R<()> {
        let (name, default) = match args.s.find('=') {
            Some(i) => (args.slice(0, i).trim(), Some(args.from(i + 1).trim())),
            None => (args.trim(), None),
        };
        if !is_ident(name.s, false) {
            return Err(self
                .err(
                    ErrorKind::BadValue,
                    if name.s.is_empty() { line } else { name },
                    format!("`{}` is not a variable name", name.s),
                )
                .with_help("names are letters, digits and `_`, not starting with a digit"));
        }
        if self.names.contains(name.s) {
            return Err(self.err(
                ErrorKind::Duplicate,
                name,
                format!("`{}` is already declared", name.s),
            ));
        }
        let default = match default {
            Some(d) => {
                let t = self.text(d, false)?;
                let Some(b) = t.as_literal() else {
                    return Err(self.err(
                        ErrorKind::BadValue,
                        d,
                        "a default cannot refer to other variables",
                    ));
                };
                Some(String::from_utf8(b).map_err(|_| {
                    self.err(ErrorKind::BadValue, d, "a default must be UTF-8 text")
                })?)
            }
            None => None,
        };
        self.names.insert(name.s.to_owned());
        let span = self.span(line);
        self.vars.push(VarDecl {
            name: name.s.to_owned(),
            default,
            secret,
            span,
        });
        Ok(())
    }

    /// A `file(...)` path, confined to the scenario's data folder: `data/` next to the scenario
    /// file or in its parent directory (a scenario is untrusted input). Checked as written (no
    /// absolute path, no `..` out of that folder) and, for a file on disk, after resolving
    /// symlinks. Returns the path to read: joined to the scenario's directory when there is one.
    fn data_file(&self, src: Src<'_>) -> R<PathBuf> {
        use std::path::Component;
        let outside = |why: &str| {
            self.err(
                ErrorKind::OutsideData,
                src,
                format!("payload file `{}` {why}", src.s),
            )
            .with_help(
                "payload files live in the scenario's data folder: `data/` next to the scenario \
                 file (`file(data/x.bin)`) or in its parent directory (`file(../data/x.bin)`)",
            )
        };
        let written = Path::new(src.s);
        let mut ups = 0usize;
        let mut inside: Vec<&std::ffi::OsStr> = Vec::new();
        for c in written.components() {
            match c {
                Component::Normal(n) => inside.push(n),
                Component::CurDir => {}
                Component::ParentDir => {
                    if inside.pop().is_none() {
                        ups += 1;
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(outside("is an absolute path"));
                }
            }
        }
        if ups > 1 || inside.len() < 2 || inside.first().is_none_or(|d| *d != "data") {
            return Err(outside("is outside the scenario's data folder"));
        }
        let Some(dir) = &self.base_dir else {
            return Ok(written.to_path_buf());
        };
        let path = dir.join(written);
        if !path.is_file() {
            return Err(self.err(
                ErrorKind::MissingFile,
                src,
                format!("payload file `{}` not found", path.display()),
            ));
        }
        // Symlinks: the file must resolve into the data folder, and the folder must be a real
        // directory of the scenario's tree (not a link to elsewhere).
        let base = if ups == 1 {
            dir.join("..")
        } else {
            dir.to_path_buf()
        };
        let root = std::fs::canonicalize(&base)
            .map(|b| b.join("data"))
            .and_then(|want| Ok((std::fs::canonicalize(base.join("data"))?, want)));
        let target = std::fs::canonicalize(&path);
        match (root, target) {
            (Ok((root, want)), Ok(target)) if root == want && target.starts_with(&root) => {}
            _ => return Err(outside("resolves outside the scenario's data folder")),
        }
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_PAYLOAD as u64) {
            return Err(self.err(ErrorKind::BadValue, src, "payload file larger than 16 MiB"));
        }
        Ok(path)
    }

    fn data(&mut self, args: Src<'a>) -> R<Data> {
        if args.s.is_empty() {
            return Err(self
                .err(ErrorKind::BadValue, args, "`@data` needs a payload")
                .with_help("`@data 100`, `@data 100 binary seed=7`, `@data \"text\\r\\n\"` or `@data file(path)`"));
        }
        let (payload, rest) = if args.s.starts_with('"') {
            let end = closing_quote(args.s)
                .ok_or_else(|| self.err(ErrorKind::Syntax, args, "unterminated string"))?;
            let inner = args.slice(1, end);
            let t = self.text(inner, false)?;
            (Payload::Literal(t), args.from(end + 1).trim())
        } else if let Some(p) = args.s.strip_prefix("file(") {
            let close = p
                .find(')')
                .ok_or_else(|| self.err(ErrorKind::Syntax, args, "`file(` without `)`"))?;
            let path_src = args.slice(5, 5 + close);
            let path = self.data_file(path_src)?;
            (Payload::File(path), args.from(5 + close + 1).trim())
        } else {
            let (n, rest) = args.word();
            let len: usize = self.number(n, "byte count")?;
            if len > MAX_PAYLOAD {
                return Err(self.err(ErrorKind::BadValue, n, "payload larger than 16 MiB"));
            }
            let (w, after) = rest.word();
            if w.s == "binary" {
                (Payload::Binary { len, seed: 0 }, after)
            } else {
                (Payload::Text { len }, rest)
            }
        };
        let mut d = Data {
            payload,
            name: None,
            chunk: None,
            pace: None,
        };
        for (k, v) in self.options(rest)? {
            match k.s {
                "name" => {
                    if !is_ident(v.s, true) {
                        return Err(self.err(ErrorKind::BadValue, v, "not a payload name"));
                    }
                    if !self.payloads.insert(v.s.to_owned()) {
                        return Err(self.err(
                            ErrorKind::Duplicate,
                            v,
                            format!("payload `{}` already named", v.s),
                        ));
                    }
                    d.name = Some(v.s.to_owned());
                }
                "chunk" => {
                    let n: usize = self.number(v, "chunk size")?;
                    if n == 0 {
                        return Err(self.err(
                            ErrorKind::BadValue,
                            v,
                            "chunk size must be at least 1",
                        ));
                    }
                    d.chunk = Some(n);
                }
                "pace" => d.pace = Some(self.duration(v)?),
                "seed" => match &mut d.payload {
                    Payload::Binary { seed, .. } => *seed = self.number(v, "seed")?,
                    _ => {
                        return Err(self.err(
                            ErrorKind::UnknownKey,
                            k,
                            "`seed=` only applies to `binary` payloads",
                        ));
                    }
                },
                _ => return Err(self.unknown_option(k, "name, chunk, pace, seed")),
            }
        }
        Ok(d)
    }

    fn sink(&self, args: Src<'_>, line: Src<'_>) -> R<SinkAction> {
        let (w, rest) = args.word();
        match w.s {
            "profile" if is_ident(rest.s, true) => Ok(SinkAction::Profile(rest.s.to_owned())),
            "tls" => Ok(SinkAction::Tls(self.tls(rest)?)),
            "reply" => {
                let (stage, rest) = rest.word();
                let stage = self.stage(stage)?;
                let (code, text) = rest.word();
                let code: u16 = self.number(code, "SMTP reply code")?;
                if !(200..=599).contains(&code) {
                    return Err(self.err(ErrorKind::BadValue, rest, "SMTP reply codes are 200–599"));
                }
                let text = (!text.s.is_empty()).then(|| text.s.to_owned());
                Ok(SinkAction::Reply { stage, code, text })
            }
            "drop" => Ok(SinkAction::Drop(self.stage(rest)?)),
            "auth" => {
                let mut mechs = Vec::new();
                for m in rest.s.split(',').map(str::trim) {
                    let up = m.to_ascii_uppercase();
                    if up != "PLAIN" && up != "LOGIN" {
                        return Err(self
                            .err(ErrorKind::BadValue, if rest.s.is_empty() { line } else { rest }, format!("unknown AUTH mechanism `{m}`"))
                            .with_help("mechanisms: PLAIN, LOGIN (000 §5 655 when none is usable)"));
                    }
                    mechs.push(up);
                }
                Ok(SinkAction::AuthMechanisms(mechs))
            }
            "tls-fault" => {
                if TLS_FAULTS.contains(&rest.s) {
                    Ok(SinkAction::TlsFault(rest.s.to_owned()))
                } else {
                    Err(self
                        .err(ErrorKind::BadValue, if rest.s.is_empty() { line } else { rest }, format!("unknown TLS fault `{}`", rest.s))
                        .with_help(format!("TLS faults: {}", TLS_FAULTS.join(", "))))
                }
            }
            "tls-versions" => {
                if is_version_list(rest.s) {
                    Ok(SinkAction::TlsVersions(rest.s.to_owned()))
                } else {
                    Err(self
                        .err(ErrorKind::BadValue, if rest.s.is_empty() { line } else { rest }, format!("bad TLS version list `{}`", rest.s))
                        .with_help("versions: ssl3, 1.0, 1.1, 1.2, 1.3 (or TLSv1, TLSv1.2, …), ranges such as 1.0-1.2, or all"))
                }
            }
            "tls-ciphers" => {
                let ok = !rest.s.is_empty()
                    && rest.s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+!@=:,. ".contains(&b));
                if ok {
                    Ok(SinkAction::TlsCiphers(rest.s.to_owned()))
                } else {
                    Err(self
                        .err(ErrorKind::BadValue, if rest.s.is_empty() { line } else { rest }, format!("bad TLS suite list `{}`", rest.s))
                        .with_help("suites: OpenSSL names (AES128-SHA), IANA names or numbers (0x002F), separated by `:`, `,` or spaces"))
                }
            }
            _ => Err(self
                .err(ErrorKind::BadValue, if w.s.is_empty() { line } else { w }, format!("unknown sink setting `{}`", w.s))
                .with_help("`@sink profile NAME`, `@sink tls none|implicit|starttls`, `@sink reply STAGE CODE [text]`, `@sink drop STAGE`, `@sink auth PLAIN,LOGIN`, `@sink tls-fault NAME`, `@sink tls-versions LIST`, `@sink tls-ciphers LIST`")),
        }
    }

    fn stage(&self, s: Src<'_>) -> R<SmtpStage> {
        let found = SmtpStage::ALL
            .into_iter()
            .find(|st| st.name() == s.s || st.sink_point() == s.s);
        Ok(match found {
            Some(st) => st,
            None => {
                return Err(self
                    .err(
                        ErrorKind::BadValue,
                        s,
                        format!("unknown SMTP stage `{}`", s.s),
                    )
                    .with_help(
                        "stages: greeting, ehlo, starttls, auth, mail, rcpt, data, message",
                    ));
            }
        })
    }

    fn tls(&self, s: Src<'_>) -> R<TlsMode> {
        Ok(match s.s {
            "none" => TlsMode::None,
            "implicit" => TlsMode::Implicit,
            "starttls" => TlsMode::Starttls,
            _ => {
                return Err(self.err(
                    ErrorKind::BadValue,
                    s,
                    "TLS mode is `none`, `implicit` or `starttls`",
                ));
            }
        })
    }

    fn on_off(&self, s: Src<'_>) -> R<bool> {
        match s.s {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(self.err(ErrorKind::BadValue, s, "expected `on` or `off`")),
        }
    }

    fn unknown_option(&self, k: Src<'_>, known: &str) -> LoadError {
        self.err(
            ErrorKind::UnknownKey,
            k,
            format!("unknown option `{}`", k.s),
        )
        .with_help(format!("options here: {known}"))
    }

    /// `key=value` options separated by whitespace (`value` may be a quoted string).
    fn options(&self, mut s: Src<'a>) -> R<Vec<(Src<'a>, Src<'a>)>> {
        let mut out = Vec::new();
        loop {
            s = s.trim();
            if s.s.is_empty() {
                return Ok(out);
            }
            let Some(eq) = s.s.find('=') else {
                let (w, _) = s.word();
                return Err(self.err(
                    ErrorKind::UnknownKey,
                    w,
                    format!("expected `key=value`, found `{}`", w.s),
                ));
            };
            let key = s.slice(0, eq);
            if key.s.contains(char::is_whitespace) || key.s.is_empty() {
                let (w, _) = s.word();
                return Err(self.err(
                    ErrorKind::UnknownKey,
                    w,
                    format!("expected `key=value`, found `{}`", w.s),
                ));
            }
            let after = s.from(eq + 1);
            let end = if after.s.starts_with('"') {
                closing_quote(after.s)
                    .map(|e| e + 1)
                    .ok_or_else(|| self.err(ErrorKind::Syntax, after, "unterminated string"))?
            } else {
                after.s.find(char::is_whitespace).unwrap_or(after.s.len())
            };
            out.push((key, after.slice(0, end)));
            s = after.from(end);
        }
    }

    fn quoted_bytes(&self, v: Src<'_>) -> R<Vec<u8>> {
        let inner = if v.s.len() >= 2 && v.s.starts_with('"') && v.s.ends_with('"') {
            v.slice(1, v.s.len() - 1)
        } else {
            v
        };
        let t = self.text(inner, false)?;
        t.as_literal()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| self.err(ErrorKind::BadValue, v, "expected literal bytes"))
    }

    // ---- blocks ----

    fn block_entry(&mut self, line: Src<'a>) -> R<()> {
        let colon = line.s.find(':').unwrap_or(line.s.len());
        let key = line.slice(0, colon).trim();
        let (value, ev) = strip_evidence(line.from(colon + 1).trim());
        if colon == line.s.len() {
            return Err(self.err(ErrorKind::Syntax, line, "expected `key: value`"));
        }
        let evidence = self.line_evidence(ev)?;
        let span = self.span(line);
        match &self.block {
            Block::Mail(..) => {
                let check = self.mail_check(key, value)?;
                if let Block::Mail(m, _) = &mut self.block {
                    m.checks.push((check, span));
                    m.evidence.push(evidence);
                }
            }
            Block::Smtp(..) => {
                let check = self.smtp_check(key, value)?;
                if let Block::Smtp(m, _) = &mut self.block {
                    m.checks.push((check, span));
                    m.evidence.push(evidence);
                }
            }
            Block::None => {}
        }
        Ok(())
    }

    fn mail_check(&self, key: Src<'_>, value: Src<'_>) -> R<MailCheck> {
        Ok(match key.s {
            "mail-from" => MailCheck::MailFrom(self.text(value, true)?),
            "rcpt-to" => {
                let mut v = Vec::new();
                let mut start = 0;
                for part in value.s.split(',') {
                    let p = value.slice(start, start + part.len()).trim();
                    start += part.len() + 1;
                    if p.s.is_empty() {
                        return Err(self.err(ErrorKind::BadValue, value, "empty recipient"));
                    }
                    v.push(self.text(p, true)?);
                }
                MailCheck::RcptTo(v)
            }
            "header" => {
                let Some(c) = value.s.find(':') else {
                    return Err(self.err(
                        ErrorKind::BadValue,
                        value,
                        "expected `header: Name: value`",
                    ));
                };
                let name = value.slice(0, c).trim();
                if !is_header_name(name.s) {
                    return Err(self.err(ErrorKind::BadValue, name, "not a header name"));
                }
                MailCheck::Header {
                    name: name.s.to_owned(),
                    value: self.text(value.from(c + 1).trim(), true)?,
                }
            }
            "no-header" => match value.s.find(':') {
                Some(c) => {
                    let name = value.slice(0, c).trim();
                    if !is_header_name(name.s) {
                        return Err(self.err(ErrorKind::BadValue, name, "not a header name"));
                    }
                    MailCheck::NoHeaderValue {
                        name: name.s.to_owned(),
                        value: self.text(value.from(c + 1).trim(), true)?,
                    }
                }
                None => {
                    if !is_header_name(value.s) {
                        return Err(self.err(ErrorKind::BadValue, value, "not a header name"));
                    }
                    MailCheck::NoHeader(value.s.to_owned())
                }
            },
            "subject" => MailCheck::Subject(self.text(value, true)?),
            "body" => MailCheck::Body(self.text(value, true)?),
            "body-payload" => MailCheck::BodyPayload(self.payload_ref(value)?),
            "attachments" => MailCheck::AttachmentCount(self.number(value, "attachment count")?),
            "attachment" => {
                let (name, opts) = value.word();
                if name.s.is_empty() {
                    return Err(self.err(
                        ErrorKind::BadValue,
                        value,
                        "`attachment:` needs a file name",
                    ));
                }
                let mut a = AttachmentExpect {
                    name: name.s.to_owned(),
                    size: None,
                    sha256: None,
                    payload: None,
                };
                for (k, v) in self.options(opts)? {
                    match k.s {
                        "size" => a.size = Some(self.number(v, "size")?),
                        "sha256" => {
                            if v.s.len() != 64 || !v.s.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return Err(self.err(
                                    ErrorKind::BadValue,
                                    v,
                                    "sha256 is 64 hex digits",
                                ));
                            }
                            a.sha256 = Some(v.s.to_ascii_lowercase());
                        }
                        "payload" => a.payload = Some(self.payload_ref(v)?),
                        _ => return Err(self.unknown_option(k, "size, sha256, payload")),
                    }
                }
                MailCheck::Attachment(a)
            }
            _ => {
                return Err(self
                    .err(ErrorKind::UnknownKey, key, format!("unknown `@mail` key `{}`", key.s))
                    .with_help("keys: mail-from, rcpt-to, header, no-header, subject, body, body-payload, attachments, attachment"));
            }
        })
    }

    fn payload_ref(&self, v: Src<'_>) -> R<String> {
        if self.payloads.contains(v.s) {
            Ok(v.s.to_owned())
        } else {
            Err(self
                .err(
                    ErrorKind::UnknownVariable,
                    v,
                    format!("no earlier `@data ... name={}`", v.s),
                )
                .with_help("name the payload on its `@data` line with `name=`"))
        }
    }

    fn smtp_check(&self, key: Src<'_>, value: Src<'_>) -> R<SmtpCheck> {
        Ok(match key.s {
            "sent" => SmtpCheck::Sent(self.text(value, true)?),
            "not-sent" => SmtpCheck::NotSent(self.text(value, true)?),
            "replied" if value.s.trim().contains(' ') => {
                let (code, _) = value.word();
                let n: u16 = self.number(code, "SMTP reply code")?;
                if !(200..=599).contains(&n) {
                    return Err(self.err(
                        ErrorKind::BadValue,
                        code,
                        "SMTP reply codes are 200–599",
                    ));
                }
                SmtpCheck::RepliedLine(self.text(value, true)?)
            }
            "replied" => {
                let code: u16 = self.number(value, "SMTP reply code")?;
                if !(200..=599).contains(&code) {
                    return Err(self.err(
                        ErrorKind::BadValue,
                        value,
                        "SMTP reply codes are 200–599",
                    ));
                }
                SmtpCheck::Replied(code)
            }
            "tls" => SmtpCheck::Tls(self.tls(value)?),
            "tls-version" => SmtpCheck::TlsVersion(self.text(value, true)?),
            "tls-cipher" => SmtpCheck::TlsCipher(self.text(value, true)?),
            _ => {
                return Err(self
                    .err(
                        ErrorKind::UnknownKey,
                        key,
                        format!("unknown `@smtp` key `{}`", key.s),
                    )
                    .with_help("keys: sent, not-sent, replied, tls, tls-version, tls-cipher"));
            }
        })
    }

    // ---- text ----

    /// Parses escapes, `${VAR}` and (if allowed) `{pattern}`s.
    fn text(&self, s: Src<'_>, patterns: bool) -> R<Text> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        let bytes = s.s.as_bytes();
        let mut i = 0;
        let flush = |lit: &mut Vec<u8>, pieces: &mut Vec<Piece>| {
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(lit)));
            }
        };
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' => {
                    let next = bytes.get(i + 1).copied();
                    let (out, used) = match next {
                        Some(b'r') => (b'\r', 2),
                        Some(b'n') => (b'\n', 2),
                        Some(b't') => (b'\t', 2),
                        Some(b'0') => (0, 2),
                        Some(
                            c @ (b'\\' | b'{' | b'}' | b'$' | b'/' | b'"' | b'#' | b'[' | b']'),
                        ) => (c, 2),
                        Some(b'x') => {
                            let hex =
                                s.s.get(i + 2..i + 4)
                                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                Some(v) => (v, 4),
                                None => {
                                    return Err(self
                                        .err(
                                            ErrorKind::BadEscape,
                                            s.slice(i, (i + 4).min(bytes.len())),
                                            "`\\x` needs two hex digits",
                                        )
                                        .with_help("e.g. `\\x1A` for Ctrl-Z"));
                                }
                            }
                        }
                        _ => {
                            let end =
                                s.s.get(i + 1..)
                                    .and_then(|r| r.chars().next())
                                    .map_or(i + 1, |c| i + 1 + c.len_utf8());
                            return Err(self
                                .err(ErrorKind::BadEscape, s.slice(i, end), "unknown escape")
                                .with_help(
                                    "escapes: \\r \\n \\t \\0 \\\\ \\xNN \\{ \\} \\$ \\/ \\\" \\# \\[ \\]",
                                ));
                        }
                    };
                    lit.push(out);
                    i += used;
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    let Some(close) = s.s.get(i..).and_then(|r| r.find('}')) else {
                        return Err(self.err(ErrorKind::Syntax, s.from(i), "`${` without `}`"));
                    };
                    let inner = s.slice(i + 2, i + close);
                    let (name, default) = match inner.s.find(":-") {
                        Some(d) => (
                            inner.slice(0, d),
                            Some(inner.s.get(d + 2..).unwrap_or("").to_owned()),
                        ),
                        None => (inner, None),
                    };
                    if !is_ident(name.s, false) {
                        return Err(self.err(
                            ErrorKind::BadValue,
                            s.slice(i, i + close + 1),
                            format!("`{}` is not a variable name", name.s),
                        ));
                    }
                    if default.is_none() && !self.names.contains(name.s) {
                        return Err(self
                            .err(ErrorKind::UnknownVariable, s.slice(i, i + close + 1), format!("unknown variable `{}`", name.s))
                            .with_help(format!("declare it first with `@var {} = default`, capture it with `{{int:{}}}`, or write `${{{}:-default}}`", name.s, name.s, name.s)));
                    }
                    flush(&mut lit, &mut pieces);
                    pieces.push(Piece::Var {
                        name: name.s.to_owned(),
                        default,
                    });
                    i += close + 1;
                }
                b'{' => {
                    let Some(close) = matching_brace(bytes, i) else {
                        return Err(self
                            .err(
                                ErrorKind::BadPattern,
                                s.from(i),
                                "`{` without a closing `}`",
                            )
                            .with_help("write `\\{` for a literal brace"));
                    };
                    let whole = s.slice(i, close + 1);
                    if !patterns {
                        return Err(self
                            .err(ErrorKind::PatternNotAllowed, whole, "patterns are only allowed in expected lines")
                            .with_help("send lines and data are exact bytes; write `\\{` for a literal brace"));
                    }
                    let pat = self.pattern(s.slice(i + 1, close), whole)?;
                    flush(&mut lit, &mut pieces);
                    pieces.push(Piece::Pattern(pat));
                    i = close + 1;
                }
                _ => {
                    lit.push(b);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut pieces);
        // Capture names unique within one line (they become regex group names).
        let mut seen = HashSet::new();
        for p in &pieces {
            if let Piece::Pattern(Pattern {
                capture: Some(c), ..
            }) = p
                && !seen.insert(c.clone())
            {
                return Err(self.err(
                    ErrorKind::Duplicate,
                    s,
                    format!("capture `{c}` twice in one line"),
                ));
            }
        }
        Ok(Text(pieces))
    }

    fn pattern(&self, inner: Src<'_>, whole: Src<'_>) -> R<Pattern> {
        // `{re=VALUE:REGEX}`: a recorded value before the regex (a regex may hold `=`).
        if let Some(rest) = inner.s.strip_prefix("re=") {
            let Some(colon) = rest.find(':') else {
                return Err(self
                    .err(
                        ErrorKind::BadPattern,
                        whole,
                        "`{re=VALUE:REGEX}` needs the `:REGEX`",
                    )
                    .with_help("e.g. `{re=1:[15]}` (stat 1 or 5, the reference gives 1)"));
            };
            let value = rest.get(..colon).unwrap_or("");
            let mut p = self.regex_pattern(rest.get(colon + 1..).unwrap_or(""), whole)?;
            p.recorded = Some(self.recorded(&p, value, whole)?);
            return Ok(p);
        }
        if let Some(re) = inner.s.strip_prefix("re:") {
            return self.regex_pattern(re, whole);
        }
        // `{kind…!NAME}`: not the value captured as NAME.
        let (inner_s, differs) = match inner.s.rsplit_once('!') {
            Some((head, other)) => {
                if !is_ident(other, false) {
                    return Err(self.err(
                        ErrorKind::BadPattern,
                        whole,
                        format!("`{other}` after `!` is not a capture name"),
                    ));
                }
                if !self.names.contains(other) {
                    return Err(self
                        .err(
                            ErrorKind::UnknownVariable,
                            whole,
                            format!("`!{other}`: no value captured as `{other}` before this line"),
                        )
                        .with_help(format!("capture it on an earlier line: `{{hex:{other}}}`")));
                }
                (head, Some(other.to_owned()))
            }
            None => (inner.s, None),
        };
        let (head, value) = match inner_s.split_once('=') {
            Some((h, v)) => (h, Some(v)),
            None => (inner_s, None),
        };
        let (kind, cap) = match head.split_once(':') {
            Some((k, c)) => (k, Some(c)),
            None => (head, None),
        };
        let kind = match kind {
            "int" => PatternKind::Int,
            "hex" => PatternKind::Hex,
            "ip" => PatternKind::Ip,
            "str" => PatternKind::Str,
            "any" => PatternKind::Any,
            _ => {
                return Err(self
                    .err(ErrorKind::BadPattern, whole, format!("unknown pattern `{}`", whole.s))
                    .with_help("patterns: {int} {hex} {ip} {str} {any} {re:REGEX}, `{int:name}` captures; `\\{` is a literal brace"));
            }
        };
        if let Some(c) = cap
            && !is_ident(c, false)
        {
            return Err(self.err(
                ErrorKind::BadPattern,
                whole,
                format!("`{c}` is not a capture name"),
            ));
        }
        let mut p = Pattern {
            kind,
            capture: cap.map(str::to_owned),
            recorded: None,
            differs,
        };
        if let Some(v) = value {
            p.recorded = Some(self.recorded(&p, v, whole)?);
        }
        Ok(p)
    }

    /// `{re:REGEX}`: a regex-crate expression without named groups.
    fn regex_pattern(&self, re: &str, whole: Src<'_>) -> R<Pattern> {
        let src = format!("(?-u)^(?:{re})$");
        if let Err(e) = regex::bytes::Regex::new(&src) {
            return Err(self
                .err(
                    ErrorKind::BadPattern,
                    whole,
                    format!(
                        "bad regular expression: {}",
                        e.to_string().lines().last().unwrap_or("")
                    ),
                )
                .with_help("`{re:...}` takes regex-crate syntax"));
        }
        if re.contains("(?P<") || re.contains("(?<") {
            return Err(self.err(
                ErrorKind::BadPattern,
                whole,
                "named groups are not allowed in `{re:...}`",
            ));
        }
        Ok(Pattern {
            kind: PatternKind::Regex(re.to_owned()),
            capture: None,
            recorded: None,
            differs: None,
        })
    }

    /// A pattern's recorded value (`{hex=1513}`): must be one the pattern matches.
    fn recorded(&self, p: &Pattern, value: &str, whole: Src<'_>) -> R<Vec<u8>> {
        let re = regex::bytes::Regex::new(&format!(
            "(?-u)^(?:{})$",
            crate::matcher::kind_regex(&p.kind)
        ));
        match re {
            Ok(re) if !value.is_empty() && re.is_match(value.as_bytes()) => {
                Ok(value.as_bytes().to_vec())
            }
            _ => Err(self
                .err(
                    ErrorKind::BadPattern,
                    whole,
                    format!("recorded value `{value}` is not a `{{{}}}`", p.kind_name()),
                )
                .with_help(
                    "`{kind=VALUE}` records what the reference gives; VALUE must match the pattern",
                )),
        }
    }

    /// `[...]` after an expectation, checked: citations, ERRATA ids, `impl`.
    fn evidence(&self, inner: Src<'_>) -> R<Evidence> {
        Evidence::parse(inner.s).map_err(|why| {
            self.err(ErrorKind::BadEvidence, inner, why.to_string()).with_help(
                "evidence is seed sections (`000 §2.2.1`, `001 p.9`, `002 #PUTMAIL`), ERRATA ids (`E12`) or `impl`, comma-separated",
            )
        })
    }

    /// The evidence of an expectation: its own `[...]`, else the `evidence:` header, else the
    /// scenario's `source:`.
    fn line_evidence(&self, written: Option<Src<'_>>) -> R<Evidence> {
        match (written, &self.evidence) {
            (Some(inner), _) => self.evidence(inner),
            (None, Some(e)) => Ok(Evidence {
                explicit: false,
                ..e.clone()
            }),
            (None, None) => Ok(Evidence::inherited(
                self.sources.as_deref().unwrap_or_default(),
            )),
        }
    }
}

/// Splits a trailing ` [evidence]` off an expected line or check: the content and the inside
/// of the brackets, when they hold evidence (`EHLO [10.7.157.1]` is text).
fn strip_evidence(s: Src<'_>) -> (Src<'_>, Option<Src<'_>>) {
    match split_suffix(s.s) {
        (body, Some((at, inner))) if looks_like_evidence(inner) => {
            (s.slice(0, body.len()), Some(s.slice(at, at + inner.len())))
        }
        _ => (s, None),
    }
}

/// Splits a trailing ` [evidence]` off a value that holds no text (`@within 1s [E30]`,
/// `max-response:`): any bracket there is evidence.
fn strip_limit_evidence(s: Src<'_>) -> (Src<'_>, Option<Src<'_>>) {
    match split_suffix(s.s) {
        (body, Some((at, inner))) => (s.slice(0, body.len()), Some(s.slice(at, at + inner.len()))),
        _ => (s, None),
    }
}

/// Removes a trailing ` // comment` (whitespace, then `//`) and trailing whitespace.
fn strip_comment(s: Src<'_>) -> Src<'_> {
    let b = s.s.as_bytes();
    let mut cut = b.len();
    let mut i = 1;
    while i + 1 < b.len() {
        if b.get(i) == Some(&b'/')
            && b.get(i + 1) == Some(&b'/')
            && b.get(i - 1).is_some_and(|c| *c == b' ' || *c == b'\t')
        {
            cut = i;
            break;
        }
        i += 1;
    }
    let t = s.slice(0, cut);
    let trimmed = t.s.trim_end();
    t.slice(0, trimmed.len())
}

fn is_header(s: &str) -> bool {
    let Some(c) = s.find(':') else { return false };
    let key = s.get(..c).unwrap_or("");
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

fn is_ident(s: &str, dashes: bool) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || (dashes && (c == '-' || c == '.')))
}

fn is_header_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// Index of the closing `"` of a string starting at 0, honouring `\"`.
fn closing_quote(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Index of the `}` closing the `{` at `open`, with nesting and `\` escapes.
fn matching_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Final result codes and `CONNECT`-like lines framed alone (W1).
fn is_final(text: &Text) -> bool {
    let Some(Piece::Lit(first)) = text.0.first() else {
        return false;
    };
    match text.as_literal() {
        Some(whole) => at_wire::is_final_line(&whole),
        None => at_wire::starts_final_line(first),
    }
}
