//! What guards a stack, proven with the fake docker (no engine): `down` names the orphans it
//! removed, with each reason; `up` and `down` hold the project lock while docker changes the
//! stack; a signal received while docker ran gives exit 128+N even when the command succeeded.

mod common;

use std::fs;

use common::{Project, container_line, label_query, stderr_of};

fn files(p: &Project, env: &str) -> String {
    let root = p.root().display().to_string();
    format!("{root}/docker/docker-compose.yml,{root}/docker/docker-compose.{env}.yml")
}

/// The prod stack of this checkout, running, as the label query shows it.
fn prod_running(p: &Project) -> String {
    container_line("a", "proj", "prod", &p.root().display().to_string())
}

#[test]
fn down_names_each_orphan_it_removed_with_its_reason() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let (prod, dev) = (files(&p, "prod"), files(&p, "dev"));
    // Before `down`: the stack and four orphans; after it, nothing.
    p.answer_labels(
        "proj",
        &format!(
            "aaaaaaaaaaaaaaaa\tproj-redis-1\trunning\tredis\tFalse\t{prod}\tproj\t{root}\n\
             bbbbbbbbbbbbbbbb\tproj-timmy-1\trunning\ttimmy\tFalse\t{prod}\tproj\t{root}\n\
             cccccccccccccccc\tproj-timmy-dev\texited\ttimmy\tFalse\t{dev}\tproj\t{root}\n\
             dddddddddddddddd\tproj-timmy-run-1\texited\ttimmy\tTrue\t{prod}\tproj\t{root}\n\
             eeeeeeeeeeeeeeee\tproj-worker-1\texited\tworker\tFalse\t{prod}\tproj\t{root}\n\
             ffffffffffffffff\tstray\trunning\t\t\t\tproj\t\n"
        ),
    )
    .once();
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: also removed proj-timmy-dev (started from other compose files)\n\
         timmy: also removed proj-timmy-run-1 (one-off container from `docker compose run`)\n\
         timmy: also removed proj-worker-1 (its service is no longer in any compose file)\n\
         timmy: also removed stray (not created by Compose, only labelled with the project)\n\
         timmy: stopped the prod stack `proj`; no container of the project is left (volumes kept)\n"
    );
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            format!(
                "compose --project-directory {root} --env-file {root}/.env -p proj -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.prod.yml down --remove-orphans"
            ),
            label_query("proj"),
        ]
    );
}

#[test]
fn up_and_down_refuse_while_another_timmy_holds_the_stack() {
    let p = Project::new();
    p.answer_labels("proj", &prod_running(&p));
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    let _held = timmy::lock::acquire_in(&p.root(), None, "proj", "up").unwrap();
    // `up` asks who uses the name first (read-only); `down prod` asks nothing before the lock.
    for (cmd, queries) in [("up", vec![label_query("proj")]), ("down", vec![])] {
        p.forget_calls();
        let out = p.timmy().args([cmd, "prod"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr_of(&out));
        assert_eq!(
            stderr_of(&out),
            format!(
                "error: another timmy (pid {}, timmy up) is already changing the stack `proj`; not starting `{cmd}`\n  \
                 hint: wait for it to finish (or stop it), then run the command again\n",
                std::process::id()
            )
        );
        assert_eq!(p.calls(), queries, "{cmd}");
    }
}

/// While docker changes the stack, `.timmy/proj.lock` is held: `flock -n` finds it taken (its
/// conflict code, 75, is told apart from any other failure, such as no lock file at all).
#[test]
fn up_and_down_hold_the_lock_while_docker_runs() {
    let p = Project::new();
    let probe = format!(
        "flock -n -E 75 '{lock}' true; echo \"$?\" >> '{log}'",
        lock = p.root().join(".timmy/proj.lock").display(),
        log = p.dir.path().join("lock.log").display()
    );
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "up"], "", 0).run(&probe);
    p.answer_to(&["compose", "down"], "", 0).run(&probe);
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "up: {}", stderr_of(&out));
    p.answer_labels("proj", &prod_running(&p)).once();
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "down: {}", stderr_of(&out));
    assert_eq!(
        fs::read_to_string(p.dir.path().join("lock.log")).unwrap(),
        "75\n75\n",
        "flock's exit code under `compose up`, then `compose down`"
    );
}

/// A signal that reaches timmy while `test` cleans up (which goes on after a signal), the
/// cleanup succeeding: `test` returns Ok, and timmy still exits 128+N, as a shell expects of an
/// interrupted command.
#[test]
fn a_signal_during_a_command_that_then_succeeds_still_exits_128_plus_n() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let p = Project::new();
        // timmy forwards the signal to docker, which ignores it and succeeds.
        p.answer_to(&["compose", "down"], "", 0).run(&format!(
            "trap '' INT TERM; kill -{signal} \"$FAKE_DOCKER_CALLER\"; sleep 0.3"
        ));
        let out = p.timmy().arg("test").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{signal}: {}",
            stderr_of(&out)
        );
        assert_eq!(
            stderr_of(&out),
            "timmy: tests passed; test stack removed\n",
            "{signal}"
        );
        let calls = p.calls();
        assert_eq!(calls.len(), 4, "{calls:#?}");
        assert_eq!(calls[0], label_query("proj-test"));
        assert!(
            calls[2].ends_with(" down --remove-orphans --volumes"),
            "{calls:#?}"
        );
    }
}

/// Ctrl-C while `down` stops the stack: Compose gives up half-way (measured on Compose 2.26.1:
/// `canceled`, redis left running), and timmy says what is still running, as after an
/// interrupted `up`, instead of exiting 130 without a word about it.
#[test]
fn an_interrupted_down_says_what_is_still_running() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_labels("proj", &container_line("r", "proj", "prod", &root));
    p.answer_to(&["compose", "down"], "", 130)
        .stderr("canceled\n")
        .run("trap '' INT TERM; kill -INT \"$FAKE_DOCKER_CALLER\"; sleep 0.3");
    p.answer_to(
        &["compose", "ps"],
        r#"{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Publishers":[]}
{"Name":"proj-timmy-1","Service":"timmy","State":"exited","Health":"","ExitCode":0,"Publishers":[]}
"#,
        0,
    );
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "canceled\ntimmy: interrupted; still running in `proj`: redis (timmy down stops them)\n"
    );
}
