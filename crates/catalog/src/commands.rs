//! The commands the SMTP flows use, as compile-checked static data.
//!
//! Each [`Command`] records its forms, parameters (kind, range, maximum length, default), the
//! exact lines of its test-command response and its maximum response time, with the section of
//! the manual it comes from. Supporting commands that the SMTP note only uses in examples (000 §3)
//! take their details from the Quectel AT, TCP/IP, FILE and SSL manuals the note cites
//! (references \[3\]–\[8\], not among our sources; ERRATA E14).

/// The vendor dialect a command belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Both dialects (V.250 basics such as `AT`, `ATE`, `ATI`, `AT&D`, `ATO`).
    Common,
    /// Quectel EC2x/EG9x/EG2x-G/EM05/AG35 (`AT+QSMTP…`, documents 000 and 001).
    Quectel,
    /// Multi-Tech `AT#PUTMAIL` and its parameters (document 002).
    #[serde(rename = "multitech")]
    MultiTech,
}

/// The forms of an extended command (000 §2.1.2 table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// `AT+CMD=?`: lists supported values.
    Test,
    /// `AT+CMD?`: reports current values.
    Read,
    /// `AT+CMD=<p1>[,…]`: sets values.
    Write,
    /// `AT+CMD`: executes.
    Exec,
}

/// The type and constraints of one parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// An unquoted decimal integer in `min..=max`.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// An unquoted decimal integer from a list, e.g. `(0,1)`.
    IntList(&'static [i64]),
    /// An unquoted hexadecimal integer with `0x` prefix, at most `max` (`0xffff`).
    HexInt {
        /// Largest accepted value.
        max: u32,
    },
    /// A quoted string of at most `max_len` bytes.
    Str {
        /// Maximum length in bytes.
        max_len: usize,
    },
    /// A quoted file name with an optional `RAM:`/`UFS:`/`SD:` prefix.
    FileName {
        /// Maximum length in bytes, prefix included.
        max_len: usize,
    },
}

impl ParamKind {
    /// Whether an integer value fits this kind.
    pub fn accepts_int(&self, v: i64) -> bool {
        match *self {
            ParamKind::Int { min, max } => (min..=max).contains(&v),
            ParamKind::IntList(list) => list.contains(&v),
            ParamKind::HexInt { max } => v >= 0 && v <= i64::from(max),
            ParamKind::Str { .. } | ParamKind::FileName { .. } => false,
        }
    }

    /// Whether this kind is written as a quoted string.
    pub fn is_string(&self) -> bool {
        matches!(self, ParamKind::Str { .. } | ParamKind::FileName { .. })
    }
}

/// One parameter of a write form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// The name as the manual prints it, without angle brackets.
    pub name: &'static str,
    /// Type and constraints.
    pub kind: ParamKind,
    /// Whether the parameter may be omitted (square brackets in the syntax).
    pub optional: bool,
    /// The default value, as the manual underlines or states it.
    pub default: Option<i64>,
}

const fn int(name: &'static str, min: i64, max: i64) -> Param {
    Param {
        name,
        kind: ParamKind::Int { min, max },
        optional: false,
        default: None,
    }
}
const fn list(name: &'static str, values: &'static [i64]) -> Param {
    Param {
        name,
        kind: ParamKind::IntList(values),
        optional: false,
        default: None,
    }
}
const fn string(name: &'static str, max_len: usize) -> Param {
    Param {
        name,
        kind: ParamKind::Str { max_len },
        optional: false,
        default: None,
    }
}
const fn file(name: &'static str, max_len: usize) -> Param {
    Param {
        name,
        kind: ParamKind::FileName { max_len },
        optional: false,
        default: None,
    }
}
const fn opt(p: Param) -> Param {
    Param {
        optional: true,
        ..p
    }
}
const fn dflt(p: Param, v: i64) -> Param {
    Param {
        default: Some(v),
        ..p
    }
}

/// A named sub-setting of a configuration command (`AT+QSMTPCFG="ssltype",…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The quoted keyword, without quotes.
    pub name: &'static str,
    /// The parameters after the keyword; all optional together (omitted = query, ERRATA E6).
    pub params: &'static [Param],
    /// The line this setting contributes to the test-command response.
    pub test_line: &'static str,
    /// The manual section.
    pub source: &'static str,
}

/// Maximum response time of a command, as its manual prints it (the per-form limit and its
/// evidence: [`crate::response_limit`], ERRATA E30).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxResponse {
    /// A fixed time in milliseconds (300 ms for the SMTP configuration commands).
    Millis(u32),
    /// Given by a parameter of the command (`<input_time>`, `<timeout>`), in seconds.
    Param(&'static str),
    /// No source gives one: only a scenario's timeout applies.
    Undocumented,
}

/// One command of the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// The name as written after `AT`: `+QSMTPCFG`, `E`, `&D`, `#PUTMAIL`.
    pub name: &'static str,
    /// Which dialect understands it.
    pub dialect: Dialect,
    /// The forms the command supports.
    pub forms: &'static [Form],
    /// Parameters of the write form (or of a basic command's numeric argument).
    pub params: &'static [Param],
    /// Sub-settings selected by a quoted keyword as first parameter.
    pub settings: &'static [Setting],
    /// Lines of the test-command response before `OK` (empty = just `OK`).
    pub test_response: &'static [&'static str],
    /// Maximum response time.
    pub max_response: MaxResponse,
    /// Where the manual defines it.
    pub source: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
}

impl Command {
    /// Whether the command supports `form`.
    pub fn supports(&self, form: Form) -> bool {
        self.forms.contains(&form)
    }

    /// The sub-setting named `name` (case-insensitive), if any.
    pub fn setting(&self, name: &str) -> Option<&'static Setting> {
        self.settings
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The write-form parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

use Form::{Exec, Read, Test, Write};

const MS300: MaxResponse = MaxResponse::Millis(300);
/// Maximum length of the SMTP note's string parameters (000 §2.2.1–§2.2.5: "最大长度为 50 字节").
pub const MAX_STRING: usize = 50;

/// `AT+QSMTPCFG` sub-settings (000 §2.2.1; 001 p.9–11).
pub static QSMTPCFG_SETTINGS: [Setting; 7] = [
    Setting {
        name: "account",
        params: &[
            opt(string("username", MAX_STRING)),
            opt(string("password", MAX_STRING)),
        ],
        test_line: "+QSMTPCFG: \"account\",<username>,<password>",
        source: "000 §2.2.1",
    },
    Setting {
        name: "sender",
        params: &[
            opt(string("sender_name", MAX_STRING)),
            opt(string("sender_email", MAX_STRING)),
        ],
        test_line: "+QSMTPCFG: \"sender\",<sender_name>,<sender_email>",
        source: "000 §2.2.1",
    },
    Setting {
        name: "smtpserver",
        params: &[
            opt(string("srvaddr", MAX_STRING)),
            opt(dflt(int("srvport", 1, 65535), 25)),
        ],
        test_line: "+QSMTPCFG: \"smtpserver\",<srvaddr>,<srvport>",
        source: "000 §2.2.1",
    },
    Setting {
        name: "contextid",
        params: &[opt(dflt(int("contextID", 1, 16), 1))],
        test_line: "+QSMTPCFG: \"contextid\",(1-16)",
        source: "000 §2.2.1",
    },
    Setting {
        name: "sslctxid",
        params: &[opt(dflt(int("SSL_ctxID", 0, 5), 1))],
        test_line: "+QSMTPCFG: \"sslctxid\",(0-5)",
        source: "000 §2.2.1",
    },
    Setting {
        name: "ssltype",
        params: &[opt(dflt(int("SSL_type", 0, 2), 0))],
        test_line: "+QSMTPCFG: \"ssltype\",(0-2)",
        source: "000 §2.2.1",
    },
    Setting {
        name: "bodyoriginal",
        params: &[opt(dflt(list("body_switch", &[0, 1]), 0))],
        test_line: "+QSMTPCFG: \"bodyoriginal\",(0,1)",
        source: "000 §2.2.1 (absent from 001)",
    },
];

/// `AT+QSSLCFG` sub-settings: the three 000 §3.2/§3.3 use (ERRATA E3) and the certificate
/// files `"seclevel"` 1 and 2 need (SSL manual \[8\], ERRATA E28).
pub static QSSLCFG_SETTINGS: [Setting; 6] = [
    Setting {
        name: "ciphersuite",
        params: &[
            int("SSL_ctxID", 0, 5),
            Param {
                name: "cipher_suites",
                kind: ParamKind::HexInt { max: 0xFFFF },
                optional: true,
                default: Some(0xFFFF),
            },
        ],
        test_line: "+QSSLCFG: \"ciphersuite\",(0-5),(0X0035,0X002F,0X0005,0X0004,0X000A,0X003D,0XC02F,0XC030,0XFFFF)",
        source: "000 §3.2; SSL manual [8]",
    },
    Setting {
        name: "seclevel",
        params: &[int("SSL_ctxID", 0, 5), opt(dflt(int("seclevel", 0, 2), 0))],
        test_line: "+QSSLCFG: \"seclevel\",(0-5),(0-2)",
        source: "000 §3.2 (printed \"secllevel\", ERRATA E3); SSL manual [8]",
    },
    Setting {
        name: "sslversion",
        params: &[
            int("SSL_ctxID", 0, 5),
            opt(dflt(int("sslversion", 0, 4), 4)),
        ],
        test_line: "+QSSLCFG: \"sslversion\",(0-5),(0-4)",
        source: "000 §3.2; SSL manual [8]",
    },
    Setting {
        name: "cacert",
        params: &[int("SSL_ctxID", 0, 5), opt(file("cacertpath", 80))],
        test_line: "+QSSLCFG: \"cacert\",(0-5),<cacertpath>",
        source: "SSL manual [8] (000 §3.2 \"不需要 SSL CA 证书\" at seclevel 0); ERRATA E28",
    },
    Setting {
        name: "clientcert",
        params: &[int("SSL_ctxID", 0, 5), opt(file("client_cert_path", 80))],
        test_line: "+QSSLCFG: \"clientcert\",(0-5),<client_cert_path>",
        source: "SSL manual [8]; ERRATA E28",
    },
    Setting {
        name: "clientkey",
        params: &[int("SSL_ctxID", 0, 5), opt(file("client_key_path", 80))],
        test_line: "+QSSLCFG: \"clientkey\",(0-5),<client_key_path>",
        source: "SSL manual [8]; ERRATA E28",
    },
];

/// The Multi-Tech `#PUTMAIL` parameters (002), each set with `AT#NAME=<value>` and read with
/// `AT#NAME?` (ERRATA E21).
pub static MULTITECH_PARAMS: [Param; 10] = [
    string("REC1", 120),
    string("CCREC1", 120),
    string("SUBJ1", 120),
    string("SENDERADDR", 120),
    string("SENDERNAME", 120),
    string("DOMAIN", 120),
    dflt(int("SMTPPORT", 1, 65535), 25),
    string("SMTPSERV", 120),
    string("SMTPPW", 64),
    string("SMTPUN", 64),
];

/// Every command the SMTP flows use.
pub static COMMANDS: &[Command] = &[
    // ---- V.250 basics (000 §3, 001 §3; EC25 AT manual [5]) ----
    Command {
        name: "",
        dialect: Dialect::Common,
        forms: &[Exec],
        params: &[],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "000 §2.1.2",
        summary: "Attention: answers OK",
    },
    Command {
        name: "E",
        dialect: Dialect::Common,
        forms: &[Exec],
        params: &[opt(dflt(list("value", &[0, 1]), 0))],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "EC25 AT manual [5] (ATE<value>); ERRATA W2",
        summary: "Echo off (ATE0/ATE) or on (ATE1)",
    },
    Command {
        name: "I",
        dialect: Dialect::Common,
        forms: &[Exec],
        params: &[opt(dflt(list("value", &[0]), 0))],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "EC25 AT manual [5] (ATI)",
        summary: "Product identification: manufacturer, model, revision",
    },
    Command {
        name: "&D",
        dialect: Dialect::Common,
        forms: &[Exec],
        params: &[opt(dflt(int("value", 0, 2), 0))],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "000 §1.3 (\"需先执行 AT&D1\"); EC25 AT manual [5]",
        summary: "DTR function: 0 ignore, 1 leave data mode, 2 leave data mode and hang up",
    },
    Command {
        name: "O",
        dialect: Dialect::Common,
        forms: &[Exec],
        params: &[opt(dflt(list("value", &[0]), 0))],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "000 §1.3; ERRATA E16",
        summary: "Return to data mode: there is no call to resume, NO CARRIER",
    },
    Command {
        name: "+CFUN",
        dialect: Dialect::Quectel,
        forms: &[Test, Read, Write],
        params: &[list("fun", &[1]), opt(dflt(list("rst", &[0, 1]), 0))],
        settings: &[],
        test_response: &["+CFUN: (1),(0,1)"],
        // Neither the seeds nor 27.007 give a response time (E32): nothing to pin.
        max_response: MaxResponse::Undocumented,
        source: "3GPP TS 27.007 §8.2 (not in the seeds); ERRATA E32",
        summary: "Functionality: AT+CFUN=1,1 restarts the module, which prints RDY when ready",
    },
    // ---- Network (000 §3.1, §4.1, §4.2; TCP/IP note [3]) ----
    Command {
        name: "+CPIN",
        dialect: Dialect::Common,
        forms: &[Test, Read],
        params: &[],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Millis(5000),
        source: "000 §4.1",
        summary: "SIM state: +CPIN: READY",
    },
    Command {
        name: "+CGATT",
        dialect: Dialect::Common,
        forms: &[Test, Read, Write],
        params: &[list("state", &[0, 1])],
        settings: &[],
        test_response: &["+CGATT: (0,1)"],
        max_response: MaxResponse::Millis(140_000),
        source: "000 §4.2",
        summary: "PS attach or detach",
    },
    Command {
        name: "+CGREG",
        dialect: Dialect::Common,
        forms: &[Test, Read, Write],
        params: &[dflt(int("n", 0, 2), 0)],
        settings: &[],
        test_response: &["+CGREG: (0-2)"],
        max_response: MaxResponse::Undocumented,
        source: "000 §4.2",
        summary: "PS network registration status",
    },
    Command {
        name: "+QICSGP",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[
            int("contextID", 1, 16),
            opt(dflt(int("context_type", 1, 3), 1)),
            opt(string("APN", 100)),
            opt(string("username", 127)),
            opt(string("password", 127)),
            opt(dflt(int("authentication", 0, 3), 0)),
        ],
        settings: &[],
        test_response: &["+QICSGP: (1-16),(1-3),<APN>,<username>,<password>,(0-3)"],
        max_response: MaxResponse::Undocumented,
        source: "000 §3.1 step 1, §4.2; TCP/IP note [3]",
        summary: "Configure a PDP context (omitting all but contextID queries it)",
    },
    Command {
        name: "+QIACT",
        dialect: Dialect::Quectel,
        forms: &[Test, Read, Write],
        params: &[int("contextID", 1, 16)],
        settings: &[],
        test_response: &["+QIACT: (1-16)"],
        max_response: MaxResponse::Millis(150_000),
        source: "000 §3.1 step 1; TCP/IP note [3]",
        summary: "Activate a PDP context; read lists +QIACT: <id>,1,<type>,\"<ip>\"",
    },
    Command {
        name: "+QIDEACT",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[int("contextID", 1, 16)],
        settings: &[],
        test_response: &["+QIDEACT: (1-16)"],
        max_response: MaxResponse::Millis(40_000),
        source: "000 §1.2 step 5, §3.1; TCP/IP note [3]",
        summary: "Deactivate a PDP context",
    },
    Command {
        name: "+QSSLCFG",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[],
        settings: &QSSLCFG_SETTINGS,
        test_response: &[
            QSSLCFG_SETTINGS[0].test_line,
            QSSLCFG_SETTINGS[1].test_line,
            QSSLCFG_SETTINGS[2].test_line,
            QSSLCFG_SETTINGS[3].test_line,
            QSSLCFG_SETTINGS[4].test_line,
            QSSLCFG_SETTINGS[5].test_line,
        ],
        max_response: MaxResponse::Undocumented,
        source: "000 §3.2, §3.3; SSL manual [8]",
        summary: "SSL context settings: ciphersuite, seclevel, sslversion, cacert, clientcert, clientkey",
    },
    // ---- Files (000 §2.2.5, §3.1; FILE note [4]) ----
    Command {
        name: "+QFUPL",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[
            file("filename", 80),
            opt(dflt(int("file_size", 1, 10_485_760), 10240)),
            opt(dflt(int("timeout", 1, 65535), 5)),
            opt(dflt(list("ackmode", &[0, 1]), 0)),
        ],
        settings: &[],
        test_response: &["+QFUPL: <filename>[,<file_size>[,<timeout>[,<ackmode>]]]"],
        max_response: MaxResponse::Undocumented,
        source: "000 §2.2.5, §3.1; FILE note [4]; ERRATA E12",
        summary: "Upload a file in data mode; answers +QFUPL: <size>,<checksum>",
    },
    Command {
        name: "+QFLST",
        dialect: Dialect::Quectel,
        forms: &[Test, Exec, Write],
        params: &[opt(file("name_pattern", 80))],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "000 §2.2.5, §3.1; FILE note [4]; ERRATA E1",
        summary: "List files matching a pattern: +QFLST: \"<name>\",<size>",
    },
    Command {
        name: "+QFDEL",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[file("filename", 80)],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "000 §3.1 step 5; FILE note [4]; ERRATA E2",
        summary: "Delete files (a name or a pattern with *)",
    },
    // ---- SMTP (000 §2.2; 001 §2) ----
    Command {
        name: "+QSMTPCFG",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[],
        settings: &QSMTPCFG_SETTINGS,
        test_response: &[
            QSMTPCFG_SETTINGS[0].test_line,
            QSMTPCFG_SETTINGS[1].test_line,
            QSMTPCFG_SETTINGS[2].test_line,
            QSMTPCFG_SETTINGS[3].test_line,
            QSMTPCFG_SETTINGS[4].test_line,
            QSMTPCFG_SETTINGS[5].test_line,
            QSMTPCFG_SETTINGS[6].test_line,
        ],
        max_response: MS300,
        source: "000 §2.2.1; 001 p.9-11; ERRATA E6, E7",
        summary: "Configure the SMTP server, account, sender, PDP and SSL contexts",
    },
    Command {
        name: "+QSMTPDST",
        dialect: Dialect::Quectel,
        forms: &[Test, Read, Write],
        params: &[
            list("mode", &[0, 1]),
            opt(int("type", 1, 3)),
            opt(string("emailaddr", MAX_STRING)),
        ],
        settings: &[],
        test_response: &["+QSMTPDST: (0,1),(1-3),<emailaddr>"],
        max_response: MS300,
        source: "000 §2.2.2; 001 p.11-12",
        summary: "Add (1) or delete (0) recipients: 1 to, 2 cc, 3 bcc; at most 20",
    },
    Command {
        name: "+QSMTPSUB",
        dialect: Dialect::Quectel,
        forms: &[Test, Read, Write],
        params: &[int("charset", 0, 3), string("subject", 200)],
        settings: &[],
        test_response: &["+QSMTPSUB: (0-3),<subject>"],
        max_response: MS300,
        source: "000 §2.2.3; 001 p.13; ERRATA E8, E9",
        summary: "Set the subject: ASCII 0-100 bytes, or hex (charset 1-3) up to 200 digits",
    },
    Command {
        name: "+QSMTPBODY",
        dialect: Dialect::Quectel,
        forms: &[Test, Read, Write],
        params: &[
            int("charset", 0, 3),
            int("body_length", 1, 10240),
            opt(dflt(int("input_time", 1, 65535), 90)),
        ],
        settings: &[],
        test_response: &["+QSMTPBODY: (0-3),(1-10240),(1-65535)"],
        max_response: MaxResponse::Param("input_time"),
        source: "000 §2.2.4, §1.3; 001 p.13-15; ERRATA E10",
        summary: "Enter data mode for the body; answers +QSMTPBODY: <input_length>",
    },
    Command {
        name: "+QSMTPATT",
        dialect: Dialect::Quectel,
        forms: &[Test, Read, Write],
        params: &[
            list("mode", &[0, 1]),
            opt(int("file_index", 1, 10)),
            opt(file("file_name", MAX_STRING)),
        ],
        settings: &[],
        test_response: &["+QSMTPATT: (0,1),(1-10),<file_name>"],
        max_response: MS300,
        source: "000 §2.2.5; 001 p.15-17",
        summary: "Add (1) or delete (0) attachments by index 1-10",
    },
    Command {
        name: "+QSMTPCLR",
        dialect: Dialect::Quectel,
        forms: &[Test, Exec],
        params: &[],
        settings: &[],
        test_response: &[],
        max_response: MS300,
        source: "000 §2.2.6; 001 p.16",
        summary: "Clear recipients, subject, body and attachments",
    },
    Command {
        name: "+QSMTPPUT",
        dialect: Dialect::Quectel,
        forms: &[Test, Write],
        params: &[int("timeout", 60, 65535)],
        settings: &[],
        test_response: &["+QSMTPPUT: (60-65535)"],
        max_response: MaxResponse::Param("timeout"),
        source: "000 §2.2.7; 001 p.18-19; ERRATA E13",
        summary: "Send the mail: OK, then URC +QSMTPPUT: <err>,<protocol_error>",
    },
    // ---- Multi-Tech (002) ----
    Command {
        name: "#PUTMAIL",
        dialect: Dialect::MultiTech,
        forms: &[Exec],
        params: &[],
        settings: &[],
        test_response: &[],
        max_response: MaxResponse::Undocumented,
        source: "002 #PUTMAIL",
        summary: "Send a mail: OK_Info_WaitingForData, body until <CR><LF>.<CR><LF>, OK",
    },
];

/// The catalog entry for a command name as written after `AT` (case-insensitive).
///
/// Multi-Tech parameters (`#REC1`, …) are described by [`MULTITECH_PARAMS`], not here.
///
/// ```
/// let cmd = at_catalog::command("+qsmtpput").unwrap();
/// assert_eq!(cmd.test_response, &["+QSMTPPUT: (60-65535)"]);
/// ```
pub fn command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The Multi-Tech parameter named `name` (without `#`, case-insensitive).
pub fn multitech_param(name: &str) -> Option<&'static Param> {
    MULTITECH_PARAMS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_test_responses_match_errata_e7() {
        assert_eq!(
            command("+QSMTPCFG").unwrap().test_response,
            &[
                "+QSMTPCFG: \"account\",<username>,<password>",
                "+QSMTPCFG: \"sender\",<sender_name>,<sender_email>",
                "+QSMTPCFG: \"smtpserver\",<srvaddr>,<srvport>",
                "+QSMTPCFG: \"contextid\",(1-16)",
                "+QSMTPCFG: \"sslctxid\",(0-5)",
                "+QSMTPCFG: \"ssltype\",(0-2)",
                "+QSMTPCFG: \"bodyoriginal\",(0,1)",
            ]
        );
        assert_eq!(
            command("+QSMTPDST").unwrap().test_response,
            &["+QSMTPDST: (0,1),(1-3),<emailaddr>"]
        );
        assert_eq!(
            command("+QSMTPSUB").unwrap().test_response,
            &["+QSMTPSUB: (0-3),<subject>"]
        );
        assert_eq!(
            command("+QSMTPBODY").unwrap().test_response,
            &["+QSMTPBODY: (0-3),(1-10240),(1-65535)"]
        );
        assert_eq!(
            command("+QSMTPATT").unwrap().test_response,
            &["+QSMTPATT: (0,1),(1-10),<file_name>"]
        );
        assert!(command("+QSMTPCLR").unwrap().test_response.is_empty());
    }

    #[test]
    fn limits_from_the_manual() {
        let body = command("+QSMTPBODY").unwrap();
        assert_eq!(
            body.param("body_length").unwrap().kind,
            ParamKind::Int { min: 1, max: 10240 }
        );
        let it = body.param("input_time").unwrap();
        assert_eq!(it.default, Some(90));
        assert!(it.optional);
        assert!(it.kind.accepts_int(65535) && !it.kind.accepts_int(0));
        let put = command("+QSMTPPUT").unwrap();
        assert!(!put.params[0].kind.accepts_int(59));
        assert!(put.params[0].kind.accepts_int(60));
        let cfg = command("+QSMTPCFG").unwrap();
        assert_eq!(cfg.setting("CONTEXTID").unwrap().params[0].default, Some(1));
        assert_eq!(cfg.setting("sslctxid").unwrap().params[0].default, Some(1));
        assert_eq!(
            cfg.setting("account").unwrap().params[0].kind,
            ParamKind::Str { max_len: 50 }
        );
        assert_eq!(cfg.max_response, MaxResponse::Millis(300));
        assert!(command("+QSSLCFG").unwrap().setting("secllevel").is_none());
    }

    #[test]
    fn every_command_is_unique_and_documented() {
        for (i, c) in COMMANDS.iter().enumerate() {
            assert!(!c.source.is_empty() && !c.summary.is_empty(), "{}", c.name);
            assert!(!c.forms.is_empty(), "{}", c.name);
            assert!(
                COMMANDS[i + 1..].iter().all(|d| d.name != c.name),
                "{}",
                c.name
            );
            if !c.test_response.is_empty() {
                assert!(c.supports(Form::Test), "{}", c.name);
            }
        }
        assert_eq!(multitech_param("smtpport").unwrap().default, Some(25));
    }
}
