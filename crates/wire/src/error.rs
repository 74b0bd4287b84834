//! The grammar's error type: where, and what was expected.

use core::fmt;

/// A syntax error: byte offset into the parsed input plus the kind of error.
///
/// Small and `Copy` (httparse style); [`ErrorKind::description`] is a static string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParseError {
    /// Byte offset of the offending byte (or of the construct left open) in the input.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) const fn new(offset: usize, kind: ErrorKind) -> Self {
        ParseError { offset, kind }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.description(), self.offset)
    }
}

impl core::error::Error for ParseError {}

/// One variant per place in the grammar where parsing can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line does not start with `AT` (any case).
    MissingPrefix,
    /// A byte that cannot start a command.
    UnexpectedByte,
    /// `+`/`#` not followed by a command name.
    EmptyName,
    /// A basic command number that does not fit.
    NumberTooLarge,
    /// `S<n>` not followed by `?`, `=?` or `=<value>`.
    BadSRegister,
    /// A quoted string with no closing quote.
    UnterminatedString,
    /// A `"` or CR where a string cannot hold it.
    InvalidStringByte,
    /// After a parameter, something other than `,`, `;` or the end.
    ExpectedSeparator,
    /// A quote, parenthesis, CR or LF (or `;` in a response) inside an unquoted word.
    InvalidWordByte,
    /// An unquoted word with no bytes.
    EmptyWord,
    /// A word spelled like a number or range (it would parse as one).
    AmbiguousWord,
    /// A `(` with no matching `)`.
    UnterminatedList,
    /// Nothing between two commas in a parenthesised list.
    EmptyListItem,
    /// A hex string with an odd number of digits.
    OddHexLength,
    /// A byte that is not a hex digit in a hex string.
    InvalidHexDigit,
    /// A line or payload longer than the configured maximum.
    TooLong,
    /// An information response without `: ` after its prefix.
    MissingColon,
}

impl ErrorKind {
    /// A short, static description.
    pub const fn description(self) -> &'static str {
        match self {
            ErrorKind::MissingPrefix => "expected `AT` prefix",
            ErrorKind::UnexpectedByte => "unexpected byte, expected a command",
            ErrorKind::EmptyName => "expected a command name after `+` or `#`",
            ErrorKind::NumberTooLarge => "number too large",
            ErrorKind::BadSRegister => "expected `?`, `=?` or `=<value>` after S-register",
            ErrorKind::UnterminatedString => "unterminated quoted string",
            ErrorKind::InvalidStringByte => "`\"` or CR inside a quoted string",
            ErrorKind::ExpectedSeparator => "expected `,`, `;` or end of line after parameter",
            ErrorKind::InvalidWordByte => "invalid byte in unquoted parameter",
            ErrorKind::EmptyWord => "empty unquoted word",
            ErrorKind::AmbiguousWord => "word spelled like a number or range",
            ErrorKind::UnterminatedList => "unterminated parenthesised list",
            ErrorKind::EmptyListItem => "empty item in parenthesised list",
            ErrorKind::OddHexLength => "odd number of hex digits",
            ErrorKind::InvalidHexDigit => "invalid hex digit",
            ErrorKind::TooLong => "line longer than the configured maximum",
            ErrorKind::MissingColon => "expected `: ` after response prefix",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}
