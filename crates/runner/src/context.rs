//! The manual's context for a failing case: where the scenario comes from (`source:`,
//! `errata:`) and what the error codes in the failing step mean (at-catalog's tables), shown
//! under the byte diff and written to report.json (issue 19). The command that reruns the case
//! is `CaseResult::reproduce` ([`crate::reproduce`]).

use at_scenario::{Profile, Scenario};
use serde::Serialize;

use crate::judge::{Failure, FailureKind};

/// Context shown with a failure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FailureContext {
    /// The scenario's `source:` citations (`000 §4.4`, `000 §5`).
    pub source: Vec<String>,
    /// The ERRATA entries it depends on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<String>,
    /// Every error-code line in the failing step's expected and actual bytes, with what each
    /// code means (`+QSMTPPUT: 677,535: <err> 677 = Authentication failed (…; 000 §5); …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
}

impl FailureContext {
    /// The lines shown under a failure's diff on the terminal (and in JUnit descriptions).
    pub fn render(&self) -> String {
        let mut s = String::new();
        if !self.source.is_empty() {
            s.push_str(&format!("  source:   {}", self.source.join(", ")));
            if !self.errata.is_empty() {
                s.push_str(&format!(" (ERRATA {})", self.errata.join(", ")));
            }
            s.push('\n');
        }
        for (i, c) in self.codes.iter().enumerate() {
            let label = if i == 0 { "codes:" } else { "" };
            s.push_str(&format!("  {label:<9} {c}\n"));
        }
        s
    }
}

/// The context of `failure` in `sc` run as `profile`.
pub fn for_failure(sc: &Scenario, profile: Profile, failure: &Failure) -> FailureContext {
    let multitech = at_catalog::profile(&profile.to_string())
        .ok()
        .and_then(|p| p.multitech);
    let errors = multitech.as_ref().map(|m| &m.errors);
    // The codes in what was expected and in what came, once each (mail checks: the detail).
    let text = match &failure.kind {
        FailureKind::Mail { detail } => detail.clone(),
        _ => format!("{}\n{}", failure.expected, failure.actual),
    };
    FailureContext {
        source: sc.meta.sources.clone(),
        errata: sc.meta.errata.clone(),
        codes: at_catalog::explain::explain(&text, errors)
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Location;

    #[test]
    fn auth_failure_carries_source_and_both_codes() {
        let sc = at_scenario::load_str(
            "x.scn",
            "title: t\nsource: 000 §4.4, 000 §5\nerrata: M3\nprofiles: ec25\n> AT\n< OK\n",
        )
        .unwrap();
        let f = Failure {
            location: Location {
                file: "x.scn".into(),
                line: 5,
            },
            step: 0,
            sent: String::new(),
            kind: FailureKind::Mismatch,
            grade: crate::judge::Grade::Fail,
            evidence: String::new(),
            expected: r"\r\n+QSMTPPUT: 677,535\r\n".into(),
            actual: r"\r\n+QSMTPPUT: 660,535\r\n".into(),
            offset: Some(13),
            column: None,
        };
        let c = for_failure(&sc, Profile::Ec25, &f);
        assert_eq!(c.source, ["000 §4.4", "000 §5"]);
        assert_eq!(c.codes.len(), 2);
        assert!(c.codes[0].starts_with("+QSMTPPUT: 677,535: <err> 677 = Authentication failed"));
        assert!(c.codes[1].starts_with("+QSMTPPUT: 660,535: <err> 660 = Failed to send an email"));
        let shown = c.render();
        assert!(
            shown.starts_with(
                "  source:   000 §4.4, 000 §5 (ERRATA M3)\n  codes:    +QSMTPPUT: 677,535"
            ),
            "{shown}"
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["source"][1], "000 §5");
    }
}
