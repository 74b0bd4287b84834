//! Parameters of set commands and information responses.
//!
//! One grammar serves both directions (000 §2.1.2, table 2): a comma-separated list whose
//! elements are decimal integers, `0x` hex integers, quoted strings, unquoted words,
//! parenthesised lists/ranges (test responses, `(1-16)`, `(0,1)`) or nothing (omitted).
//!
//! Quoted strings have **no escape mechanism** (ERRATA W3): a string runs from a `"` to the next
//! `"`; a `"` can therefore never be part of a string, and a byte after a closing quote other than
//! `,` (or `;`/end of a command) is a syntax error. Bytes above 0x7F are kept as they are.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{ErrorKind, ParseError};

/// One parameter of a set command or an information response.
///
/// Each variant has exactly one spelling, so `parse(encode(p)) == p`; and since the parser
/// classifies a token by its exact bytes (`007` is a [`Word`], not `Int(7)`), every accepted
/// parameter list re-encodes to the bytes it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// Canonical decimal integer: `0`, `42`, `-7` (no `+`, no leading zeros).
    Int(i64),
    /// Unquoted hexadecimal integer as typed, e.g. `0xffff` (000 §3.2 `AT+QSSLCFG="ciphersuite",1,0xffff`).
    HexInt(HexInt),
    /// Quoted string, stored without its quotes.
    Str(QStr),
    /// Unquoted text that is not a number, e.g. `<username>` in a test response (ERRATA E7).
    Word(Word),
    /// Nothing between two separators (`1,,3`), or after a trailing comma.
    Omitted,
    /// Parenthesised list as printed in test responses: `(1-16)`, `(0,1)`, `(0-3,5)`, `("a","b")`.
    List(Vec<ListItem>),
}

/// One element of a parenthesised [`Param::List`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListItem {
    /// A canonical decimal integer.
    Int(i64),
    /// An inclusive range `a-b` of non-negative canonical integers.
    Range(u64, u64),
    /// A quoted string.
    Str(QStr),
    /// Unquoted text.
    Word(Word),
}

/// Contents of a quoted string: any bytes except `"` and CR (ERRATA W3).
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct QStr(Vec<u8>);

/// Unquoted non-numeric token: non-empty, none of `, ; " ( )` CR LF, and not spelled like an
/// integer, a hex integer or a range.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Word(Vec<u8>);

/// Unquoted hexadecimal integer, kept as typed (`0x`/`0X`, 1 to 16 digits in either case).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HexInt {
    upper_x: bool,
    digits: String,
}

impl QStr {
    /// Wraps `bytes`; fails (offset into `bytes`) on a `"` or CR, which no string can hold.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<QStr, ParseError> {
        let bytes = bytes.into();
        if let Some(i) = bytes.iter().position(|&b| b == b'"' || b == b'\r') {
            return Err(ParseError::new(i, ErrorKind::InvalidStringByte));
        }
        Ok(QStr(bytes))
    }
    /// The bytes between the quotes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The contents as UTF-8, if they are.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.0).ok()
    }
    /// Consumes the string, returning its bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for QStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

impl Word {
    /// Wraps `bytes` if they form a valid unquoted word (see the type doc).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Word, ParseError> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(ParseError::new(0, ErrorKind::EmptyWord));
        }
        if bytes.first() == Some(&b'?') {
            // `=?x` would read as a test command.
            return Err(ParseError::new(0, ErrorKind::AmbiguousWord));
        }
        if let Some(i) = bytes.iter().position(|&b| is_word_delim(b) || b == b';') {
            return Err(ParseError::new(i, ErrorKind::InvalidWordByte));
        }
        if parse_canonical_int(&bytes).is_some()
            || HexInt::parse(&bytes).is_some()
            || parse_range(&bytes).is_some()
        {
            return Err(ParseError::new(0, ErrorKind::AmbiguousWord));
        }
        Ok(Word(bytes))
    }
    /// The word's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.escape_ascii())
    }
}

impl HexInt {
    /// Builds `0x<digits>` (lowercase `x`), `digits` being 1 to 16 hex digits in either case.
    pub fn new(digits: &str) -> Option<HexInt> {
        let mut b = Vec::with_capacity(digits.len() + 2);
        b.extend_from_slice(b"0x");
        b.extend_from_slice(digits.as_bytes());
        HexInt::parse(&b)
    }
    /// Parses `0x..`/`0X..` exactly (1 to 16 hex digits).
    pub fn parse(bytes: &[u8]) -> Option<HexInt> {
        let (upper_x, digits) = match bytes {
            [b'0', b'x', d @ ..] => (false, d),
            [b'0', b'X', d @ ..] => (true, d),
            _ => return None,
        };
        if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let digits = core::str::from_utf8(digits).ok()?.into();
        Some(HexInt { upper_x, digits })
    }
    /// Numeric value.
    pub fn value(&self) -> u64 {
        // Digits are validated hex, at most 16: cannot overflow or fail.
        u64::from_str_radix(&self.digits, 16).unwrap_or(0)
    }
    /// The digits after `0x`, as typed.
    pub fn digits(&self) -> &str {
        &self.digits
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.upper_x { b"0X" } else { b"0x" });
        out.extend_from_slice(self.digits.as_bytes());
    }
}

impl fmt::Debug for HexInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.upper_x { "0X" } else { "0x" })?;
        f.write_str(&self.digits)
    }
}

impl Param {
    /// A quoted-string parameter; fails on `"` or CR (ERRATA W3).
    pub fn str(bytes: impl Into<Vec<u8>>) -> Result<Param, ParseError> {
        QStr::new(bytes).map(Param::Str)
    }
    /// The integer value of `Int`, or of `HexInt` if it fits an `i64`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Param::Int(n) => Some(*n),
            Param::HexInt(h) => i64::try_from(h.value()).ok(),
            _ => None,
        }
    }
    /// The bytes of a quoted string (`Str`), without the quotes.
    pub fn as_str_bytes(&self) -> Option<&[u8]> {
        match self {
            Param::Str(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
    /// The bytes of an unquoted word.
    pub fn as_word(&self) -> Option<&[u8]> {
        match self {
            Param::Word(w) => Some(w.as_bytes()),
            _ => None,
        }
    }
    /// Whether the parameter was left out.
    pub fn is_omitted(&self) -> bool {
        matches!(self, Param::Omitted)
    }
    /// `(a-b)`: the bounds of a list holding exactly one range.
    pub fn as_range(&self) -> Option<(u64, u64)> {
        match self {
            Param::List(items) => match items.as_slice() {
                [ListItem::Range(a, b)] => Some((*a, *b)),
                _ => None,
            },
            _ => None,
        }
    }
    /// The items of a parenthesised list.
    pub fn as_list(&self) -> Option<&[ListItem]> {
        match self {
            Param::List(items) => Some(items),
            _ => None,
        }
    }

    /// Appends the parameter's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Param::Int(n) => push_i64(out, *n),
            Param::HexInt(h) => h.encode(out),
            Param::Str(s) => push_quoted(out, s),
            Param::Word(w) => out.extend_from_slice(&w.0),
            Param::Omitted => {}
            Param::List(items) => {
                out.push(b'(');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.encode(out);
                }
                out.push(b')');
            }
        }
    }
}

impl ListItem {
    /// Appends the item's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ListItem::Int(n) => push_i64(out, *n),
            ListItem::Range(a, b) => {
                push_u64(out, *a);
                out.push(b'-');
                push_u64(out, *b);
            }
            ListItem::Str(s) => push_quoted(out, s),
            ListItem::Word(w) => out.extend_from_slice(&w.0),
        }
    }
    /// Whether `n` is this integer or inside this range.
    pub fn contains(&self, n: i64) -> bool {
        match self {
            ListItem::Int(v) => *v == n,
            ListItem::Range(a, b) => u64::try_from(n).is_ok_and(|n| *a <= n && n <= *b),
            _ => false,
        }
    }
}

/// Encodes `params` comma-separated (the bytes after `=` or after `+NAME: `).
pub fn encode_params(params: &[Param], out: &mut Vec<u8>) {
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        p.encode(out);
    }
}

/// Where a parameter list sits, which decides what ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// In a command line: `;` ends the list (next command follows).
    Command,
    /// In an information response: the list runs to the end of the line.
    Response,
}

/// Parses a comma-separated parameter list running to the end of `bytes` (as after `+NAME: `).
///
/// Offsets in errors are relative to `bytes`.
///
/// ```
/// use at_wire::{parse_params, Param};
/// let p = parse_params(br#"1,"quectel_test@aol.com""#).unwrap();
/// assert_eq!(p[0], Param::Int(1));
/// assert_eq!(p[1].as_str_bytes(), Some(&b"quectel_test@aol.com"[..]));
/// ```
pub fn parse_params(bytes: &[u8]) -> Result<Vec<Param>, ParseError> {
    let (params, used) = parse_params_ctx(bytes, 0, Ctx::Response)?;
    debug_assert_eq!(used, bytes.len());
    Ok(params)
}

/// Parses a list starting at `bytes[start..]`; returns the params and the index after the list
/// (at a `;` in command context, or the end). Always yields at least one parameter.
pub(crate) fn parse_params_ctx(
    bytes: &[u8],
    start: usize,
    ctx: Ctx,
) -> Result<(Vec<Param>, usize), ParseError> {
    let mut params = Vec::new();
    let mut i = start;
    loop {
        let (p, next) = parse_one(bytes, i, ctx)?;
        params.push(p);
        match bytes.get(next) {
            None => return Ok((params, next)),
            Some(b',') => i = next + 1,
            Some(b';') if ctx == Ctx::Command => return Ok((params, next)),
            Some(_) => return Err(ParseError::new(next, ErrorKind::ExpectedSeparator)),
        }
    }
}

fn is_word_delim(b: u8) -> bool {
    matches!(b, b',' | b'"' | b'(' | b')' | b'\r' | b'\n')
}

fn is_end(b: u8, ctx: Ctx) -> bool {
    b == b',' || (b == b';' && ctx == Ctx::Command)
}

/// Parses one element at `i`; returns it and the index of what follows it.
fn parse_one(bytes: &[u8], i: usize, ctx: Ctx) -> Result<(Param, usize), ParseError> {
    match bytes.get(i) {
        None => Ok((Param::Omitted, i)),
        Some(b'"') => {
            let (s, next) = parse_quoted(bytes, i)?;
            Ok((Param::Str(s), next))
        }
        Some(b'(') => parse_list(bytes, i, ctx),
        Some(_) => {
            let end = token_end(bytes, i, ctx)?;
            let tok = bytes.get(i..end).unwrap_or_default();
            if tok.is_empty() {
                Ok((Param::Omitted, end))
            } else if let Some(n) = parse_canonical_int(tok) {
                Ok((Param::Int(n), end))
            } else if let Some(h) = HexInt::parse(tok) {
                Ok((Param::HexInt(h), end))
            } else {
                Ok((Param::Word(Word(tok.to_vec())), end))
            }
        }
    }
}

/// End of an unquoted token starting at `i`: the next separator or the end; a quote, paren, CR
/// or LF inside it is an error.
fn token_end(bytes: &[u8], i: usize, ctx: Ctx) -> Result<usize, ParseError> {
    let mut j = i;
    while let Some(&b) = bytes.get(j) {
        if is_end(b, ctx) {
            break;
        }
        if matches!(b, b'"' | b'(' | b')' | b'\r' | b'\n') || (b == b';' && ctx == Ctx::Response) {
            // `;` inside a response word would not round-trip through a command; reject it so
            // `Word` stays valid in both contexts.
            return Err(ParseError::new(j, ErrorKind::InvalidWordByte));
        }
        j += 1;
    }
    Ok(j)
}

/// Parses `"..."` at `i` (which holds the opening quote).
fn parse_quoted(bytes: &[u8], i: usize) -> Result<(QStr, usize), ParseError> {
    let body_start = i + 1;
    let rest = bytes.get(body_start..).unwrap_or_default();
    match memchr::memchr2(b'"', b'\r', rest) {
        Some(k) if rest.get(k) == Some(&b'"') => {
            let s = QStr(rest.get(..k).unwrap_or_default().to_vec());
            Ok((s, body_start + k + 1))
        }
        Some(k) => Err(ParseError::new(
            body_start + k,
            ErrorKind::InvalidStringByte,
        )),
        None => Err(ParseError::new(i, ErrorKind::UnterminatedString)),
    }
}

fn parse_list(bytes: &[u8], open: usize, ctx: Ctx) -> Result<(Param, usize), ParseError> {
    let mut items = Vec::new();
    let mut i = open + 1;
    if bytes.get(i) == Some(&b')') {
        return Ok((Param::List(items), i + 1));
    }
    loop {
        let (item, next) = match bytes.get(i) {
            None => return Err(ParseError::new(open, ErrorKind::UnterminatedList)),
            Some(b'"') => {
                let (s, next) = parse_quoted(bytes, i)?;
                (ListItem::Str(s), next)
            }
            Some(_) => {
                let mut j = i;
                while let Some(&b) = bytes.get(j) {
                    if b == b',' || b == b')' {
                        break;
                    }
                    if matches!(b, b'"' | b'(' | b';' | b'\r' | b'\n') {
                        return Err(ParseError::new(j, ErrorKind::InvalidWordByte));
                    }
                    j += 1;
                }
                let tok = bytes.get(i..j).unwrap_or_default();
                let item = if tok.is_empty() {
                    return Err(ParseError::new(i, ErrorKind::EmptyListItem));
                } else if let Some((a, b)) = parse_range(tok) {
                    ListItem::Range(a, b)
                } else if let Some(n) = parse_canonical_int(tok) {
                    ListItem::Int(n)
                } else {
                    match Word::new(tok) {
                        Ok(w) => ListItem::Word(w),
                        Err(e) => return Err(ParseError::new(i + e.offset, e.kind)),
                    }
                };
                (item, j)
            }
        };
        items.push(item);
        match bytes.get(next) {
            Some(b',') => i = next + 1,
            Some(b')') => {
                let after = next + 1;
                return match bytes.get(after) {
                    None => Ok((Param::List(items), after)),
                    Some(&b) if is_end(b, ctx) => Ok((Param::List(items), after)),
                    Some(_) => Err(ParseError::new(after, ErrorKind::ExpectedSeparator)),
                };
            }
            None => return Err(ParseError::new(open, ErrorKind::UnterminatedList)),
            Some(_) => return Err(ParseError::new(next, ErrorKind::ExpectedSeparator)),
        }
    }
}

/// `0`, `[1-9][0-9]*` or `-[1-9][0-9]*` that fits an `i64`.
pub(crate) fn parse_canonical_int(tok: &[u8]) -> Option<i64> {
    let (neg, digits) = match tok {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, tok),
    };
    match digits {
        [] => return None,
        [b'0'] if !neg => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    if !digits.iter().all(u8::is_ascii_digit) || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Canonical non-negative integer fitting a `u64`.
pub(crate) fn parse_canonical_u64(tok: &[u8]) -> Option<u64> {
    match tok {
        [] => return None,
        [b'0'] => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    for &d in tok {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

fn parse_range(tok: &[u8]) -> Option<(u64, u64)> {
    let dash = memchr::memchr(b'-', tok)?;
    let a = parse_canonical_u64(tok.get(..dash)?)?;
    let b = parse_canonical_u64(tok.get(dash + 1..)?)?;
    Some((a, b))
}

fn push_quoted(out: &mut Vec<u8>, s: &QStr) {
    out.push(b'"');
    out.extend_from_slice(&s.0);
    out.push(b'"');
}

pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

pub(crate) fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Decodes a hex-string parameter (000 §2.2.3 `AT+QSMTPSUB=1,"7465737420534D5450"`, which is
/// `test SMTP`, not the `TEST SMTP` the note says: ERRATA W4); either case of digits; fails on
/// an odd length or a non-hex digit (ERRATA E8).
///
/// ```
/// assert_eq!(at_wire::decode_hex_str(b"7465737420534D5450").unwrap(), b"test SMTP");
/// assert!(at_wire::decode_hex_str(b"746").is_err());
/// ```
pub fn decode_hex_str(hex: &[u8]) -> Result<Vec<u8>, ParseError> {
    if !hex.len().is_multiple_of(2) {
        return Err(ParseError::new(hex.len(), ErrorKind::OddHexLength));
    }
    let mut out = Vec::with_capacity(hex.len() / 2);
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let hi = hex_val(pair.first().copied())
            .ok_or(ParseError::new(2 * i, ErrorKind::InvalidHexDigit))?;
        let lo = hex_val(pair.get(1).copied())
            .ok_or(ParseError::new(2 * i + 1, ErrorKind::InvalidHexDigit))?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

/// Encodes bytes as an uppercase hex string (the form 000 §2.2.3 prints).
pub fn encode_hex_str(bytes: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out
}

fn hex_val(b: Option<u8>) -> Option<u8> {
    match b? {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
