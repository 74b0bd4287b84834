//! Variable bindings, rendering of [`Text`] and redaction of secrets.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Piece, REDACTED, Scenario, Text};

/// Values of variables and captures during one run of a scenario.
///
/// Built from the scenario's declarations and an environment lookup; captures add to it as the
/// run goes. `Debug` never shows a secret value.
///
/// ```
/// use at_scenario::{load_str, Bindings};
/// let sc = load_str("x.scn", "title: t\nsource: 000 §3.1\nprofiles: ec25\n\
///     @secret PASSWORD = wq664551\n> AT+QSMTPCFG=\"account\",\"u\",\"${PASSWORD}\"\n< OK\n").unwrap();
/// let b = Bindings::for_scenario(&sc, |_| None).unwrap();
/// assert_eq!(b.redact("pw=wq664551"), "pw=<redacted>");
/// ```
#[derive(Clone, Default)]
pub struct Bindings {
    values: BTreeMap<String, Binding>,
}

#[derive(Clone)]
struct Binding {
    value: Vec<u8>,
    secret: bool,
}

/// Rendering a [`Text`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindError {
    /// A `${NAME}` with no value, no declared default and no inline default.
    #[error(
        "variable `{0}` is not set (declare a default with `@var {0} = ...` or set it in the environment)"
    )]
    Unbound(String),
    /// A pattern where exact bytes are needed (a send line, `expected_bytes`).
    #[error("`{{{0}}}` is a pattern; exact bytes are needed here")]
    Pattern(String),
}

impl Bindings {
    /// No bindings.
    pub fn new() -> Bindings {
        Bindings::default()
    }

    /// Binds every declared variable: the environment's value (`env(NAME)`), else the default.
    /// A declared variable with neither is an error.
    pub fn for_scenario(
        scenario: &Scenario,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Bindings, BindError> {
        let mut b = Bindings::new();
        for v in &scenario.vars {
            let value = env(&v.name)
                .or_else(|| v.default.clone())
                .ok_or_else(|| BindError::Unbound(v.name.clone()))?;
            b.set(&v.name, value, v.secret);
        }
        Ok(b)
    }

    /// Sets `name` (replacing any earlier value).
    pub fn set(&mut self, name: &str, value: impl Into<Vec<u8>>, secret: bool) {
        let value = value.into();
        self.values
            .insert(name.to_owned(), Binding { value, secret });
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.values.get(name).map(|b| b.value.as_slice())
    }

    /// Whether `name` is bound to a secret.
    pub fn is_secret(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|b| b.secret)
    }

    /// Adds captures from a match.
    pub fn extend(&mut self, captures: &Captures) {
        for (k, v) in &captures.0 {
            self.set(k, v.clone(), false);
        }
    }

    /// The exact bytes of `text`; patterns are an error.
    pub fn render(&self, text: &Text) -> Result<Vec<u8>, BindError> {
        let mut out = Vec::new();
        for p in &text.0 {
            match p {
                Piece::Lit(b) => out.extend_from_slice(b),
                Piece::Var { name, default } => out.extend_from_slice(self.value(name, default)?),
                Piece::Pattern(pat) => return Err(BindError::Pattern(pat.to_string())),
            }
        }
        Ok(out)
    }

    /// `text` for people: secrets as `<redacted>`, patterns as `{kind}`, control bytes escaped
    /// as in scenario files (`\r`, `\n`, `\xNN`). Unbound variables show as `${NAME}`.
    pub fn display(&self, text: &Text) -> String {
        let mut out = String::new();
        for p in &text.0 {
            match p {
                Piece::Lit(b) => out.push_str(&escape_bytes(b)),
                Piece::Var { name, default } => match self.value(name, default) {
                    Ok(_) if self.is_secret(name) => out.push_str(REDACTED),
                    Ok(v) => out.push_str(&escape_bytes(v)),
                    Err(_) => {
                        out.push_str("${");
                        out.push_str(name);
                        out.push('}');
                    }
                },
                Piece::Pattern(pat) => {
                    out.push('{');
                    out.push_str(&pat.to_string());
                    out.push('}');
                }
            }
        }
        out
    }

    pub(crate) fn value<'a>(
        &'a self,
        name: &str,
        default: &'a Option<String>,
    ) -> Result<&'a [u8], BindError> {
        match (self.values.get(name), default) {
            (Some(b), _) => Ok(&b.value),
            (None, Some(d)) => Ok(d.as_bytes()),
            (None, None) => Err(BindError::Unbound(name.to_owned())),
        }
    }

    /// The secret values, as [`at_wire::redact::Secrets`] matches them everywhere (as is and
    /// in base64, as sent in SMTP `AUTH` or a base64 body).
    pub fn secrets(&self) -> at_wire::redact::Secrets {
        let mut set = at_wire::redact::Secrets::new();
        for b in self.values.values().filter(|b| b.secret) {
            set.add(&b.value);
        }
        set
    }

    /// `s` with every secret value (and its base64 forms) replaced by `<redacted>`.
    pub fn redact(&self, s: &str) -> String {
        let out = self.redact_bytes(s.as_bytes());
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// `bytes` with every secret value (and its base64 forms) replaced by `<redacted>`.
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        self.secrets().scrub(bytes)
    }
}

impl fmt::Debug for Bindings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, b) in &self.values {
            if b.secret {
                m.entry(k, &REDACTED);
            } else {
                m.entry(k, &String::from_utf8_lossy(&b.value));
            }
        }
        m.finish()
    }
}

/// Values captured by `{kind:name}` patterns in one match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captures(pub BTreeMap<String, Vec<u8>>);

impl Captures {
    /// The captured bytes of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(Vec::as_slice)
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Escapes bytes the way scenario files write them: `\r`, `\n`, `\t`, `\\`, `\xNN` for other
/// control and non-UTF-8 bytes; printable text (UTF-8 included) as is.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02X}", c as u32));
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}
