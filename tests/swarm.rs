//! `timmy deploy` on a real single-node swarm (see tests/engine/swarm.rs for how the tests
//! join and always leave it): the stack converges healthy, `ps` shows replicas and health,
//! `down` leaves nothing, `--scale`, a rolling update that keeps `/health` answering on the
//! overlay network, a crash-looping service failing the deploy fast, a bad `.env` deploying
//! nothing, and no secret value in `docker service inspect`. Each test deploys its own stack
//! under its own name. This kernel has no IPVS: the tests set `SWARM_ENDPOINT_MODE=dnsrr` and
//! `SWARM_PUBLISH_MODE=host` (real clusters keep the defaults, vip and ingress).

mod engine;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use engine::swarm::{Deployed, SwarmGuard, lines};
use engine::{NODE_IMAGE, Stack, docker, ok, stderr, stdout};

const SWARM_ENV: &str = "SWARM_ENDPOINT_MODE=dnsrr\nSWARM_PUBLISH_MODE=host\n";

/// The prod file without its published port: an env whose replicas can share one node (a
/// host-mode port is bound once per node: measured, the second task waits with "no suitable
/// node (host-mode port already in use on 1 node)").
fn add_portless_env(s: &Stack, env: &str) {
    let prod = std::fs::read_to_string(s.root().join("docker/docker-compose.prod.yml")).unwrap();
    let mut without = String::new();
    for line in prod
        .lines()
        .filter(|l| !l.trim_start().starts_with("ports:") && !l.contains("127.0.0.1:${TIMMY_PORT"))
    {
        without.push_str(line);
        without.push('\n');
    }
    assert_ne!(without, prod, "the prod file publishes a port");
    std::fs::write(
        s.root().join(format!("docker/docker-compose.{env}.yml")),
        without,
    )
    .unwrap();
}

fn ns(name: &str) -> String {
    format!("label=com.docker.stack.namespace={name}")
}

/// `<service> <replicas>` of every service of the stack, as docker lists them.
fn replicas(name: &str) -> Vec<String> {
    let mut out = lines(&[
        "service",
        "ls",
        "--filter",
        &ns(name),
        "--format",
        "{{.Name}} {{.Replicas}}",
    ]);
    out.sort();
    out
}

/// Health of the running task containers of `service`.
fn task_health(name: &str, service: &str) -> Vec<String> {
    lines(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.swarm.service.name={name}_{service}"),
    ])
    .iter()
    .map(|id| {
        docker(&["inspect", "--format", "{{.State.Health.Status}}", id])
            .trim()
            .to_string()
    })
    .collect()
}

/// `GET /health` of `timmy` from a container on the stack's overlay network: status and body.
fn probe_health(name: &str) -> String {
    docker(&[
        "run",
        "--rm",
        "--label",
        &format!("timmy.e2e.stack={name}"),
        "--network",
        &format!("{name}_timmy-network"),
        NODE_IMAGE,
        "node",
        "-e",
        "fetch('http://timmy:3000/health').then(async r => console.log(r.status, await r.text()))",
    ])
    .trim()
    .to_string()
}

/// `GET /health` on the host-mode published port.
fn published_health(port: &str) -> String {
    let mut conn = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"GET /health HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or("").to_string()
}

/// The value of `key` in the test's `.env`.
fn env_value(s: &Stack, key: &str) -> String {
    let text = std::fs::read_to_string(s.root().join(".env")).unwrap();
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap()
        .to_string()
}

/// What `docker stack rm` must not leave: every kind, listed by docker.
fn leftovers(name: &str) -> Vec<String> {
    let filter = ns(name);
    let mut left = lines(&["service", "ls", "-q", "--filter", &filter]);
    left.extend(lines(&["ps", "-aq", "--filter", &filter]));
    for kind in ["network", "secret", "config"] {
        left.extend(lines(&[kind, "ls", "-q", "--filter", &filter]));
    }
    left
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn deploy_prod_converges_healthy_ps_shows_it_and_down_leaves_nothing() {
    let _swarm = SwarmGuard::join();
    let s = Stack::start("swdeploy", SWARM_ENV);
    let _stack = Deployed::new(&s.name);
    let n = s.name.clone();

    let out = s.timmy(&["deploy", "prod", "--timeout", "120"]);
    ok(&out);
    assert!(
        stderr(&out).contains(&format!("timmy: stack `{n}` converged in ")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        replicas(&n),
        [format!("{n}_redis 1/1"), format!("{n}_timmy 1/1")]
    );
    assert_eq!(task_health(&n, "timmy"), ["healthy"]);
    assert_eq!(task_health(&n, "redis"), ["healthy"]);
    // The image is tagged by content, never latest.
    let image = docker(&[
        "service",
        "inspect",
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
        &format!("{n}_timmy"),
    ]);
    let tag = image.trim().strip_prefix(&format!("{n}-timmy:")).unwrap();
    assert_eq!(tag.len(), 12, "{image}");
    assert!(tag.chars().all(|c| c.is_ascii_hexdigit()), "{image}");

    // Reached over the overlay network, and on the host-mode published port. Every
    // integration is available: the tokens reached the app through KEY_FILE (secrets mode).
    let health = probe_health(&n);
    assert!(
        health.starts_with("200 {\"status\":\"ok\",\"redis\":\"up\""),
        "{health}"
    );
    assert!(
        health.contains(
            "\"integrations\":{\"clickup\":\"available\",\"github\":\"available\",\"anthropic\":\"available\",\"openai\":\"available\"}"
        ),
        "{health}"
    );
    assert_eq!(
        published_health(&env_value(&s, "TIMMY_PORT")),
        "HTTP/1.1 200 OK"
    );

    // No secret value where anyone with docker access reads the service.
    let inspect = docker(&[
        "service",
        "inspect",
        &format!("{n}_timmy"),
        &format!("{n}_redis"),
    ]);
    for key in [
        "GITHUB_TOKEN",
        "CLICKUP_API_TOKEN",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    ] {
        let value = env_value(&s, key);
        assert!(
            !inspect.contains(&value),
            "{key}'s value in service inspect"
        );
        assert!(
            inspect.contains(&format!("\"{key}_FILE=/run/secrets/{key}\"")),
            "{key}_FILE"
        );
    }

    let ps = s.timmy(&["ps", "prod"]);
    ok(&ps);
    let rows: Vec<Vec<String>> = stdout(&ps)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let cells = |row: &[String]| row[..4].join(" ");
    assert_eq!(cells(&rows[0]), "SERVICE REPLICAS HEALTH UPDATE");
    assert_eq!(cells(&rows[1]), "redis 1/1 healthy -");
    assert_eq!(cells(&rows[2]), "timmy 1/1 healthy -");
    assert_eq!(rows.len(), 3);

    // redis's named volume carries the stack's label; `--volumes --yes` removes it too.
    assert_eq!(
        lines(&["volume", "ls", "-q", "--filter", &ns(&n)]),
        [format!("{n}_redis-data")]
    );
    let down = s.timmy(&["down", "prod", "--volumes", "--yes"]);
    ok(&down);
    assert!(
        stderr(&down).ends_with(&format!(
            "timmy: removed stack `{n}` from the swarm: no service, container, network, secret, config or volume of it is left\n"
        )),
        "{}",
        stderr(&down)
    );
    assert_eq!(leftovers(&n), Vec::<String>::new());
    assert_eq!(
        lines(&["volume", "ls", "-q", "--filter", &ns(&n)]),
        Vec::<String>::new()
    );
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn scale_timmy_3_gives_three_healthy_tasks() {
    let _swarm = SwarmGuard::join();
    let s = Stack::start("swscale", SWARM_ENV);
    add_portless_env(&s, "swarm");
    let n = format!("{}-swarm", s.name);
    let _stack = Deployed::new(&n);

    let out = s.timmy(&["deploy", "swarm", "--scale", "timmy=3", "--timeout", "120"]);
    ok(&out);
    assert_eq!(
        replicas(&n),
        [format!("{n}_redis 1/1"), format!("{n}_timmy 3/3")]
    );
    assert_eq!(task_health(&n, "timmy"), ["healthy", "healthy", "healthy"]);
    let ps = s.timmy(&["ps", "swarm"]);
    ok(&ps);
    assert!(
        stdout(&ps).contains("\ntimmy    3/3       healthy  -       -      "),
        "{}",
        stdout(&ps)
    );
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn a_redeploy_with_a_changed_secret_removes_the_earlier_value() {
    let _swarm = SwarmGuard::join();
    let s = Stack::start("swsecret", SWARM_ENV);
    add_portless_env(&s, "swarm");
    let n = format!("{}-swarm", s.name);
    let _stack = Deployed::new(&n);
    let secrets = || lines(&["secret", "ls", "--filter", &ns(&n), "--format", "{{.Name}}"]);

    ok(&s.timmy(&["deploy", "swarm", "--timeout", "120"]));
    let before = secrets();
    let old: Vec<&String> = before
        .iter()
        .filter(|s| s.starts_with(&format!("{n}_GITHUB_TOKEN_")))
        .collect();
    assert_eq!(old.len(), 1, "{before:?}");
    let old = old[0].clone();

    let env = std::fs::read_to_string(s.root().join(".env")).unwrap();
    std::fs::write(
        s.root().join(".env"),
        format!("{env}GITHUB_TOKEN=ghp_Q8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3z\n"),
    )
    .unwrap();
    let out = s.timmy(&["deploy", "swarm", "--timeout", "120"]);
    ok(&out);
    assert!(
        stderr(&out).ends_with(&format!(
            "timmy: removed 1 earlier secret the stack no longer uses: {old}\n"
        )),
        "{}",
        stderr(&out)
    );
    let after = secrets();
    assert_eq!(after.len(), before.len(), "one secret per key: {after:?}");
    assert!(!after.contains(&old), "{after:?}");
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn a_redeploy_with_a_changed_app_rolls_while_health_keeps_answering() {
    let _swarm = SwarmGuard::join();
    let s = Stack::start("swroll", SWARM_ENV);
    add_portless_env(&s, "swarm");
    let n = format!("{}-swarm", s.name);
    let _stack = Deployed::new(&n);
    ok(&s.timmy(&["deploy", "swarm", "--timeout", "120"]));
    let image = |n: &str| {
        docker(&[
            "service",
            "inspect",
            "--format",
            "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
            &format!("{n}_timmy"),
        ])
        .trim()
        .to_string()
    };
    let before = image(&n);

    // A prober on the overlay network: GET /health every 100 ms, one line per answer.
    let script = "const go = async () => { for (;;) { const t = Date.now(); \
        try { const r = await fetch('http://timmy:3000/health', { signal: AbortSignal.timeout(2000) }); \
        console.log(r.status); } catch (e) { console.log('ERR ' + (e.cause?.code || e.message)); } \
        await new Promise(r => setTimeout(r, Math.max(0, 100 - (Date.now() - t)))); } }; go();";
    let prober = docker(&[
        "run",
        "-d",
        "--label",
        &format!("timmy.e2e.stack={n}"),
        "--network",
        &format!("{n}_timmy-network"),
        NODE_IMAGE,
        "node",
        "-e",
        script,
    ])
    .trim()
    .to_string();
    std::thread::sleep(Duration::from_secs(2));

    // Change the app: a new image, a new content tag, a rolling update (start-first).
    let server = s.root().join("app/server.js");
    let mut text = std::fs::read_to_string(&server).unwrap();
    text.push_str("// changed for the rolling-update test\n");
    std::fs::write(&server, text).unwrap();
    let started = Instant::now();
    let out = s.timmy(&["deploy", "swarm", "--timeout", "120"]);
    ok(&out);
    let took = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let after = image(&n);
    assert_ne!(before, after, "a changed app gets a new tag");
    let update = docker(&[
        "service",
        "inspect",
        "--format",
        "{{.UpdateStatus.State}}",
        &format!("{n}_timmy"),
    ]);
    assert_eq!(update.trim(), "completed");

    let log = docker(&["logs", &prober]);
    let answers: Vec<&str> = log.lines().collect();
    let failed: Vec<&&str> = answers.iter().filter(|l| **l != "200").collect();
    eprintln!(
        "rolling update: {} probes over {:.1} s of redeploy, {} not 200",
        answers.len(),
        took.as_secs_f64(),
        failed.len()
    );
    assert!(answers.len() >= 20, "{log}");
    assert!(
        failed.is_empty(),
        "health failed during the update: {failed:?}"
    );
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn a_crash_looping_service_fails_the_deploy_fast_naming_it_with_its_logs() {
    let _swarm = SwarmGuard::join();
    // The app exits 1 at once: a secret file it cannot read (as a wrong secret name would).
    let s = Stack::start(
        "swcrash",
        &format!("{SWARM_ENV}REDIS_PORT_FILE=/run/secrets/nonexistent\n"),
    );
    add_portless_env(&s, "swarm");
    let n = format!("{}-swarm", s.name);
    let _stack = Deployed::new(&n);

    let started = Instant::now();
    let out = s.timmy(&["deploy", "swarm", "--timeout", "120"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("\nerror: timmy: task: non-zero exit (1)\n  last log lines of timmy:\n    "),
        "{err}"
    );
    assert!(
        err.contains("\"msg\":\"cannot read a secret file\",\"error\":\"REDIS_PORT_FILE: cannot read /run/secrets/nonexistent: ENOENT\""),
        "{err}"
    );
    assert!(
        err.ends_with(&format!(
            "error: stack `{n}` did not converge: timmy failed\n  hint: the stack stays deployed as it is: timmy ps swarm shows its tasks, timmy logs swarm timmy the logs, timmy down swarm removes it\n"
        )),
        "{err}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    eprintln!("crash loop reported in {:.1} s", took.as_secs_f64());
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn a_bad_env_deploys_nothing() {
    let _swarm = SwarmGuard::join();
    let s = Stack::start("swbad", &format!("{SWARM_ENV}GITHUB_TOKEN=\n"));
    let _stack = Deployed::new(&s.name);
    let out = s.timmy(&["deploy", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: .env:17: GITHUB_TOKEN is empty (required by .env.example)\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(leftovers(&s.name), Vec::<String>::new());
    assert_eq!(
        lines(&["image", "ls", "-q", &format!("{}-timmy", s.name)]),
        Vec::<String>::new(),
        "nothing built"
    );
}

/// Debian's `docker-registry` (scripts/setup.sh installs it), serving a temp dir on a free
/// loopback port for one test; stopped when dropped. Docker pushes to a 127.0.0.0/8 registry
/// over plain HTTP without configuration.
struct Registry {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{}", engine::free_port());
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("docker-registry not runnable ({e}): scripts/setup.sh installs it")
            });
        let registry = Self {
            child,
            addr,
            _dir: dir,
        };
        let start = Instant::now();
        while registry.get("/v2/").is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the registry never answered"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    fn get(&self, path: &str) -> Option<String> {
        let mut conn = std::net::TcpStream::connect(&self.addr).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(conn, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).ok()?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer).ok()?;
        answer.starts_with("HTTP/1.0 200").then_some(answer)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs a Docker engine in swarm mode (TIMMY_E2E=1 runs it)"]
fn registry_deploys_the_pushed_content_tag() {
    let _swarm = SwarmGuard::join();
    let registry = Registry::start();
    let s = Stack::start("swreg", SWARM_ENV);
    let n = s.name.clone();
    let _stack = Deployed::new(&n);

    let out = s.timmy(&["deploy", "--registry", &registry.addr, "--timeout", "120"]);
    ok(&out);
    // The service runs the registry's image, pinned by digest (`--resolve-image always`).
    let image = docker(&[
        "service",
        "inspect",
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
        &format!("{n}_timmy"),
    ]);
    let rest = image
        .trim()
        .strip_prefix(&format!("{}/{n}-timmy:", registry.addr))
        .unwrap_or_else(|| panic!("{image}"));
    let (tag, digest) = rest.split_once("@sha256:").unwrap();
    assert_eq!(tag.len(), 12, "{image}");
    assert_eq!(digest.len(), 64, "{image}");
    let catalog = registry.get("/v2/_catalog").unwrap();
    assert!(
        catalog.contains(&format!("{{\"repositories\":[\"{n}-timmy\"]}}")),
        "{catalog}"
    );
    let tags = registry.get(&format!("/v2/{n}-timmy/tags/list")).unwrap();
    assert!(tags.contains(&format!("\"tags\":[\"{tag}\"]")), "{tags}");
    assert_eq!(
        replicas(&n),
        [format!("{n}_redis 1/1"), format!("{n}_timmy 1/1")]
    );
    // The pushed tag is removed with the stack's images by the guard.
    let _ = registry;
}
