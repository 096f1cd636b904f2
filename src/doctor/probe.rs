//! The I/O half of `timmy doctor`: [`gather`] looks at this machine once and writes down what
//! it saw in one plain [`Facts`] value, which [`super::checks::judge`] turns into the report.
//! Every look happens here even when an earlier one failed (with Docker missing or the daemon
//! down doctor still reports the project, `.env`, disk and ports).
//!
//! Few processes, each built in [`compose`] and run by the one runner ([`Docker`]):
//! `docker version` (client and engine), `docker compose version --short`, `docker info`
//! (Docker's root dir and clock) only when the engine answered, Compose's own `.env` verdict
//! ([`validate::compose_findings`]) once timmy's checks found no error, and, only when a port
//! the dev stack publishes is taken, this checkout's stacks ([`checkout::stacks_here`]) and
//! the services of each ([`Engine::services_of`]: the socket, else `docker compose ps`), to
//! tell the project's own container from a stranger. The daemon's socket, the plugin's file,
//! `.env`, the disk and the ports are probed directly; the ports only when the engine is on
//! this machine ([`crate::ports::on_this_machine`], as for `up`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::checks::{self, HOST_PORT};
use crate::check::{Finding, Level};
use crate::checkout;
use crate::cli::Global;
use crate::compose;
use crate::docker::{Captured, Docker};
use crate::engine::Engine;
use crate::exit::UserError;
use crate::preflight;
use crate::project::Project;
use crate::stack::{self, Stack};
use crate::status::Service;
use crate::types;
use crate::validate;

/// Everything doctor saw, in the order of the report. No judgement: a missing program is the
/// error finding it gave, a query that could not run is `None`.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The docker CLI, or why it was not found.
    pub docker: Result<PathBuf, UserError>,
    /// `docker version`, when the CLI ran.
    pub versions: Option<Versions>,
    /// The Compose plugin's file, or why it was not found.
    pub plugin: Result<PathBuf, UserError>,
    /// `docker compose version --short`, when both the CLI and the plugin were found.
    pub compose_version: Option<Captured>,
    /// `DOCKER_HOST` and `DOCKER_CONTEXT` as the process has them.
    pub env: preflight::Env,
    /// The daemon's unix socket, when the endpoint is one.
    pub socket: Option<PathBuf>,
    /// Whether that socket accepted a connection.
    pub socket_probe: Option<Result<(), UserError>>,
    pub project: Result<Project, UserError>,
    pub env_file: EnvFile,
    pub env_mode: EnvMode,
    /// The free space of Docker's root dir (else `/var/lib/docker`, else `/`).
    pub disk: Option<Disk>,
    /// The dev stack's published ports, app then debugger.
    pub ports: Vec<Port>,
    /// The engine's endpoint when it is not on this machine (`DOCKER_HOST`, or the context):
    /// its host publishes the ports, so they are not tried here.
    pub remote_engine: Option<String>,
    /// The project's containers, asked only when one of `ports` is taken.
    pub holders: Vec<Service>,
    /// `SystemTime` of `docker info`, as the daemon wrote it.
    pub daemon_time: Option<String>,
    /// This machine's time, seconds since the epoch, taken after `docker info`.
    pub local_time: f64,
}

impl Facts {
    /// The engine answered `docker version` with its own version.
    pub fn engine_answers(&self) -> bool {
        self.versions.as_ref().is_some_and(|v| v.server.is_some())
    }
}

/// What `timmy check` found in `.env` for the dev stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFile {
    NoProject,
    NoDev,
    /// The findings (Compose's own first), or why the stack could not be read.
    Checked(Result<Vec<Finding>, UserError>),
}

/// The permission bits of the project's `.env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvMode {
    NoProject,
    NoFile,
    Mode(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    pub path: PathBuf,
    pub free: u64,
    pub total: u64,
}

/// One published port of the dev stack: its row id, its variable, its value and whether
/// 127.0.0.1 could bind it (`None` when it was not tried: not a port, or 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub id: &'static str,
    pub var: &'static str,
    pub setting: PortSetting,
    pub bound: Option<Bind>,
}

/// Look at everything, in the order the report shows it.
pub fn gather(global: &Global, cwd: &Path, env: &preflight::Env) -> Facts {
    let program = preflight::docker_program(env);
    let docker = program
        .as_ref()
        .ok()
        .map(|p| Docker::new(p.clone(), global));
    let query = |inv: &compose::Invocation| docker.as_ref().and_then(|d| d.query(inv).ok());

    let versions = query(&compose::version(cwd)).map(|out| Versions::parse(&out));
    let plugin = preflight::compose_plugin(env);
    let compose_version = match (&plugin, &docker) {
        (Ok(_), Some(_)) => query(&compose::compose_version(cwd)),
        _ => None,
    };
    let socket = preflight::daemon_socket(env);
    let socket_probe = socket.as_deref().map(preflight::check_daemon);
    let engine_answers = versions.as_ref().is_some_and(|v| v.server.is_some());
    let info = if engine_answers {
        query(&compose::info(cwd)).map(|out| Info::parse(&out))
    } else {
        None
    }
    .unwrap_or_default();
    let local_time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();

    let project = Project::locate(global.project_dir.as_deref(), cwd);
    let found = project.as_ref().ok();
    let compose_ready = docker.as_ref().filter(|_| plugin.is_ok());
    let env_file = env_findings(found, global, compose_ready);
    let env_mode = env_mode(found);
    let disk = disk_space(info.root_dir.as_deref());

    let name = found
        .and_then(|p| stack::project_name(&p.root, "dev", global.project_name.as_deref()).ok());
    let engine = Engine::new(env);
    let remote_engine = (!crate::ports::on_this_machine(env)).then(|| {
        env.docker_host.clone().unwrap_or_else(|| {
            let context = versions.as_ref().and_then(|v| v.context.clone());
            format!(
                "context {}",
                context
                    .or_else(|| env.docker_context.clone())
                    .unwrap_or_default()
            )
        })
    });
    // Every stack of this checkout may hold the ports (each env has its own project name);
    // dev's name when none is found.
    let holder_names = |d: &Docker, dev: &str| -> Vec<String> {
        let stacks = found.and_then(|p| {
            checkout::stacks_here(&engine, d, p, global.project_name.as_deref()).ok()
        });
        match stacks {
            Some(stacks) if !stacks.is_empty() => stacks.into_iter().map(|f| f.name).collect(),
            _ => vec![dev.to_string()],
        }
    };
    let mut ports = Vec::new();
    let mut holders: Option<Vec<Service>> = None;
    for (id, var, default) in [
        ("port-app", "TIMMY_PORT", 3000),
        ("port-debug", "TIMMY_DEBUG_PORT", 9229),
    ] {
        let setting = port_setting(found, var, default);
        let bound = setting
            .port
            .filter(|p| *p != 0 && remote_engine.is_none())
            .map(bind_test);
        if matches!(bound, Some(Bind::InUse)) && holders.is_none() {
            holders = Some(match (&name, &docker, engine_answers) {
                (Some(name), Some(d), true) => holder_names(d, name)
                    .iter()
                    .filter_map(|n| engine.services_of(d, cwd, n).ok())
                    .flatten()
                    .collect(),
                _ => Vec::new(),
            });
        }
        ports.push(Port {
            id,
            var,
            setting,
            bound,
        });
    }

    Facts {
        docker: program,
        versions,
        plugin,
        compose_version,
        env: env.clone(),
        socket,
        socket_probe,
        project,
        env_file,
        env_mode,
        disk,
        ports,
        remote_engine,
        holders: holders.unwrap_or_default(),
        daemon_time: info.system_time,
        local_time,
    }
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
            .then(|| checks::first_line(&out.stderr))
            .filter(|l| !l.is_empty());
        Self {
            client: text("/Client/Version"),
            context: text("/Client/Context"),
            server: text("/Server/Version"),
            error,
        }
    }
}

/// What `docker info --format '{{json .}}'` said that doctor uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    pub root_dir: Option<PathBuf>,
    pub system_time: Option<String>,
}

impl Info {
    pub fn parse(out: &Captured) -> Self {
        let value: Option<serde_json::Value> = (out.code == 0)
            .then(|| serde_json::from_str(out.stdout.trim()).ok())
            .flatten();
        let text = |key: &str| value.as_ref()?.get(key)?.as_str().map(str::to_string);
        Self {
            root_dir: text("DockerRootDir").map(PathBuf::from),
            system_time: text("SystemTime"),
        }
    }
}

/// `timmy check`'s findings for the dev stack. `docker`: present when Docker and the Compose
/// plugin are, to add Compose's own verdict ([`validate::compose_findings`]) once timmy's checks
/// found no error.
fn env_findings(project: Option<&Project>, global: &Global, docker: Option<&Docker>) -> EnvFile {
    let Some(project) = project else {
        return EnvFile::NoProject;
    };
    if !project.envs.iter().any(|e| e == "dev") {
        return EnvFile::NoDev;
    }
    EnvFile::Checked(
        Stack::new(project, "dev", global.project_name.as_deref()).and_then(|stack| {
            let found = validate::findings(&stack)?;
            if found.iter().any(|f| f.level == Level::Error) {
                return Ok(found);
            }
            let refused = docker
                .and_then(|d| validate::compose_findings(d, &stack).ok())
                .unwrap_or_default();
            Ok(refused.into_iter().chain(found).collect())
        }),
    )
}

fn env_mode(project: Option<&Project>) -> EnvMode {
    use std::os::unix::fs::PermissionsExt;
    match project.map(|p| std::fs::metadata(p.root.join(".env"))) {
        None => EnvMode::NoProject,
        Some(Err(_)) => EnvMode::NoFile,
        Some(Ok(m)) => EnvMode::Mode(m.permissions().mode() & 0o777),
    }
}

fn disk_space(docker_root: Option<&Path>) -> Option<Disk> {
    let candidates = [
        docker_root,
        Some(Path::new("/var/lib/docker")),
        Some(Path::new("/")),
    ];
    candidates.iter().flatten().find_map(|p| {
        let s = rustix::fs::statvfs(*p).ok()?;
        Some(Disk {
            path: p.to_path_buf(),
            free: s.f_bavail * s.f_frsize,
            total: s.f_blocks * s.f_frsize,
        })
    })
}

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
