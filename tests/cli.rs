//! CLI tests with a fake `docker`: what timmy runs, what it refuses to run, what it prints and
//! which exit code it returns. No Docker engine needed (see tests/e2e.rs for the real one).

mod common;

use common::{Project, container_line, here_query, label_query, stack_query, stderr_of, stdout_of};

const STACK_DEV: &str = "compose --project-directory {root} --env-file {root}/.env -p proj \
                         -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.dev.yml";

/// The full stack prefix of `env`: prod's project is `proj`, every other env's `proj-<env>`.
fn stack(p: &Project, env: &str) -> String {
    let name = if env == "prod" {
        "proj".to_string()
    } else {
        format!("proj-{env}")
    };
    STACK_DEV
        .replace("{root}", &p.root().display().to_string())
        .replace(".dev.yml", &format!(".{env}.yml"))
        .replace(" -p proj ", &format!(" -p {name} "))
}

const PS_HEALTHY: &str = r#"{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Publishers":[],"Status":"Up 2 minutes (healthy)"}
{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"healthy","ExitCode":0,"Publishers":[{"URL":"127.0.0.1","TargetPort":3000,"PublishedPort":3000,"Protocol":"tcp"}],"Image":"proj-timmy:prod"}
"#;

#[test]
fn up_runs_compose_with_the_full_stack_and_prints_a_table() {
    let p = Project::new();
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            format!("{} config --format json", stack(&p, "prod")),
            format!(
                "{} up --detach --wait --wait-timeout 120 --remove-orphans --build",
                stack(&p, "prod")
            ),
            "compose --env-file /dev/null -p proj ps --all --format json".to_string(),
        ]
    );
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH   UPTIME     PORTS                 IMAGE\n\
         redis    running  healthy  2 minutes  -                     -\n\
         timmy    running  healthy  -          127.0.0.1:3000->3000  proj-timmy:prod\n"
    );
    assert!(stderr_of(&out).contains("prod stack `proj` is up"));
}

#[test]
fn bad_env_never_calls_docker_and_names_file_and_line() {
    let p = Project::new();
    // Compose reports an unterminated quote on the line after the file's end: line 4 here.
    p.write(
        ".env",
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=\"s3cr3t-value\n",
    );
    let before = common::tree_snapshot(&p.root());
    for cmd in [
        &["up"][..],
        &["up", "prod"],
        &["build"],
        &["test"],
        &["check"],
    ] {
        let out = p.timmy().args(cmd).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(
            err.contains("error: .env:4: the quote opened on line 3 is never closed"),
            "{cmd:?}: {err}"
        );
        assert!(
            !err.contains("s3cr3t"),
            "a secret reached the terminal: {err}"
        );
    }
    assert!(p.calls().is_empty(), "docker was called: {:?}", p.calls());
    assert_eq!(
        before,
        common::tree_snapshot(&p.root()),
        "a file of the project changed"
    );
}

#[test]
fn docker_exit_code_passes_through() {
    let p = Project::new();
    p.answer_to(&["compose", "exec", "timmy"], "", 3);
    let out = p
        .timmy()
        .args(["exec", "prod", "timmy", "--", "false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            "compose --env-file /dev/null -p proj exec -T timmy false".to_string()
        ]
    );
}

#[test]
fn failed_up_names_the_service_and_shows_its_logs() {
    let p = Project::new();
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "up"], "", 1);
    p.answer_to(
        &["compose", "ps"],
        r#"[{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0},
{"Name":"proj-timmy-1","Service":"timmy","State":"running","Health":"unhealthy","ExitCode":0}]"#,
        0,
    );
    p.answer_to(
        &["compose", "logs", "timmy"],
        "timmy-1  | cannot reach redis\n",
        0,
    );
    p.answer_to(
        &["inspect", "proj-timmy-1"],
        "/proj-timmy-1\t{\"Status\":\"unhealthy\",\"Log\":[{\"ExitCode\":1,\"Output\":\"HTTP 503\"}]}\n",
        0,
    );
    let out = p.timmy().args(["up", "-d"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("error: service `timmy` is unhealthy"), "{err}");
    assert!(err.contains("cannot reach redis"), "{err}");
    assert!(err.contains("exit code 1: HTTP 503"), "{err}");
    assert!(!err.contains("service `redis`"), "{err}");
    let calls = p.calls();
    // calls[4]: `up` asks whether the failure is an untouched service recovering (it is not:
    // no uptime), then `explain_failure` asks again.
    assert_eq!(
        calls[4..6],
        ["compose --env-file /dev/null -p proj-dev ps --all --format json"; 2]
    );
    assert_eq!(
        calls[6],
        "compose --ansi never --env-file /dev/null -p proj-dev logs --tail 20 timmy"
    );
    assert_eq!(
        calls[7],
        "inspect --format {{.Name}}\t{{json .State.Health}} proj-timmy-1"
    );
}

#[test]
fn missing_docker_has_its_own_message() {
    let p = Project::new();
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("PATH", p.dir.path())
        .arg("ps")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: docker is not installed (no `docker` on PATH)\n  hint: install Docker Engine and the Compose v2 plugin; on Debian as root: scripts/setup-engine.sh\n"
    );
}

#[test]
fn daemon_down_has_its_own_message_and_runs_nothing() {
    let p = Project::new();
    let out = p
        .timmy()
        .env(
            "DOCKER_HOST",
            format!("unix://{}/none.sock", p.dir.path().display()),
        )
        .args(["up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("error: the Docker daemon is not running (nothing answers on "),
        "{err}"
    );
    assert!(err.contains("hint: start it"), "{err}");
    assert!(p.calls().is_empty());
}

#[test]
fn down_learns_the_stack_from_labels_and_reports_leftovers() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let files = format!("{root}/docker/docker-compose.yml,{root}/docker/docker-compose.prod.yml");
    let running = format!(
        "aaaaaaaaaaaaaaaa\tproj-redis-1\trunning\tredis\tFalse\t{files}\tproj\t{root}\n\
         bbbbbbbbbbbbbbbb\tproj-timmy-1\trunning\ttimmy\tFalse\t{files}\tproj\t{root}\n"
    );
    p.answer_here(&running);
    // The label query runs before and after `down`: the stack, then one stray.
    p.answer_labels("proj", &running).once();
    p.answer_labels("proj", "cccccccccccccccc\tstray\trunning\t\t\t\tproj\t\n");
    let out = p.timmy().arg("down").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let calls = p.calls();
    assert_eq!(
        calls,
        [
            here_query(&p),
            label_query("proj"),
            format!("{} down --remove-orphans", stack(&p, "prod")),
            label_query("proj"),
        ]
    );
    let err = stderr_of(&out);
    assert!(
        err.contains("error: 1 container of project `proj` still there after down:"),
        "{err}"
    );
    assert!(
        err.contains("  stray  cccccccccccc  running  not from a compose service"),
        "{err}"
    );
    assert!(
        err.contains("hint: remove them with: docker rm -f cccccccccccc"),
        "{err}"
    );
}

#[test]
fn down_with_nothing_running_says_so() {
    let p = Project::new();
    let out = p.timmy().arg("down").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr_of(&out),
        "timmy: no stack of this checkout is running\n"
    );
    // No Swarm stack deployed under this checkout's names either.
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            stack_query("proj-dev"),
            stack_query("proj"),
            stack_query("proj-test")
        ]
    );
    p.forget_calls();
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr_of(&out),
        "timmy: nothing of project `proj` is running\n"
    );
    assert_eq!(p.calls(), [label_query("proj"), stack_query("proj")]);
}

/// `-p NAME` without an environment acts on NAME's stacks only: another stack of this checkout,
/// started under another `-p`, is neither stopped by `down` nor shown by `ps`. Was a bug:
/// `timmy -p mine down` stopped the stack `-p other` had started, and `ps` listed it.
#[test]
fn with_p_and_no_env_only_that_names_stacks_are_picked() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_here(&container_line("o", "other", "prod", &root));
    // Answered once: after the `down` of the last part, nothing is left.
    p.answer_labels("other", &container_line("o", "other", "prod", &root))
        .once();
    let out = p.timmy().args(["-p", "mine", "down"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "timmy: no stack of this checkout is running under `mine` (-p)\n"
    );
    let deployed = [
        stack_query("mine-dev"),
        stack_query("mine"),
        stack_query("mine-test"),
    ];
    let mut expected = vec![here_query(&p)];
    expected.extend(deployed.clone());
    assert_eq!(p.calls(), expected);

    p.forget_calls();
    let out = p
        .timmy()
        .args(["-p", "mine", "ps", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "[]\n");
    assert_eq!(
        p.calls(),
        [
            vec![here_query(&p), label_query("mine-dev")],
            deployed.to_vec(),
            vec!["compose --env-file /dev/null -p mine-dev ps --all --format json".to_string()],
        ]
        .concat()
    );

    p.forget_calls();
    let out = p.timmy().arg("down").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        p.calls()
            .iter()
            .any(|c| c.contains(" -p other ") && c.ends_with(" down --remove-orphans")),
        "without -p, the stack of this checkout that runs: {:?}",
        p.calls()
    );
}

#[test]
fn down_volumes_in_prod_needs_yes_when_not_interactive() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let line = container_line("a", "proj", "prod", &root);
    p.answer_here(&line);
    p.answer_labels("proj", &line);
    let out = p.timmy().args(["down", "--volumes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: refusing to remove the volumes of the prod stack `proj` without confirmation\n  \
         hint: the data in them is lost for good; pass --yes if that is what you want\n"
    );
    assert_eq!(
        p.calls(),
        [here_query(&p), label_query("proj")],
        "only the label queries ran"
    );
}

#[test]
fn dry_run_prints_and_runs_nothing() {
    let p = Project::new();
    let out = p
        .timmy()
        .args(["--dry-run", "up", "prod", "--build"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Only the read-only question of who else uses the name (queries run under --dry-run).
    assert_eq!(p.calls(), [label_query("proj")]);
    assert_eq!(
        stdout_of(&out),
        format!(
            "docker {} up --detach --wait --wait-timeout 120 --remove-orphans --build\n",
            stack(&p, "prod")
        )
    );
}

#[test]
fn unknown_env_lists_the_available_ones() {
    let p = Project::new();
    let out = p.timmy().args(["up", "staging"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: unknown environment `staging`: there is no docker/docker-compose.staging.yml\n  hint: available environments: dev, prod, test\n"
    );
    assert!(p.calls().is_empty());
}

#[test]
fn unknown_service_is_refused_before_docker() {
    let p = Project::new();
    for args in [
        &["shell", "web"][..],
        &["logs", "web"],
        &["exec", "web", "--", "ls"],
    ] {
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr_of(&out),
            "error: no service `web` in this project\n  hint: services: redis, timmy\n"
        );
    }
    assert!(p.calls().is_empty());
}

#[test]
fn test_command_propagates_the_code_and_always_cleans_up() {
    let p = Project::new();
    p.answer_to(&["compose", "run", "tests"], "", 3);
    let out = p
        .timmy()
        .args(["test", "--", "sh", "-c", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let mut calls = p.calls();
    assert_eq!(calls.remove(0), label_query("proj-test"));
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(calls[0].ends_with("-p proj-test -f {r}/docker/docker-compose.yml -f {r}/docker/docker-compose.test.yml run --rm --build -T tests sh -c exit 3".replace("{r}", &p.root().display().to_string()).as_str()), "{}", calls[0]);
    assert!(
        calls[1].ends_with("down --remove-orphans --volumes"),
        "{}",
        calls[1]
    );
    assert!(
        calls[2]
            .starts_with("ps --all --no-trunc --filter label=com.docker.compose.project=proj-test"),
        "the leftover check: {}",
        calls[2]
    );
}

#[test]
fn test_stack_stragglers_are_removed_by_id_then_down_again() {
    let p = Project::new();
    // The name check, then the leftover check after `down`.
    p.answer_labels("proj-test", "").once();
    p.answer_labels(
        "proj-test",
        "deadbeefdeadbeef\tproj-test-tests-run-1\tcreated\ttests\tTrue\t\n",
    )
    .once();
    let out = p.timmy().arg("test").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mut calls = p.calls();
    assert_eq!(calls.remove(0), label_query("proj-test"));
    assert_eq!(calls.len(), 6, "{calls:#?}");
    assert_eq!(calls[3], "rm --force --volumes deadbeefdeadbeef");
    assert_eq!(calls[4], calls[1], "down runs again");
}

#[test]
fn ps_json_is_a_stable_array() {
    let p = Project::new();
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let out = p.timmy().args(["ps", "prod", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            stack_query("proj"),
            "compose --env-file /dev/null -p proj ps --all --format json".to_string()
        ]
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[1]["service"], "timmy");
    assert_eq!(v[1]["health"], "healthy");
    assert_eq!(v[1]["ports"][0], "127.0.0.1:3000->3000/tcp");
}

#[test]
fn config_files_and_export() {
    let p = Project::new();
    let out = p
        .timmy()
        .args(["config", "prod", "--files"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out),
        "docker/docker-compose.yml\ndocker/docker-compose.prod.yml\n"
    );
    let out = p
        .timmy()
        .args(["config", "production", "--export"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains("export COMPOSE_PROJECT_NAME=proj\n"),
        "{text}"
    );
    assert!(text.contains("docker-compose.yml:"), "{text}");
    assert!(p.calls().is_empty());
}

#[test]
fn outside_a_project() {
    let p = Project::new();
    let out = p
        .timmy()
        .current_dir(p.dir.path())
        .arg("ps")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).starts_with("error: no docker/docker-compose.yml in "));
}

#[test]
fn usage_errors_exit_2() {
    let p = Project::new();
    let out = p.timmy().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = p.timmy().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout_of(&out).contains("Examples:"));
}

#[test]
fn daemon_stopping_mid_session_is_told_apart_from_docker_errors() {
    let p = Project::new();
    let here = format!(
        "label=com.docker.compose.project.working_dir={}",
        p.root().display()
    );
    p.answer_to(&["ps", "--filter", &here], "", 1)
        .run(&format!("rm -f '{}'", p.socket_path().display()));
    let out = p.timmy().arg("ps").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.starts_with(&format!(
            "error: the Docker daemon stopped answering on {} while timmy was working (the Docker daemon is not running",
            p.socket_path().display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: start it"), "{err}");
}

#[test]
fn a_failing_docker_query_with_the_daemon_up_names_the_command() {
    let p = Project::new();
    p.answer_to(&["compose", "ps"], "", 1);
    let out = p.timmy().args(["ps", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: `docker compose --env-file /dev/null -p proj ps --all --format json` failed with code 1: \n"
    );
}

#[test]
fn colours_only_when_asked_or_on_a_terminal() {
    let p = Project::new();
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let plain = p.timmy().args(["ps", "prod"]).output().unwrap();
    assert!(
        !stdout_of(&plain).contains('\u{1b}'),
        "NO_COLOR and a pipe: no escapes"
    );
    let coloured = p
        .timmy()
        .env_remove("NO_COLOR")
        .args(["--color", "always", "ps", "prod"])
        .output()
        .unwrap();
    let text = stdout_of(&coloured);
    assert!(
        text.contains("\u{1b}[32m\u{25cf}"),
        "a green health dot: {text:?}"
    );
}

#[test]
fn coloured_table_colours_each_state_and_health() {
    let p = Project::new();
    let ps = r#"{"Name":"proj-a-1","Service":"a","State":"running","Health":"healthy","ExitCode":0,"Status":"Up 2 minutes (healthy)"}
{"Name":"proj-b-1","Service":"b","State":"running","Health":"unhealthy","ExitCode":0,"Status":"Up 1 minute (unhealthy)"}
{"Name":"proj-c-1","Service":"c","State":"running","Health":"starting","ExitCode":0,"Status":"Up 3 seconds (health: starting)"}
{"Name":"proj-d-1","Service":"d","State":"exited","Health":"","ExitCode":0,"Status":"Exited (0) 1 minute ago"}
{"Name":"proj-e-1","Service":"e","State":"exited","Health":"","ExitCode":3,"Status":"Exited (3) 1 minute ago"}
{"Name":"proj-f-1","Service":"f","State":"created","Health":"","ExitCode":0,"Status":"Created"}
{"Name":"proj-g-1","Service":"g","State":"frozen","Health":"odd","ExitCode":0,"Status":"Frozen"}
"#;
    p.answer_to(&["compose", "ps"], ps, 0);
    let out = p
        .timmy()
        .env_remove("NO_COLOR")
        .args(["--color", "always", "ps", "prod"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE       HEALTH       UPTIME     PORTS  IMAGE\n\
         a        \u{1b}[32mrunning\u{1b}[0m     \u{1b}[32m\u{25cf}\u{1b}[0m \u{1b}[32mhealthy\u{1b}[0m    2 minutes  -      -\n\
         b        \u{1b}[32mrunning\u{1b}[0m     \u{1b}[31m\u{25cf}\u{1b}[0m \u{1b}[31munhealthy\u{1b}[0m  1 minute   -      -\n\
         c        \u{1b}[32mrunning\u{1b}[0m     \u{1b}[33m\u{25cf}\u{1b}[0m \u{1b}[33mstarting\u{1b}[0m   3 seconds  -      -\n\
         d        \u{1b}[32mexited (0)\u{1b}[0m  -            -          -      -\n\
         e        \u{1b}[31mexited (3)\u{1b}[0m  -            -          -      -\n\
         f        \u{1b}[33mcreated\u{1b}[0m     -            -          -      -\n\
         g        frozen      \u{1b}[33m\u{25cf}\u{1b}[0m odd        -          -      -\n"
    );
}

#[test]
fn a_path_that_is_not_utf8_reaches_docker_byte_for_byte() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let p = Project::new();
    let parent = p.dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&parent).unwrap();
    let root = parent.join("proj");
    std::fs::rename(p.root(), &root).unwrap();
    p.record_exact_argv();
    let out = p
        .timmy()
        .current_dir(&root)
        .args(["config", "prod"])
        .output()
        .unwrap();
    assert_eq!(stderr_of(&out), "");
    assert!(out.status.success());
    let bytes = |path: &std::path::Path| path.as_os_str().as_bytes().to_vec();
    let word = |w: &str| w.as_bytes().to_vec();
    assert_eq!(
        p.exact_call_bytes(),
        [vec![
            word("compose"),
            word("--project-directory"),
            bytes(&root),
            word("--env-file"),
            bytes(&root.join(".env")),
            word("-p"),
            word("proj"),
            word("-f"),
            bytes(&root.join("docker/docker-compose.yml")),
            word("-f"),
            bytes(&root.join("docker/docker-compose.prod.yml")),
            word("config"),
        ]]
    );
}

#[test]
fn check_names_the_key_of_an_error_another_env_has() {
    // Before, the verdict took a key from the first word of each message: an upper-case word
    // only, and never from an error worded around its key.
    let p = Project::new();
    p.write(
        ".env.example",
        &format!("{}#: required-in=prod\nmy_token=\n", common::ENV_EXAMPLE),
    );
    p.write(
        "docker/docker-compose.prod.yml",
        "services:\n  timmy:\n    image: ${TIMMY_IMAGE:?}\n",
    );
    let out = p.timmy().arg("check").output().unwrap();
    assert_eq!(
        stderr_of(&out),
        "warning: .env: my_token is missing: what needs my_token will not work (required in prod)\n  \
         hint: the dev stack starts without it; prod needs the real value of my_token in .env\n\
         timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning\n\
         timmy: prod: 2 errors: my_token, TIMMY_IMAGE (timmy check prod lists them)\n"
    );
}

#[test]
fn a_checkout_whose_path_is_not_utf8_knows_its_own_containers() {
    // Compose records such a path in its working-dir label with U+FFFD for each byte that is
    // not UTF-8 (measured with Compose 2.26.1 on Engine 20.10).
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let p = Project::new();
    let parent = p.dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir(&parent).unwrap();
    let root = parent.join("proj");
    std::fs::rename(p.root(), &root).unwrap();
    let label = root.to_string_lossy();
    assert!(label.contains("caf\u{fffd}/proj"));
    p.answer_labels("proj", &container_line("a", "proj", "prod", &label));
    let out = p
        .timmy()
        .current_dir(&root)
        .args(["--dry-run", "up", "prod"])
        .output()
        .unwrap();
    assert_eq!(stderr_of(&out), "");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout_of(&out)
            .ends_with(" up --detach --wait --wait-timeout 120 --remove-orphans --build\n"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn dynamic_completion_offers_the_projects_envs_and_services() {
    let p = Project::new();
    let complete = |words: &[&str]| {
        let out = p
            .timmy()
            .env("COMPLETE", "fish")
            .arg("--")
            .args(words)
            .output()
            .unwrap();
        stdout_of(&out)
            .lines()
            .filter(|l| !l.starts_with('-'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(complete(&["timmy", "up", ""]), ["dev", "prod", "test"]);
    assert_eq!(
        complete(&["timmy", "shell", ""]),
        ["dev", "prod", "test", "redis", "timmy"]
    );
    assert_eq!(complete(&["timmy", "logs", "re"]), ["redis"]);
    assert_eq!(complete(&["timmy", "restart", "te"]), ["test"]);
    assert!(p.calls().is_empty(), "completion runs no docker");
}

/// Compose 2.26.1's own words for an unknown key (measured), with the file's absolute path.
const RESTARTT: &str = "validating {root}/docker/docker-compose.dev.yml: services.timmy Additional property restartt is not allowed\n";
const DEV_WITH_RESTARTT: &str =
    "services:\n  timmy:\n    environment:\n      LOG_LEVEL: debug\n    restartt: always\n";

#[test]
fn check_and_up_ask_compose_to_validate_before_anything_starts() {
    let p = Project::new();
    let out = p.timmy().args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.config_calls(),
        [format!("{} config --quiet", stack(&p, "dev"))]
    );
    assert!(p.calls().is_empty());

    p.forget_calls();
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.config_calls(),
        [format!("{} config --quiet", stack(&p, "prod"))]
    );
}

#[test]
fn an_unknown_compose_key_is_refused_with_file_and_line_and_nothing_starts() {
    let p = Project::new();
    p.write("docker/docker-compose.dev.yml", DEV_WITH_RESTARTT);
    p.refuse_config(
        &RESTARTT.replace("{root}", &p.root().display().to_string()),
        15,
    );
    let before = common::tree_snapshot(&p.root());
    let finding = "error: docker/docker-compose.dev.yml:5: unknown key `restartt` in `services.timmy` (Compose refuses it)\n  \
                   hint: check its spelling and indentation against the Compose file reference\n";
    for (args, last) in [
        (&["check"][..], "error: 1 error in the configuration\n"),
        (
            &["up"],
            "error: 1 error in the configuration; nothing was started\n",
        ),
        (
            &["build"],
            "error: 1 error in the configuration; nothing was started\n",
        ),
        (
            &["run", "timmy", "--", "true"],
            "error: 1 error in the configuration; nothing was started\n",
        ),
    ] {
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr_of(&out), format!("{finding}{last}"), "{args:?}");
        assert_eq!(stdout_of(&out), "", "{args:?}");
    }
    assert!(p.calls().is_empty(), "docker acted: {:?}", p.calls());
    assert_eq!(p.config_calls().len(), 4);
    assert_eq!(common::tree_snapshot(&p.root()), before);
}

#[test]
fn a_compose_message_quoting_a_value_is_never_relayed() {
    let p = Project::new();
    p.refuse_config(
        "error while interpolating services.timmy.environment.NODE_ENV: failed to cast to expected type: invalid boolean: hunter2secret\n",
        15,
    );
    let out = p.timmy().args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: docker/docker-compose.yml:7: `services.timmy.environment.NODE_ENV` gets a value Compose cannot use\n  \
         hint: check the variable it uses in .env (`timmy config` shows the result, secrets masked)\n\
         error: 1 error in the configuration; nothing was started\n"
    );
    assert!(p.calls().is_empty());
}

#[test]
fn doctor_reports_what_compose_refuses() {
    let p = Project::new();
    p.write("docker/docker-compose.dev.yml", DEV_WITH_RESTARTT);
    p.refuse_config(
        &RESTARTT.replace("{root}", &p.root().display().to_string()),
        15,
    );
    let out = p.timmy().args(["doctor", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let env = json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "env-file")
        .unwrap();
    assert_eq!(env["status"], "fail");
    assert_eq!(
        env["detail"],
        "1 error for the dev stack, first docker/docker-compose.dev.yml:5: unknown key `restartt` in `services.timmy` (Compose refuses it)"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn service_names_are_read_as_yaml_comments_and_flow_style_included() {
    for base in [
        "services:  # the stack\n  redis:\n    image: r\n  timmy:\n    build: .\n",
        "services: {redis: {image: r}, timmy: {build: .}}\n",
    ] {
        let p = Project::new();
        p.write("docker/docker-compose.yml", base);
        let out = p
            .timmy()
            .args(["shell", "redis", "-c", "redis-cli ping"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{base:?}: {}", stderr_of(&out));
        let calls = p.calls();
        // The label queries (which stack runs, who else uses its name), then the exec.
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(
            calls[2].starts_with("compose --env-file /dev/null -p proj-dev exec -T redis sh -c "),
            "{calls:?}"
        );
    }
}

#[test]
fn an_accepted_compose_verdict_is_remembered_until_an_input_changes() {
    let p = Project::new();
    let before = common::tree_snapshot(&p.root());
    let check = |p: &Project, shell: Option<(&str, &str)>| {
        let mut cmd = p.timmy();
        if let Some((k, v)) = shell {
            cmd.env(k, v);
        }
        let out = cmd.arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        p.config_calls().len()
    };
    assert_eq!(check(&p, None), 1);
    assert_eq!(check(&p, None), 1, "unchanged: Compose is not asked again");
    // Remembered in the user's cache, not in the project.
    assert_eq!(common::tree_snapshot(&p.root()), before);
    assert!(p.dir.path().join(".cache/timmy").is_dir());
    p.write(
        "docker/docker-compose.dev.yml",
        "services:\n  timmy:\n    environment:\n      LOG_LEVEL: info\n",
    );
    assert_eq!(check(&p, None), 2, "a compose file changed");
    assert_eq!(check(&p, None), 2);
    p.write(".env", &format!("{}EXTRA=1\n", common::GOOD_ENV));
    assert_eq!(check(&p, None), 3, ".env changed");
    assert_eq!(
        check(&p, Some(("NODE_ENV", "test"))),
        4,
        "a variable of the shell changed"
    );
    assert_eq!(
        check(&p, Some(("UNRELATED", "x"))),
        5,
        "back to no NODE_ENV in the shell"
    );
    assert_eq!(
        check(&p, Some(("UNRELATED", "y"))),
        5,
        "a variable nothing names"
    );
    // A refusal is never remembered.
    p.refuse_config(
        &RESTARTT.replace("{root}", &p.root().display().to_string()),
        15,
    );
    p.write("docker/docker-compose.dev.yml", DEV_WITH_RESTARTT);
    for _ in 0..2 {
        let out = p.timmy().arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(1));
    }
    assert_eq!(p.config_calls().len(), 7);
}

/// The shell's value of a variable `.env` reads (a `${VAR}` in a value, a bare `KEY` line)
/// changes what Compose sees: the remembered verdict no longer holds.
#[test]
fn a_shell_variable_that_env_reads_asks_compose_again() {
    let p = Project::new();
    p.write(
        ".env",
        &format!(
            "{}GREETING=\"hello ${{TIMMY_TEST_WHO}}\"\nTIMMY_TEST_BARE\n",
            common::GOOD_ENV
        ),
    );
    let check = |shell: &[(&str, &str)]| {
        let mut cmd = p.timmy();
        cmd.envs(shell.iter().copied());
        let out = cmd.arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        p.config_calls().len()
    };
    assert_eq!(check(&[("TIMMY_TEST_WHO", "a")]), 1);
    assert_eq!(check(&[("TIMMY_TEST_WHO", "a")]), 1, "unchanged");
    assert_eq!(
        check(&[("TIMMY_TEST_WHO", "b")]),
        2,
        "a `${{VAR}}` of a value"
    );
    assert_eq!(
        check(&[("TIMMY_TEST_WHO", "b"), ("TIMMY_TEST_BARE", "x")]),
        3,
        "a bare KEY line"
    );
    assert_eq!(
        check(&[
            ("TIMMY_TEST_WHO", "b"),
            ("TIMMY_TEST_BARE", "x"),
            ("TIMMY_TEST_WHOM", "y")
        ]),
        3,
        "a name .env does not use"
    );
}

/// A bare `check` judges the other environments with what it read of `.env` for dev: each one
/// that differs is named with the verdict `timmy check ENV` gives, whatever makes it differ (a
/// placeholder `.env.example` requires there, a variable only its compose file reads), and one
/// that does not differ is not named.
#[test]
fn bare_check_names_each_environment_whose_verdict_differs() {
    let p = Project::new();
    p.write(
        ".env.example",
        "NODE_ENV=production\n#: required-in=prod\nGITHUB_REPO=owner/name\n",
    );
    p.write(".env", "NODE_ENV=production\nGITHUB_REPO=changeme\n");
    p.write(
        "docker/docker-compose.prod.yml",
        "services:\n  timmy:\n    environment:\n      ONLY_PROD: ${ONLY_PROD}\n",
    );
    let out = p.timmy().arg("check").output().unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
warning: .env:2: GITHUB_REPO is a placeholder: what needs GITHUB_REPO will not work (required in prod)
  hint: the dev stack starts without it; prod needs the real value of GITHUB_REPO in .env
timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning
timmy: prod: 2 errors: GITHUB_REPO, ONLY_PROD (timmy check prod lists them)
"
    );
    assert_eq!(out.status.code(), Some(0));
    let out = p.timmy().args(["check", "prod"]).output().unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
error: .env:2: GITHUB_REPO holds a placeholder, not a real value
  hint: put the real value of GITHUB_REPO in .env
error: docker/docker-compose.prod.yml:4: ONLY_PROD is not set (Compose would substitute an empty string)
  hint: add ONLY_PROD=... to .env, or write ${ONLY_PROD:-default} in docker/docker-compose.prod.yml
error: 2 errors in the configuration
"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = p.timmy().args(["check", "test"]).output().unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
warning: .env:2: GITHUB_REPO is a placeholder: what needs GITHUB_REPO will not work (required in prod)
  hint: the test stack starts without it; prod needs the real value of GITHUB_REPO in .env
timmy: .env is usable for the test stack (docker/docker-compose.yml + docker/docker-compose.test.yml) with 1 warning
"
    );
    assert_eq!(out.status.code(), Some(0));
}

/// `docker compose config --format json` for a stack publishing `port` of timmy on 127.0.0.1.
fn config_publishing(port: u16) -> String {
    format!(
        r#"{{"name":"proj","services":{{"redis":{{"image":"r"}},"timmy":{{"ports":[{{"mode":"ingress","host_ip":"127.0.0.1","target":3000,"published":"{port}","protocol":"tcp"}}]}}}}}}"#
    )
}

/// A port in use is refused before `up` runs: the `.env` key and the holder are named, and
/// the only docker calls are read-only queries (who else uses the name, the config, the port).
#[test]
fn up_refuses_a_port_in_use_naming_the_key_and_the_holding_stack() {
    let p = Project::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    p.write(
        "docker/docker-compose.prod.yml",
        "services:\n  timmy:\n    ports:\n      - \"127.0.0.1:${TIMMY_PORT:-3000}:3000\"\n",
    );
    p.write(".env", &format!("{}TIMMY_PORT={port}\n", common::GOOD_ENV));
    p.answer_to(&["config", "--format", "json"], &config_publishing(port), 0);
    p.answer_to(
        &["ps", "--filter", &format!("publish={port}/tcp")],
        &format!(
            "other-dev-timmy-1\tother-dev\t/srv/other\t/srv/other/docker/docker-compose.yml,/srv/other/docker/docker-compose.dev.yml\t127.0.0.1:{port}->3000/tcp\n"
        ),
        0,
    );
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: port 127.0.0.1:{port} (TIMMY_PORT) is in use by the dev stack `other-dev` of the checkout /srv/other (container other-dev-timmy-1)\n  \
             hint: stop `other-dev-timmy-1`, or set TIMMY_PORT in .env to a free port\n"
        )
    );
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            format!("{} config --format json", stack(&p, "prod")),
            format!(
                "ps --no-trunc --filter publish={port}/tcp --format {{{{.Names}}}}\t{{{{.Label \"com.docker.compose.project\"}}}}\t{{{{.Label \"com.docker.compose.project.working_dir\"}}}}\t{{{{.Label \"com.docker.compose.project.config_files\"}}}}\t{{{{.Ports}}}}"
            ),
        ]
    );

    // Held by a process that is no container: "another process", and how to find it.
    p.forget_calls();
    p.forget_answers();
    p.answer_to(&["config", "--format", "json"], &config_publishing(port), 0);
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: port 127.0.0.1:{port} (TIMMY_PORT) is in use by another process\n  \
             hint: set TIMMY_PORT in .env to a free port, or stop that process (`lsof -iTCP:{port} -sTCP:LISTEN` shows it)\n"
        )
    );
    assert_eq!(p.calls().len(), 3, "{:#?}", p.calls());
    drop(listener);
}

/// With a remote engine (`DOCKER_HOST=tcp://…`, `ssh://…`, another context) the ports Docker
/// publishes are the remote host's, not this machine's: `up` does not bind them here, so a
/// local process on the same port does not refuse a remote prod deploy (Docker still
/// reports a real conflict on the remote host). Was a bug: "port … is in use by another
/// process" for the laptop's own dev stack, and nothing started on the server.
#[test]
fn up_on_a_remote_engine_does_not_check_this_machines_ports() {
    let p = Project::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    p.write(
        "docker/docker-compose.prod.yml",
        "services:\n  timmy:\n    ports:\n      - \"127.0.0.1:${TIMMY_PORT:-3000}:3000\"\n",
    );
    p.write(".env", &format!("{}TIMMY_PORT={port}\n", common::GOOD_ENV));
    p.answer_to(&["config", "--format", "json"], &config_publishing(port), 0);
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let out = p
        .timmy()
        .env("DOCKER_HOST", "tcp://prod.example:2376")
        .args(["up", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.calls(),
        [
            label_query("proj"),
            format!(
                "{} up --detach --wait --wait-timeout 120 --remove-orphans --build",
                stack(&p, "prod")
            ),
            "compose --env-file /dev/null -p proj ps --all --format json".to_string(),
        ]
    );
    drop(listener);
}

/// A port held by the stack being started is its own: `up` on a running stack goes ahead.
#[test]
fn up_on_a_running_stack_is_not_refused_for_its_own_ports() {
    let p = Project::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    p.answer_to(&["config", "--format", "json"], &config_publishing(port), 0);
    p.answer_to(
        &["ps", "--filter", &format!("publish={port}/tcp")],
        &format!(
            "proj-timmy-1\tproj\t{root}\t{root}/docker/docker-compose.yml,{root}/docker/docker-compose.prod.yml\t127.0.0.1:{port}->3000/tcp\n",
            root = p.root().display()
        ),
        0,
    );
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let out = p.timmy().args(["up", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        p.calls()[3].ends_with("up --detach --wait --wait-timeout 120 --remove-orphans --build"),
        "{:#?}",
        p.calls()
    );
    drop(listener);
}

// ---- one project name per env, the env named the same way everywhere, another checkout ----

/// `ps`, `logs`, `shell`, `exec`, `restart` take the environment first; each env has its own
/// project name (prod the plain one).
#[test]
fn stack_commands_take_the_environment_first() {
    let p = Project::new();
    let root = p.root().display().to_string();
    // stdout is a pipe here: logs asks Compose for `--ansi never`
    for (args, name, tail) in [
        (&["ps", "test"][..], "proj-test", "ps --all --format json"),
        (
            &["logs", "dev", "timmy"],
            "proj-dev",
            "--ansi never logs timmy",
        ),
        (&["logs", "test"], "proj-test", "--ansi never logs"),
        (
            &["shell", "test", "-c", "true"],
            "proj-test",
            "exec -T timmy sh -c",
        ),
        (
            &["exec", "prod", "redis", "--", "redis-cli", "ping"],
            "proj",
            "exec -T redis redis-cli ping",
        ),
        (&["restart", "prod", "timmy"], "proj", "restart timmy"),
        (&["restart", "production"], "proj", "restart"),
    ] {
        p.forget_calls();
        // The stack runs (restart refuses a stack that does not), and is healthy after a
        // restart, which asks `ps` once more (call 3).
        let env = name.strip_prefix("proj-").unwrap_or("prod");
        p.answer(1, &container_line("c", name, env, &root), 0);
        p.answer(
            3,
            &format!(
                "{{\"Name\":\"{name}-timmy-1\",\"Service\":\"timmy\",\"State\":\"running\",\"Health\":\"healthy\",\"ExitCode\":0}}\n"
            ),
            0,
        );
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr_of(&out));
        let calls = p.calls();
        let restart = args[0] == "restart";
        assert_eq!(
            calls.len(),
            if restart { 3 } else { 2 },
            "{args:?}: {calls:#?}"
        );
        assert_eq!(calls[0], label_query(name), "{args:?}");
        let expected = match tail.strip_prefix("--ansi never ") {
            Some(tail) => format!("compose --ansi never --env-file /dev/null -p {name} {tail}"),
            None => format!("compose --env-file /dev/null -p {name} {tail}"),
        };
        assert!(calls[1].starts_with(&expected), "{args:?}: {}", calls[1]);
        if restart {
            assert_eq!(
                calls[2],
                format!("compose --env-file /dev/null -p {name} ps --all --format json")
            );
        }
    }
}

/// Without an environment they act on the stack of this checkout that runs, whichever it is.
#[test]
fn without_an_environment_the_running_stack_is_used() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let line = container_line("t", "proj-test", "test", &root);
    p.answer_here(&line);
    // `logs -f` follows only a stack that runs
    p.answer_labels("proj-test", &line);
    let out = p.timmy().args(["logs", "-f"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            label_query("proj-test"),
            "compose --ansi never --env-file /dev/null -p proj-test logs --follow".to_string(),
        ]
    );
}

/// Two stacks of this checkout run: timmy asks which one, and runs nothing.
#[test]
fn several_running_stacks_make_timmy_ask_for_the_environment() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let both = format!(
        "{}{}",
        container_line("d", "proj-dev", "dev", &root),
        container_line("t", "proj-test", "test", &root)
    );
    p.answer_here(&both);
    for args in [&["logs"][..], &["shell"], &["restart"], &["down"]] {
        p.forget_calls();
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr_of(&out),
            format!(
                "error: 2 stacks of this checkout are running: dev (`proj-dev`), test (`proj-test`)\n  \
                 hint: name the environment, e.g. timmy {} dev\n",
                args[0]
            )
        );
        assert_eq!(p.calls(), [here_query(&p)], "{args:?}");
    }
}

/// A service named like an environment: a single name is the service for `exec`, and two
/// names whose first is no environment are explained.
#[test]
fn exec_and_shell_tell_the_environment_from_the_service() {
    let p = Project::new();
    let out = p
        .timmy()
        .args(["exec", "timmy", "redis", "--", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: `timmy` is not an environment (timmy exec [ENV] SERVICE -- CMD)\n  \
         hint: environments: dev, prod, test\n"
    );
    let out = p.timmy().args(["shell", "staging"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: no service `staging` in this project\n  hint: services: redis, timmy\n"
    );
    assert!(p.calls().is_empty());
}

/// `up` (and `build`, `test`) refuse a project name another checkout's containers carry, with
/// that checkout's path and a `-p` to use; nothing is started.
#[test]
fn up_is_refused_when_another_checkout_uses_the_name() {
    let p = Project::new();
    p.answer_labels(
        "proj-dev",
        &container_line("x", "proj-dev", "dev", "/a/proj"),
    );
    let suggestion = format!(
        "{}-proj",
        p.dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_lowercase()
            .replace('.', "")
            .trim_start_matches(['-', '_'])
    );
    let out = p.timmy().args(["up", "dev", "-d"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: the project name `proj-dev` is in use by another checkout: /a/proj\n  \
             hint: give this checkout its own name: timmy -p {suggestion} up dev (or set TIMMY_PROJECT_NAME)\n"
        )
    );
    assert_eq!(p.calls(), [label_query("proj-dev")]);
}

/// `logs`, `ps`, `exec`, `down` never act on another checkout's containers: they say whose
/// they are; where both checkouts' containers share the name nothing is touched.
#[test]
fn another_checkouts_containers_are_never_ours() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let theirs = container_line("x", "proj", "prod", "/a/proj");
    p.answer_labels("proj", &theirs);
    for args in [
        &["logs", "prod"][..],
        &["ps", "prod"],
        &["exec", "prod", "timmy", "--", "ls"],
        &["down", "prod", "--volumes", "--yes"],
    ] {
        p.forget_calls();
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr_of(&out);
        assert!(
            err.starts_with(
                "error: nothing of this checkout runs under `proj`: its containers belong to another checkout, /a/proj\n  \
                 hint: run timmy in that checkout, or give this one its own name with -p "
            ),
            "{args:?}: {err}"
        );
        assert_eq!(p.calls(), [label_query("proj")], "{args:?}");
    }
    p.forget_calls();
    p.forget_answers();
    p.answer_labels(
        "proj",
        &format!("{theirs}{}", container_line("o", "proj", "prod", &root)),
    );
    let out = p.timmy().args(["restart", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: containers of another checkout (/a/proj) share the project name `proj` with this one's; not touching them\n  \
         hint: stop the stack in the other checkout (timmy down there), then give each checkout its own name with -p\n"
    );
    assert_eq!(p.calls(), [label_query("proj")]);
}

/// A dev stack an earlier timmy started under the plain name (prod's now): `up` says so
/// instead of starting a second dev stack beside it, or recreating it as prod.
#[test]
fn up_refuses_while_an_earlier_dev_stack_runs_under_the_plain_name() {
    let p = Project::new();
    let root = p.root().display().to_string();
    let legacy = container_line("l", "proj", "dev", &root);
    for (args, legacy_call) in [(&["up", "dev", "-d"][..], 2), (&["up", "prod"], 1)] {
        // The legacy stack answers the query for the plain name; `up dev` asks for its own first.
        p.forget_calls();
        p.answer_labels("proj", &legacy);
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr_of(&out),
            "error: a dev stack started by an earlier timmy runs under the project name `proj`, which is prod's now (dev runs as `proj-dev`)\n  \
             hint: stop it first with: timmy down prod (its volumes `proj_…` are kept; see CHANGELOG)\n"
        );
        assert_eq!(p.calls().len(), legacy_call, "{args:?}: nothing started");
    }
}

/// Two `-p` values can give two environments of one checkout the same project name
/// (`-p proj-dev up prod`, then `up dev`): `up`, `run` and `test` refuse to recreate the other
/// environment's containers (and take over its volumes) instead of replacing prod with dev.
#[test]
fn up_run_and_test_refuse_a_name_that_holds_another_environments_stack() {
    let p = Project::new();
    let root = p.root().display().to_string();
    for (args, name, env, command) in [
        (&["up", "dev", "-d"][..], "proj-dev", "dev", "up dev"),
        (
            &["run", "dev", "timmy", "--", "ls"],
            "proj-dev",
            "dev",
            "run dev timmy",
        ),
        (&["test"], "proj-test", "test", "test"),
    ] {
        p.forget_calls();
        p.forget_answers();
        p.answer_labels(name, &container_line("p", name, "prod", &root));
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr_of(&out),
            format!(
                "error: the project name `{name}` holds this checkout's prod stack (started with another -p); \
                 `{command}` would recreate its containers as {env} and take over its volumes\n  \
                 hint: give {env} a name of its own (timmy -p NAME {command}), or stop prod first: timmy -p {name} down prod\n"
            ),
            "{args:?}"
        );
        assert!(
            p.calls().iter().all(|c| c.starts_with("ps ")),
            "{args:?}: only label queries, nothing started: {:?}",
            p.calls()
        );
    }
}

/// `down dev` under a name that holds this checkout's prod stack (two `-p` values) does not
/// stop prod; `down prod` still stops a dev stack an earlier timmy started under prod's name.
#[test]
fn down_env_refuses_a_name_that_holds_another_environments_stack() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_labels("proj-dev", &container_line("p", "proj-dev", "prod", &root));
    let out = p.timmy().args(["down", "dev"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: the project name `proj-dev` holds this checkout's prod stack (started with another -p), \
         not a dev stack; not stopping it\n  \
         hint: to stop it: timmy -p proj-dev down prod\n"
    );
    assert_eq!(p.calls(), [label_query("proj-dev")]);

    p.forget_calls();
    p.forget_answers();
    p.answer_labels("proj", &container_line("l", "proj", "dev", &root));
    let out = p.timmy().args(["down", "prod"]).output().unwrap();
    assert!(
        stderr_of(&out).starts_with(
            "warning: this dev stack was started by an earlier timmy under `proj`, prod's project name now"
        ),
        "{}",
        stderr_of(&out)
    );
    assert!(
        p.calls()
            .iter()
            .any(|c| c.ends_with(" down --remove-orphans")),
        "{:?}",
        p.calls()
    );
}

/// `exec`, `shell` and `restart` with an environment do not enter or restart another
/// environment's stack that runs under its name (two `-p` values): `timmy exec dev` does not
/// land in prod.
#[test]
fn exec_shell_and_restart_refuse_a_name_that_holds_another_environments_stack() {
    let p = Project::new();
    let root = p.root().display().to_string();
    p.answer_labels("proj-dev", &container_line("p", "proj-dev", "prod", &root));
    for (args, doing) in [
        (&["exec", "dev", "timmy", "--", "ls"][..], "entering"),
        (&["shell", "dev"], "entering"),
        (&["restart", "dev"], "restarting"),
    ] {
        p.forget_calls();
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr_of(&out),
            format!(
                "error: the project name `proj-dev` holds this checkout's prod stack (started with another -p), \
                 not a dev stack; not {doing} it\n  \
                 hint: to stop it: timmy -p proj-dev down prod\n"
            ),
            "{args:?}"
        );
        assert_eq!(p.calls(), [label_query("proj-dev")], "{args:?}");
    }
}

/// `down --volumes` on a stopped stack removes its volumes, found by label; prod's need the
/// confirmation, and without a terminal they are refused before anything is removed.
#[test]
fn down_volumes_of_a_stopped_stack_removes_them_and_guards_prods() {
    let p = Project::new();
    let volumes_of = |name: &str| format!("label=com.docker.compose.project={name}");
    let dev_volumes = volumes_of("proj-dev");
    p.answer_to(
        &["volume", "ls", "--filter", &dev_volumes],
        "proj-dev_redis-data\n",
        0,
    );
    let out = p
        .timmy()
        .args(["down", "dev", "--volumes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        p.calls(),
        [
            label_query("proj-dev"),
            stack_query("proj-dev"),
            "volume ls --quiet --filter label=com.docker.compose.project=proj-dev".to_string(),
            "volume rm proj-dev_redis-data".to_string(),
        ]
    );
    assert_eq!(
        stderr_of(&out),
        "timmy: nothing of project `proj-dev` was running; removed its volume: proj-dev_redis-data\n"
    );

    p.forget_calls();
    let prod_volumes = volumes_of("proj");
    p.answer_to(
        &["volume", "ls", "--filter", &prod_volumes],
        "proj_redis-data\n",
        0,
    );
    let out = p
        .timmy()
        .args(["down", "prod", "--volumes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: refusing to remove the volumes of the prod stack `proj` without confirmation\n  \
         hint: the data in them is lost for good; pass --yes if that is what you want\n"
    );
    // The label query, the stack query, the volume query: no volume removed.
    assert_eq!(p.calls().len(), 3, "no volume removed: {:?}", p.calls());

    // No env, nothing running: the one project of this checkout that has volumes.
    p.forget_calls();
    p.forget_answers();
    p.answer_to(
        &["volume", "ls", "--filter", &prod_volumes],
        "proj_redis-data\n",
        0,
    );
    let out = p
        .timmy()
        .args(["down", "--volumes", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let volumes =
        |name: &str| format!("volume ls --quiet --filter label=com.docker.compose.project={name}");
    assert_eq!(
        p.calls(),
        [
            here_query(&p),
            stack_query("proj-dev"),
            stack_query("proj"),
            stack_query("proj-test"),
            volumes("proj-dev"),
            volumes("proj"),
            volumes("proj-test"),
            label_query("proj"),
            volumes("proj"),
            "volume rm proj_redis-data".to_string(),
        ]
    );
}

/// The lock is per project name: `timmy test` runs while another timmy changes the dev stack,
/// and a second change of the dev stack is refused.
#[test]
fn the_lock_is_per_project_name() {
    let p = Project::new();
    let _dev = timmy::lock::acquire_in(&p.root(), None, "proj-dev", "up").unwrap();
    let out = p.timmy().args(["test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = p.timmy().args(["down", "dev"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: another timmy (pid {}, timmy up) is already changing the stack `proj-dev`; not starting `down`\n  \
             hint: wait for it to finish (or stop it), then run the command again\n",
            std::process::id()
        )
    );
}

/// Through a symlink (a deploy's `current` link to a release folder), the root is the path the
/// shell shows (`$PWD`), as for Compose and `--project-dir current`: the project name stays
/// `current` from one release to the next. Was a bug: `cd current && timmy up prod` named the
/// project after the release folder, a new prod stack with empty volumes on every release.
#[test]
fn through_a_symlinked_folder_the_project_is_named_as_the_shell_sees_it() {
    let p = Project::new();
    let link = p.dir.path().join("current");
    std::os::unix::fs::symlink(p.root(), &link).unwrap();
    let out = p
        .timmy()
        .current_dir(&link)
        .env("PWD", &link)
        .args(["config", "prod", "--export"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let link = link.display();
    assert_eq!(
        stdout_of(&out),
        format!(
            "export COMPOSE_FILE={link}/docker/docker-compose.yml:{link}/docker/docker-compose.prod.yml\n\
             export COMPOSE_PROJECT_NAME=current\n\
             # Compose takes the project directory only as a flag: use `dc` like `docker compose`\n\
             alias dc='docker compose --project-directory {link} --env-file {link}/.env'\n"
        )
    );
}

/// The no-op check needs the engine's socket: through the CLI (here a fake docker) and under
/// --dry-run `up` always runs Compose, `-v` says why, and a full `up` first forgets what an
/// earlier one recorded (its record no longer describes what runs).
#[test]
fn up_without_the_engines_socket_or_under_dry_run_is_never_skipped() {
    use sha2::{Digest, Sha256};
    let p = Project::new();
    let out = p
        .timmy()
        .args(["-v", "--dry-run", "up", "-d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("\nno-op up: full up: --dry-run shows the full up\n"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(p.calls(), [label_query("proj-dev"), label_query("proj")]);

    let mut key = Sha256::new();
    key.update(p.root().as_os_str().as_encoded_bytes());
    key.update(b"\0proj-dev");
    let key = key.finalize()[..8]
        .iter()
        .fold(String::new(), |s, b| s + &format!("{b:02x}"));
    let record = p
        .root()
        .parent()
        .unwrap()
        .join(format!(".cache/timmy/noop-{key}.json"));
    std::fs::create_dir_all(record.parent().unwrap()).unwrap();
    std::fs::write(&record, "{}").unwrap();
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    p.answer_to(&["config", "--format", "json"], r#"{"services":{}}"#, 0);
    let out = p.timmy().args(["-v", "up", "-d"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out)
            .contains("\nno-op up: full up: the engine is not asked through its local socket\n"),
        "{}",
        stderr_of(&out)
    );
    assert!(!record.exists(), "the earlier record is forgotten");
    assert_eq!(
        p.calls()[4..],
        [
            format!("{} config --format json", stack(&p, "dev")),
            format!(
                "{} up --detach --wait --wait-timeout 120 --remove-orphans --build",
                stack(&p, "dev")
            ),
            "compose --env-file /dev/null -p proj-dev ps --all --format json".to_string(),
        ]
    );
}
