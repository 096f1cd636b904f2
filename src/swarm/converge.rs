//! Is a deployed stack where it should be? Docker's JSON about the stack's services
//! (`docker service inspect`) and tasks (`docker inspect --type task`) parsed into values, and
//! the pure verdict `timmy deploy` waits on: every service at its desired replicas with every
//! task of the current spec running (on Swarm a task with a health check stays `starting` until
//! the check passes, so `running` means healthy), no update in progress, and no task of the
//! current spec failed since the deploy began — else the failure, naming the service.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use jiff::Timestamp;
use serde::Deserialize;

/// The label `docker stack deploy` puts on everything of a stack.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";

/// A task's state, as swarmkit names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    /// new, pending, assigned, accepted, preparing, ready: not started yet.
    Pending,
    /// Started; waiting for its health check to pass.
    Starting,
    Running,
    Complete,
    Shutdown,
    Failed,
    Rejected,
    /// remove, orphaned, or a state this version does not know.
    Other(String),
}

impl TaskState {
    fn parse(text: &str) -> Self {
        match text {
            "new" | "pending" | "assigned" | "accepted" | "preparing" | "ready" => Self::Pending,
            "starting" => Self::Starting,
            "running" => Self::Running,
            "complete" => Self::Complete,
            "shutdown" => Self::Shutdown,
            "failed" => Self::Failed,
            "rejected" => Self::Rejected,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn word(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Shutdown => "shutdown",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Other(s) => s,
        }
    }
}

/// A service's rolling update, from its `UpdateStatus` (absent before the first update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    None,
    Updating,
    Completed,
    /// The update stopped on a failed task (`failure_action: pause`), with docker's message.
    Paused(String),
    RollingBack,
    /// Rolled back or stopped while rolling back: the new spec did not take.
    RolledBack(String),
}

/// One service of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmService {
    pub id: String,
    /// The full name, `<stack>_<service>`.
    pub name: String,
    /// The name in the compose file (the stack namespace stripped).
    pub service: String,
    /// Replicas wanted; `None` for a global service (one per node).
    pub replicas: Option<u64>,
    /// The image the current spec runs.
    pub image: String,
    pub has_healthcheck: bool,
    pub update: Update,
    /// Ports published on the nodes: `8080:3000/tcp (host)`.
    pub ports: Vec<String>,
}

/// One task (one replica's attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: String,
    pub service_id: String,
    pub slot: Option<u64>,
    pub node_id: String,
    pub image: String,
    pub state: TaskState,
    pub desired: TaskState,
    pub error: String,
    pub exit_code: Option<i64>,
    pub at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawService {
    #[serde(rename = "ID")]
    id: String,
    spec: RawServiceSpec,
    #[serde(default)]
    update_status: Option<RawUpdateStatus>,
    #[serde(default)]
    endpoint: Option<RawEndpoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawServiceSpec {
    name: String,
    #[serde(default)]
    labels: std::collections::HashMap<String, String>,
    task_template: RawTaskSpec,
    #[serde(default)]
    mode: serde_json::Value,
    #[serde(default)]
    endpoint_spec: Option<RawEndpoint>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawTaskSpec {
    #[serde(default)]
    container_spec: RawContainerSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawContainerSpec {
    #[serde(default)]
    image: String,
    #[serde(default)]
    healthcheck: Option<RawHealthcheck>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealthcheck {
    #[serde(default)]
    test: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawUpdateStatus {
    #[serde(default)]
    state: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawEndpoint {
    #[serde(default)]
    ports: Option<Vec<RawPort>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPort {
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    target_port: u32,
    #[serde(default)]
    published_port: u32,
    #[serde(default)]
    publish_mode: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTask {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "ServiceID", default)]
    service_id: String,
    #[serde(default)]
    slot: Option<u64>,
    #[serde(rename = "NodeID", default)]
    node_id: String,
    #[serde(default)]
    spec: RawTaskSpec,
    #[serde(default)]
    status: RawTaskStatus,
    #[serde(default)]
    desired_state: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawTaskStatus {
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    err: String,
    #[serde(default)]
    container_status: Option<RawContainerStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawContainerStatus {
    #[serde(default)]
    exit_code: Option<i64>,
}

/// Empty output (no ids to inspect) is an empty list.
fn array<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<Vec<T>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).with_context(|| format!("unexpected JSON from docker about {what}"))
}

/// `docker service inspect ID...` output.
pub fn parse_services(text: &str) -> Result<Vec<SwarmService>> {
    let raw: Vec<RawService> = array(text, "the stack's services")?;
    let mut services: Vec<SwarmService> = raw
        .into_iter()
        .map(|r| {
            let namespace = r.spec.labels.get(LABEL_NAMESPACE).cloned();
            let service = namespace
                .and_then(|ns| {
                    r.spec
                        .name
                        .strip_prefix(&format!("{ns}_"))
                        .map(str::to_string)
                })
                .unwrap_or_else(|| r.spec.name.clone());
            let replicas = r.spec.mode.get("Replicated").map(|m| {
                m.get("Replicas")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(1)
            });
            let update = match r.update_status {
                None => Update::None,
                Some(u) => match u.state.as_str() {
                    "updating" => Update::Updating,
                    "paused" => Update::Paused(u.message),
                    "rollback_started" => Update::RollingBack,
                    "rollback_paused" | "rollback_completed" => Update::RolledBack(u.message),
                    _ => Update::Completed,
                },
            };
            let ports = r
                .endpoint
                .and_then(|e| e.ports)
                .or_else(|| r.spec.endpoint_spec.and_then(|e| e.ports))
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    format!(
                        "{}:{}/{} ({})",
                        p.published_port, p.target_port, p.protocol, p.publish_mode
                    )
                })
                .collect();
            let spec = r.spec.task_template.container_spec;
            SwarmService {
                id: r.id,
                name: r.spec.name,
                service,
                replicas,
                image: spec.image,
                has_healthcheck: spec
                    .healthcheck
                    .is_some_and(|h| h.test.first().is_some_and(|t| t != "NONE")),
                update,
                ports,
            }
        })
        .collect();
    services.sort_by(|a, b| a.service.cmp(&b.service));
    Ok(services)
}

/// `docker inspect --type task ID...` output.
pub fn parse_tasks(text: &str) -> Result<Vec<Task>> {
    let raw: Vec<RawTask> = array(text, "the stack's tasks")?;
    Ok(raw
        .into_iter()
        .map(|r| Task {
            id: r.id,
            service_id: r.service_id,
            slot: r.slot,
            node_id: r.node_id,
            image: r.spec.container_spec.image,
            state: TaskState::parse(&r.status.state),
            desired: TaskState::parse(&r.desired_state),
            error: r.status.err,
            exit_code: r.status.container_status.and_then(|c| c.exit_code),
            at: r.status.timestamp.parse().ok(),
        })
        .collect())
}

/// A task that failed: the service it belongs to, docker's error, the task to read logs of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub service: String,
    pub task_id: String,
    pub reason: String,
}

/// Where a stack is on its way to convergence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every service at its replicas, every task of the current spec running (healthy).
    Converged,
    /// Not there yet: one line per service still on its way (`timmy: 1/3 running, 2 starting`).
    Waiting(Vec<String>),
    /// A task failed or an update stopped: one per service, the first failure seen.
    Failed(Vec<Failure>),
}

impl SwarmService {
    /// The tasks of this service that run its current spec and are meant to run.
    fn current<'a>(&self, tasks: &'a [Task]) -> impl Iterator<Item = &'a Task> {
        let (id, image) = (self.id.clone(), self.image.clone());
        tasks
            .iter()
            .filter(move |t| t.service_id == id && t.image == image)
    }

    /// Running tasks of the current spec (healthy: swarm holds a task in `starting` until its
    /// health check passes), and the tasks meant to run.
    pub fn running(&self, tasks: &[Task]) -> (u64, u64) {
        let wanted: Vec<&Task> = self
            .current(tasks)
            .filter(|t| t.desired == TaskState::Running)
            .collect();
        let running = wanted
            .iter()
            .filter(|t| t.state == TaskState::Running)
            .count() as u64;
        (running, wanted.len() as u64)
    }

    /// The first task of the current spec that failed or was rejected at or after `since`.
    fn failure(&self, tasks: &[Task], since: Timestamp) -> Option<Failure> {
        self.current(tasks)
            .filter(|t| matches!(t.state, TaskState::Failed | TaskState::Rejected))
            .filter(|t| t.at.is_some_and(|at| at >= since))
            .min_by_key(|t| t.at)
            .map(|t| Failure {
                service: self.service.clone(),
                task_id: t.id.clone(),
                reason: task_reason(t),
            })
    }
}

/// Docker's error for a failed task, with the exit code when the error does not say it.
fn task_reason(t: &Task) -> String {
    let error = if t.error.is_empty() {
        format!("task {}", t.state.word())
    } else {
        t.error.clone()
    };
    match t.exit_code {
        Some(code) if code != 0 && !error.contains(&format!("({code})")) => {
            format!("{error} (exit code {code})")
        }
        _ => error,
    }
}

/// The verdict over what docker reported, counting only failures at or after `since` (when the
/// deploy began: a task that failed under an earlier deploy of the same image is history).
pub fn verdict(services: &[SwarmService], tasks: &[Task], since: Timestamp) -> Verdict {
    let mut failures = Vec::new();
    let mut waiting = Vec::new();
    for s in services {
        if let Update::Paused(message) | Update::RolledBack(message) = &s.update {
            let word = if matches!(s.update, Update::Paused(_)) {
                "update paused"
            } else {
                "update rolled back"
            };
            let reason = if message.is_empty() {
                word.to_string()
            } else {
                format!("{word}: {message}")
            };
            let task_id = s
                .failure(tasks, since)
                .map(|f| f.task_id)
                .unwrap_or_default();
            failures.push(Failure {
                service: s.service.clone(),
                task_id,
                reason,
            });
            continue;
        }
        if let Some(f) = s.failure(tasks, since) {
            failures.push(f);
            continue;
        }
        let (running, meant) = s.running(tasks);
        let wanted = s.replicas.unwrap_or(meant.max(1));
        let updating = matches!(s.update, Update::Updating | Update::RollingBack);
        if running >= wanted && running == meant && !updating {
            continue;
        }
        let mut line = format!("{}: {running}/{wanted} running", s.service);
        // The scheduler's reason a task waits (`no suitable node (host-mode port already in
        // use on 1 node)`), once.
        let held: Vec<&str> = s
            .current(tasks)
            .filter(|t| t.desired == TaskState::Running && t.state == TaskState::Pending)
            .map(|t| t.error.as_str())
            .filter(|e| !e.is_empty())
            .collect();
        let starting = s
            .current(tasks)
            .filter(|t| t.desired == TaskState::Running && t.state == TaskState::Starting)
            .count();
        if starting > 0 {
            let what = if s.has_healthcheck {
                "starting (health check not passed yet)"
            } else {
                "starting"
            };
            let _ = write!(line, ", {starting} {what}");
        }
        if updating {
            line.push_str(", rolling update in progress");
        }
        if let Some(first) = held.first() {
            let _ = write!(line, ", {} pending: {first}", held.len());
        }
        waiting.push(line);
    }
    if !failures.is_empty() {
        Verdict::Failed(failures)
    } else if !waiting.is_empty() {
        Verdict::Waiting(waiting)
    } else {
        Verdict::Converged
    }
}

/// The health word for `timmy ps`: `healthy` when every task meant to run is running and the
/// service has a health check, `starting` while some are not, empty without a health check.
pub fn health(s: &SwarmService, tasks: &[Task]) -> &'static str {
    let (running, meant) = s.running(tasks);
    match (s.has_healthcheck, running == meant && meant > 0) {
        (false, _) => "",
        (true, true) => "healthy",
        (true, false) => "starting",
    }
}

/// One service of a deployed stack as `timmy ps` shows it (`--json` prints a list of these).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub service: String,
    pub name: String,
    /// Tasks of the current spec running (healthy, when there is a health check).
    pub running: u64,
    /// Replicas wanted (for a global service: tasks meant to run).
    pub desired: u64,
    /// `healthy`, `starting`, or empty without a health check.
    pub health: String,
    /// `updating`, `paused`, `rolling back`, `rolled back`, or empty.
    pub update: String,
    pub image: String,
    pub ports: Vec<String>,
}

/// The rows of `timmy ps` for a deployed stack, by service name.
pub fn rows(services: &[SwarmService], tasks: &[Task]) -> Vec<Row> {
    services
        .iter()
        .map(|s| {
            let (running, meant) = s.running(tasks);
            Row {
                service: s.service.clone(),
                name: s.name.clone(),
                running,
                desired: s.replicas.unwrap_or(meant),
                health: health(s, tasks).to_string(),
                update: match s.update {
                    Update::None | Update::Completed => "",
                    Update::Updating => "updating",
                    Update::Paused(_) => "paused",
                    Update::RollingBack => "rolling back",
                    Update::RolledBack(_) => "rolled back",
                }
                .to_string(),
                image: s.image.clone(),
                ports: s.ports.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
