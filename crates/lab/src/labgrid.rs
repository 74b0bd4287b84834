//! labgrid, through its own client: `labgrid-client` run as a subprocess, the coordinator taken
//! from `LG_COORDINATOR` exactly as labgrid's tools take it (the variable is passed through).
//!
//! labgrid schedules no tests, and neither does this module: it lists places, reserves one
//! (`reserve --wait`, bounded here), acquires it, reads its `NetworkSerialPort`, and releases
//! it again; the coordinator decides who gets a board when several jobs want it. Every call has
//! a deadline, children run in their own process group (a terminal's Ctrl-C reaches us, not
//! them, so we can still release), and a [`Lease`] releases on drop, on errors and panics too.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use at_scenario::Profile;

use crate::pylit::{self, Py, PyError};

/// The environment variable naming the `labgrid-client` executable (default: from `PATH`).
pub const CLIENT_ENV: &str = "ATCONFORM_LABGRID_CLIENT";

/// Which places a `--target labgrid:...` means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// One place, by name (`labgrid:ec25-a`).
    Place(String),
    /// Every place carrying all these tags (`labgrid:profile=ec25,fw=new`).
    Tags(Vec<(String, String)>),
}

/// A parsed `--target [PROFILE=]labgrid:PLACE` or `--target [PROFILE=]labgrid:KEY=VALUE[,...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabSpec {
    /// The column label and run-directory name (`LABEL=PROFILE=labgrid:PLACE`), instead of
    /// the place's name.
    pub label: Option<String>,
    /// The profile of every selected place, when the spec names one (else each place's
    /// `profile` tag).
    pub profile: Option<Profile>,
    /// The places.
    pub selector: Selector,
    /// The spec as written.
    pub text: String,
}

/// Why a `--target ...labgrid:...` value does not parse (each names the value as written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabSpecError {
    /// The part before `=labgrid:` is not a profile.
    #[error(
        "{spec:?}: {profile:?} is not a profile (PROFILE=labgrid:... or \
         LABEL=PROFILE=labgrid:PLACE)"
    )]
    NotProfile {
        /// The value.
        spec: String,
        /// The supposed profile.
        profile: String,
    },
    /// No `labgrid:`.
    #[error("{0:?} is not a labgrid target")]
    NotLabgrid(String),
    /// Nothing after `labgrid:`.
    #[error("{0:?}: give a place name or KEY=VALUE tags")]
    Empty(String),
    /// A tag without `=`.
    #[error("{spec:?}: {pair:?} is not KEY=VALUE")]
    NotKeyValue {
        /// The value.
        spec: String,
        /// The tag.
        pair: String,
    },
    /// A tag key or value labgrid does not allow.
    #[error("{spec:?}: {pair:?}: a tag key is [a-z][a-z0-9_]+ and the value not empty")]
    BadTag {
        /// The value.
        spec: String,
        /// The tag.
        pair: String,
    },
    /// A place name with whitespace.
    #[error("{0:?}: a place name has no spaces")]
    Spaces(String),
    /// A label with tags (a label names one place).
    #[error("{0:?}: a label names one place: LABEL=PROFILE=labgrid:PLACE, not KEY=VALUE tags")]
    LabelWithTags(String),
}

/// labgrid's tag key rule (`labgrid.remote.common.TAG_KEY`).
fn tag_key_ok(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && k.len() >= 2
        && c.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl FromStr for LabSpec {
    type Err = LabSpecError;
    fn from_str(s: &str) -> Result<Self, LabSpecError> {
        let (label, profile, rest) = match s.strip_prefix("labgrid:") {
            Some(rest) => (None, None, rest),
            None => match s.split_once("=labgrid:") {
                Some((head, rest)) => {
                    // `LABEL=PROFILE=labgrid:PLACE` or `PROFILE=labgrid:...`.
                    let (label, p) = match head.split_once('=') {
                        Some((l, p)) if !l.is_empty() => (Some(l.to_string()), p),
                        _ => (None, head),
                    };
                    let profile =
                        Profile::from_name(p).ok_or_else(|| LabSpecError::NotProfile {
                            spec: s.into(),
                            profile: p.into(),
                        })?;
                    (label, Some(profile), rest)
                }
                None => return Err(LabSpecError::NotLabgrid(s.into())),
            },
        };
        if rest.is_empty() {
            return Err(LabSpecError::Empty(s.into()));
        }
        let selector = if rest.contains('=') {
            let mut tags = Vec::new();
            for pair in rest.split(',') {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| LabSpecError::NotKeyValue {
                        spec: s.into(),
                        pair: pair.into(),
                    })?;
                if !tag_key_ok(k) || v.is_empty() {
                    return Err(LabSpecError::BadTag {
                        spec: s.into(),
                        pair: pair.into(),
                    });
                }
                tags.push((k.to_string(), v.to_string()));
            }
            Selector::Tags(tags)
        } else {
            if rest.chars().any(char::is_whitespace) {
                return Err(LabSpecError::Spaces(s.into()));
            }
            Selector::Place(rest.to_string())
        };
        if label.is_some() && matches!(selector, Selector::Tags(_)) {
            return Err(LabSpecError::LabelWithTags(s.into()));
        }
        Ok(LabSpec {
            label,
            profile,
            selector,
            text: s.to_string(),
        })
    }
}

impl LabSpec {
    /// Whether `place` is selected.
    pub fn selects(&self, place: &Place) -> bool {
        match &self.selector {
            Selector::Place(name) => place.name == *name,
            Selector::Tags(tags) => tags
                .iter()
                .all(|(k, v)| place.tags.get(k).is_some_and(|t| t == v)),
        }
    }

    /// The `--target` value that selects `place` alone, with this spec's profile.
    pub fn origin_for(&self, place: &str) -> String {
        match (&self.label, self.profile) {
            (Some(l), Some(p)) => format!("{l}={p}=labgrid:{place}"),
            (_, Some(p)) => format!("{p}=labgrid:{place}"),
            (_, None) => format!("labgrid:{place}"),
        }
    }
}

/// A place as `labgrid-client -v places` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// Name.
    pub name: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Who holds it (`host/user`), if anyone.
    pub acquired: Option<String>,
    /// The reservation it is allocated to, if any.
    pub reservation: Option<String>,
}

/// Parses `labgrid-client -v places` (and the place part of `show`).
pub fn parse_places(text: &str) -> Vec<Place> {
    let mut out: Vec<Place> = Vec::new();
    let mut in_place = false;
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("Place '")
            .and_then(|l| l.strip_suffix("':"))
        {
            out.push(Place {
                name: name.to_string(),
                ..Place::default()
            });
            in_place = true;
            continue;
        }
        if !line.starts_with(' ') {
            // Something else (a resource): the place is complete.
            in_place = false;
        }
        let Some(place) = out.last_mut().filter(|_| in_place) else {
            continue;
        };
        // Fields are indented by two spaces, one level (deeper lines are lists).
        let Some(field) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        if let Some(tags) = field.strip_prefix("tags: ") {
            for pair in tags.split(", ") {
                if let Some((k, v)) = pair.split_once('=') {
                    place.tags.insert(k.to_string(), v.to_string());
                }
            }
        } else if let Some(who) = field.strip_prefix("acquired: ") {
            place.acquired = (who != "None").then(|| who.to_string());
        } else if let Some(token) = field.strip_prefix("reservation: ") {
            place.reservation = Some(token.to_string());
        }
    }
    out
}

/// A resource of a place as `labgrid-client show` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// Its name in the place (after any rename).
    pub name: String,
    /// `exporter/group/class/name`.
    pub path: String,
    /// Whether the place holds it (`Acquired resource`) or only matches it.
    pub acquired: bool,
    /// Its attributes (`cls`, `params`, `avail`, `acquired`).
    pub attrs: Py,
}

impl Resource {
    /// The resource class (`NetworkSerialPort`).
    pub fn class(&self) -> &str {
        self.attrs.get("cls").and_then(Py::as_str).unwrap_or("")
    }
}

/// Parses the resources in `labgrid-client -p PLACE show`.
pub fn parse_resources(text: &str) -> Result<Vec<Resource>, LabgridError> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let (acquired, rest) = if let Some(r) = line.strip_prefix("Acquired resource '") {
            (true, r)
        } else if let Some(r) = line.strip_prefix("Matching resource '") {
            (false, r)
        } else {
            continue;
        };
        let Some((name, rest)) = rest.split_once("' (") else {
            continue;
        };
        let path = rest.trim_end_matches("):").to_string();
        let mut body = String::new();
        while let Some(l) = lines.peek() {
            if !l.starts_with(' ') {
                break;
            }
            body.push_str(l);
            body.push('\n');
            lines.next();
        }
        let attrs = pylit::parse(&body).map_err(|source| LabgridError::Resource {
            path: path.clone(),
            source,
        })?;
        out.push(Resource {
            name: name.to_string(),
            path,
            acquired,
            attrs,
        });
    }
    Ok(out)
}

/// How a serial port is exported (`NetworkSerialPort.protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Plain TCP: bytes only, no modem lines.
    Raw,
    /// RFC 2217: baud rate and DTR over Telnet (labgrid's default).
    Rfc2217,
}

/// Why a place's resources give no usable serial port.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The place has no `NetworkSerialPort`.
    #[error("no NetworkSerialPort resource")]
    None,
    /// Several, none named `NetworkSerialPort`.
    #[error(
        "{} NetworkSerialPorts ({}); name the module's AT port NetworkSerialPort",
        .0.len(),
        .0.join(", ")
    )]
    Several(Vec<String>),
    /// The exporter is reachable only through an SSH forward.
    #[error(
        "{0}: the exporter runs isolated (proxy_required: reachable only through an SSH \
         forward), which atconform does not set up"
    )]
    ProxyRequired(String),
    /// No `host` parameter.
    #[error("{0}: no host")]
    NoHost(String),
    /// A `port` that is not a TCP port.
    #[error("{path}: bad port {value}")]
    BadPort {
        /// The resource's path.
        path: String,
        /// The value (Python literal, `Debug` form).
        value: String,
    },
    /// A `speed` that is not a baud rate.
    #[error("{path}: bad speed {value}")]
    BadSpeed {
        /// The resource's path.
        path: String,
        /// The value (Python literal, `Debug` form).
        value: String,
    },
    /// A protocol other than raw and rfc2217.
    #[error("{path}: protocol {protocol:?} (atconform speaks raw and rfc2217)")]
    Protocol {
        /// The resource's path.
        path: String,
        /// The protocol.
        protocol: String,
    },
}

/// A place's `NetworkSerialPort`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSerialPort {
    /// Host to connect to.
    pub host: String,
    /// TCP port (`None` until the exporter starts ser2net, i.e. until acquired).
    pub port: Option<u16>,
    /// Baud rate (`speed`, default 115200).
    pub speed: u32,
    /// `raw` or `rfc2217` (labgrid's default).
    pub protocol: Protocol,
    /// The resource's path, `exporter/group/class/name`.
    pub path: String,
}

impl NetworkSerialPort {
    /// The serial port among `resources`: the only `NetworkSerialPort`, or the one named
    /// `NetworkSerialPort` (labgrid's default name) when there are several.
    pub fn of(resources: &[Resource]) -> Result<NetworkSerialPort, PortError> {
        let ports: Vec<&Resource> = resources
            .iter()
            .filter(|r| r.class() == "NetworkSerialPort")
            .collect();
        let r = match ports.as_slice() {
            [] => return Err(PortError::None),
            [one] => *one,
            many => many
                .iter()
                .find(|r| r.name == "NetworkSerialPort")
                .copied()
                .ok_or_else(|| PortError::Several(many.iter().map(|r| r.name.clone()).collect()))?,
        };
        let params = r.attrs.get("params").cloned().unwrap_or(Py::None);
        let proxy = params
            .get("extra")
            .and_then(|e| e.get("proxy_required"))
            .and_then(Py::as_bool)
            .unwrap_or(false);
        if proxy {
            return Err(PortError::ProxyRequired(r.path.clone()));
        }
        let host = params
            .get("host")
            .and_then(Py::as_str)
            .ok_or_else(|| PortError::NoHost(r.path.clone()))?
            .to_string();
        let port =
            match params.get("port") {
                None | Some(Py::None) => None,
                Some(p) => Some(p.as_int().and_then(|p| u16::try_from(p).ok()).ok_or_else(
                    || PortError::BadPort {
                        path: r.path.clone(),
                        value: format!("{p:?}"),
                    },
                )?),
            };
        let speed = match params.get("speed") {
            None | Some(Py::None) => 115_200,
            Some(s) => s
                .as_int()
                .and_then(|s| u32::try_from(s).ok())
                .ok_or_else(|| PortError::BadSpeed {
                    path: r.path.clone(),
                    value: format!("{s:?}"),
                })?,
        };
        let protocol = match params.get("protocol").and_then(Py::as_str) {
            None | Some("rfc2217") => Protocol::Rfc2217,
            Some("raw") => Protocol::Raw,
            Some(other) => {
                return Err(PortError::Protocol {
                    path: r.path.clone(),
                    protocol: other.into(),
                });
            }
        };
        Ok(NetworkSerialPort {
            host,
            port,
            speed,
            protocol,
            path: r.path.clone(),
        })
    }

    /// `HOST:PORT` (IPv6 hosts bracketed), once the port is known.
    pub fn addr(&self) -> Option<String> {
        let port = self.port?;
        Some(if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{port}", self.host)
        } else {
            format!("{}:{port}", self.host)
        })
    }

    /// Where the runner connects: raw TCP or RFC 2217 at the port's speed.
    pub fn target_spec(&self) -> Option<at_runner::TargetSpec> {
        let addr = self.addr()?;
        Some(match self.protocol {
            Protocol::Raw => at_runner::TargetSpec::Tcp { addr },
            Protocol::Rfc2217 => at_runner::TargetSpec::Rfc2217 {
                addr,
                baud: self.speed,
            },
        })
    }
}

/// Why talking to the coordinator through `labgrid-client` failed.
#[derive(Debug, thiserror::Error)]
pub enum LabgridError {
    /// `labgrid-client` cannot be started.
    #[error(
        "cannot run {} ({source}); install labgrid (pip install labgrid==26.0.1) or set {CLIENT_ENV}",
        program.display()
    )]
    Spawn {
        /// The program tried.
        program: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The client did not finish within its timeout.
    #[error(
        "labgrid-client {args}: no answer within {} s (is the coordinator at \
         LG_COORDINATOR={coordinator} running?)",
        timeout.as_secs()
    )]
    Timeout {
        /// Its arguments.
        args: String,
        /// How long it had.
        timeout: Duration,
        /// The coordinator's address.
        coordinator: String,
    },
    /// Waiting for the client failed.
    #[error("labgrid-client: {0}")]
    Wait(#[source] std::io::Error),
    /// The client exited with an error.
    #[error("labgrid-client {args} failed ({status}): {output}")]
    Failed {
        /// Its arguments.
        args: String,
        /// Its exit status.
        status: ExitStatus,
        /// The last lines it printed.
        output: String,
    },
    /// `show` printed no place.
    #[error("labgrid-client show {0}: no place in the output")]
    NoPlace(String),
    /// A resource's attributes do not parse.
    #[error("resource {path}: {source}")]
    Resource {
        /// The resource's path.
        path: String,
        /// Why.
        #[source]
        source: PyError,
    },
    /// The run was cancelled while waiting for a reservation.
    #[error("interrupted while waiting for the reservation")]
    Interrupted,
    /// No matching place was allocated in time.
    #[error(
        "no place matching {filters} within --lab-wait {} s",
        wait.as_secs_f64()
    )]
    NoPlaceInTime {
        /// The filters (`name=PLACE`).
        filters: String,
        /// How long the run waited.
        wait: Duration,
    },
    /// `reserve` succeeded without printing a token.
    #[error("labgrid-client reserve printed no token")]
    NoToken,
    /// Releasing a lease failed (the place, the reservation, or both).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Release(Vec<LabgridError>),
}

/// `labgrid-client`, as a subprocess.
#[derive(Clone, Debug)]
pub struct Client {
    program: PathBuf,
    /// The longest any single command (other than a waiting reservation) may take.
    pub timeout: Duration,
}

impl Client {
    /// `$ATCONFORM_LABGRID_CLIENT`, else `labgrid-client` from `PATH`.
    pub fn from_env() -> Client {
        Client::new(
            std::env::var_os(CLIENT_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("labgrid-client")),
        )
    }

    /// The client at `program`.
    pub fn new(program: PathBuf) -> Client {
        Client {
            program,
            timeout: Duration::from_secs(30),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(&self.program);
        c.args(args)
            // Line by line, so a reservation token is seen while the client still waits.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a terminal's Ctrl-C stops us, and we still release.
            .process_group(0);
        c
    }

    fn spawn(&self, args: &[&str]) -> Result<Child, LabgridError> {
        self.command(args)
            .spawn()
            .map_err(|source| LabgridError::Spawn {
                program: self.program.clone(),
                source,
            })
    }

    /// Runs `labgrid-client ARGS` to completion within [`Client::timeout`]; its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, LabgridError> {
        let mut child = self.spawn(args)?;
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(LabgridError::Timeout {
                        args: args.join(" "),
                        timeout: self.timeout,
                        coordinator: coordinator(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(LabgridError::Wait(e)),
            }
        };
        let out = out.join().unwrap_or_default();
        let err = err.join().unwrap_or_default();
        if status.success() {
            Ok(out)
        } else {
            Err(LabgridError::Failed {
                args: args.join(" "),
                status,
                output: last_lines(&err, &out),
            })
        }
    }

    /// Every place (`labgrid-client -v places`).
    pub fn places(&self) -> Result<Vec<Place>, LabgridError> {
        Ok(parse_places(&self.run(&["-v", "places"])?))
    }

    /// A place and its resources (`labgrid-client -p PLACE show`).
    pub fn show(&self, place: &str) -> Result<(Place, Vec<Resource>), LabgridError> {
        let text = self.run(&["-p", place, "show"])?;
        let p = parse_places(&text)
            .into_iter()
            .next()
            .ok_or_else(|| LabgridError::NoPlace(place.into()))?;
        Ok((p, parse_resources(&text)?))
    }

    /// Reserves a place matching `filters` (`name=PLACE` for one place), waiting at most
    /// `wait` (checking `cancel`); the reservation token. A reservation that did not come
    /// through in time is cancelled.
    pub fn reserve(
        &self,
        filters: &[(String, String)],
        wait: Duration,
        cancel: &AtomicBool,
    ) -> Result<String, LabgridError> {
        let pairs: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut args = vec!["reserve", "--wait", "--shell"];
        args.extend(pairs.iter().map(String::as_str));
        let mut child = self.spawn(&args)?;
        let err = drain(child.stderr.take());
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let deadline = Instant::now() + wait;
        let mut token: Option<String> = None;
        let outcome = loop {
            while let Ok(line) = rx.try_recv() {
                if let Some(t) = line.trim().strip_prefix("export LG_TOKEN=") {
                    token = Some(t.trim_matches(['\'', '"']).to_string());
                }
            }
            match child.try_wait() {
                Ok(Some(s)) if s.success() => break Ok(()),
                Ok(Some(s)) => {
                    break Err(LabgridError::Failed {
                        args: format!("reserve {}", pairs.join(" ")),
                        status: s,
                        output: last_lines(&err.join().unwrap_or_default(), ""),
                    });
                }
                Ok(None) if cancel.load(Ordering::Relaxed) => {
                    break Err(LabgridError::Interrupted);
                }
                Ok(None) if Instant::now() >= deadline => {
                    break Err(LabgridError::NoPlaceInTime {
                        filters: pairs.join(" "),
                        wait,
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => break Err(LabgridError::Wait(e)),
            }
        };
        // Whatever was printed last (the token comes first, before the wait).
        while let Ok(line) = rx.try_recv() {
            if let Some(t) = line.trim().strip_prefix("export LG_TOKEN=") {
                token = Some(t.trim_matches(['\'', '"']).to_string());
            }
        }
        match outcome {
            Ok(()) => token.ok_or(LabgridError::NoToken),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                if let Some(t) = &token {
                    // Not allocated in time: leave the queue (it would expire in 60 s anyway).
                    let _ = self.cancel_reservation(t);
                }
                Err(e)
            }
        }
    }

    /// Acquires `place` (`labgrid-client -p PLACE acquire`).
    pub fn acquire(&self, place: &str) -> Result<(), LabgridError> {
        self.run(&["-p", place, "acquire"]).map(|_| ())
    }

    /// Releases `place`.
    pub fn release(&self, place: &str) -> Result<(), LabgridError> {
        self.run(&["-p", place, "release"]).map(|_| ())
    }

    /// Cancels the reservation `token`.
    pub fn cancel_reservation(&self, token: &str) -> Result<(), LabgridError> {
        self.run(&["cancel-reservation", token]).map(|_| ())
    }
}

/// `LG_COORDINATOR`, or labgrid's default.
pub fn coordinator() -> String {
    std::env::var("LG_COORDINATOR").unwrap_or_else(|_| "127.0.0.1:20408".into())
}

fn drain(r: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = r {
            let _ = r.read_to_string(&mut s);
        }
        s
    })
}

/// The last few lines of a failing command's output (labgrid prints its error last).
fn last_lines(err: &str, out: &str) -> String {
    let text = if err.trim().is_empty() { out } else { err };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(3);
    lines.get(from..).unwrap_or_default().join(" / ")
}

/// A place this run holds: reserved, acquired, released on drop (also on errors and panics).
#[derive(Debug)]
pub struct Lease {
    client: Client,
    /// The place.
    pub place: String,
    token: Option<String>,
    acquired: bool,
}

impl Lease {
    /// Reserves `place` (waiting at most `wait`) and acquires it.
    pub fn take(
        client: &Client,
        place: &str,
        wait: Duration,
        cancel: &AtomicBool,
    ) -> Result<Lease, LabgridError> {
        let token = client.reserve(&[("name".into(), place.into())], wait, cancel)?;
        let mut lease = Lease {
            client: client.clone(),
            place: place.to_string(),
            token: Some(token),
            acquired: false,
        };
        client.acquire(place)?;
        lease.acquired = true;
        Ok(lease)
    }

    /// Releases the place and cancels the reservation now, reporting errors.
    pub fn release(mut self) -> Result<(), LabgridError> {
        self.end()
    }

    fn end(&mut self) -> Result<(), LabgridError> {
        let mut errors = Vec::new();
        if std::mem::take(&mut self.acquired)
            && let Err(e) = self.client.release(&self.place)
        {
            errors.push(e);
        }
        if let Some(t) = self.token.take()
            && let Err(e) = self.client.cancel_reservation(&t)
        {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(LabgridError::Release(errors))
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Err(e) = self.end() {
            eprintln!("labgrid: releasing {}: {e}", self.place);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `labgrid-client -v places` and `-p ec25-b show` as labgrid 26.0.1 prints them.
    const PLACES: &str = "Place 'ec25-a':\n  tags: profile=ec25\n  matches:\n    lab1/ec25-a/*\n  \
        acquired: None\n  acquired resources:\n  created: 2026-12-07 17:27:07.246086\n  \
        changed: 2026-12-07 17:27:10.272815\nPlace 'ec25-b':\n  tags: fw=new, profile=ec25\n  \
        matches:\n    lab1/ec25-b/*\n  acquired: vm/root\n  acquired resources:\n    \
        lab1/ec25-b/NetworkSerialPort/NetworkSerialPort\n  created: 2026-12-07 17:27:11.506326\n  \
        changed: 2026-12-07 17:27:24.307450\n  reservation: VHMXCXY5CW\n";
    const SHOW: &str = "Place 'ec25-b':\n  tags: fw=new, profile=ec25\n  matches:\n    \
        lab1/ec25-b/*\n  acquired: vm/root\n  acquired resources:\n    \
        lab1/ec25-b/NetworkSerialPort/NetworkSerialPort\n  created: 2026-12-07 17:27:11.506326\n  \
        changed: 2026-12-07 17:27:24.307450\n  reservation: VHMXCXY5CW\n\
        Acquired resource 'NetworkSerialPort' (lab1/ec25-b/NetworkSerialPort/NetworkSerialPort):\n  \
        {'acquired': 'ec25-b',\n   'avail': True,\n   'cls': 'NetworkSerialPort',\n   \
        'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},\n              \
        'host': '127.0.0.1',\n              'port': 40002,\n              'protocol': 'rfc2217',\n              \
        'speed': 115200}}\n";

    #[test]
    fn places_and_resources_parse() {
        let places = parse_places(PLACES);
        assert_eq!(places.len(), 2);
        assert_eq!(places[0].name, "ec25-a");
        assert_eq!(
            places[0].tags.get("profile").map(String::as_str),
            Some("ec25")
        );
        assert_eq!(places[0].acquired, None);
        assert_eq!(places[1].tags.len(), 2);
        assert_eq!(places[1].acquired.as_deref(), Some("vm/root"));
        assert_eq!(places[1].reservation.as_deref(), Some("VHMXCXY5CW"));
        let resources = parse_resources(SHOW).unwrap();
        assert_eq!(resources.len(), 1);
        let port = NetworkSerialPort::of(&resources).unwrap();
        assert_eq!(port.addr().as_deref(), Some("127.0.0.1:40002"));
        assert_eq!((port.protocol, port.speed), (Protocol::Rfc2217, 115_200));
        assert_eq!(
            port.target_spec(),
            Some(at_runner::TargetSpec::Rfc2217 {
                addr: "127.0.0.1:40002".into(),
                baud: 115_200
            })
        );
        // A serial port exported from a RawSerialPort has no protocol key (labgrid's default is
        // rfc2217) and no port until the place is acquired.
        let show = SHOW
            .replace("'port': 40002", "'port': None")
            .replace("'protocol': 'rfc2217',\n", "");
        let port = NetworkSerialPort::of(&parse_resources(&show).unwrap()).unwrap();
        assert_eq!((port.port, port.protocol), (None, Protocol::Rfc2217));
        let isolated = SHOW.replace("'proxy_required': False", "'proxy_required': True");
        let e = NetworkSerialPort::of(&parse_resources(&isolated).unwrap()).unwrap_err();
        assert!(matches!(e, PortError::ProxyRequired(_)), "{e}");
        assert!(e.to_string().contains("SSH"), "{e}");
        assert_eq!(NetworkSerialPort::of(&[]), Err(PortError::None));
    }

    #[test]
    fn specs_parse() {
        let s: LabSpec = "labgrid:ec25-a".parse().unwrap();
        assert_eq!(s.selector, Selector::Place("ec25-a".into()));
        assert_eq!(
            (s.profile, s.origin_for("ec25-a")),
            (None, "labgrid:ec25-a".into())
        );
        let s: LabSpec = "labgrid:profile=ec25,fw=new".parse().unwrap();
        assert_eq!(
            s.selector,
            Selector::Tags(vec![
                ("profile".into(), "ec25".into()),
                ("fw".into(), "new".into())
            ])
        );
        let places = parse_places(PLACES);
        assert!(!s.selects(&places[0]) && s.selects(&places[1]));
        let s: LabSpec = "eg95=labgrid:board=7".parse().unwrap();
        assert_eq!(s.profile, Some(Profile::Eg95));
        assert_eq!(s.origin_for("b7"), "eg95=labgrid:b7");
        // LABEL= in front: one place, its own column label.
        let s: LabSpec = "fw2=ec25=labgrid:ec25-a".parse().unwrap();
        assert_eq!(
            (s.label.as_deref(), s.profile),
            (Some("fw2"), Some(Profile::Ec25))
        );
        assert_eq!(s.origin_for("ec25-a"), "fw2=ec25=labgrid:ec25-a");
        for bad in [
            "fw2=labgrid:ec25-a",
            "fw2=ec25=labgrid:board=7",
            "labgrid:",
            "labgrid:Profile=x",
            "labgrid:k=",
            "ec99=labgrid:x",
            "labgrid:a b",
            "tcp:x",
        ] {
            assert!(bad.parse::<LabSpec>().is_err(), "{bad}");
        }
    }
}
