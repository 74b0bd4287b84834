//! Lab variables: the values a lab gives the corpus' `@var`s (APN, SMTP server and ports,
//! account, addresses) and the `${NAME}`s of a profile's setup commands.
//!
//! Precedence, highest first: `--var NAME=VALUE`, the environment variable `NAME`, the lab
//! file (`--lab FILE`, [`LabFile`]), the default the scenario (or setup command) declares,
//! which is the manual's value ([`LAB_VARS`]).
//!
//! ```
//! use at_runner::vars::{LabFile, LabVars, Origin};
//! let file = LabFile::parse("lab.toml", "[vars]\nAPN = \"internet\"\nSMTPS_PORT = 465\n", |_| None)
//!     .unwrap();
//! let vars = LabVars::new(|_| None).with_file(file);
//! assert_eq!(vars.get("APN").as_deref(), Some("internet"));
//! assert_eq!(vars.lookup("SMTPS_PORT").unwrap().1.to_string(), "lab file lab.toml:3:1");
//! assert_eq!(vars.get("SMTP_SERVER"), None); // the scenario's default then
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use at_scenario::Scenario;

/// A variable the corpus uses for a lab setting, with the manual's value as its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabVar {
    /// The variable's name.
    pub name: &'static str,
    /// What it sets.
    pub what: &'static str,
    /// Its default in the 000/001 corpus: the manual's value.
    pub default: &'static str,
    /// Where the manuals (or ERRATA.md) give that value.
    pub source: &'static str,
    /// Whether its value is redacted everywhere (`@secret`).
    pub secret: bool,
}

/// Every lab variable of the corpus (docs/real-modules.md lists them with an example lab file).
/// Scenarios about another provider (003's Tencent SES, 002's Multi-Tech examples) declare the
/// same names with that document's values as defaults.
pub const LAB_VARS: &[LabVar] = &[
    LabVar {
        name: "APN",
        what: "access point name of PDP context 1 (AT+QICSGP)",
        default: "UNINET",
        source: "000 §3.1 step 1, ERRATA E15",
        secret: false,
    },
    LabVar {
        name: "SMTP_SERVER",
        what: "SMTP server address (AT+QSMTPCFG=\"smtpserver\", AT#SMTPSERV)",
        default: "smtp.163.com",
        source: "000 §3.1 step 2",
        secret: false,
    },
    LabVar {
        name: "SMTP_PORT",
        what: "server port without SSL (ssltype 0)",
        default: "25",
        source: "000 §3.1 step 2",
        secret: false,
    },
    LabVar {
        name: "SMTPS_PORT",
        what: "server port with implicit TLS (ssltype 1; usually 465, 000 §1.1)",
        default: "25",
        source: "000 §3.2 as printed, ERRATA E4",
        secret: false,
    },
    LabVar {
        name: "STARTTLS_PORT",
        what: "server port with STARTTLS (ssltype 2; usually 25 or 587, 000 §1.1)",
        default: "25",
        source: "000 §3.3 as printed, ERRATA E4",
        secret: false,
    },
    LabVar {
        name: "SMTP_USER",
        what: "account user name, also the sender name",
        default: "sishen664551",
        source: "000 §3.1 step 2",
        secret: false,
    },
    LabVar {
        name: "SMTP_PASSWORD",
        what: "account password (@secret: never shown)",
        default: "wq664551",
        source: "000 §3.1 step 2",
        secret: true,
    },
    LabVar {
        name: "SENDER",
        what: "sender address (envelope MAIL FROM)",
        default: "sishen664551@163.com",
        source: "000 §3.1 step 2",
        secret: false,
    },
    LabVar {
        name: "RCPT_TO",
        what: "recipient (type 1, To)",
        default: "quectel_test@163.com",
        source: "000 §3.1 step 3",
        secret: false,
    },
    LabVar {
        name: "RCPT_CC",
        what: "copy recipient (type 2, Cc)",
        default: "quectel_test@21cn.com",
        source: "000 §3.1 step 3",
        secret: false,
    },
    LabVar {
        name: "UNRESOLVABLE_SERVER",
        what: "a server name the lab's DNS cannot resolve (the DNS-failure cases)",
        default: "smtp.atconform.invalid",
        source: "000 §4.3; RFC 2606 .invalid",
        secret: false,
    },
];

/// The documented lab variable `name`, if it is one.
pub fn lab_var(name: &str) -> Option<&'static LabVar> {
    LAB_VARS.iter().find(|v| v.name == name)
}

/// Where a variable's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--var NAME=VALUE`.
    Cli,
    /// The environment variable of the same name.
    Env,
    /// The lab file: its path and the key's line and column (1-based).
    File {
        /// The lab file.
        path: PathBuf,
        /// Line of the key.
        line: usize,
        /// Column of the key.
        col: usize,
        /// The environment variable the entry names (`{ env = "X" }`), if any.
        env: Option<String>,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Cli => f.write_str("--var"),
            Origin::Env => f.write_str("environment"),
            Origin::File {
                path,
                line,
                col,
                env: None,
            } => write!(f, "lab file {}:{line}:{col}", path.display()),
            Origin::File {
                path,
                line,
                col,
                env: Some(e),
            } => write!(f, "${e}, named by lab file {}:{line}:{col}", path.display()),
        }
    }
}

/// A lab file (`--lab FILE`): TOML with one `[vars]` table of strings, integers (ports) or
/// `{ env = "NAME" }` (the value of that environment variable, for secrets).
///
/// ```toml
/// [vars]
/// APN = "internet"
/// SMTP_SERVER = "mail.lab.example"
/// SMTPS_PORT = 465
/// SMTP_PASSWORD = { env = "LAB_SMTP_PASSWORD" }
/// ```
#[derive(Clone)]
pub struct LabFile {
    path: PathBuf,
    values: BTreeMap<String, (String, Origin)>,
}

impl fmt::Debug for LabFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LabFile")
            .field("path", &self.path)
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// 1-based line and column of byte `offset` in `src`.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Why a lab file cannot be used; every problem in its text points at `path:line:col`.
#[derive(Debug, thiserror::Error)]
pub enum LabFileError {
    /// The file cannot be read.
    #[error("lab file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid lab file (TOML syntax, a key, a value's shape, an unset
    /// environment variable).
    #[error("{}:{line}:{col}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong there.
        message: String,
    },
    /// The file sets a variable that no scenario declares and the lab does not document.
    #[error(
        "{}:{line}:{col}: unknown variable `{name}`{}: no scenario declares it; \
         the variables are: {}",
        path.display(),
        near.as_ref().map(|k| format!(" (did you mean {k}?)")).unwrap_or_default(),
        known.join(", ")
    )]
    UnknownVariable {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The variable.
        name: String,
        /// A known name it resembles.
        near: Option<String>,
        /// Every known name.
        known: Vec<String>,
    },
}

/// Why `${NAME}`s in a text cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// `${` without `}`.
    #[error("`{text}`: `${{` without a closing `}}`")]
    Unclosed {
        /// The text.
        text: String,
    },
    /// A variable without a value or default.
    #[error(
        "`{text}`: variable `{name}` is not set (give it a default with \
         `${{{name}:-VALUE}}`, or set it with --lab, --var or the environment)"
    )]
    Unset {
        /// The text.
        text: String,
        /// The variable.
        name: String,
    },
    /// A profile's setup command does not render.
    #[error("profile {profile} setup: {source}")]
    Setup {
        /// The profile's name.
        profile: String,
        /// Why.
        #[source]
        source: Box<RenderError>,
    },
}

impl LabFile {
    /// Reads and parses the lab file at `path`; `env` looks up `{ env = "NAME" }` entries.
    pub fn load(
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<LabFile, LabFileError> {
        let src = std::fs::read_to_string(path).map_err(|source| LabFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        LabFile::parse(path, &src, env)
    }

    /// Parses a lab file's text; errors name `path:line:col`.
    pub fn parse(
        path: impl Into<PathBuf>,
        src: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<LabFile, LabFileError> {
        let path = path.into();
        let at = |offset: usize, message: String| {
            let (line, col) = line_col(src, offset);
            LabFileError::Invalid {
                path: path.clone(),
                line,
                col,
                message,
            }
        };
        let de = toml::de::DeTable::parse(src).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, e.message().trim().to_owned())
        })?;
        let mut values = BTreeMap::new();
        for (key, value) in de.get_ref().iter() {
            if key.get_ref() != "vars" {
                return Err(at(
                    key.span().start,
                    format!(
                        "unknown key `{}`: a lab file has one table, [vars]",
                        key.get_ref()
                    ),
                ));
            }
            let toml::de::DeValue::Table(vars) = value.get_ref() else {
                return Err(at(
                    value.span().start,
                    "`vars` must be a table: [vars]".into(),
                ));
            };
            for (name, v) in vars.iter() {
                let name_s = name.get_ref().to_string();
                let (line, col) = line_col(src, name.span().start);
                let origin = |env: Option<String>| Origin::File {
                    path: path.clone(),
                    line,
                    col,
                    env,
                };
                let value = match v.get_ref() {
                    toml::de::DeValue::String(s) => (s.to_string(), origin(None)),
                    toml::de::DeValue::Integer(i) => {
                        let n = i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
                            at(v.span().start, format!("{name_s}: integer out of range"))
                        })?;
                        (n.to_string(), origin(None))
                    }
                    toml::de::DeValue::Table(t) => {
                        let mut env_name = None;
                        for (k, ev) in t.iter() {
                            match (k.get_ref().as_ref(), ev.get_ref()) {
                                ("env", toml::de::DeValue::String(s)) => {
                                    env_name = Some(s.to_string());
                                }
                                _ => {
                                    return Err(at(
                                        k.span().start,
                                        format!(
                                            "unknown key `{}` in {name_s}: a value is a string, \
                                             a number or {{ env = \"NAME\" }}",
                                            k.get_ref()
                                        ),
                                    ));
                                }
                            }
                        }
                        let Some(e) = env_name else {
                            return Err(at(
                                v.span().start,
                                format!("{name_s}: expected {{ env = \"NAME\" }}"),
                            ));
                        };
                        let Some(val) = env(&e) else {
                            return Err(at(
                                v.span().start,
                                format!(
                                    "{name_s} takes its value from the environment variable \
                                     {e}, which is not set"
                                ),
                            ));
                        };
                        (val, origin(Some(e)))
                    }
                    _ => {
                        return Err(at(
                            v.span().start,
                            format!(
                                "{name_s}: a value is a string, a number or {{ env = \"NAME\" }}"
                            ),
                        ));
                    }
                };
                values.insert(name_s, value);
            }
        }
        Ok(LabFile { path, values })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names the file sets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Every name that is neither in `known` nor a documented lab variable: an error naming
    /// the first such key at `file:line:col` (a typo would otherwise be silently ignored).
    pub fn check_known(&self, known: &BTreeSet<String>) -> Result<(), LabFileError> {
        for (name, (_, origin)) in &self.values {
            if known.contains(name) || lab_var(name).is_some() {
                continue;
            }
            let mut all: BTreeSet<&str> = known.iter().map(String::as_str).collect();
            all.extend(LAB_VARS.iter().map(|v| v.name));
            let near = all.iter().find(|k| similar(k, name)).map(|k| k.to_string());
            let Origin::File {
                path, line, col, ..
            } = origin
            else {
                continue;
            };
            return Err(LabFileError::UnknownVariable {
                path: path.clone(),
                line: *line,
                col: *col,
                name: name.clone(),
                near,
                known: all.into_iter().map(str::to_owned).collect(),
            });
        }
        Ok(())
    }
}

/// A likely typo: same length ±1 and at most two differing characters, ignoring case.
fn similar(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_uppercase(), b.to_ascii_uppercase());
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Levenshtein distance, small strings only.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The values a run gives variables: `--var`, the environment, a lab file (see the module
/// docs for the precedence). `Debug` shows names only, never values.
#[derive(Clone)]
pub struct LabVars {
    cli: BTreeMap<String, String>,
    file: Option<Arc<LabFile>>,
    env: Arc<EnvFn>,
}

impl Default for LabVars {
    /// The process environment only (what a run without `--lab`/`--var` uses).
    fn default() -> Self {
        LabVars::new(|name| std::env::var(name).ok())
    }
}

impl fmt::Debug for LabVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LabVars")
            .field("cli", &self.cli.keys().collect::<Vec<_>>())
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl LabVars {
    /// Values from `env` (the process environment: `|n| std::env::var(n).ok()`) only.
    pub fn new(env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> LabVars {
        LabVars {
            cli: BTreeMap::new(),
            file: None,
            env: Arc::new(env),
        }
    }

    /// Adds a lab file (below the environment).
    pub fn with_file(mut self, file: LabFile) -> LabVars {
        self.file = Some(Arc::new(file));
        self
    }

    /// Adds `--var NAME=VALUE` settings (above everything).
    pub fn with_cli(mut self, vars: impl IntoIterator<Item = (String, String)>) -> LabVars {
        self.cli.extend(vars);
        self
    }

    /// The lab file, if any.
    pub fn file(&self) -> Option<&LabFile> {
        self.file.as_deref()
    }

    /// The names set by `--var`.
    pub fn cli_names(&self) -> impl Iterator<Item = &str> {
        self.cli.keys().map(String::as_str)
    }

    /// The value of `name` and where it comes from; `None`: the declared default applies.
    pub fn lookup(&self, name: &str) -> Option<(String, Origin)> {
        if let Some(v) = self.cli.get(name) {
            return Some((v.clone(), Origin::Cli));
        }
        if let Some(v) = (self.env)(name) {
            return Some((v, Origin::Env));
        }
        self.file.as_ref()?.values.get(name).cloned()
    }

    /// The value of `name`, if the run sets one.
    pub fn get(&self, name: &str) -> Option<String> {
        self.lookup(name).map(|(v, _)| v)
    }

    /// The options that give a rerun the same values: `--lab FILE` and each `--var` whose
    /// name is not in `secret` (a secret is set again from the environment or the lab file).
    pub fn rerun_options(&self, secret: &BTreeSet<String>) -> Vec<String> {
        let mut o = Vec::new();
        if let Some(f) = &self.file {
            o.push("--lab".into());
            o.push(f.path.display().to_string());
        }
        for (k, v) in &self.cli {
            if !secret.contains(k) && !lab_var(k).is_some_and(|l| l.secret) {
                o.push("--var".into());
                o.push(format!("{k}={v}"));
            }
        }
        o
    }

    /// `text` with `${NAME}` and `${NAME:-default}` replaced by their values (a setup
    /// command's line, e.g. `AT+QICSGP=1,1,"${APN:-UNINET}","","",1`).
    pub fn render(&self, text: &str) -> Result<String, RenderError> {
        self.render_with(text, |_| None)
    }

    /// [`LabVars::render`] with `fallback` for names the run does not set (a scenario's
    /// declared defaults), before any inline default.
    pub fn render_with(
        &self,
        text: &str,
        fallback: impl Fn(&str) -> Option<String>,
    ) -> Result<String, RenderError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                return Err(RenderError::Unclosed { text: text.into() });
            };
            let inner = &after[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let value = self
                .get(name)
                .or_else(|| fallback(name))
                .or(default.map(str::to_owned));
            match value {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(RenderError::Unset {
                        text: text.into(),
                        name: name.into(),
                    });
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A copy of `module` whose setup commands have their `${NAME}`s rendered.
    pub fn render_setup(
        &self,
        module: &at_catalog::Profile,
    ) -> Result<at_catalog::Profile, RenderError> {
        let mut m = module.clone();
        let setup = &mut m.setup;
        let cmds = setup
            .health
            .iter_mut()
            .chain(setup.prelude.iter_mut())
            .chain(setup.states.values_mut().flatten());
        for c in cmds {
            c.send = self.render(&c.send).map_err(|e| RenderError::Setup {
                profile: module.name.clone(),
                source: Box::new(e),
            })?;
        }
        Ok(m)
    }
}

/// The `${NAME}`s a setup command line uses, with their inline defaults.
pub fn setup_refs(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        match inner.split_once(":-") {
            Some((n, d)) => out.push((n.to_owned(), Some(d.to_owned()))),
            None => out.push((inner.to_owned(), None)),
        }
        rest = &after[end + 1..];
    }
    out
}

/// One variable as a run would use it: its value (masked if secret) and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// The variable.
    pub name: String,
    /// Whether it is secret (declared `@secret` somewhere, or a secret [`LabVar`]).
    pub secret: bool,
    /// The value set by the run and its origin; `None`: each scenario's default.
    pub set: Option<(String, Origin)>,
    /// The defaults declared for it, each with the number of scenarios declaring it.
    pub defaults: Vec<(String, usize)>,
}

impl Effective {
    /// `value  (origin)` for people, a secret as `<redacted>`.
    pub fn describe(&self) -> (String, String) {
        let mask = |v: &str| {
            if self.secret {
                at_scenario::REDACTED.to_owned()
            } else {
                v.to_owned()
            }
        };
        match &self.set {
            Some((v, origin)) => (mask(v), origin.to_string()),
            None => match self.defaults.as_slice() {
                [] => ("(not set)".into(), "no default: required".into()),
                [(d, _)] => (mask(d), "default".into()),
                many => {
                    let parts: Vec<String> = many
                        .iter()
                        .map(|(d, n)| format!("{} in {n}", mask(d)))
                        .collect();
                    (
                        "(per scenario)".into(),
                        format!("defaults: {}", parts.join(", ")),
                    )
                }
            },
        }
    }
}

/// The variables `scenarios` (and the setup commands `setup`) declare, as `vars` sets them, in
/// name order.
pub fn effective<'a>(
    scenarios: impl IntoIterator<Item = &'a Scenario>,
    setup: &[String],
    vars: &LabVars,
) -> Vec<Effective> {
    let mut by_name: BTreeMap<String, (bool, BTreeMap<String, usize>)> = BTreeMap::new();
    for sc in scenarios {
        for v in &sc.vars {
            let e = by_name.entry(v.name.clone()).or_default();
            e.0 |= v.secret;
            if let Some(d) = &v.default {
                *e.1.entry(d.clone()).or_default() += 1;
            }
        }
    }
    for line in setup {
        for (name, default) in setup_refs(line) {
            let e = by_name.entry(name).or_default();
            if let Some(d) = default {
                e.1.entry(d).or_default();
            }
        }
    }
    by_name
        .into_iter()
        .map(|(name, (secret, defaults))| {
            let secret = secret || lab_var(&name).is_some_and(|l| l.secret);
            let mut defaults: Vec<(String, usize)> = defaults.into_iter().collect();
            defaults.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Effective {
                set: vars.lookup(&name),
                name,
                secret,
                defaults,
            }
        })
        .collect()
}

/// The names of every variable declared `@secret` in `scenarios`, and the secret lab variables.
pub fn secret_names<'a>(scenarios: impl IntoIterator<Item = &'a Scenario>) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = scenarios
        .into_iter()
        .flat_map(|sc| sc.vars.iter().filter(|v| v.secret).map(|v| v.name.clone()))
        .collect();
    s.extend(
        LAB_VARS
            .iter()
            .filter(|v| v.secret)
            .map(|v| v.name.to_owned()),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn precedence_is_cli_env_file_default() {
        let file = LabFile::parse(
            "lab.toml",
            "[vars]\nAPN = \"file\"\nSMTP_SERVER = \"file\"\nSMTP_PORT = 2525\n",
            |_| None,
        )
        .unwrap();
        let vars = LabVars::new(env(&[("APN", "env"), ("SMTP_SERVER", "env")]))
            .with_file(file)
            .with_cli([("APN".to_string(), "cli".to_string())]);
        assert_eq!(vars.lookup("APN"), Some(("cli".into(), Origin::Cli)));
        assert_eq!(
            vars.lookup("SMTP_SERVER"),
            Some(("env".into(), Origin::Env))
        );
        let (v, o) = vars.lookup("SMTP_PORT").unwrap();
        assert_eq!(
            (v.as_str(), o.to_string()),
            ("2525", "lab file lab.toml:4:1".into())
        );
        assert_eq!(vars.lookup("RCPT_TO"), None);
    }

    #[test]
    fn secrets_come_from_the_environment_and_errors_point_at_the_key() {
        let src = "[vars]\nSMTP_PASSWORD = { env = \"LAB_PW\" }\n";
        let f = LabFile::parse("lab.toml", src, env(&[("LAB_PW", "s3cret")])).unwrap();
        let vars = LabVars::new(|_| None).with_file(f);
        let (v, o) = vars.lookup("SMTP_PASSWORD").unwrap();
        assert_eq!(v, "s3cret");
        assert_eq!(o.to_string(), "$LAB_PW, named by lab file lab.toml:2:1");
        let e = LabFile::parse("lab.toml", src, |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("lab.toml:2:17: SMTP_PASSWORD takes its value from"),
            "{e}"
        );
        let e = LabFile::parse("lab.toml", "[vars]\nA = 1\n[other]\nB = 2\n", |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("lab.toml:3:2: unknown key `other`"), "{e}");
        let e = LabFile::parse("lab.toml", "[vars]\nA = true\n", |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("lab.toml:2:5: A: a value is"), "{e}");
        let e = LabFile::parse("lab.toml", "[vars]\nA = \n", |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("lab.toml:2:"), "{e}");
        let f = LabFile::parse("lab.toml", "[vars]\n\nSMTP_SERVR = \"x\"\n", |_| None).unwrap();
        let e = f.check_known(&BTreeSet::new()).unwrap_err();
        assert!(matches!(e, LabFileError::UnknownVariable { .. }));
        let e = e.to_string();
        assert!(
            e.starts_with(
                "lab.toml:3:1: unknown variable `SMTP_SERVR` (did you mean SMTP_SERVER?)"
            ),
            "{e}"
        );
    }

    #[test]
    fn setup_lines_render_with_inline_defaults() {
        let vars = LabVars::new(env(&[("APN", "internet")]));
        let line = r#"AT+QICSGP=1,1,"${APN:-UNINET}","","",1"#;
        assert_eq!(
            vars.render(line).unwrap(),
            r#"AT+QICSGP=1,1,"internet","","",1"#
        );
        let none = LabVars::new(|_| None);
        assert_eq!(
            none.render(line).unwrap(),
            r#"AT+QICSGP=1,1,"UNINET","","",1"#
        );
        assert!(
            none.render("AT+X=\"${NOPE}\"")
                .unwrap_err()
                .to_string()
                .contains("`NOPE` is not set")
        );
        assert_eq!(
            setup_refs(line),
            [("APN".to_string(), Some("UNINET".to_string()))]
        );
    }
}
