//! A fresh clone's first day, with the fake docker: `.env.example`'s per-environment
//! requirements as `timmy check` reports them, the warnings a new `.env` needs, pipes that
//! close early, and the commands that act on a stack that is not running.

mod common;

use std::time::Duration;

use common::{Project, container_line, here_query, label_query, stderr_of, stdout_of};

/// `.env.example` with two keys that only prod needs.
const EXAMPLE: &str = "\
NODE_ENV=production
LOG_LEVEL=info
#: required-in=prod  missing=\"calls to GitHub will fail\"
GITHUB_TOKEN=ghp_your_token_here
#: required-in=prod
GITHUB_REPO=your_org/your_repo
";

fn fresh(p: &Project) {
    p.write(".env.example", EXAMPLE);
    p.write(".env", EXAMPLE);
}

#[test]
fn check_without_env_judges_dev_and_names_the_env_that_differs() {
    let p = Project::new();
    fresh(&p);
    let out = p
        .timmy()
        .arg("check")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
warning: .env:4: GITHUB_TOKEN is a placeholder: calls to GitHub will fail
  hint: the dev stack starts without it; prod needs the real value of GITHUB_TOKEN in .env
warning: .env:6: GITHUB_REPO is a placeholder: what needs GITHUB_REPO will not work (required in prod)
  hint: the dev stack starts without it; prod needs the real value of GITHUB_REPO in .env
timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 2 warnings
timmy: prod: 2 errors: GITHUB_TOKEN, GITHUB_REPO (timmy check prod lists them)
"
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn check_prod_fails_naming_the_placeholders_and_strict_fails_on_dev_warnings() {
    let p = Project::new();
    fresh(&p);
    let out = p.timmy().args(["check", "prod"]).output().unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
error: .env:4: GITHUB_TOKEN holds a placeholder, not a real value
  hint: put the real value of GITHUB_TOKEN in .env
error: .env:6: GITHUB_REPO holds a placeholder, not a real value
  hint: put the real value of GITHUB_REPO in .env
error: 2 errors in the configuration
"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = p.timmy().args(["check", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).ends_with("error: 2 warnings in the configuration (--strict)\n"),
        "{}",
        stderr_of(&out)
    );
    // up dev starts with the placeholders; up prod refuses them before docker
    let out = p
        .timmy()
        .args(["--dry-run", "up", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(p.calls().is_empty());
}

/// Runs timmy with stdout a pipe whose reader is already gone, and returns (code, stderr).
fn with_closed_stdout(p: &Project, args: &[&str]) -> (Option<i32>, String) {
    let mut child = p
        .std_command(&assert_cmd::cargo::cargo_bin("timmy"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr_of(&out))
}

const PS_JSON: &str = r#"{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Publishers":[]}
"#;

#[test]
fn a_closed_pipe_ends_quietly_with_code_0() {
    let p = Project::new();
    let (code, err) = with_closed_stdout(&p, &["env"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, err) = with_closed_stdout(&p, &["config", "--files"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    p.answer(1, "name: proj\nservices:\n  redis:\n    image: redis\n", 0);
    let (code, err) = with_closed_stdout(&p, &["config"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    // calls 1 and 2 are the label queries (this checkout's stacks, then dev's project)
    p.forget_calls();
    p.answer(3, PS_JSON, 0);
    let (code, err) = with_closed_stdout(&p, &["ps", "--json"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    p.forget_calls();
    p.answer(3, "redis-1  | ready\n", 0);
    let (code, err) = with_closed_stdout(&p, &["logs"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, err) = with_closed_stdout(&p, &["completions", "bash"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
}

#[test]
fn piped_logs_have_no_escape_codes_or_carriage_returns() {
    let p = Project::new();
    // Compose 2.26 writes ESC[2K before each line even with --ansi never (measured).
    p.answer_to(
        &["compose", "logs"],
        "\u{1b}[2Ktimmy-1  | {\"msg\":\"listening\"}\r\n\u{1b}[2Ktimmy-1  | two\r",
        0,
    )
    .run("printf '\\r\\n'");
    let out = p.timmy().args(["logs", "--tail", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "\ntimmy-1  | {\"msg\":\"listening\"}\ntimmy-1  | two\n"
    );
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            label_query("proj-dev"),
            common::stack_query("proj-dev"),
            common::stack_query("proj"),
            common::stack_query("proj-test"),
            "compose --ansi never --env-file /dev/null -p proj-dev logs --tail 2".to_string()
        ]
    );
}

#[test]
fn failure_excerpts_have_no_carriage_returns() {
    let p = Project::new();
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "up"], "", 1);
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-dev-timmy-1","Service":"timmy","State":"exited","Health":"","ExitCode":3}
"#,
        0,
    );
    p.answer_to(
        &["compose", "logs"],
        "\u{1b}[2Ktimmy-1  | boom\r\n\u{1b}[2Ktimmy-1  | exiting\r\n",
        0,
    );
    p.answer_to(&["inspect"], "", 1);
    let out = p.timmy().args(["up", "-d"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("--- last 20 log lines of timmy ---\ntimmy-1  | boom\ntimmy-1  | exiting\n"),
        "{err:?}"
    );
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    // calls 0 and 1: the label queries of dev's and prod's names; 2: the port check reads
    // `config`; 3: `up`; 4 and 5: `ps` (is it an untouched service recovering? then what failed)
    assert_eq!(
        p.calls()[6],
        "compose --ansi never --env-file /dev/null -p proj-dev logs --tail 20 timmy"
    );
}

#[test]
fn ups_log_following_is_plain_when_piped() {
    let p = Project::new();
    // calls 1 and 2: the label queries; 3: the port check; 4: up; 5: the table's `ps`
    p.answer(3, "{}", 0);
    p.answer(5, PS_JSON, 0);
    p.answer(6, "\u{1b}[2Kredis-1  | ready\r\n", 0);
    let out = p.timmy().args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH   UPTIME  PORTS  IMAGE\nredis    running  healthy  -       -      -\nredis-1  | ready\n"
    );
    assert_eq!(
        p.calls()[5],
        "compose --ansi never --env-file /dev/null -p proj-dev logs --follow --tail 10"
    );
}

#[test]
fn following_logs_into_a_closed_pipe_ends_at_once() {
    let p = Project::new();
    // One line, then a quiet follow: timmy must not wait for the next line to learn that
    // nobody reads.
    runs_dev(&p);
    p.on_call(3, "printf 'redis-1  | one\\n'; sleep 20");
    let started = std::time::Instant::now();
    let (code, err) = with_closed_stdout(&p, &["logs", "-f"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

/// This checkout's dev stack runs: the answer to both label queries (calls 1 and 2).
fn runs_dev(p: &Project) {
    let line = container_line("t", "proj-dev", "dev", &p.root().display().to_string());
    p.answer(1, &line, 0);
    p.answer(2, &line, 0);
}

const PS_STARTING: &str = r#"{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"starting","ExitCode":0,"Publishers":[]}
"#;
const PS_HEALTHY: &str = r#"{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"healthy","ExitCode":0,"Publishers":[]}
"#;

#[test]
fn restart_waits_until_the_service_is_healthy_again() {
    let p = Project::new();
    runs_dev(&p);
    p.answer(3, "", 0);
    p.answer(4, PS_STARTING, 0);
    p.answer(5, PS_STARTING, 0);
    p.answer(6, PS_HEALTHY, 0);
    let out = p.timmy().args(["restart", "timmy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "timmy: restarted; `proj-dev` is healthy\n");
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH   UPTIME  PORTS  IMAGE\ntimmy    running  healthy  -       -      -\n"
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

#[test]
fn restart_that_turns_unhealthy_fails_with_the_logs() {
    let p = Project::new();
    runs_dev(&p);
    p.answer(3, "", 0);
    p.answer(4, &PS_HEALTHY.replace("\"healthy\"", "\"unhealthy\""), 0);
    p.answer(5, &PS_HEALTHY.replace("\"healthy\"", "\"unhealthy\""), 0);
    p.answer(6, "timmy-1  | cannot reach redis\n", 0);
    p.answer(7, "", 1);
    let out = p.timmy().args(["restart"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.starts_with("error: service `timmy` is unhealthy\n--- last 20 log lines of timmy ---\ntimmy-1  | cannot reach redis\n"),
        "{err}"
    );
}

#[test]
fn restart_and_follow_with_nothing_running_say_so() {
    let p = Project::new();
    // The dev stack's container is there, but exited.
    let exited = container_line("t", "proj-dev", "dev", &p.root().display().to_string())
        .replace("\trunning\t", "\texited\t");
    for (args, why) in [
        (&["restart"][..], "nothing to restart"),
        (&["logs", "-f"], "no logs to follow"),
    ] {
        p.forget_calls();
        p.answer(1, &exited, 0);
        p.answer(2, &exited, 0);
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr_of(&out),
            format!(
                "error: nothing of project `proj-dev` is running: {why}\n  hint: start the stack with: timmy up\n"
            )
        );
        assert_eq!(p.calls(), [here_query(&p), label_query("proj-dev")]);
    }
}

#[test]
fn run_with_a_service_the_env_does_not_define_fails_before_docker() {
    let p = Project::new();
    p.write(
        "docker/docker-compose.test.yml",
        "services:\n  tests:\n    image: x\n",
    );
    let out = p.timmy().args(["run", "tests"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: the dev stack has no service `tests` (docker/docker-compose.yml + docker/docker-compose.dev.yml)\n  \
         hint: services of the dev stack: redis, timmy\n"
    );
    assert!(p.calls().is_empty());
    let out = p.timmy().args(["run", "test", "tests"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn run_stops_the_dependencies_it_started() {
    let p = Project::new();
    let root = p.root().display().to_string();
    // One line of the label query's answer: a running container of `service` in `proj-dev`.
    let line = |service: &str| {
        container_line(service, "proj-dev", "dev", &root).replace(
            "-timmy-1\trunning\ttimmy\t",
            &format!("-{service}-1\trunning\t{service}\t"),
        )
    };
    let run = format!(
        "compose --project-directory {root} --env-file {root}/.env -p proj-dev -f {root}/docker/docker-compose.yml \
         -f {root}/docker/docker-compose.dev.yml run --rm --build -T timmy true"
    );
    // Nothing ran before: the whole project goes (its network too). Calls 1 and 2 are the
    // label queries (this checkout's stacks, dev's project: what runs before), 3 the run, 4
    // the label query again (what runs after).
    p.answer(4, &line("redis"), 0);
    let out = p
        .timmy()
        .args(["run", "timmy", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: stopped redis again: `run` started it for the one-off container\n"
    );
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            label_query("proj-dev"),
            run.clone(),
            label_query("proj-dev"),
            "compose --env-file /dev/null -p proj-dev down --remove-orphans".to_string()
        ]
    );
    // redis ran before, the worker did not: only the worker goes.
    p.forget_calls();
    p.answer(1, &line("redis"), 0);
    p.answer(2, &line("redis"), 0);
    p.answer(4, &format!("{}{}", line("redis"), line("worker")), 0);
    let out = p
        .timmy()
        .args(["run", "timmy", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: stopped worker again: `run` started it for the one-off container\n"
    );
    assert_eq!(
        p.calls()[4],
        "compose --env-file /dev/null -p proj-dev rm --stop --force -v worker"
    );
    // everything that runs ran before: nothing to stop
    p.forget_calls();
    for n in [1, 2, 4] {
        p.answer(n, &line("redis"), 0);
    }
    let out = p
        .timmy()
        .args(["run", "timmy", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(p.calls().len(), 4);
}

#[test]
fn a_folder_name_compose_cannot_use_is_a_warning_naming_the_project_name() {
    let p = Project::new();
    let root = p.dir.path().join("ÜÜÜ");
    std::fs::rename(p.root(), &root).unwrap();
    let out = p.timmy().current_dir(&root).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr_of(&out),
        "warning: project folder: the folder name `ÜÜÜ` has no letter or digit Compose accepts: the project name is `timmy`\n  \
         hint: choose the name with -p NAME (or TIMMY_PROJECT_NAME), or rename the folder\n\
         timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning\n"
    );
    // a name chosen with -p needs no warning
    let out = p
        .timmy()
        .current_dir(&root)
        .args(["-p", "mine", "check"])
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&out),
        "timmy: .env is valid for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml)\n"
    );
}

#[test]
fn bare_lines_and_typos_in_env_are_warnings() {
    let p = Project::new();
    p.write(
        ".env",
        &format!("{}GITHUB_TOKNE=x\nLOG_LEVEL\n", common::GOOD_ENV),
    );
    let out = p.timmy().arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr_of(&out),
        "warning: .env:4: GITHUB_TOKNE is not in .env.example: did you mean GITHUB_TOKEN?\n  \
         hint: rename it to GITHUB_TOKEN; nothing reads GITHUB_TOKNE\n\
         warning: .env:5: LOG_LEVEL has no `=` and is not set in your shell: Compose leaves it out\n  \
         hint: write NAME=value to set it here (NAME= for empty), or delete the line\n\
         timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 2 warnings\n"
    );
}
