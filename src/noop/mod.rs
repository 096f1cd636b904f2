//! When may `timmy up` skip Compose because nothing would change? The decision is pure: the
//! facts gathered about the request, the resolved configuration, the running containers, the
//! images and the build inputs go in; [`Decision::Skip`] or [`Decision::Full`] with every
//! reason (one line each, for `-v`) comes out. Any fact that is missing or not understood is a
//! reason for the full `up`: a wrong skip leaves old code running after a change.
//!
//! The facts are gathered by [`wanted`], [`running`] (the engine's socket only) and the record
//! the last full `up` left in timmy's cache folder ([`Store`]), all in `gather.rs`; the digest
//! of a build's inputs ([`inputs_digest`]) is in `inputs.rs`. Measured with Compose 2.26.1 and
//! 2.40.3: `config --hash` cannot be compared with the containers'
//! `com.docker.compose.config-hash` label for a service with `env_file:` (the two never agree)
//! and does not change when the env file's values change, so the configuration is compared
//! through a digest of the whole resolved `config --format json` instead, recorded by the last
//! full `up`.

mod gather;
mod inputs;

pub use gather::{Store, running, wanted};
pub use inputs::{Ignore, from_images, inputs_digest};

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::status::{Health, State};

/// What the user asked `up` to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub detach: bool,
    /// `--build` given explicitly.
    pub build: bool,
    pub dry_run: bool,
}

/// One container of the project as the engine shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub service: String,
    pub id: String,
    pub state: State,
    pub health: Health,
    /// The image ID the container runs.
    pub image_id: String,
    /// Started from this checkout with this env's files (`checkout::is_ours` and the config
    /// files label).
    pub ours: bool,
}

/// What the last successful full `up` of this project recorded, per service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub container_id: String,
    pub image_id: String,
    /// Digest of the build inputs ([`inputs_digest`]); `None` for a service with `image:` only.
    pub inputs: Option<String>,
}

/// What the last successful full `up` recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Digest of `config --format json` taken before that `up` ran ([`config_digest`]).
    pub config: String,
    pub services: BTreeMap<String, Recorded>,
}

/// A service of the resolved configuration now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The image ID its tag points at now; `None` when the tag is not there.
    pub tag_id: Option<String>,
    /// For a service that builds: the digest of its build inputs now, or why it is unknown.
    pub inputs: Option<Result<String, String>>,
}

/// Everything the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub request: Request,
    /// Digest of `config --format json` now.
    pub config: String,
    pub record: Option<Record>,
    pub wanted: BTreeMap<String, Wanted>,
    pub running: Vec<Running>,
}

/// Why the full `up` runs: one line each under `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    NotDetached,
    BuildAsked,
    DryRun,
    NoRecord,
    ConfigChanged,
    ServicesDiffer {
        wanted: Vec<String>,
        running: Vec<String>,
    },
    RecordDiffers(Vec<String>),
    NotOurs(String),
    NotReady {
        service: String,
        state: String,
    },
    Recreated(String),
    TagMoved(String),
    TagMissing(String),
    ImageDiffers(String),
    InputsChanged(String),
    InputsUnknown {
        service: String,
        why: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDetached => f.write_str("up without --detach follows the logs"),
            Self::BuildAsked => f.write_str("--build asked for the full up"),
            Self::DryRun => f.write_str("--dry-run shows the full up"),
            Self::NoRecord => f.write_str("no full up of this stack recorded yet"),
            Self::ConfigChanged => {
                f.write_str("the resolved configuration differs from the last full up's")
            }
            Self::ServicesDiffer { wanted, running } => write!(
                f,
                "services wanted ({}) differ from the containers running ({})",
                wanted.join(", "),
                running.join(", ")
            ),
            Self::RecordDiffers(recorded) => write!(
                f,
                "the last full up recorded other services ({})",
                recorded.join(", ")
            ),
            Self::NotOurs(s) => write!(
                f,
                "the container of `{s}` was not started from this checkout with these files"
            ),
            Self::NotReady { service, state } => write!(f, "`{service}` is {state}"),
            Self::Recreated(s) => write!(
                f,
                "the container of `{s}` is not the one the last full up left"
            ),
            Self::TagMoved(s) => write!(
                f,
                "the image tag of `{s}` points at another image than the last full up's"
            ),
            Self::TagMissing(s) => write!(f, "the image tag of `{s}` is not on the engine"),
            Self::ImageDiffers(s) => write!(
                f,
                "the container of `{s}` runs another image than its tag points at"
            ),
            Self::InputsChanged(s) => write!(
                f,
                "the build inputs of `{s}` changed since the last full up"
            ),
            Self::InputsUnknown { service, why } => {
                write!(f, "the build inputs of `{service}` cannot be judged: {why}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing would change: every service runs its current configuration and image, ready.
    Skip,
    /// Run the full `up`, for these reasons (never empty).
    Full(Vec<Reason>),
}

/// Skip only when every fact proves that Compose's `up --build` would change nothing.
pub fn decide(facts: &Facts) -> Decision {
    let mut reasons = Vec::new();
    let r = facts.request;
    if !r.detach {
        reasons.push(Reason::NotDetached);
    }
    if r.build {
        reasons.push(Reason::BuildAsked);
    }
    if r.dry_run {
        reasons.push(Reason::DryRun);
    }
    let Some(record) = &facts.record else {
        reasons.push(Reason::NoRecord);
        // Why none could be recorded, and never will be while it lasts.
        for (service, want) in &facts.wanted {
            if let Some(Err(why)) = &want.inputs {
                reasons.push(Reason::InputsUnknown {
                    service: service.clone(),
                    why: why.clone(),
                });
            }
        }
        return Decision::Full(reasons);
    };
    if record.config != facts.config {
        reasons.push(Reason::ConfigChanged);
    }
    let wanted: Vec<String> = facts.wanted.keys().cloned().collect();
    let mut running: Vec<String> = facts.running.iter().map(|c| c.service.clone()).collect();
    running.sort();
    let recorded: Vec<String> = record.services.keys().cloned().collect();
    if wanted != running {
        reasons.push(Reason::ServicesDiffer { wanted, running });
        return Decision::Full(reasons);
    }
    if wanted != recorded {
        reasons.push(Reason::RecordDiffers(recorded));
        return Decision::Full(reasons);
    }
    for c in &facts.running {
        let (Some(want), Some(rec)) = (
            facts.wanted.get(&c.service),
            record.services.get(&c.service),
        ) else {
            continue;
        };
        reasons.extend(service_reasons(c, want, rec));
    }
    if reasons.is_empty() {
        Decision::Skip
    } else {
        Decision::Full(reasons)
    }
}

fn service_reasons(c: &Running, want: &Wanted, rec: &Recorded) -> Vec<Reason> {
    let s = || c.service.clone();
    let mut reasons = Vec::new();
    if !c.ours {
        reasons.push(Reason::NotOurs(s()));
    }
    let ready = c.state == State::Running && matches!(c.health, Health::Healthy | Health::None);
    if !ready {
        let state = match (&c.state, &c.health) {
            (State::Running, h) => h.as_str().to_string(),
            (st, _) => st.as_str().to_string(),
        };
        reasons.push(Reason::NotReady {
            service: s(),
            state,
        });
    }
    if c.id != rec.container_id {
        reasons.push(Reason::Recreated(s()));
    }
    match &want.tag_id {
        None => reasons.push(Reason::TagMissing(s())),
        Some(tag) if *tag != rec.image_id => reasons.push(Reason::TagMoved(s())),
        Some(tag) if *tag != c.image_id => reasons.push(Reason::ImageDiffers(s())),
        Some(_) => {}
    }
    match (&want.inputs, &rec.inputs) {
        (None, None) => {}
        (Some(Ok(now)), Some(then)) if now == then => {}
        (Some(Err(why)), _) => reasons.push(Reason::InputsUnknown {
            service: s(),
            why: why.clone(),
        }),
        _ => reasons.push(Reason::InputsChanged(s())),
    }
    reasons
}

/// What a successful full `up` leaves to record: the configuration digest and the build
/// inputs taken before it ran, the containers and images after. `None` when a service that
/// builds had no known inputs or a container is not there.
pub fn record(
    config: &str,
    wanted: &BTreeMap<String, Wanted>,
    running: &[Running],
) -> Option<Record> {
    let mut services = BTreeMap::new();
    for c in running {
        let want = wanted.get(&c.service)?;
        let inputs = match &want.inputs {
            None => None,
            Some(Ok(digest)) => Some(digest.clone()),
            Some(Err(_)) => return None,
        };
        services.insert(
            c.service.clone(),
            Recorded {
                container_id: c.id.clone(),
                image_id: c.image_id.clone(),
                inputs,
            },
        );
    }
    (services.len() == wanted.len()).then(|| Record {
        config: config.to_string(),
        services,
    })
}

/// The digest of Compose's resolved configuration (`config --format json`): every service's
/// settings with `.env` and `env_file:` values interpolated, build sections, ports, volumes.
pub fn config_digest(config_json: &str) -> String {
    hex(&Sha256::digest(config_json.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(service: &str) -> Running {
        Running {
            service: service.into(),
            id: format!("c-{service}"),
            state: State::Running,
            health: Health::Healthy,
            image_id: format!("i-{service}"),
            ours: true,
        }
    }

    /// redis (image only) and timmy (built), both running what the last full up left.
    fn facts() -> Facts {
        let rec = |s: &str, inputs: Option<&str>| Recorded {
            container_id: format!("c-{s}"),
            image_id: format!("i-{s}"),
            inputs: inputs.map(String::from),
        };
        Facts {
            request: Request {
                detach: true,
                build: false,
                dry_run: false,
            },
            config: "cfg".into(),
            record: Some(Record {
                config: "cfg".into(),
                services: BTreeMap::from([
                    ("redis".into(), rec("redis", None)),
                    ("timmy".into(), rec("timmy", Some("in"))),
                ]),
            }),
            wanted: BTreeMap::from([
                (
                    "redis".into(),
                    Wanted {
                        tag_id: Some("i-redis".into()),
                        inputs: None,
                    },
                ),
                (
                    "timmy".into(),
                    Wanted {
                        tag_id: Some("i-timmy".into()),
                        inputs: Some(Ok("in".into())),
                    },
                ),
            ]),
            running: vec![running("redis"), running("timmy")],
        }
    }

    #[track_caller]
    fn case(change: impl Fn(&mut Facts), expected: &[&str]) {
        let mut f = facts();
        change(&mut f);
        let lines: Vec<String> = match decide(&f) {
            Decision::Skip => Vec::new(),
            Decision::Full(reasons) => {
                assert!(!reasons.is_empty());
                reasons.iter().map(ToString::to_string).collect()
            }
        };
        assert_eq!(lines, expected);
    }

    fn timmy(f: &mut Facts) -> &mut Running {
        &mut f.running[1]
    }

    #[test]
    fn skips_only_when_every_fact_says_nothing_would_change() {
        case(|_| {}, &[]);
        case(|f| f.running[0].health = Health::None, &[]);
        case(
            |f| f.request.detach = false,
            &["up without --detach follows the logs"],
        );
        case(
            |f| f.request.build = true,
            &["--build asked for the full up"],
        );
        case(
            |f| f.request.dry_run = true,
            &["--dry-run shows the full up"],
        );
        case(
            |f| f.record = None,
            &["no full up of this stack recorded yet"],
        );
        case(
            |f| {
                f.record = None;
                f.wanted.get_mut("timmy").unwrap().inputs = Some(Err("a symlink".into()));
            },
            &[
                "no full up of this stack recorded yet",
                "the build inputs of `timmy` cannot be judged: a symlink",
            ],
        );
        case(
            |f| f.config = "other".into(),
            &["the resolved configuration differs from the last full up's"],
        );
        case(
            |f| {
                f.running.remove(0);
            },
            &["services wanted (redis, timmy) differ from the containers running (timmy)"],
        );
        case(
            |f| f.running.push(running("worker")),
            &[
                "services wanted (redis, timmy) differ from the containers running (redis, timmy, worker)",
            ],
        );
        case(
            |f| {
                f.wanted.insert(
                    "worker".into(),
                    Wanted {
                        tag_id: None,
                        inputs: None,
                    },
                );
                f.running.push(running("worker"));
            },
            &["the last full up recorded other services (redis, timmy)"],
        );
    }

    #[test]
    fn each_service_must_run_its_recorded_container_image_and_inputs() {
        case(
            |f| timmy(f).ours = false,
            &["the container of `timmy` was not started from this checkout with these files"],
        );
        case(
            |f| timmy(f).health = Health::Starting,
            &["`timmy` is starting"],
        );
        case(
            |f| timmy(f).health = Health::Unhealthy,
            &["`timmy` is unhealthy"],
        );
        case(
            |f| timmy(f).state = State::Restarting,
            &["`timmy` is restarting"],
        );
        case(|f| timmy(f).state = State::Exited, &["`timmy` is exited"]);
        case(
            |f| timmy(f).id = "c-new".into(),
            &["the container of `timmy` is not the one the last full up left"],
        );
        case(
            |f| f.wanted.get_mut("redis").unwrap().tag_id = Some("i-pulled".into()),
            &["the image tag of `redis` points at another image than the last full up's"],
        );
        case(
            |f| f.wanted.get_mut("redis").unwrap().tag_id = None,
            &["the image tag of `redis` is not on the engine"],
        );
        case(
            |f| f.running[0].image_id = "i-old".into(),
            &["the container of `redis` runs another image than its tag points at"],
        );
        case(
            |f| f.wanted.get_mut("timmy").unwrap().inputs = Some(Ok("edited".into())),
            &["the build inputs of `timmy` changed since the last full up"],
        );
        case(
            |f| f.wanted.get_mut("redis").unwrap().inputs = Some(Ok("in".into())),
            &["the build inputs of `redis` changed since the last full up"],
        );
        case(
            |f| f.wanted.get_mut("timmy").unwrap().inputs = None,
            &["the build inputs of `timmy` changed since the last full up"],
        );
        case(
            |f| {
                f.wanted.get_mut("timmy").unwrap().inputs = Some(Err(
                    "`FROM --platform=x y` is a FROM timmy does not judge".into(),
                ));
            },
            &[
                "the build inputs of `timmy` cannot be judged: `FROM --platform=x y` is a FROM timmy does not judge",
            ],
        );
        case(
            |f| {
                f.request.detach = false;
                f.config = "other".into();
                timmy(f).health = Health::Unhealthy;
            },
            &[
                "up without --detach follows the logs",
                "the resolved configuration differs from the last full up's",
                "`timmy` is unhealthy",
            ],
        );
    }

    #[test]
    fn config_digest_sees_any_change_of_the_resolved_text() {
        assert_eq!(
            config_digest("{}"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_ne!(
            config_digest(r#"{"FOO":"1"}"#),
            config_digest(r#"{"FOO":"2"}"#)
        );
    }
}
