//! `timmy deploy` (the run path) and `ps`/`logs`/`down` of a deployed stack, with the fake
//! docker: which docker commands run in which order, what reaches docker's stdin, and exactly
//! what the user reads. The real swarm is tests/swarm.rs.

mod common;

use common::{Project, container_line, label_query, stack_query, stderr_of, stdout_of};

const ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// `docker compose config --format json` of a two-service env: redis (an image) and timmy
/// (built).
fn config(p: &Project) -> String {
    serde_json::json!({
        "name": "proj",
        "services": {
            "redis": {"image": "redis:7", "networks": {"default": null}},
            "timmy": {
                "build": {"context": p.root(), "dockerfile": "docker/Dockerfile"},
                "image": "proj-timmy:prod",
                "networks": {"default": null}
            }
        },
        "networks": {"default": {"name": "proj_default"}}
    })
    .to_string()
}

fn service(name: &str, replicas: u64, image: &str, health: bool) -> serde_json::Value {
    let mut spec = serde_json::json!({"Image": image});
    if health {
        spec["Healthcheck"] = serde_json::json!({"Test": ["CMD", "true"]});
    }
    serde_json::json!({
        "ID": format!("svc-{name}"),
        "Spec": {
            "Name": format!("proj_{name}"),
            "Labels": {"com.docker.stack.namespace": "proj"},
            "TaskTemplate": {"ContainerSpec": spec},
            "Mode": {"Replicated": {"Replicas": replicas}}
        }
    })
}

fn task(id: &str, service: &str, image: &str, state: &str, err: &str) -> serde_json::Value {
    let desired = if state == "failed" {
        "shutdown"
    } else {
        "running"
    };
    serde_json::json!({
        "ID": id,
        "ServiceID": format!("svc-{service}"),
        "Slot": 1,
        "Spec": {"ContainerSpec": {"Image": image}},
        // Far ahead: after any deploy's start.
        "Status": {"Timestamp": "2099-01-01T00:00:00Z", "State": state, "Err": err},
        "DesiredState": desired
    })
}

/// The fake answers for a stack whose services and tasks are as given.
fn answer_stack(p: &Project, services: &[serde_json::Value], tasks: &[serde_json::Value]) {
    let ids: Vec<String> = services
        .iter()
        .map(|s| s["ID"].as_str().unwrap().to_string())
        .collect();
    p.answer_to(&["service", "ls", "--quiet"], &(ids.join("\n") + "\n"), 0);
    p.answer_to(
        &["service", "inspect"],
        &serde_json::json!(services).to_string(),
        0,
    );
    let task_ids: Vec<&str> = tasks.iter().map(|t| t["ID"].as_str().unwrap()).collect();
    p.answer_to(&["service", "ps"], &(task_ids.join("\n") + "\n"), 0);
    p.answer_to(
        &["inspect", "--type", "task"],
        &serde_json::json!(tasks).to_string(),
        0,
    );
}

fn answer_deploy_inputs(p: &Project, swarm: &str) {
    p.answer_to(&["config", "--format", "json"], &config(p), 0);
    p.answer_to(&["info", "--format"], swarm, 0);
    p.answer_to(&["image", "inspect"], &format!("{ID}\n"), 0);
    let stdin = p.fake.join("stack.yml");
    p.answer_to(&["stack", "deploy"], "Creating service proj_timmy\n", 0)
        .run(&format!("cat > '{}'", stdin.display()));
}

/// What the render says of this env before anything runs.
const WARNINGS: &str = "\
warning: docker/docker-compose.yml: network `default` becomes an attachable overlay network: a bridge reaches one host only\n\
warning: docker/docker-compose.yml:5: `build` of service `timmy` is dropped: Swarm runs images only, so the image is built and tagged before the deploy\n";

/// `docker stack deploy`'s own output (the fake's), on stderr: stdout is the table.
const DOCKER_SAYS: &str = "Creating service proj_timmy\n";

const STACK_QUERIES: [&str; 4] = [
    "service ls --quiet --filter label=com.docker.stack.namespace=proj",
    "service inspect svc-redis svc-timmy",
    "service ps --quiet --no-trunc svc-redis svc-timmy",
    "inspect --type task t-redis t-timmy",
];

#[test]
fn deploy_builds_tags_by_content_deploys_from_stdin_and_waits_until_healthy() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 1, "proj-timmy:0123456789ab", true),
        ],
        &[
            task("t-redis", "redis", "redis:7", "running", ""),
            task("t-timmy", "timmy", "proj-timmy:0123456789ab", "running", ""),
        ],
    );
    let out = p
        .timmy()
        .args(["deploy", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let calls = p.calls();
    let root = p.root().display().to_string();
    let files = format!(
        "compose --project-directory {root} --env-file {root}/.env -p proj -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.prod.yml"
    );
    let mut expected = vec![
        format!("{files} config --format json"),
        "info --format {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}".to_string(),
        label_query("proj"),
        format!("{files} build"),
        "image inspect --format {{.Id}} proj-timmy:prod".to_string(),
        "tag proj-timmy:prod proj-timmy:0123456789ab".to_string(),
        "stack deploy --compose-file - --resolve-image never --prune proj".to_string(),
    ];
    expected.extend(STACK_QUERIES.map(String::from));
    // Converged: the stack's secrets, none of them an earlier value to remove.
    expected.push(SECRET_NAMES.to_string());
    assert_eq!(calls, expected);
    let stack = std::fs::read_to_string(p.fake.join("stack.yml")).unwrap();
    assert!(
        stack.contains("    image: \"proj-timmy:0123456789ab\"\n"),
        "{stack}"
    );
    assert!(!stack.contains("ghp_Z8v1"), "no secret on stdin: {stack}");
    let err = stderr_of(&out);
    let err = err.strip_prefix(WARNINGS).unwrap();
    let err = err.strip_prefix(DOCKER_SAYS).unwrap();
    assert!(
        err.starts_with("timmy: stack `proj` converged in "),
        "{err}"
    );
    assert!(
        err.ends_with(" s: every service at its replicas, running and healthy\n"),
        "{err}"
    );
    assert_eq!(
        stdout_of(&out),
        "SERVICE  REPLICAS  HEALTH   UPDATE  PORTS  IMAGE\n\
         redis    1/1       healthy  -       -      redis:7\n\
         timmy    1/1       healthy  -       -      proj-timmy:0123456789ab\n"
    );
}

/// The names of the stack's secrets, asked once it converged.
const SECRET_NAMES: &str =
    "secret ls --filter label=com.docker.stack.namespace=proj --format {{.Name}}";

#[test]
fn a_converged_deploy_removes_the_earlier_values_of_its_secrets() {
    // Measured on Engine 28.5: each new value of a key is a new secret (named by content), and
    // `docker stack deploy --prune` leaves the earlier ones on the swarm.
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 1, "proj-timmy:0123456789ab", true),
        ],
        &[
            task("t-redis", "redis", "redis:7", "running", ""),
            task("t-timmy", "timmy", "proj-timmy:0123456789ab", "running", ""),
        ],
    );
    p.answer_to(
        &["secret", "ls", "--filter"],
        "proj_GITHUB_TOKEN_d03680ebb084\nproj_GITHUB_TOKEN_ed974400d0ce\n",
        0,
    );
    p.answer_to(
        &["secret", "rm"],
        "proj_GITHUB_TOKEN_d03680ebb084\nproj_GITHUB_TOKEN_ed974400d0ce\n",
        0,
    );
    let out = p.timmy().args(["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let calls = p.calls();
    assert_eq!(
        calls[calls.len() - 2..],
        [
            SECRET_NAMES.to_string(),
            "secret rm proj_GITHUB_TOKEN_d03680ebb084 proj_GITHUB_TOKEN_ed974400d0ce".to_string()
        ]
    );
    assert!(
        stderr_of(&out).ends_with(
            "timmy: removed 2 earlier secrets the stack no longer uses: proj_GITHUB_TOKEN_d03680ebb084, proj_GITHUB_TOKEN_ed974400d0ce\n"
        ),
        "{}",
        stderr_of(&out)
    );
    // docker's own list of removed names stays off stdout, the table's.
    assert_eq!(
        stdout_of(&out),
        "SERVICE  REPLICAS  HEALTH   UPDATE  PORTS  IMAGE\n\
         redis    1/1       healthy  -       -      redis:7\n\
         timmy    1/1       healthy  -       -      proj-timmy:0123456789ab\n"
    );

    // A removal docker refuses is a warning: the deploy itself succeeded.
    p.forget_answers();
    answer_deploy_inputs(&p, "active true\n");
    answer_stack(
        &p,
        &[service("timmy", 1, "proj-timmy:0123456789ab", true)],
        &[task(
            "t-timmy",
            "timmy",
            "proj-timmy:0123456789ab",
            "running",
            "",
        )],
    );
    p.answer_to(&["secret", "ls", "--filter"], "proj_X_1\n", 0);
    p.answer_to(&["secret", "rm"], "", 1).stderr(
        "Error response from daemon: rpc error: code = InvalidArgument desc = secret 'proj_X_1' is in use by the following service: other\n",
    );
    let out = p.timmy().args(["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).ends_with(
            "warning: `docker secret rm proj_X_1` failed with code 1: Error response from daemon: rpc error: code = InvalidArgument desc = secret 'proj_X_1' is in use by the following service: other; earlier secret values stay on the swarm: proj_X_1\n"
        ),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_failed_task_fails_the_deploy_at_once_naming_the_service_with_its_last_logs() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 1, "proj-timmy:0123456789ab", true),
        ],
        &[
            task("t-redis", "redis", "redis:7", "running", ""),
            task(
                "t-timmy",
                "timmy",
                "proj-timmy:0123456789ab",
                "failed",
                "task: non-zero exit (3)",
            ),
        ],
    );
    p.answer_to(
        &["service", "logs", "t-timmy"],
        "proj_timmy.1@node    | {\"msg\":\"boom\",\"token\":\"ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\"}\n",
        0,
    );
    let out = p
        .timmy()
        .args(["deploy", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out).strip_prefix(WARNINGS).unwrap(),
        DOCKER_SAYS.to_string()
            + "error: timmy: task: non-zero exit (3)\n  \
         last log lines of timmy:\n    \
         proj_timmy.1@node    | {\"msg\":\"boom\",\"token\":\"ghp_****\"}\n\
         error: stack `proj` did not converge: timmy failed\n  \
         hint: the stack stays deployed as it is: timmy ps prod shows its tasks, timmy logs prod timmy the logs, timmy down prod removes it\n"
    );
    assert_eq!(
        p.calls().last().unwrap(),
        "service logs --no-task-ids --no-trunc --tail 20 t-timmy"
    );
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn deploy_refuses_an_engine_outside_a_swarm_before_building_anything() {
    let p = Project::new();
    answer_deploy_inputs(&p, "inactive false\n");
    let out = p
        .timmy()
        .args(["deploy", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out).strip_prefix(WARNINGS).unwrap(),
        "error: this Docker engine is not part of a swarm (node state: inactive)\n  \
         hint: one node: docker swarm init --advertise-addr <this host's address>; or point DOCKER_HOST at a manager\n"
    );
    let calls = p.calls();
    assert_eq!(calls.len(), 2, "config and info only: {calls:?}");
    assert!(calls[1].starts_with("info --format"), "{calls:?}");
}

#[test]
fn a_bad_env_deploys_nothing_and_calls_no_docker() {
    let p = Project::new();
    p.write(".env", "NODE_ENV=production\nLOG_LEVEL=info\n");
    let out = p.timmy().args(["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("error: .env: GITHUB_TOKEN is missing"),
        "{}",
        stderr_of(&out)
    );
    assert!(p.calls().is_empty(), "{:?}", p.calls());
}

#[test]
fn detach_returns_once_docker_accepted_the_stack() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    let out = p
        .timmy()
        .args(["deploy", "--publish", "host", "--detach"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out).strip_prefix(WARNINGS).unwrap(),
        DOCKER_SAYS.to_string()
            + "timmy: deployed stack `proj`; not waiting (--detach): timmy ps prod shows how far it got\n"
    );
    assert!(p.calls().last().unwrap().starts_with("stack deploy "));
}

#[test]
fn scale_sets_the_replicas_and_a_bad_one_is_refused_before_docker() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    let out = p
        .timmy()
        .args([
            "deploy",
            "--publish",
            "host",
            "--scale",
            "timmy=3",
            "--detach",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stack = std::fs::read_to_string(p.fake.join("stack.yml")).unwrap();
    assert!(stack.contains("      replicas: 3\n"), "{stack}");

    let p = Project::new();
    let out = p
        .timmy()
        .args(["deploy", "--scale", "timmy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: --scale timmy: expected SERVICE=N\n  hint: e.g. --scale timmy=3 (N replicas, 0 or more)\n"
    );
    assert!(p.calls().is_empty(), "{:?}", p.calls());
}

#[test]
fn ps_of_a_deployed_stack_shows_replicas_and_health() {
    let p = Project::new();
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 3, "proj-timmy:0123456789ab", true),
        ],
        &[
            task("t-redis", "redis", "redis:7", "running", ""),
            task(
                "t-timmy",
                "timmy",
                "proj-timmy:0123456789ab",
                "starting",
                "",
            ),
        ],
    );
    let out = p.timmy().args(["ps", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "SERVICE  REPLICAS  HEALTH    UPDATE  PORTS  IMAGE\n\
         redis    1/1       healthy   -       -      redis:7\n\
         timmy    0/3       starting  -       -      proj-timmy:0123456789ab\n"
    );
    assert_eq!(
        stderr_of(&out),
        "timmy: stack `proj`, deployed on the swarm\n"
    );
    let mut expected = vec![label_query("proj")];
    expected.extend(STACK_QUERIES.map(String::from));
    assert_eq!(p.calls(), expected);
}

#[test]
fn down_of_a_deployed_stack_runs_stack_rm_and_finds_nothing_left() {
    let p = Project::new();
    // The stack is there when down looks, gone after `stack rm`.
    p.answer_to(&["service", "ls", "--quiet"], "svc-timmy\n", 0)
        .once();
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: removed stack `proj` from the swarm: no service, container, network, secret or config of it is left\n"
    );
    let filter = "label=com.docker.stack.namespace=proj";
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            stack_query("proj"),
            "stack rm proj".to_string(),
            stack_query("proj"),
            format!("ps --all --quiet --filter {filter}"),
            format!("network ls --quiet --filter {filter}"),
            format!("secret ls --quiet --filter {filter}"),
            format!("config ls --quiet --filter {filter}"),
        ]
    );
}

#[test]
fn logs_of_a_deployed_stack_are_docker_service_logs_one_service_followed_at_a_time() {
    let p = Project::new();
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 1, "proj-timmy:0123456789ab", true),
        ],
        &[],
    );
    let out = p.timmy().args(["logs", "prod", "timmy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(p.calls().last().unwrap(), "service logs proj_timmy");

    let out = p.timmy().args(["logs", "prod", "-f"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: stack `proj` runs on a swarm, where docker follows the logs of one service at a time\n  \
         hint: name one: timmy logs prod redis -f (services: redis, timmy)\n"
    );
}

#[test]
fn registry_tags_pushes_and_deploys_the_registry_image() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    let out = p
        .timmy()
        .args([
            "deploy",
            "--publish",
            "host",
            "--registry",
            "127.0.0.1:5000",
            "--detach",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let calls = p.calls();
    assert_eq!(
        calls[calls.len() - 3..],
        [
            "tag proj-timmy:prod 127.0.0.1:5000/proj-timmy:0123456789ab",
            "push 127.0.0.1:5000/proj-timmy:0123456789ab",
            "stack deploy --compose-file - --resolve-image always --prune proj",
        ]
    );
    let stack = std::fs::read_to_string(p.fake.join("stack.yml")).unwrap();
    assert!(
        stack.contains("    image: \"127.0.0.1:5000/proj-timmy:0123456789ab\"\n"),
        "{stack}"
    );
}

#[test]
fn dry_run_prints_what_would_change_and_changes_nothing() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    let out = p
        .timmy()
        .args(["--dry-run", "deploy", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let root = p.root().display().to_string();
    assert_eq!(
        stdout_of(&out),
        format!(
            "docker compose --project-directory {root} --env-file {root}/.env -p proj -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.prod.yml build\n\
             docker tag proj-timmy:prod proj-timmy:0123456789ab\n\
             docker stack deploy --compose-file - --resolve-image never --prune proj\n"
        )
    );
    // Only queries reached docker.
    let calls = p.calls();
    assert!(
        calls.iter().all(|c| c.contains(" config --format json")
            || c.starts_with("info ")
            || *c == label_query("proj")
            || c.starts_with("image inspect ")),
        "{calls:?}"
    );
    assert!(!p.fake.join("stack.yml").exists());
}

#[test]
fn deploy_refuses_a_name_that_runs_under_compose() {
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    let root = p.root().display().to_string();
    p.answer_labels("proj", &container_line("c1", "proj", "prod", &root));
    let out = p
        .timmy()
        .args(["deploy", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out).strip_prefix(WARNINGS).unwrap(),
        "error: `proj` runs under Compose on this engine (timmy up prod)\n  \
         hint: timmy down prod first (without --volumes: the stack keeps the named volumes); docs/SWARM.md has the move\n"
    );
    assert!(
        !p.calls()
            .iter()
            .any(|c| c.contains(" build") || c.starts_with("stack ")),
        "{:?}",
        p.calls()
    );
}

#[test]
fn up_refuses_a_name_a_deployed_stack_uses() {
    let p = Project::new();
    // A task container: Compose's project label (inherited from the image), no working dir.
    p.answer_labels("proj", "t1\tproj_timmy.1.abc\trunning\ttimmy\t\t\tproj\t\n");
    p.answer_to(&["service", "ls", "--quiet"], "svc-timmy\n", 0);
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "error: `proj` is deployed as a Swarm stack on this engine\n  \
         hint: timmy down prod removes the stack first (its named volumes stay); timmy ps prod shows it\n"
    );
    assert_eq!(p.calls(), [label_query("proj"), stack_query("proj")]);
}

/// A fake engine on its own socket: `GET /version` (API 1.41) and `GET /containers/json…`
/// (`[]`) answer as an engine does, `GET /services…` with `services` (a whole HTTP answer,
/// status line first). Runs until the test process ends.
fn engine_answering_services(p: &Project, services: &'static str) -> std::path::PathBuf {
    let path = p.dir.path().join("engine.sock");
    common::fake_engine_at(&path, move |line| {
        if line.starts_with("GET /version ") {
            Some(common::json_ok(
                r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#,
            ))
        } else if line.starts_with("GET /containers/json?") {
            Some(common::json_ok("[]"))
        } else if line.starts_with("GET /services?") {
            Some(services.to_string())
        } else {
            None
        }
    });
    path
}

/// `timmy ARGS` asking the fake engine at `socket`, docker found on PATH.
fn timmy_on_engine(p: &Project, socket: &std::path::Path, args: &[&str]) -> std::process::Output {
    p.timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_socket_error_on_get_services_asks_docker_service_ls_never_reads_it_as_no_stack() {
    // Was a hole: any answer but 200 or 503 read as "no stack": `down prod` said nothing ran.
    let p = Project::new();
    let socket = engine_answering_services(
        &p,
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 18\r\n\r\n{\"message\":\"boom\"}",
    );
    p.answer_to(&["service", "ls", "--quiet"], "svc-timmy\n", 0)
        .once();
    let out = timmy_on_engine(&p, &socket, &["down", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "warning: the engine answered 500 to GET /services: {\"message\":\"boom\"}; asking `docker service ls` instead\n\
         timmy: removed stack `proj` from the swarm: no service, container, network, secret or config of it is left\n"
    );
    let filter = "label=com.docker.stack.namespace=proj";
    assert_eq!(
        p.calls(),
        [
            stack_query("proj"),
            "stack rm proj".to_string(),
            stack_query("proj"),
            format!("ps --all --quiet --filter {filter}"),
            format!("network ls --quiet --filter {filter}"),
            format!("secret ls --quiet --filter {filter}"),
            format!("config ls --quiet --filter {filter}"),
        ]
    );
}

#[test]
fn a_garbage_answer_to_get_services_asks_docker_service_ls() {
    let p = Project::new();
    let socket = engine_answering_services(
        &p,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\nnot json!",
    );
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 1, "proj-timmy:0123456789ab", true),
        ],
        &[
            task("t-redis", "redis", "redis:7", "running", ""),
            task("t-timmy", "timmy", "proj-timmy:0123456789ab", "running", ""),
        ],
    );
    let out = timmy_on_engine(&p, &socket, &["ps", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "warning: unexpected answer from the engine: expected ident at line 1 column 2; asking `docker service ls` instead\n\
         timmy: stack `proj`, deployed on the swarm\n"
    );
    assert_eq!(
        stdout_of(&out),
        "SERVICE  REPLICAS  HEALTH   UPDATE  PORTS  IMAGE\n\
         redis    1/1       healthy  -       -      redis:7\n\
         timmy    1/1       healthy  -       -      proj-timmy:0123456789ab\n"
    );
    assert_eq!(p.calls(), STACK_QUERIES.map(String::from));
}

#[test]
fn a_failing_service_ls_is_an_error_and_an_engine_outside_a_swarm_has_no_stack() {
    let p = Project::new();
    p.answer_to(
        &["service", "ls", "--quiet"],
        "",
        1,
    )
    .stderr("Error response from daemon: rpc error: code = Unavailable desc = the swarm does not have a leader\n")
    .once();
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "error: `docker service ls --quiet --filter 'label=com.docker.stack.namespace=proj'` failed with code 1: \
         Error response from daemon: rpc error: code = Unavailable desc = the swarm does not have a leader\n"
    );
    assert_eq!(p.calls(), [label_query("proj"), stack_query("proj")]);

    // Measured on Engine 20.10 and 28: outside a swarm, docker service ls says so.
    p.answer_to(&["service", "ls", "--quiet"], "", 1).stderr(
        "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.\n",
    );
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: nothing of project `proj` is running\n"
    );
}

#[test]
fn without_an_environment_ps_and_logs_show_the_deployed_stack_and_down_names_it() {
    // Was a hole: with only a deployed stack, a bare `timmy down` said nothing was running.
    let p = Project::new();
    for other in ["proj-dev", "proj-test"] {
        let filter = format!("label=com.docker.stack.namespace={other}");
        p.answer_to(&["service", "ls", "--quiet", "--filter", &filter], "", 0);
    }
    answer_stack(
        &p,
        &[
            service("redis", 1, "redis:7", true),
            service("timmy", 1, "proj-timmy:0123456789ab", true),
        ],
        &[
            task("t-redis", "redis", "redis:7", "running", ""),
            task("t-timmy", "timmy", "proj-timmy:0123456789ab", "running", ""),
        ],
    );
    let lookups = [
        common::here_query(&p),
        label_query("proj-dev"),
        stack_query("proj-dev"),
        stack_query("proj"),
        stack_query("proj-test"),
    ];

    let out = p.timmy().args(["ps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: stack `proj`, deployed on the swarm\n"
    );
    assert_eq!(
        stdout_of(&out),
        "SERVICE  REPLICAS  HEALTH   UPDATE  PORTS  IMAGE\n\
         redis    1/1       healthy  -       -      redis:7\n\
         timmy    1/1       healthy  -       -      proj-timmy:0123456789ab\n"
    );
    let mut expected = lookups.to_vec();
    expected.extend(STACK_QUERIES[1..].iter().map(|q| (*q).to_string()));
    assert_eq!(p.calls(), expected);

    p.forget_calls();
    let out = p.timmy().args(["logs", "timmy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mut expected = lookups.to_vec();
    expected.push("service logs proj_timmy".to_string());
    assert_eq!(p.calls(), expected);

    p.forget_calls();
    let out = p.timmy().args(["down"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "error: no Compose stack of this checkout is running, but `proj` is deployed as a Swarm stack on this engine\n  \
         hint: timmy down prod removes it (a deployed stack is only removed when its environment is named)\n"
    );
    assert_eq!(
        p.calls(),
        [
            common::here_query(&p),
            stack_query("proj-dev"),
            stack_query("proj"),
            stack_query("proj-test"),
        ]
    );

    // Several deployed under this checkout's names: which one is for the user to say.
    let p = Project::new();
    p.answer_to(&["service", "ls", "--quiet"], "svc-x\n", 0);
    let out = p.timmy().args(["ps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "error: 3 stacks of this checkout's names are deployed on the swarm: dev (`proj-dev`), prod (`proj`), test (`proj-test`)\n  \
         hint: name the environment, e.g. timmy ps dev\n"
    );
}

#[test]
fn ctrl_c_while_deploy_waits_says_the_swarm_goes_on() {
    // Measured on Engine 28.5: Ctrl-C during the wait exited 130 and said nothing, while the
    // swarm went on rolling the update docker had accepted.
    let p = Project::new();
    answer_deploy_inputs(&p, "active true\n");
    p.answer_to(&["service", "ls", "--quiet"], "svc-timmy\n", 0)
        .run("trap '' INT TERM; kill -INT \"$FAKE_DOCKER_CALLER\"; sleep 0.3");
    let out = p.timmy().args(["deploy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    let err = err.strip_prefix(WARNINGS).unwrap();
    assert_eq!(
        err,
        format!(
            "{DOCKER_SAYS}timmy: stopped waiting; the swarm goes on deploying stack `proj`: timmy ps prod shows how far it got\n"
        )
    );
    assert_eq!(stdout_of(&out), "");
    assert_eq!(
        p.calls().last().unwrap(),
        "service ls --quiet --filter label=com.docker.stack.namespace=proj"
    );
}

#[test]
fn restart_exec_shell_and_run_refuse_a_deployed_stack() {
    // Was a hole (measured on Engine 28.5): `restart prod` restarted the swarm's task
    // container behind its back and showed a table without redis; `exec` said "service timmy
    // is not running"; `run` failed on the stack's network with Compose's label error.
    let p = Project::new();
    // A task container: Compose's project label (inherited from the image), no working dir.
    p.answer_labels("proj", "t1\tproj_timmy.1.abc\trunning\ttimmy\t\t\tproj\t\n");
    p.answer_to(&["service", "ls", "--quiet"], "svc-timmy\n", 0);
    let exec_hint = "  hint: docker ps --filter label=com.docker.stack.namespace=proj lists its task containers, for docker exec\n";
    for (args, expected) in [
        (
            &["restart", "prod"][..],
            "error: `proj` is deployed as a Swarm stack on this engine: timmy restart acts on Compose stacks\n  \
             hint: docker service update --force proj_SERVICE restarts a service's tasks on the swarm\n"
                .to_string(),
        ),
        (
            &["exec", "prod", "timmy", "--", "true"][..],
            format!("error: `proj` is deployed as a Swarm stack on this engine: timmy exec acts on Compose stacks\n{exec_hint}"),
        ),
        (
            &["shell", "prod"][..],
            format!("error: `proj` is deployed as a Swarm stack on this engine: timmy shell acts on Compose stacks\n{exec_hint}"),
        ),
        (
            &["run", "prod", "timmy", "--", "true"][..],
            "error: `proj` is deployed as a Swarm stack on this engine\n  \
             hint: timmy down prod removes the stack first (its named volumes stay); timmy ps prod shows it\n"
                .to_string(),
        ),
    ] {
        p.forget_calls();
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr_of(&out));
        assert_eq!(stderr_of(&out), expected, "{args:?}");
        assert_eq!(
            p.calls(),
            [label_query("proj"), stack_query("proj")],
            "{args:?}: nothing acted"
        );
    }
}
