//! CLI tests with the fake `docker` for `timmy doctor`, bare `timmy` (status and next command),
//! `timmy run` and `timmy man`: which docker calls they make, what they print, their exit codes.

mod common;
mod daily;

use std::net::TcpListener;

use common::{Project, container_line, here_query, label_query, stderr_of, stdout_of};
use daily::{VERSION_CLIENT_ONLY, VERSION_JSON, free_port, info_json};

/// The fake answers `version`, `compose version --short` and `info` like a healthy engine.
fn healthy_engine(p: &Project) {
    p.answer_to(&["version", "--format"], VERSION_JSON, 0);
    p.answer_to(&["compose", "version", "--short"], "2.26.1\n", 0);
    p.answer_to(&["info"], &info_json(p), 0);
}

fn line_of<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{text}"))
}

#[test]
fn doctor_all_good_with_three_docker_calls() {
    let p = Project::new();
    healthy_engine(&p);
    let (app, debug) = (free_port(), free_port());
    let out = p
        .timmy()
        .env("TIMMY_PORT", app.to_string())
        .env("TIMMY_DEBUG_PORT", debug.to_string())
        .arg("doctor")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr_of(&out));
    assert_eq!(
        p.calls(),
        [
            "version --format {{json .}}",
            "compose version --short",
            "info --format {{json .}}"
        ]
    );
    let tmp = p.dir.path().display().to_string();
    assert_eq!(
        line_of(&text, "✓ docker CLI"),
        format!("✓ docker CLI  {tmp}/fake/bin/docker, client 28.2.2")
    );
    assert_eq!(
        line_of(&text, "✓ Compose"),
        format!("✓ Compose     {tmp}/fake/config/cli-plugins/docker-compose, 2.26.1")
    );
    assert_eq!(
        line_of(&text, "✓ daemon"),
        format!(
            "✓ daemon      context default, unix://{tmp}/fake/docker.sock, engine 20.10.24+dfsg1"
        )
    );
    assert_eq!(
        line_of(&text, &format!("✓ port {app}")),
        format!("✓ port {app}  127.0.0.1:{app} is free (TIMMY_PORT from the shell)")
    );
    assert!(line_of(&text, "✓ disk space").ends_with(&format!("in {tmp}/docker-root")));
    line_of(&text, "✓ clock");
    assert!(text.ends_with("\nall checks passed\n"), "{text}");
    assert_eq!(stderr_of(&out), "");
}

#[test]
fn doctor_without_docker_reports_everything_and_exits_1() {
    let p = Project::new();
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("PATH", p.dir.path())
        .env(
            "DOCKER_HOST",
            format!("unix://{}/none.sock", p.dir.path().display()),
        )
        .env("TIMMY_PORT", free_port().to_string())
        .env("TIMMY_DEBUG_PORT", free_port().to_string())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(p.calls().is_empty());
    let text = stdout_of(&out);
    assert_eq!(
        line_of(&text, "✗ docker CLI"),
        "✗ docker CLI  docker is not installed (no `docker` on PATH)"
    );
    assert!(text.contains(
        "\n              fix: install Docker Engine and the Compose v2 plugin; on Debian as root: scripts/setup-engine.sh\n"
    ));
    assert!(line_of(&text, "✗ daemon").contains("the Docker daemon is not running"));
    // Never bails on the first failure: the project, .env and ports are still checked.
    line_of(&text, "✓ project");
    line_of(&text, "✓ .env ");
    line_of(&text, "✓ port ");
    line_of(
        &text,
        "! clock       not checked: the daemon does not answer",
    );
    assert!(text.ends_with("\n2 checks failed, 2 warnings\n"), "{text}");
}

#[test]
fn doctor_with_the_daemon_down_asks_docker_only_for_its_version() {
    let p = Project::new();
    p.answer_to(&["version", "--format"], VERSION_CLIENT_ONLY, 1);
    p.answer_to(&["compose", "version", "--short"], "2.26.1\n", 0);
    let out = p
        .timmy()
        .env(
            "DOCKER_HOST",
            format!("unix://{}/none.sock", p.dir.path().display()),
        )
        .env("TIMMY_PORT", free_port().to_string())
        .env("TIMMY_DEBUG_PORT", free_port().to_string())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        p.calls(),
        ["version --format {{json .}}", "compose version --short"]
    );
    let text = stdout_of(&out);
    line_of(&text, "✓ docker CLI");
    line_of(&text, "✓ Compose");
    assert!(
        line_of(&text, "✗ daemon")
            .contains("the Docker daemon is not running (nothing answers on "),
        "{text}"
    );
    assert!(text.contains("fix: start it: sudo systemctl start docker"));
}

#[test]
fn doctor_json_is_a_stable_array() {
    let p = Project::new();
    healthy_engine(&p);
    p.write(".env", "NODE_ENV=production\nLOG_LEVEL=info\n");
    let out = p
        .timmy()
        .env("TIMMY_PORT", free_port().to_string())
        .env("TIMMY_DEBUG_PORT", free_port().to_string())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "docker-cli",
            "compose-plugin",
            "daemon",
            "project",
            "env-file",
            "env-permissions",
            "disk-space",
            "port-app",
            "port-debug",
            "clock"
        ]
    );
    for c in v.as_array().unwrap() {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["check", "detail", "fix", "status"], "{c}");
    }
    let env = &v[4];
    assert_eq!(env["status"], "fail");
    assert!(
        env["detail"]
            .as_str()
            .unwrap()
            .starts_with("1 error for the dev stack, first .env: GITHUB_TOKEN"),
        "{env}"
    );
    assert_eq!(
        env["fix"],
        "timmy check lists them, each with its line and a hint"
    );
    assert_eq!(v[0]["status"], "ok");
    assert_eq!(v[0]["fix"], serde_json::Value::Null);
}

#[test]
fn doctor_accepts_a_port_held_by_the_projects_own_container() {
    let p = Project::new();
    healthy_engine(&p);
    let held = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    // The port's holder is the prod stack of this checkout (project `proj`, not dev's).
    let root = p.root().display().to_string();
    p.answer_here(&container_line("a", "proj", "prod", &root));
    p.answer_to(
        &["compose", "ps"],
        &format!(
            r#"{{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"healthy","Publishers":[{{"URL":"127.0.0.1","TargetPort":3000,"PublishedPort":{port},"Protocol":"tcp"}}]}}"#
        ),
        0,
    );
    let out = p
        .timmy()
        .env("TIMMY_PORT", port.to_string())
        .env("TIMMY_DEBUG_PORT", free_port().to_string())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert_eq!(p.calls()[3], here_query(&p));
    assert_eq!(
        p.calls()[4],
        "compose --env-file /dev/null -p proj ps --all --format json"
    );
    assert_eq!(
        line_of(&stdout_of(&out), &format!("✓ port {port}")),
        format!(
            "✓ port {port}  127.0.0.1:{port} is published by this project's `timmy` container (proj-timmy-1)"
        )
    );
}

#[test]
fn doctor_fails_on_a_port_taken_by_another_program() {
    let p = Project::new();
    healthy_engine(&p);
    let held = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let out = p
        .timmy()
        .env("TIMMY_DEBUG_PORT", port.to_string())
        .env("TIMMY_PORT", free_port().to_string())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    assert_eq!(
        line_of(&text, &format!("✗ port {port}")),
        format!(
            "✗ port {port}  127.0.0.1:{port} is taken by another program (TIMMY_DEBUG_PORT from the shell)"
        )
    );
    assert!(text.contains(&format!(
        "fix: stop it (lsof -iTCP:{port} -sTCP:LISTEN shows which), or set TIMMY_DEBUG_PORT to a free port in .env"
    )));
}

#[test]
fn doctor_never_prints_a_secret() {
    let p = Project::new();
    healthy_engine(&p);
    p.write(
        ".env",
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=\"s3cr3t-value\nTIMMY_PORT=s3cr3t\n",
    );
    let out = p
        .timmy()
        .env("TIMMY_DEBUG_PORT", free_port().to_string())
        .args(["doctor"])
        .output()
        .unwrap();
    let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(1));
    assert!(!all.contains("s3cr3t"), "{all}");
    assert!(
        line_of(&all, "✗ .env ")
            .contains("first .env:5: the quote opened on line 3 is never closed"),
        "{all}"
    );
}

const PS_DEV_UP: &str = r#"{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Labels":"com.docker.compose.project=proj,com.docker.compose.project.config_files=/p/docker/docker-compose.yml,/p/docker/docker-compose.dev.yml,com.docker.compose.service=redis"}
{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"starting","ExitCode":0,"Labels":"com.docker.compose.project.config_files=/p/docker/docker-compose.yml,/p/docker/docker-compose.dev.yml,com.docker.compose.service=timmy"}
"#;

/// `docker service ls` answers as on an engine outside swarm mode (Engine 20.10, measured).
fn not_a_swarm(p: &Project) {
    p.answer_to(&["service", "ls"], "", 1).stderr(
        "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.\n",
    );
}

#[test]
fn bare_timmy_when_nothing_runs_suggests_up() {
    let p = Project::new();
    not_a_swarm(&p);
    let out = p.timmy().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Outside swarm mode one `docker service ls` says so: no other name is asked.
    assert_eq!(p.calls(), [here_query(&p), common::stack_query("proj-dev")]);
    assert_eq!(
        stdout_of(&out),
        format!(
            "project  {}\n\
             envs     dev, prod, test\n\
             .env     valid for the dev stack\n\
             running  nothing of `proj-dev`\n\
             next     timmy up  start the dev stack\n",
            p.root().display()
        )
    );
}

#[test]
fn bare_timmy_when_the_dev_stack_runs_suggests_logs_and_down() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_here(&container_line("a", "proj-dev", "dev", &root));
    p.answer_to(&["compose", "ps"], PS_DEV_UP, 0);
    not_a_swarm(&p);
    let out = p.timmy().output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            "compose --env-file /dev/null -p proj-dev ps --all --format json".to_string(),
            common::stack_query("proj-dev"),
        ]
    );
    let text = stdout_of(&out);
    assert_eq!(
        line_of(&text, "running"),
        "running  dev stack `proj-dev` is up: redis healthy, timmy starting"
    );
    assert!(
        text.ends_with(
            "next     timmy logs -f  follow the logs\n         timmy down     stop the stack\n"
        ),
        "{text}"
    );
}

#[test]
fn bare_timmy_with_a_bad_env_suggests_check() {
    let p = Project::new();
    p.write(
        ".env",
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=\"x\n",
    );
    let out = p.timmy().output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert_eq!(
        line_of(&text, ".env"),
        ".env     1 error for the dev stack: nothing can start"
    );
    assert_eq!(
        line_of(&text, "next"),
        "next     timmy check  the problems in .env, line by line"
    );
}

#[test]
fn bare_timmy_without_docker_points_at_doctor() {
    let p = Project::new();
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("PATH", p.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert_eq!(
        line_of(&text, "running"),
        "running  unknown: docker is not installed (no `docker` on PATH)"
    );
    assert_eq!(
        line_of(&text, "next"),
        "next     timmy doctor  what is wrong with Docker, and the fix"
    );
}

#[test]
fn bare_timmy_outside_a_project_says_where_to_go() {
    let p = Project::new();
    let out = p.timmy().current_dir(p.dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: no docker/docker-compose.yml in {} or any parent folder\n  \
             hint: cd into a timmy project (the folder holding docker/docker-compose.yml, or one below it), \
             or pass --project-dir DIR; timmy --help lists the commands\n",
            p.dir.path().display()
        )
    );
    assert!(p.calls().is_empty());
}

#[test]
fn run_with_a_bad_env_never_calls_docker() {
    let p = Project::new();
    p.write(
        ".env",
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=\"s3cr3t-value\n",
    );
    for args in [
        &["run", "timmy", "--", "node", "-v"][..],
        &["run", "prod", "timmy"],
    ] {
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr_of(&out);
        assert!(
            err.contains("error: .env:4: the quote opened on line 3 is never closed"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
    }
    assert!(p.calls().is_empty(), "{:?}", p.calls());
}

#[test]
fn run_passes_the_commands_exit_code_and_uses_the_full_stack() {
    let p = Project::new();
    p.answer_to(&["compose", "run", "timmy"], "", 5);
    let out = p
        .timmy()
        .args(["run", "timmy", "--", "sh", "-c", "exit 5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let r = p.root().display().to_string();
    let mut calls = p.calls();
    // Which stack of this checkout runs (none: dev), and who else uses dev's name.
    assert_eq!(
        calls.drain(..2).collect::<Vec<_>>(),
        [here_query(&p), label_query("proj-dev")]
    );
    // after the run, the label query again: did `run` start a dependency?
    assert_eq!(
        calls,
        [
            format!(
                "compose --project-directory {r} --env-file {r}/.env -p proj-dev -f {r}/docker/docker-compose.yml \
                 -f {r}/docker/docker-compose.dev.yml run --rm --build -T timmy sh -c exit 5"
            ),
            label_query("proj-dev")
        ]
    );
}

#[test]
fn run_takes_an_environment_first() {
    let p = Project::new();
    let out = p
        .timmy()
        .args(["run", "production", "redis", "--", "redis-cli", "ping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let calls = p.calls();
    assert_eq!(calls[0], label_query("proj"));
    assert!(
        calls[1].contains("-f ")
            && calls[1]
                .contains("docker-compose.prod.yml run --rm --build -T redis redis-cli ping"),
        "{calls:?}"
    );
}

#[test]
fn run_explains_a_service_in_the_environment_position() {
    let p = Project::new();
    let out = p.timmy().args(["run", "timmy", "node"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: `timmy` is not an environment (timmy run takes [ENV] SERVICE, then `--` and the command)\n  \
         hint: environments: dev, prod, test; for the dev stack name only the service, e.g. timmy run timmy -- CMD\n"
    );
    let out = p.timmy().args(["run", "web"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: no service `web` in this project\n  hint: services: redis, timmy\n"
    );
    assert!(p.calls().is_empty());
}

#[test]
fn man_prints_roff_for_timmy_and_for_one_command() {
    let p = Project::new();
    let out = p.timmy().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = stdout_of(&out);
    assert!(page.contains(".TH timmy 1"), "{page}");
    assert!(page.contains("timmy\\-doctor(1)"));
    let out = p.timmy().args(["man", "run"]).output().unwrap();
    assert!(stdout_of(&out).contains(".TH timmy-run 1"));
    let out = p.timmy().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out)
            .starts_with("error: timmy has no command `nope`\n  hint: commands: up, down,")
    );
    assert!(p.calls().is_empty());
}

#[test]
fn doctor_warns_below_the_engine_and_compose_versions_ci_proves() {
    let p = Project::new();
    p.answer_to(
        &["version", "--format"],
        r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.40","Context":"default"},"Server":{"Version":"19.03.15","ApiVersion":"1.40"}}"#,
        0,
    );
    p.answer_to(&["compose", "version", "--short"], "2.24.6\n", 0);
    p.answer_to(&["info"], &info_json(&p), 0);
    let out = p
        .timmy()
        .env("TIMMY_PORT", free_port().to_string())
        .env("TIMMY_DEBUG_PORT", free_port().to_string())
        .arg("doctor")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "warnings only: {text}");
    let tmp = p.dir.path().display().to_string();
    assert_eq!(
        line_of(&text, "! Compose"),
        format!(
            "! Compose     {tmp}/fake/config/cli-plugins/docker-compose, 2.24.6: older than 2.26.1, the oldest Compose timmy's CI proves"
        )
    );
    assert_eq!(
        line_of(&text, "! daemon"),
        format!(
            "! daemon      context default, unix://{tmp}/fake/docker.sock, engine 19.03.15: older than 20.10.0, the oldest Engine timmy's CI proves"
        )
    );
    assert!(
        text.contains("fix: update Docker Engine (CI proves Engine 20.10 and 28.5)\n"),
        "{text}"
    );
    assert!(text.ends_with("\nno failures, 2 warnings\n"), "{text}");
}

/// `run` without an environment uses the stack of this checkout that runs (here prod), like
/// `ps`, `logs` and `exec`.
#[test]
fn run_without_an_environment_uses_the_running_stack() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_here(&container_line("a", "proj", "prod", &root));
    let out = p
        .timmy()
        .args(["run", "timmy", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let calls = p.calls();
    assert_eq!(calls[1], label_query("proj"));
    assert!(
        calls[2].contains(" -p proj -f ")
            && calls[2].ends_with("docker-compose.prod.yml run --rm --build -T timmy true"),
        "{calls:#?}"
    );
}
