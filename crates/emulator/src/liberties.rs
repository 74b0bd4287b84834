//! Liberties: named behaviours the manuals leave open, realised differently from the reference.
//!
//! The dual of [`crate::quirks`]. A quirk is a defect the harness must catch; a liberty is what
//! another conforming firmware may do where the manuals (`shared/seeds/000`–`004`) are silent or
//! give only an example, and the harness must *not* fail it. Each entry cites the seed text that
//! leaves the room (`room`), so the registry doubles as a list of where modules may differ.
//! Enable them with [`LibertySet::parse`] (the CLI's `--liberty NAME`), `@liberty NAME` in a
//! scenario, or `emulator:ec25+liberty:NAME` as a run target.
//!
//! ```
//! use at_emulator::liberties::{Liberty, LibertySet, LIBERTIES};
//! let set = LibertySet::parse("checksum-sum16,cgreg-roaming").unwrap();
//! assert!(set.contains(Liberty::ChecksumSum16));
//! assert!(LibertySet::parse("no-such-liberty").is_err());
//! assert!(LIBERTIES.len() >= 15);
//! ```

use core::fmt;

/// Registry entry: a liberty, its name, what it does and the seed text that allows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LibertyInfo {
    /// The liberty.
    pub liberty: Liberty,
    /// The `--liberty` name.
    pub name: &'static str,
    /// What the firmware does differently from the reference emulator, in one line.
    pub description: &'static str,
    /// The seed text (section, quote) that leaves the room, and the ERRATA entry that made the
    /// reference's choice where there is one.
    pub room: &'static str,
}

macro_rules! liberties {
    ($( $variant:ident = $name:literal : $desc:literal ; $room:literal ),+ $(,)?) => {
        /// A named behaviour the manuals leave open, realised differently from the reference.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Liberty { $( #[doc = $desc] $variant ),+ }

        /// Every liberty, in registry order.
        pub static LIBERTIES: &[LibertyInfo] = &[
            $( LibertyInfo { liberty: Liberty::$variant, name: $name, description: $desc, room: $room } ),+
        ];
    };
}

liberties! {
    ChecksumSum16 = "checksum-sum16":
        "`+QFUPL: <size>,<checksum>` is the 16-bit sum of the bytes, not the XOR of byte pairs.";
        "000 §2.2.5 prints `+QFUPL: 200,707` and 000 §3.1 `+QFUPL: 100,707` for two different files and names no algorithm (ERRATA E12)",
    CgregRoaming = "cgreg-roaming":
        "`AT+CGREG?` reports `<stat>` 5: registered, roaming.";
        "000 §4.2 item 2 asks only that the PS domain be registered (\"确保已注册 PS 域\"); 3GPP TS 27.007 <stat> 5 is registered, roaming",
    SimBusyCause = "sim-busy-cause":
        "`AT+CPIN?` while the (U)SIM is not ready answers `+CME ERROR: 14` (SIM busy) instead of 10.";
        "000 §4.1 says only that the answer is not `+CPIN: READY` (\"若未返回+CPIN: READY，表示(U)SIM 卡未就绪\"); ERRATA E25",
    MultitechCauses = "multitech-causes":
        "Multi-Tech failures other than DNS are reported with other `#CME ERROR` values (38050–38055).";
        "002 #PUTMAIL documents only `#CME ERROR: 38027` and `#CME ERROR: <value>` for the other failures (its error table is not among the sources); ERRATA E22",
    AuthLoginFirst = "auth-login-first":
        "The SMTP client prefers `AUTH LOGIN` when the server offers both PLAIN and LOGIN.";
        "000 §2.2.1 `\"account\"` gives a user name and password, no mechanism; 004 §2 walks through `AUTH LOGIN`; RFC 4954 §4 lets the client choose among those offered (ERRATA S3)",
    BodyBase64 = "body-base64":
        "The body part is always `Content-Transfer-Encoding: base64`, even for 7-bit text.";
        "000 §2.2.4 gives the body's `<charset>` only, never how the body is encoded in the mail (ERRATA M1: the note never says what the body looks like)",
    MultipartAlways = "multipart-always":
        "Every mail is `multipart/mixed`, even without attachments (the body is its first part).";
        "000 §2.2.4/§2.2.5 describe the body and the attachments, not the MIME structure of the mail (ERRATA M1)",
    SubjectQWords = "subject-q-words":
        "A non-ASCII subject is sent as RFC 2047 Q-encoded words instead of B-encoded ones.";
        "000 §2.2.3: `<subject>` is the hex string of the original subject; how it is carried in the header is not said (ERRATA M2 chose RFC 2047)",
    EhloName = "ehlo-name":
        "`EHLO` names the module (`ec25.module.invalid`) instead of its address literal.";
        "000 §1.1 and §2.2.7 describe the send, never the EHLO argument (ERRATA E27 chose the PDP address literal); RFC 5321 §4.1.1.1 accepts a domain or an address literal",
    PdpAddress = "pdp-address":
        "The network assigns the PDP context another address (`100.72.18.5`, context n: last octet + n−1).";
        "000 §3.1 prints `+QIACT: 1,1,1,\"10.7.157.1\"`: the address one network assigned in the example",
    AtiRevision = "ati-revision":
        "`ATI` reports another firmware revision.";
        "no seed prints ATI's answer (scenarios `[impl]`); the revision is the firmware's",
    MailHeaders = "mail-headers":
        "The mail carries `X-Mailer:`, a `+0800` `Date:`, another `Message-ID:` form, and `Subject:` before `To:`.";
        "000 §2.2.1–§2.2.5 name only the sender, recipients, subject, body and attachments of a mail, none of its other header fields nor their order (ERRATA E27)",
    AnswersWithinLimits = "answers-within-limits":
        "Responses come late but within the documented limits: 250 ms for a 300 ms limit, 1 s for the others, 1 s where none is documented.";
        "000 §2.2.1–§2.2.7 print a maximum response time (\"最大响应时间 300 毫秒\"), not a typical one; ERRATA E30",
    SlowSend = "slow-send":
        "A send takes 20 s: the `+QSMTPPUT:` URC (Multi-Tech: the final result) comes 20 s after the mail went out.";
        "000 §2.2.7: the maximum response time of `AT+QSMTPPUT` \"取决于<timeout>\" (60–65535 s); how long a send takes is the network's",
    CipherOrder = "cipher-order":
        "`\"ciphersuite\",<ctx>,0XFFFF` offers the catalog's suites strongest first (ECDHE-GCM before RSA-CBC).";
        "000 §3.2 `AT+QSSLCFG=\"ciphersuite\",1,0xffff` \"表示支持所有密码套件类型\" (all suites), in no order (ERRATA E28)",
    AttachmentTypes = "attachment-types":
        "Attachments are typed by their extension (`.txt` → `text/plain`) instead of `application/octet-stream`.";
        "000 §2.2.5 names the attachment files only; the MIME type of an attachment part is not said",
    Ag35Bodyoriginal = "ag35-bodyoriginal":
        "The AG35 accepts `AT+QSMTPCFG=\"bodyoriginal\"` as the 2020 note's modules do.";
        "001 p.9 only leaves `\"bodyoriginal\"` out of the test response; what an AG35 answers to it is not said (ERRATA E26)",
}

impl Liberty {
    /// The registry entry of this liberty.
    pub fn info(self) -> &'static LibertyInfo {
        // Every variant has exactly one entry (built by the same macro).
        LIBERTIES
            .iter()
            .find(|l| l.liberty == self)
            .unwrap_or(&LIBERTIES[0])
    }

    /// The `--liberty` name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The liberty named `name`.
    pub fn from_name(name: &str) -> Option<Liberty> {
        LIBERTIES.iter().find(|l| l.name == name).map(|l| l.liberty)
    }

    fn bit(self) -> u64 {
        let i = LIBERTIES
            .iter()
            .position(|l| l.liberty == self)
            .unwrap_or(0);
        1u64 << i
    }
}

impl fmt::Display for Liberty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A liberty name that is not in the registry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown liberty `{0}` (see `atconform emulate --list-liberties`)")]
pub struct UnknownLiberty(pub String);

/// A set of enabled liberties (empty = the reference's choices everywhere).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LibertySet(u64);

impl LibertySet {
    /// No liberty.
    pub const NONE: LibertySet = LibertySet(0);

    /// Parses comma-separated liberty names (`"checksum-sum16,cgreg-roaming"`); empty → none.
    pub fn parse(names: &str) -> Result<LibertySet, UnknownLiberty> {
        Self::from_names(names.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }

    /// The set of the named liberties; each name may itself be a comma-separated list.
    pub fn from_names<I, S>(names: I) -> Result<LibertySet, UnknownLiberty>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = LibertySet::NONE;
        for n in names {
            for n in n
                .as_ref()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                set.insert(Liberty::from_name(n).ok_or_else(|| UnknownLiberty(n.to_owned()))?);
            }
        }
        Ok(set)
    }

    /// Every liberty.
    pub fn all() -> LibertySet {
        LIBERTIES
            .iter()
            .fold(LibertySet::NONE, |s, l| s.with(l.liberty))
    }

    /// Enables `l`.
    pub fn insert(&mut self, l: Liberty) {
        self.0 |= l.bit();
    }

    /// `self` with `l` enabled.
    pub fn with(mut self, l: Liberty) -> LibertySet {
        self.insert(l);
        self
    }

    /// Whether `l` is enabled.
    pub fn contains(&self, l: Liberty) -> bool {
        self.0 & l.bit() != 0
    }

    /// Whether no liberty is enabled.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    pub fn union(self, other: LibertySet) -> LibertySet {
        LibertySet(self.0 | other.0)
    }

    /// The enabled liberties, in registry order.
    pub fn iter(&self) -> impl Iterator<Item = Liberty> + '_ {
        LIBERTIES
            .iter()
            .map(|l| l.liberty)
            .filter(move |l| self.contains(*l))
    }
}

impl fmt::Debug for LibertySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Liberty::name))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        assert!(LIBERTIES.len() >= 15 && LIBERTIES.len() <= 64);
        for (i, l) in LIBERTIES.iter().enumerate() {
            assert_eq!(Liberty::from_name(l.name), Some(l.liberty));
            assert_eq!(l.liberty.name(), l.name);
            assert!(!l.description.is_empty() && !l.room.is_empty());
            assert!(LIBERTIES[i + 1..].iter().all(|r| r.name != l.name));
            // No name is also a quirk's: `--quirk`/`--liberty` and target specs stay unambiguous.
            assert!(
                crate::quirks::Quirk::from_name(l.name).is_none(),
                "{}",
                l.name
            );
        }
    }

    #[test]
    fn every_room_cites_a_seed() {
        for l in LIBERTIES {
            let cites = ["000 §", "001 p.", "002 #", "003", "004 §", "no seed"]
                .iter()
                .any(|c| l.room.contains(c));
            assert!(cites, "{}: {}", l.name, l.room);
        }
    }

    #[test]
    fn set_operations() {
        let s = LibertySet::parse(" checksum-sum16 , cgreg-roaming,").unwrap();
        assert!(s.contains(Liberty::ChecksumSum16) && s.contains(Liberty::CgregRoaming));
        assert!(!s.contains(Liberty::BodyBase64));
        assert_eq!(s.iter().count(), 2);
        assert_eq!(format!("{s:?}"), r#"{"checksum-sum16", "cgreg-roaming"}"#);
        assert!(LibertySet::parse("").unwrap().is_empty());
        assert_eq!(
            LibertySet::from_names(["body-base64,ehlo-name", "slow-send"])
                .unwrap()
                .iter()
                .count(),
            3
        );
        assert_eq!(
            LibertySet::parse("x").unwrap_err(),
            UnknownLiberty("x".to_owned())
        );
        assert_eq!(LibertySet::all().iter().count(), LIBERTIES.len());
    }
}
