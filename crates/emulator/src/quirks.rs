//! Firmware quirks: named, documented defects a real firmware could ship.
//!
//! Each quirk makes the emulator misbehave in one precise way, so that a conformance run against
//! it proves the harness catches that defect. Enable them with [`QuirkSet::parse`] (the CLI's
//! `--quirk NAME`) or list them in a profile's `quirks = [...]`.
//!
//! ```
//! use at_emulator::quirks::{Quirk, QuirkSet};
//! let set = QuirkSet::parse("urc-before-ok,ate0-ignored").unwrap();
//! assert!(set.contains(Quirk::UrcBeforeOk));
//! assert!(QuirkSet::parse("no-such-quirk").is_err());
//! assert!(at_emulator::quirks::QUIRKS.len() >= 25);
//! ```

use core::fmt;

/// Registry entry: a quirk, its name, what it does and what it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuirkInfo {
    /// The quirk.
    pub quirk: Quirk,
    /// The `--quirk` name.
    pub name: &'static str,
    /// What the firmware does wrong, in one line.
    pub description: &'static str,
    /// The manual rule it violates.
    pub breaks: &'static str,
}

macro_rules! quirks {
    ($( $variant:ident = $name:literal : $desc:literal ; $breaks:literal ),+ $(,)?) => {
        /// A named firmware defect.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Quirk { $( #[doc = $desc] $variant ),+ }

        /// Every quirk, in registry order.
        pub static QUIRKS: &[QuirkInfo] = &[
            $( QuirkInfo { quirk: Quirk::$variant, name: $name, description: $desc, breaks: $breaks } ),+
        ];
    };
}

quirks! {
    BodyLengthOffByOne = "body-length-off-by-one":
        "`+QSMTPBODY: <input_length>` reports one byte more than was received.";
        "000 §2.2.4: <input_length> is the actual input length",
    UrcBeforeOk = "urc-before-ok":
        "`AT+QSMTPPUT` answers its `+QSMTPPUT:` URC before the `OK` (OK held until the result).";
        "000 §2.2.7: OK, then the URC",
    NoOkAfterDataMode = "no-ok-after-data-mode":
        "After the body's data mode ends, `+QSMTPBODY: <n>` is not followed by `OK`.";
        "000 §2.2.4: +QSMTPBODY: <input_length> then OK",
    GuardTimeIgnored = "guard-time-ignored":
        "`+++` ends data mode even without the 1 s of silence before it.";
        "000 §1.3 rule 1: no input for 1 s before +++",
    EscapeNeedsNoSilenceAfter = "escape-needs-no-silence-after":
        "`+++` ends data mode at once, without waiting for 1 s of silence after it.";
        "000 §1.3 rule 3: no input for 1 s after +++",
    BccHeaderLeaked = "bcc-header-leaked":
        "The composed mail carries a `Bcc:` header naming the blind-copy recipients.";
        "000 §2.2.2 type 3 (blind copy); RFC 5322 §3.6.3",
    NoDotStuffing = "no-dot-stuffing":
        "Body lines starting with `.` are sent without dot-stuffing.";
        "RFC 5321 §4.5.2",
    LowercaseAtRejected = "lowercase-at-rejected":
        "Command lines starting with `at` (or `At`/`aT`) answer `ERROR`.";
        "000 §2.1.2: the prefix is AT or at",
    Ate0Ignored = "ate0-ignored":
        "`ATE0` answers `OK` but echo stays on.";
        "V.250 E0; ERRATA W2",
    RecipientLimit19 = "recipient-limit-19":
        "The 20th recipient is refused with `+CME ERROR: 664`.";
        "000 §2.2.2: up to 20 recipients",
    AttachmentLimit9 = "attachment-limit-9":
        "The 10th attachment is refused with `+CME ERROR: 664`.";
        "000 §2.2.5: up to 10 attachments",
    AuthFailureErr660 = "auth-failure-err-660":
        "SMTP 535 (authentication failed) is reported as `660,535` instead of `677,535`.";
        "000 §5/§6: 677 <-> 535",
    TestRangeContextid0To15 = "test-range-contextid-0-15":
        "`AT+QSMTPCFG=?` prints `\"contextid\",(0-15)`.";
        "000 §2.2.1: <contextID> range 1-16",
    CrlfLfOnly = "crlf-lf-only":
        "Responses use bare LF line endings instead of CR LF.";
        "000 §2.1.2: <CR><LF><response><CR><LF>",
    MissingBlankLineBeforeOk = "missing-blank-line-before-ok":
        "An information block is followed by `OK` without the empty line between them.";
        "ERRATA W1",
    CmeAsPlainError = "cme-as-plain-error":
        "`+CME ERROR: <err>` is reported as plain `ERROR`.";
        "000 §2.2: +CME ERROR: <err>",
    SubjectTruncatedAt64 = "subject-truncated-at-64":
        "Subjects are silently cut to 64 bytes (ASCII) or 128 hex digits.";
        "000 §2.2.3: subject up to 100 bytes / 200 hex digits",
    HexSubjectNotDecoded = "hex-subject-not-decoded":
        "A non-ASCII subject is sent as its hex digits instead of the decoded bytes.";
        "000 §2.2.3: hex string of the original subject",
    InputTimeIgnored = "input-time-ignored":
        "The body's data mode never ends on `<input_time>`.";
        "000 §2.2.4: data mode ends when <input_time> is reached",
    BusyNotReported = "busy-not-reported":
        "`AT+QSMTPPUT` while a mail is being sent answers `OK` (and sends nothing).";
        "000 §5: 652 busy",
    QsmtpclrKeepsAttachments = "qsmtpclr-keeps-attachments":
        "`AT+QSMTPCLR` clears recipients, subject and body but not the attachments.";
        "000 §2.2.6",
    DstDeleteKeepsCc = "dst-delete-keeps-cc":
        "`AT+QSMTPDST=0` deletes To and Bcc recipients but keeps the Cc ones.";
        "000 §2.2.2: mode 0 deletes all recipients",
    QflstSizeWrong = "qflst-size-wrong":
        "`AT+QFLST` reports each file's size minus one.";
        "000 §2.2.5: +QFLST: \"RAM:test.txt\",200 after a 200-byte upload",
    QiactQueryNoIp = "qiact-query-no-ip":
        "`AT+QIACT?` omits the IP address: `+QIACT: 1,1,1`.";
        "000 §3.1: +QIACT: 1,1,1,\"10.7.157.1\"",
    EchoDoublesCr = "echo-doubles-cr":
        "The echo of a command line's CR is sent twice.";
        "ERRATA W2: bytes are echoed as received",
    UrcMissingOnTimeout = "urc-missing-on-timeout":
        "When `<timeout>` expires, no `+QSMTPPUT: 658,0` URC is sent.";
        "000 §2.2.7, §5: 658 timeout",
    ProtocolErrorZero = "protocol-error-zero":
        "`<protocol_error>` is always 0, even for SMTP reply failures.";
        "000 §2.2.7, §6",
    PutBeforeBodyCrashWedge = "put-before-body-crash-wedge":
        "`AT+QSMTPPUT` with no body answers `OK` and then ignores all input until DTR is dropped.";
        "issue: the module never wedges; 000 §2.2.7",
    HeloOnly = "helo-only":
        "The SMTP client greets with `HELO` (no ESMTP: no AUTH, no STARTTLS).";
        "RFC 5321 §4.1.1.1; 000 §1.1 STARTTLS",
    ForceAuthLogin = "force-auth-login":
        "The SMTP client always uses `AUTH LOGIN`, even when only `PLAIN` is offered.";
        "RFC 4954 §4",
    QfuplChecksumZero = "qfupl-checksum-zero":
        "`+QFUPL: <size>,<checksum>` always reports checksum 0.";
        "000 §2.2.5; ERRATA E12",
    BodyoriginalIgnored = "bodyoriginal-ignored":
        "`AT+QSMTPCFG=\"bodyoriginal\",1` is accepted but the body is still sent with a charset.";
        "000 §2.2.1 <body_switch>",
    ConnectMissing = "connect-missing":
        "`AT+QSMTPBODY` enters data mode without printing `CONNECT`.";
        "000 §2.2.4: CONNECT",
    SlowResponses = "slow-responses":
        "Every command's response arrives 500 ms after its command line (the echo at once).";
        "000 §2.2.1–§2.2.7: maximum response time (ERRATA E30)",
}

impl Quirk {
    /// The registry entry of this quirk.
    pub fn info(self) -> &'static QuirkInfo {
        // Every variant has exactly one entry (built by the same macro).
        QUIRKS
            .iter()
            .find(|q| q.quirk == self)
            .unwrap_or(&QUIRKS[0])
    }

    /// The `--quirk` name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The quirk named `name`.
    pub fn from_name(name: &str) -> Option<Quirk> {
        QUIRKS.iter().find(|q| q.name == name).map(|q| q.quirk)
    }

    fn bit(self) -> u64 {
        let i = QUIRKS.iter().position(|q| q.quirk == self).unwrap_or(0);
        1u64 << i
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A quirk name that is not in the registry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown quirk `{0}` (see `atconform emulate --list-quirks`)")]
pub struct UnknownQuirk(pub String);

/// A set of enabled quirks (empty = a clean firmware).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QuirkSet(u64);

impl QuirkSet {
    /// No quirks.
    pub const NONE: QuirkSet = QuirkSet(0);

    /// Parses comma-separated quirk names (`"urc-before-ok,ate0-ignored"`); empty → none.
    pub fn parse(names: &str) -> Result<QuirkSet, UnknownQuirk> {
        Self::from_names(names.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }

    /// The set of the named quirks.
    pub fn from_names<I, S>(names: I) -> Result<QuirkSet, UnknownQuirk>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = QuirkSet::NONE;
        for n in names {
            let n = n.as_ref();
            set.insert(Quirk::from_name(n).ok_or_else(|| UnknownQuirk(n.to_owned()))?);
        }
        Ok(set)
    }

    /// Enables `q`.
    pub fn insert(&mut self, q: Quirk) {
        self.0 |= q.bit();
    }

    /// `self` with `q` enabled.
    pub fn with(mut self, q: Quirk) -> QuirkSet {
        self.insert(q);
        self
    }

    /// Whether `q` is enabled.
    pub fn contains(&self, q: Quirk) -> bool {
        self.0 & q.bit() != 0
    }

    /// Whether no quirk is enabled.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    pub fn union(self, other: QuirkSet) -> QuirkSet {
        QuirkSet(self.0 | other.0)
    }

    /// The enabled quirks, in registry order.
    pub fn iter(&self) -> impl Iterator<Item = Quirk> + '_ {
        QUIRKS
            .iter()
            .map(|q| q.quirk)
            .filter(move |q| self.contains(*q))
    }
}

impl fmt::Debug for QuirkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Quirk::name)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        assert!(QUIRKS.len() >= 25 && QUIRKS.len() <= 64);
        for (i, q) in QUIRKS.iter().enumerate() {
            assert_eq!(Quirk::from_name(q.name), Some(q.quirk));
            assert_eq!(q.quirk.name(), q.name);
            assert!(!q.description.is_empty() && !q.breaks.is_empty());
            assert!(QUIRKS[i + 1..].iter().all(|r| r.name != q.name));
        }
    }

    #[test]
    fn set_operations() {
        let s = QuirkSet::parse(" urc-before-ok , crlf-lf-only,").unwrap();
        assert!(s.contains(Quirk::UrcBeforeOk) && s.contains(Quirk::CrlfLfOnly));
        assert!(!s.contains(Quirk::Ate0Ignored));
        assert_eq!(s.iter().count(), 2);
        assert_eq!(format!("{s:?}"), r#"{"urc-before-ok", "crlf-lf-only"}"#);
        assert!(QuirkSet::parse("").unwrap().is_empty());
        assert_eq!(
            QuirkSet::parse("x").unwrap_err(),
            UnknownQuirk("x".to_owned())
        );
    }
}
