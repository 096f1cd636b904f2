//! CLI tests for what timmy does per engine: the engine-specific compose file
//! (`docker/engine25.compose.yml`: timmy asks the engine's socket for its API version, `GET
//! /version`, and adds the file from Engine 25, API 1.44, on, in `--dry-run`, `config --files`
//! and under `-v`), `ps`, bare `timmy` and a failed `up`'s explanation through the socket with
//! the compose fallback, and `check` following the installed Compose version. The engine
//! here is a fake: a Unix socket that answers `GET /version` with a chosen API version (and
//! `GET /containers/json` with chosen containers, or a 500); docker is the fake
//! CLI of tests/common, found on PATH (with `TIMMY_DOCKER` set timmy never asks the socket).

mod common;

use std::path::PathBuf;

use common::{LABEL_FORMAT, Project, here_query, label_query, stderr_of, stdout_of};

const ENGINE25: &str = "services:\n  redis:\n    healthcheck:\n      start_interval: 250ms\n";

/// A fake engine on its own socket: `GET /version` → `ApiVersion: api`; a bare connection
/// (timmy's is-the-daemon-up probe) is simply closed. Runs until the test process ends.
fn fake_engine(p: &Project, api: &str) -> PathBuf {
    fake_engine_with(p, api, "[]")
}

/// The same, answering `GET /containers/json…` with `containers`; not a swarm manager.
fn fake_engine_with(p: &Project, api: &str, containers: &str) -> PathBuf {
    fake_engine_on(p, api, containers, None)
}

/// The answer of an engine outside swarm mode to `GET /services` (Engine 20.10, measured).
const NOT_A_MANAGER: &str = r#"{"message":"This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."}"#;

/// The same; `stacks`: `None`, an engine outside swarm mode (`GET /services` → 503), else a
/// swarm manager answering `GET /services` for stack `NAME` (the filter holds
/// `namespace=NAME"`) with the services listed for it, none for another name.
fn fake_engine_on(
    p: &Project,
    api: &str,
    containers: &str,
    stacks: Option<Vec<(&'static str, &'static str)>>,
) -> PathBuf {
    let path = p.dir.path().join(format!("engine-{api}.sock"));
    let body = format!(r#"{{"Version":"engine","ApiVersion":"{api}","MinAPIVersion":"1.24"}}"#);
    let containers = containers.to_owned();
    common::fake_engine_at(&path, move |line| {
        let (status, answer) = if line.starts_with("GET /version ") {
            ("200 OK", body.as_str())
        } else if line.starts_with("GET /containers/json?") {
            ("200 OK", containers.as_str())
        } else if line.starts_with("GET /services?") {
            match &stacks {
                None => ("503 Service Unavailable", NOT_A_MANAGER),
                Some(stacks) => {
                    let listed = stacks
                        .iter()
                        .find(|(name, _)| line.contains(&format!("namespace%3D{name}%22")));
                    ("200 OK", listed.map_or("[]", |(_, services)| *services))
                }
            }
        } else {
            return None;
        };
        Some(common::json_answer(status, answer))
    });
    path
}

/// `timmy ARGS` against the fake engine speaking `api`, docker found on PATH.
fn timmy_on(p: &Project, api: &str, args: &[&str]) -> std::process::Output {
    let socket = fake_engine(p, api);
    p.timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn config_files_lists_the_engine_file_from_engine_25_on() {
    let p = Project::new();
    p.write("docker/engine25.compose.yml", ENGINE25);
    for (api, expected) in [
        (
            "1.41",
            "docker/docker-compose.yml\ndocker/docker-compose.dev.yml\n",
        ),
        (
            "1.43",
            "docker/docker-compose.yml\ndocker/docker-compose.dev.yml\n",
        ),
        (
            "1.44",
            "docker/docker-compose.yml\ndocker/docker-compose.dev.yml\ndocker/engine25.compose.yml\n",
        ),
        (
            "1.51",
            "docker/docker-compose.yml\ndocker/docker-compose.dev.yml\ndocker/engine25.compose.yml\n",
        ),
    ] {
        let out = timmy_on(&p, api, &["config", "dev", "--files"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        assert_eq!(stdout_of(&out), expected, "API {api}");
    }
    assert!(p.calls().is_empty(), "no docker process: {:?}", p.calls());
}

#[test]
fn dry_run_up_adds_the_engine_file_last_and_verbose_says_why() {
    let p = Project::new();
    p.write("docker/engine25.compose.yml", ENGINE25);
    let root = p.root().display().to_string();
    let out = timmy_on(&p, "1.51", &["--dry-run", "-v", "up", "dev", "-d"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        format!(
            "docker compose --project-directory {root} --env-file {root}/.env -p proj-dev \
             -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.dev.yml \
             -f {root}/docker/engine25.compose.yml up --detach --wait --wait-timeout 120 --remove-orphans --build\n"
        )
    );
    assert!(
        stderr_of(&out).contains("engine: API 1.51: adding docker/engine25.compose.yml\n"),
        "{}",
        stderr_of(&out)
    );
    assert!(p.calls().is_empty());

    let out = timmy_on(&p, "1.41", &["--dry-run", "-v", "up", "dev", "-d"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!stdout_of(&out).contains("engine25"), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("engine: API 1.41: files as they are\n"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_project_without_the_engine_file_is_run_as_it_is() {
    let p = Project::new();
    let out = timmy_on(&p, "1.51", &["config", "dev", "--files"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "docker/docker-compose.yml\ndocker/docker-compose.dev.yml\n"
    );
}

#[test]
fn run_uses_the_same_files_as_up() {
    // Otherwise `compose run` would see other health checks and recreate the running services.
    let p = Project::new();
    p.write("docker/engine25.compose.yml", ENGINE25);
    let root = p.root().display().to_string();
    let out = timmy_on(&p, "1.51", &["--dry-run", "run", "timmy", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains(&format!(
            "-f {root}/docker/docker-compose.dev.yml -f {root}/docker/engine25.compose.yml run --rm --build -T timmy true\n"
        )),
        "{}",
        stdout_of(&out)
    );
}

/// `.env` with a dashed key, checked with the fake Compose answering `version`.
fn check_with_compose(version: &str) -> (Project, std::process::Output) {
    let p = Project::new();
    p.write(".env", &format!("{}MY-KEY=1\n", common::GOOD_ENV));
    p.answer_to(&["compose", "version"], &format!("{version}\n"), 0);
    let out = p.timmy().arg("check").output().unwrap();
    (p, out)
}

const DASH_WARNING: &str = "warning: .env:4: key \"MY-KEY\" contains characters other than A-Z, 0-9 and _; compose files cannot refer to it as ${...}\n";

#[test]
fn check_says_when_the_installed_compose_refuses_dashes_in_keys() {
    let (p, out) = check_with_compose("2.29.5");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(p.calls(), ["compose version --short"]);
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: .env:4: Compose 2.29.5 refuses the key \"MY-KEY\": Compose 2.29.3 to 2.29.7 allow no `-` in .env keys\n  \
             hint: rename the key, or update Compose to 2.30 or later (which reads it as 2.29.2 and earlier do)\n\
             {DASH_WARNING}  hint: use names like MY_SETTING\n\
             error: 1 error in the configuration\n"
        )
    );
}

#[test]
fn check_follows_a_compose_that_accepts_dashes_and_asks_only_when_needed() {
    for version in ["2.26.1-4", "2.29.2", "2.30.0", "2.40.3-3"] {
        let (p, out) = check_with_compose(version);
        assert_eq!(out.status.code(), Some(0), "{version}: {}", stderr_of(&out));
        assert_eq!(p.calls(), ["compose version --short"]);
        assert_eq!(
            stderr_of(&out),
            format!(
                "{DASH_WARNING}  hint: use names like MY_SETTING\n\
                 timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning\n"
            ),
            "{version}"
        );
    }
    let p = Project::new();
    let out = p.timmy().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(p.calls().is_empty(), "no dashed key, no docker process");
}

const CONTAINERS: &str = r#"[{"Id":"b","Names":["/proj-timmy-1"],"Image":"proj-timmy","State":"running","Status":"Up 2 minutes (healthy)","Ports":[{"IP":"127.0.0.1","PrivatePort":3000,"PublicPort":3000,"Type":"tcp"}],"Labels":{"com.docker.compose.project":"proj","com.docker.compose.service":"timmy"}},
{"Id":"a","Names":["/proj-redis-1"],"Image":"redis:7","State":"running","Status":"Up 3 minutes (healthy)","Ports":[{"PrivatePort":6379,"Type":"tcp"}],"Labels":{"com.docker.compose.project":"proj","com.docker.compose.service":"redis"}}]"#;

#[test]
fn ps_reads_the_engine_socket_and_starts_no_process() {
    let p = Project::new();
    let socket = fake_engine_with(&p, "1.51", CONTAINERS);
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(["-v", "ps"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(p.calls().is_empty(), "{:?}", p.calls());
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH   UPTIME     PORTS                 IMAGE\n\
         redis    running  healthy  3 minutes  -                     redis:7\n\
         timmy    running  healthy  2 minutes  127.0.0.1:3000->3000  proj-timmy\n"
    );
    // Which stack of this checkout runs, whose containers are under its name, its services:
    // three requests on the socket, no process.
    let get = |label: &str| {
        format!("running: GET /containers/json?all=1 (label {label}) on the Docker socket\n")
    };
    assert_eq!(
        stderr_of(&out),
        format!(
            "{}{}{}",
            get(&format!(
                "com.docker.compose.project.working_dir={}",
                p.root().display()
            )),
            get("com.docker.compose.project=proj"),
            get("com.docker.compose.project=proj")
        )
    );
}

#[test]
fn ps_asks_compose_where_there_is_no_socket() {
    // TCP (as for SSH or another context): no socket to ask, so `docker compose ps`.
    let p = Project::new();
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Publishers":[],"Status":"Up 3 minutes (healthy)"}"#,
        0,
    );
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", "tcp://127.0.0.1:2375")
        .arg("ps")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The label queries go through `docker ps` too (nothing runs: dev's name).
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            label_query("proj-dev"),
            common::stack_query("proj-dev"),
            common::stack_query("proj"),
            common::stack_query("proj-test"),
            "compose --env-file /dev/null -p proj-dev ps --all --format json".to_string()
        ]
    );
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH   UPTIME     PORTS  IMAGE\n\
         redis    running  healthy  3 minutes  -      -\n"
    );
}

/// A fake engine that answers every `GET /containers/json…` with a 500.
fn failing_engine(p: &Project) -> PathBuf {
    let path = p.dir.path().join("engine-500.sock");
    common::fake_engine_at(&path, |line| {
        let body = r#"{"message":"boom"}"#;
        line.starts_with("GET /containers/json?").then(|| {
            format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        })
    });
    path
}

#[test]
fn a_failed_socket_request_falls_back_to_the_cli_and_verbose_says_which() {
    let p = Project::new();
    let socket = failing_engine(&p);
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-dev-redis-1","Service":"redis","State":"running","Health":"","ExitCode":0,"Publishers":[],"Status":"Up 3 minutes"}"#,
        0,
    );
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(["-v", "ps", "dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let ps = "compose --env-file /dev/null -p proj-dev ps --all --format json";
    // After the first failure the socket is not asked again: `docker service ls` and
    // `docker compose ps` answer, never "no stack deployed" assumed.
    assert_eq!(
        p.calls(),
        [
            label_query("proj-dev"),
            common::stack_query("proj-dev"),
            ps.to_string()
        ]
    );
    let label = "com.docker.compose.project=proj-dev";
    let expected = format!(
        "running: GET /containers/json?all=1 (label {label}) on the Docker socket\n\
             warning: the engine answered 500 to GET /containers/json: {{\"message\":\"boom\"}}; asking `docker ps` instead\n\
             running: docker ps --all --no-trunc --filter 'label={label}' --format '{LABEL_FORMAT}'\n\
             running: docker service ls --quiet --filter 'label=com.docker.stack.namespace=proj-dev'\n\
             running: docker {ps}\n",
    );
    assert_eq!(stderr_of(&out), expected);
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH  UPTIME     PORTS  IMAGE\n\
         redis    running  -       3 minutes  -      -\n"
    );
}

#[test]
fn failed_up_looks_again_for_a_crash_loop_caught_between_restarts() {
    // Seen on Engine 28.5 + Compose 2.40: `up --wait` failed, and the first `ps` caught the
    // crash-looping container just restarted (running, health starting).
    let p = Project::new();
    // The port check's `config --format json`.
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "up"], "", 1);
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"starting","ExitCode":0,"Publishers":[],"Status":"Up Less than a second (health: starting)"}"#,
        0,
    )
    .once();
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-timmy-1","Service":"timmy","State":"restarting","Health":"","ExitCode":0,"Publishers":[],"Status":"Restarting (3) Less than a second ago"}"#,
        0,
    );
    p.answer_to(&["compose", "logs", "timmy"], "crash-marker\n", 0);
    let out = p.timmy().args(["up", "-d"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let calls = p.calls();
    assert_eq!(
        calls[4..7],
        [
            "compose --env-file /dev/null -p proj-dev ps --all --format json",
            "compose --env-file /dev/null -p proj-dev ps --all --format json",
            "compose --ansi never --env-file /dev/null -p proj-dev logs --tail 20 timmy",
        ]
    );
    assert!(
        stderr_of(&out).starts_with(
            "error: service `timmy` keeps crashing and restarting, last exit code 3\n--- last 20 log lines of timmy ---\ncrash-marker\n"
        ),
        "{}",
        stderr_of(&out)
    );
}

/// A bare `check` judges every environment (dev, prod, test) and asks the engine for its API
/// version once, not once per environment.
#[test]
fn bare_check_asks_the_engine_once_for_every_environment() {
    let p = Project::new();
    p.write(
        ".env.example",
        &format!("#: required-in=prod\n{}", common::ENV_EXAMPLE),
    );
    let path = p.dir.path().join("counting.sock");
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    common::fake_engine_at(&path, move |line| {
        line.starts_with("GET /version ").then(|| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            common::json_ok(r#"{"Version":"engine","ApiVersion":"1.41","MinAPIVersion":"1.24"}"#)
        })
    });
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", path.display()))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&out),
        "timmy: .env is valid for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml)\n"
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Bare `timmy` asks the engine for each stack's services (`Engine::services_of`), not
/// `docker compose ps`.
#[test]
fn bare_timmy_reads_the_engine_socket_and_starts_no_process() {
    let p = Project::new();
    let socket = fake_engine_with(&p, "1.51", CONTAINERS);
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .arg("-v")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(p.calls().is_empty(), "{:?}", p.calls());
    let root = p.root().display().to_string();
    assert_eq!(
        stdout_of(&out),
        format!(
            "project  {root}\n\
             envs     dev, prod, test\n\
             .env     valid for the dev stack\n\
             running  prod stack `proj` is up: redis healthy, timmy healthy\n\
             next     timmy logs -f  follow the logs\n\
             \x20        timmy down     stop the stack\n"
        )
    );
    assert_eq!(
        stderr_of(&out),
        format!(
            "running: GET /containers/json?all=1 (label com.docker.compose.project.working_dir={root}) on the Docker socket\n\
             running: GET /containers/json?all=1 (label com.docker.compose.project=proj) on the Docker socket\n\
             running: GET /services (label com.docker.stack.namespace=proj-dev) on the Docker socket\n"
        )
    );
}

/// What `docker service ls` says outside swarm mode (Engine 20.10, measured).
const NOT_A_MANAGER_CLI: &str = "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.\n";

/// Stack `proj` (prod's name) as the engine reports it: redis with 1 replica, running; timmy
/// with 2, one task running.
const STACK_SERVICES: &str = r#"[{"ID":"svc-redis"},{"ID":"svc-timmy"}]"#;

/// The fake docker's answers for stack `proj`'s services and tasks (`Ctx::stack_state`).
fn answer_deployed(p: &Project) {
    let service = |name: &str, replicas: u64| {
        serde_json::json!({
            "ID": format!("svc-{name}"),
            "Spec": {
                "Name": format!("proj_{name}"),
                "Labels": {"com.docker.stack.namespace": "proj"},
                "TaskTemplate": {"ContainerSpec": {"Image": format!("{name}:1")}},
                "Mode": {"Replicated": {"Replicas": replicas}}
            }
        })
    };
    let task = |id: &str, name: &str, slot: u64| {
        serde_json::json!({
            "ID": id,
            "ServiceID": format!("svc-{name}"),
            "Slot": slot,
            "Spec": {"ContainerSpec": {"Image": format!("{name}:1")}},
            "Status": {"Timestamp": "2099-01-01T00:00:00Z", "State": "running", "Err": ""},
            "DesiredState": "running"
        })
    };
    let services = serde_json::json!([service("redis", 1), service("timmy", 2)]);
    p.answer_to(&["service", "inspect"], &services.to_string(), 0);
    p.answer_to(&["service", "ps"], "t1\nt2\n", 0);
    let tasks = serde_json::json!([task("t1", "redis", 1), task("t2", "timmy", 1)]);
    p.answer_to(&["inspect", "--type", "task"], &tasks.to_string(), 0);
}

/// The overview when nothing of this checkout runs under Compose but prod is deployed.
fn deployed_overview(root: &str) -> String {
    format!(
        "project  {root}\n\
         envs     dev, prod, test\n\
         .env     valid for the dev stack\n\
         running  nothing of `proj-dev`\n\
         deployed prod stack `proj` on the swarm: redis 1/1, timmy 1/2 (timmy ps prod shows more)\n\
         next     timmy up  start the dev stack\n"
    )
}

/// Bare `timmy` after `timmy deploy prod`: the stack deployed under one of this checkout's
/// names is shown, found with one `GET /services` per name on a swarm manager.
#[test]
fn bare_timmy_shows_a_stack_deployed_on_the_swarm() {
    let p = Project::new();
    let socket = fake_engine_on(&p, "1.51", "[]", Some(vec![("proj", STACK_SERVICES)]));
    answer_deployed(&p);
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let root = p.root().display().to_string();
    assert_eq!(stdout_of(&out), deployed_overview(&root));
    assert_eq!(stderr_of(&out), "");
    assert_eq!(
        p.calls(),
        [
            "service inspect svc-redis svc-timmy",
            "service ps --quiet --no-trunc svc-redis svc-timmy",
            "inspect --type task t1 t2",
        ]
    );
}

/// The same when the socket fails: `docker service ls` finds the stack.
#[test]
fn bare_timmy_finds_a_deployed_stack_through_the_cli_when_the_socket_fails() {
    let p = Project::new();
    let socket = failing_engine(&p);
    p.answer_to(
        &["service", "ls", "label=com.docker.stack.namespace=proj"],
        "svc-redis\nsvc-timmy\n",
        0,
    );
    answer_deployed(&p);
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let root = p.root().display().to_string();
    assert_eq!(stdout_of(&out), deployed_overview(&root));
    assert_eq!(
        stderr_of(&out),
        "warning: the engine answered 500 to GET /containers/json: {\"message\":\"boom\"}; asking `docker ps` instead\n"
    );
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            common::stack_query("proj-dev"),
            common::stack_query("proj"),
            common::stack_query("proj-test"),
            "service inspect svc-redis svc-timmy".to_string(),
            "service ps --quiet --no-trunc svc-redis svc-timmy".to_string(),
            "inspect --type task t1 t2".to_string(),
        ]
    );
}

/// The same when the socket fails: `docker ps` and `docker compose ps`, with one warning.
#[test]
fn bare_timmy_falls_back_to_the_cli_when_the_socket_fails() {
    let p = Project::new();
    let socket = failing_engine(&p);
    let root = p.root().display().to_string();
    p.answer_here(&common::container_line("a", "proj", "prod", &root));
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Publishers":[],"Status":"Up 3 minutes (healthy)"}"#,
        0,
    );
    p.answer_to(&["service", "ls"], "", 1)
        .stderr(NOT_A_MANAGER_CLI);
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Outside swarm mode one `docker service ls` says so, and no other name is asked.
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            "compose --env-file /dev/null -p proj ps --all --format json".to_string(),
            common::stack_query("proj-dev"),
        ]
    );
    let boom = "warning: the engine answered 500 to GET /containers/json: {\"message\":\"boom\"}";
    assert_eq!(
        stderr_of(&out),
        format!("{boom}; asking `docker ps` instead\n")
    );
    assert_eq!(
        stdout_of(&out),
        format!(
            "project  {root}\n\
             envs     dev, prod, test\n\
             .env     valid for the dev stack\n\
             running  prod stack `proj` is up: redis healthy\n\
             next     timmy logs -f  follow the logs\n\
             \x20        timmy down     stop the stack\n"
        )
    );
}

/// A failed `up` names the failed service from what the engine's socket reports
/// (`Engine::services_of`), asking no `docker compose ps`.
#[test]
fn failed_up_explains_the_failure_from_the_engine_socket() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let containers = format!(
        r#"[{{"Id":"a","Names":["/proj-dev-timmy-1"],"Image":"proj-dev-timmy","State":"exited","Status":"Exited (3) 2 seconds ago","Ports":[],"Labels":{{"com.docker.compose.project":"proj-dev","com.docker.compose.service":"timmy","com.docker.compose.project.working_dir":"{root}"}}}}]"#
    );
    let socket = fake_engine_with(&p, "1.41", &containers);
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "up"], "", 1);
    p.answer_to(&["compose", "logs", "timmy"], "crash-marker\n", 0);
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(["up", "-d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let files = format!(
        "--project-directory {root} --env-file {root}/.env -p proj-dev -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.dev.yml"
    );
    assert_eq!(
        p.calls(),
        [
            format!("compose {files} config --format json"),
            format!(
                "compose {files} up --detach --wait --wait-timeout 120 --remove-orphans --build"
            ),
            "compose --ansi never --env-file /dev/null -p proj-dev logs --tail 20 timmy"
                .to_string(),
            "inspect --format {{.Name}}\t{{json .State.Health}} proj-dev-timmy-1".to_string(),
        ]
    );
    assert_eq!(
        stderr_of(&out),
        "error: service `timmy` exited with exit code 3\n\
         --- last 20 log lines of timmy ---\n\
         crash-marker\n  \
         hint: fix the service, then run timmy up again; timmy down removes what was started\n"
    );
}

/// `timmy doctor --json`'s row `id`: (status, detail).
fn doctor_row(out: &std::process::Output, id: &str) -> (String, String) {
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == id)
        .unwrap_or_else(|| panic!("no row {id}: {rows}"));
    (
        row["status"].as_str().unwrap().to_string(),
        row["detail"].as_str().unwrap().to_string(),
    )
}

#[test]
fn doctor_does_not_try_a_remote_engines_ports_here() {
    // Was a hole: with DOCKER_HOST=tcp://… doctor bound this machine's ports and failed on one
    // the remote engine would never use. `up` checks ports only with a local socket; so does
    // doctor.
    let p = Project::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", "tcp://127.0.0.1:9")
        .env("TIMMY_PORT", &port)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        doctor_row(&out, "port-app"),
        (
            "ok".to_string(),
            "not checked: the engine (tcp://127.0.0.1:9) publishes it on its own host (TIMMY_PORT from the shell)".to_string()
        )
    );
    assert!(
        !p.calls().iter().any(|c| c.contains(" ps")),
        "{:?}",
        p.calls()
    );
}

#[test]
fn doctor_asks_the_engine_socket_who_holds_a_port_not_compose_ps() {
    let p = Project::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let root = p.root().display().to_string();
    let containers = serde_json::json!([{
        "Id": "c1",
        "Names": ["/proj-dev-timmy-1"],
        "Image": "proj-timmy",
        "State": "running",
        "Status": "Up 2 minutes",
        "Ports": [{"IP": "127.0.0.1", "PrivatePort": 3000, "PublicPort": port, "Type": "tcp"}],
        "Labels": {
            "com.docker.compose.project": "proj-dev",
            "com.docker.compose.service": "timmy",
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.project.working_dir": root,
            "com.docker.compose.project.config_files":
                format!("{root}/docker/docker-compose.yml,{root}/docker/docker-compose.dev.yml")
        }
    }])
    .to_string();
    let socket = fake_engine_with(&p, "1.41", &containers);
    p.answer_to(&["compose", "version"], "2.26.1\n", 0);
    p.answer_to(
        &["version", "--format"],
        r#"{"Client":{"Version":"28.2.2","Context":"default"},"Server":{"Version":"20.10.24"}}"#,
        0,
    );
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .env("TIMMY_PORT", port.to_string())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        doctor_row(&out, "port-app"),
        (
            "ok".to_string(),
            format!(
                "127.0.0.1:{port} is published by this project's `timmy` container (proj-dev-timmy-1)"
            )
        )
    );
    assert!(
        !p.calls()
            .iter()
            .any(|c| c.contains("compose") && c.contains(" ps")),
        "{:?}",
        p.calls()
    );
}

/// A socket that keeps failing is given up after its first failure: `restart`'s health wait
/// polls `docker compose ps` three times and the label queries go to `docker ps`, with one
/// warning for the whole command, not one per query.
#[test]
fn a_failing_socket_warns_once_and_the_cli_answers_for_the_rest_of_the_command() {
    let p = Project::new();
    let socket = failing_engine(&p);
    let root = p.root().display().to_string();
    let line = common::container_line("t", "proj-dev", "dev", &root);
    p.answer_here(&line);
    p.answer_labels("proj-dev", &line);
    let starting = r#"{"Name":"proj-dev-timmy-1","Service":"timmy","State":"running","Health":"starting","ExitCode":0,"Publishers":[]}"#;
    p.answer_to(&["compose", "ps"], starting, 0).once();
    p.answer_to(&["compose", "ps"], starting, 0).once();
    p.answer_to(
        &["compose", "ps"],
        &starting.replace("\"starting\"", "\"healthy\""),
        0,
    );
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(["restart", "timmy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "warning: the engine answered 500 to GET /containers/json: {\"message\":\"boom\"}; asking `docker ps` instead\n\
         timmy: restarted; `proj-dev` is healthy\n"
    );
    let ps = "compose --env-file /dev/null -p proj-dev ps --all --format json";
    assert_eq!(
        p.calls(),
        [
            &here_query(&p),
            &label_query("proj-dev"),
            "compose --env-file /dev/null -p proj-dev restart timmy",
            ps,
            ps,
            ps
        ]
    );
}
