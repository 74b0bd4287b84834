//! The in-process emulator as a [`Target`]: the emulator's one virtual-time driver
//! ([`at_emulator::driver::Driver`]), whatever delivers its mail. A read jumps the clock to the
//! driver's next wake-up instead of sleeping, so 120 s and 300 s timeouts cost no wall time.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use at_emulator::DeliveryId;
use at_emulator::driver::{Deliverer, Driver, Smtp};
use at_mailer::{Failure, MailJob, Outcome, ResolveMap, SslType};
use at_scenario::ResolveTo;
use at_wire::Instant;

use super::{ReadOutcome, Target, TargetError};

fn gone(e: &at_emulator::driver::Error) -> TargetError {
    TargetError::Gone(e.to_string())
}

impl<D: Deliverer> Target for Driver<D> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), TargetError> {
        if let Some(e) = self.error() {
            return Err(gone(e));
        }
        Driver::write(self, bytes);
        Ok(())
    }

    fn read(&mut self, deadline: Instant) -> Result<ReadOutcome, TargetError> {
        let max = deadline.saturating_duration_since(Driver::now(self));
        self.advance_until_output(max).map_err(|e| gone(&e))?;
        let out = self.read_available();
        Ok(if out.is_empty() {
            ReadOutcome::Timeout
        } else {
            ReadOutcome::Data(out)
        })
    }

    fn now(&self) -> Instant {
        Driver::now(self)
    }

    fn sleep(&mut self, d: Duration) {
        // Output is kept for the next read; a stuck core is reported by that read.
        let _ = self.advance(d);
    }

    fn set_dtr(&mut self, level: bool) -> Result<(), TargetError> {
        Driver::set_dtr(self, level);
        Ok(())
    }

    fn is_virtual(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("emulator {}", self.emulator().profile().name)
    }

    fn inject_fault(&mut self, spec: &str) -> Result<(), TargetError> {
        let fault: at_emulator::Fault = spec
            .parse()
            .map_err(|e| TargetError::Gone(format!("fault {spec}: {e}")))?;
        Driver::inject_fault(self, fault);
        Ok(())
    }
}

/// Delivers a scenario's mail as its `@resolve` lines say: `sink` goes to the case's capture
/// sink (its implicit-TLS port for `ssltype 1` jobs, ERRATA E4), `fail` does not resolve, an
/// address is used as is; other names fail as DNS failures (a scenario is untrusted input:
/// `ResolveMap::deny_unmapped`). Counts the SMTP connections it opened to the sink.
#[derive(Debug)]
pub struct SinkRoute {
    smtp: Smtp,
    resolve: Vec<(String, ResolveTo)>,
    sink: Option<SocketAddr>,
    sink_tls: Option<SocketAddr>,
    connections: Arc<AtomicUsize>,
}

impl SinkRoute {
    /// Routes by `resolve` to a sink listening on `sink` (plain/STARTTLS) and `sink_tls`
    /// (implicit TLS).
    pub fn new(
        resolve: Vec<(String, ResolveTo)>,
        sink: Option<SocketAddr>,
        sink_tls: Option<SocketAddr>,
    ) -> Self {
        SinkRoute {
            smtp: Smtp::new(ResolveMap::new()),
            resolve,
            sink,
            sink_tls,
            connections: Arc::default(),
        }
    }

    /// The number of SMTP connections made to the sink so far (shared, it keeps counting).
    pub fn connections(&self) -> Arc<AtomicUsize> {
        self.connections.clone()
    }
}

impl SinkRoute {
    /// The resolve map for `job`, whether it goes to the sink, or the failed outcome of a
    /// name that must not resolve (`@resolve HOST fail`).
    #[allow(clippy::result_large_err)] // the failed delivery's Outcome, as Deliverer returns it
    fn route(&self, job: &MailJob) -> Result<(ResolveMap, bool), Outcome> {
        // A scenario may name any server; mail goes only where `@resolve` or the sink says.
        let mut map = ResolveMap::new().deny_unmapped();
        let mut to_sink = false;
        for (host, to) in &self.resolve {
            if !host.eq_ignore_ascii_case(&job.server) {
                continue;
            }
            match to {
                ResolveTo::Sink => {
                    let addr = if job.ssl == SslType::Implicit {
                        self.sink_tls
                    } else {
                        self.sink
                    };
                    if let Some(a) = addr {
                        map.insert(host, job.port, a);
                        to_sink = true;
                    }
                }
                ResolveTo::Fail => {
                    return Err(Outcome {
                        result: Err(Failure::Dns),
                        transcript: Default::default(),
                    });
                }
                ResolveTo::Addr(ip) => {
                    if let Ok(ip) = ip.parse::<IpAddr>() {
                        map.insert(host, job.port, SocketAddr::new(ip, job.port));
                    }
                }
            }
        }
        Ok((map, to_sink))
    }

    /// Counts a connection to the sink when `result` says one was made.
    fn count(&self, to_sink: bool, result: &Result<(), Failure>) {
        if to_sink && !matches!(result, Err(Failure::Dns | Failure::Refused)) {
            self.connections.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Deliverer for SinkRoute {
    fn deliver(&mut self, job: &MailJob) -> Option<Outcome> {
        let (map, to_sink) = match self.route(job) {
            Ok(r) => r,
            Err(o) => return Some(o),
        };
        let outcome = self.smtp.send(job, &map);
        self.count(to_sink, &outcome.result);
        Some(outcome)
    }

    fn open(&mut self, id: DeliveryId, job: &MailJob) -> Option<Result<(), Outcome>> {
        let (map, to_sink) = match self.route(job) {
            Ok(r) => r,
            Err(o) => return Some(Err(o)),
        };
        let opened = self.smtp.open_session(id, job, &map);
        let result = match &opened {
            Ok(()) => Ok(()),
            Err(o) => o.result.clone(),
        };
        self.count(to_sink, &result);
        Some(opened)
    }

    fn send(&mut self, id: DeliveryId, job: &MailJob) -> Option<Outcome> {
        // The session was counted when it opened; a fresh delivery counts itself.
        let (map, to_sink) = match self.route(job) {
            Ok(r) => r,
            Err(o) => return Some(o),
        };
        if self.smtp.has_session(id) {
            return Some(self.smtp.send_on(id, job, &map));
        }
        let outcome = self.smtp.send(job, &map);
        self.count(to_sink, &outcome.result);
        Some(outcome)
    }

    fn abort(&mut self, id: DeliveryId) {
        self.smtp.abort_session(id);
    }
}
