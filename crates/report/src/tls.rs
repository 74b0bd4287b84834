//! The TLS matrix: each `AT+QSSLCFG="sslversion"` value × each capture-sink provider profile,
//! over implicit TLS and STARTTLS, on the emulator: what the module reports and what TLS the sink
//! negotiated (or why the handshake failed).
//!
//! Each row replays a module's SSL or STARTTLS send example (000 §3.2/§3.3, 001 p.22–24) with its
//! `"sslversion",1,1` line set to the row's value and `@sink profile NAME` added; the example's
//! `tls-version: TLSv1` check (which holds for value 1 only) is left out. The runs are
//! `at_runner::matrices::run_tls`'s; this module reads and renders them.

use at_runner::matrices::{SSLVERSIONS, TlsRuns};
use serde::Serialize;

/// One sslversion × variant × provider cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsCell {
    /// Module profile.
    pub module: String,
    /// `ssl` (implicit TLS) or `starttls`.
    pub variant: String,
    /// `AT+QSSLCFG="sslversion"` value.
    pub sslversion: u8,
    /// Sink provider profile.
    pub provider: String,
    /// The module's result line (`+QSMTPPUT: 0,0`).
    pub result: String,
    /// What the sink negotiated, as its record shows it
    /// (`TLSv1 TLS_RSA_WITH_AES_256_CBC_SHA (0x0035)`).
    pub negotiated: Option<String>,
    /// Why the sink's handshake failed, if it did.
    pub tls_error: Option<String>,
}

/// The whole matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsMatrix {
    /// Columns.
    pub providers: Vec<String>,
    /// Cells, row by row (module, variant, sslversion), then provider.
    pub cells: Vec<TlsCell>,
}

impl TlsMatrix {
    /// The matrix of what [`at_runner::matrices::run_tls`] ran: per cell the module's result
    /// line and the last SMTP session's TLS.
    pub fn from_runs(runs: &TlsRuns) -> TlsMatrix {
        let cells = runs
            .cells
            .iter()
            .map(|c| {
                let last = c.case.smtp.last();
                TlsCell {
                    module: c.module.to_string(),
                    variant: c.variant.clone(),
                    sslversion: c.sslversion,
                    provider: c.provider.clone(),
                    result: crate::providers::result_line(&c.case.transcript.render(false)),
                    negotiated: last.and_then(|t| t.tls.as_ref()).map(|i| i.summary()),
                    tls_error: last.and_then(|t| t.tls_error.clone()),
                }
            })
            .collect();
        TlsMatrix {
            providers: runs.providers.clone(),
            cells,
        }
    }

    /// The cell for these coordinates.
    pub fn cell(
        &self,
        module: &str,
        variant: &str,
        sslversion: u8,
        provider: &str,
    ) -> Option<&TlsCell> {
        self.cells.iter().find(|c| {
            c.module == module
                && c.variant == variant
                && c.sslversion == sslversion
                && c.provider == provider
        })
    }

    /// JSON rendering.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A text table: per cell the result code and the negotiated version and suite (OpenSSL
    /// short form), or `no TLS` when the handshake did not complete.
    pub fn to_text(&self) -> String {
        let short = |c: &TlsCell| {
            let code = c
                .result
                .strip_prefix("+QSMTPPUT: ")
                .unwrap_or(&c.result)
                .to_owned();
            match &c.negotiated {
                Some(n) => {
                    // "TLSv1 TLS_RSA_WITH_AES_256_CBC_SHA (0x0035)" → "TLSv1 0x0035".
                    let version = n.split(' ').next().unwrap_or_default();
                    let id = n
                        .rsplit_once('(')
                        .map_or("", |(_, id)| id.trim_end_matches(')'));
                    format!("{code} {version} {id}")
                }
                None => format!("{code} no TLS"),
            }
        };
        let mut rows: Vec<(String, String, u8)> = Vec::new();
        for c in &self.cells {
            let key = (c.module.clone(), c.variant.clone(), c.sslversion);
            if !rows.contains(&key) {
                rows.push(key);
            }
        }
        let label = |(m, v, s): &(String, String, u8)| {
            let what = SSLVERSIONS
                .iter()
                .find(|(n, _)| n == s)
                .map_or("", |(_, w)| w);
            format!("{m} {v} sslversion {s} ({what})")
        };
        let text_of = |(m, v, s): &(String, String, u8), p: &str| {
            self.cell(m, v, *s, p)
                .map(short)
                .unwrap_or_else(|| "-".into())
        };
        let first = rows
            .iter()
            .map(|r| label(r).len())
            .max()
            .unwrap_or(10)
            .max(10);
        let widths: Vec<usize> = self
            .providers
            .iter()
            .map(|p| {
                rows.iter()
                    .map(|r| text_of(r, p).len())
                    .chain([p.len()])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        let mut s = format!("{:<first$}", "row");
        for (p, w) in self.providers.iter().zip(&widths) {
            s.push_str(&format!("  {p:<w$}"));
        }
        s.truncate(s.trim_end_matches(' ').len());
        s.push('\n');
        for r in &rows {
            s.push_str(&format!("{:<first$}", label(r)));
            for (p, w) in self.providers.iter().zip(&widths) {
                s.push_str(&format!("  {:<w$}", text_of(r, p)));
            }
            s.truncate(s.trim_end_matches(' ').len());
            s.push('\n');
        }
        s.push_str("cells: +QSMTPPUT <err>,<protocol_error>, then the TLS version and suite number the sink negotiated\n");
        for c in self.cells.iter().filter(|c| c.negotiated.is_none()) {
            if let Some(e) = &c.tls_error {
                s.push_str(&format!(
                    "{} {} sslversion {} × {}: {} — {e}\n",
                    c.module, c.variant, c.sslversion, c.provider, c.result
                ));
            }
        }
        s
    }
}
