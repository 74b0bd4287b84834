//! Module profiles: what differs between modules and firmware revisions, as data.
//!
//! A profile is a TOML file. `base = "<name>"` inherits every key of another profile (tables
//! merge key by key, other values and arrays are replaced), so a new firmware revision is a small
//! file: a base, the keys that differ, and the quirks it ships with. The built-in profiles are
//! embedded from `crates/catalog/profiles/`.
//!
//! ```
//! let ec25 = at_catalog::profile("ec25").unwrap();
//! assert_eq!(ec25.ati_lines(), ["Quectel", "EC25", "Revision: EC25EFAR06A03M4G"]);
//! let ag35 = at_catalog::profile("ag35").unwrap();
//! assert!(!ag35.supports_bodyoriginal); // 001 p.9
//!
//! let custom = at_catalog::Profile::from_toml_str(
//!     "base = \"ec25\"\nrevision = \"EC25EFAR06A04M4G\"\nquirks = [\"urc-before-ok\"]\n",
//! ).unwrap();
//! assert_eq!(custom.model, "EC25");
//! assert_eq!(custom.quirks, ["urc-before-ok"]);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::commands::{Command, Dialect};

/// Built-in profiles: (name, TOML source). `quectel-lte` is an abstract base, not a module.
static EMBEDDED: &[(&str, &str)] = &[
    ("quectel-lte", include_str!("../profiles/quectel-lte.toml")),
    ("ec21", include_str!("../profiles/ec21.toml")),
    ("ec25", include_str!("../profiles/ec25.toml")),
    ("ec20", include_str!("../profiles/ec20.toml")),
    ("ec20-cn", include_str!("../profiles/ec20-cn.toml")),
    ("eg21-g", include_str!("../profiles/eg21-g.toml")),
    ("eg25-g", include_str!("../profiles/eg25-g.toml")),
    ("eg91", include_str!("../profiles/eg91.toml")),
    ("eg95", include_str!("../profiles/eg95.toml")),
    ("em05", include_str!("../profiles/em05.toml")),
    ("ag35", include_str!("../profiles/ag35.toml")),
    ("multitech", include_str!("../profiles/multitech.toml")),
];

/// The module profile names accepted on the command line, in documentation order.
pub static PROFILE_NAMES: [&str; 11] = [
    "ec21",
    "ec25",
    "ec20",
    "ec20-cn",
    "eg21-g",
    "eg25-g",
    "eg91",
    "eg95",
    "em05",
    "ag35",
    "multitech",
];

const MAX_BASE_DEPTH: usize = 8;

/// Errors loading a profile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// No built-in profile has this name.
    #[error("unknown profile `{0}` (known: {known})", known = PROFILE_NAMES.join(", "))]
    Unknown(String),
    /// The file could not be read.
    #[error("cannot read profile {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has wrong keys/types.
    #[error("invalid profile `{name}`: {message}")]
    Invalid {
        /// Profile name or path.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// `base` chains loop or are too deep.
    #[error("profile `{0}`: base chain too deep or cyclic")]
    BaseCycle(String),
}

/// Numeric limits from the manuals (000 §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Recipients including cc and bcc (000 §2.2.2: 20).
    pub max_recipients: usize,
    /// Attachments (000 §2.2.5: 10).
    pub max_attachments: usize,
    /// Account, sender, server, address and file-name strings (50 bytes).
    pub max_string_len: usize,
    /// ASCII subject length (000 §2.2.3: 0–100).
    pub max_subject_ascii: usize,
    /// Hex subject digits (000 §2.2.3: 200; ERRATA E8).
    pub max_subject_hex: usize,
    /// Largest `<body_length>` (000 §2.2.4: 10240).
    pub max_body: usize,
    /// Default `<input_time>` in seconds (000 §2.2.4: 90).
    pub default_input_time: u32,
    /// Guard time around `+++` in milliseconds (000 §1.3: 1 s).
    pub guard_time_ms: u64,
    /// Active PDP contexts at once (000 §4.2 item 5: 3).
    pub max_active_contexts: usize,
    /// Total bytes the RAM: drive holds (FILE note \[4\]).
    pub ram_drive_bytes: usize,
}

/// A module profile (see the module docs for the file format).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The name (`ec25`), or the file stem for a profile loaded from a file.
    pub name: String,
    /// The profile it inherits from, as written in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// One line saying what module and document this is.
    pub description: String,
    /// The command dialect.
    pub dialect: Dialect,
    /// Whether it is only a base for other profiles.
    #[serde(default)]
    pub abstract_base: bool,
    /// First `ATI` line.
    pub manufacturer: String,
    /// Second `ATI` line.
    pub model: String,
    /// `ATI` revision (printed `Revision: <revision>`).
    pub revision: String,
    /// Whether `AT+QSMTPCFG` has `"bodyoriginal"` (000 yes, 001 no); a setup command's
    /// `requires = "bodyoriginal"` depends on it.
    pub supports_bodyoriginal: bool,
    /// The address `AT+QIACT?` reports for context 1 (000 §3.1: `10.7.157.1`); context n gets
    /// the last octet plus n−1.
    pub ip_address: String,
    /// Echo at power-on (ERRATA W2).
    pub echo: bool,
    /// `AT&D` value at power-on (ERRATA E17).
    pub and_d: u8,
    /// Numeric limits.
    pub limits: Limits,
    /// Multi-Tech settings, for the `multitech` dialect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multitech: Option<MultiTechSettings>,
    /// Names of firmware quirks this profile ships with (the emulator's quirk registry).
    #[serde(default)]
    pub quirks: Vec<String>,
    /// Test-command responses that differ from the catalog, by command name (`"+QSMTPCFG"`):
    /// the exact lines before `OK`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub test_responses: BTreeMap<String, Vec<String>>,
    /// How a runner brings a module that keeps its state to a known state before each case.
    #[serde(default)]
    pub setup: Setup,
}

/// How a module that keeps its state between test cases (real hardware, `atconform emulate`)
/// is checked once and brought to a known state before every case (`[setup]` in the profile).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Once per target before a run: the device answers and is ready (`AT`, `ATI`, `AT+CPIN?`).
    #[serde(default)]
    pub health: Vec<SetupCommand>,
    /// How a module left in data mode is brought back to command mode.
    #[serde(default)]
    pub leave_data_mode: LeaveDataMode,
    /// Before every case, in order: the known state every scenario may assume.
    #[serde(default)]
    pub prelude: Vec<SetupCommand>,
    /// States a scenario can ask for with `state: NAME`, brought about after the prelude.
    #[serde(default)]
    pub states: BTreeMap<String, Vec<SetupCommand>>,
    /// A full restart, for `state: power-on` (or before every case with `reset.every_case`).
    #[serde(default)]
    pub reset: Option<Reset>,
}

impl Setup {
    /// The prelude commands that apply to `profile` (those whose `requires` it meets).
    pub fn prelude_for<'a>(
        &'a self,
        profile: &'a Profile,
    ) -> impl Iterator<Item = &'a SetupCommand> {
        self.prelude.iter().filter(move |c| c.applies_to(profile))
    }

    /// The commands of state `name` that apply to `profile`; `None` if the profile does not
    /// define that state.
    pub fn state_for<'a>(
        &'a self,
        name: &str,
        profile: &'a Profile,
    ) -> Option<impl Iterator<Item = &'a SetupCommand>> {
        self.states
            .get(name)
            .map(move |cmds| cmds.iter().filter(move |c| c.applies_to(profile)))
    }
}

/// How data mode is left when a case ends inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaveDataMode {
    /// `+++` between two guard times of silence (000 §1.3).
    #[default]
    Escape,
    /// `<CR><LF>.<CR><LF>`, which ends a Multi-Tech `#PUTMAIL` body (002).
    EndOfBody,
}

/// One command of a setup sequence and what counts as done.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetupCommand {
    /// The command line, without the terminating CR.
    pub send: String,
    /// Final result codes that count as done, exactly as the module prints them.
    #[serde(default = "ok_only")]
    pub accept: Vec<String>,
    /// A line the answer must contain before its final result code (`+CPIN: READY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    /// Longest wait for the final result code in milliseconds; default: the catalog's maximum
    /// response time of the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<u64>,
    /// Only on profiles with this capability (`bodyoriginal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
    /// The final result code that means "busy, try again later" (a mail still sending:
    /// `+CME ERROR: 652`, 000 §5); the command is retried for a while.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<String>,
    /// Where the manuals (or ERRATA.md) document the command and the state it brings about.
    pub source: String,
}

fn ok_only() -> Vec<String> {
    vec!["OK".to_owned()]
}

impl SetupCommand {
    /// Whether the command applies to `profile` (see [`SetupCommand::requires`]).
    pub fn applies_to(&self, profile: &Profile) -> bool {
        match self.requires.as_deref() {
            None => true,
            Some("bodyoriginal") => profile.supports_bodyoriginal,
            Some(_) => false,
        }
    }

    /// The longest wait for the final result code: `within_ms`, else the catalog's maximum
    /// response time of the command (`AT+QIDEACT`: 40 s), else 5 s.
    pub fn within(&self) -> std::time::Duration {
        use crate::commands::MaxResponse;
        if let Some(ms) = self.within_ms {
            return std::time::Duration::from_millis(ms);
        }
        let name = self
            .send
            .get(2..)
            .unwrap_or_default()
            .split(['=', '?'])
            .next()
            .unwrap_or_default();
        match crate::command(name).map(|c| c.max_response) {
            Some(MaxResponse::Millis(ms)) => std::time::Duration::from_millis(u64::from(ms)),
            _ => std::time::Duration::from_secs(5),
        }
    }
}

/// A full restart of the module and the line that says it is ready again.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    /// The command that restarts the module (`AT+CFUN=1,1`).
    pub send: String,
    /// The line the module prints once it accepts commands again (`RDY`).
    pub ready: String,
    /// Longest wait for `ready` after the command, milliseconds.
    pub within_ms: u64,
    /// Restart before every case, not only for `state: power-on`.
    #[serde(default)]
    pub every_case: bool,
    /// Where the restart is documented.
    pub source: String,
}

/// Multi-Tech `#PUTMAIL` settings (002; ERRATA E21–E23).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTechSettings {
    /// Serial inactivity that aborts a body (002: 50 s).
    pub inactivity_secs: u64,
    /// `#CME ERROR` codes by cause.
    pub errors: MultiTechErrors,
}

/// Multi-Tech `#CME ERROR` values; 002 documents only `dns` (38027), the rest are ERRATA E22.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTechErrors {
    /// DNS could not resolve `SMTPSERV` (002: 38027).
    pub dns: u32,
    /// TCP/TLS connection failed, refused or reset.
    pub connection: u32,
    /// The SMTP server rejected the session (auth, recipient, data).
    pub smtp_rejected: u32,
    /// The server did not answer in time.
    pub timeout: u32,
    /// 50 s without a byte on the serial port during the body.
    pub inactivity: u32,
    /// No recipient, or the IP link is down.
    pub not_ready: u32,
    /// The TCP/IP stack is already sending.
    pub busy: u32,
}

impl Profile {
    /// Loads a built-in profile by name (`ec25`, `ag35`, `multitech`, …).
    pub fn builtin(name: &str) -> Result<Profile, ProfileError> {
        let table = resolve_builtin(name, 0)?;
        finish(name, table)
    }

    /// Parses a profile from TOML text; `base` names a built-in profile.
    pub fn from_toml_str(text: &str) -> Result<Profile, ProfileError> {
        let table = parse_table("<string>", text)?;
        let table = resolve_base(table, None, 0)?;
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("custom")
            .to_owned();
        finish(&name, table)
    }

    /// Loads a profile file; `base` names a built-in profile or a `.toml` path relative to it.
    /// Without a `name` key the file stem is the name.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Profile, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut table = parse_table(&path.display().to_string(), &text)?;
        if !table.contains_key("name") {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("custom");
            table.insert("name".into(), toml::Value::String(stem.to_owned()));
        }
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("custom")
            .to_owned();
        let table = resolve_base(table, path.parent(), 0)?;
        finish(&name, table)
    }

    /// The `ATI` information lines: manufacturer, model, `Revision: …`.
    pub fn ati_lines(&self) -> [String; 3] {
        [
            self.manufacturer.clone(),
            self.model.clone(),
            format!("Revision: {}", self.revision),
        ]
    }

    /// The test-command response lines of `cmd` for this module: the profile's override if it
    /// has one, else the catalog's (without `bodyoriginal` where unsupported, as on the AG35).
    pub fn test_response(&self, cmd: &Command) -> Vec<String> {
        if let Some((_, lines)) = self
            .test_responses
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(cmd.name))
        {
            return lines.clone();
        }
        cmd.test_response
            .iter()
            .filter(|l| self.supports_bodyoriginal || !l.contains("\"bodyoriginal\""))
            .map(|l| (*l).to_owned())
            .collect()
    }

    /// The address `AT+QIACT?` reports for `context_id`.
    pub fn ip_for_context(&self, context_id: u8) -> String {
        let mut parts: Vec<&str> = self.ip_address.split('.').collect();
        let last = parts.pop().and_then(|p| p.parse::<u16>().ok()).unwrap_or(1);
        let octet = (last + u16::from(context_id.saturating_sub(1))) % 256;
        let octet = octet.to_string();
        parts.push(&octet);
        parts.join(".")
    }
}

/// Loads a built-in module profile by name.
pub fn profile(name: &str) -> Result<Profile, ProfileError> {
    Profile::builtin(name)
}

/// All built-in module profiles, in [`PROFILE_NAMES`] order.
pub fn profiles() -> Vec<Profile> {
    PROFILE_NAMES
        .iter()
        .filter_map(|n| Profile::builtin(n).ok())
        .collect()
}

fn parse_table(name: &str, text: &str) -> Result<toml::Table, ProfileError> {
    text.parse::<toml::Table>()
        .map_err(|e| ProfileError::Invalid {
            name: name.to_owned(),
            message: e.to_string(),
        })
}

fn resolve_builtin(name: &str, depth: usize) -> Result<toml::Table, ProfileError> {
    let (_, text) = EMBEDDED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .ok_or_else(|| ProfileError::Unknown(name.to_owned()))?;
    let table = parse_table(name, text)?;
    resolve_base(table, None, depth)
}

fn resolve_base(
    mut table: toml::Table,
    dir: Option<&Path>,
    depth: usize,
) -> Result<toml::Table, ProfileError> {
    let Some(base) = table
        .get("base")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
    else {
        return Ok(table);
    };
    let name = table
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("custom")
        .to_owned();
    if depth >= MAX_BASE_DEPTH {
        return Err(ProfileError::BaseCycle(name));
    }
    let mut merged = if base.ends_with(".toml") {
        let path = dir
            .map(|d| d.join(&base))
            .unwrap_or_else(|| base.clone().into());
        let text = std::fs::read_to_string(&path).map_err(|source| ProfileError::Io {
            path: path.clone(),
            source,
        })?;
        let t = parse_table(&path.display().to_string(), &text)?;
        resolve_base(t, path.parent(), depth + 1)?
    } else {
        resolve_builtin(&base, depth + 1)?
    };
    // A base's abstract flag is not inherited.
    merged.remove("abstract_base");
    table.remove("base");
    merge(&mut merged, table);
    merged.insert("base".into(), toml::Value::String(base));
    Ok(merged)
}

/// Overlays `over` onto `base`: tables merge recursively, everything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn finish(name: &str, table: toml::Table) -> Result<Profile, ProfileError> {
    let profile: Profile =
        Profile::deserialize(toml::Value::Table(table)).map_err(|e| ProfileError::Invalid {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
    if profile.dialect == Dialect::MultiTech && profile.multitech.is_none() {
        return Err(ProfileError::Invalid {
            name: name.to_owned(),
            message: "a multitech profile needs a [multitech] table".into(),
        });
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_eleven_profiles_load() {
        let all = profiles();
        assert_eq!(all.len(), 11);
        for (p, n) in all.iter().zip(PROFILE_NAMES) {
            assert_eq!(p.name, n);
            assert!(!p.abstract_base, "{n}");
            if p.dialect == Dialect::Quectel {
                assert_eq!(p.limits.max_recipients, 20, "{n}");
                assert_eq!(p.limits.max_attachments, 10, "{n}");
            }
        }
    }

    #[test]
    fn quectel_family_values() {
        let ec25 = profile("ec25").unwrap();
        assert_eq!(ec25.dialect, Dialect::Quectel);
        assert!(ec25.supports_bodyoriginal);
        assert_eq!(ec25.ip_address, "10.7.157.1"); // 000 §3.1
        assert_eq!(ec25.ip_for_context(1), "10.7.157.1");
        assert_eq!(ec25.ip_for_context(3), "10.7.157.3");
        assert_eq!(ec25.limits.max_body, 10240);
        assert_eq!(ec25.limits.default_input_time, 90);
        assert_eq!(ec25.base.as_deref(), Some("quectel-lte"));
        let eg95 = profile("EG95").unwrap();
        assert_eq!(eg95.model, "EG95");
        let cfg = crate::command("+QSMTPCFG").unwrap();
        assert_eq!(ec25.test_response(cfg).len(), 7);
        let ag35 = profile("ag35").unwrap();
        assert_eq!(ag35.test_response(cfg).len(), 6); // 001 p.9
        assert_eq!(ag35.model, "AG35");
    }

    #[test]
    fn setup_is_data_with_a_source_per_command() {
        let ec25 = profile("ec25").unwrap();
        let s = &ec25.setup;
        assert_eq!(s.leave_data_mode, LeaveDataMode::Escape); // 000 §1.3
        let health: Vec<&str> = s.health.iter().map(|c| c.send.as_str()).collect();
        assert_eq!(health, ["AT", "ATI", "AT+CPIN?"]);
        assert!(s.prelude.iter().any(|c| c.send == "AT+QSMTPCLR"));
        assert!(
            s.prelude_for(&ec25)
                .any(|c| c.send.contains("bodyoriginal"))
        );
        // 001 p.9: no "bodyoriginal" on the AG35, so its prelude leaves that command out.
        let ag35 = profile("ag35").unwrap();
        assert!(
            !ag35
                .setup
                .prelude_for(&ag35)
                .any(|c| c.send.contains("bodyoriginal"))
        );
        assert_eq!(ag35.setup.prelude_for(&ag35).count(), s.prelude.len() - 1);
        assert!(s.state_for("pdp-active", &ec25).is_some());
        assert!(s.state_for("nope", &ec25).is_none());
        assert_eq!(s.reset.as_ref().map(|r| r.ready.as_str()), Some("RDY"));
        // Every command says where the manuals document it; the default wait is the catalog's.
        for p in [&ec25, &profile("multitech").unwrap()] {
            for c in p.setup.health.iter().chain(&p.setup.prelude) {
                assert!(!c.source.is_empty(), "{}", c.send);
                assert!(!c.accept.is_empty(), "{}", c.send);
            }
        }
        let deact = s.prelude.iter().find(|c| c.send == "AT+QIDEACT=1").unwrap();
        assert_eq!(deact.within(), std::time::Duration::from_secs(40));
        let mt = profile("multitech").unwrap();
        assert_eq!(mt.setup.leave_data_mode, LeaveDataMode::EndOfBody); // 002
        assert!(mt.setup.reset.is_none());
        // A profile file adds to the setup like any other key.
        let p = Profile::from_toml_str(
            "base = \"ec25\"\n[setup.states]\nsms-off = [{ send = \"AT+CNMI=0\", source = \"mine\" }]\n",
        )
        .unwrap();
        assert!(p.setup.state_for("sms-off", &p).is_some());
        assert!(p.setup.state_for("pdp-active", &p).is_some());
        assert_eq!(p.setup.prelude, s.prelude);
    }

    #[test]
    fn multitech_profile() {
        let mt = profile("multitech").unwrap();
        assert_eq!(mt.dialect, Dialect::MultiTech);
        let m = mt.multitech.unwrap();
        assert_eq!(m.inactivity_secs, 50);
        assert_eq!(m.errors.dns, 38027); // 002
    }

    #[test]
    fn bases_are_not_modules_and_unknowns_fail() {
        assert!(profile("quectel-lte").unwrap().abstract_base);
        assert!(matches!(profile("ec26"), Err(ProfileError::Unknown(_))));
        assert!(matches!(
            Profile::from_toml_str("base = \"ec25\"\nbogus = 1\n"),
            Err(ProfileError::Invalid { .. })
        ));
        assert!(matches!(
            Profile::from_toml_str("base = \"nope\"\n"),
            Err(ProfileError::Unknown(_))
        ));
    }

    #[test]
    fn load_file_with_relative_base_and_overrides() {
        let dir = std::env::temp_dir().join(format!("at-catalog-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("mybase.toml"),
            "base = \"ec25\"\nrevision = \"X1\"\n[limits]\nmax_recipients = 19\n",
        )
        .unwrap();
        let f = dir.join("ec25-x2.toml");
        std::fs::write(
            &f,
            "base = \"mybase.toml\"\nrevision = \"X2\"\nquirks = [\"ate0-ignored\"]\n",
        )
        .unwrap();
        let p = Profile::load_file(&f).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(p.name, "ec25-x2");
        assert_eq!(p.revision, "X2");
        assert_eq!(p.limits.max_recipients, 19);
        assert_eq!(p.limits.max_attachments, 10);
        assert_eq!(p.quirks, ["ate0-ignored"]);
        assert_eq!(p.model, "EC25");
    }

    #[test]
    fn test_response_override_is_data() {
        let p = Profile::from_toml_str(
            "base = \"ec25\"\n[test_responses]\n\"+QSMTPPUT\" = [\"+QSMTPPUT: (60-3600)\"]\n",
        )
        .unwrap();
        let put = crate::command("+QSMTPPUT").unwrap();
        assert_eq!(p.test_response(put), ["+QSMTPPUT: (60-3600)"]);
        let dst = crate::command("+QSMTPDST").unwrap();
        assert_eq!(p.test_response(dst), ["+QSMTPDST: (0,1),(1-3),<emailaddr>"]);
    }

    #[test]
    fn self_base_is_a_cycle() {
        let dir = std::env::temp_dir().join(format!("at-catalog-cyc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("loop.toml");
        std::fs::write(&f, "base = \"loop.toml\"\n").unwrap();
        let r = Profile::load_file(&f);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(r, Err(ProfileError::BaseCycle(_))));
    }
}
