//! `--target labgrid:...` made into targets: the selected places, each reserved (waiting at
//! most `--lab-wait`), acquired, its serial port read and its module health-checked, in
//! parallel; a place that cannot be used is *not run*, with the reason.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use at_runner::multi::TargetArg;
use at_scenario::Profile;

use crate::health::{self, Health};
use crate::labgrid::{Client, LabSpec, Lease, NetworkSerialPort, Place};

/// A place a spec selects, before anything is reserved.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The spec that selected it.
    pub spec: LabSpec,
    /// The place.
    pub place: Place,
    /// Its profile and where that came from (`spec`, `tag`), or why it has none.
    pub profile: Result<(Profile, &'static str), NoProfile>,
}

/// Why a selected place has no module profile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoProfile {
    /// Its `profile` tag names no profile.
    #[error("its tag profile={0} is not a profile")]
    BadTag(String),
    /// Neither the spec nor a tag gives one.
    #[error(
        "no profile: tag the place (labgrid-client -p {0} set-tags profile=ec25) or \
         write PROFILE=labgrid:{0}"
    )]
    Untagged(String),
}

/// Why `--target labgrid:...` specs do not select a set of places.
#[derive(Debug, thiserror::Error)]
pub enum CandidatesError {
    /// The coordinator's place list cannot be read.
    #[error("{0}")]
    Labgrid(#[from] crate::labgrid::LabgridError),
    /// A spec selects no place.
    #[error("--target {spec}: no place matches (coordinator {coordinator}: {})", places_text(.places))]
    NoMatch {
        /// The spec as written.
        spec: String,
        /// The coordinator asked.
        coordinator: String,
        /// The places it has.
        places: Vec<String>,
    },
    /// Two specs select the same place.
    #[error("place {place} is selected twice ({first} and {second})")]
    Twice {
        /// The place.
        place: String,
        /// The first spec selecting it.
        first: String,
        /// The second.
        second: String,
    },
}

fn places_text(names: &[String]) -> String {
    if names.is_empty() {
        "no places".to_string()
    } else {
        format!("places {}", names.join(", "))
    }
}

impl Candidate {
    /// The column label and run-directory name: the spec's label, else the place's name.
    pub fn label(&self) -> &str {
        self.spec.label.as_deref().unwrap_or(&self.place.name)
    }
}

/// The places `specs` select (one `labgrid-client places` call). Fails when a spec selects
/// nothing or two specs select the same place.
pub fn candidates(client: &Client, specs: &[LabSpec]) -> Result<Vec<Candidate>, CandidatesError> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let places = client.places()?;
    let mut out: Vec<Candidate> = Vec::new();
    for spec in specs {
        let chosen: Vec<&Place> = places.iter().filter(|p| spec.selects(p)).collect();
        if chosen.is_empty() {
            return Err(CandidatesError::NoMatch {
                spec: spec.text.clone(),
                coordinator: crate::labgrid::coordinator(),
                places: places.iter().map(|p| p.name.clone()).collect(),
            });
        }
        for place in chosen {
            if let Some(other) = out.iter().find(|c| c.place.name == place.name) {
                return Err(CandidatesError::Twice {
                    place: place.name.clone(),
                    first: other.spec.text.clone(),
                    second: spec.text.clone(),
                });
            }
            let profile = match (spec.profile, place.tags.get("profile")) {
                (Some(p), _) => Ok((p, "spec")),
                (None, Some(tag)) => Profile::from_name(tag)
                    .map(|p| (p, "tag"))
                    .ok_or_else(|| NoProfile::BadTag(tag.clone())),
                (None, None) => Err(NoProfile::Untagged(place.name.clone())),
            };
            out.push(Candidate {
                spec: spec.clone(),
                place: place.clone(),
                profile,
            });
        }
    }
    Ok(out)
}

/// A place held for the run.
#[derive(Debug)]
pub struct Held {
    /// The place, as selected.
    pub candidate: Candidate,
    /// The reservation and acquisition, released when dropped.
    pub lease: Lease,
    /// Its serial port.
    pub port: NetworkSerialPort,
    /// The place as a target of the run (label: the place's name).
    pub target: TargetArg,
    /// What the health check found.
    pub health: Health,
    /// Reserving and acquiring took this long.
    pub acquire_time: Duration,
    /// The health check took this long.
    pub health_time: Duration,
}

/// A place that is not run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRun {
    /// The place's name.
    pub label: String,
    /// Its profile, if known.
    pub profile: Option<Profile>,
    /// Why.
    pub reason: String,
}

/// Reserves, acquires and health-checks every candidate in parallel (each waits at most
/// `wait` for its reservation). A place whose profile, port or health check fails is
/// released at once and comes back as [`NotRun`].
pub fn acquire_all(
    client: &Client,
    candidates: &[Candidate],
    wait: Duration,
    cancel: &AtomicBool,
) -> Vec<Result<Held, NotRun>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .iter()
            .map(|c| scope.spawn(move || acquire(client, c, wait, cancel)))
            .collect();
        handles
            .into_iter()
            .zip(candidates)
            .map(|(h, c)| {
                h.join().unwrap_or_else(|_| {
                    Err(NotRun {
                        label: c.label().to_string(),
                        profile: None,
                        reason: "acquiring the place panicked".into(),
                    })
                })
            })
            .collect()
    })
}

fn acquire(
    client: &Client,
    c: &Candidate,
    wait: Duration,
    cancel: &AtomicBool,
) -> Result<Held, NotRun> {
    let not_run = |profile: Option<Profile>, reason: String| NotRun {
        label: c.label().to_string(),
        profile,
        reason,
    };
    let (profile, _) = c
        .profile
        .clone()
        .map_err(|e| not_run(None, e.to_string()))?;
    let start = Instant::now();
    let lease = Lease::take(client, &c.place.name, wait, cancel)
        .map_err(|e| not_run(Some(profile), e.to_string()))?;
    let acquire_time = start.elapsed();
    let (_, resources) = client
        .show(&c.place.name)
        .map_err(|e| not_run(Some(profile), e.to_string()))?;
    let port =
        NetworkSerialPort::of(&resources).map_err(|e| not_run(Some(profile), e.to_string()))?;
    let spec = port.target_spec().ok_or_else(|| {
        not_run(
            Some(profile),
            format!("{}: no port published after acquiring", port.path),
        )
    })?;
    let start = Instant::now();
    let health = health::check_spec(&spec, profile)
        .map_err(|e| not_run(Some(profile), format!("unhealthy: {e}")))?;
    let health_time = start.elapsed();
    let target = TargetArg {
        label: c.label().to_string(),
        profile,
        target: spec,
        quirks: Vec::new(),
        liberties: Vec::new(),
        origin: c.spec.origin_for(&c.place.name),
    };
    Ok(Held {
        candidate: c.clone(),
        lease,
        port,
        target,
        health,
        acquire_time,
        health_time,
    })
}
