//! Tables for the pure half of a deploy's wait: [`super::verdict`] over converged, waiting
//! and failed stacks, and docker's JSON about services and tasks parsed (with the health word).

use super::*;
use serde_json::json;

const SINCE: &str = "2026-11-30T12:00:00Z";

fn since() -> Timestamp {
    SINCE.parse().unwrap()
}

fn service(
    name: &str,
    replicas: Option<u64>,
    image: &str,
    update: serde_json::Value,
) -> serde_json::Value {
    let mode = match replicas {
        Some(n) => json!({ "Replicated": { "Replicas": n } }),
        None => json!({ "Global": {} }),
    };
    let mut s = json!({
        "ID": format!("id-{name}"),
        "Spec": {
            "Name": format!("st_{name}"),
            "Labels": { "com.docker.stack.namespace": "st" },
            "TaskTemplate": { "ContainerSpec": {
                "Image": image,
                "Healthcheck": { "Test": ["CMD", "true"] }
            } },
            "Mode": mode
        }
    });
    if !update.is_null() {
        s["UpdateStatus"] = update;
    }
    s
}

fn task(
    service: &str,
    image: &str,
    desired: &str,
    state: &str,
    at: &str,
    err: &str,
) -> serde_json::Value {
    json!({
        "ID": format!("t-{service}-{state}-{at}"),
        "ServiceID": format!("id-{service}"),
        "Slot": 1,
        "NodeID": "n1",
        "Spec": { "ContainerSpec": { "Image": image } },
        "Status": { "Timestamp": at, "State": state, "Err": err,
                    "ContainerStatus": { "ExitCode": if state == "failed" { 3 } else { 0 } } },
        "DesiredState": desired
    })
}

#[track_caller]
fn case(services: &[serde_json::Value], tasks: &[serde_json::Value], want: &Verdict) {
    let services = parse_services(&json!(services).to_string()).unwrap();
    let tasks = parse_tasks(&json!(tasks).to_string()).unwrap();
    assert_eq!(&verdict(&services, &tasks, since()), want);
}

const T1: &str = "2026-11-30T12:00:01.5Z";
const T2: &str = "2026-11-30T12:00:02Z";
const BEFORE: &str = "2026-11-30T11:59:59.999999999Z";

fn waiting(lines: &[&str]) -> Verdict {
    Verdict::Waiting(lines.iter().map(|l| (*l).to_string()).collect())
}

#[test]
#[allow(
    clippy::too_many_lines,
    clippy::cloned_ref_to_slice_refs,
    reason = "one table of cases"
)]
fn verdicts() {
    let none = serde_json::Value::Null;
    let redis = service("redis", Some(1), "redis:7", none.clone());
    let redis_up = task("redis", "redis:7", "running", "running", T1, "");
    // Everything running: converged.
    case(&[redis.clone()], &[redis_up.clone()], &Verdict::Converged);
    // Zero replicas wanted: converged with no task.
    case(
        &[service("x", Some(0), "i:1", none.clone())],
        &[],
        &Verdict::Converged,
    );
    // Health check not passed yet: waiting, and says so.
    case(
        &[redis.clone()],
        &[task("redis", "redis:7", "running", "starting", T1, "")],
        &waiting(&["redis: 0/1 running, 1 starting (health check not passed yet)"]),
    );
    // No task yet.
    case(&[redis.clone()], &[], &waiting(&["redis: 0/1 running"]));
    // Scaled to 3, two running, one held by the scheduler with its reason.
    case(
        &[service("timmy", Some(3), "p-timmy:abc", none.clone())],
        &[
            task("timmy", "p-timmy:abc", "running", "running", T1, ""),
            task("timmy", "p-timmy:abc", "running", "running", T2, ""),
            task(
                "timmy",
                "p-timmy:abc",
                "running",
                "pending",
                T2,
                "no suitable node (host-mode port already in use on 1 node)",
            ),
        ],
        &waiting(&[
            "timmy: 2/3 running, 1 pending: no suitable node (host-mode port already in use on 1 node)",
        ]),
    );
    // A crash since the deploy: failed, with docker's error (the exit code is in it).
    case(
        &[redis.clone()],
        &[
            task("redis", "redis:7", "running", "ready", T2, ""),
            task(
                "redis",
                "redis:7",
                "shutdown",
                "failed",
                T1,
                "task: non-zero exit (3)",
            ),
        ],
        &Verdict::Failed(vec![Failure {
            service: "redis".into(),
            task_id: format!("t-redis-failed-{T1}"),
            reason: "task: non-zero exit (3)".into(),
        }]),
    );
    // A failure before the deploy began is history.
    case(
        &[redis.clone()],
        &[
            redis_up.clone(),
            task(
                "redis",
                "redis:7",
                "shutdown",
                "failed",
                BEFORE,
                "task: non-zero exit (3)",
            ),
        ],
        &Verdict::Converged,
    );
    // A failed task of the previous image (a rolling update replaced it) does not count,
    // but the old image's running task does not count as the new one either.
    case(
        &[service(
            "timmy",
            Some(1),
            "p-timmy:new",
            json!({"State": "updating"}),
        )],
        &[
            task("timmy", "p-timmy:old", "running", "running", T1, ""),
            task(
                "timmy",
                "p-timmy:old",
                "shutdown",
                "failed",
                T1,
                "task: non-zero exit (1)",
            ),
            task("timmy", "p-timmy:new", "running", "starting", T2, ""),
        ],
        &waiting(&[
            "timmy: 0/1 running, 1 starting (health check not passed yet), rolling update in progress",
        ]),
    );
    // The new task runs but the update is not marked done: still waiting.
    case(
        &[service(
            "timmy",
            Some(1),
            "p-timmy:new",
            json!({"State": "updating"}),
        )],
        &[task("timmy", "p-timmy:new", "running", "running", T2, "")],
        &waiting(&["timmy: 1/1 running, rolling update in progress"]),
    );
    case(
        &[service(
            "timmy",
            Some(1),
            "p-timmy:new",
            json!({"State": "completed", "Message": "update completed"}),
        )],
        &[task("timmy", "p-timmy:new", "running", "running", T2, "")],
        &Verdict::Converged,
    );
    // A paused update is a failure with docker's message.
    case(
        &[service(
            "timmy",
            Some(1),
            "p-timmy:new",
            json!({"State": "paused", "Message": "update paused due to failure or early termination of task x"}),
        )],
        &[task("timmy", "p-timmy:old", "running", "running", T1, "")],
        &Verdict::Failed(vec![Failure {
            service: "timmy".into(),
            task_id: String::new(),
            reason: "update paused: update paused due to failure or early termination of task x"
                .into(),
        }]),
    );
    // A rejected task (no such image) fails at once; the other service still waits but the
    // failure wins.
    case(
        &[
            redis.clone(),
            service("timmy", Some(1), "p-timmy:abc", none.clone()),
        ],
        &[task(
            "timmy",
            "p-timmy:abc",
            "shutdown",
            "rejected",
            T1,
            "No such image: p-timmy:abc",
        )],
        &Verdict::Failed(vec![Failure {
            service: "timmy".into(),
            task_id: format!("t-timmy-rejected-{T1}"),
            reason: "No such image: p-timmy:abc".into(),
        }]),
    );
    // Global: every task meant to run, running.
    case(
        &[service("agent", None, "a:1", none.clone())],
        &[task("agent", "a:1", "running", "running", T1, "")],
        &Verdict::Converged,
    );
    case(
        &[service("agent", None, "a:1", none)],
        &[],
        &waiting(&["agent: 0/1 running"]),
    );
}

#[test]
fn parses_what_the_engine_reported() {
    // Captured on Engine 28.5: two replicas publishing one host-mode port on one node.
    let services = parse_services(include_str!("../testdata/services.json")).unwrap();
    assert_eq!(
        services,
        vec![SwarmService {
            id: services[0].id.clone(),
            name: "t2_web".into(),
            service: "web".into(),
            replicas: Some(2),
            image: "timmy-offline/node:20".into(),
            has_healthcheck: true,
            update: Update::None,
            ports: vec!["18080:3000/tcp (host)".into()],
        }]
    );
    let tasks = parse_tasks(include_str!("../testdata/tasks.json")).unwrap();
    let states: Vec<(Option<u64>, &str, &str, &str)> = tasks
        .iter()
        .map(|t| (t.slot, t.desired.word(), t.state.word(), t.error.as_str()))
        .collect();
    assert_eq!(
        states,
        vec![
            (
                Some(1),
                "running",
                "pending",
                "no suitable node (host-mode port already in use on 1 node)"
            ),
            (Some(2), "running", "running", ""),
        ]
    );
    assert_eq!(
        verdict(&services, &tasks, since()),
        waiting(&[
            "web: 1/2 running, 1 pending: no suitable node (host-mode port already in use on 1 node)"
        ])
    );
    assert_eq!(health(&services[0], &tasks), "starting");
}

#[test]
fn empty_output_is_no_service() {
    assert_eq!(parse_services("").unwrap(), vec![]);
    assert_eq!(parse_tasks("\n").unwrap(), vec![]);
    assert_eq!(
        parse_tasks("[{").unwrap_err().to_string(),
        "unexpected JSON from docker about the stack's tasks"
    );
}
