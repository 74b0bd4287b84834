//! Client against server, both through `at_tls`, over an in-memory pipe: what is negotiated,
//! and how each refusal looks from both ends.

use at_tls::{
    AcceptError, Acceptor, CertFault, Ciphers, ClientSettings, HandshakeFault, Identity,
    Negotiated, ServerSettings, TlsError, Verify, Version, Versions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn server() -> ServerSettings {
    ServerSettings::generated(vec!["localhost".into(), "127.0.0.1".into()])
}

/// A module as `AT+QSSLCFG` configures it: one version (or all), suites by number.
fn module(versions: Versions, ids: &[u16]) -> ClientSettings {
    ClientSettings {
        versions,
        ciphers: Ciphers::from_ids(ids),
        ..ClientSettings::default()
    }
}

fn verifying(mut c: ClientSettings) -> ClientSettings {
    c.verify = Verify::Chain {
        anchors: vec![at_tls::TEST_CA_PEM.as_bytes().to_vec()],
        check_host: true,
    };
    c
}

/// Runs both handshakes; on success exchanges one line each way.
fn run(
    client: &ClientSettings,
    name: &str,
    server: ServerSettings,
) -> (
    Result<Negotiated, TlsError>,
    Result<Negotiated, AcceptError>,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let acceptor = Acceptor::new(server).expect("server settings");
        let (a, b) = tokio::io::duplex(64 * 1024);
        let srv = async move {
            let mut s = acceptor.accept(b).await?;
            let mut line = [0u8; 6];
            s.read_exact(&mut line).await.expect("server read");
            assert_eq!(&line, b"EHLO\r\n");
            s.write_all(b"250 ok\r\n").await.expect("server write");
            s.flush().await.expect("flush");
            Ok(s.negotiated().clone())
        };
        let cli = async move {
            let mut s = at_tls::connect(client, name, a).await?;
            s.write_all(b"EHLO\r\n").await.expect("client write");
            let mut line = [0u8; 8];
            s.read_exact(&mut line).await.expect("client read");
            assert_eq!(&line, b"250 ok\r\n");
            Ok(s.negotiated().clone())
        };
        tokio::join!(cli, srv)
    })
}

const CATALOG: [u16; 8] = [
    0x0035, 0x002F, 0x0005, 0x0004, 0x000A, 0x003D, 0xC02F, 0xC030,
];

#[test]
fn tls10_with_a_catalog_suite_is_really_negotiated() {
    let (c, s) = run(
        &module(Versions::only(Version::Tls10), &[0x002F]),
        "localhost",
        server(),
    );
    let c = c.expect("client");
    let s = s.expect("server");
    assert_eq!(c.version, Version::Tls10);
    assert_eq!(c.suite_id, 0x002F);
    assert_eq!(c.suite, "TLS_RSA_WITH_AES_128_CBC_SHA");
    assert_eq!(c.openssl_name, "AES128-SHA");
    assert_eq!((s.version, s.suite_id), (Version::Tls10, 0x002F));
    assert_eq!(s.sni.as_deref(), Some("localhost"));
    let offered = s.offered.expect("offer recorded");
    assert_eq!(offered.max_version(), Some(Version::Tls10));
    assert_eq!(offered.suites, [0x002F]);
}

#[test]
fn every_version_with_every_implemented_catalog_suite() {
    for v in [Version::Tls10, Version::Tls11, Version::Tls12] {
        let (c, _) = run(&module(Versions::only(v), &CATALOG), "localhost", server());
        let c = c.unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(c.version, v);
        // The client's order decides: 0x0035 (AES256-SHA) comes first in the catalog.
        assert_eq!(c.suite_id, 0x0035, "{v}");
    }
    // TLS 1.2-only suites need TLS 1.2.
    let (c, _) = run(
        &module(Versions::only(Version::Tls10), &[0xC030]),
        "localhost",
        server(),
    );
    assert!(matches!(c, Err(TlsError::NothingToOffer(_))), "{c:?}");
    let (c, _) = run(
        &module(Versions::only(Version::Tls12), &[0xC030]),
        "localhost",
        server(),
    );
    assert_eq!(c.unwrap().suite, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
}

#[test]
fn what_the_library_lacks_offers_nothing() {
    // RC4 and 3DES are compiled out of the system OpenSSL 3; so is SSL 3.0.
    for ids in [&[0x0005u16][..], &[0x0004], &[0x000A]] {
        let (c, s) = run(
            &module(Versions::only(Version::Tls12), ids),
            "localhost",
            server(),
        );
        assert!(
            matches!(c, Err(TlsError::NothingToOffer(_))),
            "{ids:?}: {c:?}"
        );
        assert_eq!(s.unwrap_err().error, TlsError::Closed);
    }
    let (c, _) = run(
        &module(Versions::only(Version::Ssl3), &CATALOG),
        "localhost",
        server(),
    );
    assert!(matches!(c, Err(TlsError::NothingToOffer(_))), "{c:?}");
}

#[test]
fn a_version_the_server_lacks_fails_on_both_ends() {
    let mut s12 = server();
    s12.versions = Versions::only(Version::Tls12);
    let (c, s) = run(
        &module(Versions::only(Version::Tls10), &CATALOG),
        "localhost",
        s12.clone(),
    );
    let Err(TlsError::Handshake(why)) = c else {
        panic!("{c:?}")
    };
    assert!(why.contains("protocol version"), "{why}");
    let s = s.unwrap_err();
    assert_eq!(s.offered.unwrap().max_version(), Some(Version::Tls10));
    // ... and the reverse: a TLS 1.2 module against a TLS 1.0 server.
    let mut s10 = server();
    s10.versions = Versions::only(Version::Tls10);
    let (c, _) = run(
        &module(Versions::only(Version::Tls12), &CATALOG),
        "localhost",
        s10,
    );
    assert!(matches!(c, Err(TlsError::Handshake(_))), "{c:?}");
}

#[test]
fn a_suite_the_server_lacks_fails() {
    let mut s = server();
    s.ciphers = Ciphers::parse("AES256-SHA").unwrap();
    let (c, _) = run(
        &module(Versions::only(Version::Tls12), &[0x002F]),
        "localhost",
        s.clone(),
    );
    let Err(TlsError::Handshake(why)) = c else {
        panic!("{c:?}")
    };
    assert!(why.contains("handshake failure"), "{why}");
    let (c, _) = run(
        &module(Versions::only(Version::Tls12), &[0x0035]),
        "localhost",
        s,
    );
    assert_eq!(c.unwrap().suite_id, 0x0035);
}

#[test]
fn verification_passes_for_the_test_ca_and_names_each_certificate_fault() {
    let client = verifying(module(
        Versions::range(Version::Tls10, Version::Tls12),
        &CATALOG,
    ));
    // SNI: the sink makes a certificate for the name asked.
    let (c, _) = run(&client, "smtp.163.com", server());
    assert_eq!(c.expect("good certificate").version, Version::Tls12);
    for (fault, reason) in [
        (CertFault::Expired, "certificate has expired"),
        (CertFault::NotYetValid, "certificate is not yet valid"),
        (CertFault::SelfSigned, "self-signed certificate"),
        (CertFault::WrongHost, "hostname mismatch"),
        (
            CertFault::UnknownCa,
            "unable to get local issuer certificate",
        ),
    ] {
        let mut s = server();
        s.cert_fault = Some(fault);
        let (c, srv) = run(&client, "smtp.163.com", s.clone());
        assert_eq!(c, Err(TlsError::Verify(reason.into())), "{fault}");
        assert!(srv.is_err(), "{fault}");
        // seclevel 0 does not look.
        let (c, _) = run(
            &module(Versions::range(Version::Tls10, Version::Tls12), &CATALOG),
            "smtp.163.com",
            s,
        );
        assert!(c.is_ok(), "{fault}: {c:?}");
    }
    // No trust anchor at all: nothing verifies.
    let mut none = client.clone();
    none.verify = Verify::Chain {
        anchors: Vec::new(),
        check_host: true,
    };
    let (c, _) = run(&none, "smtp.163.com", server());
    assert!(matches!(c, Err(TlsError::Verify(_))), "{c:?}");
}

#[test]
fn a_demanded_client_certificate() {
    let mut s = server();
    s.require_client_cert = true;
    let m = module(Versions::only(Version::Tls12), &CATALOG);
    let (c, srv) = run(&m, "localhost", s.clone());
    assert!(matches!(c, Err(TlsError::Handshake(_))), "{c:?}");
    assert!(srv.is_err());
    let mut with = m.clone();
    with.identity = Some(Identity::new(
        at_tls::TEST_MODULE_CERT_PEM.as_bytes().to_vec(),
        at_tls::TEST_MODULE_KEY_PEM.as_bytes().to_vec(),
    ));
    let (c, srv) = run(&with, "localhost", s);
    assert!(c.is_ok(), "{c:?}");
    assert_eq!(
        srv.unwrap().peer_certificate.as_deref(),
        Some("CN=atconform test module, O=atconform")
    );
    assert!(!format!("{with:?}").contains("PRIVATE KEY"));
}

#[test]
fn handshake_faults() {
    let m = module(Versions::range(Version::Tls10, Version::Tls12), &CATALOG);
    for (fault, client_sees) in [
        (HandshakeFault::Abort, None),
        (HandshakeFault::VersionMismatch, Some("protocol version")),
        (HandshakeFault::SuiteMismatch, Some("handshake failure")),
    ] {
        let mut s = server();
        s.handshake_fault = Some(fault);
        let (c, srv) = run(&m, "localhost", s);
        match (client_sees, c) {
            (None, c) => assert_eq!(c, Err(TlsError::Closed), "{fault}"),
            (Some(alert), Err(TlsError::Handshake(why))) => {
                assert!(why.contains(alert), "{fault}: {why}");
            }
            (_, c) => panic!("{fault}: {c:?}"),
        }
        let srv = srv.unwrap_err();
        assert!(matches!(srv.error, TlsError::Fault(_)), "{fault}");
        assert_eq!(
            srv.offered.unwrap().suites.len(),
            5,
            "{fault}: the offer is recorded"
        );
    }
}

#[test]
fn the_scenarios_upload_the_same_test_pki() {
    // scenarios/data holds copies for AT+QFUPL (`@data file(...)`); testca/make.sh writes both.
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/data");
    for (file, text) in [
        ("atconform-test-ca.pem", at_tls::TEST_CA_PEM),
        ("atconform-test-module.pem", at_tls::TEST_MODULE_CERT_PEM),
        ("atconform-test-module.key", at_tls::TEST_MODULE_KEY_PEM),
    ] {
        let copy = std::fs::read_to_string(data.join(file)).expect(file);
        assert_eq!(copy, text, "{file} differs from crates/tls/testca");
    }
}
