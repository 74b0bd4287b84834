//! The scenario model: what a `.scn` file means, independent of its text.
//!
//! A [`Scenario`] is metadata plus an ordered list of [`Step`]s. Steps carry the exact bytes to
//! send (with `${VAR}` references resolved at run time through [`crate::Bindings`]) and the lines
//! to expect, each line a [`Text`] of literal bytes, variable references and [`Pattern`]s. The
//! runner turns an expected group into exact bytes with the W1 framing of `ERRATA.md`
//! ([`crate::expected_bytes`], [`crate::Matcher`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::evidence::Evidence;
use crate::profile::ProfileSet;

/// What secret values are replaced with wherever they would be shown.
pub const REDACTED: &str = "<redacted>";

/// Default per-scenario timeout when the file sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default silence before `+++` (000 §1.3 asks for at least 1 s; 0.5 s of margin).
pub const DEFAULT_GUARD_BEFORE: Duration = Duration::from_millis(1500);
/// Default silence after `+++` (000 §1.3 asks for at least 1 s; 0.5 s of margin).
pub const DEFAULT_GUARD_AFTER: Duration = Duration::from_millis(1500);

/// A loaded scenario file. `Debug` omits the source text and redacts secret defaults.
#[derive(Clone, PartialEq)]
pub struct Scenario {
    /// The name the file was loaded under (its path as given, or the `load_str` name).
    pub name: String,
    /// The file the scenario came from, if loaded from disk (data files resolve against it).
    pub path: Option<PathBuf>,
    /// The full source text, for diagnostics that point into the file.
    pub source: Arc<str>,
    /// Header fields.
    pub meta: Meta,
    /// Declared variables (`@var`, `@secret`), in declaration order.
    pub vars: Vec<VarDecl>,
    /// The steps, in file order.
    pub steps: Vec<Step>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("source", &format_args!("<{} bytes>", self.source.len()))
            .field("meta", &self.meta)
            .field("vars", &self.vars)
            .field("steps", &self.steps)
            .finish()
    }
}

impl std::fmt::Debug for VarDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let default: Option<&str> = match &self.default {
            Some(_) if self.secret => Some(REDACTED),
            d => d.as_deref(),
        };
        f.debug_struct("VarDecl")
            .field("name", &self.name)
            .field("default", &default)
            .field("secret", &self.secret)
            .field("span", &self.span)
            .finish()
    }
}

/// Header fields of a scenario (`key: value` lines before the first step).
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// `title:` one-line human title.
    pub title: String,
    /// `source:` citations of the document and section (e.g. `000 §2.2.2`), at least one.
    pub sources: Vec<String>,
    /// `errata:` ERRATA.md entries the scenario depends on (e.g. `W1`, `E2`).
    pub errata: Vec<String>,
    /// `profiles:` the module profiles the scenario applies to.
    pub profiles: ProfileSet,
    /// `tags:` free-form labels for selection (`smoke`, `edge`, `ssl`, ...).
    pub tags: Vec<String>,
    /// `timeout:` the whole scenario must finish within this (virtual or real) time.
    pub timeout: Duration,
    /// `max-response: DURATION [evidence]`: a response-time limit for every `<` group, replacing
    /// the catalog's per-command limits (only with a citation); `None`: the catalog decides.
    pub max_response: Option<Cited>,
    /// `verdict:` the verdict the runner must reach for the scenario to count as passed.
    pub verdict: Verdict,
    /// `evidence:` the evidence of every expectation without its own `[...]`; `None`: the
    /// `source:` citations ([`Meta::default_evidence`]).
    pub evidence: Option<Evidence>,
    /// `state:` what the module must be in before the first step, beyond the known state every
    /// case starts from (`pdp-active`, `power-on`; see the profile's `[setup]`).
    pub state: Vec<String>,
}

impl Meta {
    /// The evidence of an expectation without its own `[...]`: the `evidence:` header, else
    /// the `source:` citations (documented; implementation-defined for `source: recorded`).
    pub fn default_evidence(&self) -> Evidence {
        match &self.evidence {
            Some(e) => Evidence {
                explicit: false,
                ..e.clone()
            },
            None => Evidence::inherited(&self.sources),
        }
    }
}

/// The verdict a scenario expects: the grade the runner must reach for it to count as passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Every step passes (implementation-defined differences, graded informational, allowed).
    Pass,
    /// The run finds an implementation-defined difference and nothing worse.
    Informational,
    /// The run finds a deviation from an ERRATA choice (or a late answer) and nothing worse.
    NonStrict,
    /// The run finds a deviation from a documented expectation (a negative scenario: e.g. an
    /// emulator quirk the harness must catch).
    Fail,
}

impl Verdict {
    /// `pass`, `informational`, `non-strict`, `fail`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Informational => "informational",
            Verdict::NonStrict => "non-strict",
            Verdict::Fail => "fail",
        }
    }
}

/// A duration with the evidence it comes from (`max-response:`, `@within`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cited {
    /// The duration.
    pub duration: Duration,
    /// Where it comes from.
    pub evidence: Evidence,
}

/// A declared variable: `@var NAME = default` or `@secret NAME = default`. `Debug` redacts a
/// secret's default.
#[derive(Clone, PartialEq)]
pub struct VarDecl {
    /// Variable name (`[A-Za-z_][A-Za-z0-9_]*`).
    pub name: String,
    /// Value used when the environment does not set one; `None` makes it required.
    pub default: Option<String>,
    /// Secret values are redacted as `<redacted>` everywhere they would be shown.
    pub secret: bool,
    /// Where it was declared.
    pub span: Span,
}

/// A position in the scenario file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the start in the source.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
}

/// One step, with the profiles it is restricted to (`[ag35]` prefix) and its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// What to do.
    pub kind: StepKind,
    /// `Some(set)`: the step only runs for these profiles; `None`: for all.
    pub only: Option<ProfileSet>,
    /// The line (or first line) the step comes from.
    pub span: Span,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StepKind {
    /// `>` / `>>`: send bytes in command mode.
    Send(Send),
    /// `<` / `<<`: a group of expected response lines, matched in order.
    Expect(Expect),
    /// `~`: wait for one URC, other allowed URCs may come first.
    Urc(ExpectUrc),
    /// `@data`: send a payload in data mode (never echoed).
    Data(Data),
    /// `@escape`: `+++` with guard times (000 §1.3).
    Escape(Escape),
    /// `@wait`: let time pass without sending (e.g. wait out `<input_time>`).
    Wait(Duration),
    /// `@dtr on|off`: assert or drop DTR.
    Dtr(bool),
    /// `@echo on|off`: whether command-mode bytes are echoed from here on (W2).
    Echo(bool),
    /// `@allow-urc`: from here on, URCs matching this line may interleave anywhere.
    AllowUrc(Text),
    /// `@mail`: expectations on the next mail the sink receives.
    Mail(MailExpect),
    /// `@mail none`: the sink has received no mail beyond the ones already expected.
    NoMail,
    /// `@smtp`: expectations on the SMTP transcript of the last session.
    Smtp(SmtpExpect),
    /// `@fault`, `@quirk`, `@resolve`: emulator-only setup.
    Emulator(EmulatorAction),
    /// `@sink`: configuration of the capture server.
    Sink(SinkAction),
}

/// Bytes sent in command mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Send {
    /// The line as written, escapes decoded, `${VAR}` unresolved.
    pub text: Text,
    /// What follows the text on the wire.
    pub terminator: Terminator,
}

/// What the runner appends to a [`Send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Terminator {
    /// `>`: a command line, terminated by `<CR>` (000 §2.1.2 "输入<CR>将终止命令行").
    Cr,
    /// `>>`: raw bytes exactly as written, nothing appended.
    None,
}

/// A group of expected lines (consecutive `<` / `<<` lines).
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    /// The lines, in order; a line with `only` set is skipped for other profiles.
    pub lines: Vec<ExpectedLine>,
    /// Deadline (`@within`) from the end of the previous send; `None`: the scenario timeout.
    pub within: Option<Duration>,
    /// `@within DURATION [evidence]`: the deadline is also a response-time limit with this
    /// evidence, replacing the catalog's.
    pub within_evidence: Option<Evidence>,
}

/// One expected line.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedLine {
    /// How the line is framed on the wire (W1).
    pub frame: FrameKind,
    /// The text without framing, may hold variables and patterns.
    pub text: Text,
    /// Profiles this line applies to (`[ag35] <` prefix); `None`: all.
    pub only: Option<ProfileSet>,
    /// Where it is written.
    pub span: Span,
    /// Where the line comes from (`[...]` after it, else the scenario's `source:`).
    pub evidence: Evidence,
}

/// W1 framing class of an expected line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// An information line; consecutive ones form one block `\r\n` + lines joined by `\r\n` + `\r\n`.
    Info,
    /// A final result code, `CONNECT` or the like, framed alone `\r\n<text>\r\n`.
    Final,
    /// A URC, framed alone `\r\n<text>\r\n`.
    Urc,
    /// `<<`: exact bytes, no framing added.
    Raw,
}

/// `~`: wait for a URC.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectUrc {
    /// The URC line (framed alone).
    pub line: ExpectedLine,
    /// Deadline (`@within`) from the previous step; `None`: until the scenario timeout.
    pub within: Option<Duration>,
    /// `@within DURATION [evidence]`: the deadline is also a response-time limit.
    pub within_evidence: Option<Evidence>,
}

/// `@data`: a data-mode payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    /// Where the bytes come from.
    pub payload: Payload,
    /// `name=`: label so mail expectations can refer to these exact bytes.
    pub name: Option<String>,
    /// `chunk=`: send in chunks of this many bytes (default: all at once).
    pub chunk: Option<usize>,
    /// `pace=`: pause between chunks.
    pub pace: Option<Duration>,
}

/// The bytes of a data step.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// `@data 100`: `len` bytes of the deterministic text pattern ([`crate::text_payload`]).
    Text {
        /// Number of bytes.
        len: usize,
    },
    /// `@data 100 binary seed=7`: `len` pseudo-random bytes ([`crate::binary_payload`]).
    Binary {
        /// Number of bytes.
        len: usize,
        /// Generator seed.
        seed: u64,
    },
    /// `@data "text\r\n.\r\n"`: literal bytes (escapes decoded, variables allowed).
    Literal(Text),
    /// `@data file(path)`: a file's content; the path is relative to the scenario file and
    /// confined to its data folder (`data/` next to it or in its parent directory).
    File(PathBuf),
}

/// `@escape`: leave data mode with `+++` (000 §1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escape {
    /// Silence kept before the sequence (`before=`).
    pub guard_before: Duration,
    /// Silence kept after the sequence (`after=`).
    pub guard_after: Duration,
    /// The bytes sent, `+++` unless `seq=` says otherwise.
    pub sequence: Vec<u8>,
}

/// `@mail` block: expectations on one delivered mail, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct MailExpect {
    /// The checks, each with its span.
    pub checks: Vec<(MailCheck, Span)>,
    /// The evidence of each check, parallel to `checks`.
    pub evidence: Vec<Evidence>,
}

/// One check on a delivered mail.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MailCheck {
    /// `mail-from:` envelope sender (`MAIL FROM` address, without `<>`).
    MailFrom(Text),
    /// `rcpt-to:` envelope recipients, as a set, comma-separated.
    RcptTo(Vec<Text>),
    /// `header: Name: value`: a header present with this decoded value (full match).
    Header {
        /// Header name, case-insensitive.
        name: String,
        /// Expected decoded value.
        value: Text,
    },
    /// `no-header: Name`: the header is absent (e.g. `Bcc`).
    NoHeader(String),
    /// `no-header: Name: pattern`: no field `Name` whose unfolded value matches (e.g. a
    /// `Content-Type` naming a charset).
    NoHeaderValue {
        /// Field name (case-insensitive).
        name: String,
        /// What no such field may hold.
        value: Text,
    },
    /// `subject:` the decoded subject (RFC 2047 decoded).
    Subject(Text),
    /// `body:` the decoded text body, exactly.
    Body(Text),
    /// `body-payload: NAME`: the decoded body equals the bytes of the named `@data` payload.
    BodyPayload(String),
    /// `attachments: N`: number of attachments.
    AttachmentCount(usize),
    /// `attachment: NAME [size=N] [sha256=HEX] [payload=P]`.
    Attachment(AttachmentExpect),
}

/// Expectations on one attachment, found by file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentExpect {
    /// The attachment's file name (e.g. `smtp1.txt`).
    pub name: String,
    /// Decoded size in bytes.
    pub size: Option<u64>,
    /// SHA-256 of the decoded content, lowercase hex.
    pub sha256: Option<String>,
    /// The decoded content equals the bytes of this named `@data` payload.
    pub payload: Option<String>,
}

/// `@smtp` block: expectations on the SMTP transcript the sink recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct SmtpExpect {
    /// The checks, each with its span.
    pub checks: Vec<(SmtpCheck, Span)>,
    /// The evidence of each check, parallel to `checks`.
    pub evidence: Vec<Evidence>,
}

/// One check on the SMTP transcript.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SmtpCheck {
    /// `sent: LINE`: the client sent a command line matching (full match, without CRLF).
    Sent(Text),
    /// `not-sent: LINE`: no client command line matches.
    NotSent(Text),
    /// `replied: CODE`: the server replied this code at least once.
    Replied(u16),
    /// `replied: CODE TEXT`: some server reply line matches `CODE TEXT` in full (patterns
    /// allowed), e.g. a provider's error text.
    RepliedLine(Text),
    /// `tls: none|implicit|starttls`: how the session was secured.
    Tls(TlsMode),
    /// `tls-version: TLSv1`: the version the sink negotiated (`TLSv1`, `TLSv1.1`, `TLSv1.2`,
    /// `TLSv1.3`; full match, patterns allowed).
    TlsVersion(Text),
    /// `tls-cipher: TLS_RSA_WITH_AES_128_CBC_SHA`: the suite the sink negotiated; full match
    /// against its IANA name, its number (`0x002F`) or its OpenSSL name (`AES128-SHA`).
    TlsCipher(Text),
}

/// How an SMTP session is secured (000 §1.1 `<SSL_type>` 0/1/2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// Plain TCP (`ssltype` 0).
    None,
    /// TLS from the first byte (`ssltype` 1).
    Implicit,
    /// Plain, upgraded with `STARTTLS` (`ssltype` 2).
    Starttls,
}

/// Emulator setup. `@fault` and `@quirk` make a scenario emulator-only; `@resolve` is applied by
/// the emulator and ignored on other targets (there the real DNS answers for the configured host).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EmulatorAction {
    /// `@fault NAME`: put the emulated module into a fault state.
    Fault(Fault),
    /// `@fault dns`, `@fault reset@auth`, `@fault net SPEC`: a network fault for the emulator's
    /// SMTP client.
    Net(NetFault),
    /// `@quirk NAME`: enable a named emulator quirk (firmware deviation); names are the emulator's.
    Quirk(String),
    /// `@liberty NAME`: enable a named emulator liberty (another choice the manuals leave
    /// open); names are the emulator's.
    Liberty(String),
    /// `@resolve HOST sink|fail|ADDR`: how the emulated module's DNS answers for `host`.
    Resolve {
        /// Host name as configured with `AT+QSMTPCFG="smtpserver"` / `SMTPSERV`.
        host: String,
        /// The answer.
        to: ResolveTo,
    },
}

/// A fault the emulated module can be put in. Exhaustive: the runner maps each to the
/// emulator's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `sim-not-ready`: no (U)SIM ready; SMTP commands answer `ERROR` (000 §4.1).
    SimNotReady,
    /// `pdp-activation-fails`: `AT+QIACT` fails (000 §4.2).
    PdpActivationFails,
    /// `pdp-deactivated`: the network deactivates the PDP contexts at this step
    /// (`+QIURC: "pdpdeact",<id>`; a send in progress ends with 657, 000 §5, ERRATA E19).
    PdpDeactivated,
    /// `tcp-connect-fails`: TCP connection to the server cannot be established (000 §5 error 654).
    TcpConnectFails,
    /// `pdp-deactivate@30s`: the network deactivates the PDP contexts at this virtual time since
    /// power-on (`+QIURC: "pdpdeact",<id>`, ERRATA E19 → `+QSMTPPUT: 657,0`).
    PdpDeactivateAt(Duration),
}

impl fmt::Display for Fault {
    /// The name a scenario file writes after `@fault` (`pdp-deactivate@1500ms`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::SimNotReady => f.write_str("sim-not-ready"),
            Fault::PdpActivationFails => f.write_str("pdp-activation-fails"),
            Fault::PdpDeactivated => f.write_str("pdp-deactivated"),
            Fault::TcpConnectFails => f.write_str("tcp-connect-fails"),
            Fault::PdpDeactivateAt(d) => {
                write!(f, "pdp-deactivate@{}", at_wire::duration::format(*d))
            }
        }
    }
}

/// A network fault of the emulated module's SMTP client (`at_mailer::NetFault`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetFault {
    /// `dns`: name resolution fails (000 §4.3 → 653).
    Dns,
    /// `refused`: the TCP connection is refused (→ 654).
    Refused,
    /// `reset@STAGE` (`reset-mid-data` = `reset@body`): the connection is cut before the
    /// client's command of this stage (in the body: half-way through the message).
    Reset(ClientStage),
    /// `stall@STAGE` (`stall` = `stall@greeting`): the server stops answering at this stage.
    Stall(ClientStage),
}

impl NetFault {
    /// Every fault name without a stage, as a scenario writes it.
    pub const PLAIN_NAMES: [&'static str; 4] = ["dns", "refused", "reset-mid-data", "stall"];
}

impl fmt::Display for NetFault {
    /// The name a scenario file writes after `@fault` (`dns`, `reset-mid-data`, `stall@auth`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetFault::Dns => f.write_str("dns"),
            NetFault::Refused => f.write_str("refused"),
            NetFault::Reset(ClientStage::Body) => f.write_str("reset-mid-data"),
            NetFault::Stall(ClientStage::Greeting) => f.write_str("stall"),
            NetFault::Reset(s) => write!(f, "reset@{}", s.name()),
            NetFault::Stall(s) => write!(f, "stall@{}", s.name()),
        }
    }
}

impl std::str::FromStr for NetFault {
    type Err = ();

    /// Parses `dns`, `refused`, `reset-mid-data`, `reset@STAGE`, `stall`, `stall@STAGE`.
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "dns" => return Ok(NetFault::Dns),
            "refused" => return Ok(NetFault::Refused),
            "reset-mid-data" => return Ok(NetFault::Reset(ClientStage::Body)),
            "stall" => return Ok(NetFault::Stall(ClientStage::Greeting)),
            _ => {}
        }
        let (kind, stage) = s.split_once('@').ok_or(())?;
        let stage = ClientStage::ALL
            .into_iter()
            .find(|st| st.name() == stage)
            .ok_or(())?;
        match kind {
            "reset" => Ok(NetFault::Reset(stage)),
            "stall" => Ok(NetFault::Stall(stage)),
            _ => Err(()),
        }
    }
}

/// A stage of the emulated module's SMTP client session (`at_mailer::Stage`), for
/// [`NetFault`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientStage {
    /// `connect`: name resolution and TCP connect (and an implicit-TLS handshake).
    Connect,
    /// `greeting`: waiting for the 220 banner.
    Greeting,
    /// `ehlo`: `EHLO` / `HELO`.
    Ehlo,
    /// `starttls`: `STARTTLS` and its handshake.
    Starttls,
    /// `auth`: `AUTH`.
    Auth,
    /// `mail-from`: `MAIL FROM`.
    MailFrom,
    /// `rcpt-to`: `RCPT TO`.
    RcptTo,
    /// `data`: `DATA` and its 354.
    Data,
    /// `body`: the message, up to the reply to the final `.`.
    Body,
    /// `quit`: `QUIT`.
    Quit,
}

impl ClientStage {
    /// Every stage, in session order.
    pub const ALL: [ClientStage; 10] = [
        ClientStage::Connect,
        ClientStage::Greeting,
        ClientStage::Ehlo,
        ClientStage::Starttls,
        ClientStage::Auth,
        ClientStage::MailFrom,
        ClientStage::RcptTo,
        ClientStage::Data,
        ClientStage::Body,
        ClientStage::Quit,
    ];

    /// The name a scenario writes after `reset@` / `stall@`.
    pub const fn name(self) -> &'static str {
        match self {
            ClientStage::Connect => "connect",
            ClientStage::Greeting => "greeting",
            ClientStage::Ehlo => "ehlo",
            ClientStage::Starttls => "starttls",
            ClientStage::Auth => "auth",
            ClientStage::MailFrom => "mail-from",
            ClientStage::RcptTo => "rcpt-to",
            ClientStage::Data => "data",
            ClientStage::Body => "body",
            ClientStage::Quit => "quit",
        }
    }
}

/// The DNS answer of a `@resolve` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveTo {
    /// `sink`: the attached capture server (whatever port was configured).
    Sink,
    /// `fail`: resolution fails (000 §4.3 → `+QSMTPPUT: 653,0`; 002 → `#CME ERROR: 38027`).
    Fail,
    /// An IP address literal.
    Addr(String),
}

/// `@sink ...`: configuration of the capture SMTP server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkAction {
    /// `@sink profile NAME`: provider profile of the sink (names are the sink's).
    Profile(String),
    /// `@sink tls none|implicit|starttls`: how the sink expects the session to be secured.
    Tls(TlsMode),
    /// `@sink reply STAGE CODE [text]`: answer `code` at `stage` instead of accepting.
    Reply {
        /// Where in the session.
        stage: SmtpStage,
        /// SMTP reply code (e.g. 535).
        code: u16,
        /// Reply text; the sink's default text when `None`.
        text: Option<String>,
    },
    /// `@sink drop STAGE`: close the connection at `stage` without replying.
    Drop(SmtpStage),
    /// `@sink auth PLAIN[,LOGIN]`: the AUTH mechanisms the sink advertises in its EHLO reply,
    /// upper case, in the order written.
    AuthMechanisms(Vec<String>),
    /// `@sink tls-fault NAME`: a TLS fault of the sink (`smtp_sink::TlsFaults::NAMES`:
    /// `expired`, `not-yet-valid`, `self-signed`, `wrong-host`, `unknown-ca`, `client-cert`,
    /// `abort`, `version-mismatch`, `suite-mismatch`); repeatable.
    TlsFault(String),
    /// `@sink tls-versions LIST`: the only TLS versions the sink accepts (`1.2`, `1.0-1.2`,
    /// `TLSv1,TLSv1.2`), as written.
    TlsVersions(String),
    /// `@sink tls-ciphers LIST`: the only suites the sink accepts (OpenSSL or IANA names,
    /// numbers such as `0x002F`), as written.
    TlsCiphers(String),
}

/// A point in an SMTP session, for sink faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmtpStage {
    /// `greeting`: the 220 banner.
    Greeting,
    /// `ehlo`: reply to `EHLO`/`HELO`.
    Ehlo,
    /// `starttls`: reply to `STARTTLS`.
    Starttls,
    /// `auth`: the final reply to `AUTH`.
    Auth,
    /// `mail`: reply to `MAIL FROM`.
    MailFrom,
    /// `rcpt`: reply to `RCPT TO`.
    RcptTo,
    /// `data`: reply to `DATA` (the 354).
    Data,
    /// `message`: reply after the terminating `.`.
    Message,
}

impl SmtpStage {
    /// Every stage, in session order.
    pub const ALL: [SmtpStage; 8] = [
        SmtpStage::Greeting,
        SmtpStage::Ehlo,
        SmtpStage::Starttls,
        SmtpStage::Auth,
        SmtpStage::MailFrom,
        SmtpStage::RcptTo,
        SmtpStage::Data,
        SmtpStage::Message,
    ];

    /// The name a scenario writes after `@sink reply` / `@sink drop` (`mail`, `message`, ...);
    /// the loader also takes `data-end` for `message`.
    pub const fn name(self) -> &'static str {
        match self {
            SmtpStage::Message => "message",
            s => s.sink_point(),
        }
    }

    /// The name `smtp_sink::fault::Point` uses for this stage (`mail`, `rcpt`, `data-end`, ...).
    pub const fn sink_point(self) -> &'static str {
        match self {
            SmtpStage::Greeting => "greeting",
            SmtpStage::Ehlo => "ehlo",
            SmtpStage::Starttls => "starttls",
            SmtpStage::Auth => "auth",
            SmtpStage::MailFrom => "mail",
            SmtpStage::RcptTo => "rcpt",
            SmtpStage::Data => "data",
            SmtpStage::Message => "data-end",
        }
    }
}

/// A line of text: literal bytes, `${VAR}` references and (in expectations) patterns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text(pub Vec<Piece>);

/// A part of a [`Text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes (escapes already decoded).
    Lit(Vec<u8>),
    /// `${NAME}` or `${NAME:-default}`: a variable or an earlier capture.
    Var {
        /// The variable or capture name.
        name: String,
        /// Inline default used when nothing binds `name`.
        default: Option<String>,
    },
    /// `{kind}` or `{kind:capture}`: a value that legitimately varies.
    Pattern(Pattern),
}

/// A pattern inside an expected line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// What it matches.
    pub kind: PatternKind,
    /// Capture name; the matched text is bound to it for later `${name}`.
    pub capture: Option<String>,
    /// `{kind=VALUE}`: what the reference gives here. The pattern is judged by the line's
    /// evidence; a different value is an implementation-defined difference (informational).
    pub recorded: Option<Vec<u8>>,
    /// `{kind!NAME}`: the hole must not hold the value captured earlier as `NAME` (a checksum
    /// of other bytes differs, ERRATA E12); the same value does not match the line.
    pub differs: Option<String>,
}

/// What a [`Pattern`] matches; none matches `\r` or `\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternKind {
    /// `{int}`: `-?[0-9]+`.
    Int,
    /// `{hex}`: `[0-9A-Fa-f]+`.
    Hex,
    /// `{ip}`: a dotted IPv4 address or an IPv6 address.
    Ip,
    /// `{str}`: any run of bytes without `"` (the inside of a quoted string), possibly empty.
    Str,
    /// `{any}`: any run of bytes, possibly empty.
    Any,
    /// `{re:REGEX}`: a regular expression (regex crate syntax, bytes mode).
    Regex(String),
}
