//! One scenario × profile on one target: sets up the emulator and the sink, runs, and
//! classifies the outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use at_emulator::driver::Driver;
use at_emulator::{EmulatorConfig, QuirkSet};
use at_scenario::{Profile, Scenario, TlsMode};
use serde::Serialize;

use crate::judge::{Failure, FailureKind, Grade, Verdict};
use crate::scenario::{MailSource, SinkFault, SinkSetup, run_scenario_with, setup_for};
use crate::target::{SinkRoute, Target};
use crate::transcript::Transcript;
use crate::vars::LabVars;

/// How one case ended, after applying the scenario's expected verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "lowercase")]
pub enum Status {
    /// As the scenario expects (for `verdict: fail`, a deviation was found).
    Pass,
    /// Not as expected.
    Fail,
    /// Not run on this target (e.g. `@fault` on real hardware).
    Skip(String),
    /// The scenario could not be run (unbound variable, bad sink setup).
    Error(String),
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Status {
    /// The status without its reason.
    pub fn ended(&self) -> crate::outcome::Ended {
        use crate::outcome::Ended;
        match self {
            Status::Pass => Ended::Pass,
            Status::Fail => Ended::Fail,
            Status::Skip(_) => Ended::Skip,
            Status::Error(_) => Ended::Error,
            Status::Interrupted => Ended::Interrupted,
        }
    }
}

/// The result of one scenario × profile.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Scenario name (its corpus path).
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// Profile.
    pub profile: String,
    /// What it ran on.
    pub target: String,
    /// The classification.
    #[serde(flatten)]
    pub status: Status,
    /// `verdict:` other than `pass`: the run had to find a deviation.
    pub expect_failure: bool,
    /// The grade the scenario's `verdict:` asks for (`pass`, `informational`, `non-strict`,
    /// `fail`).
    pub expected: Grade,
    /// The grade the run reached: the worst of its findings (before `expected` is applied).
    pub grade: Grade,
    /// The deviation that decided the grade (also for expected failures).
    pub failure: Option<Failure>,
    /// Every deviation found, in order: informational and non-strict ones (judging went on),
    /// then the one that ended the run, if any.
    pub findings: Vec<Failure>,
    /// The manual's context of a failing case: the scenario's source, what the error codes in
    /// the failing step mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<crate::context::FailureContext>,
    /// Steps that passed.
    pub steps_passed: usize,
    /// Target-clock duration (virtual on the emulator), seconds.
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    /// Byte-exact AT transcript (rendered redacted when serialised).
    #[serde(skip)]
    pub transcript: Transcript,
    /// SMTP sessions the sink recorded (render with [`crate::snapshot`] or
    /// `smtp_sink::Transcript::render`; both redact credentials).
    #[serde(skip)]
    pub smtp: Vec<smtp_sink::Transcript>,
    /// The command that reruns this case alone (failed and erroneous cases, see
    /// [`crate::report::RunReport::attach_reproducers`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl CaseResult {
    /// `scenario [profile]`.
    pub fn id(&self) -> String {
        format!("{} [{}]", self.scenario, self.profile)
    }

    /// What the case counts as in every report ([`crate::outcome::Outcome::classify`]).
    pub fn outcome(&self) -> crate::outcome::Outcome {
        crate::outcome::Outcome::classify(
            self.status.ended(),
            Some(self.grade),
            self.expect_failure,
        )
    }

    pub(crate) fn new(sc: &Scenario, profile: Profile, target: String, status: Status) -> Self {
        CaseResult {
            scenario: sc.name.clone(),
            title: sc.meta.title.clone(),
            profile: profile.to_string(),
            target,
            status,
            expect_failure: sc.meta.verdict != at_scenario::Verdict::Pass,
            expected: expected_grade(sc.meta.verdict),
            grade: Grade::Pass,
            failure: None,
            findings: Vec::new(),
            context: None,
            steps_passed: 0,
            elapsed: Duration::ZERO,
            transcript: Transcript::new(),
            smtp: Vec::new(),
            reproduce: None,
        }
    }
}

/// The grade a scenario's `verdict:` header asks the run to reach.
pub fn expected_grade(v: at_scenario::Verdict) -> Grade {
    match v {
        at_scenario::Verdict::Pass => Grade::Pass,
        at_scenario::Verdict::Informational => Grade::Informational,
        at_scenario::Verdict::NonStrict => Grade::NonStrict,
        at_scenario::Verdict::Fail => Grade::Fail,
    }
}

/// Runs `sc` for `profile` on `target` and classifies the result. Whether the target can run
/// the scenario at all (a real device cannot take `@quirk`) is the caller's question
/// ([`crate::scenario::real_target_setup`]).
pub fn run_case_on(
    sc: &Scenario,
    profile: Profile,
    target: &mut dyn Target,
    mail: Option<&dyn MailSource>,
    cancel: &AtomicBool,
) -> CaseResult {
    run_case_on_with(sc, profile, target, mail, &LabVars::default(), cancel)
}

/// [`run_case_on`] with the variables' values from `vars` (see [`crate::vars`]).
pub fn run_case_on_with(
    sc: &Scenario,
    profile: Profile,
    target: &mut dyn Target,
    mail: Option<&dyn MailSource>,
    vars: &LabVars,
    cancel: &AtomicBool,
) -> CaseResult {
    let name = target.describe();
    let exec = match run_scenario_with(sc, profile, target, mail, vars, cancel) {
        Ok(e) => e,
        Err(e) => return CaseResult::new(sc, profile, name, Status::Error(e.to_string())),
    };
    // The grade decides against the one the scenario asks for: a pass allows informational
    // differences; `verdict: X` needs exactly grade X.
    let expected = expected_grade(sc.meta.verdict);
    let grade = exec.grade();
    let accept = |g: Grade| match expected {
        Grade::Pass => g <= Grade::Informational,
        e => g == e,
    };
    let (status, failure) = match exec.verdict {
        // The target cannot do what the scenario needs (DTR on a PTY): not judged.
        Verdict::Fail(f) if matches!(f.kind, FailureKind::Unsupported { .. }) => {
            (Status::Skip(f.summary()), Some(*f))
        }
        Verdict::Interrupted => (Status::Interrupted, None),
        Verdict::Pass => {
            let first = exec
                .findings
                .iter()
                .find(|f| f.grade == Grade::Informational)
                .cloned();
            let status = if accept(grade) {
                Status::Pass
            } else {
                Status::Fail
            };
            (status, first)
        }
        Verdict::Fail(f) => {
            let status = if accept(f.grade) {
                Status::Pass
            } else {
                Status::Fail
            };
            (status, Some(*f))
        }
    };
    let mut r = CaseResult::new(sc, profile, name, status);
    r.grade = grade;
    if r.status == Status::Fail
        && let Some(f) = &failure
    {
        r.context = Some(crate::context::for_failure(sc, profile, f));
    }
    r.failure = failure;
    r.findings = exec.findings;
    r.steps_passed = exec.steps_passed;
    r.elapsed = exec.elapsed;
    r.transcript = exec.transcript;
    if let Some(m) = mail {
        r.smtp = m.transcripts();
        // The scenario's secrets are redacted in the SMTP transcripts too (a password or an
        // `@secret` in the mail), as in every artefact of the run.
        for t in &mut r.smtp {
            t.redact_secrets(r.transcript.secrets());
        }
    }
    r
}

/// Why `sc` is not run for `profile` on a real target, if it is not: it needs the module's SIM,
/// radio network, DNS answers or firmware (`@quirk`), see
/// [`crate::scenario::real_target_setup`]. A sink run elsewhere (`--sink-api`) skips more
/// ([`crate::scenario::SinkSetup::unsupported_on_shared_sink`]).
pub fn skip_on_real_target(sc: &Scenario, profile: Profile) -> Option<String> {
    crate::scenario::real_target_setup(sc, profile)
        .err()
        .map(|e| e.to_string())
}

/// Why `sc` would not be run for `profile` on `target` (`atconform run --list`): the rules of
/// [`skip_on_real_target`], plus DTR on a raw TCP stream, which has no modem lines (the run
/// itself learns that from the target, as it does for a PTY).
/// With `fault_control` (`--fault-control`), module faults run.
pub fn would_skip(
    sc: &Scenario,
    profile: Profile,
    target: &crate::target::TargetSpec,
    fault_control: bool,
) -> Option<String> {
    if *target == crate::target::TargetSpec::Emulator {
        return None;
    }
    if let Some(why) = crate::scenario::real_target_setup_with(sc, profile, fault_control).err() {
        return Some(why.to_string());
    }
    if let Ok(module) = at_catalog::Profile::builtin(&profile.to_string())
        && let Some(why) = on_the_guard_boundary(sc, profile, &module)
    {
        return Some(why);
    }
    let dtr = sc
        .steps_for(profile)
        .any(|s| matches!(s.kind, at_scenario::StepKind::Dtr(_)));
    (dtr && matches!(target, crate::target::TargetSpec::Tcp { .. }))
        .then(|| "needs DTR (@dtr); a raw TCP port has no modem lines (use rfc2217)".into())
}

/// The emulator's sink: the runner knows how many SMTP connections were made to it, so it
/// waits (bounded, wall time) until the sink has recorded each session before judging.
struct Counted<'a> {
    sink: &'a smtp_sink::RunningSink,
    connections: Arc<AtomicUsize>,
}

impl MailSource for Counted<'_> {
    fn messages(&self) -> Vec<smtp_sink::StoredMessage> {
        self.sink.messages()
    }
    fn transcripts(&self) -> Vec<smtp_sink::Transcript> {
        let want = self.connections.load(Ordering::SeqCst) as u64;
        self.sink.settled(want).1
    }
}

/// Why the capture sink a scenario asks for cannot be built or started.
#[derive(Debug, thiserror::Error)]
pub enum SinkSetupError {
    /// `@sink profile` names no sink profile.
    #[error("sink profile {name}: {why}")]
    Profile {
        /// The name given.
        name: String,
        /// Why it is not one.
        why: smtp_sink::UnknownProfile,
    },
    /// `@sink auth` names a mechanism the sink does not implement.
    #[error("@sink auth {0}: the sink implements PLAIN and LOGIN")]
    Auth(String),
    /// `@sink tls-versions` does not parse.
    #[error("@sink tls-versions {value}: {source}")]
    TlsVersions {
        /// The value given.
        value: String,
        /// Why.
        #[source]
        source: at_tls::UnknownVersion,
    },
    /// `@sink tls-ciphers` does not parse.
    #[error("@sink tls-ciphers {value}: {source}")]
    TlsCiphers {
        /// The value given.
        value: String,
        /// Why.
        #[source]
        source: at_tls::UnknownSuite,
    },
    /// `@sink tls-fault` is unknown or conflicts with another.
    #[error("@sink tls-fault {name}: {source}")]
    TlsFault {
        /// The fault named.
        name: String,
        /// Why.
        #[source]
        source: smtp_sink::TlsFaultError,
    },
    /// An SMTP stage the sink has no fault point for.
    #[error("sink fault at {stage}: {source}")]
    Stage {
        /// The stage (`Debug` form).
        stage: String,
        /// Why.
        #[source]
        source: smtp_sink::UnknownPoint,
    },
    /// The sink did not start.
    #[error("cannot start the capture sink: {0}")]
    Start(#[source] smtp_sink::Error),
    /// The sink started without a listener.
    #[error("the capture sink has no listener")]
    NoListener,
}

/// Builds the capture sink a scenario asks for.
pub fn spawn_sink(setup: &SinkSetup) -> Result<smtp_sink::RunningSink, SinkSetupError> {
    smtp_sink::spawn(sink_config(setup)?).map_err(SinkSetupError::Start)
}

/// The configuration of the capture sink a scenario asks for (listening on `127.0.0.1:0`).
pub fn sink_config(setup: &SinkSetup) -> Result<smtp_sink::SinkConfig, SinkSetupError> {
    let profile = match &setup.profile {
        Some(p) => p
            .parse::<smtp_sink::Profile>()
            .map_err(|why| SinkSetupError::Profile {
                name: p.clone(),
                why,
            })?,
        None => smtp_sink::Profile::default(),
    };
    let mut cfg = smtp_sink::SinkConfig::new(profile);
    if setup.tls == Some(TlsMode::None) {
        cfg = cfg.starttls(false);
    }
    if let Some(names) = &setup.auth_mechanisms {
        let mechanisms = names
            .iter()
            .map(|n| {
                smtp_sink::Mechanism::from_name(n).ok_or_else(|| SinkSetupError::Auth(n.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        cfg = cfg.auth_mechanisms(mechanisms);
    }
    if let Some(v) = &setup.tls_versions {
        let versions =
            v.parse::<at_tls::Versions>()
                .map_err(|source| SinkSetupError::TlsVersions {
                    value: v.clone(),
                    source,
                })?;
        cfg = cfg.tls_versions(versions);
    }
    if let Some(c) = &setup.tls_ciphers {
        let ciphers = at_tls::Ciphers::parse(c).map_err(|source| SinkSetupError::TlsCiphers {
            value: c.clone(),
            source,
        })?;
        cfg = cfg.tls_ciphers(ciphers);
    }
    if !setup.faults.is_empty() || !setup.tls_faults.is_empty() {
        // Built with the script's builder, not its text form: reply texts may hold `;`/`#`.
        let mut script = smtp_sink::FaultScript::new();
        for f in &setup.tls_faults {
            script = script
                .tls_fault(f)
                .map_err(|source| SinkSetupError::TlsFault {
                    name: f.clone(),
                    source,
                })?;
        }
        for f in &setup.faults {
            let point = |stage: &at_scenario::SmtpStage| {
                stage
                    .sink_point()
                    .parse::<smtp_sink::Point>()
                    .map_err(|source| SinkSetupError::Stage {
                        stage: format!("{stage:?}"),
                        source,
                    })
            };
            script = match f {
                SinkFault::Reply { stage, code, text } => {
                    script.reply(point(stage)?, *code, text.clone())
                }
                SinkFault::Drop(at_scenario::SmtpStage::Greeting) => {
                    script.drop_at(smtp_sink::DropAt::BeforeGreeting)
                }
                SinkFault::Drop(stage) => script.drop_at(smtp_sink::DropAt::Command(point(stage)?)),
                SinkFault::DropAt(at) => script.drop_at(*at),
                // Longer than any module timeout (000 §2.2.7: at most 65535 s): the module gives
                // up first, or the runner stops the sink after the case.
                SinkFault::Stall(p) => script.delay(*p, STALL),
            };
        }
        cfg = cfg.faults(script);
    }
    Ok(cfg)
}

/// How long a stalled sink holds its reply.
const STALL: Duration = Duration::from_secs(24 * 3600);

/// Runs `sc` for `profile` on a fresh in-process emulator (virtual time) with a fresh capture
/// sink when the scenario needs one; `extra_quirks` are added to the scenario's own.
pub fn run_case_emulated(
    sc: &Scenario,
    profile: Profile,
    extra_quirks: &[String],
    cancel: &AtomicBool,
) -> CaseResult {
    run_case_emulated_with(
        sc,
        profile,
        &Variations {
            quirks: extra_quirks.to_vec(),
            liberties: Vec::new(),
        },
        cancel,
    )
}

/// What an emulator run adds to every case: quirks (defects) and liberties (the other choice
/// where the manuals leave room), by name (`at_emulator::quirks`, `at_emulator::liberties`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variations {
    /// Quirk names.
    pub quirks: Vec<String>,
    /// Liberty names (each may be a comma-separated list).
    pub liberties: Vec<String>,
}

/// [`run_case_emulated`] with `extra`'s quirks and liberties added to the scenario's own.
pub fn run_case_emulated_with(
    sc: &Scenario,
    profile: Profile,
    extra: &Variations,
    cancel: &AtomicBool,
) -> CaseResult {
    run_case_emulated_vars(sc, profile, extra, &LabVars::default(), cancel)
}

/// [`run_case_emulated_with`] with the variables' values from `vars` (see [`crate::vars`]);
/// a `@resolve ${NAME} ...` host takes the variable's value.
pub fn run_case_emulated_vars(
    sc: &Scenario,
    profile: Profile,
    extra: &Variations,
    vars: &LabVars,
    cancel: &AtomicBool,
) -> CaseResult {
    let extra_quirks = &extra.quirks;
    let (mut emu, sink_setup) = setup_for(sc, profile);
    // The run's quirks are part of the target's name (`emulator ec25+slow-responses`).
    let label = std::iter::once(format!("emulator {profile}"))
        .chain(extra_quirks.iter().cloned())
        .collect::<Vec<_>>()
        .join("+");
    let err = |e: String| CaseResult::new(sc, profile, label.clone(), Status::Error(e));
    let declared = |name: &str| {
        sc.vars
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.default.clone())
    };
    for (host, _) in &mut emu.resolve {
        match vars.render_with(host, declared) {
            Ok(h) => *host = h,
            Err(e) => return err(format!("@resolve {e}")),
        }
    }
    let mut config = match EmulatorConfig::builtin(&profile.to_string()) {
        Ok(c) => c,
        Err(e) => return err(format!("emulator profile {profile}: {e}")),
    };
    let quirks = emu
        .quirks
        .iter()
        .chain(extra_quirks)
        .cloned()
        .collect::<Vec<_>>();
    match QuirkSet::from_names(&quirks) {
        Ok(q) => config = config.with_quirks(q),
        Err(e) => return err(format!("quirk: {e}")),
    }
    let liberties = emu.liberties.iter().chain(&extra.liberties);
    match at_emulator::LibertySet::from_names(liberties) {
        Ok(l) => config = config.with_liberties(l),
        Err(e) => return err(format!("liberty: {e}")),
    }
    for f in &emu.faults {
        config = config.with_fault(*f);
    }
    let sink = if sc.needs_sink() {
        match spawn_sink(&sink_setup) {
            Ok(s) => Some(s),
            Err(e) => return err(e.to_string()),
        }
    } else {
        None
    };
    let route = SinkRoute::new(
        emu.resolve.clone(),
        sink.as_ref().and_then(|s| s.smtp_addr()),
        sink.as_ref().and_then(|s| s.smtps_addr()),
    );
    let connections = route.connections();
    let mut target = Driver::new(config, route);
    let counted = sink.as_ref().map(|sink| Counted { sink, connections });
    let mail = counted.as_ref().map(|s| s as &dyn MailSource);
    let mut r = run_case_on_with(sc, profile, &mut target, mail, vars, cancel);
    r.target = label;
    r
}

/// Why a scenario whose `+++` sits exactly on the guard time (000 §1.3: 1 s) cannot be judged
/// on a real clock: the scheduling jitter of host and module decides which side of the
/// boundary the escape lands on. Virtual time places it exactly.
pub(crate) fn on_the_guard_boundary(
    sc: &Scenario,
    profile: Profile,
    module: &at_catalog::Profile,
) -> Option<String> {
    use at_scenario::StepKind;
    let guard = Duration::from_millis(module.limits.guard_time_ms);
    let near = |d: Duration| d.abs_diff(guard) < Duration::from_millis(50);
    let steps: Vec<_> = sc.steps_for(profile).collect();
    steps.iter().enumerate().find_map(|(i, step)| {
        let StepKind::Escape(e) = &step.kind else {
            return None;
        };
        // The silence after `+++` only ends early when the host sends next; before an expected
        // answer it lasts until the module has spoken, however the clock jitters.
        let sends_next = steps.get(i + 1).is_some_and(|n| {
            matches!(
                n.kind,
                StepKind::Send(_) | StepKind::Data(_) | StepKind::Escape(_) | StepKind::Dtr(_)
            )
        });
        (near(e.guard_before) || (sends_next && near(e.guard_after))).then(|| {
            format!(
                "{}:{}: +++ exactly on the {:.1} s guard time (000 §1.3) needs the emulator's \
                 virtual time: on a real clock, jitter decides the outcome",
                sc.name,
                step.span.line,
                guard.as_secs_f64()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn real_targets_skip_what_the_shared_sink_cannot_honour() {
        let corpus = crate::corpus::embedded().expect("corpus loads");
        let why = |name: &str| {
            let sc = corpus
                .iter()
                .find(|s| s.name.contains(name))
                .expect("scenario in the corpus");
            setup_for(sc, Profile::Ec25).1.unsupported_on_shared_sink()
        };
        // ERRATA M4: the shared sink offers STARTTLS, so 665 cannot happen there.
        let r = why("edge/starttls-not-offered").expect("skipped");
        assert!(r.contains("@sink tls none"), "{r}");
        let r = why("edge/protocol-error-421").expect("skipped");
        assert!(r.contains("@sink reply"), "{r}");
        let r = why("edge/connection-dropped-656").expect("skipped");
        assert!(r.contains("@sink drop"), "{r}");
        let r = why("edge/auth-plain-only").expect("skipped");
        assert!(r.contains("@sink auth PLAIN"), "{r}");
        // STARTTLS and implicit TLS are what the shared sink offers.
        assert_eq!(why("quectel/3.3-send-starttls"), None);
        assert_eq!(why("quectel/3.2-send-ssl"), None);
        assert_eq!(why("quectel/3.1-send-plain"), None);
    }

    #[test]
    fn scenario_tls_settings_are_the_sink_s() {
        // The loader validates names without linking the sink; the lists must agree.
        assert_eq!(at_scenario::TLS_FAULTS, smtp_sink::TlsFaults::NAMES);
        for name in at_scenario::TLS_FAULTS {
            let setup = SinkSetup {
                tls_faults: vec![name.to_string()],
                tls_versions: Some("TLSv1.2, 1.0-1.1".into()),
                tls_ciphers: Some("AES128-SHA:0x0035".into()),
                ..SinkSetup::default()
            };
            let sink = spawn_sink(&setup).unwrap_or_else(|e| panic!("{name}: {e}"));
            drop(sink);
            let why = setup
                .unsupported_on_shared_sink()
                .expect("needs its own sink");
            assert!(why.contains(&format!("@sink tls-fault {name}")), "{why}");
        }
        let bad = SinkSetup {
            tls_versions: Some("1.4".into()),
            ..SinkSetup::default()
        };
        let e = spawn_sink(&bad).unwrap_err();
        assert!(matches!(e, SinkSetupError::TlsVersions { .. }), "{e}");
        assert!(e.to_string().contains("1.4"), "{e}");
    }

    #[test]
    fn sink_reply_text_with_script_syntax_is_sent_verbatim() {
        // Lead's report: `;` in an `@sink reply` text broke the fault script.
        let setup = SinkSetup {
            faults: vec![SinkFault::Reply {
                stage: at_scenario::SmtpStage::RcptTo,
                code: 550,
                text: "5.1.1 no; really # not a comment".into(),
            }],
            ..SinkSetup::default()
        };
        let sink = spawn_sink(&setup).expect("sink starts");
        let mut s = std::net::TcpStream::connect(sink.smtp_addr().expect("smtp")).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 2048];
        let mut say = |line: &[u8]| {
            if !line.is_empty() {
                s.write_all(line).unwrap();
            }
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        assert!(say(b"").starts_with("220"));
        assert!(say(b"EHLO t\r\n").starts_with("250"));
        assert!(say(b"MAIL FROM:<a@b.c>\r\n").starts_with("250"));
        assert_eq!(
            say(b"RCPT TO:<d@e.f>\r\n"),
            "550 5.1.1 no; really # not a comment\r\n"
        );
    }
}
