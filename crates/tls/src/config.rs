//! Settings both sides share: versions and suites, with the security level lowered only where
//! a legacy version asks for it.

use openssl::ssl::{SslContextBuilder, SslOptions};

use crate::{Ciphers, TlsError, Version, Versions};

/// Restricts `b` to `versions` and `ciphers`. OpenSSL 3 refuses TLS 1.0/1.1 handshakes above
/// security level 0 (their signatures use MD5/SHA-1), so the level is lowered to 0 exactly when
/// a legacy version is in the set (or the list says `@SECLEVEL=` itself). Versions for which
/// the library implements none of the suites are dropped; nothing left is
/// [`TlsError::NothingToOffer`].
pub(crate) fn versions_and_ciphers(
    b: &mut SslContextBuilder,
    versions: Versions,
    ciphers: &Ciphers,
) -> Result<(), TlsError> {
    let cfg = |e: openssl::error::ErrorStack| TlsError::Config(e.to_string());
    if versions.has_legacy() && !ciphers.sets_seclevel() {
        b.set_security_level(0);
    }
    let tls12_ok = !ciphers.tls12.is_empty() && b.set_cipher_list(&ciphers.tls12).is_ok();
    let tls13_ok = match &ciphers.tls13 {
        Some(list) => !list.is_empty() && b.set_ciphersuites(list).is_ok(),
        None => true,
    };
    let usable = versions
        .iter()
        .filter(|&v| {
            if v == Version::Tls13 {
                tls13_ok
            } else {
                tls12_ok
            }
        })
        .fold(Versions::NONE, Versions::with);
    let (Some(lo), Some(hi)) = (usable.min(), usable.max()) else {
        return Err(TlsError::NothingToOffer(if versions.is_empty() {
            "no protocol version allowed".into()
        } else {
            format!(
                "none of the suites [{ciphers}] is implemented by {} for {versions}",
                openssl::version::version()
            )
        }));
    };
    b.set_min_proto_version(Some(lo.openssl())).map_err(cfg)?;
    b.set_max_proto_version(Some(hi.openssl())).map_err(cfg)?;
    for (v, off) in [
        (Version::Ssl3, SslOptions::NO_SSLV3),
        (Version::Tls10, SslOptions::NO_TLSV1),
        (Version::Tls11, SslOptions::NO_TLSV1_1),
        (Version::Tls12, SslOptions::NO_TLSV1_2),
        (Version::Tls13, SslOptions::NO_TLSV1_3),
    ] {
        if (lo..=hi).contains(&v) && !usable.contains(v) {
            b.set_options(off);
        }
    }
    Ok(())
}
