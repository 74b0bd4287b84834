//! Reading what a client offers: the ClientHello, parsed before the library sees it, so the sink
//! can record the offer (even when the handshake then fails) and answer TLS faults itself.

use core::fmt;

use crate::Version;

/// The most ClientHello bytes read before giving up on parsing (a hello is a few hundred bytes;
/// TLS allows 2^24, which a sink need not buffer).
pub const MAX_HELLO: usize = 64 * 1024;

/// What a ClientHello offered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ClientHello {
    /// The record layer's version (`0x0301` for most clients).
    pub record_version: u16,
    /// `legacy_version`: the highest version for a client without `supported_versions`.
    pub legacy_version: u16,
    /// The `supported_versions` extension (RFC 8446 §4.2.1), known versions only, in the
    /// client's order; `None` when absent (then the client offers up to `legacy_version`).
    pub supported_versions: Option<Vec<Version>>,
    /// Cipher suite numbers in the client's order, signalling values (GREASE, `0x00FF`,
    /// `0x5600`) left out.
    pub suites: Vec<u16>,
    /// The `server_name` extension's host name.
    pub sni: Option<String>,
}

impl ClientHello {
    /// The versions offered: `supported_versions`, or every version up to `legacy_version`
    /// (the lower end of such an offer is not on the wire: shown from SSL 3.0).
    pub fn offered_versions(&self) -> Vec<Version> {
        match &self.supported_versions {
            Some(v) => v.clone(),
            None => Version::ALL
                .into_iter()
                .filter(|v| v.wire() <= self.legacy_version)
                .collect(),
        }
    }

    /// The highest version offered.
    pub fn max_version(&self) -> Option<Version> {
        self.offered_versions().into_iter().max()
    }
}

impl fmt::Display for ClientHello {
    /// `versions TLSv1 suites 0x0035,0x002F sni smtp.163.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("versions ")?;
        match &self.supported_versions {
            Some(v) => {
                let names: Vec<_> = v.iter().map(|v| v.name()).collect();
                f.write_str(&names.join(","))?;
            }
            None => match Version::from_wire(self.legacy_version) {
                Some(v) => write!(f, "up to {v}")?,
                None => write!(f, "up to 0x{:04X}", self.legacy_version)?,
            },
        }
        let ids: Vec<_> = self.suites.iter().map(|id| format!("0x{id:04X}")).collect();
        write!(f, " suites {}", ids.join(","))?;
        if let Some(sni) = &self.sni {
            write!(f, " sni {sni}")?;
        }
        Ok(())
    }
}

/// Whether `v` is a GREASE value (RFC 8701) or a signalling suite, not a real offer.
fn signalling(v: u16) -> bool {
    (v & 0x0F0F == 0x0A0A && v >> 8 == v & 0xFF) || v == 0x00FF || v == 0x5600
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
    fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(
            usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?),
        )
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

/// Where the bytes read so far stand.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// More bytes are needed.
    Incomplete,
    /// The first record is not a TLS handshake record (or the hello is malformed or too big):
    /// let the library deal with it.
    NotAHello,
    /// A complete ClientHello.
    Hello(ClientHello),
}

/// Parses the ClientHello at the start of `bytes` (the raw stream from the client: records,
/// possibly several for one hello). Never panics; looks at most at [`MAX_HELLO`] bytes.
pub fn parse(bytes: &[u8]) -> Progress {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    let mut record_version = None;
    loop {
        if rest.len() < 5 {
            return Progress::Incomplete;
        }
        let mut r = Reader(rest);
        let (Some(kind), Some(version), Some(len)) = (r.u8(), r.u16(), r.u16()) else {
            return Progress::Incomplete;
        };
        if kind != 22 || version >> 8 != 3 || len == 0 || usize::from(len) > 16384 + 2048 {
            return Progress::NotAHello;
        }
        record_version.get_or_insert(version);
        let Some(body) = r.take(usize::from(len)) else {
            return Progress::Incomplete;
        };
        handshake.extend_from_slice(body);
        rest = r.0;
        if handshake.len() >= 4 {
            let mut h = Reader(&handshake);
            let (Some(msg), Some(msg_len)) = (h.u8(), h.u24()) else {
                return Progress::NotAHello;
            };
            if msg != 1 || msg_len > MAX_HELLO {
                return Progress::NotAHello;
            }
            if h.0.len() >= msg_len {
                let body = h.0.get(..msg_len).unwrap_or_default();
                return match hello_body(body, record_version.unwrap_or(0)) {
                    Some(hello) => Progress::Hello(hello),
                    None => Progress::NotAHello,
                };
            }
        }
        if bytes.len() - rest.len() > MAX_HELLO {
            return Progress::NotAHello;
        }
    }
}

fn hello_body(body: &[u8], record_version: u16) -> Option<ClientHello> {
    let mut r = Reader(body);
    let legacy_version = r.u16()?;
    r.take(32)?; // random
    r.vec8()?; // legacy_session_id
    let mut suites_r = Reader(r.vec16()?);
    let mut suites = Vec::new();
    while let Some(id) = suites_r.u16() {
        if !signalling(id) {
            suites.push(id);
        }
    }
    r.vec8()?; // compression methods
    let mut hello = ClientHello {
        record_version,
        legacy_version,
        supported_versions: None,
        suites,
        sni: None,
    };
    let Some(exts) = r.vec16() else {
        return Some(hello); // SSL 3.0-style hello without extensions
    };
    let mut exts = Reader(exts);
    while let Some(kind) = exts.u16() {
        let mut data = Reader(exts.vec16()?);
        match kind {
            0 => {
                // server_name: list of (type, name); type 0 = host_name.
                let mut list = Reader(data.vec16()?);
                while let Some(t) = list.u8() {
                    let name = list.vec16()?;
                    if t == 0 {
                        hello.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            43 => {
                let mut list = Reader(data.vec8()?);
                let mut versions = Vec::new();
                while let Some(v) = list.u16() {
                    versions.extend(Version::from_wire(v));
                }
                hello.supported_versions = Some(versions);
            }
            _ => {}
        }
    }
    Some(hello)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.0 ClientHello as `openssl s_client -tls1 -cipher AES128-SHA` sends it, reduced.
    fn hello(version: u16, suites: &[u16], sni: Option<&str>, sv: Option<&[u16]>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&version.to_be_bytes());
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
        for s in suites {
            b.extend_from_slice(&s.to_be_bytes());
        }
        b.extend_from_slice(&[1, 0]);
        let mut exts = Vec::new();
        if let Some(name) = sni {
            let mut list = vec![0];
            list.extend_from_slice(&(name.len() as u16).to_be_bytes());
            list.extend_from_slice(name.as_bytes());
            let mut data = (list.len() as u16).to_be_bytes().to_vec();
            data.extend(list);
            exts.extend_from_slice(&0u16.to_be_bytes());
            exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
            exts.extend(data);
        }
        if let Some(sv) = sv {
            let mut data = vec![(sv.len() * 2) as u8];
            for v in sv {
                data.extend_from_slice(&v.to_be_bytes());
            }
            exts.extend_from_slice(&43u16.to_be_bytes());
            exts.extend_from_slice(&(data.len() as u16).to_be_bytes());
            exts.extend(data);
        }
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend(exts);
        let mut hs = vec![1];
        hs.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        hs.extend(b);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn parses_versions_suites_and_sni_in_any_chunking() {
        let bytes = hello(0x0301, &[0x002F, 0x00FF], Some("smtp.163.com"), None);
        for cut in 0..bytes.len() {
            assert_eq!(parse(&bytes[..cut]), Progress::Incomplete, "cut at {cut}");
        }
        let Progress::Hello(h) = parse(&bytes) else {
            panic!("no hello")
        };
        assert_eq!(h.suites, [0x002F]);
        assert_eq!(h.sni.as_deref(), Some("smtp.163.com"));
        assert_eq!(h.max_version(), Some(Version::Tls10));
        assert_eq!(
            h.to_string(),
            "versions up to TLSv1 suites 0x002F sni smtp.163.com"
        );

        let bytes = hello(
            0x0303,
            &[0x1A1A, 0x1301],
            None,
            Some(&[0x3A3A, 0x0304, 0x0303]),
        );
        let Progress::Hello(h) = parse(&bytes) else {
            panic!("no hello")
        };
        assert_eq!(h.suites, [0x1301]);
        assert_eq!(h.offered_versions(), [Version::Tls13, Version::Tls12]);
        assert_eq!(h.to_string(), "versions TLSv1.3,TLSv1.2 suites 0x1301");
    }

    #[test]
    fn anything_else_is_not_a_hello() {
        assert_eq!(parse(b"EHLO client.example\r\n"), Progress::NotAHello);
        assert_eq!(parse(&[22, 3, 1, 0, 0]), Progress::NotAHello);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse(&bytes);
            let mut framed = vec![22, 3, 1];
            framed.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            framed.extend(&bytes);
            let _ = parse(&framed);
        }
    }
}
