//! W1 framing of expected lines, and the matcher the runner judges received bytes with.

use std::fmt;

use regex::bytes::Regex;

use crate::bind::{BindError, Bindings, Captures, escape_bytes};
use crate::model::{ExpectedLine, FrameKind, Pattern, PatternKind, Piece, Text};

/// Frames lines per ERRATA W1 (000 §2.1.2): consecutive [`FrameKind::Info`] lines form one block
/// `\r\n` + lines joined by `\r\n` + `\r\n`; every [`FrameKind::Final`] and [`FrameKind::Urc`]
/// line is framed alone as `\r\n<text>\r\n`; [`FrameKind::Raw`] bytes are copied as they are.
///
/// ```
/// use at_scenario::{frame_w1, FrameKind::*};
/// let b = frame_w1([(Info, &b"+QSMTPDST: 1,\"a\""[..]), (Info, b"+QSMTPDST: 2,\"b\""), (Final, b"OK")]);
/// assert_eq!(b, b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n");
/// ```
pub fn frame_w1<'a>(lines: impl IntoIterator<Item = (FrameKind, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (kind, text) in lines {
        match kind {
            FrameKind::Info => {
                if !in_block {
                    out.extend_from_slice(b"\r\n");
                    in_block = true;
                }
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            FrameKind::Final | FrameKind::Urc => {
                in_block = false;
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            FrameKind::Raw => {
                in_block = false;
                out.extend_from_slice(text);
            }
        }
    }
    out
}

/// The exact bytes a group of expected lines stands for (W1 framing, variables resolved).
/// Lines holding a pattern cannot be turned into bytes: use [`Matcher`].
pub fn expected_bytes<'a>(
    lines: impl IntoIterator<Item = &'a ExpectedLine>,
    bindings: &Bindings,
) -> Result<Vec<u8>, BindError> {
    let rendered = lines
        .into_iter()
        .map(|l| Ok((l.frame, bindings.render(&l.text)?)))
        .collect::<Result<Vec<_>, BindError>>()?;
    Ok(frame_w1(rendered.iter().map(|(k, t)| (*k, t.as_slice()))))
}

/// Whether `value` (one line, no framing) fully matches `text`: literal bytes exactly, patterns
/// as in expected lines. For `@mail` and `@smtp` values (subject, header, envelope, command).
///
/// ```
/// use at_scenario::{match_text, Bindings, Piece, Text};
/// let t = Text(vec![Piece::Lit(b"AUTH ".to_vec())]);
/// assert!(match_text(&t, &Bindings::new(), b"AUTH ").unwrap().is_some());
/// assert!(match_text(&t, &Bindings::new(), b"AUTH LOGIN").unwrap().is_none());
/// ```
pub fn match_text(
    text: &Text,
    bindings: &Bindings,
    value: &[u8],
) -> Result<Option<Captures>, BindError> {
    if !text.has_pattern() {
        return Ok((bindings.render(text)? == value).then(Captures::default));
    }
    let (re, names) = line_regex(text, bindings)?;
    Ok(re.captures(value).map(|c| {
        let mut caps = Captures::default();
        for n in &names {
            if let Some(m) = c.name(n) {
                caps.0.insert(n.clone(), m.as_bytes().to_vec());
            }
        }
        caps
    }))
}

/// One expected line compiled for matching a decoded line (no framing): the full-line match,
/// its captures, and the values found where the line records one (`{hex=1513}`).
///
/// ```
/// use at_scenario::{load_str, Bindings, LineMatcher, StepKind};
/// let sc = load_str("x.scn", "title: t\nsource: 000 §2.2.5\nprofiles: ec25\n\
///     > AT\n< +QFUPL: 200,{hex:sum=707}\n").unwrap();
/// let StepKind::Expect(e) = &sc.steps[1].kind else { panic!() };
/// let m = LineMatcher::new(&e.lines[0].text, &Bindings::new()).unwrap();
/// let got = m.matches(b"+QFUPL: 200,5f07").unwrap();
/// assert_eq!(got.captures.get("sum"), Some(&b"5f07"[..]));
/// assert_eq!(got.recorded[0].got, b"5f07");
/// assert!(m.matches(b"+QFUPL: 200,707").unwrap().recorded.is_empty());
/// assert!(m.matches(b"+QFUPL: 200,x").is_none());
/// ```
#[derive(Clone)]
pub struct LineMatcher {
    re: Option<Regex>,
    literal: Vec<u8>,
    names: Vec<String>,
    /// (regex group, recorded value, pattern as written)
    recorded: Vec<(String, Vec<u8>, String)>,
    /// (regex group, the value it must not be): `{hex!sum}`.
    differs: Vec<(String, Vec<u8>)>,
    shown: String,
}

/// A line a [`LineMatcher`] accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineMatch {
    /// Values of `{kind:name}` patterns.
    pub captures: Captures,
    /// Holes whose value differs from the one recorded (`{hex=1513}` matched `5f07`).
    pub recorded: Vec<RecordedDiff>,
}

/// A hole that matched another value than the one recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedDiff {
    /// The pattern as written (`hex=1513`).
    pub pattern: String,
    /// The recorded value.
    pub recorded: Vec<u8>,
    /// What the line held there.
    pub got: Vec<u8>,
}

impl LineMatcher {
    /// Compiles `text` with `bindings` for its `${VAR}`s.
    pub fn new(text: &Text, bindings: &Bindings) -> Result<LineMatcher, BindError> {
        let shown = bindings.display(text);
        let recorded: Vec<(String, Vec<u8>, String)> = text
            .0
            .iter()
            .filter_map(|p| match p {
                Piece::Pattern(pat) => pat.recorded.clone().map(|v| (pat.to_string(), v)),
                _ => None,
            })
            .enumerate()
            .map(|(i, (shown, v))| (format!("__recorded{i}"), v, shown))
            .collect();
        let mut differs = Vec::new();
        for (i, p) in text
            .0
            .iter()
            .filter_map(|p| match p {
                Piece::Pattern(pat) => pat.differs.as_ref(),
                _ => None,
            })
            .enumerate()
        {
            differs.push((format!("__differs{i}"), bindings.value(p, &None)?.to_vec()));
        }
        if !text.has_pattern() {
            return Ok(LineMatcher {
                re: None,
                literal: bindings.render(text)?,
                names: Vec::new(),
                recorded,
                differs,
                shown,
            });
        }
        let (re, names) = line_regex_recording(text, bindings)?;
        Ok(LineMatcher {
            re: Some(re),
            literal: Vec::new(),
            names,
            recorded,
            differs,
            shown,
        })
    }

    /// The line for people (patterns as `{kind}`, secrets redacted).
    pub fn display(&self) -> &str {
        &self.shown
    }

    /// The exact bytes, if the line has no pattern.
    pub fn literal(&self) -> Option<&[u8]> {
        self.re.is_none().then_some(self.literal.as_slice())
    }

    /// Whether `line` (without terminator) is this line; its captures and recorded differences.
    pub fn matches(&self, line: &[u8]) -> Option<LineMatch> {
        let Some(re) = &self.re else {
            return (line == self.literal.as_slice()).then(LineMatch::default);
        };
        let c = re.captures(line)?;
        for (group, forbidden) in &self.differs {
            if c.name(group)
                .is_some_and(|m| m.as_bytes() == forbidden.as_slice())
            {
                return None;
            }
        }
        let mut out = LineMatch::default();
        for n in &self.names {
            if let Some(m) = c.name(n) {
                out.captures.0.insert(n.clone(), m.as_bytes().to_vec());
            }
        }
        for (group, value, pattern) in &self.recorded {
            if let Some(m) = c.name(group)
                && m.as_bytes() != value.as_slice()
            {
                out.recorded.push(RecordedDiff {
                    pattern: pattern.clone(),
                    recorded: value.clone(),
                    got: m.as_bytes().to_vec(),
                });
            }
        }
        Some(out)
    }
}

impl fmt::Debug for LineMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineMatcher")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// [`line_regex`] with an extra group around every pattern that records a value.
fn line_regex_recording(
    text: &Text,
    bindings: &Bindings,
) -> Result<(Regex, Vec<String>), BindError> {
    let mut src = String::from("(?-u)^(?:");
    let mut names = Vec::new();
    let mut recorded = 0usize;
    let mut differs = 0usize;
    for p in &text.0 {
        match p {
            Piece::Lit(b) => escape_regex_bytes(b, &mut src),
            Piece::Var { name, default } => {
                escape_regex_bytes(bindings.value(name, default)?, &mut src);
            }
            Piece::Pattern(pat) => {
                let rec = pat.recorded.is_some();
                if rec {
                    src.push_str(&format!("(?P<__recorded{recorded}>"));
                    recorded += 1;
                }
                let dif = pat.differs.is_some();
                if dif {
                    src.push_str(&format!("(?P<__differs{differs}>"));
                    differs += 1;
                }
                match &pat.capture {
                    Some(n) => {
                        src.push_str(&format!("(?P<{n}>"));
                        names.push(n.clone());
                    }
                    None => src.push_str("(?:"),
                }
                src.push_str(&kind_regex(&pat.kind));
                src.push(')');
                if dif {
                    src.push(')');
                }
                if rec {
                    src.push(')');
                }
            }
        }
    }
    src.push_str(")$");
    Regex::new(&src)
        .map(|re| (re, names))
        .map_err(|_| BindError::Pattern(escape_bytes(src.as_bytes())))
}

/// One unit of a compiled expectation.
#[derive(Clone, Debug)]
enum Token {
    /// Exact bytes (framing, literal lines).
    Bytes(Vec<u8>),
    /// The content of one line (up to, not including, the next `\r`) must fully match.
    Line {
        re: Regex,
        names: Vec<String>,
        shown: String,
    },
}

/// Outcome of matching received bytes against a [`Matcher`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchStatus {
    /// The expectation is met by the first `len` bytes.
    Complete {
        /// Bytes consumed.
        len: usize,
        /// Values captured by `{kind:name}` patterns.
        captures: Captures,
    },
    /// Everything received so far agrees; more bytes are needed.
    Partial,
    /// The bytes differ from the expectation at byte `offset`.
    Mismatch {
        /// Offset of the first byte that cannot match.
        offset: usize,
    },
}

/// A compiled group of expected lines: exact bytes per W1 with pattern holes.
///
/// ```
/// use at_scenario::{load_str, Bindings, Matcher, MatchStatus, StepKind};
/// let sc = load_str("x.scn", "title: t\nsource: 000 §2.2.5\nprofiles: ec25\n\
///     > AT\n< +QFUPL: 200,{int:checksum}\n< OK\n").unwrap();
/// let StepKind::Expect(e) = &sc.steps[1].kind else { panic!() };
/// let m = Matcher::new(&e.lines, &Bindings::new()).unwrap();
/// let got = b"\r\n+QFUPL: 200,707\r\n\r\nOK\r\n";
/// assert_eq!(m.matches(got).unwrap().get("checksum"), Some(&b"707"[..]));
/// assert_eq!(m.match_prefix(&got[..9]), MatchStatus::Partial);
/// assert_eq!(m.match_prefix(b"\r\nERROR\r\n"), MatchStatus::Mismatch { offset: 2 });
/// ```
#[derive(Clone)]
pub struct Matcher {
    tokens: Vec<Token>,
    display: String,
}

impl Matcher {
    /// Compiles `lines` (already filtered for the profile) with `bindings` for `${VAR}`s.
    pub fn new<'a>(
        lines: impl IntoIterator<Item = &'a ExpectedLine>,
        bindings: &Bindings,
    ) -> Result<Matcher, BindError> {
        let mut tokens = Vec::new();
        let mut lit = Vec::new();
        let mut in_block = false;
        let mut display_lines = Vec::new();
        for line in lines {
            display_lines.push(bindings.display(&line.text));
            let content = if line.text.has_pattern() {
                let (re, names) = line_regex(&line.text, bindings)?;
                Token::Line {
                    re,
                    names,
                    shown: bindings.display(&line.text),
                }
            } else {
                Token::Bytes(bindings.render(&line.text)?)
            };
            let push = |lit: &mut Vec<u8>, tokens: &mut Vec<Token>| match content {
                Token::Bytes(b) => lit.extend_from_slice(&b),
                hole => {
                    if !lit.is_empty() {
                        tokens.push(Token::Bytes(std::mem::take(lit)));
                    }
                    tokens.push(hole);
                }
            };
            match line.frame {
                FrameKind::Info => {
                    if !in_block {
                        lit.extend_from_slice(b"\r\n");
                        in_block = true;
                    }
                    push(&mut lit, &mut tokens);
                    lit.extend_from_slice(b"\r\n");
                }
                FrameKind::Final | FrameKind::Urc => {
                    in_block = false;
                    lit.extend_from_slice(b"\r\n");
                    push(&mut lit, &mut tokens);
                    lit.extend_from_slice(b"\r\n");
                }
                FrameKind::Raw => {
                    in_block = false;
                    push(&mut lit, &mut tokens);
                }
            }
        }
        if !lit.is_empty() {
            tokens.push(Token::Bytes(lit));
        }
        Ok(Matcher {
            tokens,
            display: display_lines.join("\n"),
        })
    }

    /// A matcher for one URC line framed alone (W1), e.g. an `@allow-urc` text.
    pub fn urc(text: &Text, bindings: &Bindings) -> Result<Matcher, BindError> {
        let line = ExpectedLine {
            frame: FrameKind::Urc,
            text: text.clone(),
            only: None,
            span: crate::model::Span::default(),
            evidence: crate::Evidence::default(),
        };
        Matcher::new([&line], bindings)
    }

    /// The expected lines for people (secrets redacted, patterns as `{kind}`), one per line.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The expected bytes, escaped as in scenario files (`\r\n`), patterns as `{kind}`, secrets
    /// redacted with `bindings` (the same ones the matcher was built with).
    pub fn expected_display(&self, bindings: &Bindings) -> String {
        let mut out = String::new();
        for t in &self.tokens {
            match t {
                Token::Bytes(b) => out.push_str(&bindings.redact(&escape_bytes(b))),
                Token::Line { shown, .. } => out.push_str(shown),
            }
        }
        out
    }

    /// The expected bytes if the group has no pattern.
    pub fn literal(&self) -> Option<&[u8]> {
        match self.tokens.as_slice() {
            [] => Some(&[]),
            [Token::Bytes(b)] => Some(b),
            _ => None,
        }
    }

    /// Matches the start of `buf`: complete, needs more bytes, or mismatch at an offset.
    pub fn match_prefix(&self, buf: &[u8]) -> MatchStatus {
        let mut pos = 0;
        let mut captures = Captures::default();
        for t in &self.tokens {
            let rest = buf.get(pos..).unwrap_or_default();
            match t {
                Token::Bytes(lit) => {
                    let n = rest.len().min(lit.len());
                    if let Some(i) = (0..n).find(|&i| rest.get(i) != lit.get(i)) {
                        return MatchStatus::Mismatch { offset: pos + i };
                    }
                    if n < lit.len() {
                        return MatchStatus::Partial;
                    }
                    pos += lit.len();
                }
                Token::Line { re, names, .. } => {
                    let Some(end) = memchr_cr(rest) else {
                        return match rest.iter().position(|&b| b == b'\n') {
                            Some(i) => MatchStatus::Mismatch { offset: pos + i },
                            None => MatchStatus::Partial,
                        };
                    };
                    let line = rest.get(..end).unwrap_or_default();
                    let Some(c) = re.captures(line) else {
                        return MatchStatus::Mismatch { offset: pos };
                    };
                    for n in names {
                        if let Some(m) = c.name(n) {
                            captures.0.insert(n.clone(), m.as_bytes().to_vec());
                        }
                    }
                    pos += end;
                }
            }
        }
        MatchStatus::Complete { len: pos, captures }
    }

    /// Whether `buf` is exactly the expectation; the captures if so.
    pub fn matches(&self, buf: &[u8]) -> Option<Captures> {
        match self.match_prefix(buf) {
            MatchStatus::Complete { len, captures } if len == buf.len() => Some(captures),
            _ => None,
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher")
            .field("display", &self.display)
            .finish_non_exhaustive()
    }
}

fn memchr_cr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\r')
}

/// The regex source a pattern kind stands for (bytes mode, never matching CR or LF).
pub(crate) fn kind_regex(kind: &PatternKind) -> String {
    match kind {
        PatternKind::Int => "-?[0-9]+".into(),
        PatternKind::Hex => "[0-9A-Fa-f]+".into(),
        PatternKind::Ip => {
            r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}".into()
        }
        PatternKind::Str => r#"[^"\r\n]*"#.into(),
        PatternKind::Any => r"[^\r\n]*".into(),
        PatternKind::Regex(r) => format!("(?:{r})"),
    }
}

fn escape_regex_bytes(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
}

/// Compiles one line with patterns into an anchored bytes regex.
pub(crate) fn line_regex(
    text: &Text,
    bindings: &Bindings,
) -> Result<(Regex, Vec<String>), BindError> {
    let mut src = String::from("(?-u)^(?:");
    let mut names = Vec::new();
    for p in &text.0 {
        match p {
            Piece::Lit(b) => escape_regex_bytes(b, &mut src),
            Piece::Var { name, default } => {
                escape_regex_bytes(bindings.value(name, default)?, &mut src);
            }
            Piece::Pattern(Pattern { kind, capture, .. }) => {
                match capture {
                    Some(n) => {
                        src.push_str(&format!("(?P<{n}>"));
                        names.push(n.clone());
                    }
                    None => src.push_str("(?:"),
                }
                src.push_str(&kind_regex(kind));
                src.push(')');
            }
        }
    }
    src.push_str(")$");
    // The loader validated every pattern, so this only fails on duplicate capture names in
    // texts built by hand; report them as a pattern error.
    Regex::new(&src)
        .map(|re| (re, names))
        .map_err(|_| BindError::Pattern(escape_bytes(src.as_bytes())))
}

impl Text {
    /// Whether the text holds a pattern.
    pub fn has_pattern(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Pattern(_)))
    }

    /// Whether the text holds a `${VAR}` reference.
    pub fn has_var(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Var { .. }))
    }

    /// The literal bytes if the text has neither variables nor patterns.
    pub fn as_literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Lit(b) => out.extend_from_slice(b),
                _ => return None,
            }
        }
        Some(out)
    }
}

impl Pattern {
    /// `int`, `hex`, `ip`, `str`, `any`, `re`.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            PatternKind::Int => "int",
            PatternKind::Hex => "hex",
            PatternKind::Ip => "ip",
            PatternKind::Str => "str",
            PatternKind::Any => "any",
            PatternKind::Regex(_) => "re",
        }
    }
}

/// The pattern as written inside `{…}`: `int:name=10`, `re=1:[15]`.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let recorded = self
            .recorded
            .as_deref()
            .map(|v| String::from_utf8_lossy(v).into_owned());
        match (&self.kind, &recorded) {
            (PatternKind::Regex(r), Some(v)) => return write!(f, "re={v}:{r}"),
            (PatternKind::Regex(r), None) => return write!(f, "re:{r}"),
            _ => f.write_str(self.kind_name())?,
        }
        if let Some(c) = &self.capture {
            write!(f, ":{c}")?;
        }
        if let Some(v) = recorded {
            write!(f, "={v}")?;
        }
        if let Some(d) = &self.differs {
            write!(f, "!{d}")?;
        }
        Ok(())
    }
}
