//! `timmy deploy --render` with the fake docker: the stack file printed with secrets masked,
//! findings on stderr, nothing asked of Docker on a bad `.env`, exit codes as documented.

mod common;

use common::{Project, stderr_of, stdout_of};

const TOKEN: &str = "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u";

/// What `docker compose config --format json` prints for the fake project's prod stack.
fn config_json(p: &Project, host_ip: &str) -> String {
    format!(
        r#"{{"name": "proj", "services": {{
  "redis": {{"image": "redis:7-alpine", "command": null, "restart": "unless-stopped"}},
  "timmy": {{"build": {{"context": "{root}", "dockerfile": "Dockerfile"}}, "image": "proj-timmy:prod",
    "environment": {{"NODE_ENV": "production", "GITHUB_TOKEN": "{TOKEN}"}},
    "ports": [{{"mode": "ingress", "host_ip": "{host_ip}", "target": 3000, "published": "3000", "protocol": "tcp"}}],
    "depends_on": {{"redis": {{"condition": "service_started", "required": true}}}}}}
}}}}"#,
        root = p.root().display()
    )
}

const PROD: &str = "\
services:
  redis:
    restart: unless-stopped
  timmy:
    image: proj-timmy:prod
    depends_on: [redis]
    ports:
      - \"127.0.0.1:3000:3000\"
";

fn project(host_ip: &str) -> Project {
    let p = Project::new();
    p.write("docker/docker-compose.prod.yml", PROD);
    p.answer_to(
        &["compose", "config", "--format", "json"],
        &config_json(&p, host_ip),
        0,
    );
    p
}

const WARNINGS: &str = "\
warning: docker/docker-compose.prod.yml:3: `restart: unless-stopped` of service `redis` becomes deploy.restart_policy.condition: any
warning: docker/docker-compose.yml:5: `build` of service `timmy` is dropped: Swarm runs images only, so the image is built and tagged before the deploy
warning: docker/docker-compose.prod.yml:6: `depends_on` of service `timmy` is dropped: Swarm starts services in no order and waits for no health
  hint: `timmy` must retry until `redis` answers
";

fn stack(secrets: &str, environment: &str, mode: &str) -> String {
    format!(
        "version: \"3.9\"
{secrets}services:
  redis:
    deploy:
      endpoint_mode: \"vip\"
      restart_policy:
        condition: \"any\"
    image: \"redis:7-alpine\"
  timmy:
    deploy:
      endpoint_mode: \"vip\"
    environment:
{environment}      NODE_ENV: \"production\"
    image: \"proj-timmy:prod\"
    ports:
      - mode: \"{mode}\"
        protocol: \"tcp\"
        published: 3000
        target: 3000
{}",
        if secrets.is_empty() {
            ""
        } else {
            "    secrets:\n      - source: \"GITHUB_TOKEN_d03680ebb084\"\n        target: \"GITHUB_TOKEN\"\n"
        }
    )
}

/// The top-level secrets of the render, its secret files under the test's own `$TMPDIR`.
fn swarm_secrets(tmp: &std::path::Path) -> String {
    format!(
        "\
secrets:
  GITHUB_TOKEN_d03680ebb084:
    file: \"{}/timmy-proj-secrets/GITHUB_TOKEN_d03680ebb084\"
    name: \"proj_GITHUB_TOKEN_d03680ebb084\"
",
        tmp.display()
    )
}

#[test]
fn render_prints_the_stack_file_with_secrets_as_swarm_secrets_and_findings_on_stderr() {
    let p = project("");
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(stderr_of(&out), WARNINGS);
    assert_eq!(
        stdout_of(&out),
        stack(
            &swarm_secrets(p.dir.path()),
            "      GITHUB_TOKEN_FILE: \"/run/secrets/GITHUB_TOKEN\"\n",
            "ingress"
        )
    );
    assert_eq!(out.status.code(), Some(0));
    let root = p.root().display().to_string();
    assert_eq!(
        p.calls(),
        [format!(
            "compose --project-directory {root} --env-file {root}/.env -p proj -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.prod.yml config --format json"
        )]
    );
    assert_eq!(p.config_calls().len(), 1);
}

#[test]
fn render_adds_the_swarm_file_when_the_project_has_it() {
    let p = project("");
    p.write(
        "docker/swarm.compose.yml",
        "services:\n  timmy:\n    deploy:\n      replicas: 1\n",
    );
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let root = p.root().display().to_string();
    assert_eq!(
        p.calls(),
        [format!(
            "compose --project-directory {root} --env-file {root}/.env -p proj -f {root}/docker/docker-compose.yml -f {root}/docker/docker-compose.prod.yml -f {root}/docker/swarm.compose.yml config --format json"
        )]
    );
}

#[test]
fn secrets_in_the_environment_are_masked_unless_show_secrets() {
    let p = project("");
    let masked = stack("", "      GITHUB_TOKEN: \"ghp_****\"\n", "ingress");
    for args in [
        &["deploy", "--render", "--secrets", "env"][..],
        &["deploy", "--render", "--secrets", "env", "-v"],
        &["deploy", "--render", "--secrets", "env", "--dry-run"],
    ] {
        let out = p.timmy().args(args).output().unwrap();
        assert_eq!(stdout_of(&out), masked, "{args:?}");
        assert!(!stderr_of(&out).contains(TOKEN), "{args:?}");
        assert_eq!(out.status.code(), Some(0));
    }
    let out = p
        .timmy()
        .args(["deploy", "--render", "--secrets", "env", "-v"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains(" config --format json\n"),
        "{}",
        stderr_of(&out)
    );
    let out = p
        .timmy()
        .args(["deploy", "--render", "--secrets", "env", "--show-secrets"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out),
        stack("", &format!("      GITHUB_TOKEN: \"{TOKEN}\"\n"), "ingress")
    );
}

#[test]
fn a_port_on_one_address_is_refused_until_the_publish_mode_is_given() {
    let p = project("127.0.0.1");
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_of(&out), "");
    assert_eq!(
        stderr_of(&out),
        format!(
            "{WARNINGS}error: docker/docker-compose.prod.yml:8: port 3000:3000 of service `timmy` is published on 127.0.0.1 only, and Swarm publishes on every interface
  hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env
error: 1 error in the configuration; Swarm would not run this stack as written
"
        )
    );
    let port_warning = "warning: docker/docker-compose.prod.yml:8: port 3000:3000 of service `timmy` was published on 127.0.0.1 only; Swarm publishes it on every interface (host mode)\n";
    let out = p
        .timmy()
        .args(["deploy", "--render", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr_of(&out).contains(port_warning),
        "{}",
        stderr_of(&out)
    );
    assert!(stdout_of(&out).contains("      - mode: \"host\"\n"));
    // The same from .env, and the flag over .env.
    p.write(
        ".env",
        &format!("{}SWARM_PUBLISH_MODE=host\n", common::GOOD_ENV),
    );
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("      - mode: \"host\"\n"));
    let out = p
        .timmy()
        .args(["deploy", "--render", "--publish", "ingress"])
        .output()
        .unwrap();
    assert!(stdout_of(&out).contains("      - mode: \"ingress\"\n"));
}

#[test]
fn a_bad_env_stops_before_docker_is_asked_anything() {
    let p = project("");
    p.write(
        ".env",
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_your_token_here\n",
    );
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_of(&out), "");
    assert!(
        stderr_of(&out).ends_with("error: 1 error in the configuration; nothing was started\n"),
        "{}",
        stderr_of(&out)
    );
    assert!(p.calls().is_empty());
    assert!(p.config_calls().is_empty());

    p.write(
        ".env",
        &format!("{}SWARM_ENDPOINT_MODE=round-robin\n", common::GOOD_ENV),
    );
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // `check`'s verdict, which `deploy` applies first: deploy's own message, with the line.
    assert_eq!(
        stderr_of(&out),
        "error: .env:4: SWARM_ENDPOINT_MODE must be vip or dnsrr\n  hint: vip: a virtual IP per service (Swarm's default); dnsrr: DNS round robin, for hosts without IPVS\n\
         error: 1 error in the configuration; nothing was started\n"
    );
    assert!(p.calls().is_empty());
}

#[test]
fn check_reports_the_swarm_settings_deploy_would_refuse() {
    // Was a hole: a bad SWARM_PUBLISH_MODE passed `check prod`, then failed at deploy.
    let p = Project::new();
    p.write(
        ".env",
        &format!(
            "{}SWARM_PUBLISH_MODE=mesh\nSWARM_ENDPOINT_MODE=dnsrr\n",
            common::GOOD_ENV
        ),
    );
    let out = p.timmy().args(["check", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "error: .env:4: SWARM_PUBLISH_MODE must be ingress or host\n  \
         hint: ingress: the port answers on every node; host: only on the node running the task\n\
         error: 1 error in the configuration\n"
    );
    // The shell's value is the one deploy takes.
    let out = p
        .timmy()
        .env("SWARM_PUBLISH_MODE", "host")
        .env("SWARM_ENDPOINT_MODE", "VIP")
        .args(["check", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "error: .env: SWARM_ENDPOINT_MODE (set in your shell) must be vip or dnsrr\n  \
         hint: vip: a virtual IP per service (Swarm's default); dnsrr: DNS round robin, for hosts without IPVS\n\
         warning: .env:4: SWARM_PUBLISH_MODE is also set in your shell with a different value; Compose uses the shell's\n  \
         hint: unset SWARM_PUBLISH_MODE in your shell, or remove it from .env\n\
         warning: .env:5: SWARM_ENDPOINT_MODE is also set in your shell with a different value; Compose uses the shell's\n  \
         hint: unset SWARM_ENDPOINT_MODE in your shell, or remove it from .env\n\
         error: 1 error in the configuration\n"
    );
    p.write(
        ".env",
        &format!("{}SWARM_PUBLISH_MODE=\n", common::GOOD_ENV),
    );
    let out = p.timmy().args(["check", "prod"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn compose_failing_passes_its_code_through_masked() {
    let p = Project::new();
    p.answer_to(&["compose", "config", "--format", "json"], "", 14)
        .stderr(&format!("bad token {TOKEN}\n"));
    let out = p.timmy().args(["deploy", "--render"]).output().unwrap();
    assert_eq!(out.status.code(), Some(14));
    assert_eq!(stdout_of(&out), "");
    assert_eq!(stderr_of(&out), "bad token ghp_****\n");
}

/// The repository's own compose files, `.env.example` and a filled-in `.env` (the engine
/// tests' fixture) in the fake project.
fn repository_project(extra_env: &str) -> Project {
    let p = Project::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "docker/docker-compose.yml",
        "docker/docker-compose.dev.yml",
        "docker/docker-compose.prod.yml",
        "docker/docker-compose.test.yml",
        "docker/swarm.compose.yml",
        ".env.example",
    ] {
        p.write(file, &std::fs::read_to_string(repo.join(file)).unwrap());
    }
    let env = std::fs::read_to_string(repo.join("tests/fixtures/stack.env")).unwrap();
    p.write(
        ".env",
        &format!("{env}TIMMY_PORT=3000\nTIMMY_DEBUG_PORT=9229\nNODE_IMAGE=node:20-slim\nREDIS_IMAGE=redis:7-alpine\n{extra_env}"),
    );
    p
}

#[test]
fn the_swarm_settings_of_env_example_keep_check_quiet_set_or_not() {
    for extra in ["", "SWARM_ENDPOINT_MODE=dnsrr\nSWARM_PUBLISH_MODE=host\n"] {
        let p = repository_project(extra);
        for env in ["dev", "prod"] {
            let out = p.timmy().args(["check", env]).output().unwrap();
            assert_eq!(
                stderr_of(&out),
                format!(
                    "timmy: .env is valid for the {env} stack (docker/docker-compose.yml + docker/docker-compose.{env}.yml)\n"
                ),
                "{extra:?}"
            );
            assert_eq!(out.status.code(), Some(0));
        }
    }
}

#[test]
fn start_first_updates_with_a_host_mode_port_are_a_warning() {
    // Measured on Engine 28.5, one node: a redeploy of such a service (a changed secret) waited
    // for the old task's port until --timeout and failed; stop-first converged in 24 s.
    let p = Project::new();
    p.write("docker/docker-compose.prod.yml", PROD);
    p.answer_to(
        &["compose", "config", "--format", "json"],
        r#"{"name": "proj", "services": {"timmy": {"image": "proj-timmy:prod",
  "deploy": {"update_config": {"order": "start-first"}, "rollback_config": {"order": "start-first"}},
  "ports": [{"mode": "ingress", "target": 3000, "published": "3000", "protocol": "tcp"}]}}}"#,
        0,
    );
    let warning = "warning: docker/swarm.compose.yml: service `timmy` updates start-first (update_config, rollback_config) and publishes port 3000 in host mode: the new task cannot bind it while the old one holds it on the same node, so on one node every update of `timmy` waits until --timeout\n  \
                   hint: set `order: stop-first` in update_config and rollback_config of `timmy` (a short gap per update), or publish in ingress mode\n";
    let out = p
        .timmy()
        .args(["deploy", "--render", "--publish", "host"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), warning);
    let out = p
        .timmy()
        .args(["deploy", "--render", "--publish", "ingress"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "");
}
