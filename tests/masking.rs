//! Secrets recognised by their value, masked where they stand: `env`, `config`, the command
//! lines of `-v` and `--dry-run`, error lines, and what timmy relays from Docker (Compose's
//! errors during `up`, the log lines `up` shows when a service fails). All with the fake docker
//! of tests/common.

mod common;

use std::time::Duration;

use common::{GOOD_ENV, Project, here_query, label_query, stderr_of, stdout_of};

const GH_CLI: &str = "ghp_Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7J8k9";
const WEBHOOK: &str =
    "https://hooks.slack.com/services/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";
const BASIC: &str = "dXNlcjpwYXNzd29yZA==";

/// Pieces of the secrets below that must never be printed.
const PLANTED: &[&str] = &[
    "Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7J8k9",
    "Xk7pQ2rT9vW3mZ8nL4cY6bH1",
    "T024BE7LD",
    BASIC,
    "hunter2xyz",
];

fn project() -> Project {
    let p = Project::new();
    p.write(
        ".env",
        &format!(
            "{GOOD_ENV}GH_CLI={GH_CLI}\nALERT_WEBHOOK={WEBHOOK}\nHTTP_HEADER='Authorization: Basic {BASIC}'\n\
             REDIS_PASSWORD=redis\nREDIS_IMAGE=redis:7-alpine\nSMTP_PASS='hunter2xyz$'\n\
             WORKSPACE_PATH=./workspace\nTIMMY_PORT=3000\n"
        ),
    );
    p
}

fn run(p: &Project, args: &[&str]) -> std::process::Output {
    p.timmy()
        .args(args)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap()
}

#[track_caller]
fn leaks_nothing(out: &std::process::Output) {
    for stream in [stdout_of(out), stderr_of(out)] {
        for secret in PLANTED {
            assert!(!stream.contains(secret), "{secret} printed:\n{stream}");
        }
    }
}

// Was a bug: GH_CLI, the webhook and the Authorization value were printed in full, as their
// keys do not sound secret.
#[test]
fn env_masks_secrets_by_value_and_keeps_ordinary_values() {
    let p = project();
    let out = run(&p, &["env"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_****\nGH_CLI=ghp_****\n\
         ALERT_WEBHOOK=https://hooks.slack.com/services/****\nHTTP_HEADER=Authorization: Basic ****\n\
         REDIS_PASSWORD=****\nREDIS_IMAGE=redis:7-alpine\nSMTP_PASS=****\n\
         WORKSPACE_PATH=./workspace\nTIMMY_PORT=3000\n"
    );
    let out = run(&p, &["env", "--json"]);
    leaks_nothing(&out);
}

/// What `docker compose config` prints for that `.env` (Compose doubles every `$`).
const COMPOSE_CONFIG: &str = "\
name: proj
services:
  redis:
    command:
      - redis-server
      - --requirepass
      - redis
    image: redis:7-alpine
  timmy:
    environment:
      ALERT_WEBHOOK: https://hooks.slack.com/services/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
      GH_CLI: ghp_Q2w3E4r5T6y7U8i9O0p1A2s3D4f5G6h7J8k9
      HTTP_HEADER: 'Authorization: Basic dXNlcjpwYXNzd29yZA=='
      REDIS_PASSWORD: redis
      SMTP_PASS: hunter2xyz$$
      WORKSPACE_PATH: ./workspace
    volumes:
      - type: bind
        source: /p/workspace
        target: /workspace
";

// Was a bug: REDIS_PASSWORD=redis turned `image: redis:7-alpine` into `image: ****:7-alpine`,
// SMTP_PASS=hunter2xyz$ showed as `****$`, and secrets under plain keys were printed.
#[test]
fn config_masks_scalars_where_they_stand() {
    let p = project();
    p.answer_to(&["compose", "config"], COMPOSE_CONFIG, 0);
    let out = run(&p, &["config"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        "\
name: proj
services:
  redis:
    command:
      - redis-server
      - --requirepass
      - ****
    image: redis:7-alpine
  timmy:
    environment:
      ALERT_WEBHOOK: https://hooks.slack.com/services/****
      GH_CLI: ghp_****
      HTTP_HEADER: 'Authorization: Basic ****'
      REDIS_PASSWORD: ****
      SMTP_PASS: ****
      WORKSPACE_PATH: ./workspace
    volumes:
      - type: bind
        source: /p/workspace
        target: /workspace
"
    );
}

// Was a bug: Compose's error on stderr was masked only for secret-named keys.
#[test]
fn a_compose_error_relayed_by_config_is_masked() {
    let p = project();
    p.answer_to(&["compose", "config"], "", 15)
        .stderr(&format!("Invalid hostPort: {GH_CLI}\n"));
    let out = run(&p, &["config"]);
    assert_eq!(out.status.code(), Some(15));
    assert_eq!(stdout_of(&out), "");
    assert!(
        stderr_of(&out).ends_with("Invalid hostPort: ghp_****\n"),
        "{}",
        stderr_of(&out)
    );
    leaks_nothing(&out);
}

// Was a bug: `up` let Docker's error, which quotes the value, reach the terminal as it was;
// and the log lines of the failed service were shown raw.
#[test]
fn up_relays_composes_errors_and_the_failed_services_logs_masked() {
    let p = project();
    // The port check's `config --format json`.
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "up"], "", 1).stderr(&format!(
        " Container proj-redis-1  Started\nError response from daemon: invalid IP address in add-host: \"{GH_CLI}\"\n"
    ));
    p.answer_to(
        &["compose", "ps"],
        r#"[{"Name":"proj-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0},
{"Name":"proj-timmy-1","Service":"timmy","State":"exited","Health":"","ExitCode":3}]"#,
        0,
    );
    p.answer_to(
        &["compose", "logs", "timmy"],
        &format!(
            "timmy-1  | gh {GH_CLI}\ntimmy-1  | posting to {WEBHOOK}\ntimmy-1  | Authorization: Basic {BASIC}\ntimmy-1  | smtp hunter2xyz$ via redis:6379 as redis\n"
        ),
        0,
    );
    let out = run(&p, &["up", "-d"]);
    assert_eq!(out.status.code(), Some(1));
    leaks_nothing(&out);
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "\n Container proj-redis-1  Started\nError response from daemon: invalid IP address in add-host: \"ghp_****\"\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "--- last 20 log lines of timmy ---\n\
             timmy-1  | gh ghp_****\n\
             timmy-1  | posting to https://hooks.slack.com/services/****\n\
             timmy-1  | Authorization: Basic ****\n\
             timmy-1  | smtp **** via redis:6379 as ****\n"
        ),
        "{err}"
    );
}

// Was a bug: the command lines of `--dry-run` and `-v`, and the one in an error, were printed
// as they are, with whatever secret the user passed on the command line.
#[test]
fn dry_run_verbose_and_error_command_lines_are_masked() {
    let p = project();
    let root = p.root().display().to_string();
    let curl = [
        "run",
        "timmy",
        "--",
        "curl",
        "-H",
        "Authorization: Bearer Xk7pQ2rT9vW3mZ8nL4cY6bH1",
        WEBHOOK,
    ];
    let out = run(&p, &[&["--dry-run"][..], &curl].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        format!(
            "docker compose --project-directory {root} --env-file {root}/.env -p proj-dev -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.dev.yml run --rm --build -T timmy curl -H 'Authorization: Bearer ****' https://hooks.slack.com/services/****\n"
        )
    );
    // Only the read-only label queries (queries run under --dry-run).
    assert_eq!(p.calls(), [here_query(&p), label_query("proj-dev")]);

    p.forget_calls();
    let out = run(
        &p,
        &[
            "-v",
            "exec",
            "timmy",
            "--",
            "gh",
            "auth",
            "login",
            "--with-token",
            GH_CLI,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // After the two label queries (which stack runs), the command, masked.
    let err = stderr_of(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert_eq!(
        lines[2],
        "running: docker compose --env-file /dev/null -p proj-dev exec -T timmy gh auth login --with-token ghp_****"
    );
    assert!(!err.contains(GH_CLI), "{err}");
    assert!(
        p.calls()[2].ends_with(GH_CLI),
        "docker still gets the value"
    );

    // calls 1 and 2 are the label queries, 3 Compose's `ps`
    p.forget_calls();
    p.answer_to(&["compose", "ps"], "", 1).stderr(&format!(
        "Error response from daemon: bad filter {GH_CLI}\n"
    ));
    let out = run(&p, &["ps", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "error: `docker compose --env-file /dev/null -p proj ps --all --format json` failed with code 1: Error response from daemon: bad filter ghp_****\n"
    );
}

// Was a bug: `timmy logs` into a pipe (and `up`'s following of the dev stack's logs) relayed
// the log lines and Compose's stderr as they were.
#[test]
fn piped_logs_are_masked() {
    let p = project();
    p.answer_to(
        &["compose", "logs"],
        &format!("timmy-1  | gh {GH_CLI}\ntimmy-1  | posting to {WEBHOOK}\n"),
        0,
    )
    .stderr(&format!("timmy-1  | Authorization: Basic {BASIC}\n"));
    let out = run(&p, &["logs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    leaks_nothing(&out);
    assert_eq!(
        stdout_of(&out),
        "timmy-1  | gh ghp_****\ntimmy-1  | posting to https://hooks.slack.com/services/****\n"
    );
    assert_eq!(stderr_of(&out), "timmy-1  | Authorization: Basic ****\n");
    assert_eq!(
        p.calls().last().unwrap(),
        "compose --ansi never --env-file /dev/null -p proj-dev logs"
    );
}

/// In a terminal with colours (a pseudo-terminal from util-linux `script`), `logs` shows
/// Compose's colours and still masks: docker's stdout is relayed through the masker, with
/// `--ansi always` since it then writes to a pipe. Was a bug: only piped logs were masked, and
/// `timmy logs` in a terminal printed what the app logged of `.env`'s secrets.
#[test]
fn logs_in_a_terminal_are_masked_and_keep_their_colours() {
    let p = project();
    p.answer_here("");
    p.answer_labels("proj-dev", "");
    p.answer_to(
        &["compose", "logs"],
        &format!("\x1b[36mtimmy-1  | \x1b[0mgh {GH_CLI}\n"),
        0,
    );
    let timmy = assert_cmd::cargo::cargo_bin("timmy");
    let out = p
        .std_command(std::path::Path::new("/usr/bin/script"))
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .args(["-qec", &format!("{} logs", timmy.display()), "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    leaks_nothing(&out);
    assert_eq!(
        stdout_of(&out),
        "\x1b[36mtimmy-1  | \x1b[0mgh ghp_****\r\n",
        "the terminal's line ends are the pseudo-terminal's"
    );
    assert_eq!(
        p.calls().last().map(String::as_str),
        Some("compose --ansi always --env-file /dev/null -p proj-dev logs")
    );
}

/// `run` and `test` relay Docker's errors through the masker, as `up` does: the daemon quotes
/// an `extra_hosts` value it refuses (`invalid IP address in add-host: "<value>"`). Was a bug:
/// `timmy run` printed the token in full where `timmy up` masked it (measured on Engine 20.10).
#[test]
fn run_and_test_relay_dockers_errors_masked() {
    let p = project();
    p.answer_to(&["compose", "run"], "", 1).stderr(&format!(
        "Error response from daemon: invalid IP address in add-host: \"{GH_CLI}\"\n"
    ));
    for args in [&["run", "prod", "timmy", "--", "true"][..], &["test"]] {
        let out = run(&p, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        leaks_nothing(&out);
        let err = stderr_of(&out);
        let docker_said: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("Error response from daemon"))
            .collect();
        assert_eq!(
            docker_said,
            ["Error response from daemon: invalid IP address in add-host: \"ghp_****\""],
            "{args:?}: {err}"
        );
    }
}
