//! End-to-end tests against a real Docker engine and Compose v2, with the offline images that
//! `scripts/setup.sh` builds: the seven success criteria of the stack, plus orphans, shell,
//! `timmy test` and fail-fast. The harness (tests/engine) gives each test its own project copy
//! and name, and tears everything down even when a test fails.

mod engine;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use engine::{
    REDIS_IMAGE, Stack, assert_none_left, container_in, docker, free_port, labelled, ok, stderr,
    stdout, volumes_of,
};

/// Criteria 1 and 2: `up` starts redis then timmy, both healthy, `ps` shows it; `down` leaves
/// no container or network, and data in ./data and in the named volume survives down + up.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn up_dev_healthy_then_down_clean_and_data_survives() {
    let s = Stack::start("updown", "");
    ok(&s.timmy(&["up", "dev", "--detach"]));
    assert_eq!(s.health("redis"), "healthy");
    assert_eq!(s.health("timmy"), "healthy");
    let redis_started = s.inspect("redis", "{{.State.StartedAt}}");
    let timmy_started = s.inspect("timmy", "{{.State.StartedAt}}");
    assert!(
        redis_started < timmy_started,
        "redis {redis_started} must start before timmy {timmy_started}"
    );

    let ps = s.timmy(&["ps", "--json"]);
    ok(&ps);
    let v: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
    let healthy: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["health"] == "healthy")
        .map(|x| x["service"].as_str().unwrap())
        .collect();
    assert_eq!(healthy, ["redis", "timmy"]);

    ok(&s.timmy(&[
        "exec",
        "timmy",
        "--",
        "sh",
        "-c",
        "echo kept > /app/data/proof",
    ]));
    ok(&s.timmy(&["exec", "redis", "--", "redis-cli", "set", "proof", "kept"]));

    let down = s.timmy(&["-v", "down"]);
    ok(&down);
    // The label queries (which stack of this checkout runs, its containers before and after)
    // go to the engine's socket: one docker process in all.
    let said = stderr(&down);
    let spawned: Vec<&str> = said
        .lines()
        .filter_map(|l| l.strip_prefix("running: docker "))
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(spawned, ["compose"], "{}", stderr(&down));
    assert_eq!(stderr(&down).matches("GET /containers/json").count(), 3);
    assert!(
        stderr(&down).contains("no container of the project is left"),
        "{}",
        stderr(&down)
    );
    assert!(
        s.containers().is_empty(),
        "containers left: {:?}",
        s.containers()
    );
    let dev = format!("{}-dev", s.name);
    assert_none_left("network", &dev);
    let vols = labelled("volume", &dev);
    assert!(
        vols.contains(&format!("{}-dev_redis-data", s.name)),
        "named volume removed: {vols}"
    );
    assert_eq!(
        fs::read_to_string(s.root().join("data/proof")).unwrap(),
        "kept\n"
    );

    ok(&s.timmy(&["up", "dev", "--detach"]));
    let got = s.timmy(&["exec", "redis", "--", "redis-cli", "get", "proof"]);
    ok(&got);
    assert_eq!(stdout(&got).trim(), "kept");
    let again = s.timmy(&["down"]);
    ok(&again);
    let nothing = s.timmy(&["down"]);
    ok(&nothing);
    assert!(
        stderr(&nothing).contains("is running"),
        "{}",
        stderr(&nothing)
    );
}

/// Criterion 3: dev has the source bind mount and the debugger on 127.0.0.1 only; prod has the
/// restart policy, a non-root user, no-new-privileges and no debug port.
/// Criterion 5 (first half): prod's resource limits are what the engine enforces.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn dev_and_prod_configs_both_work() {
    let s = Stack::start("devprod", "");
    ok(&s.timmy(&["up", "dev", "-d"]));
    let mounts = s.inspect(
        "timmy",
        "{{range .Mounts}}{{.Type}}:{{.Source}}->{{.Destination}} {{end}}",
    );
    assert!(
        mounts.contains(&format!(
            "bind:{}->/app/app",
            s.root().join("app").display()
        )),
        "{mounts}"
    );
    let ports = s.inspect("timmy", "{{json .HostConfig.PortBindings}}");
    let ports: serde_json::Value = serde_json::from_str(&ports).unwrap();
    for (port, bindings) in ports.as_object().unwrap() {
        for b in bindings.as_array().unwrap() {
            assert_eq!(
                b["HostIp"], "127.0.0.1",
                "{port} is published beyond loopback"
            );
        }
    }
    assert!(
        ports.get("9229/tcp").is_some(),
        "dev has no debugger port: {ports}"
    );
    assert_eq!(
        s.inspect("timmy", "{{range .Config.Env}}{{println .}}{{end}}")
            .lines()
            .find(|l| l.starts_with("NODE_ENV=")),
        Some("NODE_ENV=development")
    );

    // dev and prod have their own project names: stop dev before prod takes its ports.
    ok(&s.timmy(&["down", "dev"]));
    ok(&s.timmy(&["up", "prod", "-d"]));
    assert_eq!(s.health("timmy"), "healthy");
    assert_eq!(
        s.inspect("timmy", "{{.HostConfig.RestartPolicy.Name}}"),
        "unless-stopped"
    );
    assert_eq!(s.inspect("timmy", "{{.Config.User}}"), "1000:1000");
    assert!(
        s.inspect("timmy", "{{json .HostConfig.SecurityOpt}}")
            .contains("no-new-privileges")
    );
    let ports = s.inspect("timmy", "{{json .HostConfig.PortBindings}}");
    assert!(
        !ports.contains("9229"),
        "prod publishes the debugger: {ports}"
    );
    assert!(ports.contains("\"HostIp\":\"127.0.0.1\""), "{ports}");
    let uid = s.timmy(&["exec", "timmy", "--", "id", "-u"]);
    assert_eq!(stdout(&uid).trim(), "1000");
    assert_eq!(
        s.inspect("timmy", "{{.HostConfig.Memory}}"),
        (4_u64 << 30).to_string()
    );
    assert_eq!(s.inspect("timmy", "{{.HostConfig.NanoCpus}}"), "2000000000");
    assert_eq!(
        s.inspect("timmy", "{{.HostConfig.MemoryReservation}}"),
        (512_u64 << 20).to_string()
    );
    ok(&s.timmy(&["down"]));
    assert!(s.containers().is_empty());
}

/// Criterion 4: health checks report status, and `timmy ps` says so.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn health_follows_redis() {
    let s = Stack::start("health", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    docker(&["stop", "-t", "1", &s.container_of("redis")]);
    s.wait_for_health("timmy", "unhealthy", Duration::from_secs(60));
    let ps = s.timmy(&["ps"]);
    ok(&ps);
    let line = stdout(&ps)
        .lines()
        .find(|l| l.starts_with("timmy"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains("unhealthy"), "{}", stdout(&ps));
    docker(&["start", &s.container_of("redis")]);
    s.wait_for_health("timmy", "healthy", Duration::from_secs(60));
    let ps = s.timmy(&["ps"]);
    let line = stdout(&ps)
        .lines()
        .find(|l| l.starts_with("timmy"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains(" healthy"), "{}", stdout(&ps));
}

/// Criterion 5 (second half): a process allocating past the memory limit is OOM-killed.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn memory_limit_is_enforced() {
    let s = Stack::start(
        "oom",
        "TIMMY_MEMORY_LIMIT=96M\nTIMMY_MEMORY_RESERVATION=32M\n",
    );
    ok(&s.timmy(&["up", "prod", "-d"]));
    assert_eq!(
        s.inspect("timmy", "{{.HostConfig.Memory}}"),
        (96_u64 << 20).to_string()
    );
    let hog = s.timmy(&[
        "exec", "timmy", "--", "node", "-e",
        "const a = []; for (let i = 0; i < 64; i++) { a.push(Buffer.alloc(16 << 20, 1)); } console.log('survived')",
    ]);
    assert_eq!(hog.status.code(), Some(137), "not killed: {}", stdout(&hog));
    assert!(!stdout(&hog).contains("survived"));
}

/// Criterion 6: logs are captured and rotated, at most max-file files; `timmy logs --tail`
/// shows the newest lines.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn logs_are_captured_and_rotated() {
    let s = Stack::start("logs", "LOG_MAX_SIZE=2k\nLOG_MAX_FILE=3\n");
    ok(&s.timmy(&["up", "prod", "-d"]));
    let id = s.container_of("timmy");
    let opts = s.inspect("timmy", "{{json .HostConfig.LogConfig}}");
    assert!(
        opts.contains("\"max-size\":\"2k\"") && opts.contains("\"max-file\":\"3\""),
        "{opts}"
    );
    ok(&s.timmy(&[
        "exec", "timmy", "--", "sh", "-c",
        "i=0; while [ $i -lt 400 ]; do echo \"rotation line $i padding-padding-padding\" > /proc/1/fd/1; i=$((i+1)); done",
    ]));
    let log_path = s.inspect("timmy", "{{.LogPath}}");
    let dir = Path::new(&log_path).parent().unwrap().to_path_buf();
    let files: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{id}-json.log")))
        .collect();
    assert!(files.len() >= 2, "no rotation happened: {files:?}");
    assert!(files.len() <= 3, "more than max-file files: {files:?}");
    let logs = s.timmy(&["logs", "--tail", "5", "timmy"]);
    ok(&logs);
    let text = stdout(&logs);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.contains("rotation line 399"), "{text}");
}

/// Criterion 7: `.env` values, `NODE_ENV` per environment and `${VAR:-default}` defaults are
/// visible in the container exactly as `timmy env` predicted.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn environment_variables_load_as_predicted() {
    let s = Stack::start(
        "env",
        "QUOTED=\"two words # not a comment\"\nESCAPED='pa$$word'\n",
    );
    let predicted = s.timmy(&["env", "--json", "--show-secrets"]);
    ok(&predicted);
    let predicted: serde_json::Value = serde_json::from_slice(&predicted.stdout).unwrap();
    for env in ["dev", "prod"] {
        ok(&s.timmy(&["up", env, "-d"]));
        let inside = s.timmy(&["exec", "timmy", "--", "env"]);
        ok(&inside);
        let inside: std::collections::BTreeMap<String, String> = stdout(&inside)
            .lines()
            .filter_map(|l| {
                l.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let node_env = if env == "dev" {
            "development"
        } else {
            "production"
        };
        assert_eq!(inside["NODE_ENV"], node_env);
        assert_eq!(
            inside["REDIS_HOST"], "redis",
            "default from ${{REDIS_HOST:-redis}}"
        );
        for key in [
            "GITHUB_TOKEN",
            "CLICKUP_API_TOKEN",
            "ANTHROPIC_API_KEY",
            "QUOTED",
            "ESCAPED",
            "GITHUB_REPO",
        ] {
            assert_eq!(
                inside.get(key).map(String::as_str),
                predicted[key].as_str(),
                "{key} in {env}"
            );
        }
        assert_eq!(inside["QUOTED"], "two words # not a comment");
        // Each env has its own project name: stop this one before the next takes its ports.
        ok(&s.timmy(&["down", env]));
    }
    // The merged config carries every .env value (env_file): secrets come out masked.
    let config = s.timmy(&["config", "prod"]);
    ok(&config);
    let text = stdout(&config);
    assert!(text.contains("GITHUB_TOKEN: ghp_****"), "{text}");
    for key in [
        "GITHUB_TOKEN",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "CLICKUP_API_TOKEN",
    ] {
        let secret = predicted[key].as_str().unwrap();
        assert!(!text.contains(secret), "{key} printed by timmy config");
    }
}

/// `timmy down` finds a stray container by the project label and says how to remove it.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn down_reports_orphans_found_by_label() {
    let s = Stack::start("orphans", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    // A container started by hand or by a script with only the project label (no service).
    let stray = docker(&[
        "run",
        "-d",
        "--name",
        &format!("{}-stray", s.name),
        "--label",
        &format!("com.docker.compose.project={}", s.name),
        "--network",
        "none",
        REDIS_IMAGE,
        "sleep",
        "300",
    ]);
    let stray = stray.trim().to_string();
    let down = s.timmy(&["down"]);
    let err = stderr(&down);
    // Measured on Compose 2.26: `down --remove-orphans` leaves a container that has the project
    // label but no service label, so timmy must find and report it.
    assert_eq!(down.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{}-stray", s.name)) && err.contains("not from a compose service"),
        "{err}"
    );
    assert!(
        err.contains(&format!("docker rm -f {}", &stray[..12])),
        "{err}"
    );
}

/// `.env` broken while the stack runs: `ps` still answers and `down` still stops everything,
/// by name, and Compose never gets to print the broken value (it reads `.env` from the
/// project root even for `docker compose -p NAME …`).
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn ps_and_down_work_after_env_broke() {
    let s = Stack::start("envbroke", "");
    ok(&s.timmy(&["up", "dev", "--detach"]));
    let env = s.root().join(".env");
    let mut text = fs::read_to_string(&env).unwrap();
    text.push_str("SESSION_SECRET=\"E2eS3cretNeverClosed\n");
    fs::write(&env, text).unwrap();

    let ps = s.timmy(&["ps"]);
    ok(&ps);
    let down = s.timmy(&["down"]);
    ok(&down);
    for out in [&ps, &down] {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(!all.contains("E2eS3cret"), "{all}");
    }
    assert!(
        stderr(&down).contains("stopping the project by name only"),
        "{}",
        stderr(&down)
    );
    assert!(s.containers().is_empty(), "containers left");
    assert_none_left("network", &format!("{}-dev", s.name));
}

/// `timmy shell -c` runs in the container and passes the exit code through.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn shell_runs_a_command_in_the_container() {
    let s = Stack::start("shell", "");
    ok(&s.timmy(&["up", "dev", "-d"]));
    let out = s.timmy(&["shell", "-c", "echo in-$NODE_ENV; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stdout(&out).trim(), "in-development");
}

/// `timmy test` exits with the tests' code and removes the whole test stack every time.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn test_command_propagates_exit_code_and_cleans_up() {
    let s = Stack::start("test", "");
    let pass = s.timmy(&["test"]);
    ok(&pass);
    let fail = s.timmy(&["test", "--", "sh", "-c", "exit 3"]);
    assert_eq!(fail.status.code(), Some(3), "{}", stderr(&fail));
    let test_project = format!("{}-test", s.name);
    assert_none_left("container", &test_project);
    assert_none_left("volume", &test_project);
}

/// A service that never becomes healthy: `up` stops waiting early, names it, shows its logs
/// and health output, exits non-zero; `down` still cleans everything.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn up_fails_fast_when_a_service_turns_unhealthy() {
    let s = Stack::start("unhealthy", "REDIS_HOST=nowhere.invalid\n");
    let start = Instant::now();
    let up = s.timmy(&["up", "prod", "-d", "--timeout", "100"]);
    let took = start.elapsed();
    assert_ne!(up.status.code(), Some(0));
    assert!(
        took < Duration::from_secs(60),
        "waited {took:?}: no fail-fast"
    );
    let err = stderr(&up);
    assert!(err.contains("service `timmy` is unhealthy"), "{err}");
    assert!(err.contains("last health check of timmy"), "{err}");
    ok(&s.timmy(&["down"]));
    assert!(s.containers().is_empty());
}

/// A one-shot init container that exits 0 is not a failure: `up` succeeds and the table says
/// `exited (0)`.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn one_shot_init_container_exiting_zero_is_not_a_failure() {
    let s = Stack::start("init", "");
    fs::write(
        s.root().join("docker/docker-compose.init.yml"),
        "services:\n  migrate:\n    image: ${NODE_IMAGE}\n    command: [\"node\", \"-e\", \"console.log('migrated')\"]\n    networks: [timmy-network]\n  timmy:\n    depends_on:\n      migrate:\n        condition: service_completed_successfully\n",
    )
    .unwrap();
    let up = s.timmy(&["up", "init", "-d"]);
    ok(&up);
    assert!(
        stdout(&up).contains("migrate  exited (0)"),
        "{}",
        stdout(&up)
    );
    assert_eq!(s.inspect("migrate", "{{.State.ExitCode}}"), "0");
    assert_eq!(s.health("timmy"), "healthy");
}

/// Two `timmy up` at once: the second refuses at once, the first finishes healthy.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn concurrent_up_is_refused_not_half_started() {
    let s = Stack::start("lock", "");
    let first = s
        .timmy_cmd()
        .args(["up", "prod", "-d"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The lock file appears once the first one holds it.
    let lock = s.root().join(format!(".timmy/{}.lock", s.name));
    let start = Instant::now();
    while !fs::read_to_string(&lock)
        .unwrap_or_default()
        .contains("timmy up")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "first up never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = s.timmy(&["up", "prod", "-d"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains(&format!(
            "is already changing the stack `{}`; not starting `up`",
            s.name
        )),
        "{}",
        stderr(&second)
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(s.health("timmy"), "healthy");
}

/// A user who may not use the Docker socket gets its own message, not a raw socket error.
#[test]
#[ignore = "needs root and a Docker engine (TIMMY_E2E=1 runs it)"]
fn permission_denied_on_the_socket_has_its_own_message() {
    let s = Stack::start("perm", "");
    let uid = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        uid.trim(),
        "0",
        "this test needs root to switch to an unprivileged user"
    );
    for dir in [s.dir.path().to_path_buf(), s.root()] {
        fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_timmy"),
            "ps",
        ])
        .current_dir(s.root())
        .env("NO_COLOR", "1")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The engine under test may listen elsewhere (DOCKER_HOST, inherited by timmy here).
    let socket = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned());
    assert_eq!(
        stderr(&out),
        format!(
            "error: permission denied on the Docker socket {socket}\n  hint: add your user to the docker group (sudo usermod -aG docker $USER, then log in again), or run as root\n"
        )
    );
}

/// Leftovers Compose knows as orphans (a one-off from `docker compose run`) are removed by
/// `down --remove-orphans`, and timmy says so; the data volume survives a plain prod `down`.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn down_removes_and_names_one_off_containers_and_keeps_prod_data() {
    let s = Stack::start("oneoff", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    ok(&s.timmy(&[
        "exec",
        "redis",
        "--",
        "redis-cli",
        "set",
        "proof",
        "prod-kept",
    ]));
    ok(&s.timmy(&["exec", "redis", "--", "redis-cli", "save"]));
    let root = s.root().display().to_string();
    let run = std::process::Command::new("docker")
        .args([
            "compose",
            "--project-directory",
            &root,
            "--env-file",
            &format!("{root}/.env"),
            "-p",
            &s.name,
            "-f",
            &format!("{root}/docker/docker-compose.yml"),
            "-f",
            &format!("{root}/docker/docker-compose.prod.yml"),
            "run",
            "-d",
            "--no-deps",
            "timmy",
            "sleep",
            "300",
        ])
        .output()
        .unwrap();
    ok(&run);
    let down = s.timmy(&["down"]);
    ok(&down);
    assert!(
        stderr(&down).contains("(one-off container from `docker compose run`)"),
        "{}",
        stderr(&down)
    );
    assert!(s.containers().is_empty());
    ok(&s.timmy(&["up", "prod", "-d"]));
    let got = s.timmy(&["exec", "redis", "--", "redis-cli", "get", "proof"]);
    assert_eq!(stdout(&got).trim(), "prod-kept");
}

/// A service that crash-loops under `restart: unless-stopped`: `up` stops waiting at once,
/// names it with its last exit code and log lines, and `down` still removes everything.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn up_fails_fast_on_a_crash_loop() {
    let s = Stack::start("crash", "");
    fs::write(
        s.root().join("docker/docker-compose.crash.yml"),
        "services:\n  timmy:\n    restart: unless-stopped\n    command: [\"node\", \"-e\", \"console.log('crash-marker'); process.exit(3)\"]\n",
    )
    .unwrap();
    let start = Instant::now();
    let up = s.timmy(&["up", "crash", "-d", "--timeout", "100"]);
    let took = start.elapsed();
    assert_ne!(up.status.code(), Some(0));
    assert!(
        took < Duration::from_secs(60),
        "waited {took:?}: no fail-fast"
    );
    let err = stderr(&up);
    assert!(
        err.contains("service `timmy` keeps crashing and restarting, last exit code 3")
            || err.contains("service `timmy` exited with exit code 3"),
        "{err}"
    );
    assert!(
        err.contains("crash-marker"),
        "its log lines are shown: {err}"
    );
    ok(&s.timmy(&["down"]));
    assert!(s.containers().is_empty());
}

/// Issue 9, hole 9: an unknown key in a compose file is refused by `check` and by `up` with the
/// file and line that hold it (Compose itself names no line), before anything is created.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn unknown_compose_key_is_refused_with_file_and_line_and_nothing_starts() {
    let s = Stack::start("restartt", "");
    let dev = s.root().join("docker/docker-compose.dev.yml");
    let text = fs::read_to_string(&dev).unwrap();
    let text = text.replacen(
        "    tty: true\n",
        "    tty: true\n    restartt: always\n",
        1,
    );
    let line = text
        .lines()
        .position(|l| l == "    restartt: always")
        .unwrap()
        + 1;
    fs::write(&dev, text).unwrap();
    let finding = format!(
        "error: docker/docker-compose.dev.yml:{line}: unknown key `restartt` in `services.timmy` (Compose refuses it)\n  \
         hint: check its spelling and indentation against the Compose file reference\n"
    );
    let check = s.timmy(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        stderr(&check),
        format!("{finding}error: 1 error in the configuration\n")
    );
    let up = s.timmy(&["up", "-d"]);
    assert_eq!(up.status.code(), Some(1));
    assert_eq!(
        stderr(&up),
        format!("{finding}error: 1 error in the configuration; nothing was started\n")
    );
    // Nothing of this checkout was created, whatever the project is called.
    let label = format!(
        "label=com.docker.compose.project.working_dir={}",
        s.root().display()
    );
    assert_eq!(docker(&["ps", "-a", "-q", "--filter", &label]).trim(), "");
    assert_none_left("network", &s.name);
}

/// Issue 9, hole 9: service names come from a YAML reading, so a comment after `services:`
/// does not hide them: `timmy shell redis` reaches redis.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn shell_redis_works_with_a_comment_after_services() {
    let s = Stack::start("svccomment", "");
    // Every file that declares redis (base and prod) gets the comment.
    for file in ["docker-compose.yml", "docker-compose.prod.yml"] {
        let path = s.root().join("docker").join(file);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\nservices:\n"), "{file}");
        fs::write(
            &path,
            text.replacen("\nservices:\n", "\nservices:  # the stack\n", 1),
        )
        .unwrap();
    }
    ok(&s.timmy(&["up", "dev", "-d"]));
    let out = s.timmy(&["shell", "redis", "-c", "redis-cli ping"]);
    ok(&out);
    assert_eq!(stdout(&out), "PONG\n");
}

/// Issue 9, hole 2: dev and prod have their own project names, so `up dev` beside a running
/// prod creates its own containers and volume and leaves prod's alone, and no command reaches
/// prod's volume without the prod confirmation (no terminal: refused).
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn dev_never_replaces_prod_or_reaches_its_volume() {
    let s = Stack::start("beside", "");
    let dev = format!("{}-dev", s.name);
    ok(&s.timmy(&["up", "prod", "-d"]));
    let prod_redis = container_in(&s.name, "redis").unwrap();
    let prod_timmy = container_in(&s.name, "timmy").unwrap();
    // No env: the stack that runs (the only one yet).
    ok(&s.timmy(&[
        "exec",
        "redis",
        "--",
        "redis-cli",
        "set",
        "proof",
        "prod-data",
    ]));

    // Another host port for dev: both envs publish TIMMY_PORT.
    let up_dev = s
        .timmy_cmd()
        .env("TIMMY_PORT", free_port().to_string())
        .args(["up", "dev", "-d"])
        .output()
        .unwrap();
    ok(&up_dev);
    assert_eq!(container_in(&s.name, "redis").as_ref(), Some(&prod_redis));
    assert_eq!(container_in(&s.name, "timmy").as_ref(), Some(&prod_timmy));
    let dev_redis = container_in(&dev, "redis").unwrap();
    assert_ne!(dev_redis, prod_redis);
    assert_eq!(volumes_of(&s.name), [format!("{}_redis-data", s.name)]);
    assert_eq!(volumes_of(&dev), [format!("{dev}_redis-data")]);
    let in_dev = s.timmy(&["exec", "dev", "redis", "--", "redis-cli", "get", "proof"]);
    ok(&in_dev);
    assert_eq!(stdout(&in_dev).trim(), "", "dev sees prod's data");

    // Without an env, with two stacks up, timmy asks which one.
    let ps = s.timmy(&["ps"]);
    assert_eq!(ps.status.code(), Some(1));
    assert_eq!(
        stderr(&ps),
        format!(
            "error: 2 stacks of this checkout are running: prod (`{}`), dev (`{dev}`)\n  \
             hint: name the environment, e.g. timmy ps prod\n",
            s.name
        )
    );

    // `down dev --volumes` with no terminal: dev's volume only.
    let down_dev = s
        .timmy_cmd()
        .args(["down", "dev", "--volumes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    ok(&down_dev);
    assert!(volumes_of(&dev).is_empty());
    assert_eq!(volumes_of(&s.name), [format!("{}_redis-data", s.name)]);
    assert_eq!(container_in(&s.name, "redis").as_ref(), Some(&prod_redis));

    // prod's own: refused without a terminal, nothing stopped.
    let down_prod = s
        .timmy_cmd()
        .args(["down", "--volumes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(down_prod.status.code(), Some(1));
    assert_eq!(
        stderr(&down_prod),
        format!(
            "error: refusing to remove the volumes of the prod stack `{}` without confirmation\n  \
             hint: the data in them is lost for good; pass --yes if that is what you want\n",
            s.name
        )
    );
    assert_eq!(s.health("redis"), "healthy");
    let got = s.timmy(&["exec", "redis", "--", "redis-cli", "get", "proof"]);
    assert_eq!(stdout(&got).trim(), "prod-data");
}

/// Issue 9, hole 3: `down --volumes` after `down` removes the stack's volumes, found by label;
/// prod's are behind the confirmation (`--yes` to skip it).
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn down_volumes_after_down_removes_the_volumes() {
    let s = Stack::start("downvol", "");
    let dev = format!("{}-dev", s.name);
    ok(&s.timmy(&["up", "dev", "-d"]));
    ok(&s.timmy(&["down"]));
    assert_eq!(s.volumes().len(), 1, "the stopped stack keeps its volume");
    let again = s.timmy(&["down", "--volumes"]);
    ok(&again);
    assert_eq!(
        stderr(&again),
        format!(
            "timmy: nothing of project `{dev}` was running; removed its volume: {dev}_redis-data\n"
        )
    );
    assert!(volumes_of(&dev).is_empty());

    ok(&s.timmy(&["up", "prod", "-d"]));
    ok(&s.timmy(&["down"]));
    let refused = s
        .timmy_cmd()
        .args(["down", "prod", "--volumes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).starts_with(&format!(
            "error: refusing to remove the volumes of the prod stack `{}` without confirmation\n",
            s.name
        )),
        "{}",
        stderr(&refused)
    );
    assert_eq!(volumes_of(&s.name), [format!("{}_redis-data", s.name)]);
    let yes = s.timmy(&["down", "prod", "--volumes", "--yes"]);
    ok(&yes);
    assert!(volumes_of(&s.name).is_empty());
}

/// Issue 9, hole 4: the lock covers changing the stack, not following its logs. While `up`
/// follows the dev logs, `timmy build`, `timmy up -d` and `timmy down` in a second terminal
/// work (`down` stops the stack, as `up` says it will), and the first one then ends cleanly.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn down_works_while_up_follows_the_logs() {
    use std::io::BufRead;
    let s = Stack::start("follow", "");
    let mut first = s
        .timmy_cmd()
        .arg("up")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err = first.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let start = Instant::now();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(240).saturating_sub(start.elapsed()))
            .expect("up never started following the logs");
        eprintln!("first: {line}");
        if line.contains("following the logs") {
            assert!(line.contains("(timmy down stops it)"), "{line}");
            break;
        }
    }
    // Changing the stack from a second terminal: none of these waits for the first one.
    ok(&s.timmy(&["build"]));
    ok(&s.timmy(&["up", "-d"]));
    let down = s.timmy(&["down"]);
    ok(&down);
    assert!(s.containers().is_empty(), "containers left");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = first.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "up still follows the logs of a stopped stack"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    reader.join().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// Issue 9, hole 5: two checkouts in folders of the same name. The second never lists, stops
/// or recreates the first one's containers; its `up` is refused with the first one's path and
/// the `-p` to use.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn another_checkout_with_the_same_folder_name_is_never_touched() {
    let folder = format!("e2e-twin-{}", std::process::id());
    let mut a = Stack::start_in("twin-a", "", &folder);
    let mut b = Stack::start_in("twin-b", "", &folder);
    // The guards clean the project names the folder gives.
    a.name.clone_from(&folder);
    b.name.clone_from(&folder);
    // The project name comes from the folder, as for two clones named alike.
    let run = |s: &Stack, args: &[&str]| {
        let out = s
            .timmy_cmd()
            .env_remove("TIMMY_PROJECT_NAME")
            .args(args)
            .output()
            .unwrap();
        eprintln!(
            "$ timmy {} (in {})\n-> {:?}\n{}{}",
            args.join(" "),
            s.root().display(),
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        out
    };
    let dev = format!("{folder}-dev");
    ok(&run(&a, &["up", "dev", "-d"]));
    let a_root = a.root().display().to_string();
    let theirs = docker(&[
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.compose.project.working_dir={a_root}"),
        "--filter",
        "label=com.docker.compose.service=timmy",
    ])
    .trim()
    .to_string();
    assert!(!theirs.is_empty(), "the first checkout's timmy runs");
    let parent: String = b
        .dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    let suggestion = format!("{parent}-{folder}");

    let ps = run(&b, &["ps"]);
    assert_eq!(ps.status.code(), Some(1));
    assert_eq!(stdout(&ps), "");
    assert_eq!(
        stderr(&ps),
        format!(
            "error: nothing of this checkout runs under `{dev}`: its containers belong to another checkout, {a_root}\n  \
             hint: run timmy in that checkout, or give this one its own name with -p {suggestion}\n"
        )
    );
    let down = run(&b, &["down"]);
    ok(&down);
    assert_eq!(
        stderr(&down),
        "timmy: no stack of this checkout is running\n"
    );
    let down_dev = run(&b, &["down", "dev", "--volumes"]);
    assert_eq!(down_dev.status.code(), Some(1));
    let up = run(&b, &["up", "dev", "-d"]);
    assert_eq!(up.status.code(), Some(1));
    assert_eq!(
        stderr(&up),
        format!(
            "error: the project name `{dev}` is in use by another checkout: {a_root}\n  \
             hint: give this checkout its own name: timmy -p {suggestion} up dev (or set TIMMY_PROJECT_NAME)\n"
        )
    );
    assert_eq!(container_in(&dev, "timmy"), Some(theirs.clone()));
    assert_eq!(
        docker(&["inspect", "--format", "{{.State.Status}}", &theirs]).trim(),
        "running"
    );
    assert_eq!(volumes_of(&dev), [format!("{dev}_redis-data")]);
    let ps_a = run(&a, &["ps", "--json"]);
    ok(&ps_a);
    let v: serde_json::Value = serde_json::from_slice(&ps_a.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    ok(&run(&a, &["down", "--volumes"]));
}

/// `timmy up prod` as the way back after redis was stopped: Compose starts redis, then gives
/// up at once on the app, which is still unhealthy from redis's absence (measured on Compose
/// 2.26.1: exit 1, "container … is unhealthy", and timmy reported the service as failed); `up`
/// now waits for the app it left running to recover, and succeeds.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn up_brings_back_a_stack_whose_redis_was_stopped() {
    let s = Stack::start("recover", "");
    // A 10 s probe: Compose sees the app still unhealthy once redis is back (with the stack's
    // 3 s probe the app sometimes recovered before Compose looked), and it recovers in 20 s.
    let prod = s.root().join("docker/docker-compose.prod.yml");
    let text = fs::read_to_string(&prod).unwrap().replace(
        "  timmy:\n    restart: unless-stopped\n",
        "  timmy:\n    restart: unless-stopped\n    healthcheck:\n      interval: 10s\n      retries: 1\n",
    );
    assert!(text.contains("interval: 10s"), "{text}");
    fs::write(&prod, text).unwrap();
    ok(&s.timmy(&["up", "prod"]));
    docker(&["stop", &s.container_of("redis")]);
    s.wait_for_health("timmy", "unhealthy", Duration::from_secs(60));
    let up = s.timmy(&["up", "prod"]);
    ok(&up);
    assert_eq!(s.health("redis"), "healthy");
    assert_eq!(s.health("timmy"), "healthy");
    let err = stderr(&up);
    assert!(
        err.contains(
            "timmy: timmy was unhealthy before this up and Compose left it running; waiting up to 20 s for it to recover\n\
             timmy: timmy recovered\n"
        ),
        "{err}"
    );
}
