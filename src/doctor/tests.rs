//! Tables for the pure half of doctor: each row kind with each verdict it can give, the parsing
//! of what Docker reports, [`super::judge`] over a whole [`Facts`] value and the layout. No
//! process, socket or file: the facts are written out here.

use std::path::{Path, PathBuf};

use super::checks::{
    Check, Status, env_check, env_mode, env_mode_check, env_summary, judge, port_check,
    project_check,
};
use super::machine::{
    GIB, clock_check, compose_check, compose_version, daemon_check, disk_check, disk_space_check,
    docker_cli_check, parse_rfc3339,
};
use super::probe::{Bind, Disk, EnvFile, EnvMode, Facts, Info, Port, PortSetting, Versions};
use super::render;
use crate::docker::Captured;
use crate::exit::UserError;
use crate::preflight;
use crate::status::Service;

fn captured(code: i32, stdout: &str, stderr: &str) -> Captured {
    Captured {
        code,
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

#[test]
fn versions_from_a_full_and_a_client_only_answer() {
    let full = r#"{"Client":{"Version":"28.2.2","Context":"default"},"Server":{"Version":"20.10.24+dfsg1"}}"#;
    let v = Versions::parse(&captured(0, full, ""));
    assert_eq!(v.client.as_deref(), Some("28.2.2"));
    assert_eq!(v.server.as_deref(), Some("20.10.24+dfsg1"));
    let down = r#"{"Client":{"Version":"28.2.2","Context":"default"},"Server":null}"#;
    let v = Versions::parse(&captured(
        1,
        down,
        "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?\n",
    ));
    assert_eq!(v.server, None);
    assert!(v.error.unwrap().starts_with("Cannot connect"));
    assert_eq!(Versions::parse(&captured(1, "", "")), Versions::default());
}

#[track_caller]
fn compose_case(stdout: &str, code: i32, status: Status, detail: &str) {
    let c = compose_check(
        Ok(Path::new("/p/docker-compose")),
        true,
        Some(&captured(code, stdout, "boom\n")),
    );
    assert_eq!((c.status, c.detail.as_str()), (status, detail));
}

#[test]
fn compose_versions() {
    assert_eq!(compose_version("2.26.1-4"), Some((2, 26, 1)));
    assert_eq!(compose_version("v2.20.0\n"), Some((2, 20, 0)));
    assert_eq!(compose_version("1.29.2"), Some((1, 29, 2)));
    assert_eq!(compose_version("20.10.24+dfsg1"), Some((20, 10, 24)));
    assert_eq!(compose_version("28.5"), Some((28, 5, 0)));
    assert_eq!(compose_version("dev"), None);
    compose_case("2.26.1-4\n", 0, Status::Ok, "/p/docker-compose, 2.26.1-4");
    compose_case("2.40.3-3\n", 0, Status::Ok, "/p/docker-compose, 2.40.3-3");
    compose_case(
        "2.26.0\n",
        0,
        Status::Warn,
        "/p/docker-compose, 2.26.0: older than 2.26.1, the oldest Compose timmy's CI proves",
    );
    compose_case(
        "2.20.0\n",
        0,
        Status::Warn,
        "/p/docker-compose, 2.20.0: older than 2.26.1, the oldest Compose timmy's CI proves",
    );
    compose_case(
        "1.29.2\n",
        0,
        Status::Fail,
        "/p/docker-compose is Compose 1.29.2, timmy needs v2",
    );
    compose_case("", 1, Status::Fail, "/p/docker-compose does not run: boom");
}

#[test]
fn daemon_down_reports_the_preflight_message() {
    let env = preflight::Env::default();
    let sock = Path::new("/nope.sock");
    let probe = Err(preflight::daemon_error(
        sock,
        &std::io::Error::from(std::io::ErrorKind::NotFound),
    ));
    let c = daemon_check(&env, Some(sock), Some(&probe), None);
    assert_eq!(c.status, Status::Fail);
    assert!(c.detail.starts_with("the Docker daemon is not running"));
    assert!(c.fix.unwrap().starts_with("start it"));
    let v = Versions {
        client: Some("28".into()),
        context: Some("default".into()),
        server: Some("20.10".into()),
        error: None,
    };
    let c = daemon_check(&env, Some(sock), Some(&Ok(())), Some(&v));
    assert_eq!(c.detail, "context default, unix:///nope.sock, engine 20.10");
    assert_eq!(c.status, Status::Ok);
}

#[test]
fn engines_older_than_ci_proves_are_warned_about() {
    let env = preflight::Env::default();
    let sock = Path::new("/d.sock");
    let engine = |server: &str| {
        let v = Versions {
            client: Some("28.2.2".into()),
            context: Some("default".into()),
            server: Some(server.into()),
            error: None,
        };
        daemon_check(&env, Some(sock), Some(&Ok(())), Some(&v))
    };
    let old = engine("19.03.15");
    assert_eq!(
        (old.status, old.detail.as_str(), old.fix.as_deref()),
        (
            Status::Warn,
            "context default, unix:///d.sock, engine 19.03.15: older than 20.10.0, the oldest Engine timmy's CI proves",
            Some("update Docker Engine (CI proves Engine 20.10 and 28.5)")
        )
    );
    for ok in ["20.10.24+dfsg1", "28.5.2+dfsg4", "29.0.0", "unknown-build"] {
        let c = engine(ok);
        assert_eq!(c.status, Status::Ok, "{ok}");
        assert_eq!(
            c.detail,
            format!("context default, unix:///d.sock, engine {ok}")
        );
    }
}

#[test]
fn env_summaries_and_modes() {
    assert_eq!(env_summary(0, 0, None).status, Status::Ok);
    assert_eq!(
        env_summary(0, 2, None).detail,
        "usable for the dev stack, 2 warnings"
    );
    let c = env_summary(2, 1, Some(".env:4: unterminated quoted value".into()));
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.detail,
        "2 errors, 1 warning for the dev stack, first .env:4: unterminated quoted value"
    );
    assert_eq!(env_mode(0o600).status, Status::Ok);
    assert_eq!(env_mode(0o644).status, Status::Warn);
    assert_eq!(env_mode(0o666).status, Status::Fail);
    assert_eq!(
        env_mode(0o644).detail,
        "644: other users can read its secrets"
    );
}

#[test]
fn disk_thresholds() {
    let p = Path::new("/var/lib/docker");
    assert_eq!(disk_check(p, 10 * GIB, 100 * GIB).status, Status::Ok);
    assert_eq!(
        disk_check(p, 10 * GIB, 100 * GIB).detail,
        "10.0 GiB free of 100.0 GiB in /var/lib/docker"
    );
    assert_eq!(disk_check(p, 2 * GIB, 100 * GIB).status, Status::Warn);
    let low = disk_check(p, 300 << 20, 100 * GIB);
    assert_eq!(low.status, Status::Fail);
    assert!(low.detail.starts_with("300 MiB free"), "{}", low.detail);
}

#[test]
fn ports_free_taken_and_held_by_the_project() {
    let setting = PortSetting {
        port: Some(3000),
        source: "default",
    };
    let c = port_check("port-app", "TIMMY_PORT", &setting, Some(Bind::Free), &[]);
    assert_eq!(c.detail, "127.0.0.1:3000 is free (TIMMY_PORT unset)");
    let c = port_check("port-app", "TIMMY_PORT", &setting, Some(Bind::InUse), &[]);
    assert_eq!(c.status, Status::Fail);
    assert!(c.fix.unwrap().contains("lsof -iTCP:3000"));
    let ours = Service {
        service: "timmy".into(),
        name: "proj-timmy-1".into(),
        state: crate::status::State::Running,
        health: crate::status::Health::None,
        exit_code: 0,
        ports: vec!["127.0.0.1:3000->3000/tcp".into()],
        image: String::new(),
        status: String::new(),
    };
    let c = port_check(
        "port-app",
        "TIMMY_PORT",
        &setting,
        Some(Bind::InUse),
        std::slice::from_ref(&ours),
    );
    assert_eq!(c.status, Status::Ok);
    assert_eq!(
        c.detail,
        "127.0.0.1:3000 is published by this project's `timmy` container (proj-timmy-1)"
    );
    let bad = PortSetting {
        port: None,
        source: ".env",
    };
    let c = port_check("port-app", "TIMMY_PORT", &bad, None, &[]);
    assert_eq!(
        c.detail,
        "TIMMY_PORT from .env must be a port number 1–65535 (0 picks a free one)"
    );
    let free = PortSetting {
        port: Some(0),
        source: ".env",
    };
    let c = port_check("port-app", "TIMMY_PORT", &free, None, &[]);
    assert_eq!(c.status, Status::Ok);
    assert_eq!(
        c.detail,
        "Docker picks a free port on 127.0.0.1 (TIMMY_PORT from .env)"
    );
}

#[test]
fn rfc3339_times() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
    assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800.0));
    let t = parse_rfc3339("2026-11-27T13:25:06.5Z").unwrap();
    assert!((t - 1_795_785_906.5).abs() < 1e-6, "{t}");
    assert_eq!(
        parse_rfc3339("2026-11-27T14:25:06+01:00"),
        parse_rfc3339("2026-11-27T13:25:06Z")
    );
    assert_eq!(parse_rfc3339(""), None);
    assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
}

#[test]
fn clock_tolerance() {
    let now = parse_rfc3339("2026-11-27T13:25:06Z").unwrap();
    let c = clock_check(true, Some("2026-11-27T13:25:08Z"), now);
    assert_eq!(c.status, Status::Ok);
    let c = clock_check(true, Some("2026-11-27T13:20:06Z"), now);
    assert_eq!(
        c.detail,
        "the daemon's clock is 5m 0s behind this machine's"
    );
    assert_eq!(clock_check(false, None, now).status, Status::Warn);
}

#[test]
fn render_shows_fixes_only_for_problems() {
    console::set_colors_enabled(false);
    let checks = vec![
        Check::new("a", "docker CLI", Status::Ok, "/usr/bin/docker, client 28"),
        Check::new("b", ".env", Status::Fail, "1 error").fix("timmy check"),
    ];
    assert_eq!(
        render(&checks),
        "✓ docker CLI  /usr/bin/docker, client 28\n\
         ✗ .env        1 error\n\
         \x20             fix: timmy check\n\
         \n\
         1 check failed, 0 warnings\n"
    );
    let json = serde_json::to_value(&checks).unwrap();
    assert_eq!(
        json[1],
        serde_json::json!({"check": "b", "status": "fail", "detail": "1 error", "fix": "timmy check"})
    );
    assert_eq!(json[0]["fix"], serde_json::Value::Null);
}

// ---- one row per verdict, for every row kind ----

fn user_error(message: &str, hint: &str) -> UserError {
    UserError::new(message).hint(hint)
}

fn versions(server: Option<&str>, error: Option<&str>) -> Versions {
    Versions {
        client: Some("28.2.2".into()),
        context: Some("default".into()),
        server: server.map(Into::into),
        error: error.map(Into::into),
    }
}

fn project(envs: &[&str]) -> crate::project::Project {
    crate::project::Project {
        root: PathBuf::from("/p"),
        envs: envs.iter().map(|e| (*e).to_string()).collect(),
    }
}

fn finding(level: crate::check::Level, line: usize, message: &str) -> crate::check::Finding {
    crate::check::Finding {
        file: ".env".into(),
        line: Some(line),
        level,
        message: message.into(),
        hint: None,
        key: None,
    }
}

fn service(ports: &[&str]) -> Service {
    Service {
        service: "timmy".into(),
        name: "proj-timmy-1".into(),
        state: crate::status::State::Running,
        health: crate::status::Health::None,
        exit_code: 0,
        ports: ports.iter().map(|p| (*p).to_string()).collect(),
        image: String::new(),
        status: String::new(),
    }
}

/// `(id, status, detail, fix)` of a row, all exact.
#[track_caller]
fn row(c: &Check, id: &str, status: Status, detail: &str, fix: Option<&str>) {
    assert_eq!(
        (c.check, c.status, c.detail.as_str(), c.fix.as_deref()),
        (id, status, detail, fix)
    );
}

#[test]
fn docker_cli_rows() {
    let docker = Path::new("/usr/bin/docker");
    let ok = docker_cli_check(Ok(docker), Some(&versions(None, None)));
    row(
        &ok,
        "docker-cli",
        Status::Ok,
        "/usr/bin/docker, client 28.2.2",
        None,
    );
    row(
        &docker_cli_check(Ok(docker), None),
        "docker-cli",
        Status::Warn,
        "/usr/bin/docker, but `docker version` did not tell its version",
        Some("run `docker version` to see what is wrong with the CLI"),
    );
    let missing = user_error("docker is not installed", "install Docker Engine");
    row(
        &docker_cli_check(Err(&missing), None),
        "docker-cli",
        Status::Fail,
        "docker is not installed",
        Some("install Docker Engine"),
    );
}

#[test]
fn compose_rows() {
    let plugin = Path::new("/p/docker-compose");
    let out = captured(0, "2.26.1-4\n", "");
    row(
        &compose_check(Ok(plugin), true, Some(&out)),
        "compose-plugin",
        Status::Ok,
        "/p/docker-compose, 2.26.1-4",
        None,
    );
    row(
        &compose_check(Ok(plugin), false, None),
        "compose-plugin",
        Status::Warn,
        "/p/docker-compose, version unknown",
        Some("install the docker CLI first (see `docker CLI` above)"),
    );
    row(
        &compose_check(Ok(plugin), true, Some(&captured(0, "dev\n", ""))),
        "compose-plugin",
        Status::Warn,
        "/p/docker-compose, unreadable version `dev`",
        Some("run `docker compose version` to see what is installed"),
    );
    row(
        &compose_check(Ok(plugin), true, Some(&captured(0, "2.20.0\n", ""))),
        "compose-plugin",
        Status::Warn,
        "/p/docker-compose, 2.20.0: older than 2.26.1, the oldest Compose timmy's CI proves",
        Some("update docker-compose-plugin"),
    );
    let missing = user_error(
        "the Compose plugin is missing",
        "apt install docker-compose-plugin",
    );
    row(
        &compose_check(Err(&missing), true, None),
        "compose-plugin",
        Status::Fail,
        "the Compose plugin is missing",
        Some("apt install docker-compose-plugin"),
    );
    row(
        &compose_check(Ok(plugin), true, Some(&captured(0, "1.29.2\n", ""))),
        "compose-plugin",
        Status::Fail,
        "/p/docker-compose is Compose 1.29.2, timmy needs v2",
        Some("install docker-compose-plugin (Compose v2)"),
    );
    row(
        &compose_check(Ok(plugin), true, Some(&captured(1, "", "boom\n"))),
        "compose-plugin",
        Status::Fail,
        "/p/docker-compose does not run: boom",
        Some("reinstall docker-compose-plugin (Compose v2)"),
    );
}

#[test]
fn daemon_rows() {
    let env = preflight::Env::default();
    let sock = Path::new("/d.sock");
    let up = versions(Some("28.5.2"), None);
    row(
        &daemon_check(&env, Some(sock), Some(&Ok(())), Some(&up)),
        "daemon",
        Status::Ok,
        "context default, unix:///d.sock, engine 28.5.2",
        None,
    );
    row(
        &daemon_check(&env, Some(sock), Some(&Ok(())), None),
        "daemon",
        Status::Ok,
        "unix:///d.sock answers (the engine's version is unknown without `docker version`)",
        None,
    );
    let old = versions(Some("19.03.15"), None);
    row(
        &daemon_check(&env, Some(sock), Some(&Ok(())), Some(&old)),
        "daemon",
        Status::Warn,
        "context default, unix:///d.sock, engine 19.03.15: older than 20.10.0, the oldest Engine timmy's CI proves",
        Some("update Docker Engine (CI proves Engine 20.10 and 28.5)"),
    );
    let remote = preflight::Env {
        docker_host: Some("tcp://10.0.0.2:2376".into()),
        docker_context: Some("remote".into()),
        ..preflight::Env::default()
    };
    let refused = Versions {
        context: None,
        ..versions(None, Some("error during connect: connection refused"))
    };
    row(
        &daemon_check(&remote, None, None, Some(&refused)),
        "daemon",
        Status::Fail,
        "context remote, tcp://10.0.0.2:2376: error during connect: connection refused",
        Some("check DOCKER_HOST and `docker context ls`; `docker version` shows the error"),
    );
    row(
        &daemon_check(&env, None, None, None),
        "daemon",
        Status::Fail,
        "context default, the context's endpoint: not checked without the docker CLI",
        Some("install the docker CLI first (see `docker CLI` above)"),
    );
}

#[test]
fn project_rows() {
    row(
        &project_check(&Ok(project(&["dev", "prod"]))),
        "project",
        Status::Ok,
        "/p (environments: dev, prod)",
        None,
    );
    row(
        &project_check(&Ok(project(&[]))),
        "project",
        Status::Warn,
        "/p has no dev environment (environments: none)",
        Some("add docker/docker-compose.dev.yml, or name the environment: timmy up ENV"),
    );
    let lost = user_error("no timmy project here", "cd into the project");
    row(
        &project_check(&Err(lost)),
        "project",
        Status::Fail,
        "no timmy project here",
        Some("cd into the project"),
    );
}

#[test]
fn env_file_rows() {
    use crate::check::Level;
    let fix = Some("timmy check lists them, each with its line and a hint");
    row(
        &env_check(&EnvFile::Checked(Ok(Vec::new()))),
        "env-file",
        Status::Ok,
        "valid for the dev stack",
        None,
    );
    let warned = vec![finding(Level::Warning, 3, "TIMMY_PORT is set twice")];
    row(
        &env_check(&EnvFile::Checked(Ok(warned))),
        "env-file",
        Status::Warn,
        "usable for the dev stack, 1 warning",
        fix,
    );
    row(
        &env_check(&EnvFile::NoProject),
        "env-file",
        Status::Warn,
        "not checked: no project",
        Some("see `project` above"),
    );
    row(
        &env_check(&EnvFile::NoDev),
        "env-file",
        Status::Warn,
        "not checked: no dev environment",
        Some("timmy check ENV checks .env for another environment"),
    );
    let broken = vec![
        finding(Level::Warning, 2, "unused"),
        finding(Level::Error, 4, "unterminated quoted value"),
        finding(Level::Error, 9, "not a port"),
    ];
    row(
        &env_check(&EnvFile::Checked(Ok(broken))),
        "env-file",
        Status::Fail,
        "2 errors, 1 warning for the dev stack, first .env:4: unterminated quoted value",
        fix,
    );
    let unreadable = user_error("cannot read .env", "check its permissions");
    row(
        &env_check(&EnvFile::Checked(Err(unreadable))),
        "env-file",
        Status::Fail,
        "cannot read .env",
        Some("check its permissions"),
    );
}

#[test]
fn env_mode_rows() {
    let id = "env-permissions";
    row(
        &env_mode_check(EnvMode::Mode(0o600)),
        id,
        Status::Ok,
        "600: only its owner can read it",
        None,
    );
    row(
        &env_mode_check(EnvMode::Mode(0o640)),
        id,
        Status::Warn,
        "640: other users can read its secrets",
        Some("chmod 600 .env"),
    );
    row(
        &env_mode_check(EnvMode::NoFile),
        id,
        Status::Warn,
        "not checked: no .env",
        Some("cp .env.example .env && chmod 600 .env"),
    );
    row(
        &env_mode_check(EnvMode::NoProject),
        id,
        Status::Warn,
        "not checked: no project",
        Some("see `project` above"),
    );
    row(
        &env_mode_check(EnvMode::Mode(0o622)),
        id,
        Status::Fail,
        "622: every user on this machine can change it",
        Some("chmod 600 .env"),
    );
}

#[test]
fn disk_rows() {
    let fix = Some(
        "free space: docker system prune (unused images and build cache), docker builder prune",
    );
    let disk = |free| Disk {
        path: PathBuf::from("/var/lib/docker"),
        free,
        total: 100 * GIB,
    };
    row(
        &disk_space_check(Some(&disk(10 * GIB))),
        "disk-space",
        Status::Ok,
        "10.0 GiB free of 100.0 GiB in /var/lib/docker",
        None,
    );
    row(
        &disk_space_check(Some(&disk(2 * GIB))),
        "disk-space",
        Status::Warn,
        "2.0 GiB free of 100.0 GiB in /var/lib/docker: tight for image builds",
        fix,
    );
    row(
        &disk_space_check(None),
        "disk-space",
        Status::Warn,
        "could not measure the free space of Docker's disk",
        Some("df -h /var/lib/docker"),
    );
    row(
        &disk_space_check(Some(&disk(300 << 20))),
        "disk-space",
        Status::Fail,
        "300 MiB free of 100.0 GiB in /var/lib/docker: too little to build images",
        fix,
    );
}

#[test]
fn port_rows() {
    let shell = PortSetting {
        port: Some(8080),
        source: "the shell",
    };
    let check = |bound, holders: &[Service]| {
        port_check("port-app", "TIMMY_PORT", &shell, Some(bound), holders)
    };
    row(
        &check(Bind::Free, &[]),
        "port-app",
        Status::Ok,
        "127.0.0.1:8080 is free (TIMMY_PORT from the shell)",
        None,
    );
    row(
        &check(Bind::Denied, &[]),
        "port-app",
        Status::Warn,
        "127.0.0.1:8080 needs privileges to bind (TIMMY_PORT from the shell)",
        Some("set TIMMY_PORT to a port above 1023 in .env"),
    );
    // Another port of the project's does not make 8080 the project's.
    row(
        &check(Bind::InUse, &[service(&["127.0.0.1:3000->3000/tcp"])]),
        "port-app",
        Status::Fail,
        "127.0.0.1:8080 is taken by another program (TIMMY_PORT from the shell)",
        Some(
            "stop it (lsof -iTCP:8080 -sTCP:LISTEN shows which), or set TIMMY_PORT to a free port in .env",
        ),
    );
    let bad = PortSetting {
        port: None,
        source: "the shell",
    };
    let c = port_check("port-debug", "TIMMY_DEBUG_PORT", &bad, None, &[]);
    assert_eq!(c.label, "port TIMMY_DEBUG_PORT");
    row(
        &c,
        "port-debug",
        Status::Fail,
        "TIMMY_DEBUG_PORT from the shell must be a port number 1–65535 (0 picks a free one)",
        Some("set TIMMY_DEBUG_PORT to a number from 1 to 65535 in .env"),
    );
}

/// The clock row has no ✗: a skewed clock breaks TLS and build caches in ways worth a warning,
/// not a refusal.
#[test]
fn clock_rows() {
    let now = parse_rfc3339("2026-11-27T13:25:06Z").unwrap();
    row(
        &clock_check(true, Some("2026-11-27T13:25:10.999999999Z"), now),
        "clock",
        Status::Ok,
        "this machine and the daemon agree on the time",
        None,
    );
    let fix =
        Some("sync both clocks (timedatectl set-ntp true; restart Docker Desktop after sleep)");
    row(
        &clock_check(true, Some("2026-11-27T15:30:06+00:00"), now),
        "clock",
        Status::Warn,
        "the daemon's clock is 2h 5m ahead of this machine's",
        fix,
    );
    row(
        &clock_check(true, Some("2026-11-27T13:24:06Z"), now),
        "clock",
        Status::Warn,
        "the daemon's clock is 60s behind this machine's",
        fix,
    );
    row(
        &clock_check(false, None, now),
        "clock",
        Status::Warn,
        "not checked: the daemon does not answer",
        Some("see `daemon` above"),
    );
    row(
        &clock_check(true, Some("0001-01-01T00:00:00"), now),
        "clock",
        Status::Warn,
        "not checked: `docker info` did not report the daemon's time",
        Some("run `docker info` to see what the daemon reports"),
    );
}

/// Docker writes `SystemTime` with Go's RFC 3339 layout: nanoseconds, and `Z` or the daemon's
/// own offset.
#[test]
fn rfc3339_table() {
    #[track_caller]
    fn case(text: &str, expected: Option<f64>) {
        match (parse_rfc3339(text), expected) {
            (Some(got), Some(want)) => assert!((got - want).abs() < 1e-6, "{text}: {got}"),
            (got, want) => assert_eq!(got, want, "{text}"),
        }
    }
    case("2026-11-27T13:25:06.705070186Z", Some(1_795_785_906.705_07));
    case("2026-11-27T13:25:06Z\n", Some(1_795_785_906.0));
    case("2026-11-27T08:25:06.5-05:00", Some(1_795_785_906.5));
    case("2024-02-29T00:00:00Z", Some(1_709_164_800.0));
    case("1969-12-31T23:59:59Z", Some(-1.0));
    case("2026-02-30T00:00:00Z", None);
    case("2026-11-27T13:25:06", None);
    case("2026-11-27", None);
    case("yesterday", None);
}

#[test]
fn info_keeps_the_root_dir_and_the_clock() {
    let out = captured(
        0,
        r#"{"DockerRootDir":"/var/lib/docker","SystemTime":"2026-11-27T13:25:06.705070186Z","Name":"h"}"#,
        "",
    );
    assert_eq!(
        Info::parse(&out),
        Info {
            root_dir: Some(PathBuf::from("/var/lib/docker")),
            system_time: Some("2026-11-27T13:25:06.705070186Z".into()),
        }
    );
    assert_eq!(Info::parse(&captured(1, "{}", "down")), Info::default());
    assert_eq!(Info::parse(&captured(0, "not json", "")), Info::default());
}

/// A machine where every row is ✓, the app port held by the project's own container.
fn healthy_facts() -> Facts {
    Facts {
        docker: Ok(PathBuf::from("/usr/bin/docker")),
        versions: Some(versions(Some("20.10.24+dfsg1"), None)),
        plugin: Ok(PathBuf::from(
            "/usr/libexec/docker/cli-plugins/docker-compose",
        )),
        compose_version: Some(captured(0, "2.26.1\n", "")),
        env: preflight::Env::default(),
        socket: Some(PathBuf::from("/var/run/docker.sock")),
        socket_probe: Some(Ok(())),
        project: Ok(project(&["dev"])),
        env_file: EnvFile::Checked(Ok(Vec::new())),
        env_mode: EnvMode::Mode(0o600),
        disk: Some(Disk {
            path: PathBuf::from("/var/lib/docker"),
            free: 20 * GIB,
            total: 100 * GIB,
        }),
        ports: vec![
            Port {
                id: "port-app",
                var: "TIMMY_PORT",
                setting: PortSetting {
                    port: Some(3000),
                    source: "default",
                },
                bound: Some(Bind::InUse),
            },
            Port {
                id: "port-debug",
                var: "TIMMY_DEBUG_PORT",
                setting: PortSetting {
                    port: Some(0),
                    source: ".env",
                },
                bound: None,
            },
        ],
        remote_engine: None,
        holders: vec![service(&["127.0.0.1:3000->3000/tcp"])],
        daemon_time: Some("2026-11-27T13:25:07.25Z".into()),
        local_time: parse_rfc3339("2026-11-27T13:25:06Z").unwrap(),
    }
}

/// A whole [`Facts`] value: every row in order, the project's own container holding the app
/// port, and docker's daemon time read from `info`.
#[test]
fn judge_orders_every_row() {
    let facts = healthy_facts();
    let rows: Vec<_> = judge(&facts)
        .into_iter()
        .map(|c| (c.check, c.label, c.status, c.detail))
        .collect();
    let expected = [
        ("docker-cli", "docker CLI", "/usr/bin/docker, client 28.2.2"),
        (
            "compose-plugin",
            "Compose",
            "/usr/libexec/docker/cli-plugins/docker-compose, 2.26.1",
        ),
        (
            "daemon",
            "daemon",
            "context default, unix:///var/run/docker.sock, engine 20.10.24+dfsg1",
        ),
        ("project", "project", "/p (environments: dev)"),
        ("env-file", ".env", "valid for the dev stack"),
        (
            "env-permissions",
            ".env mode",
            "600: only its owner can read it",
        ),
        (
            "disk-space",
            "disk space",
            "20.0 GiB free of 100.0 GiB in /var/lib/docker",
        ),
        (
            "port-app",
            "port 3000",
            "127.0.0.1:3000 is published by this project's `timmy` container (proj-timmy-1)",
        ),
        (
            "port-debug",
            "port 0",
            "Docker picks a free port on 127.0.0.1 (TIMMY_DEBUG_PORT from .env)",
        ),
        (
            "clock",
            "clock",
            "this machine and the daemon agree on the time",
        ),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(id, label, detail)| (*id, (*label).to_string(), Status::Ok, (*detail).to_string()))
        .collect();
    assert_eq!(rows, expected);

    // The same machine with the daemon gone: the rows after it still come, the clock waits.
    let down = Facts {
        versions: Some(Versions {
            server: None,
            ..versions(None, Some("Cannot connect to the Docker daemon"))
        }),
        daemon_time: None,
        ..facts
    };
    let statuses: Vec<_> = judge(&down).iter().map(|c| (c.check, c.status)).collect();
    assert_eq!(
        statuses,
        [
            ("docker-cli", Status::Ok),
            ("compose-plugin", Status::Ok),
            ("daemon", Status::Fail),
            ("project", Status::Ok),
            ("env-file", Status::Ok),
            ("env-permissions", Status::Ok),
            ("disk-space", Status::Ok),
            ("port-app", Status::Ok),
            ("port-debug", Status::Ok),
            ("clock", Status::Warn),
        ]
    );
}

/// A remote engine (TCP, SSH, another context) publishes the ports on its own host: they are
/// not tried here, and the row says why; a value that is no port still fails.
#[test]
fn a_remote_engines_ports_are_not_tried_here() {
    let mut facts = healthy_facts();
    facts.remote_engine = Some("tcp://10.0.0.5:2376".into());
    facts.ports[0].bound = None;
    facts.holders.clear();
    let rows = judge(&facts);
    let port = |id: &str| rows.iter().find(|c| c.check == id).unwrap().clone();
    row(
        &port("port-app"),
        "port-app",
        Status::Ok,
        "not checked: the engine (tcp://10.0.0.5:2376) publishes it on its own host (TIMMY_PORT unset)",
        None,
    );
    assert_eq!(port("port-app").label, "port 3000");
    row(
        &port("port-debug"),
        "port-debug",
        Status::Ok,
        "Docker picks a free port on 127.0.0.1 (TIMMY_DEBUG_PORT from .env)",
        None,
    );
    facts.ports[0].setting = PortSetting {
        port: None,
        source: ".env",
    };
    assert_eq!(
        judge(&facts)
            .iter()
            .find(|c| c.check == "port-app")
            .unwrap()
            .status,
        Status::Fail
    );
}
