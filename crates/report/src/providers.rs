//! The module × provider matrix: each module profile sending through each capture-sink
//! provider profile (`permissive`, `rfc5321`, `tencent-ses`), on the emulator, showing which
//! combinations deliver. The runs are `at_runner::matrices::run_providers`'s; this module
//! classifies and renders them.
//!
//! Each module replays the corpus's send examples of its manual (000 §3.1–§3.3 for the EC2x
//! family, 001 p.20–24 for the AG35, 002 `#PUTMAIL` for Multi-Tech) with `@sink profile NAME`
//! added; a combination delivers when the scenario passes (the module reports success and the
//! sink received the mail the scenario describes). A non-delivery is graded by the evidence it
//! rests on ([`conclusion`]): documented on both sides, an ERRATA reading, or a choice the
//! manuals leave open — then some liberty of the emulator delivers the same example, and the
//! matrix says which.

use at_runner::matrices::{ProviderRuns, SendRun};
use regex::bytes::Regex;
use serde::Serialize;

use crate::load::{WireLine, parse_transcript};

/// One send example through one provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// `plain`, `ssl`, `starttls`, `putmail`.
    pub variant: String,
    /// The scenario replayed.
    pub scenario: String,
    /// Whether the mail was delivered as the scenario describes.
    pub delivered: bool,
    /// The module's result line (`+QSMTPPUT: 0,0`, `+QSMTPPUT: 677,535`, `#CME ERROR: 38031`).
    pub result: String,
    /// Why it did not deliver (the runner's first failure and the server's last rejection),
    /// empty when it did.
    pub why: String,
    /// How far a non-delivery is a finding about the module, by the evidence it rests on:
    /// `documented` (both sides as their documents say), `errata` (rests on an ERRATA reading),
    /// `implementation-defined` (a choice the manuals leave open: some liberty delivers);
    /// empty when it delivered.
    pub grade: String,
    /// The evidence the non-delivery rests on (sections, ERRATA entries, liberties).
    pub rests_on: String,
    /// Liberties (`at_emulator::liberties`) with which the same example delivers: a conforming
    /// module that composes or talks otherwise where the manuals leave room.
    pub delivers_with: Vec<String>,
}

impl Attempt {
    /// What one send example through `provider` shows: the module's result line, and for a
    /// non-delivery the reason (the runner's first failure and the server's last rejection)
    /// and its grade, `implementation-defined` when some liberty delivers.
    pub fn from_run(provider: &str, a: &SendRun) -> Attempt {
        let r = &a.case;
        let delivered = a.delivered();
        let result = result_line(&r.transcript.render(false));
        let (mut grade, mut rests_on) = (String::new(), String::new());
        let why = if delivered {
            String::new()
        } else {
            let sessions: Vec<String> = r.smtp.iter().map(|t| t.render()).collect();
            let sessions = sessions.join("\n");
            let tls_error = r.smtp.iter().rev().find_map(|t| t.tls_error.clone());
            let server = match last_rejection(&sessions) {
                Some(reply) => format!("server: {reply}"),
                None if tls_error.is_some() => {
                    format!("server: TLS {}", tls_error.unwrap_or_default())
                }
                None if r.smtp.is_empty() => "server: no SMTP session".into(),
                None if !sessions.contains(" S: ") => {
                    "server: closed the connection before any greeting".into()
                }
                None => "server: no rejection".into(),
            };
            let mut why = format!("{}; {server}", at_runner::report::summary(r));
            if let Some(note) = errata_note(provider, &result, &why) {
                why.push_str(&format!(" ({note})"));
            }
            let (g, on) = conclusion(provider, &a.variant, &result, &why);
            grade = if a.delivers_with.is_empty() {
                g.to_string()
            } else {
                "implementation-defined".to_string()
            };
            rests_on = on;
            why
        };
        Attempt {
            variant: a.variant.clone(),
            scenario: a.scenario.clone(),
            delivered,
            result,
            why,
            grade,
            rests_on,
            delivers_with: a.delivers_with.clone(),
        }
    }
}

/// One module × provider cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Combination {
    /// Module profile.
    pub module: String,
    /// Provider profile.
    pub provider: String,
    /// One attempt per send example.
    pub attempts: Vec<Attempt>,
}

impl Combination {
    /// Whether any send example delivered.
    pub fn delivers(&self) -> bool {
        self.attempts.iter().any(|a| a.delivered)
    }
}

/// The whole module × provider matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderMatrix {
    /// Rows.
    pub modules: Vec<String>,
    /// Columns.
    pub providers: Vec<String>,
    /// Row-major cells.
    pub cells: Vec<Combination>,
}

/// The module's last result line (`+QSMTPPUT: …` or `#CME ERROR: …`) in a rendered AT transcript.
pub fn result_line(transcript: &str) -> String {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"\+QSMTPPUT: [0-9]+,[0-9]+|#CME ERROR: [0-9]+").expect("regex")
    });
    let mut rx = Vec::new();
    for l in parse_transcript(transcript) {
        if let WireLine::Rx(b) = l {
            rx.extend_from_slice(&b);
        }
    }
    re.find_iter(&rx)
        .last()
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// The last 4xx/5xx reply in rendered SMTP sessions (`  0.134 S: 554 5.0.0 ...\r\n`),
/// cut to 200 characters.
pub fn last_rejection(sessions: &str) -> Option<String> {
    sessions
        .lines()
        .filter_map(|l| l.split_once(" S: ").map(|(_, r)| r))
        .rfind(|r| r.starts_with('4') || r.starts_with('5'))
        .map(|r| {
            let r = r.trim_end_matches("\\r\\n");
            // Tencent SES puts the reason in a JSON `Message` (003 一般业务错误说明).
            let key = "\"Message\":\"";
            match r.find(key) {
                Some(i) => {
                    let msg = r.get(i + key.len()..).unwrap_or_default();
                    let msg = msg.split('"').next().unwrap_or_default();
                    format!("{} {msg}", r.get(..3).unwrap_or(r))
                }
                None => r.chars().take(200).collect(),
            }
        })
}

/// The ERRATA entry that explains a known provider refusal, if any.
pub fn errata_note(provider: &str, result: &str, why: &str) -> Option<&'static str> {
    if provider == "rfc5321" && why.contains("server: TLS handshake failed") {
        return Some(
            "ERRATA S2, E28: rfc5321 takes TLS 1.2+ (RFC 8996); the example's \"sslversion\",1,1 is TLS 1.0",
        );
    }
    if provider != "tencent-ses" {
        return None;
    }
    if why.contains("Content-Type must in") {
        Some(
            "ERRATA S14: SES takes text/plain only with charset=UTF-8; the module's <charset> 0 body is US-ASCII",
        )
    } else if why.contains("before any greeting") || result == "+QSMTPPUT: 656,0" {
        Some("ERRATA S1, S14: SES serves implicit TLS (465) only; other ports close at once")
    } else {
        None
    }
}

/// The evidence a non-delivery of `variant` through `provider` rests on, from the reason: the
/// grade (`documented` or `errata`) and the sections and ERRATA entries. (A liberty that
/// delivers makes it `implementation-defined`, see [`Attempt::from_run`].)
pub fn conclusion(
    provider: &str,
    variant: &str,
    result: &str,
    why: &str,
) -> (&'static str, String) {
    if provider == "rfc5321" && why.contains("TLS handshake failed") {
        // 000 §3.2 configures TLS 1.0; that rfc5321 refuses it is our profile (RFC 8996).
        return (
            "errata",
            "000 §3.2 \"sslversion\",1,1 (TLS 1.0); ERRATA S2".into(),
        );
    }
    if provider == "tencent-ses" {
        if why.contains("Content-Type must in") {
            return (
                "errata",
                "003 Content-Type whitelist (ERRATA S10); the module's text/plain; charset=\"US-ASCII\" \
                 for a <charset> 0 body is ERRATA M1's composition (S14)"
                    .into(),
            );
        }
        if why.contains("before any greeting") || result == "+QSMTPPUT: 656,0" {
            return if variant == "plain" {
                (
                    "documented",
                    "003 SMTP 服务地址: port 25 disabled, 465 SSL only; 000 §3.1 sends in plain text".into(),
                )
            } else if variant == "putmail" {
                (
                    "documented",
                    "003 SMTP 服务地址: 465 SSL only; 002 #PUTMAIL has no TLS parameter".into(),
                )
            } else {
                (
                    "errata",
                    "003: 465 SSL only, STARTTLS not offered (ERRATA S1; 003's Python sample says otherwise)".into(),
                )
            };
        }
    }
    ("documented", String::new())
}

impl ProviderMatrix {
    /// The matrix of what [`at_runner::matrices::run_providers`] ran.
    pub fn from_runs(runs: &ProviderRuns) -> ProviderMatrix {
        let cells = runs
            .cells
            .iter()
            .map(|c| Combination {
                module: c.module.to_string(),
                provider: c.provider.clone(),
                attempts: c
                    .attempts
                    .iter()
                    .map(|a| Attempt::from_run(&c.provider, a))
                    .collect(),
            })
            .collect();
        ProviderMatrix {
            modules: runs.modules.iter().map(|m| m.to_string()).collect(),
            providers: runs.providers.clone(),
            cells,
        }
    }

    /// The cell of `module` × `provider`.
    pub fn cell(&self, module: &str, provider: &str) -> Option<&Combination> {
        self.cells
            .iter()
            .find(|c| c.module == module && c.provider == provider)
    }

    /// JSON rendering.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A text table: per cell the variants that deliver, or the module's result code.
    pub fn to_text(&self) -> String {
        let cell_text = |c: &Combination| {
            let parts: Vec<String> = c
                .attempts
                .iter()
                .map(|a| {
                    if a.delivered {
                        format!("{} ok", a.variant)
                    } else if a.result.is_empty() {
                        format!("{} FAIL", a.variant)
                    } else {
                        format!("{} FAIL({})", a.variant, a.result)
                    }
                })
                .collect();
            parts.join(", ")
        };
        let text_of = |m: &str, p: &str| {
            self.cell(m, p)
                .map(cell_text)
                .unwrap_or_else(|| "-".to_string())
        };
        let widths: Vec<usize> = self
            .providers
            .iter()
            .map(|p| {
                self.modules
                    .iter()
                    .map(|m| text_of(m, p).len())
                    .chain([p.len()])
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        let mut s = format!("{:<10}", "module");
        for (p, w) in self.providers.iter().zip(&widths) {
            s.push_str(&format!("  {p:<w$}"));
        }
        s.truncate(s.trim_end_matches(' ').len());
        s.push('\n');
        for m in &self.modules {
            s.push_str(&format!("{m:<10}"));
            for (p, w) in self.providers.iter().zip(&widths) {
                s.push_str(&format!("  {:<w$}", text_of(m, p)));
            }
            s.truncate(s.trim_end_matches(' ').len());
            s.push('\n');
        }
        let delivering = self.cells.iter().filter(|c| c.delivers()).count();
        s.push_str(&format!(
            "{delivering}/{} module × provider combinations deliver\n",
            self.cells.len()
        ));
        let failed: Vec<&Attempt> = self
            .cells
            .iter()
            .flat_map(|c| c.attempts.iter())
            .filter(|a| !a.delivered)
            .collect();
        let count = |g: &str| failed.iter().filter(|a| a.grade == g).count();
        s.push_str(&format!(
            "{} send examples do not deliver: {} documented, {} rest on ERRATA readings, {} on \
             choices the manuals leave open (a liberty delivers)\n",
            failed.len(),
            count("documented"),
            count("errata"),
            count("implementation-defined")
        ));
        for c in &self.cells {
            for a in c.attempts.iter().filter(|a| !a.delivered) {
                s.push_str(&format!(
                    "{} × {} {}: {} — {} [{}",
                    c.module, c.provider, a.variant, a.result, a.why, a.grade
                ));
                if !a.rests_on.is_empty() {
                    s.push_str(&format!(": {}", a.rests_on));
                }
                if !a.delivers_with.is_empty() {
                    s.push_str(&format!(
                        "; delivers with liberty {}",
                        a.delivers_with.join(", ")
                    ));
                }
                s.push_str("]\n");
            }
        }
        s
    }
}
