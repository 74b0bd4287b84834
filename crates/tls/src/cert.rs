//! Certificates: the atconform test CA, the sink's generated certificates (good or faulty), and
//! PEM/DER loading.

use core::fmt;
use core::str::FromStr;
use std::sync::OnceLock;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509NameBuilder};

use crate::TlsError;

/// The atconform test CA (PEM). Its key is public (in the repository): trust it in tests only.
/// Upload it to a module as `AT+QSSLCFG="cacert"` to verify the sink at `seclevel` 1 or 2;
/// `scenarios/data/atconform-test-ca.pem` is the same file.
pub const TEST_CA_PEM: &str = include_str!("../testca/ca.pem");
const TEST_CA_KEY_PEM: &str = include_str!("../testca/ca.key");

/// A client certificate signed by the test CA (PEM), for `AT+QSSLCFG="clientcert"`.
pub const TEST_MODULE_CERT_PEM: &str = include_str!("../testca/module.pem");
/// The key of [`TEST_MODULE_CERT_PEM`] (PEM), for `AT+QSSLCFG="clientkey"`.
pub const TEST_MODULE_KEY_PEM: &str = include_str!("../testca/module.key");

/// What is wrong with the certificate the sink presents (a TLS fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertFault {
    /// Signed by the test CA, but its validity ended yesterday.
    Expired,
    /// Signed by the test CA, but valid only from a year from now.
    NotYetValid,
    /// Signed by its own key, no CA.
    SelfSigned,
    /// Signed by the test CA for `wrong-host.invalid` only (whatever name the client asked).
    WrongHost,
    /// Signed by a CA nobody was given (generated at start).
    UnknownCa,
}

impl CertFault {
    /// Every certificate fault.
    pub const ALL: [CertFault; 5] = [
        CertFault::Expired,
        CertFault::NotYetValid,
        CertFault::SelfSigned,
        CertFault::WrongHost,
        CertFault::UnknownCa,
    ];

    /// The fault's name in scripts (`expired`, `not-yet-valid`, `self-signed`, `wrong-host`,
    /// `unknown-ca`).
    pub fn name(self) -> &'static str {
        match self {
            CertFault::Expired => "expired",
            CertFault::NotYetValid => "not-yet-valid",
            CertFault::SelfSigned => "self-signed",
            CertFault::WrongHost => "wrong-host",
            CertFault::UnknownCa => "unknown-ca",
        }
    }
}

impl fmt::Display for CertFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`CertFault`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown certificate fault `{0}`")]
pub struct UnknownCertFault(pub String);

impl FromStr for CertFault {
    type Err = UnknownCertFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CertFault::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCertFault(s.to_owned()))
    }
}

/// The host name a [`CertFault::WrongHost`] certificate names.
pub const WRONG_HOST: &str = "wrong-host.invalid";

fn cfg(e: impl fmt::Display) -> TlsError {
    TlsError::Config(e.to_string())
}

/// Certificates in `bytes`: PEM (one or more) or a single DER certificate.
pub fn certificates(bytes: &[u8]) -> Result<Vec<X509>, TlsError> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let certs = X509::stack_from_pem(bytes).map_err(cfg)?;
        if certs.is_empty() {
            return Err(TlsError::Config("no certificate in the PEM data".into()));
        }
        Ok(certs)
    } else {
        Ok(vec![X509::from_der(bytes).map_err(|e| {
            TlsError::Config(format!("neither PEM nor a DER certificate: {e}"))
        })?])
    }
}

/// A private key in `bytes`: PEM (PKCS#8, PKCS#1 or SEC1) or DER.
pub fn private_key(bytes: &[u8]) -> Result<PKey<Private>, TlsError> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        PKey::private_key_from_pem(bytes).map_err(cfg)
    } else {
        PKey::private_key_from_der(bytes)
            .map_err(|e| TlsError::Config(format!("neither PEM nor a DER private key: {e}")))
    }
}

/// An RSA 2048 key, generated once per process (key generation is the slow part).
fn shared_key(slot: &'static OnceLock<PKey<Private>>) -> Result<PKey<Private>, TlsError> {
    if let Some(k) = slot.get() {
        return Ok(k.clone());
    }
    let key = Rsa::generate(2048).and_then(PKey::from_rsa).map_err(cfg)?;
    Ok(slot.get_or_init(|| key).clone())
}

fn leaf_key() -> Result<PKey<Private>, TlsError> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    shared_key(&KEY)
}

fn test_ca() -> Result<(X509, PKey<Private>), TlsError> {
    let cert = X509::from_pem(TEST_CA_PEM.as_bytes()).map_err(cfg)?;
    let key = PKey::private_key_from_pem(TEST_CA_KEY_PEM.as_bytes()).map_err(cfg)?;
    Ok((cert, key))
}

/// The "unknown CA": generated once per process, given to nobody.
fn unknown_ca() -> Result<(X509, PKey<Private>), TlsError> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    let key = shared_key(&KEY)?;
    let now = now_unix();
    let cert = build(
        "atconform unknown CA (trusted by nobody)",
        &[],
        &key,
        None,
        (now - DAY, now + 3650 * DAY),
        true,
    )?;
    Ok((cert, key))
}

const DAY: i64 = 86_400;

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn serial() -> Result<Asn1Integer, TlsError> {
    let mut bn = BigNum::new().map_err(cfg)?;
    bn.rand(63, openssl::bn::MsbOption::MAYBE_ZERO, false)
        .map_err(cfg)?;
    bn.to_asn1_integer().map_err(cfg)
}

/// Builds and signs a certificate for `key`: a CA when `ca` is true, else a server
/// certificate for `names`; signed by `issuer` (or self-signed).
fn build(
    cn: &str,
    names: &[String],
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    (from, until): (i64, i64),
    ca: bool,
) -> Result<X509, TlsError> {
    let mut name = X509NameBuilder::new().map_err(cfg)?;
    name.append_entry_by_text("O", "atconform").map_err(cfg)?;
    name.append_entry_by_text("CN", cn).map_err(cfg)?;
    let name = name.build();
    let mut b = X509::builder().map_err(cfg)?;
    b.set_version(2).map_err(cfg)?;
    let serial = serial()?;
    b.set_serial_number(&serial).map_err(cfg)?;
    b.set_subject_name(&name).map_err(cfg)?;
    b.set_issuer_name(issuer.map_or(&*name, |(c, _)| c.subject_name()))
        .map_err(cfg)?;
    b.set_pubkey(key).map_err(cfg)?;
    let (from, until) = (
        Asn1Time::from_unix(from).map_err(cfg)?,
        Asn1Time::from_unix(until).map_err(cfg)?,
    );
    b.set_not_before(&from).map_err(cfg)?;
    b.set_not_after(&until).map_err(cfg)?;
    if ca {
        b.append_extension(
            BasicConstraints::new()
                .critical()
                .ca()
                .build()
                .map_err(cfg)?,
        )
        .map_err(cfg)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .map_err(cfg)?,
        )
        .map_err(cfg)?;
    } else {
        b.append_extension(BasicConstraints::new().critical().build().map_err(cfg)?)
            .map_err(cfg)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_encipherment()
                .build()
                .map_err(cfg)?,
        )
        .map_err(cfg)?;
        b.append_extension(ExtendedKeyUsage::new().server_auth().build().map_err(cfg)?)
            .map_err(cfg)?;
        if !names.is_empty() {
            let mut san = SubjectAlternativeName::new();
            for n in names {
                if n.parse::<std::net::IpAddr>().is_ok() {
                    san.ip(n);
                } else {
                    san.dns(n);
                }
            }
            let ext = san
                .build(&b.x509v3_context(issuer.map(|(c, _)| &**c), None))
                .map_err(cfg)?;
            b.append_extension(ext).map_err(cfg)?;
        }
    }
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(None, None))
        .map_err(cfg)?;
    b.append_extension(ski).map_err(cfg)?;
    if let Some((ca_cert, _)) = issuer {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&b.x509v3_context(Some(ca_cert), None))
            .map_err(cfg)?;
        b.append_extension(aki).map_err(cfg)?;
    }
    let signer = issuer.map_or(key, |(_, k)| k);
    b.sign(signer, MessageDigest::sha256()).map_err(cfg)?;
    Ok(b.build())
}

/// A server certificate (RSA 2048, so the RSA-key-exchange suites modules use can be served)
/// for `names`, as `fault` asks: signed by the test CA unless the fault says otherwise, valid
/// from yesterday for a year unless the fault says otherwise.
pub fn server_certificate(
    names: &[String],
    fault: Option<CertFault>,
) -> Result<(X509, PKey<Private>), TlsError> {
    let key = leaf_key()?;
    let now = now_unix();
    let good = (now - DAY, now + 365 * DAY);
    let cn = names.first().map_or("atconform sink", String::as_str);
    let cert = match fault {
        None => {
            let (ca, ca_key) = test_ca()?;
            build(cn, names, &key, Some((&ca, &ca_key)), good, false)?
        }
        Some(CertFault::Expired) => {
            let (ca, ca_key) = test_ca()?;
            let dates = (now - 366 * DAY, now - DAY);
            build(cn, names, &key, Some((&ca, &ca_key)), dates, false)?
        }
        Some(CertFault::NotYetValid) => {
            let (ca, ca_key) = test_ca()?;
            let dates = (now + 365 * DAY, now + 730 * DAY);
            build(cn, names, &key, Some((&ca, &ca_key)), dates, false)?
        }
        Some(CertFault::SelfSigned) => build(cn, names, &key, None, good, false)?,
        Some(CertFault::WrongHost) => {
            let (ca, ca_key) = test_ca()?;
            let wrong = [WRONG_HOST.to_owned()];
            build(WRONG_HOST, &wrong, &key, Some((&ca, &ca_key)), good, false)?
        }
        Some(CertFault::UnknownCa) => {
            let (ca, ca_key) = unknown_ca()?;
            build(cn, names, &key, Some((&ca, &ca_key)), good, false)?
        }
    };
    Ok((cert, key))
}

/// [`server_certificate`] as PEM text (certificate, private key), for third-party servers in
/// tests and for users who want the sink's kind of certificate in files.
pub fn server_certificate_pem(
    names: &[String],
    fault: Option<CertFault>,
) -> Result<(String, String), TlsError> {
    let (cert, key) = server_certificate(names, fault)?;
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Ok((
        text(cert.to_pem().map_err(cfg)?),
        text(key.private_key_to_pem_pkcs8().map_err(cfg)?),
    ))
}

/// A certificate's subject in one line (`O=atconform, CN=atconform test module`).
pub fn subject_line(cert: &openssl::x509::X509Ref) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".to_owned());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509StoreContext, X509VerifyResult};

    fn verify(cert: &X509, host: &str) -> X509VerifyResult {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(test_ca().unwrap().0).unwrap();
        let mut p = openssl::x509::verify::X509VerifyParam::new().unwrap();
        p.set_host(host).unwrap();
        store.set_param(&p).unwrap();
        let store = store.build();
        let mut ctx = X509StoreContext::new().unwrap();
        let chain = Stack::new().unwrap();
        ctx.init(&store, cert, &chain, |c| {
            c.verify_cert()?;
            Ok(c.error())
        })
        .unwrap()
    }

    #[test]
    fn each_fault_fails_verification_for_its_own_reason() {
        let names = vec!["smtp.163.com".to_owned(), "127.0.0.1".to_owned()];
        let (good, _) = server_certificate(&names, None).unwrap();
        assert_eq!(verify(&good, "smtp.163.com"), X509VerifyResult::OK);
        let reason = |f| {
            let (c, _) = server_certificate(&names, Some(f)).unwrap();
            verify(&c, "smtp.163.com").error_string()
        };
        assert_eq!(reason(CertFault::Expired), "certificate has expired");
        assert_eq!(
            reason(CertFault::NotYetValid),
            "certificate is not yet valid"
        );
        assert_eq!(reason(CertFault::SelfSigned), "self-signed certificate");
        assert_eq!(reason(CertFault::WrongHost), "hostname mismatch");
        assert_eq!(
            reason(CertFault::UnknownCa),
            "unable to get local issuer certificate"
        );
    }

    #[test]
    fn the_test_module_certificate_is_signed_by_the_test_ca() {
        let module = X509::from_pem(TEST_MODULE_CERT_PEM.as_bytes()).unwrap();
        let key = private_key(TEST_MODULE_KEY_PEM.as_bytes()).unwrap();
        assert!(module.public_key().unwrap().public_eq(&key));
        let (ca, _) = test_ca().unwrap();
        assert!(module.verify(&ca.public_key().unwrap()).unwrap());
        assert_eq!(
            subject_line(&module),
            "CN=atconform test module, O=atconform"
        );
        assert_eq!(certificates(&module.to_der().unwrap()).unwrap().len(), 1);
        assert!(certificates(b"garbage").is_err());
    }
}
