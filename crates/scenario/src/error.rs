//! Loader errors: `file:line:col`, a label in the source and a hint (miette).

use std::fmt;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

/// The kind of a loader error, one per place in the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The file is not UTF-8.
    Encoding,
    /// A line that is not a header, step, directive, block entry or comment.
    Syntax,
    /// `key:` header not known.
    UnknownHeader,
    /// Header given twice.
    DuplicateHeader,
    /// A header after the first step.
    HeaderAfterStep,
    /// A required header is missing.
    MissingHeader,
    /// `@name` not known.
    UnknownDirective,
    /// A key inside a `@mail`/`@smtp` block, or an option (`key=value`), not known.
    UnknownKey,
    /// A value that does not parse (number, on/off, enum...).
    BadValue,
    /// A duration that does not parse.
    BadDuration,
    /// A backslash escape that is not known.
    BadEscape,
    /// `{...}` not a known pattern, or a bad regex.
    BadPattern,
    /// A pattern where exact bytes are needed (send lines, raw lines, data).
    PatternNotAllowed,
    /// `${NAME}` never declared, captured nor defaulted before this point.
    UnknownVariable,
    /// A name declared twice.
    Duplicate,
    /// Profile name or group not known.
    UnknownProfile,
    /// `@within` not followed by an expectation.
    DanglingWithin,
    /// A `@data file(...)` that does not exist.
    MissingFile,
    /// A `@data file(...)` outside the scenario's data folder (absolute, `..`, or a symlink out).
    OutsideData,
    /// The scenario has no steps.
    Empty,
    /// A `[...]` evidence, `source:` or `errata:` item that cites nothing known: a malformed
    /// citation, an ERRATA id `ERRATA.md` lacks, a limit without a citation.
    BadEvidence,
}

impl ErrorKind {
    /// Stable diagnostic code, e.g. `scenario::unknown_directive`.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::Io => "scenario::io",
            ErrorKind::Encoding => "scenario::encoding",
            ErrorKind::Syntax => "scenario::syntax",
            ErrorKind::UnknownHeader => "scenario::unknown_header",
            ErrorKind::DuplicateHeader => "scenario::duplicate_header",
            ErrorKind::HeaderAfterStep => "scenario::header_after_step",
            ErrorKind::MissingHeader => "scenario::missing_header",
            ErrorKind::UnknownDirective => "scenario::unknown_directive",
            ErrorKind::UnknownKey => "scenario::unknown_key",
            ErrorKind::BadValue => "scenario::bad_value",
            ErrorKind::BadDuration => "scenario::bad_duration",
            ErrorKind::BadEscape => "scenario::bad_escape",
            ErrorKind::BadPattern => "scenario::bad_pattern",
            ErrorKind::PatternNotAllowed => "scenario::pattern_not_allowed",
            ErrorKind::UnknownVariable => "scenario::unknown_variable",
            ErrorKind::Duplicate => "scenario::duplicate",
            ErrorKind::UnknownProfile => "scenario::unknown_profile",
            ErrorKind::DanglingWithin => "scenario::dangling_within",
            ErrorKind::MissingFile => "scenario::missing_file",
            ErrorKind::OutsideData => "scenario::outside_data",
            ErrorKind::Empty => "scenario::empty",
            ErrorKind::BadEvidence => "scenario::bad_evidence",
        }
    }
}

/// A scenario file could not be loaded. `Display` is `file:line:col: message`; `Debug` is the
/// full miette report (source excerpt, label, help), so `{:?}` prints what a person needs.
pub struct LoadError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    help: Option<String>,
    file: String,
    line: u32,
    col: u32,
    span: SourceSpan,
    src: NamedSource<String>,
}

impl LoadError {
    pub(crate) fn new(
        kind: ErrorKind,
        file: &str,
        src: &str,
        offset: usize,
        len: usize,
        message: impl Into<String>,
    ) -> LoadError {
        let offset = offset.min(src.len());
        let len = len.min(src.len() - offset);
        let (line, col) = line_col(src, offset);
        LoadError(Box::new(Inner {
            kind,
            message: message.into(),
            help: None,
            file: file.to_owned(),
            line,
            col,
            span: SourceSpan::new(offset.into(), len),
            src: NamedSource::new(file, src.to_owned()),
        }))
    }

    /// What went wrong, by grammar place.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The file name as given.
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// 1-based line, 0 when the error is about the whole file.
    pub fn line(&self) -> u32 {
        self.0.line
    }

    /// 1-based column in characters, 0 when the error is about the whole file.
    pub fn col(&self) -> u32 {
        self.0.col
    }

    /// A hint on how to fix it.
    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// An error about the whole file (unreadable, not UTF-8).
    pub(crate) fn whole_file(kind: ErrorKind, file: &str, message: impl Into<String>) -> LoadError {
        let mut e = LoadError::new(kind, file, "", 0, 0, message);
        e.0.line = 0;
        e.0.col = 0;
        e
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> LoadError {
        self.0.help = Some(help.into());
        self
    }
}

/// 1-based line and character column of `offset` in `src`.
pub(crate) fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        if e.line == 0 {
            write!(f, "{}: {}", e.file, e.message)
        } else {
            write!(f, "{}:{}:{}: {}", e.file, e.line, e.col, e.message)
        }
    }
}

impl std::error::Error for LoadError {}

impl Diagnostic for LoadError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.0.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        if self.0.line == 0 {
            None
        } else {
            Some(&self.0.src)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.0.line == 0 {
            return None;
        }
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".to_owned()),
            self.0.span,
        ))))
    }
}

/// Several files failed to load (`load_dir`); each error is a related diagnostic. `Debug` renders
/// every report.
pub struct LoadErrors(pub Vec<LoadError>);

/// Renders a diagnostic as miette's graphical report without colours (deterministic).
fn render(d: &dyn Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, d)?;
    f.write_str(out.trim_end())
}

impl fmt::Debug for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(self, f)
    }
}

impl fmt::Debug for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            render(e, f)?;
        }
        Ok(())
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} scenario file(s) failed to load", self.0.len())
    }
}

impl std::error::Error for LoadErrors {}

impl Diagnostic for LoadErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("scenario::load"))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.0.iter().map(|e| e as &dyn Diagnostic)))
    }
}
