//! Shared inputs and drivers for the criterion benchmarks in `benches/`.
//!
//! - [`Stream`]: deterministic, seeded module output (echo off, `\r\n` framing as ERRATA W1
//!   fixes it) built from the worked examples of the Quectel SMTP note (000 §2.2, §3.1–§3.3),
//!   with the command lines that produced it and the exact counts of what it holds;
//! - [`crlf_lines`]: the floor, a bare `memchr` count of CRLF-terminated lines;
//! - [`AtatDriver`]: atat 0.25's `AtDigester`, driven the way `atat::Ingress` drives it
//!   (1 KB window, one read per command response or URC, digest until no progress, shift);
//! - [`decode_with`]/[`decode_counts`] (batch API) and [`decode_pull_with`]/[`decode_pull_counts`]
//!   (pull API): `at_wire::Decoder` driven as a host drives it (each
//!   command's `Pending` declared when the previous final result code arrives), any read size;
//! - [`assemble_and_parse`], [`quectel_frame`], [`multitech_frame`] and their memchr floors
//!   ([`cr_lines`], [`byte_scan`]) for the command-line and data-mode benches.
//!
//! `examples/pass.rs` runs one contender once for callgrind (`benches/callgrind.sh`);
//! `benches/ratios.py` turns the last criterion run into the ratios table.
//!
//! ```
//! use atconform_benches::{AtatDriver, Mix, Stream, crlf_lines};
//! let stream = Stream::generate(Mix::Small);
//! assert_eq!(crlf_lines(&stream.bytes), stream.expected.crlf_lines);
//! let atat = AtatDriver::run_reads(&stream);
//! assert_eq!(atat.results(), stream.expected.results());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::ops::Range;

use atat::digest::{ParseError, Parser, parser};
use atat::{AtDigester, DigestResult, Digester};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------------------------------------------------------------------------------------------
// Input generator
// ---------------------------------------------------------------------------------------------

/// Which stream to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// About 8 KB of SMTP sessions (a few sessions' worth of output).
    Small,
    /// About 4 MB of SMTP sessions (a long capture).
    Large,
    /// About 1 MB of tiny responses, mostly `\r\nOK\r\n`: the per-line worst case.
    TinyLines,
}

impl Mix {
    /// All mixes, in bench order.
    pub const ALL: [Mix; 3] = [Mix::Small, Mix::Large, Mix::TinyLines];

    /// Short name used in benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Mix::Small => "small_8k",
            Mix::Large => "large_4m",
            Mix::TinyLines => "tiny_lines_1m",
        }
    }

    /// Size the generator stops after reaching (it always ends on a whole exchange).
    pub fn target_len(self) -> usize {
        match self {
            Mix::Small => 8 * 1024,
            Mix::Large => 4 * 1024 * 1024,
            Mix::TinyLines => 1024 * 1024,
        }
    }

    fn seed(self) -> u64 {
        match self {
            Mix::Small => 0x5eed_0001,
            Mix::Large => 0x5eed_0002,
            Mix::TinyLines => 0x5eed_0003,
        }
    }
}

/// What a generated stream holds, counted while it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Final result code `OK`.
    pub ok: usize,
    /// Final result code `ERROR`.
    pub error: usize,
    /// Final result code `+CME ERROR: <err>`.
    pub cme_error: usize,
    /// Intermediate result `CONNECT` (the module enters data mode).
    pub connect: usize,
    /// Information lines of command responses (`+QSMTPDST: 1,"…"`, …).
    pub info_lines: usize,
    /// Unsolicited result codes (`+QSMTPPUT: <err>,<protocol_error>`).
    pub urcs: usize,
    /// CRLF-terminated lines, the empty ones W1's framing puts before each block included.
    pub crlf_lines: usize,
}

impl Counts {
    /// Final result codes (`OK`, `ERROR`, `+CME ERROR`).
    pub fn finals(&self) -> usize {
        self.ok + self.error + self.cme_error
    }

    /// Results a host parser hands its client: final result codes, `CONNECT` and URCs
    /// (what atat reports as `DigestResult::Response`/`Urc`; information lines ride inside a
    /// response).
    pub fn results(&self) -> usize {
        self.finals() + self.connect + self.urcs
    }
}

/// Module output (echo off) and the host command lines behind it.
#[derive(Clone, Debug)]
pub struct Stream {
    /// The mix this was built from.
    pub mix: Mix,
    /// The bytes the module sent, exactly as framed on the wire (ERRATA W1).
    pub bytes: Vec<u8>,
    /// One range of `bytes` per command response or URC, in order: how the bytes arrive when a
    /// UART driver hands over whatever came in one burst. A command that enters data mode
    /// (`CONNECT`) has two: `CONNECT`, then the block that closes data mode.
    pub reads: Vec<Range<usize>>,
    /// The host's command lines, each ended by `\r` (000 §2.1.2).
    pub commands: Vec<u8>,
    /// Number of command lines in `commands`.
    pub command_count: usize,
    /// What `bytes` holds.
    pub expected: Counts,
}

/// Recipients seen in 000 §2.2.2 and §3.1, plus a few of our own.
const ADDRESSES: [&str; 8] = [
    "quectel_test@163.com",
    "quectel_test@21cn.com",
    "quectel_test@aol.com",
    "sishen664551@163.com",
    "qa.lab@example.com",
    "firmware-ci@example.org",
    "ops@mail.example.net",
    "a@b.cn",
];

const SERVERS: [(&str, u16); 4] = [
    ("smtp.163.com", 25),
    ("smtp.163.com", 465),
    ("smtp.qcloudmail.com", 465),
    ("mail.example.net", 587),
];

const FILES: [&str; 4] = [
    "RAM:smtp1.txt",
    "RAM:test.txt",
    "UFS:report.csv",
    "RAM:log_20200729.bin",
];

/// 000 §2.2.1, test command, as ERRATA E7 fixes it.
const QSMTPCFG_TEST: [&str; 7] = [
    "+QSMTPCFG: \"account\",<username>,<password>",
    "+QSMTPCFG: \"sender\",<sender_name>,<sender_email>",
    "+QSMTPCFG: \"smtpserver\",<srvaddr>,<srvport>",
    "+QSMTPCFG: \"contextid\",(1-16)",
    "+QSMTPCFG: \"sslctxid\",(0-5)",
    "+QSMTPCFG: \"ssltype\",(0-2)",
    "+QSMTPCFG: \"bodyoriginal\",(0,1)",
];

/// Builds a [`Stream`] one exchange at a time.
struct Builder {
    rng: ChaCha8Rng,
    bytes: Vec<u8>,
    reads: Vec<Range<usize>>,
    commands: Vec<u8>,
    command_count: usize,
    counts: Counts,
    /// Information lines of the response being built.
    info: Vec<String>,
    /// Whether the first session is being built.
    first_session: bool,
}

/// The final result code closing a response.
enum Final<'a> {
    Ok,
    Error,
    Cme(u16),
    /// `CONNECT`, then (after data mode) these information lines and `OK`.
    Connect(&'a [String]),
}

impl Builder {
    fn new(mix: Mix) -> Self {
        Builder {
            rng: ChaCha8Rng::seed_from_u64(mix.seed()),
            bytes: Vec::with_capacity(mix.target_len() + 1024),
            reads: Vec::new(),
            commands: Vec::new(),
            command_count: 0,
            counts: Counts::default(),
            info: Vec::new(),
            first_session: true,
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    /// True with probability `percent`/100; always true in a stream's first session, so that
    /// even the small mix holds every kind of exchange.
    fn chance(&mut self, percent: u32) -> bool {
        let roll = self.rng.random_range(0..100) < percent;
        roll || self.first_session
    }

    /// Appends one framed block (`\r\n` + lines joined by `\r\n` + `\r\n`) as one read.
    fn block(&mut self, lines: &[&str]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(b"\r\n");
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.bytes.extend_from_slice(b"\r\n");
            }
            self.bytes.extend_from_slice(line.as_bytes());
        }
        self.bytes.extend_from_slice(b"\r\n");
        self.counts.crlf_lines += 1 + lines.len();
        self.reads.push(start..self.bytes.len());
    }

    /// Appends a response: the information lines gathered in `self.info` (W1: one block), then
    /// the final result code in its own framing, all in one read.
    fn respond(&mut self, end: Final<'_>) {
        let info = std::mem::take(&mut self.info);
        let start = self.bytes.len();
        if !info.is_empty() {
            let lines: Vec<&str> = info.iter().map(String::as_str).collect();
            self.block(&lines);
            self.reads.pop();
            self.counts.info_lines += info.len();
        }
        match end {
            Final::Ok => {
                self.block(&["OK"]);
                self.counts.ok += 1;
            }
            Final::Error => {
                self.block(&["ERROR"]);
                self.counts.error += 1;
            }
            Final::Cme(code) => {
                self.block(&[&format!("+CME ERROR: {code}")]);
                self.counts.cme_error += 1;
            }
            Final::Connect(after) => {
                // 000 §2.2.4: CONNECT, <data>, +QSMTPBODY: <input_length>, OK. The data goes
                // host → module and is not echoed, so the module's next bytes close data mode.
                debug_assert!(info.is_empty());
                self.block(&["CONNECT"]);
                self.counts.connect += 1;
                self.info = after.to_vec();
                self.respond(Final::Ok);
                return;
            }
        }
        self.reads.pop();
        self.reads.push(start..self.bytes.len());
    }

    fn urc(&mut self, line: &str) {
        self.block(&[line]);
        self.counts.urcs += 1;
    }

    fn command(&mut self, line: &str) {
        self.commands.extend_from_slice(line.as_bytes());
        self.commands.push(b'\r');
        self.command_count += 1;
    }

    fn ok(&mut self, line: &str) {
        self.command(line);
        self.respond(Final::Ok);
    }

    /// One SMTP session as 000 §3.1 (plain), §3.2 (SSL) or §3.3 (STARTTLS) walks it, with the
    /// queries of §2.2 and the errors a QA run meets (ERRATA E1, E8).
    fn session(&mut self) {
        // Step 1: PDP context (000 §3.1).
        self.ok("AT+QICSGP=1,1,\"UNINET\",\"\",1");
        self.ok("AT+QIACT=1");
        self.command("AT+QIACT?");
        let ip = format!(
            "+QIACT: 1,1,1,\"10.{}.{}.{}\"",
            self.rng.random_range(0..256u16),
            self.rng.random_range(0..256u16),
            self.rng.random_range(1..255u16)
        );
        self.info.push(ip);
        self.respond(Final::Ok);
        self.ok("AT+QSMTPCFG=\"contextid\",1");

        // Step 2: server and account (000 §3.1–§3.3; ERRATA E3 spelling).
        let ssl = self.rng.random_range(0..3u8);
        self.ok(&format!("AT+QSMTPCFG=\"ssltype\",{ssl}"));
        if ssl > 0 {
            self.ok("AT+QSMTPCFG=\"sslctxid\",1");
            self.ok("AT+QSSLCFG=\"ciphersuite\",1,0xffff");
            self.ok("AT+QSSLCFG=\"seclevel\",1,0");
        }
        let (server, port) = *self.pick(&SERVERS);
        self.ok(&format!("AT+QSMTPCFG=\"smtpserver\",\"{server}\",{port}"));
        self.ok("AT+QSMTPCFG=\"account\",\"sishen664551\",\"wq664551\"");
        self.ok("AT+QSMTPCFG=\"sender\",\"sishen664551\",\"sishen664551@163.com\"");
        if self.chance(40) {
            self.command("AT+QSMTPCFG=?");
            self.info
                .extend(QSMTPCFG_TEST.iter().map(|line| line.to_string()));
            self.respond(Final::Ok);
        }
        if self.chance(50) {
            self.command("AT+QSMTPCFG=\"smtpserver\"");
            self.info
                .push(format!("+QSMTPCFG: \"smtpserver\",\"{server}\",{port}"));
            self.respond(Final::Ok);
            self.command("AT+QSMTPCFG=\"sender\"");
            self.info
                .push("+QSMTPCFG: \"sender\",\"sishen664551\",\"sishen664551@163.com\"".into());
            self.respond(Final::Ok);
            self.command("AT+QSMTPCFG=\"ssltype\"");
            self.info.push(format!("+QSMTPCFG: \"ssltype\",{ssl}"));
            self.respond(Final::Ok);
        }

        // Step 3: recipients, subject, body, attachment (000 §2.2.2–§2.2.5, §3.1).
        let n = self.rng.random_range(1..=3usize);
        let mut recipients = Vec::with_capacity(n);
        for i in 0..n {
            let addr = *self.pick(&ADDRESSES);
            let kind = if i == 0 {
                1
            } else {
                self.rng.random_range(1..=3u8)
            };
            self.ok(&format!("AT+QSMTPDST=1,{kind},\"{addr}\""));
            recipients.push(format!("+QSMTPDST: {kind},\"{addr}\""));
        }
        self.command("AT+QSMTPDST?");
        self.info = recipients;
        self.respond(Final::Ok);
        if self.chance(15) {
            // ERRATA E8: an odd number of hex digits.
            self.command("AT+QSMTPSUB=1,\"7465737\"");
            self.respond(Final::Cme(664));
        }
        self.ok("AT+QSMTPSUB=0,\"TEST SMTP\"");
        self.command("AT+QSMTPSUB?");
        self.info.push("+QSMTPSUB: 0,\"TEST SMTP\"".into());
        self.respond(Final::Ok);
        let body = self.rng.random_range(1..=10240u32);
        self.command(&format!("AT+QSMTPBODY=0,{body},120"));
        self.respond(Final::Connect(&[format!("+QSMTPBODY: {body}")]));
        let file = *self.pick(&FILES);
        let size = self.rng.random_range(1..=200_000u32);
        if self.chance(30) {
            self.command(&format!("AT+QFUPL=\"{file}\",{size},200,1"));
            let checksum = self.rng.random_range(0..0x1_0000u32);
            self.respond(Final::Connect(&[format!("+QFUPL: {size},{checksum:x}")]));
        }
        if self.chance(10) {
            // ERRATA E1: the line as printed in 000 §3.1.
            self.command("AT+QFLST=\"RAM: \"*\"");
            self.respond(Final::Error);
        }
        self.command("AT+QFLST=\"RAM:*\"");
        self.info.push(format!("+QFLST: \"{file}\",{size}"));
        if self.chance(30) {
            self.info.push("+QFLST: \"RAM:test.txt\",200".into());
        }
        self.respond(Final::Ok);
        self.ok(&format!("AT+QSMTPATT=1,1,\"{file}\""));
        self.command("AT+QSMTPATT?");
        self.info.push(format!("+QSMTPATT: 1,\"{file}\",{size}"));
        self.respond(Final::Ok);

        // Step 4: send (000 §2.2.7): OK now, the URC when the send ends.
        self.ok("AT+QSMTPPUT=300");
        if self.chance(85) {
            self.urc("+QSMTPPUT: 0,0");
        } else {
            let (err, proto) = *self.pick(&[(653u16, 0u16), (658, 535), (662, 554), (670, 0)]);
            self.urc(&format!("+QSMTPPUT: {err},{proto}"));
        }

        // Step 5: clean up (000 §3.1; ERRATA E2 file name).
        self.ok("AT+QSMTPCLR");
        self.ok(&format!("AT+QFDEL=\"{file}\""));
        if self.chance(50) {
            self.ok("AT+QIDEACT=1");
        }
        self.first_session = false;
    }

    /// One tiny exchange: mostly `OK`, some `ERROR` and `+CME ERROR: 664`.
    fn tiny(&mut self) {
        match self.rng.random_range(0..100u8) {
            0..90 => self.ok("AT"),
            90..95 => {
                self.command("AT+QFLST=\"RAM: \"*\"");
                self.respond(Final::Error);
            }
            _ => {
                self.command("AT+QSMTPSUB=1,\"7465737\"");
                self.respond(Final::Cme(664));
            }
        }
    }
}

impl Stream {
    /// Builds the stream for `mix` (always the same bytes for the same mix).
    pub fn generate(mix: Mix) -> Stream {
        let mut b = Builder::new(mix);
        while b.bytes.len() < mix.target_len() {
            match mix {
                Mix::Small | Mix::Large => b.session(),
                Mix::TinyLines => b.tiny(),
            }
        }
        Stream {
            mix,
            bytes: b.bytes,
            reads: b.reads,
            commands: b.commands,
            command_count: b.command_count,
            expected: b.counts,
        }
    }

    /// Average length of a CRLF-terminated line, terminator and blank lines included.
    pub fn mean_line_len(&self) -> f64 {
        self.bytes.len() as f64 / self.expected.crlf_lines.max(1) as f64
    }

    /// Average length of a non-blank line (information line, result code or URC) with its
    /// framing, the blank lines W1 puts before each block counted into the line after them.
    pub fn mean_text_line_len(&self) -> f64 {
        let text = self.expected.info_lines + self.expected.results();
        self.bytes.len() as f64 / text.max(1) as f64
    }
}

/// A mail body of `len` bytes of printable text in 76-column lines (`\r\n`), deterministic.
pub fn text_body(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "module",
        "firmware",
        "SMTP",
        "test",
        "attachment",
        "regression",
        "Quectel",
        "EC21",
        "delivery",
        "report",
        "the",
        "of",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(len + 16);
    let mut col = 0;
    while out.len() < len {
        let word = WORDS[rng.random_range(0..WORDS.len())];
        if col + word.len() + 1 > 76 {
            out.extend_from_slice(b"\r\n");
            col = 0;
            if rng.random_range(0..20u8) == 0 {
                // A line starting with a dot (a signature, an ellipsis): #PUTMAIL stuffs it.
                out.push(b'.');
                col += 1;
            }
        } else if col > 0 {
            out.push(b' ');
            col += 1;
        }
        out.extend_from_slice(word.as_bytes());
        col += word.len();
    }
    out.truncate(len);
    out
}

/// A MIME attachment part's content as a mail body carries it: `len` random bytes in base64,
/// 76-column lines ended by `\r\n` (RFC 2045 §6.8), deterministic.
pub fn base64_attachment(len: usize, seed: u64) -> Vec<u8> {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(binary_attachment(len, seed));
    let mut out = Vec::with_capacity(text.len() + text.len() / 38 + 2);
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `len` bytes of uniformly random binary data (an attachment), deterministic.
pub fn binary_attachment(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![0; len];
    rng.fill(out.as_mut_slice());
    out
}

/// The command lines of [`Stream::commands`], each without its `\r`.
pub fn command_lines(commands: &[u8]) -> impl Iterator<Item = &[u8]> {
    commands
        .split(|&b| b == b'\r')
        .filter(|line| !line.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The floor
// ---------------------------------------------------------------------------------------------

/// Counts CRLF-terminated lines with a bare `memchr` scan for `\n`: the least work any line
/// parser must do (find every line end), with nothing done per line but one comparison.
pub fn crlf_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes)
        .filter(|&i| i > 0 && bytes.get(i - 1) == Some(&b'\r'))
        .count()
}

/// Counts CR-terminated command lines with a bare `memchr` scan, visiting each line end (not
/// `Iterator::count`, which memchr answers with a vectorised byte count): the floor for
/// command-line assembly.
pub fn cr_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\r', bytes).fold(0, |n, _| n + 1)
}

/// The floor fed in reads of `read_size` bytes: a `\r` at the end of one read and the `\n` at
/// the start of the next still make a line.
pub fn crlf_lines_in_reads(bytes: &[u8], read_size: usize) -> usize {
    let mut count = 0;
    let mut after_cr = false;
    for chunk in bytes.chunks(read_size.max(1)) {
        if after_cr && chunk.first() == Some(&b'\n') {
            count += 1;
        }
        count += crlf_lines(chunk);
        after_cr = chunk.last() == Some(&b'\r');
    }
    count
}

// ---------------------------------------------------------------------------------------------
// at-wire drivers
// ---------------------------------------------------------------------------------------------

/// What the module side made of a command byte stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommandCounts {
    /// Lines the assembler handed out.
    pub lines: usize,
    /// Lines that parsed.
    pub parsed: usize,
    /// Lines that did not parse (answered `ERROR` by a module).
    pub rejected: usize,
}

/// Cuts `commands` into lines with [`at_wire::LineAssembler`] in reads of `read_size` bytes and
/// parses each with [`at_wire::parse_command_line`]: the module side of command mode.
pub fn assemble_and_parse(commands: &[u8], read_size: usize) -> CommandCounts {
    let mut asm = at_wire::LineAssembler::new(at_wire::assembler::DEFAULT_MAX_COMMAND_LINE);
    let mut counts = CommandCounts::default();
    for mut chunk in commands.chunks(read_size.max(1)) {
        while !chunk.is_empty() {
            let feed = asm.feed(chunk);
            if let Some(at_wire::LineEvent::Line { line, .. }) = feed.event {
                counts.lines += 1;
                match at_wire::parse_command_line(line) {
                    Ok(_) => counts.parsed += 1,
                    Err(_) => counts.rejected += 1,
                }
            }
            chunk = chunk.get(feed.consumed..).unwrap_or_default();
        }
    }
    counts
}

/// Runs the Quectel data-mode framer (`AT+QSMTPBODY`, `AT+QFUPL`, 000 §2.2.4) over `payload`
/// declared at its exact length, in reads of `read_size` bytes arriving 1 ms apart (no `+++`
/// escape can form: the guard is 1 s). Returns the framed session.
pub fn quectel_frame(payload: &[u8], read_size: usize) -> Option<at_wire::Framed> {
    use at_wire::{FramerConfig, Instant, QuectelFramer};
    let cfg = FramerConfig::new(payload.len(), std::time::Duration::from_secs(3600));
    let mut framer = QuectelFramer::new(cfg, Instant::ZERO);
    for (k, chunk) in payload.chunks(read_size.max(1)).enumerate() {
        framer.push(Instant::from_millis(1 + k as u64), chunk);
    }
    framer.take_result()
}

/// Runs the Quectel framer like [`quectel_frame`] but with `push_with`: the payload goes to
/// `sink` as slices of the input (no copy in the framer); returns the outcome.
pub fn quectel_stream(
    payload: &[u8],
    read_size: usize,
    sink: &mut dyn FnMut(&[u8]),
) -> Option<at_wire::Framed> {
    use at_wire::{FramerConfig, Instant, QuectelFramer};
    let cfg = FramerConfig::new(payload.len(), std::time::Duration::from_secs(3600));
    let mut framer = QuectelFramer::new(cfg, Instant::ZERO);
    for (k, chunk) in payload.chunks(read_size.max(1)).enumerate() {
        framer.push_with(Instant::from_millis(1 + k as u64), chunk, sink);
    }
    framer.take_result()
}

/// Runs the Multi-Tech `#PUTMAIL` framer (002) over dot-stuffed `wire` bytes in reads of
/// `read_size`; returns the unstuffed body once the terminator was seen.
pub fn multitech_frame(wire: &[u8], read_size: usize) -> Option<Vec<u8>> {
    let mut framer = at_wire::MultiTechFramer::new(wire.len());
    for chunk in wire.chunks(read_size.max(1)) {
        framer.push(chunk);
    }
    framer.take_body()?.ok()
}

/// The framers' floor: a bare `memchr` scan visiting every `needle` (the byte a framer must
/// stop at: `+` for the Quectel escape, CR for the `#PUTMAIL` terminator).
pub fn byte_scan(bytes: &[u8], needle: u8) -> usize {
    memchr::memchr_iter(needle, bytes).fold(0, |n, _| n + 1)
}

/// [`byte_scan`] called once per read of `read_size` bytes: the floor for a framer fed reads.
pub fn byte_scan_in_reads(bytes: &[u8], needle: u8, read_size: usize) -> usize {
    bytes
        .chunks(read_size.max(1))
        .map(|chunk| byte_scan(chunk, needle))
        .sum()
}

/// The decoder settings for the generated streams: echo off (the streams hold none), the rest
/// default (`+QSMTPPUT` is a URC after `AT+QSMTPPUT=<timeout>`, 000 §2.2.7).
pub fn decoder_config() -> at_wire::DecoderConfig {
    at_wire::DecoderConfig {
        echo: at_wire::Echo::Off,
        ..at_wire::DecoderConfig::default()
    }
}

/// The [`at_wire::Pending`] state of each command line of `stream`, in order (what a host
/// declares with `Decoder::expect` before sending each line).
pub fn pendings(stream: &Stream) -> Vec<at_wire::Pending> {
    let cfg = decoder_config();
    command_lines(&stream.commands)
        .map(|line| at_wire::Pending::infer(line, &cfg))
        .collect()
}

/// Drives [`at_wire::Decoder`] over `bytes` as a host does, with its fastest API
/// ([`at_wire::Decoder::decode_with`]: whole lines decoded in place from the read, events
/// borrowing it): the first command is declared before any byte, each next one from inside the
/// callback as soon as the previous one's final result code is decoded
/// ([`at_wire::Control::expect_ref`]: copied into the decoder's reused slot, so borrowed
/// pendings cost no allocation); bytes go in reads of `read_size` (`usize::MAX`: all at once).
/// `on_event` sees every event.
pub fn decode_with<P: std::borrow::Borrow<at_wire::Pending>>(
    bytes: &[u8],
    pendings: impl IntoIterator<Item = P>,
    read_size: usize,
    mut on_event: impl FnMut(&at_wire::Event<'_>),
) {
    let mut pendings = pendings.into_iter();
    let mut dec = at_wire::Decoder::new(decoder_config());
    if let Some(first) = pendings.next() {
        dec.expect_ref(first.borrow());
    }
    for read in bytes.chunks(read_size.max(1)) {
        dec.decode_with(read, |ev, ctl| {
            on_event(&ev);
            if matches!(ev.kind, at_wire::Kind::Final(_))
                && let Some(next) = pendings.next()
            {
                ctl.expect_ref(next.borrow());
            }
        });
    }
}

/// [`decode_with`] through the pull API instead ([`at_wire::Decoder::push`] +
/// [`at_wire::Decoder::poll_event`]: every line copied into the decoder's buffer first), the
/// next command declared between polls.
pub fn decode_pull_with<P: std::borrow::Borrow<at_wire::Pending>>(
    bytes: &[u8],
    pendings: impl IntoIterator<Item = P>,
    read_size: usize,
    mut on_event: impl FnMut(&at_wire::Event<'_>),
) {
    let mut pendings = pendings.into_iter();
    let mut dec = at_wire::Decoder::new(decoder_config());
    if let Some(first) = pendings.next() {
        dec.expect_ref(first.borrow());
    }
    for mut read in bytes.chunks(read_size.max(1)) {
        loop {
            let n = dec.push(read);
            read = read.get(n..).unwrap_or_default();
            while let Some(ev) = dec.poll_event() {
                on_event(&ev);
                if matches!(ev.kind, at_wire::Kind::Final(_))
                    && let Some(next) = pendings.next()
                {
                    dec.expect_ref(next.borrow());
                }
            }
            if read.is_empty() {
                break;
            }
        }
    }
}

/// [`decode_with`], counting the events the way [`Counts`] counts the stream.
pub fn decode_counts<P: std::borrow::Borrow<at_wire::Pending>>(
    bytes: &[u8],
    pendings: impl IntoIterator<Item = P>,
    read_size: usize,
) -> Counts {
    let mut c = Counts::default();
    decode_with(bytes, pendings, read_size, |ev| c.count(ev));
    c
}

/// [`decode_pull_with`], counting the events the way [`Counts`] counts the stream.
pub fn decode_pull_counts<P: std::borrow::Borrow<at_wire::Pending>>(
    bytes: &[u8],
    pendings: impl IntoIterator<Item = P>,
    read_size: usize,
) -> Counts {
    let mut c = Counts::default();
    decode_pull_with(bytes, pendings, read_size, |ev| c.count(ev));
    c
}

impl Counts {
    #[inline]
    fn count(&mut self, ev: &at_wire::Event<'_>) {
        use at_wire::{Final, Kind};
        self.crlf_lines += usize::from(ev.term == at_wire::Terminator::CRLF);
        match ev.kind {
            Kind::Final(Final::Ok) => self.ok += 1,
            Kind::Final(Final::Error) => self.error += 1,
            Kind::Final(Final::CmeError(_)) => self.cme_error += 1,
            Kind::Connect => self.connect += 1,
            Kind::Info => self.info_lines += 1,
            Kind::Urc => self.urcs += 1,
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// atat 0.25, driven as atat::Ingress drives it
// ---------------------------------------------------------------------------------------------

/// The URCs the SMTP command set reports (000 §2.2.7), as `#[derive(AtatUrc)]` would register
/// them: `atat::digest::parser::urc_helper` per prefix.
pub enum SmtpUrcs {}

impl Parser for SmtpUrcs {
    fn parse(buf: &[u8]) -> Result<(&[u8], usize), ParseError> {
        if let Some(r) = parser::try_urc(parser::urc_helper(&b"+QSMTPPUT"[..]), buf) {
            return r;
        }
        Err(ParseError::NoMatch)
    }
}

/// What the digester reported, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AtatCounts {
    /// `DigestResult::Response(Ok(_))` (`OK` and `CONNECT`).
    pub ok: usize,
    /// `DigestResult::Response(Err(_))` (`ERROR`, `+CME ERROR`).
    pub err: usize,
    /// `DigestResult::Urc(_)`.
    pub urcs: usize,
    /// `DigestResult::Prompt(_)`.
    pub prompts: usize,
    /// Bytes swallowed as echo or whitespace (`DigestResult::None` with progress).
    pub swallowed: usize,
    /// Times the window filled up and `Ingress::read_from` would have cleared it.
    pub overflows: usize,
}

impl AtatCounts {
    /// All results (responses, URCs, prompts).
    pub fn results(&self) -> usize {
        self.ok + self.err + self.urcs + self.prompts
    }
}

/// Size of the ingress window (the `RES_BUF_SIZE`-class buffer handed to `atat::Ingress`).
pub const ATAT_WINDOW: usize = 1024;

/// `atat::AtDigester` behind a copy of `atat::Ingress::try_advance`'s loop: the bytes of one
/// read are appended to a fixed window; the digester runs until it makes no progress; what it
/// swallowed is shifted out with `copy_within`. Results are counted instead of signalled to a
/// response slot or URC channel.
pub struct AtatDriver {
    digester: AtDigester<SmtpUrcs>,
    buf: Box<[u8; ATAT_WINDOW]>,
    pos: usize,
    counts: AtatCounts,
}

impl Default for AtatDriver {
    fn default() -> Self {
        Self::new()
    }
}

impl AtatDriver {
    /// An empty window and a fresh digester.
    pub fn new() -> Self {
        AtatDriver {
            digester: AtDigester::new(),
            buf: Box::new([0; ATAT_WINDOW]),
            pos: 0,
            counts: AtatCounts::default(),
        }
    }

    /// What has been reported so far.
    pub fn counts(&self) -> AtatCounts {
        self.counts
    }

    /// Hands over one read, as `AtatIngress::try_write` does: fill the window, digest, repeat.
    pub fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let free = ATAT_WINDOW - self.pos;
            if free == 0 {
                // `AtatIngress::read_from`: "Ingress buffer full, clearing".
                self.counts.overflows += 1;
                self.pos = 0;
                continue;
            }
            let len = free.min(bytes.len());
            let (now, rest) = bytes.split_at(len);
            self.buf[self.pos..self.pos + len].copy_from_slice(now);
            bytes = rest;
            self.advance(len);
        }
    }

    /// `Ingress::try_advance`, minus the slot and channel.
    fn advance(&mut self, commit: usize) {
        self.pos += commit;
        while self.pos > 0 {
            let (result, swallowed) = self.digester.digest(&self.buf[..self.pos]);
            match result {
                DigestResult::None => self.counts.swallowed += swallowed,
                DigestResult::Prompt(_) => self.counts.prompts += 1,
                DigestResult::Urc(_) => self.counts.urcs += 1,
                DigestResult::Response(Ok(_)) => self.counts.ok += 1,
                DigestResult::Response(Err(_)) => self.counts.err += 1,
            }
            if swallowed == 0 {
                break;
            }
            self.buf.copy_within(swallowed..self.pos, 0);
            self.pos -= swallowed;
        }
    }

    /// The fair drive: one read per command response or URC ([`Stream::reads`]).
    pub fn run_reads(stream: &Stream) -> AtatCounts {
        let mut driver = AtatDriver::new();
        for read in &stream.reads {
            driver.write(&stream.bytes[read.clone()]);
        }
        driver.counts()
    }

    /// Fixed-size reads, as a UART driver with a small FIFO hands them over.
    pub fn run_chunks(bytes: &[u8], read_size: usize) -> AtatCounts {
        let mut driver = AtatDriver::new();
        for chunk in bytes.chunks(read_size.max(1)) {
            driver.write(chunk);
        }
        driver.counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_sized() {
        for mix in Mix::ALL {
            let a = Stream::generate(mix);
            let b = Stream::generate(mix);
            assert_eq!(a.bytes, b.bytes, "{mix:?}");
            assert!(a.bytes.len() >= mix.target_len(), "{mix:?}");
            assert!(a.bytes.len() < mix.target_len() + 4096, "{mix:?}");
            // The reads tile the stream exactly.
            let mut at = 0;
            for read in &a.reads {
                assert_eq!(read.start, at);
                assert!(read.end > read.start && read.len() <= ATAT_WINDOW);
                at = read.end;
            }
            assert_eq!(at, a.bytes.len());
            assert_eq!(a.reads.len(), a.expected.results());
            assert_eq!(a.command_count, a.expected.finals());
            assert_eq!(
                memchr::memchr_iter(b'\r', &a.commands).count(),
                a.command_count
            );
        }
    }

    #[test]
    fn small_mix_holds_everything_the_issue_lists() {
        let s = Stream::generate(Mix::Small);
        let text = String::from_utf8(s.bytes.clone()).unwrap();
        for needle in [
            "\r\n+QSMTPCFG: \"account\",<username>,<password>\r\n",
            "\r\n+QSMTPDST: 1,\"",
            "\r\n+QIACT: 1,1,1,\"10.",
            "\r\n+QFLST: \"",
            "\r\nCONNECT\r\n\r\n+QSMTPBODY: ",
            "\r\n\r\nOK\r\n",
            "\r\n+CME ERROR: 664\r\n",
            "\r\nERROR\r\n",
            "\r\n+QSMTPPUT: 0,0\r\n",
        ] {
            assert!(text.contains(needle), "{needle:?} missing");
        }
        // No stray framing: every line is CRLF-terminated.
        assert_eq!(
            memchr::memchr_iter(b'\n', &s.bytes).count(),
            s.expected.crlf_lines
        );
        assert_eq!(
            memchr::memchr_iter(b'\r', &s.bytes).count(),
            s.expected.crlf_lines
        );
    }

    #[test]
    fn exact_w1_framing() {
        // ERRATA W1's own example, built the way the generator builds every response.
        let mut b = Builder::new(Mix::Small);
        b.command("AT+QSMTPDST?");
        b.info = vec!["+QSMTPDST: 1,\"a\"".into(), "+QSMTPDST: 2,\"b\"".into()];
        b.respond(Final::Ok);
        b.urc("+QSMTPPUT: 0,0");
        assert_eq!(
            b.bytes,
            b"\r\n+QSMTPDST: 1,\"a\"\r\n+QSMTPDST: 2,\"b\"\r\n\r\nOK\r\n\r\n+QSMTPPUT: 0,0\r\n"
        );
        assert_eq!(b.reads, vec![0..44, 44..62]);
        assert_eq!(b.counts.crlf_lines, 5 + 2);
    }

    #[test]
    fn floor_counts_every_line() {
        for mix in Mix::ALL {
            let s = Stream::generate(mix);
            assert_eq!(crlf_lines(&s.bytes), s.expected.crlf_lines, "{mix:?}");
            for read_size in [1, 2, 3, 16, 1000] {
                assert_eq!(
                    crlf_lines_in_reads(&s.bytes, read_size),
                    s.expected.crlf_lines,
                    "{mix:?} reads of {read_size}"
                );
            }
        }
        assert_eq!(crlf_lines(b"\nOK\r\nx\n\r\n"), 2);
    }

    #[test]
    fn atat_fair_drive_reports_every_result() {
        for mix in Mix::ALL {
            let s = Stream::generate(mix);
            let got = AtatDriver::run_reads(&s);
            let want = s.expected;
            assert_eq!(got.ok, want.ok + want.connect, "{mix:?}");
            assert_eq!(got.err, want.error + want.cme_error, "{mix:?}");
            assert_eq!(got.urcs, want.urcs, "{mix:?}");
            assert_eq!(got.prompts, 0, "{mix:?}");
            assert_eq!(got.overflows, 0, "{mix:?}");
            assert_eq!(got.results(), want.results(), "{mix:?}");
        }
    }

    #[test]
    fn atat_whole_stream_misparses() {
        // Why atat is not benched one-shot: handed everything at once, "\r\nOK\r\n" is searched
        // for across response boundaries, so ERRORs and URCs before an OK are swallowed into it.
        let s = Stream::generate(Mix::Small);
        let got = AtatDriver::run_chunks(&s.bytes, ATAT_WINDOW);
        assert_ne!(got.results(), s.expected.results());
    }

    #[test]
    fn atat_counts_depend_on_read_size() {
        // Fixed-size reads (a UART FIFO) put several responses in the window at once: atat
        // then takes '@' at the end of a read for a prompt and looks past ERRORs for an OK.
        let s = Stream::generate(Mix::Small);
        let got = AtatDriver::run_chunks(&s.bytes, 16);
        assert!(got.prompts > 0);
        assert!(got.err < s.expected.error + s.expected.cme_error);
        assert_ne!(got.results(), s.expected.results());
    }

    #[test]
    fn atat_false_prompt_when_a_read_ends_after_at_sign() {
        // A read that ends right after the '@' of an e-mail address is taken as a data prompt.
        let mut d = AtatDriver::new();
        d.write(b"\r\n+QSMTPDST: 1,\"quectel_test@");
        d.write(b"163.com\"\r\n\r\nOK\r\n");
        assert_eq!(d.counts().prompts, 1);
        assert_eq!(d.counts().ok, 1);
        // The same bytes in one read: no prompt.
        let mut d = AtatDriver::new();
        d.write(b"\r\n+QSMTPDST: 1,\"quectel_test@163.com\"\r\n\r\nOK\r\n");
        assert_eq!(d.counts().prompts, 0);
        assert_eq!(d.counts().ok, 1);
    }

    #[test]
    fn command_lines_parse_and_round_trip() {
        for mix in Mix::ALL {
            let s = Stream::generate(mix);
            let lines: Vec<&[u8]> = command_lines(&s.commands).collect();
            assert_eq!(lines.len(), s.command_count);
            assert_eq!(cr_lines(&s.commands), s.command_count);
            let mut rejected = 0;
            for line in &lines {
                match at_wire::parse_command_line(line) {
                    Ok(parsed) => assert_eq!(&parsed.to_bytes()[..], *line),
                    Err(_) => rejected += 1,
                }
            }
            // The only malformed line is ERRATA E1's, and a module answers it `ERROR`.
            assert_eq!(rejected, s.expected.error, "{mix:?}");
            for read_size in [1, 16, 4096] {
                let got = assemble_and_parse(&s.commands, read_size);
                assert_eq!(got.lines, s.command_count, "{mix:?} reads of {read_size}");
                assert_eq!(
                    got.rejected, s.expected.error,
                    "{mix:?} reads of {read_size}"
                );
                assert_eq!(got.parsed + got.rejected, got.lines);
            }
        }
    }

    #[test]
    fn framers_return_the_payload_for_every_read_size() {
        let body = text_body(10240, 1);
        let attachment = binary_attachment(300_000, 2);
        assert!(attachment.contains(&b'+'));
        for read_size in [1, 16, 1000, usize::MAX] {
            for payload in [&body, &attachment] {
                let framed = quectel_frame(payload, read_size).unwrap();
                assert_eq!(framed.end, at_wire::EndReason::Length);
                assert_eq!(&framed.payload, payload);
                assert!(framed.leftover.is_empty());
            }
            // Bodies end in CRLF so that unstuffing gives back exactly the input.
            let mut text = body.clone();
            text.extend_from_slice(b"\r\n");
            for payload in [&text, &base64_attachment(30_000, 3)] {
                let wire = at_wire::dot_stuff(payload);
                assert_eq!(
                    multitech_frame(&wire, read_size).as_ref(),
                    Some(payload),
                    "reads of {read_size}"
                );
            }
        }
        // Dot-leading lines are present, so the stuffing path is exercised.
        assert!(memchr::memmem::find(&body, b"\r\n.").is_some());
    }

    #[test]
    fn our_decoder_counts_exactly() {
        for mix in Mix::ALL {
            let s = Stream::generate(mix);
            for read_size in [usize::MAX, 16] {
                let got = decode_counts(&s.bytes, pendings(&s), read_size);
                assert_eq!(got, s.expected, "{mix:?}, reads of {read_size}");
                let pulled = decode_pull_counts(&s.bytes, pendings(&s), read_size);
                assert_eq!(pulled, s.expected, "pull, {mix:?}, reads of {read_size}");
            }
        }
    }

    #[test]
    fn our_decoder_output_is_identical_for_read_sizes_1_to_64() {
        let s = Stream::generate(Mix::Small);
        let events = |read_size| {
            let mut out = Vec::new();
            decode_with(&s.bytes, pendings(&s), read_size, |ev| {
                out.push(ev.to_owned())
            });
            out
        };
        let one_shot = events(usize::MAX);
        assert_eq!(one_shot.len(), s.expected.crlf_lines);
        // The events give back the stream byte for byte.
        let mut raw = Vec::new();
        for ev in &one_shot {
            ev.as_event().encode_raw(&mut raw);
        }
        assert_eq!(raw, s.bytes);
        for read_size in 1..=64 {
            assert_eq!(events(read_size), one_shot, "reads of {read_size}");
        }
        // The pull API gives the same events.
        let mut pulled = Vec::new();
        decode_pull_with(&s.bytes, pendings(&s), 7, |ev| pulled.push(ev.to_owned()));
        assert_eq!(pulled, one_shot);
    }

    #[test]
    fn bodies_are_deterministic() {
        assert_eq!(text_body(10240, 1), text_body(10240, 1));
        assert_eq!(text_body(10240, 1).len(), 10240);
        assert!(text_body(10240, 1).iter().all(|b| b.is_ascii()));
        assert_eq!(binary_attachment(4096, 2), binary_attachment(4096, 2));
    }
}
