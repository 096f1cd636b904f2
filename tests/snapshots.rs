//! Snapshot tests (insta) of what people read: `--help` of timmy and of every command, doctor's
//! checklist with the fake docker, and the status of bare `timmy`. A change to any of them shows
//! up as a diff under tests/snapshots/; review it and accept with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test snapshots`).
//!
//! Deterministic on purpose: no colours (`NO_COLOR`), a fixed width (`COLUMNS=100`, the same as
//! clap's `max_term_width`), the temp dir shown as `[TMP]`, chosen ports as `<APP>`/`<DBG>` (as wide as a port), and the
//! disk numbers as `[FREE]`/`[TOTAL]`.

mod common;
mod daily;

use clap::CommandFactory;
use common::{Project, container_line, stderr_of, stdout_of};
use daily::{VERSION_JSON, free_port, info_json, redact};

fn help(p: &Project, args: &[&str]) -> String {
    let out = p.timmy().env("COLUMNS", "100").args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn help_of_timmy() {
    let p = Project::new();
    insta::assert_snapshot!("help", help(&p, &["--help"]));
}

#[test]
fn help_of_every_command() {
    let p = Project::new();
    let names: Vec<String> = timmy::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        insta::assert_snapshot!(format!("help_{name}"), help(&p, &[&name, "--help"]));
    }
}

#[test]
fn doctor_checklist() {
    let p = Project::new();
    p.answer_to(&["version", "--format"], VERSION_JSON, 0);
    p.answer_to(&["compose", "version", "--short"], "2.26.1\n", 0);
    p.answer_to(&["info"], &info_json(&p), 0);
    let (app, debug) = (free_port(), free_port());
    let out = p
        .timmy()
        .env("TIMMY_PORT", app.to_string())
        .env("TIMMY_DEBUG_PORT", debug.to_string())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    insta::assert_snapshot!(
        "doctor",
        redact(&p, &stdout_of(&out), &[(app, "<APP>"), (debug, "<DBG>")])
    );
}

#[test]
fn doctor_without_docker() {
    let p = Project::new();
    let (app, debug) = (free_port(), free_port());
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("PATH", p.dir.path())
        .env(
            "DOCKER_HOST",
            format!("unix://{}/none.sock", p.dir.path().display()),
        )
        .env("TIMMY_PORT", app.to_string())
        .env("TIMMY_DEBUG_PORT", debug.to_string())
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(
        "doctor_without_docker",
        redact(&p, &stdout_of(&out), &[(app, "<APP>"), (debug, "<DBG>")])
    );
}

#[test]
fn status_when_nothing_runs() {
    let p = Project::new();
    let out = p.timmy().output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("status_nothing_running", redact(&p, &stdout_of(&out), &[]));
}

#[test]
fn status_when_a_stack_runs_and_one_service_failed() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_here(&container_line("a", "proj", "prod", &root));
    p.answer_to(
        &["compose", "ps"],
        r#"[{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Labels":"com.docker.compose.project.config_files=/p/docker/docker-compose.yml,/p/docker/docker-compose.prod.yml"},
{"Name":"proj-timmy-1","Service":"timmy","State":"exited","Health":"","ExitCode":1,"Labels":"com.docker.compose.project.config_files=/p/docker/docker-compose.yml,/p/docker/docker-compose.prod.yml"}]"#,
        0,
    );
    let out = p.timmy().output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("status_prod_failed", redact(&p, &stdout_of(&out), &[]));
}

/// A test stack running beside dev (each has its own project name): both are shown, and the
/// next commands name the environment, since plain `timmy down` would have to ask which one.
#[test]
fn status_when_dev_and_test_stacks_run() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_here(&format!(
        "{}{}",
        container_line("a", "proj-dev", "dev", &root),
        container_line("b", "proj-test", "test", &root)
    ));
    p.answer_to(
        &["-p", "proj-dev", "ps"],
        r#"{"Name":"proj-dev-timmy-1","Service":"timmy","State":"running","Health":"healthy","ExitCode":0}"#,
        0,
    );
    p.answer_to(
        &["-p", "proj-test", "ps"],
        r#"{"Name":"proj-test-tests-run-1","Service":"tests","State":"running","Health":"","ExitCode":0}"#,
        0,
    );
    let out = p.timmy().output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("status_dev_and_test", redact(&p, &stdout_of(&out), &[]));
}
