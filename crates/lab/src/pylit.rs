//! Python literals as `pprint.pformat` prints them (`labgrid-client show` prints each
//! resource's attributes that way): dicts, lists, tuples, strings (adjacent literals joined),
//! numbers, `True`/`False`/`None`. Bounded nesting; errors, never panics.

use std::collections::BTreeMap;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;

/// A Python value.
#[derive(Clone, Debug, PartialEq)]
pub enum Py {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list or tuple.
    List(Vec<Py>),
    /// A dict with string keys (other keys are rendered as text).
    Dict(BTreeMap<String, Py>),
}

impl Py {
    /// The value under `key` of a dict.
    pub fn get(&self, key: &str) -> Option<&Py> {
        match self {
            Py::Dict(d) => d.get(key),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Py::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one (or a string of digits).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Py::Int(i) => Some(*i),
            Py::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Py::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn key_text(&self) -> String {
        match self {
            Py::Str(s) => s.clone(),
            Py::Int(i) => i.to_string(),
            Py::Float(f) => f.to_string(),
            Py::Bool(b) => if *b { "True" } else { "False" }.into(),
            Py::None => "None".into(),
            Py::List(_) | Py::Dict(_) => "<composite>".into(),
        }
    }
}

/// Why a Python literal does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at} of a Python literal")]
pub struct PyError {
    /// What is wrong (`unterminated string`).
    pub what: &'static str,
    /// The byte offset where it was noticed.
    pub at: usize,
}

/// Parses one literal (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Py, PyError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing text"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> PyError {
        PyError { what, at: self.i }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Py, PyError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut d = BTreeMap::new();
                loop {
                    if self.eat(b'}') {
                        return Ok(Py::Dict(d));
                    }
                    let k = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    let v = self.value(depth + 1)?;
                    d.insert(k.key_text(), v);
                    if !self.eat(b',') && !matches!(self.peek_ws(), Some(b'}')) {
                        return Err(self.err("expected ',' or '}'"));
                    }
                }
            }
            Some(open @ (b'[' | b'(')) => {
                self.i += 1;
                let close = if open == b'[' { b']' } else { b')' };
                let mut items = Vec::new();
                let mut comma = false;
                loop {
                    if self.eat(close) {
                        // `(x)` is x; `(x,)` and `[x]` are sequences.
                        if open == b'(' && items.len() == 1 && !comma {
                            return Ok(items.pop().unwrap_or(Py::None));
                        }
                        return Ok(Py::List(items));
                    }
                    items.push(self.value(depth + 1)?);
                    comma = self.eat(b',');
                    if !comma && self.peek_ws() != Some(close) {
                        return Err(self.err("expected ',' or a closing bracket"));
                    }
                }
            }
            Some(b'\'' | b'"') => {
                // Adjacent literals are one string (pformat splits long ones).
                let mut s = self.string()?;
                while matches!(self.peek_ws(), Some(b'\'' | b'"')) {
                    self.ws();
                    s.push_str(&self.string()?);
                }
                Ok(Py::Str(s))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.i += 1;
                }
                match self.s.get(start..self.i) {
                    Some(b"None") => Ok(Py::None),
                    Some(b"True") => Ok(Py::Bool(true)),
                    Some(b"False") => Ok(Py::Bool(false)),
                    _ => Err(self.err("unknown name")),
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => self.number(),
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end")),
        }
    }

    fn peek_ws(&mut self) -> Option<u8> {
        self.ws();
        self.peek()
    }

    fn number(&mut self) -> Result<Py, PyError> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-._".contains(&c))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default())
            .map_err(|_| self.err("bad number"))?
            .replace('_', "");
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Py::Int(i));
        }
        text.parse::<f64>()
            .map(Py::Float)
            .map_err(|_| self.err("bad number"))
    }

    fn string(&mut self) -> Result<String, PyError> {
        let Some(quote) = self.peek() else {
            return Err(self.err("expected a string"));
        };
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.i += 1;
            if c == quote {
                return String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"));
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated escape"));
            };
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b'\\' | b'\'' | b'"' => out.push(e),
                b'x' | b'u' | b'U' => {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = self
                        .s
                        .get(self.i..self.i + n)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .ok_or_else(|| self.err("bad escape"))?;
                    self.i += n;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(hex.encode_utf8(&mut buf).as_bytes());
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pformat_output_parses() {
        let text = "{'acquired': 'ec25-b',\n   'avail': True,\n   'cls': 'NetworkSerialPort',\n   \
                    'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},\n              \
                    'host': '127.0.0.1',\n              'port': 40002,\n              \
                    'protocol': 'rfc2217',\n              'speed': 115200}}";
        let v = parse(text).unwrap();
        let params = v.get("params").unwrap();
        assert_eq!(params.get("port").and_then(Py::as_int), Some(40002));
        assert_eq!(params.get("protocol").and_then(Py::as_str), Some("rfc2217"));
        assert_eq!(
            params
                .get("extra")
                .and_then(|e| e.get("proxy_required"))
                .and_then(Py::as_bool),
            Some(false)
        );
        assert_eq!(v.get("acquired").and_then(Py::as_str), Some("ec25-b"));
    }

    #[test]
    fn strings_tuples_and_numbers() {
        assert_eq!(
            parse("('abc'\n 'def', \"x\\ny\\x41\\u00e9\", -3, 1.5, None, (1,), [], ())").unwrap(),
            Py::List(vec![
                Py::Str("abcdef".into()),
                Py::Str("x\nyAé".into()),
                Py::Int(-3),
                Py::Float(1.5),
                Py::None,
                Py::List(vec![Py::Int(1)]),
                Py::List(vec![]),
                Py::List(vec![]),
            ])
        );
        assert_eq!(parse("(7)").unwrap(), Py::Int(7));
        for bad in ["{", "{'a' 1}", "[1 2]", "'abc", "nope", "{'a': 1} x", ""] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(parse(&deep).unwrap_err().what, "nested too deeply");
    }
}
