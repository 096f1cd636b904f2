//! The rows of `timmy doctor` about Docker and this machine: the docker CLI, the Compose
//! plugin, the daemon, the free disk space and the clock, with the parsing of the versions and
//! times Docker reports. Pure like [`super::checks`]: every input is a fact the probe gathered.

use std::path::Path;

use super::checks::{Check, Status, first_line, user_fail};
use super::probe::{Disk, Versions};
use crate::docker::Captured;
use crate::exit::UserError;
use crate::preflight;

/// The oldest Compose and Engine that CI proves (README, "Proven on"); older ones get a warning.
const MIN_COMPOSE: (u32, u32, u32) = (2, 26, 1);
const MIN_ENGINE: (u32, u32, u32) = (20, 10, 0);
pub(super) const GIB: u64 = 1 << 30;
/// Free space below which building images is likely to fail / to be tight.
const DISK_FAIL: u64 = GIB;
const DISK_WARN: u64 = 5 * GIB;
/// Clock difference tolerated between this machine and the daemon (process start included).
const CLOCK_TOLERANCE_SECS: f64 = 5.0;

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

/// The free space of the disk Docker keeps its images on, as measured by the probe.
pub fn disk_space_check(disk: Option<&Disk>) -> Check {
    match disk {
        Some(d) => disk_check(&d.path, d.free, d.total),
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

/// Seconds since the epoch of an RFC 3339 time such as Docker's `SystemTime`,
/// `2026-11-27T13:25:06.705070186Z` (nanoseconds, `Z` or an offset such as `+01:00`).
pub fn parse_rfc3339(text: &str) -> Option<f64> {
    let t: jiff::Timestamp = text.trim().parse().ok()?;
    #[allow(clippy::cast_precision_loss)]
    Some(t.as_second() as f64 + f64::from(t.subsec_nanosecond()) / 1e9)
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
