//! What is running, parsed from docker's own output: `docker compose ps --format json` (a JSON
//! array before Compose 2.21, JSON Lines since) and timmy's label query over `docker ps`
//! (see [`crate::compose::containers_of`]), and the last health check of `docker inspect`. Pure
//! parsing; the caller runs the commands.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize, Serializer};

/// A container's state as Docker names it (`State` in `docker ps`, Compose's `ps` and the
/// engine API), parsed once where docker's output is read. A word this version does not know
/// is kept as [`State::Other`], so nothing is lost on the way to `ps --json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    Other(String),
}

impl State {
    pub fn parse(word: &str) -> Self {
        match word {
            "created" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" => Self::Exited,
            "dead" => Self::Dead,
            other => Self::Other(other.to_string()),
        }
    }

    /// Docker's own word for the state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
            Self::Other(word) => word,
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A container's health check result; [`Health::None`] when the service has none. Serialized
/// as Docker's word (`""` for none), like [`State`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    None,
    Starting,
    Healthy,
    Unhealthy,
    Other(String),
}

impl Health {
    pub fn parse(word: &str) -> Self {
        match word {
            "" => Self::None,
            "starting" => Self::Starting,
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            other => Self::Other(other.to_string()),
        }
    }

    /// Docker's own word for the health, empty for none.
    pub fn as_str(&self) -> &str {
        match self {
            Self::None => "",
            Self::Starting => "starting",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Other(word) => word,
        }
    }
}

impl Serialize for Health {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One service container as timmy reports it (`timmy ps --json` prints a list of these; the
/// field names are a stable interface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub service: String,
    pub name: String,
    pub state: State,
    pub health: Health,
    pub exit_code: i64,
    pub ports: Vec<String>,
    pub image: String,
    /// Docker's human status, e.g. `Up 3 minutes (healthy)`.
    pub status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPs {
    #[serde(default)]
    name: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    health: String,
    #[serde(default)]
    exit_code: i64,
    #[serde(default)]
    publishers: Option<Vec<RawPublisher>>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPublisher {
    #[serde(default, rename = "URL")]
    url: String,
    #[serde(default)]
    target_port: u32,
    #[serde(default)]
    published_port: u32,
    #[serde(default)]
    protocol: String,
}

/// Parse `docker compose ps --format json` in either of its forms.
pub fn parse_ps(text: &str) -> Result<Vec<Service>> {
    let trimmed = text.trim();
    let raw: Vec<RawPs> = if trimmed.is_empty() {
        Vec::new()
    } else if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).context("cannot read `docker compose ps` JSON array")?
    } else {
        trimmed
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .context("cannot read `docker compose ps` JSON lines")?
    };
    let mut services: Vec<Service> = raw.into_iter().map(Service::from).collect();
    services.sort_by(|a, b| a.service.cmp(&b.service).then(a.name.cmp(&b.name)));
    Ok(services)
}

impl From<RawPs> for Service {
    fn from(r: RawPs) -> Self {
        let mut ports: Vec<String> = r
            .publishers
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.published_port != 0)
            .map(|p| {
                let host = if p.url.is_empty() {
                    "0.0.0.0".into()
                } else {
                    p.url
                };
                format!(
                    "{host}:{}->{}/{}",
                    p.published_port, p.target_port, p.protocol
                )
            })
            .collect();
        ports.sort();
        ports.dedup();
        Self {
            service: r.service,
            name: r.name,
            state: State::parse(&r.state),
            health: Health::parse(&r.health),
            exit_code: r.exit_code,
            ports,
            image: r.image,
            status: r.status,
        }
    }
}

impl Service {
    /// Exited with a failure, or unhealthy: what `up` must report.
    pub fn is_failed(&self) -> bool {
        self.health == Health::Unhealthy
            || matches!(self.state, State::Dead | State::Restarting)
            || (self.state == State::Exited && self.exit_code != 0)
    }
}

impl Service {
    /// How long a running container has been up, from Docker's status text
    /// (`Up 3 minutes (healthy)` → `3 minutes`).
    pub fn uptime(&self) -> Option<&str> {
        let rest = self.status.strip_prefix("Up ")?;
        Some(rest.split(" (").next().unwrap_or(rest).trim())
    }

    /// Why `up` counts this service as failed, in words. A crash-looping container reports
    /// `ExitCode` 0 while it restarts; its last code is only in the status text, `Restarting (3)`.
    pub fn failure(&self) -> String {
        match &self.state {
            State::Restarting => {
                let code = self
                    .status
                    .strip_prefix("Restarting (")
                    .and_then(|r| r.split_once(')'))
                    .map_or_else(String::new, |(c, _)| format!(", last exit code {c}"));
                format!("keeps crashing and restarting{code}")
            }
            State::Exited | State::Dead => {
                format!("{} with exit code {}", self.state, self.exit_code)
            }
            _ if self.health == Health::Unhealthy => "is unhealthy".to_string(),
            other => format!("is {other}"),
        }
    }
}

/// A container carrying the project label, from the label query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub state: State,
    pub service: String,
    pub oneoff: bool,
    pub config_files: Vec<PathBuf>,
    /// The Compose project label.
    pub project: String,
    /// Compose's `com.docker.compose.project.working_dir` label: the checkout that started it
    /// (empty on a container Compose did not create).
    pub working_dir: String,
}

/// Parse the tab-separated lines of [`crate::compose::containers_with`].
pub fn parse_containers(text: &str) -> Vec<Container> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let mut f = line.split('\t');
            let id = f.next()?.trim().to_string();
            let name = f.next().unwrap_or("").to_string();
            let state = State::parse(f.next().unwrap_or(""));
            let service = f.next().unwrap_or("").to_string();
            let oneoff = f.next().unwrap_or("").eq_ignore_ascii_case("true");
            let config_files = f
                .next()
                .unwrap_or("")
                .split(',')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect();
            let project = f.next().unwrap_or("").to_string();
            let working_dir = f.next().unwrap_or("").to_string();
            (!id.is_empty()).then_some(Container {
                id,
                name,
                state,
                service,
                oneoff,
                config_files,
                project,
                working_dir,
            })
        })
        .collect()
}

/// The config files most containers of a project were started with (a stray container may
/// carry none); ties go to the first seen.
pub fn running_files(containers: &[Container]) -> Vec<PathBuf> {
    let mut best: Option<(&Vec<PathBuf>, usize)> = None;
    for c in containers.iter().filter(|c| !c.config_files.is_empty()) {
        let count = containers
            .iter()
            .filter(|o| o.config_files == c.config_files)
            .count();
        if best.is_none_or(|(_, n)| count > n) {
            best = Some((&c.config_files, count));
        }
    }
    best.map(|(f, _)| f.clone()).unwrap_or_default()
}

/// Containers of the project that do not belong to the stack being stopped, with the reason:
/// one-offs from `docker compose run`, containers started from other compose files (a renamed
/// checkout, another environment), services no compose file declares any more, and containers
/// that only carry the project label.
pub fn orphans<'a>(
    containers: &'a [Container],
    files: &[PathBuf],
    known_services: &[String],
) -> Vec<(&'a Container, &'static str)> {
    containers
        .iter()
        .filter_map(|c| {
            let why = if c.oneoff {
                "one-off container from `docker compose run`"
            } else if c.service.is_empty() {
                "not created by Compose, only labelled with the project"
            } else if !known_services.contains(&c.service) {
                "its service is no longer in any compose file"
            } else if !files.is_empty() && c.config_files != files {
                "started from other compose files"
            } else {
                return None;
            };
            Some((c, why))
        })
        .collect()
}

/// The environment named by an override file `docker-compose.<env>.yml` among `files`.
pub fn env_of_files(files: &[PathBuf]) -> Option<String> {
    files.iter().find_map(|f| {
        let name = f.file_name()?.to_str()?;
        let env = name.strip_prefix("docker-compose.")?.strip_suffix(".yml")?;
        (!env.is_empty()).then(|| env.to_string())
    })
}

/// The last health check in `docker inspect --format '{{.Name}}\t{{json .State.Health}}'`
/// output, as `exit code N: output`; `None` when there is none.
pub fn last_health_check(stdout: &str) -> Option<String> {
    let json = stdout.lines().next()?.split_once('\t')?.1;
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let last = value.get("Log")?.as_array()?.last()?;
    let code = last
        .get("ExitCode")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(-1);
    let output = last
        .get("Output")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .trim();
    Some(format!("exit code {code}: {output}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = r#"{"Command":"\"docker-entrypoint.s…\"","CreatedAt":"2026-11-27 13:00:00 +0000 UTC","ExitCode":0,"Health":"healthy","ID":"abc","Image":"redis:7","Labels":"x=y","LocalVolumes":"1","Mounts":"v","Name":"timmy-redis-1","Names":"timmy-redis-1","Networks":"timmy_timmy-network","Ports":"6379/tcp","Project":"timmy","Publishers":[{"URL":"","TargetPort":6379,"PublishedPort":0,"Protocol":"tcp"}],"RunningFor":"2 minutes ago","Service":"redis","Size":"0B","State":"running","Status":"Up 2 minutes (healthy)"}
{"ExitCode":0,"Health":"starting","ID":"def","Image":"timmy-timmy","Name":"timmy-timmy-1","Project":"timmy","Publishers":[{"URL":"127.0.0.1","TargetPort":9229,"PublishedPort":9229,"Protocol":"tcp"},{"URL":"127.0.0.1","TargetPort":3000,"PublishedPort":3000,"Protocol":"tcp"}],"Service":"timmy","State":"running","Status":"Up 3 seconds (health: starting)"}
"#;

    const ARRAY: &str = r#"[{"ID":"abc","Name":"timmy-redis-1","Service":"redis","State":"running","Health":"","ExitCode":0,"Publishers":null,"Image":"redis:7","Status":"Up"},
{"ID":"def","Name":"timmy-timmy-1","Service":"timmy","State":"exited","Health":"","ExitCode":137,"Publishers":[],"Image":"t","Status":"Exited (137)"}]"#;

    #[test]
    fn json_lines_form() {
        let s = parse_ps(LINES).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].service, "redis");
        assert_eq!(s[0].health, Health::Healthy);
        assert!(s[0].ports.is_empty(), "unpublished ports are not listed");
        assert_eq!(
            s[1].ports,
            ["127.0.0.1:3000->3000/tcp", "127.0.0.1:9229->9229/tcp"]
        );
        assert!(!s[1].is_failed());
    }

    #[test]
    fn array_form() {
        let s = parse_ps(ARRAY).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].state, State::Exited);
        assert_eq!(s[1].exit_code, 137);
        assert!(s[1].is_failed());
        assert!(!s[0].is_failed());
    }

    #[test]
    fn uptime_from_status() {
        let s = parse_ps(LINES).unwrap();
        assert_eq!(s[0].uptime(), Some("2 minutes"));
        assert_eq!(s[1].uptime(), Some("3 seconds"));
        let a = parse_ps(ARRAY).unwrap();
        assert_eq!(a[1].uptime(), None, "exited: no uptime");
    }

    #[test]
    fn failure_words() {
        let mut s = parse_ps(r#"{"Service":"t","State":"restarting","ExitCode":0,"Status":"Restarting (3) 1 second ago"}"#).unwrap().remove(0);
        assert!(s.is_failed());
        assert_eq!(
            s.failure(),
            "keeps crashing and restarting, last exit code 3"
        );
        s.state = State::Exited;
        s.exit_code = 137;
        assert_eq!(s.failure(), "exited with exit code 137");
        s.state = State::Running;
        s.health = Health::Unhealthy;
        assert_eq!(s.failure(), "is unhealthy");
    }

    #[test]
    fn states_and_health_are_parsed_once_and_keep_unknown_words() {
        for word in [
            "created",
            "running",
            "paused",
            "restarting",
            "removing",
            "exited",
            "dead",
            "frozen",
            "",
        ] {
            assert_eq!(State::parse(word).as_str(), word);
        }
        assert_eq!(State::parse("frozen"), State::Other("frozen".into()));
        for word in ["", "starting", "healthy", "unhealthy", "odd"] {
            assert_eq!(Health::parse(word).as_str(), word);
        }
        assert_eq!(Health::parse(""), Health::None);
        let s = parse_ps(r#"{"Service":"t","State":"frozen","Health":"odd","ExitCode":0}"#)
            .unwrap()
            .remove(0);
        assert_eq!(s.failure(), "is frozen");
        assert!(!s.is_failed());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"service":"t","name":"","state":"frozen","health":"odd","exit_code":0,"ports":[],"image":"","status":""}"#
        );
    }

    #[test]
    fn empty_and_garbage() {
        assert!(parse_ps("").unwrap().is_empty());
        assert!(parse_ps("[]").unwrap().is_empty());
        assert!(parse_ps("not json").is_err());
    }

    #[test]
    fn one_shot_that_exited_zero_is_not_a_failure() {
        let s = parse_ps(r#"{"Service":"init","State":"exited","ExitCode":0}"#).unwrap();
        assert!(!s[0].is_failed());
    }

    #[test]
    fn label_lines() {
        let text = "id1\ttimmy-redis-1\trunning\tredis\tFalse\t/p/docker/docker-compose.yml,/p/docker/docker-compose.prod.yml\n\
                    id2\tstray\texited\t\t\t\n\
                    id3\ttimmy-run-x\trunning\ttimmy\tTrue\t/p/docker/docker-compose.yml,/p/docker/docker-compose.prod.yml\n";
        let c = parse_containers(text);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].config_files.len(), 2);
        assert!(!c[0].oneoff);
        assert!(c[2].oneoff);
        assert!(c[1].config_files.is_empty());
        let files = running_files(&c);
        assert_eq!(files[1], PathBuf::from("/p/docker/docker-compose.prod.yml"));
        assert_eq!(env_of_files(&files).as_deref(), Some("prod"));
        assert!(running_files(&c[1..2]).is_empty());
        let known = vec!["redis".to_string(), "timmy".to_string()];
        let why: Vec<(&str, &str)> = orphans(&c, &files, &known)
            .into_iter()
            .map(|(c, w)| (c.name.as_str(), w))
            .collect();
        assert_eq!(
            why,
            [
                (
                    "stray",
                    "not created by Compose, only labelled with the project"
                ),
                ("timmy-run-x", "one-off container from `docker compose run`"),
            ]
        );
        let only_redis = vec!["redis".to_string()];
        assert_eq!(orphans(&c[..1], &[], &only_redis).len(), 0);
        let dropped = orphans(&c[2..], &files, &only_redis);
        assert_eq!(dropped[0].1, "one-off container from `docker compose run`");
        assert_eq!(env_of_files(&[PathBuf::from("/x/compose.yaml")]), None);
    }
    #[test]
    fn last_health_check_is_the_last_log_entry() {
        let out = "/p-redis-1\t{\"Status\":\"unhealthy\",\"Log\":[{\"ExitCode\":0,\"Output\":\"PONG\"},{\"ExitCode\":1,\"Output\":\"no answer\\n\"}]}\n";
        assert_eq!(
            last_health_check(out).as_deref(),
            Some("exit code 1: no answer")
        );
        assert_eq!(last_health_check("/p-redis-1\tnull\n"), None);
        assert_eq!(last_health_check(""), None);
    }
}
