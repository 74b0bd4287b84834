//! The TLS matrix (`atconform report tls`): sslversion × provider on the emulator, with what the
//! sink negotiated.

use std::sync::atomic::AtomicBool;

use at_report::tls::TlsMatrix;
use at_runner::matrices::{PROVIDERS, run_tls};
use at_scenario::Profile;

use crate::common::corpus;

#[test]
fn sslversion_by_provider() {
    let runs = run_tls(
        &[Profile::Ec25],
        &PROVIDERS,
        &corpus(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let m = TlsMatrix::from_runs(&runs);
    println!("{}", m.to_text());
    assert_eq!(m.cells.len(), 2 * 5 * 3);
    let cell = |variant, v, p| m.cell("ec25", variant, v, p).unwrap();
    let version = |variant, v, p| {
        cell(variant, v, p)
            .negotiated
            .as_deref()
            .and_then(|n| n.split(' ').next())
            .map(str::to_owned)
    };
    for variant in ["ssl", "starttls"] {
        // 000 §3.2/§3.3 with the permissive sink: TLS 1.0 really negotiated, and each value
        // its own version; 4 (all of SSL 3.0–TLS 1.2) settles on TLS 1.2.
        for (v, want) in [(1, "TLSv1"), (2, "TLSv1.1"), (3, "TLSv1.2"), (4, "TLSv1.2")] {
            assert_eq!(
                version(variant, v, "permissive").as_deref(),
                Some(want),
                "{v}"
            );
            assert_eq!(cell(variant, v, "permissive").result, "+QSMTPPUT: 0,0");
        }
        // SSL 3.0 is not in the system library: nothing to offer, 665 (ERRATA E28).
        for p in ["permissive", "rfc5321"] {
            assert_eq!(cell(variant, 0, p).result, "+QSMTPPUT: 665,0", "{p}");
            assert_eq!(cell(variant, 0, p).negotiated, None);
        }
        // rfc5321 takes TLS 1.2+ only (ERRATA S2): TLS 1.0 and 1.1 modules fail the handshake.
        for v in [1, 2] {
            let c = cell(variant, v, "rfc5321");
            assert_eq!(c.result, "+QSMTPPUT: 665,0");
            assert!(
                c.tls_error.as_deref().unwrap().contains("client offered"),
                "{c:?}"
            );
        }
        assert_eq!(version(variant, 3, "rfc5321").as_deref(), Some("TLSv1.2"));
    }
    // tencent-ses: 003's ssl_protocols include TLSv1, so the handshake succeeds at every value
    // but 0; the mail is then refused for its charset (ERRATA S14). STARTTLS meets the closed
    // plain port (S1).
    for v in 1..=4 {
        let c = cell("ssl", v, "tencent-ses");
        assert_eq!(c.result, "+QSMTPPUT: 682,554", "{c:?}");
        assert!(c.negotiated.is_some(), "{c:?}");
        assert_eq!(
            cell("starttls", v, "tencent-ses").result,
            "+QSMTPPUT: 656,0"
        );
    }
    assert_eq!(version("ssl", 1, "tencent-ses").as_deref(), Some("TLSv1"));
    let text = m.to_text();
    assert!(text.contains("ec25 ssl sslversion 1 (TLS 1.0)"), "{text}");
}
