//! `timmy doctor`: one screen that says whether this machine can run the stack, each check with
//! ✓ / ! / ✗ and a one-line fix. Every check runs even when an earlier one failed (with Docker
//! missing or the daemon down doctor still reports the project, `.env`, disk and ports).
//!
//! Few processes: `docker version` (client and engine), `docker compose version --short`,
//! `docker info` (Docker's root dir and clock) only when the engine answered, and `docker compose
//! ps` only when a port the dev stack publishes is taken, to tell the project's own container
//! from a stranger. The daemon's socket, the plugin's file, `.env` and ports are probed directly.
//! Turning what was observed into a [`Check`] is pure: the `*_check` functions.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde::Serialize;

use crate::check::Level;
use crate::checkout;
use crate::cli::{DoctorArgs, Global};
use crate::compose::{self, Invocation};
use crate::docker::{Captured, Docker};
use crate::exit::{Exit, UserError};
use crate::preflight;
use crate::project::Project;
use crate::stack::{self, Stack};
use crate::status::{self, Service};
use crate::types;
use crate::ui;
use crate::validate;

/// The oldest Compose and Engine that CI proves (README, "Proven on"); older ones get a warning.
const MIN_COMPOSE: (u32, u32, u32) = (2, 26, 1);
const MIN_ENGINE: (u32, u32, u32) = (20, 10, 0);
const GIB: u64 = 1 << 30;
/// Free space below which building images is likely to fail / to be tight.
const DISK_FAIL: u64 = GIB;
const DISK_WARN: u64 = 5 * GIB;
/// Clock difference tolerated between this machine and the daemon (process start included).
const CLOCK_TOLERANCE_SECS: f64 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One line of the report. `check` is a stable id; `--json` prints these fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: &'static str,
    #[serde(skip)]
    pub label: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn new(check: &'static str, label: &str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            check,
            label: label.to_string(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    #[must_use]
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

pub fn run(global: &Global, cwd: &Path, env: &preflight::Env, a: &DoctorArgs) -> Result<()> {
    let checks = gather(global, cwd, env);
    let text = if a.json {
        serde_json::to_string_pretty(&checks)? + "\n"
    } else {
        render(&checks)
    };
    ui::out(text.as_bytes())?;
    if checks.iter().any(|c| c.status == Status::Fail) {
        return Err(Exit::Failure.into());
    }
    Ok(())
}

/// What `docker version --format '{{json .}}'` said (it prints the client part even when the
/// daemon does not answer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    pub client: Option<String>,
    pub context: Option<String>,
    pub server: Option<String>,
    /// docker's first stderr line when it failed.
    pub error: Option<String>,
}

impl Versions {
    pub fn parse(out: &Captured) -> Self {
        let value: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_default();
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let error = (out.code != 0)
            .then(|| first_line(&out.stderr))
            .filter(|l| !l.is_empty());
        Self {
            client: text("/Client/Version"),
            context: text("/Client/Context"),
            server: text("/Server/Version"),
            error,
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// `docker version --format '{{json .}}'`
pub fn version_invocation(cwd: &Path) -> Invocation {
    invocation(cwd, &["version", "--format", "{{json .}}"])
}

/// `docker compose version --short`
pub fn compose_version_invocation(cwd: &Path) -> Invocation {
    invocation(cwd, &["compose", "version", "--short"])
}

/// `docker info --format '{{json .}}'`
pub fn info_invocation(cwd: &Path) -> Invocation {
    invocation(cwd, &["info", "--format", "{{json .}}"])
}

fn invocation(cwd: &Path, args: &[&str]) -> Invocation {
    Invocation {
        args: args.iter().map(|a| (*a).to_string()).collect(),
        cwd: cwd.to_path_buf(),
    }
}

/// Run every check, in the order they are shown.
fn gather(global: &Global, cwd: &Path, env: &preflight::Env) -> Vec<Check> {
    let program = preflight::docker_program(env);
    let docker = program
        .as_ref()
        .ok()
        .map(|p| Docker::new(p.clone(), global));
    let query = |inv: &Invocation| docker.as_ref().and_then(|d| d.query(inv).ok());

    let versions = query(&version_invocation(cwd)).map(|out| Versions::parse(&out));
    let mut checks = vec![docker_cli_check(program.as_deref(), versions.as_ref())];

    let plugin = preflight::compose_plugin(env);
    let compose_out = match (&plugin, &docker) {
        (Ok(_), Some(_)) => query(&compose_version_invocation(cwd)),
        _ => None,
    };
    checks.push(compose_check(
        plugin.as_deref(),
        docker.is_some(),
        compose_out.as_ref(),
    ));

    let socket = preflight::daemon_socket(env);
    let probe = socket.as_deref().map(preflight::check_daemon);
    checks.push(daemon_check(
        env,
        socket.as_deref(),
        probe.as_ref(),
        versions.as_ref(),
    ));
    let engine_answers = versions.as_ref().is_some_and(|v| v.server.is_some());
    let info = if engine_answers {
        query(&info_invocation(cwd))
            .filter(|out| out.code == 0)
            .and_then(|out| serde_json::from_str::<serde_json::Value>(out.stdout.trim()).ok())
    } else {
        None
    };
    let now = SystemTime::now();

    let project = Project::locate(global.project_dir.as_deref(), cwd);
    checks.push(project_check(&project));
    let project = project.ok();
    let compose_ready = docker.as_ref().filter(|_| plugin.is_ok());
    checks.push(env_check(project.as_ref(), global, compose_ready));
    checks.push(env_mode_check(project.as_ref()));

    let root_dir = info
        .as_ref()
        .and_then(|i| i.get("DockerRootDir")?.as_str().map(PathBuf::from));
    checks.push(disk_space(root_dir.as_deref()));

    let name = project
        .as_ref()
        .and_then(|p| stack::project_name(&p.root, "dev", global.project_name.as_deref()).ok());
    // Every stack of this checkout may hold the ports (each env has its own project name);
    // dev's name when none is found.
    let holder_names = |d: &Docker, dev: &str| -> Vec<String> {
        let found = project
            .as_ref()
            .and_then(|p| checkout::stacks_here(env, d, p, global.project_name.as_deref()).ok());
        match found {
            Some(found) if !found.is_empty() => found.into_iter().map(|f| f.name).collect(),
            _ => vec![dev.to_string()],
        }
    };
    let mut holders: Option<Vec<Service>> = None;
    for (id, var, default) in [
        ("port-app", "TIMMY_PORT", 3000),
        ("port-debug", "TIMMY_DEBUG_PORT", 9229),
    ] {
        let setting = port_setting(project.as_ref(), var, default);
        let bound = setting.port.filter(|p| *p != 0).map(bind_test);
        if matches!(bound, Some(Bind::InUse)) && holders.is_none() {
            holders = Some(match (&name, &docker, engine_answers) {
                (Some(name), Some(d), true) => holder_names(d, name)
                    .iter()
                    .filter_map(|n| d.query_ok(&compose::ps(cwd, n)).ok())
                    .filter_map(|out| status::parse_ps(&out).ok())
                    .flatten()
                    .collect(),
                _ => Vec::new(),
            });
        }
        checks.push(port_check(
            id,
            var,
            &setting,
            bound,
            holders.as_deref().unwrap_or(&[]),
        ));
    }

    let daemon_time = info
        .as_ref()
        .and_then(|i| i.get("SystemTime")?.as_str().map(str::to_string));
    let local = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    checks.push(clock_check(engine_answers, daemon_time.as_deref(), local));
    checks
}

pub fn docker_cli_check(program: Result<&Path, &UserError>, versions: Option<&Versions>) -> Check {
    match program {
        Err(e) => user_fail("docker-cli", "docker CLI", e),
        Ok(path) => match versions.and_then(|v| v.client.as_deref()) {
            Some(client) => Check::new(
                "docker-cli",
                "docker CLI",
                Status::Ok,
                format!("{}, client {client}", path.display()),
            ),
            None => Check::new(
                "docker-cli",
                "docker CLI",
                Status::Warn,
                format!(
                    "{}, but `docker version` did not tell its version",
                    path.display()
                ),
            )
            .fix("run `docker version` to see what is wrong with the CLI"),
        },
    }
}

fn user_fail(id: &'static str, label: &str, e: &UserError) -> Check {
    let check = Check::new(id, label, Status::Fail, e.message.clone());
    match &e.hint {
        Some(hint) => check.fix(hint.clone()),
        None => check,
    }
}

/// Major, minor and patch (0 when missing) of a version such as Compose's `2.26.1-4`,
/// `v2.20.0` or the engine's `20.10.24+dfsg1`.
pub fn compose_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().trim_start_matches('v').split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

fn shown(v: (u32, u32, u32)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

pub fn compose_check(
    plugin: Result<&Path, &UserError>,
    docker_found: bool,
    out: Option<&Captured>,
) -> Check {
    const ID: &str = "compose-plugin";
    const LABEL: &str = "Compose";
    let path = match plugin {
        Err(e) => return user_fail(ID, LABEL, e),
        Ok(path) => path.display().to_string(),
    };
    if !docker_found {
        return Check::new(ID, LABEL, Status::Warn, format!("{path}, version unknown"))
            .fix("install the docker CLI first (see `docker CLI` above)");
    }
    let Some(out) = out.filter(|o| o.code == 0) else {
        let why = out.map(|o| first_line(&o.stderr)).unwrap_or_default();
        return Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!("{path} does not run: {why}")
                .trim_end_matches([':', ' '])
                .to_string(),
        )
        .fix("reinstall docker-compose-plugin (Compose v2)");
    };
    let version = first_line(&out.stdout);
    match compose_version(&version) {
        Some((1, _, _)) => Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!("{path} is Compose {version}, timmy needs v2"),
        )
        .fix("install docker-compose-plugin (Compose v2)"),
        Some(v) if v < MIN_COMPOSE => Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!(
                "{path}, {version}: older than {}, the oldest Compose timmy's CI proves",
                shown(MIN_COMPOSE)
            ),
        )
        .fix("update docker-compose-plugin"),
        Some(_) => Check::new(ID, LABEL, Status::Ok, format!("{path}, {version}")),
        None => Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!("{path}, unreadable version `{version}`"),
        )
        .fix("run `docker compose version` to see what is installed"),
    }
}

pub fn daemon_check(
    env: &preflight::Env,
    socket: Option<&Path>,
    probe: Option<&Result<(), UserError>>,
    versions: Option<&Versions>,
) -> Check {
    const ID: &str = "daemon";
    const LABEL: &str = "daemon";
    let context = versions
        .and_then(|v| v.context.clone())
        .or_else(|| env.docker_context.clone())
        .unwrap_or_else(|| "default".into());
    let endpoint = match (&env.docker_host, socket) {
        (Some(host), _) => host.clone(),
        (None, Some(s)) => format!("unix://{}", s.display()),
        (None, None) => "the context's endpoint".into(),
    };
    if let Some(Err(e)) = probe {
        return user_fail(ID, LABEL, e);
    }
    let server = versions.and_then(|v| v.server.as_deref());
    match (server, versions) {
        (Some(server), _) if compose_version(server).is_some_and(|v| v < MIN_ENGINE) => {
            Check::new(
                ID,
                LABEL,
                Status::Warn,
                format!(
                    "context {context}, {endpoint}, engine {server}: older than {}, the oldest Engine timmy's CI proves",
                    shown(MIN_ENGINE)
                ),
            )
            .fix("update Docker Engine (CI proves Engine 20.10 and 28.5)")
        }
        (Some(server), _) => Check::new(
            ID,
            LABEL,
            Status::Ok,
            format!("context {context}, {endpoint}, engine {server}"),
        ),
        (None, Some(v)) => Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!(
                "context {context}, {endpoint}: {}",
                v.error
                    .clone()
                    .unwrap_or_else(|| "docker did not report the engine".into())
            ),
        )
        .fix("check DOCKER_HOST and `docker context ls`; `docker version` shows the error"),
        (None, None) if probe.is_some() => Check::new(
            ID,
            LABEL,
            Status::Ok,
            format!(
                "{endpoint} answers (the engine's version is unknown without `docker version`)"
            ),
        ),
        (None, None) => Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!("context {context}, {endpoint}: not checked without the docker CLI"),
        )
        .fix("install the docker CLI first (see `docker CLI` above)"),
    }
}

pub fn project_check(project: &Result<Project, UserError>) -> Check {
    match project {
        Err(e) => user_fail("project", "project", e),
        Ok(p) if p.envs.iter().any(|e| e == "dev") => Check::new(
            "project",
            "project",
            Status::Ok,
            format!("{} (environments: {})", p.root.display(), p.envs.join(", ")),
        ),
        Ok(p) => Check::new(
            "project",
            "project",
            Status::Warn,
            format!(
                "{} has no dev environment (environments: {})",
                p.root.display(),
                if p.envs.is_empty() {
                    "none".into()
                } else {
                    p.envs.join(", ")
                }
            ),
        )
        .fix("add docker/docker-compose.dev.yml, or name the environment: timmy up ENV"),
    }
}

/// `docker`: present when Docker and the Compose plugin are, to add Compose's own verdict
/// ([`validate::compose_findings`]) once timmy's checks found no error.
fn env_check(project: Option<&Project>, global: &Global, docker: Option<&Docker>) -> Check {
    const ID: &str = "env-file";
    const LABEL: &str = ".env";
    let Some(project) = project else {
        return Check::new(ID, LABEL, Status::Warn, "not checked: no project")
            .fix("see `project` above");
    };
    if !project.envs.iter().any(|e| e == "dev") {
        return Check::new(ID, LABEL, Status::Warn, "not checked: no dev environment")
            .fix("timmy check ENV checks .env for another environment");
    }
    let found = Stack::new(project, "dev", global.project_name.as_deref()).and_then(|stack| {
        let found = validate::findings(&stack)?;
        if found.iter().any(|f| f.level == Level::Error) {
            return Ok(found);
        }
        let refused = docker
            .and_then(|d| validate::compose_findings(d, &stack).ok())
            .unwrap_or_default();
        Ok(refused.into_iter().chain(found).collect())
    });
    match found {
        Err(e) => user_fail(ID, LABEL, &e),
        Ok(found) => {
            let errors: Vec<_> = found.iter().filter(|f| f.level == Level::Error).collect();
            let warnings = found.len() - errors.len();
            env_summary(
                errors.len(),
                warnings,
                errors.first().map(ToString::to_string),
            )
        }
    }
}

/// The `.env` line from the counts of `timmy check` (findings never hold a value).
pub fn env_summary(errors: usize, warnings: usize, first_error: Option<String>) -> Check {
    const ID: &str = "env-file";
    const LABEL: &str = ".env";
    match (errors, warnings) {
        (0, 0) => Check::new(ID, LABEL, Status::Ok, "valid for the dev stack"),
        (0, w) => Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!(
                "usable for the dev stack, {}",
                validate::plural(w, "warning")
            ),
        )
        .fix("timmy check lists them, each with its line and a hint"),
        (e, w) => {
            let mut detail = validate::plural(e, "error");
            if w > 0 {
                let _ = write!(detail, ", {}", validate::plural(w, "warning"));
            }
            if let Some(first) = first_error {
                let _ = write!(detail, " for the dev stack, first {first}");
            }
            Check::new(ID, LABEL, Status::Fail, detail)
                .fix("timmy check lists them, each with its line and a hint")
        }
    }
}

fn env_mode_check(project: Option<&Project>) -> Check {
    let mode = project.map(|p| {
        std::fs::metadata(p.root.join(".env")).map(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.permissions().mode() & 0o777
        })
    });
    match mode {
        None => Check::new(
            "env-permissions",
            ".env mode",
            Status::Warn,
            "not checked: no project",
        )
        .fix("see `project` above"),
        Some(Err(_)) => Check::new(
            "env-permissions",
            ".env mode",
            Status::Warn,
            "not checked: no .env",
        )
        .fix("cp .env.example .env && chmod 600 .env"),
        Some(Ok(mode)) => env_mode(mode),
    }
}

pub fn env_mode(mode: u32) -> Check {
    const ID: &str = "env-permissions";
    const LABEL: &str = ".env mode";
    if mode & 0o002 != 0 {
        Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!("{mode:03o}: every user on this machine can change it"),
        )
        .fix("chmod 600 .env")
    } else if mode & 0o077 != 0 {
        Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!("{mode:03o}: other users can read its secrets"),
        )
        .fix("chmod 600 .env")
    } else {
        Check::new(
            ID,
            LABEL,
            Status::Ok,
            format!("{mode:03o}: only its owner can read it"),
        )
    }
}

fn disk_space(docker_root: Option<&Path>) -> Check {
    let candidates = [
        docker_root,
        Some(Path::new("/var/lib/docker")),
        Some(Path::new("/")),
    ];
    let measured = candidates.iter().flatten().find_map(|p| {
        let s = rustix::fs::statvfs(*p).ok()?;
        Some((
            p.to_path_buf(),
            s.f_bavail * s.f_frsize,
            s.f_blocks * s.f_frsize,
        ))
    });
    match measured {
        Some((path, free, total)) => disk_check(&path, free, total),
        None => Check::new(
            "disk-space",
            "disk space",
            Status::Warn,
            "could not measure the free space of Docker's disk",
        )
        .fix("df -h /var/lib/docker"),
    }
}

pub fn disk_check(path: &Path, free: u64, total: u64) -> Check {
    const ID: &str = "disk-space";
    const LABEL: &str = "disk space";
    let detail = format!(
        "{} free of {} in {}",
        bytes(free),
        bytes(total),
        path.display()
    );
    let fix =
        "free space: docker system prune (unused images and build cache), docker builder prune";
    if free < DISK_FAIL {
        Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!("{detail}: too little to build images"),
        )
        .fix(fix)
    } else if free < DISK_WARN {
        Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!("{detail}: tight for image builds"),
        )
        .fix(fix)
    } else {
        Check::new(ID, LABEL, Status::Ok, detail)
    }
}

#[allow(clippy::cast_precision_loss)]
fn bytes(n: u64) -> String {
    if n >= GIB {
        format!("{:.1} GiB", n as f64 / GIB as f64)
    } else {
        format!("{} MiB", n >> 20)
    }
}

/// `TIMMY_PORT` and `TIMMY_DEBUG_PORT` are published host ports: 0 lets Docker pick one.
const HOST_PORT: types::Kind = types::Kind::Port {
    zero_picks_free: true,
};

/// Where a published port's number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSetting {
    /// `None` when the value is not a port; `Some(0)` lets Docker pick a free one.
    pub port: Option<u16>,
    /// `default`, `.env` or `the shell`.
    pub source: &'static str,
}

/// The port Compose would publish: the shell's variable, else `.env`'s, else the default (the
/// same precedence Compose uses for interpolation).
fn port_setting(project: Option<&Project>, var: &str, default: u16) -> PortSetting {
    let value = validate::shell_lookup(var)
        .map(|v| (v, "the shell"))
        .or_else(|| {
            let vars = validate::resolved_env(&project?.root).ok()?;
            vars.into_iter()
                .rev()
                .find(|(k, _)| k == var)
                .map(|(_, v)| (v, ".env"))
        })
        .filter(|(v, _)| !v.is_empty());
    match value {
        None => PortSetting {
            port: Some(default),
            source: "default",
        },
        // The rule `check` applies to a published host port (types.rs), not a second one.
        Some((v, source)) => PortSetting {
            port: types::port(&v).filter(|_| types::fits(HOST_PORT, &v)),
            source,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    Free,
    InUse,
    Denied,
}

fn bind_test(port: u16) -> Bind {
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Bind::Free,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Bind::Denied,
        Err(_) => Bind::InUse,
    }
}

/// The service of the project that publishes `port` on the host, if any.
fn holder(services: &[Service], port: u16) -> Option<&Service> {
    let wanted = format!(":{port}->");
    services
        .iter()
        .find(|s| s.ports.iter().any(|p| p.contains(&wanted)))
}

pub fn port_check(
    id: &'static str,
    var: &str,
    setting: &PortSetting,
    bound: Option<Bind>,
    services: &[Service],
) -> Check {
    let Some(port) = setting.port else {
        return Check::new(
            id,
            &format!("port {var}"),
            Status::Fail,
            types::requirement(var, HOST_PORT).replacen(
                " must",
                &format!(" from {} must", setting.source),
                1,
            ),
        )
        .fix(format!("set {var} to a number from 1 to 65535 in .env"));
    };
    let label = format!("port {port}");
    let source = if setting.source == "default" {
        format!("{var} unset")
    } else {
        format!("{var} from {}", setting.source)
    };
    if port == 0 {
        return Check::new(
            id,
            &label,
            Status::Ok,
            format!("Docker picks a free port on 127.0.0.1 ({source})"),
        );
    }
    match bound.unwrap_or(Bind::Free) {
        Bind::Free => Check::new(
            id,
            &label,
            Status::Ok,
            format!("127.0.0.1:{port} is free ({source})"),
        ),
        Bind::Denied => Check::new(
            id,
            &label,
            Status::Warn,
            format!("127.0.0.1:{port} needs privileges to bind ({source})"),
        )
        .fix(format!("set {var} to a port above 1023 in .env")),
        Bind::InUse => match holder(services, port) {
            Some(s) => Check::new(
                id,
                &label,
                Status::Ok,
                format!(
                    "127.0.0.1:{port} is published by this project's `{}` container ({})",
                    s.service, s.name
                ),
            ),
            None => Check::new(
                id,
                &label,
                Status::Fail,
                format!("127.0.0.1:{port} is taken by another program ({source})"),
            )
            .fix(format!(
                "stop it (lsof -iTCP:{port} -sTCP:LISTEN shows which), or set {var} to a free port in .env"
            )),
        },
    }
}

/// Seconds since the epoch of an RFC 3339 time such as `2026-11-27T13:25:06.705070186Z`.
pub fn parse_rfc3339(text: &str) -> Option<f64> {
    let (date, rest) = text.trim().split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (c, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        (
            c,
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
        )
    };
    let mut t = clock.splitn(3, ':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let seconds: f64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let whole = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 - offset;
    #[allow(clippy::cast_precision_loss)]
    Some(whole as f64 + seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn clock_check(engine_answers: bool, daemon_time: Option<&str>, local: f64) -> Check {
    const ID: &str = "clock";
    const LABEL: &str = "clock";
    if !engine_answers {
        return Check::new(
            ID,
            LABEL,
            Status::Warn,
            "not checked: the daemon does not answer",
        )
        .fix("see `daemon` above");
    }
    let Some(daemon) = daemon_time.and_then(parse_rfc3339) else {
        return Check::new(
            ID,
            LABEL,
            Status::Warn,
            "not checked: `docker info` did not report the daemon's time",
        )
        .fix("run `docker info` to see what the daemon reports");
    };
    let diff = daemon - local;
    if diff.abs() <= CLOCK_TOLERANCE_SECS {
        Check::new(
            ID,
            LABEL,
            Status::Ok,
            "this machine and the daemon agree on the time",
        )
    } else {
        Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!(
                "the daemon's clock is {} {} this machine's",
                duration(diff.abs()),
                if diff > 0.0 { "ahead of" } else { "behind" }
            ),
        )
        .fix("sync both clocks (timedatectl set-ntp true; restart Docker Desktop after sleep)")
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

/// The checklist: `mark label  detail`, the fix indented below each check that is not ok, and
/// a closing count.
pub fn render(checks: &[Check]) -> String {
    let width = checks
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let mark = ui::mark(match c.status {
            Status::Ok => ui::Mark::Ok,
            Status::Warn => ui::Mark::Warn,
            Status::Fail => ui::Mark::Fail,
        });
        let _ = writeln!(out, "{mark} {:<width$}  {}", c.label, c.detail);
        if let (Some(fix), false) = (&c.fix, c.status == Status::Ok) {
            let pad = " ".repeat(width + 4);
            let _ = writeln!(out, "{pad}{}", ui::dim(&format!("fix: {fix}")));
        }
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (failed, warned) = (count(Status::Fail), count(Status::Warn));
    out.push('\n');
    let _ = match (failed, warned) {
        (0, 0) => writeln!(out, "all checks passed"),
        (0, w) => writeln!(out, "no failures, {}", validate::plural(w, "warning")),
        (f, w) => writeln!(
            out,
            "{} failed, {}",
            validate::plural(f, "check"),
            validate::plural(w, "warning")
        ),
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            state: "running".into(),
            health: String::new(),
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
}
