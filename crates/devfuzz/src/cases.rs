//! Catalog-driven case generation: every case is a pure function of `(seed, case number)`.

use core::time::Duration;

use at_catalog::{
    COMMANDS, Command, Dialect, Form, MULTITECH_PARAMS, MaxResponse, ParamKind, Profile,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{Case, Class, Expect, Family, Group, Info, ServerFault, Step};

/// 000 §2.2.1–§2.2.6: "最大响应时间 300 毫秒".
const MS300: Duration = Duration::from_millis(300);
/// How long the oracle waits for the answer to a command no source gives a maximum response
/// time (ERRATA E30): a hang detector, not a limit. Sends take their deadline from
/// `at_catalog::line_limit`, the limits the runner judges by.
pub const UNDOCUMENTED_WAIT: Duration = Duration::from_secs(60);
/// 000 §1.3: at least 1 s of silence each side of `+++`; the fuzzer keeps 1.5 s.
const GUARD: Duration = Duration::from_millis(1500);
/// The server name normal flows configure (resolved to the capture sink in scenarios).
pub const SERVER: &str = "smtp.example.com";

/// What the target can do, which decides some families.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// The target has a DTR line.
    pub dtr: bool,
    /// Deliveries succeed (the emulator with its virtual server): `+QSMTPPUT: 0,0` is due.
    pub deliveries_succeed: bool,
    /// The fuzzer controls the SMTP server (emulator): server-fault flows are generated.
    pub server_faults: bool,
}

/// Generates cases for one module profile.
#[derive(Clone, Debug)]
pub struct Generator {
    profile: Profile,
    caps: Caps,
    families: Vec<Family>,
    server: String,
    port: u16,
    pin_plain: bool,
}

fn dur_of(cmd: &Command, params: &[i64]) -> Duration {
    match cmd.max_response {
        MaxResponse::Undocumented => UNDOCUMENTED_WAIT,
        MaxResponse::Millis(ms) => Duration::from_millis(u64::from(ms)),
        MaxResponse::Param(name) => {
            let secs = cmd
                .params
                .iter()
                .position(|p| p.name == name)
                .and_then(|i| params.get(i).copied())
                .or_else(|| cmd.param(name).and_then(|p| p.default))
                .unwrap_or(300);
            Duration::from_secs(u64::try_from(secs).unwrap_or(300)) + MS300
        }
    }
}

fn within(name: &str) -> Duration {
    at_catalog::command(name).map_or(MS300, |c| dur_of(c, &[]))
}

/// A quoted string of `len` printable ASCII bytes (no `"`, no `\`).
fn text(rng: &mut ChaCha8Rng, len: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-_@";
    (0..len)
        .map(|_| char::from(*A.choose(rng).unwrap_or(&b'x')))
        .collect()
}

fn email(rng: &mut ChaCha8Rng, i: usize) -> String {
    format!("r{i}x{}@example.com", rng.random_range(0..1000u32))
}

/// Data-mode payload: printable text lines, sometimes with `+++` or a lone `.` inside.
fn payload(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        match rng.random_range(0..10) {
            0 => v.extend_from_slice(b"+++"),
            1 => v.extend_from_slice(b"\r\n.\r\n"),
            2 => v.push(rng.random_range(0x80..=0xFFu8)),
            _ => v.extend_from_slice(text(rng, 8).as_bytes()),
        }
    }
    v.truncate(len);
    v
}

/// Mail text: 7-bit lines ending in CRLF, some starting with `.` or `..` or a lone `.`, which
/// the client must dot-stuff (RFC 5321 §4.5.2).
fn mail_text(rng: &mut ChaCha8Rng, lines: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..lines {
        match rng.random_range(0..6) {
            0 => v.push(b'.'),
            1 => v.extend_from_slice(b".."),
            _ => {}
        }
        let n = rng.random_range(0..30);
        v.extend_from_slice(text(rng, n).as_bytes());
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// `text` (CRLF lines) as a Multi-Tech host sends it: a line starting with `.` gets another
/// (002 #PUTMAIL, ERRATA E23/W6).
fn host_dot_stuffed(text: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 8);
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            v.push(b'.');
        }
        v.extend_from_slice(line);
    }
    v
}

/// Data sent after a silence must not start like a new `+++` escape (000 §1.3): that would
/// be ambiguous, not a finding.
fn not_an_escape(mut data: Vec<u8>) -> Vec<u8> {
    if let Some(b) = data.first_mut().filter(|b| **b == b'+') {
        *b = b'x';
    }
    data
}

fn send(line: impl Into<Vec<u8>>, expect: Expect) -> Step {
    Step::Send {
        bytes: line.into(),
        cr: true,
        expect,
    }
}

fn any(within: Duration) -> Expect {
    Expect::class(Class::Any, within)
}

fn ok() -> Expect {
    Expect::class(Class::Ok, MS300)
}

fn ok_none() -> Expect {
    Expect::class(Class::Ok, MS300).with_info(Info::None)
}

/// One value of a parameter kind, rendered as it goes on the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    Valid,
    Boundary,
    OutOfRange,
    WrongType,
}

fn value(rng: &mut ChaCha8Rng, kind: ParamKind, pick: Pick, name: &str) -> (String, i64) {
    match (kind, pick) {
        (ParamKind::Int { min, max }, Pick::Valid) => {
            let v = rng.random_range(min..=max);
            (v.to_string(), v)
        }
        (ParamKind::Int { min, max }, Pick::Boundary) => {
            let v = if rng.random_bool(0.5) { min } else { max };
            (v.to_string(), v)
        }
        (ParamKind::Int { min, max }, Pick::OutOfRange) => {
            let v = match rng.random_range(0..3) {
                0 => min - 1,
                1 => max + 1,
                _ => max.saturating_mul(1000).saturating_add(7),
            };
            (v.to_string(), v)
        }
        (ParamKind::IntList(list), Pick::Valid | Pick::Boundary) => {
            let v = list.choose(rng).copied().unwrap_or(0);
            (v.to_string(), v)
        }
        (ParamKind::IntList(list), Pick::OutOfRange) => {
            let v = if rng.random_bool(0.5) {
                list.iter().max().copied().unwrap_or(0) + 1
            } else {
                -1
            };
            (v.to_string(), v)
        }
        (ParamKind::HexInt { max }, Pick::Valid | Pick::Boundary) => {
            let v = if pick == Pick::Boundary {
                max
            } else {
                rng.random_range(0..=max)
            };
            (format!("0x{v:04x}"), i64::from(v))
        }
        (ParamKind::HexInt { max }, Pick::OutOfRange) => {
            (format!("0x{:x}", u64::from(max) + 1), i64::from(max) + 1)
        }
        (ParamKind::Str { max_len }, p) | (ParamKind::FileName { max_len }, p) => {
            let file = matches!(kind, ParamKind::FileName { .. });
            let len = match p {
                Pick::Valid => rng.random_range(1..=max_len.min(20)),
                Pick::Boundary => max_len,
                Pick::OutOfRange => max_len + 1,
                Pick::WrongType => return (rng.random_range(0..99).to_string(), 0),
            };
            let body = if file {
                let mut s = String::from("RAM:");
                s.push_str(&text(rng, len.saturating_sub(4).max(1)).replace(['@', ' '], "_"));
                s
            } else if name.contains("mail")
                || matches!(name, "emailaddr" | "REC1" | "CCREC1" | "SENDERADDR")
            {
                let mut s = String::from("a@example.com");
                while s.len() < len {
                    s.insert(0, 'x');
                }
                s
            } else {
                text(rng, len)
            };
            (format!("\"{body}\""), 0)
        }
        (_, Pick::WrongType) => (format!("\"{}\"", rng.random_range(0..99)), 0),
    }
}

/// Commands whose valid writes must answer `OK` whatever the state (configuration only).
fn stateless_write(cmd: &Command) -> bool {
    matches!(
        cmd.name,
        "+QSMTPCFG" | "+QSSLCFG" | "+QICSGP" | "+CGREG" | "E" | "&D"
    )
}

/// Commands whose writes the fuzzer may send with broken parameters (no data mode can start).
fn writable(cmd: &Command) -> bool {
    stateless_write(cmd)
        || matches!(
            cmd.name,
            "+QSMTPDST"
                | "+QSMTPSUB"
                | "+QSMTPATT"
                | "+QSMTPBODY"
                | "+QSMTPPUT"
                | "+QFUPL"
                | "+QIACT"
        )
}

impl Generator {
    /// A generator for `profile` on a target with `caps`.
    pub fn new(profile: Profile, caps: Caps) -> Self {
        let families = if profile.dialect == Dialect::MultiTech {
            vec![
                Family::Valid,
                Family::Boundary,
                Family::OutOfRange,
                Family::Overlong,
                Family::BrokenQuoting,
                Family::HighBytes,
                Family::Normal,
            ]
        } else {
            Family::ALL.to_vec()
        };
        Generator {
            profile,
            caps,
            families,
            server: SERVER.to_owned(),
            port: 25,
            pin_plain: false,
        }
    }

    /// Sends go to `host:port` (a capture sink the device reaches) instead of [`SERVER`]:25,
    /// over plain SMTP (`"ssltype",0` is set, whatever an earlier case left).
    pub fn with_server(mut self, host: &str, port: u16) -> Self {
        host.clone_into(&mut self.server);
        self.port = port;
        self.pin_plain = true;
        self
    }

    /// The server name sends are configured with.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The families this profile gets.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// Case `number` of the campaign with `seed`: the same pair always gives the same case.
    pub fn case(&self, seed: u64, number: u64) -> Case {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(number);
        let n = rng.random_range(1..=3);
        let groups = (0..n)
            .map(|_| {
                let f = *self.families.choose(&mut rng).unwrap_or(&Family::Valid);
                self.group(f, &mut rng)
            })
            .collect();
        Case {
            seed,
            number,
            groups,
        }
    }

    fn multitech(&self) -> bool {
        self.profile.dialect == Dialect::MultiTech
    }

    fn commands(&self) -> Vec<&'static Command> {
        COMMANDS
            .iter()
            .filter(|c| c.dialect == Dialect::Common || c.dialect == self.profile.dialect)
            // `+CFUN` restarts the module (ERRATA E32), wiping what the flows set up.
            .filter(|c| {
                !matches!(
                    c.name,
                    "+CGATT" | "#PUTMAIL" | "+QIDEACT" | "+QFDEL" | "+CFUN"
                )
            })
            .collect()
    }

    /// A group of `family`.
    pub fn group(&self, family: Family, rng: &mut ChaCha8Rng) -> Group {
        let mut g = Group {
            family,
            label: String::new(),
            steps: Vec::new(),
            server: None,
        };
        if self.multitech() {
            self.multitech_group(&mut g, rng);
            self.catalog_deadlines(&mut g);
            return g;
        }
        match family {
            Family::Valid => self.valid(&mut g, rng),
            Family::Boundary => self.write_pick(&mut g, rng, Pick::Boundary),
            Family::OutOfRange => self.write_pick(&mut g, rng, Pick::OutOfRange),
            Family::WrongType => self.write_pick(&mut g, rng, Pick::WrongType),
            Family::Overlong => self.overlong(&mut g, rng),
            Family::BrokenQuoting => self.broken_quoting(&mut g, rng),
            Family::HighBytes => self.high_bytes(&mut g, rng),
            Family::OutOfSequence => self.out_of_sequence(&mut g, rng),
            Family::DataMode => self.data_mode(&mut g, rng),
            Family::Normal => self.normal(&mut g, rng),
        }
        self.catalog_deadlines(&mut g);
        g
    }

    /// Every command line waits for its final result as long as the catalog's limit for it on
    /// this profile (the runner's limits, ERRATA E30), or [`UNDOCUMENTED_WAIT`] where none is
    /// documented: a conformant module answering an undocumented command slowly is no finding.
    fn catalog_deadlines(&self, g: &mut Group) {
        // What answers after data mode (`+QSMTPBODY: <n>`, `+QFUPL: …`) is still the
        // command's response: the command's limit (`<input_time>` + 300 ms) applies.
        let mut limit = UNDOCUMENTED_WAIT;
        for step in &mut g.steps {
            match step {
                Step::Send {
                    bytes,
                    cr: true,
                    expect,
                } => {
                    limit = at_catalog::line_limit(bytes, &self.profile.name)
                        .map_or(UNDOCUMENTED_WAIT, |l| l.duration);
                    expect.within = limit;
                }
                Step::Data {
                    expect: Some(e), ..
                }
                | Step::Escape {
                    expect: Some(e), ..
                } => e.within = limit,
                _ => {}
            }
        }
    }

    /// A prefix for a line known to be valid: `AT`, sometimes `at` (000 §2.1.2: "AT 或 at").
    fn prefix(rng: &mut ChaCha8Rng) -> &'static str {
        if rng.random_bool(0.25) { "at" } else { "AT" }
    }

    fn valid(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let cmds = self.commands();
        let Some(cmd) = cmds.choose(rng).copied() else {
            return;
        };
        let p = Self::prefix(rng);
        let forms: Vec<Form> = cmd.forms.to_vec();
        let form = forms.choose(rng).copied().unwrap_or(Form::Exec);
        match form {
            Form::Test => {
                g.label = format!("test form of AT{}", cmd.name);
                let lines = self.profile.test_response(cmd);
                let expect = if lines.is_empty() {
                    ok_none()
                } else {
                    Expect::ok_lines(lines, MS300)
                };
                g.steps.push(send(format!("{p}{}=?", cmd.name), expect));
            }
            Form::Read => {
                g.label = format!("read form of AT{}", cmd.name);
                let e = Expect::class(Class::Ok, dur_of(cmd, &[]).max(MS300));
                g.steps.push(send(format!("{p}{}?", cmd.name), e));
            }
            Form::Exec => {
                g.label = format!("AT{}", cmd.name);
                let e = match cmd.name {
                    // No seed prints ATI's answer: three lines, the revision the firmware's.
                    "I" => Expect::class(Class::Ok, MS300).with_info(Info::Match(vec![
                        (".+".into(), "{any}".into()),
                        (".+".into(), "{any}".into()),
                        ("Revision: .+".into(), "Revision: {any}".into()),
                    ])),
                    "O" => Expect::class(Class::Final("NO CARRIER".into()), MS300),
                    "" | "+QSMTPCLR" => ok_none(),
                    "E" => {
                        // ATE = ATE0: echo off, then back on (ERRATA W2).
                        g.steps.push(send(format!("{p}E"), ok()));
                        ok()
                    }
                    _ => Expect::class(Class::Ok, MS300),
                };
                let line = if cmd.name == "E" {
                    format!("{p}E1")
                } else {
                    format!("{p}{}", cmd.name)
                };
                g.steps.push(send(line, e));
            }
            Form::Write => {
                if stateless_write(cmd) {
                    self.write_pick_cmd(g, rng, cmd, Pick::Valid);
                } else {
                    self.subject(g, rng);
                }
            }
        }
    }

    /// `AT+QSMTPSUB` set and read back (000 §2.2.3).
    fn subject(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        if g.label.is_empty() {
            g.label = "AT+QSMTPSUB set and read back".into();
        }
        let p = Self::prefix(rng);
        let (cs, s) = if rng.random_bool(0.5) {
            let n = rng.random_range(1..=self.profile.limits.max_subject_ascii);
            (0, text(rng, n))
        } else {
            let bytes = rng.random_range(1..=self.profile.limits.max_subject_hex / 2);
            let raw: Vec<u8> = (0..bytes).map(|_| rng.random::<u8>()).collect();
            let hex: String = raw.iter().map(|b| format!("{b:02X}")).collect();
            (rng.random_range(1..=3), hex)
        };
        g.steps
            .push(send(format!("{p}+QSMTPSUB={cs},\"{s}\""), ok_none()));
        g.steps.push(send(
            format!("{p}+QSMTPSUB?"),
            Expect::ok_lines(vec![format!("+QSMTPSUB: {cs},\"{s}\"")], MS300),
        ));
    }

    fn write_pick(&self, g: &mut Group, rng: &mut ChaCha8Rng, pick: Pick) {
        let cmds: Vec<&Command> = self
            .commands()
            .into_iter()
            .filter(|c| writable(c) && c.supports(Form::Write))
            .filter(|c| pick == Pick::Boundary || !c.params.is_empty() || !c.settings.is_empty())
            .filter(|c| pick != Pick::Boundary || stateless_write(c))
            .collect();
        if let Some(cmd) = cmds.choose(rng).copied() {
            self.write_pick_cmd(g, rng, cmd, pick);
        }
    }

    /// A write of `cmd` with every parameter valid except one picked as `pick`.
    fn write_pick_cmd(&self, g: &mut Group, rng: &mut ChaCha8Rng, cmd: &Command, pick: Pick) {
        let setting = cmd.settings.choose(rng);
        let params: Vec<at_catalog::Param> = match setting {
            Some(s) => s.params.to_vec(),
            None => cmd.params.to_vec(),
        };
        if params.is_empty() {
            return;
        }
        let bad = rng.random_range(0..params.len());
        let mut rendered = Vec::new();
        let mut values = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let k = if i == bad { pick } else { Pick::Valid };
            let k = if k == Pick::WrongType && matches!(p.kind, ParamKind::HexInt { .. }) {
                Pick::OutOfRange
            } else {
                k
            };
            let (s, v) = value(rng, p.kind, k, p.name);
            rendered.push(s);
            values.push(v);
        }
        let mut line = format!("AT{}=", cmd.name);
        if let Some(s) = setting {
            line.push_str(&format!("\"{}\",", s.name));
        }
        line.push_str(&rendered.join(","));
        let deadline = dur_of(cmd, &values).max(MS300);
        let quectel_smtp = cmd.name.starts_with("+QSMTP");
        let bodyoriginal_missing = setting.is_some_and(|s| s.name == "bodyoriginal")
            && !self.profile.supports_bodyoriginal;
        let class = match pick {
            // 001 p.9 only leaves "bodyoriginal" out of the test response: what an AG35
            // answers to it is the firmware's (ERRATA E26).
            Pick::Valid | Pick::Boundary if bodyoriginal_missing => Class::Any,
            Pick::Valid | Pick::Boundary => Class::Ok,
            // 000 §2.2: the SMTP commands report errors as `+CME ERROR: <err>`.
            _ if quectel_smtp => Class::Cme(None),
            _ => Class::Error,
        };
        let what = match pick {
            Pick::Valid => "valid",
            Pick::Boundary => "boundary value of",
            Pick::OutOfRange => "out-of-range",
            Pick::WrongType => "wrong-type",
        };
        g.label = format!("{what} parameter <{}> of AT{}", params[bad].name, cmd.name);
        g.steps.push(send(line, Expect::class(class, deadline)));
    }

    fn overlong(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let n = rng.random_range(300..3000);
        let s = text(rng, n);
        let line = match rng.random_range(0..4) {
            0 => format!("AT+QSMTPSUB=0,\"{s}\""),
            1 => format!("AT+QSMTPCFG=\"account\",\"{s}\",\"p\""),
            2 => format!("AT+QSMTPDST=1,1,\"{s}@example.com\""),
            _ => format!("AT{}", "+QSMTPCLR;".repeat(n / 10)),
        };
        g.label = format!("overlong line of {} bytes", line.len());
        // A run of valid commands has no documented length limit: judged on liveness only.
        let class = if line.contains(';') {
            Class::Any
        } else {
            Class::Error
        };
        g.steps.push(send(line, Expect::class(class, MS300)));
    }

    fn broken_quoting(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let lines = [
            "AT+QSMTPCFG=\"account,\"user\",\"pass\"",
            "AT+QSMTPDST=1,1,\"a@example.com",
            "AT+QSMTPSUB=0,\"Hi\"there\"",
            "AT+QSMTPCFG=\"smtpserver\",smtp.example.com\",25",
            "AT+QSMTPATT=1,1,\"RAM:a.txt\"\"",
            "AT+QFLST=\"RAM: \"*\"",
            "AT+QSMTPCFG=\"\"",
            "AT+QSMTPDST=1,\"1\",a@example.com",
        ];
        let l = lines.choose(rng).copied().unwrap_or(lines[0]);
        g.label = "broken quoting".into();
        g.steps.push(send(l, Expect::class(Class::Error, MS300)));
    }

    fn high_bytes(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let mut line = match rng.random_range(0..3) {
            0 => b"AT+QSMTPSUB=0,\"".to_vec(),
            1 => b"AT+QSMTPCFG=\"sender\",\"".to_vec(),
            _ => b"AT".to_vec(),
        };
        for _ in 0..rng.random_range(1..40) {
            line.push(rng.random_range(0x80..=0xFFu8));
        }
        if line.contains(&b'"') {
            line.push(b'"');
        }
        g.label = "bytes above 0x7F".into();
        g.steps.push(send(line, any(MS300)));
    }

    fn out_of_sequence(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        match rng.random_range(0..4) {
            0 => {
                g.label = "AT+QSMTPPUT before any configuration".into();
                g.steps.push(send("AT+QSMTPCLR", any(MS300)));
                g.steps.push(send("AT+QSMTPPUT=60", any(MS300)));
                // Whatever the answer, the send (if any) must be over within its <timeout>.
                g.steps.push(Step::Wait {
                    time: Duration::from_secs(61),
                    expect: None,
                });
            }
            1 => {
                g.label = "AT+QSMTPBODY sent inside body data mode is body".into();
                let inner = b"AT+QSMTPBODY=0,10,5\r".to_vec();
                let len = inner.len() + rng.random_range(1..50);
                let rest = payload(rng, len - inner.len());
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: inner,
                    expect: None,
                });
                g.steps.push(Step::Data {
                    bytes: rest,
                    expect: Some(self.body_end(len)),
                });
            }
            2 => {
                g.label = "AT+QSMTPATT of a file that does not exist".into();
                g.steps
                    .push(send("AT+QFDEL=\"RAM:nofile.txt\"", any(MS300)));
                // ERRATA E18 / 000 §5: 661 = file open failed.
                g.steps.push(send(
                    "AT+QSMTPATT=1,1,\"RAM:nofile.txt\"",
                    Expect::class(Class::Cme(Some(661)), MS300),
                ));
            }
            _ => {
                g.label = "ATO without a connection".into();
                g.steps.push(send(
                    "ATO",
                    Expect::class(Class::Final("NO CARRIER".into()), MS300),
                ));
            }
        }
    }

    fn body_start(&self, g: &mut Group, len: usize, input_time: u32) {
        g.steps.push(send(
            format!("AT+QSMTPBODY=0,{len},{input_time}"),
            Expect::class(Class::Connect, MS300),
        ));
    }

    fn body_end(&self, n: usize) -> Expect {
        // 000 §2.2.4: +QSMTPBODY: <input_length>, then OK.
        Expect::ok_lines(vec![format!("+QSMTPBODY: {n}")], MS300)
    }

    fn data_mode(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let len = rng.random_range(8..400usize);
        let k = rng.random_range(1..len - 4);
        let head = payload(rng, k);
        let variant = rng.random_range(0..if self.caps.dtr { 6 } else { 5 });
        match variant {
            0 => {
                g.label = format!("body of {len} bytes ended by its length");
                self.body_start(g, len, 30);
                let mut rest = payload(rng, len);
                let tail = rest.split_off(k.min(len));
                g.steps.push(Step::Data {
                    bytes: rest,
                    expect: None,
                });
                g.steps.push(Step::Data {
                    bytes: tail,
                    expect: Some(self.body_end(len)),
                });
            }
            1 => {
                g.label = "body ended by a guarded +++".into();
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: head,
                    expect: None,
                });
                g.steps.push(Step::Escape {
                    before: GUARD,
                    after: GUARD,
                    expect: Some(self.body_end(k)),
                });
            }
            2 => {
                g.label = "+++ without silence before it is data (000 §1.3 rule 1)".into();
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: head,
                    expect: None,
                });
                g.steps.push(Step::Escape {
                    before: Duration::from_millis(rng.random_range(0..800)),
                    after: GUARD,
                    expect: None,
                });
                let rest = not_an_escape(payload(rng, len - k - 3));
                g.steps.push(Step::Data {
                    bytes: rest,
                    expect: Some(self.body_end(len)),
                });
            }
            3 => {
                g.label = "input right after +++ cancels the escape (000 §1.3 rule 3)".into();
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: head,
                    expect: None,
                });
                g.steps.push(Step::Escape {
                    before: GUARD,
                    after: Duration::from_millis(rng.random_range(0..800)),
                    expect: None,
                });
                let rest = not_an_escape(payload(rng, len - k - 3));
                g.steps.push(Step::Data {
                    bytes: rest,
                    expect: Some(self.body_end(len)),
                });
            }
            4 => {
                let t = rng.random_range(1..=5u32);
                g.label = format!("body ended by <input_time> {t} s");
                self.body_start(g, len, t);
                g.steps.push(Step::Data {
                    bytes: head,
                    expect: None,
                });
                g.steps.push(Step::Wait {
                    time: Duration::from_secs(u64::from(t)) + Duration::from_secs(1),
                    expect: Some(self.body_end(k)),
                });
            }
            _ => {
                g.label = "body ended by DTR after AT&D1".into();
                g.steps.push(send("AT&D1", ok()));
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: head,
                    expect: None,
                });
                g.steps.push(Step::Dtr {
                    level: false,
                    expect: Some(self.body_end(k)),
                });
                g.steps.push(Step::Dtr {
                    level: true,
                    expect: None,
                });
            }
        }
    }

    fn upload(&self, g: &mut Group, rng: &mut ChaCha8Rng, name: &str) -> usize {
        let size = rng.random_range(1..300usize);
        let data = payload(rng, size);
        g.steps
            .push(send(format!("AT+QFDEL=\"{name}\""), any(MS300)));
        g.steps.push(send(
            format!("AT+QFUPL=\"{name}\",{size},10"),
            Expect::class(Class::Connect, MS300),
        ));
        // 000 §2.2.5 gives no algorithm (ERRATA E12): any checksum of the bytes will do, so the
        // same bytes but one are uploaded once more, to a scratch file: another checksum.
        let capture = format!(
            "cks_{}",
            name.bytes()
                .map(|b| if b.is_ascii_alphanumeric() {
                    char::from(b)
                } else {
                    '_'
                })
                .collect::<String>()
                .to_ascii_lowercase()
        );
        let mut twin = data.clone();
        if let Some(last) = twin.last_mut() {
            *last ^= 1;
        }
        g.steps.push(Step::Data {
            bytes: data,
            expect: Some(Expect::class(Class::Ok, MS300).with_info(Info::Checksum {
                size,
                name: capture.clone(),
                differs_from: None,
            })),
        });
        let scratch = "RAM:fzcks.tmp";
        g.steps
            .push(send(format!("AT+QFDEL=\"{scratch}\""), any(MS300)));
        g.steps.push(send(
            format!("AT+QFUPL=\"{scratch}\",{size},10"),
            Expect::class(Class::Connect, MS300),
        ));
        g.steps.push(Step::Data {
            bytes: twin,
            expect: Some(Expect::class(Class::Ok, MS300).with_info(Info::Checksum {
                size,
                name: format!("{capture}_twin"),
                differs_from: Some(capture),
            })),
        });
        g.steps
            .push(send(format!("AT+QFDEL=\"{scratch}\""), ok_none()));
        size
    }

    /// Server, account and sender for a send; on profiles with `"bodyoriginal"` (000 §2.2.1;
    /// the AG35 has none, 001 p.9) the body switch too, either way.
    fn configure(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        g.server = Some(self.server.clone());
        g.steps.push(send("AT+QSMTPCLR", ok_none()));
        g.steps.push(send("AT+QIACT=1", any(within("+QIACT"))));
        g.steps.push(send("AT+QSMTPCFG=\"contextid\",1", ok_none()));
        g.steps.push(send(
            format!(
                "AT+QSMTPCFG=\"smtpserver\",\"{}\",{}",
                self.server, self.port
            ),
            ok_none(),
        ));
        if self.pin_plain {
            g.steps.push(send("AT+QSMTPCFG=\"ssltype\",0", ok_none()));
        }
        g.steps
            .push(send("AT+QSMTPCFG=\"account\",\"fuzz\",\"fuzz\"", ok_none()));
        g.steps.push(send(
            "AT+QSMTPCFG=\"sender\",\"fuzz\",\"fuzz@example.com\"",
            ok_none(),
        ));
        if self.profile.supports_bodyoriginal {
            let raw = u8::from(rng.random_bool(0.5));
            g.steps.push(send(
                format!("AT+QSMTPCFG=\"bodyoriginal\",{raw}"),
                ok_none(),
            ));
        }
    }

    fn normal(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let flows = if self.caps.server_faults { 8 } else { 7 };
        match rng.random_range(0..flows) {
            7 => {
                let stall = rng.random_bool(0.5);
                let timeout = rng.random_range(60..=90u32);
                g.label = if stall {
                    format!("server silent: AT+QSMTPPUT={timeout} ends with 658")
                } else {
                    "server rejects the credentials: 677,535".into()
                };
                self.configure(g, rng);
                g.steps.push(send(
                    format!("AT+QSMTPDST=1,1,\"{}\"", email(rng, 0)),
                    ok_none(),
                ));
                let len = rng.random_range(1..50usize);
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: payload(rng, len),
                    expect: Some(self.body_end(len)),
                });
                let (fault, urc) = if stall {
                    // 000 §2.2.7, §5: <timeout> expires → 658.
                    (ServerFault::Stall, "+QSMTPPUT: 658,0")
                } else {
                    // 000 §5/§6: 535 ↔ 677 (at_catalog::err_for_protocol).
                    (ServerFault::AuthFailed, "+QSMTPPUT: 677,535")
                };
                g.steps.push(Step::Server(fault));
                g.steps.push(send(
                    format!("AT+QSMTPPUT={timeout}"),
                    ok_none().with_urc(urc, Duration::from_secs(u64::from(timeout) + 1)),
                ));
            }
            0 | 1 => {
                // "Busy" needs a send that is still running at the second AT+QSMTPPUT: only a
                // server the fuzzer holds (the emulator's) guarantees it; a live device's send
                // to a nearby sink may be over already, and still running at the next case.
                let busy = self.caps.server_faults && rng.random_bool(0.5);
                g.label = if busy {
                    "full send, then AT+QSMTPPUT while sending".into()
                } else {
                    "full send".into()
                };
                self.configure(g, rng);
                let rcpts: Vec<(u8, String)> = (0..rng.random_range(1..=3))
                    .map(|i| (rng.random_range(1..=3u8), email(rng, i)))
                    .collect();
                for (t, a) in &rcpts {
                    g.steps
                        .push(send(format!("AT+QSMTPDST=1,{t},\"{a}\""), ok_none()));
                }
                let lines = rcpts
                    .iter()
                    .map(|(t, a)| format!("+QSMTPDST: {t},\"{a}\""))
                    .collect();
                g.steps
                    .push(send("AT+QSMTPDST?", Expect::ok_lines(lines, MS300)));
                self.subject(g, rng);
                if rng.random_bool(0.3) {
                    // 000 §2.2.5: an uploaded file as attachment.
                    let name = format!("RAM:fz{}.txt", rng.random_range(0..100u32));
                    self.upload(g, rng, &name);
                    g.steps
                        .push(send(format!("AT+QSMTPATT=1,1,\"{name}\""), ok_none()));
                }
                let body = if rng.random_bool(0.5) {
                    let lines = rng.random_range(1..8);
                    mail_text(rng, lines)
                } else {
                    let n = rng.random_range(1..200usize);
                    payload(rng, n)
                };
                let len = body.len();
                self.body_start(g, len, 30);
                g.steps.push(Step::Data {
                    bytes: body,
                    expect: Some(self.body_end(len)),
                });
                let urc = if self.caps.deliveries_succeed {
                    "+QSMTPPUT: 0,0"
                } else {
                    "+QSMTPPUT: "
                };
                let t = Duration::from_secs(61);
                if busy {
                    // The fuzzer keeps the send in progress (as scenarios/edge/qsmtpput-busy.scn
                    // does).
                    g.steps.push(Step::Server(ServerFault::Stall));
                    let urc = "+QSMTPPUT: 658,0";
                    g.steps.push(send("AT+QSMTPPUT=60", ok_none()));
                    // 000 §5: 652 = SMTP server busy.
                    g.steps.push(send(
                        "AT+QSMTPPUT=60",
                        Expect::class(Class::Cme(Some(652)), MS300).with_urc(urc, t),
                    ));
                } else if self.caps.server_faults && rng.random_bool(0.2) {
                    // ERRATA M3 (edge/ehlo-refused-no-auth-655.scn): EHLO refused, the client
                    // falls back to HELO, which offers no AUTH for the account: 655,0.
                    g.label.push_str(", the server refuses EHLO");
                    g.steps.push(Step::Server(ServerFault::EhloRefused));
                    g.steps.push(send(
                        "AT+QSMTPPUT=60",
                        ok_none().with_urc("+QSMTPPUT: 655,0", t),
                    ));
                } else if self.caps.server_faults && rng.random_bool(0.2) {
                    // RFC 4954: the client picks a mechanism the server offers
                    // (edge/auth-plain-only.scn).
                    g.label.push_str(", the server offers only AUTH PLAIN");
                    g.steps.push(Step::Server(ServerFault::AuthPlainOnly));
                    g.steps
                        .push(send("AT+QSMTPPUT=60", ok_none().with_urc(urc, t)));
                } else {
                    g.steps
                        .push(send("AT+QSMTPPUT=60", ok_none().with_urc(urc, t)));
                }
            }
            2 => {
                let n = self.profile.limits.max_recipients;
                g.label = format!("{n} recipients accepted, one more refused");
                g.steps.push(send("AT+QSMTPCLR", ok_none()));
                for i in 0..n {
                    let t = rng.random_range(1..=3u8);
                    g.steps.push(send(
                        format!("AT+QSMTPDST=1,{t},\"{}\"", email(rng, i)),
                        ok_none(),
                    ));
                }
                // 000 §2.2.2 up to 20; edge/recipient-21st.scn: +CME ERROR: 664.
                g.steps.push(send(
                    format!("AT+QSMTPDST=1,1,\"{}\"", email(rng, n)),
                    Expect::class(Class::Cme(Some(664)), MS300),
                ));
                g.steps.push(send("AT+QSMTPCLR", ok_none()));
            }
            3 => {
                g.label = "recipients deleted with AT+QSMTPDST=0".into();
                g.steps.push(send("AT+QSMTPCLR", ok_none()));
                for i in 0..rng.random_range(1..=4) {
                    let t = rng.random_range(1..=3u8);
                    g.steps.push(send(
                        format!("AT+QSMTPDST=1,{t},\"{}\"", email(rng, i)),
                        ok_none(),
                    ));
                }
                g.steps.push(send("AT+QSMTPDST=0", ok_none()));
                g.steps.push(send("AT+QSMTPDST?", ok_none()));
            }
            4 => {
                let name = format!("RAM:fz{}.txt", rng.random_range(0..100u32));
                g.label = "upload, list, attach, clear".into();
                g.steps.push(send("AT+QSMTPCLR", ok_none()));
                let size = self.upload(g, rng, &name);
                g.steps.push(send(
                    format!("AT+QFLST=\"{name}\""),
                    Expect::ok_lines(vec![format!("+QFLST: \"{name}\",{size}")], MS300),
                ));
                let max = self.profile.limits.max_attachments;
                let n = if rng.random_bool(0.5) {
                    max
                } else {
                    rng.random_range(1..=max)
                };
                let mut lines = Vec::new();
                for i in 1..=n {
                    g.steps
                        .push(send(format!("AT+QSMTPATT=1,{i},\"{name}\""), ok_none()));
                    lines.push(format!("+QSMTPATT: {i},\"{name}\",{size}"));
                }
                g.steps
                    .push(send("AT+QSMTPATT?", Expect::ok_lines(lines, MS300)));
                g.steps.push(send("AT+QSMTPCLR", ok_none()));
                g.steps.push(send("AT+QSMTPATT?", ok_none()));
                g.steps
                    .push(send(format!("AT+QFDEL=\"{name}\""), ok_none()));
            }
            5 => {
                g.label = "echo off and on again".into();
                g.steps.push(send("ATE0", ok_none()));
                g.steps.push(send("AT+QSMTPCLR", ok_none()));
                g.steps.push(send("ATE1", ok_none()));
            }
            _ => {
                g.label = "PDP context activation and query".into();
                g.steps.push(send("AT+QIACT=1", any(within("+QIACT"))));
                // 000 §3.1: +QIACT: 1,1,1,"10.7.157.1" (<context_type> as configured by
                // AT+QICSGP, 1-3).
                g.steps.push(send(
                    "AT+QIACT?",
                    Expect::class(Class::Ok, MS300).with_info(Info::Match(vec![(
                        r#"\+QIACT: 1,1,[1-3],"[0-9a-fA-F.:]+""#.into(),
                        "+QIACT: 1,1,{int},\"{ip}\"".into(),
                    )])),
                ));
            }
        }
    }

    fn multitech_group(&self, g: &mut Group, rng: &mut ChaCha8Rng) {
        let p = MULTITECH_PARAMS
            .choose(rng)
            .copied()
            .unwrap_or(MULTITECH_PARAMS[0]);
        match g.family {
            Family::Valid | Family::Boundary => {
                let pick = if g.family == Family::Valid {
                    Pick::Valid
                } else {
                    Pick::Boundary
                };
                let (v, _) = value(rng, p.kind, pick, p.name);
                g.label = format!("AT#{} set and read", p.name);
                g.steps.push(send(format!("AT#{}={v}", p.name), ok_none()));
                g.steps.push(send(format!("AT#{}?", p.name), ok()));
            }
            Family::OutOfRange => {
                let (v, _) = value(rng, p.kind, Pick::OutOfRange, p.name);
                g.label = format!("AT#{} out of range", p.name);
                g.steps.push(send(
                    format!("AT#{}={v}", p.name),
                    Expect::class(Class::Error, MS300),
                ));
            }
            Family::Overlong => {
                let n = rng.random_range(300..2000);
                let s = text(rng, n);
                g.label = "overlong #SUBJ1".into();
                g.steps.push(send(
                    format!("AT#SUBJ1=\"{s}\""),
                    Expect::class(Class::Error, MS300),
                ));
            }
            Family::BrokenQuoting => {
                g.label = "broken quoting".into();
                g.steps.push(send(
                    "AT#REC1=\"a@example.com",
                    Expect::class(Class::Error, MS300),
                ));
            }
            Family::HighBytes => {
                let mut line = b"AT#SUBJ1=\"".to_vec();
                for _ in 0..rng.random_range(1..40) {
                    line.push(rng.random_range(0x80..=0xFFu8));
                }
                line.push(b'"');
                g.label = "bytes above 0x7F".into();
                g.steps.push(send(line, any(MS300)));
            }
            _ => {
                g.label = "#PUTMAIL flow".into();
                g.server = Some(self.server.clone());
                for l in [
                    format!("AT#SMTPSERV=\"{}\"", self.server),
                    format!("AT#SMTPPORT={}", self.port),
                    "AT#SENDERADDR=\"fuzz@example.com\"".into(),
                    format!("AT#REC1=\"{}\"", email(rng, 0)),
                    format!("AT#CCREC1=\"{}\"", email(rng, 1)),
                    format!("AT#SUBJ1=\"{}\"", text(rng, 20)),
                    // What an earlier group may have left: the mail goes to a real SMTP
                    // session, where a stray domain or account is not harmless.
                    "AT#SENDERNAME=\"fuzz\"".into(),
                    "AT#DOMAIN=\"example.com\"".into(),
                    "AT#SMTPUN=\"fuzz\"".into(),
                    "AT#SMTPPW=\"fuzz\"".into(),
                ] {
                    g.steps.push(send(l, ok_none()));
                }
                g.steps.push(send(
                    "AT#PUTMAIL",
                    Expect::class(
                        Class::Final("OK_Info_WaitingForData".into()),
                        within("#PUTMAIL"),
                    ),
                ));
                // 002: the body ends at <CR><LF>.<CR><LF>; the host doubles a leading dot
                // (ERRATA E23, W6), the module takes it off and the SMTP client stuffs again.
                let lines = rng.random_range(1..8);
                let mut body = host_dot_stuffed(&mail_text(rng, lines));
                body.extend_from_slice(b".\r\n");
                let done = if self.caps.deliveries_succeed {
                    Class::Ok
                } else {
                    Class::Any
                };
                g.steps.push(Step::Data {
                    bytes: body,
                    expect: Some(Expect::class(done, within("#PUTMAIL"))),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_a_function_of_seed_and_number() {
        let g = Generator::new(at_catalog::profile("ec25").unwrap(), Caps::default());
        assert_eq!(g.case(7, 3), g.case(7, 3));
        assert_ne!(g.case(7, 3), g.case(7, 4));
        assert_ne!(g.case(7, 3), g.case(8, 3));
    }

    #[test]
    fn every_family_generates_steps() {
        for name in ["ec25", "ag35", "multitech"] {
            let g = Generator::new(
                at_catalog::profile(name).unwrap(),
                Caps {
                    dtr: true,
                    deliveries_succeed: true,
                    server_faults: true,
                },
            );
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            for &f in g.families() {
                for _ in 0..20 {
                    let grp = g.group(f, &mut rng);
                    assert!(!grp.steps.is_empty(), "{name} {f:?}");
                    assert!(!grp.label.is_empty(), "{name} {f:?}");
                }
            }
        }
    }
}
