//! The emulator runs behind the module × provider and TLS matrices (`atconform report
//! providers` and `report tls`): each module's send examples with `@sink profile NAME` added,
//! and its SSL examples at each `AT+QSSLCFG="sslversion"` value. The results are plain data
//! ([`ProviderRuns`], [`TlsRuns`]); `at_report::providers` and `at_report::tls` classify and
//! render them.

use std::sync::atomic::AtomicBool;

use at_scenario::{Profile, Scenario};

use crate::{CaseResult, Status, Variations};

/// The sink's provider profiles.
pub const PROVIDERS: [&str; 3] = ["permissive", "rfc5321", "tencent-ses"];

/// The liberties tried on a non-delivery: the ones that change what reaches the server (the
/// mail's composition, the SMTP session, the TLS offer).
pub const COMPOSITION_LIBERTIES: [&str; 8] = [
    "multipart-always",
    "body-base64",
    "subject-q-words",
    "mail-headers",
    "attachment-types",
    "auth-login-first",
    "ehlo-name",
    "cipher-order",
];

/// The `sslversion` values (000 §3.2, SSL manual \[8\], ERRATA E28) and what each allows.
pub const SSLVERSIONS: [(u8, &str); 5] = [
    (0, "SSL 3.0"),
    (1, "TLS 1.0"),
    (2, "TLS 1.1"),
    (3, "TLS 1.2"),
    (4, "all"),
];

/// The send examples for `module`: (variant, corpus path).
pub fn send_examples(module: Profile) -> &'static [(&'static str, &'static str)] {
    match module {
        Profile::Multitech => &[("putmail", "multitech/putmail.scn")],
        Profile::Ag35 => &[
            ("plain", "ag35/3.1-send-plain.scn"),
            ("ssl", "ag35/3.2-send-ssl.scn"),
            ("starttls", "ag35/3.3-send-starttls.scn"),
        ],
        _ => &[
            ("plain", "quectel/3.1-send-plain.scn"),
            ("ssl", "quectel/3.2-send-ssl.scn"),
            ("starttls", "quectel/3.3-send-starttls.scn"),
        ],
    }
}

/// Why a matrix could not be run.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// A send example the matrix needs is missing from the corpus.
    #[error("{0} is not in the corpus")]
    NotInCorpus(String),
    /// A rewritten example no longer loads.
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
}

/// A send example rewritten for a matrix cell does not load (the loader's error, debug-printed).
#[derive(Debug, thiserror::Error)]
#[error("{0:?}")]
pub struct RewriteError(pub at_scenario::LoadError);

/// `sc` with `@sink profile PROVIDER` added before its first step.
pub fn with_provider(sc: &Scenario, provider: &str) -> Result<Scenario, RewriteError> {
    let mut text = String::with_capacity(sc.source.len() + 32);
    let mut done = false;
    for line in sc.source.lines() {
        let t = line.trim_start();
        let is_step = ['>', '<', '~', '@'].iter().any(|c| t.starts_with(*c));
        if !done && is_step {
            text.push_str(&format!("@sink profile {provider}\n"));
            done = true;
        }
        text.push_str(line);
        text.push('\n');
    }
    at_scenario::load_str(&sc.name, &text).map_err(RewriteError)
}

/// `sc` with its `"sslversion",1,1` set to `value`, its `tls-version:` check dropped and
/// `@sink profile PROVIDER` added.
pub fn with_sslversion(sc: &Scenario, value: u8, provider: &str) -> Result<Scenario, RewriteError> {
    let mut text = String::with_capacity(sc.source.len() + 32);
    for line in sc.source.lines() {
        if line.trim_start().starts_with("tls-version:") {
            continue;
        }
        let line = line.replace(
            "AT+QSSLCFG=\"sslversion\",1,1",
            &format!("AT+QSSLCFG=\"sslversion\",1,{value}"),
        );
        text.push_str(&line);
        text.push('\n');
    }
    let sc = at_scenario::load_str(&sc.name, &text).map_err(RewriteError)?;
    with_provider(&sc, provider)
}

fn example<'a>(corpus: &'a [Scenario], path: &str) -> Result<&'a Scenario, MatrixError> {
    corpus
        .iter()
        .find(|s| crate::corpus_name(&s.name) == path)
        .ok_or_else(|| MatrixError::NotInCorpus(path.to_string()))
}

/// One send example through one provider, as it ran.
#[derive(Clone, Debug)]
pub struct SendRun {
    /// `plain`, `ssl`, `starttls`, `putmail`.
    pub variant: String,
    /// The scenario replayed (corpus path).
    pub scenario: String,
    /// The case as the runner judged it.
    pub case: CaseResult,
    /// When it did not deliver: the [`COMPOSITION_LIBERTIES`] with which it does.
    pub delivers_with: Vec<String>,
}

impl SendRun {
    /// Whether the mail was delivered as the scenario describes (the case passed).
    pub fn delivered(&self) -> bool {
        self.case.status == Status::Pass
    }
}

/// The send examples of one module through one provider.
#[derive(Clone, Debug)]
pub struct ProviderCellRun {
    /// Module profile.
    pub module: Profile,
    /// Provider profile.
    pub provider: String,
    /// One run per send example, in [`send_examples`] order.
    pub attempts: Vec<SendRun>,
}

/// Every module × provider, as run.
#[derive(Clone, Debug)]
pub struct ProviderRuns {
    /// The modules, in the order given.
    pub modules: Vec<Profile>,
    /// The providers, in the order given.
    pub providers: Vec<String>,
    /// Row-major cells.
    pub cells: Vec<ProviderCellRun>,
}

/// Runs every module × provider × send example on the emulator; an example that does not
/// deliver is run again with each of the [`COMPOSITION_LIBERTIES`].
pub fn run_providers(
    modules: &[Profile],
    providers: &[&str],
    corpus: &[Scenario],
    cancel: &AtomicBool,
) -> Result<ProviderRuns, MatrixError> {
    let mut cells = Vec::new();
    for &m in modules {
        for &p in providers {
            let mut attempts = Vec::new();
            for (variant, path) in send_examples(m) {
                let sc = with_provider(example(corpus, path)?, p)?;
                let case = crate::run_case_emulated(&sc, m, &[], cancel);
                let mut delivers_with = Vec::new();
                if case.status != Status::Pass {
                    // A conforming module that chose otherwise where the manuals leave room.
                    for l in COMPOSITION_LIBERTIES {
                        let extra = Variations {
                            quirks: Vec::new(),
                            liberties: vec![l.to_string()],
                        };
                        let r = crate::run_case_emulated_with(&sc, m, &extra, cancel);
                        if r.status == Status::Pass {
                            delivers_with.push(l.to_string());
                        }
                    }
                }
                attempts.push(SendRun {
                    variant: (*variant).into(),
                    scenario: (*path).into(),
                    case,
                    delivers_with,
                });
            }
            cells.push(ProviderCellRun {
                module: m,
                provider: p.to_string(),
                attempts,
            });
        }
    }
    Ok(ProviderRuns {
        modules: modules.to_vec(),
        providers: providers.iter().map(|p| p.to_string()).collect(),
        cells,
    })
}

/// One SSL example at one `sslversion` through one provider, as it ran.
#[derive(Clone, Debug)]
pub struct TlsRun {
    /// Module profile.
    pub module: Profile,
    /// `ssl` (implicit TLS) or `starttls`.
    pub variant: String,
    /// `AT+QSSLCFG="sslversion"` value.
    pub sslversion: u8,
    /// Sink provider profile.
    pub provider: String,
    /// The case as the runner judged it (its SMTP sessions show what the sink negotiated).
    pub case: CaseResult,
}

/// Every module × SSL variant × sslversion × provider, as run.
#[derive(Clone, Debug)]
pub struct TlsRuns {
    /// The providers, in the order given.
    pub providers: Vec<String>,
    /// Row by row (module, variant, sslversion), then provider.
    pub cells: Vec<TlsRun>,
}

/// Runs every module × SSL variant × [`SSLVERSIONS`] value × provider on the emulator.
pub fn run_tls(
    modules: &[Profile],
    providers: &[&str],
    corpus: &[Scenario],
    cancel: &AtomicBool,
) -> Result<TlsRuns, MatrixError> {
    let mut cells = Vec::new();
    for &m in modules {
        for (variant, path) in send_examples(m)
            .iter()
            .filter(|(v, _)| *v == "ssl" || *v == "starttls")
        {
            let sc = example(corpus, path)?;
            for (value, _) in SSLVERSIONS {
                for &p in providers {
                    let sc = with_sslversion(sc, value, p)?;
                    cells.push(TlsRun {
                        module: m,
                        variant: (*variant).into(),
                        sslversion: value,
                        provider: p.into(),
                        case: crate::run_case_emulated(&sc, m, &[], cancel),
                    });
                }
            }
        }
    }
    Ok(TlsRuns {
        providers: providers.iter().map(|p| p.to_string()).collect(),
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_add_the_provider_and_set_the_version() {
        let corpus = crate::corpus::embedded().expect("corpus");
        let sc = example(&corpus, "quectel/3.2-send-ssl.scn").expect("example");
        let sc = with_sslversion(sc, 3, "rfc5321").expect("loads");
        assert!(
            sc.source.contains("@sink profile rfc5321\n"),
            "{}",
            sc.source
        );
        assert!(sc.source.contains("AT+QSSLCFG=\"sslversion\",1,3"));
        assert!(!sc.source.contains("tls-version:"));
        let e = example(&corpus, "no/such.scn").unwrap_err();
        assert_eq!(e.to_string(), "no/such.scn is not in the corpus");
    }
}
