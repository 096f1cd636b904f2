//! End-to-end tests against a real Docker engine and Compose v2, with the offline images that
//! `scripts/setup.sh` builds. Each test copies the project into a temp dir, uses its own
//! project name, asserts through `docker inspect` / `docker ps` rather than trusting timmy's
//! own output, and tears everything down in a guard even when it fails.
//!
//! Without an engine these tests print a loud SKIPPED line; with `TIMMY_E2E=1` (CI) a missing
//! engine or missing offline images fail them instead.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NODE_IMAGE: &str = "timmy-offline/node:20";
const REDIS_IMAGE: &str = "timmy-offline/redis:7";

/// Is the engine usable? Checked once per test binary.
fn engine() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let info = Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output();
        match info {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!(
                    "docker info failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            Err(e) => return Err(format!("docker not runnable: {e}")),
        }
        let compose = Command::new("docker").args(["compose", "version"]).output();
        if !compose.is_ok_and(|o| o.status.success()) {
            return Err("no Compose v2 plugin".into());
        }
        for image in [NODE_IMAGE, REDIS_IMAGE] {
            let ok = Command::new("docker")
                .args(["image", "inspect", image])
                .output();
            if !ok.is_ok_and(|o| o.status.success()) {
                return Err(format!("image {image} missing: run scripts/setup.sh"));
            }
        }
        Ok(())
    });
    match ready {
        Ok(()) => true,
        Err(why) if std::env::var("TIMMY_E2E").is_ok_and(|v| v == "1") => {
            panic!("TIMMY_E2E=1 but the Docker engine is not usable: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED end-to-end test: {why} (set TIMMY_E2E=1 to make this a failure)");
            false
        }
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A well-formed `.env` for tests: real-looking (fake) tokens, the offline images.
const TEST_ENV: &str = "\
CLICKUP_API_TOKEN=pk_81234567_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345
CLICKUP_TEAM_ID=9012345
GITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u
GITHUB_REPO=timmy-org/timmy
ANTHROPIC_API_KEY=sk-ant-api03-e2eFakeKeyForTestsOnly0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-AAAAAAAA
OPENAI_API_KEY=sk-proj-e2eFakeKeyForTestsOnly0123456789
WORKSPACE_PATH=./workspace
NODE_ENV=production
LOG_LEVEL=info
REDIS_PORT=6379
";

/// One test's project copy and project name; dropping it removes everything it started.
struct Stack {
    dir: tempfile::TempDir,
    name: String,
}

impl Stack {
    fn new(test: &str, extra_env: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("timmy-e2e-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("proj");
        for sub in ["docker", "app", "scripts"] {
            copy_dir(&repo().join(sub), &root.join(sub));
        }
        fs::copy(repo().join(".env.example"), root.join(".env.example")).unwrap();
        let port = free_port();
        let debug_port = free_port();
        let env = format!(
            "{TEST_ENV}NODE_IMAGE={NODE_IMAGE}\nREDIS_IMAGE={REDIS_IMAGE}\nTIMMY_PORT={port}\nTIMMY_DEBUG_PORT={debug_port}\n{extra_env}"
        );
        fs::write(root.join(".env"), env).unwrap();
        fs::set_permissions(root.join(".env"), fs::Permissions::from_mode(0o600)).unwrap();
        let name = format!("e2e-{test}-{}", std::process::id());
        Self { dir, name }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("proj")
    }

    fn timmy(&self, args: &[&str]) -> Output {
        let out = self.timmy_cmd().args(args).output().unwrap();
        eprintln!(
            "$ timmy {}\n-> {:?}\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn timmy_cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_timmy"));
        cmd.current_dir(self.root())
            .env("TIMMY_PROJECT_NAME", &self.name)
            .env("NO_COLOR", "1")
            .env_remove("TIMMY_PROJECT_DIR")
            .env_remove("TIMMY_DOCKER");
        cmd
    }

    /// Containers of this project (any env), as docker sees them.
    fn containers(&self) -> Vec<String> {
        let out = docker(&[
            "ps",
            "-a",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        out.lines().map(str::to_string).collect()
    }

    fn container_of(&self, service: &str) -> String {
        let out = docker(&[
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        let id = out.lines().next().unwrap_or_default().to_string();
        assert!(
            !id.is_empty(),
            "no container for service {service} in {}",
            self.name
        );
        id
    }

    fn inspect(&self, service: &str, format: &str) -> String {
        docker(&["inspect", "--format", format, &self.container_of(service)])
            .trim()
            .to_string()
    }

    fn health(&self, service: &str) -> String {
        self.inspect(service, "{{.State.Health.Status}}")
    }

    fn wait_for_health(&self, service: &str, want: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            let now = self.health(service);
            if now == want {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "{service} is {now}, not {want}, after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for project in [self.name.clone(), format!("{}-test", self.name)] {
            let _ = Command::new("docker")
                .args([
                    "compose",
                    "-p",
                    &project,
                    "down",
                    "--volumes",
                    "--remove-orphans",
                    "--timeout",
                    "2",
                ])
                .current_dir(self.dir.path())
                .output();
            let ids = docker_lenient(&[
                "ps",
                "-a",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ]);
            for id in ids.lines() {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
            let vols = docker_lenient(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ]);
            for v in vols.lines() {
                let _ = Command::new("docker")
                    .args(["volume", "rm", "-f", v])
                    .output();
            }
            for image in ["timmy", "tests"] {
                let _ = Command::new("docker")
                    .args(["image", "rm", "-f", &format!("{project}-{image}")])
                    .output();
            }
        }
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn docker_lenient(args: &[&str]) -> String {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Criteria 1 and 2: `up` starts redis then timmy, both healthy, `ps` shows it; `down` leaves
/// no container or network, and data in ./data and in the named volume survives down + up.
#[test]
fn up_dev_healthy_then_down_clean_and_data_survives() {
    if !engine() {
        return;
    }
    let s = Stack::new("updown", "");
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

    let down = s.timmy(&["down"]);
    ok(&down);
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
    let nets = docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}", s.name),
    ]);
    assert!(nets.trim().is_empty(), "network left: {nets}");
    let vols = docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}", s.name),
    ]);
    assert!(
        vols.contains(&format!("{}_redis-data", s.name)),
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
fn dev_and_prod_configs_both_work() {
    if !engine() {
        return;
    }
    let s = Stack::new("devprod", "");
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
fn health_follows_redis() {
    if !engine() {
        return;
    }
    let s = Stack::new("health", "");
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
fn memory_limit_is_enforced() {
    if !engine() {
        return;
    }
    let s = Stack::new(
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
fn logs_are_captured_and_rotated() {
    if !engine() {
        return;
    }
    let s = Stack::new("logs", "LOG_MAX_SIZE=2k\nLOG_MAX_FILE=3\n");
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

/// Criterion 7: `.env` values, NODE_ENV per environment and `${VAR:-default}` defaults are
/// visible in the container exactly as `timmy env` predicted.
#[test]
fn environment_variables_load_as_predicted() {
    if !engine() {
        return;
    }
    let s = Stack::new(
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
    }
}

/// `timmy down` finds a stray container by the project label and says how to remove it.
#[test]
fn down_reports_orphans_found_by_label() {
    if !engine() {
        return;
    }
    let s = Stack::new("orphans", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    // A container that claims the project but that Compose cannot remove: it keeps running
    // because it is started after `down` removed the others (simulating a racing script).
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
    if down.status.code() == Some(0) {
        // Compose removed it as an orphan: then nothing of the project may be left.
        assert!(s.containers().is_empty(), "{err}");
    } else {
        assert_eq!(down.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("{}-stray", s.name)), "{err}");
        assert!(
            err.contains(&format!("docker rm -f {}", &stray[..12])),
            "{err}"
        );
    }
}

/// `timmy shell -c` runs in the container and passes the exit code through.
#[test]
fn shell_runs_a_command_in_the_container() {
    if !engine() {
        return;
    }
    let s = Stack::new("shell", "");
    ok(&s.timmy(&["up", "dev", "-d"]));
    let out = s.timmy(&["shell", "-c", "echo in-$NODE_ENV; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stdout(&out).trim(), "in-development");
}

/// `timmy test` exits with the tests' code and removes the whole test stack every time.
#[test]
fn test_command_propagates_exit_code_and_cleans_up() {
    if !engine() {
        return;
    }
    let s = Stack::new("test", "");
    let pass = s.timmy(&["test"]);
    ok(&pass);
    let fail = s.timmy(&["test", "--", "sh", "-c", "exit 3"]);
    assert_eq!(fail.status.code(), Some(3), "{}", stderr(&fail));
    let test_project = format!("{}-test", s.name);
    let left = docker(&[
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={test_project}"),
    ]);
    assert!(left.trim().is_empty(), "test containers left: {left}");
    let vols = docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={test_project}"),
    ]);
    assert!(vols.trim().is_empty(), "test volumes left: {vols}");
}

/// A service that never becomes healthy: `up` stops waiting early, names it, shows its logs
/// and health output, exits non-zero; `down` still cleans everything.
#[test]
fn up_fails_fast_when_a_service_turns_unhealthy() {
    if !engine() {
        return;
    }
    let s = Stack::new("unhealthy", "REDIS_HOST=nowhere.invalid\n");
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
