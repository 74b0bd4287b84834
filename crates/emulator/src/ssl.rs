//! The module's SSL contexts (`AT+QSSLCFG`, 000 §3.2/§3.3, SSL manual \[8\]) and what a delivery
//! offers and checks because of them (ERRATA E28).

use at_tls::{Ciphers, ClientSettings, Identity, Verify, Version, Versions};

use crate::fs::{self, Fs};

/// One SSL context: the values `AT+QSSLCFG` sets, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SslCtx {
    pub(crate) ciphersuite: u16,
    pub(crate) seclevel: u8,
    pub(crate) sslversion: u8,
    pub(crate) cacert: Vec<u8>,
    pub(crate) clientcert: Vec<u8>,
    pub(crate) clientkey: Vec<u8>,
}

impl Default for SslCtx {
    /// Power-on values: all suites (`0XFFFF`), no verification, all versions (the catalog's
    /// defaults), no certificate files.
    fn default() -> Self {
        let default = |name: &str| {
            at_catalog::command("+QSSLCFG")
                .and_then(|c| c.setting(name))
                .and_then(|s| s.params.get(1))
                .and_then(|p| p.default)
                .unwrap_or(0)
        };
        SslCtx {
            ciphersuite: u16::try_from(default("ciphersuite")).unwrap_or(0xFFFF),
            seclevel: u8::try_from(default("seclevel")).unwrap_or(0),
            sslversion: u8::try_from(default("sslversion")).unwrap_or(4),
            cacert: Vec::new(),
            clientcert: Vec::new(),
            clientkey: Vec::new(),
        }
    }
}

/// `0XFFFF`: "支持所有密码套件类型" (000 §3.2).
pub(crate) const ALL_SUITES: u16 = 0xFFFF;

/// The suites of the catalog's `AT+QSSLCFG="ciphersuite"` test line, in its order, without
/// `0XFFFF`.
pub(crate) fn catalog_suites() -> Vec<u16> {
    let line = at_catalog::command("+QSSLCFG")
        .and_then(|c| c.setting("ciphersuite"))
        .map_or("", |s| s.test_line);
    let list = line
        .rsplit_once('(')
        .map_or("", |(_, l)| l.trim_end_matches(')'));
    list.split(',')
        .filter_map(at_tls::suite::parse_id)
        .filter(|&id| id != ALL_SUITES)
        .collect()
}

impl SslCtx {
    /// The versions `"sslversion"` allows: 0 SSL 3.0, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2, 4 all of
    /// those (ERRATA E28: no value names TLS 1.3, so none offers it).
    pub(crate) fn versions(&self) -> Versions {
        match self.sslversion {
            0 => Versions::only(Version::Ssl3),
            1 => Versions::only(Version::Tls10),
            2 => Versions::only(Version::Tls11),
            3 => Versions::only(Version::Tls12),
            _ => Versions::range(Version::Ssl3, Version::Tls12),
        }
    }

    /// The suites `"ciphersuite"` allows, in the order offered: one of the catalog's, or all
    /// of them for `0XFFFF` (a number outside the list offers nothing).
    pub(crate) fn suites(&self) -> Vec<u16> {
        if self.ciphersuite == ALL_SUITES {
            catalog_suites()
        } else {
            vec![self.ciphersuite]
        }
    }

    /// [`suites`](Self::suites) with `0XFFFF`'s list strongest first (liberty `cipher-order`:
    /// 000 §3.2 gives no order): the TLS 1.2 AEAD suites, then the others, each group reversed.
    pub(crate) fn suites_strongest_first(&self) -> Vec<u16> {
        if self.ciphersuite == ALL_SUITES {
            let (mut aead, mut rest): (Vec<u16>, Vec<u16>) =
                catalog_suites().into_iter().partition(|id| *id >= 0xC000);
            aead.reverse();
            rest.reverse();
            aead.extend(rest);
            aead
        } else {
            vec![self.ciphersuite]
        }
    }

    /// What a delivery through this context offers and checks. Files come from the module's
    /// file system as they are at `AT+QSMTPPUT`; a missing `"cacert"` leaves nothing to verify
    /// against (the handshake then fails), a missing client certificate or key sends none.
    pub(crate) fn client_settings(&self, files: &Fs, strongest_first: bool) -> ClientSettings {
        let read = |path: &[u8]| -> Option<Vec<u8>> {
            let (drive, name) = fs::split_name(path)?;
            files.get(drive, &name).cloned()
        };
        let verify = if self.seclevel == 0 {
            Verify::Nothing
        } else {
            Verify::Chain {
                anchors: read(&self.cacert).into_iter().collect(),
                check_host: true,
            }
        };
        let identity = if self.seclevel == 2 {
            read(&self.clientcert)
                .zip(read(&self.clientkey))
                .map(|(cert, key)| Identity::new(cert, key))
        } else {
            None
        };
        ClientSettings {
            versions: self.versions(),
            ciphers: Ciphers::from_ids(&if strongest_first {
                self.suites_strongest_first()
            } else {
                self.suites()
            }),
            verify,
            identity,
            sni: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_suites_are_the_test_line_s() {
        assert_eq!(
            catalog_suites(),
            [
                0x0035, 0x002F, 0x0005, 0x0004, 0x000A, 0x003D, 0xC02F, 0xC030
            ]
        );
        let ctx = SslCtx::default();
        assert_eq!(
            (ctx.ciphersuite, ctx.seclevel, ctx.sslversion),
            (0xFFFF, 0, 4)
        );
        assert_eq!(ctx.versions().to_string(), "SSLv3,TLSv1,TLSv1.1,TLSv1.2");
        let one = SslCtx {
            sslversion: 1,
            ciphersuite: 0x002F,
            ..SslCtx::default()
        };
        let s = one.client_settings(&Fs::default(), false);
        assert_eq!(s.versions.to_string(), "TLSv1");
        assert_eq!(s.ciphers.tls12, "AES128-SHA");
        assert_eq!(s.verify, Verify::Nothing);
    }

    #[test]
    fn seclevels_read_the_certificate_files() {
        let mut files = Fs::default();
        files.put(fs::Drive::Ufs, "ca.pem".into(), b"CA".to_vec());
        files.put(fs::Drive::Ram, "c.pem".into(), b"CERT".to_vec());
        files.put(fs::Drive::Ram, "c.key".into(), b"KEY".to_vec());
        let mut ctx = SslCtx {
            seclevel: 1,
            cacert: b"UFS:ca.pem".to_vec(),
            clientcert: b"RAM:c.pem".to_vec(),
            clientkey: b"RAM:c.key".to_vec(),
            ..SslCtx::default()
        };
        let s = ctx.client_settings(&files, false);
        assert_eq!(
            s.verify,
            Verify::Chain {
                anchors: vec![b"CA".to_vec()],
                check_host: true
            }
        );
        assert!(
            s.identity.is_none(),
            "seclevel 1 sends no client certificate"
        );
        ctx.seclevel = 2;
        let s = ctx.client_settings(&files, false);
        assert_eq!(s.identity.map(|i| i.cert), Some(b"CERT".to_vec()));
        ctx.cacert = b"missing.pem".to_vec();
        let s = ctx.client_settings(&files, false);
        assert_eq!(
            s.verify,
            Verify::Chain {
                anchors: Vec::new(),
                check_host: true
            }
        );
    }
}
