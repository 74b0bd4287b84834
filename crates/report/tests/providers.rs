//! The module × provider matrix on the emulator and the capture sink's provider profiles.

use std::sync::atomic::AtomicBool;

use at_report::providers::ProviderMatrix;
use at_runner::matrices::{PROVIDERS, run_providers};
use at_scenario::Profile;

use crate::common::corpus;

#[test]
fn module_by_provider_matrix() {
    let runs = run_providers(
        &[Profile::Ec25, Profile::Ag35, Profile::Multitech],
        &PROVIDERS,
        &corpus(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let m = ProviderMatrix::from_runs(&runs);
    println!("{}", m.to_text());
    assert_eq!(m.cells.len(), 9);
    // The permissive sink takes every send example of every manual.
    for module in ["ec25", "ag35", "multitech"] {
        let c = m.cell(module, "permissive").unwrap();
        assert!(c.attempts.iter().all(|a| a.delivered), "{c:?}");
        assert!(c.attempts.iter().all(|a| a.why.is_empty()));
    }
    // rfc5321 takes TLS 1.2+ (RFC 8996, ERRATA S2): the SSL and STARTTLS examples configure
    // TLS 1.0 ("sslversion",1,1, ERRATA E28), so only plain text delivers there.
    for module in ["ec25", "ag35"] {
        for a in &m.cell(module, "rfc5321").unwrap().attempts {
            if a.variant == "plain" {
                assert!(a.delivered, "{a:?}");
            } else {
                assert_eq!(a.result, "+QSMTPPUT: 665,0", "{a:?}");
                assert!(a.why.contains("unsupported protocol"), "{a:?}");
                assert!(a.why.contains("ERRATA S2, E28"), "{a:?}");
            }
        }
    }
    assert!(m.cell("multitech", "rfc5321").unwrap().delivers());
    // 003: Tencent Cloud SES takes implicit TLS on 465 only, so the plain and STARTTLS
    // examples of 000 §3.1/§3.3 (port 25/587) cannot deliver there; the module reports why.
    let ses = m.cell("ec25", "tencent-ses").unwrap();
    for a in &ses.attempts {
        if a.variant != "ssl" {
            assert!(!a.delivered, "{a:?}");
            assert!(
                a.result.starts_with("+QSMTPPUT: ") && a.result != "+QSMTPPUT: 0,0",
                "{a:?}"
            );
            assert!(!a.why.is_empty());
        }
    }
    // 003: SES accepts text/plain only with charset UTF-8; the manual's <charset> 0 body is
    // US-ASCII, so even the SSL example is refused with 554 (000 §6 table 4 → 682).
    let ssl = ses.attempts.iter().find(|a| a.variant == "ssl").unwrap();
    assert_eq!(ssl.result, "+QSMTPPUT: 682,554", "{ssl:?}");
    assert!(ssl.why.contains("server: 554"), "{ssl:?}");
    assert!(ssl.why.contains("Content-Type must in"), "{ssl:?}");
    assert!(ssl.why.contains("ERRATA S14"), "{ssl:?}");
    // That refusal rests on the emulator's MIME composition (ERRATA M1), which the manuals
    // leave open: a module that sends multipart/mixed delivers the same example. So it is no
    // finding about the module, and the matrix says so.
    assert_eq!(ssl.grade, "implementation-defined", "{ssl:?}");
    assert!(ssl.rests_on.contains("M1"), "{ssl:?}");
    assert_eq!(ssl.delivers_with, ["multipart-always"], "{ssl:?}");
    let plain = ses.attempts.iter().find(|a| a.variant == "plain").unwrap();
    assert_eq!(plain.grade, "documented", "003 disables port 25: {plain:?}");
    assert!(plain.delivers_with.is_empty());
    let starttls = ses
        .attempts
        .iter()
        .find(|a| a.variant == "starttls")
        .unwrap();
    assert_eq!(starttls.grade, "errata", "ERRATA S1: {starttls:?}");
    for a in &m.cell("ec25", "rfc5321").unwrap().attempts {
        if !a.delivered {
            assert_eq!(a.grade, "errata", "ERRATA S2 (TLS 1.2+): {a:?}");
        }
    }
    let mt = &m.cell("multitech", "tencent-ses").unwrap().attempts[0];
    assert_eq!(mt.grade, "documented", "{mt:?}");
    // Plain and STARTTLS reach the disabled plain port: closed before the greeting (S1).
    for a in ses.attempts.iter().filter(|a| a.variant != "ssl") {
        assert_eq!(a.result, "+QSMTPPUT: 656,0", "{a:?}");
        assert!(a.why.contains("before any greeting"), "{a:?}");
        assert!(a.why.contains("ERRATA S1, S14"), "{a:?}");
    }
    let text = m.to_text();
    assert!(
        text.contains("module × provider combinations deliver"),
        "{text}"
    );
    assert!(
        text.contains(
            "11 send examples do not deliver: 3 documented, 6 rest on ERRATA readings, 2 on \
             choices the manuals leave open (a liberty delivers)"
        ),
        "{text}"
    );
    assert!(
        text.contains("delivers with liberty multipart-always]"),
        "{text}"
    );
    // The text report says why, not only which code.
    assert!(
        text.contains("ec25 × tencent-ses ssl: +QSMTPPUT: 682,554 — "),
        "{text}"
    );
    assert!(!text.contains("× permissive"), "{text}");
    let html = at_report::html::render_providers(&m, "providers");
    assert!(at_report::html::external_references(&html).is_empty());
    assert!(html.contains(">tencent-ses<"));
}
